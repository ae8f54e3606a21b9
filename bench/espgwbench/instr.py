"""Instructions per packet under callgrind (issue 15): a case run as the
timed runs run it, under valgrind --tool=callgrind, collecting inside the
worker's loop only, over an exact packet count. bench/instr.py and
bench/run.py's last step both measure with it; the count is the same
whatever else shares the machine."""

import argparse
import json
import os
import re
import shutil
import subprocess
import time

from .cases import build_cases
from .common import CEIL_CLI, FAMILIES, STOPSTATS, WORK, Fail, log
from .measure import read_stats_file
from .proc import Telemetry, cleanup_runtime, interrupt, tail

# the function each program runs its packet loop in: what --toggle-collect
# counts (start-up and shutdown are not counted)
TOGGLE = {"espgw": "gw_worker_main", "secgw": "ipsec_poll_mode_worker",
          "l3fwd": "lpm_main_loop"}
# what bench/run.py measures: the forwarding floor and the main 64- and
# 1420-byte cases of both gateways
CASES = (["%s-bypass-%s" % (gw, s) for s in ("64", "1420")
          for gw in ("espgw", "secgw", "l3fwd")] +
         ["%s-%s-%s" % (gw, d, s) for d in ("encap", "decap") for s in ("64", "1420")
          for gw in ("espgw", "secgw")])
# a burst: what l3fwd may hold in its TX buffer when it stops
MAX_BURST = 32


def ensure_valgrind():
    if not shutil.which("callgrind_annotate"):
        log("installing valgrind (apt-get)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq valgrind", shell=True,
                       check=False, stdout=subprocess.DEVNULL)
        if not shutil.which("callgrind_annotate"):
            raise Fail("no valgrind (apt-get install valgrind)")
    if not os.path.exists(STOPSTATS):
        raise Fail("%s was not built (ninja -C build)" % STOPSTATS)


def imb_arch():
    """The code path intel-ipsec-mb picks under valgrind (the CPU valgrind
    presents), from imb_ceiling_cli run under it for a moment."""
    r = subprocess.run(["valgrind", "-q", CEIL_CLI, "-s", "0.01", "-r", "1", "48"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    try:
        return json.loads(r.stdout)["arch"]
    except (ValueError, KeyError):
        return "unknown"


# the GCM lengths of a 64- and a 1420-byte frame's ESP (esp_ct_len)
RAW_LENS = (48, 1404)


def lib_calls(path, caller, lib):
    """From a callgrind file: the calls caller made into the library lib
    (a shared object's name) and their inclusive instructions."""
    names, obs = {}, {}
    ob = cob = fn = None
    calls = ir = 0
    pending = None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if pending is not None:
            # the line after calls=: position, then the inclusive cost
            f = line.split()
            if fn == caller and cob and lib in cob and len(f) > 1:
                calls += pending
                ir += int(f[1])
            pending, cob = None, ob
            continue
        m = re.match(r"(c?ob|c?fn)=\((\d+)\)(?: (.*))?$", line)
        if m:
            kind, ident, name = m.groups()
            table = obs if kind.endswith("ob") else names
            if name:
                table[ident] = name
            val = table.get(ident)
            if kind == "ob":
                ob = cob = val
            elif kind == "cob":
                cob = val
            elif kind == "fn":
                fn, cob = val, ob
        elif line.startswith("calls="):
            pending = int(line.split("=", 1)[1].split()[0])
    return calls, ir


def raw_call_ir(length):
    """intel-ipsec-mb's instructions for one direct GCM call of length
    bytes (encrypt and decrypt averaged), as callgrind counts them: its
    own code only, not the harness around it (bench/imb_ceiling_cli)."""
    out = os.path.join(WORK, "raw-%d.callgrind" % length)
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                    CEIL_CLI, "-s", "0.3", "-r", "1", "-a", "direct", str(length)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    calls, ir = lib_calls(out, "run_batch", "libIPSec_MB")
    if calls == 0:
        raise Fail("no intel-ipsec-mb call seen under callgrind at %d bytes" % length)
    return ir / calls


def measure_all(S, names, secs):
    """bench/run.py's last step: the named cases under callgrind, one after
    the other, as {"secs", "arch", "cases": {name: {packets, ir, check}}}."""
    ensure_valgrind()
    sub = argparse.Namespace(k=names, no_scale=True, families=FAMILIES)
    cases = {c.name: c for c in build_cases(S, sub) if c.name in names}
    missing = [n for n in names if n not in cases]
    if missing:
        raise Fail("no such case: %s" % ", ".join(missing))
    res = {"secs": secs, "arch": imb_arch(), "cases": {}}
    for n in names:
        log("callgrind: %s for %g s" % (n, secs))
        try:
            p, _, ir, check = run_case(cases[n], secs)
        except Fail as e:
            # one case's failure leaves the others' counts (and the timed
            # runs before them) worth reporting
            res["cases"][n] = {"error": str(e).splitlines()[0]}
            log("  FAILED: %s" % e)
            continue
        res["cases"][n] = {"packets": p, "ir": ir, "check": check}
        log("  %d packets (%s), %.0f instructions a packet" % (p, check, ir / p))
    # the cipher call alone, for target 2 in instructions
    res["raw"] = {}
    for n in RAW_LENS:
        try:
            res["raw"][str(n)] = raw_call_ir(n)
            log("callgrind: one GCM call of %d bytes, %.0f instructions" % (n, res["raw"][str(n)]))
        except (Fail, subprocess.CalledProcessError, OSError) as e:
            log("  raw cipher under callgrind FAILED: %s" % e)
    return res


def read_stopstats(path):
    """{port: {counter: n}} from libstopstats' file (the last line a port)."""
    ports = {}
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if len(f) >= 2 and f[0] == "port":
                ports[int(f[1])] = {f[i]: int(f[i + 1]) for i in range(2, len(f) - 1, 2)}
    return ports


def run_case(case, secs, reuse=False, cache_sim=False):
    """(packets, {function: Ir}, total Ir, check) of a case under callgrind;
    check says how the packet count was cross-checked. cache_sim: with
    valgrind's cache simulation (cache_misses() reads it)."""
    d = os.path.join(WORK, "instr")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, case.name + ".callgrind")
    stats = os.path.join(d, case.name + ".stats")
    ports_path = os.path.join(d, case.name + ".ports")
    logp = os.path.join(d, case.name + ".log")
    npath = os.path.join(d, case.name + ".packets")
    if reuse and os.path.exists(npath) and os.path.exists(out):
        funcs, total = annotate(out)
        f = open(npath).read().split("\t", 1)
        return int(f[0]), funcs, total, f[1].strip() if len(f) > 1 else ""
    for f in (out, stats, ports_path):
        if os.path.exists(f):
            os.remove(f)
    prefix = "espgwinstr%d_%s" % (os.getpid(), case.name)
    # --fair-sched: without it a polling worker keeps valgrind's one lock
    # and DPDK's telemetry thread may wait minutes for an answer
    cmd = ["valgrind", "--tool=callgrind", "--fair-sched=yes",
           "--callgrind-out-file=" + out, "--toggle-collect=" + TOGGLE[case.gw]]
    if cache_sim:
        cmd += ["--cache-sim=yes"] + ll_cache()
    cmd += case.cmd(prefix, False, stats_file=stats if case.gw == "espgw" else None)
    # the packet count: port 0's ipackets when the program stops its
    # ports, after its worker left the loop (bench/stopstats.c)
    env = dict(os.environ, STOPSTATS_FILE=ports_path)
    env["LD_PRELOAD"] = ":".join(x for x in (STOPSTATS, os.environ.get("LD_PRELOAD")) if x)
    with open(logp, "w") as fp:
        proc = subprocess.Popen(cmd, stdout=fp, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
    try:
        tel = Telemetry(prefix, proc, 180)
        tel.s.settimeout(120)   # its thread waits for valgrind's lock
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] == 0:
            if time.monotonic() - t0 > 120:
                raise Fail("%s forwarded nothing under valgrind (log %s)" % (case.name, logp))
            time.sleep(0.2)
        time.sleep(secs)
        seen = tel.stats(0)["ipackets"]   # a lower bound, for the check
        tel.close()
    finally:
        interrupt(proc, 120)   # valgrind is slow to stop; the exit code says
        cleanup_runtime(prefix)
    if proc.returncode != 0 or not os.path.exists(out):
        raise Fail("%s under valgrind exited with %s (log %s):\n%s"
                   % (case.name, proc.returncode, logp, tail(logp)))
    ports = read_stopstats(ports_path)
    if 0 not in ports or 1 not in ports:
        raise Fail("%s: no port counters at rte_eth_dev_stop in %s (LD_PRELOAD %s)"
                   % (case.name, ports_path, STOPSTATS))
    pkts = ports[0]["ipackets"]
    sent = ports[1]["opackets"]
    if pkts < seen or ports[0]["rx_nombuf"] or ports[1]["oerrors"]:
        raise Fail("%s: port counters at stop %s, telemetry saw %d received before"
                   % (case.name, ports, seen))
    check = check_count(case, out, stats, pkts, sent)
    with open(npath, "w") as fp:
        fp.write("%d\t%s\n" % (pkts, check))
    funcs, total = annotate(out)
    return pkts, funcs, total, check


def check_count(case, callgrind_out, stats, pkts, sent):
    """The count at stop against a second exact one of the program's own;
    returns what agreed, raises Fail when they differ."""
    if case.gw == "espgw":
        st = read_stats_file(stats)
        work = {"encap": "gw.encrypted", "decap": "gw.decrypted"}.get(case.direction)
        if st.get("gw.rx") != pkts or (work and st.get(work) != pkts):
            raise Fail("%s: port 0 received %d at stop, espgw counted gw.rx %s, %s %s"
                       % (case.name, pkts, st.get("gw.rx"), work, st.get(work)))
        return "= gw.rx" + (" = %s" % work if work else "")
    if case.gw == "secgw":
        # ipsec-secgw calls esp_outbound / esp_inbound once a packet
        f = {"encap": "esp_outbound", "decap": "esp_inbound"}.get(case.direction)
        if not f:
            return tx_buffered(case, pkts, sent)
        n = calls_to(callgrind_out, f)
        if n != pkts:
            raise Fail("%s: port 0 received %d at stop, %d calls of %s"
                       % (case.name, pkts, n, f))
        return "= calls of %s" % f
    return tx_buffered(case, pkts, sent)


def tx_buffered(case, pkts, sent):
    """Forwarding with no per-packet call to count: every packet received
    left by port 1 but for what the program still held in its TX buffer
    when it stopped (l3fwd, ipsec-secgw: less than a burst, unsent)."""
    if not 0 <= pkts - sent < MAX_BURST:
        raise Fail("%s: port 0 received %d at stop, port 1 sent %d" % (case.name, pkts, sent))
    return "port 1 opackets + %d" % (pkts - sent)


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


# valgrind's simulated first-level data cache and last-level cache:
# misses on reads and writes
CACHE_EVENTS = ("D1mr", "D1mw", "DLmr", "DLmw")


def ll_cache():
    """valgrind's --LL option for the host's last-level cache, from sysfs:
    valgrind's own guess from cpuid can be far off in a VM (an AMD EPYC
    guest's came out as 256 MiB, direct-mapped); [] when sysfs says
    nothing."""
    d = "/sys/devices/system/cpu/cpu0/cache"
    best = None
    for idx in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        try:
            f = {k: open(os.path.join(d, idx, k)).read().strip()
                 for k in ("level", "type", "size", "ways_of_associativity",
                           "coherency_line_size")}
        except OSError:
            continue
        if f["type"] == "Instruction" or (best and int(f["level"]) <= int(best["level"])):
            continue
        best = f
    if best is None or not best["size"].endswith("K"):
        return []
    size, ways, line = (int(best["size"][:-1]) * 1024, int(best["ways_of_associativity"]),
                        int(best["coherency_line_size"]))
    # valgrind wants a power-of-two set count (an Intel Xeon guest's
    # 480 MiB, 16-way L3 has 491,520 sets): the largest such cache of
    # the same ways and line that is not larger than the real one
    sets = size // (ways * line)
    sets = 1 << (sets.bit_length() - 1)
    return ["--LL=%d,%d,%d" % (sets * ways * line, ways, line)]


def func_key(what):
    """A function of a callgrind_annotate line ("file:function [dso]",
    call counts dropped): its name, with the library for an address (a
    stripped library); a function's parts inlined from other files come
    without the library, under its name."""
    what = re.sub(r" \([\d,]+x\)", "", what.strip())   # call counts (debug info)
    name, _, dso = what.partition(" [")
    name = name.split(":", 1)[1] if ":" in name else name
    dso = os.path.basename(dso.rstrip("]")).split(".so")[0]
    return "%s (%s)" % (name, dso) if name.startswith("0x") else name


def annotate_rows(path, events):
    """(the totals, {function: per-event counts summed}) of callgrind_annotate's
    self counts for the events, in that order."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100",
                           "--auto=no", "--show=" + ",".join(events), path],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True, check=True).stdout
    # each count as "1,234 (5.6%)" (the percentage is left out for 0 at
    # times), then the function
    row = re.compile(r"^\s*((?:[\d,]+\s+(?:\(\s*[\d.]+%\)\s+)?){" + str(len(events)) +
                     r"})(\S.*)$")
    total, funcs = None, {}
    for line in text.splitlines():
        m = row.match(line)
        if not m:
            continue
        v = [int(x.replace(",", "")) for x in
             re.sub(r"\([^)]*\)", "", m.group(1)).split()]
        if m.group(2).strip() == "PROGRAM TOTALS":
            total = v
            continue
        k = func_key(m.group(2))
        funcs[k] = [a + b for a, b in zip(funcs.get(k, [0] * len(v)), v)]
    return total, funcs


def cache_misses(path, top=12):
    """({"D1": misses, "LL": misses} in total, [(function, D1, LL)] of the
    top functions by D1 + 10 LL misses) of a callgrind file made with
    --cache-sim=yes."""
    total, funcs = annotate_rows(path, CACHE_EVENTS)
    if total is None:
        raise Fail("no cache events in %s (not run with --cache-sim=yes?)" % path)
    rows = [(k, v[0] + v[1], v[2] + v[3]) for k, v in funcs.items()]
    # by time, roughly: a miss to memory costs about ten first-level ones
    rows.sort(key=lambda r: -(r[1] + 10 * r[2]))
    return {"D1": total[0] + total[1], "LL": total[2] + total[3]}, rows[:top]


def annotate(path):
    """{function [dso]: self Ir} and the total, from callgrind_annotate."""
    total, funcs = annotate_rows(path, ("Ir",))
    return {k: v[0] for k, v in funcs.items()}, total[0] if total else 0
