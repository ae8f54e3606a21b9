/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_NATT_H
#define ESPGW_DATAPLANE_NATT_H

/* ESP in UDP on the receive side (RFC 3948 section 2.2): what arrives on
 * a UDP port of ours that states encapsulate on. */

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

enum gw_natt { GW_NATT_ESP, GW_NATT_TAKEN, GW_NATT_NOT_OURS };

/* A UDP datagram m (at its IPv4 header, whole) for one of our
 * addresses: ESP in UDP for the ESP library (which checks the rest), a
 * NAT keepalive or an IKE message (taken: counted and dropped), or on
 * no port of ours (the way of other local traffic). */
enum gw_natt gw_natt_input(struct gw_ctx *c, struct rte_mbuf *m);

#endif /* ESPGW_DATAPLANE_NATT_H */
