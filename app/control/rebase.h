/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_REBASE_H
#define ESPGW_CONTROL_REBASE_H

/* A policy direction's rte_acl trie rebuilt off the control thread:
 * at 10,000 policies a build takes a fifth of a second, which the
 * control socket must not wait for. Changes meanwhile go on as deltas
 * of the old base (control/spd.h); the new base, built from a copy of
 * the policies as they were, is derived from like any other once it is
 * done, so what changed since stays a delta. */

#include <pthread.h>
#include <stdbool.h>

#include "control/spd.h"
#include "lang/config.h"

struct gw_rebase {
	pthread_t thread;
	bool running;
	bool done; /* set by the thread, read with __atomic */
	enum gw_dir dir;
	struct espgw_cfg_policy *pols; /* the copy it builds from */
	unsigned int nb;
	struct gw_spd spd; /* the result */
	int rc;
	char err[256];
};

/* Start building direction dir of cfg's policies. 0 or -errno. */
int gw_rebase_start(struct gw_rebase *rb, enum gw_dir dir,
		    const struct espgw_cfg *cfg);
/* Has a started build finished? */
bool gw_rebase_done(const struct gw_rebase *rb);
/* Wait for the build: the new base for gw_change.rebased (the caller
 * takes over what it holds), or NULL when it failed (err says why). */
struct gw_spd *gw_rebase_take(struct gw_rebase *rb);
/* Wait for a build and throw it away (at exit). */
void gw_rebase_cancel(struct gw_rebase *rb);

#endif /* ESPGW_CONTROL_REBASE_H */
