# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers of tests/natt/run.sh: ESP in UDP (RFC 3948) between espgw and
# the Linux kernel peer through a real NAT. Sourced after
# tests/interop/lib.sh (topology, guest, espgw's start and stop) and
# tests/control/lib.sh (espgwctl, the guest's hostb, counters, traffic).
# Nothing runs on sourcing.
#
# A router namespace (ei<pid>-nat) with nftables masquerade sits between
# espgw's outside port and the guest. In r1, brwan is espgw's own
# segment in both arrangements, brk the kernel's; the router's two ports
# (in, out) join one bridge each:
#
#   (a) gw-behind: espgw behind the NAT
#       espgw eth0 192.0.2.1 ── brwan ── in 192.0.2.254 [NAT] out 203.0.113.254 ── brk ── guest eth0 203.0.113.2
#   (b) kernel-behind: the kernel behind the NAT
#       espgw eth0 203.0.113.1 ── brwan ── out 203.0.113.254 [NAT] in 198.51.100.254 ── brk ── guest eth0 198.51.100.2
#
# 203.0.113.0/24 is the "internet"; 192.0.2.0/24 and 198.51.100.0/24 the
# private networks behind the NAT; hostA 10.0.1.10 behind espgw, hostB
# 10.0.2.10 behind the kernel, as in tests/control.
#
#   nt_init                  names, addresses, the guest program's build
#   nt_deps                  nftables, conntrack, gcc, scapy (Debian packages)
#   nt_setup_topology        the router namespace and brk (after io_setup_topology)
#   nt_arrange a|b           bridges, addresses, masquerade, conntrack flushed
#   nt_nat CMD...            run CMD in the router namespace
#   nt_cap_start / nt_cap_stop / nt_udp  tcpdump in the router, its UDP datagrams
#   nt_ka_check CAP T SRC DST MIN INTERVAL  keepalives captured, their intervals
#   nt_rebind / nt_mapped_port   the NAT's mappings changed; the kernel's port now
#   nt_scripts a|b S12 K12 S21 K21   both sites' scripts for an arrangement
#   nt_hold_start [ARGS]     natt-hold in the guest (UDP_ENCAP on port 4500)

nt_init() {
	NT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	NS_NAT="$IO_TAG-nat"
	NAT_PUB=203.0.113.254
	NAT_PUB2=203.0.113.253 # rebind-addr's
	NT_HOLD=$IO_W/natt-hold
}

# command -> Debian package, installed when missing (as io_deps); scapy
# makes the ESP that tests the kernel's half before espgw has NAT-T
nt_deps() {
	local missing="" pair
	for pair in nft:nftables conntrack:conntrack gcc:gcc; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] ||
			missing="$missing ${pair#*:}"
	done
	[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing="$missing libc6-dev"
	"$IO_PY" -c 'import scapy.layers.ipsec' 2>/dev/null || missing="$missing python3-scapy python3-cryptography"
	[ -z "$missing" ] && return 0
	io_log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >"$IO_W/apt-update.log" 2>&1 ||
		{ cat "$IO_W/apt-update.log" >&2; io_die "apt-get update failed"; }
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >"$IO_W/apt-natt.log" 2>&1 ||
		{ tail -20 "$IO_W/apt-natt.log" >&2; io_die "apt-get install$missing failed"; }
	hash -r
}

# The guest's UDP_ENCAP socket holder, static (the initramfs has glibc's
# shared objects only for ip, ping and nc); into the initramfs through
# tests/interop's hook.
nt_build_hold() {
	gcc -static -O2 -Wall -Wextra -Werror -o "$NT_HOLD" "$NT_DIR/natt-hold.c" ||
		io_die "cannot build natt-hold"
	file_is_static "$NT_HOLD" || io_die "natt-hold is not static"
	# shellcheck disable=SC2034 # read by io_prepare_initrd
	IO_INITRD_EXTRA=$NT_HOLD IO_INITRD_FLAVOR=natt
}

nt_nat() { # cmd...
	ip netns exec "$NS_NAT" "$@"
}

# The router namespace, its ports' other ends in r1, and the kernel's
# own segment brk (qtap0 leaves brwan for it)
nt_setup_topology() {
	ip netns add "$NS_NAT" || io_die "ip netns add $NS_NAT failed"
	IO_NS_CREATED="$IO_NS_CREATED $NS_NAT"
	ip -n "$NS_NAT" link set lo up
	nt_nat sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	nt_nat sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	nt_nat sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_R1" link add brk type bridge stp_state 0 forward_delay 0 ||
		io_die "bridge brk failed"
	ip -n "$NS_R1" link set brk type bridge nf_call_iptables 0 nf_call_arptables 0 2>/dev/null || true
	ip -n "$NS_R1" link set brk up
	ip -n "$NS_R1" link set qtap0 master brk up || io_die "qtap0 into brk failed"
	ip -n "$NS_NAT" link add in type veth peer name ntin netns "$NS_R1" &&
		ip -n "$NS_NAT" link add out type veth peer name ntout netns "$NS_R1" ||
		io_die "veth r1<->nat failed"
	for p in in out; do
		ip -n "$NS_NAT" link set "$p" up
		nt_nat ethtool -K "$p" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
		ip -n "$NS_R1" link set "nt$p" up
		io_in "$NS_R1" ethtool -K "nt$p" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
	done
}

# The masquerade of a home router: what leaves by "out" takes the
# router's outside address; the source port is kept when it is free
# (so 4500 stays 4500), or, for UDP, taken from RANGE when one is given.
nt_masquerade() { # [udp port range]
	nt_nat nft -f - <<EOF
flush ruleset
table ip natt {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
${1:+		oifname "out" meta l4proto udp masquerade to :$1
}		oifname "out" masquerade
	}
}
EOF
}

# One arrangement: the router's ports on their bridges, its addresses,
# its routes to the LANs behind the gateways (plain traffic only),
# the masquerade, an empty conntrack table. Sets the addresses both
# sites' scripts use: GW_WAN (espgw's own), K_WAN (the kernel's own),
# GW_SEEN / K_SEEN (each as the other sees it, through the NAT), and
# GW_NH / K_NH (each one's next hop to the other).
nt_arrange() { # a|b
	local in_br out_br in_ip
	NT_ARR=$1
	if [ "$1" = a ]; then
		in_br=brwan out_br=brk in_ip=192.0.2.254
		GW_WAN=192.0.2.1 GW_SEEN=$NAT_PUB GW_NH=$in_ip
		K_WAN=203.0.113.2 K_SEEN=203.0.113.2 K_NH=$NAT_PUB
	else
		in_br=brk out_br=brwan in_ip=198.51.100.254
		GW_WAN=203.0.113.1 GW_SEEN=203.0.113.1 GW_NH=$NAT_PUB
		K_WAN=198.51.100.2 K_SEEN=$NAT_PUB K_NH=$in_ip
	fi
	ip -n "$NS_R1" link set ntin master "$in_br" &&
		ip -n "$NS_R1" link set ntout master "$out_br" || return 1
	ip -n "$NS_NAT" addr flush dev in
	ip -n "$NS_NAT" addr flush dev out
	ip -n "$NS_NAT" neigh flush all 2>/dev/null
	ip -n "$NS_NAT" addr add "$in_ip/24" dev in &&
		ip -n "$NS_NAT" addr add "$NAT_PUB/24" dev out || return 1
	if [ "$1" = a ]; then
		ip -n "$NS_NAT" route add 10.0.1.0/24 via "$GW_WAN" dev in
	else
		# hostA's LAN on the "internet" side too, for the plain
		# checks to reach a host behind espgw
		ip -n "$NS_NAT" route add 10.0.2.0/24 via "$K_WAN" dev in &&
			ip -n "$NS_NAT" route add 10.0.1.0/24 via "$GW_WAN" dev out
	fi || return 1
	nt_masquerade || return 1
	nt_nat conntrack -F >/dev/null 2>&1
	echo "# arrangement $1: $(nt_describe)"
	nt_nat nft list ruleset | sed 's/^/  nat| /'
}

nt_describe() {
	if [ "$NT_ARR" = a ]; then
		echo "espgw $GW_WAN behind the NAT (in 192.0.2.254, out $NAT_PUB), kernel $K_WAN outside"
	else
		echo "kernel $K_WAN behind the NAT (in 198.51.100.254, out $NAT_PUB), espgw $GW_WAN outside"
	fi
}

# tcpdump in the router namespace on one of its ports (in, out); a
# bounded wait until it listens. 96 bytes a frame hold the outer
# headers, the UDP header and ESP's SPI and sequence number.
nt_cap_start() { # name port filter
	rm -f "$IO_W/$1.pcap"
	io_bg "$NS_NAT" tcpdump --immediate-mode -U -s 96 -ni "$2" -w "$IO_W/$1.pcap" "$3" 2>"$IO_W/$1.tcpdump.err"
	eval "NT_CAP_${1//[^a-zA-Z0-9_]/_}=$IO_BG_PID"
	for _ in $(seq 1 50); do
		grep -q "listening on" "$IO_W/$1.tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tcpdump on $2 did not start: $(cat "$IO_W/$1.tcpdump.err")"
	return 1
}
nt_cap_stop() { # name
	local pid
	eval "pid=\${NT_CAP_${1//[^a-zA-Z0-9_]/_}:-}"
	[ -n "$pid" ] && io_cap_stop "$pid"
}
# the capture's UDP datagrams, one line each (nattpkt.py pcap)
nt_udp() { # name
	"$IO_PY" "$NT_DIR/nattpkt.py" pcap "$IO_W/$1.pcap"
}
# tcpdump's own reading of the capture, for the log
nt_show() { # name [lines]
	tcpdump -nr "$IO_W/$1.pcap" 2>/dev/null | head -"${2:-6}" | sed "s/^/  $1| /"
}

# The keepalives (one byte, 0xFF) SRC sent DST after time T, in a
# capture still running: wait (bounded) for MIN of them, then check
# that each came INTERVAL seconds after the one before, within half a
# second. Their lines in $IO_W/CAP.ka.
nt_ka_check() { # cap t src dst min interval
	local gaps gap end=$(($(date +%s) + $6 * ($5 + 1) + 5)) # min+1 intervals + 5 s
	while :; do
		nt_udp "$1" | awk -v t="$2" -v s="$3" -v d="$4" \
			'$1 > t && $2 == s && $4 == d && / keepalive$/' >"$IO_W/$1.ka"
		[ "$(wc -l <"$IO_W/$1.ka")" -ge "$5" ] || [ "$(date +%s)" -ge "$end" ] && break
		sleep 0.2
	done
	[ "$(wc -l <"$IO_W/$1.ka")" -ge "$5" ] ||
		{ fail "$(wc -l <"$IO_W/$1.ka") keepalives $3 > $4 in $(($6 * ($5 + 1) + 5)) s, not $5"; return 1; }
	gaps=$(awk 'NR > 1 { printf "%.2f ", $1 - p } { p = $1 }' "$IO_W/$1.ka")
	echo "# keepalives $3 > $4, ${6}s apart expected: gaps $gaps"
	for gap in $gaps; do
		awk -v g="$gap" -v n="$6" 'BEGIN { exit !(g > n - 0.5 && g < n + 0.5) }' ||
			{ fail "keepalives $3 > $4 ${gap}s apart, not ${6}s ($gaps)"; return 1; }
	done
}

# The NAT rebinds: new mappings take ports 40000-40999 (no longer the
# source port), and the old ones are forgotten.
nt_rebind() {
	echo "# the NAT rebinds: masquerade to ports 40000-40999, conntrack flushed"
	nt_masquerade 40000-40999 && nt_nat conntrack -F 2>&1 | sed 's/^/  nat| /'
}

# ... or moves everything to a second public address (the port kept
# where it is free, as snat does), a NAT that changed its uplink.
nt_rebind_addr() {
	echo "# the NAT rebinds: everything out by $NAT_PUB2, conntrack flushed"
	nt_nat ip addr add "$NAT_PUB2/24" dev out 2>/dev/null
	nt_nat nft -f - <<EOF && nt_nat conntrack -F 2>&1 | sed 's/^/  nat| /'
flush ruleset
table ip natt {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "out" snat to $NAT_PUB2
	}
}
EOF
}

# Where the NAT shows the kernel's udp 4500 to espgw now, ADDR:PORT
# (kernel behind the NAT); empty when there is no such mapping.
nt_mapping() {
	nt_nat conntrack -L -p udp -s "$K_WAN" --sport 4500 2>/dev/null |
		sed -n "s/.*src=$GW_WAN dst=\([0-9.]*\) sport=4500 dport=\([0-9]*\).*/\1:\2/p" | head -1
}

# The port at which the NAT shows the kernel's udp 4500 to espgw now
# (kernel behind the NAT); empty when there is no such mapping.
nt_mapped_port() {
	nt_nat conntrack -L -p udp -s "$K_WAN" --sport 4500 2>/dev/null |
		sed -n "s/.*src=$GW_WAN dst=$NAT_PUB sport=4500 dport=\([0-9]*\).*/\1/p" | head -1
}

# ---- the guest ------------------------------------------------------------------

# natt-hold stopped, and its port free again (the guest's function).
# The guest's busybox has killall but no pkill; its init reaps no
# orphans, so a killed natt-hold stays a zombie: the socket's going is
# what counts.
NT_GUEST_FUNCS='nt_hold_stop() {
	killall natt-hold 2>/dev/null
	for i in $(seq 1 50); do grep -q " 00000000:1194 " /proc/net/udp || return 0; sleep 0.1; done
	return 1
}'

# natt-hold on udp 4500 in the guest's root namespace, in the
# background; its output in /tmp/hold.out. Waits until it says it holds
# the socket, and checks /proc/net/udp for it (port 4500 = 0x1194).
nt_hold_start() { # [natt-hold arguments]
	g "$NT_GUEST_FUNCS
nt_hold_stop || exit 1
natt-hold $* > /tmp/hold.out 2>&1 &
for i in \$(seq 1 50); do grep -q holding /tmp/hold.out && break; sleep 0.1; done
cat /tmp/hold.out
grep -q 'holding udp 0.0.0.0:4500 encap espinudp' /tmp/hold.out && grep -q ' 00000000:1194 ' /proc/net/udp ||
	{ ps | grep '[n]att-hold'; cat /proc/net/udp; exit 1; }
grep ' 00000000:1194 ' /proc/net/udp | sed 's/^ */\\/proc\\/net\\/udp: /'"
}

# What the guest's xfrm counted: one counter of /proc/net/xfrm_stat
k_xfrm_stat() { # name
	G_QUIET=1 g "awk '\$1 == \"$1\" { print \$2 }' /proc/net/xfrm_stat"
}

# The guest without what a scenario left: ct_guest_reset, and routes
# that ct_guest_reset does not expect (a default route), natt-hold.
nt_guest_reset() {
	g "$NT_GUEST_FUNCS
nt_hold_stop; killall ping 2>/dev/null; ip route flush table main; true" >/dev/null
	ct_guest_reset
}

# ---- both sites' scripts --------------------------------------------------------------

# The classic manual script of each site, for an arrangement, with ESP
# in UDP on both states (RFC 3948; `encap espinudp SPORT DPORT OA` as
# iproute2 takes it). Each end names the states with the addresses it
# sees: its own address, and the other end's as it arrives through the
# NAT. Across a port-keeping NAT both ports are 4500 on both ends:
#
#   (a) espgw 192.0.2.1 behind the NAT, kernel 203.0.113.2 outside
#       espgw:  src 192.0.2.1 dst 203.0.113.2 ... encap espinudp 4500 4500 0.0.0.0   (out)
#               src 203.0.113.2 dst 192.0.2.1 ... encap espinudp 4500 4500 0.0.0.0   (in)
#       kernel: src 203.0.113.254 dst 203.0.113.2 ... encap espinudp 4500 4500 0.0.0.0 (in)
#               src 203.0.113.2 dst 203.0.113.254 ... encap espinudp 4500 4500 0.0.0.0 (out)
#   (b) kernel 198.51.100.2 behind the NAT, espgw 203.0.113.1 outside
#       espgw:  src 203.0.113.1 dst 203.0.113.254 ... encap espinudp 4500 4500 0.0.0.0 (out)
#               src 203.0.113.254 dst 203.0.113.1 ... encap espinudp 4500 4500 0.0.0.0 (in)
#       kernel: src 203.0.113.1 dst 198.51.100.2 ... encap espinudp 4500 4500 0.0.0.0  (in)
#               src 198.51.100.2 dst 203.0.113.1 ... encap espinudp 4500 4500 0.0.0.0  (out)
#
# The encap ports are, as in xfrm, the port at the state's src, then the
# port at its dst. The OA (original address, for transport mode's
# checksum fix-up) is unused in tunnel mode: 0.0.0.0. The end behind the
# NAT names its own private address; the end outside names the NAT's
# public one for its peer: neither knows the other's real address. An
# IKE daemon learns the peer's address and port from its packets and
# rewrites the states after a NAT rebinding (XFRM_MSG_MAPPING, then
# `ip xfrm state update`); espgw does it itself when told to follow
# mappings. The SPIs, keys and reqids are the same on both ends.
#
#   nt_site_script gw|k SPI12 KEY12 SPI21 KEY21 [EXTRA_OUT [EXTRA_IN]]
# 12: espgw to the kernel. EXTRA_OUT and EXTRA_IN are words appended to
# this end's outbound and inbound state statements.
nt_site_script() {
	local me=$1 s12=$2 k12=$3 s21=$4 k21=$5 xo=${6:-} xi=${7:-}
	local wan peer nh lan_ip here there src12 dst12 rq_out rq_in
	local encap="encap espinudp 4500 4500 0.0.0.0"
	if [ "$me" = gw ]; then
		wan=$GW_WAN peer=$K_SEEN nh=$GW_NH lan_ip=$R1_LAN here=$LAN_A there=$LAN_B
		src12=$GW_WAN dst12=$K_SEEN rq_out=1 rq_in=2
	else
		wan=$K_WAN peer=$GW_SEEN nh=$K_NH lan_ip=$R2_LAN here=$LAN_B there=$LAN_A
		src12=$GW_SEEN dst12=$K_WAN rq_out=2 rq_in=1
	fi
	local x12=$xo x21=$xi
	[ "$me" = gw ] || { x12=$xi; x21=$xo; }
	cat <<EOT
# $me: $(nt_describe)
ip addr add $wan/24 dev eth0
ip addr add $lan_ip/24 dev eth1
ip route add default via $nh dev eth0
ip xfrm state flush
ip xfrm policy flush
ip xfrm state add src $src12 dst $dst12 proto esp spi $s12 reqid 1 mode tunnel replay-window 64 aead $AEAD $k12 128 $encap${x12:+ $x12}
ip xfrm state add src $dst12 dst $src12 proto esp spi $s21 reqid 2 mode tunnel replay-window 64 aead $AEAD $k21 128 $encap${x21:+ $x21}
ip xfrm policy add src $here dst $there dir out tmpl src $wan dst $peer proto esp reqid $rq_out mode tunnel
ip xfrm policy add src $there dst $here dir in tmpl src $peer dst $wan proto esp reqid $rq_in mode tunnel
ip xfrm policy add src $there dst $here dir fwd tmpl src $peer dst $wan proto esp reqid $rq_in mode tunnel
ip route add $there via $nh dev eth0 src $lan_ip
EOT
}

# Only the addresses and the default route of a site's script: the
# plain set-up that the NAT checks use before any state exists.
nt_site_plain() { # gw|k
	nt_site_script "$1" 0x1 0x0 0x2 0x0 | grep -E '^ip (addr|route) add [0-9d]' | grep -v ' src '
}
