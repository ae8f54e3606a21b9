# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers of tests/control/run.sh: espgw's live control plane, driven by
# espgwctl, against the Linux kernel peer of tests/interop (whose lib.sh
# is sourced first: topology, guest, espgw's start and stop). Sourced by
# bash; nothing runs on sourcing.
#
# Both gateways have the same port names, so that each site's classic
# set-up script reads as it would on a Linux router: eth0 faces the
# outside (espgw's net_tap1, the guest's virtio NIC), eth1 the site's LAN
# (espgw's net_tap0, the guest's veth to the hostb namespace).
#
#   ct_init                   espgwctl's path, addresses, names
#   ct_gw_start TAG           espgw on a file of port lines only
#   ctl ARGS...               espgwctl against that espgw
#   ct_guest_base             the guest's hostb, ports, forwarding
#   ct_guest_reset            the guest back to ct_guest_base's state
#   site_script SITE ...      the classic manual set-up script of a site
#   gw_states / k_states F    both ends' `ip -s xfrm state`, a line an SA
#   ct_ping_start / ct_ping_stop / ct_ping_gaps   a ping in the background
#   ct_tcp_start / ct_stream_start / ct_tcp_check  TCP hostA -> hostB

ct_init() {
	CT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	CT_ESPGWCTL=${ESPGWCTL:-$(dirname "$IO_ESPGW")/espgwctl/espgwctl}
	R1_WAN=192.0.2.1
	R2_WAN=192.0.2.2
	LAN_A=10.0.1.0/24
	LAN_B=10.0.2.0/24
	R1_LAN=10.0.1.1
	R2_LAN=10.0.2.1
	# shellcheck disable=SC2034 # used by run.sh
	HOSTA=10.0.1.10
	HOSTB=10.0.2.10
	AEAD="'rfc4106(gcm(aes))'"
}

CT_WHY=""
fail() { # reason
	CT_WHY="$*"
	echo "$CT_WHY" >"$IO_W/why"
	echo "FAIL: $CT_WHY"
	return 1
}

rkey() { # AES key bits -> 0x<key><4-byte salt>
	echo "0x$(od -An -tx1 -N$(($1 / 8 + 4)) /dev/urandom | tr -d ' \n')"
}

# ---- espgw ------------------------------------------------------------------

# espgw (R1) with nothing but its ports in its file: every address,
# route, state and policy comes later, over the control socket.
ct_gw_start() { # tag
	{
		echo "# R1: espgw's ports only; the rest comes from espgwctl"
		echo "ip link set dev net_tap1 up name eth0"
		echo "ip link set dev net_tap0 up name eth1"
	} >"$IO_W/$1.conf"
	io_gw_start "$IO_W/$1.conf" "$1"
}

ctl() { # espgwctl arguments...
	"$CT_ESPGWCTL" --file-prefix "$IO_TAG" "$@"
}

# ---- the guest (Linux R2) ---------------------------------------------------

# hostb behind the guest's eth1, forwarding on. No address on the
# gateway's own ports: the site script gives them.
ct_guest_base() {
	g "ip link set eth0 up
ip netns add hostb
ip link add eth1 type veth peer name eth0 netns hostb
ip link set eth1 up
ip -n hostb link set lo up
ip -n hostb link set eth0 up
ip -n hostb addr add $HOSTB/24 dev eth0
ip -n hostb route add default via $R2_LAN
sysctl -qw net.ipv4.ip_forward=1"
}

# What a scenario left in the guest, undone: states, policies, the site
# script's addresses (and so its route), learnt neighbours and PMTUs.
ct_guest_reset() {
	g "pkill nc 2>/dev/null; pkill ping 2>/dev/null
ip xfrm policy flush
ip xfrm state flush
ip addr flush dev eth0
ip addr flush dev eth1
ip route flush $LAN_A 2>/dev/null
ip neigh flush dev eth0
ip route flush cache
ip -n hostb route flush cache
ip -n hostb neigh flush dev eth0
ip addr show dev eth0 | grep -q inet && exit 1
ip route show | grep -q . && exit 1
ip xfrm state | grep -q . && exit 1
true"
}

# ---- the classic manual site-to-site script -----------------------------------

# The script an administrator types on each site's router: addresses,
# then the states and policies flushed and added, then the route to the
# other site. The two state lines are the same on both sites; the
# policies are mirrored. Written for `ip`; espgw's copy differs in that
# word only.
#   site_script a|b SPI12 KEY12 SPI21 KEY21   (12: site a to site b)
site_script() {
	local me=$1 s12=$2 k12=$3 s21=$4 k21=$5 wan lan_ip here there peer
	if [ "$me" = a ]; then
		wan=$R1_WAN lan_ip=$R1_LAN here=$LAN_A there=$LAN_B peer=$R2_WAN
	else
		wan=$R2_WAN lan_ip=$R2_LAN here=$LAN_B there=$LAN_A peer=$R1_WAN
	fi
	# the reqid of what this site sends and of what it receives
	local rq_out=1 rq_in=2
	[ "$me" = a ] || { rq_out=2; rq_in=1; }
	cat <<EOT
# site $me: the classic manual IPsec site-to-site set-up ($here <-> $there)
ip addr add $wan/24 dev eth0
ip addr add $lan_ip/24 dev eth1
ip xfrm state flush
ip xfrm policy flush
ip xfrm state add src $R1_WAN dst $R2_WAN proto esp spi $s12 reqid 1 mode tunnel replay-window 64 aead $AEAD $k12 128
ip xfrm state add src $R2_WAN dst $R1_WAN proto esp spi $s21 reqid 2 mode tunnel replay-window 64 aead $AEAD $k21 128
ip xfrm policy add src $here dst $there dir out tmpl src $wan dst $peer proto esp reqid $rq_out mode tunnel
ip xfrm policy add src $there dst $here dir in tmpl src $peer dst $wan proto esp reqid $rq_in mode tunnel
ip xfrm policy add src $there dst $here dir fwd tmpl src $peer dst $wan proto esp reqid $rq_in mode tunnel
ip route add $there via $peer dev eth0 src $lan_ip
EOT
}

# Run site a's script on espgw with `ip` replaced by `espgwctl
# --file-prefix P` and nothing else changed; its output (stdout and
# stderr, as a terminal shows them) to OUT.
run_site_a() { # script out
	sed "s|^ip |espgwctl --file-prefix $IO_TAG |" "$1" >"$1.espgw"
	echo "# site a's script for espgw: the same text but for the command word"
	diff "$1" "$1.espgw" | grep '^>' | head -2 | sed 's/^> /#   /'
	echo "# ..."
	PATH=$(dirname "$CT_ESPGWCTL"):$PATH sh "$1.espgw" >"$2" 2>&1
	sed 's/^/  espgw| /' "$2"
}

# Run site b's script in the guest with the real ip; output to OUT.
run_site_b() { # script out
	{
		echo "cat > /tmp/site-b.sh <<'EOSCRIPT'"
		cat "$1"
		echo "EOSCRIPT"
	} >"$1.g"
	G_QUIET=1 g "$(cat "$1.g")" || return 1
	echo "guest# . /tmp/site-b.sh   (site b's script, run by the guest's shell)"
	sed 's/^/guest# | /' "$1"
	G_QUIET=1 g ". /tmp/site-b.sh" >"$2" 2>&1
	sed 's/^/  kernel| /' "$2"
}

# The errors a run printed, without espgwctl's "FILE:LINE: " (ip
# names no line): what both ends must agree on.
run_errors() { # out
	sed -E 's/^espgwctl:[0-9]+: //' "$1"
}

# ---- counters -----------------------------------------------------------------

# `ip -s xfrm state` (the kernel's, or espgwctl's, which prints the same
# layout) reduced to one line an SA: <spi> <src> <dst> <packets> <bytes>
xs_parse() {
	awk '
		/^src / { src = $2; dst = $4 }
		/proto esp spi/ { spi = $4; sub(/\(.*/, "", spi) }
		/lifetime current:/ { getline; gsub(/[(),a-z]/, " "); print spi, src, dst, $2, $1 }
	'
}
gw_states() { # file
	ctl -s xfrm state >"$1.raw" || return 1
	xs_parse <"$1.raw" >"$1"
}
k_states() { # file
	G_TIMEOUT=30 G_QUIET=1 g "ip -s xfrm state" >"$1.raw" || return 1
	xs_parse <"$1.raw" >"$1"
}
# packets (or bytes: field 5) of the SA (spi, dst) in a gw_states or
# k_states file; -1 when it is not there
sa_count() { # file spi dst [field]
	awk -v s="$2" -v d="$3" -v f="${4:-4}" '$1 == s && $3 == d { print $f; n++ } END { if (!n) print -1 }' "$1"
}

# ---- traffic ------------------------------------------------------------------

ping_a() { # dst count
	echo "hostA\$ ping -c $2 -i 0.2 -w 15 $1"
	io_in "$NS_A" ping -c "$2" -i 0.2 -w 15 "$1" | tail -2
	return "${PIPESTATUS[0]}"
}
ping_b() { # dst count (from hostB, in the guest)
	G_TIMEOUT=30 g "set -o pipefail; ip netns exec hostb ping -c $2 -i 0.2 -w 15 $1 | tail -2"
}

# A ping from hostA in the background, one line a reply.
ct_ping_start() { # tag interval dst
	echo "hostA\$ ping -i $2 $3 > $1.ping &"
	io_bg "$NS_A" ping -i "$2" "$3" >"$IO_W/$1.ping" 2>&1
	CT_PING_PID=$IO_BG_PID
}
# Stop it (SIGINT: ping prints its summary) and print the summary.
ct_ping_stop() { # tag
	kill -INT "$CT_PING_PID" 2>/dev/null
	io_wait_pid "$CT_PING_PID" 10
	grep -E 'transmitted|rtt' "$IO_W/$1.ping"
}
# The sequence numbers without a reply, up to the last one answered
# (what was still in flight when ping stopped is not lost)
ct_ping_gaps() { # tag
	sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$IO_W/$1.ping" | sort -n | awk '
		{ while (want < $1) { printf "%d ", want; want++ } if ($1 == want) want++ }
		BEGIN { want = 1 }'
}
# the number of replies and the last sequence number answered
ct_ping_replies() { # tag
	sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$IO_W/$1.ping" | sort -n |
		awk '{ n++; last = $1 } END { print n + 0, last + 0 }'
}

# TCP hostA -> hostB through the tunnel, in the background: the guest's
# nc listens; xfer.py sends FILE (at RATE bytes/s), or stream.py sends
# random bytes at RATE until ct_stream_stop. ct_tcp_check waits for both
# ends and compares the checksums.
ct_nc_listen() { # port
	G_QUIET=1 g "rm -f /tmp/rx.bin; /usr/sbin/ip netns exec hostb /usr/sbin/nc -l $1 > /tmp/rx.bin 2>/tmp/nc.err & echo \$! > /tmp/nc.pid" || return 1
	echo "guest# ip netns exec hostb nc -l $1 > /tmp/rx.bin &"
}
ct_tcp_start() { # tag file port [rate]
	ct_nc_listen "$3" || return 1
	echo "hostA\$ xfer.py tcp-send $HOSTB $3 $(basename "$2") ${4:+--rate $4} &"
	io_bg "$NS_A" "$IO_PY" "$IO_DIR/xfer.py" tcp-send "$HOSTB" "$3" "$2" -t 400 ${4:+--rate "$4"} >"$IO_W/$1.tx"
	CT_TCP_PID=$IO_BG_PID
}
ct_stream_start() { # tag port rate
	ct_nc_listen "$2" || return 1
	rm -f "$IO_W/$1.stop"
	echo "hostA\$ stream.py $HOSTB $2 --rate $3 --until $1.stop &"
	io_bg "$NS_A" "$IO_PY" "$CT_DIR/stream.py" "$HOSTB" "$2" --rate "$3" --until "$IO_W/$1.stop" -t 500 >"$IO_W/$1.tx"
	CT_TCP_PID=$IO_BG_PID
}
ct_stream_stop() { # tag
	touch "$IO_W/$1.stop"
}
ct_tcp_check() { # tag seconds
	local sent got
	io_wait_pid "$CT_TCP_PID" "$2" || {
		echo "  the sender did not finish (status $IO_WAIT_RC): $(cat "$IO_W/$1.tx")"
		return 1
	}
	sent=$(grep '^sent' "$IO_W/$1.tx")
	G_TIMEOUT=60 G_QUIET=1 g "for i in \$(seq 1 100); do kill -0 \$(cat /tmp/nc.pid) 2>/dev/null || break; sleep 0.2; done
echo received \$(wc -c < /tmp/rx.bin) sha256 \$(sha256sum /tmp/rx.bin | cut -d' ' -f1)" >"$IO_W/$1.rx"
	got=$(grep '^received' "$IO_W/$1.rx")
	echo "  hostA $sent"
	echo "  hostB $got"
	[ -n "$sent" ] && [ "${sent#sent }" = "${got#received }" ]
}
