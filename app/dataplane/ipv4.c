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
bool
gw_ipv4_martian_slow(const struct rte_ipv4_hdr *ip)
{
	uint32_t s = rte_be_to_cpu_32(ip->src_addr);
	uint32_t d = rte_be_to_cpu_32(ip->dst_addr);

	if (s >> 28 == 0xe || s == UINT32_MAX)
		return true;
	if (d == UINT32_MAX && s == 0)
		return false;
	return s >> 24 == 0 || s >> 24 == 127 || d >> 24 == 0 || d >> 24 == 127;
}

const uint8_t gw_ipv4_first_octet[256] = {
	[0] = GW_MARTIAN_SRC | GW_MARTIAN_DST,
	[127] = GW_MARTIAN_SRC | GW_MARTIAN_DST,
	[224 ... 239] = GW_MARTIAN_SRC,
	[255] = GW_MARTIAN_SRC,
};

bool
gw_ipv4_inner_ok(struct gw_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);

	if (gw_ipv4_martian(ip)) {
		gw_drop(c, m, GW_DROP_BAD_IP);
		return false;
	}
	if (gw_is_mcast(ip->dst_addr) || ip->dst_addr == UINT32_MAX) {
		gw_drop(c, m, GW_DROP_LOCAL_UNHANDLED);
		return false;
	}
	return true;
}

/* RFC 1812 section 5.2.2: a well-formed IPv4 header, trimmed to its
 * length (its addresses are gw_ipv4_martian()'s). The checksum is
 * the NIC's verdict where it gave one (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM,
 * control/ports.c), else computed. Returns the header or NULL. */
struct rte_ipv4_hdr *
gw_ipv4_check(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint16_t hl, tot;

	if (m->data_len < sizeof(*ip) || ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return NULL;
	/* almost every header: version 4, no options */
	if (likely(ip->version_ihl == RTE_IPV4_VHL_DEF))
		hl = sizeof(*ip);
	else if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5)
		return NULL;
	else
		hl = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (hl > m->data_len || tot < hl || tot > m->data_len ||
	    (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && !espgw_ipv4_cksum_ok(ip, hl)))
		return NULL;
	if (tot < m->data_len)
		rte_pktmbuf_trim(m, m->data_len - tot);
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

/* RFC 1812 section 5.3.1: a packet to forward whose TTL is 1 or 0. */
void
gw_ipv4_ttl_expired(struct gw_ctx *c, struct rte_mbuf *m)
{
	gw_icmp_error(c, m, ESPGW_ICMP_TIME_EXCEEDED,
		      ESPGW_ICMP_CODE_TTL_EXCEEDED, 0);
	gw_drop(c, m, GW_DROP_TTL);
}
