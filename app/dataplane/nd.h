/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ND_H
#define ESPGW_DATAPLANE_ND_H

/* IPv6 neighbour discovery (RFC 4861) on a worker, as ARP is for IPv4
 * (arp.c): advertisements for our addresses, learning neighbours from
 * solicitations and advertisements, and soliciting next hops while
 * their packets wait in the worker's hold queue (hold.h). No router discovery,
 * redirects or duplicate address detection. */

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* A neighbour solicitation or advertisement (ICMPv6 checksum already
 * checked) received on port from the Ethernet source smac. */
void gw_nd_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
		 const struct rte_ether_addr *smac);

/* Section 7.2.2: who has target? (the hold queue, hold.c, asks) */
void gw_nd_solicit(struct gw_ctx *c, uint16_t port, const uint8_t target[16]);

#endif /* ESPGW_DATAPLANE_ND_H */
