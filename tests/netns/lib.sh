# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034  # sets variables for its callers
# Shared set-up for the network-namespace tests (tests/netns/e2e.sh) and the
# demo (scripts/demo.sh): two espgw gateways joined by an "outside" link,
# each with one host behind it. Sourced by bash; nothing runs on sourcing.
#
#   hostA 10.0.1.10 ── lan [ R1 espgw ] wan ══ ESP ══ wan [ R2 espgw ] lan ── hostB 10.0.2.10
#   gw 10.0.1.1        LAN 10.0.1.1   192.0.2.1/24   192.0.2.2/24   LAN 10.0.2.1   gw 10.0.2.1
#
# The public side uses documentation addresses (RFC 5737) only. In r1 and
# r2 the veth ends carry no kernel address: espgw owns them through the
# af_packet PMD. Everything lives in namespaces named eg-<pid>-*, so runs
# in parallel do not clash, and eg_cleanup removes all of it.
#
# Caller's interface:
#   eg_require_root; eg_install_deps
#   eg_init               set EG_ROOT, EG_ESPGW, EG_TMP, EG_PY, names
#   eg_setup_topology     namespaces, veths, host addresses, offloads
#   eg_make_configs       $EG_TMP/r1.conf, r2.conf: config/r[12].conf with
#                         documentation addresses and fresh keys
#   eg_start_gw r1|r2     start one gateway, wait until it runs
#   eg_stop_gw r1|r2      SIGINT, wait, write its --stats-file
#   eg_cleanup            kill what was started, delete the namespaces
#   eg_in <ns> cmd...     run in a namespace (hosta, r1, r2, hostb)
# Knobs (environment): ESPGW (binary), EG_POLL_IDLE_US (default 20),
#   EG_KEEP_TMP=1 (keep the temporary directory).

# t_kill_pid
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

EG_PIDS=""          # every background process we started (not the gateways)
EG_GW_PIDS=""       # gateways, as "name:pid" words
EG_NS_CREATED=""    # namespaces to delete

eg_log() { printf '# %s\n' "$*"; }
eg_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

eg_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: $0 needs root (network namespaces, veth pairs," \
			"raw sockets for DPDK's af_packet driver); run it as root," \
			"e.g. sudo $0" >&2
		exit 1
	fi
}

# Debian packages for the tools the tests use, installed only when missing.
eg_install_deps() {
	local missing=""
	command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
	command -v ethtool >/dev/null 2>&1 || [ -x /usr/sbin/ethtool ] ||
		[ -x /sbin/ethtool ] || missing="$missing ethtool"
	command -v tcpdump >/dev/null 2>&1 || [ -x /usr/bin/tcpdump ] ||
		[ -x /usr/sbin/tcpdump ] || missing="$missing tcpdump"
	command -v python3 >/dev/null 2>&1 || missing="$missing python3"
	command -v ping >/dev/null 2>&1 || missing="$missing iputils-ping"
	command -v timeout >/dev/null 2>&1 || missing="$missing coreutils"
	command -v sysctl >/dev/null 2>&1 || [ -x /usr/sbin/sysctl ] ||
		[ -x /sbin/sysctl ] || missing="$missing procps"
	[ -z "$missing" ] && return 0
	eg_log "installing:$missing"
	command -v apt-get >/dev/null 2>&1 ||
		eg_die "missing:$missing (and no apt-get to install them)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || eg_die "apt-get update failed"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		eg_die "apt-get install$missing failed"
	hash -r
}

eg_init() {
	EG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	EG_ESPGW=${ESPGW:-$EG_ROOT/build/app/espgw}
	[ -x "$EG_ESPGW" ] || eg_die "no espgw binary at $EG_ESPGW (build it: ninja -C build)"
	EG_POLL_IDLE_US=${EG_POLL_IDLE_US:-20}
	EG_AFP_ARGS=${EG_AFP_ARGS-,framecnt=4096}
	EG_TAG="eg-$$"
	NS_A="$EG_TAG-hosta"
	NS_R1="$EG_TAG-r1"
	NS_R2="$EG_TAG-r2"
	NS_B="$EG_TAG-hostb"
	EG_TMP=$(mktemp -d "/tmp/espgw-netns.XXXXXX")
	EG_ETHTOOL=$(command -v ethtool || echo /usr/sbin/ethtool)
	EG_TCPDUMP=$(command -v tcpdump || echo /usr/bin/tcpdump)
	# the system interpreter when there is one (a pyenv shim starts slowly)
	if [ -x /usr/bin/python3 ]; then EG_PY=/usr/bin/python3; else EG_PY=$(command -v python3); fi
}

# Namespace of a short name.
eg_ns() {
	case "$1" in
	hosta) echo "$NS_A" ;;
	r1) echo "$NS_R1" ;;
	r2) echo "$NS_R2" ;;
	hostb) echo "$NS_B" ;;
	*) echo "$1" ;;
	esac
}

eg_in() {
	local ns
	ns=$(eg_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# Checksum and segmentation offloads off: over veth a sender's TCP/UDP
# checksum is left for "hardware" (CHECKSUM_PARTIAL) and a receiver with
# rx on trusts it unchecked; espgw reads raw frames, so it would carry
# unfinished checksums into the tunnel, and the hosts would not notice a
# checksum espgw broke.
eg_offloads_off() { # ns ifname
	eg_in "$1" "$EG_ETHTOOL" -K "$2" tx off rx off >/dev/null 2>&1 ||
		eg_die "ethtool -K $2 tx off rx off failed in $1"
	eg_in "$1" "$EG_ETHTOOL" -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
}

eg_setup_topology() {
	local ns
	for ns in "$NS_A" "$NS_R1" "$NS_R2" "$NS_B"; do
		ip netns add "$ns" || eg_die "ip netns add $ns failed"
		EG_NS_CREATED="$EG_NS_CREATED $ns"
		ip -n "$ns" link set lo up
		# no IPv6 chatter (router solicitations, DAD) on the links
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	# veths created inside the namespaces: names never clash between runs
	ip -n "$NS_A" link add eth0 type veth peer name lan netns "$NS_R1" ||
		eg_die "veth hosta<->r1 failed"
	ip -n "$NS_R1" link add wan type veth peer name wan netns "$NS_R2" ||
		eg_die "veth r1<->r2 failed"
	ip -n "$NS_R2" link add lan type veth peer name eth0 netns "$NS_B" ||
		eg_die "veth r2<->hostb failed"

	ip -n "$NS_A" link set eth0 mtu 1500 up
	ip -n "$NS_A" addr add 10.0.1.10/24 dev eth0
	ip -n "$NS_A" route add default via 10.0.1.1
	ip -n "$NS_B" link set eth0 mtu 1500 up
	ip -n "$NS_B" addr add 10.0.2.10/24 dev eth0
	ip -n "$NS_B" route add default via 10.0.2.1
	for ns in "$NS_R1" "$NS_R2"; do
		ip -n "$ns" link set lan mtu 1500 up
		ip -n "$ns" link set wan mtu 1500 up
		# the kernel here must neither route nor answer: espgw does
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
		eg_offloads_off "$ns" lan
		eg_offloads_off "$ns" wan
	done
	eg_offloads_off "$NS_A" eth0
	eg_offloads_off "$NS_B" eth0
}

eg_rand_key() { # AES-128 key + 4-byte salt, as xfrm wants it
	echo "0x$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')"
}

# config/r1.conf and r2.conf, unchanged but for the documentation
# addresses (the outside link is one /24: each gateway is the other's next
# hop) and fresh keys, the same pair in both files.
eg_make_configs() {
	local k1 k2 src
	k1=$(eg_rand_key)
	k2=$(eg_rand_key)
	for src in r1 r2; do
		sed -E \
			-e 's/\b1\.1\.1\.254\b/192.0.2.2/g' \
			-e 's/\b2\.2\.2\.254\b/192.0.2.1/g' \
			-e 's/\b1\.1\.1\.1\b/192.0.2.1/g' \
			-e 's/\b2\.2\.2\.2\b/192.0.2.2/g' \
			-e "/spi 0x0*1001 /s/0x[0-9a-fA-F]{40}/$k1/" \
			-e "/spi 0x0*2002 /s/0x[0-9a-fA-F]{40}/$k2/" \
			"$EG_ROOT/config/$src.conf" >"$EG_TMP/$src.conf"
		# nothing of the examples' addresses or keys may be left
		if grep -qE '\b(1\.1\.1|2\.2\.2)\.[0-9]+\b' "$EG_TMP/$src.conf"; then
			eg_die "$src.conf: an example address was not replaced"
		fi
		if [ "$(grep -c -e "$k1" -e "$k2" "$EG_TMP/$src.conf")" -ne 2 ]; then
			eg_die "$src.conf: the keys were not replaced"
		fi
	done
}

# The xfrm lines of a configuration, keys hidden.
eg_show_xfrm() { # conf
	grep -E '^[[:space:]]*(ip[[:space:]]+)?xfrm' "$1" |
		sed -E 's/0x[0-9a-fA-F]{40,72}/0x<fresh key>/'
}

eg_gw_pid() { # name -> pid of that gateway, or empty
	local w
	for w in $EG_GW_PIDS; do
		[ "${w%%:*}" = "$1" ] && echo "${w#*:}"
	done
	return 0
}

# Start one gateway in its namespace; its stdout/stderr go to
# $EG_TMP/<name>.out / .err, its counters at exit to <name>.stats.
eg_start_gw() { # r1|r2
	local name=$1 ns pid i
	ns=$(eg_ns "$name")
	ip netns exec "$ns" "$EG_ESPGW" -l 0-1 --no-huge -m 256 --no-pci \
		--file-prefix "$EG_TAG-$name" --log-level='lib.*:notice' \
		--vdev "net_af_packet0,iface=lan$EG_AFP_ARGS" \
		--vdev "net_af_packet1,iface=wan$EG_AFP_ARGS" \
		-- -f "$EG_TMP/$name.conf" --poll-idle-us "$EG_POLL_IDLE_US" \
		--stats-file "$EG_TMP/$name.stats" \
		>"$EG_TMP/$name.out" 2>"$EG_TMP/$name.err" </dev/null &
	pid=$!
	EG_GW_PIDS="$EG_GW_PIDS $name:$pid"
	for i in $(seq 1 150); do # 15 s
		if grep -q "running" "$EG_TMP/$name.out" 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "error: gateway $name did not start" >&2
	eg_gw_tail "$name" >&2
	return 1
}

# SIGINT and wait (bounded); espgw prints its counters and writes the
# stats file on the way out.
eg_stop_gw() { # name
	local name=$1 pid i
	pid=$(eg_gw_pid "$name")
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null
		for i in $(seq 1 100); do # 10 s
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "error: gateway $name ignored SIGINT for 10 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	EG_GW_RC=$?
	EG_GW_PIDS=$(echo "$EG_GW_PIDS" | tr ' ' '\n' | grep -v "^$name:" | tr '\n' ' ')
	return 0
}

eg_gw_tail() { # name [lines]
	local n=${2:-40}
	echo "---- $1 stdout (last $n lines) ----"
	tail -n "$n" "$EG_TMP/$1.out" 2>/dev/null
	echo "---- $1 stderr (last $n lines) ----"
	tail -n "$n" "$EG_TMP/$1.err" 2>/dev/null
}

# Start a background helper and remember its pid for eg_cleanup.
eg_bg() { # ns cmd...  (stdout/stderr: redirect at the call)
	local ns
	ns=$(eg_ns "$1")
	shift
	ip netns exec "$ns" "$@" &
	EG_BG_PID=$!
	EG_PIDS="$EG_PIDS $EG_BG_PID"
}

eg_cleanup() {
	local p w ns
	trap - EXIT INT TERM
	for p in $EG_PIDS; do
		t_kill_pid "$p"
	done
	EG_PIDS=""
	for w in $EG_GW_PIDS; do
		eg_stop_gw "${w%%:*}" 2>/dev/null
	done
	for ns in $EG_NS_CREATED; do
		ip netns del "$ns" 2>/dev/null
	done
	EG_NS_CREATED=""
	# the EAL's run-time files of our --file-prefix
	rm -rf "/var/run/dpdk/$EG_TAG-r1" "/var/run/dpdk/$EG_TAG-r2" 2>/dev/null
	if [ -n "${EG_TMP:-}" ] && [ -d "$EG_TMP" ]; then
		if [ "${EG_KEEP_TMP:-0}" = 1 ]; then
			echo "# kept $EG_TMP" >&2
		else
			rm -rf "$EG_TMP"
		fi
	fi
}

# One counter from a --stats-file ("name value" lines), 0 when absent.
eg_stat() { # file name
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}
