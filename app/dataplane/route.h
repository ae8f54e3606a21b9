/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ROUTE_H
#define ESPGW_DATAPLANE_ROUTE_H

/* Routing an L3 packet to its next hop: the route (rte_lpm), the port's
 * MTU (fragmenting or refusing what does not fit), the neighbour, TX. */

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* Route an L3 packet and hand it to its next hop. */
void gw_send_ip(struct gw_ctx *c, struct rte_mbuf *m);

#endif /* ESPGW_DATAPLANE_ROUTE_H */
