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
#include "dataplane/spd.h"

struct espgw_sa;

/* n (at most GW_BURST) ESP packets for one of our addresses. */
void gw_ipsec_inbound(struct gw_ctx *c, struct rte_mbuf **esp, unsigned int n);

/* What the pass that splits arriving packets by direction read of
 * each (indexed as the burst): its family and, where its direction
 * matches, an IPv4 packet's key. The match then reads no packet again:
 * at 100,000 SAs the decrypted packets' lines are gone by then. */
struct gw_keys {
	/* the cache's hash reads a key as 8-byte words */
	struct gw_acl_key v4[GW_OUT_MAX] __rte_aligned(8);
	bool v6[GW_OUT_MAX];
};

/* Does the check of direction dir (in or fwd) match keys: its own
 * policies, or the out policies the fwd check asks too? With ports when
 * *l4. */
static inline bool
gw_dir_matches(const struct gw_tables *t, enum gw_dir dir, bool *l4)
{
	const struct gw_spd *out = &t->spd[GW_OUT];
	bool out_too = dir == GW_FWD && out->nb != 0;

	*l4 = t->spd[dir].l4 || (out_too && out->l4);
	return t->spd[dir].nb != 0 || out_too;
}

/* Arriving packets split by direction as they are read (gw_split_add),
 * with what the policy match needs of each. */
struct gw_split {
	uint16_t in[GW_OUT_MAX], fwd[GW_OUT_MAX];
	unsigned int nb_in, nb_fwd;
	bool key_in, key_fwd, l4_in, l4_fwd;
	struct gw_keys keys;
};

static inline void
gw_split_init(const struct gw_tables *t, struct gw_split *s)
{
	s->nb_in = s->nb_fwd = 0;
	s->key_in = gw_dir_matches(t, GW_IN, &s->l4_in);
	s->key_fwd = gw_dir_matches(t, GW_FWD, &s->l4_fwd);
}

/* Packet m, the burst's i-th: to us or through us, and its key. */
static inline void
gw_split_add(const struct gw_tables *t, struct gw_split *s,
	     const struct rte_mbuf *m, unsigned int i)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	bool v6 = gw_is_ip6(m);

	s->keys.v6[i] = v6;
	if (v6 ? gw_local6(t, ((const struct rte_ipv6_hdr *)ip)->dst_addr) >= 0
	       : gw_is_local(t, ip->dst_addr)) {
		s->in[s->nb_in++] = (uint16_t)i;
		if (!v6 && s->key_in)
			gw_acl_key(m, &s->keys.v4[i], s->l4_in);
	} else {
		s->fwd[s->nb_fwd++] = (uint16_t)i;
		if (!v6 && s->key_fwd)
			gw_acl_key(m, &s->keys.v4[i], s->l4_fwd);
	}
}

/* Check packets that arrived (m[i] decrypted by sas[i], or in the
 * clear when sas is NULL), split by s, against the in or fwd policies,
 * as xfrm does after input; the ones allowed go on to the gateway or
 * the out path. */
void gw_policy_check_split(struct gw_ctx *c, struct rte_mbuf **m,
			   struct espgw_sa **sas, const struct gw_split *s);

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
