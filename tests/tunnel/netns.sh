#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# espgw-tunnel between two espgw gateways in network namespaces
# (tests/netns/lib.sh's topology), --peer-kind espgw, the peer command
# being espgwctl for the other instance:
#
#   hostA 10.0.1.10 ── R1 (espgw) ══ 192.0.2.0/24 ══ R2 (espgw) ── hostB 10.0.2.10
#
# Both gateways start with their ports and addresses only. Checks: bad
# arguments and failing peer commands (up, rekey, down) leave both ends
# as they were; up; ping both ways; 3 rekeys under a ping every 10 ms
# with no ping lost and only the new SPIs left on both ends; `rekey
# --auto-rekey` with a 3 s soft lifetime rekeys on the soft expiry, and
# when its monitor is killed exits with status 1 and a message, both ends
# on the last states; resumed, SIGINT stops it with status 0, the tunnel
# up; no ping lost; down leaves no state, policy or tunnel route on
# either end.
# Usage (root): tests/tunnel/netns.sh. "ok -"/"not ok -" lines, then
# "N passed, M failed". Environment: ESPGW, ESPGWCTL, ESPGW_TUNNEL.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/../netns/lib.sh"

eg_require_root
eg_install_deps
eg_init
trap 'eg_cleanup' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
CTL=${ESPGWCTL:-$(dirname "$EG_ESPGW")/espgwctl/espgwctl}
TUN=${ESPGW_TUNNEL:-$EG_ROOT/scripts/espgw-tunnel}
PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1: $2"; FAIL=$((FAIL + 1)); }
check() { # name command...
	local n=$1
	shift
	if "$@"; then ok "$n"; else not_ok "$n" "${WHY:-failed}"; fi
	WHY=""
}

ctl1() { "$CTL" --file-prefix "$EG_TAG-r1" "$@"; }
ctl2() { "$CTL" --file-prefix "$EG_TAG-r2" "$@"; }
ARGS="192.0.2.1 192.0.2.2 10.0.1.0/24 10.0.1.1 10.0.2.0/24 10.0.2.1"
PEER="$CTL --file-prefix $EG_TAG-r2 -batch -"
tun() { # command [options...]: R1's side, R2 as the peer
	local c=$1
	shift
	"$TUN" --file-prefix "$EG_TAG-r1" --espgwctl "$CTL" --peer-kind espgw \
		--dev port1 --peer-dev port1 --wait 3 "$@" "$c" $ARGS
}

# Both ends' states, policies and routes, keys included (test files only)
snap() { # file
	{ ctl1 xfrm state list; ctl1 xfrm policy list; ctl1 route list
	  echo ====; ctl2 xfrm state list; ctl2 xfrm policy list; ctl2 route list; } >"$1" 2>&1
}
same() { # before after
	diff "$1" "$2" >"$2.diff" || { WHY="an end changed: $(head -3 "$2.diff" | tr '\n' ' ')"; return 1; }
}
spis() { # espgwctl function -> the SPIs, sorted
	"$1" xfrm state list | sed -n 's/.*spi \(0x[0-9a-f]*\).*/\1/p' | sort | tr '\n' ' '
}

eg_setup_topology
for r in r1 r2; do
	n=${r#r}
	other=$((3 - n))
	cat >"$EG_TMP/$r.conf" <<EOF
# $r: ports and addresses only; espgw-tunnel gives the rest
ip link set dev port0 up
ip link set dev port1 up
ip addr add 10.0.$n.1/24 dev port0
ip addr add 192.0.2.$n/24 dev port1
EOF
	: "$other"
done
eg_start_gw r1 && eg_start_gw r2 || { echo "not ok - gateways start"; exit 1; }
ok "both gateways start on ports and addresses"
T0=$EPOCHREALTIME

# ---- bad arguments and failing peers from nothing ----------------------------
snap "$EG_TMP/s0"
bad() { # expect-in-stderr args...
	local want=$1 rc
	shift
	"$TUN" --file-prefix "$EG_TAG-r1" --espgwctl "$CTL" --peer-kind espgw \
		--peer-cmd "$PEER" "$@" >"$EG_TMP/bad.out" 2>"$EG_TMP/bad.err"
	rc=$?
	[ "$rc" != 0 ] || { WHY="exit status 0 for: $*"; return 1; }
	grep -q "$want" "$EG_TMP/bad.err" || { WHY="no '$want' in: $(head -2 "$EG_TMP/bad.err")"; return 1; }
	snap "$EG_TMP/s1"
	same "$EG_TMP/s0" "$EG_TMP/s1"
}
check "bad: malformed address" bad "not an IPv4 address" up 192.0.2.1 192.0.2.300 10.0.1.0/24 10.0.1.1 10.0.2.0/24 10.0.2.1
check "bad: prefix with host bits" bad "not an IPv4 prefix" up 192.0.2.1 192.0.2.2 10.0.1.1/24 10.0.1.1 10.0.2.0/24 10.0.2.1
check "bad: inner IP outside its net" bad "not inside remote_net" up 192.0.2.1 192.0.2.2 10.0.1.0/24 10.0.1.1 10.0.2.0/24 10.0.3.1
check "bad: unknown command" bad "invalid choice" sideways $ARGS
check "bad: rekey of no tunnel" bad "no tunnel here" rekey $ARGS
check "bad: down of no tunnel" bad "no tunnel here" down $ARGS
check "failing peer: up leaves both ends empty" bad "peer command failed" --peer-cmd "exit 7" up $ARGS
# the peer succeeds, the local end refuses (a route of its own is in the
# way): the peer's end is undone
ctl1 route add 10.0.2.0/24 via 192.0.2.2 dev port1
snap "$EG_TMP/s0"
check "local end refuses: the peer's end is undone" bad "refused the tunnel" --dev port1 --peer-dev port1 up $ARGS
ctl1 route del 10.0.2.0/24
snap "$EG_TMP/s0"

# ---- up, ping ------------------------------------------------------------------
up_ok() {
	tun up --peer-cmd "$PEER" >"$EG_TMP/up.out" 2>"$EG_TMP/up.err" ||
		{ WHY="up failed: $(cat "$EG_TMP/up.err")"; return 1; }
	cat "$EG_TMP/up.out"
	! grep -qE '0x[0-9a-f]{32}' "$EG_TMP/up.out" "$EG_TMP/up.err" || { WHY="a key was printed"; return 1; }
	[ "$(spis ctl1)" = "$(spis ctl2)" ] && [ "$(spis ctl1 | wc -w)" = 2 ] ||
		{ WHY="states: R1 $(spis ctl1), R2 $(spis ctl2)"; return 1; }
	# never the same SPI or key both ways
	[ "$(ctl1 xfrm state list | grep -c aead | tr -d ' ')" = 2 ] &&
		[ "$(ctl1 xfrm state list | grep aead | awk '{print $3}' | sort -u | wc -l)" = 2 ] ||
		{ WHY="the two directions share a key"; return 1; }
}
check "up (espgw peer)" up_ok
ping5() { eg_in "$1" timeout 15 ping -n -c 5 -i 0.2 -W 2 "$2" | grep -q " 5 received" || { WHY="ping $1 -> $2 lost packets"; return 1; }; }
check "ping hostA -> hostB" ping5 hosta 10.0.2.10
check "ping hostB -> hostA" ping5 hostb 10.0.1.10
snap "$EG_TMP/s0"
check "up again is refused" bad "the tunnel is up" --dev port1 --peer-dev port1 up $ARGS

# ---- failing peer on rekey and down: nothing changes -------------------------
check "failing peer: rekey leaves both ends as they were" bad "peer command failed" --peer-cmd false rekey $ARGS
check "failing peer: down leaves both ends as they were" bad "peer command failed" --peer-cmd false down $ARGS

# ---- rekey x3 under a ping every 10 ms --------------------------------------
eg_bg hosta ping -n -i 0.01 10.0.2.10 >"$EG_TMP/ping.log" 2>&1
PING=$EG_BG_PID
sleep 1
rekeys() {
	local n before after
	for n in 1 2 3; do
		before=$(spis ctl1)
		tun rekey --peer-cmd "$PEER" >"$EG_TMP/rk.out" 2>"$EG_TMP/rk.err" ||
			{ WHY="rekey $n: $(cat "$EG_TMP/rk.err")"; return 1; }
		echo "# rekey $n: $(cat "$EG_TMP/rk.out")"
		after=$(spis ctl1)
		[ "$after" = "$(spis ctl2)" ] && [ "$(echo "$after" | wc -w)" = 2 ] ||
			{ WHY="rekey $n: states R1 $after, R2 $(spis ctl2)"; return 1; }
		for s in $before; do
			case " $after " in *" $s "*) WHY="rekey $n: old SPI $s still there"; return 1 ;; esac
		done
		grep -q "traffic moved" "$EG_TMP/rk.out" || { WHY="rekey $n: traffic did not move to the new SAs"; return 1; }
	done
}
check "3 rekeys under a ping flood" rekeys
sleep 0.5
kill -INT "$PING"
sleep 0.5
lost() { # [ping's log]
	local gaps log=${1:-$EG_TMP/ping.log}
	gaps=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$log" | sort -n |
		awk 'BEGIN { w = 1 } { while (w < $1) { printf "%d ", w; w++ } if ($1 == w) w++ }')
	echo "# $(grep transmitted "$log")"
	[ -z "$gaps" ] || { WHY="pings lost: $gaps"; return 1; }
}
check "no ping lost across the rekeys" lost

# ---- --auto-rekey: a rekey on a soft expiry, the monitor's end, SIGINT -------
auto_start() { # log [options...]: rekey --auto-rekey in the background
	local log=$1
	shift
	# not through tun (a function): $! must be espgw-tunnel itself
	"$TUN" --file-prefix "$EG_TAG-r1" --espgwctl "$CTL" --peer-kind espgw \
		--dev port1 --peer-dev port1 --wait 3 --peer-cmd "$PEER" \
		--auto-rekey "$@" rekey $ARGS >"$log.out" 2>"$log.err" &
	AUTO_PID=$!
	EG_PIDS="$EG_PIDS $AUTO_PID"
	for _ in $(seq 1 200); do
		grep -q "auto-rekey: watching" "$log.err" && return 0
		kill -0 "$AUTO_PID" 2>/dev/null || { WHY="it exited: $(cat "$log.err")"; return 1; }
		sleep 0.1
	done
	WHY="not watching after 20 s"
	return 1
}
auto_wait() { # pid seconds: its status in AUTO_RC
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && { WHY="still running after $2 s"; return 1; }
	wait "$1"
	AUTO_RC=$?
}
eg_bg hosta ping -n -i 0.01 10.0.2.10 >"$EG_TMP/ping2.log" 2>&1
PING=$EG_BG_PID
auto_soft() {
	local a=$EG_TMP/auto mon now
	auto_start "$a" --lifetime-soft 3 --lifetime-hard 10 || return 1
	# the rekey it starts with, then one on the soft expiry
	for _ in $(seq 1 150); do
		[ "$(grep -c '^rekey: ' "$a.out")" -ge 2 ] && break
		sleep 0.1
	done
	cat "$a.out" "$a.err"
	[ "$(grep -c '^rekey: ' "$a.out")" -ge 2 ] || { WHY="no rekey on the soft expiry in 15 s"; return 1; }
	grep -q "auto-rekey: soft expiry of the .* state" "$a.err" || { WHY="no soft expiry reported"; return 1; }
	grep -q '^rekey: .*(traffic moved' "$a.out" || { WHY="traffic did not move"; return 1; }
	# the monitor ends: status 1, saying so, the tunnel left on its states
	mon=$(pgrep -P "$AUTO_PID" -f "monitor xfrm")
	[ -n "$mon" ] || { WHY="no espgwctl monitor under espgw-tunnel"; return 1; }
	kill -KILL "$mon"
	auto_wait "$AUTO_PID" 30 || return 1
	[ "$AUTO_RC" = 1 ] || { WHY="status $AUTO_RC when the monitor ended"; return 1; }
	grep -q "auto-rekey stops: the monitor of the local espgw (espgwctl monitor xfrm) ended, killed by SIGKILL" "$a.err" ||
		{ WHY="no message on the monitor's end: $(tail -1 "$a.err")"; return 1; }
	now=$(sed -n 's/^rekey: out .* -> \(0x[0-9a-f]*\), in .* -> \(0x[0-9a-f]*\) .*/\1\n\2/p' "$a.out" |
		tail -2 | sort | tr '\n' ' ')
	[ "$(spis ctl1)" = "$now" ] && [ "$(spis ctl2)" = "$now" ] ||
		{ WHY="states: R1 $(spis ctl1), R2 $(spis ctl2), the last rekey made $now"; return 1; }
}
check "--auto-rekey: a rekey on the soft expiry; the monitor killed: status 1, both ends on the last states" auto_soft
auto_int() {
	local a=$EG_TMP/auto2
	auto_start "$a" || return 1
	kill -INT "$AUTO_PID"
	auto_wait "$AUTO_PID" 30 || return 1
	cat "$a.out" "$a.err"
	[ "$AUTO_RC" = 0 ] || { WHY="status $AUTO_RC on SIGINT"; return 1; }
	grep -q "auto-rekey: stopped by SIGINT; the tunnel stays up" "$a.err" || { WHY="no stop message"; return 1; }
	[ "$(spis ctl1)" = "$(spis ctl2)" ] && [ "$(spis ctl1 | wc -w)" = 2 ] ||
		{ WHY="states: R1 $(spis ctl1), R2 $(spis ctl2)"; return 1; }
}
check "--auto-rekey resumed with rekey, SIGINT: status 0, the tunnel up" auto_int
kill -INT "$PING"
wait "$PING"
check "no ping lost across the auto-rekeys" lost "$EG_TMP/ping2.log"

# ---- down ----------------------------------------------------------------------
down_ok() {
	tun down --peer-cmd "$PEER" || { WHY="down failed"; return 1; }
	local e
	for e in ctl1 ctl2; do
		[ -z "$($e xfrm state list)" ] && [ -z "$($e xfrm policy list)" ] ||
			{ WHY="$e: states or policies left"; return 1; }
		! $e route list | grep -q '10\.0\.[12]\.0/24 via' || { WHY="$e: the tunnel route is left"; return 1; }
	done
}
check "down leaves nothing on either end" down_ok
check "ping fails after down" bash -c "! ip netns exec $NS_A timeout 5 ping -n -c 2 -W 1 10.0.2.10 >/dev/null"
echo "# $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
