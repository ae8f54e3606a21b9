/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DROPS_H
#define ESPGW_DROPS_H

/* One packet, one fate: a per-packet step returns ESPGW_OK or the
 * enum espgw_drop that ends the packet, and the caller counts it once. */

#include <stdint.h>

#include <rte_debug.h>

#include "espgw/esp.h"

/* A step's "pass". Negative, so it is no counter's index: the drop
 * reasons keep their public numbers 0 .. ESPGW_DROP_MAX - 1, and a pass
 * counted by mistake is caught by espgw_drop_count(), not written past
 * (or before) a counter array. */
#define ESPGW_OK (-1)

/* Count the drop a step returned. Only ever on a drop path, so the
 * check costs a packet that passes nothing. */
static inline void
espgw_drop_count(uint64_t drops[ESPGW_DROP_MAX], int rc)
{
	RTE_VERIFY(rc >= 0 && rc < ESPGW_DROP_MAX);
	drops[rc]++;
}

#endif /* ESPGW_DROPS_H */
