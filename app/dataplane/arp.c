/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ARP (RFC 826) on a worker: replies in place, requests with retries,
 * the hold queue. The neighbour table itself is shared (control/neigh.h). */

#include <string.h>

#include <rte_arp.h>

#include "control/neigh.h"
#include "dataplane/arp.h"
#include "dataplane/tx.h"

#define ARP_RETRY_MS 250
#define ARP_TRIES 4 /* then the held packets are dropped */

/* RFC 826: who has ip? tell our address on port. */
static void
arp_request(struct gw_ctx *c, uint16_t port, uint32_t ip)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }
	};
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->gw->pool);
	struct rte_arp_hdr *a;

	/* a request not made is no packet lost: ARP asks again */
	a = m != NULL ? gw_mbuf_put(m, sizeof(*a)) : NULL;
	if (a == NULL) {
		rte_pktmbuf_free(m);
		c->w->cnt[GW_ALLOC_FAILED]++;
		return;
	}
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&c->t->ifaces[port].mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = c->t->ifaces[port].addr;
	memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	a->arp_data.arp_tip = ip;
	c->w->cnt[GW_ARP_REQUESTED]++;
	gw_tx_l2(c, m, port, &bcast, RTE_ETHER_TYPE_ARP);
}

/* Hold a packet until its next hop answers ARP (bounded, with retries). */
void
gw_arp_hold(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port, uint32_t ip)
{
	struct gw_worker *w = c->w;
	struct gw_pending *p;
	bool asked = false;

	if (w->nb_pending == GW_ARP_PENDING) {
		gw_drop(c, m, GW_DROP_ARP_QUEUE_FULL);
		return;
	}
	p = &w->pending[w->nb_pending++];
	*p = (struct gw_pending){ .m = m,
				  .nh_ip = ip,
				  .port = port,
				  .tries = 1,
				  .next_try = c->now +
					      c->hz * ARP_RETRY_MS / 1000 };
	for (unsigned int i = 0; i + 1 < w->nb_pending; i++)
		if (!w->pending[i].v6 && w->pending[i].nh_ip == ip &&
		    w->pending[i].port == port) {
			p->tries = w->pending[i].tries;
			p->next_try = w->pending[i].next_try;
			asked = true;
			break;
		}
	if (!asked)
		arp_request(c, port, ip);
}

/* Send what ARP has resolved, retry what it has not, give up at last. */
void
gw_arp_poll(struct gw_ctx *c)
{
	struct gw_worker *w = c->w;
	unsigned int keep = 0;

	for (unsigned int i = 0; i < w->nb_pending; i++) {
		struct gw_pending *p = &w->pending[i];
		struct rte_ether_addr mac;
		bool asked = false;

		if (p->v6) { /* nd.c's */
			w->pending[keep++] = *p;
			continue;
		}
		if (gw_neigh_get(&c->gw->neigh, p->port, p->nh_ip, &mac)) {
			gw_tx_l2(c, p->m, p->port, &mac, RTE_ETHER_TYPE_IPV4);
			continue;
		}
		if (c->now >= p->next_try) {
			if (p->tries >= ARP_TRIES) {
				gw_drop(c, p->m, GW_DROP_ARP_UNRESOLVED);
				continue;
			}
			for (unsigned int j = 0; j < keep; j++)
				if (!w->pending[j].v6 &&
				    w->pending[j].nh_ip == p->nh_ip &&
				    w->pending[j].port == p->port)
					asked = true;
			if (!asked)
				arp_request(c, p->port, p->nh_ip);
			p->tries++;
			p->next_try = c->now + c->hz * ARP_RETRY_MS / 1000;
		}
		w->pending[keep++] = *p;
	}
	w->nb_pending = keep;
}

/* RFC 826 for our addresses: answer requests, learn who asked or replied. */
void
gw_arp_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	const struct gw_iface *f = &c->t->ifaces[port];
	uint32_t tip, sip;
	uint16_t op;

	if (m->data_len < sizeof(*eth) + sizeof(*a) ||
	    a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4) {
		gw_drop(c, m, GW_DROP_BAD_ARP);
		return;
	}
	op = rte_be_to_cpu_16(a->arp_opcode);
	tip = a->arp_data.arp_tip;
	sip = a->arp_data.arp_sip;
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		gw_drop(c, m, GW_DROP_BAD_ARP);
		return;
	}
	/* only conversations with us teach us anything */
	if (!gw_is_local(c->t, tip)) {
		gw_drop(c, m, GW_DROP_NOT_FOR_US);
		return;
	}
	if (sip != 0 && !rte_is_multicast_ether_addr(&a->arp_data.arp_sha)) {
		gw_neigh_set(&c->gw->neigh, port, sip, &a->arp_data.arp_sha,
			     false);
		c->w->cnt[GW_ARP_LEARNED]++;
	}
	if (op != RTE_ARP_OP_REQUEST) {
		c->w->cnt[GW_ARP_REPLIES_RECEIVED]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* the reply, in place */
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&f->mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = tip;
	rte_pktmbuf_adj(m, sizeof(*eth));
	rte_pktmbuf_trim(m, m->data_len - sizeof(*a));
	c->w->cnt[GW_ARP_REPLIED]++;
	gw_tx_l2(c, m, port, &a->arp_data.arp_tha, RTE_ETHER_TYPE_ARP);
}

void
gw_arp_release(struct gw_worker *w)
{
	for (unsigned int i = 0; i < w->nb_pending; i++)
		rte_pktmbuf_free(w->pending[i].m);
	w->cnt[GW_HELD_ARP] += w->nb_pending;
	w->nb_pending = 0;
}
