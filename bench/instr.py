#!/usr/bin/python3
"""Instructions per packet under callgrind: what a case costs, function by
function, without the noise of a shared machine.

Run as root with /usr/bin/python3 (valgrind), after bench/run.py has built
the binaries (or it builds them):

    /usr/bin/python3 bench/instr.py                  # 64-byte encap/decap, 4in4 vs 4in6, 6in6
    /usr/bin/python3 bench/instr.py -k espgw-encap-4in6-64 -k espgw-encap-64 --secs 20

Each case runs as bench/run.py runs it (net_pcap0 with infinite_rx=1 ->
net_null0, the same pcaps and configurations; EAL --no-huge, valgrind
maps no hugepages) under valgrind --tool=callgrind, collecting inside the
worker's loop only (--toggle-collect: gw_worker_main for espgw,
ipsec_poll_mode_worker for ipsec-secgw): start-up is not counted, and with
an endless source the loop never idles, so its instructions over the
packets it received are the cost of a packet, the ports' drivers
included. Packets: espgw's gw.rx at exit, ipsec-secgw's calls of
esp_outbound (esp_inbound), once a packet: both exact. valgrind presents a CPU without
AVX-512, so intel-ipsec-mb runs its AVX2 code here (its counts are not
the measured runs'); the same for every case.

Prints (and writes bench/results/instr.md): instructions per packet per
case, and for each IPv6 case against its 4in4 twin the functions whose
count per packet differs most.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

from espgwbench import common
from espgwbench.cases import build_cases
from espgwbench.common import FAMILIES, RESULTS, WORK, Fail, log
from espgwbench.host import build_espgw, build_secgw
from espgwbench.measure import read_stats_file
from espgwbench.proc import Telemetry, cleanup_runtime, tail
from espgwbench.traffic import scapy_mods

TOGGLE = {"espgw": "gw_worker_main", "secgw": "ipsec_poll_mode_worker"}
DEFAULT = ["espgw-encap-64", "espgw-decap-64", "secgw-encap-64", "secgw-decap-64"] + [
    "%s-%s-%s-64" % (gw, d, fam) for fam in ("4in6", "6in6")
    for gw in ("espgw", "secgw") for d in ("encap", "decap")]


def run_case(case, secs, reuse=False):
    """(packets, {function: Ir}, total Ir) of a case under callgrind."""
    d = os.path.join(WORK, "instr")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, case.name + ".callgrind")
    stats = os.path.join(d, case.name + ".stats")
    logp = os.path.join(d, case.name + ".log")
    npath = os.path.join(d, case.name + ".packets")
    if reuse and os.path.exists(npath) and os.path.exists(out):
        funcs, total = annotate(out)
        return int(open(npath).read()), funcs, total
    for f in (out, stats):
        if os.path.exists(f):
            os.remove(f)
    prefix = "espgwinstr%d_%s" % (os.getpid(), case.name)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
           "--toggle-collect=" + TOGGLE[case.gw]]
    cmd += case.cmd(prefix, False, stats_file=stats if case.gw == "espgw" else None)
    with open(logp, "w") as fp:
        proc = subprocess.Popen(cmd, stdout=fp, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    pkts = None
    try:
        tel = Telemetry(prefix, proc, 180)
        tel.s.settimeout(120)   # its thread waits for valgrind's lock
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] == 0:
            if time.monotonic() - t0 > 120:
                raise Fail("%s forwarded nothing under valgrind (log %s)" % (case.name, logp))
            time.sleep(0.2)
        time.sleep(secs)
        if case.gw != "espgw":   # espgw's own count at exit is exact
            pkts = tel.stats(0)["ipackets"]
        tel.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        cleanup_runtime(prefix)
    if proc.returncode != 0 or not os.path.exists(out):
        raise Fail("%s under valgrind exited with %s (log %s):\n%s"
                   % (case.name, proc.returncode, logp, tail(logp)))
    if case.gw == "espgw":
        st = read_stats_file(stats)
        pkts = st.get("gw.rx", pkts)
        work = {"encap": "gw.encrypted", "decap": "gw.decrypted"}.get(case.direction)
        if work and st.get(work) != st.get("gw.rx"):
            raise Fail("%s: %s %s of gw.rx %s" % (case.name, work, st.get(work),
                                                  st.get("gw.rx")))
    else:
        # ipsec-secgw calls esp_outbound / esp_inbound once a packet: exact,
        # where telemetry read before SIGINT misses what came after it
        f = {"encap": "esp_outbound", "decap": "esp_inbound"}.get(case.direction)
        if f:
            pkts = calls_to(out, f) or pkts
    with open(npath, "w") as fp:
        fp.write("%d\n" % pkts)
    funcs, total = annotate(out)
    return pkts, funcs, total


def calls_to(path, fname):
    """How many times a function was called, from a callgrind file."""
    names, n, callee = {}, 0, None
    for line in open(path, errors="replace"):
        if line.startswith(("fn=", "cfn=")):
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.strip())
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
            callee = names.get(m.group(1)) if m and line.startswith("cfn=") else None
        elif line.startswith("calls=") and callee == fname:
            n += int(line.split("=", 1)[1].split()[0])
    return n


LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def annotate(path):
    """{function [dso]: self Ir} and the total, from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no",
                           path],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True, check=True).stdout
    funcs, total = {}, 0
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        what = m.group(2).strip()
        if what == "PROGRAM TOTALS":
            total = ir
            continue
        what = re.sub(r" \([\d,]+x\)", "", what)   # call counts (debug info)
        name, _, dso = what.partition(" [")
        name = name.split(":", 1)[1] if ":" in name else name
        dso = os.path.basename(dso.rstrip("]")).split(".so")[0]
        # a function's parts inlined from other files come without the
        # library; an address (a stripped library) needs it
        key = "%s (%s)" % (name, dso) if name.startswith("0x") else name
        funcs[key] = funcs.get(key, 0) + ir
    return funcs, total


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
    ap.add_argument("--secs", type=float, default=20.0,
                    help="seconds of traffic under valgrind a case (default 20)")
    ap.add_argument("--top", type=int, default=14, help="functions listed a pair")
    ap.add_argument("--espgw", help="espgw binary (default: build/app/espgw)")
    ap.add_argument("--reuse", action="store_true",
                    help="annotate the last run's callgrind files again, run nothing")
    ap.add_argument("--out", default=os.path.join(RESULTS, "instr.md"))
    args = ap.parse_args()
    try:
        S = scapy_mods()
        if not args.reuse:
            build_espgw(args.espgw)
            build_secgw()
        names = args.k or DEFAULT
        sub = argparse.Namespace(k=names, no_scale=True, families=FAMILIES)
        cases = {c.name: c for c in build_cases(S, sub) if c.name in names}
        missing = [n for n in names if n not in cases]
        if missing:
            raise Fail("no such case: %s" % ", ".join(missing))
        res = {}
        for n in names:
            log("callgrind: %s for %g s" % (n, args.secs))
            res[n] = run_case(cases[n], args.secs, args.reuse)
            p, _, t = res[n]
            log("  %d packets, %.0f instructions a packet" % (p, t / p))
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
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fp:
        fp.write(text)
    print(text)
    log("wrote %s" % args.out)
    return 0


def common_git():
    try:
        return subprocess.run(["git", "-C", common.ROOT, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
