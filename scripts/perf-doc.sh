#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Write docs/performance.md (and its plot) from the last bench/run.py
# results and a fresh run of the ESP core micro-benchmark. `make bench`
# runs it after bench/run.py.
set -eu
cd "$(dirname "$0")/.."
res=${1:-bench/results/latest}
build=${BUILD:-build}
[ -f "$res.md" ] || { echo "no $res.md: run bench/run.py first" >&2; exit 1; }
# the "Control plane" section is bench/ctl.py's (make bench-control): kept
control=$(awk '/^## Control plane$/ { on = 1; print; next }
	on && /^## / { exit } on { print }' docs/performance.md 2>/dev/null || true)
cp "$res.png" docs/performance.png
# a program in a session of its own at autogroup nice -15: with
# autogroup scheduling nice alone ranks it only within its session
above() {
	setsid sh -c 'echo -15 > /proc/self/autogroup 2>/dev/null;
		exec nice -n -15 "$@"' sh "$@"
}
{
	echo "# Performance"
	echo
	echo "Written by \`make bench\` (bench/run.py, then scripts/perf-doc.sh)."
	echo "The machines this project runs on are shared 2-CPU VMs: compare"
	echo "ratios within one run, never absolute numbers across runs."
	echo
	echo "![Mpps per frame size: espgw, ipsec-secgw, raw cipher](performance.png)"
	echo
	echo "Where the time goes, what was changed and measured, and what is"
	echo "left: [performance-analysis.md](performance-analysis.md)."
	echo
	sed '1d' "$res.md" | sed 's/^## /### /; s/^# /## /'
	echo
	echo "## ESP core micro-benchmark (bench/esp_micro)"
	echo
	echo "The library alone, no ports: bursts of 32 inner IPv4 packets"
	echo "encapsulated and decapsulated on one core beside the raw"
	echo "intel-ipsec-mb calls (direct, job and burst API) for the same"
	echo "sizes, in one run. It is why the library calls the direct GCM API."
	echo "Its hostile-traffic table is what a flood costs a worker beside"
	echo "real traffic (issue #14: forged ICVs on a valid SPI dropped at"
	echo "least as fast as packets are decapsulated, unknown SPIs, each"
	echo "another, at least 5 times as fast). Its last four tables are"
	echo "what byte and packet limits (issue #11: nothing worth measuring),"
	echo "ESP in UDP (issue #12: at most 5%), IPv6 endpoints (issue #13:"
	echo "at most 10%) and a shared replay window (issue #15: replay_shared,"
	echo "changed by compare-and-swap; here one worker uses it, so the"
	echo "exchange is uncontended) cost an SA."
	echo
	echo '```'
	taskset -c 1 "$build/bench/esp_micro" 1 2>/dev/null ||
		"$build/bench/esp_micro" 1
	echo '```'
	echo
	echo "## Two workers: the cipher library and one replay window"
	echo
	echo "bench/imb_scaling: AES-128-GCM on one thread and on two pinned"
	echo "to CPUs 0 and 1, each with its own manager, with one copy of"
	echo "intel-ipsec-mb (one process-wide imb_errno, which 1.3 stores on"
	echo "every call) or a copy a thread (dlmopen, as lib/crypto.c gives each"
	echo "worker): issue #15 target 5, docs/performance-analysis.md section 8."
	echo "bench/replay_scaling: one SA's replay window plain, shared but"
	echo "alone, and shared by two cores (target 4, section 9). Both run in a"
	echo "session of their own at autogroup nice -15, above other load."
	echo
	echo '```'
	above "$build/bench/imb_scaling" -s 0.3 -r 5
	echo
	above "$build/bench/replay_scaling" -s 0.3 -r 9
	echo '```'
	if [ -n "$control" ]; then
		echo
		printf '%s\n' "$control"
	fi
} > docs/performance.md.new
mv docs/performance.md.new docs/performance.md
echo "wrote docs/performance.md and docs/performance.png"
