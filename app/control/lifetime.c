/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* SA time limits (lifetime.h): the rules of xfrm_timer_handler(), a
 * limit of 0 being none. */

#include "control/lifetime.h"

/* Is the time limit secs (0: none) from since (0: not yet) up? */
static int
up(uint64_t since, uint64_t secs, uint64_t now)
{
	return secs != 0 && since != 0 && now >= since + secs;
}

enum gw_expiry
gw_lifetime_check(const struct espgw_cfg_lifetime *l, uint64_t add,
		  uint64_t use, uint64_t now)
{
	if (up(add, l->hard_add, now) || up(use, l->hard_use, now))
		return GW_HARD;
	if (up(add, l->soft_add, now) || up(use, l->soft_use, now))
		return GW_SOFT;
	return GW_LIVE;
}
