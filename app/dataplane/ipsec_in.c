/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Inbound IPsec processing: decryption and the policy check after it. */

#include <string.h>

#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/spd.h"

/* ESP for us (RFC 4303 section 3.4): decrypt a burst, then check each
 * inner packet against the in or fwd policies with the SA that
 * decrypted it. */
void
gw_ipsec_inbound(struct gw_ctx *c, struct rte_mbuf **esp, unsigned int n)
{
	struct espgw_sa *sas[GW_BURST];
	unsigned int nb = 0;
	uint16_t ok;

	ok = espgw_esp_inbound(c->w->esp, c->t->sad, esp, sas, (uint16_t)n);
	c->w->cnt[GW_DECRYPTED] += ok;
	/* counted by the library under its reason (drop-esp-in) */
	rte_pktmbuf_free_bulk(esp + ok, n - ok);
	/* the gateway routes IPv4 only, for now; the rest keep their
	 * order */
	for (unsigned int i = 0; i < ok; i++) {
		if (unlikely(esp[i]->packet_type == RTE_PTYPE_L3_IPV6)) {
			gw_drop(c, esp[i], GW_DROP_INNER_IPV6);
			continue;
		}
		sas[nb] = sas[i];
		esp[nb++] = esp[i];
	}
	gw_policy_check_in(c, esp, sas, nb);
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
	return sa != NULL &&
	       espgw_sa_tmpl_match(sa, p->reqid, p->tmpl_src, p->tmpl_dst);
}

/* Check packets that arrived (decrypted by sas[i], or in the clear when
 * sas is NULL) against the in or fwd policies, as xfrm does after
 * input; the ones allowed go on to the gateway or the out path. */
void
gw_policy_check_in(struct gw_ctx *c, struct rte_mbuf **m, struct espgw_sa **sas,
		   unsigned int n)
{
	struct gw_acl_key keys[GW_OUT_MAX];
	const uint8_t *kp[GW_OUT_MAX];
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
				local[i] = gw_is_local(
					c->t,
					rte_pktmbuf_mtod(
						m[i],
						const struct rte_ipv4_hdr *)
						->dst_addr);
			if (local[i] != (pass == 0))
				continue;
			if (match) {
				gw_acl_key(m[i], &keys[k], l4);
				kp[k] = (const uint8_t *)&keys[k];
			}
			idx[k++] = (uint16_t)i;
		}
		/* without keys there is nothing to look up: no policy */
		if (match)
			gw_spd_match(c->t, c->w->spd_cache, dir, kp, pol, k);
		else
			memset(pol, 0, k * sizeof(pol[0]));
		if (out_too)
			gw_spd_match(c->t, c->w->spd_cache, GW_OUT, kp, opol,
				     k);
		/* with thousands of policies their lines are cold */
		for (unsigned int j = 0; j < RTE_MIN(k, 4u); j++)
			if (pol[j] != NULL)
				rte_prefetch0(pol[j]);
		for (unsigned int j = 0; j < k; j++) {
			struct rte_mbuf *p = m[idx[j]];
			struct espgw_sa *sa = sas ? sas[idx[j]] : NULL;

			if (j + 4 < k && pol[j + 4] != NULL &&
			    pol[j + 4] != pol[j + 3])
				rte_prefetch0(pol[j + 4]);

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
			if (dir == GW_IN)
				gw_local_input(c, p);
			else if (out_too)
				gw_forward(c, p, opol[j], true);
			else
				gw_forward(c, p, NULL,
					   c->t->spd[GW_OUT].nb == 0);
		}
	}
}
