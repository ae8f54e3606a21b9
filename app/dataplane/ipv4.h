/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_IPV4_H
#define ESPGW_DATAPLANE_IPV4_H

/* IPv4 input: the header check on receive, and where a packet that
 * passed its in or fwd policy goes: to the gateway, or on (TTL). */

#include <stdbool.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"
#include "dataplane/ipsec.h"
#include "dataplane/route.h"

/* RFC 1812 section 5.2.2: a well-formed IPv4 header, trimmed to its
 * length. Returns the header or NULL. */
struct rte_ipv4_hdr *gw_ipv4_check(struct rte_mbuf *m);
/* What the first octet of an address may make it (the slow check
 * decides): a source of network 0, loopback or a group (224/4) or
 * 255.255.255.255, a destination of network 0 or loopback. */
enum { GW_MARTIAN_SRC = 1, GW_MARTIAN_DST = 2 };
extern const uint8_t gw_ipv4_first_octet[256];
bool gw_ipv4_martian_slow(const struct rte_ipv4_hdr *ip);

/* RFC 1812 section 5.3.7: an address no wire may carry (network 0,
 * loopback; a group or broadcast source). One load an address for the
 * packets that pass. */
static inline bool
gw_ipv4_martian(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *s = (const uint8_t *)&ip->src_addr;
	const uint8_t *d = (const uint8_t *)&ip->dst_addr;

	if (likely(((gw_ipv4_first_octet[s[0]] & GW_MARTIAN_SRC) |
		    (gw_ipv4_first_octet[d[0]] & GW_MARTIAN_DST)) == 0))
		return false;
	return gw_ipv4_martian_slow(ip);
}

/* A decrypted inner IPv4 packet's addresses, checked as ip_rcv()
 * checks a packet xfrm hands it: a martian is drop-bad-ip-header
 * (ip_route_input_slow()), a group or broadcast destination, never
 * forwarded, drop-local-unhandled, as on receive (rx.c). Returns true,
 * or false with m dropped. */
bool gw_ipv4_inner_ok(struct gw_ctx *c, struct rte_mbuf *m);

/* A packet for this gateway, past the in policy check. */
void gw_local_input(struct gw_ctx *c, struct rte_mbuf *m);

/* RFC 1812 section 5.3.1: one hop less, the checksum updated by RFC
 * 1624 (TTL is the high byte of its word), with the end-around carry
 * that gives 0x0000, never 0xffff, as the kernel's ip_decrease_ttl()
 * does. The TTL is more than 1. */
static inline void
gw_ipv4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t sum = (uint32_t)ip->hdr_checksum + rte_cpu_to_be_16(0x0100);

	ip->time_to_live--;
	ip->hdr_checksum = (uint16_t)(sum + (sum >= 0xffff));
}

/* RFC 1812 section 5.3.1: time exceeded for a packet to forward. */
void gw_ipv4_ttl_expired(struct gw_ctx *c, struct rte_mbuf *m);

/* Decrement TTL (RFC 1812 section 5.3.1) and send on; pol is its out
 * policy, matched already when known. */
static inline void
gw_forward(struct gw_ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
	   bool known)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);

	if (unlikely(ip->time_to_live <= 1)) {
		gw_ipv4_ttl_expired(c, m);
		return;
	}
	gw_ipv4_ttl_dec(ip);
	c->w->cnt[GW_FORWARDED]++;
	/* bypass, known already: straight to the route, not through the
	 * out path's queue (its one answer would be the same) */
	if (known && gw_policy_bypass(pol))
		gw_send_ip_fast(c, m);
	else
		gw_out_queue(c, m, pol, known);
}

#endif /* ESPGW_DATAPLANE_IPV4_H */
