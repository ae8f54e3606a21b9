/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* What a port's TX queue does not take is dropped and counted. */

#include <rte_ethdev.h>

#include "dataplane/spread.h"
#include "dataplane/tx.h"

/* Send what is queued for a port; what the queue does not take is
 * dropped and counted. */
void
gw_tx_flush(struct gw_ctx *c, uint16_t port)
{
	uint16_t n = c->txq[port].n;
	uint16_t sent;

	if (n == 0)
		return;
	if (unlikely(c->seg_back != NULL)) {
		gw_spread_stage(c, port);
		return;
	}
	/* a port with fewer queues than workers (--spread-esp): worker 0
	 * sends this one's frames */
	if (unlikely(c->gw->no_txq[port] != 0 &&
		     c->w->id >= c->gw->no_txq[port])) {
		gw_spread_hand(c, port);
		return;
	}
	sent = rte_eth_tx_burst(port, (uint16_t)c->w->id, c->txq[port].m, n);
	c->w->cnt[GW_TX] += sent;
	if (unlikely(sent < n)) {
		c->w->cnt[GW_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(c->txq[port].m + sent, n - sent);
	}
	c->txq[port].n = 0;
}
