/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Building the policy database: xfrm's rule is "lowest priority value
 * wins, ties to the policy added first" (xfrm_policy_insert puts a new
 * policy after those of its priority, a replacement where the old one
 * was: the configuration's order); rte_acl's is "highest priority
 * wins", so each policy's rank in xfrm order becomes its ACL priority,
 * and a scan goes through the selectors in xfrm order. The two
 * families share the ranks (one order, one id space) and nothing else:
 * each has its scan or its trie. */

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

/* IPv6 as DPDK's ipsec-secgw (sp6.c) and l3fwd lay it out: rte_acl
 * reads at most 4 bytes a field, so an address is four, each its own
 * input; the first field must be one byte. */
enum {
	F6_PROTO,
	F6_SRC0,
	F6_DST0 = F6_SRC0 + 4,
	F6_SPORT = F6_DST0 + 4,
	F6_DPORT,
	NB_FIELDS6
};

RTE_ACL_RULE_DEF(gw_acl_rule6, NB_FIELDS6);

#define ADDR6_FIELD(f, i, key)                                                 \
	{                                                                      \
		.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4,                    \
		.field_index = (f) + (i), .input_index = (f) + (i),            \
		.offset = offsetof(struct gw_acl_key6, key) + 4 * (i)          \
	}

static const struct rte_acl_field_def fields6[NB_FIELDS6] = {
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK,
	  .size = 1,
	  .field_index = F6_PROTO,
	  .input_index = 0,
	  .offset = offsetof(struct gw_acl_key6, proto) },
	ADDR6_FIELD(F6_SRC0, 0, src),
	ADDR6_FIELD(F6_SRC0, 1, src),
	ADDR6_FIELD(F6_SRC0, 2, src),
	ADDR6_FIELD(F6_SRC0, 3, src),
	ADDR6_FIELD(F6_DST0, 0, dst),
	ADDR6_FIELD(F6_DST0, 1, dst),
	ADDR6_FIELD(F6_DST0, 2, dst),
	ADDR6_FIELD(F6_DST0, 3, dst),
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = 2,
	  .field_index = F6_SPORT,
	  .input_index = F6_SPORT,
	  .offset = offsetof(struct gw_acl_key6, sport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE,
	  .size = 2,
	  .field_index = F6_DPORT,
	  .input_index = F6_SPORT,
	  .offset = offsetof(struct gw_acl_key6, dport) },
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

/* Bits of a prefix of len that fall in the bits [lo, lo + w) of the
 * address. */
static unsigned int
prefix_bits(uint8_t len, unsigned int lo, unsigned int w)
{
	return len <= lo ? 0 : RTE_MIN(len - lo, w);
}

static uint64_t
prefix_mask64(uint8_t len, unsigned int word)
{
	unsigned int b = prefix_bits(len, 64 * word, 64);

	return b ? rte_cpu_to_be_64(~0ull << (64 - b)) : 0;
}

void
gw_sel6_of(struct gw_sel6 *sel, const struct espgw_cfg_policy *p)
{
	uint64_t src[2], dst[2];

	memcpy(src, p->src6, sizeof(src));
	memcpy(dst, p->dst6, sizeof(dst));
	for (unsigned int w = 0; w < 2; w++) {
		sel->src_mask[w] = prefix_mask64(p->src_len, w);
		sel->dst_mask[w] = prefix_mask64(p->dst_len, w);
		sel->src[w] = src[w] & sel->src_mask[w];
		sel->dst[w] = dst[w] & sel->dst_mask[w];
	}
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

static void
rule6_of(struct gw_acl_rule6 *r, const struct espgw_cfg_policy *p,
	 uint32_t rank, uint32_t userdata)
{
	memset(r, 0, sizeof(*r));
	r->data.category_mask = 1;
	r->data.priority = RTE_ACL_MAX_PRIORITY - (int32_t)rank;
	r->data.userdata = userdata;
	if (p->proto != 0) {
		r->field[F6_PROTO].value.u8 = p->proto;
		r->field[F6_PROTO].mask_range.u8 = 0xff;
	}
	for (unsigned int i = 0; i < 4; i++) {
		uint32_t s, d;

		memcpy(&s, p->src6 + 4 * i, 4);
		memcpy(&d, p->dst6 + 4 * i, 4);
		r->field[F6_SRC0 + i].value.u32 = rte_be_to_cpu_32(s);
		r->field[F6_SRC0 + i].mask_range.u32 =
			prefix_bits(p->src_len, 32 * i, 32);
		r->field[F6_DST0 + i].value.u32 = rte_be_to_cpu_32(d);
		r->field[F6_DST0 + i].mask_range.u32 =
			prefix_bits(p->dst_len, 32 * i, 32);
	}
	r->field[F6_SPORT].value.u16 = p->has_sport ? p->sport : 0;
	r->field[F6_SPORT].mask_range.u16 = p->has_sport ? p->sport : 0xffff;
	r->field[F6_DPORT].value.u16 = p->has_dport ? p->dport : 0;
	r->field[F6_DPORT].mask_range.u16 = p->has_dport ? p->dport : 0xffff;
}

/* The trie of spd's base policies of one family (v6 or not), each
 * rule's rank in xfrm order its priority and its position + 1 its
 * userdata. Returns 0, or -1 with a message in err (the trie, if made,
 * is spd's to free). */
static int
build_trie(struct gw_spd *spd, bool v6, unsigned int nb, char *err,
	   size_t errlen)
{
	static unsigned int seq;
	struct rte_acl_config bc = {
		.num_categories = 1,
		.num_fields = v6 ? NB_FIELDS6 : NB_FIELDS,
	};
	struct rte_acl_param ap = {
		.socket_id = SOCKET_ID_ANY,
		.rule_size = v6 ? RTE_ACL_RULE_SZ(NB_FIELDS6)
				: RTE_ACL_RULE_SZ(NB_FIELDS),
		.max_rule_num = nb,
	};
	union {
		struct gw_acl_rule r4;
		struct gw_acl_rule6 r6;
	} r;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_ctx *acl;
	int rc;

	snprintf(name, sizeof(name), "gw_spd%s_%u", v6 ? "6" : "",
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	ap.name = name;
	acl = rte_acl_create(&ap);
	if (v6)
		spd->acl6 = acl;
	else
		spd->acl = acl;
	if (acl == NULL)
		goto nomem;
	for (unsigned int i = 0; i < spd->nb; i++) {
		const struct espgw_cfg_policy *p = &spd->pol[i].cfg;

		if (gw_policy_v6(p) != v6)
			continue;
		if (v6)
			rule6_of(&r.r6, p, i, i + 1);
		else
			rule_of(&r.r4, p, i, i + 1);
		if (rte_acl_add_rules(acl, (struct rte_acl_rule *)&r, 1) != 0)
			goto nomem;
	}
	if (v6)
		memcpy(bc.defs, fields6, sizeof(fields6));
	else
		memcpy(bc.defs, fields, sizeof(fields));
	rc = rte_acl_build(acl, &bc);
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

/* Does p's selector name a protocol or ports? */
static bool
names_l4(const struct espgw_cfg_policy *p)
{
	return p->proto != 0 || p->has_sport || p->has_dport;
}

int
gw_spd_build(struct gw_spd *spd, const struct espgw_cfg_policy *pols,
	     unsigned int n, enum espgw_cfg_dir dir, char *err, size_t errlen)
{
	unsigned int nb = 0, k4 = 0, k6 = 0;

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
		spd->l4 |= names_l4(&spd->pol[i].cfg);
		spd->nb6 += gw_policy_v6(&spd->pol[i].cfg);
	}
	spd->nb4 = spd->nb - spd->nb6;
	/* each family by a scan or a trie, as its own count says */
	for (unsigned int i = 0; i < spd->nb; i++) {
		const struct espgw_cfg_policy *p = &spd->pol[i].cfg;

		if (gw_policy_v6(p) && spd->nb6 <= GW_SPD_LINEAR_MAX) {
			gw_sel6_of(&spd->sel6[k6], p);
			spd->sel6[k6++].id = i;
		} else if (!gw_policy_v6(p) && spd->nb4 <= GW_SPD_LINEAR_MAX) {
			gw_sel_of(&spd->sel[k4], p);
			spd->sel[k4++].id = i;
		}
	}
	if (spd->nb4 > GW_SPD_LINEAR_MAX &&
	    build_trie(spd, false, spd->nb4, err, errlen) != 0)
		return -1;
	if (spd->nb6 > GW_SPD_LINEAR_MAX &&
	    build_trie(spd, true, spd->nb6, err, errlen) != 0)
		return -1;
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

	/* a base of scans only is rebuilt in no time */
	if (base->acl == NULL && base->acl6 == NULL)
		return -E2BIG;
	memset(spd, 0, sizeof(*spd));
	spd->acl = base->acl;
	spd->acl6 = base->acl6;
	spd->pol = base->pol;
	memcpy(spd->sel, base->sel, sizeof(spd->sel));
	memcpy(spd->sel6, base->sel6, sizeof(spd->sel6));
	spd->by_seq = base->by_seq;
	spd->tmpl_reqid = base->tmpl_reqid;
	spd->nb = base->nb;
	spd->nb4 = base->nb4;
	spd->nb6 = base->nb6;
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
	spd->dsel6 = malloc((nb_delta ? nb_delta : 1) * sizeof(*spd->dsel6));
	if (spd->dsel == NULL || spd->dsel6 == NULL)
		goto nomem;
	spd->l4 = base->l4;
	for (unsigned int i = 0; i < nb_delta; i++) {
		const struct espgw_cfg_policy *p = &spd->delta[i].cfg;

		spd->delta[i].id = base->nb + i;
		if (gw_policy_v6(p)) {
			gw_sel6_of(&spd->dsel6[spd->nb_dsel6], p);
			spd->dsel6[spd->nb_dsel6++].id = base->nb + i;
		} else {
			gw_sel_of(&spd->dsel[spd->nb_dsel], p);
			spd->dsel[spd->nb_dsel++].id = base->nb + i;
		}
		spd->l4 |= names_l4(p);
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
		rte_acl_free(spd->acl6);
		free(spd->pol);
		free(spd->by_seq);
		free(spd->tmpl_reqid);
	}
	if (keep == NULL || spd->dead != keep->dead)
		free(spd->dead);
	if (keep == NULL || spd->delta != keep->delta) {
		free(spd->delta);
		free(spd->dsel);
		free(spd->dsel6);
	}
	memset(spd, 0, sizeof(*spd));
}

void
gw_spd_free(struct gw_spd *spd)
{
	if (spd != NULL)
		gw_spd_release(spd, NULL);
}
