/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The receive side of a worker. */

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_prefetch.h>

#include "dataplane/arp.h"
#include "dataplane/frag.h"
#include "dataplane/fused.h"
#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/ipv6.h"
#include "dataplane/natt.h"
#include "dataplane/rx.h"
#include "dataplane/spread.h"

/* One burst from a port: the L2 demux (our MAC or multicast; ARP, IPv6
 * to ipv6.c, IPv4), the IPv4 header check, and the split of both
 * families into ESP for us (IPv4 reassembled first), a leading run of
 * clear packets of the flow last forwarded (straight on with its out
 * policy, fused.h) and everything else; then each goes through its in
 * or fwd policy, and what is left for the out path goes out. */
void
gw_rx_burst(struct gw_ctx *c, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	const struct gw_iface *f = &c->t->ifaces[port];
	struct rte_mbuf *esp[GW_BURST], *plain[GW_BURST];
	unsigned int nb_esp = 0, nb_plain = 0;
	struct gw_split s; /* the plain ones' policy directions */

	c->w->cnt[GW_RX] += n;
	gw_split_init(c->t, &s);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);
		struct rte_ipv4_hdr *ip;
		uint16_t type;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (m->data_len < sizeof(*eth)) {
			gw_drop(c, m, GW_DROP_L2_PROTO);
			continue;
		}
		/* ours: one 8-byte load, the destination its low 48 bits */
		if (((gw_mac_word(eth) ^ f->mac_word) &
		     UINT64_C(0xffffffffffff)) != 0 &&
		    !rte_is_multicast_ether_addr(&eth->dst_addr)) {
			gw_drop(c, m, GW_DROP_NOT_FOR_US);
			continue;
		}
		m->port = port;
		type = eth->ether_type; /* compared as it comes, big-endian */
		if (unlikely(type != RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
			if (type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
				gw_arp_input(c, m, port);
				continue;
			}
			if (type != RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
				gw_drop(c, m, GW_DROP_L2_PROTO);
				continue;
			}
			struct rte_ether_addr smac = eth->src_addr;

			rte_pktmbuf_adj(m, sizeof(*eth));
			switch (gw_ipv6_input(c, &m, port, &smac,
					      nb_plain + nb_esp == 0)) {
			case GW_IP6_ESP: esp[nb_esp++] = m; break;
			case GW_IP6_PLAIN:
				gw_split_add(c->t, &s, m, nb_plain);
				plain[nb_plain++] = m;
				break;
			case GW_IP6_TAKEN: break;
			}
			continue;
		}
		rte_pktmbuf_adj(m, sizeof(*eth));
		ip = gw_ipv4_check(m);
		if (ip == NULL) {
			gw_drop(c, m, GW_DROP_BAD_IP);
			continue;
		}
		/* the common case in one pass: a flow whose policies are
		 * known, whose addresses were checked with its first packet
		 * (no martian, not ours, not a group), while no packet
		 * before it waits for the stages after the loop */
		if (nb_plain + nb_esp == 0 &&
		    gw_fused_hit(&c->fused_clear, m)) {
			gw_forward(c, m, c->fused_clear.out, true);
			continue;
		}
		if (gw_ipv4_martian(ip)) {
			gw_drop(c, m, GW_DROP_BAD_IP);
			continue;
		}
		if ((ip->next_proto_id == ESPGW_IPPROTO_ESP ||
		     (ip->next_proto_id == ESPGW_IPPROTO_UDP &&
		      c->t->nb_natt != 0)) &&
		    gw_is_local(c->t, ip->dst_addr)) {
			/* checked once: the ESP library need not again */
			m->ol_flags =
				(m->ol_flags & ~RTE_MBUF_F_RX_IP_CKSUM_MASK) |
				RTE_MBUF_F_RX_IP_CKSUM_GOOD;
			if (rte_ipv4_frag_pkt_is_fragmented(ip)) {
				m = gw_reassemble(c, m, ip);
				if (m == NULL)
					continue;
			}
			if (ip->next_proto_id == ESPGW_IPPROTO_UDP) {
				enum gw_natt u = gw_natt_input(c, m);

				if (u == GW_NATT_TAKEN)
					continue;
				if (u == GW_NATT_NOT_OURS)
					goto plain;
			}
			esp[nb_esp++] = m;
			continue;
		}
		if (gw_is_mcast(ip->dst_addr) || ip->dst_addr == UINT32_MAX) {
			gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
			continue;
		}
	plain:
		gw_split_add(c->t, &s, m, nb_plain);
		plain[nb_plain++] = m;
	}
	if (c->w->death_row.cnt != 0)
		gw_reassembly_bury(c);

	if (nb_esp) {
		if (c->w->spread != NULL)
			gw_spread_dispatch(c, esp, nb_esp);
		else
			gw_ipsec_inbound(c, esp, nb_esp);
	}
	if (nb_plain)
		gw_policy_check_split(c, plain, NULL, &s);
	gw_out_flush(c);
}
