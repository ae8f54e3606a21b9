#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# espgw demo: two gateways with an ESP tunnel between them and a host behind
# each, all in network namespaces made for the run and removed after it:
#
#   hostA 10.0.1.10 ── R1 (espgw) ══ ESP over 192.0.2.0/24 ══ R2 (espgw) ── hostB 10.0.2.10
#
# Prints the xfrm lines of both gateways' configurations (config/r1.conf
# and r2.conf with documentation addresses and fresh keys, and IPv6
# inside the same tunnel: 2001:db8:a::/64 behind R1, 2001:db8:b::/64
# behind R2, 6in4 on states with flag af-unspec as Linux needs them),
# pings hostB from hostA through the tunnel over IPv4 and IPv6, shows
# what the outside link carried, then stops the gateways and prints
# their counters.
#
# Usage: scripts/demo.sh   (as root; on a fresh Debian 12 it installs what
# it needs and builds espgw when build/app/espgw is missing)
# Environment: ESPGW (binary), EG_POLL_IDLE_US (default 20).
set -u

if [ "$(id -u)" -ne 0 ]; then
	echo "error: $0 must run as root: it creates network namespaces and" \
		"veth pairs, and espgw opens raw (af_packet) sockets." >&2
	echo "       Run it as root, e.g.: sudo $0" >&2
	exit 1
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=tests/netns/lib.sh
. "$root/tests/netns/lib.sh"

step() { printf '\n== %s\n' "$*"; }

eg_install_deps
if [ -z "${ESPGW:-}" ] && [ ! -x "$root/build/app/espgw" ]; then
	step "building espgw (build/app/espgw is missing)"
	"$root/scripts/install-deps.sh" build || eg_die "installing the build dependencies failed"
	if [ ! -f "$root/build/build.ninja" ]; then
		(cd "$root" && meson setup build) || eg_die "meson setup failed"
	fi
	ninja -C "$root/build" || eg_die "the build failed"
fi

eg_init
trap 'eg_cleanup' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

cat <<EOF
espgw demo: two DPDK IPsec gateways, one ESP tunnel, two hosts (namespaces $EG_TAG-*)

  hostA 10.0.1.10 ── [R1 espgw] 192.0.2.1 ══ ESP ══ 192.0.2.2 [R2 espgw] ── hostB 10.0.2.10
     (gw 10.0.1.1)    LAN 10.0.1.1                     LAN 10.0.2.1    (gw 10.0.2.1)
EOF

eg_setup_topology
eg_make_configs
# IPv6 inside the IPv4 tunnel (6in4): the hosts' addresses, the gateways'
# LAN addresses and policies; the same SAs carry both families
for r in r1 r2; do
	if [ $r = r1 ]; then here=a there=b; else here=b there=a; fi
	sed -i -E '/^ip xfrm state add/s/ 128$/ 128 flag af-unspec/' "$EG_TMP/$r.conf"
	out=$(grep -m1 -E "^ip xfrm policy add .* dir out " "$EG_TMP/$r.conf" | sed -E 's/.*(tmpl .*)/\1/')
	back=$(grep -m1 -E "^ip xfrm policy add .* dir in " "$EG_TMP/$r.conf" | sed -E 's/.*(tmpl .*)/\1/')
	cat >>"$EG_TMP/$r.conf" <<EOF
ip -6 addr add 2001:db8:$here::1/64 dev port0
ip xfrm policy add src 2001:db8:$here::/64 dst 2001:db8:$there::/64 dir out $out
ip xfrm policy add src 2001:db8:$there::/64 dst 2001:db8:$here::/64 dir fwd $back
ip xfrm policy add src 2001:db8:$there::/64 dst 2001:db8:$here::/64 dir in $back
EOF
done
for h in a b; do
	if [ $h = a ]; then ns=$NS_A; else ns=$NS_B; fi
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.router_solicitations=0
	ip -n "$ns" -6 addr add "2001:db8:$h::10/64" dev eth0 nodad
	ip -n "$ns" -6 route add default via "2001:db8:$h::1"
done
step "R1's xfrm lines (config/r1.conf with documentation addresses; keys fresh from /dev/urandom)"
eg_show_xfrm "$EG_TMP/r1.conf"
step "R2's xfrm lines (config/r2.conf likewise: the same SAs, seen from the other end)"
eg_show_xfrm "$EG_TMP/r2.conf"

# what arrives on each outside veth (the gateways' own sends bypass the
# qdisc layer, where a capture on the sending side would see them)
for r in r1 r2; do
	eg_bg "$r" "$EG_TCPDUMP" -i wan -n -U -s 96 -Z root -w "$EG_TMP/$r.pcap" \
		>"$EG_TMP/$r.tcpdump.log" 2>&1
done

step "starting R1 and R2: espgw -l 0-1 --no-huge -m 256 --vdev net_af_packet0,iface=lan --vdev net_af_packet1,iface=wan -- -f rN.conf --poll-idle-us $EG_POLL_IDLE_US"
if ! eg_start_gw r1 || ! eg_start_gw r2; then
	eg_die "a gateway did not start"
fi
grep -h "^espgw:" "$EG_TMP/r1.out" | sed 's/^/R1 /'
grep -h "^espgw:" "$EG_TMP/r2.out" | sed 's/^/R2 /'

step "ping hostA (10.0.1.10) -> hostB (10.0.2.10), through the tunnel"
eg_in hosta timeout 20 ping -n -c 5 -i 0.5 -W 2 10.0.2.10
ping_rc=$?

step "ping -6 hostA (2001:db8:a::10) -> hostB (2001:db8:b::10), IPv6 in the same tunnel"
eg_in hosta timeout 20 ping -6 -n -c 5 -i 0.5 -W 2 2001:db8:b::10
ping6_rc=$?
[ "$ping_rc" -ne 0 ] || ping_rc=$ping6_rc

sleep 0.3
step "stopping the gateways (SIGINT); their final counters"
eg_stop_gw r1
eg_stop_gw r2
for r in r1 r2; do
	echo "---- ${r^^}"
	sed -n '/final counters:/,$p' "$EG_TMP/$r.out" | sed 1d
done

step "what the outside link carried (first frames each way)"
for p in $EG_PIDS; do
	t_kill_pid "$p"
done
EG_PIDS=""
for r in r2 r1; do
	if [ "$r" = r2 ]; then echo "R1 -> R2:"; else echo "R2 -> R1:"; fi
	"$EG_TCPDUMP" -r "$EG_TMP/$r.pcap" -n -t 2>/dev/null | head -4 | sed 's/^/  /'
	echo "  ... $("$EG_TCPDUMP" -r "$EG_TMP/$r.pcap" -n 'not (ip proto 50 or arp)' 2>/dev/null | wc -l) frames that were neither ESP nor ARP"
done

if [ "$ping_rc" -ne 0 ]; then
	for r in r1 r2; do eg_gw_tail "$r" 20 >&2; done
fi
step "tearing down the namespaces"
eg_cleanup
if [ "$ping_rc" -eq 0 ]; then
	echo "demo done: hostA reached hostB through the espgw tunnel (IPv4 and IPv6)"
else
	echo "demo FAILED: a ping did not get through (see the counters above)" >&2
fi
exit "$ping_rc"
