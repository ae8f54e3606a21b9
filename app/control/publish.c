/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Table-set publication (publish.h): swap, then wait for a grace
 * period. rte_rcu_qsbr_synchronize polls the readers' counters; the
 * control thread has nothing better to do meanwhile, and a poll loop
 * lasts microseconds. */

#include <errno.h>

#include <rte_malloc.h>

#include "control/publish.h"

int
gw_publisher_init(struct gw_publisher *p, unsigned int nb_readers)
{
	size_t sz = rte_rcu_qsbr_get_memsize(nb_readers ? nb_readers : 1);

	p->cur = NULL;
	p->nb_readers = nb_readers;
	p->qs = rte_zmalloc("gw_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (p->qs == NULL ||
	    rte_rcu_qsbr_init(p->qs, nb_readers ? nb_readers : 1) != 0) {
		rte_free(p->qs);
		p->qs = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
gw_publisher_fini(struct gw_publisher *p)
{
	rte_free(p->qs);
	p->qs = NULL;
}

struct gw_tables *
gw_publish(struct gw_publisher *p, struct gw_tables *t)
{
	struct gw_tables *old =
		__atomic_exchange_n(&p->cur, t, __ATOMIC_ACQ_REL);

	/* every reader that may have loaded old has moved past a
	 * quiescent state or gone offline */
	rte_rcu_qsbr_synchronize(p->qs, RTE_QSBR_THRID_INVALID);
	return old;
}
