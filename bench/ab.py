#!/usr/bin/python3
"""Compare two espgw binaries on the same cases, runs interleaved A B A B.

Usage: bench/ab.py OLD_BINARY NEW_BINARY -k CASE [-k CASE ...] [-n ROUNDS]

Each round runs bench/run.py --quick once per binary (same ports, traffic
and window as `make bench`), so slow drifts of a shared machine hit both
alike. Prints each case's median packets per second for A and B and the
ratio B/A with its spread over rounds. For deciding whether a change helps;
docs/performance.md comes from `make bench` only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def one(binary, cases, name):
    # timed rounds only: the callgrind companion is deterministic and
    # made a round of three cases take eight minutes
    cmd = ["/usr/bin/python3", os.path.join(HERE, "run.py"), "--quick", "--no-verify",
           "--no-instr", "--espgw", binary, "--name", name]
    for k in cases:
        cmd += ["-k", k]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(HERE, "results", name + ".json")) as f:
        data = json.load(f)
    return {c["name"]: statistics.median(r["pps"] for r in c["runs"])
            for c in data["cases"] if c["gw"] == "espgw"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="baseline espgw binary")
    ap.add_argument("b", help="espgw binary to compare")
    ap.add_argument("-k", action="append", required=True, help="case (as run.py -k)")
    ap.add_argument("-n", type=int, default=5, help="rounds (default 5)")
    args = ap.parse_args()
    pps = {"a": {}, "b": {}}
    for r in range(args.n):
        order = ("a", "b") if r % 2 == 0 else ("b", "a")
        for which in order:
            res = one(os.path.abspath(getattr(args, which)), args.k, "ab-" + which)
            for case, v in res.items():
                pps[which].setdefault(case, []).append(v)
        sys.stderr.write("round %d/%d done\n" % (r + 1, args.n))
    print("| case | A Mpps (median) | B Mpps (median) | B/A median | B/A min..max |")
    print("|---|---:|---:|---:|---|")
    for case in sorted(pps["a"]):
        a, b = pps["a"][case], pps["b"].get(case, [])
        ratios = [y / x for x, y in zip(a, b) if x]
        if not ratios:
            continue
        print("| %s | %.2f | %.2f | %.3f | %.3f..%.3f |" % (
            case, statistics.median(a) / 1e6, statistics.median(b) / 1e6,
            statistics.median(ratios), min(ratios), max(ratios)))


if __name__ == "__main__":
    main()
