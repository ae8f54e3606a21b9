#!/usr/bin/python3
"""espgw beside DPDK's ipsec-secgw and the raw cipher, in one run (issue 5).

Run as root with /usr/bin/python3 (python3-scapy, python3-cryptography,
python3-matplotlib; the last is installed with apt-get when missing):

    /usr/bin/python3 bench/run.py              # everything, ~10-15 min
    /usr/bin/python3 bench/run.py --quick      # 1 run a case, short windows
    /usr/bin/python3 bench/run.py -k encap-64 -k ceiling    # some cases only
    /usr/bin/python3 bench/run.py --profile    # also perf profiles (espgw, secgw)

What it does, all in one run:

* The same virtual ports for every gateway: port 0 = net_pcap0 with
  rx_pcap=<file>,infinite_rx=1 (the source; it copies each frame of its
  file into a fresh mbuf of the gateway's pool, round and round), port 1 =
  net_null0 with no-rx=1 (the sink). Traffic is made with scapy; both
  gateways read byte-identical pcap files for the same case.
* Cases: encap, decap and bypass (forwarding in the clear through a bypass
  policy: the cost of the ports and forwarding) of Ethernet frames of 64,
  512 and 1420 bytes and IMIX (7:4:1 of 64/570/1420) through one
  AES-128-GCM SA with a 16-byte ICV, for espgw and ipsec-secgw.  Sizes are
  Ethernet frames on the wire, FCS included (the pcap holds them without
  the 4-byte FCS): a frame of 64 bytes carries an inner IPv4 packet of 46
  bytes. The decap pcap holds
  those IP packets ESP-encapsulated (outer Ethernet + IPv4 + ESP).
* espgw runs with -l 0-1 (main lcore 0 sleeps, one worker on lcore 1),
  busy polling; ipsec-secgw (built from Debian's dpdk-doc sources, with one
  change so that it starts on vdevs) runs with -l 1: its main lcore is its
  only worker, on CPU 1 (with -l 0,1 it wants a TX queue per lcore, which
  net_pcap does not have), with a crypto_aesni_gcm vdev.
* Throughput = packets leaving the sink port per second (ethdev opackets
  over the telemetry socket) over a window after a warm-up; N runs a case,
  the cases interleaved round by round so slow phases of a shared machine
  hit every case alike; min / median / max.
* Loss accounting per run: source packets received vs sink packets sent in
  the window, imissed / rx_nombuf / oerrors, and espgw's own counters from
  --stats-file at exit (every drop counter by name).
* The ceiling: bench/imb_ceiling_cli, raw intel-ipsec-mb AES-128-GCM
  encrypt / decrypt calls per second on CPU 1 at the lengths GCM processes
  for each frame size.
* Scale: espgw encap and decap of 64-byte frames with 1, 1,000 and 100,000
  SAs and 10, 1,000 and 10,000 policies; 1 and 2 workers.
* Before measuring, a functional check: each gateway is fed the IMIX pcap
  once (no infinite_rx) into a net_pcap sink and every output frame is
  checked with scapy (decrypted with the SA's key where it is ESP).

Writes bench/results/latest.md (+ latest.json, latest.png) and prints the
tables.  Exits non-zero when a gateway fails to start, to forward or to
produce correct output; missed performance targets are reported, not
failures.  Work files (secgw build, pcaps, configs, logs) live under
build/secgw and build/bench-run.
"""

import argparse
import datetime
import fnmatch
import glob
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
WORK = os.path.join(BUILD, "bench-run")
SECGW_DIR = os.path.join(BUILD, "secgw")
SECGW_SRC = "/usr/share/dpdk/examples/ipsec-secgw"
RESULTS = os.path.join(ROOT, "bench", "results")
ESPGW = os.path.join(BUILD, "app", "espgw")
CEIL_CLI = os.path.join(BUILD, "bench", "imb_ceiling_cli")
SECGW = os.path.join(SECGW_DIR, "src", "ipsec-secgw", "build", "ipsec-secgw")

WORKER_CPU = 1

# --- addresses and keys --------------------------------------------------------
SRC_MAC = "02:70:63:61:70:00"    # net_pcap0: the first pcap vdev of a process
PEER_MAC = "02:00:00:00:01:fe"
LAN_HOST_MAC = "02:00:00:00:00:0a"
KEY_OUT = bytes(range(1, 21))            # AES-128 key + salt, SA out (encap)
KEY_IN = bytes(range(0x21, 0x35))        # SA in (decap)
SPI_OUT, SPI_IN = 0x1000, 0x2000
GW_WAN, PEER_WAN = "1.1.1.1", "2.2.2.2"
INNER_SRC, INNER_DST = "10.0.1.10", "10.0.2.10"

SIZES = ["64", "512", "1420", "imix"]
IMIX_PATTERN = [64, 570, 64, 64, 570, 64, 1420, 64, 570, 64, 570, 64]  # 7:4:1
assert sorted(IMIX_PATTERN) == sorted([64] * 7 + [570] * 4 + [1420])
MAIN_PKTS = 252          # frames in a main-case pcap (21 IMIX cycles)
SCALE_PKTS = 8192        # frames in a scale pcap: distinct SAs the traffic can hit
# The pcap PMD keeps its whole file in mbufs of the gateway's own pool
# (espgw: ~12,400 mbufs with one worker), which bounds SCALE_PKTS.

# Targets of issue 5.
RATIO_TARGET = {"64": 1.4, "1420": 1.2, "imix": 1.3}
COST_TARGET = {"64": 1.5, "1420": 1.2}
SCALE_TARGET = 0.75
SCALE_ROWS = [(1, 10), (1000, 10), (100000, 10), (1, 1000), (1, 10000),
              (1000, 1000), (100000, 10000)]


class Fail(Exception):
    """A gateway or a step of the benchmark failed: exit non-zero."""


def log(msg):
    print(msg, flush=True)


def frame_lens(size):
    return IMIX_PATTERN if size == "imix" else [int(size)]


def avg_frame(size):
    lens = frame_lens(size)
    return sum(lens) / len(lens)


FCS = 4   # sizes are frames on the wire, FCS included; pcaps hold them without it


def esp_ct_len(frame_len):
    """Bytes GCM encrypts for an inner packet of this frame: IP + pad + 2."""
    ip = frame_len - 14 - FCS
    return ip + (-(ip + 2) & 3) + 2


# --- environment ---------------------------------------------------------------

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw).stdout


def ensure_python_modules():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("installing python3-matplotlib (apt-get)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq python3-matplotlib",
                       shell=True, check=False, stdout=subprocess.DEVNULL)
    try:
        import scapy  # noqa: F401
        import cryptography  # noqa: F401
    except ImportError:
        log("installing python3-scapy python3-cryptography (apt-get)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq "
                       "python3-scapy python3-cryptography", shell=True,
                       check=False, stdout=subprocess.DEVNULL)
        import scapy  # noqa: F401


def setup_hugepages(want=1024):
    """2 MB hugepages on a mounted hugetlbfs, set up when root. Returns
    (True, note) or (False, why not)."""
    nr_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    free_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
    try:
        mounted = any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts"))
        if os.geteuid() == 0:
            if int(open(nr_path).read()) < want:
                with open(nr_path, "w") as fp:
                    fp.write(str(want))
            if not mounted:
                os.makedirs("/dev/hugepages", exist_ok=True)
                subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"],
                               check=True)
                mounted = True
        free = int(open(free_path).read())
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        return False, "hugepage set-up failed (%s)" % e
    if not mounted:
        return False, "no hugetlbfs mounted (not root?)"
    if free < 512:
        return False, "only %d free 2 MB hugepages" % free
    return True, "%d x 2 MB hugepages free of %s" % (free, open(nr_path).read().strip())


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def lscpu_summary():
    try:
        out = sh(["lscpu"])
    except (OSError, subprocess.CalledProcessError):
        return ""
    keep = ("Model name", "CPU(s)", "Hypervisor vendor", "L2 cache", "L3 cache",
            "CPU max MHz")
    lines = [l.strip() for l in out.splitlines() if l.split(":")[0].strip() in keep]
    return "; ".join(" ".join(l.split()) for l in lines)


def git_state():
    try:
        rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
        dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--", "app", "lib",
                    "meson.build"]).split("\n")
        dirty = [d[3:] for d in dirty if d.strip()]
    except (OSError, subprocess.CalledProcessError):
        return "unknown", []
    return rev, dirty


def build_espgw(binary=None):
    """Build, then measure a copy of the binary: a rebuild of build/ during
    the run (someone else working in the tree) cannot swap it mid-run."""
    global ESPGW
    log("building espgw and bench/ (ninja -C build)")
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        sh(["meson", "setup", BUILD], cwd=ROOT)
    sh(["ninja", "-C", BUILD])
    src = binary or ESPGW
    for p in (src, CEIL_CLI):
        if not os.access(p, os.X_OK):
            raise Fail("%s was not built" % p)
    os.makedirs(os.path.join(WORK, "bin"), exist_ok=True)
    ESPGW = os.path.join(WORK, "bin", "espgw")
    shutil.copy2(src, ESPGW + ".tmp")
    os.replace(ESPGW + ".tmp", ESPGW)
    return hashlib.sha256(open(ESPGW, "rb").read()).hexdigest()[:12]


SECGW_ANCHOR = "\tlocal_port_conf.txmode.offloads |= req_tx_offloads;\n"
SECGW_PATCH = SECGW_ANCHOR + """
\t/* espgw bench: drop the default RX checksum offload, which vdevs
\t * (net_pcap, net_null) lack and the app never uses. */
\tif ((dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) !=
\t\t\tRTE_ETH_RX_OFFLOAD_CHECKSUM) {
\t\tprintf("port %u: dropping unsupported default RX checksum offload\\n",
\t\t\tportid);
\t\tlocal_port_conf.rxmode.offloads &= ~(RTE_ETH_RX_OFFLOAD_CHECKSUM &
\t\t\t~dev_info.rx_offload_capa);
\t}
"""


def build_secgw():
    """Copy dpdk-doc's ipsec-secgw sources to build/secgw/src, patch, make."""
    if not os.path.isdir(SECGW_SRC):
        log("installing dpdk-doc (ipsec-secgw sources)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq dpdk-doc",
                       shell=True, check=False, stdout=subprocess.DEVNULL)
    if not os.path.isfile(os.path.join(SECGW_SRC, "ipsec-secgw.c")):
        raise Fail("no ipsec-secgw sources under %s (package dpdk-doc)" % SECGW_SRC)
    h = hashlib.sha256(SECGW_PATCH.encode())
    for f in sorted(glob.glob(os.path.join(SECGW_SRC, "*"))):
        if os.path.isfile(f):
            h.update(open(f, "rb").read())
    h.update(sh(["pkg-config", "--modversion", "libdpdk"]).encode())
    stamp = os.path.join(SECGW_DIR, "stamp")
    if (os.path.exists(stamp) and open(stamp).read() == h.hexdigest()
            and os.access(SECGW, os.X_OK)):
        return
    log("building ipsec-secgw from %s (patched: no RX checksum offload on vdevs)"
        % SECGW_SRC)
    src = os.path.join(SECGW_DIR, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    shutil.copytree(SECGW_SRC, os.path.join(src, "ipsec-secgw"))
    shutil.copytree(os.path.join(os.path.dirname(SECGW_SRC), "common"),
                    os.path.join(src, "common"))
    c = os.path.join(src, "ipsec-secgw", "ipsec-secgw.c")
    text = open(c).read()
    if text.count(SECGW_ANCHOR) != 1:
        raise Fail("cannot apply the vdev patch to %s: anchor line not found once" % c)
    with open(c, "w") as fp:
        fp.write(text.replace(SECGW_ANCHOR, SECGW_PATCH))
    with open(os.path.join(SECGW_DIR, "make.log"), "w") as fp:
        r = subprocess.run(["make", "-j%d" % (os.cpu_count() or 1)],
                           cwd=os.path.join(src, "ipsec-secgw"), stdout=fp,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0 or not os.access(SECGW, os.X_OK):
        raise Fail("ipsec-secgw build failed, see %s/make.log" % SECGW_DIR)
    with open(stamp, "w") as fp:
        fp.write(h.hexdigest())


# --- traffic (scapy) -----------------------------------------------------------

def scapy_mods():
    from scapy.all import Ether, IP, UDP, Raw, wrpcap, rdpcap  # noqa
    from scapy.layers.ipsec import SecurityAssociation, ESP
    return dict(Ether=Ether, IP=IP, UDP=UDP, Raw=Raw, wrpcap=wrpcap, rdpcap=rdpcap,
                SA=SecurityAssociation, ESP=ESP)


def inner_ip(S, flen, dst=INNER_DST, sport=1024):
    """An inner IPv4/UDP packet for an Ethernet frame of flen bytes (FCS
    included: 64 -> 46-byte IP packet)."""
    p = S["IP"](src=INNER_SRC, dst=dst, ttl=64, id=sport) / S["UDP"](sport=sport, dport=5001)
    pad = flen - 14 - FCS - len(p)
    assert pad >= 0
    return S["IP"](bytes(p / S["Raw"](bytes((i * 7 + sport) & 0xff for i in range(pad)))))


def esp_sa(S, spi, key, src, dst):
    return S["SA"](S["ESP"], spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                   tunnel_header=S["IP"](src=src, dst=dst))


def make_pcaps(S, kind, size, n, path, scale_nsa=None, hit=1):
    """kind 'plain': Ether + inner IP; 'esp': Ether + outer IP + ESP(inner).
    With scale_nsa, frame k goes to destination / SA j = (k % hit) * nsa // hit
    of the scale configurations."""
    lens = frame_lens(size)
    frames = []
    sas = {}
    for k in range(n):
        flen = lens[k % len(lens)]
        j = None if scale_nsa is None else (k % hit) * scale_nsa // hit
        dst = INNER_DST if j is None else scale_inner_dst(j)
        ip = inner_ip(S, flen, dst=dst, sport=1024 + (k % 64))
        if kind == "plain":
            f = S["Ether"](dst=SRC_MAC, src=LAN_HOST_MAC) / ip
        else:
            sa = sas.get(j)
            if sa is None:
                sa = sas[j] = (esp_sa(S, SPI_IN, KEY_IN, PEER_WAN, GW_WAN) if j is None
                               else esp_sa(S, scale_spi(j), scale_key(j), scale_peer(j),
                                           GW_WAN))
            seq = k + 1
            e = sa.encrypt(ip, seq_num=seq, iv=struct.pack("!Q", 0x5eed000000000000 + seq))
            f = S["Ether"](dst=SRC_MAC, src=PEER_MAC) / e
        frames.append(f)
    tmp = path + ".tmp"
    S["wrpcap"](tmp, frames)
    os.replace(tmp, path)


def traffic(S, kind, size, n=MAIN_PKTS, scale_nsa=None, hit=1):
    """Path of a cached pcap; made when missing."""
    d = os.path.join(WORK, "pcap")
    os.makedirs(d, exist_ok=True)
    tag = "%s-%s-n%d" % (kind, size, n)
    if scale_nsa is not None:
        tag += "-scale-sa%d-hit%d" % (scale_nsa, hit)
    path = os.path.join(d, tag + ".pcap")
    if not os.path.exists(path):
        log("  making %s" % os.path.basename(path))
        make_pcaps(S, kind, size, n, path, scale_nsa, hit)
    return path


# --- gateway configurations ----------------------------------------------------

def hexkey(k):
    return "0x" + k.hex()


def colonkey(k):
    return ":".join("%02x" % b for b in k)


def scale_inner_dst(j):
    v = (10 << 24) | (64 << 16) | j            # 10.64.0.0/10
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def scale_peer(j):
    v = (3 << 24) | j                          # tunnel peers in 3.0.0.0/8
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def scale_spi(j):
    return 0x10000 + j


def scale_key(j):
    return hashlib.sha256(b"espgw-bench-%d" % j).digest()[:20]


ESPGW_ENCAP_BASE = """\
# espgw bench, {what}: port0 = source (LAN), port1 = sink (WAN)
link set dev port0 up
link set dev port1 up
addr add 10.0.1.1/24 dev port0
addr add {gw}/24 dev port1
route add default via 1.1.1.254 dev port1
route add 10.0.2.0/24 via 1.1.1.254 dev port1 src 10.0.1.1
neigh add 1.1.1.254 lladdr {peer_mac} dev port1 nud permanent
"""

ESPGW_DECAP_BASE = """\
# espgw bench, {what}: port0 = source (WAN), port1 = sink (LAN side)
link set dev port0 up
link set dev port1 up
addr add {gw}/24 dev port0
addr add 192.168.100.1/24 dev port1
route add default via 1.1.1.254 dev port0
route add 10.0.2.0/24 via 192.168.100.254 dev port1
route add 10.64.0.0/10 via 192.168.100.254 dev port1
neigh add 1.1.1.254 lladdr {peer_mac} dev port0 nud permanent
neigh add 192.168.100.254 lladdr {lan_mac} dev port1 nud permanent
"""

SA_LINE = ("xfrm state add src {src} dst {dst} proto esp spi {spi:#x} reqid {reqid} "
           "mode tunnel aead 'rfc4106(gcm(aes))' {key} 128\n")


def espgw_main_conf(direction):
    """One SA each way and the policies of both directions (like
    config/r1.conf); the traffic of `direction` uses one SA and one policy."""
    kw = dict(gw=GW_WAN, peer_mac=PEER_MAC, lan_mac=LAN_HOST_MAC, what=direction)
    sa = (SA_LINE.format(src=GW_WAN, dst=PEER_WAN, spi=SPI_OUT, reqid=1, key=hexkey(KEY_OUT)) +
          SA_LINE.format(src=PEER_WAN, dst=GW_WAN, spi=SPI_IN, reqid=2, key=hexkey(KEY_IN)))
    if direction in ("encap", "bypass"):
        c = ESPGW_ENCAP_BASE.format(**kw) + sa
        if direction == "encap":
            c += ("xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out "
                  "tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel\n")
        else:
            c += "xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out action allow\n"
        c += ("xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd "
              "tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel\n"
              "xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in "
              "tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel\n")
    else:
        c = ESPGW_DECAP_BASE.format(**kw) + sa
        c += ("xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir fwd "
              "tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel\n"
              "xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir out "
              "tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel\n")
    return c


def filler_policies(n, start=0):
    """n policies (alternately out and fwd) that no benchmark packet matches."""
    out = []
    for i in range(start, start + n):
        a = "172.%d.%d.%d" % (16 + (i >> 16) % 16, (i >> 8) & 255, i & 255)
        b = "172.%d.%d.%d" % (32 + (i >> 16) % 16, (i >> 8) & 255, i & 255)
        d = "out" if i % 2 == 0 else "fwd"
        out.append("xfrm policy add src %s dst %s proto udp dport %d dir %s "
                   "priority 10 action allow\n" % (a, b, 1 + i % 60000, d))
    return "".join(out)


def scale_hits(direction, nsa, npol):
    """How many distinct SAs the traffic of a scale row hits."""
    if direction == "encap":
        return min(nsa, npol, SCALE_PKTS)
    return min(nsa, SCALE_PKTS)


def espgw_scale_conf(direction, nsa, npol):
    kw = dict(gw=GW_WAN, peer_mac=PEER_MAC, lan_mac=LAN_HOST_MAC,
              what="scale %s: %d SAs, %d policies" % (direction, nsa, npol))
    parts = []
    if direction == "encap":
        parts.append(ESPGW_ENCAP_BASE.format(**kw))
        parts.append("route add 3.0.0.0/8 via 1.1.1.254 dev port1\n")
        for j in range(nsa):
            parts.append(SA_LINE.format(src=GW_WAN, dst=scale_peer(j), spi=scale_spi(j),
                                        reqid=j + 1, key=hexkey(scale_key(j))))
        active = scale_hits("encap", nsa, npol)
        # the traffic of destination k goes to SA (k * nsa // active)
        for k in range(active):
            j = k * nsa // active
            parts.append("xfrm policy add src 10.0.1.0/24 dst %s dir out priority 100 "
                         "tmpl src %s dst %s proto esp reqid %d mode tunnel\n"
                         % (scale_inner_dst(j), GW_WAN, scale_peer(j), j + 1))
        parts.append(filler_policies(npol - active))
    else:
        parts.append(ESPGW_DECAP_BASE.format(**kw))
        for j in range(nsa):
            parts.append(SA_LINE.format(src=scale_peer(j), dst=GW_WAN, spi=scale_spi(j),
                                        reqid=j + 1, key=hexkey(scale_key(j))))
        # one fwd policy takes whatever any of the SAs decrypted
        parts.append("xfrm policy add src 10.0.1.0/24 dst 10.64.0.0/10 dir fwd "
                     "priority 100 tmpl proto esp mode tunnel\n")
        parts.append(filler_policies(npol - 1))
    return "".join(parts)


SECGW_CONF = """\
# ipsec-secgw bench, {what}: port 0 = source, port 1 = sink; -u {umask}
{sp}
sa out {spi_out} aead_algo aes-128-gcm aead_key {key_out} mode ipv4-tunnel src {gw} dst {peer}
sa in {spi_in} aead_algo aes-128-gcm aead_key {key_in} mode ipv4-tunnel src {peer} dst {gw}
rt ipv4 dst {peer}/32 port 1
rt ipv4 dst 10.0.2.0/24 port 1
"""


def secgw_conf(direction):
    """The same SAs and policies as espgw's: returns (text, unprotected mask)."""
    any_ports = "sport 0:65535 dport 0:65535"
    if direction == "encap":
        sp = ("sp ipv4 out esp protect %d pri 1 dst 10.0.2.0/24 %s\n"
              "sp ipv4 in esp protect %d pri 1 dst 10.0.1.0/24 %s" %
              (SPI_OUT, any_ports, SPI_IN, any_ports))
        umask = "0x2"
    elif direction == "bypass":
        sp = ("sp ipv4 out esp bypass pri 1 dst 10.0.2.0/24 %s\n"
              "sp ipv4 in esp protect %d pri 1 dst 10.0.1.0/24 %s" %
              (any_ports, SPI_IN, any_ports))
        umask = "0x2"
    else:
        sp = ("sp ipv4 in esp protect %d pri 1 dst 10.0.2.0/24 %s\n"
              "sp ipv4 out esp protect %d pri 1 dst 10.0.1.0/24 %s" %
              (SPI_IN, any_ports, SPI_OUT, any_ports))
        umask = "0x1"
    return SECGW_CONF.format(what=direction, umask=umask, sp=sp, spi_out=SPI_OUT,
                             spi_in=SPI_IN, key_out=colonkey(KEY_OUT),
                             key_in=colonkey(KEY_IN), gw=GW_WAN, peer=PEER_WAN), umask


def write_conf(name, text):
    d = os.path.join(WORK, "conf")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as fp:
            fp.write(text)
    return path


# --- running a gateway ---------------------------------------------------------

class Telemetry:
    """DPDK's telemetry socket (/var/run/dpdk/<prefix>/dpdk_telemetry.v2)."""

    def __init__(self, prefix, proc, timeout):
        path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise Fail("exited with %d before its telemetry socket appeared"
                           % proc.returncode)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Fail("no telemetry socket %s within %ds" % (path, timeout))
                time.sleep(0.05)
        self.s = s
        self.s.settimeout(5)
        json.loads(self.s.recv(65536).decode())

    def cmd(self, c):
        self.s.send(c.encode())
        return json.loads(self.s.recv(1 << 20).decode())

    def stats(self, port):
        return self.cmd("/ethdev/stats,%d" % port)["/ethdev/stats"]

    def name(self, port):
        return self.cmd("/ethdev/info,%d" % port)["/ethdev/info"]["name"]

    def close(self):
        self.s.close()


def cpu_times():
    """{cpuN: (busy, steal)} in clock ticks from /proc/stat."""
    out = {}
    for line in open("/proc/stat"):
        if line.startswith("cpu") and line[3].isdigit():
            f = line.split()
            v = [int(x) for x in f[1:]]
            idle = v[3] + v[4]
            steal = v[7] if len(v) > 7 else 0
            out[f[0]] = (sum(v[:8]) - idle - steal, steal)
    return out


def thread_exec_ns(pid):
    """{tid: ns on a CPU} of a process's threads (schedstat: steal excluded)."""
    out = {}
    for d in glob.glob("/proc/%d/task/*" % pid):
        try:
            out[d.rsplit("/", 1)[1]] = int(open(d + "/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def proc_ticks(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except (OSError, IndexError, ValueError):
        return 0


class Run:
    pass


def eal_common(prefix, huge):
    a = ["--no-pci", "--file-prefix", prefix]
    # --in-memory: no hugepage files left behind; --no-huge -m implies
    # legacy memory, which --in-memory refuses: --no-shconf instead
    a += ["--in-memory"] if huge else ["--no-huge", "-m", "2048", "--no-shconf"]
    return a


def espgw_lcores(workers):
    if workers == 1:
        return ["-l", "0-1"]
    if (os.cpu_count() or 1) > workers:
        return ["-l", "0-%d" % workers]
    # 2 CPUs: lcore 0 (main, sleeps) and lcore 2 share CPU 0
    ncpu = os.cpu_count() or 1
    return ["--lcores", ",".join("%d@%d" % (i, i % ncpu) for i in range(workers + 1))]


class Case:
    def __init__(self, name, gw, direction, size, conf, pcaps, umask=None,
                 workers=1, group="main", meta=None):
        self.name, self.gw, self.direction, self.size = name, gw, direction, size
        self.conf, self.pcaps, self.umask, self.workers = conf, pcaps, umask, workers
        self.group = group
        self.meta = meta or {}
        self.runs = []
        self.dirty = []   # (pps, worker CPU share) of runs measured again

    def cmd(self, prefix, huge, sink=None, infinite=True, stats_file=None):
        src = "net_pcap0," + ",".join("rx_pcap=" + p for p in self.pcaps)
        if infinite:
            src += ",infinite_rx=1"
        sink = sink or "net_null0,no-rx=1"
        if self.gw == "espgw":
            c = [ESPGW] + espgw_lcores(self.workers) + eal_common(prefix, huge)
            c += ["--vdev", src, "--vdev", sink, "--", "-f", self.conf]
            if stats_file:
                c += ["-s", stats_file]
            return c
        c = [SECGW, "-l", str(WORKER_CPU)] + eal_common(prefix, huge)
        c += ["--vdev", src, "--vdev", sink, "--vdev", "crypto_aesni_gcm0", "--",
              "-p", "0x3", "-P", "-u", self.umask,
              "--config", "(0,0,%d),(1,0,%d)" % (WORKER_CPU, WORKER_CPU), "-f", self.conf]
        return c


_seq = [0]


def start(case, huge, tag, sink=None, infinite=True, stats_file=None):
    _seq[0] += 1
    prefix = "espgwbench%d_%d" % (os.getpid(), _seq[0])
    ldir = os.path.join(WORK, "logs")
    os.makedirs(ldir, exist_ok=True)
    base = os.path.join(ldir, "%s.%s" % (case.name, tag))
    cmd = case.cmd(prefix, huge, sink=sink, infinite=infinite, stats_file=stats_file)
    with open(base + ".cmd", "w") as fp:
        fp.write(" ".join(cmd) + "\n")
    out = open(base + ".log", "w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    out.close()
    return proc, prefix, base + ".log"


def cleanup_runtime(prefix):
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


def stop(proc, logpath, what, prefix=None):
    try:
        _stop(proc, logpath, what)
    finally:
        if prefix:
            cleanup_runtime(prefix)


def _stop(proc, logpath, what):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise Fail("%s did not stop on SIGINT within 30 s (log %s)" % (what, logpath))
    if proc.returncode != 0:
        raise Fail("%s exited with %d (log %s):\n%s" % (what, proc.returncode, logpath,
                                                       tail(logpath)))


def fail_run(proc, prefix, what, err, logpath):
    """Kill a run that went wrong and raise Fail saying how it ended."""
    time.sleep(0.2)
    rc = proc.poll()
    if rc is None:
        proc.kill()
        proc.wait()
    cleanup_runtime(prefix)
    how = ""
    if rc is not None and rc < 0:
        how = "; it died of signal %d (%s)" % (-rc, signal.Signals(-rc).name)
    elif rc is not None:
        how = "; it exited with %d" % rc
    raise Fail("%s: %s%s (log %s):\n%s" % (what, err, how, logpath, tail(logpath)))


def shrink_log(path, limit=1 << 20):
    """espgw prints every SA's counters at exit: keep a large log's ends."""
    try:
        if os.path.getsize(path) <= limit:
            return
        lines = open(path, errors="replace").readlines()
        with open(path, "w") as fp:
            fp.writelines(lines[:100])
            fp.write("... (%d lines cut by bench/run.py) ...\n" % (len(lines) - 150))
            fp.writelines(lines[-50:])
    except OSError:
        pass


def tail(path, n=15):
    try:
        return "".join(open(path, errors="replace").readlines()[-n:])
    except OSError:
        return ""


def read_stats_file(path):
    st = {}
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if len(f) == 2:
                st[f[0]] = int(f[1])
    return st


def espgw_drops(st):
    """Non-zero drop counters from an espgw stats file."""
    bad = {}
    for k, v in st.items():
        if not v:
            continue
        if (k.startswith("gw.drop-") or k.startswith("esp.") or
                (k.startswith("sa.") and not k.endswith((".packets", ".bytes")))):
            bad[k] = v
    return bad


def check_ports(tel, what):
    names = (tel.name(0), tel.name(1))
    if not names[0].startswith("net_pcap") or names[1] not in ("net_null0", "net_pcap1"):
        raise Fail("%s: unexpected ports %s (want port 0 = net_pcap0, port 1 = sink)"
                   % (what, names))


def measure(case, huge, warmup, window, tag, start_timeout):
    """One run: start, wait for traffic, warm up, measure a window, stop."""
    stats_file = os.path.join(WORK, "logs", "%s.%s.stats" % (case.name, tag))
    if os.path.exists(stats_file):
        os.remove(stats_file)
    proc, prefix, logpath = start(case, huge, tag,
                                  stats_file=stats_file if case.gw == "espgw" else None)
    what = "%s (%s)" % (case.name, case.gw)
    r = Run()
    try:
        tel = Telemetry(prefix, proc, start_timeout)
        check_ports(tel, what)
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] == 0:
            if proc.poll() is not None:
                raise Fail("%s exited with %d" % (what, proc.returncode))
            if time.monotonic() - t0 > 20:
                raise Fail("%s forwarded nothing within 20 s (log %s)" % (what, logpath))
            time.sleep(0.05)
        time.sleep(warmup)

        def snap():
            # sink, source, sink: the sink's count at the moment the source
            # was read is the mean of the two (telemetry reads are not atomic)
            a = time.monotonic()
            s1a = tel.stats(1)
            s0 = tel.stats(0)
            s1b = tel.stats(1)
            b = time.monotonic()
            s1 = dict(s1b)
            for k in ("opackets", "oerrors"):
                s1[k] = (s1a[k] + s1b[k]) / 2
            return (a + b) / 2, s0, s1, cpu_times(), proc_ticks(proc.pid)

        ea = thread_exec_ns(proc.pid)
        ta, a0, a1, ca, pa = snap()
        time.sleep(window)
        tb, b0, b1, cb, pb = snap()
        eb = thread_exec_ns(proc.pid)
        tel.close()
    except Exception as e:
        fail_run(proc, prefix, what, e, logpath)
    stop(proc, logpath, what, prefix)
    dt = tb - ta
    r.dt = dt
    r.pps = (b1["opackets"] - a1["opackets"]) / dt
    r.rx_pps = (b0["ipackets"] - a0["ipackets"]) / dt
    r.imissed = b0["imissed"] - a0["imissed"]
    r.rx_nombuf = b0["rx_nombuf"] - a0["rx_nombuf"]
    r.ierrors = b0["ierrors"] - a0["ierrors"]
    r.oerrors = b1["oerrors"] - a1["oerrors"]
    hz = os.sysconf("SC_CLK_TCK")
    busy = sum(cb[c][0] - ca[c][0] for c in cb)
    r.others_cpu = max(0.0, (busy - (pb - pa)) / hz / dt)   # CPUs used by others
    r.steal = {c: (cb[c][1] - ca[c][1]) / hz / dt for c in cb}
    # the busiest thread's share of the window: the worker (secgw -l 1: its
    # main thread); below 1 when something else ran on its CPU
    shares = sorted(((eb[t] - ea.get(t, 0)) / 1e9 / dt for t in eb), reverse=True)
    r.share = min(1.0, shares[0]) if shares else 0.0
    r.share2 = min(1.0, shares[1]) if len(shares) > 1 else 0.0
    r.stats = read_stats_file(stats_file) if case.gw == "espgw" else {}
    shrink_log(logpath)
    # a stats file has a line per SA counter (~40 MB with 100,000 SAs)
    if os.path.exists(stats_file) and os.path.getsize(stats_file) > (1 << 20):
        os.remove(stats_file)
    r.drops = espgw_drops(r.stats)
    if case.gw == "espgw" and not r.stats:
        raise Fail("%s wrote no --stats-file at exit (log %s)" % (what, logpath))
    if r.pps <= 0:
        raise Fail("%s forwarded nothing in the window (log %s)" % (what, logpath))
    return r


# --- functional check ------------------------------------------------------------

def verify(case, huge, S):
    """Feed the pcap once into a net_pcap sink; check every output frame."""
    out = os.path.join(WORK, "verify", case.name + ".pcap")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if os.path.exists(out):
        os.remove(out)
    sent = S["rdpcap"](case.pcaps[0])
    proc, prefix, logpath = start(case, huge, "verify", sink="net_pcap1,tx_pcap=" + out,
                                  infinite=False)
    what = "%s functional check" % case.name
    try:
        tel = Telemetry(prefix, proc, 60)
        check_ports(tel, what)
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] < len(sent):
            if time.monotonic() - t0 > 15:
                break
            time.sleep(0.05)
        time.sleep(0.2)
        tel.close()
    except Exception as e:
        fail_run(proc, prefix, what, e, logpath)
    stop(proc, logpath, what, prefix)
    got = S["rdpcap"](out) if os.path.exists(out) else []
    if len(got) != len(sent):
        raise Fail("%s: %d frames in, %d out (log %s)" % (what, len(sent), len(got), logpath))
    sa_out = esp_sa(S, SPI_OUT, KEY_OUT, GW_WAN, PEER_WAN)
    for i, (a, b) in enumerate(zip(sent, got)):
        b = S["Ether"](bytes(b))
        if case.direction == "encap":
            want = a[S["IP"]]
            o = b[S["IP"]]
            if (o.proto != 50 or o.src != GW_WAN or o.dst != PEER_WAN or
                    o[S["ESP"]].spi != SPI_OUT):
                raise Fail("%s: frame %d is not ESP from %s to %s with SPI %#x: %s"
                           % (what, i, GW_WAN, PEER_WAN, SPI_OUT, o.summary()))
            try:
                inner = sa_out.decrypt(S["IP"](bytes(o)))
            except Exception as e:
                raise Fail("%s: frame %d does not decrypt: %s" % (what, i, e))
        elif case.direction == "decap":
            want = sa_in_decrypt(S, a)
            inner = b[S["IP"]]
        else:
            want = a[S["IP"]]
            inner = b[S["IP"]]
        if not same_ip(S, want, inner):
            raise Fail("%s: frame %d differs:\n in  %s\n out %s"
                       % (what, i, bytes(want).hex(), bytes(inner).hex()))
    return len(got)


_sa_in = {}


def sa_in_decrypt(S, frame):
    sa = _sa_in.get(0) or _sa_in.setdefault(0, esp_sa(S, SPI_IN, KEY_IN, PEER_WAN, GW_WAN))
    return sa.decrypt(S["IP"](bytes(frame[S["IP"]])))


def same_ip(S, a, b):
    """Same IPv4 packet, but for TTL (a gateway may decrement it) and the
    header checksum that goes with it; the checksum must be valid."""
    a, b = bytes(a), bytes(b)
    if len(a) != len(b) or len(b) < 20:
        return False
    hl = (b[0] & 15) * 4
    s = sum(struct.unpack("!%dH" % (hl // 2), b[:hl]))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    if s != 0xffff:
        return False
    return a[:8] == b[:8] and a[9:10] == b[9:10] and a[12:] == b[12:] and b[8] in (a[8], a[8] - 1)


# --- the ceiling ---------------------------------------------------------------

def ceiling_once(seconds, min_share, retries):
    """One repetition of every length and direction on CPU 1; measured again
    when the program had less than min_share of its CPU (shared machine)."""
    lens = sorted({esp_ct_len(f) for s in SIZES for f in frame_lens(s)})
    cmd = ["taskset", "-c", str(WORKER_CPU), CEIL_CLI, "-s", str(seconds), "-r", "1"]
    cmd += [str(l) for l in lens]
    dirty = []
    for attempt in range(1 + retries):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        out, err = p.communicate()
        wall = time.monotonic() - t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = ru.ru_utime + ru.ru_stime - _child_cpu[0]
        _child_cpu[0] = ru.ru_utime + ru.ru_stime
        if p.returncode != 0:
            raise Fail("imb_ceiling_cli failed (%d): %s" % (p.returncode, err.strip()))
        share = min(1.0, used / wall) if wall > 0 else 0.0
        j = json.loads(out)
        if share >= min_share or attempt == retries:
            return j, share, dirty
        dirty.append(share)
        log("  ceiling had %.0f%% of its CPU: dirty, again" % (100 * share))


_child_cpu = [0.0]


def ceiling_merge(parts):
    """Repetitions measured one per round -> one result with lists."""
    j = dict(parts[0][0])
    j["reps"] = len(parts)
    j["shares"] = [sh for _, sh, _ in parts]
    j["dirty"] = [d for _, _, ds in parts for d in ds]
    res = {}
    for part, _, _ in parts:
        for x in part["results"]:
            r = res.setdefault(x["len"], {"len": x["len"], "api": x["api"], "enc": [],
                                          "dec": []})
            r["enc"] += x["enc"]
            r["dec"] += x["dec"]
    j["results"] = [res[k] for k in sorted(res)]
    j["by_len"] = res
    return j


def ceiling_pps(ceil, size, direction):
    """Raw cipher calls/s for a frame size (IMIX: time-weighted mix), per run."""
    key = "enc" if direction == "encap" else "dec"
    lens = frame_lens(size)
    reps = len(ceil["by_len"][esp_ct_len(lens[0])][key])
    out = []
    for k in range(reps):
        t = sum(1.0 / ceil["by_len"][esp_ct_len(f)][key][k] for f in lens) / len(lens)
        out.append(1.0 / t)
    return out


# --- profiling ------------------------------------------------------------------

def profile(case, huge, seconds, outdir):
    """perf record (cpu-clock) on the worker's CPU while the case runs."""
    if not shutil.which("perf"):
        raise Fail("perf is not installed (apt-get install linux-perf)")
    proc, prefix, logpath = start(case, huge, "perf")
    data = os.path.join(WORK, "perf-%s.data" % case.name)
    for f in (data, data + ".old"):
        if os.path.exists(f):
            os.remove(f)
    try:
        tel = Telemetry(prefix, proc, 60)
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] == 0:
            if time.monotonic() - t0 > 20:
                raise Fail("%s forwarded nothing" % case.name)
            time.sleep(0.05)
        time.sleep(1.0)
        a = tel.stats(1)["opackets"]
        ta = time.monotonic()
        subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "4999", "-g",
                        "-p", str(proc.pid), "-o", data, "--", "sleep", str(seconds)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        pps = (tel.stats(1)["opackets"] - a) / (time.monotonic() - ta)
        tel.close()
    except Exception as e:
        fail_run(proc, prefix, case.name + " (perf)", e, logpath)
    stop(proc, logpath, case.name + " (perf)", prefix)
    def report_(*extra):
        return subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio"] +
                              list(extra), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, universal_newlines=True).stdout

    def body(text):
        return [l.rstrip() for l in text.splitlines() if l.strip() and not l.startswith("#")]

    flat = body(report_("--sort", "dso,sym", "-g", "none",
                        "--percent-limit", "0.5"))
    by_dso = body(report_("--sort", "dso", "-g", "none"))
    callers = report_("--sort", "sym", "--percent-limit", "3",
                      "-g", "caller,0.5,callee,function,percent", "--max-stack", "8")
    lines = flat
    path = os.path.join(outdir, "profile-%s.txt" % case.name)
    with open(path, "w") as fp:
        fp.write("# %s: perf record -e cpu-clock -F 4999 -g -p <gateway pid> for %ss; "
                 "%.2f Mpps during the profile\n\n" % (case.name, seconds, pps / 1e6))
        fp.write("## by DSO\n\n" + "\n".join(by_dso) + "\n\n")
        fp.write("## flat (self time; DPDK's shared libraries are stripped, so their "
                 "samples show as addresses)\n\n" + "\n".join(flat) + "\n\n")
        fp.write("## call chains of the top symbols (frame pointers: partial)\n\n")
        fp.write("\n".join(l for l in callers.splitlines() if not l.startswith("#")))
    lines = by_dso[:6] + [""] + flat[:22]
    return path, lines[:25], pps


# --- statistics and output -----------------------------------------------------

def mmm(xs):
    return (min(xs), statistics.median(xs), max(xs)) if xs else (None, None, None)


def fmt_m(v, d=2):
    return "-" if v is None else ("%.*f" % (d, v))


def fmt_mmm(xs, scale=1e6, d=2):
    if not xs:
        return "-"
    lo, med, hi = mmm([x / scale for x in xs])
    return "%s / %s / %s" % (fmt_m(lo, d), fmt_m(med, d), fmt_m(hi, d))


def med(xs):
    return statistics.median(xs) if xs else None


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def verdict(ok):
    return "yes" if ok else "**NO**"


def report(cases, ceil, env, args, profiles):
    by = {c.name: c for c in cases}

    def pps(name):
        c = by.get(name)
        return [r.pps for r in c.runs] if c else []

    lines = []
    lines.append("# espgw vs ipsec-secgw vs the raw cipher (bench/run.py)\n")
    lines.append("- date: %s" % env["date"])
    lines.append("- CPU: %s (%s)" % (env["cpu"], env["lscpu"]))
    lines.append("- kernel %s; DPDK %s; intel-ipsec-mb %s (%s code path)" %
                 (env["kernel"], env["dpdk"], ceil["imb_version"] if ceil else "?",
                  ceil["arch"] if ceil else "?"))
    lines.append("- memory: %s" % env["huge"])
    lines.append("- espgw: git %s%s; binary %s" % (
        env["git"], (" + uncommitted changes in " + ", ".join(env["dirty"]))
        if env["dirty"] else "", env["espgw_bin"]))
    lines.append("- ipsec-secgw: %s built against the installed DPDK with the vdev "
                 "patch (RX checksum offload dropped); legacy (default) path, "
                 "crypto_aesni_gcm lookaside vdev, no replay window" % SECGW_SRC)
    lines.append("- ports: source net_pcap0 (rx_pcap, infinite_rx=1), sink net_null0 "
                 "(no-rx=1); espgw -l 0-1 (worker on CPU %d, busy polling), "
                 "ipsec-secgw -l %d; both with %s" % (WORKER_CPU, WORKER_CPU,
                                       "--in-memory" if "hugepages" in env["huge"][:10]
                                       else "--no-huge -m 2048 --no-shconf"))
    lines.append("- method: %d run(s) a case, cases interleaved round by round; %.1f s "
                 "warm-up, %.1f s window; Mpps = sink opackets / window (telemetry); "
                 "Gbit/s = Mpps x plaintext frame bits (frame size with FCS, no preamble or gap); "
                 "values are min / median / max" % (args.runs, args.warmup, args.window))
    lines.append("- noise: other helpers shared this 2-CPU VM and its host during the "
                 "run; 'others' = CPUs used by other processes during the windows "
                 "(max over runs), 'steal' = hypervisor steal on CPU %d (max). "
                 "Compare ratios within this run, not absolute numbers across runs."
                 % WORKER_CPU)
    lines.append("")

    # main table
    rows = []
    summary = []
    for d in ("encap", "decap", "bypass"):
        for s in SIZES:
            e, g = pps("espgw-%s-%s" % (d, s)), pps("secgw-%s-%s" % (d, s))
            if not e and not g:
                continue
            ratio = med(e) / med(g) if e and g else None
            tgt = RATIO_TARGET.get(s) if d != "bypass" else None
            ok = "" if tgt is None or ratio is None else verdict(ratio >= tgt)
            cl = ""
            if ceil and d != "bypass":
                cp = ceiling_pps(ceil, s, d)
                cl = "%.2f" % (med(cp) / 1e6)
            gbit = lambda xs: "-" if not xs else "%.1f" % (med(xs) * avg_frame(s) * 8 / 1e9)  # noqa
            rows.append([d, s, fmt_mmm(e), gbit(e), fmt_mmm(g), gbit(g),
                         "-" if ratio is None else "%.2f" % ratio,
                         "" if tgt is None else "≥ %.1f" % tgt, ok, cl])
            if tgt is not None and ratio is not None:
                summary.append(("espgw/secgw %s %s" % (d, s), "%.2f" % ratio,
                                "≥ %.1f" % tgt, ratio >= tgt))
    lines.append("## Throughput, one worker core\n")
    lines.append(md_table(["dir", "frame B", "espgw Mpps", "espgw Gbit/s",
                           "secgw Mpps", "secgw Gbit/s", "espgw/secgw (median)",
                           "target", "met", "raw cipher Mops"], rows))
    lines.append("\nraw cipher Mops = intel-ipsec-mb direct AES-128-GCM calls per second "
                 "on CPU %d at the length GCM processes for that frame (IMIX: the 7:4:1 "
                 "mix of call times): the ceiling, with no packet I/O at all." % WORKER_CPU)
    lines.append("")

    # IPsec cost
    rows = []
    for d in ("encap", "decap"):
        for s in SIZES:
            e, b = pps("espgw-%s-%s" % (d, s)), pps("espgw-bypass-%s" % s)
            ge, gb = pps("secgw-%s-%s" % (d, s)), pps("secgw-bypass-%s" % s)
            if not e or not b:
                continue
            cost = (1 / med(e) - 1 / med(b)) * 1e9
            gcost = (1 / med(ge) - 1 / med(gb)) * 1e9 if ge and gb else None
            raw = None
            if ceil:
                raw = 1e9 / med(ceiling_pps(ceil, s, d))
            rel = cost / raw if raw else None
            tgt = COST_TARGET.get(s)
            rows.append([d, s, "%.1f" % (1e9 / med(e)), "%.1f" % (1e9 / med(b)),
                         "%.1f" % cost, "-" if gcost is None else "%.1f" % gcost,
                         "-" if raw is None else "%.1f" % raw,
                         "-" if rel is None else "%.2f" % rel,
                         "" if tgt is None else "≤ %.1f" % tgt,
                         "" if tgt is None or rel is None else verdict(rel <= tgt)])
            if tgt is not None and rel is not None:
                summary.append(("IPsec cost / raw cipher %s %s" % (d, s), "%.2f" % rel,
                                "≤ %.1f" % tgt, rel <= tgt))
    if rows:
        lines.append("## IPsec cost per packet (ns, medians)\n")
        lines.append(md_table(["dir", "frame B", "espgw ns/pkt", "espgw bypass ns/pkt",
                               "espgw IPsec cost", "secgw IPsec cost",
                               "raw cipher ns/op", "espgw cost / raw", "target", "met"],
                              rows))
        lines.append("\nIPsec cost = 1/pps(case) - 1/pps(bypass of the same frames); raw "
                     "cipher ns/op = 1 / (raw calls per second) at that frame's GCM length "
                     "(64 B frame: %d B, 1420 B frame: %d B)." % (esp_ct_len(64),
                                                                    esp_ct_len(1420)))
        lines.append("")

    # scale
    rows = []
    base = {}
    for d in ("encap", "decap"):
        c = by.get("espgw-scale-%s-sa1-pol10" % d)
        if c and c.runs:
            base[d] = med([r.pps for r in c.runs])
    for nsa, npol in SCALE_ROWS:
        row = ["{:,}".format(nsa), "{:,}".format(npol)]
        anyrun = False
        for d in ("encap", "decap"):
            c = by.get("espgw-scale-%s-sa%d-pol%d" % (d, nsa, npol))
            if c and c.runs:
                anyrun = True
                m = med([r.pps for r in c.runs])
                rel = m / base[d] if d in base else None
                row += ["{:,}".format(c.meta["hit"]), fmt_mmm([r.pps for r in c.runs]),
                        "-" if rel is None else "%.2f" % rel]
                if (nsa, npol) == (100000, 10000) and rel is not None:
                    summary.append(("100k SAs + 10k policies vs 1 SA + 10 policies, %s" % d,
                                    "%.2f" % rel, "≥ %.2f" % SCALE_TARGET,
                                    rel >= SCALE_TARGET))
            else:
                row += ["-", "-", "-"]
        if anyrun:
            rows.append(row)
    if rows:
        lines.append("## Scale: espgw, 64-byte frames, one worker\n")
        lines.append(md_table(["SAs", "policies", "encap SAs hit", "encap Mpps",
                               "vs 1 SA/10 pol", "decap SAs hit", "decap Mpps",
                               "vs 1 SA/10 pol"], rows))
        lines.append("\nEach pcap holds %d frames; the traffic cycles over 'SAs hit' "
                     "distinct SAs spread evenly over all configured ones (the pcap "
                     "driver keeps its whole file in the gateway's mbuf pool, which "
                     "bounds the count). Encap: one out policy per SA hit (a policy "
                     "protects with one SA), the rest of the policies and SAs are "
                     "present but not hit; decap: one fwd policy accepts every SA. "
                     "Extra policies are non-matching out/fwd bypass rules. Target: "
                     "100,000 SAs + 10,000 policies ≥ %.2f of 1 SA + 10 policies."
                     % (SCALE_PKTS, SCALE_TARGET))
        lines.append("")
    rows = []
    for d in ("encap", "decap"):
        c1, c2 = by.get("espgw-%s-64" % d), by.get("espgw-w2-%s-64" % d)
        if c2 and c2.runs:
            p1 = [r.pps for r in c1.runs] if c1 else []
            p2 = [r.pps for r in c2.runs]
            rows.append([d, fmt_mmm(p1), fmt_mmm(p2),
                         "-" if not p1 else "%.2f" % (med(p2) / med(p1)),
                         "%.2f" % min(r.share2 for r in c2.runs)])
    if rows:
        lines.append("## Workers: espgw, 64-byte frames, 1 SA\n")
        lines.append(md_table(["dir", "1 worker Mpps", "2 workers Mpps", "2 / 1",
                               "CPU share of the worker on CPU 0 (min)"], rows))
        lines.append("\n2 workers: %s (this VM has %d CPUs, so -l 0-2 cannot be used; "
                     "worker lcore 2 shares CPU 0 with the sleeping main lcore and with "
                     "whatever else runs there); the source has one rx_pcap (same file) "
                     "per queue." % (" ".join(espgw_lcores(2)), os.cpu_count() or 0))
        lines.append("")

    # ceiling
    if ceil:
        rows = []
        for l in sorted(ceil["by_len"]):
            x = ceil["by_len"][l]
            rows.append([l, fmt_mmm(x["enc"]), "%.1f" % (1e9 / med(x["enc"])),
                         fmt_mmm(x["dec"]), "%.1f" % (1e9 / med(x["dec"]))])
        lines.append("## Raw cipher ceiling: intel-ipsec-mb %s, %s, direct API, CPU %d\n"
                     % (ceil["imb_version"], ceil["arch"], WORKER_CPU))
        lines.append(md_table(["GCM bytes", "encrypt Mops", "ns/op", "decrypt Mops",
                               "ns/op"], rows))
        lines.append("\n%g s per cell, %d repetitions (one per round of the gateway runs; "
                     "CPU share of the program %s%s); 8-byte AAD, 16-byte ICV, in place, "
                     "256 buffers round robin (bench/imb_ceiling_cli)."
                     % (ceil["seconds"], ceil["reps"],
                        ", ".join("%.2f" % x for x in ceil["shares"]),
                        "; attempts measured again at share " +
                        ", ".join("%.2f" % x for x in ceil["dirty"]) if ceil["dirty"] else ""))
        lines.append("")

    # loss accounting
    rows = []
    for c in cases:
        if not c.runs:
            continue
        inout = [(r.rx_pps - r.pps) * r.dt for r in c.runs]
        drops = {}
        for r in c.runs:
            for k, v in r.drops.items():
                drops[k] = drops.get(k, 0) + v
        conserve = ""
        if c.gw == "espgw":
            bad = []
            for r in c.runs:
                st = r.stats
                d = sum(v for k, v in r.drops.items())
                if st.get("gw.rx", 0) != st.get("gw.tx", 0) + d:
                    bad.append("rx %d != tx %d + drops %d" % (st.get("gw.rx", 0),
                                                              st.get("gw.tx", 0), d))
            conserve = "; ".join(bad) if bad else "rx = tx + drops"
        rows.append([c.name, fmt_mmm([r.rx_pps for r in c.runs]),
                     "%d" % max(abs(x) for x in inout),
                     sum(r.imissed for r in c.runs), sum(r.rx_nombuf for r in c.runs),
                     "%d" % sum(r.oerrors for r in c.runs),
                     ", ".join("%s %d" % kv for kv in sorted(drops.items())) or
                     ("none" if c.gw == "espgw" else "n/a"),
                     conserve,
                     "%.2f" % min(r.dirty_share for r in c.runs),
                     ", ".join("%.2f@%.2f" % (p / 1e6, sh) for p, sh in c.dirty) or "-",
                     "%.2f" % max(r.others_cpu for r in c.runs),
                     "%.0f%%" % (100 * max(r.steal.get("cpu%d" % WORKER_CPU, 0)
                                           for r in c.runs))])
    if rows:
        lines.append("## Where packets went\n")
        lines.append(md_table(["case", "source rx Mpps", "max in - out in a window",
                               "imissed", "rx_nombuf", "sink oerrors",
                               "espgw drop counters (all runs, at exit)",
                               "espgw conservation", "worker CPU share (min)",
                               "runs measured again (Mpps@share)", "others (CPUs)",
                               "steal"], rows))
        lines.append("\nThe pcap source produces only what the gateway polls (it never "
                     "reports imissed): a gateway that is slower than the source simply "
                     "polls less often. 'in - out' = source frames received minus sink "
                     "frames sent in the window: bursts in flight at its edges plus the "
                     "skew of two telemetry reads when the harness waits for a CPU; "
                     "exact accounting is espgw's own at exit ('conservation': every "
                     "frame received was sent or counted as a named drop; whole run, "
                     "warm-up included). 'worker CPU share' = the worker thread's time "
                     "on a CPU / the window (schedstat; below 1 when another process ran "
                     "on its CPU); a run below %.2f was measured again, up to %d more "
                     "times, and the attempts it replaced are listed." % (
                         args.min_share, args.retries))
        lines.append("")

    if profiles:
        lines.append("## Profiles (perf record -e cpu-clock -p <gateway pid>, the same "
                     "binaries, 64-byte frames)\n")
        for name, (path, top, pps_) in profiles.items():
            lines.append("### %s (%.2f Mpps while profiled; full: bench/results/%s)\n"
                         % (name, pps_ / 1e6, os.path.basename(path)))
            lines.append("```\n" + "\n".join(top) + "\n```\n")

    if summary:
        lines.append("## Targets (issue 5)\n")
        lines.append(md_table(["what", "measured", "target", "met"],
                              [[a, b, c, verdict(ok)] for a, b, c, ok in summary]))
        lines.append("")
    if env.get("verified"):
        lines.append("Functional check before measuring: %s." % env["verified"])
    return "\n".join(lines) + "\n", summary


def run_json(r):
    """A run for latest.json: gateway and port counters, drops by name and
    per-SA totals (a stats file has a line per SA counter: 100,000 SAs)."""
    d = {k: v for k, v in r.__dict__.items() if k != "stats"}
    d["stats"] = {k: v for k, v in r.stats.items() if k.startswith(("gw.", "port."))}
    d["stats"]["sa.*.packets"] = sum(v for k, v in r.stats.items()
                                     if k.startswith("sa.") and k.endswith(".packets"))
    return d


def plot(cases, ceil, path, huge_note):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot")
        return False
    by = {c.name: c for c in cases}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, d in zip(axes, ("encap", "decap")):
        series = [("espgw", "espgw-%s-%s", "#1f77b4"), ("ipsec-secgw", "secgw-%s-%s", "#ff7f0e"),
                  ("espgw bypass (clear; same bars both sides)", "espgw-bypass-%s", "#9ecae1"),
                  ("secgw bypass (clear)", "secgw-bypass-%s", "#fdd0a2")]
        w = 0.16
        xs = range(len(SIZES))
        for i, (label, pat, color) in enumerate(series):
            vals, lo, hi = [], [], []
            for s in SIZES:
                name = pat % (d, s) if pat.count("%s") == 2 else pat % s
                c = by.get(name)
                p = [r.pps / 1e6 for r in c.runs] if c and c.runs else []
                m = statistics.median(p) if p else 0
                vals.append(m)
                lo.append(m - min(p) if p else 0)
                hi.append(max(p) - m if p else 0)
            ax.bar([x + (i - 2) * w for x in xs], vals, w, yerr=[lo, hi], label=label,
                   color=color, capsize=2)
        if ceil:
            cv = [statistics.median(ceiling_pps(ceil, s, d)) / 1e6 for s in SIZES]
            ax.bar([x + 2 * w for x in xs], cv, w, label="raw AES-GCM calls (ceiling)",
                   color="#2ca02c")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(["64 B", "512 B", "1420 B", "IMIX"])
        ax.set_title(d)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("Mpps (one core)")
    axes[0].legend(fontsize=8)
    fig.suptitle("espgw vs ipsec-secgw vs raw cipher, net_pcap -> net_null, "
                 "AES-128-GCM (%s)" % huge_note, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --- main ----------------------------------------------------------------------

def build_cases(S, args):
    cases = []
    want = lambda name: not args.k or any(  # noqa: E731
        (fnmatch.fnmatch(name, k) if any(ch in k for ch in "*?[") else k in name)
        for k in args.k)
    for d in ("encap", "decap", "bypass"):
        for s in SIZES:
            kind = "esp" if d == "decap" else "plain"
            for gw in ("espgw", "secgw"):
                name = "%s-%s-%s" % (gw, d, s)
                if not want(name):
                    continue
                pc = traffic(S, kind, s)
                if gw == "espgw":
                    conf = write_conf("espgw-%s.conf" % d, espgw_main_conf(d))
                    cases.append(Case(name, gw, d, s, conf, [pc]))
                else:
                    text, umask = secgw_conf(d)
                    conf = write_conf("secgw-%s.cfg" % d, text)
                    cases.append(Case(name, gw, d, s, conf, [pc], umask=umask))
    if not args.no_scale:
        for nsa, npol in SCALE_ROWS:
            for d in ("encap", "decap"):
                name = "espgw-scale-%s-sa%d-pol%d" % (d, nsa, npol)
                if not want(name):
                    continue
                hit = scale_hits(d, nsa, npol)
                pc = traffic(S, "esp" if d == "decap" else "plain", "64", n=SCALE_PKTS,
                             scale_nsa=nsa, hit=hit)
                conf = write_conf("espgw-scale-%s-sa%d-pol%d.conf" % (d, nsa, npol),
                                  espgw_scale_conf(d, nsa, npol))
                cases.append(Case(name, "espgw", d, "64", conf, [pc], group="scale",
                                  meta={"hit": hit, "nsa": nsa, "npol": npol}))
        for d in ("encap", "decap"):
            name = "espgw-w2-%s-64" % d
            if want(name):
                pc = traffic(S, "esp" if d == "decap" else "plain", "64")
                conf = write_conf("espgw-%s.conf" % d, espgw_main_conf(d))
                cases.append(Case(name, "espgw", d, "64", conf, [pc, pc], workers=2,
                                  group="workers"))
    return cases


def main():
    # scapy and matplotlib come from Debian's packages: another python3
    # first on PATH (pyenv, a venv) would not see them
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 run a case, short windows")
    ap.add_argument("-k", action="append", default=[],
                    help="only cases whose name contains this (or matches this glob); "
                         "'ceiling' selects the ceiling; repeatable")
    ap.add_argument("--runs", type=int, help="runs a case (default 3, --quick 1)")
    ap.add_argument("--warmup", type=float, help="seconds (default 2, --quick 0.5)")
    ap.add_argument("--window", type=float, help="seconds (default 3, --quick 1)")
    ap.add_argument("--min-share", type=float, default=0.95,
                    help="a run whose worker thread had less of its CPU is measured "
                         "again (default 0.95)")
    ap.add_argument("--retries", type=int, default=2,
                    help="extra attempts for a run below --min-share (default 2)")
    ap.add_argument("--no-scale", action="store_true", help="skip scale and worker cases")
    ap.add_argument("--no-verify", action="store_true", help="skip the functional check")
    ap.add_argument("--profile", action="store_true",
                    help="also perf-profile espgw and secgw encap/decap/bypass of 64-byte frames")
    ap.add_argument("--profile-case", action="append", default=[],
                    help="also perf-profile this case (full name); repeatable")
    ap.add_argument("--profile-secs", type=float, default=4.0)
    ap.add_argument("--no-huge", action="store_true",
                    help="do not use hugepages (EAL --no-huge -m 2048)")
    ap.add_argument("--espgw", help="espgw binary to measure (default: build/app/espgw "
                    "after ninja -C build; a copy is measured)")
    ap.add_argument("--out", default=RESULTS, help="results directory (bench/results)")
    ap.add_argument("--name", default="latest", help="results file stem (latest)")
    args = ap.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    args.window = args.window if args.window is not None else (1.0 if args.quick else 3.0)

    if os.geteuid() != 0:
        log("note: not root; hugepages and apt-get are not available")
    t_start = time.monotonic()
    try:
        ensure_python_modules()
        S = scapy_mods()
        huge, huge_note = ((False, "--no-huge asked for") if args.no_huge
                           else setup_hugepages())
        mem = ("hugepages (%s)" % huge_note if huge else
               "--no-huge -m 2048 (%s)" % huge_note)
        log("memory: " + mem)
        espgw_hash = build_espgw(args.espgw)
        espgw_rev = git_state()
        build_secgw()
        os.makedirs(WORK, exist_ok=True)
        os.makedirs(args.out, exist_ok=True)
        log("making traffic (scapy; cached under %s)" % os.path.join(WORK, "pcap"))
        cases = build_cases(S, args)
        do_ceiling = not args.k or any("ceiling" in k for k in args.k)
        if not cases and not do_ceiling and not args.profile and not args.profile_case:
            raise Fail("no case matches %s" % args.k)

        verified = []
        if not args.no_verify:
            for c in cases:
                if c.group == "main" and c.size == "imix":
                    n = verify(c, huge, S)
                    verified.append(c.name)
                    log("  checked %-24s %d frames, all correct" % (c.name, n))

        ceil = None
        ceil_parts = []
        ceil_secs = 0.3 if args.quick else 1.0

        total = len(cases) * args.runs
        log("about %.0f s of measuring to go" % (total * (args.warmup + args.window + 1.5)))
        log("measuring %d cases x %d runs (%.1f s warm-up + %.1f s window)"
            % (len(cases), args.runs, args.warmup, args.window))
        k = 0
        for rnd in range(args.runs):
            if do_ceiling:
                # one repetition a round, so the ceiling sees the same
                # phases of a shared machine as the gateways
                part = ceiling_once(ceil_secs, args.min_share, args.retries)
                ceil_parts.append(part)
                log("  ceiling round %d: imb_ceiling_cli on CPU %d, %g s a cell, "
                    "CPU share %.2f" % (rnd + 1, WORKER_CPU, ceil_secs, part[1]))
            for c in cases:
                k += 1
                timeout = 120 if c.group == "scale" else 60
                for attempt in range(1 + args.retries):
                    r = measure(c, huge, args.warmup, args.window, "r%d" % rnd, timeout)
                    share = r.share   # the busiest worker (2 workers: see share2)
                    if share >= args.min_share or attempt == args.retries:
                        break
                    c.dirty.append((r.pps, share))
                    log("  [%3d/%d] %-34s %6.2f Mpps, worker had %.0f%% of its CPU: "
                        "dirty, again" % (k, total, c.name, r.pps / 1e6, 100 * share))
                r.dirty_share = share
                c.runs.append(r)
                extra = ""
                if r.drops:
                    extra = " drops: " + ", ".join("%s %d" % kv for kv in sorted(r.drops.items()))
                log("  [%3d/%d] %-34s %6.2f Mpps (source %6.2f) worker CPU share %.2f, "
                    "others %.2f CPU, steal %.0f%%%s"
                    % (k, total, c.name, r.pps / 1e6, r.rx_pps / 1e6, share, r.others_cpu,
                       100 * r.steal.get("cpu%d" % WORKER_CPU, 0), extra))

        if ceil_parts:
            ceil = ceiling_merge(ceil_parts)
        profiles = {}
        pnames = list(args.profile_case)
        if args.profile:
            pnames = ["espgw-encap-64", "espgw-decap-64", "espgw-bypass-64",
                      "secgw-encap-64", "secgw-decap-64", "secgw-bypass-64"] + pnames
        for name in pnames:
            sub = argparse.Namespace(k=[name], no_scale=False)
            found = [c for c in build_cases(S, sub) if c.name == name]
            if not found:
                raise Fail("--profile-case %s: no such case" % name)
            log("profiling %s for %g s" % (name, args.profile_secs))
            profiles[name] = profile(found[0], huge, args.profile_secs, args.out)

        env = {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "cpu": cpu_model(), "lscpu": lscpu_summary(),
            "kernel": platform.release(),
            "dpdk": sh(["pkg-config", "--modversion", "libdpdk"]).strip(),
            "huge": mem,
            "verified": ", ".join(verified) + " (every output frame decrypted / compared "
                        "with scapy)" if verified else "",
        }
        env["git"], env["dirty"] = espgw_rev
        env["espgw_bin"] = "%s (copy of %s, sha256 %s)" % (ESPGW, args.espgw or
                                                          "build/app/espgw", espgw_hash)
        text, summary = report(cases, ceil, env, args, profiles)
        text += "\nTotal benchmark time: %.0f s.\n" % (time.monotonic() - t_start)
        md = os.path.join(args.out, args.name + ".md")
        with open(md, "w") as fp:
            fp.write(text)
        js = {
            "env": env, "args": vars(args), "ceiling": ceil,
            "cases": [{"name": c.name, "gw": c.gw, "dir": c.direction, "size": c.size,
                       "workers": c.workers, "group": c.group, "meta": c.meta,
                       "runs": [run_json(r) for r in c.runs]}
                      for c in cases],
        }
        with open(os.path.join(args.out, args.name + ".json"), "w") as fp:
            json.dump(js, fp, indent=1, default=str)
        png = os.path.join(args.out, args.name + ".png")
        if any(c.group == "main" for c in cases):
            plot(cases, ceil, png, "hugepages" if huge else "--no-huge")
        print()
        print(text)
        log("wrote %s%s" % (md, " and " + png if os.path.exists(png) else ""))
        missed = [s for s in summary if not s[3]]
        if missed:
            log("%d of %d targets missed (reported above; not a failure of the benchmark)"
                % (len(missed), len(summary)))
        return 0
    except Fail as e:
        print("bench/run.py: FAILED: %s" % e, file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
