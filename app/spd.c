/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Policy matching with rte_acl: xfrm's rule is "lowest priority value
 * wins, ties to the policy added first"; rte_acl's is "highest priority
 * wins", so each policy's rank in xfrm order becomes its ACL priority. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "spd.h"

enum { F_PROTO, F_SRC, F_DST, F_SPORT, F_DPORT, NB_FIELDS };

RTE_ACL_RULE_DEF(gw_acl_rule, NB_FIELDS);

static const struct rte_acl_field_def fields[NB_FIELDS] = {
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1,
	  .field_index = F_PROTO, .input_index = 0,
	  .offset = offsetof(struct gw_acl_key, proto) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4,
	  .field_index = F_SRC, .input_index = 1,
	  .offset = offsetof(struct gw_acl_key, src) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4,
	  .field_index = F_DST, .input_index = 2,
	  .offset = offsetof(struct gw_acl_key, dst) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2,
	  .field_index = F_SPORT, .input_index = 3,
	  .offset = offsetof(struct gw_acl_key, sport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2,
	  .field_index = F_DPORT, .input_index = 3,
	  .offset = offsetof(struct gw_acl_key, dport) },
};

void
gw_acl_key(const struct rte_mbuf *m, struct gw_acl_key *k, bool ports)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	const uint8_t *l4 = (const uint8_t *)ip + hl;
	bool first = (ip->fragment_offset &
		      rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) == 0;

	memset(k, 0, sizeof(*k));
	k->proto = ip->next_proto_id;
	k->src = ip->src_addr;
	k->dst = ip->dst_addr;
	/* Ports only where the packet has them (a later fragment does not)
	 * and a selector looks at them. */
	if (!ports || !first || m->data_len < hl + 4)
		return;
	switch (k->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		memcpy(&k->sport, l4, 2);
		memcpy(&k->dport, l4 + 2, 2);
		break;
	case IPPROTO_ICMP:
		k->sport = rte_cpu_to_be_16(l4[0]);
		k->dport = rte_cpu_to_be_16(l4[1]);
		break;
	}
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

/* The first selector, in xfrm order, that the key matches. */
static inline int
linear_match(const struct gw_spd *spd, const struct gw_acl_key *k)
{
	uint16_t sport = rte_be_to_cpu_16(k->sport);
	uint16_t dport = rte_be_to_cpu_16(k->dport);

	for (unsigned int i = 0; i < spd->nb; i++) {
		const struct gw_sel *s = &spd->sel[i];

		if ((k->src & s->src_mask) == s->src &&
		    (k->dst & s->dst_mask) == s->dst &&
		    (s->proto == 0 || s->proto == k->proto) &&
		    sport >= s->sport_lo && sport <= s->sport_hi &&
		    dport >= s->dport_lo && dport <= s->dport_hi)
			return (int)i;
	}
	return -1;
}

/* Do two keys match the same selectors? Only the fields some selector
 * of this direction looks at count. */
static inline bool
same_key(const struct gw_spd *spd, const struct gw_acl_key *a,
	 const struct gw_acl_key *b)
{
	if (a->src != b->src || a->dst != b->dst)
		return false;
	return !spd->l4 || (a->proto == b->proto && a->sport == b->sport &&
			    a->dport == b->dport);
}

static int
by_xfrm_order(const void *a, const void *b)
{
	const struct gw_policy *x = *(struct gw_policy *const *)a;
	const struct gw_policy *y = *(struct gw_policy *const *)b;

	if (x->cfg.priority != y->cfg.priority)
		return x->cfg.priority < y->cfg.priority ? -1 : 1;
	return x->cfg.line < y->cfg.line ? -1 : x->cfg.line > y->cfg.line;
}

static void
rule_of(struct gw_acl_rule *r, const struct espgw_cfg_policy *p,
	uint32_t rank, uint32_t userdata)
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
gw_spd_build(struct gw_spd *spd, const struct gw_tables *t,
	     enum espgw_cfg_dir dir, char *err, size_t errlen)
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
	int rc;

	memset(spd, 0, sizeof(*spd));
	spd->pol = calloc(t->nb_policies ? t->nb_policies : 1,
			  sizeof(*spd->pol));
	if (spd->pol == NULL)
		goto nomem;
	for (unsigned int i = 0; i < t->nb_policies; i++)
		if (t->policies[i].cfg.dir == dir)
			spd->pol[spd->nb++] = &t->policies[i];
	if (spd->nb == 0)
		return 0;
	qsort(spd->pol, spd->nb, sizeof(*spd->pol), by_xfrm_order);
	for (unsigned int i = 0; i < spd->nb; i++)
		spd->l4 |= spd->pol[i]->cfg.proto != 0 ||
			   spd->pol[i]->cfg.has_sport ||
			   spd->pol[i]->cfg.has_dport;
	if (spd->nb <= GW_SPD_LINEAR_MAX) {
		for (unsigned int i = 0; i < spd->nb; i++)
			sel_of(&spd->sel[i], &spd->pol[i]->cfg);
		return 0;
	}

	snprintf(name, sizeof(name), "gw_spd_%u", seq++);
	ap.name = name;
	ap.max_rule_num = spd->nb;
	spd->acl = rte_acl_create(&ap);
	if (spd->acl == NULL)
		goto nomem;
	for (unsigned int i = 0; i < spd->nb; i++) {
		rule_of(&r, &spd->pol[i]->cfg, i, i + 1);
		if (rte_acl_add_rules(spd->acl, (struct rte_acl_rule *)&r,
				      1) != 0)
			goto nomem;
	}
	memcpy(bc.defs, fields, sizeof(fields));
	rc = rte_acl_build(spd->acl, &bc);
	if (rc != 0) {
		snprintf(err, errlen,
			 "cannot build the policy table: %s", strerror(-rc));
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

void
gw_spd_lookup(const struct gw_spd *spd, const uint8_t **keys,
	      struct gw_policy **pol, uint32_t n)
{
	uint32_t res[GW_BURST * 4];

	if (spd->acl == NULL) {
		for (uint32_t i = 0; i < n; i++) {
			const struct gw_acl_key *k =
				(const struct gw_acl_key *)keys[i];
			int r;

			/* a burst carries runs of one flow, or of one pair
			 * of hosts when no selector looks further: the same
			 * answer as the packet before */
			if (i > 0 && same_key(spd, k,
					      (const struct gw_acl_key *)
						      keys[i - 1])) {
				pol[i] = pol[i - 1];
				continue;
			}
			r = linear_match(spd, k);
			pol[i] = r < 0 ? NULL : spd->pol[r];
		}
		return;
	}
	for (uint32_t off = 0; off < n; off += RTE_DIM(res)) {
		uint32_t c = RTE_MIN(n - off, (uint32_t)RTE_DIM(res));

		rte_acl_classify(spd->acl, keys + off, res, c, 1);
		for (uint32_t i = 0; i < c; i++)
			pol[off + i] = res[i] ? spd->pol[res[i] - 1] : NULL;
	}
}

int
gw_spd_cache_init(struct gw_spd_cache *c, uint32_t nb_buckets, int socket_id,
		  uint64_t *hits, uint64_t *misses)
{
	memset(c, 0, sizeof(*c));
	c->hits = hits;
	c->misses = misses;
	c->b = rte_zmalloc_socket("gw_spd_cache", sizeof(*c->b) * nb_buckets,
				  RTE_CACHE_LINE_SIZE, socket_id);
	if (c->b == NULL)
		return -ENOMEM;
	c->mask = nb_buckets - 1;
	return 0;
}

void
gw_spd_cache_fini(struct gw_spd_cache *c)
{
	rte_free(c->b);
	memset(c, 0, sizeof(*c));
}

static inline bool
key_eq(const struct gw_acl_key *a, const struct gw_acl_key *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

void
gw_spd_lookup_cached(const struct gw_spd *spd, struct gw_spd_cache *c,
		     uint64_t tag, const uint8_t **keys,
		     struct gw_policy **pol, uint32_t n)
{
	enum { MAX = GW_BURST * 4 };
	struct gw_spd_cache_entry (*bk[MAX])[2];
	const uint8_t *miss_key[MAX];
	struct gw_policy *found[MAX];
	uint32_t miss_idx[MAX], nb_miss = 0;

	RTE_BUILD_BUG_ON(sizeof(struct gw_acl_key) != 16);
	if (spd->acl == NULL || c->b == NULL || n > MAX) {
		gw_spd_lookup(spd, keys, pol, n);
		return;
	}
	/* hash everything and ask for the buckets, then look */
	for (uint32_t i = 0; i < n; i++) {
		bk[i] = &c->b[rte_hash_crc(keys[i], 16, (uint32_t)tag) &
			      c->mask];
		rte_prefetch0(bk[i]);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct gw_acl_key *k = (const struct gw_acl_key *)keys[i];
		struct gw_spd_cache_entry *e = *bk[i];

		if (e[0].tag == tag && key_eq(&e[0].key, k)) {
			pol[i] = e[0].pol;
		} else if (e[1].tag == tag && key_eq(&e[1].key, k)) {
			pol[i] = e[1].pol;
		} else {
			miss_key[nb_miss] = keys[i];
			miss_idx[nb_miss++] = i;
		}
	}
	*c->hits += n - nb_miss;
	*c->misses += nb_miss;
	if (nb_miss == 0)
		return;
	gw_spd_lookup(spd, miss_key, found, nb_miss);
	for (uint32_t j = 0; j < nb_miss; j++) {
		struct gw_spd_cache_entry *e = *bk[miss_idx[j]];

		pol[miss_idx[j]] = found[j];
		/* newest first; the older one of the pair goes */
		e[1] = e[0];
		memcpy(&e[0].key, miss_key[j], sizeof(e[0].key));
		e[0].pol = found[j];
		e[0].tag = tag;
	}
}
