#!/usr/bin/python3
"""espgw under control-plane churn, with full-rate traffic through an SA
the churn never touches.

espgw runs with two lcores (the control thread and one worker). Its LAN
port, net_pcap0 with infinite_rx=1, replays a few clear IPv4/UDP packets
from 10.0.1.0/24 to 10.0.2.0/24 for ever; they match the outbound policy
of the classic R1 set-up (config/r1.conf) and leave encrypted with SA
0x1001 on the WAN port, net_null1, which discards what it sends. The
next hop has a static neighbour entry, so no ARP is needed.

Meanwhile one client speaks the control socket's protocol
(docs/control.md) as fast as it can for CHURN_SECONDS (default 60):
state add/update/delete, make-before-break rekeys (a second SA for a
reqid, then the old one deleted), policy add/update/delete (by selector
and by index), deleteall with selectors, the kernel's refusals (File
exists, No such process, No such file or directory), statements ip
would not parse, multi-line batches, and batches whose last line fails
and which must change nothing. A model of the configuration predicts
every answer; listings are compared with it along the way. Other SPIs,
other peers, other reqids; the churned policies have selectors of their
own, or overlap the unrelated one at a lower precedence.

At the end: every request got the status (and error) expected; espgw
exits 0 on SIGINT with no sanitizer report on its standard error; and
in its stats file (-s) the one-packet-one-fate law holds
(app/dataplane/counters.h), no drop counter is set, nothing was held,
no ICMP was made, and every packet the worker received went out on the
WAN port through SA 0x1001:

    port.net_pcap0.rx = gw.rx = gw.encrypted = sa.0x1001.packets
                      = gw.tx = port.net_null1.tx

and gw.arp-requested is 0: the next hop is a static neighbour, which no
commit may make the worker miss (it once did: sync_neighs() forgot and
set again every configured neighbour at each commit).

The number of control requests per second is printed, not asserted.

Usage: churn.py --espgw build/app/espgw [--espgwctl PATH] [--seconds N]
                [--seed N] [--keep DIR]
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import gwproc
from gwproc import cksum, counter_sides, fates, read_stats

LAN_MAC = "02:70:63:61:70:00"        # net_pcap0: the pcap driver's first MAC
HOST_MAC = "02:00:0a:00:01:0a"
OUT_SPI, IN_SPI = 0x1001, 0x2002     # the unrelated SAs (R1's)

CONFIG = """\
# tests/app/churn.py: R1 of config/r1.conf, LAN on net_pcap0, WAN on net_null1
ip link set dev net_pcap0 up
ip link set dev net_null1 up
ip addr add 10.0.1.1/24 dev net_pcap0
ip addr add 1.1.1.1/24 dev net_null1
ip route add default via 1.1.1.254 dev net_null1
ip route add 10.0.2.0/24 via 1.1.1.254 dev net_null1 src 10.0.1.1
ip neigh add 1.1.1.254 lladdr 02:00:00:00:01:fe dev net_null1 nud permanent
ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x00001001 reqid 1 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x6c1c4a2e4b43a58fa5d6b5b1f9a9d1e3aa0b2c31 128
ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x00002002 reqid 2 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x1f5e9b3d7a2c84e6f0d1c3b5a7e9f2d4c6b8a0e2 128
ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel
ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel
ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel
"""
UNRELATED_STATES = {
    ("2.2.2.2", OUT_SPI): ("1.1.1.1", 1, "6c1c4a2e4b43a58fa5d6b5b1f9a9d1e3aa0b2c31"),
    ("1.1.1.1", IN_SPI): ("2.2.2.2", 2, "1f5e9b3d7a2c84e6f0d1c3b5a7e9f2d4c6b8a0e2"),
}
# (dir, src, dst, proto, dport) -> (priority, action, tmpl); indices as
# xfrm_gen_index numbers a fresh set: out 1, then fwd 10, in 16
UNRELATED_POLICIES = {
    ("out", "10.0.1.0/24", "10.0.2.0/24", None, None): (0, "allow", ("1.1.1.1", "2.2.2.2", 1)),
    ("fwd", "10.0.2.0/24", "10.0.1.0/24", None, None): (0, "allow", ("2.2.2.2", "1.1.1.1", 2)),
    ("in", "10.0.2.0/24", "10.0.1.0/24", None, None): (0, "allow", ("2.2.2.2", "1.1.1.1", 2)),
}
KDIR = {"in": 0, "out": 1, "fwd": 2}

PEERS = ["3.3.0.%d" % k for k in range(1, 13)]
# churned selectors: prefixes of their own, and some that overlap the
# unrelated 10.0.1.0/24 -> 10.0.2.0/24 but lose to it (a higher priority
# value, or another protocol)
OWN_SRC = ["10.%d.0.0/16" % (100 + a) for a in range(6)]
OWN_DST = ["10.%d.%d.0/24" % (200 + b, c) for b in range(3) for c in range(3)]
OVERLAP = [("out", "10.0.0.0/8", "10.0.0.0/8", None, None),
           ("out", "0.0.0.0/0", "10.0.2.0/24", None, None),
           ("out", "10.0.1.0/24", "10.0.2.0/24", "tcp", None),
           ("out", "10.0.1.0/24", "10.0.2.0/24", "udp", 53),
           ("out", "10.0.2.0/24", "10.0.1.0/24", None, None),
           ("in", "10.0.1.0/24", "10.0.2.0/24", None, None)]
CHURN_PRIO = (100, 200)    # churned priorities: never 0, the unrelated ones'


class Fail(Exception):
    pass


# --- traffic --------------------------------------------------------------

def clear_frames(n=32):
    """n Ethernet frames of IPv4/UDP, 10.0.1.x -> 10.0.2.y, 60..1300 bytes."""
    frames = []
    for i in range(n):
        payload = bytes((i * 7 + j) & 0xFF for j in range(18 + i * 40))
        udp = struct.pack("!HHHH", 10000 + i, 9999, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, i & 0xFC, 20 + len(udp), i, 0, 64, 17, 0,
                         bytes([10, 0, 1, 10 + i % 20]), bytes([10, 0, 2, 10 + i % 7]))
        ip = ip[:10] + struct.pack("!H", cksum(ip)) + ip[12:]
        mac = lambda m: bytes(int(x, 16) for x in m.split(":"))  # noqa: E731
        frames.append(mac(LAN_MAC) + mac(HOST_MAC) + b"\x08\x00" + ip + udp)
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            fp.write(struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f)


# --- the control socket -----------------------------------------------------

def request(path, lines, flags="", batch=None):
    """One request (docs/control.md): -> (status, stdout lines, stderr lines)."""
    head = "espgwctl 1" + (" " + flags if flags else "") + \
        (" batch=" + batch if batch else "")
    data = (head + "\n" + "".join(l + "\n" for l in lines)).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(30)
        s.connect(path)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    out, err, status = [], [], None
    for rec in b"".join(chunks).decode(errors="replace").split("\n"):
        if rec.startswith("o "):
            out.append(rec[2:])
        elif rec.startswith("e "):
            err.append(rec[2:])
        elif rec.startswith("x "):
            status = int(rec[2:])
        elif rec:
            raise Fail("bad reply record %r to %r" % (rec, lines))
    if status is None:
        raise Fail("no status for %r (espgw gone?)" % lines)
    return status, out, err


# --- the model --------------------------------------------------------------

class Model:
    """What the live configuration holds, as the kernel would answer."""

    def __init__(self):
        self.states = {}    # (dst, spi) -> [src, reqid, key hex]
        self.policies = {}  # (dir, src, dst, proto, dport) -> [prio, action, tmpl, index]

    def copy(self):
        m = Model()
        m.states = {k: list(v) for k, v in self.states.items()}
        m.policies = {k: list(v) for k, v in self.policies.items()}
        return m

    def next_index(self, d):
        gen = max([p[3] >> 3 for p in self.policies.values() if p[3]] + [-1]) + 1
        idx = gen << 3 | KDIR[d]
        return idx or 8


def churn_states(m):
    return [k for k in m.states if k not in UNRELATED_STATES]


def churn_policies(m):
    return [k for k in m.policies if k not in UNRELATED_POLICIES]


def state_line(verb, dst, spi, src, reqid, key):
    return ("xfrm state %s src %s dst %s proto esp spi 0x%08x reqid %d mode tunnel "
            "replay-window 64 aead 'rfc4106(gcm(aes))' 0x%s 128"
            % (verb, src, dst, spi, reqid, key))


def sel_words(key):
    d, src, dst, proto, dport = key
    w = "src %s dst %s" % (src, dst)
    if proto:
        w += " proto " + proto
    if dport:
        w += " dport %d" % dport
    return w


def policy_line(verb, key, prio, action, tmpl):
    line = "xfrm policy %s %s dir %s priority %d" % (verb, sel_words(key), key[0], prio)
    if action == "block":
        line += " action block"
    elif tmpl:
        line += " tmpl src %s dst %s proto esp reqid %d mode tunnel" % tmpl
    return line


class Churn:
    """Makes statements with the answers the model predicts. Each maker
    returns (line, status, error regex or None) and, when the status is
    0, has applied the change to the model it was given."""

    def __init__(self, rng):
        self.rng = rng
        self.spi = 0x10000

    def key(self):
        return self.rng.randbytes(20).hex()

    def new_spi(self):
        self.spi += 1
        return self.spi

    def peer_state(self, outbound):
        k = self.rng.randrange(len(PEERS))
        if outbound:
            return "1.1.1.1", PEERS[k], 100 + k
        return PEERS[k], "1.1.1.1", 200 + k

    # states
    def state_add(self, m):
        src, dst, reqid = self.peer_state(self.rng.random() < 0.6)
        spi, key = self.new_spi(), self.key()
        m.states[(dst, spi)] = [src, reqid, key]
        return state_line("add", dst, spi, src, reqid, key), 0, None

    def state_add_dup(self, m):
        dst, spi = self.rng.choice(sorted(m.states))
        src, reqid, _ = m.states[(dst, spi)]
        return (state_line("add", dst, spi, src, reqid, self.key()), 2,
                r"RTNETLINK answers: File exists")

    def rekey(self, m):
        """make-before-break: a second SA for a reqid that has one (the
        old one is deleted by a later statement)"""
        have = churn_states(m)
        if not have:
            return self.state_add(m)
        dst, spi = self.rng.choice(have)
        src, reqid, _ = m.states[(dst, spi)]
        spi2, key = self.new_spi(), self.key()
        m.states[(dst, spi2)] = [src, reqid, key]
        return state_line("add", dst, spi2, src, reqid, key), 0, None

    def state_update(self, m):
        have = churn_states(m)
        if not have or self.rng.random() < 0.15:
            src, dst, reqid = self.peer_state(True)
            return (state_line("update", dst, self.new_spi(), src, reqid, self.key()), 2,
                    r"RTNETLINK answers: No such process")
        dst, spi = self.rng.choice(have)
        src, reqid, _ = m.states[(dst, spi)]
        # xfrm_state_update changes the limits only: the key sent is
        # not taken, the model keeps the old one
        line = state_line("update", dst, spi, src, reqid, self.key())
        return line + " limit time-hard 86400", 0, None

    def state_delete(self, m):
        have = churn_states(m)
        if not have or self.rng.random() < 0.15:
            return ("xfrm state delete dst %s proto esp spi 0x%x"
                    % (self.rng.choice(PEERS + ["1.1.1.1", "2.2.2.2"]), self.new_spi()), 2,
                    r"RTNETLINK answers: No such process")
        # the oldest of a reqid first: how a rekey ends
        dst, spi = min(have, key=lambda k: (m.states[k][1], k[1])) \
            if self.rng.random() < 0.5 else self.rng.choice(have)
        del m.states[(dst, spi)]
        return "xfrm state delete dst %s proto esp spi 0x%x" % (dst, spi), 0, None

    def state_deleteall(self, m):
        r = self.rng.random()
        k = self.rng.randrange(len(PEERS))
        if r < 0.4:
            reqid = self.rng.choice([100 + k, 200 + k])
            line = "xfrm state deleteall reqid %d" % reqid
            match = lambda key, v: v[1] == reqid  # noqa: E731
        elif r < 0.7:
            line = "xfrm state deleteall src 1.1.1.1 dst %s" % PEERS[k]
            match = lambda key, v: v[0] == "1.1.1.1" and key[0] == PEERS[k]  # noqa: E731
        else:
            line = "xfrm state deleteall src %s dst 1.1.1.1 proto esp" % PEERS[k]
            match = lambda key, v: v[0] == PEERS[k] and key[0] == "1.1.1.1"  # noqa: E731
        for key in [key for key, v in m.states.items() if match(key, v)]:
            del m.states[key]
        return line, 0, None

    # policies
    def policy_key(self):
        if self.rng.random() < 0.15:
            return self.rng.choice(OVERLAP)
        d = self.rng.choice(("out", "out", "in", "fwd"))
        proto, dport = self.rng.choice([(None, None)] * 3 + [("udp", 4500), ("tcp", 443)])
        return (d, self.rng.choice(OWN_SRC), self.rng.choice(OWN_DST), proto, dport)

    def policy_body(self, key):
        prio = self.rng.randrange(*CHURN_PRIO)
        if key in OVERLAP:
            prio = self.rng.choice((500, 1000))  # lower precedence than 0
        k = self.rng.randrange(len(PEERS))
        r = self.rng.random()
        if r < 0.2:
            return prio, "block", None
        if r < 0.3:
            return prio, "allow", None
        if key[0] == "out":
            return prio, "allow", ("1.1.1.1", PEERS[k], 100 + k)
        return prio, "allow", (PEERS[k], "1.1.1.1", 200 + k)

    def policy_add(self, m):
        key = self.policy_key()
        if key in m.policies:
            prio, action, tmpl = self.policy_body(key)
            return (policy_line("add", key, prio, action, tmpl), 2,
                    r"RTNETLINK answers: File exists")
        prio, action, tmpl = self.policy_body(key)
        m.policies[key] = [prio, action, tmpl, m.next_index(key[0])]
        return policy_line("add", key, prio, action, tmpl), 0, None

    def policy_add_dup(self, m):
        key = self.rng.choice(sorted(m.policies, key=str))
        prio, action, tmpl = self.policy_body(key)
        return (policy_line("add", key, prio, action, tmpl), 2,
                r"RTNETLINK answers: File exists")

    def policy_update(self, m):
        have = churn_policies(m)
        key = self.rng.choice(have) if have and self.rng.random() < 0.8 else self.policy_key()
        prio, action, tmpl = self.policy_body(key)
        if key in m.policies:
            m.policies[key][:3] = [prio, action, tmpl]   # the index stays
        else:
            m.policies[key] = [prio, action, tmpl, m.next_index(key[0])]
        return policy_line("update", key, prio, action, tmpl), 0, None

    def policy_delete(self, m):
        have = churn_policies(m)
        r = self.rng.random()
        if not have or r < 0.1:
            key = self.policy_key()
            if key in m.policies:
                key = ("fwd", "10.99.0.0/16", "10.98.0.0/16", None, None)
            return ("xfrm policy delete %s dir %s" % (sel_words(key), key[0]), 2,
                    r"RTNETLINK answers: No such file or directory")
        if r < 0.15:
            used = {(p[3], k[0]) for k, p in m.policies.items()}
            d = self.rng.choice(("in", "out", "fwd"))
            idx = next(i for i in range(8 * 4096 + KDIR[d], 1 << 30, 8) if (i, d) not in used)
            return ("xfrm policy delete index %d dir %s" % (idx, d), 2,
                    r"RTNETLINK answers: No such file or directory")
        key = self.rng.choice(have)
        idx = m.policies.pop(key)[3]
        if r < 0.5:
            return "xfrm policy delete index %d dir %s" % (idx, key[0]), 0, None
        return "xfrm policy delete %s dir %s" % (sel_words(key), key[0]), 0, None

    def policy_deleteall(self, m):
        r = self.rng.random()
        if r < 0.35:
            src, dst = self.rng.choice(OWN_SRC), self.rng.choice(OWN_DST)
            line = "xfrm policy deleteall src %s dst %s" % (src, dst)
            match = lambda k, p: k[1] == src and k[2] == dst  # noqa: E731
        elif r < 0.6:
            d = self.rng.choice(("in", "out", "fwd"))
            prio = self.rng.randrange(*CHURN_PRIO)
            line = "xfrm policy deleteall dir %s priority %d" % (d, prio)
            match = lambda k, p: k[0] == d and p[0] == prio  # noqa: E731
        elif r < 0.7:
            line = "xfrm policy deleteall action block"
            match = lambda k, p: p[1] == "block"  # noqa: E731
        elif r < 0.85 and any(k[1] in OWN_SRC for k in m.policies):
            # the index filters too (iproute2's xfrm_policy_filter_match);
            # one of the churn's own, never the unrelated traffic's
            key = self.rng.choice(sorted((k for k in m.policies if k[1] in OWN_SRC),
                                         key=repr))
            idx = m.policies[key][3]
            line = "xfrm policy deleteall index %d" % idx
            match = lambda k, p: p[3] == idx  # noqa: E731
        else:
            src = self.rng.choice(OWN_SRC)
            line = "xfrm policy deleteall src %s proto udp dport 4500" % src
            match = lambda k, p: k[1] == src and k[3] == "udp" and k[4] == 4500  # noqa: E731
        for k in [k for k, p in m.policies.items() if match(k, p)]:
            del m.policies[k]
        return line, 0, None

    def syntax_error(self, m):
        return self.rng.choice([
            ("xfrm state add src 1.1.1.1 dst 3.3.0.1 proto esp spi 0 reqid 100 mode tunnel "
             "aead 'rfc4106(gcm(aes))' 0x%s 128" % self.key(), 1, r"spi 0 is reserved"),
            ("xfrm policy add src 10.100.0.0/16 dst 10.200.0.0/24 dir sideways", 1,
             r'invalid dir "sideways"'),
            ("xfrm policy delete src 10.100.0.0/16 dst 10.200.0.0/24", 1,
             r'missing "dir out\|in\|fwd"'),
            ("xfrm state frobnicate", 1, r"."),
        ])

    def one(self, m):
        """One statement, weighted; deletes gain weight as the sets grow."""
        ns, np_ = len(churn_states(m)), len(churn_policies(m))
        grow_s = 3 if ns < 40 else 1
        grow_p = 3 if np_ < 40 else 1
        makers = [(self.state_add, 3 * grow_s), (self.rekey, 3 * grow_s),
                  (self.state_add_dup, 1), (self.state_update, 2),
                  (self.state_delete, 4 if ns < 40 else 8), (self.state_deleteall, 1),
                  (self.policy_add, 3 * grow_p), (self.policy_add_dup, 1),
                  (self.policy_update, 2), (self.policy_delete, 4 if np_ < 40 else 8),
                  (self.policy_deleteall, 1), (self.syntax_error, 0.3)]
        total = sum(w for _, w in makers)
        x = self.rng.random() * total
        for fn, w in makers:
            x -= w
            if x < 0:
                return fn(m)
        return makers[-1][0](m)


# --- listings against the model ----------------------------------------------

def parse_states(out):
    """{(dst, spi): (src, reqid, key)} of `ip xfrm state` text."""
    text = "\n".join(out)
    got = {}
    for m in re.finditer(r"^src (\S+) dst (\S+)\n\s+proto esp spi 0x([0-9a-f]+) reqid (\d+) "
                         r"mode tunnel\n(?:.*\n)*?\s+aead rfc4106\(gcm\(aes\)\) 0x([0-9a-f]+) 128",
                         text, re.M):
        got[(m.group(2), int(m.group(3), 16))] = (m.group(1), int(m.group(4)), m.group(5))
    n = len(re.findall(r"^src ", text, re.M))
    if n != len(got):
        raise Fail("state listing: %d entries, %d understood:\n%s" % (n, len(got), text[:2000]))
    return got


def parse_policies(out):
    """{key: (prio, action, tmpl, index)} of `ip -s xfrm policy` text."""
    got, cur = {}, None
    blocks, block = [], None
    for line in out:
        if line.startswith("src "):
            block = [line]
            blocks.append(block)
        elif block is not None:
            block.append(line)
    for b in blocks:
        m = re.match(r"src (\S+) dst (\S+)(?: proto (\w+))?(?: dport (\d+))? uid 0$", b[0])
        d = re.match(r"\s+dir (\w+) action (\w+) index (\d+) priority (\d+) ", b[1])
        if not m or not d:
            raise Fail("policy listing not understood: %r" % b[:2])
        t = re.search(r"tmpl src (\S+) dst (\S+)\n\s+proto esp spi 0x0+\(0\) reqid (\d+)\(",
                      "\n".join(b))
        key = (d.group(1), m.group(1), m.group(2), m.group(3),
               int(m.group(4)) if m.group(4) else None)
        cur = (int(d.group(4)), d.group(2),
               (t.group(1), t.group(2), int(t.group(3))) if t else None, int(d.group(3)))
        got[key] = cur
    return got


def compare(model, path):
    rc, out, err = request(path, ["xfrm state list"])
    if rc:
        raise Fail("xfrm state list: status %d %s" % (rc, err))
    got = parse_states(out)
    want = {k: tuple(v) for k, v in model.states.items()}
    if got != want:
        raise Fail("states differ from the model: missing %s, unexpected %s"
                   % (sorted(set(want.items()) - set(got.items()))[:5],
                      sorted(set(got.items()) - set(want.items()))[:5]))
    rc, out, err = request(path, ["xfrm policy list"], flags="s")
    if rc:
        raise Fail("xfrm policy list: status %d %s" % (rc, err))
    got = parse_policies(out)
    want = {k: tuple(v) for k, v in model.policies.items()}
    if got != want:
        raise Fail("policies differ from the model: missing %s, unexpected %s"
                   % (sorted(set(want.items()) - set(got.items()), key=str)[:5],
                      sorted(set(got.items()) - set(want.items()), key=str)[:5]))


def unrelated_packets(path):
    rc, out, err = request(path, ["xfrm state get dst 2.2.2.2 proto esp spi 0x%x" % OUT_SPI],
                           flags="s")
    m = re.search(r"lifetime current:\n\s+(\d+)\(bytes\), (\d+)\(packets\)", "\n".join(out))
    if rc or not m:
        raise Fail("ip -s xfrm state get of SA 0x%x: status %d %s %s" % (OUT_SPI, rc, out, err))
    return int(m.group(2))


# --- the run ---------------------------------------------------------------

def eal_cores():
    """main lcore + one worker: -l 0-1, or both on one CPU where only one is."""
    return ["-l", "0-1"] if (os.cpu_count() or 1) > 1 else ["--lcores", "0@0,1@0"]


def check_stats(st, sides, why):
    def g(name):
        if name not in st:
            why.append("no counter %s in the stats file" % name)
            return 0
        return st[name]

    fates_in, fates_out, disagree = fates(st, sides)
    why += disagree
    lhs = sum(st.get(n, 0) for n in fates_in)
    rhs = sum(st.get(n, 0) for n in fates_out)
    if lhs != rhs:
        why.append("one packet, one fate: %d in, %d out" % (lhs, rhs))
    arp = g("gw.arp-requested")
    if arp:
        why.append("the static neighbour 1.1.1.254 went missing: gw.arp-requested %d" % arp)
    nonzero = [k for k in st if st[k] and (
        k.startswith("gw.drop-") or k.startswith("esp.") or
        (k.startswith("sa.") and not k.endswith((".packets", ".bytes"))) or
        k in ("gw.icmp-errors-sent", "gw.held-arp-queue", "gw.held-reassembly",
              "gw.fragments-made", "gw.fragmented", "gw.alloc-failed"))]
    if nonzero:
        why.append("counters that must be 0: " + ", ".join("%s %d" % (k, st[k])
                                                          for k in sorted(nonzero)))
    # every packet the worker received went out through SA 0x1001; the
    # WAN port sent those, nothing else
    sa = "sa.2.2.2.2/esp/0x%08x/out.packets" % OUT_SPI
    chain = ["port.net_pcap0.rx", "gw.rx", "gw.encrypted", "gw.forwarded", sa]
    vals = [g(n) for n in chain]
    sent = [("gw.tx", g("gw.tx")), ("port.net_null1.tx", g("port.net_null1.tx"))]
    if len(set(vals)) != 1 or any(v != vals[-1] for _, v in sent):
        why.append("the unrelated traffic lost packets: " +
                   " ".join("%s %d" % nv for nv in list(zip(chain, vals)) + sent))
    if g("port.net_pcap0.tx") != 0:
        why.append("port.net_pcap0.tx %d: the LAN port sent something"
                   % g("port.net_pcap0.tx"))
    if vals[0] == 0:
        why.append("no unrelated traffic at all")
    others = [k for k in st if k.startswith("sa.") and k.endswith(".packets") and k != sa and st[k]]
    if others:
        why.append("traffic through other SAs: " + ", ".join("%s %d" % (k, st[k])
                                                              for k in others))
    return vals[0]


def run(args):
    d = args.keep or tempfile.mkdtemp(prefix="churn")
    os.makedirs(d, exist_ok=True)
    pcap, conf = os.path.join(d, "in.pcap"), os.path.join(d, "gw.conf")
    stats_path, sock = os.path.join(d, "stats"), os.path.join(d, "ctl.sock")
    write_pcap(pcap, clear_frames())
    with open(conf, "w") as fp:
        fp.write(CONFIG)
    prefix = "churn%d" % os.getpid()
    cmd = ([args.espgw, "--no-huge", "-m", "512"] + eal_cores() +
           ["--no-pci", "--file-prefix", prefix, "--log-level=lib.*:error",
            "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
            "--vdev", "net_null1,no-rx=1",
            "--", "-f", conf, "-s", stats_path, "--socket", sock])
    out_path, err_path = os.path.join(d, "stdout"), os.path.join(d, "stderr")
    print("# " + " ".join(cmd), flush=True)
    why = []
    ops = {"requests": 0, "statements": 0, "batches": 0, "bad batches": 0, "listings": 0,
           "refused": 0}
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
    try:
        gwproc.wait_running(proc, out_path, Fail)

        model = Model()
        for (dst, spi), v in UNRELATED_STATES.items():
            model.states[(dst, spi)] = list(v)
        for k, (idx, v) in zip(UNRELATED_POLICIES, ((1, 0), (10, 0), (16, 0))):
            model.policies[k] = list(UNRELATED_POLICIES[k]) + [idx]
        compare(model, sock)
        before = unrelated_packets(sock)
        rng = random.Random(args.seed)
        ch = Churn(rng)
        batch_n = 0
        start = time.monotonic()
        end = start + args.seconds
        n = 0

        def expect(what, rc, err, want_rc, want_err):
            if rc != want_rc or (want_err and not any(re.search(want_err, e) for e in err)):
                raise Fail("%s: status %d, stderr %s; want %d /%s/"
                           % (what, rc, err[:3], want_rc, want_err or ""))

        while time.monotonic() < end:
            n += 1
            if proc.poll() is not None:
                raise Fail("espgw exited %d during the churn" % proc.returncode)
            r = rng.random()
            if r < 0.06:
                # a batch of valid statements, applied whole
                batch_n += 1
                m2 = model.copy()
                lines = ["# churn batch %d" % batch_n]
                for _ in range(rng.randint(2, 8)):
                    line, want, _e = ch.one(m2)
                    if want == 0:
                        lines.append("ip " + line if rng.random() < 0.5 else line)
                name = "churn-%d" % batch_n
                if args.espgwctl and batch_n % 10 == 0:
                    bf = os.path.join(d, name)
                    with open(bf, "w") as fp:
                        fp.write("\n".join(lines) + "\n")
                    p = subprocess.run([args.espgwctl, "-S", sock, "-batch", bf],
                                       capture_output=True, text=True, timeout=60)
                    rc, err = p.returncode, p.stderr.splitlines()
                else:
                    rc, _o, err = request(sock, lines, batch=name)
                expect("batch %r" % lines, rc, err, 0, None)
                model = m2
                ops["batches"] += 1
                ops["statements"] += len(lines) - 1
            elif r < 0.09:
                # a batch whose last line fails: nothing changes
                batch_n += 1
                m2 = model.copy()
                lines = ["# churn batch %d, the last line fails" % batch_n]
                for _ in range(rng.randint(1, 6)):
                    line, want, _e = ch.one(m2)
                    if want == 0:
                        lines.append(line)
                added = sorted(set(m2.states) - set(model.states))
                r2 = rng.random()
                if added and r2 < 0.3:
                    # the add of a state an earlier line of this batch added
                    dst, spi = added[-1]
                    src, reqid, _k = m2.states[(dst, spi)]
                    line, want, e = (state_line("add", dst, spi, src, reqid, ch.key()), 2,
                                     r"RTNETLINK answers: File exists")
                elif r2 < 0.45:
                    # the delete of a state that is not there
                    line, want, e = ("xfrm state delete dst 3.3.0.1 proto esp spi 0x%x"
                                     % ch.new_spi(), 2, r"RTNETLINK answers: No such process")
                else:
                    bad = rng.choice([ch.state_add_dup, ch.policy_add_dup, ch.syntax_error])
                    line, want, e = bad(m2)
                lines.append(line)
                name = "churn-%d" % batch_n
                rc, _o, err = request(sock, lines, batch=name)
                expect("bad batch %r" % lines, rc, err, want,
                       r"^%s:%d: %s" % (re.escape(name), len(lines), e.lstrip("^")))
                compare(model, sock)
                ops["bad batches"] += 1
                ops["listings"] += 2
                ops["statements"] += len(lines) - 1
            else:
                m2 = model.copy()
                line, want, e = ch.one(m2)
                rc, _o, err = request(sock, [line])
                expect(line, rc, err, want, e and r"^espgwctl:1: " + e)
                if want == 0:
                    model = m2
                else:
                    ops["refused"] += 1
                ops["statements"] += 1
            ops["requests"] += 1
            if n % 200 == 0:
                compare(model, sock)
                ops["listings"] += 2
        elapsed = time.monotonic() - start
        compare(model, sock)
        after = unrelated_packets(sock)
        if after <= before:
            why.append("SA 0x%x sent nothing during the churn (%d, then %d packets)"
                       % (OUT_SPI, before, after))
        print("# %d requests (%d statements, %d batches, %d failing batches, %d refused, "
              "%d listings) in %.1f s: %.0f requests/s; %d states and %d policies at the end"
              % (ops["requests"], ops["statements"], ops["batches"], ops["bad batches"],
                 ops["refused"], ops["listings"], elapsed, ops["requests"] / elapsed,
                 len(model.states), len(model.policies)), flush=True)
    except Fail as e:
        why.append(str(e))
    finally:
        stopped, stderr = gwproc.stop(proc, prefix, lambda: open(err_path).read())
        why += stopped
        if why:
            sys.stdout.write("# espgw stderr (tail):\n" +
                             "".join("#   " + l + "\n" for l in stderr.splitlines()[-60:]))
    if os.path.exists(stats_path):
        rx = check_stats(read_stats(stats_path), counter_sides(args.espgw), why)
        print("# unrelated traffic: %d packets received, encrypted with SA 0x%x" % (rx, OUT_SPI))
    else:
        why.append("no stats file")
    if not args.keep and not why:
        shutil.rmtree(d, ignore_errors=True)
    elif why:
        print("# files kept in %s" % d)
    return why


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--espgw", required=True)
    ap.add_argument("--espgwctl", help="send some batches with espgwctl -batch")
    ap.add_argument("--seconds", type=float,
                    default=float(os.environ.get("CHURN_SECONDS", "60")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CHURN_SEED", "0")) or None)
    ap.add_argument("--keep", help="keep the run's files in this directory")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    print("# churn for %g s, seed %d (CHURN_SEED to repeat)" % (args.seconds, args.seed),
          flush=True)
    return gwproc.report(run, args, Fail,
                         "churn: control-plane churn beside full-rate traffic through an unrelated SA")


if __name__ == "__main__":
    sys.exit(main())
