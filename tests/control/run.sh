#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The live control plane end to end: espgw (R1) starts with its ports and
# nothing else, and espgwctl gives it everything else while it runs,
# against a stock Debian kernel (R2) in qemu keyed with the real `ip`
# (tests/interop's machinery). See docs/interop.md, "The live control
# plane".
#
#   hostA 10.0.1.10 ── [ R1 espgw ] 192.0.2.1 ══ ESP ══ 192.0.2.2 [ R2 Linux ] ── hostB 10.0.2.10
#                       10.0.1.1  eth1    eth0              eth0    eth1 10.0.2.1   (netns in the guest)
#
# usage: tests/control/run.sh [-k SCENARIO]... [-v] [-l]
#   -k NAME   run only this scenario (repeatable; a comma list works too)
#   -v        print every scenario's log as it runs, not only on failure
#   -l        list the scenarios
# Environment: ESPGW (binary, default build/app/espgw), ESPGWCTL (default
#   espgwctl/espgwctl beside ESPGW), CT_REKEYS (rekeys in a row, default
#   10), CT_TCP_RATE (the rekeys' TCP stream, bytes/s, default 150000),
#   and tests/interop's: ESPGW_INTEROP_CACHE, IO_POLL_IDLE_US,
#   IO_PVH, IO_KEEP, IO_SCENARIO_LIMIT, IO_KERNEL_PKG.
# Output: "ok - NAME (Ts)" or "not ok - NAME: WHY" per scenario, then
# "N passed, M failed"; exit status 0 only when every scenario passed.
# When qemu or the kernel package cannot be had, it fails (never skips).
# One guest serves every scenario (each starts by undoing what the one
# before left in it); espgw starts afresh for each.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$HERE/../interop/lib.sh"
# shellcheck source=tests/control/lib.sh
. "$HERE/lib.sh"

ALL="classic rekey limits"
io_parse_args 2,25p "$@"

# espgw's ports, a guest in its base state, hostA without what an
# earlier scenario taught it
ct_scenario_start() { # tag
	ip -n "$NS_A" route flush cache 2>/dev/null
	ip -n "$NS_A" neigh flush dev eth0 2>/dev/null
	ct_guest_reset || { fail "cannot reset the guest"; return 1; }
	ct_gw_start "$1" || { fail "espgw did not start on its ports alone"; return 1; }
}

# Both sites' scripts, site a's through espgwctl; neither may print a
# thing on a fresh start.
first_run() { # tag spi12 key12 spi21 key21
	site_script a "$2" "$3" "$4" "$5" >"$IO_W/$1-a.sh"
	site_script b "$2" "$3" "$4" "$5" >"$IO_W/$1-b.sh"
	run_site_a "$IO_W/$1-a.sh" "$IO_W/$1-a.out"
	run_site_b "$IO_W/$1-b.sh" "$IO_W/$1-b.out" || { fail "the guest did not run site b's script"; return 1; }
	[ ! -s "$IO_W/$1-a.out" ] || { fail "site a's script on espgw: $(head -1 "$IO_W/$1-a.out")"; return 1; }
	[ ! -s "$IO_W/$1-b.out" ] || { fail "site b's script on the kernel: $(head -1 "$IO_W/$1-b.out")"; return 1; }
}

# Both ends' counts of an SA must be the same number, above zero.
same_count() { # what gw-states k-states spi dst
	local e k
	e=$(sa_count "$2" "$4" "$5")
	k=$(sa_count "$3" "$4" "$5")
	printf '  SA %s (dst %s): espgw %s packets (%s bytes), kernel %s packets (%s bytes)\n' \
		"$4" "$5" "$e" "$(sa_count "$2" "$4" "$5" 5)" "$k" "$(sa_count "$3" "$4" "$5" 5)"
	[ "$e" = "$k" ] && [ "$e" -gt 0 ] || { fail "$1: SA $4 (dst $5): espgw counts $e packets, the kernel $k"; return 1; }
}

# a. The classic script, twice. The first run sets both gateways up
# from nothing; the second, with new SPIs and keys, runs while hostA
# pings hostB: the flush breaks the tunnel for a moment, the new SAs
# carry the traffic, both ends count them alike.
sc_classic() {
	local s12=0x00001001 s21=0x00002002 n12=0x00003003 n21=0x00004004 k12 k21 gaps t r0 r1 e st
	local spi dst dir
	ct_scenario_start classic || return 1
	first_run classic "$s12" "$(rkey 128)" "$s21" "$(rkey 128)" || return 1
	ping_a "$HOSTB" 5 || { fail "ping hostA -> hostB after the first run"; return 1; }
	ping_b "$HOSTA" 5 || { fail "ping hostB -> hostA after the first run"; return 1; }
	ct_tcp_start classic1 "$DATA2M" 5001 && ct_tcp_check classic1 120 ||
		{ fail "TCP 2 MiB hostA -> hostB after the first run: checksum or size differs"; return 1; }

	echo "# the second run, new SPIs and keys, while hostA pings hostB every 50 ms"
	ct_ping_start classic 0.05 "$HOSTB"
	sleep 2
	k12=$(rkey 256)
	k21=$(rkey 256)
	site_script a "$n12" "$k12" "$n21" "$k21" >"$IO_W/classic2-a.sh"
	site_script b "$n12" "$k12" "$n21" "$k21" >"$IO_W/classic2-b.sh"
	# The kernel first: from its flush until espgw's, hostA's requests
	# die at the kernel and hostB sends nothing, so nothing goes out on a
	# new SA before the other end has it, and both ends count the new
	# SAs exactly alike.
	r0=$(ct_ping_replies classic)
	run_site_b "$IO_W/classic2-b.sh" "$IO_W/classic2-b.out" || { fail "the guest did not run site b's script again"; return 1; }
	run_site_a "$IO_W/classic2-a.sh" "$IO_W/classic2-a.out"
	# addr add and route add find what the first run made, on both ends
	echo "# errors of the second run: espgw's and the kernel's must be the same lines"
	if ! diff <(run_errors "$IO_W/classic2-a.out") <(run_errors "$IO_W/classic2-b.out"); then
		fail "the second run: espgwctl's errors differ from ip's (< espgw, > kernel)"
		return 1
	fi
	[ -s "$IO_W/classic2-b.out" ] || { fail "the second run: the kernel printed no error (File exists expected)"; return 1; }
	# traffic resumes: 40 pings in a row answered after the last one lost
	r1=$(ct_ping_replies classic)
	for _ in $(seq 1 150); do # 15 s
		[ "$(ct_ping_replies classic | cut -d' ' -f1)" -ge $((${r1%% *} + 40)) ] && break
		sleep 0.1
	done
	ct_ping_stop classic
	gaps=$(ct_ping_gaps classic)
	r1=$(ct_ping_replies classic)
	t=0
	for e in $gaps; do t=$e; done
	echo "# ping: answered up to seq ${r0#* } before the second run, up to ${r1#* } in all; unanswered: ${gaps:-none}"
	[ "${gaps%% *}" -gt "${r0#* }" ] 2>/dev/null || [ -z "$gaps" ] ||
		{ fail "ping: seq ${gaps%% *} unanswered before the second run began"; return 1; }
	[ "${r1#* }" -ge $((t + 40)) ] ||
		{ fail "ping: traffic did not resume (last unanswered seq $t, last answered ${r1#* })"; return 1; }
	echo "# the tunnel was down for $(echo "$gaps" | wc -w) pings (50 ms apart) and came back"

	ct_tcp_start classic2 "$DATA2M" 5002 && ct_tcp_check classic2 120 ||
		{ fail "TCP 2 MiB hostA -> hostB after the second run: checksum or size differs"; return 1; }
	ping_b "$HOSTA" 5 || { fail "ping hostB -> hostA after the second run"; return 1; }
	sleep 1 # nothing in flight
	gw_states "$IO_W/classic.gw" || { fail "espgwctl -s xfrm state failed"; return 1; }
	k_states "$IO_W/classic.k" || { fail "ip -s xfrm state in the guest failed"; return 1; }
	echo "# espgwctl -s xfrm state against the guest's ip -s xfrm state"
	same_count "new SA out" "$IO_W/classic.gw" "$IO_W/classic.k" "$n12" "$R2_WAN" || return 1
	same_count "new SA in" "$IO_W/classic.gw" "$IO_W/classic.k" "$n21" "$R1_WAN" || return 1
	for e in "$IO_W/classic.gw" "$IO_W/classic.k"; do
		[ "$(wc -l <"$e")" = 2 ] || { fail "$(basename "$e"): $(wc -l <"$e") states, not the 2 new ones"; return 1; }
	done

	# espgw's --stats-file at exit says what espgwctl -s said
	io_gw_stop
	st=$IO_W/classic.stats
	for e in "$n12 $R2_WAN out" "$n21 $R1_WAN in"; do
		read -r spi dst dir <<<"$e"
		e=sa.$dst/esp/$spi/$dir.packets
		[ "$(io_stat "$st" "$e")" = "$(sa_count "$IO_W/classic.gw" "$spi" "$dst")" ] ||
			{ fail "stats file: $e is $(io_stat "$st" "$e"), espgwctl -s said $(sa_count "$IO_W/classic.gw" "$spi" "$dst")"; return 1; }
	done
	e=$(t_balance "$IO_ESPGW" "$st") || { fail "espgw's packets not accounted for: $e"; return 1; }
	echo "# espgw's drops: $(awk '$1 ~ /^gw\.drop-|^esp\./ && $2 != 0' "$st" | tr -s ' \n' ' ')"
}

# The statement adding an SA (the same text on both ends)
sa_add() { # src dst spi reqid key
	echo "xfrm state add src $1 dst $2 proto esp spi $3 reqid $4 mode tunnel replay-window 64 aead $AEAD $5 128"
}

# b. Make-before-break rekeying, CT_REKEYS times in a row, under a TCP
# stream and 100 pings a second. Each rekey adds a new SA pair (new SPIs
# and keys, the same reqids): first each end's new inbound SA, then each
# end's new outbound one, which both ends' outbound picks at once (the
# newest state for the template); after a pause, the old states go.
# Not one ping may be lost, the stream's checksum must match, and the
# counters must show the traffic moving: the old SAs' counts stop, equal
# on both ends, the new ones grow.
sc_rekey() {
	local n max=${CT_REKEYS:-10} o12=0x0000a000 o21=0x0000b000 n12 n21 k12 k21 a b c d
	local G1=$IO_W/rekey.gw1 G2=$IO_W/rekey.gw2 K1=$IO_W/rekey.k1 K2=$IO_W/rekey.k2 gaps
	ct_scenario_start rekey || return 1
	first_run rekey "$o12" "$(rkey 128)" "$o21" "$(rkey 128)" || return 1
	ping_a "$HOSTB" 3 || { fail "ping hostA -> hostB after the set-up"; return 1; }
	ct_stream_start rekey 5003 "${CT_TCP_RATE:-150000}" || { fail "cannot start the TCP stream"; return 1; }
	ct_ping_start rekey 0.01 "$HOSTB"
	sleep 2
	for n in $(seq 1 "$max"); do
		n12=$(printf '0x%08x' $((o12 + 1)))
		n21=$(printf '0x%08x' $((o21 + 1)))
		k12=$(rkey 128)
		k21=$(rkey 128)
		echo "# rekey $n: $o12/$o21 -> $n12/$n21"
		# 1. the new inbound SAs: each receiver knows its SA before
		#    any sender can use it
		eval "ctl $(sa_add "$R2_WAN" "$R1_WAN" "$n21" 2 "$k21")" || { fail "rekey $n: espgw refused its new inbound SA"; return 1; }
		g "ip $(sa_add "$R1_WAN" "$R2_WAN" "$n12" 1 "$k12")" || { fail "rekey $n: the kernel refused its new inbound SA"; return 1; }
		# 2. the new outbound SAs, which take over at once
		eval "ctl $(sa_add "$R1_WAN" "$R2_WAN" "$n12" 1 "$k12")" || { fail "rekey $n: espgw refused its new outbound SA"; return 1; }
		g "ip $(sa_add "$R2_WAN" "$R1_WAN" "$n21" 2 "$k21")" || { fail "rekey $n: the kernel refused its new outbound SA"; return 1; }
		# 3. the traffic moved: two looks a second apart
		sleep 1
		gw_states "$G1" && k_states "$K1" || { fail "rekey $n: cannot read the counters"; return 1; }
		sleep 1
		gw_states "$G2" && k_states "$K2" || { fail "rekey $n: cannot read the counters"; return 1; }
		a=$(sa_count "$G2" "$o12" "$R2_WAN")
		b=$(sa_count "$K2" "$o12" "$R2_WAN")
		c=$(sa_count "$G2" "$o21" "$R1_WAN")
		d=$(sa_count "$K2" "$o21" "$R1_WAN")
		echo "  old $o12 (espgw -> kernel): espgw sent $a, kernel received $b; old $o21 (kernel -> espgw): kernel sent $d, espgw received $c"
		echo "  new $n12: espgw $(sa_count "$G1" "$n12" "$R2_WAN") -> $(sa_count "$G2" "$n12" "$R2_WAN"), kernel $(sa_count "$K1" "$n12" "$R2_WAN") -> $(sa_count "$K2" "$n12" "$R2_WAN");" \
			"new $n21: kernel $(sa_count "$K1" "$n21" "$R1_WAN") -> $(sa_count "$K2" "$n21" "$R1_WAN"), espgw $(sa_count "$G1" "$n21" "$R1_WAN") -> $(sa_count "$G2" "$n21" "$R1_WAN")"
		[ "$a" = "$(sa_count "$G1" "$o12" "$R2_WAN")" ] && [ "$b" = "$(sa_count "$K1" "$o12" "$R2_WAN")" ] &&
			[ "$c" = "$(sa_count "$G1" "$o21" "$R1_WAN")" ] && [ "$d" = "$(sa_count "$K1" "$o21" "$R1_WAN")" ] ||
			{ fail "rekey $n: an old SA's count still grows after the new SAs took over"; return 1; }
		[ "$a" = "$b" ] && [ "$c" = "$d" ] && [ "$a" -gt 0 ] && [ "$c" -gt 0 ] ||
			{ fail "rekey $n: the old SAs' final counts differ between the ends ($o12: $a/$b, $o21: $d/$c)"; return 1; }
		[ "$(sa_count "$G2" "$n12" "$R2_WAN")" -gt "$(sa_count "$G1" "$n12" "$R2_WAN")" ] &&
			[ "$(sa_count "$K2" "$n12" "$R2_WAN")" -gt "$(sa_count "$K1" "$n12" "$R2_WAN")" ] &&
			[ "$(sa_count "$G2" "$n21" "$R1_WAN")" -gt "$(sa_count "$G1" "$n21" "$R1_WAN")" ] &&
			[ "$(sa_count "$K2" "$n21" "$R1_WAN")" -gt "$(sa_count "$K1" "$n21" "$R1_WAN")" ] ||
			{ fail "rekey $n: a new SA's count does not grow"; return 1; }
		# 4. the old states go
		printf 'xfrm state delete src %s dst %s proto esp spi %s\n' "$R1_WAN" "$R2_WAN" "$o12" "$R2_WAN" "$R1_WAN" "$o21" |
			ctl -batch - || { fail "rekey $n: espgw did not delete the old states"; return 1; }
		g "ip xfrm state delete src $R1_WAN dst $R2_WAN proto esp spi $o12
ip xfrm state delete src $R2_WAN dst $R1_WAN proto esp spi $o21" || { fail "rekey $n: the kernel did not delete the old states"; return 1; }
		kill -0 "$CT_TCP_PID" 2>/dev/null ||
			{ fail "rekey $n: the TCP stream broke off: $(cat "$IO_W/rekey.tx")"; return 1; }
		o12=$n12
		o21=$n21
	done
	sleep 1
	ct_stream_stop rekey
	ct_ping_stop rekey
	gaps=$(ct_ping_gaps rekey)
	echo "# ping: $(ct_ping_replies rekey | cut -d' ' -f1) answered; unanswered before the last answer: ${gaps:-none}"
	[ -z "$gaps" ] || { fail "pings lost during the rekeys: icmp_seq $gaps"; return 1; }
	[ "$(ct_ping_replies rekey | cut -d' ' -f1)" -gt 1000 ] || { fail "too few pings answered"; return 1; }
	ct_tcp_check rekey 60 || { fail "the TCP stream across the rekeys: checksum or size differs"; return 1; }
	sleep 1
	gw_states "$G1" && k_states "$K1" || { fail "cannot read the counters"; return 1; }
	echo "# the last SA pair, traffic stopped"
	same_count "last SA out" "$G1" "$K1" "$o12" "$R2_WAN" || return 1
	same_count "last SA in" "$G1" "$K1" "$o21" "$R1_WAN" || return 1
	[ "$(wc -l <"$G1")" = 2 ] && [ "$(wc -l <"$K1")" = 2 ] ||
		{ fail "states left: espgw $(wc -l <"$G1"), kernel $(wc -l <"$K1"), not 2"; return 1; }
	io_gw_stop
	a=$(t_balance "$IO_ESPGW" "$IO_W/rekey.stats") || { fail "espgw's packets not accounted for: $a"; return 1; }
	a=$(awk '($1 ~ /^gw\.drop-/ || $1 ~ /^esp\./) && $1 != "gw.drop-frag-needed" && $2 != 0 { print $1 "=" $2 }' "$IO_W/rekey.stats" | tr '\n' ' ')
	[ -z "$a" ] || { fail "espgw dropped packets: $a"; return 1; }
}

# c. Lifetimes on both ends, the same `limit` options, the classic
# script's states their only ones: what espgw sends (10.0.1.0/24 ->
# 10.0.2.0/24) goes dying at packet 11 and expires at 20; what the
# kernel sends back, by its bytes: dying past 5 pings' bytes (84 each),
# expired once 15 pings' and one byte more have gone, so that the 16th
# goes and the 17th does not. 30 pings: 20 requests reach hostB, 16
# replies come back, counted alike on both ends; both ends' outbound
# states expire and go, both inbound ones stay at their counts, and
# both ends report the Expired events of their own states alike (ip
# xfrm monitor's lines).
sc_limits() {
	local s12=0x00005005 s21=0x00006006 k12 k21 f e n G=$IO_W/limits.gw K=$IO_W/limits.k
	local l12=" limit packet-soft 10 limit packet-hard 20" l21=" limit byte-soft 421 limit byte-hard 1261"
	ct_scenario_start limits || return 1
	k12=$(rkey 128)
	k21=$(rkey 128)
	for f in a b; do
		site_script $f "$s12" "$k12" "$s21" "$k21" |
			sed -e "/state add src $R1_WAN /s/\$/$l12/" -e "/state add src $R2_WAN /s/\$/$l21/" \
				>"$IO_W/limits-$f.sh"
	done
	grep -q "spi $s12 .*$l12\$" "$IO_W/limits-a.sh" || { fail "the limits are not in the script"; return 1; }
	ctl monitor xfrm >"$IO_W/limits.mon" 2>&1 &
	IO_PIDS="$IO_PIDS $!"
	G_QUIET=1 g "ip xfrm monitor > /tmp/xmon 2>&1 & echo \$! > /tmp/xmon.pid" ||
		{ fail "cannot start ip xfrm monitor in the guest"; return 1; }
	sleep 0.5
	run_site_b "$IO_W/limits-b.sh" "$IO_W/limits-b.out" || { fail "the guest did not run site b's script"; return 1; }
	run_site_a "$IO_W/limits-a.sh" "$IO_W/limits-a.out"
	[ ! -s "$IO_W/limits-a.out" ] && [ ! -s "$IO_W/limits-b.out" ] ||
		{ fail "a site script with limits printed: $(cat "$IO_W/limits-a.out" "$IO_W/limits-b.out" | head -2)"; return 1; }
	gw_states "$G.0" && grep -q "limit: soft (INF)(bytes), hard (INF)(bytes)" "$G.0.raw" &&
		grep -q "limit: soft 10(packets), hard 20(packets)" "$G.0.raw" ||
		{ fail "espgwctl -s does not show the packet limits"; return 1; }
	echo "hostA\$ ping -c 30 -i 0.1 $HOSTB"
	io_in "$NS_A" ping -c 30 -i 0.1 -W 1 "$HOSTB" >"$IO_W/limits.ping" 2>&1
	tail -2 "$IO_W/limits.ping"
	sleep 2.5 # the control thread removes what expired within a second
	n=$(grep -c 'icmp_seq=' "$IO_W/limits.ping")
	[ "$n" = 16 ] || { fail "$n pings answered, not 16 (the kernel's byte-hard)"; return 1; }
	gw_states "$G" && k_states "$K" || { fail "cannot read the counters"; return 1; }
	echo "# after: espgw $(cat "$G" | tr '\n' ';') kernel $(cat "$K" | tr '\n' ';')"
	[ "$(sa_count "$G" "$s12" "$R2_WAN")" = -1 ] && [ "$(sa_count "$K" "$s21" "$R1_WAN")" = -1 ] ||
		{ fail "an outbound state outlived its hard limit (espgw $s12: $(sa_count "$G" "$s12" "$R2_WAN"), kernel $s21: $(sa_count "$K" "$s21" "$R1_WAN"))"; return 1; }
	[ "$(sa_count "$K" "$s12" "$R2_WAN")" = 20 ] && [ "$(sa_count "$K" "$s12" "$R2_WAN" 5)" = 1680 ] ||
		{ fail "the kernel received $(sa_count "$K" "$s12" "$R2_WAN") packets ($(sa_count "$K" "$s12" "$R2_WAN" 5) bytes) on $s12, not espgw's packet-hard 20 (1680)"; return 1; }
	[ "$(sa_count "$G" "$s21" "$R1_WAN")" = 16 ] && [ "$(sa_count "$G" "$s21" "$R1_WAN" 5)" = 1344 ] ||
		{ fail "espgw received $(sa_count "$G" "$s21" "$R1_WAN") packets ($(sa_count "$G" "$s21" "$R1_WAN" 5) bytes) on $s21, not the kernel's byte-hard's 16 (1344)"; return 1; }
	G_QUIET=1 g "kill \$(cat /tmp/xmon.pid); sleep 0.2; cat /tmp/xmon" >"$IO_W/limits.kmon" ||
		{ fail "cannot read the guest's ip xfrm monitor"; return 1; }
	# Expired events: "Expired src A dst B", its "proto esp spi S ..."
	# line, ..., "hard H": one "S H" an event
	for e in limits.mon limits.kmon; do
		awk '/^Expired /{ x = 1 } x && /proto esp spi/{ spi = $4; sub(/\(.*/, "", spi) }
			x && /^\thard /{ print spi, $2; x = 0 }' "$IO_W/$e" | sort >"$IO_W/$e.ev"
		echo "# $e: $(tr '\n' ';' <"$IO_W/$e.ev")"
	done
	# each end: both its states soft, its outbound one hard
	printf '%s 0\n%s 0\n%s 1\n' "$s12" "$s21" "$s12" | sort >"$IO_W/limits.mon.want"
	printf '%s 0\n%s 0\n%s 1\n' "$s12" "$s21" "$s21" | sort >"$IO_W/limits.kmon.want"
	for e in limits.mon limits.kmon; do
		diff "$IO_W/$e.want" "$IO_W/$e.ev" >/dev/null ||
			{ fail "$e: Expired events $(tr '\n' ';' <"$IO_W/$e.ev"), not $(tr '\n' ';' <"$IO_W/$e.want")"; return 1; }
	done
	io_gw_stop
	e=$(t_balance "$IO_ESPGW" "$IO_W/limits.stats") || { fail "espgw's packets not accounted for: $e"; return 1; }
	echo "# espgw's drops: $(awk '$1 ~ /^gw\.drop-|^esp\.|^gone\./ && $2 != 0' "$IO_W/limits.stats" | tr -s ' \n' ' ')"
	[ "$(io_stat "$IO_W/limits.stats" gone.out.state-expired)" -ge 1 ] ||
		{ fail "no packet of the expired state was counted state-expired"; return 1; }
}

# ---- driver -----------------------------------------------------------------------
ct_scenario_end() {
	local p
	for p in $IO_PIDS; do
		t_kill_pid "$p"
	done
	IO_PIDS=""
	io_gw_stop >/dev/null
}

# The guest of every scenario: booted once, again only when it stopped
# answering.
ct_guest_up() {
	if [ -n "$IO_QEMU_PID" ] && kill -0 "$IO_QEMU_PID" 2>/dev/null &&
		G_QUIET=1 G_TIMEOUT=10 g true >/dev/null 2>&1; then
		return 0
	fi
	io_guest_stop
	io_guest_boot control >"$IO_W/boot.log" 2>&1 && ct_guest_base >>"$IO_W/boot.log" 2>&1 || {
		echo "# the guest did not come up:"
		sed 's/^/#   /' "$IO_W/boot.log" | tail -20
		return 1
	}
	grep '^# guest up' "$IO_W/boot.log"
	# the guest outlives the scenarios: io_reap must not end it
	: >"$IO_W/pids"
}

if [ "${IO_SOURCE_ONLY:-0}" = 1 ]; then return 0 2>/dev/null || exit 0; fi
io_require_root
io_init
ct_init
trap 'io_cleanup' EXIT
trap 'echo "interrupted"; exit 130' INT TERM
[ -x "$IO_ESPGW" ] || io_die "no espgw binary at $IO_ESPGW (build it: ninja -C build)"
[ -x "$CT_ESPGWCTL" ] || io_die "no espgwctl binary at $CT_ESPGWCTL (build it: ninja -C build)"
T_START=$(date +%s.%N)
io_deps
io_prepare_kernel
io_prepare_initrd
io_setup_topology
DATA2M=$IO_W/data2M
head -c $((2 * 1024 * 1024)) /dev/urandom >"$DATA2M"
io_log "espgw $IO_ESPGW, espgwctl $CT_ESPGWCTL, --poll-idle-us $IO_POLL_IDLE_US, logs in $IO_W"

io_run_scenarios ct_guest_up true ct_scenario_end
