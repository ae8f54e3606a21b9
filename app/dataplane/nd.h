/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ND_H
#define ESPGW_DATAPLANE_ND_H

/* IPv6 neighbour discovery (RFC 4861) on a worker, as ARP is for IPv4
 * (arp.c): advertisements for our addresses, learning neighbours from
 * solicitations and advertisements, and resolving next hops with
 * solicitations while their packets wait in the worker's hold queue
 * (shared with ARP). No router discovery, redirects or duplicate
 * address detection. */

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* A neighbour solicitation or advertisement (ICMPv6 checksum already
 * checked) received on port from the Ethernet source smac. */
void gw_nd_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
		 const struct rte_ether_addr *smac);

/* Hold an IPv6 packet until its next hop ip on port answers. */
void gw_nd_hold(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
		const uint8_t ip[16]);

/* Send what has been resolved, solicit again what has not, give up at
 * last (drop-nd-unresolved). */
void gw_nd_poll(struct gw_ctx *c);

#endif /* ESPGW_DATAPLANE_ND_H */
