/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* IPv6 input for the gateway's own addresses, and its IPv6 output. */

#include "control/neigh.h"
#include "dataplane/icmp6.h"
#include "dataplane/ipv6.h"
#include "dataplane/hold.h"
#include "dataplane/tx.h"

const uint8_t gw_ip6_all_nodes[16] = { 0xff, 0x02, [15] = 1 };

struct rte_ipv6_hdr *
gw_ipv6_check(struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, void *);
	uint32_t tot;

	if (m->data_len < sizeof(*ip6) ||
	    (rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6)
		return NULL;
	tot = sizeof(*ip6) + rte_be_to_cpu_16(ip6->payload_len);
	if (tot > m->data_len)
		return NULL;
	if (tot < m->data_len)
		rte_pktmbuf_trim(m, m->data_len - tot);
	return ip6;
}

/* Is dst a group of ours on port: all nodes, or the solicited-node
 * group of one of our addresses there (RFC 4861 section 7.2.1)? */
static bool
our_group(const struct gw_tables *t, uint16_t port, const uint8_t dst[16])
{
	if (gw_ip6_is_all_nodes(dst))
		return true;
	for (unsigned int i = 0; i < t->nb_local6; i++) {
		uint8_t g[16];

		gw_ip6_solicited_node(g, t->local6[i].addr);
		if (t->local6[i].port == port && memcmp(g, dst, 16) == 0)
			return true;
	}
	return false;
}

void
gw_ipv6_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
	      const struct rte_ether_addr *smac)
{
	const struct rte_ipv6_hdr *ip6 = gw_ipv6_check(m);

	if (ip6 == NULL) {
		gw_drop(c, m, GW_DROP_BAD_IP6);
		return;
	}
	if (ip6->dst_addr[0] == 0xff ? !our_group(c->t, port, ip6->dst_addr)
				     : gw_local6(c->t, ip6->dst_addr) < 0) {
		/* other groups (MLD, routers) are no business of ours;
		 * forwarding and IPsec over IPv6 are not here yet */
		gw_drop(c, m,
			ip6->dst_addr[0] == 0xff ? GW_DROP_LOCAL_UNHANDLED
						 : GW_DROP_IPV6);
		return;
	}
	if (ip6->proto != ESPGW_IPPROTO_ICMPV6) {
		gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
		return;
	}
	gw_icmp6_input(c, m, port, smac);
}

void
gw_send_ip6(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const void *);
	const struct gw_nexthop6 *nh = gw_route6(c->t, ip6->dst_addr);
	struct rte_ether_addr mac;
	const uint8_t *hop;

	if (nh == NULL) {
		gw_drop(c, m, GW_DROP_NO_ROUTE);
		return;
	}
	/* what the gateway says answers what came in on a link of the same
	 * MTU; an IPv6 router never fragments (RFC 8200 section 5) */
	if (m->data_len > c->t->ifaces[nh->port].mtu) {
		gw_drop(c, m, GW_DROP_FRAG_NEEDED);
		return;
	}
	hop = gw_ip6_unspec(nh->gw) ? ip6->dst_addr : nh->gw;
	if (gw_neigh_get6(&c->gw->neigh, nh->port, hop, &mac))
		gw_tx_l2(c, m, nh->port, &mac, RTE_ETHER_TYPE_IPV6);
	else
		gw_hold(c, m, nh->port, true, hop);
}
