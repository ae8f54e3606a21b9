/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_IPV4_H
#define ESPGW_DATAPLANE_IPV4_H

/* IPv4 input: the header check on receive, and where a packet that
 * passed its in or fwd policy goes: to the gateway, or on (TTL). */

#include <stdbool.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* RFC 1812 section 5.2.2: a well-formed IPv4 header, trimmed to its
 * length, from and to addresses that may be on a wire (section 5.3.7:
 * no martians). Returns the header or NULL. */
struct rte_ipv4_hdr *gw_ipv4_check(struct rte_mbuf *m);
/* RFC 1812 section 5.3.7: an address no wire may carry (network 0,
 * loopback; a group or broadcast source). */
bool gw_ipv4_martian(const struct rte_ipv4_hdr *ip);

/* A packet for this gateway, past the in policy check. */
void gw_local_input(struct gw_ctx *c, struct rte_mbuf *m);

/* Decrement TTL (RFC 1812 section 5.3.1) and send on; pol is its out
 * policy, matched already when known. */
void gw_forward(struct gw_ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
		bool known);

#endif /* ESPGW_DATAPLANE_IPV4_H */
