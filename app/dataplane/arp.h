/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ARP_H
#define ESPGW_DATAPLANE_ARP_H

/* RFC 826 ARP: answering for our addresses, learning neighbours, and
 * holding packets (GW_ARP_PENDING a worker) until their next hop
 * answers. */

#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* RFC 826 for our addresses: answer requests, learn who asked or replied. */
void gw_arp_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port);

/* Hold a packet until its next hop answers ARP (bounded, with retries). */
void gw_arp_hold(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
		 uint32_t ip);

/* Send what ARP has resolved, retry what it has not, give up at last. */
void gw_arp_poll(struct gw_ctx *c);

/* At exit: free what is still held, counted as held-arp-queue. */
void gw_arp_release(struct gw_worker *w);

#endif /* ESPGW_DATAPLANE_ARP_H */
