#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# espgw-tunnel between espgw (R1) and a stock Linux kernel (R2) in qemu,
# tests/control's topology and guest (tests/interop/lib.sh,
# tests/control/lib.sh); the peer command is the guest's command channel
# (guestctl.py), fed the script espgw-tunnel writes.
#
#   hostA 10.0.1.10 ── [ R1 espgw ] 192.0.2.1 ══ ESP ══ 192.0.2.2 [ R2 Linux ] ── hostB 10.0.2.10
#
# espgw starts with its ports alone; both ends get their addresses, then
# `espgw-tunnel up` does the rest. Checks: the default lifetimes on both
# ends' states; ping and a 2 MiB TCP transfer (sha256) through; a failing
# peer command and bad arguments (soft lifetime >= hard, --auto-rekey
# without a soft one) leave both ends as they were; TUN_REKEYS (10)
# rekeys under a TCP stream and 100 pings a second: no ping lost, the
# stream's checksum matches, after each rekey both ends hold exactly the
# two new SPIs, and the last pair's counters agree between espgw and the
# kernel; down leaves no state or policy on either end. Then `up
# --auto-rekey` with a 20 s soft and 30 s hard lifetime under a 2-minute
# TCP transfer (20 kB/s) and 50 pings a second: 4 or more rekeys, each
# on a soft expiry, none hard, all SPIs new, the checksum matches, no
# ping lost; SIGTERM stops it with status 0 and the tunnel up; down.
# Usage (root): tests/tunnel/linux.sh. "ok -"/"not ok -" lines, then
# "N passed, M failed". Environment: ESPGW, ESPGWCTL, ESPGW_TUNNEL,
# TUN_REKEYS, TUN_AUTO_SOFT, TUN_AUTO_HARD, TUN_AUTO_SECS (20, 30, 120),
# and tests/interop's.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$HERE/../interop/lib.sh"
# shellcheck source=tests/control/lib.sh
. "$HERE/../control/lib.sh"

io_require_root
io_init
ct_init
trap 'io_cleanup' EXIT
trap 'echo "interrupted"; exit 130' INT TERM
TUN=${ESPGW_TUNNEL:-$IO_ROOT/scripts/espgw-tunnel}
[ -x "$IO_ESPGW" ] && [ -x "$CT_ESPGWCTL" ] || io_die "build espgw and espgwctl first (ninja -C build)"
PASS=0
FAIL=0
T0=$(date +%s.%N)
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
check() { # name command...
	local n=$1
	shift
	CT_WHY=""
	if "$@" >>"$IO_W/log" 2>&1; then ok "$n"; else
		echo "not ok - $n: ${CT_WHY:-failed}"
		tail -15 "$IO_W/log" | sed 's/^/#   /'
		FAIL=$((FAIL + 1))
		IO_KEEP=${IO_KEEP:-1}
	fi
}
done_() {
	echo "# $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
	exit
}

io_deps >"$IO_W/log" 2>&1
io_prepare_kernel >>"$IO_W/log" 2>&1 && io_prepare_initrd >>"$IO_W/log" 2>&1 || io_die "no guest kernel: $(tail -3 "$IO_W/log")"
io_setup_topology
head -c $((2 * 1024 * 1024)) /dev/urandom >"$IO_W/data2M"

# the peer command: what espgw-tunnel writes on its stdin, run by the
# guest's shell through its command channel
PEER=$IO_W/peer.sh
cat >"$PEER" <<EOF
#!/bin/sh
exec $IO_PY $IO_DIR/guestctl.py $IO_W/tunnel.ctl -t 60 "\$(cat)"
EOF
chmod 700 "$PEER"
ARGS="$R1_WAN $R2_WAN $LAN_A $R1_LAN $LAN_B $R2_LAN"
tun() { # command [options]
	local c=$1
	shift
	"$TUN" --file-prefix "$IO_TAG" --espgwctl "$CT_ESPGWCTL" --peer-cmd "$PEER" \
		--wait 5 "$@" "$c" $ARGS
}

start() {
	io_guest_boot tunnel && ct_guest_base && ct_gw_start tunnel || return 1
	: >"$IO_W/pids" # the guest and espgw outlive the checks
	ctl addr add "$R1_WAN/24" dev eth0 && ctl addr add "$R1_LAN/24" dev eth1 &&
		g "ip addr add $R2_WAN/24 dev eth0
ip addr add $R2_LAN/24 dev eth1"
}
check "guest, espgw on its ports alone, addresses on both ends" start || done_
[ "$FAIL" = 0 ] || done_

spis_gw() { ctl xfrm state list | sed -n 's/.*spi \(0x[0-9a-f]*\).*/\1/p' | sort | tr '\n' ' '; }
spis_k() { G_QUIET=1 g "ip xfrm state" | sed -n 's/.*spi \(0x[0-9a-f]*\).*/\1/p' | sort | tr '\n' ' '; }
both() { # both ends' states, policies, routes
	{ ctl xfrm state list; ctl xfrm policy list; ctl route list; echo ===
	  G_QUIET=1 g "ip xfrm state; ip xfrm policy; ip route"; } 2>&1
}

up() {
	tun up >"$IO_W/up.out" 2>"$IO_W/up.err" || { fail "up: $(cat "$IO_W/up.err")"; return 1; }
	cat "$IO_W/up.out" "$IO_W/up.err"
	! grep -qE '0x[0-9a-f]{32}' "$IO_W/up.out" "$IO_W/up.err" || { fail "a key was printed"; return 1; }
	[ "$(spis_gw)" = "$(spis_k)" ] && [ "$(spis_gw | wc -w)" = 2 ] || { fail "states: espgw $(spis_gw), kernel $(spis_k)"; return 1; }
}
check "up from nothing (Linux peer)" up
lifetimes() { # soft hard: both states of both ends carry them
	local want="expire add: soft $1(sec), hard $2(sec)" e k
	e=$(ctl -s xfrm state list | grep -cF "$want")
	k=$(G_QUIET=1 g "ip -s xfrm state" | grep -cF "$want")
	ctl -s xfrm state list | grep -A4 "lifetime config:"
	[ "$(ctl -s xfrm state list | grep -c "lifetime config:")" = 2 ] && [ "$e" = 2 ] && [ "$k" = 2 ] ||
		{ fail "'$want': on $e of espgw's states, $k of the kernel's (want 2 and 2)"; return 1; }
}
check "default lifetimes on both ends: soft 3300 s, hard 3600 s" lifetimes 3300 3600
check "ping hostA -> hostB" ping_a "$HOSTB" 5
check "ping hostB -> hostA" ping_b "$HOSTA" 5
tcp() { ct_tcp_start t1 "$IO_W/data2M" 5001 && ct_tcp_check t1 120 || { fail "TCP 2 MiB: checksum or size differs"; return 1; }; }
check "TCP 2 MiB hostA -> hostB, sha256 matches" tcp

unchanged() { # what command...
	local w=$1
	shift
	both >"$IO_W/b0"
	if "$@" >"$IO_W/bad.out" 2>&1; then fail "$w: exit status 0"; return 1; fi
	cat "$IO_W/bad.out"
	both >"$IO_W/b1"
	diff "$IO_W/b0" "$IO_W/b1" || { fail "$w: an end changed"; return 1; }
}
check "failing peer command: rekey leaves both ends as they were" unchanged rekey tun rekey --peer-cmd "exit 3"
check "failing peer command: down leaves both ends as they were" unchanged down tun down --peer-cmd "false"
check "bad arguments leave both ends as they were" unchanged bad "$TUN" --file-prefix "$IO_TAG" --peer-cmd "$PEER" up $R1_WAN $R2_WAN $LAN_A 10.0.9.1 $LAN_B $R2_LAN
refused() { # message command...: refused with the message, nothing changed
	local want=$1
	shift
	unchanged "$@" || return 1
	grep -qF -- "$want" "$IO_W/bad.out" || { fail "no '$want' in: $(cat "$IO_W/bad.out")"; return 1; }
}
check "rekey with soft >= hard lifetime: refused, both ends as they were" refused \
	"--lifetime-soft 30 must be below --lifetime-hard 30" rekey tun rekey --lifetime-soft 30 --lifetime-hard 30
check "auto-rekey without a soft lifetime: refused, both ends as they were" refused \
	"needs a soft lifetime" auto tun rekey --auto-rekey --lifetime-hard 0

rekeys() {
	local n before after
	ct_stream_start rk 5003 "${CT_TCP_RATE:-150000}" || { fail "cannot start the TCP stream"; return 1; }
	ct_ping_start rk 0.01 "$HOSTB"
	sleep 2
	for n in $(seq 1 "${TUN_REKEYS:-10}"); do
		before=$(spis_gw)
		tun rekey >"$IO_W/rk.out" 2>"$IO_W/rk.err" || { fail "rekey $n: $(cat "$IO_W/rk.err")"; return 1; }
		echo "# rekey $n: $(cat "$IO_W/rk.out")"
		after=$(spis_gw)
		[ "$after" = "$(spis_k)" ] && [ "$(echo "$after" | wc -w)" = 2 ] ||
			{ fail "rekey $n: states espgw $after, kernel $(spis_k)"; return 1; }
		for s in $before; do
			case " $after " in *" $s "*) fail "rekey $n: old SPI $s left"; return 1 ;; esac
		done
		grep -q "traffic moved" "$IO_W/rk.out" || { fail "rekey $n: the counters did not show the new SAs in use"; return 1; }
		kill -0 "$CT_TCP_PID" 2>/dev/null || { fail "rekey $n: the TCP stream broke off"; return 1; }
	done
	sleep 1
	ct_stream_stop rk
	ct_ping_stop rk
	local gaps
	gaps=$(ct_ping_gaps rk)
	echo "# ping: $(ct_ping_replies rk | cut -d' ' -f1) answered; lost: ${gaps:-none}"
	[ -z "$gaps" ] || { fail "pings lost during the rekeys: icmp_seq $gaps"; return 1; }
	ct_tcp_check rk 60 || { fail "the TCP stream across the rekeys: checksum or size differs"; return 1; }
	sleep 1
	gw_states "$IO_W/g" && k_states "$IO_W/k" || { fail "cannot read the counters"; return 1; }
	local spi dst e k
	while read -r spi _ dst _; do
		e=$(sa_count "$IO_W/g" "$spi" "$dst")
		k=$(sa_count "$IO_W/k" "$spi" "$dst")
		echo "  SA $spi (dst $dst): espgw $e packets, kernel $k"
		[ "$e" = "$k" ] && [ "$e" -gt 0 ] || { fail "SA $spi: espgw counts $e, the kernel $k"; return 1; }
	done <"$IO_W/g"
}
check "${TUN_REKEYS:-10} rekeys under a TCP stream and a ping flood: nothing lost" rekeys

down() {
	tun down || { fail "down failed"; return 1; }
	[ -z "$(ctl xfrm state list)" ] && [ -z "$(ctl xfrm policy list)" ] || { fail "espgw keeps states or policies"; return 1; }
	[ -z "$(G_QUIET=1 g 'ip xfrm state; ip xfrm policy')" ] || { fail "the kernel keeps states or policies"; return 1; }
	! ctl route list | grep -q "^$LAN_B" || { fail "espgw keeps the route"; return 1; }
	! G_QUIET=1 g "ip route" | grep -q "^$LAN_A" || { fail "the kernel keeps the route"; return 1; }
}
check "down leaves no state, policy or route on either end" down

# --auto-rekey: up, then a rekey on each soft expiry (20 s; hard 30 s)
# under a 2-minute TCP transfer and a ping every 20 ms
AUTO_SOFT=${TUN_AUTO_SOFT:-20}
AUTO_HARD=${TUN_AUTO_HARD:-30}
AUTO_SECS=${TUN_AUTO_SECS:-120}
AUTO_RATE=20000
head -c $((AUTO_SECS * AUTO_RATE)) /dev/urandom >"$IO_W/data.auto"
auto_start() {
	local i
	# not through tun (a function): $! must be espgw-tunnel itself
	"$TUN" --file-prefix "$IO_TAG" --espgwctl "$CT_ESPGWCTL" --peer-cmd "$PEER" --wait 5 \
		--auto-rekey --lifetime-soft "$AUTO_SOFT" --lifetime-hard "$AUTO_HARD" up $ARGS \
		>"$IO_W/auto.out" 2>"$IO_W/auto.err" &
	AUTO_PID=$!
	IO_PIDS="$IO_PIDS $AUTO_PID"
	for i in $(seq 1 600); do
		grep -q "auto-rekey: watching" "$IO_W/auto.err" && break
		kill -0 "$AUTO_PID" 2>/dev/null || { fail "auto-rekey up exited: $(cat "$IO_W/auto.err")"; return 1; }
		sleep 0.1
	done
	[ "$i" != 600 ] || { fail "auto-rekey up: not watching after 60 s"; return 1; }
	cat "$IO_W/auto.out" "$IO_W/auto.err"
	AUTO_SPIS=$(spis_gw)
	[ "$AUTO_SPIS" = "$(spis_k)" ] && [ "$(echo "$AUTO_SPIS" | wc -w)" = 2 ] ||
		{ fail "states: espgw $AUTO_SPIS, kernel $(spis_k)"; return 1; }
}
check "up --auto-rekey (soft ${AUTO_SOFT} s, hard ${AUTO_HARD} s)" auto_start
check "its lifetimes on both ends" lifetimes "$AUTO_SOFT" "$AUTO_HARD"

auto_transfer() {
	local n spis s
	ct_tcp_start au "$IO_W/data.auto" 5005 "$AUTO_RATE" || { fail "cannot start the transfer"; return 1; }
	ct_ping_start au 0.02 "$HOSTB"
	ct_tcp_check au $((AUTO_SECS + 120)) || { fail "the transfer across the rekeys: error, checksum or size differs"; return 1; }
	ct_ping_stop au
	cat "$IO_W/auto.out" "$IO_W/auto.err"
	kill -0 "$AUTO_PID" 2>/dev/null || { fail "espgw-tunnel --auto-rekey exited"; return 1; }
	n=$(grep -c '^rekey: ' "$IO_W/auto.out")
	echo "# $n rekeys during the transfer"
	[ "$n" -ge 4 ] || { fail "$n rekeys in ${AUTO_SECS} s (want 4 or more)"; return 1; }
	[ "$(grep -c '^rekey: .*(traffic moved' "$IO_W/auto.out")" = "$n" ] ||
		{ fail "a rekey did not see traffic move to the new SAs"; return 1; }
	# one soft expiry acted on a rekey (the last one may be under way)
	s=$(grep -c 'auto-rekey: soft expiry of' "$IO_W/auto.err")
	[ "$s" = "$n" ] || [ "$s" = $((n + 1)) ] || { fail "$s soft expiries acted on, $n rekeys"; return 1; }
	! grep -q "warning" "$IO_W/auto.err" || { fail "a state expired hard: $(grep warning "$IO_W/auto.err")"; return 1; }
	# every rekey made two SPIs never seen before
	spis=$(sed -n 's/^rekey: out [0-9a-fx,]* -> \(0x[0-9a-f]*\), in [0-9a-fx,]* -> \(0x[0-9a-f]*\) .*/\1 \2/p' "$IO_W/auto.out")
	# shellcheck disable=SC2086 # one SPI a word
	[ "$(printf '%s\n' $AUTO_SPIS $spis | sort -u | wc -l)" = $((2 * n + 2)) ] ||
		{ fail "SPIs repeat: $AUTO_SPIS / $spis"; return 1; }
	local gaps
	gaps=$(ct_ping_gaps au)
	echo "# ping: $(ct_ping_replies au | cut -d' ' -f1) answered; lost: ${gaps:-none}"
	[ -z "$gaps" ] || { fail "pings lost across the rekeys: icmp_seq $gaps"; return 1; }
}
check "a ${AUTO_SECS} s TCP transfer across the auto-rekeys: checksum matches, 4+ rekeys, new SPIs, no ping lost" auto_transfer

auto_stop() {
	local before s
	kill -TERM "$AUTO_PID"
	io_wait_pid "$AUTO_PID" 60
	cat "$IO_W/auto.err"
	[ "$IO_WAIT_RC" = 0 ] || { fail "espgw-tunnel --auto-rekey: status $IO_WAIT_RC on SIGTERM"; return 1; }
	grep -q "stopped by SIGTERM; the tunnel stays up" "$IO_W/auto.err" || { fail "no stop message"; return 1; }
	# the SPIs it names are those both ends keep
	before=$(sed -n 's/.*stays up: out spi \(0x[0-9a-f]*\), in spi \(0x[0-9a-f]*\)$/\1 \2/p' "$IO_W/auto.err" |
		tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$before" = "$(spis_gw)" ] && [ "$before" = "$(spis_k)" ] ||
		{ fail "after the stop: said $before, espgw $(spis_gw), kernel $(spis_k)"; return 1; }
	for s in $AUTO_SPIS; do
		case " $before " in *" $s "*) fail "the first SPI $s is still there"; return 1 ;; esac
	done
	ping_a "$HOSTB" 3 || { fail "no ping through after the stop"; return 1; }
}
check "SIGTERM stops --auto-rekey with status 0, the tunnel up on the states it names" auto_stop
check "down after --auto-rekey leaves nothing on either end" down
io_gw_stop >/dev/null
done_
