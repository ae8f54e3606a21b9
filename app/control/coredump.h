/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_COREDUMP_H
#define ESPGW_CONTROL_COREDUMP_H

/*
 * DPDK's memory, where SAs keep their expanded keys and mbufs their
 * plaintext, is left out of core dumps: madvise(MADV_DONTDUMP) on every
 * memseg list at start and on every segment allocated later. Hugepage
 * memory is out of them already by default (coredump_filter bit 6,
 * shared hugetlb); this covers --no-huge's anonymous memory. Call after
 * rte_eal_init(); 0 or -errno.
 */
int gw_coredump_exclude_dpdk(void);

#endif
