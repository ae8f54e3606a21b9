/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_IPV6_H
#define ESPGW_DATAPLANE_IPV6_H

/* IPv6 (RFC 8200): the header check, the split of what arrives into
 * what is for the link (neighbour discovery), ESP for us and the rest
 * (for us or to forward, past the policies), forwarding, and the last
 * hop of every IPv6 packet. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* A well-formed IPv6 header, the packet trimmed to its payload length;
 * NULL when not. */
struct rte_ipv6_hdr *gw_ipv6_check(struct rte_mbuf *m);

/* What becomes of an IPv6 packet received: taken (answered, counted),
 * ESP for one of our addresses, or the rest, for the in or fwd
 * policies. */
enum gw_ip6_fate { GW_IP6_TAKEN, GW_IP6_ESP, GW_IP6_PLAIN };

/* An L3 IPv6 packet *mp received on port from the Ethernet source smac;
 * fragments for us are reassembled first (*mp is then the datagram).
 * lead: no packet of its burst waits for the policy stages, so one of
 * the flow last forwarded may go straight on (fused.h), taken. */
enum gw_ip6_fate gw_ipv6_input(struct gw_ctx *c, struct rte_mbuf **mp,
			       uint16_t port, const struct rte_ether_addr *smac,
			       bool lead);

/* A decrypted inner IPv6 packet's addresses, checked as ipv6_rcv()
 * and ip6_forward() check a packet xfrm6 hands them, and as the
 * receive path checks ours (gw_ipv6_input): a group destination is
 * never forwarded nor ours to serve from a tunnel. Returns true, or
 * false with m dropped under its counter. */
bool gw_ipv6_inner_ok(struct gw_ctx *c, struct rte_mbuf *m);

/* A packet for one of our IPv6 addresses, past the in policy check. */
void gw_local_input6(struct gw_ctx *c, struct rte_mbuf *m);

/* Decrement the hop limit (RFC 8200 section 3) and send on; pol is its
 * out policy, matched already when known. */
void gw_forward6(struct gw_ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
		 bool known);

/* Route an L3 IPv6 packet and hand it to its next hop, resolving it
 * with neighbour discovery when need be; what does not fit the link is
 * refused with Packet Too Big. */
void gw_send_ip6(struct gw_ctx *c, struct rte_mbuf *m);

/* The same for an ESP packet the gateway made: the source of an IPv6
 * packet may fragment it (RFC 8200 section 5), and what does not fit
 * the link goes in fragments, as Linux's xfrm6 output does. */
void gw_send_esp6(struct gw_ctx *c, struct rte_mbuf *m);

/* ff02::1, all nodes (RFC 4291 section 2.7.1). */
extern const uint8_t gw_ip6_all_nodes[16];

static inline bool
gw_ip6_is_all_nodes(const uint8_t a[16])
{
	return memcmp(a, gw_ip6_all_nodes, 16) == 0;
}

/* ff02::1:ffXX:XXXX, the solicited-node group of an address with the
 * same low 24 bits (RFC 4291 section 2.7.1). */
static inline void
gw_ip6_solicited_node(uint8_t out[16], const uint8_t a[16])
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	memcpy(out, pfx, sizeof(pfx));
	memcpy(out + 13, a + 13, 3);
}

/* 33:33 and the group's low 32 bits (RFC 2464 section 7). */
static inline void
gw_ip6_mcast_mac(struct rte_ether_addr *mac, const uint8_t group[16])
{
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], group + 12, 4);
}

#endif /* ESPGW_DATAPLANE_IPV6_H */
