/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* IPv6 neighbour discovery (RFC 4861) on a worker. The neighbour table
 * itself is shared with ARP (control/neigh.h), and so is the hold queue
 * (hold.c). */

#include <assert.h>
#include <string.h>

#include "control/neigh.h"
#include "dataplane/icmp6.h"
#include "dataplane/ipv6.h"
#include "dataplane/nd.h"
#include "dataplane/tx.h"

/* NS and NA (RFC 4861 sections 4.3, 4.4): the ICMPv6 header, a word of
 * flags, the target, then options. */
struct nd_msg {
	uint8_t type, code;
	rte_be16_t cksum;
	uint8_t flags, reserved[3];
	uint8_t target[16];
} __attribute__((packed));

static_assert(sizeof(struct nd_msg) == ESPGW_ND_MSG_LEN, "RFC 4861 4.3, 4.4");

/* A link-layer address option of type t (section 4.6.1). */
struct nd_lla {
	uint8_t type, len;
	uint8_t mac[RTE_ETHER_ADDR_LEN];
};

/* The link-layer address option of type t among the options of an ND
 * message of len bytes: 1 with *mac set, 0 when absent, -1 when the
 * options are malformed (a zero length, or past the end: section
 * 7.1.1). */
static int
nd_option(const struct nd_msg *nd, uint16_t len, uint8_t t,
	  struct rte_ether_addr *mac)
{
	const uint8_t *o = (const uint8_t *)(nd + 1);
	uint16_t left = len - sizeof(*nd);
	int found = 0;

	while (left > 0) {
		uint16_t olen;

		if (left < 2 || o[1] == 0)
			return -1;
		olen = (uint16_t)(o[1] * ESPGW_ND_OPT_UNIT);
		if (olen > left)
			return -1;
		if (o[0] == t && olen == sizeof(struct nd_lla)) {
			memcpy(mac, o + 2, RTE_ETHER_ADDR_LEN);
			found = 1;
		}
		o += olen;
		left -= olen;
	}
	return found;
}

/* An NS or NA of ours, from src on port, to dst (and its Ethernet
 * address dmac), with a link-layer address option of type opt, in m
 * (which holds at least the IPv6 header). */
static void
nd_send(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port, uint8_t type,
	uint8_t flags, const uint8_t src[16], const uint8_t dst[16],
	const uint8_t target[16], uint8_t opt,
	const struct rte_ether_addr *dmac)
{
	const uint16_t plen = sizeof(struct nd_msg) + sizeof(struct nd_lla);
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, void *);
	struct nd_msg *nd = (struct nd_msg *)(ip6 + 1);
	struct nd_lla *lla = (struct nd_lla *)(nd + 1);

	/* whatever m held, it is now this message */
	m->data_len = m->pkt_len = sizeof(*ip6) + plen;
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(plen);
	ip6->proto = ESPGW_IPPROTO_ICMPV6;
	ip6->hop_limits = ESPGW_ND_HOP_LIMIT;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
	memset(nd, 0, sizeof(*nd));
	nd->type = type;
	nd->flags = flags;
	memcpy(nd->target, target, 16);
	lla->type = opt;
	lla->len = sizeof(*lla) / ESPGW_ND_OPT_UNIT;
	memcpy(lla->mac, c->t->ifaces[port].mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	nd->cksum = gw_icmp6_cksum(ip6);
	gw_tx_l2(c, m, port, dmac, RTE_ETHER_TYPE_IPV6);
}

/* Section 7.2.2: who has target? To its solicited-node group, from our
 * address on port. A solicitation not made is no packet lost: the hold
 * queue asks again. */
void
gw_nd_solicit(struct gw_ctx *c, uint16_t port, const uint8_t target[16])
{
	const uint8_t *src = gw_port_addr6(c->t, port);
	const uint16_t len = sizeof(struct rte_ipv6_hdr) +
			     sizeof(struct nd_msg) + sizeof(struct nd_lla);
	struct rte_ether_addr dmac;
	struct rte_mbuf *m;
	uint8_t group[16];

	/* with no address of ours there, it could only be sent from ::,
	 * which section 7.2.2 keeps for address detection */
	if (src == NULL)
		return;
	m = rte_pktmbuf_alloc(c->gw->pool);
	if (m == NULL || gw_mbuf_put(m, len) == NULL) {
		rte_pktmbuf_free(m);
		c->w->cnt[GW_ALLOC_FAILED]++;
		return;
	}
	gw_ip6_solicited_node(group, target);
	gw_ip6_mcast_mac(&dmac, group);
	c->w->cnt[GW_ND_SOLICITED]++;
	nd_send(c, m, port, ESPGW_ND_NEIGHBOR_SOLICIT, 0, src, group, target,
		ESPGW_ND_OPT_SRC_LLADDR, &dmac);
}

void
gw_nd_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
	    const struct rte_ether_addr *smac)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, void *);
	const struct nd_msg *nd = (const struct nd_msg *)(ip6 + 1);
	uint16_t len = rte_be_to_cpu_16(ip6->payload_len);
	struct rte_ether_addr lla, dmac;
	uint8_t src[16], target[16];
	bool unspec;
	int has, me;

	/* section 7.1.1 and 7.1.2: validity before anything is believed */
	if (ip6->hop_limits != ESPGW_ND_HOP_LIMIT || len < sizeof(*nd) ||
	    nd->code != 0 || nd->target[0] == 0xff) {
		gw_drop(c, m, GW_DROP_BAD_ICMP6);
		return;
	}
	has = nd_option(nd, len,
			nd->type == ESPGW_ND_NEIGHBOR_SOLICIT
				? ESPGW_ND_OPT_SRC_LLADDR
				: ESPGW_ND_OPT_TGT_LLADDR,
			&lla);
	unspec = gw_ip6_unspec(ip6->src_addr);
	if (has < 0 ||
	    (nd->type == ESPGW_ND_NEIGHBOR_SOLICIT && unspec &&
	     (has || ip6->dst_addr[0] != 0xff)) ||
	    (nd->type == ESPGW_ND_NEIGHBOR_ADVERT && ip6->dst_addr[0] == 0xff &&
	     (nd->flags & ESPGW_ND_NA_SOLICITED))) {
		gw_drop(c, m, GW_DROP_BAD_ICMP6);
		return;
	}
	memcpy(src, ip6->src_addr, 16);
	memcpy(target, nd->target, 16);
	me = gw_local6(c->t, target);
	if (nd->type == ESPGW_ND_NEIGHBOR_ADVERT) {
		/* section 7.2.5: what a neighbour says of itself */
		if (has && me < 0) {
			gw_neigh_set6(&c->gw->neigh, port, target, &lla, false);
			c->w->cnt[GW_ND_LEARNED]++;
		}
		c->w->cnt[GW_ND_ADVERTS_RECEIVED]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* a solicitation: only for our addresses on this link */
	if (me < 0 || c->t->local6[me].port != port) {
		gw_drop(c, m, GW_DROP_NOT_FOR_US);
		return;
	}
	/* section 7.2.3: the asker's address, learned */
	if (!unspec && has) {
		gw_neigh_set6(&c->gw->neigh, port, src, &lla, false);
		c->w->cnt[GW_ND_LEARNED]++;
	}
	/* section 7.2.4: solicited, overriding, to the asker, or to all
	 * nodes when it has no address yet */
	if (unspec) {
		memcpy(src, gw_ip6_all_nodes, 16);
		gw_ip6_mcast_mac(&dmac, gw_ip6_all_nodes);
	} else {
		dmac = has ? lla : *smac;
	}
	if (rte_pktmbuf_tailroom(m) + m->data_len <
	    sizeof(*ip6) + sizeof(struct nd_msg) + sizeof(struct nd_lla)) {
		gw_drop(c, m, GW_DROP_NO_MBUF); /* no room to answer in */
		return;
	}
	c->w->cnt[GW_ND_ADVERTISED]++;
	/* R: the gateway forwards IPv6 (RFC 4861 section 7.2.4); a host
	 * whose neighbour is no router drops the path MTU it learnt through
	 * it (Linux's rt6_age_examine_exception()) */
	nd_send(c, m, port, ESPGW_ND_NEIGHBOR_ADVERT,
		ESPGW_ND_NA_ROUTER | (unspec ? 0 : ESPGW_ND_NA_SOLICITED) |
			ESPGW_ND_NA_OVERRIDE,
		target, src, target, ESPGW_ND_OPT_TGT_LLADDR, &dmac);
}
