#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# IPv6 through the gateway (issue #13): espgw (R1) against a stock
# Debian kernel (R2) in qemu, as tests/interop does it, for the three
# tunnel kinds with IPv6 in them and for path MTU discovery of an inner
# IPv6 stream. Both ends get the same `ip` lines (docs/interop.md,
# "IPv6 tunnels: tests/interop6"):
#
#   hostA ── eth1 [ R1 espgw ] eth0 ══ ESP ══ eth0 [ R2 Linux ] eth1 ── hostB
#   10.0.1.10        10.0.1.1    outside          10.0.2.1        10.0.2.10
#   2001:db8:1::10   2001:db8:1::1                2001:db8:2::1   2001:db8:2::10
#
#   4in4   the control: IPv4 alone (10.0.1.0/24 <-> 10.0.2.0/24 over 192.0.2.1 <-> .2)
#   6in6   inner 2001:db8:1::/64 <-> 2001:db8:2::/64, outside 2001:db8:ffff::1 <-> ::2
#   4in6   inner 10.0.1.0/24 <-> 10.0.2.0/24,         outside 2001:db8:ffff::1 <-> ::2
#   6in4   inner 2001:db8:1::/64 <-> 2001:db8:2::/64, outside 192.0.2.1 <-> 192.0.2.2
#   pmtu6  6in6; hostA's TCP in 1500-byte packets: espgw's ICMPv6 Packet
#          Too Big with the tunnel MTU (1426), hostA lowers its path MTU
#
# usage: tests/interop6/run.sh [-k SCENARIO]... [-v] [-l]
#   -k NAME   run only this scenario (repeatable; a comma list works too)
#   -v        print every scenario's log as it runs, not only on failure
#   -l        list the scenarios
# Environment: tests/interop's (ESPGW, ESPGW_INTEROP_CACHE, IO_KEEP,
#   IO_POLL_IDLE_US, IO_PVH, IO_SCENARIO_LIMIT, IO_KERNEL_PKG), ESPGWCTL,
#   I6_AF_FLAG (the flag word of the states whose inner family is not
#   their outer one, 4in6 and 6in4; default "flag af-unspec", which
#   Linux needs), I6_GW_AF_FLAG (the same on espgw's side alone, to
#   try a build that refuses the flag; default I6_AF_FLAG),
#   I6_MB (MiB of TCP each way, default 10),
#   ESPGW_INTEROP6_CACHE (the kernel with esp6 and its initramfs;
#   default $ESPGW_INTEROP_CACHE/ipv6).
# Output: "ok - NAME (Ts)" or "not ok - NAME: WHY" per scenario, then
# "N passed, M failed"; exit status 0 only when every scenario passed.
# It never skips: what it cannot have (qemu, the kernel) is a failure.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$HERE/../interop/lib.sh"
# shellcheck source=tests/control/lib.sh
. "$HERE/../control/lib.sh"

ALL="4in4 6in6 4in6 6in4 pmtu6"
io_parse_args 2,35p "$@"

I6_AF_FLAG=${I6_AF_FLAG-flag af-unspec}
I6_MB=${I6_MB:-10}
# esp6 besides tests/interop's modules; in a cache of its own, so that
# tests/interop's stays as it is
IO_MODULES="$IO_MODULES esp6"

# ---- addresses ------------------------------------------------------------------
W4_A=192.0.2.1 W4_B=192.0.2.2
W6_A=2001:db8:ffff::1 W6_B=2001:db8:ffff::2
A4=10.0.1.10 B4=10.0.2.10 GW4_A=10.0.1.1 GW4_B=10.0.2.1
A6=2001:db8:1::10 B6=2001:db8:2::10 GW6_A=2001:db8:1::1 GW6_B=2001:db8:2::1
NET4_A=10.0.1.0/24 NET4_B=10.0.2.0/24
NET6_A=2001:db8:1::/64 NET6_B=2001:db8:2::/64
# the tunnel MTU of 6in6 over a 1500-byte link, as Linux's esp6_get_mtu
# computes it: 1500 - 40 (IPv6) - 8 (ESP) - 8 (IV) - 16 (ICV) = 1428,
# rounded down to 4, - 2 (pad length, next header)
MTU6IN6=1426
# and of each kind: over IPv4, 20 bytes of header instead of 40
tunnel_mtu() { # kind
	if [ "$(kind_outer "$1")" = 6 ]; then echo $MTU6IN6; else echo $((MTU6IN6 + 20)); fi
}

# Per kind: the outer family, the inner family
kind_outer() { case $1 in 6in6 | 4in6) echo 6 ;; 6in4 | 4in4) echo 4 ;; esac; }
kind_inner() { case $1 in 6in6 | 6in4) echo 6 ;; 4in6 | 4in4) echo 4 ;; esac; }

# ---- each site's script: the same lines on both ends ------------------------------

# The script an administrator types on a site's router for a tunnel of
# KIND: addresses, the route to the far site, two states (the same
# lines on both sites), the out, in and fwd policies (mirrored).
#   site_script6 a|b KIND SPI12 KEY12 SPI21 KEY21   (12: site a to b)
site_script6() {
	local me=$1 kind=$2 s12=$3 k12=$4 s21=$5 k21=$6
	local o i wa wb wlen here there lan rq_out=1 rq_in=2 flag=""
	o=$(kind_outer "$kind")
	i=$(kind_inner "$kind")
	if [ "$o" = 6 ]; then wa=$W6_A wb=$W6_B wlen=64; else wa=$W4_A wb=$W4_B wlen=24; fi
	if [ "$o" != "$i" ]; then
		flag=$I6_AF_FLAG
		[ "$me" = b ] || flag=${I6_GW_AF_FLAG-$I6_AF_FLAG}
		flag=${flag:+$flag }
	fi
	local w=$wa peer=$wb
	if [ "$me" = a ]; then
		if [ "$i" = 6 ]; then here=$NET6_A there=$NET6_B lan=$GW6_A; else here=$NET4_A there=$NET4_B lan=$GW4_A; fi
	else
		w=$wb peer=$wa rq_out=2 rq_in=1
		if [ "$i" = 6 ]; then here=$NET6_B there=$NET6_A lan=$GW6_B; else here=$NET4_B there=$NET4_A lan=$GW4_B; fi
	fi
	local vw="" vl="" via="via $peer "
	[ "$o" = 6 ] && vw="-6 "
	[ "$i" = 6 ] && vl="-6 "
	# a route across families has no gateway: the tunnel's
	[ "$o" = "$i" ] || via=""
	cat <<EOT
# site $me: $kind, $here <-> $there over $wa <-> $wb
ip ${vw}addr add $w/$wlen dev eth0
ip ${vl}addr add $lan/${here#*/} dev eth1
ip ${vl}route add $there ${via}dev eth0 src $lan
ip xfrm state add src $wa dst $wb proto esp spi $s12 reqid 1 mode tunnel replay-window 64 ${flag}aead $AEAD $k12 128
ip xfrm state add src $wb dst $wa proto esp spi $s21 reqid 2 mode tunnel replay-window 64 ${flag}aead $AEAD $k21 128
ip xfrm policy add src $here dst $there dir out tmpl src $w dst $peer proto esp reqid $rq_out mode tunnel
ip xfrm policy add src $there dst $here dir in tmpl src $peer dst $w proto esp reqid $rq_in mode tunnel
ip xfrm policy add src $there dst $here dir fwd tmpl src $peer dst $w proto esp reqid $rq_in mode tunnel
EOT
}

# ---- the guest (Linux R2) and hostA ----------------------------------------------

# IPv6 on the named links of the current namespace, without the chatter
# that is not the test's: no duplicate address detection, no router
# solicitations or advertisements taken
v6_on() { # links...
	local l
	for l in "$@"; do
		echo "sysctl -qw net.ipv6.conf.$l.accept_dad=0"
		echo "sysctl -qw net.ipv6.conf.$l.accept_ra=0"
		echo "sysctl -qw net.ipv6.conf.$l.router_solicitations=0"
		echo "sysctl -qw net.ipv6.conf.$l.disable_ipv6=0"
	done
}

# hostb behind the guest's eth1, both families, forwarding on; the
# gateway's own addresses come from the site script
i6_guest_base() {
	g "ip netns add hostb
ip link add eth1 type veth peer name eth0 netns hostb
$(v6_on eth0 eth1)
ip link set eth0 up
ip link set eth1 up
ip netns exec hostb sh -c '$(v6_on eth0 | tr '\n' ';')'
ip -n hostb link set lo up
ip -n hostb link set eth0 up
ip -n hostb addr add $B4/24 dev eth0
ip -n hostb -6 addr add $B6/64 dev eth0
ip -n hostb route add default via $GW4_B
ip -n hostb -6 route add default via $GW6_B
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=1"
}

# What a scenario left in the guest, undone: states, policies, the site
# script's addresses and routes, learnt neighbours and path MTUs.
i6_guest_reset() {
	g "killall nc ping 2>/dev/null
ip xfrm policy flush
ip xfrm state flush
for l in eth0 eth1; do ip -4 addr flush dev \$l; ip -6 addr flush dev \$l scope global; done
ip route flush $NET4_A 2>/dev/null
ip -6 route flush $NET6_A 2>/dev/null
ip neigh flush dev eth0
ip -6 neigh flush dev eth0
ip route flush cache
ip -6 route flush cache
ip -n hostb route flush cache
ip -n hostb -6 route flush cache
ip -n hostb neigh flush dev eth0
ip -n hostb -6 neigh flush dev eth0
ip xfrm state | grep -q . && exit 1
ip addr show | grep -q 'inet6* [0-9a-f:.]* .*global' && exit 1
true"
}

# One guest for every scenario, booted again only when it stops answering
i6_guest_up() {
	if [ -n "$IO_QEMU_PID" ] && kill -0 "$IO_QEMU_PID" 2>/dev/null &&
		G_QUIET=1 G_TIMEOUT=10 g true >/dev/null 2>&1; then
		return 0
	fi
	io_guest_stop
	io_guest_boot ipv6 >"$IO_W/boot.log" 2>&1 && i6_guest_base >>"$IO_W/boot.log" 2>&1 &&
		G_QUIET=1 g "grep -q '^esp6 ' /proc/modules" >>"$IO_W/boot.log" 2>&1 || {
		echo "# the guest did not come up (or has no esp6):"
		sed 's/^/#   /' "$IO_W/boot.log" | tail -20
		return 1
	}
	grep '^# guest up' "$IO_W/boot.log"
	: >"$IO_W/pids" # the guest outlives the scenarios: io_reap must not end it
}

# hostA: both families on its link to espgw, once
i6_hosta_base() {
	eval "$(v6_on eth0 | sed "s/^/io_in $NS_A /")"
	ip -n "$NS_A" -6 addr add "$A6/64" dev eth0 &&
		ip -n "$NS_A" -6 route add default via "$GW6_A"
	# IPv6 multicast (neighbour discovery) through r1's bridges whatever
	# MLD they have or have not seen
	ip -n "$NS_R1" link set brlan type bridge mcast_snooping 0
	ip -n "$NS_R1" link set brwan type bridge mcast_snooping 0
}

# ---- espgw --------------------------------------------------------------------------

# espgw's file: its two ports named as the guest's, then site a's script
i6_gw_start() { # tag script
	{
		echo "# R1: espgw, eth0 outside (net_tap1), eth1 hostA's LAN (net_tap0)"
		echo "ip link set dev net_tap1 up name eth0"
		echo "ip link set dev net_tap0 up name eth1"
		cat "$2"
	} >"$IO_W/$1.conf"
	io_gw_start "$IO_W/$1.conf" "$1"
}

# ---- checks -------------------------------------------------------------------------
# Soft failures: a scenario goes on after them, to say as much as it
# can in one run, and fails at its end with all of them.
SOFT=""
soft() { # reason
	SOFT="$SOFT${SOFT:+; }$*"
	echo "FAIL (going on): $*"
}
i6_end_ok() {
	[ -z "$SOFT" ] && return 0
	fail "$SOFT"
}

ping_a6() { # dst count [options]
	local dst=$1 n=$2
	shift 2
	echo "hostA\$ ping -c $n -i 0.2 -w 15 $* $dst"
	io_in "$NS_A" ping -c "$n" -i 0.2 -w 15 "$@" "$dst" 2>&1 | tail -3
	return "${PIPESTATUS[0]}"
}
ping_b6() { # dst count [options]   (from hostB, in the guest)
	G_TIMEOUT=30 g "set -o pipefail; ip netns exec hostb ping -c $2 -i 0.2 -w 15 ${3:-} $1 2>&1 | tail -3"
}

# TCP hostA -> hostB: the guest's nc listens, xfer6.py sends FILE
tcp6_a_to_b() { # tag dst file port
	local six="" sent got
	case $2 in *:*) six="-6 " ;; esac
	G_QUIET=1 g "rm -f /tmp/rx.bin; /usr/sbin/ip netns exec hostb /usr/sbin/nc ${six}-l $4 > /tmp/rx.bin 2>/tmp/nc.err & echo \$! > /tmp/nc.pid
for i in \$(seq 1 50); do ip netns exec hostb netstat -ltn | grep -q ':$4 ' && break; sleep 0.1; done" || return 1
	echo "guest# ip netns exec hostb nc ${six}-l $4 > /tmp/rx.bin &"
	echo "hostA\$ xfer6.py tcp-send $2 $4 $(basename "$3")"
	sent=$(io_in "$NS_A" "$IO_PY" "$HERE/xfer6.py" tcp-send "$2" "$4" "$3" -t 300 2>&1)
	echo "  $sent"
	G_TIMEOUT=60 G_QUIET=1 g "for i in \$(seq 1 100); do kill -0 \$(cat /tmp/nc.pid) 2>/dev/null || break; sleep 0.2; done
echo received \$(wc -c < /tmp/rx.bin) sha256 \$(sha256sum /tmp/rx.bin | cut -d' ' -f1)" >"$IO_W/$1.rx"
	got=$(grep '^received' "$IO_W/$1.rx")
	echo "  hostB $got"
	[ -n "$got" ] && [ "${sent#sent }" = "${got#received }" ]
}

# TCP hostB -> hostA: N MiB made in the guest, sent with nc
tcp6_b_to_a() { # tag dst mib port
	local pid want got
	rm -f "$IO_W/$1.ready"
	echo "hostA\$ xfer6.py tcp-recv $4 &"
	io_bg "$NS_A" "$IO_PY" "$HERE/xfer6.py" tcp-recv "$4" -t 300 --ready "$IO_W/$1.ready" >"$IO_W/$1.rx" 2>&1
	pid=$IO_BG_PID
	for _ in $(seq 1 50); do [ -f "$IO_W/$1.ready" ] && break; sleep 0.1; done
	[ -f "$IO_W/$1.ready" ] || { echo "  xfer6.py does not listen"; return 1; }
	want=$(G_TIMEOUT=300 g "dd if=/dev/urandom of=/tmp/tx.bin bs=1M count=$3 2>/dev/null
ip netns exec hostb nc -N -w 30 $2 $4 < /tmp/tx.bin
echo sent \$(wc -c < /tmp/tx.bin) sha256 \$(sha256sum /tmp/tx.bin | cut -d' ' -f1)")
	echo "$want" | grep -v '^sent' | sed 's/^/  /'
	want=$(echo "$want" | grep '^sent')
	io_wait_pid "$pid" 60
	got=$(grep '^received' "$IO_W/$1.rx")
	echo "  hostB $want"
	echo "  hostA $got"
	[ -n "$want" ] && [ "${want#sent }" = "${got#received }" ]
}

# Each SA counted alike by espgw (espgwctl -s xfrm state, traffic
# stopped) and the kernel (ip -s xfrm state): packets and bytes.
#   i6_counts TAG SPI12 DST12 SPI21 DST21
i6_counts() {
	local t=$1 e k eb kb bad=""
	sleep 1 # what is in flight lands
	gw_states "$IO_W/$t.gw" || { soft "espgwctl -s xfrm state failed: $(head -3 "$IO_W/$t.gw.raw")"; return 1; }
	k_states "$IO_W/$t.k" || { soft "the guest's ip -s xfrm state failed"; return 1; }
	echo "# espgwctl -s xfrm state:"
	sed 's/^/  espgw| /' "$IO_W/$t.gw.raw"
	echo "# the guest's ip -s xfrm state:"
	sed 's/^/  kernel| /' "$IO_W/$t.k.raw"
	set -- "$2" "$3" "$4" "$5"
	while [ $# -ge 2 ]; do
		e=$(sa_count "$IO_W/$t.gw" "$1" "$2")
		k=$(sa_count "$IO_W/$t.k" "$1" "$2")
		eb=$(sa_count "$IO_W/$t.gw" "$1" "$2" 5)
		kb=$(sa_count "$IO_W/$t.k" "$1" "$2" 5)
		printf '  SA %s (dst %s): espgw %s packets, %s bytes; kernel %s packets, %s bytes\n' \
			"$1" "$2" "$e" "$eb" "$k" "$kb"
		[ "$e" = "$k" ] && [ "$e" -gt 0 ] || bad="$bad $1 packets espgw $e kernel $k,"
		[ "$eb" = "$kb" ] || bad="$bad $1 bytes espgw $eb kernel $kb,"
		I6_GWCOUNT="${I6_GWCOUNT:-} $1|$2|$e|$eb"
		shift 2
	done
	[ -z "$bad" ] || { soft "per-SA counters differ:${bad%,}"; return 1; }
}

# After espgw stopped: its --stats-file names each SA by its (dst, SPI)
# and direction with what espgwctl said; every packet accounted for; no
# drop but the allowed ones (extended regular expression of names).
i6_stats() { # tag allowed-drops-ere
	local st=$IO_W/$1.stats x spi dst e eb dir name sp sb bad bal
	[ -s "$st" ] || { soft "espgw wrote no --stats-file"; return 1; }
	echo "# espgw's --stats-file, nonzero: $(awk '$2 != 0' "$st" | tr '\n' ' ' | tr -s ' ')"
	for x in ${I6_GWCOUNT:-}; do
		IFS='|' read -r spi dst e eb <<<"$x"
		dir=in
		case " $I6_LOCAL " in *" $dst "*) ;; *) dir=out ;; esac
		name="sa.$dst/esp/$spi/$dir"
		sp=$(awk -v k="$name.packets" '$1 == k { v = $2 } END { print v + 0 }' "$st")
		sb=$(awk -v k="$name.bytes" '$1 == k { v = $2 } END { print v + 0 }' "$st")
		[ "$sp" = "$e" ] && [ "$sb" = "$eb" ] ||
			soft "--stats-file: $name.packets $sp, .bytes $sb; espgwctl -s said $e packets, $eb bytes"
	done
	if ! bal=$(t_balance "$IO_ESPGW" "$st"); then
		soft "espgw's packets not accounted for: $bal"
	fi
	bad=$(awk '($1 ~ /^esp\./ || $1 ~ /^gw\.drop-/ || ($1 ~ /^sa\./ && $1 !~ /\.(packets|bytes)$/)) && $2 != 0 { print $1 "=" $2 }' "$st" |
		grep -v -E "^($2)=" | tr '\n' ' ')
	[ -z "$bad" ] || soft "espgw dropped: $bad"
}

# The ICMPv6 Packet Too Big messages of a capture (xfer6.py ptb): at
# least one; each from FROM to TO, carrying MTU, at most 1280 bytes long
# (RFC 4443 section 2.4 (c)), its checksum right, quoting TO's packet
# for QDST.
xfer6_ptb() { # pcap from to qdst mtu
	local n bad
	"$IO_PY" "$HERE/xfer6.py" ptb "$1" >"$1.ptb"
	n=$(wc -l <"$1.ptb")
	echo "# $n ICMPv6 Packet Too Big on hostA's LAN; the first three:"
	head -3 "$1.ptb" | sed 's/^/  /'
	[ "$n" -gt 0 ] || { soft "no ICMPv6 Packet Too Big reached hostA"; return 1; }
	bad=$(awk -v f="$2" -v t="$3" -v q="$4" -v m="$5" '
		$2 != f || $3 != t { printf "from %s to %s, not %s to %s; ", $2, $3, f, t }
		$5 != m { printf "mtu %s, not %s; ", $5, m }
		$7 > 1280 { printf "%d bytes long, over 1280; ", $7 }
		$9 != "ok" { printf "checksum %s; ", $9 }
		$11 != t || $13 != q { printf "quotes %s > %s, not %s > %s; ", $11, $13, t, q }' "$1.ptb" |
		head -c 400)
	[ -z "$bad" ] || { soft "Packet Too Big: $bad"; return 1; }
}

# ---- scenarios -------------------------------------------------------------------------

# Both ends keyed with KIND's lines, the kernel first; neither may say
# a thing. espgw gets site a's script as its file.
i6_up() { # tag kind spi12 spi21
	local t=$1 kind=$2 k12 k21
	S12=$3 S21=$4
	k12=$(rkey 128)
	k21=$(rkey 128)
	if [ "$(kind_outer "$kind")" = 6 ]; then WA=$W6_A WB=$W6_B; else WA=$W4_A WB=$W4_B; fi
	I6_LOCAL=$WA
	if [ "$(kind_inner "$kind")" = 6 ]; then HA=$A6 HB=$B6 RA=$GW6_A RB=$GW6_B; else HA=$A4 HB=$B4 RA=$GW4_A RB=$GW4_B; fi
	i6_guest_reset || { fail "cannot reset the guest"; return 1; }
	site_script6 a "$kind" "$S12" "$k12" "$S21" "$k21" >"$IO_W/$t-a.sh"
	site_script6 b "$kind" "$S12" "$k12" "$S21" "$k21" >"$IO_W/$t-b.sh"
	run_site_b "$IO_W/$t-b.sh" "$IO_W/$t-b.out" || { fail "the guest did not run site b's script"; return 1; }
	[ ! -s "$IO_W/$t-b.out" ] || { fail "the kernel refused site b's script: $(head -2 "$IO_W/$t-b.out" | tr '\n' ' ')"; return 1; }
	G_QUIET=1 g "ip xfrm state; ip xfrm policy" | sed 's/^/  kernel| /'
	# the guest's side alone: hostB reaches its router, no tunnel in between
	ping_b6 "$RB" 1 || { fail "hostB cannot ping its own router $RB (the guest's side is broken)"; return 1; }
	i6_gw_start "$t" "$IO_W/$t-a.sh" || {
		fail "espgw refused site a's script: $(grep -h '^espgw: ' "$IO_W/$t.out" "$IO_W/$t.err" 2>/dev/null | grep -v ': port ' | sed "s|^espgw: $IO_W/||" | head -2 | tr '\n' ' ')"
		return 1
	}
}

# Pings both ways and to both routers, TCP each way, the counters.
i6_traffic() { # tag
	local t=$1 v=""
	[ "$(kind_inner "$KIND")" = 6 ] && v=-6
	ping_a6 "$HB" 5 $v || { fail "$KIND: ping $v hostA ($HA) -> hostB ($HB)"; return 1; }
	ping_b6 "$HA" 5 "$v" || { fail "$KIND: ping $v hostB ($HB) -> hostA ($HA)"; return 1; }
	ping_a6 "$RB" 3 $v || soft "ping $v hostA -> $RB (the Linux router itself: its dir in)"
	G_TIMEOUT=30 g "set -o pipefail; ping $v -c 3 -i 0.2 -w 15 -I $RB $RA | tail -2" ||
		soft "ping $v $RB (the Linux router) -> $RA (espgw itself: its dir in)"
	tcp6_a_to_b "$t-ab" "$HB" "$DATA" 5001 || soft "TCP $I6_MB MiB hostA -> hostB: size or checksum differs"
	tcp6_b_to_a "$t-ba" "$HA" "$I6_MB" 5002 || soft "TCP $I6_MB MiB hostB -> hostA: size or checksum differs"
	# hostA's TCP (no offloads) started with 1500-byte packets: it learnt
	# the tunnel MTU from espgw (ICMP fragmentation-needed, ICMPv6 Packet
	# Too Big). hostB's leaves it as GSO packets over the veth, which the
	# kernel tunnels in segments without an ICMP error: hostB learns no
	# MTU (pmtu6 asks the kernel's by ping).
	local m r
	m=$(tunnel_mtu "$KIND")
	# espgw is hostA's IPv6 router: its neighbour advertisements must
	# say so (RFC 4861 section 7.2.4, the R flag), or Linux's garbage
	# collection purges the path MTU it learnt through a non-router
	# (rt6_age_examine_exception)
	if [ "$v" = -6 ]; then
		r=$(ip -n "$NS_A" -6 neigh show "$RA" dev eth0)
		echo "hostA\$ ip -6 neigh show $RA: $r"
		case "$r" in *" router"*) ;; *) soft "hostA does not see espgw ($RA) as a router: no R flag in its neighbour advertisements (ip -6 neigh: $r)" ;; esac
	fi
	r=$(ip -n "$NS_A" route get "$HB" | tr -s ' \n' ' ')
	echo "hostA\$ ip route get $HB: $r"
	case "$r" in *" mtu $m "*) ;; *) soft "hostA did not learn mtu $m from espgw (ip route get: $r)" ;; esac
	# 3000-byte pings, fragments allowed: IPv4 fragmented by the
	# gateways (espgw before it encrypts, the kernel's outer packet
	# after), IPv6 by the hosts themselves at the path MTU
	local big="-M dont -s 3000"
	[ "$v" = -6 ] && big="-6 -s 3000"
	# shellcheck disable=SC2086 # the options are words
	ping_a6 "$HB" 3 $big || soft "ping $big hostA -> hostB"
	ping_b6 "$HA" 3 "$big" || soft "ping $big hostB -> hostA"
}

i6_finish() { # tag allowed-drops-ere
	i6_counts "$1" "$S12" "$WB" "$S21" "$WA"
	io_gw_stop
	i6_stats "$1" "$2"
	i6_end_ok
}

# The drops a scenario may see: noise that is not the tunnel's (Linux's
# MLD reports and the like to multicast groups espgw does not serve),
# and hostA's first TCP packets over the tunnel MTU (1500 bytes, DF for
# IPv4, IPv6 never fragmented on the way), which espgw answers with
# ICMP fragmentation-needed or ICMPv6 Packet Too Big
ALLOWED='gw\.drop-l2-not-for-us|gw\.drop-local-unhandled|gw\.drop-frag-needed|gw\.drop-.*(too-big|ptb).*'

# a-c. One tunnel kind: ping both ways (hosts and routers), TCP each
# way with checksums, each SA counted alike by both ends.
i6_kind() { # kind spi12 spi21
	KIND=$1
	i6_up "$KIND" "$KIND" "$2" "$3" || return 1
	i6_traffic "$KIND" || return 1
	i6_finish "$KIND" "$ALLOWED"
}
# the control: the same harness, IPv4 alone, which espgw has carried
# for long; when it fails, the harness or the machine is at fault
sc_4in4() { i6_kind 4in4 0x00044001 0x00044002; }
sc_6in6() { i6_kind 6in6 0x00061001 0x00062002; }
sc_4in6() { i6_kind 4in6 0x00041001 0x00042002; }
sc_6in4() { i6_kind 6in4 0x00064001 0x00064002; }

# d. Path MTU discovery for an inner IPv6 stream (RFC 8201) through the
# 6in6 tunnel: what hostA sends over the tunnel MTU, espgw answers with
# ICMPv6 Packet Too Big (RFC 4443 section 3.2) carrying that MTU, from
# its address on hostA's LAN, at most 1280 bytes long (section 2.4 (c));
# hostA lowers its path MTU and the TCP stream completes. Linux's side
# does the same for hostB, with the same MTU.
sc_pmtu6() {
	local out
	KIND=6in6
	i6_up pmtu6 6in6 0x00071001 0x00072002 || return 1
	ping_a6 "$HB" 2 -6 >/dev/null || { fail "6in6: tunnel down (ping -6 hostA -> hostB)"; return 1; }
	io_cap_start pmtu6-lan lan0 "icmp6 and ip6[40] == 2" || { fail "tcpdump on hostA's LAN"; return 1; }
	local cap=$IO_CAP_PID

	echo "# hostA: 1488-byte packets with fragmentation forbidden, then the tunnel MTU"
	out=$(io_in "$NS_A" ping -6 -M "do" -s 1440 -c 3 -i 0.3 -W 2 "$HB" 2>&1)
	echo "hostA\$ ping -6 -M do -s 1440 -c 3 $HB"
	echo "$out" | sed 's/^/  /'
	echo "$out" | grep -q -E "Packet too big: mtu=$MTU6IN6|mtu[:=] ?$MTU6IN6" ||
		soft "ping -6 -s 1440: no Packet Too Big with mtu $MTU6IN6 reached hostA"
	out=$(ip -n "$NS_A" -6 route get "$HB")
	echo "hostA\$ ip -6 route get $HB: $out"
	echo "$out" | grep -q "mtu $MTU6IN6" || soft "hostA's route cache has no mtu $MTU6IN6 after the pings"
	ping_a6 "$HB" 3 -6 -M "do" -s $((MTU6IN6 - 48)) ||
		soft "$MTU6IN6-byte packets (the tunnel MTU) hostA -> hostB"

	echo "# hostA: TCP from a fresh path MTU, 1500-byte packets first"
	ip -n "$NS_A" -6 route flush cache
	tcp6_a_to_b pmtu6-ab "$HB" "$DATA" 5001 || soft "TCP $I6_MB MiB hostA -> hostB across the path MTU discovery"
	out=$(ip -n "$NS_A" -6 route get "$HB")
	echo "hostA\$ ip -6 route get $HB: $out"
	echo "$out" | grep -q "mtu $MTU6IN6" || soft "hostA's route cache has no mtu $MTU6IN6 after TCP"
	io_cap_stop "$cap"

	xfer6_ptb "$IO_W/pmtu6-lan.pcap" "$GW6_A" "$A6" "$B6" "$MTU6IN6"

	echo "# hostB (Linux's side): the same with the kernel's Packet Too Big"
	out=$(G_TIMEOUT=30 g "ip netns exec hostb ping -6 -M do -s 1440 -c 3 -i 0.3 -W 2 $A6 2>&1; ip -n hostb -6 route get $A6")
	echo "$out" | sed 's/^/  /'
	echo "$out" | grep -q "mtu $MTU6IN6" || soft "hostB did not learn mtu $MTU6IN6 from the kernel (the expected value is wrong?)"
	G_QUIET=1 g "ip -n hostb -6 route flush cache"
	tcp6_b_to_a pmtu6-ba "$A6" 2 5002 || soft "TCP 2 MiB hostB -> hostA across the path MTU discovery"
	i6_finish pmtu6 "$ALLOWED"
}

# ---- driver -------------------------------------------------------------------------
i6_scenario_end() {
	local p
	for p in $IO_PIDS; do
		t_kill_pid "$p"
	done
	IO_PIDS=""
	io_gw_stop >/dev/null
}

# a fresh start for hostA: no path MTU or neighbour learnt before
i6_hosta_fresh() {
	ip -n "$NS_A" route flush cache 2>/dev/null
	ip -n "$NS_A" -6 route flush cache 2>/dev/null
	ip -n "$NS_A" neigh flush dev eth0 2>/dev/null
	ip -n "$NS_A" -6 neigh flush dev eth0 2>/dev/null
}

if [ "${IO_SOURCE_ONLY:-0}" = 1 ]; then return 0 2>/dev/null || exit 0; fi
io_require_root
io_init
ct_init
IO_CACHE=${ESPGW_INTEROP6_CACHE:-$IO_CACHE/ipv6}
IO_INITRD_FLAVOR=ipv6
trap 'io_cleanup' EXIT
trap 'echo "interrupted"; exit 130' INT TERM
[ -x "$IO_ESPGW" ] || io_die "no espgw binary at $IO_ESPGW (build it: ninja -C build)"
[ -x "$CT_ESPGWCTL" ] || io_die "no espgwctl binary at $CT_ESPGWCTL (build it: ninja -C build)"
T_START=$(date +%s.%N)
io_deps
io_prepare_kernel
io_prepare_initrd
io_setup_topology
i6_hosta_base || io_die "cannot give hostA its IPv6 address"
DATA=$IO_W/data
head -c $((I6_MB * 1024 * 1024)) /dev/urandom >"$DATA"
io_log "espgw $IO_ESPGW, --poll-idle-us $IO_POLL_IDLE_US, logs in $IO_W"
io_run_scenarios i6_guest_up i6_hosta_fresh i6_scenario_end
