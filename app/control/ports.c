/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Ports brought up as table sets name them (ports.h). */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "control/ports.h"
#include "control/tables.h"
#include "gw.h"

unsigned int
gw_ports_max_mtu(const struct gw *gw)
{
	return rte_pktmbuf_data_room_size(gw->pool) - RTE_PKTMBUF_HEADROOM -
	       GW_PORT_FRAME_SLACK;
}

static bool
started(const struct gw *gw, uint16_t port)
{
	for (unsigned int i = 0; i < gw->nb_ports; i++)
		if (gw->ports[i] == port)
			return true;
	return false;
}

static void
set_mtu(const struct gw_iface *f)
{
	int rc = rte_eth_dev_set_mtu(f->port, f->mtu);

	/* net_null and net_pcap have no MTU; some NICs take none while
	 * started: the data path enforces it either way */
	if (rc != 0 && rc != -ENOTSUP)
		fprintf(stderr,
			"espgw: warning: %s refused MTU %u (%s); "
			"espgw enforces it in software\n",
			f->name, f->mtu, strerror(-rc));
}

/* One RX and one TX queue per worker; RSS spreads flows when the
 * driver can. With --spread-esp a port may have fewer: the workers
 * without an RX queue there still decrypt what the others receive,
 * and send there only through them (dataplane/spread.h). */
static int
port_start(struct gw *gw, const struct gw_iface *f, char *err, size_t len)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t q = (uint16_t)gw->nb_workers;
	uint16_t nrx = GW_PORT_RX_DESC, ntx = GW_PORT_TX_DESC;
	int rc;

	rc = rte_eth_dev_info_get(f->port, &info);
	if (rc != 0)
		goto fail;
	uint16_t qrx = q, qtx = q;

	if (gw->spread != 0) {
		qrx = RTE_MIN(q, info.max_rx_queues);
		qtx = RTE_MIN(q, info.max_tx_queues);
	}
	if (qrx == 0 || qtx == 0 || qrx > info.max_rx_queues ||
	    qtx > info.max_tx_queues) {
		snprintf(err, len, "%s: %u workers need %u queues, it has %u",
			 f->name, q, q,
			 RTE_MIN(info.max_rx_queues, info.max_tx_queues));
		return -1;
	}
	/* the NIC's IPv4 header checksum verdict, where it has one: the
	 * data path computes it only for packets without (dataplane/ipv4.c) */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (qrx > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	rc = rte_eth_dev_configure(f->port, qrx, qtx, &conf);
	if (rc != 0)
		goto fail;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(f->port, &nrx, &ntx);
	if (rc != 0)
		goto fail;
	for (uint16_t i = 0; i < qrx; i++) {
		rc = rte_eth_rx_queue_setup(f->port, i, nrx,
					    rte_eth_dev_socket_id(f->port),
					    NULL, gw->pool);
		if (rc != 0)
			goto fail;
	}
	for (uint16_t i = 0; i < qtx; i++) {
		rc = rte_eth_tx_queue_setup(
			f->port, i, ntx, rte_eth_dev_socket_id(f->port), NULL);
		if (rc != 0)
			goto fail;
	}
	gw->no_rxq[f->port] = qrx < q ? qrx : 0;
	gw->no_txq[f->port] = qtx < q ? qtx : 0;
	set_mtu(f);
	rc = rte_eth_dev_start(f->port);
	if (rc != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, len, "%s: cannot start: %s", f->name, strerror(-rc));
	return -1;
}

int
gw_ports_apply(struct gw *gw, const struct gw_tables *t,
	       const struct gw_tables *cur, char *err, size_t len)
{
	unsigned int first_new = gw->nb_ports, max = gw_ports_max_mtu(gw);

	for (unsigned int i = 0; i < gw->nb_ports; i++)
		if (!t->ifaces[gw->ports[i]].used) {
			snprintf(err, len,
				 "%s would go down: link set down is not "
				 "supported",
				 cur != NULL ? cur->ifaces[gw->ports[i]].name
					     : "a port");
			return -1;
		}
	for (unsigned int i = 0; i < t->nb_up; i++)
		if (t->ifaces[t->up[i]].mtu > max) {
			snprintf(err, len,
				 "%s: mtu %u is more than espgw's mbufs hold "
				 "(%u; give the port its MTU in the file of "
				 "-f, which sizes them)",
				 t->ifaces[t->up[i]].name,
				 t->ifaces[t->up[i]].mtu, max);
			return -1;
		}
	for (unsigned int i = 0; i < t->nb_up; i++) {
		const struct gw_iface *f = &t->ifaces[t->up[i]];

		if (started(gw, f->port))
			continue;
		if (port_start(gw, f, err, len) != 0)
			goto undo;
		gw->ports[gw->nb_ports++] = f->port;
	}
	/* nothing fails from here on */
	for (unsigned int i = 0; i < first_new; i++) {
		const struct gw_iface *f = &t->ifaces[gw->ports[i]];

		if (cur != NULL && cur->ifaces[f->port].mtu != f->mtu)
			set_mtu(f);
	}
	return 0;
undo:
	while (gw->nb_ports > first_new)
		rte_eth_dev_stop(gw->ports[--gw->nb_ports]);
	return -1;
}

void
gw_ports_close(struct gw *gw)
{
	for (unsigned int i = 0; i < gw->nb_ports; i++) {
		rte_eth_dev_stop(gw->ports[i]);
		rte_eth_dev_close(gw->ports[i]);
	}
	gw->nb_ports = 0;
}
