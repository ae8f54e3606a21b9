/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Inbound IPsec processing: decryption and the policy check after it. */

#include <string.h>
#include <sys/socket.h>

#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dataplane/fused.h"
#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/ipv6.h"
#include "dataplane/spd.h"

struct gw_policy gw_policy_bad_chain;

/* Match the IPv6 packets at[0..n6) of idx against dir (and out); one
 * whose extension headers cannot be walked to its selector's fields
 * gets gw_policy_bad_chain. */
static void
match6(struct gw_ctx *c, enum gw_dir dir, struct rte_mbuf **m,
       const uint16_t *idx, const uint16_t *at, unsigned int n6, bool l4,
       struct gw_policy **pol, struct gw_policy **opol)
{
	struct gw_acl_key6 keys[GW_OUT_MAX];
	const uint8_t *kp[GW_OUT_MAX];
	struct gw_policy *p6[GW_OUT_MAX];
	uint16_t pos[GW_OUT_MAX];
	unsigned int n = 0;

	for (unsigned int j = 0; j < n6; j++) {
		if (gw_acl_key6(m[idx[at[j]]], &keys[n], l4) != 0) {
			pol[at[j]] = &gw_policy_bad_chain;
			if (opol != NULL)
				opol[at[j]] = &gw_policy_bad_chain;
			continue;
		}
		kp[n] = (const uint8_t *)&keys[n];
		pos[n++] = at[j];
	}
	if (opol != NULL) {
		struct gw_policy *o6[GW_OUT_MAX];

		gw_spd_lookup_pair6(&c->t->spd[dir], &c->t->spd[GW_OUT],
				    c->w->spd_cache6, kp, p6, o6, n);
		for (unsigned int j = 0; j < n; j++)
			opol[pos[j]] = o6[j];
	} else {
		gw_spd_match6(c->t, c->w->spd_cache6, dir, kp, p6, n);
	}
	for (unsigned int j = 0; j < n; j++)
		pol[pos[j]] = p6[j];
}

/* gw_policy_match with the IPv4 keys and families in pre when not
 * NULL. */
static void
match(struct gw_ctx *c, enum gw_dir dir, struct rte_mbuf **m,
      const uint16_t *idx, unsigned int k, bool l4, const struct gw_keys *pre,
      struct gw_policy **pol, struct gw_policy **opol)
{
	enum { V6 = UINT16_MAX };
	struct gw_acl_key keys[GW_OUT_MAX] __rte_aligned(8); /* as gw_keys */
	const uint8_t *kp[GW_OUT_MAX];
	struct gw_policy *p4[GW_OUT_MAX], *o4[GW_OUT_MAX];
	uint16_t key_of[GW_OUT_MAX], at6[GW_OUT_MAX];
	unsigned int nk = 0, n6 = 0;

	/* a burst carries runs of one flow (or one pair of hosts): one
	 * lookup a run of equal keys, for both directions */
	for (unsigned int j = 0; j < k; j++) {
		const struct gw_acl_key *key = &keys[nk];

		if (pre != NULL ? pre->v6[idx[j]] : gw_is_ip6(m[idx[j]])) {
			key_of[j] = V6;
			at6[n6++] = (uint16_t)j;
			continue;
		}
		if (pre != NULL)
			key = &pre->v4[idx[j]];
		else
			gw_acl_key(m[idx[j]], &keys[nk], l4);
		if (nk == 0 ||
		    !gw_acl_key_eq(key, (const struct gw_acl_key *)kp[nk - 1]))
			kp[nk++] = (const uint8_t *)key;
		key_of[j] = (uint16_t)(nk - 1);
	}
	if (n6)
		match6(c, dir, m, idx, at6, n6, l4, pol, opol);
	if (nk == 0)
		return;
	if (opol != NULL)
		gw_spd_lookup_pair(&c->t->spd[dir], &c->t->spd[GW_OUT],
				   c->w->spd_cache, kp, p4, o4, nk);
	else
		gw_spd_match(c->t, c->w->spd_cache, dir, kp, p4, nk);
	for (unsigned int j = 0; j < k; j++) {
		if (key_of[j] == V6)
			continue;
		pol[j] = p4[key_of[j]];
		if (opol != NULL)
			opol[j] = o4[key_of[j]];
	}
}

void
gw_policy_match(struct gw_ctx *c, enum gw_dir dir, struct rte_mbuf **m,
		const uint16_t *idx, unsigned int k, bool l4,
		struct gw_policy **pol, struct gw_policy **opol)
{
	match(c, dir, m, idx, k, l4, NULL, pol, opol);
}

/* Does the SA that decrypted a packet satisfy the policy's template?
 * (RFC 4301 section 5.2, step 4; xfrm_state_ok) */
static bool
tmpl_ok(const struct gw_policy *p, const struct espgw_sa *sa)
{
	/* A tunnel-mode SA that no template accounts for is a mismatch
	 * too, as __xfrm_policy_check() rejects a secpath entry left over
	 * (XfrmInTmplMismatch): a policy without a template admits only
	 * packets that came in the clear. */
	if (!p->has_tmpl)
		return sa == NULL;
	if (p->cfg.tmpl_family == AF_INET6)
		return sa != NULL &&
		       espgw_sa_tmpl_match6(sa, p->reqid, p->cfg.tmpl_src6,
					    p->cfg.tmpl_dst6);
	return sa != NULL &&
	       espgw_sa_tmpl_match(sa, p->reqid, p->tmpl_src, p->tmpl_dst);
}

/* The packets m[idx[0..k)] of one direction, in (to us) or fwd
 * (through us), against its policies, from the keys in pre; those
 * allowed go on to the gateway or the out path. Packets to forward get
 * their out policy from the same key. */
static inline void
check_dir(struct gw_ctx *c, enum gw_dir dir, struct rte_mbuf **m,
	  struct espgw_sa **sas, const uint16_t *idx, unsigned int k,
	  const struct gw_keys *pre)
{
	struct gw_policy *pol[GW_OUT_MAX], *opol[GW_OUT_MAX];
	const struct gw_spd *out = &c->t->spd[GW_OUT];
	bool out_too = dir == GW_FWD && out->nb != 0;
	/* without an out policy the answer is known: none */
	bool known = out_too || out->nb == 0;
	bool l4;

	/* no policy to match: no keys to build */
	if (gw_dir_matches(c->t, dir, &l4))
		match(c, dir, m, idx, k, l4, pre, pol, out_too ? opol : NULL);
	else
		memset(pol, 0, k * sizeof(pol[0]));
	/* with thousands of policies their lines are cold */
	for (unsigned int j = 0; j < RTE_MIN(k, 4u); j++)
		if (pol[j] != NULL)
			rte_prefetch0(pol[j]);
	/* forwarding teaches the fused pass, once a burst a family */
	bool learnt[2] = { false, false };

	for (unsigned int j = 0; j < k; j++) {
		struct rte_mbuf *p = m[idx[j]];
		struct espgw_sa *sa = sas ? sas[idx[j]] : NULL;
		struct gw_policy *op = out_too ? opol[j] : NULL;

		if (j + 4 < k && pol[j + 4] != NULL && pol[j + 4] != pol[j + 3])
			rte_prefetch0(pol[j + 4]);

		if (unlikely(pol[j] == &gw_policy_bad_chain)) {
			gw_drop(c, p, GW_DROP_BAD_EXT6);
			continue;
		}
		if (pol[j] == NULL) {
			/* RFC 4301 section 5.2: tunnel-mode traffic must
			 * match a policy */
			if (sa != NULL) {
				gw_drop(c, p, GW_DROP_IN_NO_POLICY);
				continue;
			}
		} else if (pol[j]->action == ESPGW_POL_BLOCK) {
			gw_drop(c, p, GW_DROP_POLICY_BLOCK);
			continue;
		} else if (!tmpl_ok(pol[j], sa)) {
			gw_drop(c, p,
				sa ? GW_DROP_IN_TMPL_MISMATCH
				   : GW_DROP_UNPROTECTED);
			continue;
		}
		bool v6 = pre->v6[idx[j]];

		if (dir == GW_IN) {
			if (v6)
				gw_local_input6(c, p);
			else
				gw_local_input(c, p);
			continue;
		}
		if (!learnt[v6]) {
			gw_fused_learn(c, p, sa, op);
			learnt[v6] = true;
		}
		if (v6)
			gw_forward6(c, p, op, known);
		else
			gw_forward(c, p, op, known);
	}
}

void
gw_policy_check_split(struct gw_ctx *c, struct rte_mbuf **m,
		      struct espgw_sa **sas, const struct gw_split *s)
{
	if (s->nb_in)
		check_dir(c, GW_IN, m, sas, s->in, s->nb_in, &s->keys);
	if (s->nb_fwd)
		check_dir(c, GW_FWD, m, sas, s->fwd, s->nb_fwd, &s->keys);
}

/* ESP for us (RFC 4303 section 3.4): decrypt a burst, then check each
 * inner packet against the in or fwd policies with the SA that
 * decrypted it (gw_policy_check_split, its split made in the same pass). */
void
gw_ipsec_inbound(struct gw_ctx *c, struct rte_mbuf **esp, unsigned int n)
{
	struct espgw_sa *sas[GW_BURST];
	struct gw_split s;
	uint16_t ok, k = 0;

	ok = espgw_esp_inbound(c->w->esp, c->t->sad, esp, sas, (uint16_t)n);
	c->w->cnt[GW_DECRYPTED] += ok;
	/* counted by the library under its reason (drop-esp-in) */
	rte_pktmbuf_free_bulk(esp + ok, n - ok);
	gw_split_init(c->t, &s);
	for (uint16_t i = 0; i < ok; i++) {
		struct rte_mbuf *p = esp[i];
		bool v6 = gw_is_ip6(p);

		/* the flow and SA last let through, while none before it
		 * waits for the stages: on (its addresses are those of the
		 * packet that taught it, which passed the checks below) */
		if (k == 0 && !v6 && sas[i] == c->fused_dec.sa &&
		    gw_fused_hit(&c->fused_dec, p)) {
			gw_forward(c, p, c->fused_dec.out, true);
			continue;
		}
		if (k == 0 && v6 && sas[i] == c->fused6_dec.sa &&
		    gw_fused6_hit(&c->fused6_dec, p)) {
			gw_forward6(c, p, c->fused6_dec.out, true);
			continue;
		}
		/* the inner packet is received again, as Linux's
		 * xfrm_input hands it to ip_rcv or ipv6_rcv */
		if (!(v6 ? gw_ipv6_inner_ok(c, p) : gw_ipv4_inner_ok(c, p)))
			continue;
		/* and split for the policy check while its line is here */
		gw_split_add(c->t, &s, p, k);
		esp[k] = p;
		sas[k++] = sas[i];
	}
	gw_policy_check_split(c, esp, sas, &s);
}
