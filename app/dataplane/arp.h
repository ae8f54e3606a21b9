/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ARP_H
#define ESPGW_DATAPLANE_ARP_H

/* RFC 826 ARP: answering for our addresses, learning neighbours, and
 * asking for next hops (the hold queue, hold.h, holds their packets). */

#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* RFC 826 for our addresses: answer requests, learn who asked or replied. */
void gw_arp_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port);

/* RFC 826: who has ip? tell our address on port (hold.c asks). */
void gw_arp_request(struct gw_ctx *c, uint16_t port, uint32_t ip);

#endif /* ESPGW_DATAPLANE_ARP_H */
