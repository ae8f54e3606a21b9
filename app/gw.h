/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_APP_GW_H
#define ESPGW_APP_GW_H

/* The gateway as a whole: what the control thread (main.c) sets up and
 * the workers share. The planes' own state is in control/ and
 * dataplane/. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "espgw/esp.h"

#include "control/neigh.h"
#include "control/publish.h"
#include "control/tables.h"
#include "dataplane/worker.h"

struct gw {
	struct gw_publisher pub; /* the table set the workers read */
	struct gw_neigh neigh;
	struct gw_worker workers[GW_MAX_WORKERS];
	unsigned int nb_workers;
	struct rte_mempool *pool, *indirect_pool;
	struct rte_mempool *jumbo_pool; /* reassembled datagrams up to 64 KB */
	uint16_t ports[GW_MAX_PORTS];
	unsigned int nb_ports;
	/* a port's queues are one a worker, but with --spread-esp it may
	 * have fewer (control/ports.c): the workers from id no_rxq[port]
	 * (no_txq) on have no RX (TX) queue there; 0: every one has */
	uint16_t no_rxq[GW_MAX_PORTS], no_txq[GW_MAX_PORTS];
	unsigned int poll_idle_us;
	/* workers one SA's ESP is spread over (--spread-esp), 0: none;
	 * which of them owns which run of an SA's numbers (even, or
	 * --spread-weights) */
	unsigned int spread;
	struct espgw_replay_map spread_map;
	bool quit; /* set once, read with __atomic */
};

/* The owner map every inbound SA is made with: NULL without spreading. */
static inline const struct espgw_replay_map *
gw_spread_map(const struct gw *gw)
{
	return gw->spread != 0 ? &gw->spread_map : NULL;
}

#endif /* ESPGW_APP_GW_H */
