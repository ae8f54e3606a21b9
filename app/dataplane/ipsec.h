/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_IPSEC_H
#define ESPGW_DATAPLANE_IPSEC_H

/* IPsec on the data path (RFC 4301 section 5): inbound, ESP decryption
 * and the in/fwd policy check every arriving packet passes; outbound,
 * the out policy, protection and the tunnel MTU, for every packet that
 * leaves at L3. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "control/spd.h"
#include "dataplane/ctx.h"

struct espgw_sa;

/* n (at most GW_BURST) ESP packets for one of our addresses. */
void gw_ipsec_inbound(struct gw_ctx *c, struct rte_mbuf **esp, unsigned int n);

/* Check packets that arrived (decrypted by sas[i], or in the clear when
 * sas is NULL) against the in or fwd policies, as xfrm does after
 * input; the ones allowed go on to the gateway or the out path. */
void gw_policy_check_in(struct gw_ctx *c, struct rte_mbuf **m,
			struct espgw_sa **sas, unsigned int n);

/* Match packets m[idx[0..k)] of either family against the policies of
 * direction dir into pol[0..k), and the out policies into opol when not
 * NULL, from the same keys (ports only with l4). */
void gw_policy_match(struct gw_ctx *c, enum gw_dir dir, struct rte_mbuf **m,
		     const uint16_t *idx, unsigned int k, bool l4,
		     struct gw_policy **pol, struct gw_policy **opol);

/* The answer for an IPv6 packet whose extension headers cannot be
 * walked safely (more than 8, or past its data): drop-bad-ext-headers. */
extern struct gw_policy gw_policy_bad_chain;

/* The out path (RFC 4301 section 5.1): match out policies a burst at a
 * time; protect, bypass or discard; then route. */
void gw_out_flush(struct gw_ctx *c);

/* Does an out policy let a packet leave in the clear (RFC 4301 section
 * 4.4.1, BYPASS): none matched, or allow without a template? */
static inline bool
gw_policy_bypass(const struct gw_policy *p)
{
	return p == NULL || (p != &gw_policy_bad_chain &&
			     p->action == ESPGW_POL_ALLOW && !p->has_tmpl);
}

/* Queue an L3 packet for the out path (policy, ESP, route), with its
 * out policy when known already. */
static inline void
gw_out_queue(struct gw_ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
	     bool known)
{
	if (c->nb_out == GW_OUT_MAX)
		gw_out_flush(c);
	c->out_pol[c->nb_out] = pol;
	c->out_known[c->nb_out] = known;
	c->out[c->nb_out++] = m;
}

static inline void
gw_out_add(struct gw_ctx *c, struct rte_mbuf *m)
{
	gw_out_queue(c, m, NULL, false);
}

#endif /* ESPGW_DATAPLANE_IPSEC_H */
