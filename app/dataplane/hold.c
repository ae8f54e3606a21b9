/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The hold queue of packets waiting for a next hop (hold.h). */

#include <string.h>

#include "control/neigh.h"
#include "dataplane/arp.h"
#include "dataplane/hold.h"
#include "dataplane/nd.h"
#include "dataplane/tx.h"

/* ARP asks a few times a second; so does neighbour discovery here
 * (RFC 4861 section 10: RetransTimer 1 s, MAX_MULTICAST_SOLICIT 3),
 * so that a packet waits at most about a second */
#define HOLD_RETRY_MS 250
#define HOLD_TRIES 4 /* then the held packets are dropped */

static bool
same_hop(const struct gw_pending *p, uint16_t port, bool v6, const void *nh)
{
	return p->v6 == v6 && p->port == port &&
	       memcmp(p->nh, nh, v6 ? 16 : 4) == 0;
}

/* Ask for nh on port the way its family asks. */
static void
ask(struct gw_ctx *c, const struct gw_pending *p)
{
	if (p->v6) {
		gw_nd_solicit(c, p->port, p->nh);
	} else {
		uint32_t ip;

		memcpy(&ip, p->nh, sizeof(ip));
		gw_arp_request(c, p->port, ip);
	}
}

/* Is p's next hop known? Then *mac is its MAC. */
static bool
resolved(const struct gw_ctx *c, const struct gw_pending *p,
	 struct rte_ether_addr *mac)
{
	uint32_t ip;

	if (p->v6)
		return gw_neigh_get6(&c->gw->neigh, p->port, p->nh, mac);
	memcpy(&ip, p->nh, sizeof(ip));
	return gw_neigh_get(&c->gw->neigh, p->port, ip, mac);
}

void
gw_hold(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port, bool v6,
	const void *nh)
{
	struct gw_worker *w = c->w;
	struct gw_pending *p;

	if (w->nb_pending == GW_ARP_PENDING) {
		gw_drop(c, m, GW_DROP_ARP_QUEUE_FULL);
		return;
	}
	p = &w->pending[w->nb_pending++];
	*p = (struct gw_pending){ .m = m,
				  .v6 = v6,
				  .port = port,
				  .tries = 1,
				  .next_try = c->now +
					      c->hz * HOLD_RETRY_MS / 1000 };
	memcpy(p->nh, nh, v6 ? 16 : 4);
	/* a next hop already asked for: the packet joins its wait */
	for (unsigned int i = 0; i + 1 < w->nb_pending; i++)
		if (same_hop(&w->pending[i], port, v6, nh)) {
			p->tries = w->pending[i].tries;
			p->next_try = w->pending[i].next_try;
			return;
		}
	ask(c, p);
}

void
gw_hold_poll(struct gw_ctx *c)
{
	struct gw_worker *w = c->w;
	unsigned int keep = 0;

	for (unsigned int i = 0; i < w->nb_pending; i++) {
		struct gw_pending *p = &w->pending[i];
		struct rte_ether_addr mac;
		bool asked = false;

		if (resolved(c, p, &mac)) {
			gw_tx_l2(c, p->m, p->port, &mac,
				 p->v6 ? RTE_ETHER_TYPE_IPV6
				       : RTE_ETHER_TYPE_IPV4);
			continue;
		}
		if (c->now >= p->next_try) {
			if (p->tries >= HOLD_TRIES) {
				gw_drop(c, p->m,
					p->v6 ? GW_DROP_ND_UNRESOLVED
					      : GW_DROP_ARP_UNRESOLVED);
				continue;
			}
			for (unsigned int j = 0; j < keep; j++)
				if (same_hop(&w->pending[j], p->port, p->v6,
					     p->nh))
					asked = true;
			if (!asked)
				ask(c, p);
			p->tries++;
			p->next_try = c->now + c->hz * HOLD_RETRY_MS / 1000;
		}
		w->pending[keep++] = *p;
	}
	w->nb_pending = keep;
}

void
gw_hold_release(struct gw_worker *w)
{
	for (unsigned int i = 0; i < w->nb_pending; i++)
		rte_pktmbuf_free(w->pending[i].m);
	w->cnt[GW_HELD_ARP] += w->nb_pending;
	w->nb_pending = 0;
}
