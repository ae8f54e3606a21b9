/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ARP (RFC 826) on a worker: replies in place, and the requests the
 * hold queue (hold.c) asks for. The neighbour table itself is shared
 * (control/neigh.h). */

#include <string.h>

#include <rte_arp.h>

#include "control/neigh.h"
#include "dataplane/arp.h"
#include "dataplane/tx.h"

/* RFC 826: who has ip? tell our address on port. */
void
gw_arp_request(struct gw_ctx *c, uint16_t port, uint32_t ip)
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
