/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Fragmentation and reassembly on a worker. */

#include <assert.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_random.h>

#include "dataplane/frag.h"

/* Split an IPv4 packet (DF clear) to fit mtu. Returns the number of
 * fragments, 0 when it failed (counted; m is freed either way). */
int
gw_fragment(struct gw_ctx *c, struct rte_mbuf *m, uint16_t mtu,
	    struct rte_mbuf **frags)
{
	int n = rte_ipv4_fragment_packet(m, frags, GW_FRAG_MAX, mtu,
					 c->gw->pool, c->gw->indirect_pool);

	if (n <= 0) {
		gw_drop(c, m, GW_DROP_FRAG_FAILED);
		return 0;
	}
	c->w->cnt[GW_FRAGMENTED]++;
	c->w->cnt[GW_FRAGMENTS_MADE] += n;
	rte_pktmbuf_free(m); /* the fragments hold their own references */
	for (int i = 0; i < n; i++) {
		struct rte_ipv4_hdr *ip;

		frags[i]->packet_type = RTE_PTYPE_L3_IPV4;
		/* one segment for the ESP library and the Ethernet header */
		if (rte_pktmbuf_linearize(frags[i]) != 0) {
			for (int j = i; j < n; j++)
				gw_drop(c, frags[j], GW_DROP_FRAG_FAILED);
			return i;
		}
		/* the library leaves the fragments' checksums at zero */
		ip = rte_pktmbuf_mtod(frags[i], struct rte_ipv4_hdr *);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return n;
}

int
gw_fragment6(struct gw_ctx *c, struct rte_mbuf *m, uint16_t mtu,
	     struct rte_mbuf **frags)
{
	int n = rte_ipv6_fragment_packet(m, frags, GW_FRAG_MAX, mtu,
					 c->gw->pool, c->gw->indirect_pool);
	/* DPDK leaves the identification 0; one of its own a datagram, not
	 * to be guessed (RFC 7739), as Linux's ipv6_select_ident() */
	rte_be32_t id = (rte_be32_t)rte_rand();

	if (n <= 0) {
		gw_drop(c, m, GW_DROP_FRAG_FAILED);
		return 0;
	}
	c->w->cnt[GW_FRAGMENTED]++;
	c->w->cnt[GW_FRAGMENTS_MADE] += n;
	rte_pktmbuf_free(m);
	for (int i = 0; i < n; i++) {
		struct rte_ipv6_fragment_ext *fh;

		frags[i]->packet_type = RTE_PTYPE_L3_IPV6;
		if (rte_pktmbuf_linearize(frags[i]) != 0) {
			for (int j = i; j < n; j++)
				gw_drop(c, frags[j], GW_DROP_FRAG_FAILED);
			return i;
		}
		fh = rte_pktmbuf_mtod_offset(frags[i],
					     struct rte_ipv6_fragment_ext *,
					     sizeof(struct rte_ipv6_hdr));
		fh->id = id;
	}
	return n;
}

/* One segment for a reassembled datagram: in place when the first
 * fragment's buffer has room, else copied into a 64 KB buffer. Returns
 * the packet, or NULL when it was dropped (counted). */
static struct rte_mbuf *
flatten(struct gw_ctx *c, struct rte_mbuf *m)
{
	struct rte_mbuf *j;
	const void *p;
	uint32_t len = m->pkt_len;

	if (m->nb_segs == 1 || rte_pktmbuf_linearize(m) == 0)
		return m;
	j = rte_pktmbuf_alloc(c->gw->jumbo_pool);
	if (j == NULL || len > rte_pktmbuf_tailroom(j)) {
		rte_pktmbuf_free(j);
		gw_drop(c, m, GW_DROP_NO_MBUF);
		return NULL;
	}
	p = rte_pktmbuf_read(m, 0, len, rte_pktmbuf_mtod(j, void *));
	if (p != rte_pktmbuf_mtod(j, void *))
		memcpy(rte_pktmbuf_mtod(j, void *), p, len);
	j->data_len = (uint16_t)len;
	j->pkt_len = len;
	j->port = m->port;
	j->packet_type = m->packet_type;
	rte_pktmbuf_free(m);
	return j;
}

struct rte_mbuf *
gw_reassemble(struct gw_ctx *c, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
	struct rte_mbuf *r;

	m->l2_len = 0;
	m->l3_len = rte_ipv4_hdr_len(ip);
	r = rte_ipv4_frag_reassemble_packet(c->w->frag_tbl, &c->w->death_row, m,
					    c->now, ip);
	if (r == NULL)
		return NULL; /* held, or on death row */
	c->w->cnt[GW_REASSEMBLED]++;
	/* the other fragments live on as segments */
	c->w->cnt[GW_FRAGS_MERGED] += r->nb_segs - 1;
	m = flatten(c, r);
	if (m == NULL)
		return NULL;
	/* new length and flags: a new checksum */
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

struct rte_mbuf *
gw_reassemble6(struct gw_ctx *c, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, void *);
	struct rte_ipv6_fragment_ext *fh = (void *)(ip6 + 1);
	uint16_t fd, len = rte_be_to_cpu_16(ip6->payload_len);
	struct rte_mbuf *r;

	/* DPDK 22.11 takes neither an empty fragment nor one that ends past
	 * 64 KB; a fragment but the last whose data is not in 8-byte units
	 * is one Linux's ipv6_frag_rcv() refuses too (RFC 8200 section 4.5) */
	if (m->data_len < sizeof(*ip6) + sizeof(*fh) || len <= sizeof(*fh)) {
		gw_drop(c, m, GW_DROP_REASSEMBLY);
		return NULL;
	}
	fd = rte_be_to_cpu_16(fh->frag_data);
	len -= sizeof(*fh);
	if ((fd & ESPGW_IPV6_FRAG_OFF_MASK) + (uint32_t)len > UINT16_MAX ||
	    ((fd & ESPGW_IPV6_FRAG_MF) && (len & 7) != 0)) {
		gw_drop(c, m, GW_DROP_REASSEMBLY);
		return NULL;
	}
	m->l2_len = 0;
	m->l3_len = sizeof(*ip6) + sizeof(*fh);
	r = rte_ipv6_frag_reassemble_packet(c->w->frag_tbl, &c->w->death_row, m,
					    c->now, ip6, fh);
	if (r == NULL)
		return NULL;
	c->w->cnt[GW_REASSEMBLED]++;
	c->w->cnt[GW_FRAGS_MERGED] += r->nb_segs - 1;
	return flatten(c, r);
}

/* A death row holds one burst's worth (RTE_IP_FRAG_DEATH_ROW_LEN packets
 * of up to RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1 mbufs each), and DPDK writes
 * to it without a bound check: it is emptied after every burst. */
static_assert(GW_BURST <= RTE_IP_FRAG_DEATH_ROW_LEN,
	      "a burst of fragments must fit the reassembly death row");

void
gw_reassembly_bury(struct gw_ctx *c)
{
	struct gw_worker *w = c->w;

	w->cnt[GW_DROP_REASSEMBLY] += w->death_row.cnt;
	rte_ip_frag_free_death_row(&w->death_row, 3);
}

void
gw_reassembly_expire(struct gw_ctx *c)
{
	rte_ip_frag_table_del_expired_entries(c->w->frag_tbl, &c->w->death_row,
					      c->now);
	gw_reassembly_bury(c);
}

void
gw_reassembly_release(struct gw_worker *w)
{
	/* a death row takes a bounded number of entries a call */
	do {
		rte_ip_frag_table_del_expired_entries(
			w->frag_tbl, &w->death_row, UINT64_MAX);
		w->cnt[GW_HELD_REASSEMBLY] += w->death_row.cnt;
		rte_ip_frag_free_death_row(&w->death_row, 0);
	} while (w->death_row.cnt != 0);
}
