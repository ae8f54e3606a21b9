/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_HOLD_H
#define ESPGW_DATAPLANE_HOLD_H

/* The packets a worker holds (GW_ARP_PENDING at most) until their next
 * hop's MAC is known: asked for by ARP (arp.c) for IPv4 next hops, by
 * neighbour solicitation (nd.c) for IPv6 ones, the same retries for
 * both. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* Hold an L3 packet for next hop nh on port: an IPv4 address (network
 * order, 4 bytes) or, with v6, an IPv6 one (16 bytes). The first packet
 * for a next hop asks for it; full: drop-arp-queue-full. */
void gw_hold(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port, bool v6,
	     const void *nh);

/* Send what has been resolved, ask again for what has not (every 250
 * ms), give up after 4 tries (drop-arp-unresolved, drop-nd-unresolved). */
void gw_hold_poll(struct gw_ctx *c);

/* At exit: free what is still held, counted as held-arp-queue. */
void gw_hold_release(struct gw_worker *w);

#endif /* ESPGW_DATAPLANE_HOLD_H */
