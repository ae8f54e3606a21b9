#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# espgw-tunnel end to end (docs/tunnel.md): linux.sh against a stock
# Linux kernel in qemu, then netns.sh between two espgw gateways, each
# in its own process (their libraries share names). About 3.5 minutes,
# 2 of them linux.sh's --auto-rekey transfer.
# Usage (root): tests/tunnel/run.sh [linux|netns]...; exit status 0 only
# when every part passed. Environment: ESPGW, ESPGWCTL, ESPGW_TUNNEL,
# and each part's.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
parts=${*:-linux netns}
rc=0
for p in $parts; do
	case "$p" in linux|netns) ;; *) echo "unknown part: $p (linux, netns)" >&2; exit 2 ;; esac
	echo "# espgw-tunnel: $p"
	"$HERE/$p.sh" || rc=1
done
exit $rc
