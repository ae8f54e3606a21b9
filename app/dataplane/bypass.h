/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_BYPASS_H
#define ESPGW_DATAPLANE_BYPASS_H

/* The fused pass for clear forwarding: a worker remembers the last
 * IPv4 key whose fwd and out policies both let it through in the clear
 * (RFC 4301 section 4.4.1, BYPASS), and a clear packet with that key
 * goes from the receive loop straight to forwarding, past the policy
 * stages. The answer is the table set's (forgotten with it,
 * gw_ctx_revalidate()); the key holds the destination, so a hit is
 * never for us. */

#include <string.h>

#include "control/tables.h"
#include "dataplane/ctx.h"
#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/spd.h"

/* The key fields both directions look at. */
static inline bool
gw_bypass_l4(const struct gw_tables *t)
{
	return t->spd[GW_FWD].l4 || t->spd[GW_OUT].l4;
}

/* Is a well-formed IPv4 packet (past gw_ipv4_check) of the remembered
 * key? Its addresses are then those of a clear packet forwarded: not a
 * martian, not ours (so not ESP for us), not a group. Packets of one flow all
 * hit or all miss in a burst, as the answer changes only between bursts: a hit
 * never overtakes a packet of its flow. Without ports in the key, the addresses
 * (one 8-byte word in the header and in the key) and the protocol. */
static inline bool
gw_bypass_hit(const struct gw_ctx *c, const struct rte_mbuf *m,
	      const struct rte_ipv4_hdr *ip)
{
	struct gw_acl_key k;
	uint64_t a, b;

	if (!c->byp_valid)
		return false;
	if (!c->byp_l4) {
		memcpy(&a, &ip->src_addr, sizeof(a));
		memcpy(&b, &c->byp_key.src, sizeof(b));
		return a == b && ip->next_proto_id == c->byp_key.proto;
	}
	gw_acl_key(m, &k, true);
	return gw_acl_key_eq(&k, &c->byp_key);
}

/* Remember a clear IPv4 packet to forward if its fwd policy fwd and out
 * policy out both bypass. */
static inline void
gw_bypass_learn(struct gw_ctx *c, const struct rte_mbuf *m,
		const struct gw_policy *fwd, const struct gw_policy *out)
{
	if (!gw_policy_bypass(fwd) || !gw_policy_bypass(out))
		return;
	c->byp_l4 = gw_bypass_l4(c->t);
	gw_acl_key(m, &c->byp_key, c->byp_l4);
	c->byp_valid = true;
}

#endif /* ESPGW_DATAPLANE_BYPASS_H */
