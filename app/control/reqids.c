/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Outbound SAs by reqid (reqids.h): a tsearch tree of reqids, each with
 * its SAs sorted by the order of adding. A reqid has a handful (a rekey
 * makes two), so a vector a reqid is all it needs. */

#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "control/reqids.h"

struct rx_entry {
	uint64_t seq;
	struct espgw_sa *sa;
};

struct group {
	uint32_t reqid;
	unsigned int n, cap;
	struct rx_entry *e; /* by seq */
};

struct gw_reqids {
	void *root;
	bool broken; /* an add ran out of memory: ask the SAs instead */
};

static int
by_reqid(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->reqid < y->reqid ? -1 : x->reqid > y->reqid;
}

struct gw_reqids *
gw_reqids_new(void)
{
	return calloc(1, sizeof(struct gw_reqids));
}

static void
free_group(void *g)
{
	free(((struct group *)g)->e);
	free(g);
}

void
gw_reqids_free(struct gw_reqids *x)
{
	if (x == NULL)
		return;
	tdestroy(x->root, free_group);
	free(x);
}

static struct group *
find(const struct gw_reqids *x, uint32_t reqid)
{
	struct group k = { .reqid = reqid };
	struct group *const *g = tfind(&k, &x->root, by_reqid);

	return g != NULL ? *g : NULL;
}

int
gw_reqids_add(struct gw_reqids *x, struct espgw_sa *sa, uint64_t seq)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	struct group *g, **slot;
	unsigned int i;

	if (p->dir != ESPGW_SA_OUT)
		return 0;
	g = find(x, p->reqid);
	if (g == NULL) {
		g = calloc(1, sizeof(*g));
		if (g == NULL)
			goto nomem;
		g->reqid = p->reqid;
		slot = tsearch(g, &x->root, by_reqid);
		if (slot == NULL) {
			free(g);
			goto nomem;
		}
	}
	if (g->n == g->cap) {
		unsigned int cap = g->cap ? 2 * g->cap : 2;
		struct rx_entry *e = realloc(g->e, cap * sizeof(*e));

		if (e == NULL)
			goto nomem;
		g->e = e;
		g->cap = cap;
	}
	/* mostly the newest: from the end */
	for (i = g->n; i > 0 && g->e[i - 1].seq > seq; i--)
		;
	memmove(&g->e[i + 1], &g->e[i], (g->n - i) * sizeof(*g->e));
	g->e[i] = (struct rx_entry){ .seq = seq, .sa = sa };
	g->n++;
	return 0;
nomem:
	x->broken = true;
	return -ENOMEM;
}

bool
gw_reqids_usable(const struct gw_reqids *x)
{
	return x != NULL && !x->broken;
}

void
gw_reqids_del(struct gw_reqids *x, const struct espgw_sa *sa)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	struct group *g;

	if (p->dir != ESPGW_SA_OUT || (g = find(x, p->reqid)) == NULL)
		return;
	for (unsigned int i = 0; i < g->n; i++)
		if (g->e[i].sa == sa) {
			memmove(&g->e[i], &g->e[i + 1],
				(g->n - i - 1) * sizeof(*g->e));
			g->n--;
			break;
		}
	if (g->n == 0) {
		tdelete(g, &x->root, by_reqid);
		free_group(g);
	}
}

struct espgw_sa *
gw_reqids_newest(const struct gw_reqids *x, uint32_t reqid,
		 bool (*ok)(const struct espgw_cfg_policy *p,
			    const struct espgw_sa *sa),
		 const struct espgw_cfg_policy *p)
{
	const struct group *g = find(x, reqid);

	for (unsigned int i = g != NULL ? g->n : 0; i-- > 0;)
		if (ok(p, g->e[i].sa))
			return g->e[i].sa;
	return NULL;
}
