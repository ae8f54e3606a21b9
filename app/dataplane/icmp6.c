/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ICMPv6 to the gateway's own addresses (RFC 4443). */

#include "dataplane/icmp6.h"
#include "dataplane/ipv6.h"
#include "dataplane/nd.h"

uint16_t
gw_icmp6_cksum(const struct rte_ipv6_hdr *ip6)
{
	/* DPDK's UDP/TCP sum is the pseudo-header's (RFC 8200 section 8.1)
	 * and the message's, complemented: ICMPv6's (RFC 4443 section 2.3)
	 * for a protocol other than UDP, whose 0 it would send as 0xffff */
	return rte_ipv6_udptcp_cksum(ip6, ip6 + 1);
}

/* RFC 4443 section 4.2: the reply carries the request's identifier,
 * sequence number and data, from the address it was sent to. */
static void
icmp6_echo(struct gw_ctx *c, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, void *);
	uint8_t *icmp = (uint8_t *)(ip6 + 1);
	uint8_t a[16];
	uint16_t ck;

	memcpy(a, ip6->src_addr, 16);
	memcpy(ip6->src_addr, ip6->dst_addr, 16);
	memcpy(ip6->dst_addr, a, 16);
	ip6->hop_limits = ESPGW_DEFAULT_HOP_LIMIT;
	icmp[0] = ESPGW_ICMP6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	ck = gw_icmp6_cksum(ip6);
	memcpy(icmp + 2, &ck, sizeof(ck));
	c->w->cnt[GW_ICMP6_ECHO_REPLIED]++;
	gw_send_ip6(c, m);
}

void
gw_icmp6_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
	       const struct rte_ether_addr *smac)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const void *);
	const uint8_t *icmp = (const uint8_t *)(ip6 + 1);

	/* the checksum is mandatory (RFC 4443 section 2.3): summed with
	 * it, a message sums to all ones, complemented 0 */
	if (rte_be_to_cpu_16(ip6->payload_len) < 4 ||
	    gw_icmp6_cksum(ip6) != 0) {
		gw_drop(c, m, GW_DROP_BAD_ICMP6);
		return;
	}
	switch (icmp[0]) {
	case ESPGW_ICMP6_ECHO_REQUEST:
		/* to a unicast address of ours, not a group (section 4.1
		 * lets a node answer either; Linux answers groups only
		 * with icmp_echo_ignore_multicast off) */
		if (ip6->dst_addr[0] == 0xff ||
		    rte_be_to_cpu_16(ip6->payload_len) < 8) {
			gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
			return;
		}
		icmp6_echo(c, m);
		return;
	case ESPGW_ND_NEIGHBOR_SOLICIT:
	case ESPGW_ND_NEIGHBOR_ADVERT: gw_nd_input(c, m, port, smac); return;
	default: gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED); return;
	}
}
