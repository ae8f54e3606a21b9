/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_WORKER_H
#define ESPGW_DATAPLANE_WORKER_H

/* A worker lcore: its own state and its poll loop. */

#include <stdint.h>

#include <rte_common.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>
#include <rte_mbuf.h>

#include "dataplane/counters.h"
#include "dataplane/limits.h"

struct gw;
struct gw_spd_cache;
struct gw_spd_cache6;
struct gw_spread;

/* A packet waiting for its next hop's MAC (dataplane/hold.c). */
struct gw_pending {
	struct rte_mbuf *m; /* L3 packet */
	uint8_t nh[16];	    /* IPv4 (network order) in 4 bytes, or IPv6 */
	bool v6;
	uint16_t port;
	uint8_t tries;
	uint64_t next_try; /* TSC */
};

/* A worker's own state: never touched by another thread, but for the
 * counters, which the control thread reads. */
struct gw_worker {
	unsigned int id;
	unsigned int lcore;
	struct espgw_worker *esp;
	struct gw_pending pending[GW_ARP_PENDING];
	unsigned int nb_pending;
	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row death_row;
	struct gw_spd_cache *spd_cache;	  /* policy answers (dataplane/spd.h) */
	struct gw_spd_cache6 *spd_cache6; /* the same for IPv6 */
	uint64_t icmp_tokens, icmp_last;
	/* NAT keepalives the control thread asks this worker to send
	 * (struct gw_natt_keepalive, dataplane/natt.h) */
	struct rte_ring *keepalives;
	/* rings to and from the other workers with --spread-esp (NULL
	 * without: dataplane/spread.h) */
	struct gw_spread *spread;
	uint64_t cnt[GW_CNT_MAX];
} __rte_cache_aligned;

/* Set up worker id on lcore (on the main lcore, before it runs).
 * Returns 0 or -ENOMEM; gw_worker_fini undoes a partial set-up too. */
int gw_worker_init(struct gw_worker *w, unsigned int id, unsigned int lcore);
void gw_worker_fini(struct gw_worker *w);

/* The poll loop, launched on the worker's lcore until gw->quit. */
int gw_worker_main(void *arg);
struct gw_worker_arg {
	struct gw *gw;
	struct gw_worker *w;
};

#endif /* ESPGW_DATAPLANE_WORKER_H */
