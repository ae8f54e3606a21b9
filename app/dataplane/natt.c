/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ESP in UDP on the receive side (natt.h). */

#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/natt.h"
#include "dataplane/ipv4.h"

enum gw_natt
gw_natt_input(struct gw_ctx *c, struct rte_mbuf *m)
{
	static const uint8_t marker[ESPGW_NATT_NON_ESP_MARKER_LEN];
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	const struct rte_udp_hdr *udp;
	const uint8_t *payload;
	uint16_t n;

	if (m->data_len < hl + ESPGW_UDP_HDR_LEN)
		return GW_NATT_NOT_OURS;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + hl);
	if (!gw_natt_port(c->t, udp->dst_port))
		return GW_NATT_NOT_OURS;
	payload = (const uint8_t *)(udp + 1);
	n = m->data_len - hl - ESPGW_UDP_HDR_LEN;
	/* RFC 3948 section 2.3: one byte, 0xFF */
	if (n == 1 && payload[0] == ESPGW_NATT_KEEPALIVE) {
		gw_drop(c, m, GW_DROP_NATT_KEEPALIVE);
		return GW_NATT_TAKEN;
	}
	/* section 2.2: four zero bytes where an SPI would be, then IKE.
	 * Nothing here speaks IKE yet: the hook for one. */
	if (n >= ESPGW_NATT_NON_ESP_MARKER_LEN &&
	    memcmp(payload, marker, sizeof(marker)) == 0) {
		gw_drop(c, m, GW_DROP_NATT_IKE);
		return GW_NATT_TAKEN;
	}
	return GW_NATT_ESP;
}
