#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The gateway's own IPv6 against Linux's: hostA (a Linux kernel in a
# namespace, IPv6 on) pings R1 (espgw) at its IPv6 address,
#
#   hostA 2001:db8:1::10 ── lan [ R1 espgw 2001:db8:1::1/64 ]
#
# (topology: tests/netns/lib.sh; only hostA and R1 are used). Checks:
# (a) with a static entry for R1 on hostA, hostA never solicits: R1 must
# resolve hostA itself (neighbour solicitation, hostA's ndisc answers)
# before its echo replies go; (b) without it, hostA resolves R1 (espgw's
# advertisement) and R1 learns hostA from the solicitation; (c) hostA's
# neighbour cache holds R1's MAC; (d) R1's counters: the echo replies,
# its solicitations and advertisements, and every packet accounted for.
#
# Usage (root): tests/netns/ipv6.sh   Prints "ok - <name>" or
# "not ok - <name>: <why>" lines, then "N passed, M failed"; exits 0 iff
# all passed. About 5 s. Environment as tests/netns/e2e.sh.
set -u

# shellcheck source=tests/netns/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

eg_require_root
eg_install_deps
eg_init
trap 'eg_cleanup' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1: $2"; FAIL=$((FAIL + 1)); }

eg_setup_topology
eg_make_configs
# IPv6 on hostA's link only, without the chatter that is not the test's:
# no address detection (nodad), no router solicitations
eg_in hosta sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
eg_in hosta sysctl -qw net.ipv6.conf.eth0.router_solicitations=0
eg_in hosta sysctl -qw net.ipv6.conf.eth0.accept_ra=0
eg_in hosta ip -6 addr add 2001:db8:1::10/64 dev eth0 nodad
cat >>"$EG_TMP/r1.conf" <<EOT
ip -6 addr add 2001:db8:1::1/64 dev port0
EOT

if ! eg_start_gw r1; then
	not_ok "R1 starts" "see the output above"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
ok "R1 starts with an IPv6 address"
r1_mac=$(eg_in r1 cat /sys/class/net/lan/address)

ping6() { # name
	local out
	out=$(eg_in hosta timeout 15 ping -6 -n -c 5 -i 0.2 -W 2 2001:db8:1::1 2>&1)
	if echo "$out" | grep -q "5 packets transmitted, 5 received"; then
		ok "$1"
	else
		not_ok "$1" "$(echo "$out" | grep -E 'transmitted|unreachable|error' | head -3 | tr '\n' ' ')"
	fi
}

# (a) hostA knows R1 statically: only R1 solicits
eg_in hosta ip -6 neigh replace 2001:db8:1::1 lladdr "$r1_mac" dev eth0 nud permanent
ping6 "ping -6 R1, R1 resolving hostA (hostA has a static entry for R1)"
# (b) hostA resolves R1
eg_in hosta ip -6 neigh del 2001:db8:1::1 dev eth0
eg_in hosta ip -6 neigh flush dev eth0
ping6 "ping -6 R1, hostA resolving R1 by neighbour discovery"
# (c) what hostA learned
n=$(eg_in hosta ip -6 neigh show 2001:db8:1::1 dev eth0)
if echo "$n" | grep -q "lladdr $r1_mac" && ! echo "$n" | grep -q PERMANENT; then
	ok "hostA learned R1's MAC ($n)"
else
	not_ok "hostA learned R1's MAC" "ip -6 neigh: $n"
fi

eg_stop_gw r1
f="$EG_TMP/r1.stats"
st() { eg_stat "$f" "$1"; }
why=""
[ "$EG_GW_RC" = 0 ] || why="$why R1 exited $EG_GW_RC;"
[ "$(st gw.icmpv6-echo-replied)" = 10 ] || why="$why icmpv6-echo-replied $(st gw.icmpv6-echo-replied), want 10;"
[ "$(st gw.nd-solicited)" -ge 1 ] || why="$why no solicitation from R1;"
[ "$(st gw.nd-advertised)" -ge 1 ] || why="$why no advertisement from R1;"
[ "$(st gw.nd-learned)" -ge 1 ] || why="$why nothing learned;"
[ "$(st gw.drop-nd-unresolved)" = 0 ] || why="$why drop-nd-unresolved $(st gw.drop-nd-unresolved);"
[ "$(st gw.drop-bad-icmpv6)" = 0 ] || why="$why drop-bad-icmpv6 $(st gw.drop-bad-icmpv6);"
if ! bal=$(t_balance "$EG_ESPGW" "$f"); then
	why="$why not accounted for: $bal;"
fi
echo "# R1: $(awk '$1 ~ /^gw\.(rx|tx|nd-|icmpv6|drop-local|drop-ipv6)/ && $2 != 0 { printf "%s %s, ", substr($1, 4), $2 }' "$f")"
if [ -z "$why" ]; then
	ok "R1's counters: 10 echo replies, solicitations, advertisements, every packet accounted for"
else
	not_ok "R1's counters" "$why"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
