/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_ICMP_H
#define ESPGW_DATAPLANE_ICMP_H

/* ICMP the gateway sends: errors about packets it cannot deliver
 * (RFC 792, RFC 1191), rate-limited, and echo replies. */

#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

/* RFC 792 error about orig, from our address on the port it came in by.
 * Never about an ICMP error, a later fragment, or a non-unicast source
 * (RFC 1122 section 3.2.2); rate-limited like the kernel's. */
void gw_icmp_error(struct gw_ctx *c, struct rte_mbuf *orig, uint8_t type,
		   uint8_t code, uint16_t mtu);

/* RFC 792 echo: answer in place and send it back the way replies go. */
void gw_icmp_echo(struct gw_ctx *c, struct rte_mbuf *m);

/* The rate limit's bucket starts full. */
void gw_icmp_init(struct gw_worker *w);

/* May the worker send an ICMP or ICMPv6 error now? One budget for both
 * families; a refusal is counted (icmp-errors-ratelimited). */
bool gw_icmp_allow(struct gw_ctx *c);

#endif /* ESPGW_DATAPLANE_ICMP_H */
