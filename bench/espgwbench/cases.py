"""The cases: which gateway runs which traffic with which configuration,
selected by run.py -k, and the command line that starts it; one list, so
that the measured runs, the functional check and --profile-case agree."""

import argparse
import fnmatch
import os

from . import common
from .common import (L3FWD, L3FWD_DST, PEER_MAC, SCALE_PKTS, SCALE_ROWS, SECGW, SIZES,
                     WORKER_CPU)
from .gwconf import (espgw_family_conf, espgw_main_conf, espgw_scale_conf, scale_hits,
                     secgw_conf, write_conf)
from .traffic import traffic



# --spread-esp's owner maps measured: (case name tag, espgw arguments)
SPREAD_MAPS = [("", ["--spread-esp"]),
               ("31", ["--spread-weights", "3,1"]),
               ("13", ["--spread-weights", "1,3"]),
               ("01", ["--spread-weights", "0,1"])]

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
                 workers=1, group="main", meta=None, fam="4in4", args=()):
        self.name, self.gw, self.direction, self.size = name, gw, direction, size
        self.conf, self.pcaps, self.umask, self.workers = conf, pcaps, umask, workers
        self.group = group
        self.meta = meta or {}
        self.fam = fam    # inner "in" outer IP version
        self.args = list(args)  # espgw's own options beyond -f
        self.runs = []
        self.dirty = []   # (pps, worker CPU share) of runs measured again

    def cmd(self, prefix, huge, sink=None, infinite=True, stats_file=None):
        src = "net_pcap0," + ",".join("rx_pcap=" + p for p in self.pcaps)
        if infinite:
            src += ",infinite_rx=1"
        sink = sink or "net_null0,no-rx=1"
        if self.gw == "espgw":
            c = [common.ESPGW] + espgw_lcores(self.workers) + eal_common(prefix, huge)
            c += ["--vdev", src, "--vdev", sink, "--", "-f", self.conf] + self.args
            if stats_file:
                c += ["-s", stats_file]
            return c
        if self.gw == "l3fwd":
            # as ipsec-secgw: one lcore on CPU 1 polling both ports; LPM
            # (its default) with its built-in routes; --parse-ptype as the
            # vdevs report no packet types; port 1's next hop as espgw's
            c = [L3FWD, "-l", str(WORKER_CPU)] + eal_common(prefix, huge)
            c += ["--vdev", src, "--vdev", sink, "--",
                  "-p", "0x3", "-P", "--parse-ptype", "--eth-dest=1,%s" % PEER_MAC,
                  "--config", "(0,0,%d),(1,0,%d)" % (WORKER_CPU, WORKER_CPU)]
            return c
        c = [SECGW, "-l", str(WORKER_CPU)] + eal_common(prefix, huge)
        c += ["--vdev", src, "--vdev", sink, "--vdev", "crypto_aesni_gcm0", "--",
              "-p", "0x3", "-P", "-u", self.umask,
              "--config", "(0,0,%d),(1,0,%d)" % (WORKER_CPU, WORKER_CPU), "-f", self.conf]
        return c


def is_glob(k):
    return any(ch in k for ch in "*?[")


def selected(name, ks):
    """run.py -k: no -k, or a name containing one (or matching its glob)."""
    return not ks or any(fnmatch.fnmatch(name, k) if is_glob(k) else k in name for k in ks)


def case_names(families, no_scale=False):
    """Every case name build_cases() would make for these options, in its
    order, without making traffic or configurations (bench/ab.py -k)."""
    names = []
    args = argparse.Namespace(k=[], families=families, no_scale=no_scale)
    build_cases(None, args, want=lambda name: names.append(name) and False)
    return names


def build_cases(S, args, want=None):
    """The cases -k selects (want(name), by default selected()), in order."""
    cases = []
    want = want or (lambda name: selected(name, args.k))
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
            # DPDK's l3fwd, the forwarding floor (issue 15): the bypass
            # frames to an address its built-in LPM table sends to port 1
            name = "l3fwd-%s-%s" % (d, s)
            if d == "bypass" and want(name):
                pc = traffic(S, "plain", s, dst=L3FWD_DST)
                cases.append(Case(name, "l3fwd", d, s, None, [pc], group="floor"))
            # ESP in UDP beside plain ESP, espgw only (ipsec-secgw's software
            # path has no NAT-T): the same frames in, 8 bytes more on the ESP
            # side; measured right after the plain case it is compared with,
            # so that the drift of a shared machine within a round hits both
            if d == "bypass":
                continue
            name = "espgw-%s-udp-%s" % (d, s)
            if want(name):
                pc = traffic(S, "esp-udp" if d == "decap" else "plain", s)
                conf = write_conf("espgw-%s-udp.conf" % d, espgw_main_conf(d, udp=True))
                cases.append(Case(name, "espgw", d, s, conf, [pc], group="natt",
                                  meta={"udp": True}))
            # IPv6 inside, outside or both (issue #13), both gateways,
            # right after the 4in4 twins they are compared with
            for fam in getattr(args, "families", None) or []:
                for gw in ("espgw", "secgw"):
                    name = "%s-%s-%s-%s" % (gw, d, fam, s)
                    if not want(name):
                        continue
                    pc = traffic(S, "esp" if d == "decap" else "plain", s, fam=fam)
                    if gw == "espgw":
                        conf = write_conf("espgw-%s-%s.conf" % (d, fam),
                                          espgw_family_conf(d, fam))
                        cases.append(Case(name, gw, d, s, conf, [pc], group="ipv6",
                                          fam=fam))
                    else:
                        text, umask = secgw_conf(d, fam)
                        conf = write_conf("secgw-%s-%s.cfg" % (d, fam), text)
                        cases.append(Case(name, gw, d, s, conf, [pc], umask=umask,
                                          group="ipv6", fam=fam))
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
        # target 4: one SA's ESP on one RX queue, spread over both
        # workers by sequence number (--spread-esp): numbers 1..1024,
        # four runs of 256, two for each owner; or weighted, worker 0
        # (which receives and sends them all) owning three runs of the
        # four, one, or none
        for size in ("64", "1420"):
            for tag, gw_args in SPREAD_MAPS:
                name = "espgw-spread%s-decap-%s" % (tag, size)
                if want(name):
                    pc = traffic(S, "esp", size, n=1024)
                    conf = write_conf("espgw-decap.conf", espgw_main_conf("decap"))
                    cases.append(Case(name, "espgw", "decap", size, conf, [pc],
                                      workers=2, group="workers", args=gw_args))
    return cases
