/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Outbound IPsec processing: out policy, protect, tunnel MTU. */

#include <string.h>

#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dataplane/frag.h"
#include "dataplane/icmp.h"
#include "dataplane/icmp6.h"
#include "dataplane/ipsec.h"
#include "dataplane/route.h"
#include "dataplane/spd.h"

/* Encrypt packets (each with its own SA) and send the results. */
static void
protect(struct gw_ctx *c, struct espgw_sa **sa, struct rte_mbuf **m,
	unsigned int n)
{
	uint16_t ok = espgw_esp_outbound_bulk(c->w->esp, sa, m, (uint16_t)n);

	c->w->cnt[GW_ENCRYPTED] += ok;
	/* counted by the library under the SA's reason (drop-esp-out) */
	rte_pktmbuf_free_bulk(m + ok, n - ok);
	for (unsigned int i = 0; i < ok; i++) {
		if (gw_is_ip6(m[i]))
			gw_send_esp6(c, m[i]);
		else
			gw_send_ip_fast(c, m[i]);
	}
}

/* The out path (RFC 4301 section 5.1): match out policies a burst at a
 * time; protect, bypass or discard; then route. */
void
gw_out_flush(struct gw_ctx *c)
{
	struct gw_policy *pol[GW_OUT_MAX], *found[GW_OUT_MAX];
	struct rte_mbuf *pkts[GW_OUT_MAX], *run[GW_OUT_MAX + GW_FRAG_MAX];
	struct espgw_sa *run_sa[GW_OUT_MAX + GW_FRAG_MAX];
	const struct gw_bound *bound = c->t->bound;
	unsigned int n = c->nb_out, nb_run = 0, nb_new = 0;
	uint16_t idx[GW_OUT_MAX];

	if (n == 0)
		return;
	memcpy(pkts, c->out, n * sizeof(pkts[0]));
	memcpy(pol, c->out_pol, n * sizeof(pol[0]));
	c->nb_out = 0; /* ICMP made below queues anew */
	/* match what was not matched on the way in (our own packets) */
	for (unsigned int i = 0; i < n; i++)
		if (!c->out_known[i])
			idx[nb_new++] = (uint16_t)i;
	if (nb_new) {
		gw_policy_match(c, GW_OUT, pkts, idx, nb_new,
				c->t->spd[GW_OUT].l4, found, NULL);
		for (unsigned int j = 0; j < nb_new; j++)
			pol[idx[j]] = found[j];
	}

	/* At 10,000 policies and 100,000 SAs their lines are cold: ask for
	 * a policy four packets ahead, once it has come its binding three
	 * ahead, and its SA two ahead (the ESP library wants the SA's
	 * first line first). */
	for (unsigned int i = 0; i < RTE_MIN(n, 4u); i++)
		if (pol[i] != NULL)
			rte_prefetch0(pol[i]);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct gw_policy *p = pol[i];
		const struct gw_bound *b;

		if (i + 4 < n && pol[i + 4] != NULL && pol[i + 4] != pol[i + 3])
			rte_prefetch0(pol[i + 4]);
		if (i + 3 < n && pol[i + 3] != NULL &&
		    pol[i + 3] != pol[i + 2] && pol[i + 3]->has_tmpl)
			rte_prefetch0(&bound[pol[i + 3]->id]);
		if (i + 2 < n && pol[i + 2] != NULL &&
		    pol[i + 2] != pol[i + 1] && pol[i + 2]->has_tmpl &&
		    bound[pol[i + 2]->id].sa != NULL)
			rte_prefetch0(bound[pol[i + 2]->id].sa);

		if (unlikely(p == &gw_policy_bad_chain)) {
			gw_drop(c, m, GW_DROP_BAD_EXT6);
			continue;
		}
		if (gw_policy_bypass(p)) {
			gw_send_l3(c, m);
			continue;
		}
		if (p->action == ESPGW_POL_BLOCK) {
			gw_drop(c, m, GW_DROP_POLICY_BLOCK);
			continue;
		}
		b = &bound[p->id];
		if (b->sa == NULL) {
			gw_drop(c, m, GW_DROP_NO_SA);
			continue;
		}
		if (nb_run + GW_FRAG_MAX > RTE_DIM(run)) {
			protect(c, run_sa, run, nb_run);
			nb_run = 0;
		}
		if (unlikely(gw_is_ip6(m))) {
			/* RFC 8200 section 5: IPv6 is never fragmented on
			 * the way; the sender learns the tunnel's MTU */
			if (gw_ip6_len(m) > b->max_inner) {
				gw_icmp6_error(c, m, ESPGW_ICMP6_PKT_TOO_BIG, 0,
					       b->max_inner);
				gw_drop(c, m, GW_DROP_FRAG_NEEDED);
				continue;
			}
		} else if (unlikely(gw_ip_len(m) > b->max_inner)) {
			/* RFC 4459 section 3: fragment before encryption,
			 * or tell the sender the tunnel's MTU */
			const struct rte_ipv4_hdr *ip =
				rte_pktmbuf_mtod(m, const void *);
			int nf;

			if (ip->fragment_offset &
			    rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
				gw_icmp_error(c, m, ESPGW_ICMP_DEST_UNREACH,
					      ESPGW_ICMP_CODE_FRAG_NEEDED,
					      b->max_inner);
				gw_drop(c, m, GW_DROP_FRAG_NEEDED);
				continue;
			}
			if (b->frag_outer)
				goto whole; /* fragmented once encrypted */
			nf = gw_fragment(c, m, b->max_inner, run + nb_run);
			for (int f = 0; f < nf; f++)
				run_sa[nb_run++] = b->sa;
			continue;
		}
	whole:
		run_sa[nb_run] = b->sa;
		run[nb_run++] = m;
	}
	if (nb_run)
		protect(c, run_sa, run, nb_run);
	/* ICMP errors and replies made on the way go out too */
	if (c->nb_out)
		gw_out_flush(c);
}
