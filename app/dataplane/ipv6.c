/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* IPv6 input for the gateway's own addresses, and its IPv6 output. */

#include "control/neigh.h"
#include "dataplane/icmp6.h"
#include "dataplane/ipv6.h"
#include "dataplane/frag.h"
#include "dataplane/fused.h"
#include "dataplane/hold.h"
#include "dataplane/ipsec.h"
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

/* Link-local unicast, fe80::/10 (RFC 4291 section 2.5.6): a router
 * never forwards what comes from or goes to it. */
static bool
link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ::1 (RFC 4291 section 2.5.3). */
static bool
loopback6(const uint8_t a[16])
{
	static const uint8_t lo[16] = { [15] = 1 };

	return memcmp(a, lo, 16) == 0;
}

/* The addresses of a packet to a unicast destination: RFC 4291
 * sections 2.5.2, 2.5.3, 2.7, none comes from a group or loopback and
 * none goes to loopback (ip6_rcv_core()), and none through us comes
 * from :: or from or to link-local (ip6_forward()). *ours: to one of
 * our addresses. Returns true, or false with m dropped. */
static __rte_always_inline bool
unicast_ok(struct gw_ctx *c, struct rte_mbuf *m, const struct rte_ipv6_hdr *ip6,
	   bool *ours)
{
	if (ip6->src_addr[0] == 0xff || loopback6(ip6->src_addr) ||
	    loopback6(ip6->dst_addr)) {
		gw_drop(c, m, GW_DROP_BAD_IP6);
		return false;
	}
	*ours = gw_local6(c->t, ip6->dst_addr) >= 0;
	if (!*ours && (link_local(ip6->src_addr) || link_local(ip6->dst_addr) ||
		       gw_ip6_unspec(ip6->src_addr))) {
		gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
		return false;
	}
	return true;
}

bool
gw_ipv6_inner_ok(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const void *);
	bool ours;

	if (ip6->dst_addr[0] == 0xff) {
		gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
		return false;
	}
	return unicast_ok(c, m, ip6, &ours);
}

/* A fragment header right after the IPv6 header that is not an atomic
 * fragment (RFC 6946: offset 0, no more fragments, a whole packet)? */
static bool
fragmented(const struct rte_mbuf *m, const struct rte_ipv6_hdr *ip6)
{
	const struct rte_ipv6_fragment_ext *fh = (const void *)(ip6 + 1);

	return ip6->proto == ESPGW_IPV6_FRAGMENT &&
	       (m->data_len < sizeof(*ip6) + sizeof(*fh) ||
		(rte_be_to_cpu_16(fh->frag_data) &
		 (ESPGW_IPV6_FRAG_OFF_MASK | ESPGW_IPV6_FRAG_MF)) != 0);
}

/* kept out of the receive loop, so that the IPv4 loop stays small
 * enough to inline into the worker's */
__rte_noinline enum gw_ip6_fate
gw_ipv6_input(struct gw_ctx *c, struct rte_mbuf **mp, uint16_t port,
	      const struct rte_ether_addr *smac, bool lead)
{
	struct rte_mbuf *m = *mp;
	const struct rte_ipv6_hdr *ip6 = gw_ipv6_check(m);
	const uint8_t *l4;
	bool ours;

	if (ip6 == NULL) {
		gw_drop(c, m, GW_DROP_BAD_IP6);
		return GW_IP6_TAKEN;
	}
	/* the common case in one pass, as IPv4's (rx.c): the key holds
	 * both addresses, which decide every check below for a packet to
	 * forward */
	if (lead && gw_fused6_hit(&c->fused6_clear, m)) {
		gw_forward6(c, m, c->fused6_clear.out, true);
		return GW_IP6_TAKEN;
	}
	if (ip6->dst_addr[0] == 0xff) {
		/* other groups (MLD, routers) are no business of ours, and
		 * multicast is not forwarded */
		if (!our_group(c->t, port, ip6->dst_addr) ||
		    ip6->proto != ESPGW_IPPROTO_ICMPV6) {
			gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
			return GW_IP6_TAKEN;
		}
		gw_icmp6_input(c, m, port, smac);
		return GW_IP6_TAKEN;
	}
	if (!unicast_ok(c, m, ip6, &ours))
		return GW_IP6_TAKEN;
	if (!ours)
		return GW_IP6_PLAIN; /* to forward, past the fwd policies */
	/* for us: whole before anything looks further (RFC 8200 section
	 * 4.5), as Linux's ipv6_frag_rcv() does before esp6_input(); one
	 * behind other headers goes to the library, which counts it */
	if (fragmented(m, ip6)) {
		*mp = m = gw_reassemble6(c, m);
		if (m == NULL)
			return GW_IP6_TAKEN;
		ip6 = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	}
	switch (ip6->proto) {
	case ESPGW_IPPROTO_ESP:
	case ESPGW_IPV6_HOPOPTS:
	case ESPGW_IPV6_ROUTING:
	case ESPGW_IPV6_DSTOPTS:
	case ESPGW_IPV6_FRAGMENT:
		/* the library walks the extension headers to ESP as Linux
		 * does before esp6_input(), and counts what it refuses */
		return GW_IP6_ESP;
	case ESPGW_IPPROTO_ICMPV6:
		/* neighbour discovery is the link's, before any policy (and
		 * never reassembled: RFC 6980); the rest (echo) passes the
		 * in policies as IPv4 does */
		l4 = (const uint8_t *)(ip6 + 1);
		if (m->data_len > sizeof(*ip6) &&
		    (l4[0] == ESPGW_ND_NEIGHBOR_SOLICIT ||
		     l4[0] == ESPGW_ND_NEIGHBOR_ADVERT)) {
			gw_icmp6_input(c, m, port, smac);
			return GW_IP6_TAKEN;
		}
		return GW_IP6_PLAIN;
	default: return GW_IP6_PLAIN;
	}
}

void
gw_local_input6(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const void *);

	if (ip6->proto == ESPGW_IPPROTO_ICMPV6) {
		gw_icmp6_input(c, m, m->port, NULL);
		return;
	}
	gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
}

void
gw_forward6(struct gw_ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
	    bool known)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, void *);

	/* RFC 8200 section 3; RFC 4443 section 3.3, code 0 */
	if (ip6->hop_limits <= 1) {
		gw_icmp6_error(c, m, ESPGW_ICMP6_TIME_EXCEEDED,
			       ESPGW_ICMP6_CODE_HOP_LIMIT, 0);
		gw_drop(c, m, GW_DROP_TTL);
		return;
	}
	ip6->hop_limits--;
	c->w->cnt[GW_FORWARDED]++;
	if (known && gw_policy_bypass(pol))
		gw_send_ip6(c, m);
	else
		gw_out_queue(c, m, pol, known);
}

/* The last hop; may_fragment: split what does not fit the link instead
 * of refusing it with Packet Too Big. */
static void
send6(struct gw_ctx *c, struct rte_mbuf *m, bool may_fragment)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const void *);
	const struct gw_nexthop6 *nh;
	struct rte_ether_addr mac;
	const uint8_t *hop;
	uint16_t mtu;

	if (c->rt6_valid && memcmp(c->rt6_dst, ip6->dst_addr, 16) == 0) {
		nh = c->rt6_nh;
	} else {
		nh = gw_route6(c->t, ip6->dst_addr);
		if (nh == NULL) {
			gw_icmp6_error(c, m, ESPGW_ICMP6_DEST_UNREACH,
				       ESPGW_ICMP6_CODE_NO_ROUTE, 0);
			gw_drop(c, m, GW_DROP_NO_ROUTE);
			return;
		}
		memcpy(c->rt6_dst, ip6->dst_addr, 16);
		c->rt6_nh = nh;
		c->rt6_valid = true;
	}
	/* an IPv6 router never fragments (RFC 8200 section 5): the sender
	 * learns the path MTU (RFC 8201) */
	mtu = c->t->ifaces[nh->port].mtu;
	if (unlikely(gw_ip6_len(m) > mtu)) {
		struct rte_mbuf *frags[GW_FRAG_MAX];

		if (may_fragment) {
			int n = gw_fragment6(c, m, mtu, frags);

			for (int i = 0; i < n; i++)
				send6(c, frags[i], false);
			return;
		}
		gw_icmp6_error(c, m, ESPGW_ICMP6_PKT_TOO_BIG, 0, mtu);
		gw_drop(c, m, GW_DROP_FRAG_NEEDED);
		return;
	}
	hop = gw_ip6_unspec(nh->gw) ? ip6->dst_addr : nh->gw;
	if (c->hop6_valid && c->hop6_port == nh->port &&
	    memcmp(c->hop6, hop, 16) == 0) {
		gw_tx_eth(c, m, nh->port, &c->hop6_eth);
	} else if (gw_neigh_get6(&c->gw->neigh, nh->port, hop, &mac)) {
		memcpy(c->hop6, hop, 16);
		c->hop6_port = nh->port;
		c->hop6_eth =
			gw_eth_hdr(c, nh->port, &mac, RTE_ETHER_TYPE_IPV6);
		c->hop6_valid = true;
		gw_tx_eth(c, m, nh->port, &c->hop6_eth);
	} else {
		gw_hold(c, m, nh->port, true, hop);
	}
}

void
gw_send_ip6(struct gw_ctx *c, struct rte_mbuf *m)
{
	send6(c, m, false);
}

void
gw_send_esp6(struct gw_ctx *c, struct rte_mbuf *m)
{
	send6(c, m, true);
}
