#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the Linux peer's initramfs (tests/interop). It only loads the
# modules and then serves the command channel on the second serial port
# (/dev/ttyS1); every network setting (addresses, routes, the hostb
# namespace, xfrm states and policies) comes from the host through that
# channel as plain `ip` commands, so the harness log shows all of them.
#
# Channel protocol, one request per line from the host:
#     <id> <base64 of a shell script>
# the guest runs the script with /etc/prelude sourced first, writes its
# output (stdout + stderr), then a line "@@DONE <id> <exit status>".

/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /run /tmp /var/run
echo "GUEST: kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime)s"
for m in $(cat /modules.order); do
	# jitterentropy_rng does not load under TCG (harmless: drbg goes on
	# without it); any other failure shows up in the log
	insmod "/lib/modules/$m.ko" 2>/tmp/insmod.err ||
		echo "GUEST: insmod $m failed: $(cat /tmp/insmod.err)"
done
# quiet links: no IPv6 router solicitations or DAD on the test networks
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
/usr/sbin/ip link set lo up

stty -F /dev/ttyS1 raw -echo -echoe -echok -icanon -icrnl -onlcr 2>/dev/null ||
	echo "GUEST: stty on ttyS1 failed"
echo "GUEST-READY uptime $(cut -d' ' -f1 /proc/uptime)s"
exec 3<>/dev/ttyS1
while IFS= read -r line <&3; do
	id=${line%% *}
	case "$id" in
	''|*[!0-9a-z_-]*) continue ;;   # line noise
	esac
	echo "${line#* }" | base64 -d > /tmp/cmd.sh 2>/dev/null || {
		echo "@@DONE $id 250" >&3
		continue
	}
	( . /etc/prelude; . /tmp/cmd.sh ) > /tmp/cmd.out 2>&1 < /dev/null
	rc=$?
	cat /tmp/cmd.out >&3
	echo "@@DONE $id $rc" >&3
done
echo "GUEST: command channel closed"
poweroff -f
