# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shell helpers shared by the test harnesses (bash; sourced by
# tests/netns/lib.sh and tests/interop/lib.sh).

# Stop a background process: TERM, a bounded wait (in tenths of a second,
# default 30), then KILL; reap it either way. Always returns 0.
t_kill_pid() { # pid [tenths]
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 "${2:-30}"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# One packet, one fate (docs/architecture.md, "Accounting"): from an
# espgw --stats-file, what came in or was made must equal what was sent,
# dropped under one name, consumed or still held. Prints the two sides
# when they differ and returns 1.
t_balance() { # stats-file
	awk '
	$1 ~ /^gw\.(rx|arp-requested|nd-solicited|icmp-errors-sent|natt-keepalives-sent|fragments-made)$/ { came += $2 }
	$1 ~ /^gw\.(tx|arp-replies-received|nd-adverts-received|fragmented|fragments-merged|held-arp-queue|held-reassembly|held-spread)$/ ||
	$1 ~ /^gw\.drop-/ { went += $2 }
	END {
		if (NR == 0 || came != went) {
			printf "rx + made %d != tx + drops + consumed + held %d\n", came, went
			exit 1
		}
	}' "$1"
}
