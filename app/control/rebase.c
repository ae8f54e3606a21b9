/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* A policy direction's trie built on a thread of its own (rebase.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/rebase.h"

static void *
build(void *arg)
{
	struct gw_rebase *rb = arg;

	/* rte_acl_create and _build take EAL's locks and rte_malloc,
	 * which threads of their own may use */
	rb->rc = gw_spd_build(&rb->spd, rb->pols, rb->nb,
			      (enum espgw_cfg_dir)rb->dir, rb->err,
			      sizeof(rb->err));
	__atomic_store_n(&rb->done, true, __ATOMIC_RELEASE);
	return NULL;
}

int
gw_rebase_start(struct gw_rebase *rb, enum gw_dir dir,
		const struct espgw_cfg *cfg)
{
	unsigned int n = 0;
	int rc;

	memset(rb, 0, sizeof(*rb));
	rb->dir = dir;
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		n += cfg->policies[i].dir == (enum espgw_cfg_dir)dir;
	rb->pols = malloc((n ? n : 1) * sizeof(*rb->pols));
	if (rb->pols == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (cfg->policies[i].dir == (enum espgw_cfg_dir)dir)
			rb->pols[rb->nb++] = cfg->policies[i];
	rc = pthread_create(&rb->thread, NULL, build, rb);
	if (rc != 0) {
		free(rb->pols);
		rb->pols = NULL;
		return -rc;
	}
	rb->running = true;
	return 0;
}

bool
gw_rebase_done(const struct gw_rebase *rb)
{
	return rb->running && __atomic_load_n(&rb->done, __ATOMIC_ACQUIRE);
}

static void
join(struct gw_rebase *rb)
{
	pthread_join(rb->thread, NULL);
	rb->running = false;
	free(rb->pols);
	rb->pols = NULL;
}

struct gw_spd *
gw_rebase_take(struct gw_rebase *rb)
{
	if (!rb->running)
		return NULL;
	join(rb);
	if (rb->rc != 0) {
		gw_spd_free(&rb->spd);
		return NULL;
	}
	return &rb->spd;
}

void
gw_rebase_cancel(struct gw_rebase *rb)
{
	if (!rb->running)
		return;
	join(rb);
	gw_spd_free(&rb->spd);
}
