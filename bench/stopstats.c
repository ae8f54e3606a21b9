/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* LD_PRELOAD=build/bench/libstopstats.so STOPSTATS_FILE=PATH prog ...
 *
 * For bench/instr.py: an exact packet count for any DPDK program that
 * stops its ports at exit (espgw, ipsec-secgw, l3fwd). Every call of
 * rte_eth_dev_stop() first appends the port's ethdev counters to PATH,
 *
 *   port 0 ipackets N opackets N imissed N ierrors N oerrors N rx_nombuf N
 *
 * then calls the real one. All three programs stop a port only after
 * their workers have left the loop, so the counts are final; telemetry
 * read before SIGINT misses whatever came after it. Without
 * STOPSTATS_FILE it only passes the call on. */

#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_ethdev.h>

int
rte_eth_dev_stop(uint16_t port_id)
{
	static int (*real)(uint16_t);
	const char *path = getenv("STOPSTATS_FILE");
	struct rte_eth_stats st;
	FILE *f;

	if (real == NULL)
		real = (int (*)(uint16_t))dlsym(RTLD_NEXT, "rte_eth_dev_stop");
	if (real == NULL) {
		fprintf(stderr, "stopstats: no rte_eth_dev_stop to call: %s\n",
			dlerror());
		abort();
	}
	if (path != NULL && rte_eth_stats_get(port_id, &st) == 0 &&
	    (f = fopen(path, "a")) != NULL) {
		fprintf(f,
			"port %u ipackets %" PRIu64 " opackets %" PRIu64
			" imissed %" PRIu64 " ierrors %" PRIu64
			" oerrors %" PRIu64 " rx_nombuf %" PRIu64 "\n",
			port_id, st.ipackets, st.opackets, st.imissed,
			st.ierrors, st.oerrors, st.rx_nombuf);
		fclose(f);
	}
	return real(port_id);
}
