/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_TX_H
#define ESPGW_DATAPLANE_TX_H

/* Sending: a worker gathers each port's packets and sends them with one
 * rte_eth_tx_burst at the end of its loop, or when a port's queue is
 * full. */

#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* Send what is queued for a port; what the queue does not take is
 * dropped and counted. */
void gw_tx_flush(struct gw_ctx *c, uint16_t port);

/* Put a prebuilt Ethernet header in front and queue for TX. */
static inline void
gw_tx_eth(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
	  const struct rte_ether_hdr *hdr)
{
	struct rte_ether_hdr *eth;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (unlikely(eth == NULL)) {
		gw_drop(c, m, GW_DROP_NO_HEADROOM);
		return;
	}
	memcpy(eth, hdr, sizeof(*eth));
	c->txq[port].m[c->txq[port].n++] = m;
	if (unlikely(c->txq[port].n == GW_TXQ_MAX))
		gw_tx_flush(c, port);
}

/* The Ethernet header from our port to dmac. */
static inline struct rte_ether_hdr
gw_eth_hdr(const struct gw_ctx *c, uint16_t port,
	   const struct rte_ether_addr *dmac, uint16_t type)
{
	struct rte_ether_hdr h = { .ether_type = rte_cpu_to_be_16(type) };

	rte_ether_addr_copy(dmac, &h.dst_addr);
	rte_ether_addr_copy(&c->t->ifaces[port].mac, &h.src_addr);
	return h;
}

static inline void
gw_tx_l2(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
	 const struct rte_ether_addr *dmac, uint16_t type)
{
	struct rte_ether_hdr h = gw_eth_hdr(c, port, dmac, type);

	gw_tx_eth(c, m, port, &h);
}

#endif /* ESPGW_DATAPLANE_TX_H */
