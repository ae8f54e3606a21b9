/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The last hop of every packet the gateway sends at L3. */

#include <rte_ip.h>

#include "control/neigh.h"
#include "dataplane/frag.h"
#include "dataplane/hold.h"
#include "dataplane/icmp.h"
#include "dataplane/route.h"
#include "dataplane/tx.h"

/* Route an L3 packet and hand it to its next hop. */
void
gw_send_ip(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	const struct gw_nexthop *nh;
	struct rte_ether_addr mac;
	uint32_t hop;
	uint16_t mtu;

	/* true again only once this packet is on its way */
	c->tx_valid = false;
	if (c->rt_valid && c->rt_dst == ip->dst_addr) {
		nh = c->rt_nh;
		mtu = c->rt_mtu;
	} else {
		nh = gw_route(c->t, ip->dst_addr);
		if (nh == NULL) {
			gw_icmp_error(c, m, ESPGW_ICMP_DEST_UNREACH,
				      ESPGW_ICMP_CODE_NET_UNREACH, 0);
			gw_drop(c, m, GW_DROP_NO_ROUTE);
			return;
		}
		mtu = c->t->ifaces[nh->port].mtu;
		c->rt_dst = ip->dst_addr;
		c->rt_nh = nh;
		c->rt_mtu = mtu;
		c->rt_valid = true;
	}
	if (unlikely(gw_ip_len(m) > mtu)) {
		struct rte_mbuf *frags[GW_FRAG_MAX];
		int n;

		if (ip->fragment_offset &
		    rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
			gw_icmp_error(c, m, ESPGW_ICMP_DEST_UNREACH,
				      ESPGW_ICMP_CODE_FRAG_NEEDED, mtu);
			gw_drop(c, m, GW_DROP_FRAG_NEEDED);
			return;
		}
		n = gw_fragment(c, m, mtu, frags);
		for (int i = 0; i < n; i++)
			gw_send_ip(c, frags[i]);
		return;
	}
	hop = nh->gw ? nh->gw : ip->dst_addr;
	if (!(c->hop_valid && c->hop == hop && c->hop_port == nh->port)) {
		if (!gw_neigh_get(&c->gw->neigh, nh->port, hop, &mac)) {
			gw_hold(c, m, nh->port, false, &hop);
			return;
		}
		c->hop = hop;
		c->hop_port = nh->port;
		c->hop_eth = gw_eth_hdr(c, nh->port, &mac, RTE_ETHER_TYPE_IPV4);
		c->hop_valid = true;
	}
	c->tx_dst = ip->dst_addr;
	c->tx_valid = true;
	gw_tx_eth(c, m, nh->port, &c->hop_eth);
}
