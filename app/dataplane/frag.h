/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_FRAG_H
#define ESPGW_DATAPLANE_FRAG_H

/* Fragments: splitting IPv4 that does not fit a link (RFC 791, RFC 4459
 * section 3 before encryption) and reassembling outer ESP fragments of
 * both families before decryption (RFC 4303 section 3.4.1) with
 * rte_ip_frag. */

#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* Split an IPv4 packet (DF clear) to fit mtu. Returns the number of
 * fragments, 0 when it failed (counted; m is freed either way). */
int gw_fragment(struct gw_ctx *c, struct rte_mbuf *m, uint16_t mtu,
		struct rte_mbuf **frags);

/* Split an IPv6 packet without extension headers (an ESP packet we made)
 * to fit mtu (RFC 8200 section 4.5), with a fresh identification.
 * Returns the number of fragments, 0 when it failed (counted; m is
 * freed either way). */
int gw_fragment6(struct gw_ctx *c, struct rte_mbuf *m, uint16_t mtu,
		 struct rte_mbuf **frags);

/* Add fragment m (its IPv4 header ip) to the worker's reassembly table.
 * Returns the whole datagram in one segment with a fresh header
 * checksum, or NULL: held until its other fragments come, or dropped
 * (counted). */
struct rte_mbuf *gw_reassemble(struct gw_ctx *c, struct rte_mbuf *m,
			       struct rte_ipv4_hdr *ip);

/* The same for an IPv6 fragment whose fragment header follows the IPv6
 * header (the only place DPDK's reassembly takes it): the datagram
 * comes back without the fragment header. */
struct rte_mbuf *gw_reassemble6(struct gw_ctx *c, struct rte_mbuf *m);

/* After a burst: fragments that came twice or did not fit, dropped as
 * drop-reassembly. */
void gw_reassembly_bury(struct gw_ctx *c);

/* Once a loop: datagrams that timed out (and gw_reassembly_bury). */
void gw_reassembly_expire(struct gw_ctx *c);

/* At exit: free what is still held, counted as held-reassembly. */
void gw_reassembly_release(struct gw_worker *w);

#endif /* ESPGW_DATAPLANE_FRAG_H */
