#!/usr/bin/python3
"""The soak: two espgw gateways under traffic, hostile frames and rekeys
for a long time (docs/reliability.md; issue 14, items 3 and 8).

  hostA ── R1 (espgw) ══ 192.0.2.0/24 ══ R2 (espgw) ── hostB

tests/netns/lib.sh builds the namespaces and veths. UDP blasters in both
hosts load the tunnel both ways; sequence-numbered probes (100/s each
way) look for lost valid packets. Raw frames written onto the outside
link (sockets in R1's and R2's namespaces, past the qdisc as espgw's own
af_packet ports send, so the sending side's espgw never sees them) add
about 5% hostile traffic toward each gateway: forged ICVs on the live
SPI, replays of captured ESP, unknown SPIs, truncated ESP, IPv4 headers
claiming more than the frame, first IPv4 fragments that never complete,
and ARP requests for addresses nobody has (no NDP: the topology is
IPv4 only). Every few seconds the control
plane rekeys make-before-break through espgwctl, as espgw-tunnel rekey
does. Each gateway's --metrics-file and VmRSS are sampled every second.

Pass criteria (each printed with its numbers; exit 1 if one fails):
the mbuf pools back to their start counts at exit; VmRSS within 1% after
the warm-up; the one-packet-one-fate law exact in each stats file; every
hostile frame counted under its drop, exactly (the fragments excepted:
the kernel's af_packet defrag holds them, none reaches espgw); every
frame one gateway
put on the outside link received by the other; no probe lost outside
+-1 s of a rekey.

Usage (root): tests/soak/run.py [--seconds N] [--out DIR] [--plot PNG]
  SOAK_SECONDS sets the default duration (1800).
"""
import argparse
import ctypes
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# what the app tests share: the stats file, MACs
sys.path.insert(0, os.path.join(HERE, "..", "app"))
from gwproc import counter_sides, fates, mac, read_stats  # noqa: E402
PY = "/usr/bin/python3"
IP = {"r1": "192.0.2.1", "r2": "192.0.2.2"}
NET = {"r1": "10.0.1.0/24", "r2": "10.0.2.0/24"}
LANIP = {"r1": "10.0.1.1", "r2": "10.0.2.1"}
HOST = {"r1": "10.0.1.10", "r2": "10.0.2.10"}
OTHER = {"r1": "r2", "r2": "r1"}
# reqid of the SAs from a gateway (the tunnel's direction), both ends
REQID = {"r1": 1, "r2": 2}
KINDS = ["bad-icv", "replay", "unknown-spi", "too-short", "oversized",
         "fragment", "arp"]
CLONE_NEWNET = 0x40000000
SOL_PACKET, PACKET_QDISC_BYPASS = 263, 20
libc = ctypes.CDLL(None, use_errno=True)


def log(msg):
    print("# " + msg, flush=True)


class Fail(Exception):
    pass


# ---- frames -------------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, frag=0, tot=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot or 20 + len(payload),
                    ident, frag, 64, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


# ---- namespaces -----------------------------------------------------------------

def raw_socket(ns, proto=0):
    """An AF_PACKET socket on ns's wan veth, opened inside ns."""
    me = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise Fail("setns %s: %s" % (ns, os.strerror(ctypes.get_errno())))
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
        s.bind(("wan", proto))
    finally:
        libc.setns(me, CLONE_NEWNET)
        os.close(fd)
        os.close(me)
    # past the qdisc, as the af_packet PMD sends: the local espgw's
    # socket does not see these frames go out
    s.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
    return s


class Soak:
    def __init__(self, a):
        self.a = a
        self.tag = "eg-soak-%d" % os.getpid()
        self.ns = {n: "%s-%s" % (self.tag, n) for n in ("hosta", "r1", "r2", "hostb")}
        self.host_ns = {"r1": self.ns["hosta"], "r2": self.ns["hostb"]}
        self.tmp = a.out or tempfile.mkdtemp(prefix="espgw-soak.")
        os.makedirs(self.tmp, exist_ok=True)
        self.procs = []      # helpers: (name, Popen)
        self.gw = {}         # name -> Popen
        self.spis = {}       # gateway -> SPI of its outbound SA (the other's inbound)
        self.keys = {}
        self.gen = 0
        self.rekeys = []     # (start, end) wall times
        self.samples = []    # {"t", "r1": {...}, "r2": {...}, "rss": {...}}
        self.sent = {g: {k: 0 for k in KINDS} for g in ("r1", "r2")}
        self.send_err = 0
        self.captured = {}   # gateway -> an ESP frame it received on the live SA
        self.results = []    # (ok, name, detail)

    # -- set-up --
    def topology(self):
        env = dict(os.environ, ESPGW=self.a.espgw)
        # lib.sh's set-up, under our own namespace names
        script = (". '%s/tests/netns/lib.sh'; eg_init; rm -rf \"$EG_TMP\"; "
                  "EG_TAG=%s; NS_A=%s; NS_R1=%s; NS_R2=%s; NS_B=%s; "
                  "eg_setup_topology" % (ROOT, self.tag, self.ns["hosta"],
                                         self.ns["r1"], self.ns["r2"],
                                         self.ns["hostb"]))
        r = subprocess.run(["bash", "-c", script], env=env)
        if r.returncode != 0:
            raise Fail("topology set-up failed")
        self.mac = {}
        for g in ("r1", "r2"):
            j = json.loads(subprocess.check_output(
                ["ip", "-n", self.ns[g], "-j", "link", "show", "wan"]))
            self.mac[g] = mac(j[0]["address"])

    def sa(self, frm, spi, key):
        to = OTHER[frm]
        return ("xfrm state add src %s dst %s proto esp spi 0x%08x reqid %d "
                "mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' %s 128"
                % (IP[frm], IP[to], spi, REQID[frm], key))

    def sa_del(self, frm, spi):
        return "xfrm state delete dst %s proto esp spi 0x%08x" % (IP[OTHER[frm]], spi)

    def policies(self, g, verb):
        o = OTHER[g]
        out = ("xfrm policy %s src %s dst %s dir out tmpl src %s dst %s proto "
               "esp reqid %d mode tunnel" % (verb, NET[g], NET[o], IP[g], IP[o], REQID[g]))
        ins = ["xfrm policy %s src %s dst %s dir %s tmpl src %s dst %s proto "
               "esp reqid %d mode tunnel" % (verb, NET[o], NET[g], d, IP[o], IP[g], REQID[o])
               for d in ("in", "fwd")]
        return [out] + ins

    def new_spis(self):
        self.gen += 1
        return {g: 0x10000 + 2 * self.gen + i for i, g in enumerate(("r1", "r2"))}

    def configs(self):
        spis = self.new_spis()
        keys = {g: "0x" + os.urandom(20).hex() for g in spis}
        for g in ("r1", "r2"):
            o = OTHER[g]
            lines = ["ip link set dev port0 up", "ip link set dev port1 up",
                     "ip addr add %s/24 dev port0" % LANIP[g],
                     "ip addr add %s/24 dev port1" % IP[g],
                     "ip route add %s via %s dev port1 src %s" % (NET[o], IP[o], LANIP[g]),
                     "ip " + self.sa(g, spis[g], keys[g]),
                     "ip " + self.sa(o, spis[o], keys[o])]
            lines += ["ip " + p for p in self.policies(g, "add")]
            with open(os.path.join(self.tmp, g + ".conf"), "w") as f:
                f.write("\n".join(lines) + "\n")
        self.spis, self.keys = spis, keys

    def start_gw(self, g):
        t = self.tmp
        cmd = ["ip", "netns", "exec", self.ns[g], self.a.espgw, "-l", "0-1",
               "--no-huge", "-m", "256", "--no-pci",
               "--file-prefix", "%s-%s" % (self.tag, g), "--log-level=lib.*:notice",
               "--vdev", "net_af_packet0,iface=lan,framecnt=4096",
               "--vdev", "net_af_packet1,iface=wan,framecnt=4096",
               "--", "-f", "%s/%s.conf" % (t, g), "--poll-idle-us", "20",
               "--stats-file", "%s/%s.stats" % (t, g),
               "--metrics-file", "%s/%s.prom" % (t, g), "--metrics-interval", "1"]
        out = open("%s/%s.out" % (t, g), "w")
        err = open("%s/%s.err" % (t, g), "w")
        # ip netns exec execs espgw: this pid is espgw's
        self.gw[g] = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        for _ in range(150):
            if "running" in open("%s/%s.out" % (t, g)).read():
                return
            if self.gw[g].poll() is not None:
                break
            time.sleep(0.1)
        raise Fail("gateway %s did not start: %s" % (g, open("%s/%s.err" % (t, g)).read()[-500:]))

    def pools_now(self, g):
        """The pools: lines of a SIGUSR1 print."""
        path = "%s/%s.out" % (self.tmp, g)
        before = open(path).read().count("states:")
        self.gw[g].send_signal(signal.SIGUSR1)
        for _ in range(50):
            text = open(path).read()
            # pools: comes before states: in the print
            if text.count("states:") > before:
                part = text.split("pools:")[-1]
                return {m[0]: int(m[1]) for m in
                        re.findall(r"^  (\S+) (\d+) of \d+ available$", part, re.M)}
            time.sleep(0.1)
        raise Fail("%s printed no pools on SIGUSR1" % g)

    def helper(self, name, side, *args):
        out = open("%s/%s.log" % (self.tmp, name), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.host_ns[side], PY,
                              os.path.join(HERE, "traffic.py")] + list(args),
                             stdout=out, stderr=subprocess.STDOUT)
        self.procs.append((name, p))
        return p

    def ctl(self, g, lines):
        r = subprocess.run([self.a.espgwctl, "--file-prefix", "%s-%s" % (self.tag, g),
                            "-batch", "-"], input="\n".join(lines) + "\n",
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Fail("espgwctl %s: %s" % (g, (r.stdout + r.stderr).strip()[-300:]))

    # -- the rekey: make-before-break, as espgw-tunnel rekey (docs/tunnel.md) --
    def rekey(self):
        t0 = time.time()
        old, new = self.spis, self.new_spis()
        keys = {g: "0x" + os.urandom(20).hex() for g in new}
        # 1. R2 can take R1's new SA; 2. R1 takes R2's and sends on its
        # own, its policies re-stated in the same transaction; 3. R2 sends
        # on its new SA; 4. what was in flight drains, the old SAs go
        self.ctl("r2", [self.sa("r1", new["r1"], keys["r1"])])
        self.ctl("r1", [self.sa("r2", new["r2"], keys["r2"]),
                        self.sa("r1", new["r1"], keys["r1"])] + self.policies("r1", "update"))
        self.ctl("r2", [self.sa("r2", new["r2"], keys["r2"])] + self.policies("r2", "update"))
        self.spis, self.keys = new, keys
        self.captured = {}
        time.sleep(0.5)
        for g in ("r2", "r1"):
            self.ctl(g, [self.sa_del("r1", old["r1"]), self.sa_del("r2", old["r2"])])
        self.rekeys.append((t0, time.time()))

    # -- hostile frames --
    def capture(self, g):
        """An ESP frame of the live SA as it arrives at gateway g."""
        s = raw_socket(self.ns[g], 0x0800)
        s.settimeout(0.2)
        want = struct.pack("!I", self.spis[OTHER[g]])
        end = time.monotonic() + 0.5
        try:
            while time.monotonic() < end:
                try:
                    f = s.recv(2048)
                except socket.timeout:
                    continue
                if (f[:6] == self.mac[g] and f[23] == 50 and f[34:38] == want
                        and f[30:34] == socket.inet_aton(IP[g])):
                    return f
        finally:
            s.close()
        return None

    def frame(self, g, kind, i):
        """A hostile frame toward gateway g, or None."""
        src, dst = IP[OTHER[g]], IP[g]
        spi = self.spis[OTHER[g]]
        e = lambda p: eth(self.mac[g], self.mac[OTHER[g]], 0x0800, p)
        if kind == "bad-icv":
            # far ahead of the window: the ICV is what fails
            esp = struct.pack("!II", spi, 0x80000000 + i) + os.urandom(8 + 64 + 16)
            return e(ipv4(src, dst, 50, esp, i & 0xFFFF))
        if kind == "replay":
            if g not in self.captured:
                self.captured[g] = self.capture(g)
            return self.captured[g]
        if kind == "unknown-spi":
            esp = struct.pack("!II", 0xDEAD0000 | (i & 0xFFFF), 1) + bytes(88)
            return e(ipv4(src, dst, 50, esp, i & 0xFFFF))
        if kind == "too-short":
            return e(ipv4(src, dst, 50, struct.pack("!II", spi, 1) + bytes(4), i & 0xFFFF))
        if kind == "oversized":
            # the largest frame the link takes, its header claiming 64 KB
            return e(ipv4(src, dst, 50, bytes(1480), i & 0xFFFF, tot=65535))
        if kind == "fragment":
            # a first fragment whose rest never comes
            return e(ipv4(src, dst, 50, os.urandom(64), (i * 7919) & 0xFFFF, 0x2000))
        if kind == "arp":
            tip = "192.0.2.%d" % (100 + i % 100)
            a = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, self.mac[OTHER[g]],
                            socket.inet_aton("192.0.2.%d" % (3 + i % 90)), bytes(6),
                            socket.inet_aton(tip))
            return eth(b"\xff" * 6, self.mac[OTHER[g]], 0x0806, a + bytes(18))
        raise ValueError(kind)

    def inject(self, n):
        for _ in range(n):
            g = random.choice(("r1", "r2"))
            kind = KINDS[self.inj % len(KINDS)]
            self.inj += 1
            f = self.frame(g, kind, self.inj)
            if f is None:
                continue
            try:
                self.wire[OTHER[g]].send(f)
                self.sent[g][kind] += 1
            except OSError:
                self.send_err += 1

    # -- samples --
    def sample(self):
        s = {"t": time.time(), "rss": {}}
        for g in ("r1", "r2"):
            path = "%s/%s.prom" % (self.tmp, g)
            try:
                # espgw renames each new file in: its mtime is its time
                s["mtime-" + g] = os.stat(path).st_mtime
                s[g] = parse_metrics(open(path).read())
            except OSError:
                s[g] = {}
            for line in open("/proc/%d/status" % self.gw[g].pid):
                if line.startswith("VmRSS:"):
                    s["rss"][g] = int(line.split()[1])
        self.samples.append(s)
        return s

    # -- the run --
    def run(self):
        a = self.a
        self.topology()
        self.configs()
        for g in ("r1", "r2"):
            self.start_gw(g)
        self.pools0 = {g: self.pools_now(g) for g in ("r1", "r2")}
        log("pools at start: %s" % self.pools0)
        # the neighbours learned, the tunnel carries a ping
        for side in ("r1", "r2"):
            r = subprocess.run(["ip", "netns", "exec", self.host_ns[side], "ping", "-n",
                                "-c", "3", "-i", "0.2", "-W", "2", HOST[OTHER[side]]],
                               capture_output=True, text=True)
            if " 0% packet loss" not in r.stdout and " 33% packet loss" not in r.stdout:
                raise Fail("no ping through the tunnel: " + r.stdout[-200:])
        self.wire = {g: raw_socket(self.ns[g]) for g in ("r1", "r2")}
        self.inj = 0
        for side in ("r1", "r2"):
            self.helper("sink-" + side, side, "sink", "7002")
            self.helper("catch-" + side, side, "catch", "7001",
                        "%s/probes-to-%s.json" % (self.tmp, side))
        time.sleep(0.5)
        for side in ("r1", "r2"):
            for i in range(a.blasters):
                self.helper("blast-%s-%d" % (side, i), side, "blast", HOST[OTHER[side]],
                            "7002", str(a.size), str(a.rate))
            self.helper("probe-" + side, side, "probe", HOST[OTHER[side]], "7001",
                        str(a.probe_pps), "%s/probes-from-%s.json" % (self.tmp, side))
        t0 = time.time()
        self.t0 = t0
        log("traffic: %d blasters a way, %d-byte UDP at %s pps each, probes %d/s "
            "each way; hostile %.0f%%; rekey every %ss; %ds"
            % (a.blasters, a.size, a.rate or "flat-out", a.probe_pps, a.hostile * 100,
               a.rekey_every, a.seconds))
        next_sample = t0
        next_rekey = t0 + a.rekey_every
        next_note = t0 + 60
        budget = 20  # hostile frames a tick until the first rates are known
        last = None
        while time.time() < t0 + a.seconds:
            now = time.time()
            if now >= next_sample:
                s = self.sample()
                next_sample += 1
                if last is not None:
                    dt = s["t"] - last["t"]
                    rx = sum(wan_rx(s[g]) - wan_rx(last[g]) for g in ("r1", "r2"))
                    hostile = sum(sum(v.values()) for v in self.sent.values())
                    valid = max(0, rx - (hostile - last["hostile"]))
                    # ticks of 0.1 s
                    budget = int(valid / dt * a.hostile / (1 - a.hostile) / 10)
                s["hostile"] = sum(sum(v.values()) for v in self.sent.values())
                last = s
            for g in ("r1", "r2"):
                if self.gw[g].poll() is not None:
                    raise Fail("gateway %s exited %s during the run" % (g, self.gw[g].returncode))
            if now >= next_rekey:
                self.rekey()
                next_rekey += a.rekey_every
                if next_rekey < time.time():
                    next_rekey = time.time() + a.rekey_every
            self.inject(budget)
            if now >= next_note:
                next_note += 60
                log("%ds: %d rekeys, %d hostile frames, RSS %s kB"
                    % (now - t0, len(self.rekeys), last["hostile"], last["rss"]))
            time.sleep(max(0, 0.1 - (time.time() - now)))
        self.elapsed = time.time() - t0
        self.stop_traffic()
        for g in ("r1", "r2"):
            self.sample()
        for g in ("r1", "r2"):
            self.gw[g].send_signal(signal.SIGINT)
            try:
                rc = self.gw[g].wait(20)
            except subprocess.TimeoutExpired:
                self.gw[g].kill()
                rc = "killed"
            self.check(rc == 0, "%s exits 0 on SIGINT" % g, "status %s" % rc)
        self.verdicts()

    def stop_traffic(self):
        order = ["blast", "probe", "sink", "catch"]
        for kind in order:
            for name, p in self.procs:
                if name.startswith(kind):
                    p.send_signal(signal.SIGTERM)
            for name, p in self.procs:
                if name.startswith(kind):
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()
            if kind == "probe":
                time.sleep(1)  # the last probes' way through both gateways
        self.procs_out = {}
        for name, _ in self.procs:
            try:
                self.procs_out[name] = json.loads(open("%s/%s.log" % (self.tmp, name)).read().strip().splitlines()[-1])
            except (OSError, ValueError, IndexError):
                self.procs_out[name] = {}
        self.procs = []

    # -- verdicts --
    def check(self, ok, name, detail):
        self.results.append((bool(ok), name, detail))
        print("%s - %s: %s" % ("ok" if ok else "not ok", name, detail), flush=True)

    def verdicts(self):
        st = {g: read_stats("%s/%s.stats" % (self.tmp, g)) for g in ("r1", "r2")}
        sides = counter_sides(self.a.espgw)
        self.stats = st
        for g in ("r1", "r2"):
            s = st[g]
            # pools
            end = {k[5:-10]: v for k, v in s.items() if k.startswith("pool.") and k.endswith(".available")}
            self.check(end == self.pools0[g], "%s mbuf pools back to their start counts" % g,
                       "start %s, exit %s" % (self.pools0[g], end))
            # the law, app/dataplane/counters.h, with the sides the
            # binary prints: drop-esp-in/out hold the ESP library's
            # reasons, which no other drop-* counts
            fates_in, fates_out, disagree = fates(s, sides)
            came = sum(s.get(k, 0) for k in fates_in)
            went = sum(s.get(k, 0) for k in fates_out)
            self.check(came == went and not disagree, "%s one packet, one fate" % g,
                       "rx + made %d, tx + drops + consumed + held %d%s"
                       % (came, went, "".join("; " + w for w in disagree)))
            # hostile frames under their drops
            got = {
                "bad-icv": esp_reason(s, "bad-icv"),
                "replay": esp_reason(s, "replayed") + esp_reason(s, "behind-window"),
                "unknown-spi": esp_reason(s, "unknown-spi"),
                "too-short": esp_reason(s, "too-short"),
                "oversized": s.get("gw.drop-bad-ip-header", 0),
                # none reach espgw: DPDK 22.11's af_packet joins its
                # socket with PACKET_FANOUT_FLAG_DEFRAG, the kernel holds
                # them (tests/netns/e2e.sh, (c))
                "fragment": s.get("gw.drop-reassembly", 0) + s.get("gw.held-reassembly", 0)
                + s.get("gw.reassembled", 0),
                "arp": s.get("gw.drop-l2-not-for-us", 0),
            }
            for k in KINDS:
                want = 0 if k == "fragment" else self.sent[g][k]
                self.check(got[k] == want, "%s hostile %s counted" % (g, k),
                           "sent %d, counted %d%s" % (self.sent[g][k], got[k],
                           " (the kernel's defrag holds them)" if k == "fragment" else ""))
            known = {"gw.drop-bad-ip-header", "gw.drop-reassembly", "gw.drop-l2-not-for-us",
                     "gw.drop-esp-in", "gw.drop-esp-out"}
            other = {k: v for k, v in s.items() if k.startswith("gw.drop-") and v and k not in known}
            self.check(not other, "%s no other drop" % g, str(other or "none"))
            # the outside link lost nothing (no af_packet ring overflow)
            o = OTHER[g]
            hostile = sum(self.sent[g].values()) - self.sent[g]["fragment"]
            sent_on = st[o].get("port.port1.tx", 0) + hostile
            self.check(sent_on == s.get("port.port1.rx", 0),
                       "%s received every frame put on the outside link" % g,
                       "%s tx %d + hostile %d, %s rx %d" % (o, st[o].get("port.port1.tx", 0),
                                                           hostile, g,
                                                           s.get("port.port1.rx", 0)))
        self.check(self.send_err == 0, "injector's sends all taken", "%d refused" % self.send_err)
        # RSS
        warm = self.t0 + self.a.warmup
        for g in ("r1", "r2"):
            rss = [x["rss"][g] for x in self.samples if x["t"] >= warm and g in x["rss"]]
            if not rss:
                self.check(False, "%s RSS flat" % g, "no samples after the warm-up")
                continue
            base = rss[0]
            dev = max(abs(v - base) for v in rss) / base * 100
            self.check(dev <= 1.0, "%s RSS flat after %ds" % (g, self.a.warmup),
                       "%d kB at warm-up, min %d max %d kB, %.2f%% off, %d samples"
                       % (base, min(rss), max(rss), dev, len(rss)))
        # probes
        for side in ("r1", "r2"):
            times = json.load(open("%s/probes-from-%s.json" % (self.tmp, side)))
            got = set(json.load(open("%s/probes-to-%s.json" % (self.tmp, OTHER[side]))))
            lost = [i for i in range(len(times)) if i not in got]
            outside = [i for i in lost if not any(a - 1 <= times[i] <= b + 1 for a, b in self.rekeys)]
            self.check(not outside, "probes %s -> %s: none lost outside rekeys" % (
                       HOST[side], HOST[OTHER[side]]),
                       "%d sent, %d lost, %d of them outside +-1 s of a rekey%s"
                       % (len(times), len(lost), len(outside),
                          " (first at %+.1fs)" % (times[outside[0]] - self.t0) if outside else ""))
        self.summary()

    def summary(self):
        a = self.a
        tot = {g: read_stats_tot(self.stats[g]) for g in ("r1", "r2")}
        blast = {k: v for k, v in self.procs_out.items() if k.startswith("blast")}
        summ = {
            "seconds": round(self.elapsed, 1), "rekeys": len(self.rekeys),
            "rekey-seconds-mean": round(sum(b - a for a, b in self.rekeys) / max(1, len(self.rekeys)), 3),
            "hostile-sent": self.sent,
            "gateways": tot,
            "pps-through-tunnel": {g: round(tot[g]["decrypted"] / self.elapsed) for g in tot},
            "blasters": blast,
            "probes": {k: v for k, v in self.procs_out.items() if k.startswith(("probe", "catch"))},
            "rss-kB": {g: [min(x["rss"][g] for x in self.samples), max(x["rss"][g] for x in self.samples)]
                       for g in ("r1", "r2")},
            "pools-start": self.pools0,
            "passed": sum(r[0] for r in self.results), "failed": sum(not r[0] for r in self.results),
            "cpu": cpu_model(),
        }
        self.summ = summ
        with open(os.path.join(self.tmp, "summary.json"), "w") as f:
            json.dump(summ, f, indent=1)
        with open(os.path.join(self.tmp, "samples.json"), "w") as f:
            json.dump({"t0": self.t0, "rekeys": self.rekeys, "samples": self.samples}, f)
        log("summary: " + json.dumps(summ))
        if a.plot:
            plot(self.samples, self.t0, self.rekeys, a.plot)
            log("plot: " + a.plot)

    def cleanup(self):
        for _, p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for g, p in self.gw.items():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        for g in ("r1", "r2"):
            shutil.rmtree("/var/run/dpdk/%s-%s" % (self.tag, g), ignore_errors=True)
        if not self.a.out and not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.a.keep or self.a.out:
            log("kept " + self.tmp)


# ---- parsing ------------------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, ((label, value), ...)): value} of a Prometheus text file."""
    m = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        r = SAMPLE.match(line)
        if r:
            labels = tuple(LABEL.findall(r.group(2) or ""))
            m["%s|%s" % (r.group(1), ",".join("%s=%s" % kv for kv in labels))] = float(r.group(3))
    return m


def wan_rx(m):
    return sum(v for k, v in m.items()
               if k.startswith("espgw_port_rx_packets_total|") and "port_id=1" in k)


def esp_reason(s, r):
    """One ESP library reason over no SA, live SAs and gone ones."""
    return sum(v for k, v in s.items() if k == "esp." + r or
               (k.startswith(("sa.", "gone.")) and k.endswith("." + r)))


def read_stats_tot(s):
    keys = ("rx", "tx", "encrypted", "decrypted", "drop-esp-in", "drop-reassembly",
            "held-reassembly", "drop-l2-not-for-us", "drop-bad-ip-header")
    return {k: s.get("gw." + k, 0) for k in keys}


def cpu_model():
    try:
        out = subprocess.check_output(["lscpu"], text=True)
        m = re.search(r"^Model name:\s*(.*)$", out, re.M)
        n = re.search(r"^CPU\(s\):\s*(\d+)$", out, re.M)
        return "%s, %s vCPUs" % (m.group(1).strip() if m else "?", n.group(1) if n else "?")
    except (OSError, subprocess.CalledProcessError):
        return "?"


# ---- the plot -------------------------------------------------------------------------

def rates(samples, key_of):
    """{series: ([t], [per second])} from counters, keys picked by key_of;
    each gateway's files at their own times, a series absent before at 0
    (a new SA, a first drop)."""
    out = {}
    for g in ("r1", "r2"):
        seen = [x for x in samples if x.get(g)]
        files = [x for i, x in enumerate(seen)
                 if i == 0 or x.get("mtime-" + g, x["t"]) != seen[i - 1].get("mtime-" + g, seen[i - 1]["t"])]
        for prev, cur in zip(files, files[1:]):
            tp, tc = prev.get("mtime-" + g, prev["t"]), cur.get("mtime-" + g, cur["t"])
            if tc <= tp:
                continue
            sums_p, sums_c = {}, {}
            for src, sums in ((prev, sums_p), (cur, sums_c)):
                for k, v in src[g].items():
                    s = key_of(g, k)
                    if s is not None:
                        sums[s] = sums.get(s, 0) + v
            for s, v in sums_c.items():
                ts, vs = out.setdefault(s, ([], []))
                ts.append(tc)
                vs.append(max(0, v - sums_p.get(s, 0)) / (tc - tp))
    merged = {}
    for s, (ts, vs) in out.items():
        # drops: both gateways' series of a reason added at each second
        pairs = sorted(zip(ts, vs))
        merged[s] = ([p[0] for p in pairs], [p[1] for p in pairs])
    return merged


def plot(samples, t0, rekeys, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def sa_key(g, k):
        # each gateway's inbound SAs: each direction of the tunnel once
        if k.startswith("espgw_sa_packets_total|") and "direction=in" in k:
            spi = re.search(r"spi=(0x[0-9a-f]+)", k).group(1)
            return (g, spi)
        return None

    def drop_key(g, k):
        name, _, labels = k.partition("|")
        if name in ("espgw_sa_drops_total", "espgw_sa_gone_drops_total",
                    "espgw_esp_drops_total"):
            return (g, re.search(r"reason=([^,]+)", labels).group(1))
        if (name.startswith("espgw_drop_") and name not in
                ("espgw_drop_esp_in_total", "espgw_drop_esp_out_total")):
            return (g, name[len("espgw_drop_"):-len("_total")].replace("_", "-"))
        return None

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    colours = {"r1": ["tab:blue", "tab:cyan"], "r2": ["tab:orange", "tab:red"]}
    sas = rates(samples, sa_key)
    for (g, spi), (ts, vs) in sorted(sas.items(), key=lambda kv: kv[1][0][0]):
        c = colours[g][int(spi, 16) // 2 % 2]
        ax1.plot([t - t0 for t in ts], vs, color=c, lw=0.8)
    ax1.plot([], [], color="tab:blue", label="R1 in (hostB -> hostA), one colour change a rekey")
    ax1.plot([], [], color="tab:orange", label="R2 in (hostA -> hostB)")
    ax1.set_ylabel("packets/s per SA (by SPI)")
    ax1.legend(loc="lower right", fontsize=8)
    for a, _ in rekeys:
        ax1.axvline(a - t0, color="grey", lw=0.2, alpha=0.5)
    # both gateways' drops of a reason, second by second
    bins = {}
    for (g, reason), (ts, vs) in rates(samples, drop_key).items():
        b = bins.setdefault(reason, {})
        for t, v in zip(ts, vs):
            b[int(t - t0)] = b.get(int(t - t0), 0) + v
    for reason, b in sorted(bins.items()):
        if max(b.values(), default=0) > 0:
            xs = sorted(b)
            ax2.plot(xs, [b[x] for x in xs], lw=0.8, label=reason)
    ax2.set_ylabel("drops/s, both gateways")
    ax2.set_xlabel("seconds into the soak")
    ax2.legend(loc="upper right", fontsize=7, ncol=3)
    fig.suptitle("espgw soak: per-SA traffic and drops by reason (--metrics-file, 1 s)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 1800)))
    ap.add_argument("--espgw", default=os.path.join(ROOT, "build/app/espgw"))
    ap.add_argument("--espgwctl", default=os.path.join(ROOT, "build/app/espgwctl/espgwctl"))
    ap.add_argument("--rekey-every", type=float, default=5.0, help="seconds (default 5)")
    ap.add_argument("--hostile", type=float, default=0.05, help="share of frames (default 0.05)")
    ap.add_argument("--blasters", type=int, default=2, help="UDP senders a way (default 2)")
    # 2 x 5000 a way: the most this 2-vCPU machine carried with nothing
    # lost on the LANs' af_packet rings (docs/reliability.md)
    ap.add_argument("--rate", type=float, default=5000,
                    help="pps a blaster, 0 flat out (default 5000)")
    ap.add_argument("--size", type=int, default=256, help="UDP payload bytes (default 256)")
    ap.add_argument("--probe-pps", type=int, default=100)
    ap.add_argument("--warmup", type=int, help="seconds before RSS must stay flat "
                    "(default a fifth of the run, at most 120)")
    ap.add_argument("--out", help="keep configs, outputs and samples here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--plot", help="write the PNG here")
    ap.add_argument("--replot", metavar="SAMPLES", help="only plot a kept samples.json "
                    "(to --plot)")
    a = ap.parse_args()
    if a.replot:
        d = json.load(open(a.replot))
        plot(d["samples"], d["t0"], d["rekeys"], a.plot or "soak.png")
        return
    if a.warmup is None:
        a.warmup = min(120, a.seconds // 5)
    if os.geteuid() != 0:
        sys.exit("error: %s needs root (network namespaces, raw sockets)" % sys.argv[0])
    for p in (a.espgw, a.espgwctl):
        if not os.access(p, os.X_OK):
            sys.exit("error: no %s (build first: ninja -C build)" % p)
    soak = Soak(a)

    def on_sig(sig, _frm):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_sig)
    try:
        soak.run()
    except Fail as e:
        soak.check(False, "soak ran to the end", str(e))
    except KeyboardInterrupt:
        soak.check(False, "soak ran to the end", "interrupted")
    finally:
        soak.cleanup()
    failed = [r for r in soak.results if not r[0]]
    print("%d passed, %d failed" % (len(soak.results) - len(failed), len(failed)))
    sys.exit(1 if failed or not soak.results else 0)


if __name__ == "__main__":
    main()
