/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_LIMITS_H
#define ESPGW_DATAPLANE_LIMITS_H

/* The data path's fixed sizes. */

#define GW_MAX_WORKERS 16
#define GW_BURST 32		  /* packets a port gives in one rx_burst */
#define GW_OUT_MAX (GW_BURST * 4) /* packets the out path takes at once */
#define GW_TXQ_MAX 64	  /* packets gathered per port before a tx_burst */
#define GW_FRAG_MAX 64	  /* fragments the gateway splits a packet into */
#define GW_ARP_PENDING 64 /* packets a worker holds for ARP */

#endif /* ESPGW_DATAPLANE_LIMITS_H */
