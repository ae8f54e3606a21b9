/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_FUZZ_CFG_SAME_H
#define ESPGW_FUZZ_CFG_SAME_H

#include <stdbool.h>
#include <string.h>

#include "lang/config.h"

/* a's arrays and b's hold the same entries, byte for byte */
static inline bool
fz_cfg_same(const struct espgw_cfg *a, const struct espgw_cfg *b)
{
#define SAME(arr, nb)                                                          \
	(a->nb == b->nb &&                                                     \
	 (a->nb == 0 || memcmp(a->arr, b->arr, a->nb * sizeof(*a->arr)) == 0))
	return SAME(links, nb_links) && SAME(addrs, nb_addrs) &&
	       SAME(routes, nb_routes) && SAME(neighs, nb_neighs) &&
	       SAME(states, nb_states) && SAME(policies, nb_policies) &&
	       SAME(addrs6, nb_addrs6) && SAME(routes6, nb_routes6) &&
	       SAME(neighs6, nb_neighs6);
#undef SAME
}

#endif
