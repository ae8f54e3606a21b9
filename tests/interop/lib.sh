# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Infrastructure of the interop tests (tests/interop/run.sh): espgw as R1,
# a stock Debian Linux kernel in qemu (TCG) as R2, configured with plain
# `ip` commands. Sourced by bash; nothing runs on sourcing.
#
#   netns hosta                 netns r1 (no kernel IP address at all)
#   10.0.1.10/24 eth0 ── veth ── lan0 ┐                ┌ qtap0 ── qemu: Linux R2
#   default via 10.0.1.1              brlan            brwan     eth0 192.0.2.2/24
#                         espgw tap gwlan ┘            └ gwwan espgw tap
#                         (net_tap0: 10.0.1.1/24)      (net_tap1: 192.0.2.1/24)
#   In the guest: veth0 10.0.2.1/24 ── netns hostb: eth0 10.0.2.10/24
#
# espgw uses DPDK's net_tap PMD, not net_af_packet: DPDK 22.11's af_packet
# joins its socket to a PACKET_FANOUT group with the DEFRAG flag, so the
# host kernel would reassemble the outer ESP fragments that the test of
# big packets wants espgw to reassemble (and drop what no longer fits a
# ring frame). A tap in a bridge hands espgw the frames as they were sent.
#
# Caller's interface (every wait is bounded):
#   io_init                 paths, names, temporary directory $IO_W
#   io_deps                 install missing Debian packages (fails loudly)
#   io_prepare_kernel       kernel + modules into the cache (download once)
#   io_prepare_initrd       the initramfs into the cache (build once)
#   io_setup_topology       namespaces, veth, bridges, tap for qemu
#   io_guest_boot NAME      fresh guest; console in $IO_W/NAME.console
#   g SCRIPT                run SCRIPT in the guest (echoed as "guest# ")
#   io_gw_start CONF TAG    start espgw on CONF; output $IO_W/TAG.{out,err,stats}
#   io_gw_stop              SIGINT espgw, wait; it writes TAG.stats
#   io_scenario_end         stop espgw and the guest of the scenario
#   io_cleanup              everything started, namespaces, temp dir
#
# Hooks for other suites (tests/natt), empty by default:
#   IO_INITRD_EXTRA         host programs (static) copied into the
#                           initramfs's /usr/sbin; part of its cache key
#   IO_INITRD_FLAVOR        a word in the initramfs's name, so that each
#                           suite's initramfs is cached beside the others
#   IO_GW_ARGS              more espgw arguments, after its own options

# t_kill_pid
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

IO_PIDS=""        # background helpers (host side)
IO_NS_CREATED=""
IO_GW_PID=""
IO_GW_TAG=""
IO_QEMU_PID=""

io_log() { printf '# %s\n' "$*"; }
io_die() {
	printf 'FATAL: %s\n' "$*" >&2
	exit 1
}

io_init() {
	IO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	IO_ROOT=$(cd "$IO_DIR/../.." && pwd)
	IO_ESPGW=${ESPGW:-$IO_ROOT/build/app/espgw}
	IO_CACHE=${ESPGW_INTEROP_CACHE:-/var/cache/espgw-interop}
	IO_POLL_IDLE_US=${IO_POLL_IDLE_US:-50}
	IO_PVH=${IO_PVH:-1}
	IO_TAG="ei$$"
	NS_A="$IO_TAG-hosta"
	NS_R1="$IO_TAG-r1"
	IO_W=$(mktemp -d /tmp/espgw-interop.XXXXXX) || io_die "mktemp failed"
	# Debian's interpreter (a pyenv shim would start slowly, or lack modules)
	if [ -x /usr/bin/python3 ]; then IO_PY=/usr/bin/python3; else IO_PY=python3; fi
}

io_require_root() {
	[ "$(id -u)" -eq 0 ] ||
		io_die "$0 needs root (network namespaces, bridges, taps, qemu); run it as root"
}

# ---- packages ---------------------------------------------------------------

# command -> Debian package that provides it
io_deps() {
	local missing="" pair cmd pkg
	for pair in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static \
		depmod:kmod modprobe:kmod ip:iproute2 tcpdump:tcpdump \
		ethtool:ethtool /usr/bin/python3:python3 /usr/bin/ping:iputils-ping \
		/bin/nc.openbsd:netcat-openbsd xz:xz-utils gzip:gzip \
		dpkg-deb:dpkg flock:util-linux apt-get:apt timeout:coreutils \
		od:coreutils sha256sum:coreutils; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		if [ "${cmd#/}" != "$cmd" ]; then
			[ -x "$cmd" ] && continue
		else
			command -v "$cmd" >/dev/null 2>&1 && continue
			[ -x "/usr/sbin/$cmd" ] || [ -x "/sbin/$cmd" ] && continue
		fi
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	done
	# the busybox must be the static one: it is copied into the initramfs
	if command -v busybox >/dev/null 2>&1 &&
		! file_is_static "$(command -v busybox)"; then
		missing="$missing busybox-static"
	fi
	[ -z "$missing" ] && return 0
	io_log "installing:$missing"
	command -v apt-get >/dev/null 2>&1 ||
		io_die "missing packages:$missing, and no apt-get to install them"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >"$IO_W/apt-update.log" 2>&1 ||
		{ cat "$IO_W/apt-update.log" >&2; io_die "apt-get update failed"; }
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >"$IO_W/apt-install.log" 2>&1 ||
		{ tail -20 "$IO_W/apt-install.log" >&2; io_die "apt-get install$missing failed"; }
	hash -r
	command -v qemu-system-x86_64 >/dev/null 2>&1 ||
		io_die "qemu-system-x86_64 is still missing after installing qemu-system-x86"
}

file_is_static() { # path: no shared libraries
	! ldd "$1" 2>&1 | grep -q '=>'
}

# ---- kernel and initramfs (cached) -----------------------------------------

# The modules the peer needs, by name; their dependencies come from
# modprobe --show-depends. drbg (the "stdrng") and sha512_generic (its
# default hash) are needed by seqiv's IV generator: without them every
# `ip xfrm state add` with AES-GCM fails ("Kernel was unable to initialize
# cryptographic operations"), because nothing autoloads modules here.
IO_MODULES="virtio_pci virtio_net veth xfrm_user esp4 cryptd crypto_simd
	aesni_intel ghash_clmulni_intel ghash_generic ctr gcm seqiv echainiv
	sha512_generic jitterentropy_rng drbg"

io_kernel_pkg() { # -> linux-image-<version>-amd64, what linux-image-amd64 depends on
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

io_prepare_kernel() {
	local kpkg deb tree m p
	mkdir -p "$IO_CACHE" || io_die "cannot create the cache $IO_CACHE"
	exec 9>"$IO_CACHE/.lock"
	flock -w 900 9 || io_die "the cache $IO_CACHE is locked by another run (15 min)"
	kpkg=${IO_KERNEL_PKG:-$(io_kernel_pkg)}
	if [ -z "$kpkg" ]; then
		apt-get update -q >"$IO_W/apt-update.log" 2>&1
		kpkg=$(io_kernel_pkg)
	fi
	[ -n "$kpkg" ] || io_die "apt-cache cannot tell which kernel linux-image-amd64 depends on"
	IO_KV=${kpkg#linux-image-}
	IO_KDIR=$IO_CACHE/$IO_KV
	if [ -s "$IO_KDIR/vmlinuz" ] && [ -s "$IO_KDIR/modules.order" ]; then
		io_log "kernel $IO_KV from the cache $IO_KDIR"
		flock -u 9
		return 0
	fi
	io_log "fetching the kernel package ${kpkg}-unsigned (not installed, only unpacked)"
	rm -rf "$IO_KDIR.tmp"
	mkdir -p "$IO_KDIR.tmp/dl" "$IO_KDIR.tmp/modules"
	(cd "$IO_KDIR.tmp/dl" && apt-get download "${kpkg}-unsigned") >"$IO_W/kernel-download.log" 2>&1 ||
		(cd "$IO_KDIR.tmp/dl" && apt-get download "$kpkg") >>"$IO_W/kernel-download.log" 2>&1 ||
		{ cat "$IO_W/kernel-download.log" >&2; io_die "cannot download ${kpkg}-unsigned (nor $kpkg)"; }
	deb=$(ls "$IO_KDIR.tmp"/dl/*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || io_die "apt-get download left no .deb"
	tree=$IO_KDIR.tmp/tree
	dpkg-deb -x "$deb" "$tree" || io_die "dpkg-deb -x $deb failed"
	[ -f "$tree/boot/vmlinuz-$IO_KV" ] || io_die "$deb has no boot/vmlinuz-$IO_KV"
	# the .deb ships no modules.dep
	depmod -b "$tree" "$IO_KV" || io_die "depmod failed"
	: >"$IO_KDIR.tmp/modules.order"
	# -C /dev/null: the host's modprobe.d must not add options
	for m in $IO_MODULES; do
		modprobe -C /dev/null -d "$tree" -S "$IO_KV" --show-depends "$m" ||
			io_die "module $m not found in $deb"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$IO_KDIR.tmp/paths"
	while read -r p; do
		m=$(basename "$p")
		case "$m" in
		*.ko.xz) xz -dc "$p" >"$IO_KDIR.tmp/modules/${m%.xz}"; m=${m%.xz} ;;
		*.ko.zst) zstd -qdc "$p" >"$IO_KDIR.tmp/modules/${m%.zst}"; m=${m%.zst} ;;
		*.ko.gz) gzip -dc "$p" >"$IO_KDIR.tmp/modules/${m%.gz}"; m=${m%.gz} ;;
		*) cp "$p" "$IO_KDIR.tmp/modules/" ;;
		esac
		echo "${m%.ko}" >>"$IO_KDIR.tmp/modules.order"
	done <"$IO_KDIR.tmp/paths"
	cp "$tree/boot/vmlinuz-$IO_KV" "$IO_KDIR.tmp/vmlinuz"
	# The bzImage's payload is xz; the ELF vmlinux inside boots through
	# its PVH note, about 2 s faster than the bzImage under TCG.
	p=$(grep -abo $'\xfd7zXZ' "$IO_KDIR.tmp/vmlinuz" | head -1 | cut -d: -f1)
	if [ -n "$p" ]; then
		tail -c +$((p + 1)) "$IO_KDIR.tmp/vmlinuz" | xz -dc >"$IO_KDIR.tmp/vmlinux" 2>/dev/null
		if ! head -c 4 "$IO_KDIR.tmp/vmlinux" | grep -q 'ELF'; then
			rm -f "$IO_KDIR.tmp/vmlinux"
		fi
	fi
	basename "$deb" >"$IO_KDIR.tmp/package"
	rm -rf "$tree" "$IO_KDIR.tmp/dl" "$IO_KDIR.tmp/paths"
	rm -rf "$IO_KDIR"
	mv "$IO_KDIR.tmp" "$IO_KDIR" || io_die "cannot fill the cache $IO_KDIR"
	# older kernels (linux-image-amd64 moved on) are not needed any more
	for p in "$IO_CACHE"/*-amd64; do
		[ "$p" = "$IO_KDIR" ] || rm -rf "$p"
	done
	flock -u 9
	io_log "kernel $IO_KV cached in $IO_KDIR ($(cat "$IO_KDIR/package"))"
}

# The initramfs: static busybox, iproute2's ip, iputils' ping and
# netcat-openbsd with their libraries, the modules, /init. Cached under a
# name that changes when any of its inputs does.
io_prepare_initrd() {
	local key r b l
	key=$( (cat "$IO_DIR/guest-init.sh" "$IO_DIR/guest-prelude.sh" "$IO_KDIR/modules.order"
		# shellcheck disable=SC2086 # a list of paths
		[ -z "${IO_INITRD_EXTRA:-}" ] || cat $IO_INITRD_EXTRA
		dpkg-query -W busybox-static iproute2 iputils-ping netcat-openbsd libc6 2>/dev/null) |
		sha256sum | cut -c1-16)
	local prefix=initrd-${IO_INITRD_FLAVOR:+$IO_INITRD_FLAVOR-}
	IO_INITRD=$IO_KDIR/$prefix$key.gz
	if [ -s "$IO_INITRD" ]; then
		io_log "initramfs from the cache $IO_INITRD"
		return 0
	fi
	exec 9>"$IO_CACHE/.lock"
	flock -w 900 9 || io_die "the cache $IO_CACHE is locked by another run"
	r=$IO_W/rootfs
	rm -rf "$r"
	mkdir -p "$r"/{bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules,lib64,lib/x86_64-linux-gnu}
	cp "$(command -v busybox)" "$r/bin/busybox"
	# not in /bin: `busybox --install -s /bin` would replace them
	for b in /usr/bin/ip:ip /usr/bin/ping:ping /bin/nc.openbsd:nc; do
		[ -x "${b%%:*}" ] || b="/sbin/${b#*/usr/bin/}"
		cp "${b%%:*}" "$r/usr/sbin/${b#*:}" || io_die "cannot copy ${b%%:*}"
		for l in $(ldd "${b%%:*}" | grep -o '/[^ ]*'); do
			mkdir -p "$r$(dirname "$l")"
			cp -L "$l" "$r$l"
		done
	done
	for b in ${IO_INITRD_EXTRA:-}; do
		cp "$b" "$r/usr/sbin/" || io_die "cannot copy $b"
	done
	cp "$IO_KDIR"/modules/*.ko "$r/lib/modules/"
	cp "$IO_KDIR/modules.order" "$r/modules.order"
	cp "$IO_DIR/guest-init.sh" "$r/init"
	cp "$IO_DIR/guest-prelude.sh" "$r/etc/prelude"
	chmod 755 "$r/init"
	(cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -6) >"$IO_INITRD.tmp" ||
		io_die "cannot build the initramfs"
	rm -f "$IO_KDIR/$prefix"????????????????.gz
	mv "$IO_INITRD.tmp" "$IO_INITRD"
	rm -rf "$r"
	flock -u 9
	io_log "initramfs built: $IO_INITRD ($(stat -c %s "$IO_INITRD") bytes)"
}

# ---- topology ---------------------------------------------------------------

io_in() { # ns cmd...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

io_setup_topology() {
	local ns
	for ns in "$NS_A" "$NS_R1"; do
		ip netns add "$ns" || io_die "ip netns add $ns failed"
		IO_NS_CREATED="$IO_NS_CREATED $ns"
		ip -n "$ns" link set lo up
		io_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		io_in "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	# r1: no addresses, no forwarding; its bridges must not call
	# iptables (br_netfilter is global on some hosts)
	io_in "$NS_R1" sysctl -qw net.ipv4.ip_forward=0
	for ns in iptables ip6tables arptables; do
		io_in "$NS_R1" sysctl -qw "net.bridge.bridge-nf-call-$ns=0" 2>/dev/null || true
	done
	ip -n "$NS_A" link add eth0 type veth peer name lan0 netns "$NS_R1" ||
		io_die "veth hosta<->r1 failed"
	ip -n "$NS_A" link set eth0 up
	ip -n "$NS_A" addr add 10.0.1.10/24 dev eth0
	ip -n "$NS_A" route add default via 10.0.1.1
	# checksums and segmentation done in software: what enters the
	# tunnel is a finished packet
	io_in "$NS_A" ethtool -K eth0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
	for b in brlan brwan; do
		ip -n "$NS_R1" link add "$b" type bridge stp_state 0 forward_delay 0 ||
			io_die "bridge $b failed"
		ip -n "$NS_R1" link set "$b" type bridge nf_call_iptables 0 \
			nf_call_arptables 0 2>/dev/null || true
		ip -n "$NS_R1" link set "$b" up
	done
	ip -n "$NS_R1" link set lan0 master brlan up
	io_in "$NS_R1" ethtool -K lan0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$NS_R1" tuntap add mode tap qtap0 || io_die "tap for qemu failed"
	ip -n "$NS_R1" link set qtap0 master brwan up
}

# ---- espgw ------------------------------------------------------------------

# Start espgw (R1) on a configuration; wait until it runs; put its taps
# into the bridges. Output: $IO_W/TAG.out, TAG.err; counters at exit:
# $IO_W/TAG.stats.
io_gw_start() { # conf tag
	local conf=$1 tag=$2
	IO_GW_TAG=$tag
	io_log "espgw start ($tag): $conf"
	sed 's/^/  r1.conf| /' "$conf"
	ip netns exec "$NS_R1" "$IO_ESPGW" -l 0-1 --no-huge -m 256 --no-pci --no-telemetry \
		--file-prefix "$IO_TAG" --log-level='lib.*:notice' \
		--vdev net_tap0,iface=gwlan,mac=02:00:00:00:01:01 \
		--vdev net_tap1,iface=gwwan,mac=02:00:00:00:01:02 \
		-- -f "$conf" --poll-idle-us "$IO_POLL_IDLE_US" \
		--stats-file "$IO_W/$tag.stats" ${IO_GW_ARGS:-} \
		>"$IO_W/$tag.out" 2>"$IO_W/$tag.err" </dev/null &
	IO_GW_PID=$!
	echo "$IO_GW_PID espgw" >>"$IO_W/pids"
	for _ in $(seq 1 300); do # 30 s
		grep -q "running" "$IO_W/$tag.out" 2>/dev/null && break
		if ! kill -0 "$IO_GW_PID" 2>/dev/null; then
			echo "espgw exited at start:"
			cat "$IO_W/$tag.out" "$IO_W/$tag.err"
			IO_GW_PID=""
			return 1
		fi
		sleep 0.1
	done
	if ! grep -q "running" "$IO_W/$tag.out"; then
		echo "espgw did not start within 30 s"
		return 1
	fi
	# net_tap gives the kernel's end of each tap espgw's MAC; in a bridge
	# that MAC would become the bridge's own (a "permanent" local entry)
	# and frames for espgw would never leave the bridge. So the kernel's
	# end gets another one.
	ip -n "$NS_R1" link set gwlan address 02:00:00:00:11:01 &&
		ip -n "$NS_R1" link set gwwan address 02:00:00:00:11:02 &&
		ip -n "$NS_R1" link set gwlan master brlan up &&
		ip -n "$NS_R1" link set gwwan master brwan up || {
		echo "cannot bridge espgw's taps"
		return 1
	}
	if [ -s "$IO_W/$tag.err" ]; then
		sed 's/^/  espgw stderr| /' "$IO_W/$tag.err"
	fi
	return 0
}

# SIGINT, bounded wait; espgw prints its counters and writes TAG.stats.
io_gw_stop() {
	[ -n "$IO_GW_PID" ] || return 0
	if kill -0 "$IO_GW_PID" 2>/dev/null; then
		kill -INT "$IO_GW_PID" 2>/dev/null
		for _ in $(seq 1 150); do # 15 s
			kill -0 "$IO_GW_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$IO_GW_PID" 2>/dev/null; then
			echo "espgw ignored SIGINT for 15 s; killing it"
			kill -KILL "$IO_GW_PID" 2>/dev/null
		fi
	fi
	wait "$IO_GW_PID" 2>/dev/null
	IO_GW_RC=$?
	IO_GW_PID=""
	io_log "espgw ($IO_GW_TAG) stopped, exit status $IO_GW_RC"
	return 0
}

# One counter from a --stats-file; the Nth occurrence (two SAs may share
# an SPI), 0 when absent.
io_stat() { # file name
	awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"
}

# ---- the guest (Linux R2) ---------------------------------------------------

io_guest_boot() { # name
	local name=$1 kernel t0
	IO_CTL=$IO_W/$name.ctl
	IO_CONSOLE=$IO_W/$name.console
	rm -f "$IO_CTL" "$IO_CONSOLE"
	kernel=$IO_KDIR/vmlinuz
	if [ "$IO_PVH" = 1 ] && [ -s "$IO_KDIR/vmlinux" ]; then
		kernel=$IO_KDIR/vmlinux
	fi
	t0=$(date +%s.%N)
	# TCG (KVM cannot run a stock kernel on these machines); -cpu max
	# gives the guest AES-NI and PCLMULQDQ. No offloads on virtio-net.
	ip netns exec "$NS_R1" qemu-system-x86_64 -accel tcg -cpu max -m 384 -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$kernel" -initrd "$IO_INITRD" \
		-append "console=ttyS0 quiet panic=-1" \
		-netdev tap,id=n0,ifname=qtap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:00:02:02,romfile=,csum=off,guest_csum=off \
		-serial "file:$IO_CONSOLE" \
		-chardev "socket,id=ctl,path=$IO_CTL,server=on,wait=off" \
		-serial chardev:ctl \
		</dev/null >"$IO_W/$name.qemu.log" 2>&1 &
	IO_QEMU_PID=$!
	echo "$IO_QEMU_PID qemu" >>"$IO_W/pids"
	for _ in $(seq 1 900); do # 180 s: TCG on a loaded machine
		grep -q GUEST-READY "$IO_CONSOLE" 2>/dev/null && break
		if ! kill -0 "$IO_QEMU_PID" 2>/dev/null; then
			echo "qemu exited:"
			cat "$IO_W/$name.qemu.log" "$IO_CONSOLE" 2>/dev/null | tail -30
			IO_QEMU_PID=""
			return 1
		fi
		sleep 0.2
	done
	if ! grep -q GUEST-READY "$IO_CONSOLE" 2>/dev/null; then
		echo "guest not ready after 180 s"
		tail -30 "$IO_CONSOLE"
		return 1
	fi
	"$IO_PY" "$IO_DIR/guestctl.py" "$IO_CTL" -t 60 --wait || {
		echo "guest command channel does not answer"
		return 1
	}
	io_log "guest up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" \
		"($(grep -o 'kernel [^,]*' "$IO_CONSOLE" | head -1); $(basename "$kernel"))"
	grep 'GUEST: insmod' "$IO_CONSOLE" | grep -v jitterentropy || true
	return 0
}

# Run a script in the guest, echoing it (to stderr, so that $(g ...)
# takes the output only); output to stdout; status = the script's.
# G_TIMEOUT (seconds) bounds it; G_QUIET=1 does not echo the script.
g() {
	local script="$*"
	if [ "${G_QUIET:-0}" != 1 ]; then
		printf '%s\n' "$script" | sed 's/^[[:space:]]*/guest# /' >&2
	fi
	"$IO_PY" "$IO_DIR/guestctl.py" "$IO_CTL" -t "${G_TIMEOUT:-60}" "$script"
}

io_guest_stop() {
	[ -n "$IO_QEMU_PID" ] || return 0
	t_kill_pid "$IO_QEMU_PID" 50
	IO_QEMU_PID=""
}

# A host-side helper in the background; remembered for the clean-up.
io_bg() { # ns cmd... (redirect at the call)
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	IO_BG_PID=$!
	IO_PIDS="$IO_PIDS $IO_BG_PID"
	echo "$IO_BG_PID $(basename "$1")" >>"$IO_W/pids"
}

# Processes a scenario (a subshell) started and left behind, if it was
# cut short: each recorded pid is ended if it still runs what it ran.
io_reap() {
	local pid what
	[ -f "$IO_W/pids" ] || return 0
	while read -r pid what; do
		if kill -0 "$pid" 2>/dev/null &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$what"; then
			kill -TERM "$pid" 2>/dev/null
			sleep 0.5
			kill -KILL "$pid" 2>/dev/null
		fi
	done <"$IO_W/pids"
	: >"$IO_W/pids"
}

# Wait (bounded) for a background helper; its status in IO_WAIT_RC.
io_wait_pid() { # pid seconds
	local pid=$1
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		t_kill_pid "$pid"
		IO_WAIT_RC=124
		return 124
	fi
	wait "$pid"
	IO_WAIT_RC=$?
	return $IO_WAIT_RC
}

# tcpdump in r1 (on qtap0: the guest's wire; on gwwan: espgw's outside
# port); a bounded wait until it listens.
io_cap_start() { # name iface filter [count]
	rm -f "$IO_W/$1.pcap"
	io_bg "$NS_R1" tcpdump --immediate-mode -U -ni "$2" -w "$IO_W/$1.pcap" ${4:+-c "$4"} "$3" 2>"$IO_W/$1.tcpdump.err"
	IO_CAP_PID=$IO_BG_PID
	for _ in $(seq 1 50); do
		grep -q "listening on" "$IO_W/$1.tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tcpdump on $2 did not start: $(cat "$IO_W/$1.tcpdump.err")"
	return 1
}

io_cap_stop() { # [pid] (default: the last one started)
	local pid=${1:-$IO_CAP_PID}
	sleep 0.5 # the last packets reach the file
	kill -INT "$pid" 2>/dev/null
	io_wait_pid "$pid" 5
	return 0
}

io_scenario_end() {
	local p
	for p in $IO_PIDS; do
		t_kill_pid "$p"
	done
	IO_PIDS=""
	io_gw_stop >/dev/null
	io_guest_stop
}

io_cleanup() {
	local ns
	trap - EXIT INT TERM
	io_scenario_end
	io_reap
	for ns in $IO_NS_CREATED; do
		ip netns del "$ns" 2>/dev/null
	done
	IO_NS_CREATED=""
	rm -rf "/var/run/dpdk/$IO_TAG" 2>/dev/null
	if [ -n "${IO_W:-}" ] && [ -d "$IO_W" ]; then
		if [ "${IO_KEEP:-0}" = 1 ]; then
			echo "# logs kept in $IO_W" >&2
		else
			rm -rf "$IO_W"
		fi
	fi
}

# Run the scenarios named in $ONLY, each sc_NAME (dashes as
# underscores) in a subshell of its own with its log in $IO_W/NAME.log
# (streamed with VERBOSE=1), killed past IO_SCENARIO_LIMIT seconds
# (600): before each, UP (the guest up; its failure fails the
# scenario), in the subshell PRELUDE, at its end END. Prints "ok -" /
# "not ok -" lines and "N passed, M failed"; returns 0 only when every
# scenario passed.
io_run_scenarios() { # UP PRELUDE END
	local up=$1 prelude=$2 end=$3 limit=${IO_SCENARIO_LIMIT:-600}
	local sc t0 spid tpid rc el why passed=0 failed=0
	for sc in $ONLY; do
		t0=$(date +%s.%N)
		rm -f "$IO_W/why"
		if ! "$up"; then
			echo "not ok - $sc: the guest did not boot"
			failed=$((failed + 1))
			IO_KEEP=${IO_KEEP:-1}
			continue
		fi
		(
			# shellcheck disable=SC2064 # the name, now
			trap "$end" EXIT
			"$prelude"
			"sc_${sc//-/_}"
		) >"$IO_W/$sc.log" 2>&1 &
		spid=$!
		if [ "${VERBOSE:-0}" = 1 ]; then
			tail -n +1 -f "$IO_W/$sc.log" --pid="$spid" 2>/dev/null | sed "s/^/# [$sc] /" &
			tpid=$!
		fi
		rc=124
		for _ in $(seq 1 $((limit * 5))); do
			kill -0 "$spid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$spid" 2>/dev/null; then
			echo "scenario exceeded ${limit}s" >"$IO_W/why"
			kill -TERM "$spid" 2>/dev/null
			sleep 2
			kill -KILL "$spid" 2>/dev/null
			wait "$spid" 2>/dev/null
		else
			wait "$spid"
			rc=$?
		fi
		[ "${VERBOSE:-0}" = 1 ] && { wait "$tpid" 2>/dev/null || true; }
		io_reap
		el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		if [ "$rc" = 0 ]; then
			echo "ok - $sc (${el}s)"
			passed=$((passed + 1))
		else
			why=$(cat "$IO_W/why" 2>/dev/null)
			IO_KEEP=${IO_KEEP:-1} # the logs of a failed run are kept (IO_KEEP=0: not)
			echo "not ok - $sc: ${why:-exit status $rc}"
			if [ "${VERBOSE:-0}" != 1 ]; then
				echo "# $sc took ${el}s; the last 40 lines of its log follow$([ "$IO_KEEP" = 1 ] && echo ", all of it is in $IO_W/$sc.log")"
				tail -n 40 "$IO_W/$sc.log" | sed "s/^/# [$sc] /"
			else
				echo "# $sc took ${el}s"
			fi
			failed=$((failed + 1))
		fi
	done
	io_log "total $(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

# The suites' command line: -k NAME (repeatable, or a comma list) into
# ONLY (default: every scenario of ALL), -v into VERBOSE, -l lists ALL,
# -h prints lines HELP (as "2,25p") of the script. Exits on a bad one.
io_parse_args() { # HELP args...
	local help=$1 s
	shift
	ONLY=""
	VERBOSE=0
	while [ $# -gt 0 ]; do
		case "$1" in
		-k) [ $# -ge 2 ] || { echo "-k needs a scenario name" >&2; exit 2; }
			ONLY="$ONLY ${2//,/ }"; shift 2 ;;
		-k*) ONLY="$ONLY ${1#-k}"; shift ;;
		-v) VERBOSE=1; shift ;;
		-l) echo "$ALL"; exit 0 ;;
		-h|--help) sed -n "$help" "$0"; exit 0 ;;
		*) echo "unknown argument: $1 (try -h)" >&2; exit 2 ;;
		esac
	done
	for s in $ONLY; do
		case " $ALL " in *" $s "*) ;; *) echo "unknown scenario: $s (have: $ALL)" >&2; exit 2 ;; esac
	done
	[ -n "$ONLY" ] || ONLY=$ALL
}
