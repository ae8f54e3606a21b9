/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The live configuration and what each `ip` command does to it, with
 * the kernel's answers: a state is (dst, proto, SPI) as in
 * xfrm_state_lookup(); a policy is (selector, dir) as in
 * xfrm_policy_insert(); a route is its prefix (fib_table_insert), a
 * neighbour (address, device), an address (address, device). Errors
 * read as ip prints them ("File exists", "No such process", ...). A
 * batch applies to a copy, so a failed line leaves nothing behind. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "control/db.h"
#include "control/spd.h"

/* Room for n as lang's append keeps it: a power of two. */
static void *
dup_array(const void *a, unsigned int n, size_t size, bool *ok)
{
	size_t cap = 1;
	void *b;

	if (n == 0)
		return NULL;
	while (cap < n)
		cap *= 2;
	b = malloc(cap * size);
	if (b == NULL) {
		*ok = false;
		return NULL;
	}
	memcpy(b, a, (size_t)n * size);
	return b;
}

int
gw_db_copy(struct espgw_cfg *dst, const struct espgw_cfg *src)
{
	bool ok = true;

	*dst = *src;
	dst->links =
		dup_array(src->links, src->nb_links, sizeof(*src->links), &ok);
	dst->addrs =
		dup_array(src->addrs, src->nb_addrs, sizeof(*src->addrs), &ok);
	dst->routes = dup_array(src->routes, src->nb_routes,
				sizeof(*src->routes), &ok);
	dst->neighs = dup_array(src->neighs, src->nb_neighs,
				sizeof(*src->neighs), &ok);
	dst->states = dup_array(src->states, src->nb_states,
				sizeof(*src->states), &ok);
	dst->policies = dup_array(src->policies, src->nb_policies,
				  sizeof(*src->policies), &ok);
	if (!ok) {
		espgw_cfg_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Remove element i of an array of n, keeping the others' order. */
#define REMOVE(arr, n, i)                                                      \
	do {                                                                   \
		memmove(&(arr)[i], &(arr)[(i) + 1],                            \
			((n) - (i)-1) * sizeof((arr)[0]));                     \
		(n)--;                                                         \
	} while (0)

/* Append as lang's parser does (capacity: the count rounded up to a
 * power of two), so arrays from either stay valid for both. */
static int
push(void **arr, unsigned int *n, const void *item, size_t size)
{
	if ((*n & (*n - 1)) == 0) {
		void *a = realloc(*arr, (*n != 0 ? 2 * (size_t)*n : 1) * size);

		if (a == NULL)
			return -ENOMEM;
		*arr = a;
	}
	memcpy((char *)*arr + (size_t)*n * size, item, size);
	(*n)++;
	return 0;
}

#define PUSH(cfg, field, count, item)                                          \
	push((void **)&(cfg)->field, &(cfg)->count, (item), sizeof(*(item)))

/* ---- links ----------------------------------------------------------- */

int
gw_db_link_set(struct espgw_cfg *cfg, const struct espgw_cfg_link *l)
{
	if (l->newname[0] == '\0')
		for (unsigned int i = 0; i < cfg->nb_links; i++) {
			struct espgw_cfg_link *e = &cfg->links[i];

			if (strcmp(e->port, l->port) != 0 &&
			    strcmp(e->newname, l->port) != 0)
				continue;
			if (l->mtu != 0)
				e->mtu = l->mtu;
			return 0;
		}
	return PUSH(cfg, links, nb_links, l);
}

/* ---- states ---------------------------------------------------------- */

int
gw_db_state_find(const struct espgw_cfg *cfg, uint32_t dst, uint32_t spi)
{
	for (unsigned int i = 0; i < cfg->nb_states; i++)
		if (cfg->states[i].p.dst.v4 == dst &&
		    cfg->states[i].p.spi == spi)
			return (int)i;
	return -ESRCH;
}

int
gw_db_state_add(struct espgw_cfg *cfg, const struct espgw_cfg_state *s,
		bool update)
{
	int i = gw_db_state_find(cfg, s->p.dst.v4, s->p.spi);

	if (!update)
		return i >= 0 ? -EEXIST : PUSH(cfg, states, nb_states, s);
	if (i < 0)
		return -ESRCH;
	cfg->states[i] = *s;
	return 0;
}

void
gw_db_state_remove(struct espgw_cfg *cfg, unsigned int i)
{
	REMOVE(cfg->states, cfg->nb_states, i);
}

bool
gw_db_state_match(const struct espgw_cfg_state *s,
		  const struct espgw_cfg_state *sel, uint32_t given)
{
	return (!(given & ESPGW_SEL_STATE_SRC) ||
		s->p.src.v4 == sel->p.src.v4) &&
	       (!(given & ESPGW_SEL_STATE_DST) ||
		s->p.dst.v4 == sel->p.dst.v4) &&
	       (!(given & ESPGW_SEL_STATE_SPI) || s->p.spi == sel->p.spi) &&
	       (!(given & ESPGW_SEL_STATE_REQID) || s->p.reqid == sel->p.reqid);
}

unsigned int
gw_db_state_remove_matching(struct espgw_cfg *cfg,
			    const struct espgw_cfg_state *sel, uint32_t given)
{
	unsigned int keep = 0, n = cfg->nb_states;

	for (unsigned int i = 0; i < n; i++)
		if (!gw_db_state_match(&cfg->states[i], sel, given))
			cfg->states[keep++] = cfg->states[i];
	cfg->nb_states = keep;
	return n - keep;
}

/* ---- policies -------------------------------------------------------- */

int
gw_db_policy_find(const struct espgw_cfg *cfg,
		  const struct espgw_cfg_policy *key)
{
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (gw_policy_same_key(&cfg->policies[i], key))
			return (int)i;
	return -ENOENT;
}

/* The kernel's policy index (xfrm_gen_index): a generator that starts
 * at 0 and moves by 8, ORed with the direction as xfrm numbers it (in
 * 0, out 1, fwd 2), 0 becoming 8. Here the generator is one past the
 * highest index given out, so a fresh set numbers as a fresh kernel
 * does (out 1, in 8, fwd 18, ...). */
static uint32_t
next_index(const struct espgw_cfg *cfg, enum espgw_cfg_dir dir)
{
	static const uint32_t kdir[] = {
		[ESPGW_POL_IN] = 0, [ESPGW_POL_OUT] = 1, [ESPGW_POL_FWD] = 2
	};
	uint32_t gen = 0, idx;

	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (cfg->policies[i].index != 0)
			gen = RTE_MAX(gen, (cfg->policies[i].index >> 3) + 1);
	idx = gen << 3 | kdir[dir];
	return idx != 0 ? idx : 8;
}

void
gw_db_policy_number(struct espgw_cfg *cfg)
{
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (cfg->policies[i].index == 0)
			cfg->policies[i].index =
				next_index(cfg, cfg->policies[i].dir);
}

int
gw_db_policy_add(struct espgw_cfg *cfg, const struct espgw_cfg_policy *p,
		 bool update)
{
	int i = gw_db_policy_find(cfg, p);
	struct espgw_cfg_policy q = *p;

	if (i < 0) {
		if (q.index == 0)
			q.index = next_index(cfg, q.dir);
		return PUSH(cfg, policies, nb_policies, &q);
	}
	if (!update)
		return -EEXIST;
	/* xfrm_policy_insert: the replacement keeps the old index */
	q.index = cfg->policies[i].index;
	cfg->policies[i] = q;
	return 0;
}

int
gw_db_policy_find_index(const struct espgw_cfg *cfg, uint32_t index,
			enum espgw_cfg_dir dir)
{
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (cfg->policies[i].index == index &&
		    cfg->policies[i].dir == dir)
			return (int)i;
	return -ENOENT;
}

void
gw_db_policy_remove(struct espgw_cfg *cfg, unsigned int i)
{
	REMOVE(cfg->policies, cfg->nb_policies, i);
}

bool
gw_db_policy_match(const struct espgw_cfg_policy *p,
		   const struct espgw_cfg_policy *sel, uint32_t given)
{
	return (!(given & ESPGW_SEL_POLICY_SRC) ||
		(p->src == sel->src && p->src_len == sel->src_len)) &&
	       (!(given & ESPGW_SEL_POLICY_DST) ||
		(p->dst == sel->dst && p->dst_len == sel->dst_len)) &&
	       (!(given & ESPGW_SEL_POLICY_PROTO) || p->proto == sel->proto) &&
	       (!(given & ESPGW_SEL_POLICY_SPORT) || p->sport == sel->sport) &&
	       (!(given & ESPGW_SEL_POLICY_DPORT) || p->dport == sel->dport) &&
	       (!(given & ESPGW_SEL_POLICY_DIR) || p->dir == sel->dir) &&
	       (!(given & ESPGW_SEL_POLICY_PRIORITY) ||
		p->priority == sel->priority) &&
	       (!(given & ESPGW_SEL_POLICY_ACTION) || p->action == sel->action);
}

unsigned int
gw_db_policy_remove_matching(struct espgw_cfg *cfg,
			     const struct espgw_cfg_policy *sel, uint32_t given)
{
	unsigned int keep = 0, n = cfg->nb_policies;

	for (unsigned int i = 0; i < n; i++)
		if (!gw_db_policy_match(&cfg->policies[i], sel, given))
			cfg->policies[keep++] = cfg->policies[i];
	cfg->nb_policies = keep;
	return n - keep;
}

/* ---- routes, neighbours, addresses ----------------------------------- */

static int
route_find(const struct espgw_cfg *cfg, uint32_t prefix, uint8_t len)
{
	for (unsigned int i = 0; i < cfg->nb_routes; i++)
		if (cfg->routes[i].prefix == prefix &&
		    cfg->routes[i].len == len)
			return (int)i;
	return -ESRCH;
}

int
gw_db_route_add(struct espgw_cfg *cfg, const struct espgw_cfg_route *r,
		bool replace)
{
	int i = route_find(cfg, r->prefix, r->len);

	if (i < 0)
		return PUSH(cfg, routes, nb_routes, r);
	if (!replace)
		return -EEXIST;
	cfg->routes[i] = *r;
	return 0;
}

int
gw_db_route_del(struct espgw_cfg *cfg, const struct espgw_cfg_route *r,
		uint32_t given)
{
	int i = route_find(cfg, r->prefix, r->len);

	/* fib_table_delete: the words given must match too */
	if (i < 0 ||
	    ((given & ESPGW_SEL_ROUTE_VIA) && cfg->routes[i].via != r->via) ||
	    ((given & ESPGW_SEL_ROUTE_DEV) &&
	     strcmp(cfg->routes[i].port, r->port) != 0))
		return -ESRCH;
	REMOVE(cfg->routes, cfg->nb_routes, (unsigned int)i);
	return 0;
}

static int
neigh_find(const struct espgw_cfg *cfg, const struct espgw_cfg_neigh *n)
{
	for (unsigned int i = 0; i < cfg->nb_neighs; i++)
		if (cfg->neighs[i].addr == n->addr &&
		    strcmp(cfg->neighs[i].port, n->port) == 0)
			return (int)i;
	return -ENOENT;
}

int
gw_db_neigh_add(struct espgw_cfg *cfg, const struct espgw_cfg_neigh *n,
		bool replace)
{
	int i = neigh_find(cfg, n);

	if (i < 0)
		return PUSH(cfg, neighs, nb_neighs, n);
	if (!replace)
		return -EEXIST;
	cfg->neighs[i] = *n;
	return 0;
}

int
gw_db_neigh_del(struct espgw_cfg *cfg, const struct espgw_cfg_neigh *n)
{
	int i = neigh_find(cfg, n);

	if (i < 0)
		return i;
	REMOVE(cfg->neighs, cfg->nb_neighs, (unsigned int)i);
	return 0;
}

unsigned int
gw_db_neigh_flush(struct espgw_cfg *cfg, const char *dev)
{
	unsigned int keep = 0, n = cfg->nb_neighs;

	for (unsigned int i = 0; i < n; i++)
		if (dev != NULL && strcmp(cfg->neighs[i].port, dev) != 0)
			cfg->neighs[keep++] = cfg->neighs[i];
	cfg->nb_neighs = keep;
	return n - keep;
}

static int
addr_find(const struct espgw_cfg *cfg, const struct espgw_cfg_addr *a)
{
	for (unsigned int i = 0; i < cfg->nb_addrs; i++)
		if (cfg->addrs[i].addr == a->addr &&
		    cfg->addrs[i].len == a->len &&
		    strcmp(cfg->addrs[i].port, a->port) == 0)
			return (int)i;
	return -EADDRNOTAVAIL;
}

int
gw_db_addr_add(struct espgw_cfg *cfg, const struct espgw_cfg_addr *a)
{
	return addr_find(cfg, a) >= 0 ? -EEXIST : PUSH(cfg, addrs, nb_addrs, a);
}

int
gw_db_addr_del(struct espgw_cfg *cfg, const struct espgw_cfg_addr *a)
{
	int i = addr_find(cfg, a);

	if (i < 0)
		return i;
	REMOVE(cfg->addrs, cfg->nb_addrs, (unsigned int)i);
	return 0;
}
