/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ICMP6_H
#define ESPGW_DATAPLANE_ICMP6_H

/* ICMPv6 (RFC 4443) to the gateway's own addresses: the checksum, echo,
 * and neighbour discovery handed to nd.c. */

#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* An ICMPv6 message right after the IPv6 header, for us: from the link
 * (smac its Ethernet source) or out of a tunnel (smac NULL, and then
 * never neighbour discovery). */
void gw_icmp6_input(struct gw_ctx *c, struct rte_mbuf *m, uint16_t port,
		    const struct rte_ether_addr *smac);

/* An RFC 4443 error about orig (an L3 IPv6 packet), from the address
 * of ours the route back prefers, quoting as much of orig as fits in
 * 1280 bytes; param is the MTU of Packet Too Big, else 0. Out through
 * the out path, rate-limited with ICMP's; never about an error, a
 * packet to a group (Packet Too Big aside) or from none. */
void gw_icmp6_error(struct gw_ctx *c, struct rte_mbuf *orig, uint8_t type,
		    uint8_t code, uint32_t param);

/* The checksum to put in an ICMPv6 header right after ip6 (RFC 4443
 * section 2.3: over the pseudo-header too), its own field 0. */
uint16_t gw_icmp6_cksum(const struct rte_ipv6_hdr *ip6);

#endif /* ESPGW_DATAPLANE_ICMP6_H */
