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
