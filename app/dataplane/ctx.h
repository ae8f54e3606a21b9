/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_CTX_H
#define ESPGW_DATAPLANE_CTX_H

/* What one poll loop of a worker carries from stage to stage: the table
 * set it read at the top (valid until its quiescent state at the end),
 * the packets on their way out, and what it remembers of the last route
 * and next hop. Packets travel as L3: the Ethernet header is stripped on
 * receive (rx.c) and written again on send (tx.c). */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "gw.h"

struct espgw_sa;
struct gw_policy;

/* One answer of the fused pass: a key (of the family whose answer it
 * is), the SA that decrypted its packet (NULL: clear) and its out
 * policy (NULL: a bypass). */
struct gw_fused {
	union {
		struct gw_acl_key v4;
		struct gw_acl_key6 v6;
	} key;
	const struct espgw_sa *sa;
	struct gw_policy *out;
	bool l4, valid;
};

struct gw_ctx {
	struct gw *gw;
	const struct gw_tables *t;
	struct gw_worker *w;
	uint64_t now, hz;
	/* L3 packets for the out path (ipsec_out.c), with their out policy
	 * when already matched (forwarded packets are matched together
	 * with the fwd check, from the same key) */
	struct rte_mbuf *out[GW_OUT_MAX];
	struct gw_policy *out_pol[GW_OUT_MAX];
	bool out_known[GW_OUT_MAX];
	unsigned int nb_out;
	/* The last route and next hop resolved: bursts mostly go to one
	 * (forgotten when a loop reads another table set or finds the
	 * neighbour table changed, so neither outlives a change by more
	 * than a burst: gw_ctx_revalidate()). */
	uint32_t rt_dst;
	const struct gw_nexthop *rt_nh;
	uint16_t rt_mtu;
	bool rt_valid;
	uint32_t hop;
	uint16_t hop_port;
	bool hop_valid;
	struct rte_ether_hdr hop_eth; /* the Ethernet header to it */
	/* the last destination sent to: its route is rt_*, its next hop
	 * hop_* (gw_send_ip_fast) */
	uint32_t tx_dst;
	bool tx_valid;
	/* the same for IPv6 */
	uint8_t rt6_dst[16];
	const struct gw_nexthop6 *rt6_nh;
	bool rt6_valid;
	uint8_t hop6[16];
	uint16_t hop6_port;
	bool hop6_valid;
	struct rte_ether_hdr hop6_eth;
	/* the last flows forwarded, clear and decrypted, IPv4 and IPv6,
	 * with their out policy (dataplane/fused.h) */
	struct gw_fused fused_clear, fused_dec, fused6_clear, fused6_dec;
	/* what the remembered answers above came from: the table set's
	 * generation and the neighbour table's changes */
	uint64_t seen_gen, seen_neigh;
	/* packets ready to send, per port: one rte_eth_tx_burst each at
	 * the end of the loop (or when full) */
	struct {
		uint16_t n;
		struct rte_mbuf *m[GW_TXQ_MAX];
	} txq[GW_MAX_PORTS];
	/* while decrypting another worker's segment (spread.h): the ring
	 * its frames go back on instead of a port */
	struct rte_ring *seg_back;
};

/* At the top of a loop, with c->t just read: forget the remembered
 * routes, next hops and fused-pass answers if what they came from
 * changed. */
static inline void
gw_ctx_revalidate(struct gw_ctx *c)
{
	uint64_t neigh = gw_neigh_changes(&c->gw->neigh);

	if (likely(c->seen_gen == c->t->generation && c->seen_neigh == neigh))
		return;
	c->hop_valid = c->hop6_valid = false;
	c->rt_valid = c->rt6_valid = c->tx_valid = false;
	c->fused_clear.valid = c->fused_dec.valid = false;
	c->fused6_clear.valid = c->fused6_dec.valid = false;
	c->seen_gen = c->t->generation;
	c->seen_neigh = neigh;
}

/* A packet's one fate when it is not sent: its named counter. */
static inline void
gw_drop(struct gw_ctx *c, struct rte_mbuf *m, enum gw_counter why)
{
	c->w->cnt[why]++;
	rte_pktmbuf_free(m);
}

/* The IPv4 total length of an L3 packet. */
static inline uint16_t
gw_ip_len(const struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(
		rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->total_length);
}

/* Is an L3 packet IPv6 (else IPv4)? The version nibble is on the line
 * every stage reads anyway, and holds for the packets the gateway
 * makes as for those it receives. */
static inline bool
gw_is_ip6(const struct rte_mbuf *m)
{
	return (*rte_pktmbuf_mtod(m, const uint8_t *) >> 4) == 6;
}

/* The IPv6 length (header and payload) of an L3 packet. */
static inline uint32_t
gw_ip6_len(const struct rte_mbuf *m)
{
	return sizeof(struct rte_ipv6_hdr) +
	       rte_be_to_cpu_16(rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *)
					->payload_len);
}

/* rte_pktmbuf_append for a fresh single-segment mbuf, in a form GCC 12's
 * bounds checker follows (it misreads the library inline). */
static inline void *
gw_mbuf_put(struct rte_mbuf *m, uint16_t len)
{
	uint16_t off = m->data_len;

	if (len > rte_pktmbuf_tailroom(m))
		return NULL;
	m->data_len += len;
	m->pkt_len += len;
	return rte_pktmbuf_mtod_offset(m, uint8_t *, off);
}

/* 224.0.0.0/4 (RFC 5771); DPDK's RTE_IS_IPV4_MCAST shifts an int past
 * its sign bit, which UBSan rightly refuses. */
static inline bool
gw_is_mcast(uint32_t be)
{
	return (rte_be_to_cpu_32(be) >> 28) == 0xe;
}

#endif /* ESPGW_DATAPLANE_CTX_H */
