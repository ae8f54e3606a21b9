#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# espgw --check on the shipped examples (they must load), and on broken
# files (each must fail before any port starts, naming file and line);
# and the command line: --help and --counters answered before EAL, ours
# behind the "--", an option's value no option.
# Usage: check_configs.sh <espgw> <config dir>
set -u
espgw=$1
confdir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

run() { # config -> output, status in $rc
	out=$("$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "chk$$" \
		--log-level='lib.*:error' --vdev net_null0 --vdev net_null1 \
		-- --check -f "$1" 2>&1)
	rc=$?
}

ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; echo "$out" | sed 's/^/#   /'; fail=$((fail + 1)); }

for f in "$confdir"/*.conf; do
	run "$f"
	if [ $rc -eq 0 ] && echo "$out" | grep -q ": OK$"; then
		ok "$(basename "$f") loads"
	else
		bad "$(basename "$f") loads"
	fi
done

# name|line to replace (of r1.conf)|replacement|expected message|line of
# the error when not the replaced one
while IFS='|' read -r name line repl want at; do
	[ -n "$name" ] || continue
	awk -v n="$line" -v r="$repl" 'NR == n { print r; next } { print }' \
		"$confdir/r1.conf" > "$tmp/bad.conf"
	run "$tmp/bad.conf"
	at=${at:-$line}
	if [ $rc -ne 0 ] && echo "$out" | grep -qF "$tmp/bad.conf:$at: $want"; then
		ok "$name"
	else
		bad "$name (wanted \"$tmp/bad.conf:$at: $want\")"
	fi
done <<'EOT'
unknown port|8|ip link set dev net_nothing0 up|no DPDK port named "net_nothing0"
port not up|9|ip addr add 1.1.1.1/24 dev port1|port "port1" is not up
gateway not on link|12|ip route add 10.0.2.0/24 via 9.9.9.9 dev port1|gateway 9.9.9.9 is not on a connected network
SA not ours|15|ip xfrm state add src 3.3.3.3 dst 2.2.2.2 proto esp spi 7 mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128|neither of src 3.3.3.3 and dst 2.2.2.2
duplicate inbound SA|16|ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x2002 mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128|an SA with spi 0x00002002 dst 1.1.1.1 is already at line 16 (File exists)|17
duplicate outbound SA (xfrm_add_sa: File exists)|17|ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1001 mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128|an SA with spi 0x00001001 dst 2.2.2.2 is already at line 16 (File exists)
ESN without window|16|ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x2002 mode tunnel flag esn aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128|ESN needs a replay window
unsupported option|18|ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out ptype main|
syntax|9|ip link set dev port0 up mtu 12|
rename to a taken name (File exists)|9|ip link set dev port1 up name port0|a port is already named port0 (File exists)
rename an up port (dev_change_name: Device or resource busy)|10|ip link set dev port0 up name lan0|port0 is up: it can be renamed only in the statement that brings it up (Device or resource busy)
duplicate policy (xfrm_policy_insert: File exists)|21|ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd priority 5 action block|a policy with this selector and dir is already at line 20 (File exists)
EOT

# ip link set ... name: later statements use the new name, the old one
# is gone (as on Linux)
sed -e 's/^ip link set dev port1 up$/ip link set dev port1 up name wan0/' \
	-e '/^ip \(addr\|route\|neigh\)/s/dev port1/dev wan0/' \
	"$confdir/r1.conf" > "$tmp/named.conf"
run "$tmp/named.conf"
if [ $rc -eq 0 ] && echo "$out" | grep -q "port wan0 id 1" &&
	echo "$out" | grep -q ": OK$"; then
	ok "a renamed port (link set ... up name wan0) is used by its new name"
else
	bad "a renamed port (link set ... up name wan0) is used by its new name"
fi
sed -e 's/^ip link set dev port1 up$/ip link set dev port1 up name wan0/' \
	"$confdir/r1.conf" > "$tmp/named.conf"
run "$tmp/named.conf"
if [ $rc -ne 0 ] && echo "$out" | grep -qF "no port named \"port1\""; then
	ok "... and its old name is gone"
else
	bad "... and its old name is gone"
fi

# --help and --counters with no EAL options: EAL would want hugepages,
# so any EAL line says it ran first
early() { # want-on-stdout args...
	want=$1
	shift
	out=$("$espgw" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | head -1 | grep -q "$want" &&
		! echo "$out" | grep -q "^EAL"; then
		ok "espgw $* answers before EAL"
	else
		bad "espgw $* answers before EAL (wanted exit 0 and \"$want\")"
	fi
}
for a in --help -h "-- --help" "-- -h" "-- -ch" "-- --hel" "--no-huge -- -h"; do
	# shellcheck disable=SC2086 # the words of $a are the arguments
	early "^usage: " $a
done
for a in --counters "-- --counters" "-- -s x --count"; do
	# shellcheck disable=SC2086
	early "^gw\.rx in$" $a
done

# an option's value is no option: not help, not counters; the error is
# told before EAL too
out=$("$espgw" -- -f -h -s --counters --metrics-interval 5 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | head -1 |
	grep -qx "espgw: --metrics-interval needs --metrics-file" &&
	! echo "$out" | grep -q "^gw\.rx\|^EAL"; then
	ok "-f -h and -s --counters take -h and --counters as their values"
else
	bad "-f -h and -s --counters take -h and --counters as their values"
fi
run -h
if [ $rc -ne 0 ] && echo "$out" | grep -qx "espgw: -h: No such file or directory"; then
	ok "--check -f -h reads the file -h"
else
	bad "--check -f -h reads the file -h"
fi

# EAL's options end at the "--": what is neither EAL's nor behind it is
# refused, and so is what follows ours
out=$("$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "chk$$" \
	--log-level='lib.*:error' --vdev net_null0 stray -- --check \
	-f "$confdir/r1.conf" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -qx "espgw: unexpected argument 'stray'"; then
	ok "an argument before the -- that EAL does not take is refused"
else
	bad "an argument before the -- that EAL does not take is refused"
fi
out=$("$espgw" -- --check -f "$confdir/r1.conf" stray 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | head -1 | grep -qx "espgw: unexpected argument 'stray'" &&
	! echo "$out" | grep -q "^EAL"; then
	ok "an argument after ours is refused, before EAL"
else
	bad "an argument after ours is refused, before EAL"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
