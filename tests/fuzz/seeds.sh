#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The seed corpora of fuzz_lang and fuzz_ctl, from what the tree already
# holds: the example configurations (config/), the statements of the
# docs and those of the unit tests. Rewrites corpus/fuzz_lang/seed-* and
# corpus/fuzz_ctl/seed-* (regress-* inputs are left alone).
# Usage: tests/fuzz/seeds.sh
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
lang=$top/tests/fuzz/corpus/fuzz_lang
ctl=$top/tests/fuzz/corpus/fuzz_ctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$lang" "$ctl"
rm -f "$lang"/seed-* "$ctl"/seed-*

# whole files, as espgw -f reads them
n=0
for f in "$top"/config/*.conf; do
	cp "$f" "$tmp/file-$n"
	n=$((n + 1))
done
# statements, 16 to a seed: those of the docs' examples, then the unit
# tests' string literals that are statements
{
	grep -h -E '^\s*(ip|espgwctl) ' "$top"/docs/*.md |
		sed -E 's/^\s*(espgwctl )?//'
	grep -h -o -E '"(ip |xfrm |-6 |link |addr |route |neigh )[^"]*"' \
		"$top"/tests/unit/test_config.c "$top"/tests/unit/test_cmd.c \
		"$top"/tests/unit/test_db.c | sed -e 's/^"//' -e 's/"$//'
} | awk '!seen[$0]++' | split -l 16 -a 3 -d - "$tmp/lines-"

i=0
for f in "$tmp"/file-* "$tmp"/lines-*; do
	name=$(printf 'seed-%03d' $i)
	cp "$f" "$lang/$name"
	# a request of each, with the header's flags in turn; a few
	# batches of two requests (fuzz_ctl.c: "%%" between requests)
	case $((i % 4)) in
	0) hdr="espgwctl 1" ;;
	1) hdr="espgwctl 1 s" ;;
	2) hdr="espgwctl 1 j p" ;;
	*) hdr="espgwctl 1 batch=seed.conf" ;;
	esac
	{
		echo "$hdr"
		cat "$f"
		if [ $((i % 3)) -eq 0 ]; then
			echo "%%"
			echo "espgwctl 1"
			echo "xfrm state list"
			echo "xfrm policy list"
		fi
	} >"$ctl/$name"
	i=$((i + 1))
done
echo "$i seeds each in $lang and $ctl"
