#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Interop tests: espgw (R1) against a stock Debian Linux kernel (R2) booted
# in qemu, configured with plain `ip addr/route/xfrm` commands. See
# docs/interop.md for the topology, the exact commands and the timings.
#
#   hostA 10.0.1.10 ── [ R1 espgw ] 192.0.2.1 ══ ESP ══ 192.0.2.2 [ R2 Linux ] ── hostB 10.0.2.10
#                       10.0.1.1                                   10.0.2.1   (netns in the guest)
#
# usage: tests/interop/run.sh [-k SCENARIO]... [-v] [-l]
#   -k NAME   run only this scenario (repeatable; a comma list works too)
#   -v        print every scenario's log as it runs, not only on failure
#   -l        list the scenarios
# Environment: ESPGW (binary, default build/app/espgw),
#   ESPGW_INTEROP_CACHE (default /var/cache/espgw-interop: kernel and
#   initramfs, kept between runs), IO_POLL_IDLE_US (default 50),
#   IO_PVH=0 (boot the bzImage instead of the ELF vmlinux),
#   IO_KEEP=1 (keep the logs in /tmp/espgw-interop.*),
#   IO_SCENARIO_LIMIT (seconds per scenario, default 600),
#   IO_KERNEL_PKG (a linux-image-<version>-amd64 other than the one
#   linux-image-amd64 depends on).
# Output: "ok - NAME (Ts)" or "not ok - NAME: WHY" per scenario, then
# "N passed, M failed"; exit status 0 only when every scenario passed.
# When qemu or the kernel package cannot be had, it fails (never skips).

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"

ALL="classic ciphers keys replay bigpkt bigouter restart swapped tfcpad"
io_parse_args 2,25p "$@"

# ---- addresses, keys, configuration text -------------------------------------
R1_WAN=192.0.2.1
R2_WAN=192.0.2.2
HOSTA=10.0.1.10
HOSTB=10.0.2.10
R2_LAN=10.0.2.1
GNS=hostb         # the namespace in the guest that plays the far host
AEAD="'rfc4106(gcm(aes))'"

rkey() { # AES key bits -> 0x<key><4-byte salt>
	echo "0x$(od -An -tx1 -N$(($1 / 8 + 4)) /dev/urandom | tr -d ' \n')"
}

# One SA pair: the same two lines go to both ends (each end sees its own
# address in them and so knows the direction).
#   sa_pair SPI12 KEY12 SPI21 KEY21 ICV REQID12 REQID21 "OPTS12" "OPTS21"
sa_pair() {
	echo "ip xfrm state add src $R1_WAN dst $R2_WAN proto esp spi $1 reqid $6 mode tunnel ${8:+$8 }aead $AEAD $2 $5"
	echo "ip xfrm state add src $R2_WAN dst $R1_WAN proto esp spi $3 reqid $7 mode tunnel ${9:+$9 }aead $AEAD $4 $5"
}

# Policies of each end for one pair of selectors (B: hostB's side).
#   pol_r1 B REQID12 REQID21 / pol_r2 B REQID12 REQID21
pol_r1() {
	echo "ip xfrm policy add src 10.0.1.0/24 dst $1 dir out tmpl src $R1_WAN dst $R2_WAN proto esp reqid $2 mode tunnel"
	echo "ip xfrm policy add src $1 dst 10.0.1.0/24 dir fwd tmpl src $R2_WAN dst $R1_WAN proto esp reqid $3 mode tunnel"
	echo "ip xfrm policy add src $1 dst 10.0.1.0/24 dir in tmpl src $R2_WAN dst $R1_WAN proto esp reqid $3 mode tunnel"
}
pol_r2() {
	echo "ip xfrm policy add src $1 dst 10.0.1.0/24 dir out tmpl src $R2_WAN dst $R1_WAN proto esp reqid $3 mode tunnel"
	echo "ip xfrm policy add src 10.0.1.0/24 dst $1 dir fwd tmpl src $R1_WAN dst $R2_WAN proto esp reqid $2 mode tunnel"
	echo "ip xfrm policy add src 10.0.1.0/24 dst $1 dir in tmpl src $R1_WAN dst $R2_WAN proto esp reqid $2 mode tunnel"
}

# espgw's file: ports, addresses, the route to the far LAN, then the
# states and policies given.
r1_conf() { # file states policies
	{
		echo "# R1: espgw; LAN 10.0.1.0/24 on net_tap0, outside on net_tap1"
		echo "ip link set dev net_tap0 up"
		echo "ip link set dev net_tap1 up"
		echo "ip addr add 10.0.1.1/24 dev net_tap0"
		echo "ip addr add $R1_WAN/24 dev net_tap1"
		echo "ip route add 10.0.2.0/24 via $R2_WAN dev net_tap1 src 10.0.1.1"
		printf '%s\n' "$2" "$3"
	} >"$1"
}

# The Linux side's addresses, hostB (a namespace: the guest forwards,
# so its fwd policies apply), forwarding and the route to the far LAN.
guest_base() {
	g "ip link set eth0 up
ip addr add $R2_WAN/24 dev eth0
ip netns add hostb
ip link add veth0 type veth peer name eth0 netns hostb
ip link set veth0 up
ip addr add $R2_LAN/24 dev veth0
ip -n hostb link set lo up
ip -n hostb link set eth0 up
ip -n hostb addr add $HOSTB/24 dev eth0
ip -n hostb route add default via $R2_LAN
sysctl -w net.ipv4.ip_forward=1
ip route add 10.0.1.0/24 via $R1_WAN dev eth0 src $R2_LAN"
}

# ---- checks --------------------------------------------------------------------
WHY=""
fail() { # reason
	WHY="$*"
	echo "$WHY" >"$IO_W/why"
	echo "FAIL: $WHY"
	return 1
}

# ping from a host namespace; all COUNT replies within the deadline
ping_a() { # dst [count] [extra ping options]
	local dst=$1 n=${2:-5}
	shift 2 2>/dev/null || shift $#
	echo "hostA\$ ping -c $n -i 0.2 -w ${PING_W:-15} $* $dst"
	io_in "$NS_A" ping -c "$n" -i 0.2 -w "${PING_W:-15}" "$@" "$dst" | tail -3
	return "${PIPESTATUS[0]}"
}
ping_b() { # dst [count] [extra options]   (from hostB, in the guest)
	local dst=$1 n=${2:-5}
	shift 2 2>/dev/null || shift $#
	G_TIMEOUT=30 g "set -o pipefail; ip netns exec $GNS ping -c $n -i 0.2 -w ${PING_W:-15} $* $dst | tail -3"
}

# The guest's `ip -s xfrm state`, reduced to one line a state:
#   <spi> <src> <dst> <packets> <bytes> <replay-window drops> <replay drops> <failed>
kstates() { # file
	G_TIMEOUT=30 G_QUIET=1 g "ip -s xfrm state" >"$1.raw" || return 1
	awk '
		/^src / { src = $2; dst = $4 }
		/proto esp spi/ { spi = $4; sub(/\(.*/, "", spi) }
		/lifetime current:/ { getline; gsub(/[(),a-z]/, " "); b = $1; p = $2 }
		/^[ \t]*stats:/ { getline; print spi, src, dst, p, b, $2, $4, $6 }
	' "$1.raw" >"$1"
}
kfield() { # file spi dst field(4=packets 5=bytes 6=replay-window 7=replay 8=failed)
	awk -v s="$2" -v d="$3" -v f="$4" '$1 == s && $3 == d { print $f; n++ } END { if (!n) print -1 }' "$1"
}

# espgw's stats names an SA by (dst, proto, SPI) and direction: espgw
# is R1 (all but "swapped"), so its outbound SAs go to R2, inbound to R1.
sa_out() { echo "sa.$R2_WAN/esp/$1/out"; }
sa_in() { echo "sa.$R1_WAN/esp/$1/in"; }
# A counter of the SA (dst, esp, SPI), whichever end espgw is.
sa_stat() { # stats dst spi counter
	awk -v p="sa.$2/esp/$3/" -v c=".$4" \
		'index($1, p) == 1 && substr($1, length($1) - length(c) + 1) == c { v = $2 } END { print v + 0 }' "$1"
}

# The packets of each SA as espgw and the kernel count them must agree
# (traffic stopped, espgw stopped, so nothing is in flight).
# An SPI used by both SAs (the classic script) names two SAs there.
compare_counts() { # stats kstates spi12 spi21
	local st=$1 ks=$2 ok=0 e k spi dst
	while read -r spi dst; do
		e=$(sa_stat "$st" "$dst" "$spi" packets)
		k=$(kfield "$ks" "$spi" "$dst" 4)
		printf '  SA %s (dst %s): espgw %s packets (%s bytes), kernel %s packets (%s bytes)\n' \
			"$spi" "$dst" "$e" "$(sa_stat "$st" "$dst" "$spi" bytes)" "$k" "$(kfield "$ks" "$spi" "$dst" 5)"
		[ "$e" = "$k" ] && [ "$e" -gt 0 ] || ok=1
	done <<EOT
$3 $R2_WAN
$4 $R1_WAN
EOT
	return $ok
}

# espgw's drops per SA and in total must be zero but for the listed ones,
# and every packet it received must be accounted for
no_drops() { # stats [allowed counter names...]
	local st=$1 bad
	shift
	bad=$(awk '($1 ~ /^esp\./ || $1 ~ /^gw\.drop-/ || ($1 ~ /^sa\./ && $1 !~ /\.(packets|bytes)$/)) && $2 != 0 { print $1 "=" $2 }' "$st" |
		grep -v -F -f <(printf '%s\n' "${@:-@none@}") | tr '\n' ' ')
	if ! bal=$(t_balance "$IO_ESPGW" "$st"); then
		echo "  espgw packets not accounted for: $bal"
		return 1
	fi
	[ -z "$bad" ] && return 0
	echo "  espgw drops: $bad"
	return 1
}

xfrm_stat() { # the guest's nonzero /proc/net/xfrm_stat counters
	G_QUIET=1 g "grep -v -E '[[:space:]]0\$' /proc/net/xfrm_stat | tr -s ' \t\n' ' '"
}

# TCP hostA -> hostB through the tunnel, checksums compared.
tcp_a_to_b() { # file port [rate bytes/s]
	local f=$1 port=$2 out got
	G_QUIET=1 g "rm -f /tmp/rx.bin; /usr/sbin/ip netns exec $GNS /usr/sbin/nc -l $port > /tmp/rx.bin 2>/tmp/nc.err & echo \$! > /tmp/nc.pid" || return 1
	echo "guest# ip netns exec $GNS nc -l $port > /tmp/rx.bin &"
	echo "hostA\$ xfer.py tcp-send $HOSTB $port $(basename "$f") ${3:+--rate $3}"
	out=$(io_in "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" tcp-send "$HOSTB" "$port" "$f" -t 400 ${3:+--rate "$3"}) || {
		echo "  $out"
		return 1
	}
	echo "  $out"
	G_TIMEOUT=60 g "for i in \$(seq 1 100); do kill -0 \$(cat /tmp/nc.pid) 2>/dev/null || break; sleep 0.2; done
echo received \$(wc -c < /tmp/rx.bin) sha256 \$(sha256sum /tmp/rx.bin | cut -d' ' -f1)" >"$IO_W/rx.txt"
	got=$(grep '^received' "$IO_W/rx.txt")
	echo "  hostB $got"
	[ "${out#sent }" = "${got#received }" ]
}

# TCP hostB -> hostA, N MiB of random data made in the guest.
tcp_b_to_a() { # mib port
	local mib=$1 port=$2 pid want got
	rm -f "$IO_W/ready" "$IO_W/tcprx.txt"
	io_bg "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" tcp-recv "$port" -t 400 --ready "$IO_W/ready" >"$IO_W/tcprx.txt"
	pid=$IO_BG_PID
	for _ in $(seq 1 50); do [ -f "$IO_W/ready" ] && break; sleep 0.1; done
	want=$(G_TIMEOUT=400 g "dd if=/dev/urandom of=/tmp/tx.bin bs=1M count=$mib 2>/dev/null
ip netns exec $GNS nc -N $HOSTA $port < /tmp/tx.bin
echo sent \$(wc -c < /tmp/tx.bin) sha256 \$(sha256sum /tmp/tx.bin | cut -d' ' -f1)")
	echo "$want" | grep -v '^sent'
	want=$(echo "$want" | grep '^sent')
	io_wait_pid "$pid" 60
	got=$(grep '^received' "$IO_W/tcprx.txt")
	echo "  hostB $want"
	echo "  hostA $got"
	[ -n "$want" ] && [ "${want#sent }" = "${got#received }" ]
}

# A scenario's counters: stop espgw, read both sides, print them.
stop_and_count() { # tag
	sleep 1 # in-flight packets land (there is no traffic left)
	io_gw_stop
	kstates "$IO_W/$1.kstates" || return 1
	echo "espgw stats ($1): $(awk '$2 != 0' "$IO_W/$1.stats" | tr '\n' ' ' | tr -s ' ')"
	echo "kernel states (spi src dst packets bytes replay-window replay failed):"
	sed 's/^/  /' "$IO_W/$1.kstates"
	echo "kernel xfrm_stat nonzero: $(xfrm_stat)"
}

# ---- scenarios -------------------------------------------------------------------

# a. The classic set-up: ICMP both ways, 10 MiB of TCP each way, UDP each
# way; then both ends' per-SA packet counts agree exactly.
sc_classic() {
	local k12 k21 states out want got
	k12=$(rkey 128)
	k21=$(rkey 128)
	states=$(sa_pair 0x00001001 "$k12" 0x00002002 "$k21" 128 1 2 "replay-window 64" "replay-window 64")
	io_guest_boot classic || { fail "guest did not boot"; return 1; }
	guest_base || { fail "guest base configuration failed"; return 1; }
	g "$states
$(pol_r2 10.0.2.0/24 1 2)" || { fail "ip xfrm on the guest failed"; return 1; }
	r1_conf "$IO_W/classic.conf" "$states" "$(pol_r1 10.0.2.0/24 1 2)"
	io_gw_start "$IO_W/classic.conf" classic || { fail "espgw did not start"; return 1; }

	ping_a "$HOSTB" 5 || { fail "ping hostA -> hostB"; return 1; }
	ping_a "$R2_LAN" 5 || { fail "ping hostA -> 10.0.2.1 (the guest itself: dir in)"; return 1; }
	ping_b "$HOSTA" 5 || { fail "ping hostB -> hostA"; return 1; }
	G_TIMEOUT=30 g "set -o pipefail; ping -c 3 -i 0.2 -w 15 -I $R2_LAN 10.0.1.1 | tail -2" ||
		{ fail "ping 10.0.2.1 (guest) -> 10.0.1.1 (espgw itself)"; return 1; }

	tcp_a_to_b "$DATA10M" 5001 || { fail "TCP 10 MiB hostA -> hostB: checksum or size differs"; return 1; }
	tcp_b_to_a 10 5002 || { fail "TCP 10 MiB hostB -> hostA: checksum or size differs"; return 1; }

	# UDP hostA -> hostB: 200 datagrams of 1000 bytes, in order
	g "rm -f /tmp/udp.rx; /usr/sbin/ip netns exec hostb /usr/sbin/nc -u -l 5003 > /tmp/udp.rx 2>/dev/null & echo \$! > /tmp/udp.pid
for i in \$(seq 1 50); do ip netns exec hostb netstat -lun | grep -q ':5003 ' && break; sleep 0.1; done" || return 1
	want=$(io_in "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" udp-send "$HOSTB" 5003 200 1000 -t 30)
	echo "hostA\$ xfer.py udp-send $HOSTB 5003 200 1000: $want"
	sleep 1
	got=$(g "kill \$(cat /tmp/udp.pid); echo datagrams \$(grep -c '^udp ' /tmp/udp.rx) sha256 \$(sha256sum /tmp/udp.rx | cut -d' ' -f1)")
	echo "  hostB: $got"
	[ -n "$want" ] && [ "$want" = "$got" ] || { fail "UDP hostA -> hostB: $got, want $want"; return 1; }

	# UDP hostB -> hostA: 50 datagrams, one nc each
	rm -f "$IO_W/ready"
	io_bg "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" udp-recv 5004 -t 60 --idle 3 --ready "$IO_W/ready" >"$IO_W/udprx.txt"
	local pid=$IO_BG_PID
	for _ in $(seq 1 50); do [ -f "$IO_W/ready" ] && break; sleep 0.1; done
	want=$(G_TIMEOUT=120 g "rm -f /tmp/udp.tx; ip netns exec hostb sh -c 'for i in \$(seq 1 50); do printf \"udp %05d from hostB\\n\" \$i > /tmp/d; cat /tmp/d >> /tmp/udp.tx; /usr/sbin/nc -u -q0 $HOSTA 5004 < /tmp/d; usleep 20000; done'
echo datagrams \$(wc -l < /tmp/udp.tx) bytes \$(wc -c < /tmp/udp.tx) sha256 \$(sha256sum /tmp/udp.tx | cut -d' ' -f1)")
	io_wait_pid "$pid" 30
	got=$(head -1 "$IO_W/udprx.txt")
	echo "  hostB sent: $want"
	echo "  hostA got:  $got"
	[ -n "$got" ] && [ "$want" = "$got" ] || { fail "UDP hostB -> hostA: got '$got', want '$want'"; return 1; }

	stop_and_count classic || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/classic.stats" "$IO_W/classic.kstates" 0x00001001 0x00002002 ||
		{ fail "espgw's and the kernel's per-SA packet counts differ"; return 1; }
	# hostA's TCP starts with 1500-byte packets: espgw answers them with
	# ICMP fragmentation-needed (path MTU discovery), which counts as a drop
	no_drops "$IO_W/classic.stats" gw.drop-frag-needed || { fail "espgw dropped packets"; return 1; }
	return 0
}

# Boot the guest, give both ends their configuration, start espgw.
tunnel_up() { # name states r1-policies r2-policies
	io_guest_boot "$1" || { fail "guest did not boot"; return 1; }
	guest_base || { fail "guest base configuration failed"; return 1; }
	g "$2
$4" || { fail "ip xfrm on the guest failed"; return 1; }
	r1_conf "$IO_W/$1.conf" "$2" "$3"
	io_gw_start "$IO_W/$1.conf" "$1" || { fail "espgw did not start"; return 1; }
}

# New SAs and policies on both ends (the guest keeps running).
tunnel_reconf() { # tag states r1-policies r2-policies
	io_gw_stop
	g "ip xfrm policy flush
ip xfrm state flush
$2
$4" || { fail "ip xfrm on the guest failed ($1)"; return 1; }
	r1_conf "$IO_W/$1.conf" "$2" "$3"
	io_gw_start "$IO_W/$1.conf" "$1" || { fail "espgw did not start ($1)"; return 1; }
}

# The last sequence number espgw sent on an SA, from its final counters
# (the "seq 0x..." of `ip -s xfrm state`'s layout).
gw_last_seq() { # tag spi
	local x
	x=$(awk -v s="spi $2(" 'index($0, s) { f = 1; next } f && /seq 0x/ { for (i = 1; i < NF; i++) if ($i == "seq") { print $(i + 1); exit } }' "$IO_W/$1.out")
	[ -n "$x" ] && echo $((x))
}

# ESP sequence numbers in a capture, in order, decimal
pcap_seqs() { # pcap
	tcpdump -nr "$1" 2>/dev/null | grep -o 'seq=0x[0-9a-f]*' | while read -r x; do
		echo $((${x#seq=}))
	done
}

# b. Every AES key size with every ICV length: nine SA pairs at once, one
# per hostB address 10.0.2.11 .. 10.0.2.19 (policies on /32 selectors).
sc_ciphers() {
	local states="" p1="" p2="" addrs="" i=0 bits icv spi12 spi21 e k bad=""
	for bits in 128 192 256; do
		for icv in 64 96 128; do
			i=$((i + 1))
			spi12=$(printf '0x%08x' $((0x1100 + i)))
			spi21=$(printf '0x%08x' $((0x2200 + i)))
			states="$states$(sa_pair "$spi12" "$(rkey $bits)" "$spi21" "$(rkey $bits)" $icv $((10 + i)) $((20 + i)) "" "")
"
			p1="$p1$(pol_r1 "10.0.2.$((10 + i))/32" $((10 + i)) $((20 + i)))
"
			p2="$p2$(pol_r2 "10.0.2.$((10 + i))/32" $((10 + i)) $((20 + i)))
"
			addrs="${addrs}ip -n hostb addr add 10.0.2.$((10 + i))/24 dev eth0
"
		done
	done
	tunnel_up ciphers "$states" "$p1" "$p2" || return 1
	g "$addrs" || { fail "hostB addresses"; return 1; }
	i=0
	for bits in 128 192 256; do
		for icv in 64 96 128; do
			i=$((i + 1))
			echo "# pair $i: AES-$bits, ICV $icv bits: hostA <-> 10.0.2.$((10 + i))"
			ping_a "10.0.2.$((10 + i))" 3 || { fail "AES-$bits ICV $icv: ping hostA -> 10.0.2.$((10 + i))"; return 1; }
			ping_b "$HOSTA" 3 "-I 10.0.2.$((10 + i))" || { fail "AES-$bits ICV $icv: ping 10.0.2.$((10 + i)) -> hostA"; return 1; }
		done
	done
	stop_and_count ciphers || { fail "cannot read the counters"; return 1; }
	i=0
	for bits in 128 192 256; do
		for icv in 64 96 128; do
			i=$((i + 1))
			spi12=$(printf '0x%08x' $((0x1100 + i)))
			spi21=$(printf '0x%08x' $((0x2200 + i)))
			echo "# pair $i: AES-$bits ICV $icv"
			compare_counts "$IO_W/ciphers.stats" "$IO_W/ciphers.kstates" "$spi12" "$spi21" ||
				bad="$bad AES-$bits/ICV-$icv"
			# 3 requests + 3 replies each way on each SA
			[ "$(io_stat "$IO_W/ciphers.stats" "$(sa_out "$spi12").packets")" = 6 ] || bad="$bad AES-$bits/ICV-$icv(count)"
		done
	done
	[ -z "$bad" ] || { fail "per-SA counts differ or not 6:$bad"; return 1; }
	no_drops "$IO_W/ciphers.stats" || { fail "espgw dropped packets"; return 1; }
}

# A quick check of a tunnel: pings both ways, 2 MiB of TCP each way.
quick_traffic() { # what
	ping_a "$HOSTB" 5 || { fail "$1: ping hostA -> hostB"; return 1; }
	ping_b "$HOSTA" 5 || { fail "$1: ping hostB -> hostA"; return 1; }
	tcp_a_to_b "$DATA2M" 5001 || { fail "$1: TCP 2 MiB hostA -> hostB"; return 1; }
	tcp_b_to_a 2 5002 || { fail "$1: TCP 2 MiB hostB -> hostA"; return 1; }
}

# c. Separate keys and SPIs per direction; then the classic hand-made
# script: one SPI, one key and one reqid for both directions.
sc_keys() {
	local states k
	states=$(sa_pair 0x00005005 "$(rkey 256)" 0x00006006 "$(rkey 256)" 128 1 2 "" "")
	tunnel_up keys "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	if grep -q "also used at line" "$IO_W/keys.err"; then
		fail "espgw warns of a shared key though each direction has its own"
		return 1
	fi
	quick_traffic "separate keys" || return 1
	stop_and_count keys || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/keys.stats" "$IO_W/keys.kstates" 0x00005005 0x00006006 ||
		{ fail "separate keys: per-SA packet counts differ"; return 1; }
	no_drops "$IO_W/keys.stats" gw.drop-frag-needed || { fail "separate keys: espgw dropped packets"; return 1; }

	echo "# the classic hand-made script: spi 0x1000, one key, reqid 0x1000 both ways, no replay window"
	k=$(rkey 128)
	states="ip xfrm state add src $R1_WAN dst $R2_WAN proto esp spi 0x1000 reqid 0x1000 mode tunnel aead $AEAD $k 128
ip xfrm state add src $R2_WAN dst $R1_WAN proto esp spi 0x1000 reqid 0x1000 mode tunnel aead $AEAD $k 128"
	tunnel_reconf keys-shared "$states" "$(pol_r1 10.0.2.0/24 0x1000 0x1000)" \
		"$(pol_r2 10.0.2.0/24 0x1000 0x1000)" || return 1
	grep -q "also used at line" "$IO_W/keys-shared.err" ||
		{ fail "no shared-key warning on espgw's stderr"; return 1; }
	echo "espgw warned: $(grep "also used at line" "$IO_W/keys-shared.err")"
	quick_traffic "shared key and SPI" || return 1
	stop_and_count keys-shared || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/keys-shared.stats" "$IO_W/keys-shared.kstates" 0x00001000 0x00001000 ||
		{ fail "shared key: per-SA packet counts differ"; return 1; }
	no_drops "$IO_W/keys-shared.stats" gw.drop-frag-needed || { fail "shared key: espgw dropped packets"; return 1; }
}

# Replay a few ESP packets that were captured earlier, on both sides: the
# kernel's and espgw's windows must drop them (as duplicates when they are
# still inside the window, as too old when behind it).
#   replay_probe TAG: capture 5 packets each way, send 300 more pings'
#   worth each way, re-inject the 5 old ones on each side.
replay_probe() { # tag
	local t=$1 cpid1 cpid2
	io_cap_start "$t-r1tx" qtap0 "ip proto 50 and src $R1_WAN" 5 || return 1
	cpid1=$IO_CAP_PID
	io_cap_start "$t-r2tx" gwwan "ip proto 50 and src $R2_WAN" 5 || return 1
	cpid2=$IO_CAP_PID
	ping_a "$HOSTB" 5 >/dev/null
	io_wait_pid "$cpid1" 10
	io_wait_pid "$cpid2" 10
	echo "# captured: espgw -> kernel seq $(pcap_seqs "$IO_W/$t-r1tx.pcap" | tr '\n' ' '); kernel -> espgw seq $(pcap_seqs "$IO_W/$t-r2tx.pcap" | tr '\n' ' ')"
	# move both windows 300 packets on
	io_in "$NS_A" ping -q -c 300 -i 0.002 -w 30 "$HOSTB" | tail -2
	echo "# re-injecting the captured packets: into the guest (qtap0) and into espgw (gwwan)"
	io_in "$NS_R1" "$IO_PY" "$IO_DIR/xfer.py" inject "$IO_W/$t-r1tx.pcap" qtap0
	io_in "$NS_R1" "$IO_PY" "$IO_DIR/xfer.py" inject "$IO_W/$t-r2tx.pcap" gwwan
	sleep 1
}

# d. Replay windows of 64 and 1024 packets on both ends, and ESN: from 1,
# and across 2^32 (both ends start 1024 packets below the wrap).
sc_replay() {
	local w states tag e k ok near=0xfffffc00
	for w in 64 1024; do
		tag=replay$w
		states=$(sa_pair 0x00007007 "$(rkey 128)" 0x00008008 "$(rkey 128)" 128 1 2 \
			"replay-window $w" "replay-window $w")
		if [ $w = 64 ]; then
			tunnel_up $tag "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
		else
			tunnel_reconf $tag "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
		fi
		G_QUIET=1 g "ip xfrm state" | grep -q "replay_window $w" ||
			{ fail "window $w: the kernel's state shows no replay_window $w"; return 1; }
		quick_traffic "window $w" || return 1
		replay_probe $tag || { fail "window $w: capture failed"; return 1; }
		stop_and_count $tag || { fail "cannot read the counters"; return 1; }
		compare_counts "$IO_W/$tag.stats" "$IO_W/$tag.kstates" 0x00007007 0x00008008 ||
			{ fail "window $w: per-SA packet counts differ"; return 1; }
		# 300+ packets later: behind a 64-packet window, inside a 1024 one
		if [ $w = 64 ]; then e=6; k=behind-window; else e=7; k=replayed; fi
		[ "$(kfield "$IO_W/$tag.kstates" 0x00007007 "$R2_WAN" $e)" = 5 ] ||
			{ fail "window $w: the kernel did not count the 5 replayed packets as $([ $e = 6 ] && echo replay-window || echo replay)"; return 1; }
		[ "$(io_stat "$IO_W/$tag.stats" "$(sa_in 0x00008008).$k")" = 5 ] ||
			{ fail "window $w: espgw did not count the 5 replayed packets as $k"; return 1; }
		echo "# window $w: both ends dropped the 5 replayed packets as $k"
		no_drops "$IO_W/$tag.stats" gw.drop-frag-needed "$(sa_in 0x00008008).$k" "esp.$k" gw.drop-esp-in=5 ||
			{ fail "window $w: espgw dropped packets"; return 1; }
	done

	states=$(sa_pair 0x00009009 "$(rkey 128)" 0x0000a00a "$(rkey 128)" 128 1 2 \
		"replay-window 128 flag esn" "replay-window 128 flag esn")
	tunnel_reconf esn "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	quick_traffic "ESN" || return 1
	stop_and_count esn || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/esn.stats" "$IO_W/esn.kstates" 0x00009009 0x0000a00a ||
		{ fail "ESN: per-SA packet counts differ"; return 1; }
	no_drops "$IO_W/esn.stats" gw.drop-frag-needed || { fail "ESN: espgw dropped packets"; return 1; }

	# Across 2^32: the same line on both ends; the sender uses
	# replay-oseq, the receiver replay-seq.
	states=$(sa_pair 0x0000b00b "$(rkey 128)" 0x0000c00c "$(rkey 128)" 128 1 2 \
		"replay-window 128 replay-seq $near replay-oseq $near flag esn" \
		"replay-window 128 replay-seq $near replay-oseq $near flag esn")
	tunnel_reconf esnwrap "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	quick_traffic "ESN across 2^32" || return 1
	stop_and_count esnwrap || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/esnwrap.stats" "$IO_W/esnwrap.kstates" 0x0000b00b 0x0000c00c ||
		{ fail "ESN across 2^32: per-SA packet counts differ"; return 1; }
	grep -E 'seq-hi|spi' "$IO_W/esnwrap.kstates.raw"
	# the kernel received on 0x0000b00b (seq-hi) and sent on 0x0000c00c (oseq-hi)
	ok=$(awk '/proto esp spi 0x0000b00b/ { s = "b" } /proto esp spi 0x0000c00c/ { s = "c" }
		/ seq-hi / { if (s == "b" && $2 == "0x1,") n++; if (s == "c" && $6 == "0x1,") n++ }
		END { print n + 0 }' "$IO_W/esnwrap.kstates.raw")
	[ "$ok" = 2 ] || { fail "ESN across 2^32: the kernel's counters did not pass 2^32 on both SAs"; return 1; }
	e=$(gw_last_seq esnwrap 0x0000b00b)
	echo "# espgw's last sequence number on 0x0000b00b: $e"
	[ "${e:-0}" -gt 4294967296 ] || { fail "ESN across 2^32: espgw's sequence number did not pass 2^32"; return 1; }
	no_drops "$IO_W/esnwrap.stats" gw.drop-frag-needed || { fail "ESN across 2^32: espgw dropped packets"; return 1; }
}

# e. Big packets. DF set: what fits the tunnel (inner 1446 bytes: 1500 -
# 20 - 8 - 8 - 16 ICV, rounded to 4, - 2) passes; what does not gets ICMP
# fragmentation-needed with that MTU, from espgw (hostA's side) and from
# the kernel (hostB's side); TCP adapts (path MTU discovery). DF clear:
# espgw fragments inner packets before it encrypts, the kernel fragments
# outer ESP packets, which espgw reassembles.
sc_bigpkt() {
	local states out n
	states=$(sa_pair 0x0000d00d "$(rkey 128)" 0x0000e00e "$(rkey 128)" 128 1 2 "replay-window 64" "replay-window 64")
	tunnel_up bigpkt "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	ping_a "$HOSTB" 2 >/dev/null || { fail "tunnel down"; return 1; }

	echo "# DF set, hostA side: espgw's ICMP fragmentation-needed"
	out=$(io_in "$NS_A" ping -M "do" -s 1450 -c 3 -i 0.3 -W 2 "$HOSTB" 2>&1)
	echo "hostA\$ ping -M do -s 1450 -c 3 $HOSTB"
	echo "$out"
	echo "$out" | grep -q -E 'Frag needed and DF set \(mtu = 1446\)|message too long, mtu=1446' ||
		{ fail "DF set: no fragmentation-needed (mtu 1446) reached hostA"; return 1; }
	out=$(ip -n "$NS_A" route get "$HOSTB")
	echo "hostA\$ ip route get $HOSTB: $out"
	echo "$out" | grep -q 'mtu 1446' || { fail "DF set: hostA's route cache has no mtu 1446"; return 1; }
	ping_a "$HOSTB" 3 -M "do" -s 1418 || { fail "DF set: 1446-byte packets (the tunnel MTU) hostA -> hostB"; return 1; }

	echo "# DF set, hostB side: the kernel's ICMP fragmentation-needed, the same MTU"
	out=$(G_TIMEOUT=30 g "ip netns exec hostb ping -M do -s 1450 -c 3 -i 0.3 -W 2 $HOSTA 2>&1; ip -n hostb route get $HOSTA")
	echo "$out"
	echo "$out" | grep -q 'mtu 1446' || { fail "DF set: hostB did not learn mtu 1446"; return 1; }
	ping_b "$HOSTA" 3 "-M do -s 1418" || { fail "DF set: 1446-byte packets hostB -> hostA"; return 1; }

	echo "# DF set, TCP from a fresh path MTU: the transfers complete"
	ip -n "$NS_A" route flush cache
	G_QUIET=1 g "ip -n hostb route flush cache"
	tcp_a_to_b "$DATA2M" 5001 || { fail "DF set: TCP hostA -> hostB"; return 1; }
	tcp_b_to_a 2 5002 || { fail "DF set: TCP hostB -> hostA"; return 1; }

	echo "# DF clear: 3000-byte pings both ways"
	ip -n "$NS_A" route flush cache
	G_QUIET=1 g "ip -n hostb route flush cache"
	io_cap_start bigpkt-frags qtap0 "ip proto 50" || { fail "tcpdump"; return 1; }
	ping_a "$HOSTB" 3 -M dont -s 3000 || { fail "DF clear: ping -s 3000 hostA -> hostB"; return 1; }
	ping_b "$HOSTA" 3 "-M dont -s 3000" || { fail "DF clear: ping -s 3000 hostB -> hostA"; return 1; }
	ping_a "$HOSTB" 3 -M dont -s 1440 || { fail "DF clear: ping -s 1440 hostA -> hostB"; return 1; }
	io_cap_stop
	n=$(tcpdump -nr "$IO_W/bigpkt-frags.pcap" "src $R2_WAN and ip[6:2] & 0x3fff != 0" 2>/dev/null | wc -l)
	echo "# outer ESP fragments sent by the kernel: $n"
	tcpdump -nr "$IO_W/bigpkt-frags.pcap" "src $R2_WAN and ip[6:2] & 0x3fff != 0" 2>/dev/null | head -4
	[ "$n" -gt 0 ] || { fail "DF clear: the kernel sent no outer fragments (nothing for espgw to reassemble)"; return 1; }

	stop_and_count bigpkt || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/bigpkt.stats" "$IO_W/bigpkt.kstates" 0x0000d00d 0x0000e00e ||
		{ fail "per-SA packet counts differ"; return 1; }
	n=$(io_stat "$IO_W/bigpkt.stats" gw.reassembled)
	[ "$n" -gt 0 ] || { fail "DF clear: espgw reassembled no outer fragments"; return 1; }
	n=$(io_stat "$IO_W/bigpkt.stats" gw.fragments-made)
	[ "$n" -gt 0 ] || { fail "DF clear: espgw fragmented nothing before encrypting"; return 1; }
	n=$(io_stat "$IO_W/bigpkt.stats" gw.drop-frag-needed)
	[ "$n" -gt 0 ] || { fail "DF set: espgw sent no fragmentation-needed"; return 1; }
	no_drops "$IO_W/bigpkt.stats" gw.drop-frag-needed || { fail "espgw dropped packets"; return 1; }
}

# e (continued). Outer ESP packets bigger than one Ethernet frame plus a
# bit: when the Linux side encrypts an inner packet of 3000 bytes with DF
# clear (sent by the router itself, or forwarded from a LAN whose MTU
# lets it through whole), the outer ESP packet (3084 bytes) leaves in
# three fragments. espgw must reassemble and decrypt it. A packet of 1628
# bytes (two outer fragments) is the control.
sc_bigouter() {
	local states n r
	states=$(sa_pair 0x00017017 "$(rkey 128)" 0x00018018 "$(rkey 128)" 128 1 2 "replay-window 64" "replay-window 64")
	tunnel_up bigouter "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	ping_a "$HOSTB" 2 >/dev/null || { fail "tunnel down"; return 1; }
	io_cap_start bigouter qtap0 "ip proto 50 and src $R2_WAN" || { fail "tcpdump"; return 1; }
	r=""
	echo "# control: 1600-byte pings from the Linux router itself (two outer fragments)"
	G_TIMEOUT=30 g "set -o pipefail; ping -M dont -s 1600 -c 3 -i 0.3 -w 6 -I $R2_LAN $HOSTA | tail -2" ||
		r="$r 1600-byte pings from 10.0.2.1;"
	echo "# 3000-byte pings from the Linux router itself (three outer fragments)"
	G_TIMEOUT=30 g "set -o pipefail; ping -M dont -s 3000 -c 3 -i 0.3 -w 6 -I $R2_LAN $HOSTA | tail -2" ||
		r="$r 3000-byte pings from 10.0.2.1;"
	echo "# 3000-byte pings from hostB on a LAN with MTU 9000"
	G_TIMEOUT=30 g "ip link set veth0 mtu 9000
ip -n hostb link set eth0 mtu 9000
set -o pipefail; ip netns exec hostb ping -M dont -s 3000 -c 3 -i 0.3 -w 6 $HOSTA | tail -2" ||
		r="$r 3000-byte pings from hostB (LAN MTU 9000);"
	io_cap_stop
	n=$(tcpdump -nr "$IO_W/bigouter.pcap" "ip[6:2] & 0x1fff != 0" 2>/dev/null | wc -l)
	echo "# outer ESP fragments from the kernel with an offset (not the first one): $n"
	stop_and_count bigouter || { fail "cannot read the counters"; return 1; }
	echo "# espgw: reassembled $(io_stat "$IO_W/bigouter.stats" gw.reassembled), dropped after reassembly as esp.no-room: $(io_stat "$IO_W/bigouter.stats" esp.no-room)"
	if [ -n "$r" ]; then
		fail "no answer to:$r espgw dropped $(io_stat "$IO_W/bigouter.stats" esp.no-room) reassembled outer packets as esp.no-room (they do not fit one mbuf)"
		return 1
	fi
	compare_counts "$IO_W/bigouter.stats" "$IO_W/bigouter.kstates" 0x00017017 0x00018018 ||
		{ fail "per-SA packet counts differ"; return 1; }
	no_drops "$IO_W/bigouter.stats" gw.drop-frag-needed || { fail "espgw dropped packets"; return 1; }
}

# f. espgw restarted during a transfer with the same SAs (same file). It
# starts its outbound sequence numbers at 1 again (replay-oseq not set):
#  1. the kernel's inbound SA has replay-window 0: no replay check, the
#     transfer goes on after the restart;
#  2. replay-window 64: everything espgw sends after the restart is
#     behind the kernel's window and dropped (counted as replay-window),
#     until the operator restarts espgw with replay-oseq set to the last
#     sequence number it had sent; then the same transfer completes.
sc_restart() {
	local states pid out seqs nA nB k0 k1
	# 1. window 0 on the SA the kernel receives on
	states=$(sa_pair 0x0000f00f "$(rkey 128)" 0x00010010 "$(rkey 128)" 128 1 2 "replay-window 0" "replay-window 64")
	tunnel_up restart0 "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	ping_a "$HOSTB" 3 || { fail "tunnel down"; return 1; }
	G_QUIET=1 g "rm -f /tmp/rx.bin; /usr/sbin/ip netns exec hostb /usr/sbin/nc -l 5001 > /tmp/rx.bin 2>/dev/null & echo \$! > /tmp/nc.pid"
	echo "hostA\$ xfer.py tcp-send $HOSTB 5001 data6M --rate 1000000 &   (about 6 s)"
	io_bg "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" tcp-send "$HOSTB" 5001 "$DATA6M" -t 300 --rate 1000000 >"$IO_W/restart0.tx"
	pid=$IO_BG_PID
	sleep 2
	cp "$IO_W/restart0.conf" "$IO_W/restart0b.conf" # the same file, for a separate log
	io_gw_stop
	nA=$(io_stat "$IO_W/restart0.stats" "$(sa_out 0x0000f00f).packets")
	io_cap_start restart0 qtap0 "ip proto 50 and src $R1_WAN" 5 || { fail "tcpdump"; return 1; }
	io_gw_start "$IO_W/restart0b.conf" restart0b || { fail "espgw did not restart"; return 1; }
	io_wait_pid "$IO_CAP_PID" 20
	seqs=$(pcap_seqs "$IO_W/restart0.pcap" | tr '\n' ' ')
	echo "# espgw's first sequence numbers after the restart: $seqs (it had sent $nA before)"
	[ "${seqs%% *}" = 1 ] || { fail "window 0: espgw did not restart its sequence numbers at 1 ($seqs)"; return 1; }
	io_wait_pid "$pid" 120 || { fail "window 0: the transfer did not complete after the restart"; return 1; }
	out=$(cat "$IO_W/restart0.tx")
	echo "  $out"
	G_TIMEOUT=60 g "for i in \$(seq 1 100); do kill -0 \$(cat /tmp/nc.pid) 2>/dev/null || break; sleep 0.2; done
echo received \$(wc -c < /tmp/rx.bin) sha256 \$(sha256sum /tmp/rx.bin | cut -d' ' -f1)" >"$IO_W/rx.txt"
	echo "  hostB $(cat "$IO_W/rx.txt")"
	[ -n "$out" ] && [ "${out#sent }" = "$(sed -n 's/^received //p' "$IO_W/rx.txt")" ] ||
		{ fail "window 0: the transfer across the restart is corrupt"; return 1; }
	ping_a "$HOSTB" 3 || { fail "window 0: no ping after the restart"; return 1; }
	stop_and_count restart0b || { fail "cannot read the counters"; return 1; }
	nB=$(io_stat "$IO_W/restart0b.stats" "$(sa_out 0x0000f00f).packets")
	k0=$(kfield "$IO_W/restart0b.kstates" 0x0000f00f "$R2_WAN" 4)
	echo "# SA 0x0000f00f: espgw sent $nA + $nB packets (two runs), the kernel accepted $k0"
	[ "$k0" = $((nA + nB)) ] || { fail "window 0: the kernel did not accept every packet of both runs"; return 1; }

	# 2. window 64 on both SAs
	states=$(sa_pair 0x00011011 "$(rkey 128)" 0x00012012 "$(rkey 128)" 128 1 2 "replay-window 64" "replay-window 64")
	tunnel_reconf restart64 "$states" "$(pol_r1 10.0.2.0/24 1 2)" "$(pol_r2 10.0.2.0/24 1 2)" || return 1
	ping_a "$HOSTB" 3 || { fail "window 64: tunnel down"; return 1; }
	tcp_a_to_b "$DATA2M" 5003 || { fail "window 64: TCP before the restart"; return 1; }
	G_QUIET=1 g "rm -f /tmp/rx.bin; /usr/sbin/ip netns exec hostb /usr/sbin/nc -l 5001 > /tmp/rx.bin 2>/dev/null & echo \$! > /tmp/nc.pid"
	echo "hostA\$ xfer.py tcp-send $HOSTB 5001 data6M --rate 1000000 &"
	io_bg "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" tcp-send "$HOSTB" 5001 "$DATA6M" -t 300 --rate 1000000 >"$IO_W/restart64.tx"
	pid=$IO_BG_PID
	sleep 2
	io_gw_stop
	nA=$(gw_last_seq restart64 0x00011011)
	echo "# espgw's last sequence number on 0x00011011 before the restart: $nA ($(io_stat "$IO_W/restart64.stats" "$(sa_out 0x00011011).packets") packets)"
	cp "$IO_W/restart64.conf" "$IO_W/restart64b.conf"
	io_cap_start restart64 qtap0 "ip proto 50 and src $R1_WAN" 5 || { fail "tcpdump"; return 1; }
	io_gw_start "$IO_W/restart64b.conf" restart64b || { fail "espgw did not restart"; return 1; }
	PING_W=4 ping_a "$HOSTB" 3 && { fail "window 64: pings pass after the restart, though the kernel should drop espgw's packets as replays"; return 1; }
	PING_W=4 ping_b "$HOSTA" 3 >/dev/null
	io_wait_pid "$IO_CAP_PID" 10
	seqs=$(pcap_seqs "$IO_W/restart64.pcap" | tr '\n' ' ')
	echo "# espgw's first sequence numbers after the restart: $seqs"
	[ "${seqs%% *}" = 1 ] || { fail "window 64: espgw did not restart its sequence numbers at 1 ($seqs)"; return 1; }
	kstates "$IO_W/restart64b.kstates"
	k0=$(kfield "$IO_W/restart64b.kstates" 0x00011011 "$R2_WAN" 6)
	echo "# the kernel's SA 0x00011011: $k0 packets dropped as behind the replay window; xfrm_stat: $(xfrm_stat)"
	[ "$k0" -gt 0 ] || { fail "window 64: the kernel counted no replay-window drops"; return 1; }
	kill -0 "$pid" 2>/dev/null || { fail "window 64: the transfer ended while espgw's packets were dropped"; return 1; }
	io_gw_stop
	nB=$(gw_last_seq restart64b 0x00011011)
	echo "# espgw's run after the restart: sent up to seq $nB; inbound SA 0x00012012 decrypted $(io_stat "$IO_W/restart64b.stats" "$(sa_in 0x00012012).packets") packets from the kernel, dropped $(io_stat "$IO_W/restart64b.stats" "$(sa_in 0x00012012).behind-window") + $(io_stat "$IO_W/restart64b.stats" "$(sa_in 0x00012012).replayed")"
	[ "$(io_stat "$IO_W/restart64b.stats" "$(sa_in 0x00012012).packets")" -gt 0 ] &&
		[ "$(io_stat "$IO_W/restart64b.stats" "$(sa_in 0x00012012).behind-window")" = 0 ] ||
		{ fail "window 64: espgw's fresh inbound SA did not accept the kernel's continuing sequence"; return 1; }

	# the remedy: restart with replay-oseq = the last sequence number sent
	[ "$nB" -lt "$nA" ] || nA=$nB
	sed "s/\(spi 0x00011011 reqid 1 mode tunnel replay-window 64\)/\1 replay-oseq $nA/" \
		"$IO_W/restart64.conf" >"$IO_W/restart64c.conf"
	grep -q "replay-oseq $nA" "$IO_W/restart64c.conf" || { fail "cannot write replay-oseq"; return 1; }
	echo "# remedy: espgw restarted with replay-oseq $nA on its outbound SA:"
	grep 'spi 0x00011011' "$IO_W/restart64c.conf"
	io_cap_start restart64c qtap0 "ip proto 50 and src $R1_WAN" 3 || { fail "tcpdump"; return 1; }
	io_gw_start "$IO_W/restart64c.conf" restart64c || { fail "espgw did not start with replay-oseq"; return 1; }
	ping_a "$HOSTB" 3 || { fail "window 64: still no ping after the restart with replay-oseq $nA"; return 1; }
	io_wait_pid "$IO_CAP_PID" 10
	seqs=$(pcap_seqs "$IO_W/restart64c.pcap" | tr '\n' ' ')
	echo "# espgw's first sequence numbers now: $seqs"
	[ "${seqs%% *}" = $((nA + 1)) ] || { fail "replay-oseq $nA: the first packet is not seq $((nA + 1)) ($seqs)"; return 1; }
	io_wait_pid "$pid" 150 || { fail "window 64: the stalled transfer did not complete after the remedy"; return 1; }
	out=$(cat "$IO_W/restart64.tx")
	G_TIMEOUT=60 g "for i in \$(seq 1 100); do kill -0 \$(cat /tmp/nc.pid) 2>/dev/null || break; sleep 0.2; done
echo received \$(wc -c < /tmp/rx.bin) sha256 \$(sha256sum /tmp/rx.bin | cut -d' ' -f1)" >"$IO_W/rx.txt"
	echo "  hostA $out"
	echo "  hostB $(cat "$IO_W/rx.txt")"
	[ -n "$out" ] && [ "${out#sent }" = "$(sed -n 's/^received //p' "$IO_W/rx.txt")" ] ||
		{ fail "window 64: the transfer across the restarts is corrupt"; return 1; }
	k1=$k0
	stop_and_count restart64c || { fail "cannot read the counters"; return 1; }
	k1=$(kfield "$IO_W/restart64c.kstates" 0x00011011 "$R2_WAN" 6)
	echo "# the kernel's replay-window drops: $k0 before the remedy, $k1 after"
	[ "$k1" = "$k0" ] || { fail "the kernel still dropped espgw's packets after the remedy"; return 1; }
}

# g. Roles swapped: espgw is R2 (192.0.2.2, LAN 10.0.2.0/24, hostA
# renumbered 10.0.2.10) and Linux is R1 (192.0.2.1, LAN 10.0.1.0/24 with
# the guest's namespace "hosta" 10.0.1.10). The SA lines are the same
# text as everywhere else: each end takes its direction from its address.
sc_swapped() {
	local states
	HOSTA=10.0.2.10    # the host behind espgw
	HOSTB=10.0.1.10    # the host behind Linux, in the guest
	GNS=hosta
	ip -n "$NS_A" addr flush dev eth0
	ip -n "$NS_A" addr add 10.0.2.10/24 dev eth0
	ip -n "$NS_A" route add default via 10.0.2.1
	states=$(sa_pair 0x00013013 "$(rkey 256)" 0x00014014 "$(rkey 256)" 128 1 2 "replay-window 64" "replay-window 64")
	io_guest_boot swapped || { fail "guest did not boot"; return 1; }
	g "ip link set eth0 up
ip addr add $R1_WAN/24 dev eth0
ip netns add hosta
ip link add veth0 type veth peer name eth0 netns hosta
ip link set veth0 up
ip addr add 10.0.1.1/24 dev veth0
ip -n hosta link set lo up
ip -n hosta link set eth0 up
ip -n hosta addr add 10.0.1.10/24 dev eth0
ip -n hosta route add default via 10.0.1.1
sysctl -w net.ipv4.ip_forward=1
ip route add 10.0.2.0/24 via $R2_WAN dev eth0 src 10.0.1.1
$states
$(pol_r1 10.0.2.0/24 1 2)" || { fail "guest configuration failed"; return 1; }
	{
		echo "# R2: espgw; LAN 10.0.2.0/24 on net_tap0, outside on net_tap1"
		echo "ip link set dev net_tap0 up"
		echo "ip link set dev net_tap1 up"
		echo "ip addr add 10.0.2.1/24 dev net_tap0"
		echo "ip addr add $R2_WAN/24 dev net_tap1"
		echo "ip route add 10.0.1.0/24 via $R1_WAN dev net_tap1 src 10.0.2.1"
		printf '%s\n' "$states" "$(pol_r2 10.0.2.0/24 1 2)"
	} >"$IO_W/swapped.conf"
	io_gw_start "$IO_W/swapped.conf" swapped || { fail "espgw did not start"; return 1; }
	grep -E "^espgw: .*states" "$IO_W/swapped.out"

	ping_a "$HOSTB" 5 || { fail "ping hostA (10.0.2.10, behind espgw) -> 10.0.1.10 (behind Linux)"; return 1; }
	ping_a 10.0.1.1 3 || { fail "ping hostA -> 10.0.1.1 (the Linux router itself)"; return 1; }
	ping_b "$HOSTA" 5 || { fail "ping 10.0.1.10 -> hostA"; return 1; }
	G_TIMEOUT=30 g "set -o pipefail; ping -c 3 -i 0.2 -w 15 -I 10.0.1.1 10.0.2.1 | tail -2" ||
		{ fail "ping 10.0.1.1 (Linux) -> 10.0.2.1 (espgw itself)"; return 1; }
	tcp_a_to_b "$DATA10M" 5001 || { fail "TCP 10 MiB espgw's side -> Linux's side"; return 1; }
	tcp_b_to_a 10 5002 || { fail "TCP 10 MiB Linux's side -> espgw's side"; return 1; }
	stop_and_count swapped || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/swapped.stats" "$IO_W/swapped.kstates" 0x00013013 0x00014014 ||
		{ fail "per-SA packet counts differ"; return 1; }
	no_drops "$IO_W/swapped.stats" gw.drop-frag-needed || { fail "espgw dropped packets"; return 1; }
}

# h. TFC padding (RFC 4303 section 2.7): the kernel pads what it sends
# to 1000 bytes (tfcpad 1000, a sender-only option espgw does not take in
# its file); espgw must cut each inner packet to its IP total length.
sc_tfcpad() {
	local states gstates n
	states=$(sa_pair 0x00015015 "$(rkey 128)" 0x00016016 "$(rkey 128)" 128 1 2 "replay-window 64" "replay-window 64")
	gstates=$(echo "$states" | sed '2s/ mode tunnel / mode tunnel tfcpad 1000 /')
	io_guest_boot tfcpad || { fail "guest did not boot"; return 1; }
	guest_base || { fail "guest base configuration failed"; return 1; }
	g "$gstates
$(pol_r2 10.0.2.0/24 1 2)" || { fail "ip xfrm on the guest failed"; return 1; }
	r1_conf "$IO_W/tfcpad.conf" "$states" "$(pol_r1 10.0.2.0/24 1 2)"
	io_gw_start "$IO_W/tfcpad.conf" tfcpad || { fail "espgw did not start"; return 1; }
	io_cap_start tfcpad qtap0 "ip proto 50 and src $R2_WAN" 5 || { fail "tcpdump"; return 1; }
	ping_a "$HOSTB" 5 || { fail "ping hostA -> hostB"; return 1; }
	io_cap_stop
	tcpdump -nr "$IO_W/tfcpad.pcap" 2>/dev/null | head -3
	n=$(tcpdump -nr "$IO_W/tfcpad.pcap" 2>/dev/null | grep -c 'length 1036')
	[ "$n" -gt 0 ] || { fail "the kernel did not pad (no 1036-byte ESP payloads)"; return 1; }
	ping_b "$HOSTA" 5 || { fail "ping hostB -> hostA"; return 1; }
	tcp_b_to_a 2 5002 || { fail "TCP 2 MiB hostB -> hostA (padded)"; return 1; }
	tcp_a_to_b "$DATA2M" 5001 || { fail "TCP 2 MiB hostA -> hostB"; return 1; }
	stop_and_count tfcpad || { fail "cannot read the counters"; return 1; }
	compare_counts "$IO_W/tfcpad.stats" "$IO_W/tfcpad.kstates" 0x00015015 0x00016016 ||
		{ fail "per-SA packet counts differ"; return 1; }
	no_drops "$IO_W/tfcpad.stats" gw.drop-frag-needed || { fail "espgw dropped packets"; return 1; }
}

# ---- driver -----------------------------------------------------------------------
# (IO_SOURCE_ONLY=1: define everything, run nothing; for debugging by hand)
if [ "${IO_SOURCE_ONLY:-0}" = 1 ]; then return 0 2>/dev/null || exit 0; fi
io_require_root
io_init
trap 'io_cleanup' EXIT
trap 'echo "interrupted"; exit 130' INT TERM
[ -x "$IO_ESPGW" ] || io_die "no espgw binary at $IO_ESPGW (build it: ninja -C build)"
T_START=$(date +%s.%N)
io_deps
io_prepare_kernel
io_prepare_initrd
io_setup_topology
DATA10M=$IO_W/data10M
DATA6M=$IO_W/data6M
DATA2M=$IO_W/data2M
head -c $((10 * 1024 * 1024)) /dev/urandom >"$DATA10M"
head -c $((6 * 1024 * 1024)) "$DATA10M" >"$DATA6M"
head -c $((2 * 1024 * 1024)) "$DATA10M" >"$DATA2M"
io_log "espgw $IO_ESPGW, --poll-idle-us $IO_POLL_IDLE_US, logs in $IO_W"

# a fresh start for hostA: its address (swapped renumbers it), no path
# MTU or neighbour learnt by an earlier scenario; the next scenario
# starts espgw and qemu anew
io_hosta_fresh() {
	ip -n "$NS_A" addr flush dev eth0
	ip -n "$NS_A" addr add 10.0.1.10/24 dev eth0
	ip -n "$NS_A" route add default via 10.0.1.1
	ip -n "$NS_A" route flush cache 2>/dev/null
	ip -n "$NS_A" neigh flush dev eth0 2>/dev/null
}
io_run_scenarios true io_hosta_fresh io_scenario_end
