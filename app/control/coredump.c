/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#include <errno.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "control/coredump.h"

/* madvise wants a page-aligned start; a list's base and a segment's
 * address are (they are page or hugepage multiples). */
static int
exclude(void *addr, size_t len)
{
	/* ENOMEM: the range has holes (a list's unused tail is reserved,
	 * not mapped); the mapped parts are marked all the same. */
	if (madvise(addr, len, MADV_DONTDUMP) != 0 && errno != ENOMEM)
		return -errno;
	return 0;
}

static int
exclude_list(const struct rte_memseg_list *msl, void *arg)
{
	int *rc = arg;

	if (msl->base_va != NULL && msl->len != 0 && *rc == 0)
		*rc = exclude(msl->base_va, msl->len);
	return 0;
}

static void
on_alloc(enum rte_mem_event ev, const void *addr, size_t len, void *arg)
{
	(void)arg;
	if (ev == RTE_MEM_EVENT_ALLOC && exclude((void *)(uintptr_t)addr, len))
		RTE_LOG(WARNING, USER1,
			"espgw: new DPDK memory stays in core dumps\n");
}

int
gw_coredump_exclude_dpdk(void)
{
	int rc = 0;

	if (rte_memseg_list_walk(exclude_list, &rc) < 0)
		return -EINVAL;
	if (rc != 0)
		return rc;
	/* -ENOTSUP with --legacy-mem or --no-huge: memory never grows */
	if (rte_mem_event_callback_register("espgw-nodump", on_alloc, NULL) <
		    0 &&
	    rte_errno != ENOTSUP)
		return -rte_errno;
	return 0;
}
