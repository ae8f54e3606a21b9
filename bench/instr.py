#!/usr/bin/python3
"""Instructions per packet under callgrind: what a case costs, function by
function, without the noise of a shared machine.

Run as root with /usr/bin/python3 (valgrind), after bench/run.py has built
the binaries (or it builds them):

    /usr/bin/python3 bench/instr.py            # what make bench measures (espgwbench.instr.CASES)
    /usr/bin/python3 bench/instr.py --ipv6     # 64-byte encap/decap, 4in4 vs 4in6, 6in6
    /usr/bin/python3 bench/instr.py -k espgw-encap-4in6-64 -k espgw-encap-64 --secs 20

Each case runs as bench/run.py runs it (net_pcap0 with infinite_rx=1 ->
net_null0, the same pcaps and configurations; EAL --no-huge, valgrind
maps no hugepages) under valgrind --tool=callgrind, collecting inside the
worker's loop only (--toggle-collect: gw_worker_main for espgw,
ipsec_poll_mode_worker for ipsec-secgw, lpm_main_loop for l3fwd):
start-up is not counted, and with an endless source the loop never
idles, so its instructions over the packets it received are the cost of
a packet, the ports' drivers included. Packets: port 0's ipackets when
the program stops its ports after the loop (build/bench/libstopstats.so,
LD_PRELOAD), exact, and checked against a second count: espgw's gw.rx
(and gw.encrypted / gw.decrypted) at exit, ipsec-secgw's calls of
esp_outbound (esp_inbound), once a packet, and for forwarding without
such a call (l3fwd, secgw bypass) port 1's opackets, less than a burst
behind. valgrind presents a CPU without AVX-512, so intel-ipsec-mb runs
its AVX2 code here (its counts are not the measured runs'); the same for
every case.

With --cache-sim valgrind also simulates the data caches (first level
and last level, sized as cpuid reports the host's) and the report adds
misses a packet per case and the functions that miss most: where a
scale case's extra time comes from, deterministically, on a machine with
no hardware counters (prefetches are not modelled: a line asked for
early still counts as the load's miss).

    /usr/bin/python3 bench/instr.py --cache-sim -k espgw-scale-encap-sa1-pol10 \
        -k espgw-scale-encap-sa100000-pol10000

Prints (and writes bench/results/instr.md): instructions per packet per
case, and for each IPv6 case against its 4in4 twin the functions whose
count per packet differs most. bench/run.py measures the same cases as
its last step and reports them in its "Instructions per packet" table.
"""

import argparse
import os
import subprocess
import sys

from espgwbench import common
from espgwbench.cases import build_cases
from espgwbench.common import FAMILIES, RESULTS, Fail, log
from espgwbench.host import build_espgw, build_l3fwd, build_secgw
from espgwbench.instr import CASES, cache_misses, ensure_valgrind, run_case
from espgwbench.traffic import scapy_mods

IPV6 = ["espgw-encap-64", "espgw-decap-64", "secgw-encap-64", "secgw-decap-64"] + [
    "%s-%s-%s-64" % (gw, d, fam) for fam in ("4in6", "6in6")
    for gw in ("espgw", "secgw") for d in ("encap", "decap")]


def twin(name):
    """The 4in4 case an IPv6 case is compared with, or None."""
    for fam in FAMILIES:
        if "-%s-" % fam in name:
            return name.replace("-%s-" % fam, "-")
    return None


def main():
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", action="append", default=[], help="case (full name); repeatable")
    ap.add_argument("--ipv6", action="store_true",
                    help="the IPv6 families' 64-byte cases beside their 4in4 twins")
    ap.add_argument("--secs", type=float, default=20.0,
                    help="seconds of traffic under valgrind a case (default 20)")
    ap.add_argument("--top", type=int, default=14, help="functions listed a pair")
    ap.add_argument("--espgw", help="espgw binary (default: build/app/espgw)")
    ap.add_argument("--cache-sim", action="store_true",
                    help="with valgrind's cache simulation: data-cache misses a packet "
                    "(first level and last level, as cpuid sizes them) beside the "
                    "instructions; scale cases (-k espgw-scale-...) allowed")
    ap.add_argument("--reuse", action="store_true",
                    help="annotate the last run's callgrind files again, run nothing")
    ap.add_argument("--out", default=os.path.join(RESULTS, "instr.md"))
    args = ap.parse_args()
    try:
        S = scapy_mods()
        if not args.reuse:
            build_espgw(args.espgw)
            build_secgw()
            build_l3fwd()
            ensure_valgrind()
        names = args.k or (IPV6 if args.ipv6 else CASES)
        sub = argparse.Namespace(k=names, families=FAMILIES,
                                 no_scale=not any("-scale-" in n for n in names))
        cases = {c.name: c for c in build_cases(S, sub) if c.name in names}
        missing = [n for n in names if n not in cases]
        if missing:
            raise Fail("no such case: %s" % ", ".join(missing))
        res, misses = {}, {}
        for n in names:
            log("callgrind: %s for %g s" % (n, args.secs))
            p, funcs, t, check = run_case(cases[n], args.secs, args.reuse, args.cache_sim)
            res[n] = p, funcs, t
            log("  %d packets (%s), %.0f instructions a packet" % (p, check, t / p))
            if args.cache_sim:
                misses[n] = cache_misses(os.path.join(common.WORK, "instr",
                                                      n + ".callgrind"), args.top)
    except Fail as e:
        print("bench/instr.py: FAILED: %s" % e, file=sys.stderr, flush=True)
        return 1
    lines = ["# Instructions per packet (callgrind, bench/instr.py)", "",
             "Inside the worker loop (start-up not counted), endless source: the ports' "
             "drivers included; intel-ipsec-mb on its AVX2 code under valgrind. "
             "espgw git %s." % common_git(), "",
             "| case | packets | instructions / packet | vs 4in4 twin |", "|---|---:|---:|---:|"]
    for n in names:
        p, _, t = res[n]
        tw = twin(n)
        rel = ""
        if tw in res:
            rel = "%+.0f (%.2fx)" % (t / p - res[tw][2] / res[tw][0],
                                     (t / p) / (res[tw][2] / res[tw][0]))
        lines.append("| %s | %d | %.0f | %s |" % (n, p, t / p, rel))
    for n in names:
        tw = twin(n)
        if tw not in res:
            continue
        (p6, f6, _), (p4, f4, _) = res[n], res[tw]
        keys = set(f6) | set(f4)
        rows = sorted(keys, key=lambda k: -abs(f6.get(k, 0) / p6 - f4.get(k, 0) / p4))
        lines += ["", "## %s against %s: functions, instructions / packet" % (n, tw), "",
                  "| function (library) | %s | %s | delta |" % (tw, n), "|---|---:|---:|---:|"]
        for k in rows[:args.top]:
            a, b = f4.get(k, 0) / p4, f6.get(k, 0) / p6
            lines.append("| %s | %.1f | %.1f | %+.1f |" % (k, a, b, b - a))
    if misses:
        lines += miss_lines(names, res, misses)
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fp:
        fp.write(text)
    print(text)
    log("wrote %s" % args.out)
    return 0


def miss_lines(names, res, misses):
    """The cache simulation's tables: misses a packet per case, and for
    each case the functions that miss most (D1 + 10 LL)."""
    lines = ["", "## Data-cache misses a packet (valgrind's cache simulation)", "",
             "| case | D1 misses / packet | LL misses / packet |", "|---|---:|---:|"]
    for n in names:
        p, tot = res[n][0], misses[n][0]
        lines.append("| %s | %.2f | %.2f |" % (n, tot["D1"] / p, tot["LL"] / p))
    for n in names:
        p = res[n][0]
        lines += ["", "### %s: functions missing most (D1 + 10 LL), a packet" % n, "",
                  "| function | D1 | LL |", "|---|---:|---:|"]
        for name, d1, ll in misses[n][1]:
            lines.append("| %s | %.2f | %.2f |" % (name, d1 / p, ll / p))
    return lines


def common_git():
    try:
        return subprocess.run(["git", "-C", common.ROOT, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
