#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages espgw needs to build and test, if missing.
# Usage: scripts/install-deps.sh [build|test|fuzz|bench|run|soak]   (default: test)
set -eu

build="meson ninja-build pkg-config gcc libc6-dev dpdk-dev libdpdk-dev
libipsec-mb-dev libcmocka-dev libpcap-dev libmicrohttpd-dev"
net="iproute2 ethtool tcpdump iputils-ping python3"
# the fuzz build (tests/fuzz): clang, and libFuzzer with the sanitizer
# runtimes, which Debian 12 ships in libclang-rt-14-dev
fuzz="$build clang libclang-rt-14-dev"
test="$build $net python3-scapy python3-cryptography clang libclang-rt-14-dev
clang-format"
bench="$build python3-scapy python3-cryptography python3-matplotlib dpdk-doc linux-perf valgrind"
run="$build $net"
soak="$build $net python3-matplotlib"

case "${1:-test}" in
build) want=$build ;;
test) want=$test ;;
fuzz) want=$fuzz ;;
bench) want=$bench ;;
run) want=$run ;;
soak) want=$soak ;;
*) echo "usage: $0 [build|test|fuzz|bench|run|soak]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "need root to install packages (or install them yourself):$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
