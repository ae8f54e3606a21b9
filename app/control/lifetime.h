/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_LIFETIME_H
#define ESPGW_CONTROL_LIFETIME_H

/* SA time limits as net/xfrm/xfrm_state.c's xfrm_timer_handler() keeps
 * them: from the add (time-*) or the first use (time-use-*). A soft
 * limit makes a state dying: it still works, but a template prefers any
 * newer state that is not; a hard limit removes it. The control thread
 * checks every state once a second (control/ctl.c). Byte and packet
 * limits are the workers', as xfrm_state_check_expire() checks them
 * before each packet (lib/life.h): a state at its byte limit expires
 * on its next packet, never on the clock. */

#include <stdint.h>

#include "lang/config.h"

enum gw_expiry { GW_LIVE, GW_SOFT, GW_HARD };

/* What the time limits of l say, at now (seconds), of a state added at
 * add and first used at use (0: not yet). */
enum gw_expiry gw_lifetime_check(const struct espgw_cfg_lifetime *l,
				 uint64_t add, uint64_t use, uint64_t now);

/* Does l set any limit? */
static inline int
gw_lifetime_any(const struct espgw_cfg_lifetime *l)
{
	return (l->soft_bytes | l->hard_bytes | l->soft_packets |
		l->hard_packets | l->soft_add | l->hard_add | l->soft_use |
		l->hard_use) != 0;
}

#endif /* ESPGW_CONTROL_LIFETIME_H */
