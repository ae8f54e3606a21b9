#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every key the test suites configure (the hex after rfc4106(gcm(aes))
# in the tree's configs, tests and scripts) looked for in a meson test
# log, where every test's output ends up: a key must never be in
# espgw's logs, errors, stats or listings a test prints (issue 14).
# Usage: keys_in_log.sh TESTLOG; exit 1 and the lines when one is there.
set -eu
log=$1
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
cd "$(dirname "$0")/.."
git ls-files -z 2>/dev/null | xargs -0 grep -ohiE \
	"rfc4106\(gcm\(aes\)\)['\"]? +(0x)?[0-9a-f]{40,72}" 2>/dev/null |
	grep -oiE '[0-9a-f]{40,72}$' | sort -u >"$keys" || true
n=$(wc -l <"$keys")
if [ "$n" -lt 10 ]; then
	echo "keys_in_log: only $n keys found in the tree; is this a checkout?" >&2
	exit 1
fi
# the key as configured, and with its 4-byte salt cut off (the AES key
# alone, as an expanded key would start)
sed 's/........$//' "$keys" >>"$keys"
if grep -niFf "$keys" "$log"; then
	echo "keys_in_log: a configured key is in $log (above)" >&2
	exit 1
fi
echo "keys_in_log: none of $n keys in $log"
