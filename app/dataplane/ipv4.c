/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* IPv4 input (RFC 1812 section 5.2.2) and forwarding (section 5.3.1). */

#include <rte_icmp.h>
#include <rte_ip.h>

#include "espgw/ipv4.h"
#include "dataplane/icmp.h"
#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/route.h"

/* RFC 1812 section 5.3.7 and RFC 1122 section 3.2.1.3: no packet
 * comes from a group, the limited broadcast, network 0 or loopback, and
 * none goes to network 0 or loopback, as ip_route_input_slow() drops
 * them (a martian). 0.0.0.0 to 255.255.255.255 (a DHCP client) is left
 * to the local input, as Linux gives it to its broadcast input. */
static bool
martian_slow(const struct rte_ipv4_hdr *ip)
{
	uint32_t s = rte_be_to_cpu_32(ip->src_addr);
	uint32_t d = rte_be_to_cpu_32(ip->dst_addr);

	if (s >> 28 == 0xe || s == UINT32_MAX)
		return true;
	if (d == UINT32_MAX && s == 0)
		return false;
	return s >> 24 == 0 || s >> 24 == 127 || d >> 24 == 0 || d >> 24 == 127;
}

/* What the first octet of an address may make it (martian_slow()
 * decides): a source of network 0, loopback or a group (224/4) or
 * 255.255.255.255, a destination of network 0 or loopback. */
enum { M_SRC = 1, M_DST = 2 };
static const uint8_t first_octet[256] = {
	[0] = M_SRC | M_DST,
	[127] = M_SRC | M_DST,
	[224 ... 239] = M_SRC,
	[255] = M_SRC,
};

/* One load an address for the packets that pass. */
static inline bool
martian(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *s = (const uint8_t *)&ip->src_addr;
	const uint8_t *d = (const uint8_t *)&ip->dst_addr;

	if (likely(((first_octet[s[0]] & M_SRC) |
		    (first_octet[d[0]] & M_DST)) == 0))
		return false;
	return martian_slow(ip);
}

bool
gw_ipv4_martian(const struct rte_ipv4_hdr *ip)
{
	return martian(ip);
}

/* RFC 1812 section 5.2.2: a well-formed IPv4 header from and to an
 * address that may be on a wire, trimmed to its length. The checksum is
 * the NIC's verdict where it gave one (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM,
 * control/ports.c), else computed. Returns the header or NULL. */
struct rte_ipv4_hdr *
gw_ipv4_check(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint16_t hl, tot;

	if (m->data_len < sizeof(*ip) || (ip->version_ihl >> 4) != 4 ||
	    (ip->version_ihl & 0xf) < 5 || ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return NULL;
	hl = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (hl > m->data_len || tot < hl || tot > m->data_len ||
	    (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	     !espgw_ipv4_cksum_ok(ip, hl)) ||
	    martian(ip))
		return NULL;
	if (tot < m->data_len)
		rte_pktmbuf_trim(m, m->data_len - tot);
	/* checked once: the ESP library need not check it again */
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_IP_CKSUM_MASK) |
		      RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	return ip;
}

/* A packet for this gateway, past the in policy check. */
void
gw_local_input(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	const uint8_t *l4 = (const uint8_t *)ip + hl;

	if (ip->next_proto_id == IPPROTO_ICMP && m->data_len >= hl + 8 &&
	    l4[0] == RTE_IP_ICMP_ECHO_REQUEST &&
	    !(ip->fragment_offset &
	      rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
			       RTE_IPV4_HDR_OFFSET_MASK))) {
		gw_icmp_echo(c, m);
		return;
	}
	gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
}

/* Decrement TTL (RFC 1812 section 5.3.1) and send on; pol is its out
 * policy, matched already when known. */
void
gw_forward(struct gw_ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
	   bool known)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint32_t sum;

	if (ip->time_to_live <= 1) {
		gw_icmp_error(c, m, ESPGW_ICMP_TIME_EXCEEDED,
			      ESPGW_ICMP_CODE_TTL_EXCEEDED, 0);
		gw_drop(c, m, GW_DROP_TTL);
		return;
	}
	ip->time_to_live--;
	/* RFC 1624 incremental update (TTL is the high byte of its word),
	 * with the end-around carry that gives 0x0000, never 0xffff, as
	 * the kernel's ip_decrease_ttl does */
	sum = (uint32_t)ip->hdr_checksum + rte_cpu_to_be_16(0x0100);
	ip->hdr_checksum = (uint16_t)(sum + (sum >= 0xffff));
	c->w->cnt[GW_FORWARDED]++;
	/* bypass, known already: straight to the route, not through the
	 * out path's queue (its one answer would be the same) */
	if (known && gw_policy_bypass(pol))
		gw_send_ip_fast(c, m);
	else
		gw_out_queue(c, m, pol, known);
}
