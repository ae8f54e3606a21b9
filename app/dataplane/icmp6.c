/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ICMPv6 (RFC 4443): what comes to the gateway's own addresses, and the
 * errors it sends. */

#include "dataplane/icmp.h"
#include "dataplane/icmp6.h"
#include "dataplane/ipsec.h"
#include "dataplane/spd.h"
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
	gw_out_add(c, m);
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
	case ESPGW_ND_NEIGHBOR_ADVERT:
		/* the link's, never what came out of a tunnel */
		if (smac == NULL) {
			gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
			return;
		}
		gw_nd_input(c, m, port, smac);
		return;
	default: gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED); return;
	}
}

/* The source of an error about a packet from src that came in on port:
 * the one the route back prefers, as for IPv4 (icmp.c), else the
 * port's, else any of ours; NULL with no IPv6 address at all. */
static const uint8_t *
error_source(const struct gw_tables *t, const uint8_t src[16], uint16_t port)
{
	const struct gw_nexthop6 *back = gw_route6(t, src);
	const uint8_t *a = NULL;

	if (back != NULL)
		a = !gw_ip6_unspec(back->src) ? back->src
					      : gw_port_addr6(t, back->port);
	if (a == NULL && port < GW_MAX_PORTS)
		a = gw_port_addr6(t, port);
	if (a == NULL && t->nb_local6 > 0)
		a = t->local6[0].addr;
	return a;
}

/* Is the packet an ICMPv6 error, behind its extension headers as Linux's
 * is_ineligible() looks? One whose headers cannot be walked, or whose
 * type is not to be read (a fragment), is taken as one: no answer. */
static bool
is_icmp6_error(const struct rte_mbuf *m)
{
	struct gw_acl_key6 k;

	if (gw_acl_key6(m, &k, true) != 0)
		return true;
	return k.proto == ESPGW_IPPROTO_ICMPV6 &&
	       rte_be_to_cpu_16(k.sport) < ESPGW_ICMP6_INFO_MIN;
}

void
gw_icmp6_error(struct gw_ctx *c, struct rte_mbuf *orig, uint8_t type,
	       uint8_t code, uint32_t param)
{
	const struct rte_ipv6_hdr *oip = rte_pktmbuf_mtod(orig, const void *);
	uint16_t quote = RTE_MIN(orig->data_len,
				 (uint16_t)(ESPGW_IPV6_MIN_MTU - sizeof(*oip) -
					    ESPGW_ICMP6_HDR_LEN));
	struct rte_ipv6_hdr *ip6;
	const uint8_t *src;
	struct rte_mbuf *m;
	uint8_t *icmp;
	uint16_t ck;

	/* RFC 4443 section 2.4 (e): never about an error, a packet to a
	 * group (but Packet Too Big, which path MTU discovery needs for
	 * multicast too), or one from no single node; nor about our own */
	if (is_icmp6_error(orig) ||
	    (oip->dst_addr[0] == 0xff && type != ESPGW_ICMP6_PKT_TOO_BIG) ||
	    oip->src_addr[0] == 0xff || gw_ip6_unspec(oip->src_addr) ||
	    gw_local6(c->t, oip->src_addr) >= 0)
		return;
	src = error_source(c->t, oip->src_addr, orig->port);
	if (src == NULL || !gw_icmp_allow(c))
		return;
	m = rte_pktmbuf_alloc(c->gw->pool);
	ip6 = m != NULL ? gw_mbuf_put(m, sizeof(*ip6) + ESPGW_ICMP6_HDR_LEN +
						 quote)
			: NULL;
	if (ip6 == NULL) {
		rte_pktmbuf_free(m);
		c->w->cnt[GW_ALLOC_FAILED]++;
		return;
	}
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(ESPGW_ICMP6_HDR_LEN + quote);
	ip6->proto = ESPGW_IPPROTO_ICMPV6;
	ip6->hop_limits = ESPGW_DEFAULT_HOP_LIMIT;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, oip->src_addr, 16);
	icmp = (uint8_t *)(ip6 + 1);
	icmp[0] = type;
	icmp[1] = code;
	icmp[2] = icmp[3] = 0;
	/* the MTU of Packet Too Big (section 3.2), else unused, zero */
	param = rte_cpu_to_be_32(param);
	memcpy(icmp + 4, &param, sizeof(param));
	memcpy(icmp + ESPGW_ICMP6_HDR_LEN, oip, quote);
	ck = gw_icmp6_cksum(ip6);
	memcpy(icmp + 2, &ck, sizeof(ck));
	m->port = orig->port;
	c->w->cnt[GW_ICMP_ERRORS_SENT]++;
	gw_out_add(c, m);
}
