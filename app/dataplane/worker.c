/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* A worker's poll loop: read the published table set, receive and
 * process each port's burst, retry ARP, expire reassembly, send, and
 * report a quiescent state (control/publish.h). Its set-up and
 * tear-down run on the main lcore. */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>

#include "dataplane/frag.h"
#include "dataplane/hold.h"
#include "dataplane/icmp.h"
#include "dataplane/natt.h"
#include "dataplane/rx.h"
#include "dataplane/spd.h"
#include "dataplane/spread.h"
#include "dataplane/tx.h"
#include "dataplane/worker.h"

int
gw_worker_init(struct gw_worker *w, unsigned int id, unsigned int lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);

	w->id = id;
	w->lcore = lcore;
	w->esp = espgw_worker_create((uint16_t)id, socket);
	/* outer fragments held up to 2 s, as the kernel's ipfrag_time is
	 * 30 s but a gateway has less to spare */
	w->frag_tbl = rte_ip_frag_table_create(1024, 16, 1024 * 16,
					       rte_get_tsc_hz() * 2, socket);
	/* 32,768 buckets of 2: 2 MB, answers for 65,536 flows; IPv6's,
	 * a line an entry: 16,384 buckets, 2 MB, 32,768 flows (one pair
	 * of counters for both) */
	w->spd_cache = calloc(1, sizeof(*w->spd_cache));
	w->spd_cache6 = calloc(1, sizeof(*w->spd_cache6));
	if (w->esp == NULL || w->frag_tbl == NULL || w->spd_cache == NULL ||
	    w->spd_cache6 == NULL ||
	    gw_spd_cache_init(w->spd_cache, 32768, socket,
			      &w->cnt[GW_SPD_CACHE_HITS],
			      &w->cnt[GW_SPD_CACHE_MISSES]) != 0 ||
	    gw_spd_cache6_init(w->spd_cache6, 16384, socket,
			       &w->cnt[GW_SPD_CACHE_HITS],
			       &w->cnt[GW_SPD_CACHE_MISSES]) != 0)
		return -ENOMEM;
	gw_icmp_init(w);
	return gw_natt_init(w, socket);
}

void
gw_worker_fini(struct gw_worker *w)
{
	gw_hold_release(w);
	if (w->frag_tbl != NULL) {
		gw_reassembly_release(w);
		rte_ip_frag_table_destroy(w->frag_tbl);
		w->frag_tbl = NULL;
	}
	espgw_worker_free(w->esp);
	w->esp = NULL;
	gw_natt_fini(w);
	if (w->spd_cache != NULL)
		gw_spd_cache_fini(w->spd_cache);
	free(w->spd_cache);
	w->spd_cache = NULL;
	if (w->spd_cache6 != NULL)
		gw_spd_cache6_fini(w->spd_cache6);
	free(w->spd_cache6);
	w->spd_cache6 = NULL;
}

int
gw_worker_main(void *arg)
{
	struct gw_worker_arg *a = arg;
	struct gw *gw = a->gw;
	struct gw_worker *w = a->w;
	struct rte_mbuf *pkts[GW_BURST];
	struct gw_ctx c = { .gw = gw, .w = w, .hz = rte_get_tsc_hz() };

	gw_reader_start(&gw->pub, w->id);
	while (!__atomic_load_n(&gw->quit, __ATOMIC_RELAXED)) {
		uint32_t got = 0;

		c.t = gw_tables_current(&gw->pub);
		c.now = rte_rdtsc();
		gw_ctx_revalidate(&c);
		/* with --spread-esp, not while the owners are behind */
		for (unsigned int p = 0;
		     p < c.t->nb_up &&
		     (w->spread == NULL || gw_spread_room(w, gw->spread));
		     p++) {
			uint16_t port = c.t->up[p];
			uint16_t n;

			if (unlikely(gw->no_rxq[port] != 0 &&
				     w->id >= gw->no_rxq[port]))
				continue;
			n = rte_eth_rx_burst(port, (uint16_t)w->id, pkts,
					     GW_BURST);
			if (n) {
				gw_rx_burst(&c, port, pkts, n);
				got += n;
			}
		}
		if (w->spread != NULL)
			got += gw_spread_poll(&c);
		if (w->nb_pending)
			gw_hold_poll(&c);
		if (unlikely(!rte_ring_empty(w->keepalives)))
			gw_natt_keepalives(&c);
		gw_reassembly_expire(&c);
		for (unsigned int p = 0; p < c.t->nb_up; p++)
			gw_tx_flush(&c, c.t->up[p]);
		/* nothing read from c.t is held past this point */
		c.t = NULL;
		gw_reader_quiescent(&gw->pub, w->id);
		if (got == 0 && gw->poll_idle_us) {
			gw_reader_offline(&gw->pub, w->id);
			usleep(gw->poll_idle_us);
			gw_reader_online(&gw->pub, w->id);
		}
	}
	gw_reader_stop(&gw->pub, w->id);
	/* what is still held is counted as held: every packet received
	 * has its one fate */
	gw_hold_release(w);
	gw_reassembly_release(w);
	return 0;
}
