/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_PUBLISH_H
#define ESPGW_CONTROL_PUBLISH_H

/* Publication of table sets to the workers with DPDK's QSBR RCU
 * (rte_rcu_qsbr): a worker reads the current set at the top of its poll
 * loop and reports a quiescent state at the bottom, holding no table
 * pointer across it; it goes offline while it sleeps. The control
 * thread swaps the pointer and waits until every online worker has
 * passed a quiescent state before it frees the old set. One writer: the
 * control thread. */

#include <stdint.h>

#include <rte_rcu_qsbr.h>

struct gw_tables;

struct gw_publisher {
	struct gw_tables *cur; /* read with gw_tables_current() */
	struct rte_rcu_qsbr *qs;
	unsigned int nb_readers;
};

/* Room for readers 0 .. nb_readers - 1. Returns 0 or -ENOMEM. */
int gw_publisher_init(struct gw_publisher *p, unsigned int nb_readers);
/* Frees the RCU state, not the current set. */
void gw_publisher_fini(struct gw_publisher *p);

/* Make t the set workers see. Returns once no worker can still be
 * reading the set t replaced, and returns that set (NULL at first), for
 * the caller to free. Control thread only. */
struct gw_tables *gw_publish(struct gw_publisher *p, struct gw_tables *t);

/* The current set: workers at the top of a poll loop, the control
 * thread at any time. */
static inline struct gw_tables *
gw_tables_current(const struct gw_publisher *p)
{
	return __atomic_load_n(&p->cur, __ATOMIC_ACQUIRE);
}

/* Reader side, each from the reader's own thread. */
static inline void
gw_reader_start(struct gw_publisher *p, unsigned int id)
{
	rte_rcu_qsbr_thread_register(p->qs, id);
	rte_rcu_qsbr_thread_online(p->qs, id);
}

static inline void
gw_reader_stop(struct gw_publisher *p, unsigned int id)
{
	rte_rcu_qsbr_thread_offline(p->qs, id);
	rte_rcu_qsbr_thread_unregister(p->qs, id);
}

/* The end of a poll loop: nothing read from the tables is held. */
static inline void
gw_reader_quiescent(struct gw_publisher *p, unsigned int id)
{
	rte_rcu_qsbr_quiescent(p->qs, id);
}

/* Around a sleep: an offline reader holds nothing and is not waited
 * for; online again, it must read the current set afresh. */
static inline void
gw_reader_offline(struct gw_publisher *p, unsigned int id)
{
	rte_rcu_qsbr_thread_offline(p->qs, id);
}

static inline void
gw_reader_online(struct gw_publisher *p, unsigned int id)
{
	rte_rcu_qsbr_thread_online(p->qs, id);
}

#endif /* ESPGW_CONTROL_PUBLISH_H */
