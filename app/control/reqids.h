/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_REQIDS_H
#define ESPGW_CONTROL_REQIDS_H

/* The outbound SAs of a table set by reqid, each reqid's in the order
 * of adding: what an out policy's template with a reqid finds without a
 * look at 100,000 SAs (xfrm_state_find's newest-first rule). Handed on
 * from set to set and changed in place as a commit changes the SAs.
 * Control thread only. */

#include <stdbool.h>
#include <stdint.h>

#include "espgw/esp.h"
#include "lang/config.h"

struct gw_reqids;

struct gw_reqids *gw_reqids_new(void);
void gw_reqids_free(struct gw_reqids *x);

/* Take in SA sa (outbound ones; others are ignored) of order seq. 0 or
 * -ENOMEM. */
int gw_reqids_add(struct gw_reqids *x, struct espgw_sa *sa, uint64_t seq);
/* Does it hold every outbound SA (no add ran out of memory)? */
bool gw_reqids_usable(const struct gw_reqids *x);
/* Let SA sa go. */
void gw_reqids_del(struct gw_reqids *x, const struct espgw_sa *sa);

/* The newest SA of reqid that satisfies template p (ok), or NULL. */
struct espgw_sa *gw_reqids_newest(const struct gw_reqids *x, uint32_t reqid,
				  bool (*ok)(const struct espgw_cfg_policy *p,
					     const struct espgw_sa *sa),
				  const struct espgw_cfg_policy *p);

#endif /* ESPGW_CONTROL_REQIDS_H */
