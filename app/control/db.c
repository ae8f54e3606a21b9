/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The live configuration and what each `ip` command does to it, with
 * the kernel's answers: a state is (dst, proto, SPI) as in
 * xfrm_state_lookup(); a policy is (selector, dir) as in
 * xfrm_policy_insert(); a route is its prefix (fib_table_insert), a
 * neighbour (address, device), an address (address, device). Errors
 * read as ip prints them ("File exists", "No such process", ...). A
 * failed batch is undone (db.h), so it leaves nothing behind. */

#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <rte_common.h>

#include "control/db.h"
#include "wipe.h"
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

/* Remove element i of an array of n, keeping the others' order; the
 * slot it vacates is wiped (a state's key, wipe.h). */
#define REMOVE(arr, n, i)                                                      \
	do {                                                                   \
		memmove(&(arr)[i], &(arr)[(i) + 1],                            \
			((n) - (i)-1) * sizeof((arr)[0]));                     \
		(n)--;                                                         \
		explicit_bzero(&(arr)[n], sizeof((arr)[0]));                   \
	} while (0)

/* Append as lang's parser does (capacity: the count rounded up to a
 * power of two), so arrays from either stay valid for both. */
static int
push(void **arr, unsigned int *n, const void *item, size_t size)
{
	if ((*n & (*n - 1)) == 0) {
		void *a = gw_wipe_realloc(*arr, (*n != 0 ? 2 * (size_t)*n : 1) *
							size);

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

bool
gw_db_ip_same(const struct espgw_ip_addr *a, const struct espgw_ip_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == AF_INET6 ? memcmp(a->v6, b->v6, sizeof(a->v6)) == 0
				     : a->v4 == b->v4;
}

/* An index entry: a state's identity (xfrm_state_lookup's daddr, of its
 * family, all 16 bytes for IPv6) and its place in the order of adding,
 * by which the states array is sorted. */
struct ix_node {
	uint8_t family;
	uint8_t dst[16]; /* IPv4: the first 4, the rest 0 */
	uint32_t spi;
	uint64_t seq;
};

static struct ix_node
ix_key(const struct espgw_ip_addr *dst, uint32_t spi)
{
	struct ix_node k = { .family = dst->family, .spi = spi };

	if (dst->family == AF_INET6)
		memcpy(k.dst, dst->v6, sizeof(k.dst));
	else
		memcpy(k.dst, &dst->v4, sizeof(dst->v4));
	return k;
}

static int
ix_cmp(const void *a, const void *b)
{
	const struct ix_node *x = a, *y = b;
	int d;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	d = memcmp(x->dst, y->dst, sizeof(x->dst));
	if (d != 0)
		return d;
	return x->spi < y->spi ? -1 : x->spi > y->spi;
}

/* Index state s; -EEXIST when its (dst, SPI) is there. */
static int
ix_add(struct gw_db *db, const struct espgw_cfg_state *s)
{
	struct ix_node *n = malloc(sizeof(*n)), **got;

	if (n == NULL)
		return -ENOMEM;
	*n = ix_key(&s->p.dst, s->p.spi);
	n->seq = s->seq;
	got = tsearch(n, &db->ix, ix_cmp);
	if (got == NULL || *got != n) {
		free(n);
		return got == NULL ? -ENOMEM : -EEXIST;
	}
	return 0;
}

static void
ix_del(struct gw_db *db, const struct espgw_cfg_state *s)
{
	struct ix_node k = ix_key(&s->p.dst, s->p.spi);
	struct ix_node **got = tfind(&k, &db->ix, ix_cmp);
	struct ix_node *n;

	if (got == NULL)
		return;
	n = *got;
	tdelete(&k, &db->ix, ix_cmp);
	free(n);
}

static void
ix_free(struct gw_db *db)
{
	tdestroy(db->ix, free);
	db->ix = NULL;
}

/* Where the state numbered seq stands: the array is in seq order. */
static int
pos_of(const struct gw_db *db, uint64_t seq)
{
	unsigned int lo = 0, hi = db->cfg.nb_states;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (db->cfg.states[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < db->cfg.nb_states && db->cfg.states[lo].seq == seq ? (int)lo
								       : -ESRCH;
}

int
gw_db_state_find(const struct gw_db *db, const struct espgw_ip_addr *dst,
		 uint32_t spi)
{
	struct ix_node k = ix_key(dst, spi);
	struct ix_node *const *got = tfind(&k, &db->ix, ix_cmp);

	return got != NULL ? pos_of(db, (*got)->seq) : -ESRCH;
}

/* Log a step of the transaction; past a million, stop logging and let
 * the build redo every SA (a flush of that many is O(N) anyway). */
static void
log_op(struct gw_db *db, int op, unsigned int pos,
       const struct espgw_cfg_state *old)
{
	if (db->log_full)
		return;
	if (db->nb_ops == db->cap_ops) {
		unsigned int cap = db->cap_ops ? 2 * db->cap_ops : 16;
		struct gw_state_op *o =
			cap > (1u << 20)
				? NULL
				: gw_wipe_realloc(db->ops, cap * sizeof(*o));
		struct espgw_cfg_state *v =
			o == NULL ? NULL
				  : gw_wipe_realloc(db->old, cap * sizeof(*v));

		if (o != NULL)
			db->ops = o;
		if (v == NULL) {
			db->log_full = true;
			return;
		}
		db->old = v;
		db->cap_ops = cap;
	}
	db->ops[db->nb_ops].op = op;
	db->ops[db->nb_ops].pos = pos;
	if (old != NULL)
		db->old[db->nb_ops] = *old;
	db->nb_ops++;
}

int
gw_db_state_add(struct gw_db *db, const struct espgw_cfg_state *s, bool update)
{
	struct espgw_cfg *cfg = &db->cfg;
	int i = gw_db_state_find(db, &s->p.dst, s->p.spi);
	struct espgw_cfg_state q = *s;
	int rc;

	if (!update) {
		if (i >= 0)
			return -EEXIST;
		q.seq = db->seq + 1;
		q.add_time = (uint64_t)time(NULL);
		q.use_time = 0;
		q.dying = false;
		rc = ix_add(db, &q);
		if (rc == 0 && (rc = PUSH(cfg, states, nb_states, &q)) != 0)
			ix_del(db, &q);
		if (rc != 0)
			return rc;
		db->seq++;
		log_op(db, GW_STATE_ADD, cfg->nb_states - 1, NULL);
		return 0;
	}
	if (i < 0)
		return -ESRCH;
	/* xfrm_state_update() changes only the limits of a state and an
	 * encapsulation of the same type (its selector, which espgw's
	 * states do not have, too): key, replay state, counters, times and
	 * place stay, and it is no longer dying (the new limits run). An
	 * encapsulation added or taken away is refused (-EINVAL). */
	if (s->p.encap.udp != cfg->states[i].p.encap.udp)
		return -EINVAL;
	q = cfg->states[i];
	q.lft = s->lft;
	q.p.encap = s->p.encap;
	q.dying = false;
	log_op(db, GW_STATE_UPD, (unsigned int)i, &cfg->states[i]);
	cfg->states[i] = q;
	return 0;
}

int
gw_db_state_move(struct gw_db *db, unsigned int i, uint32_t src, uint32_t dst,
		 uint16_t sport, uint16_t dport)
{
	struct espgw_cfg_state *s = &db->cfg.states[i], old = *s, q = *s;

	if (s->p.dst.family != AF_INET)
		return -EAFNOSUPPORT; /* NAT-T is IPv4's (RFC 3948) */
	q.p.src.v4 = src;
	q.p.dst.v4 = dst;
	if (q.p.encap.udp) {
		q.p.encap.sport = sport;
		q.p.encap.dport = dport;
	}
	if (dst != old.p.dst.v4) {
		int rc = ix_add(db, &q);

		if (rc != 0)
			return rc;
		ix_del(db, &old);
	}
	log_op(db, GW_STATE_UPD, i, &old);
	*s = q;
	return 0;
}

void
gw_db_state_remove(struct gw_db *db, unsigned int i)
{
	log_op(db, GW_STATE_DEL, i, &db->cfg.states[i]);
	ix_del(db, &db->cfg.states[i]);
	REMOVE(db->cfg.states, db->cfg.nb_states, i);
}

bool
gw_db_state_match(const struct espgw_cfg_state *s,
		  const struct espgw_cfg_state *sel, uint32_t given)
{
	return (!(given & ESPGW_SEL_STATE_SRC) ||
		gw_db_ip_same(&s->p.src, &sel->p.src)) &&
	       (!(given & ESPGW_SEL_STATE_DST) ||
		gw_db_ip_same(&s->p.dst, &sel->p.dst)) &&
	       (!(given & ESPGW_SEL_STATE_SPI) || s->p.spi == sel->p.spi) &&
	       (!(given & ESPGW_SEL_STATE_REQID) || s->p.reqid == sel->p.reqid);
}

unsigned int
gw_db_state_remove_matching(struct gw_db *db, const struct espgw_cfg_state *sel,
			    uint32_t given)
{
	struct espgw_cfg *cfg = &db->cfg;
	unsigned int keep = 0, n = cfg->nb_states;

	/* logged last place first, so that replayed in order each step's
	 * place is still where it was: one pass, not a memmove a state */
	for (unsigned int i = n; i-- > 0;)
		if (gw_db_state_match(&cfg->states[i], sel, given)) {
			log_op(db, GW_STATE_DEL, i, &cfg->states[i]);
			if (given != 0)
				ix_del(db, &cfg->states[i]);
		}
	if (given == 0)
		ix_free(db);
	for (unsigned int i = 0; i < n; i++)
		if (!gw_db_state_match(&cfg->states[i], sel, given))
			cfg->states[keep++] = cfg->states[i];
	if (keep < n) /* the slots vacated hold keys */
		explicit_bzero(&cfg->states[keep],
			       (n - keep) * sizeof(cfg->states[0]));
	cfg->nb_states = keep;
	return n - keep;
}

/* ---- transactions ---------------------------------------------------- */

void
gw_db_number(struct espgw_cfg *cfg)
{
	gw_db_policy_number(cfg);
	for (unsigned int i = 0; i < cfg->nb_states; i++)
		if (cfg->states[i].seq == 0)
			cfg->states[i].seq = i + 1;
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (cfg->policies[i].seq == 0)
			cfg->policies[i].seq = i + 1;
}

int
gw_db_init(struct gw_db *db, struct espgw_cfg *cfg, unsigned int *dup)
{
	memset(db, 0, sizeof(*db));
	gw_db_number(cfg);
	db->cfg = *cfg;
	espgw_cfg_init(cfg, NULL); /* taken over */
	for (unsigned int i = 0; i < db->cfg.nb_policies; i++)
		db->pseq = RTE_MAX(db->pseq, db->cfg.policies[i].seq);
	for (unsigned int i = 0; i < db->cfg.nb_states; i++) {
		int rc;

		if (db->cfg.states[i].add_time == 0)
			db->cfg.states[i].add_time = (uint64_t)time(NULL);
		db->seq = RTE_MAX(db->seq, db->cfg.states[i].seq);
		rc = ix_add(db, &db->cfg.states[i]);
		if (rc != 0) {
			if (dup != NULL)
				*dup = i;
			return rc;
		}
	}
	return 0;
}

static void **
array_of(struct gw_db *db, enum gw_db_array a, unsigned int **n, size_t *size)
{
	struct espgw_cfg *c = &db->cfg;

	switch (a) {
	case GW_DB_LINKS:
		*n = &c->nb_links;
		*size = sizeof(*c->links);
		return (void **)&c->links;
	case GW_DB_ADDRS:
		*n = &c->nb_addrs;
		*size = sizeof(*c->addrs);
		return (void **)&c->addrs;
	case GW_DB_ROUTES:
		*n = &c->nb_routes;
		*size = sizeof(*c->routes);
		return (void **)&c->routes;
	case GW_DB_NEIGHS:
		*n = &c->nb_neighs;
		*size = sizeof(*c->neighs);
		return (void **)&c->neighs;
	case GW_DB_ADDRS6:
		*n = &c->nb_addrs6;
		*size = sizeof(*c->addrs6);
		return (void **)&c->addrs6;
	case GW_DB_ROUTES6:
		*n = &c->nb_routes6;
		*size = sizeof(*c->routes6);
		return (void **)&c->routes6;
	case GW_DB_NEIGHS6:
		*n = &c->nb_neighs6;
		*size = sizeof(*c->neighs6);
		return (void **)&c->neighs6;
	default:
		*n = &c->nb_policies;
		*size = sizeof(*c->policies);
		return (void **)&c->policies;
	}
}

int
gw_db_touch(struct gw_db *db, enum gw_db_array a)
{
	unsigned int *n;
	size_t size;
	void **arr = array_of(db, a, &n, &size);
	bool ok = true;
	void *copy;

	if (db->snap[a].saved)
		return 0;
	/* the transaction changes a copy; the original is kept as it was */
	copy = dup_array(*arr, *n, size, &ok);
	if (!ok)
		return -ENOMEM;
	db->snap[a].arr = *arr;
	db->snap[a].n = *n;
	db->snap[a].saved = true;
	*arr = copy;
	return 0;
}

const void *
gw_db_before(const struct gw_db *db, enum gw_db_array a, unsigned int *n)
{
	unsigned int *cur;
	size_t size;
	void **arr = array_of((struct gw_db *)db, a, &cur, &size);

	if (db->snap[a].saved) {
		*n = db->snap[a].n;
		return db->snap[a].arr;
	}
	*n = *cur;
	return *arr;
}

static void
end(struct gw_db *db, bool undo)
{
	for (int a = 0; a < GW_DB_NB_ARRAYS; a++) {
		unsigned int *n;
		size_t size;
		void **arr = array_of(db, (enum gw_db_array)a, &n, &size);

		if (!db->snap[a].saved)
			continue;
		if (undo) {
			gw_wipe_free(*arr);
			*arr = db->snap[a].arr;
			*n = db->snap[a].n;
		} else {
			gw_wipe_free(db->snap[a].arr);
		}
		db->snap[a].saved = false;
	}
	/* the undo log's old states, keys included, are done with */
	if (db->old != NULL)
		explicit_bzero(db->old, db->nb_ops * sizeof(*db->old));
	db->nb_ops = 0;
	db->log_full = false;
}

void
gw_db_commit(struct gw_db *db)
{
	end(db, false);
}

void
gw_db_rollback(struct gw_db *db)
{
	struct espgw_cfg *cfg = &db->cfg;

	/* the states' log backwards; a log that overflowed cannot be
	 * undone step by step: that only happens beyond a million states
	 * in one request, which then stays as far as it got */
	for (unsigned int k = db->nb_ops; k-- > 0;) {
		const struct gw_state_op *o = &db->ops[k];

		switch (o->op) {
		case GW_STATE_ADD:
			ix_del(db, &cfg->states[cfg->nb_states - 1]);
			cfg->nb_states--;
			explicit_bzero(&cfg->states[cfg->nb_states],
				       sizeof(cfg->states[0]));
			break;
		case GW_STATE_UPD:
			/* a move (gw_db_state_move) changed the key */
			if (!gw_db_ip_same(&cfg->states[o->pos].p.dst,
					   &db->old[k].p.dst)) {
				ix_del(db, &cfg->states[o->pos]);
				(void)ix_add(db, &db->old[k]);
			}
			cfg->states[o->pos] = db->old[k];
			break;
		case GW_STATE_DEL:
			/* room was made when it went (the array's capacity is
			 * the count rounded up to a power of two) */
			if (PUSH(cfg, states, nb_states, &db->old[k]) != 0)
				break;
			memmove(&cfg->states[o->pos + 1], &cfg->states[o->pos],
				(cfg->nb_states - 1 - o->pos) *
					sizeof(cfg->states[0]));
			cfg->states[o->pos] = db->old[k];
			(void)ix_add(db, &db->old[k]);
			break;
		}
	}
	end(db, true);
}

void
gw_db_fini(struct gw_db *db)
{
	gw_db_commit(db);
	ix_free(db);
	gw_wipe_free(db->ops);
	gw_wipe_free(db->old);
	espgw_cfg_free(&db->cfg);
	memset(db, 0, sizeof(*db));
}

/* ---- policies -------------------------------------------------------- */

static bool
pol_v6(const struct espgw_cfg_policy *p)
{
	return p->family == AF_INET6;
}

/* A selector address: of the family, the prefix bits (both masked). */
static bool
sel_same(const struct espgw_cfg_policy *a, const struct espgw_cfg_policy *b,
	 bool dst)
{
	if (pol_v6(a) != pol_v6(b))
		return false;
	if (dst)
		return a->dst_len == b->dst_len &&
		       (pol_v6(a) ? memcmp(a->dst6, b->dst6, 16) == 0
				  : a->dst == b->dst);
	return a->src_len == b->src_len &&
	       (pol_v6(a) ? memcmp(a->src6, b->src6, 16) == 0
			  : a->src == b->src);
}

/* xfrm_policy_insert's twin: the same dir and selector, its family and
 * every byte of its addresses (spd.c's key reads the IPv4 fields, which
 * an IPv6 selector leaves 0). */
static bool
policy_same_key(const struct espgw_cfg_policy *a,
		const struct espgw_cfg_policy *b)
{
	return gw_policy_same_key(a, b) && sel_same(a, b, false) &&
	       sel_same(a, b, true);
}

int
gw_db_policy_find(const struct espgw_cfg *cfg,
		  const struct espgw_cfg_policy *key)
{
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		if (policy_same_key(&cfg->policies[i], key))
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
	/* xfrm_policy_insert: the replacement keeps the old index, and its
	 * place among equals */
	q.index = cfg->policies[i].index;
	q.seq = cfg->policies[i].seq;
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
	return (!(given & ESPGW_SEL_POLICY_SRC) || sel_same(p, sel, false)) &&
	       (!(given & ESPGW_SEL_POLICY_DST) || sel_same(p, sel, true)) &&
	       (!(given & ESPGW_SEL_POLICY_PROTO) || p->proto == sel->proto) &&
	       (!(given & ESPGW_SEL_POLICY_SPORT) || p->sport == sel->sport) &&
	       (!(given & ESPGW_SEL_POLICY_DPORT) || p->dport == sel->dport) &&
	       (!(given & ESPGW_SEL_POLICY_DIR) || p->dir == sel->dir) &&
	       (!(given & ESPGW_SEL_POLICY_PRIORITY) ||
		p->priority == sel->priority) &&
	       (!(given & ESPGW_SEL_POLICY_ACTION) ||
		p->action == sel->action) &&
	       (!(given & ESPGW_SEL_POLICY_INDEX) || p->index == sel->index);
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

/* ---- IPv6 routes, neighbours, addresses ------------------------------ */

static bool
same6(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, ESPGW_CFG_IPV6_LEN) == 0;
}

static int
route6_find(const struct espgw_cfg *cfg, const struct espgw_cfg_route6 *r)
{
	for (unsigned int i = 0; i < cfg->nb_routes6; i++)
		if (cfg->routes6[i].len == r->len &&
		    same6(cfg->routes6[i].prefix, r->prefix))
			return (int)i;
	return -ESRCH;
}

int
gw_db_route6_add(struct espgw_cfg *cfg, const struct espgw_cfg_route6 *r,
		 bool replace)
{
	int i = route6_find(cfg, r);

	if (i < 0)
		return PUSH(cfg, routes6, nb_routes6, r);
	if (!replace)
		return -EEXIST;
	cfg->routes6[i] = *r;
	return 0;
}

int
gw_db_route6_del(struct espgw_cfg *cfg, const struct espgw_cfg_route6 *r,
		 uint32_t given)
{
	int i = route6_find(cfg, r);

	/* ip6_route_del: the words given must match too */
	if (i < 0 ||
	    ((given & ESPGW_SEL_ROUTE_VIA) &&
	     !same6(cfg->routes6[i].via, r->via)) ||
	    ((given & ESPGW_SEL_ROUTE_DEV) &&
	     strcmp(cfg->routes6[i].port, r->port) != 0))
		return -ESRCH;
	REMOVE(cfg->routes6, cfg->nb_routes6, (unsigned int)i);
	return 0;
}

static int
neigh6_find(const struct espgw_cfg *cfg, const struct espgw_cfg_neigh6 *n)
{
	for (unsigned int i = 0; i < cfg->nb_neighs6; i++)
		if (same6(cfg->neighs6[i].addr, n->addr) &&
		    strcmp(cfg->neighs6[i].port, n->port) == 0)
			return (int)i;
	return -ENOENT;
}

int
gw_db_neigh6_add(struct espgw_cfg *cfg, const struct espgw_cfg_neigh6 *n,
		 bool replace)
{
	int i = neigh6_find(cfg, n);

	if (i < 0)
		return PUSH(cfg, neighs6, nb_neighs6, n);
	if (!replace)
		return -EEXIST;
	cfg->neighs6[i] = *n;
	return 0;
}

int
gw_db_neigh6_del(struct espgw_cfg *cfg, const struct espgw_cfg_neigh6 *n)
{
	int i = neigh6_find(cfg, n);

	if (i < 0)
		return i;
	REMOVE(cfg->neighs6, cfg->nb_neighs6, (unsigned int)i);
	return 0;
}

unsigned int
gw_db_neigh6_flush(struct espgw_cfg *cfg, const char *dev)
{
	unsigned int keep = 0, n = cfg->nb_neighs6;

	for (unsigned int i = 0; i < n; i++)
		if (dev != NULL && strcmp(cfg->neighs6[i].port, dev) != 0)
			cfg->neighs6[keep++] = cfg->neighs6[i];
	cfg->nb_neighs6 = keep;
	return n - keep;
}

/* An address is one a device (ipv6_add_addr: File exists, whatever
 * the length); a delete names its length too (inet6_addr_del). */
static int
addr6_find(const struct espgw_cfg *cfg, const struct espgw_cfg_addr6 *a,
	   bool by_len)
{
	for (unsigned int i = 0; i < cfg->nb_addrs6; i++)
		if (same6(cfg->addrs6[i].addr, a->addr) &&
		    (!by_len || cfg->addrs6[i].len == a->len) &&
		    strcmp(cfg->addrs6[i].port, a->port) == 0)
			return (int)i;
	return -EADDRNOTAVAIL;
}

int
gw_db_addr6_add(struct espgw_cfg *cfg, const struct espgw_cfg_addr6 *a)
{
	return addr6_find(cfg, a, false) >= 0 ? -EEXIST
					      : PUSH(cfg, addrs6, nb_addrs6, a);
}

int
gw_db_addr6_del(struct espgw_cfg *cfg, const struct espgw_cfg_addr6 *a)
{
	int i = addr6_find(cfg, a, true);

	if (i < 0)
		return i;
	REMOVE(cfg->addrs6, cfg->nb_addrs6, (unsigned int)i);
	return 0;
}
