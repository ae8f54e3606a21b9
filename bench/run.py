#!/usr/bin/python3
"""espgw beside DPDK's ipsec-secgw, l3fwd and the raw cipher, in one run (issues 5, 15).

Run as root with /usr/bin/python3 (python3-scapy, python3-cryptography,
python3-matplotlib; the last is installed with apt-get when missing):

    /usr/bin/python3 bench/run.py              # everything, ~50 min
    /usr/bin/python3 bench/run.py --quick      # 1 run a case, short windows
    /usr/bin/python3 bench/run.py -k encap-64 -k ceiling    # some cases only
    /usr/bin/python3 bench/run.py -k 'e*cap-64' -k 'e*cap-4in6-64' --families 4in6
    /usr/bin/python3 bench/run.py --profile    # also perf profiles (espgw, secgw)
    /usr/bin/python3 bench/run.py --from-json bench/results/latest.json --out /tmp/r
                                               # the report again, measuring nothing

What it does, all in one run:

* The same virtual ports for every gateway: port 0 = net_pcap0 with
  rx_pcap=<file>,infinite_rx=1 (the source; it copies each frame of its
  file into a fresh mbuf of the gateway's pool, round and round), port 1 =
  net_null0 with no-rx=1 (the sink). Traffic is made with scapy; both
  gateways read byte-identical pcap files for the same case (l3fwd: their
  twins, see below).
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
* The forwarding floor (issue 15): DPDK's l3fwd (also from dpdk-doc, built
  with its Makefile and the same one change as ipsec-secgw's: its default
  RX checksum offload dropped on ports that lack it; RSS it drops itself)
  runs the bypass cases, l3fwd-bypass-*, in the same rounds right after
  espgw's and secgw's: -l 1 as secgw, -p 0x3 -P --parse-ptype (vdevs report
  no packet types) --config "(0,0,1),(1,0,1)" (both ports polled, as the
  gateways do), LPM lookup with its built-in table, which routes
  198.18.P.0/24 to port P: its pcaps are the bypass pcaps' twins, the
  same frames to 198.18.1.10, so they leave by port 1. The report's
  "Forwarding floor" table gives ns/pkt of the three and espgw's ratio to
  l3fwd (target: at most 1.3 at 64 bytes).
* Throughput = packets leaving the sink port per second (ethdev opackets
  over the telemetry socket) over a window after a warm-up; N runs a case,
  the cases interleaved round by round so slow phases of a shared machine
  hit every case alike; min / median / max.
* IPv6 (--families, default 4in6,6in6; 6in4 on request): the encap and
  decap cases with IPv6 tunnel ends (ipsec-secgw: mode ipv6-tunnel, rt
  ipv6) or IPv6 inner packets (sp ipv6; 66-byte frames where IPv4 has 64:
  IPv6 + UDP does not fit 64), each measured right after its 4in4 twin in
  the same round; the report gives espgw/secgw and IPv6/IPv4 per case.
* Loss accounting per run: source packets received vs sink packets sent in
  the window, imissed / rx_nombuf / oerrors, and espgw's own counters from
  --stats-file at exit (every drop counter by name).
* The ceiling: bench/imb_ceiling_cli, raw intel-ipsec-mb AES-128-GCM
  encrypt / decrypt calls per second on CPU 1 at the lengths GCM processes
  for each frame size.
* Scale: espgw encap and decap of 64-byte frames with 1, 1,000 and 100,000
  SAs and 10, 1,000 and 10,000 policies; 1 and 2 workers.
* Instructions per packet (issue 15), last and once (--no-instr skips
  it): the bypass, encap and decap cases of 64 and 1420 bytes, espgw,
  ipsec-secgw and l3fwd, each run again under valgrind's callgrind for
  --instr-secs of traffic, counting inside the packet loop over an exact
  packet count (bench/instr.py, espgwbench/instr.py): a figure the load
  of a shared machine does not move, beside the timed Mpps. About a
  minute a case; -k selects among them as among the timed cases.
* Before measuring, a functional check: each gateway is fed the IMIX pcap
  once (no infinite_rx) into a net_pcap sink and every output frame is
  checked with scapy (decrypted with the SA's key where it is ESP), and
  espgw's counters say every frame was encrypted (or decrypted) and sent.

Writes bench/results/latest.md (+ latest.json, latest.png; profile-CASE.txt
for each case profiled) and prints the tables.  Exits non-zero when a
gateway fails to start, to forward or to produce correct output; missed
performance targets are reported, not failures.  Work files (secgw and
l3fwd builds, pcaps, configs, logs) live under build/secgw, build/l3fwd
and build/bench-run.

The code is in bench/espgwbench/, a module a concern: common (paths,
addresses, keys, sizes, targets), host (hugepages, machine, builds),
traffic (scapy pcaps), gwconf (espgw and ipsec-secgw configurations),
cases (the case list and command lines), proc (starting, stopping,
telemetry), measure (runs, functional check, ceiling, profiles), report
(Markdown, JSON) and plot (matplotlib); this file parses the options and
runs the rounds.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import time

from espgwbench import common
from espgwbench.cases import build_cases, selected
from espgwbench.common import RESULTS, WORK, WORKER_CPU, Fail, log
from espgwbench.host import (build_espgw, build_l3fwd, build_secgw, cpu_model,
                             ensure_python_modules, git_state, lscpu_summary, setup_hugepages, sh)
from espgwbench.instr import CASES as INSTR_CASES
from espgwbench.instr import measure_all as instr_measure
from espgwbench.measure import (ceiling_merge, ceiling_once, measure, profile, read_profile,
                                verify)
from espgwbench.plot import plot
from espgwbench.proc import espgw_check
from espgwbench.report import report, run_json
from espgwbench.traffic import scapy_mods

# what --profile profiles (before any --profile-case)
PROFILE_CASES = ["espgw-encap-64", "espgw-decap-64", "espgw-bypass-64",
                 "secgw-encap-64", "secgw-decap-64", "secgw-bypass-64"]


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
    ap.add_argument("--families", default=",".join(common.DEFAULT_FAMILIES),
                    help="IPv6 tunnel families measured beside 4in4, inner 'in' outer, "
                         "comma-separated, of %s (default %s; '' for none)"
                         % (",".join(common.FAMILIES), ",".join(common.DEFAULT_FAMILIES)))
    ap.add_argument("--no-scale", action="store_true", help="skip scale and worker cases")
    ap.add_argument("--no-verify", action="store_true", help="skip the functional check")
    ap.add_argument("--profile", action="store_true",
                    help="also perf-profile espgw and secgw encap/decap/bypass of 64-byte frames")
    ap.add_argument("--profile-case", action="append", default=[],
                    help="also perf-profile this case (full name); repeatable")
    ap.add_argument("--profile-secs", type=float, default=4.0)
    ap.add_argument("--no-instr", action="store_true",
                    help="skip the instructions per packet under callgrind (the last step)")
    ap.add_argument("--instr-secs", type=float,
                    help="seconds of traffic a case under callgrind (default 8, --quick 3)")
    ap.add_argument("--no-huge", action="store_true",
                    help="do not use hugepages (EAL --no-huge -m 2048)")
    ap.add_argument("--espgw", help="espgw binary to measure (default: build/app/espgw "
                    "after ninja -C build; a copy is measured)")
    ap.add_argument("--from-json", metavar="JSON",
                    help="measure nothing: write the report again from a run's JSON "
                         "into --out, with its profiles (profile-CASE.txt, looked for "
                         "beside the JSON, then in the run's --out; copied into --out)")
    ap.add_argument("--out", default=RESULTS, help="results directory (bench/results)")
    ap.add_argument("--name", default="latest", help="results file stem (latest)")
    args = ap.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    args.window = args.window if args.window is not None else (1.0 if args.quick else 3.0)
    args.instr_secs = args.instr_secs or (3.0 if args.quick else 8.0)
    args.families = [f for f in args.families.split(",") if f]
    for f in args.families:
        if f not in common.FAMILIES:
            ap.error("--families: %s is not one of %s" % (f, ", ".join(common.FAMILIES)))

    if args.from_json:
        return rereport(args)
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
        build_l3fwd()
        os.makedirs(WORK, exist_ok=True)
        os.makedirs(args.out, exist_ok=True)
        log("making traffic (scapy; cached under %s)" % os.path.join(WORK, "pcap"))
        cases = build_cases(S, args)
        # an IPv6 family this espgw does not carry yet is left out, said so
        skipped = {}
        for fam in args.families:
            conf = next((c.conf for c in cases if c.fam == fam and c.gw == "espgw"), None)
            why = conf and espgw_check(common.ESPGW, conf, "espgwbenchchk%d" % os.getpid())
            if why and "not used by the gateway yet" in why:
                skipped[fam] = why.replace("espgw: ", "").split(": ", 1)[-1]
                log("  %s left out: espgw says %s" % (fam, skipped[fam]))
            elif why:
                raise Fail("espgw refuses %s: %s" % (conf, why))
        cases = [c for c in cases if c.fam not in skipped]
        do_ceiling = not args.k or any("ceiling" in k for k in args.k)
        if not cases and not do_ceiling and not args.profile and not args.profile_case:
            raise Fail("no case matches %s" % args.k)

        verified = []
        if not args.no_verify:
            for c in cases:
                if c.group in ("main", "natt", "ipv6", "floor") and c.size == "imix":
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
            pnames = PROFILE_CASES + pnames
        for name in pnames:
            sub = argparse.Namespace(k=[name], no_scale=False, families=common.FAMILIES)
            found = [c for c in build_cases(S, sub) if c.name == name]
            if not found:
                raise Fail("--profile-case %s: no such case" % name)
            log("profiling %s for %g s" % (name, args.profile_secs))
            profiles[name] = profile(found[0], huge, args.profile_secs, args.out)

        # last, as it takes a minute a case: instructions per packet, the
        # figure a shared machine's load does not move (issue 15)
        instr = None
        inames = [n for n in INSTR_CASES if selected(n, args.k)]
        if not args.no_instr and inames:
            log("instructions per packet under callgrind: %d cases, %g s each"
                % (len(inames), args.instr_secs))
            try:
                instr = instr_measure(S, inames, args.instr_secs)
            except (Fail, OSError) as e:
                # the timed runs are still worth their report (OSError:
                # a telemetry socket that timed out)
                log("instructions per packet not measured: %s" % e)
                instr = {"error": str(e)}

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
        env["families_skipped"] = skipped
        env["espgw_bin"] = "%s (copy of %s, sha256 %s)" % (
            common.ESPGW, args.espgw or "build/app/espgw", espgw_hash)
        text, summary = report(cases, ceil, env, args, profiles, instr)
        text += "\nTotal benchmark time: %.0f s.\n" % (time.monotonic() - t_start)
        md = os.path.join(args.out, args.name + ".md")
        with open(md, "w") as fp:
            fp.write(text)
        js = {
            "env": env, "args": vars(args), "ceiling": ceil, "instr": instr,
            # what the report shows of each; the full text is the file
            "profiles": {n: {"path": p, "top": top, "pps": v}
                         for n, (p, top, v) in profiles.items()},
            "cases": [{"name": c.name, "gw": c.gw, "dir": c.direction, "size": c.size,
                       "fam": c.fam, "dirty": c.dirty,
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


def rereport(args):
    """The report of a finished run again, from its JSON (report changes)."""
    import types
    j = json.load(open(args.from_json))
    if j.get("ceiling") and "by_len" in j["ceiling"]:
        # JSON keeps the ceiling's lengths as strings
        j["ceiling"]["by_len"] = {int(k): v for k, v in j["ceiling"]["by_len"].items()}
    cases = []
    for c in j["cases"]:
        runs = [types.SimpleNamespace(**r) for r in c["runs"]]
        cases.append(types.SimpleNamespace(
            name=c["name"], gw=c["gw"], direction=c["dir"], size=c["size"],
            workers=c["workers"], group=c["group"], meta=c["meta"],
            fam=c.get("fam", "4in4"), dirty=[tuple(x) for x in c.get("dirty", [])],
            runs=runs))
    a = argparse.Namespace(**j["args"])
    os.makedirs(args.out, exist_ok=True)
    profiles = old_profiles(j, args.from_json, args.out)
    text, _ = report(cases, j["ceiling"], j["env"], a, profiles, j.get("instr"))
    md = os.path.join(args.out, args.name + ".md")
    with open(md, "w") as fp:
        fp.write(text)
    print(text)
    log("wrote %s (from %s)" % (md, args.from_json))
    return 0


def old_profiles(j, from_json, out):
    """The profiles of a finished run for its report: what its JSON recorded
    or, in a JSON from before they were recorded there, what its options
    profiled, read from the files. Each profile-CASE.txt is looked for
    beside the JSON, then where the run wrote it, and copied into out,
    where the report says the full text is."""
    old = j["args"]
    if "profiles" in j:
        names = list(j["profiles"])
    else:
        names = (PROFILE_CASES if old.get("profile") else []) + old.get("profile_case", [])
    profiles = {}
    for name in names:
        base = "profile-%s.txt" % name
        rec = (j.get("profiles") or {}).get(name)
        dirs = [os.path.dirname(os.path.abspath(from_json)), old.get("out") or RESULTS]
        if rec:
            dirs.append(os.path.dirname(rec["path"]))
        found = next((p for p in (os.path.join(d, base) for d in dirs)
                      if os.path.isfile(p)), None)
        dest = os.path.join(out, base)
        if rec:
            profiles[name] = (dest, rec["top"], rec["pps"])
            if not found:
                log("note: %s not found; the report names it all the same" % base)
        elif found:
            try:
                profiles[name] = (dest,) + read_profile(found)[1:]
            except Fail as e:
                log("note: left out of the report: %s" % e)
                continue
        else:
            log("note: %s not found beside %s or in %s: left out of the report"
                % (base, from_json, dirs[1]))
        if found and not (os.path.exists(dest) and os.path.samefile(found, dest)):
            shutil.copyfile(found, dest)
    return profiles


if __name__ == "__main__":
    sys.exit(main())
