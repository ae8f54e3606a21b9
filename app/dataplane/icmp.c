/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ICMP errors and echo replies; both leave through the out path, so
 * that ICMP about tunnel traffic goes back through the tunnel. */

#include <string.h>

#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/icmp.h"
#include "dataplane/ipsec.h"

#define ICMP_ERR_PER_SEC 1000

/* Token bucket: ICMP_ERR_PER_SEC, burst of the same; time moves on only
 * by the tokens it earned, so a flood still gets its share. */
bool
gw_icmp_allow(struct gw_ctx *c)
{
	struct gw_worker *w = c->w;
	uint64_t add = (c->now - w->icmp_last) * ICMP_ERR_PER_SEC / c->hz;

	if (add > 0) {
		w->icmp_tokens = RTE_MIN(w->icmp_tokens + add,
					 (uint64_t)ICMP_ERR_PER_SEC);
		w->icmp_last += add * c->hz / ICMP_ERR_PER_SEC;
	}
	if (w->icmp_tokens == 0) {
		w->cnt[GW_ICMP_RATELIMITED]++;
		return false;
	}
	w->icmp_tokens--;
	return true;
}

/* RFC 792 error about orig, from our address on the port it came in by.
 * Never about an ICMP error, a later fragment, or a non-unicast source
 * (RFC 1122 section 3.2.2); rate-limited like the kernel's. */
void
gw_icmp_error(struct gw_ctx *c, struct rte_mbuf *orig, uint8_t type,
	      uint8_t code, uint16_t mtu)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod(orig, const void *);
	uint16_t ohl = rte_ipv4_hdr_len(oip);
	uint16_t quote = RTE_MIN((uint16_t)(ohl + ESPGW_ICMP_QUOTE_DATA),
				 orig->data_len);
	const uint8_t *ol4 = (const uint8_t *)oip + ohl;
	struct gw_worker *w = c->w;
	const struct gw_nexthop *back;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct rte_mbuf *m;
	uint32_t src;

	if ((oip->fragment_offset &
	     rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) ||
	    (oip->next_proto_id == IPPROTO_ICMP && orig->data_len > ohl &&
	     ol4[0] != RTE_IP_ICMP_ECHO_REQUEST &&
	     ol4[0] != RTE_IP_ICMP_ECHO_REPLY) ||
	    oip->src_addr == 0 || gw_is_mcast(oip->src_addr) ||
	    oip->src_addr == UINT32_MAX)
		return;
	if (!gw_icmp_allow(c))
		return;

	/* the source the route back prefers (as icmp_send does), so an
	 * error about tunnel traffic matches the tunnel's policy and goes
	 * back encrypted; else the port it came in by */
	back = gw_route(c->t, oip->src_addr);
	src = back == NULL ? 0
	      : back->src  ? back->src
			   : c->t->ifaces[back->port].addr;
	if (src == 0 && orig->port < GW_MAX_PORTS)
		src = c->t->ifaces[orig->port].addr;
	if (src == 0 && c->t->nb_local > 0)
		src = c->t->local[0];
	m = rte_pktmbuf_alloc(c->gw->pool);
	ip = m != NULL ? gw_mbuf_put(m, sizeof(*ip) + sizeof(*icmp) + quote)
		       : NULL;
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		w->cnt[GW_ALLOC_FAILED]++;
		return;
	}
	memset(ip, 0, sizeof(*ip) + sizeof(*icmp));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(m->data_len);
	ip->time_to_live = ESPGW_DEFAULT_TTL;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	/* RFC 1191 section 4: next-hop MTU in the low 16 bits */
	icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	memcpy(icmp + 1, oip, quote);
	icmp->icmp_cksum =
		(uint16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + quote);
	m->port = orig->port;
	w->cnt[GW_ICMP_ERRORS_SENT]++;
	gw_out_add(c, m);
}

/* RFC 792 echo: answer in place and send it back the way replies go. */
void
gw_icmp_echo(struct gw_ctx *c, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hl);
	uint32_t a = ip->src_addr;

	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = ESPGW_DEFAULT_TTL;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, gw_ip_len(m) - hl);
	c->w->cnt[GW_ICMP_ECHO_REPLIED]++;
	gw_out_add(c, m);
}

void
gw_icmp_init(struct gw_worker *w)
{
	w->icmp_last = rte_rdtsc();
	w->icmp_tokens = ICMP_ERR_PER_SEC;
}
