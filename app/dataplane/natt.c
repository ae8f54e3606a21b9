/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ESP in UDP beside the ESP library (natt.h). */

#include <string.h>

#include <errno.h>
#include <stdio.h>

#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/ipv4.h"
#include "dataplane/natt.h"
#include "dataplane/route.h"
#include "dataplane/worker.h"

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

int
gw_natt_init(struct gw_worker *w, int socket)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "gw_natt_ka_%u", w->id);
	w->keepalives = rte_ring_create_elem(
		name, sizeof(struct gw_natt_keepalive), 256, socket,
		RING_F_SP_ENQ | RING_F_SC_DEQ);
	return w->keepalives != NULL ? 0 : -ENOMEM;
}

void
gw_natt_fini(struct gw_worker *w)
{
	rte_ring_free(w->keepalives);
	w->keepalives = NULL;
}

/* RFC 3948 section 2.3: UDP from the state's port to the peer's, one
 * byte 0xFF, checksum 0 as on ESP in UDP. */
void
gw_natt_keepalives(struct gw_ctx *c)
{
	struct gw_natt_keepalive k[16];
	unsigned int n = rte_ring_dequeue_burst_elem(
		c->w->keepalives, k, sizeof(k[0]), RTE_DIM(k), NULL);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(c->gw->pool);
		const uint16_t len = ESPGW_IPV4_HDR_LEN + ESPGW_UDP_HDR_LEN + 1;
		struct rte_ipv4_hdr *ip =
			m != NULL ? gw_mbuf_put(m, len) : NULL;
		struct rte_udp_hdr *udp;

		if (ip == NULL) {
			rte_pktmbuf_free(m);
			c->w->cnt[GW_ALLOC_FAILED]++;
			continue;
		}
		memset(ip, 0, len);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(len);
		ip->time_to_live = ESPGW_DEFAULT_TTL;
		ip->next_proto_id = ESPGW_IPPROTO_UDP;
		ip->src_addr = k[i].src;
		ip->dst_addr = k[i].dst;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = k[i].sport;
		udp->dst_port = k[i].dport;
		udp->dgram_len = rte_cpu_to_be_16(ESPGW_UDP_HDR_LEN + 1);
		*(uint8_t *)(udp + 1) = ESPGW_NATT_KEEPALIVE;
		m->port = UINT16_MAX; /* made here */
		c->w->cnt[GW_NATT_KEEPALIVES_SENT]++;
		gw_send_ip(c, m);
	}
}
