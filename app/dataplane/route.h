/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ROUTE_H
#define ESPGW_DATAPLANE_ROUTE_H

/* Routing an L3 packet to its next hop: the route (rte_lpm; rte_rib6
 * for IPv6), the port's MTU (fragmenting or refusing what does not
 * fit), the neighbour, TX. */

#include <rte_mbuf.h>

#include "dataplane/ctx.h"
#include "dataplane/ipv6.h"
#include "dataplane/tx.h"

/* Route an L3 packet and hand it to its next hop. */
void gw_send_ip(struct gw_ctx *c, struct rte_mbuf *m);

/* gw_send_ip for a packet to the destination sent to last in this
 * loop, when it fits the link: the route, MTU and Ethernet header are
 * the ones remembered (the common case of a burst of one flow). */
static inline void
gw_send_ip_fast(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);

	if (c->tx_valid && c->tx_dst == ip->dst_addr &&
	    gw_ip_len(m) <= c->rt_mtu)
		gw_tx_eth(c, m, c->hop_port, &c->hop_eth);
	else
		gw_send_ip(c, m);
}

/* Route an L3 packet of either family. */
static inline void
gw_send_l3(struct gw_ctx *c, struct rte_mbuf *m)
{
	if (gw_is_ip6(m))
		gw_send_ip6(c, m);
	else
		gw_send_ip(c, m);
}

#endif /* ESPGW_DATAPLANE_ROUTE_H */
