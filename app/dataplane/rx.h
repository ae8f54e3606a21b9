/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_RX_H
#define ESPGW_DATAPLANE_RX_H

/* Receiving: where every frame a port gives a worker starts. */

#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* Take n frames received on port; each ends sent, held or counted. */
void gw_rx_burst(struct gw_ctx *c, uint16_t port, struct rte_mbuf **pkts,
		 uint16_t n);

#endif /* ESPGW_DATAPLANE_RX_H */
