#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# espgw starts, prints its counters on SIGUSR1, and stops cleanly (SIGINT
# -> exit 0, final counters)
# on each virtual driver it is meant for. Traffic is tested elsewhere
# (tests/pcap, tests/netns); this is about the drivers' set-up paths.
# Usage: drivers.sh <espgw> <config dir>
set -u
espgw=$1
confdir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

try() { # name, then EAL --vdev arguments
	name=$1
	shift
	# emptied here, not by the background job's redirection, which may
	# come after the wait below has read the last run's "running"
	: > "$tmp/out"
	"$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "drv$$" \
		--log-level='lib.*:error' "$@" -- -f "$confdir/r1.conf" \
		--poll-idle-us 100 >> "$tmp/out" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q "running" "$tmp/out"; do
		sleep 0.1
		i=$((i + 1))
	done
	# SIGUSR1: the counters, and it keeps running
	kill -USR1 $pid 2>/dev/null
	i=0
	while [ $i -lt 50 ] && ! grep -q "^states:" "$tmp/out"; do
		sleep 0.1
		i=$((i + 1))
	done
	usr1=$(grep -c "^states:" "$tmp/out")
	kill -INT $pid 2>/dev/null
	wait $pid
	rc=$?
	if [ $rc -eq 0 ] && [ "$usr1" -ge 1 ] && grep -q "running" "$tmp/out" &&
		grep -q "final counters" "$tmp/out" &&
		[ "$(grep -c "^states:" "$tmp/out")" -eq $((usr1 + 1)) ]; then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		echo "not ok - $name (exit $rc)"
		sed 's/^/#   /' "$tmp/out" | tail -20
		fail=$((fail + 1))
	fi
}

: > "$tmp/empty.pcap"
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\001\000\000\000' > "$tmp/empty.pcap"
try net_pcap --vdev "net_pcap0,rx_pcap=$tmp/empty.pcap,tx_pcap=$tmp/o0.pcap" \
	--vdev "net_pcap1,rx_pcap=$tmp/empty.pcap,tx_pcap=$tmp/o1.pcap"
try net_ring --vdev net_ring0 --vdev net_ring1
try net_null --vdev net_null0 --vdev net_null1
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	try net_tap --vdev net_tap0,iface=egtap0$$ --vdev net_tap1,iface=egtap1$$
else
	echo "not ok - net_tap needs root and /dev/net/tun"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
