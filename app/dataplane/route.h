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

/* Route an L3 packet and hand it to its next hop. */
void gw_send_ip(struct gw_ctx *c, struct rte_mbuf *m);

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
