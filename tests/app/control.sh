#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# espgw's control socket driven by espgwctl, as the classic manual
# set-up script drives ip: each command's output, error and exit status
# against what the kernel answers (docs/control.md), batches that apply
# whole or not at all, and a running espgw that stays up through bad
# input. Ports are net_null (no traffic).
# Usage: control.sh <espgw> <espgwctl>
set -u
espgw=$1
espgwctl=$2
tmp=$(mktemp -d)
prefix="ctl$$"
pass=0
fail=0
K1=0x0102030405060708090a0b0c0d0e0f1011121314
K2=0x1112131415161718191a1b1c1d1e1f2021222324
K3=0x2122232425262728292a2b2c2d2e2f3031323334

cat > "$tmp/gw.conf" <<EOT
ip link set dev net_null0 up
ip link set dev net_null1 up
ip addr add 10.0.1.1/24 dev net_null0
ip addr add 192.0.2.1/24 dev net_null1
ip route add default via 192.0.2.254 dev net_null1
ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x1001 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128
ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 192.0.2.1 dst 198.51.100.1 proto esp reqid 1 mode tunnel
EOT

"$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "$prefix" \
	--log-level='lib.*:error' --vdev net_null0,no-rx=1 \
	--vdev net_null1,no-rx=1 -- -f "$tmp/gw.conf" --poll-idle-us 100 \
	> "$tmp/espgw.out" 2>&1 &
pid=$!
cleanup() {
	kill -INT "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/ctl$$" "/var/run/dpdk/ctl$$b"
}
trap cleanup EXIT
for _ in $(seq 600); do # 60 s: ASan on a loaded machine is slow to start
	grep -q running "$tmp/espgw.out" && break
	sleep 0.1
done

ctl() { # args... -> $out (stdout), $err (stderr), $rc
	"$espgwctl" --file-prefix "$prefix" "$@" > "$tmp/o" 2> "$tmp/e"
	rc=$?
	out=$(cat "$tmp/o")
	err=$(cat "$tmp/e")
}
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() {
	echo "not ok - $1"
	echo "#   rc $rc, stdout: $out" | head -20
	echo "#   stderr: $err"
	fail=$((fail + 1))
}
# what rc stdout-pattern stderr-pattern (grep -E; "" = must be empty)
check() {
	local what=$1 want_rc=$2 o=$3 e=$4
	if [ "$rc" -eq "$want_rc" ] &&
		{ [ -z "$o" ] && [ -z "$out" ] || [ -n "$o" ] && echo "$out" | grep -qE -- "$o"; } &&
		{ [ -z "$e" ] && [ -z "$err" ] || [ -n "$e" ] && echo "$err" | grep -qE -- "$e"; }; then
		ok "$what"
	else
		bad "$what (want rc $want_rc, stdout /$o/, stderr /$e/)"
	fi
}
nstates() { ctl xfrm state; echo "$out" | grep -c "proto esp spi"; }

ctl xfrm state
check "ip xfrm state lists the configured state, key shown" 0 "spi 0x00001001 reqid 1 mode tunnel.*|aead rfc4106\\(gcm\\(aes\\)\\) $K1 128" ""
ctl ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x1001 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128
check "state add of an existing (dst, spi): File exists, exit 2" 2 "" "RTNETLINK answers: File exists"
ctl xfrm state update src 192.0.2.1 dst 198.51.100.9 proto esp spi 9 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128
check "state update of a missing state: No such process (xfrm_state_update)" 2 "" "RTNETLINK answers: No such process"
ctl xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x1002 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128
check "state add of a new SPI" 0 "" ""
ctl -s xfrm state get dst 198.51.100.1 proto esp spi 0x1002
check "ip -s xfrm state get: one state, ip -s's spi form" 0 "spi 0x00001002\\(4098\\) reqid 1\\(0x00000001\\)" ""
[ "$(echo "$out" | grep -c 'proto esp spi')" = 1 ] && ok "get shows only that state" || bad "get shows only that state"
ctl xfrm state delete dst 198.51.100.1 proto esp spi 0x1001
check "state delete" 0 "" ""
ctl xfrm state delete dst 198.51.100.1 proto esp spi 0x1001
check "state delete of a missing state: No such process" 2 "" "RTNETLINK answers: No such process"

ctl xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out priority 3 action block
check "policy add of a twin (same selector and dir): File exists" 2 "" "RTNETLINK answers: File exists"
ctl xfrm policy update src 10.0.1.0/24 dst 10.0.2.0/24 dir out priority 3 action block
check "policy update replaces" 0 "" ""
ctl -s xfrm policy
check "ip -s xfrm policy: the replacement, with the first index (1)" 0 "dir out action block index 1 priority 3" ""
ctl xfrm policy delete src 10.0.1.0/24 dst 10.0.2.0/24 dir in
check "policy delete of a missing policy: No such file or directory" 2 "" "RTNETLINK answers: No such file or directory"
ctl xfrm policy delete index 1 dir out
check "policy delete by index" 0 "" ""

ctl route add default via 192.0.2.253 dev net_null1
check "route add of an existing prefix: File exists" 2 "" "File exists"
ctl route replace default via 192.0.2.253 dev net_null1
check "route replace" 0 "" ""
ctl route
check "ip route shows the replacement and the connected routes" 0 "default via 192.0.2.253 dev net_null1" ""
ctl -j neigh
check "ip -j neigh: JSON" 0 "^\\[\\]$" ""
ctl neigh add 10.0.1.10 lladdr 02:00:00:00:00:0a dev net_null0
check "neigh add" 0 "" ""
ctl -j -p neigh
if [ "$rc" = 0 ] && echo "$out" | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert d[0]["dst"] == "10.0.1.10", d'; then
	ok "ip -j -p neigh parses, with the new entry"
else
	bad "ip -j -p neigh parses, with the new entry"
fi

# a batch applies whole or not at all
before=$(nstates)
cat > "$tmp/batch" <<EOT
# the classic script, run again with new keys
ip xfrm state flush
ip xfrm policy flush
ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x2001 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K3 128
ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x2001 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K3 128
EOT
ctl -batch "$tmp/batch"
check "a batch with a bad line fails with FILE:LINE" 2 "" "$tmp/batch:5: RTNETLINK answers: File exists"
[ "$(nstates)" = "$before" ] && ok "... and changes nothing" || bad "... and changes nothing ($before states before)"
sed -i '$d' "$tmp/batch"
ctl -batch "$tmp/batch"
check "the batch without it applies" 0 "" ""
ctl xfrm state
check "... whole: the old states flushed, the new one in" 0 "spi 0x00002001" ""
[ "$(echo "$out" | grep -c 'proto esp spi')" = 1 ] && ok "... one state left" || bad "... one state left"
printf 'xfrm state\nbogus\n' | { "$espgwctl" --file-prefix "$prefix" -batch - > "$tmp/o" 2> "$tmp/e"; echo $? > "$tmp/rc"; }
rc=$(cat "$tmp/rc"); out=$(cat "$tmp/o"); err=$(cat "$tmp/e")
check "-batch - reads stdin; lines run in order; one ip would not parse: exit 1" 1 "spi 0x00002001" "-:2: unknown word \"bogus\""

# monitor: one listing a change, as ip xfrm monitor prints it, no keys
"$espgwctl" --file-prefix "$prefix" monitor xfrm > "$tmp/mon" 2>&1 &
mon=$!
sleep 0.5
ctl xfrm state add src 192.0.2.1 dst 198.51.100.3 proto esp spi 0x3003 reqid 3 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128
ctl xfrm state delete dst 198.51.100.3 proto esp spi 0x3003
ctl xfrm policy flush
ctl route add 10.7.0.0/16 via 192.0.2.254 dev net_null1
sleep 0.5
kill -TERM "$mon" 2>/dev/null # a background job ignores SIGINT
wait "$mon" 2>/dev/null
out=$(cat "$tmp/mon")
err=""
rc=0
if echo "$out" | grep -q "^src 192.0.2.1 dst 198.51.100.3" &&
	echo "$out" | grep -q "^Deleted src 192.0.2.1 dst 198.51.100.3" &&
	echo "$out" | grep -q "^Flushed policy" &&
	echo "$out" | grep -q "proto esp spi 0x00003003 reqid 3 mode tunnel" &&
	! echo "$out" | grep -q "${K2#0x}" && ! echo "$out" | grep -q "10.7.0.0"; then
	ok "monitor xfrm: the added and deleted state, the flush; no key, no route"
else
	bad "monitor xfrm: the added and deleted state, the flush; no key, no route"
fi

ctl xfrm state add src 203.0.113.5 dst 198.51.100.7 proto esp spi 7 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128
check "a state neither end of which is ours: refused by the table build" 2 "" "neither of src 203.0.113.5"
# IPv6 addresses, routes and neighbours, live; a change the table build
# refuses is undone whole
ctl -6 addr add 2001:db8:1::1/64 dev net_null0
check "an IPv6 address, live" 0 "" ""
ctl -6 addr
check "... listed by ip -6 addr" 0 "inet6 2001:db8:1::1/64" ""
ctl -batch - <<EOT
ip route add 10.8.0.0/16 via 192.0.2.254 dev net_null1
ip route add 2001:db8::/32 via fe80::1 dev net_null1
EOT
check "a batch with an IPv6 route via no connected network: refused at its line" 2 "" "-:2: gateway fe80::1 is not on a connected network of net_null1"
ctl route
check "... and undone whole: no 10.8.0.0/16" 0 "default via" ""
echo "$out" | grep -q "10.8.0.0" && bad "... the IPv4 route of the batch is gone" || ok "... the IPv4 route of the batch is gone"
ctl -f inet6 route
echo "$out" | grep -q "2001:db8::/32" && bad "... nor the IPv6 one" || ok "... nor the IPv6 one"
ctl -6 route add 2001:db8:99::/48 via 2001:db8:1::fe dev net_null0
check "an IPv6 route via a connected gateway, live" 0 "" ""
ctl ip -6 neigh add 2001:db8:1::fe lladdr 02:00:00:00:00:01 dev net_null0
check "an IPv6 neighbour, live" 0 "" ""
ctl neigh
check "... listed by ip neigh" 0 "2001:db8:1::fe dev net_null0 lladdr 02:00:00:00:00:01" ""
ctl -6 addr del 2001:db8:1::1/64 dev net_null0
check "the address its route needs cannot go first" 2 "" "gateway 2001:db8:1::fe is not on a connected network"
ctl xfrm state add src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi 0x6001 reqid 6 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128
check "an IPv6 state with no route to its far end: refused by the table build" 2 "" "no route to the tunnel's far end 2001:db8:2::1"
ctl xfrm state get dst 2001:db8:2::1 proto esp spi 0x6001
check "... and undone: get finds none" 2 "" "No such process"
ctl -6 route add 2001:db8:2::/64 via 2001:db8:1::fe dev net_null0
check "an IPv6 route to the far end" 0 "" ""
ctl xfrm state add src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi 0x6001 reqid 6 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128
check "an IPv6 state, live" 0 "" ""
ctl -s xfrm state get dst 2001:db8:2::1 proto esp spi 0x6001
check "... get finds it, outbound" 0 "src 2001:db8:1::1 dst 2001:db8:2::1" ""
ctl xfrm state add src 2001:db8:2::1 dst 2001:db8:1::1 proto esp spi 0x6001 reqid 7 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128
check "the inbound one, the same SPI to the other end" 0 "" ""
ctl xfrm policy add src 10.0.1.0/24 dst 10.0.9.0/24 dir out tmpl src 2001:db8:1::1 dst 2001:db8:2::1 proto esp reqid 6 mode tunnel
check "a 4in6 policy, live" 0 "" ""
ctl xfrm policy get src 10.0.1.0/24 dst 10.0.9.0/24 dir out
check "... get finds it" 0 "tmpl src 2001:db8:1::1 dst 2001:db8:2::1" ""
ctl xfrm policy delete src 10.0.1.0/24 dst 10.0.9.0/24 dir out
check "... and it goes" 0 "" ""
ctl xfrm state delete src 2001:db8:2::1 dst 2001:db8:1::1 proto esp spi 0x6001
check "the inbound IPv6 state goes" 0 "" ""
ctl xfrm state delete src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi 0x6001
check "the outbound IPv6 state goes" 0 "" ""
ctl -batch - <<EOT
xfrm state add src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi 0x6001 reqid 6 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128
xfrm state add src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi 0x6001 reqid 6 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128
EOT
check "an IPv6 state's twin in one batch: File exists at its line" 2 "" "-:2: RTNETLINK answers: File exists"
ctl xfrm state add src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi 0x6001 reqid 6 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128 encap espinudp 4500 4500 0.0.0.0
check "ESP in UDP over IPv6: refused, exit 1" 1 "" "ESP in UDP over IPv6 is not supported"
ctl xfrm policy add src 2001:db8:1::/64 dst 2001:db8:9::/64 proto tcp dport 443 dir out
check "an IPv6 selector, live" 0 "" ""
ctl xfrm policy get src 2001:db8:1::/64 dst 2001:db8:9::/64 proto tcp dport 443 dir out
check "... get finds it" 0 "src 2001:db8:1::/64 dst 2001:db8:9::/64" ""
ctl xfrm policy delete src 2001:db8:1::/64 dst 2001:db8:9::/64 proto tcp dport 443 dir out
check "... and it goes" 0 "" ""
ctl -6 neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev net_null1
check "ip -6 with an IPv4 address: what ip says, exit 1" 1 "" "inet6 address is expected rather than \"10.0.0.1\""
kill -0 "$pid" && ok "espgw still runs" || bad "espgw still runs"
kill -INT "$pid"
wait "$pid"
rc=$?
out=$(tail -3 "$tmp/espgw.out")
err=""
[ "$rc" = 0 ] && ok "espgw stops cleanly on SIGINT (exit 0, no sanitizer report)" ||
	bad "espgw stops cleanly on SIGINT (exit 0, no sanitizer report)"
[ ! -e "/run/espgw/$prefix.sock" ] && ok "its socket is gone" || bad "its socket is gone"

cat > "$tmp/hook.sh" <<EOT
#!/bin/sh
env | grep '^ESPGW_' | sort > "$tmp/hook.\$ESPGW_EXPIRE_HARD"
EOT
chmod +x "$tmp/hook.sh"

# An espgw started without -f: its ports down, set up by statements.
# net_null1 receives (a frame a poll): the worker polls it once it is up.
prefix="ctl$$b"
"$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "$prefix" \
	--log-level='lib.*:error' --vdev net_null0,no-rx=1 \
	--vdev net_null1 -- -s "$tmp/stats" --poll-idle-us 100 \
	--on-expire "$tmp/hook.sh" \
	> "$tmp/espgw.out" 2>&1 &
pid=$!
for _ in $(seq 600); do # 60 s: ASan on a loaded machine is slow to start
	grep -q running "$tmp/espgw.out" && break
	sleep 0.1
done
ctl link
check "without -f: link lists EAL's ports, down" 0 "^0: net_null0: <BROADCAST> mtu 1500 state DOWN" ""
ctl addr add 192.0.2.1/24 dev net_null0
check "an address on a port that is down: refused" 2 "" "port \"net_null0\" is not up"
ctl link set dev net_null0 up name eth0
check "link set dev net_null0 up name eth0 on a running espgw" 0 "" ""
ctl link set dev eth0 mtu 1400
check "link set dev eth0 mtu 1400" 0 "" ""
ctl link show dev eth0
check "link shows eth0 up with its MTU" 0 "^0: eth0: <BROADCAST,UP,LOWER_UP> mtu 1400 state UP" ""
ctl link set dev eth0 mtu 9000
check "an MTU the mbufs cannot hold: refused, with why" 2 "" "mtu 9000 is more than espgw's mbufs hold"
ctl link set dev eth0 name wan0
check "a rename of a port that is up: Device or resource busy" 2 "" "Device or resource busy"
ctl -batch - <<EOT
ip addr add 192.0.2.1/24 dev eth0
ip route add default via 192.0.2.254 dev eth0
ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x1001 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $K1 128
ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 192.0.2.1 dst 198.51.100.1 proto esp reqid 1 mode tunnel
EOT
check "the classic statements on the port brought up at run time" 0 "" ""
ctl link set dev net_null1 up
check "a second port up" 0 "" ""

# Lifetimes (xfrm_state.c's rules, checked once a second): soft at 1 s
# from the add, hard at 3 s; Expired events as ip xfrm monitor prints
# them, the hook run with the state's identity, the state gone.
"$espgwctl" --file-prefix "$prefix" monitor xfrm > "$tmp/mon2" 2>&1 &
mon=$!
sleep 0.3
ctl xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x2001 reqid 2 mode tunnel aead 'rfc4106(gcm(aes))' $K2 128 limit time-soft 1 limit time-hard 3 limit byte-soft 5000
check "a state with limit time-soft, time-hard, byte-soft" 0 "" ""
ctl -s xfrm state get src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x2001
check "ip -s shows its lifetime config" 0 "limit: soft 5000\(bytes\), hard \(INF\)\(bytes\)" ""
check "... and its expire add times" 0 "expire add: soft 1\(sec\), hard 3\(sec\)" ""
check "... and when it was added" 0 "  add 20[0-9-]+ [0-9:]+ use -" ""
sleep 4.5
ctl xfrm state get src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x2001
check "past time-hard the state is gone" 2 "" "No such process"
kill -TERM "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
out=$(cat "$tmp/mon2")
err=""
rc=0
n0=$(grep -c '^	hard 0$' "$tmp/mon2")
n1=$(grep -c '^	hard 1$' "$tmp/mon2")
if [ "$n0" = 1 ] && [ "$n1" = 1 ] &&
	[ "$(grep -c '^Expired src 192.0.2.1 dst 198.51.100.2' "$tmp/mon2")" = 2 ]; then
	ok "monitor: Expired ... hard 0, then Expired ... hard 1"
else
	bad "monitor: Expired ... hard 0, then Expired ... hard 1"
fi
if grep -q '^ESPGW_SPI=0x00002001$' "$tmp/hook.1" 2>/dev/null &&
	grep -q '^ESPGW_DIR=out$' "$tmp/hook.1" &&
	grep -q '^ESPGW_EXPIRE_HARD=0$' "$tmp/hook.0" 2>/dev/null; then
	ok "--on-expire ran for the soft and the hard expiry, the state in ESPGW_*"
else
	out=$(cat "$tmp"/hook.* 2>&1)
	bad "--on-expire ran for the soft and the hard expiry, the state in ESPGW_*"
fi
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
out=$(grep -E '^gw\.rx |^port\.net_null1\.rx ' "$tmp/stats")
err=""
[ "$rc" = 0 ] && ok "espgw without -f stops cleanly" || bad "espgw without -f stops cleanly"
rx=$(awk '$1 == "gw.rx" { print $2 }' "$tmp/stats")
[ "${rx:-0}" -gt 0 ] && ok "the worker received on the port set up at run time ($rx frames)" ||
	bad "the worker received on the port set up at run time"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
