# SPDX-License-Identifier: BSD-3-Clause
# /etc/prelude in the Linux peer's initramfs: sourced before every command
# that arrives on the command channel. busybox-static's ash runs its own
# applets before it searches PATH, and busybox's ip has no xfrm and its
# ping no -M: these functions send both names to the real programs
# (iproute2 and iputils, in /usr/sbin). Programs that ip netns exec
# starts are found through PATH, where /usr/sbin comes first.
export PATH=/usr/sbin:/bin
ip() { /usr/sbin/ip "$@"; }
ping() { /usr/sbin/ping "$@"; }
nc() { /usr/sbin/nc "$@"; }
