/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Building the policy database: xfrm's rule is "lowest priority value
 * wins, ties to the policy added first" (xfrm_policy_insert puts a new
 * policy after those of its priority, a replacement where the old one
 * was: the configuration's order); rte_acl's is "highest priority
 * wins", so each policy's rank in xfrm order becomes its ACL priority,
 * and a scan goes through the selectors in xfrm order. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>

#include "control/spd.h"

enum { F_PROTO, F_SRC, F_DST, F_SPORT, F_DPORT, NB_FIELDS };

RTE_ACL_RULE_DEF(gw_acl_rule, NB_FIELDS);

static const struct rte_acl_field_def fields[NB_FIELDS] = {
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK,
	  .size = 1,
	  .field_index = F_PROTO,
	  .input_index = 0,
	  .offset = offsetof(struct gw_acl_key, proto) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK,
	  .size = 4,
	  .field_index = F_SRC,
	  .input_index = 1,
	  .offset = offsetof(struct gw_acl_key, src) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK,
	  .size = 4,
	  .field_index = F_DST,
	  .input_index = 2,
	  .offset = offsetof(struct gw_acl_key, dst) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = 2,
	  .field_index = F_SPORT,
	  .input_index = 3,
	  .offset = offsetof(struct gw_acl_key, sport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = 2,
	  .field_index = F_DPORT,
	  .input_index = 3,
	  .offset = offsetof(struct gw_acl_key, dport) },
};

int
gw_policy_key_cmp(const struct espgw_cfg_policy *a,
		  const struct espgw_cfg_policy *b)
{
	/* host-order fields, compared one by one: no padding read; the
	 * addresses of the other family do not count, IPv6 ones come
	 * last, as bytes */
	const uint64_t x[] = { a->dir,
			       gw_policy_v6(a),
			       gw_policy_v6(a) ? 0 : a->src,
			       a->src_len,
			       gw_policy_v6(a) ? 0 : a->dst,
			       a->dst_len,
			       a->proto,
			       a->has_sport ? a->sport + 1u : 0,
			       a->has_dport ? a->dport + 1u : 0 };
	const uint64_t y[] = { b->dir,
			       gw_policy_v6(b),
			       gw_policy_v6(b) ? 0 : b->src,
			       b->src_len,
			       gw_policy_v6(b) ? 0 : b->dst,
			       b->dst_len,
			       b->proto,
			       b->has_sport ? b->sport + 1u : 0,
			       b->has_dport ? b->dport + 1u : 0 };
	int c;

	for (size_t i = 0; i < RTE_DIM(x); i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	if (!gw_policy_v6(a))
		return 0;
	c = memcmp(a->src6, b->src6, sizeof(a->src6));
	return c != 0 ? c : memcmp(a->dst6, b->dst6, sizeof(a->dst6));
}

bool
gw_policy_same_key(const struct espgw_cfg_policy *a,
		   const struct espgw_cfg_policy *b)
{
	return gw_policy_key_cmp(a, b) == 0;
}

/* A version's tag: the control thread's and a background build's, so
 * atomic. */
static uint64_t
next_tag(void)
{
	static uint64_t tags;

	return __atomic_add_fetch(&tags, 1, __ATOMIC_RELAXED);
}

static uint32_t
prefix_mask(uint8_t len)
{
	return len ? rte_cpu_to_be_32(~0u << (32 - len)) : 0;
}

void
gw_sel_of(struct gw_sel *sel, const struct espgw_cfg_policy *p)
{
	sel->src_mask = prefix_mask(p->src_len);
	sel->dst_mask = prefix_mask(p->dst_len);
	sel->src = p->src & sel->src_mask;
	sel->dst = p->dst & sel->dst_mask;
	sel->proto = p->proto;
	sel->sport_lo = p->has_sport ? p->sport : 0;
	sel->sport_hi = p->has_sport ? p->sport : 0xffff;
	sel->dport_lo = p->has_dport ? p->dport : 0;
	sel->dport_hi = p->has_dport ? p->dport : 0xffff;
}

static int
by_xfrm_order(const void *a, const void *b)
{
	const struct gw_policy *x = a, *y = b;

	if (x->cfg.priority != y->cfg.priority)
		return x->cfg.priority < y->cfg.priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id; /* the order of adding */
}

static void
rule_of(struct gw_acl_rule *r, const struct espgw_cfg_policy *p, uint32_t rank,
	uint32_t userdata)
{
	memset(r, 0, sizeof(*r));
	r->data.category_mask = 1;
	r->data.priority = RTE_ACL_MAX_PRIORITY - (int32_t)rank;
	r->data.userdata = userdata;
	if (p->proto != 0) {
		r->field[F_PROTO].value.u8 = p->proto;
		r->field[F_PROTO].mask_range.u8 = 0xff;
	}
	r->field[F_SRC].value.u32 = rte_be_to_cpu_32(p->src);
	r->field[F_SRC].mask_range.u32 = p->src_len;
	r->field[F_DST].value.u32 = rte_be_to_cpu_32(p->dst);
	r->field[F_DST].mask_range.u32 = p->dst_len;
	r->field[F_SPORT].value.u16 = p->has_sport ? p->sport : 0;
	r->field[F_SPORT].mask_range.u16 = p->has_sport ? p->sport : 0xffff;
	r->field[F_DPORT].value.u16 = p->has_dport ? p->dport : 0;
	r->field[F_DPORT].mask_range.u16 = p->has_dport ? p->dport : 0xffff;
}

int
gw_spd_build(struct gw_spd *spd, const struct espgw_cfg_policy *pols,
	     unsigned int n, enum espgw_cfg_dir dir, char *err, size_t errlen)
{
	static unsigned int seq;
	struct rte_acl_config bc = { .num_categories = 1,
				     .num_fields = NB_FIELDS };
	struct rte_acl_param ap = {
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(NB_FIELDS),
	};
	char name[RTE_ACL_NAMESIZE];
	struct gw_acl_rule r;
	unsigned int nb = 0;
	int rc;

	memset(spd, 0, sizeof(*spd));
	/* the control thread's and a background build's: atomic */
	spd->tag = next_tag();
	for (unsigned int i = 0; i < n; i++)
		nb += pols[i].dir == dir;
	spd->pol = aligned_alloc(RTE_CACHE_LINE_SIZE,
				 (nb ? nb : 1) * sizeof(*spd->pol));
	if (spd->pol == NULL)
		goto nomem;
	memset(spd->pol, 0, (nb ? nb : 1) * sizeof(*spd->pol));
	for (unsigned int i = 0; i < n; i++) {
		struct gw_policy *gp = &spd->pol[spd->nb];

		if (pols[i].dir != dir)
			continue;
		spd->nb++;
		gp->id = spd->nb - 1; /* the order of adding, until sorted */
		gp->cfg = pols[i];
		gp->action = (uint8_t)gp->cfg.action;
		gp->has_tmpl = gp->cfg.has_tmpl;
		gp->reqid = gp->cfg.reqid;
		gp->tmpl_src = gp->cfg.tmpl_src;
		gp->tmpl_dst = gp->cfg.tmpl_dst;
	}
	if (spd->nb == 0)
		return 0;
	spd->by_seq = malloc(spd->nb * sizeof(*spd->by_seq));
	spd->tmpl_reqid = malloc(spd->nb * sizeof(*spd->tmpl_reqid));
	if (spd->by_seq == NULL || spd->tmpl_reqid == NULL)
		goto nomem;
	qsort(spd->pol, spd->nb, sizeof(*spd->pol), by_xfrm_order);
	for (unsigned int i = 0; i < spd->nb; i++) {
		const struct gw_policy *gp = &spd->pol[i];

		spd->tmpl_reqid[i] =
			gp->has_tmpl && gp->action != ESPGW_POL_BLOCK
				? gp->reqid
				: GW_SPD_NO_TMPL;
		spd->by_seq[spd->pol[i].id] = i;
		spd->pol[i].id = i;
		spd->l4 |= spd->pol[i].cfg.proto != 0 ||
			   spd->pol[i].cfg.has_sport ||
			   spd->pol[i].cfg.has_dport;
	}
	if (spd->nb <= GW_SPD_LINEAR_MAX) {
		for (unsigned int i = 0; i < spd->nb; i++)
			gw_sel_of(&spd->sel[i], &spd->pol[i].cfg);
		return 0;
	}

	snprintf(name, sizeof(name), "gw_spd_%u",
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	ap.name = name;
	ap.max_rule_num = spd->nb;
	spd->acl = rte_acl_create(&ap);
	if (spd->acl == NULL)
		goto nomem;
	for (unsigned int i = 0; i < spd->nb; i++) {
		rule_of(&r, &spd->pol[i].cfg, i, i + 1);
		if (rte_acl_add_rules(spd->acl, (struct rte_acl_rule *)&r, 1) !=
		    0)
			goto nomem;
	}
	memcpy(bc.defs, fields, sizeof(fields));
	rc = rte_acl_build(spd->acl, &bc);
	if (rc != 0) {
		snprintf(err, errlen, "cannot build the policy table: %s",
			 strerror(-rc));
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory building the policy table");
	return -1;
}

/* The template's endpoints, of its family (0 is AF_INET). */
static bool
tmpl_same(const struct espgw_cfg_policy *a, const struct espgw_cfg_policy *b)
{
	bool v6 = a->tmpl_family == AF_INET6;

	if (v6 != (b->tmpl_family == AF_INET6))
		return false;
	if (v6)
		return memcmp(a->tmpl_src6, b->tmpl_src6,
			      sizeof(a->tmpl_src6)) == 0 &&
		       memcmp(a->tmpl_dst6, b->tmpl_dst6,
			      sizeof(a->tmpl_dst6)) == 0;
	return a->tmpl_src == b->tmpl_src && a->tmpl_dst == b->tmpl_dst;
}

bool
gw_policy_equal(const struct espgw_cfg_policy *a,
		const struct espgw_cfg_policy *b)
{
	return gw_policy_key_cmp(a, b) == 0 && a->priority == b->priority &&
	       a->action == b->action && a->has_tmpl == b->has_tmpl &&
	       tmpl_same(a, b) && a->reqid == b->reqid &&
	       a->index == b->index && a->seq == b->seq;
}

/* xfrm order across base and delta: priority, then the order of adding */
static int
by_rank(const void *a, const void *b)
{
	return gw_policy_before(a, b) ? -1 : gw_policy_before(b, a);
}

static void
fill(struct gw_policy *gp, const struct espgw_cfg_policy *p)
{
	memset(gp, 0, sizeof(*gp));
	gp->cfg = *p;
	gp->action = (uint8_t)p->action;
	gp->has_tmpl = p->has_tmpl;
	gp->reqid = p->reqid;
	gp->tmpl_src = p->tmpl_src;
	gp->tmpl_dst = p->tmpl_dst;
}

int
gw_spd_derive(struct gw_spd *spd, const struct gw_spd *base,
	      const struct espgw_cfg_policy *pols, unsigned int n,
	      enum espgw_cfg_dir dir)
{
	unsigned int j = 0, nb_delta = 0;

	if (base->acl == NULL)
		return -E2BIG;
	memset(spd, 0, sizeof(*spd));
	spd->acl = base->acl;
	spd->pol = base->pol;
	spd->by_seq = base->by_seq;
	spd->tmpl_reqid = base->tmpl_reqid;
	spd->nb = base->nb;
	spd->tag = next_tag();
	spd->dead = calloc(base->nb, 1);
	spd->delta = aligned_alloc(RTE_CACHE_LINE_SIZE,
				   GW_SPD_DELTA_MAX * sizeof(*spd->delta));
	if (spd->dead == NULL || spd->delta == NULL)
		goto nomem;
	/* both in the order of adding: one walk finds what the base has
	 * as it is, what it lacks, and what it has that went */
	for (unsigned int i = 0; i < n; i++) {
		const struct espgw_cfg_policy *p = &pols[i];
		const struct gw_policy *b = NULL;

		if (p->dir != dir)
			continue;
		while (j < base->nb &&
		       base->pol[base->by_seq[j]].cfg.seq < p->seq)
			spd->dead[base->by_seq[j++]] = 1;
		if (j < base->nb &&
		    base->pol[base->by_seq[j]].cfg.seq == p->seq)
			b = &base->pol[base->by_seq[j++]];
		if (b != NULL && gw_policy_equal(&b->cfg, p))
			continue;
		if (b != NULL)
			spd->dead[b->id] = 1;
		if (nb_delta == GW_SPD_DELTA_MAX) {
			gw_spd_release(spd, base);
			return -E2BIG;
		}
		fill(&spd->delta[nb_delta++], p);
	}
	while (j < base->nb)
		spd->dead[base->by_seq[j++]] = 1;
	for (unsigned int i = 0; i < base->nb; i++)
		spd->nb_dead += spd->dead[i];
	/* a base mostly dead is scanned more than matched: rebuild */
	if (spd->nb_dead > base->nb / 2) {
		gw_spd_release(spd, base);
		return -E2BIG;
	}
	spd->nb_delta = nb_delta;
	qsort(spd->delta, nb_delta, sizeof(*spd->delta), by_rank);
	spd->dsel = malloc((nb_delta ? nb_delta : 1) * sizeof(*spd->dsel));
	if (spd->dsel == NULL)
		goto nomem;
	spd->l4 = base->l4;
	for (unsigned int i = 0; i < nb_delta; i++) {
		spd->delta[i].id = base->nb + i;
		gw_sel_of(&spd->dsel[i], &spd->delta[i].cfg);
		spd->l4 |= spd->delta[i].cfg.proto != 0 ||
			   spd->delta[i].cfg.has_sport ||
			   spd->delta[i].cfg.has_dport;
	}
	if (spd->nb_dead == 0) {
		free(spd->dead);
		spd->dead = NULL;
	}
	return 0;
nomem:
	gw_spd_release(spd, base);
	return -ENOMEM;
}

unsigned int
gw_spd_count(const struct gw_spd *spd)
{
	return spd->nb - spd->nb_dead + spd->nb_delta;
}

void
gw_spd_release(struct gw_spd *spd, const struct gw_spd *keep)
{
	if (keep == NULL || spd->pol != keep->pol) {
		rte_acl_free(spd->acl);
		free(spd->pol);
		free(spd->by_seq);
		free(spd->tmpl_reqid);
	}
	if (keep == NULL || spd->dead != keep->dead)
		free(spd->dead);
	if (keep == NULL || spd->delta != keep->delta) {
		free(spd->delta);
		free(spd->dsel);
	}
	memset(spd, 0, sizeof(*spd));
}

void
gw_spd_free(struct gw_spd *spd)
{
	if (spd != NULL)
		gw_spd_release(spd, NULL);
}
