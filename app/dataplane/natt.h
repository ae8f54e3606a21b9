/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_NATT_H
#define ESPGW_DATAPLANE_NATT_H

/* ESP in UDP beside the ESP library (RFC 3948): on the receive side
 * (section 2.2), what arrives on a UDP port of ours that states
 * encapsulate on; on the send side, NAT keepalives (section 2.3). */

#include <rte_mbuf.h>

#include "dataplane/ctx.h"

enum gw_natt { GW_NATT_ESP, GW_NATT_TAKEN, GW_NATT_NOT_OURS };

/* A UDP datagram m (at its IPv4 header, whole) for one of our
 * addresses: ESP in UDP for the ESP library (which checks the rest), a
 * NAT keepalive or an IKE message (taken: counted and dropped), or on
 * no port of ours (the way of other local traffic). */
enum gw_natt gw_natt_input(struct gw_ctx *c, struct rte_mbuf *m);

/* A keepalive to send: an ESP-in-UDP state's addresses and ports, all
 * network order (values, not the SA: the state may be gone by the time
 * the worker gets to it). */
struct gw_natt_keepalive {
	uint32_t src, dst;
	uint16_t sport, dport;
};

struct gw_worker;

/* The worker's queue of keepalives (one writer, the control thread; one
 * reader, the worker). 0 or -ENOMEM. */
int gw_natt_init(struct gw_worker *w, int socket);
void gw_natt_fini(struct gw_worker *w);

/* Send what is queued: one-byte 0xFF UDP datagrams, routed as the
 * gateway's own packets (natt-keepalives-sent). */
void gw_natt_keepalives(struct gw_ctx *c);

#endif /* ESPGW_DATAPLANE_NATT_H */
