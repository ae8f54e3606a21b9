#!/usr/bin/python3
"""Compare two espgw binaries on the same cases, runs interleaved A B A B.

Usage: bench/ab.py OLD_BINARY NEW_BINARY -k CASE [-k CASE ...] [-n ROUNDS]
       bench/ab.py OLD_BINARY NEW_BINARY -k CASE [-k CASE ...] --list

-k names one espgw case of bench/run.py exactly (espgw-decap-64), or is a
glob when it holds * ? or [ ('espgw-scale-*-sa1-pol10'): unlike run.py's
-k, never a substring, so espgw-scale-encap-sa1-pol10 is that case alone,
not also its pol1000 and pol10000 rows. A -k that selects no case is an
error; --list prints what the -k select and exits.

Each round runs bench/run.py --quick once per binary (same ports, traffic
and window as `make bench`), so slow drifts of a shared machine hit both
alike. Prints each case's median packets per second for A and B and the
ratio B/A with its spread over rounds. For deciding whether a change helps;
docs/performance.md comes from `make bench` only.
"""
import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys

from espgwbench import common
from espgwbench.cases import case_names, is_glob

HERE = os.path.dirname(os.path.abspath(__file__))


def pick(ks, names):
    """The names the -k select, in run.py's order, or (None, error)."""
    chosen = set()
    for k in ks:
        hits = fnmatch.filter(names, k) if is_glob(k) else [n for n in names if n == k]
        if not hits:
            return None, "-k %s: no espgw case %s (--list with -k 'espgw-*' lists them)" % (
                k, "matches this glob" if is_glob(k) else "has this name")
        if not is_glob(k) and len(hits) > 1:
            return None, "-k %s: %d cases have this name" % (k, len(hits))
        chosen.update(hits)
    return [n for n in names if n in chosen], None


def exact(name):
    """A glob run.py -k matches against this name alone (its -k without
    * ? [ would match every name containing it)."""
    return "[%s]%s" % (name[0], name[1:])


def one(binary, cases, name):
    # timed rounds only: the callgrind companion is deterministic and
    # made a round of three cases take eight minutes
    cmd = ["/usr/bin/python3", os.path.join(HERE, "run.py"), "--quick", "--no-verify",
           "--no-instr", "--espgw", binary, "--name", name]
    for case in cases:
        cmd += ["-k", exact(case)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(HERE, "results", name + ".json")) as f:
        data = json.load(f)
    return {c["name"]: statistics.median(r["pps"] for r in c["runs"])
            for c in data["cases"] if c["gw"] == "espgw"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="baseline espgw binary")
    ap.add_argument("b", help="espgw binary to compare")
    ap.add_argument("-k", action="append", required=True,
                    help="an espgw case of run.py by its full name, or a glob when it "
                         "holds * ? [ (not a substring, unlike run.py -k); repeatable")
    ap.add_argument("-n", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--list", action="store_true",
                    help="print the cases the -k select and exit")
    args = ap.parse_args()
    # the cases run.py makes with its default --families; ab.py compares
    # espgw builds, so only espgw's
    names = [n for n in case_names(common.DEFAULT_FAMILIES) if n.startswith("espgw-")]
    cases, err = pick(args.k, names)
    if err:
        ap.error(err)
    if args.list:
        print("\n".join(cases))
        return
    pps = {"a": {}, "b": {}}
    for r in range(args.n):
        order = ("a", "b") if r % 2 == 0 else ("b", "a")
        for which in order:
            res = one(os.path.abspath(getattr(args, which)), cases, "ab-" + which)
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
