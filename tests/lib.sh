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

# One packet, one fate (app/dataplane/counters.h): from an espgw
# --stats-file, what came in or was made (the counters `espgw --counters`
# calls "in") must equal what was sent, dropped under one name, consumed
# or still held ("out"), and every gw.* and esp.* counter must have a
# side. Prints the two sides, or what disagrees, and returns 1 when the
# law does not hold.
t_balance() { # espgw stats-file
	local sides
	if ! sides=$("$1" --counters) || [ -z "$sides" ]; then
		echo "$1 --counters printed no sides"
		return 1
	fi
	awk '
	NR == FNR { side[$1] = $2; next }
	$1 ~ /^(gw|esp)\./ {
		seen[$1] = 1
		if (!($1 in side)) { printf "%s: not in espgw --counters\n", $1; bad = 1 }
		else if (side[$1] == "in") came += $2
		else if (side[$1] == "out") went += $2
	}
	END {
		for (k in side)
			if (!(k in seen)) { printf "no %s in the stats file\n", k; bad = 1 }
		if (FNR == 0 || came != went) {
			printf "rx + made %d != tx + drops + consumed + held %d\n", came, went
			bad = 1
		}
		exit bad
	}' - "$2" <<<"$sides"
}
