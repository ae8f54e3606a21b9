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
	/* host-order fields, compared one by one: no padding read */
	const uint64_t x[] = { a->dir,
			       a->src,
			       a->src_len,
			       a->dst,
			       a->dst_len,
			       a->proto,
			       a->has_sport ? a->sport + 1u : 0,
			       a->has_dport ? a->dport + 1u : 0 };
	const uint64_t y[] = { b->dir,
			       b->src,
			       b->src_len,
			       b->dst,
			       b->dst_len,
			       b->proto,
			       b->has_sport ? b->sport + 1u : 0,
			       b->has_dport ? b->dport + 1u : 0 };

	for (size_t i = 0; i < RTE_DIM(x); i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

bool
gw_policy_same_key(const struct espgw_cfg_policy *a,
		   const struct espgw_cfg_policy *b)
{
	return gw_policy_key_cmp(a, b) == 0;
}

static uint32_t
prefix_mask(uint8_t len)
{
	return len ? rte_cpu_to_be_32(~0u << (32 - len)) : 0;
}

static void
sel_of(struct gw_sel *sel, const struct espgw_cfg_policy *p)
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
	static uint64_t tags;
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
	spd->tag = ++tags;
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
		gp->id = i; /* pols is in the order of adding, until sorted */
		gp->cfg = pols[i];
		gp->action = (uint8_t)gp->cfg.action;
		gp->has_tmpl = gp->cfg.has_tmpl;
		gp->reqid = gp->cfg.reqid;
		gp->tmpl_src = gp->cfg.tmpl_src;
		gp->tmpl_dst = gp->cfg.tmpl_dst;
	}
	if (spd->nb == 0)
		return 0;
	qsort(spd->pol, spd->nb, sizeof(*spd->pol), by_xfrm_order);
	for (unsigned int i = 0; i < spd->nb; i++) {
		spd->pol[i].id = i;
		spd->l4 |= spd->pol[i].cfg.proto != 0 ||
			   spd->pol[i].cfg.has_sport ||
			   spd->pol[i].cfg.has_dport;
	}
	if (spd->nb <= GW_SPD_LINEAR_MAX) {
		for (unsigned int i = 0; i < spd->nb; i++)
			sel_of(&spd->sel[i], &spd->pol[i].cfg);
		return 0;
	}

	snprintf(name, sizeof(name), "gw_spd_%u", seq++);
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

void
gw_spd_free(struct gw_spd *spd)
{
	rte_acl_free(spd->acl);
	free(spd->pol);
	memset(spd, 0, sizeof(*spd));
}
