#!/usr/bin/python3
"""espgw's commands on DPDK's telemetry socket (docs/control.md, Telemetry).

espgw runs with two lcores, --no-huge, its LAN port net_pcap0 reading a
pcap once (clear IPv4/UDP for the tunnel of SA 0x1001, frames for
another MAC, IPv4 headers that are not, ESP to us with an SPI nobody
has, ESP of the inbound SA 0x2002 with a jump, a late number and two
replays) and its WAN port net_null1. The test speaks the telemetry socket
itself (SOCK_SEQPACKET, /var/run/dpdk/<prefix>/dpdk_telemetry.v2) and:

- /espgw/stats and /espgw/ports against the traffic sent, then every
  counter against the stats file espgw writes at exit (nothing moves in
  between); the SA's packets against `espgwctl -s xfrm state get`;
- the inbound SA's seq in /espgw/sa/info and espgwctl's anti-replay
  context: the highest number accepted, not its configured replay-seq;
  its packets, and the replays under its drops; then, in a second run
  with two workers and --spread-esp, each owner's top in owner_seq;
- loads 120 SAs with IPv6 ends of the longest text (and 10-digit SPIs
  and reqids) and 45 IPv6 policies with espgwctl -batch, then checks
  that the pages of /espgw/sa/list and /espgw/policy/list give every
  one exactly once, each field as configured, every reply under 16 KB
  even with each counter at 20 digits;
- /espgw/sa/info of an SA with limits and ESP in UDP, field by field,
  and bad parameters (none, not a number, an id or page not there):
  {"error": ...};
- no key (its hex) in any reply;
- the commands answering while espgwctl adds and deletes SAs in a loop,
  and while espgw stops: valid JSON every time;
- `dpdk-telemetry.py -f <prefix>` once, if installed;
- espgw exits 0, with no sanitizer report.

Usage: telemetry.py --espgw build/app/espgw --espgwctl build/app/espgwctl/espgwctl
"""

import argparse
import json
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
import threading
import time

import gwproc
from gwproc import cksum, counter_sides, mac, read_stats

# the ESP maker the pcap test has (tests/pcap/run.py: scapy's, as there)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pcap"))
from run import SA, eal_cores  # noqa: E402

LAN_MAC = "02:70:63:61:70:00"        # net_pcap0: the pcap driver's first MAC
HOST_MAC = "02:00:0a:00:01:0a"
PEER_MAC = "02:00:00:00:01:fe"
MAX_REPLY = 16384                    # telemetry's MAX_OUTPUT_LEN
SA_PAGE, POLICY_PAGE = 50, 20
OUT_KEY = "6c1c4a2e4b43a58fa5d6b5b1f9a9d1e3aa0b2c31"
IN_KEY = "1f5e9b3d7a2c84e6f0d1c3b5a7e9f2d4c6b8a0e2"
OURS6 = "fd00:1111:2222:3333:4444:5555:6666:7777"   # 39 characters

CONFIG = """\
# tests/app/telemetry.py: LAN on net_pcap0, WAN on net_null1
ip link set dev net_pcap0 up
ip link set dev net_null1 up
ip addr add 10.0.1.1/24 dev net_pcap0
ip addr add 1.1.1.1/24 dev net_null1
ip -6 addr add %s/64 dev net_null1
ip route add default via 1.1.1.254 dev net_null1
ip route add 10.0.2.0/24 via 1.1.1.254 dev net_null1 src 10.0.1.1
ip -6 route add fd01::/16 via fd00:1111:2222:3333:4444:5555:6666:fffe dev net_null1
ip neigh add 1.1.1.254 lladdr 02:00:00:00:01:fe dev net_null1 nud permanent
ip neigh add 10.0.1.10 lladdr %s dev net_pcap0 nud permanent
ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x00001001 reqid 1 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x%s 128
ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x00002002 reqid 2 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x%s 128
ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel
ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel
""" % (OURS6, HOST_MAC, OUT_KEY, IN_KEY)

# SA 0x2002's numbers, in this order: 1 to 10, a jump to 40, 30 (late,
# inside the window of 64: taken), then 40 and 5 again (replayed). The
# top is 40, which neither the configured replay-seq (0), the last
# number taken (30) nor the last one received (5) is.
IN_SEQS = list(range(1, 11)) + [40, 30, 40, 5]
IN_TOP, IN_REPLAYED = 40, 2

# The same SA decrypted by two workers (--spread-esp), in runs of 256
# numbers owned by workers 0, 1, 0: 1 to 10 and 600 are worker 0's, 300
# and 290 (late, inside the window) worker 1's. owner_seq is each
# owner's top, seq the highest.
SPREAD_SEQS = list(range(1, 11)) + [300, 600, 290]
SPREAD_TOPS = [600, 300]


class Fail(Exception):
    pass


# --- traffic --------------------------------------------------------------

def ipv4(proto, src, dst, payload, ident=0):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                     bytes(src), bytes(dst))
    return ip[:10] + struct.pack("!H", cksum(ip)) + ip[12:] + payload


def in_frame(sa, seq):
    """-> (the peer's ESP frame of number seq, 10.0.2.20 -> 10.0.1.10, its
    inner packet's length)."""
    payload = bytes((seq + j) & 0xFF for j in range(20 + seq % 256))
    udp = struct.pack("!HHHH", 20000 + seq, 9, 8 + len(payload), 0) + payload
    inner = ipv4(17, [10, 0, 2, 20], [10, 0, 1, 10], udp, seq & 0xFFFF)
    return mac(LAN_MAC) + mac(PEER_MAC) + b"\x08\x00" + sa.encrypt(inner, seq), len(inner)


def frames():
    """-> (frames, what each kind should count)."""
    out = []
    n_tunnel, n_other_mac, n_bad_ip, n_esp = 100, 5, 7, 3
    for i in range(n_tunnel):
        payload = bytes((i * 7 + j) & 0xFF for j in range(18 + i * 10))
        udp = struct.pack("!HHHH", 10000 + i, 9999, 8 + len(payload), 0) + payload
        out.append(mac(LAN_MAC) + mac(HOST_MAC) + b"\x08\x00" +
                   ipv4(17, [10, 0, 1, 10], [10, 0, 2, 10 + i % 7], udp, i))
    for i in range(n_other_mac):
        out.append(mac("02:00:00:00:00:99") + mac(HOST_MAC) + b"\x08\x00" +
                   ipv4(17, [10, 0, 1, 10], [10, 0, 2, 10], bytes(28)))
    for i in range(n_bad_ip):
        good = ipv4(17, [10, 0, 1, 10], [10, 0, 2, 10], bytes(28))
        out.append(mac(LAN_MAC) + mac(HOST_MAC) + b"\x08\x00" + b"\x46" + good[1:])
    for i in range(n_esp):
        esp = struct.pack("!II", 0xDEAD0000 + i, 1) + bytes(64)
        out.append(mac(LAN_MAC) + mac(HOST_MAC) + b"\x08\x00" +
                   ipv4(50, [10, 0, 1, 10], [10, 0, 1, 1], esp))
    # the peer's ESP, on the LAN port (any port takes ESP to one of our
    # addresses): 10.0.2.20 -> 10.0.1.10, forwarded to the LAN
    sa = SA(0x2002, "2.2.2.2", "1.1.1.1", 2, bytes.fromhex(IN_KEY))
    in_bytes = 0
    for k, seq in enumerate(IN_SEQS):
        frame, inner_len = in_frame(sa, seq)
        if seq not in IN_SEQS[:k]:
            in_bytes += inner_len
        out.append(frame)
    n_in = len(IN_SEQS) - IN_REPLAYED
    return out, {"tunnel": n_tunnel, "other_mac": n_other_mac, "bad_ip": n_bad_ip,
                 "esp": n_esp, "in": n_in, "in_bytes": in_bytes, "all": len(out)}


def write_pcap(path, fr):
    with open(path, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(fr):
            fp.write(struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f)


# --- telemetry --------------------------------------------------------------

class Telemetry:
    """One connection to DPDK's telemetry socket (v2)."""

    def __init__(self, prefix):
        self.path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(30)
        self.sock.connect(self.path)
        hello = json.loads(self.sock.recv(MAX_REPLY).decode())
        if hello.get("max_output_len") != MAX_REPLY:
            raise Fail("telemetry says %r" % hello)
        self.replies = []     # every reply's text, for the key check
        self.largest = (0, "")

    def raw(self, cmd):
        self.sock.send(cmd.encode())
        # more than telemetry may send, so that a longer reply would show
        b = self.sock.recv(4 * MAX_REPLY)
        if not b:
            raise Fail("telemetry closed the connection on %s" % cmd)
        text = b.decode()
        self.replies.append(text)
        if len(b) > self.largest[0]:
            self.largest = (len(b), cmd)
        if len(b) >= MAX_REPLY:
            raise Fail("%s: a reply of %d bytes (telemetry's limit is %d)"
                       % (cmd, len(b), MAX_REPLY))
        try:
            return text, json.loads(text)
        except ValueError:
            raise Fail("%s: not JSON: %r" % (cmd, text[:300]))

    def get(self, cmd):
        text, reply = self.raw(cmd)
        name = cmd.split(",")[0]
        if not isinstance(reply, dict) or name not in reply:
            raise Fail("%s: reply %r" % (cmd, text[:300]))
        return text, reply[name]

    def ok(self, cmd):
        text, r = self.get(cmd)
        if not isinstance(r, dict) or "error" in r:
            raise Fail("%s: %r" % (cmd, text[:300]))
        return text, r

    def error(self, cmd):
        text, r = self.get(cmd)
        if not isinstance(r, dict) or set(r) != {"error"} or not r["error"]:
            raise Fail("%s: want {\"error\": ...}, got %r" % (cmd, text[:300]))
        return r["error"]

    def close(self):
        self.sock.close()


def worst_case(text, reply, entries):
    """The reply's length with every counter of entries at 20 digits
    (the largest u64) and every id too."""
    n = len(text)
    for e in entries:
        for k in ("packets", "bytes", "id"):
            if k in e:
                n += (20 - len(str(e[k]))) * (2 if k == "id" else 1)  # ids are keys too
    return n


# --- the control socket -----------------------------------------------------

def ctl(args, sock, *words, check=True):
    p = subprocess.run([args.espgwctl, "-S", sock] + list(words), capture_output=True,
                       text=True, timeout=60)
    if check and p.returncode != 0:
        raise Fail("espgwctl %s: status %d %s" % (" ".join(words), p.returncode, p.stderr))
    return p


def key_of(name):
    return name.replace("-", "_")


# --- the checks -------------------------------------------------------------

def check_traffic(tel, args, sock, want, why):
    """Wait for the pcap to be read, then the numbers against it."""
    t0 = time.monotonic()
    while True:
        _, st = tel.ok("/espgw/stats")
        if st.get("rx") == want["all"]:
            break
        if time.monotonic() - t0 > 30:
            raise Fail("rx %s after 30 s, want %d" % (st.get("rx"), want["all"]))
        time.sleep(0.2)
    time.sleep(0.5)   # the last burst's counters
    _, st = tel.ok("/espgw/stats")
    expect = {"rx": want["all"], "encrypted": want["tunnel"], "decrypted": want["in"],
              "forwarded": want["tunnel"] + want["in"], "tx": want["tunnel"] + want["in"],
              "drop_l2_not_for_us": want["other_mac"], "drop_bad_ip_header": want["bad_ip"],
              "drop_esp_in": want["esp"] + IN_REPLAYED, "drop_in_no_policy": 0,
              "drop_esp_out": 0, "states": 2, "policies": 2}
    for k, v in expect.items():
        if st.get(k) != v:
            why.append("/espgw/stats %s: %r, want %d" % (k, st.get(k), v))
    if st.get("esp", {}).get("unknown_spi") != want["esp"]:
        why.append("/espgw/stats esp.unknown_spi: %r, want %d"
                   % (st.get("esp", {}).get("unknown_spi"), want["esp"]))
    bad = [k for k in st if not re.fullmatch(r"[A-Za-z0-9_]+", k)]
    if bad:
        why.append("keys telemetry would drop: %s" % bad)
    _, ports = tel.ok("/espgw/ports")
    by_name = {p.get("name"): p for p in ports.values()}
    lan, wan = by_name.get("net_pcap0"), by_name.get("net_null1")
    if lan is None or wan is None:
        raise Fail("/espgw/ports: %r" % ports)
    for p, k, v in ((lan, "rx_packets", want["all"]), (lan, "tx_packets", want["in"]),
                    (wan, "tx_packets", want["tunnel"]), (wan, "rx_packets", 0),
                    (lan, "driver", "net_pcap"), (wan, "driver", "net_null"),
                    (lan, "mac", LAN_MAC.upper()), (lan, "addrs", ["10.0.1.1/24"]),
                    (wan, "addrs", ["1.1.1.1/24", OURS6 + "/64"]), (lan, "rx_errors", 0)):
        if p.get(k) != v:
            why.append("/espgw/ports %s %s: %r, want %r" % (p.get("name"), k, p.get(k), v))
    # the SA's count, as espgwctl -s shows it
    out = ctl(args, sock, "-s", "xfrm", "state", "get", "dst", "2.2.2.2", "proto", "esp",
              "spi", "0x1001").stdout
    m = re.search(r"lifetime current:\n\s+(\d+)\(bytes\), (\d+)\(packets\)", out)
    _, lst = tel.ok("/espgw/sa/list")
    sa = [s for s in lst["sas"].values() if s["spi"] == 0x1001]
    if not m or len(sa) != 1:
        raise Fail("SA 0x1001: espgwctl %r, telemetry %r" % (out[:300], sa))
    if (sa[0]["bytes"], sa[0]["packets"]) != (int(m.group(1)), int(m.group(2))) or \
            sa[0]["packets"] != want["tunnel"]:
        why.append("SA 0x1001: telemetry %d packets %d bytes, espgwctl -s %s packets %s "
                   "bytes, sent %d" % (sa[0]["packets"], sa[0]["bytes"], m.group(2),
                                       m.group(1), want["tunnel"]))
    return st, ports


def check_replay(tel, args, sock, want, why):
    """SA 0x2002 after IN_SEQS: seq is the window's top, IN_TOP, in
    /espgw/sa/info as in espgwctl's anti-replay context (as iproute2
    prints XFRMA_REPLAY_ESN_VAL). Code showing the configured replay-seq (0) there
    instead, or the last number taken or received, fails here."""
    _, lst = tel.ok("/espgw/sa/list")
    sid = [s["id"] for s in lst["sas"].values() if s["spi"] == 0x2002]
    if len(sid) != 1:
        raise Fail("SA 0x2002 in /espgw/sa/list: %r" % lst)
    _, i = tel.ok("/espgw/sa/info,%d" % sid[0])
    drops = i.get("drops", {})
    got = (i.get("dir"), i.get("replay_window"), i.get("seq"), i.get("oseq"),
           i.get("packets"), i.get("bytes"), drops.get("replayed"), i.get("failed"))
    exp = ("in", 64, IN_TOP, 0, want["in"], want["in_bytes"], IN_REPLAYED, IN_REPLAYED)
    if got != exp:
        why.append("/espgw/sa/info of 0x2002: (dir, replay_window, seq, oseq, packets, "
                   "bytes, drops.replayed, failed) %r, want %r" % (got, exp))
    if "owner_seq" in i:
        why.append("/espgw/sa/info of 0x2002 without --spread-esp: owner_seq %r"
                   % i["owner_seq"])
    out = ctl(args, sock, "-s", "xfrm", "state", "get", "dst", "1.1.1.1", "proto", "esp",
              "spi", "0x2002").stdout
    # a window over 32 takes iproute2's ESN form (XFRMA_REPLAY_ESN_VAL)
    m = re.search(r"anti-replay esn context:\n\s+seq-hi 0x0, seq 0x([0-9a-f]+), "
                  r"oseq-hi 0x0, oseq 0x0\n\s+replay_window 64,", out)
    st = re.search(r"stats:\n\s+replay-window 0 replay (\d+) failed 0\n", out)
    lc = re.search(r"lifetime current:\n\s+\d+\(bytes\), (\d+)\(packets\)", out)
    got = (int(m.group(1), 16) if m else None, int(st.group(1)) if st else None,
           int(lc.group(1)) if lc else None)
    if got != (IN_TOP, IN_REPLAYED, want["in"]):
        why.append("espgwctl -s xfrm state get of 0x2002: (seq, replay, packets) %r, "
                   "want %r" % (got, (IN_TOP, IN_REPLAYED, want["in"])))


def load(args, sock, d, keys):
    """120 SAs with IPv6 ends (half out, half in), one IPv4 SA with
    limits and ESP in UDP, 45 IPv6 policies; -> (sas, policies) as
    configured: {(dst, spi): (src, reqid, dir)}, {(dir, src, dst): ...}."""
    rng = random.Random(14)
    lines, sas, pols = [], {}, {}
    for i in range(120):
        peer = "fd01:1111:2222:3333:4444:5555:6666:%04x" % (0xa000 + i)
        key = rng.randbytes(20).hex()
        keys.append(key)
        spi, reqid = 0xF0000000 + i, 4000000000 + i
        src, dst, dr = (OURS6, peer, "out") if i % 2 == 0 else (peer, OURS6, "in")
        lines.append("xfrm state add src %s dst %s proto esp spi 0x%08x reqid %d mode "
                     "tunnel replay-window 128 aead 'rfc4106(gcm(aes))' 0x%s 128"
                     % (src, dst, spi, reqid, key))
        sas[(dst, spi)] = (src, reqid, dr)
    key = rng.randbytes(20).hex()
    keys.append(key)
    lines.append("xfrm state add src 1.1.1.1 dst 3.3.3.3 proto esp spi 0x3003 reqid 3 "
                 "mode tunnel replay-window 32 aead 'rfc4106(gcm(aes))' 0x%s 128 "
                 "encap espinudp 4500 4501 0.0.0.0 limit byte-hard 123456789 "
                 "limit packet-soft 1000 limit time-hard 86400" % key)
    sas[("3.3.3.3", 0x3003)] = ("1.1.1.1", 3, "out")
    for i in range(45):
        dr = ("out", "in", "fwd")[i % 3]
        a = "fd02:1111:2222:3333:4444:5555:6666:%04x" % (0xb000 + i)
        b = "fd03:1111:2222:3333:4444:5555:6666:%04x" % (0xc000 + i)
        peer = "fd01:1111:2222:3333:4444:5555:6666:%04x" % (0xa000 + i)
        ts, td = (OURS6, peer) if dr == "out" else (peer, OURS6)
        src, dst = (a, b) if dr == "out" else (b, a)
        lines.append("xfrm policy add src %s/128 dst %s/128 proto udp sport %d dport %d "
                     "dir %s priority %d tmpl src %s dst %s proto esp reqid %d mode tunnel"
                     % (src, dst, 60000 + i, 61000 + i, dr, 4000000000 + i, ts, td,
                        4000000000 + i))
        pols[(dr, src + "/128", dst + "/128")] = (60000 + i, 61000 + i, 4000000000 + i,
                                                  ts, td)
    path = os.path.join(d, "load.ip")
    with open(path, "w") as fp:
        fp.write("\n".join(lines) + "\n")
    ctl(args, sock, "-batch", path)
    sas[("2.2.2.2", 0x1001)] = ("1.1.1.1", 1, "out")
    sas[("1.1.1.1", 0x2002)] = ("2.2.2.2", 2, "in")
    pols[("out", "10.0.1.0/24", "10.0.2.0/24")] = None
    pols[("fwd", "10.0.2.0/24", "10.0.1.0/24")] = None
    return sas, pols


def check_sa_pages(tel, sas, why):
    _, first = tel.ok("/espgw/sa/list")
    total = first["total"]
    pages = first["pages"]
    if total != len(sas) or pages != -(-total // SA_PAGE) or first["page"] != 0 or \
            first["per_page"] != SA_PAGE:
        why.append("/espgw/sa/list: total %d pages %d per_page %d, want %d, %d, %d"
                   % (total, pages, first["per_page"], len(sas), -(-len(sas) // SA_PAGE),
                      SA_PAGE))
    seen, ids = {}, []
    worst = 0
    for p in range(pages):
        text, r = tel.ok("/espgw/sa/list,%d" % p)
        if r["page"] != p or r["total"] != total:
            why.append("/espgw/sa/list,%d: page %d total %d" % (p, r["page"], r["total"]))
        entries = list(r["sas"].values())
        if len(entries) != min(SA_PAGE, total - p * SA_PAGE):
            why.append("/espgw/sa/list,%d: %d SAs" % (p, len(entries)))
        worst = max(worst, worst_case(text, r, entries))
        for k, e in r["sas"].items():
            if str(e["id"]) != k:
                why.append("SA keyed %s has id %s" % (k, e["id"]))
            ids.append(e["id"])
            ident = (e["dst"], e["spi"])
            if ident in seen:
                why.append("SA %s/0x%x on pages %d and %d" % (ident[0], ident[1],
                                                             seen[ident], p))
            seen[ident] = p
            want = sas.get(ident)
            got = (e["src"], e["reqid"], e["dir"])
            if want != got or e["mode"] != "tunnel":
                why.append("SA %s/0x%x: %r, want %r" % (ident[0], ident[1], e, want))
    missing = set(sas) - set(seen)
    if missing:
        why.append("SAs on no page: %s" % sorted(missing)[:5])
    if len(set(ids)) != len(ids) or ids != sorted(ids):
        why.append("SA ids not unique and ascending: %s" % ids[:20])
    if worst >= MAX_REPLY:
        why.append("a page of SAs with 20-digit counters would take %d bytes" % worst)
    tel.error("/espgw/sa/list,%d" % pages)
    tel.error("/espgw/sa/list,-1")
    tel.error("/espgw/sa/list,x")
    tel.error("/espgw/sa/list,1x")
    tel.error("/espgw/sa/list,99999999999999999999999")
    print("# %d SAs on %d pages; the largest page at 20-digit counters: %d bytes"
          % (total, pages, worst), flush=True)
    return ids


def check_policy_pages(tel, pols, why):
    _, first = tel.ok("/espgw/policy/list")
    total, pages = first["total"], first["pages"]
    if total != len(pols) or pages != -(-total // POLICY_PAGE) or \
            first["per_page"] != POLICY_PAGE:
        why.append("/espgw/policy/list: total %d pages %d, want %d policies"
                   % (total, pages, len(pols)))
    seen, indices = {}, set()
    worst = 0
    for p in range(pages):
        text, r = tel.ok("/espgw/policy/list,%d" % p)
        # the selectors, ports, priorities and templates are at their
        # longest already; an index may have 10 digits (a key too)
        worst = max(worst, len(text) + sum(2 * (10 - len(str(e["index"])))
                                           for e in r["policies"].values()))
        if len(r["policies"]) != min(POLICY_PAGE, total - p * POLICY_PAGE):
            why.append("/espgw/policy/list,%d: %d policies" % (p, len(r["policies"])))
        for k, e in r["policies"].items():
            if str(e["index"]) != k or e["index"] in indices:
                why.append("policy keyed %s: index %s (twice?)" % (k, e["index"]))
            indices.add(e["index"])
            ident = (e["dir"], e["src"], e["dst"])
            if ident in seen:
                why.append("policy %s on pages %d and %d" % (ident, seen[ident], p))
            seen[ident] = p
            if ident not in pols:
                why.append("policy not configured: %r" % e)
                continue
            want = pols[ident]
            if want is None:
                continue
            t = e.get("tmpl", {})
            got = (e.get("sport"), e.get("dport"), e["priority"], t.get("src"), t.get("dst"))
            if got != want or e["proto"] != 17 or t.get("reqid") != want[2] or \
                    e["action"] != "allow":
                why.append("policy %s: %r, want %r" % (ident, e, want))
    missing = set(pols) - set(seen)
    if missing:
        why.append("policies on no page: %s" % sorted(missing)[:5])
    if worst >= MAX_REPLY:
        why.append("a page of policies with 10-digit indices would take %d bytes" % worst)
    tel.error("/espgw/policy/list,%d" % pages)
    tel.error("/espgw/policy/list,abc")
    print("# %d policies on %d pages; the largest page at 10-digit indices: %d bytes"
          % (total, pages, worst), flush=True)


def check_sa_info(tel, args, ids, why):
    by_spi = {}
    for p in range(-(-len(ids) // SA_PAGE)):
        _, r = tel.ok("/espgw/sa/list,%d" % p)
        for e in r["sas"].values():
            by_spi[e["spi"]] = e["id"]
    _, i = tel.ok("/espgw/sa/info,%d" % by_spi[0x3003])
    want = {"id": by_spi[0x3003], "src": "1.1.1.1", "dst": "3.3.3.3", "spi": 0x3003,
            "dir": "out", "reqid": 3, "mode": "tunnel", "proto": "esp",
            "aead": "rfc4106(gcm(aes))", "key_bits": 128, "icv_bits": 128, "esn": 0,
            "replay_window": 32, "packets": 0, "bytes": 0, "failed": 0, "oseq": 0}
    for k, v in want.items():
        if i.get(k) != v:
            why.append("/espgw/sa/info of 0x3003: %s %r, want %r" % (k, i.get(k), v))
    lt, enc = i.get("lifetime", {}), i.get("encap", {})
    for k, v in (("hard_bytes", 123456789), ("soft_packets", 1000), ("time_hard", 86400),
                 ("soft_bytes", 0), ("dying", 0), ("expired", 0)):
        if lt.get(k) != v:
            why.append("/espgw/sa/info of 0x3003: lifetime %s %r, want %r" % (k, lt.get(k), v))
    if abs(lt.get("add_time", 0) - time.time()) > 600:
        why.append("/espgw/sa/info of 0x3003: add_time %r" % lt.get("add_time"))
    if enc != {"type": "espinudp", "sport": 4500, "dport": 4501, "oa": "0.0.0.0"}:
        why.append("/espgw/sa/info of 0x3003: encap %r" % enc)
    # every ESP drop reason the binary has (espgw --counters), by
    # telemetry's name for it, '-' as '_'
    reasons = {k[len("esp."):].replace("-", "_")
               for k, side in counter_sides(args.espgw).items() if side == "reason"}
    if set(i.get("drops", {})) != reasons or any(v != 0 for v in i.get("drops", {}).values()):
        why.append("/espgw/sa/info of 0x3003: drops %r" % i.get("drops"))
    if any(re.search("key", k) and k != "key_bits" for k in i):
        why.append("/espgw/sa/info has a key field: %r" % sorted(i))
    # the tunnel's SA: its sequence number is the packets it sent
    _, i = tel.ok("/espgw/sa/info,%d" % by_spi[0x1001])
    if i.get("oseq") != i.get("packets") or not i.get("packets"):
        why.append("/espgw/sa/info of 0x1001: oseq %r packets %r"
                   % (i.get("oseq"), i.get("packets")))
    # every SA has its info
    for sid in ids:
        _, i = tel.ok("/espgw/sa/info,%d" % sid)
        if i["id"] != sid:
            why.append("/espgw/sa/info,%d: id %r" % (sid, i["id"]))
    for bad in ("", "abc", "-1", "1x", " 1", "0x10", str(max(ids) + 1000),
                "99999999999999999999999", "0"):
        tel.error("/espgw/sa/info" + ("," + bad if bad else ""))


def check_keys(replies, keys, why):
    text = "\n".join(replies).lower()
    for k in keys:
        for piece in (k, k[:16], k[-16:]):
            if piece in text:
                why.append("key bytes %s... in a telemetry reply" % k[:8])
                break


def churn(args, sock, prefix, why, seconds):
    """espgwctl adds and deletes SAs in a loop while two threads read."""
    stop = time.monotonic() + seconds
    counts = {"changes": 0, "replies": 0, "errors": 0}
    errs = []

    def changer():
        i = 0
        try:
            while time.monotonic() < stop:
                spi = 0x5000 + i % 16
                peer = "fd01:1111:2222:3333:4444:5555:6666:%04x" % (0xe000 + i % 16)
                if i // 16 % 2 == 0:
                    ctl(args, sock, "xfrm", "state", "add", "src", OURS6, "dst", peer,
                        "proto", "esp", "spi", "0x%x" % spi, "reqid", "7", "mode",
                        "tunnel", "aead", "rfc4106(gcm(aes))",
                        "0x" + "ab" * 20, "128")
                else:
                    ctl(args, sock, "xfrm", "state", "delete", "dst", peer, "proto",
                        "esp", "spi", "0x%x" % spi)
                counts["changes"] += 1
                i += 1
        except Exception as e:  # noqa: BLE001
            errs.append("changer: %s" % e)

    def reader(seed):
        rng = random.Random(seed)
        try:
            tel = Telemetry(prefix)
            while time.monotonic() < stop:
                c = rng.choice(["/espgw/stats", "/espgw/ports", "/espgw/sa/list",
                                "/espgw/sa/list,%d" % rng.randrange(4),
                                "/espgw/sa/info,%d" % rng.randrange(1, 200),
                                "/espgw/policy/list,%d" % rng.randrange(3)])
                _, r = tel.get(c)
                counts["replies"] += 1
                if "error" in r:
                    counts["errors"] += 1
            check_keys(tel.replies, ["ab" * 20], errs)
            tel.close()
        except Exception as e:  # noqa: BLE001
            errs.append("reader: %s" % e)

    th = [threading.Thread(target=changer)] + \
        [threading.Thread(target=reader, args=(s,)) for s in (1, 2)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    why.extend(errs)
    print("# under churn: %d SA changes, %d telemetry replies (%d errors: pages or ids "
          "not there at the time)" % (counts["changes"], counts["replies"], counts["errors"]),
          flush=True)
    if counts["changes"] < 10 or counts["replies"] < 100:
        why.append("too little done under churn: %r" % counts)


def dpdk_telemetry_py(prefix, why):
    tool = shutil.which("dpdk-telemetry.py")
    if tool is None:
        print("# dpdk-telemetry.py not installed: skipped", flush=True)
        return
    p = subprocess.run([tool, "-f", prefix], input="/espgw/stats\n/espgw/sa/list,0\n",
                       capture_output=True, text=True, timeout=60)
    got = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or len(got) != 2 or "/espgw/stats" not in got[0] or \
            "rx" not in got[0]["/espgw/stats"]:
        why.append("dpdk-telemetry.py -f %s: status %d, %r %r"
                   % (prefix, p.returncode, p.stdout[:300], p.stderr[:300]))
    else:
        print("# dpdk-telemetry.py -f %s: /espgw/stats and /espgw/sa/list,0 read" % prefix,
              flush=True)


def stopping(prefix, proc):
    """Commands while espgw stops: JSON every time, or the socket gone."""
    n = stopped = 0
    try:
        tel = Telemetry(prefix)
    except (OSError, Fail):
        return 0, 0
    proc.send_signal(signal.SIGINT)
    try:
        while proc.poll() is None and n < 100000:
            _, r = tel.get(("/espgw/stats", "/espgw/sa/list,0", "/espgw/ports")[n % 3])
            n += 1
            if r.get("error") == "espgw is stopping":
                stopped += 1
            elif "error" in r:
                raise Fail("while stopping: %r" % r)
    except (OSError, Fail) as e:
        if isinstance(e, Fail) and "closed" not in str(e):
            raise
    return n, stopped


def launch(args, d, prefix, workers, vdevs, opts):
    """Start espgw with workers workers on vdevs, its files in d: ->
    (process, stdout path, stderr path)."""
    cmd = ([args.espgw, "--no-huge", "-m", "512"] + eal_cores(workers) +
           ["--no-pci", "--file-prefix", prefix, "--log-level=lib.*:error"] +
           [a for v in vdevs for a in ("--vdev", v)] + ["--"] + opts)
    out_path, err_path = os.path.join(d, "stdout"), os.path.join(d, "stderr")
    print("# " + " ".join(cmd), flush=True)
    with open(out_path, "w") as out, open(err_path, "w") as err:
        return subprocess.Popen(cmd, stdout=out, stderr=err), out_path, err_path


def finish(tel, proc, prefix, err_path, why, what, lines):
    """Close tel (if open) and stop espgw; its complaints go on why, and
    with any complaint the last lines of its stderr are printed."""
    if tel is not None:
        tel.close()
    stopped, stderr = gwproc.stop(proc, prefix, lambda: open(err_path).read())
    why += stopped
    if why:
        sys.stdout.write("# %s stderr (tail):\n" % what +
                         "".join("#   " + l + "\n" for l in stderr.splitlines()[-lines:]))


def run_spread(args, d):
    """SA 0x2002's ESP (SPREAD_SEQS) on one RX queue, decrypted by two
    workers (--spread-esp): /espgw/sa/info's owner_seq is each owner's
    top, seq the highest. An owner_seq of the SA's one top, or of the
    last number each took, fails here."""
    d = os.path.join(d, "spread")
    os.makedirs(d, exist_ok=True)
    sa = SA(0x2002, "2.2.2.2", "1.1.1.1", 2, bytes.fromhex(IN_KEY))
    pcaps = [os.path.join(d, n) for n in ("in0.pcap", "in1.pcap", "out0.pcap", "out1.pcap")]
    write_pcap(pcaps[0], [in_frame(sa, s)[0] for s in SPREAD_SEQS])
    write_pcap(pcaps[1], [])
    conf = os.path.join(d, "gw.conf")
    with open(conf, "w") as fp:
        fp.write(CONFIG)
    prefix = "telemetry-spread%d" % os.getpid()
    proc, out_path, err_path = launch(
        args, d, prefix, 2,
        ["net_pcap0,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s" % tuple(pcaps),
         "net_null1,no-rx=1"],
        ["-f", conf, "--socket", os.path.join(d, "ctl.sock"), "--spread-esp"])
    why = []
    tel = None
    try:
        gwproc.wait_running(proc, out_path, Fail)
        tel = Telemetry(prefix)
        t0 = time.monotonic()
        while tel.ok("/espgw/stats")[1].get("rx") != len(SPREAD_SEQS):
            if time.monotonic() - t0 > 30:
                raise Fail("the pcap not read within 30 s")
            time.sleep(0.05)
        _, lst = tel.ok("/espgw/sa/list")
        sid = [s["id"] for s in lst["sas"].values() if s["spi"] == 0x2002]
        if len(sid) != 1:
            raise Fail("SA 0x2002 in /espgw/sa/list: %r" % lst)
        # the owners' counters are each their own: wait for both
        while True:
            _, i = tel.ok("/espgw/sa/info,%d" % sid[0])
            if i.get("packets") == len(SPREAD_SEQS) or time.monotonic() - t0 > 30:
                break
            time.sleep(0.05)
        got = (i.get("owner_seq"), i.get("seq"), i.get("packets"))
        exp = (SPREAD_TOPS, max(SPREAD_TOPS), len(SPREAD_SEQS))
        if got != exp:
            why.append("--spread-esp: /espgw/sa/info of 0x2002 (owner_seq, seq, packets) "
                       "%r, want %r" % (got, exp))
        else:
            print("# --spread-esp: owner_seq %r, seq %d" % (got[0], got[1]), flush=True)
    except Fail as e:
        why.append("--spread-esp: %s" % e)
    finally:
        finish(tel, proc, prefix, err_path, why, "espgw --spread-esp", 20)
    return why


def run(args):
    d = args.keep or tempfile.mkdtemp(prefix="telemetry")
    os.makedirs(d, exist_ok=True)
    pcap, conf = os.path.join(d, "in.pcap"), os.path.join(d, "gw.conf")
    stats_path, sock = os.path.join(d, "stats"), os.path.join(d, "ctl.sock")
    fr, want = frames()
    write_pcap(pcap, fr)
    with open(conf, "w") as fp:
        fp.write(CONFIG)
    prefix = "telemetry%d" % os.getpid()
    why = []
    keys = [OUT_KEY, IN_KEY]
    proc, out_path, err_path = launch(
        args, d, prefix, 1, ["net_pcap0,rx_pcap=%s" % pcap, "net_null1,no-rx=1"],
        ["-f", conf, "-s", stats_path, "--socket", sock])
    tel = None
    last = None
    try:
        gwproc.wait_running(proc, out_path, Fail)
        tel = Telemetry(prefix)
        _, cmds = tel.get("/")
        mine = ["/espgw/policy/list", "/espgw/ports", "/espgw/sa/info", "/espgw/sa/list",
                "/espgw/stats"]
        if sorted(c for c in cmds if c.startswith("/espgw/")) != mine:
            why.append("registered commands: %r" % [c for c in cmds if "espgw" in c])
        check_traffic(tel, args, sock, want, why)
        check_replay(tel, args, sock, want, why)
        sas, pols = load(args, sock, d, keys)
        ids = check_sa_pages(tel, sas, why)
        check_policy_pages(tel, pols, why)
        check_sa_info(tel, args, ids, why)
        dpdk_telemetry_py(prefix, why)
        churn(args, sock, prefix, why, args.seconds)
        # no traffic since check_traffic: the numbers stand still
        _, last = tel.ok("/espgw/stats")
        _, last_ports = tel.ok("/espgw/ports")
        check_keys(tel.replies, keys, why)
        print("# %d replies, the largest %d bytes (%s)"
              % (len(tel.replies), tel.largest[0], tel.largest[1]), flush=True)
        tel.close()
        tel = None
        n, stopped = stopping(prefix, proc)
        print("# %d replies while espgw stopped, %d of them \"espgw is stopping\""
              % (n, stopped), flush=True)
    except Fail as e:
        why.append(str(e))
    finally:
        finish(tel, proc, prefix, err_path, why, "espgw", 40)
    if last is not None and os.path.exists(stats_path):
        st = read_stats(stats_path)
        n = 0
        for k, v in st.items():
            if k.startswith("gw."):
                got = last.get(key_of(k[3:]))
            elif k.startswith("esp."):
                got = last.get("esp", {}).get(key_of(k[4:]))
            elif k.startswith("gone."):
                dr, name = k[5:].split(".", 1)
                got = last.get("gone_" + dr, {}).get(key_of(name))
                if name == "mappings":
                    continue
            elif k.startswith("port."):
                name, what = k[5:].rsplit(".", 1)
                p = [p for p in last_ports.values() if p["name"] == name]
                got = p[0].get(what + "_packets") if p else None
            else:
                continue
            n += 1
            if got != v:
                why.append("stats file %s %d, telemetry %r" % (k, v, got))
        print("# %d counters of the stats file equal telemetry's" % n, flush=True)
    elif not why:
        why.append("no stats file")
    if not why:
        why += run_spread(args, d)
    if not args.keep and not why:
        shutil.rmtree(d, ignore_errors=True)
    elif why:
        print("# files kept in %s" % d)
    return why


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--espgw", required=True)
    ap.add_argument("--espgwctl", required=True)
    ap.add_argument("--seconds", type=float,
                    default=float(os.environ.get("TELEMETRY_CHURN_SECONDS", "10")))
    ap.add_argument("--keep", help="keep the run's files in this directory")
    args = ap.parse_args()
    return gwproc.report(run, args, Fail,
                         "telemetry: espgw's commands on DPDK's telemetry socket")


if __name__ == "__main__":
    sys.exit(main())
