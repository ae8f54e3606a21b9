/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Inbound IPsec processing: decryption and the policy check after it. */

#include <string.h>
#include <sys/socket.h>

#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/ipv6.h"
#include "dataplane/spd.h"

/* ESP for us (RFC 4303 section 3.4): decrypt a burst, then check each
 * inner packet against the in or fwd policies with the SA that
 * decrypted it. */
void
gw_ipsec_inbound(struct gw_ctx *c, struct rte_mbuf **esp, unsigned int n)
{
	struct espgw_sa *sas[GW_BURST];
	uint16_t ok;

	ok = espgw_esp_inbound(c->w->esp, c->t->sad, esp, sas, (uint16_t)n);
	c->w->cnt[GW_DECRYPTED] += ok;
	/* counted by the library under its reason (drop-esp-in) */
	rte_pktmbuf_free_bulk(esp + ok, n - ok);
	gw_policy_check_in(c, esp, sas, ok);
}

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
	gw_spd_match6(c->t, c->w->spd_cache6, dir, kp, p6, n);
	for (unsigned int j = 0; j < n; j++)
		pol[pos[j]] = p6[j];
	if (opol != NULL) {
		gw_spd_match6(c->t, c->w->spd_cache6, GW_OUT, kp, p6, n);
		for (unsigned int j = 0; j < n; j++)
			opol[pos[j]] = p6[j];
	}
}

void
gw_policy_match(struct gw_ctx *c, enum gw_dir dir, struct rte_mbuf **m,
		const uint16_t *idx, unsigned int k, bool l4,
		struct gw_policy **pol, struct gw_policy **opol)
{
	struct gw_acl_key keys[GW_OUT_MAX];
	const uint8_t *kp[GW_OUT_MAX];
	struct gw_policy *p4[GW_OUT_MAX];
	uint16_t at[GW_OUT_MAX], at6[GW_OUT_MAX];
	unsigned int n4 = 0, n6 = 0;

	for (unsigned int j = 0; j < k; j++) {
		struct rte_mbuf *p = m[idx[j]];

		if (gw_is_ip6(p)) {
			at6[n6++] = (uint16_t)j;
			continue;
		}
		gw_acl_key(p, &keys[n4], l4);
		kp[n4] = (const uint8_t *)&keys[n4];
		at[n4++] = (uint16_t)j;
	}
	if (n4 == k) { /* all IPv4, the common case */
		gw_spd_match(c->t, c->w->spd_cache, dir, kp, pol, k);
		if (opol != NULL)
			gw_spd_match(c->t, c->w->spd_cache, GW_OUT, kp, opol,
				     k);
		return;
	}
	match6(c, dir, m, idx, at6, n6, l4, pol, opol);
	gw_spd_match(c->t, c->w->spd_cache, dir, kp, p4, n4);
	for (unsigned int j = 0; j < n4; j++)
		pol[at[j]] = p4[j];
	if (opol != NULL) {
		gw_spd_match(c->t, c->w->spd_cache, GW_OUT, kp, p4, n4);
		for (unsigned int j = 0; j < n4; j++)
			opol[at[j]] = p4[j];
	}
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

/* Is an L3 packet for one of our addresses? */
static inline bool
for_us(const struct gw_tables *t, const struct rte_mbuf *m)
{
	if (gw_is_ip6(m))
		return gw_local6(t, rte_pktmbuf_mtod(
					    m, const struct rte_ipv6_hdr *)
					    ->dst_addr) >= 0;
	return gw_is_local(
		t, rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->dst_addr);
}

/* Check packets that arrived (decrypted by sas[i], or in the clear when
 * sas is NULL) against the in or fwd policies, as xfrm does after
 * input; the ones allowed go on to the gateway or the out path. */
void
gw_policy_check_in(struct gw_ctx *c, struct rte_mbuf **m, struct espgw_sa **sas,
		   unsigned int n)
{
	struct gw_policy *pol[GW_OUT_MAX], *opol[GW_OUT_MAX];
	bool local[GW_OUT_MAX];

	/* in (to us) and fwd (through us) in one pass each */
	for (int pass = 0; pass < 2; pass++) {
		enum gw_dir dir = pass == 0 ? GW_IN : GW_FWD;
		unsigned int k = 0;
		uint16_t idx[GW_OUT_MAX];

		/* no policy to match: no keys to build; packets to forward
		 * get their out policy from the same key */
		bool out_too = dir == GW_FWD && c->t->spd[GW_OUT].nb != 0;
		bool match = c->t->spd[dir].nb != 0 || out_too;
		bool l4 =
			c->t->spd[dir].l4 || (out_too && c->t->spd[GW_OUT].l4);

		for (unsigned int i = 0; i < n; i++) {
			if (pass == 0)
				local[i] = for_us(c->t, m[i]);
			if (local[i] == (pass == 0))
				idx[k++] = (uint16_t)i;
		}
		/* without keys there is nothing to look up: no policy */
		if (match)
			gw_policy_match(c, dir, m, idx, k, l4, pol,
					out_too ? opol : NULL);
		else
			memset(pol, 0, k * sizeof(pol[0]));
		/* with thousands of policies their lines are cold */
		for (unsigned int j = 0; j < RTE_MIN(k, 4u); j++)
			if (pol[j] != NULL)
				rte_prefetch0(pol[j]);
		for (unsigned int j = 0; j < k; j++) {
			struct rte_mbuf *p = m[idx[j]];
			struct espgw_sa *sa = sas ? sas[idx[j]] : NULL;
			struct gw_policy *op = NULL;
			bool known = c->t->spd[GW_OUT].nb == 0;

			if (j + 4 < k && pol[j + 4] != NULL &&
			    pol[j + 4] != pol[j + 3])
				rte_prefetch0(pol[j + 4]);

			if (unlikely(pol[j] == &gw_policy_bad_chain)) {
				gw_drop(c, p, GW_DROP_BAD_EXT6);
				continue;
			}
			if (pol[j] == NULL) {
				/* RFC 4301 section 5.2: tunnel-mode traffic
				 * must match a policy */
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
			if (out_too) {
				op = opol[j];
				known = true;
			}
			if (dir == GW_IN && gw_is_ip6(p))
				gw_local_input6(c, p);
			else if (dir == GW_IN)
				gw_local_input(c, p);
			else if (gw_is_ip6(p))
				gw_forward6(c, p, op, known);
			else
				gw_forward(c, p, op, known);
		}
	}
}
