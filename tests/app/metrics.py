#!/usr/bin/python3
"""espgw's Prometheus metrics (docs/control.md, "Metrics") against its
other counters.

espgw runs R1 of the classic set-up on two net_pcap ports that each
replay a pcap file once: on the LAN port 32 clear IPv4/UDP packets that
leave encrypted with SA 0x1001 on the WAN port; on the WAN port 24 ESP
packets for SA 0x2002 whose ICV is wrong (bad-icv on that SA) and 8 for
an SPI nobody has (unknown-spi, on no SA). A third state, ESP in UDP,
carries nothing but has the mapping-changes family. The next hop is a
static neighbour: no ARP.

Checked, with --metrics 127.0.0.1:0 and --metrics-file every second:
  - every scrape and every file parses strictly as the text format 0.0.4
    (each line a HELP, a TYPE or a sample of the grammar, label values
    escaped, every family with HELP and TYPE before its samples, one
    TYPE a family, families not interleaved, no series twice, counters
    end in _total, names espgw_ with no '-');
  - the numbers: per SA against `espgwctl -s xfrm state` (packets, bytes,
    failed, the drops line), the gateway's against the traffic sent;
  - a state deleted: its counters move to espgw_sa_gone_*, and
    espgw_drop_esp_in_total keeps them;
  - the file appears at start, is replaced by rename (a new inode, mode
    0644, no temporary file left, a reader never sees a part of one),
    and after exit matches the --stats-file, counter for counter;
  - SIGUSR1's print beside scrapes (both take the control lock);
  - 404 for another path, 405 (with Allow) for POST, PUT and DELETE;
    HEAD is GET without the body;
  - no key (hex, either case, or raw bytes) in any scrape, file, or
    espgw's output;
  - bad --metrics, --metrics-interval and --metrics-file arguments, and
    a port in use: exit 1 with a message;
  - an IPv6 listener, [::1]:0 (127.0.0.1 where the host has no ::1),
    and a port named net_null"q\\b, its label value escaped.
espgw exits 0 on SIGINT with no sanitizer report.

Usage: metrics.py --espgw build/app/espgw --espgwctl PATH [--keep DIR]
"""

import argparse
import http.client
import os
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
from gwproc import cksum, mac, read_stats

LAN_MAC = "02:70:63:61:70:00"        # net_pcap0
WAN_MAC = "02:70:63:61:70:01"        # net_pcap1
HOST_MAC = "02:00:0a:00:01:0a"
PEER_MAC = "02:00:00:00:01:fe"
OUT_SPI, IN_SPI, UDP_SPI, UNKNOWN_SPI = 0x1001, 0x2002, 0x3003, 0x9999
N_CLEAR, N_BAD_ICV, N_UNKNOWN = 32, 24, 8
KEYS = ["6c1c4a2e4b43a58fa5d6b5b1f9a9d1e3aa0b2c31",
        "1f5e9b3d7a2c84e6f0d1c3b5a7e9f2d4c6b8a0e2",
        "a0b1c2d3e4f5061728394a5b6c7d8e9fa1b2c3d4",
        "5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b"]   # the last: added by espgwctl

CONFIG = """\
# tests/app/metrics.py: R1 of config/r1.conf on net_pcap0 (LAN), net_pcap1 (WAN)
ip link set dev net_pcap0 up
ip link set dev net_pcap1 up
ip addr add 10.0.1.1/24 dev net_pcap0
ip addr add 1.1.1.1/24 dev net_pcap1
ip route add default via 1.1.1.254 dev net_pcap1
ip route add 10.0.2.0/24 via 1.1.1.254 dev net_pcap1 src 10.0.1.1
ip neigh add 1.1.1.254 lladdr {peer} dev net_pcap1 nud permanent
ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x{o:08x} reqid 1 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x{k0} 128
ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x{i:08x} reqid 2 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x{k1} 128
ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x{u:08x} reqid 3 mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' 0x{k2} 128 encap espinudp 4500 4500 0.0.0.0
ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel
ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel
ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel
""".format(peer=PEER_MAC, o=OUT_SPI, i=IN_SPI, u=UDP_SPI, k0=KEYS[0], k1=KEYS[1], k2=KEYS[2])


class Fail(Exception):
    pass


# --- traffic ----------------------------------------------------------------

def ipv4(src, dst, proto, payload, ident=0):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", cksum(ip)) + ip[12:] + payload


def clear_frames():
    """IPv4/UDP 10.0.1.x -> 10.0.2.y on the LAN: out through SA 0x1001."""
    frames = []
    for i in range(N_CLEAR):
        payload = bytes((i * 7 + j) & 0xFF for j in range(18 + i * 40))
        udp = struct.pack("!HHHH", 10000 + i, 9999, 8 + len(payload), 0) + payload
        ip = ipv4("10.0.1.%d" % (10 + i % 20), "10.0.2.%d" % (10 + i % 7), 17, udp, i)
        frames.append(mac(LAN_MAC) + mac(HOST_MAC) + b"\x08\x00" + ip)
    return frames


def esp_frames():
    """ESP to 1.1.1.1 on the WAN: SA 0x2002 with a wrong ICV, then an
    unknown SPI."""
    frames = []
    for i in range(N_BAD_ICV + N_UNKNOWN):
        spi = IN_SPI if i < N_BAD_ICV else UNKNOWN_SPI
        # SPI, sequence number, an 8-byte IV, 64 bytes of "ciphertext",
        # a 16-byte ICV that cannot be right
        esp = struct.pack("!II", spi, i + 1) + bytes(8) + bytes(range(64)) + b"\x55" * 16
        ip = ipv4("2.2.2.2", "1.1.1.1", 50, esp, i)
        frames.append(mac(WAN_MAC) + mac(PEER_MAC) + b"\x08\x00" + ip)
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            fp.write(struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f)


# --- the exposition format, strictly ------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*=" + LABEL_VALUE
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*,?)?\})? (\S+)(?: (-?\d+))?$"
                    % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) ((?:[^\\\n]|\\[\\n])*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
LABEL_ONE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)=("(?:[^"\\\n]|\\[\\"n])*")')


def unescape(v):
    return re.sub(r'\\([\\"n])', lambda m: "\n" if m.group(1) == "n" else m.group(1), v[1:-1])


def parse(text, where):
    """-> {(name, frozenset(labels.items())): value}, {family: type};
    raises Fail at the first thing the format (or this project's rules
    for it) does not allow."""
    if not text.endswith("\n"):
        raise Fail("%s: does not end in a newline" % where)
    samples, types, helps, done = {}, {}, {}, set()
    cur = None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        at = "%s:%d: %r" % (where, n, line[:160])
        if line.startswith("#"):
            m = HELP.match(line) or TYPE.match(line)
            if not m:
                raise Fail("%s: neither HELP nor TYPE" % at)
            name = m.group(1)
            if name != cur:
                if name in done or name in types or name in helps:
                    raise Fail("%s: family %s again (interleaved)" % (at, name))
                if cur is not None:
                    done.add(cur)
                cur = name
            if line.startswith("# HELP"):
                if name in helps or name in types:
                    raise Fail("%s: HELP twice, or after TYPE" % at)
                helps[name] = m.group(2)
            else:
                if name in types:
                    raise Fail("%s: a second TYPE for %s" % (at, name))
                types[name] = m.group(2)
            continue
        m = SAMPLE.match(line)
        if not m:
            raise Fail("%s: not a sample line of the format" % at)
        name, labels, value, ts = m.groups()
        if ts is not None:
            raise Fail("%s: espgw gives no timestamps" % at)
        if name != cur or name not in types:
            raise Fail("%s: sample of %s outside its family (HELP and TYPE first)"
                       % (at, name))
        try:
            v = float(value)
        except ValueError:
            raise Fail("%s: value %r is no number" % (at, value))
        if v != int(v) or v < 0:
            raise Fail("%s: counters and gauges here are integers >= 0" % at)
        lab = {}
        if labels:
            for k, val in LABEL_ONE.findall(labels):
                if k in lab:
                    raise Fail("%s: label %s twice" % (at, k))
                lab[k] = unescape(val)
        key = (name, frozenset(lab.items()))
        if key in samples:
            raise Fail("%s: the same series twice" % at)
        samples[key] = int(value)
    for name, t in types.items():
        if name not in helps:
            raise Fail("%s: family %s has no HELP" % (where, name))
        if not name.startswith("espgw_"):
            raise Fail("%s: family %s is not espgw_" % (where, name))
        if (t == "counter") != name.endswith("_total"):
            raise Fail("%s: %s %s: counters, and only they, end in _total" % (where, t, name))
    return samples, types


def parser_selftest():
    """The checker must itself refuse what the format refuses."""
    head = "# HELP espgw_a_total A \\\\ help\\nline.\n# TYPE espgw_a_total counter\n"
    good = head + 'espgw_a_total{x="q\\"uo\\\\te\\nnl",y="{},= "} 1\nespgw_a_total 2\n'
    samples, _t = parse(good, "selftest")
    want = frozenset({("x", 'q"uo\\te\nnl'), ("y", "{},= ")})
    if samples.get(("espgw_a_total", want)) != 1:
        raise Fail("parser self-test: escaped label values read as %s" % samples)
    bad = {"an unescaped quote": head + 'espgw_a_total{x="a"b"} 1\n',
           "an unknown escape": head + 'espgw_a_total{x="a\\tb"} 1\n',
           "a raw newline in a value": head + 'espgw_a_total{x="a\nb"} 1\n',
           "a '-' in a name": "# HELP espgw_a-b_total h\n# TYPE espgw_a-b_total counter\n"
                              "espgw_a-b_total 1\n",
           "a sample before TYPE": "espgw_a_total 1\n" + head,
           "no HELP": "# TYPE espgw_a_total counter\nespgw_a_total 1\n",
           "TYPE twice": head + "# TYPE espgw_a_total counter\nespgw_a_total 1\n",
           "interleaved": head + "espgw_a_total 1\n# HELP espgw_b h\n# TYPE espgw_b gauge\n"
                          "espgw_b 1\nespgw_a_total 2\n",
           "a family again": head + "espgw_a_total 1\n# HELP espgw_b h\n# TYPE espgw_b gauge\n"
                             "espgw_b 1\n" + head,
           "a counter without _total": "# HELP espgw_a h\n# TYPE espgw_a counter\nespgw_a 1\n",
           "a series twice": head + "espgw_a_total 1\nespgw_a_total 1\n",
           "a value that is no number": head + "espgw_a_total one\n",
           "no newline at the end": head + "espgw_a_total 1",
           "a label name with '-'": head + 'espgw_a_total{x-y="1"} 1\n'}
    for what, text in bad.items():
        try:
            parse(text, "selftest")
        except Fail:
            continue
        raise Fail("parser self-test: %s was taken" % what)


class Metrics:
    def __init__(self, text, where):
        self.text = text
        self.samples, self.types = parse(text, where)
        self.where = where

    def get(self, name, **labels):
        key = (name, frozenset((k, str(v)) for k, v in labels.items()))
        if key not in self.samples:
            raise Fail("%s: no sample %s%s" % (self.where, name, labels))
        return self.samples[key]

    def find(self, name, **labels):
        """Samples of a family whose labels include these."""
        want = set((k, str(v)) for k, v in labels.items())
        return {k[1]: v for k, v in self.samples.items() if k[0] == name and want <= k[1]}


def sa_labels(dst, spi, direction, src, reqid):
    return dict(dst=dst, spi="0x%08x" % spi, direction=direction, src=src, reqid=reqid)


# --- espgw and its outputs -----------------------------------------------------------

def eal_cores():
    return ["-l", "0-1"] if (os.cpu_count() or 1) > 1 else ["--lcores", "0@0,1@0"]


def eal(prefix, vdevs):
    cmd = ["--no-huge", "-m", "512"] + eal_cores() + \
        ["--no-pci", "--file-prefix", prefix, "--log-level=lib.*:error"]
    for v in vdevs:
        cmd += ["--vdev", v]
    return cmd


def get(host, port, method="GET", path="/metrics"):
    c = http.client.HTTPConnection(host, port, timeout=30)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


class Espgw:
    """An espgw in the background, its output in files of d."""

    def __init__(self, espgw, d, name, vdevs, opts):
        self.d, self.name = d, name
        self.prefix = "metrics%d%s" % (os.getpid(), name)
        self.out_path = os.path.join(d, name + ".stdout")
        self.err_path = os.path.join(d, name + ".stderr")
        self.cmd = [espgw] + eal(self.prefix, vdevs) + ["--"] + opts
        print("# " + " ".join(self.cmd), flush=True)
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=err)
        self.url = None

    def wait_running(self):
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise Fail("espgw %s exited %d at start: %s"
                           % (self.name, self.proc.returncode, self.stderr()[-500:]))
            out = self.stdout()
            if "running" in out:
                m = re.search(r"^espgw: metrics on http://(\[[^]]+\]|[^:/]+):(\d+)/metrics$",
                              out, re.M)
                if m:
                    self.url = (m.group(1).strip("[]"), int(m.group(2)))
                return
            if time.monotonic() - t0 > 60:
                raise Fail("espgw %s did not start within 60 s" % self.name)
            time.sleep(0.05)

    def stdout(self):
        with open(self.out_path) as fp:
            return fp.read()

    def stderr(self):
        with open(self.err_path) as fp:
            return fp.read()

    def scrape(self):
        st, hdr, body = get(*self.url)
        if st != 200:
            raise Fail("GET /metrics: %d" % st)
        ct = hdr.get("content-type", "")
        if ct != "text/plain; version=0.0.4; charset=utf-8":
            raise Fail("GET /metrics: Content-Type %r" % ct)
        return Metrics(body.decode(), "scrape")

    def stop(self, why):
        """SIGINT; espgw must exit 0 without a sanitizer report."""
        stopped, err = gwproc.stop(self.proc, self.prefix, self.stderr)
        why += ["%s (%s)" % (w, self.name) for w in stopped]
        if stopped:
            sys.stdout.write("# espgw %s stderr (tail):\n" % self.name +
                             "".join("#   " + l + "\n" for l in err.splitlines()[-40:]))


def ctl(args, sock, *words):
    p = subprocess.run([args.espgwctl, "-S", sock] + list(words), capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise Fail("espgwctl %s: exit %d: %s" % (" ".join(words), p.returncode, p.stderr))
    return p.stdout


def listed_states(text):
    """{(dst, spi): {src, reqid, dir, packets, bytes, drops{}, mappings}} of
    espgwctl -s xfrm state. xfrm's three (replay-window, replay, failed)
    are behind-window, replayed and bad-icv; espgw's "drops:" line, when
    there, lists every reason not 0."""
    got = {}
    for block in re.split(r"^(?=src )", text, flags=re.M):
        if not block.strip():
            continue
        m = re.match(r"src (\S+) dst (\S+)\n\s+proto esp spi 0x([0-9a-f]+)\(\d+\) reqid (\d+)",
                     block)
        d = re.search(r"^\s+dir (in|out)$", block, re.M)
        life = re.search(r"lifetime current:\n\s+(\d+)\(bytes\), (\d+)\(packets\)", block)
        fail = re.search(r"replay-window (\d+) replay (\d+) failed (\d+)", block)
        if not (m and d and life and fail):
            raise Fail("espgwctl -s xfrm state: not understood:\n%s" % block[:800])
        drops = {k: int(fail.group(i)) for i, k in
                 ((1, "behind-window"), (2, "replayed"), (3, "bad-icv")) if int(fail.group(i))}
        mp = re.search(r"^\s+mapping changes (\d+)$", block, re.M)
        dl = re.search(r"^\s+drops:((?: \S+ \d+)+)$", block, re.M)
        if dl:
            w = dl.group(1).split()
            drops = {w[i]: int(w[i + 1]) for i in range(0, len(w), 2)}
        got[(m.group(2), int(m.group(3), 16))] = dict(
            src=m.group(1), reqid=int(m.group(4)), dir=d.group(1),
            bytes=int(life.group(1)), packets=int(life.group(2)), drops=drops,
            mappings=int(mp.group(1)) if mp else None)
    return got


def no_keys(what, text, why):
    low = text.lower() if isinstance(text, str) else text
    for k in KEYS:
        for needle in (k, k[:32], k[8:40]):
            if isinstance(low, str):
                hit = needle in low
            else:
                hit = bytes.fromhex(needle) in low or needle.encode() in low.lower()
            if hit:
                why.append("%s holds key material (%s...)" % (what, needle[:8]))
                return


# --- the checks ---------------------------------------------------------------

def check_against_listing(args, gw, sock, m, why):
    """The per-SA families against espgwctl -s xfrm state."""
    listing = ctl(args, sock, "-s", "xfrm", "state", "list")
    states = listed_states(listing)
    if len(states) != m.get("espgw_states"):
        why.append("espgw_states %d, espgwctl lists %d" % (m.get("espgw_states"), len(states)))
    for (dst, spi), st in states.items():
        lab = sa_labels(dst, spi, st["dir"], st["src"], st["reqid"])
        for fam, k in (("espgw_sa_packets_total", "packets"), ("espgw_sa_bytes_total", "bytes")):
            if m.get(fam, **lab) != st[k]:
                why.append("%s %s: %d, espgwctl: %d" % (fam, lab, m.get(fam, **lab), st[k]))
        drops = {dict(k)["reason"]: v for k, v in
                 m.find("espgw_sa_drops_total", **lab).items()}
        if any(v == 0 for v in drops.values()):
            why.append("espgw_sa_drops_total of %s has a 0: only reasons that happened" % lab)
        if drops != st["drops"]:
            why.append("espgw_sa_drops_total of %s: %s; espgwctl -s: %s"
                       % (lab, drops, st["drops"]))
        udp = m.find("espgw_sa_mapping_changes_total", **lab)
        if (spi == UDP_SPI) != bool(udp) or \
                (st["mappings"] is not None and list(udp.values()) != [st["mappings"]]):
            why.append("espgw_sa_mapping_changes_total for %s: %s, espgwctl -s %s "
                       "(ESP in UDP states only)" % (lab, udp, st["mappings"]))
    return states


def check_traffic(m, why):
    want = [("espgw_rx_total", {}, N_CLEAR + N_BAD_ICV + N_UNKNOWN),
            ("espgw_encrypted_total", {}, N_CLEAR),
            ("espgw_forwarded_total", {}, N_CLEAR),
            ("espgw_tx_total", {}, N_CLEAR),
            ("espgw_arp_requested_total", {}, 0),
            ("espgw_drop_esp_in_total", {}, N_BAD_ICV + N_UNKNOWN),
            ("espgw_drop_esp_out_total", {}, 0),
            ("espgw_esp_drops_total", {"reason": "unknown-spi"}, N_UNKNOWN),
            ("espgw_esp_drops_total", {"reason": "bad-icv"}, 0),
            ("espgw_port_rx_packets_total", {"port": "net_pcap0", "port_id": 0}, N_CLEAR),
            ("espgw_port_rx_packets_total", {"port": "net_pcap1", "port_id": 1},
             N_BAD_ICV + N_UNKNOWN),
            ("espgw_port_tx_packets_total", {"port": "net_pcap1", "port_id": 1}, N_CLEAR),
            ("espgw_port_tx_packets_total", {"port": "net_pcap0", "port_id": 0}, 0),
            ("espgw_port_rx_bytes_total", {"port": "net_pcap0", "port_id": 0},
             sum(len(f) for f in clear_frames())),
            ("espgw_sa_packets_total", sa_labels("2.2.2.2", OUT_SPI, "out", "1.1.1.1", 1),
             N_CLEAR),
            ("espgw_sa_bytes_total", sa_labels("2.2.2.2", OUT_SPI, "out", "1.1.1.1", 1),
             sum(len(f) - 14 for f in clear_frames())),
            ("espgw_sa_drops_total",
             dict(sa_labels("1.1.1.1", IN_SPI, "in", "2.2.2.2", 2), reason="bad-icv"), N_BAD_ICV),
            ("espgw_states", {}, 3),
            ("espgw_policies", {}, 3)]
    for name, lab, v in want:
        try:
            got = m.get(name, **lab)
        except Fail as e:
            why.append(str(e))
            continue
        if got != v:
            why.append("%s%s: %d, want %d" % (name, lab, got, v))
    for fam in ("espgw_port_rx_missed_total", "espgw_port_rx_errors_total",
                "espgw_port_tx_errors_total", "espgw_port_rx_nombuf_total",
                "espgw_port_tx_bytes_total"):
        if len(m.find(fam)) != 2:
            why.append("%s: %d ports, want 2" % (fam, len(m.find(fam))))
    if m.types.get("espgw_states") != "gauge" or m.types.get("espgw_rx_total") != "counter":
        why.append("TYPEs: espgw_states %s, espgw_rx_total %s"
                   % (m.types.get("espgw_states"), m.types.get("espgw_rx_total")))


def check_against_stats_file(m, st, why):
    """The file written at exit against --stats-file, every counter."""
    names = {}
    for k, v in st.items():
        part = k.split(".")
        if part[0] == "gw":
            names[k] = m.get("espgw_" + part[1].replace("-", "_") + "_total")
        elif part[0] == "esp":
            names[k] = m.get("espgw_esp_drops_total", reason=part[1])
        elif part[0] == "port":
            names[k] = sum(m.find("espgw_port_%s_packets_total" % part[2],
                                  port=part[1]).values())
        elif part[0] == "gone":
            d, what = part[1], part[2]
            if what in ("packets", "bytes"):
                names[k] = m.get("espgw_sa_gone_%s_total" % what, direction=d)
            else:
                names[k] = m.get("espgw_sa_gone_drops_total", direction=d, reason=what)
        elif part[0] == "pool":
            continue  # the mbuf pools' gauges: the stats file's only
        elif part[0] == "sa":
            sm = re.match(r"sa\.(.+)/esp/(0x[0-9a-f]{8})/(in|out)\.(.+)$", k)
            if not sm:
                why.append("stats file: %s not understood" % k)
                continue
            lab = dict(dst=sm.group(1), spi=sm.group(2), direction=sm.group(3))
            what = sm.group(4)
            if what in ("packets", "bytes"):
                fam = "espgw_sa_%s_total" % what
            elif what == "mappings":
                fam = "espgw_sa_mapping_changes_total"
            else:
                fam = "espgw_sa_drops_total"
                lab["reason"] = what
            found = m.find(fam, **lab)
            if len(found) > 1:
                why.append("%s %s: %d series" % (fam, lab, len(found)))
            names[k] = sum(found.values())   # a drop at 0 is left out: 0
            if fam != "espgw_sa_drops_total" and not found:
                why.append("no %s %s" % (fam, lab))
        else:
            why.append("stats file: %s not understood" % k)
    for k, v in names.items():
        if v != st[k]:
            why.append("the metrics file at exit says %d where the stats file's %s says %d"
                       % (v, k, st[k]))
    return len(names)


def watch_file(path, stop, seen):
    """Read the file over and over: each read must parse whole."""
    while not stop.is_set():
        try:
            with open(path) as fp:
                text = fp.read()
            st = os.stat(path)
        except FileNotFoundError:
            seen["missing"] += 1
            continue
        try:
            parse(text, "metrics file")
            seen["reads"] += 1
            seen["inodes"].add(st.st_ino)
        except Fail as e:
            seen["bad"].append(str(e))
        time.sleep(0.002)


def bad_args(args, d, why):
    """Arguments espgw must refuse: exit 1, a message on stderr."""
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    cases = [(["--metrics", "localhost:9710"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "127.0.0.1"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "::1:9710"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "[::1]9710"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "127.0.0.1:65536"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "127.0.0.1:"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "256.0.0.1:9710"], r"--metrics wants ADDR:PORT"),
             (["--metrics", "127.0.0.1:%d" % port], r"--metrics 127\.0\.0\.1:%d: Address "
              r"already in use" % port),
             (["--metrics", "192.0.2.77:9710"], r"Cannot assign requested address"),
             (["--metrics-interval", "0"], r"--metrics-interval wants seconds"),
             (["--metrics-interval", "10s"], r"--metrics-interval wants seconds"),
             (["--metrics-interval", "5"], r"--metrics-interval needs --metrics-file"),
             (["--metrics-file", os.path.join(d, "no", "such", "dir.prom")],
              r"cannot write .*dir\.prom: No such file or directory")]
    try:
        for i, (opts, msg) in enumerate(cases):
            sock = os.path.join(d, "bad%d.sock" % i)
            cmd = [args.espgw] + eal("metricsbad%d_%d" % (os.getpid(), i), ["net_null0"]) + \
                ["--", "--socket", sock] + opts
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            shutil.rmtree("/var/run/dpdk/metricsbad%d_%d" % (os.getpid(), i), ignore_errors=True)
            if p.returncode != 1 or not re.search(msg, p.stderr):
                why.append("espgw %s: exit %d, stderr %r; want 1 and /%s/"
                           % (" ".join(opts), p.returncode, p.stderr[-300:], msg))
            elif gwproc.SANITIZER.search(p.stderr):
                why.append("espgw %s: sanitizer report" % " ".join(opts))
            else:
                print("# refused: %s: %s" % (" ".join(opts),
                                             [l for l in p.stderr.splitlines()
                                              if re.search(msg, l)][0]), flush=True)
    finally:
        busy.close()


# a port whose name needs escaping in a label value (DPDK takes any
# name after the driver's prefix; the config quotes it as a shell would)
ODD_PORT = 'net_null"q\\b'


def second_instance(args, d, why):
    """An IPv6 listener, [::1]:0 (127.0.0.1:0 where the host has no ::1),
    and a port named net_null"q\\b: its label value escaped."""
    addr = "[::1]:0"
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError as e:
        print("# skipped the IPv6 listener: no ::1 here (%s)" % e)
        addr = "127.0.0.1:0"
    conf = os.path.join(d, "odd.conf")
    with open(conf, "w") as fp:
        fp.write("ip link set dev '%s' up\n" % ODD_PORT)
    gw = Espgw(args.espgw, d, "v6", [ODD_PORT + ",no-rx=1"],
               ["-f", conf, "--socket", os.path.join(d, "v6.sock"), "--metrics", addr])
    try:
        gw.wait_running()
        if gw.url is None or (addr.startswith("[") and gw.url[0] != "::1"):
            raise Fail("espgw --metrics %s printed no such URL: %r" % (addr, gw.stdout()))
        m = gw.scrape()
        if m.get("espgw_states") != 0:
            why.append("scrape of an espgw without states: espgw_states %d"
                       % m.get("espgw_states"))
        m.get("espgw_port_rx_packets_total", port=ODD_PORT, port_id=0)
        esc = 'port="net_null\\"q\\\\b"'
        if esc not in m.text:
            why.append("port %s not escaped as %s" % (ODD_PORT, esc))
        print("# %s: %d samples from %s:%d, %s" % (addr, len(m.samples), gw.url[0], gw.url[1],
                                                  esc), flush=True)
    except Fail as e:
        why.append(str(e))
    finally:
        gw.stop(why)


def run(args):
    d = args.keep or tempfile.mkdtemp(prefix="metrics")
    os.makedirs(d, exist_ok=True)
    prom_dir = os.path.join(d, "textfile")
    os.makedirs(prom_dir, exist_ok=True)
    lan, wan = os.path.join(d, "lan.pcap"), os.path.join(d, "wan.pcap")
    conf, sock = os.path.join(d, "gw.conf"), os.path.join(d, "ctl.sock")
    stats_path, prom = os.path.join(d, "stats"), os.path.join(prom_dir, "espgw.prom")
    write_pcap(lan, clear_frames())
    write_pcap(wan, esp_frames())
    with open(conf, "w") as fp:
        fp.write(CONFIG)
    why = []
    texts = []
    parser_selftest()
    bad_args(args, d, why)
    second_instance(args, d, why)

    gw = Espgw(args.espgw, d, "main",
               ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (lan, os.path.join(d, "lan-out.pcap")),
                "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (wan, os.path.join(d, "wan-out.pcap"))],
               ["-f", conf, "-s", stats_path, "--socket", sock, "--metrics", "127.0.0.1:0",
                "--metrics-file", prom, "--metrics-interval", "1"])
    stop = threading.Event()
    seen = {"reads": 0, "missing": 0, "bad": [], "inodes": set()}
    watcher = None
    try:
        gw.wait_running()
        if gw.url is None:
            raise Fail("espgw printed no 'metrics on' line: %r" % gw.stdout())
        # the first file is written before espgw says it runs
        if not os.path.exists(prom):
            raise Fail("no %s at start" % prom)
        watcher = threading.Thread(target=watch_file, args=(prom, stop, seen))
        watcher.start()
        # the pcap files are read once: wait for every packet
        t0 = time.monotonic()
        while True:
            m = gw.scrape()
            texts.append(m.text)
            if m.get("espgw_rx_total") >= N_CLEAR + N_BAD_ICV + N_UNKNOWN:
                break
            if time.monotonic() - t0 > 30:
                raise Fail("espgw_rx_total %d after 30 s" % m.get("espgw_rx_total"))
            time.sleep(0.1)
        time.sleep(0.5)
        m = gw.scrape()
        texts.append(m.text)
        print("# scrape: %d families, %d samples, %d bytes"
              % (len(m.types), len(m.samples), len(m.text)), flush=True)
        check_traffic(m, why)
        # a state added at run time: its key must not show either
        ctl(args, sock, "xfrm", "state", "add", "src", "1.1.1.1", "dst", "4.4.4.4", "proto",
            "esp", "spi", "0x4004", "reqid", "4", "mode", "tunnel", "aead",
            "rfc4106(gcm(aes))", "0x" + KEYS[3], "128")
        m = gw.scrape()
        texts.append(m.text)
        check_against_listing(args, gw, sock, m, why)
        if m.get("espgw_commits_total") < 1:
            why.append("espgw_commits_total %d after a commit" % m.get("espgw_commits_total"))

        # the state with the drops goes: its counters move to gone
        before = m.get("espgw_drop_esp_in_total")
        ctl(args, sock, "xfrm", "state", "delete", "dst", "1.1.1.1", "proto", "esp", "spi",
            "0x%x" % IN_SPI)
        m = gw.scrape()
        texts.append(m.text)
        if m.find("espgw_sa_packets_total", spi="0x%08x" % IN_SPI):
            why.append("state 0x%x deleted, still in espgw_sa_packets_total" % IN_SPI)
        if m.get("espgw_sa_gone_drops_total", direction="in", reason="bad-icv") != N_BAD_ICV:
            why.append("espgw_sa_gone_drops_total{in,bad-icv} %d, want %d" % (
                m.get("espgw_sa_gone_drops_total", direction="in", reason="bad-icv"),
                N_BAD_ICV))
        if m.get("espgw_drop_esp_in_total") != before:
            why.append("espgw_drop_esp_in_total %d after the delete, %d before"
                       % (m.get("espgw_drop_esp_in_total"), before))
        check_against_listing(args, gw, sock, m, why)

        # SIGUSR1's print takes the control lock too (ethdev's stats
        # calls are not thread-safe): beside scrapes, both still answer.
        # One signal at a time: two pending at once are one print, as
        # signals are.
        for i in range(5):
            printed = gw.stdout().count("gateway:")
            gw.proc.send_signal(signal.SIGUSR1)
            texts.append(gw.scrape().text)
            t0 = time.monotonic()
            while gw.stdout().count("gateway:") == printed:
                if time.monotonic() - t0 > 10:
                    raise Fail("SIGUSR1 %d of 5: no print in 10 s" % (i + 1))
                time.sleep(0.05)

        # HTTP's answers
        host, port = gw.url
        for path in ("/", "/metricsx", "/metrics/", "/favicon.ico"):
            st, _h, _b = get(host, port, "GET", path)
            if st != 404:
                why.append("GET %s: %d, want 404" % (path, st))
        for meth in ("POST", "PUT", "DELETE"):
            st, hdr, _b = get(host, port, meth)
            if st != 405 or "GET" not in hdr.get("allow", ""):
                why.append("%s /metrics: %d, Allow %r; want 405 with GET"
                           % (meth, st, hdr.get("allow")))
        st, hdr, body = get(host, port, "HEAD")
        if st != 200 or body:
            why.append("HEAD /metrics: %d, %d bytes of body" % (st, len(body)))
        st, _h, body = get(host, port, "GET", "/metrics?name[]=espgw_rx_total")
        if st != 200:
            why.append("GET /metrics?query: %d" % st)

        # the file: at least two writes seen, each whole, by rename
        time.sleep(2.5)
        stop.set()
        watcher.join()
        watcher = None
        if seen["bad"]:
            why.append("a reader saw a broken metrics file: %s" % seen["bad"][:2])
        if seen["missing"]:
            why.append("the metrics file was missing %d times (not replaced by rename)"
                       % seen["missing"])
        if len(seen["inodes"]) < 2:
            why.append("the metrics file kept its inode: written in place, not renamed")
        mode = os.stat(prom).st_mode & 0o777
        if mode != 0o644:
            why.append("metrics file mode %o, want 644" % mode)
        with open(prom) as fp:
            fm = Metrics(fp.read(), "metrics file")
        texts.append(fm.text)
        if fm.get("espgw_rx_total") != m.get("espgw_rx_total") or \
                set(fm.types) != set(m.types):
            why.append("the metrics file and the scrape differ: rx %d and %d"
                       % (fm.get("espgw_rx_total"), m.get("espgw_rx_total")))
        print("# metrics file: %d reads whole, %d inodes" % (seen["reads"], len(seen["inodes"])),
              flush=True)
    except Fail as e:
        why.append(str(e))
    finally:
        if watcher is not None:
            stop.set()
            watcher.join()
        gw.stop(why)
    # at exit: the file written once more, after the workers stopped
    if os.path.exists(stats_path) and os.path.exists(prom):
        with open(prom) as fp:
            fm = Metrics(fp.read(), "metrics file at exit")
        texts.append(fm.text)
        n = check_against_stats_file(fm, read_stats(stats_path), why)
        print("# metrics file at exit: %d counters of the stats file matched" % n)
    else:
        why.append("no stats file or no metrics file after exit")
    left = [f for f in os.listdir(prom_dir) if f != "espgw.prom"]
    if left:
        why.append("left in the textfile directory: %s" % left)
    for i, t in enumerate(texts):
        no_keys("scrape/file %d" % i, t, why)
    for path in (gw.out_path, gw.err_path, stats_path, prom):
        if os.path.exists(path):
            with open(path, "rb") as fp:
                no_keys(path, fp.read(), why)
    if not args.keep and not why:
        shutil.rmtree(d, ignore_errors=True)
    elif why:
        print("# files kept in %s" % d)
    return why


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--espgw", required=True)
    ap.add_argument("--espgwctl", required=True)
    ap.add_argument("--keep", help="keep the run's files in this directory")
    args = ap.parse_args()
    return gwproc.report(run, args, Fail,
                         "metrics: Prometheus exposition, HTTP and textfile, against espgwctl and the stats file")


if __name__ == "__main__":
    sys.exit(main())
