#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the libFuzzer targets of a -Dfuzz=true build, one after the other
# (one at a time: a shared 2-CPU machine gives a second one nothing).
# Usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]   (default: all)
# Each target first replays its committed corpus, tests/fuzz/corpus/T/,
# input by input (the regression: any failure stops here), then fuzzes
# for SECONDS into BUILD/fuzz-out/T/corpus, seeded from the committed
# corpus; a crash lands in BUILD/fuzz-out/T/crashes/ and fails the run.
# SECONDS=0 replays only. FUZZ_ARGS adds libFuzzer options; T.dict
# beside this script, if there is one, is T's dictionary (-dict).
set -eu

build=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
targets=$*
if [ -z "$targets" ]; then
	for f in "$build"/tests/fuzz/fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] && targets="$targets ${f##*/}"
	done
fi
[ -n "$targets" ] || { echo "no fuzz targets in $build" >&2; exit 1; }

# abort on the first report, with a stack, so libFuzzer saves the input
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

fail=0
for t in $targets; do
	exe=$build/tests/fuzz/$t
	seeds=$src/corpus/$t
	out=$build/fuzz-out/$t
	mkdir -p "$out/corpus" "$out/crashes"
	if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]; then
		echo "== $t: replaying $(find "$seeds" -type f | wc -l) committed inputs"
		"$exe" "$seeds"/* >"$out/replay.log" 2>&1 || {
			tail -n 40 "$out/replay.log"
			echo "== $t: a committed input fails (log: $out/replay.log)"
			fail=1
			continue
		}
	fi
	[ "$secs" -gt 0 ] || continue
	echo "== $t: fuzzing for $secs s into $out"
	# new inputs go to the first directory, never to the committed one
	dirs=$out/corpus
	[ -d "$seeds" ] && dirs="$dirs $seeds"
	# a target's words, when it has a dictionary (tests/fuzz/T.dict)
	dict=
	[ -f "$src/$t.dict" ] && dict=-dict=$src/$t.dict
	# shellcheck disable=SC2086
	if "$exe" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/crashes/" $dict ${FUZZ_ARGS:-} $dirs \
		>"$out/fuzz.log" 2>&1; then
		grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss' \
			"$out/fuzz.log" | tail -n 3
	else
		tail -n 60 "$out/fuzz.log"
		echo "== $t: FINDING, input saved in $out/crashes/"
		fail=1
	fi
done
exit $fail
