#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NAT traversal end to end: ESP in UDP (RFC 3948) between espgw (R1) and
# a stock Debian kernel (R2) in qemu, through a real NAT (a router
# namespace with nftables masquerade), in both arrangements: espgw
# behind the NAT, and the kernel behind it. espgw starts on its ports
# alone and gets the rest from espgwctl; the kernel is keyed with the
# real `ip`, `encap espinudp 4500 4500 0.0.0.0` on its states, and a
# UDP_ENCAP socket on port 4500 (natt-hold.c, which an IKE daemon would
# hold). See docs/interop.md, "NAT traversal: tests/natt", and the
# drawing in tests/natt/lib.sh.
#
# usage: tests/natt/run.sh [-k SCENARIO]... [-v] [-l]
#   -k NAME   run only this scenario (repeatable; a comma list works too)
#   -v        print every scenario's log as it runs, not only on failure
#   -l        list the scenarios
# Output: "ok - NAME (Ts)" or "not ok - NAME: WHY" per scenario, then
# "N passed, M failed"; exit status 0 only when every scenario passed.
# It never skips: what it cannot have (qemu, the kernel, nftables) is a
# failure.
#
# espgw's NAT-T options (docs/control.md): --natt-follow, global, and
# --natt-keepalive S, global; the defaults below are those. Set them in
# the environment to try another build (docs/interop.md):
#   NATT_FOLLOW_OPT     words appended to espgw's inbound encap state
#                       statement so that espgw follows NAT mappings
#                       (issue 12, item 4). Unset: the rebind scenario
#                       fails. Set it empty when the option is global
#                       and give it in NATT_GW_ARGS.
#   NATT_KEEPALIVE_S    the keepalive interval the test expects, in
#                       seconds (default 2)
#   NATT_KEEPALIVE_OPT  words appended to espgw's outbound encap state
#                       so that it sends a NAT keepalive every
#                       NATT_KEEPALIVE_S when idle; empty (espgw's is
#                       global: NATT_GW_ARGS). ip has no such word: the
#                       kernel's XFRMA_NAT_KEEPALIVE_INTERVAL is an IKE
#                       daemon's, over netlink.
#   NATT_KA_STAT        the --stats-file counter of NAT keepalives espgw
#                       received. Unset: kernel-behind fails at its end.
#   NATT_MAPPING_STAT   the --stats-file counter of NAT mapping changes
#                       espgw saw. Unset: mapping fails at its end.
#   NATT_GW_ARGS        more espgw command-line options (global forms of
#                       the above), in every scenario but mapping, whose
#                       espgw must not follow mappings: it gets
#   NATT_GW_ARGS_NOFOLLOW  instead (default empty)
# Other knobs: NT_RATE (the rebind transfer, bytes/s, default 400000),
# and tests/interop's: ESPGW, ESPGWCTL, ESPGW_INTEROP_CACHE,
# IO_POLL_IDLE_US, IO_PVH, IO_KEEP, IO_SCENARIO_LIMIT, IO_KERNEL_PKG.

set -u
NATT_KEEPALIVE_S=${NATT_KEEPALIVE_S:-2}
NATT_KEEPALIVE_OPT=${NATT_KEEPALIVE_OPT-}
NATT_FOLLOW_OPT=${NATT_FOLLOW_OPT-}
NATT_KA_STAT=${NATT_KA_STAT-gw.drop-natt-keepalive}
NATT_MAPPING_STAT=${NATT_MAPPING_STAT-sa.203.0.113.1/esp/0x00008008/in.mappings}
NATT_GW_ARGS=${NATT_GW_ARGS---natt-follow --natt-keepalive $NATT_KEEPALIVE_S}
NATT_GW_ARGS_NOFOLLOW=${NATT_GW_ARGS_NOFOLLOW---natt-keepalive $NATT_KEEPALIVE_S}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$HERE/../interop/lib.sh"
# shellcheck source=tests/control/lib.sh
. "$HERE/../control/lib.sh"
# shellcheck source=tests/natt/lib.sh
. "$HERE/lib.sh"

ALL="nat gw-behind kernel-behind rebind rebind-addr mapping"
io_parse_args 2,45p "$@"

# ---- steps ------------------------------------------------------------------

# A fresh espgw on its ports alone, the guest and hostA without what an
# earlier scenario left, the NAT in arrangement a or b.
nt_start() { # tag a|b
	io_gw_stop >/dev/null
	ip -n "$NS_A" route flush cache 2>/dev/null
	ip -n "$NS_A" neigh flush dev eth0 2>/dev/null
	nt_guest_reset || { fail "cannot reset the guest"; return 1; }
	nt_arrange "$2" || { fail "cannot set up the NAT for arrangement $2"; return 1; }
	local args=${NATT_GW_ARGS:-}
	[ "$1" != mapping ] || args=${NATT_GW_ARGS_NOFOLLOW:-}
	IO_GW_ARGS=$args ct_gw_start "$1" || { fail "espgw did not start on its ports alone"; return 1; }
}

# A script's lines through espgwctl on espgw; its output to OUT
nt_run_gw() { # script out
	sed "s|^ip |espgwctl --file-prefix $IO_TAG |" "$1" >"$1.espgw"
	PATH=$(dirname "$CT_ESPGWCTL"):$PATH sh "$1.espgw" >"$2" 2>&1
	sed 's/^/  espgw| /' "$1.espgw"
	sed 's/^/  espgw said| /' "$2"
}

# Both sites' full scripts, the kernel's first; neither may print a
# thing. Until espgw has NAT-T, this is where every full scenario stops:
# espgwctl refuses `encap` by name.
nt_key_both() { # tag s12 k12 s21 k21 [gw extra out] [gw extra in]
	nt_site_script k "$2" "$3" "$4" "$5" >"$IO_W/$1-k.sh"
	nt_site_script gw "$2" "$3" "$4" "$5" "${6:-}" "${7:-}" >"$IO_W/$1-gw.sh"
	run_site_b "$IO_W/$1-k.sh" "$IO_W/$1-k.out" || { fail "the guest did not run the kernel's script"; return 1; }
	[ ! -s "$IO_W/$1-k.out" ] || { fail "the kernel's script: $(head -1 "$IO_W/$1-k.out")"; return 1; }
	nt_run_gw "$IO_W/$1-gw.sh" "$IO_W/$1-gw.out"
	[ ! -s "$IO_W/$1-gw.out" ] ||
		{ fail "espgw refused its side of the NAT-T set-up: $(head -1 "$IO_W/$1-gw.out")"; return 1; }
	nt_check_kernel_encap || return 1
}

# The guest's states say encap espinudp, both ports 4500
nt_check_kernel_encap() {
	local n
	n=$(G_QUIET=1 g "ip xfrm state" | grep -c 'encap type espinudp sport 4500 dport 4500 addr 0.0.0.0')
	[ "$n" = 2 ] || { fail "the kernel shows $n states with 'encap type espinudp sport 4500 dport 4500', not 2"; return 1; }
	echo "# the kernel's two states: encap type espinudp sport 4500 dport 4500 addr 0.0.0.0"
}

# TCP hostB -> hostA: N MiB made in the guest, sent with nc, received
# by xfer.py; sizes and sha256 compared.
nt_tcp_b_to_a() { # tag mib port
	local pid want got
	rm -f "$IO_W/$1.ready"
	echo "hostA\$ xfer.py tcp-recv $3 &"
	io_bg "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" tcp-recv "$3" -t 400 --ready "$IO_W/$1.ready" >"$IO_W/$1.rx"
	pid=$IO_BG_PID
	for _ in $(seq 1 50); do [ -f "$IO_W/$1.ready" ] && break; sleep 0.1; done
	[ -f "$IO_W/$1.ready" ] || { echo "  xfer.py does not listen"; return 1; }
	want=$(G_TIMEOUT=400 g "dd if=/dev/urandom of=/tmp/tx.bin bs=1M count=$2 2>/dev/null
ip netns exec hostb nc -N $HOSTA $3 < /tmp/tx.bin
echo sent \$(wc -c < /tmp/tx.bin) sha256 \$(sha256sum /tmp/tx.bin | cut -d' ' -f1)" | grep '^sent')
	io_wait_pid "$pid" 60
	got=$(grep '^received' "$IO_W/$1.rx")
	echo "  hostB $want"
	echo "  hostA $got"
	[ -n "$want" ] && [ "${want#sent }" = "${got#received }" ]
}

# Ping both ways, then 10 MiB of TCP each way, checksums compared
nt_traffic() { # tag
	ping_a "$HOSTB" 5 || { fail "ping hostA -> hostB through the NAT"; return 1; }
	ping_b "$HOSTA" 5 || { fail "ping hostB -> hostA through the NAT"; return 1; }
	ct_tcp_start "$1-ab" "$DATA10M" 5001 && ct_tcp_check "$1-ab" 400 ||
		{ fail "TCP 10 MiB hostA -> hostB: checksum or size differs"; return 1; }
	nt_tcp_b_to_a "$1-ba" 10 5002 ||
		{ fail "TCP 10 MiB hostB -> hostA: checksum or size differs"; return 1; }
}

# An SA's packet count must be the same on both ends, above zero; the
# two ends name its destination differently through the NAT.
nt_same_count() { # what gw-file k-file spi gw-dst k-dst
	local e k
	e=$(sa_count "$2" "$4" "$5")
	k=$(sa_count "$3" "$4" "$6")
	printf '  SA %s: espgw (dst %s) %s packets, %s bytes; kernel (dst %s) %s packets, %s bytes\n' \
		"$4" "$5" "$e" "$(sa_count "$2" "$4" "$5" 5)" "$6" "$k" "$(sa_count "$3" "$4" "$6" 5)"
	[ "$e" = "$k" ] && [ "$e" -gt 0 ] || { fail "$1: SA $4: espgw counts $e packets, the kernel $k"; return 1; }
}

# On the NAT's outside port, every ESP packet was in UDP between the
# two ends' public faces (port 4500 both): no bare ESP (IP protocol 50)
nt_check_outside() { # cap
	local bare other
	bare=$(tcpdump -nr "$IO_W/$1.pcap" 'ip proto 50' 2>/dev/null | wc -l)
	[ "$bare" = 0 ] || { fail "$bare bare ESP packets (IP protocol 50) on the NAT's outside port"; return 1; }
	other=$(nt_udp "$1" | awk '/ esp spi=/ && !(($2 == a && $4 == b) || ($2 == b && $4 == a))' \
		a="$GW_SEEN:4500" b="$K_SEEN:4500" | head -3)
	[ -z "$other" ] || { fail "ESP in UDP outside $GW_SEEN:4500 <-> $K_SEEN:4500: $other"; return 1; }
	echo "# the NAT's outside port: $(nt_udp "$1" | grep -c ' esp spi=') ESP-in-UDP datagrams, all $GW_SEEN:4500 <-> $K_SEEN:4500; no bare ESP"
}

# Both ends' counters, traffic stopped: each SA alike
nt_counts() { # tag s12 s21
	sleep 1 # nothing in flight
	gw_states "$IO_W/$1.gw" || { fail "espgwctl -s xfrm state failed"; return 1; }
	k_states "$IO_W/$1.k" || { fail "ip -s xfrm state in the guest failed"; return 1; }
	echo "# espgwctl -s xfrm state against the guest's ip -s xfrm state"
	nt_same_count "SA espgw -> kernel" "$IO_W/$1.gw" "$IO_W/$1.k" "$2" "$K_SEEN" "$K_WAN" || return 1
	nt_same_count "SA kernel -> espgw" "$IO_W/$1.gw" "$IO_W/$1.k" "$3" "$GW_WAN" "$GW_SEEN" || return 1
}

# espgw stopped: every packet accounted for; its drops printed
nt_gw_end() { # tag
	local e
	io_gw_stop
	e=$(t_balance "$IO_ESPGW" "$IO_W/$1.stats") || { fail "espgw's packets not accounted for: $e"; return 1; }
	echo "# espgw's drops: $(awk '$1 ~ /^gw\.drop-|^esp\./ && $2 != 0' "$IO_W/$1.stats" | tr -s ' \n' ' ')"
}

# ---- scenarios ----------------------------------------------------------------

# a. What needs no NAT-T in espgw, in both arrangements: plain ICMP and
# UDP cross the NAT with the addresses masquerade should give them and
# port 4500 kept; natt-hold's socket is in the guest and has UDP_ENCAP
# (an ESP-looking datagram to it goes to xfrm, which counts it under
# XfrmInNoStates; one with the non-ESP marker reaches the socket); the
# kernel, keyed with encap espinudp, sends ESP in UDP through the NAT.
# espgw runs with addresses and routes, no state: it forwards the plain
# traffic of hostA (no policy: bypass).
sc_nat() {
	local arr out n0 n1 s12=0x00001001 s21=0x00002002 k12 k21 got t p
	for arr in a b; do
		nt_start "nat-$arr" "$arr" || return 1
		nt_site_plain gw >"$IO_W/nat-$arr-gw.sh"
		nt_site_plain k >"$IO_W/nat-$arr-k.sh"
		nt_run_gw "$IO_W/nat-$arr-gw.sh" "$IO_W/nat-$arr-gw.out"
		[ ! -s "$IO_W/nat-$arr-gw.out" ] || { fail "espgw's addresses and route: $(head -1 "$IO_W/nat-$arr-gw.out")"; return 1; }
		g "$(cat "$IO_W/nat-$arr-k.sh")" || { fail "the guest's addresses and route"; return 1; }
		nt_hold_start || { fail "natt-hold does not hold udp 4500 with UDP_ENCAP in the guest"; return 1; }
		nt_cap_start "nat-$arr-out" out "icmp or udp" && nt_cap_start "nat-$arr-in" in "icmp or udp" ||
			{ fail "tcpdump in the router namespace"; return 1; }

		echo "# $arr: plain ICMP through the NAT"
		if [ "$arr" = a ]; then
			# hostA behind espgw behind the NAT: the kernel sees the
			# NAT's address
			ping_a "$K_WAN" 3 || { fail "$arr: plain ping hostA -> $K_WAN through the NAT"; return 1; }
		else
			ping_b "$HOSTA" 3 || { fail "$arr: plain ping hostB -> hostA through the NAT"; return 1; }
		fi

		echo "# $arr: UDP from port 4500 to port 4500, the non-ESP marker first"
		if [ "$arr" = a ]; then
			echo "hostA\$ nattpkt.py send 4500 $K_WAN 4500 marker"
			io_in "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" send 4500 "$K_WAN" 4500 marker
			got=""
			for _ in $(seq 1 30); do
				got=$(G_QUIET=1 g "grep '^rx' /tmp/hold.out")
				[ -n "$got" ] && break
				sleep 0.1
			done
			echo "  natt-hold in the guest: $got"
			[ "$got" = "rx $NAT_PUB:4500 14" ] ||
				{ fail "$arr: natt-hold got '${got:-nothing}', not 'rx $NAT_PUB:4500 14' (masquerade to the NAT's address, port kept)"; return 1; }
		else
			rm -f "$IO_W/nat.ready"
			io_bg "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" recv 4500 -t 20 --ready "$IO_W/nat.ready" >"$IO_W/nat-b.rx"
			n0=$IO_BG_PID
			for _ in $(seq 1 50); do [ -f "$IO_W/nat.ready" ] && break; sleep 0.1; done
			nt_hold_start -s "$HOSTA:4500" || { fail "$arr: natt-hold -s"; return 1; }
			io_wait_pid "$n0" 25
			got=$(cat "$IO_W/nat-b.rx")
			echo "  hostA received: $got"
			[ "$got" = "rx $NAT_PUB:4500 14" ] ||
				{ fail "$arr: hostA got '$got', not 'rx $NAT_PUB:4500 14' (masquerade to the NAT's address, port kept)"; return 1; }
		fi

		echo "# $arr: an ESP-looking datagram to natt-hold's port is the kernel's (XfrmInNoStates)"
		n0=$(k_xfrm_stat XfrmInNoStates)
		# (b): back through the mapping natt-hold's probe made
		io_in "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" send 4500 "$K_SEEN" 4500 esp
		for _ in $(seq 1 30); do
			n1=$(k_xfrm_stat XfrmInNoStates)
			[ "$n1" != "$n0" ] && break
			sleep 0.1
		done
		echo "  XfrmInNoStates $n0 -> $n1"
		[ "$n1" = $((n0 + 1)) ] ||
			{ fail "$arr: XfrmInNoStates went $n0 -> $n1: the kernel did not take the datagram as ESP in UDP (no UDP_ENCAP socket?)"; return 1; }
		# ... and not natt-hold's: it got the marker's datagram (a) or
		# nothing (b, where it sent the probe)
		n0=$(G_QUIET=1 g "grep -c '^rx' /tmp/hold.out")
		[ "$n0" = "$([ "$arr" = a ] && echo 1 || echo 0)" ] ||
			{ fail "$arr: natt-hold received $n0 datagrams: the ESP-looking one reached the socket"; return 1; }

		echo "# $arr: the kernel keyed with encap espinudp; hostB pings hostA (espgw has no state)"
		k12=$(rkey 128)
		k21=$(rkey 128)
		nt_site_script k "$s12" "$k12" "$s21" "$k21" |
			grep -E '^ip xfrm|^ip route add .* src ' >"$IO_W/nat-$arr-kx.sh"
		g "$(cat "$IO_W/nat-$arr-kx.sh")" || { fail "$arr: the guest refused its states"; return 1; }
		nt_check_kernel_encap || return 1
		G_TIMEOUT=30 g "ip netns exec hostb ping -c 3 -i 0.3 -W 1 $HOSTA | tail -2" || true
		nt_cap_stop "nat-$arr-out"
		nt_cap_stop "nat-$arr-in"
		nt_show "nat-$arr-in" 12
		nt_show "nat-$arr-out" 12
		out=$(nt_udp "nat-$arr-out")
		echo "$out" | sed 's/^/  out port: /'
		nt_udp "nat-$arr-in" | sed 's/^/  in port: /'

		# the plain ping went out with the NAT's address
		if [ "$arr" = a ]; then
			tcpdump -nr "$IO_W/nat-$arr-out.pcap" 2>/dev/null | grep -q "IP $NAT_PUB > $K_WAN: ICMP echo request" &&
				tcpdump -nr "$IO_W/nat-$arr-in.pcap" 2>/dev/null | grep -q "IP $HOSTA > $K_WAN: ICMP echo request" ||
				{ fail "$arr: the plain ping was not rewritten from $HOSTA to $NAT_PUB"; return 1; }
		else
			tcpdump -nr "$IO_W/nat-$arr-out.pcap" 2>/dev/null | grep -q "IP $NAT_PUB > $HOSTA: ICMP echo request" &&
				tcpdump -nr "$IO_W/nat-$arr-in.pcap" 2>/dev/null | grep -q "IP $HOSTB > $HOSTA: ICMP echo request" ||
				{ fail "$arr: the plain ping was not rewritten from $HOSTB to $NAT_PUB"; return 1; }
		fi
		# the kernel's three pings left in UDP, SPI s21, seq 1 to 3,
		# its address rewritten on the way (b) or to the NAT (a)
		n0=$(echo "$out" | grep -c " $K_SEEN:4500 > $GW_SEEN:4500 [0-9]* esp spi=$s21 seq=[123]\$")
		[ "$n0" = 3 ] ||
			{ fail "$arr: $n0 of the kernel's 3 ESP-in-UDP packets ($K_SEEN:4500 > $GW_SEEN:4500, spi $s21) on the NAT's outside port"; return 1; }
		if [ "$arr" = b ]; then
			n0=$(nt_udp "nat-$arr-in" | grep -c " $K_WAN:4500 > $GW_WAN:4500 [0-9]* esp spi=$s21 seq=[123]\$")
			[ "$n0" = 3 ] || { fail "$arr: $n0 of the kernel's 3 ESP-in-UDP packets on the NAT's inside port"; return 1; }
		fi
		echo "# $arr: the kernel's ESP in UDP crossed the NAT as $K_SEEN:4500 > $GW_SEEN:4500"

		# The kernel's other half, against scapy's ESP from hostA's
		# udp 4500 through the NAT (the mapping of the probes above):
		# it decapsulates (on natt-hold's socket), hostB answers, and
		# in (a) its answer comes back the same way and decrypts.
		echo "# $arr: scapy's ESP in UDP from hostA (spi $s12) to the kernel through the NAT"
		if [ "$arr" = a ]; then
			echo "hostA\$ nattpkt.py esp-ping 4500 $K_SEEN 4500 $s12 KEY12 $HOSTA $HOSTB --reply $s21 KEY21"
			got=$(io_in "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" esp-ping 4500 "$K_SEEN" 4500 "$s12" "$k12" \
				"$HOSTA" "$HOSTB" --reply "$s21" "$k21" -t 10) ||
				{ echo "$got"; fail "$arr: no ESP-in-UDP echo reply from the kernel that decrypts"; return 1; }
			echo "$got" | sed 's/^/  /'
			echo "$got" | grep -q "^rx $K_WAN:4500 esp spi=$s21 seq=4: $HOSTB > $HOSTA" ||
				{ fail "$arr: the kernel's reply is not ESP from $K_WAN:4500, spi $s21, seq 4"; return 1; }
		else
			echo "hostA\$ nattpkt.py esp-ping 4500 $K_SEEN 4500 $s12 KEY12 $HOSTA $HOSTB"
			io_in "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" esp-ping 4500 "$K_SEEN" 4500 "$s12" "$k12" "$HOSTA" "$HOSTB" |
				sed 's/^/  /'
		fi
		for _ in $(seq 1 30); do
			k_states "$IO_W/nat-$arr.k" || { fail "ip -s xfrm state in the guest failed"; return 1; }
			[ "$(sa_count "$IO_W/nat-$arr.k" "$s21" "$GW_SEEN")" = 4 ] && break
			sleep 0.2
		done
		echo "  the kernel: spi $s12 received $(sa_count "$IO_W/nat-$arr.k" "$s12" "$K_WAN"), spi $s21 sent $(sa_count "$IO_W/nat-$arr.k" "$s21" "$GW_SEEN")"
		[ "$(sa_count "$IO_W/nat-$arr.k" "$s12" "$K_WAN")" = 1 ] && [ "$(sa_count "$IO_W/nat-$arr.k" "$s21" "$GW_SEEN")" = 4 ] ||
			{ fail "$arr: the kernel did not take scapy's ESP in UDP and answer it (1 packet in, 3 pings + 1 reply out)"; return 1; }
	done

	# (b) still: natt-hold is what makes the kernel decapsulate. Without
	# its socket, the next packet (seq 2) is plain UDP to a closed port;
	# with it again, the one after (seq 3) is the SA's second.
	echo "# b: natt-hold stopped, then started again: scapy's ESP in UDP (seq 2, then 3)"
	g "$NT_GUEST_FUNCS
nt_hold_stop" || { fail "cannot stop natt-hold"; return 1; }
	n0=$(k_xfrm_stat XfrmInNoStates)
	io_in "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" esp-ping 4500 "$K_SEEN" 4500 "$s12" "$k12" "$HOSTA" "$HOSTB" --seq 2 |
		sed 's/^/  /'
	sleep 1 # the kernel has it, or has dropped it, by then
	k_states "$IO_W/nat-b2.k" || { fail "ip -s xfrm state in the guest failed"; return 1; }
	n1=$(k_xfrm_stat XfrmInNoStates)
	echo "  without natt-hold: spi $s12 received $(sa_count "$IO_W/nat-b2.k" "$s12" "$K_WAN"); XfrmInNoStates $n0 -> $n1"
	[ "$(sa_count "$IO_W/nat-b2.k" "$s12" "$K_WAN")" = 1 ] && [ "$n1" = "$n0" ] ||
		{ fail "b: the kernel took ESP in UDP with no UDP_ENCAP socket on 4500"; return 1; }
	nt_hold_start || { fail "natt-hold does not hold udp 4500 in the guest"; return 1; }
	io_in "$NS_A" "$IO_PY" "$NT_DIR/nattpkt.py" esp-ping 4500 "$K_SEEN" 4500 "$s12" "$k12" "$HOSTA" "$HOSTB" --seq 3 |
		sed 's/^/  /'
	for _ in $(seq 1 30); do
		k_states "$IO_W/nat-b3.k" || { fail "ip -s xfrm state in the guest failed"; return 1; }
		[ "$(sa_count "$IO_W/nat-b3.k" "$s12" "$K_WAN")" = 2 ] && break
		sleep 0.2
	done
	echo "  with natt-hold again: spi $s12 received $(sa_count "$IO_W/nat-b3.k" "$s12" "$K_WAN")"
	[ "$(sa_count "$IO_W/nat-b3.k" "$s12" "$K_WAN")" = 2 ] ||
		{ fail "b: the kernel did not take ESP in UDP on natt-hold's socket again"; return 1; }

	# (b) still: keepalives from natt-hold (the checks gw-behind makes
	# of espgw's), then the rebinding of the rebind scenario, which
	# moves them to a new port
	echo "# b: keepalives from the kernel's side, every ${NATT_KEEPALIVE_S}s, across the NAT"
	nt_cap_start nat-ka out udp || { fail "tcpdump in the router namespace"; return 1; }
	t=$(date +%s.%N)
	nt_hold_start -k "$GW_WAN:4500" -i "$NATT_KEEPALIVE_S" || { fail "natt-hold -k"; return 1; }
	nt_ka_check nat-ka "$t" "$NAT_PUB:4500" "$GW_WAN:4500" 3 "$NATT_KEEPALIVE_S" || return 1
	p=$(nt_mapped_port)
	[ "$p" = 4500 ] || { fail "b: the NAT maps $K_WAN:4500 to port ${p:-none}, not 4500"; return 1; }
	t=$(date +%s.%N)
	nt_rebind || { fail "cannot rebind the NAT"; return 1; }
	for _ in $(seq 1 $((NATT_KEEPALIVE_S * 10 + 50))); do
		p=$(nt_mapped_port)
		[ -n "$p" ] && break
		sleep 0.1
	done
	echo "# b: after the rebinding, $K_WAN:4500 is $NAT_PUB:${p:-?}"
	[ -n "$p" ] && [ "$p" -ge 40000 ] && [ "$p" -le 40999 ] ||
		{ fail "b: no new mapping of $K_WAN:4500 in 40000-40999 (${p:-none})"; return 1; }
	nt_ka_check nat-ka "$t" "$NAT_PUB:$p" "$GW_WAN:4500" 2 "$NATT_KEEPALIVE_S" || return 1
	nt_cap_stop nat-ka
	nt_udp nat-ka | awk -v t="$t" '$1 > t && $2 ~ /:4500$/' | grep . &&
		{ fail "b: keepalives from port 4500 after the rebinding"; return 1; }
	nt_masquerade
}

# b. espgw behind the NAT. Its outbound traffic makes the NAT's mapping
# (so hostA pings first); its keepalives keep it.
sc_gw_behind() {
	local s12=0x00001001 s21=0x00002002 ka
	nt_start gw-behind a || return 1
	nt_hold_start || { fail "natt-hold does not hold udp 4500 in the guest"; return 1; }
	nt_cap_start gwb-out out "udp or ip proto 50" && nt_cap_start gwb-in in "udp or ip proto 50" ||
		{ fail "tcpdump in the router namespace"; return 1; }
	nt_key_both gw-behind "$s12" "$(rkey 128)" "$s21" "$(rkey 128)" "$NATT_KEEPALIVE_OPT" || return 1
	nt_traffic gw-behind || return 1
	nt_counts gw-behind "$s12" "$s21" || return 1
	nt_cap_stop gwb-out
	nt_cap_stop gwb-in
	nt_check_outside gwb-out || return 1

	# keepalives: the state idle from here on
	[ -n "$NATT_KEEPALIVE_OPT${NATT_GW_ARGS:-}" ] ||
		{ fail "NATT_KEEPALIVE_OPT (or NATT_GW_ARGS) is empty: espgw was not told to send keepalives"; return 1; }
	nt_cap_start gwk-out out udp && nt_cap_start gwk-in in udp || { fail "tcpdump in the router namespace"; return 1; }
	ka=$(date +%s.%N)
	echo "# idle: keepalives every ${NATT_KEEPALIVE_S}s from espgw, as the NAT rewrites them"
	nt_ka_check gwk-out "$ka" "$NAT_PUB:4500" "$K_WAN:4500" 4 "$NATT_KEEPALIVE_S" || return 1
	nt_cap_stop gwk-out
	nt_cap_stop gwk-in
	nt_udp gwk-in | awk -v a="$GW_WAN:4500" -v b="$K_WAN:4500" '/ keepalive$/ && $2 == a && $4 == b' |
		grep -q . || { fail "no keepalive from $GW_WAN:4500 on the NAT's inside port"; return 1; }
	nt_udp gwk-out | awk '!/ keepalive$/' | head -3 | grep . &&
		{ fail "datagrams other than keepalives while the tunnel was idle"; return 1; }
	nt_gw_end gw-behind
}

# c. The kernel behind the NAT. natt-hold sends the keepalives a
# behind-the-NAT IKE daemon sends (from port 4500, every
# NATT_KEEPALIVE_S); they make the mapping, and espgw counts them.
sc_kernel_behind() {
	local s12=0x00003003 s21=0x00004004 n c
	nt_start kernel-behind b || return 1
	nt_cap_start kb-out out "udp or ip proto 50" || { fail "tcpdump in the router namespace"; return 1; }
	nt_key_both kernel-behind "$s12" "$(rkey 128)" "$s21" "$(rkey 128)" || return 1
	# its first keepalive makes the mapping that espgw's traffic needs:
	# were espgw's first packet first at the NAT, the NAT would give
	# the kernel another port than 4500
	nt_hold_start -k "$GW_WAN:4500" -i "$NATT_KEEPALIVE_S" || { fail "natt-hold does not hold udp 4500 in the guest"; return 1; }
	for _ in $(seq 1 50); do
		[ "$(nt_mapped_port)" = 4500 ] && break
		sleep 0.1
	done
	[ "$(nt_mapped_port)" = 4500 ] || { fail "the first keepalive made no mapping $K_WAN:4500 = $NAT_PUB:4500"; return 1; }
	nt_traffic kernel-behind || return 1
	nt_counts kernel-behind "$s12" "$s21" || return 1
	g "$NT_GUEST_FUNCS
nt_hold_stop"
	sleep 0.5 # the last keepalive reaches espgw
	nt_cap_stop kb-out
	nt_check_outside kb-out || return 1
	n=$(nt_udp kb-out | grep -c " $NAT_PUB:4500 > $GW_WAN:4500 1 keepalive\$")
	echo "# natt-hold's keepalives on the NAT's outside port: $n"
	[ "$n" -ge 2 ] || { fail "$n keepalives from the kernel's side crossed the NAT"; return 1; }
	nt_gw_end kernel-behind || return 1
	[ -n "${NATT_KA_STAT:-}" ] ||
		{ fail "NATT_KA_STAT is not set: name espgw's counter of NAT keepalives received"; return 1; }
	c=$(io_stat "$IO_W/kernel-behind.stats" "$NATT_KA_STAT")
	echo "# espgw's $NATT_KA_STAT: $c"
	[ "$c" = "$n" ] || { fail "espgw counted $c keepalives ($NATT_KA_STAT), $n crossed the NAT"; return 1; }
}

# d. The kernel behind the NAT, and the NAT rebinds in the middle of a
# transfer: the masquerade moves to ports 40000-40999 (rebind) or to a
# second public address, the port kept (rebind-addr), and its conntrack
# table is flushed. The kernel's next packet (hostB pings hostA all the
# time, and TCP acknowledges) gets the new mapping; espgw, following
# mappings, sends to it (after a new address, its states and templates
# name it), and the transfer completes. The kernel sees no change:
# espgw's side kept its address and port.
sc_rebind() { nt_rebind_across rebind port; }
sc_rebind_addr() { nt_rebind_across rebind-addr addr; }
nt_rebind_across() { # tag port|addr
	local tag=$1 s12=0x00005005 s21=0x00006006 t m p rx e k
	nt_start "$tag" b || return 1
	nt_hold_start || { fail "natt-hold does not hold udp 4500 in the guest"; return 1; }
	nt_key_both "$tag" "$s12" "$(rkey 128)" "$s21" "$(rkey 128)" "" "${NATT_FOLLOW_OPT:-}" || return 1
	[ -n "${NATT_FOLLOW_OPT+set}" ] ||
		{ fail "NATT_FOLLOW_OPT is not set: name espgw's option to follow NAT mappings (empty if it is in NATT_GW_ARGS)"; return 1; }
	ctl monitor xfrm >"$IO_W/$tag.mon" 2>&1 &
	IO_PIDS="$IO_PIDS $!"
	ping_b "$HOSTA" 3 && ping_a "$HOSTB" 3 || { fail "ping both ways before the rebinding"; return 1; }
	nt_cap_start rb-out out "udp or ip proto 50" || { fail "tcpdump in the router namespace"; return 1; }
	# /usr/sbin/ip, not the prelude's ip function: $! must be ping's
	G_QUIET=1 g "/usr/sbin/ip netns exec hostb ping -i 0.2 $HOSTA > /tmp/rb.ping 2>&1 & echo \$! > /tmp/rb.pid" ||
		{ fail "cannot start hostB's ping"; return 1; }
	ct_tcp_start "$tag" "$DATA10M" 5003 "${NT_RATE:-400000}" || { fail "cannot start the transfer"; return 1; }
	for _ in $(seq 1 300); do # 60 s
		rx=$(G_QUIET=1 g "wc -c < /tmp/rx.bin")
		[ "${rx:-0}" -ge $((3 * 1024 * 1024)) ] && break
		sleep 0.2
	done
	[ "${rx:-0}" -ge $((3 * 1024 * 1024)) ] || { fail "the transfer did not reach 3 MiB in 60 s ($rx bytes)"; return 1; }
	t=$(date +%s.%N)
	echo "# rebinding at $rx bytes"
	if [ "$2" = addr ]; then nt_rebind_addr; else nt_rebind; fi || { fail "cannot rebind the NAT"; return 1; }
	ct_tcp_check "$tag" 300 || { fail "the transfer across the rebinding: checksum or size differs, or it stalled"; return 1; }
	G_QUIET=1 g "kill -INT \$(cat /tmp/rb.pid); sleep 0.5; tail -3 /tmp/rb.ping; grep -q transmitted /tmp/rb.ping" ||
		{ fail "hostB's ping did not stop"; return 1; }
	nt_nat conntrack -L -p udp 2>/dev/null | sed 's/^/  conntrack| /'
	m=$(nt_mapping)
	p=${m##*:}
	echo "# the new mapping: $K_WAN:4500 is ${m:-?}"
	if [ "$2" = addr ]; then
		[ "$m" = "$NAT_PUB2:4500" ] ||
			{ fail "no new mapping of $K_WAN:4500 to $NAT_PUB2:4500 (${m:-none})"; return 1; }
	else
		[ "${m%:*}" = "$NAT_PUB" ] && [ -n "$p" ] && [ "$p" -ge 40000 ] && [ "$p" -le 40999 ] ||
			{ fail "no new mapping of $K_WAN:4500 in 40000-40999 (${m:-none})"; return 1; }
	fi
	nt_cap_stop rb-out
	nt_udp rb-out | awk -v t="$t" '$1 > t' | grep esp | head -4 | sed 's/^/  after: /'
	nt_udp rb-out | awk -v t="$t" -v m="$m" -v g="$GW_WAN:4500" '$1 > t && $2 == m && $4 == g && / esp spi=/' |
		grep -q " spi=$s21 " || { fail "no ESP from the kernel from the new mapping $m after the rebinding"; return 1; }
	nt_udp rb-out | awk -v t="$t" -v m="$m" -v g="$GW_WAN:4500" '$1 > t && $2 == g && $4 == m && / esp spi=/' |
		grep -q " spi=$s12 " || { fail "espgw did not follow the mapping: none of its ESP went to $m"; return 1; }
	e=$(nt_udp rb-out | awk -v g="$GW_WAN:4500" '$2 == g && / esp spi=/ { l = $4 } END { print l }')
	[ "$e" = "$m" ] || { fail "espgw's last ESP went to $e, not the new mapping $m"; return 1; }
	echo "# espgw's monitor:"
	sed 's/^/  monitor| /' "$IO_W/$tag.mon"
	grep -q 'Mapping' "$IO_W/$tag.mon" || { fail "espgwctl monitor xfrm printed no Mapping event"; return 1; }
	grep -q -- "-> $m\$" "$IO_W/$tag.mon" || { fail "espgw's Mapping event does not name the new mapping $m"; return 1; }
	sleep 1
	gw_states "$IO_W/$tag.gw" && k_states "$IO_W/$tag.k" || { fail "cannot read the counters"; return 1; }
	# what the kernel sent arrived, rebinding or not; what espgw sent
	# between the flush and its following died at the NAT
	nt_same_count "SA kernel -> espgw" "$IO_W/$tag.gw" "$IO_W/$tag.k" "$s21" "$GW_WAN" "$GW_SEEN" || return 1
	if [ "$2" = addr ]; then
		ctl xfrm state >"$IO_W/$tag.states" && ctl xfrm policy >"$IO_W/$tag.policies" ||
			{ fail "cannot list espgw's states and policies"; return 1; }
		sed 's/^/  espgw state| /' "$IO_W/$tag.states"
		grep -q "^src $GW_WAN dst $NAT_PUB2\$" "$IO_W/$tag.states" &&
			grep -q "^src $NAT_PUB2 dst $GW_WAN\$" "$IO_W/$tag.states" &&
			! grep -q "$NAT_PUB\b" "$IO_W/$tag.states" ||
			{ fail "espgw's states did not move to $NAT_PUB2"; return 1; }
		[ "$(grep -c "tmpl src $NAT_PUB2 dst $GW_WAN\|tmpl src $GW_WAN dst $NAT_PUB2" "$IO_W/$tag.policies")" = 3 ] &&
			! grep -q "$NAT_PUB\b" "$IO_W/$tag.policies" ||
			{ fail "espgw's templates do not all name $NAT_PUB2: $(grep tmpl "$IO_W/$tag.policies" | tr '\n' ';')"; return 1; }
		echo "# espgw's states and its three templates name $NAT_PUB2"
	fi
	e=$(sa_count "$IO_W/$tag.gw" "$s12" "${m%:*}")
	k=$(sa_count "$IO_W/$tag.k" "$s12" "$K_WAN")
	echo "  SA $s12: espgw sent $e, the kernel received $k: $((e - k)) lost at the NAT while it rebound"
	[ "$k" -gt 0 ] && [ "$e" -ge "$k" ] || { fail "SA $s12: espgw sent $e packets, the kernel received $k"; return 1; }
	nt_gw_end "$tag"
}

# e. The same rebinding without following (espgw started as rebind's,
# but without NATT_FOLLOW_OPT): espgw accepts the kernel's packets from
# the new port, tells its monitor (a Mapping event) and counts it, and
# goes on sending to the old port, where the NAT has nothing any more:
# hostB's five pings reach hostA, the five replies die at the NAT.
sc_mapping() {
	local s12=0x00007007 s21=0x00008008 t p e k n
	nt_start mapping b || return 1
	nt_hold_start || { fail "natt-hold does not hold udp 4500 in the guest"; return 1; }
	nt_key_both mapping "$s12" "$(rkey 128)" "$s21" "$(rkey 128)" || return 1
	ctl monitor xfrm >"$IO_W/mapping.mon" 2>&1 &
	IO_PIDS="$IO_PIDS $!"
	ping_b "$HOSTA" 3 && ping_a "$HOSTB" 3 || { fail "ping both ways before the rebinding"; return 1; }
	nt_cap_start mp-out out "udp or ip proto 50" || { fail "tcpdump in the router namespace"; return 1; }
	t=$(date +%s.%N)
	nt_rebind || { fail "cannot rebind the NAT"; return 1; }
	if G_TIMEOUT=30 g "set -o pipefail; ip netns exec hostb ping -c 5 -i 0.3 -W 1 $HOSTA | tail -2"; then
		fail "hostB's pings were answered after the rebinding: did espgw follow the mapping unasked?"
		return 1
	fi
	p=$(nt_mapped_port)
	echo "# the new mapping: $K_WAN:4500 is $NAT_PUB:${p:-?}"
	[ -n "$p" ] && [ "$p" -ge 40000 ] && [ "$p" -le 40999 ] ||
		{ fail "no new mapping of $K_WAN:4500 in 40000-40999 (${p:-none})"; return 1; }
	sleep 1
	nt_cap_stop mp-out
	nt_udp mp-out | awk -v t="$t" '$1 > t' | sed 's/^/  after: /'
	n=$(nt_udp mp-out | awk -v t="$t" -v m="$NAT_PUB:$p" -v g="$GW_WAN:4500" '$1 > t && $2 == m && $4 == g' | grep -c " spi=$s21 ")
	[ "$n" = 5 ] || { fail "$n ESP packets from the kernel's new port $p, not 5"; return 1; }
	n=$(nt_udp mp-out | awk -v t="$t" -v o="$NAT_PUB:4500" -v g="$GW_WAN:4500" '$1 > t && $2 == g && $4 == o' | grep -c " spi=$s12 ")
	[ "$n" = 5 ] || { fail "$n of espgw's 5 replies went to the old port 4500"; return 1; }
	echo "# espgw's monitor:"
	sed 's/^/  monitor| /' "$IO_W/mapping.mon"
	grep -q 'Mapping' "$IO_W/mapping.mon" || { fail "espgwctl monitor xfrm printed no Mapping event"; return 1; }
	grep -q ":$p\b" "$IO_W/mapping.mon" || { fail "espgw's Mapping event does not name the new port $p"; return 1; }
	gw_states "$IO_W/mapping.gw" && k_states "$IO_W/mapping.k" || { fail "cannot read the counters"; return 1; }
	nt_same_count "SA kernel -> espgw" "$IO_W/mapping.gw" "$IO_W/mapping.k" "$s21" "$GW_WAN" "$GW_SEEN" || return 1
	e=$(sa_count "$IO_W/mapping.gw" "$s12" "$K_SEEN")
	k=$(sa_count "$IO_W/mapping.k" "$s12" "$K_WAN")
	echo "  SA $s12: espgw sent $e, the kernel received $k"
	[ "$e" = $((k + 5)) ] || { fail "SA $s12: espgw sent $e packets, the kernel received $k, not 5 fewer"; return 1; }
	nt_gw_end mapping || return 1
	[ -n "${NATT_MAPPING_STAT:-}" ] ||
		{ fail "NATT_MAPPING_STAT is not set: name espgw's counter of NAT mapping changes"; return 1; }
	n=$(io_stat "$IO_W/mapping.stats" "$NATT_MAPPING_STAT")
	echo "# espgw's $NATT_MAPPING_STAT: $n"
	[ "$n" -ge 1 ] || { fail "espgw counted no mapping change ($NATT_MAPPING_STAT)"; return 1; }
}

# ---- driver -----------------------------------------------------------------------
nt_scenario_end() {
	local p
	for p in $IO_PIDS; do
		t_kill_pid "$p"
	done
	IO_PIDS=""
	io_gw_stop >/dev/null
}

# One guest for every scenario, booted again only when it stops answering
nt_guest_up() {
	if [ -n "$IO_QEMU_PID" ] && kill -0 "$IO_QEMU_PID" 2>/dev/null &&
		G_QUIET=1 G_TIMEOUT=10 g true >/dev/null 2>&1; then
		return 0
	fi
	io_guest_stop
	io_guest_boot natt >"$IO_W/boot.log" 2>&1 && ct_guest_base >>"$IO_W/boot.log" 2>&1 &&
		G_QUIET=1 g "command -v natt-hold" >>"$IO_W/boot.log" 2>&1 || {
		echo "# the guest did not come up (or has no natt-hold):"
		sed 's/^/#   /' "$IO_W/boot.log" | tail -20
		return 1
	}
	grep '^# guest up' "$IO_W/boot.log"
	: >"$IO_W/pids" # the guest outlives the scenarios: io_reap must not end it
}

if [ "${IO_SOURCE_ONLY:-0}" = 1 ]; then return 0 2>/dev/null || exit 0; fi
io_require_root
io_init
ct_init
nt_init
trap 'io_cleanup' EXIT
trap 'echo "interrupted"; exit 130' INT TERM
[ -x "$IO_ESPGW" ] || io_die "no espgw binary at $IO_ESPGW (build it: ninja -C build)"
[ -x "$CT_ESPGWCTL" ] || io_die "no espgwctl binary at $CT_ESPGWCTL (build it: ninja -C build)"
T_START=$(date +%s.%N)
io_deps
nt_deps
nt_build_hold
io_prepare_kernel
io_prepare_initrd
io_setup_topology
nt_setup_topology
DATA10M=$IO_W/data10M
head -c $((10 * 1024 * 1024)) /dev/urandom >"$DATA10M"
io_log "espgw $IO_ESPGW, espgwctl $CT_ESPGWCTL, --poll-idle-us $IO_POLL_IDLE_US, logs in $IO_W"
io_log "NATT_FOLLOW_OPT=${NATT_FOLLOW_OPT-(unset)} NATT_KEEPALIVE_OPT=$NATT_KEEPALIVE_OPT" \
	"NATT_KA_STAT=${NATT_KA_STAT-(unset)} NATT_MAPPING_STAT=${NATT_MAPPING_STAT-(unset)}" \
	"NATT_GW_ARGS=${NATT_GW_ARGS:-} NATT_GW_ARGS_NOFOLLOW=${NATT_GW_ARGS_NOFOLLOW:-}"

io_run_scenarios nt_guest_up true nt_scenario_end
