/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Policy lookup on the data path: a packet's key (IPv4 or IPv6), a
 * burst of keys against one compiled direction (control/spd.c builds
 * them), by a scan or rte_acl, and a worker's cache of rte_acl's
 * answers, each for IPv4 and for IPv6. */

#include <errno.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dataplane/limits.h"
#include "dataplane/spd.h"
#include "espgw/wire.h"

void
gw_acl_key(const struct rte_mbuf *m, struct gw_acl_key *k, bool ports)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	const uint8_t *l4 = (const uint8_t *)ip + hl;
	/* no ports for any fragment, the first too, as Linux's
	 * decode_session4() reads them only when !ip_is_fragment(): every
	 * fragment of a datagram meets the same policy */
	bool whole = (ip->fragment_offset &
		      rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK |
				       RTE_IPV4_HDR_MF_FLAG)) == 0;

	memset(k, 0, sizeof(*k));
	k->proto = ip->next_proto_id;
	k->src = ip->src_addr;
	k->dst = ip->dst_addr;
	/* Ports only where the packet has them (not a fragment)
	 * and a selector looks at them. */
	if (!ports || !whole || m->data_len < hl + 4)
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

/* RFC 8200 section 4.1's chain walked as Linux's decode_session6()
 * (net/xfrm/xfrm_policy.c, kernel 6.1) walks it for xfrm selectors:
 * hop-by-hop, routing, destination options and fragment headers, in
 * any order; anything else is the upper layer, AH, ESP and no next
 * header (59) included. After a fragment header, first fragment or
 * not, no ports ("onlyproto"): every fragment meets one policy. Unlike
 * Linux, a later fragment's proto is its next header (what follows is
 * data, not headers), a chain too long or cut short is refused (Linux
 * stops with proto 0), and MH's type is not taken (no selector here
 * names one). */
int
gw_acl_key6(const struct rte_mbuf *m, struct gw_acl_key6 *k, bool ports)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	const uint8_t *p = (const uint8_t *)ip;
	uint32_t end = RTE_MIN((uint32_t)ESPGW_IPV6_HDR_LEN +
				       rte_be_to_cpu_16(ip->payload_len),
			       (uint32_t)m->data_len);
	uint32_t off = ESPGW_IPV6_HDR_LEN;
	uint8_t nh = ip->proto;
	bool frag = false;
	const uint8_t *l4;

	memset(k, 0, sizeof(*k));
	memcpy(k->src, ip->src_addr, sizeof(k->src));
	memcpy(k->dst, ip->dst_addr, sizeof(k->dst));
	for (unsigned int n = 0;; n++) {
		const uint8_t *e = p + off;
		uint32_t hlen;

		if (!gw_ip6_ext_hdr(nh))
			break;
		if (n == ESPGW_IPV6_EXT_MAX || off + ESPGW_IPV6_EXT_UNIT > end)
			return -1;
		hlen = nh == ESPGW_IPV6_FRAGMENT
			       ? ESPGW_IPV6_FRAG_HDR_LEN
			       : (e[1] + 1u) * ESPGW_IPV6_EXT_UNIT;
		if (off + hlen > end)
			return -1;
		if (nh == ESPGW_IPV6_FRAGMENT) {
			frag = true;
			if ((e[2] << 8 | e[3]) & ESPGW_IPV6_FRAG_OFF_MASK) {
				k->proto = e[0];
				return 0;
			}
		}
		nh = e[0];
		off += hlen;
	}
	k->proto = nh;
	if (!ports || frag)
		return 0;
	l4 = p + off;
	switch (nh) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (off + 4 <= end) {
			memcpy(&k->sport, l4, 2);
			memcpy(&k->dport, l4 + 2, 2);
		}
		break;
	case ESPGW_IPPROTO_ICMPV6:
		if (off + 2 <= end) {
			k->sport = rte_cpu_to_be_16(l4[0]);
			k->dport = rte_cpu_to_be_16(l4[1]);
		}
		break;
	}
	return 0;
}

static inline bool
sel_match(const struct gw_sel *s, const struct gw_acl_key *k, uint16_t sport,
	  uint16_t dport)
{
	return (k->src & s->src_mask) == s->src &&
	       (k->dst & s->dst_mask) == s->dst &&
	       (s->proto == 0 || s->proto == k->proto) &&
	       sport >= s->sport_lo && sport <= s->sport_hi &&
	       dport >= s->dport_lo && dport <= s->dport_hi;
}

/* The policy id of the first of n selectors, in xfrm order, that the
 * key matches, or -1. */
static inline int
linear_match(const struct gw_sel *sel, unsigned int n,
	     const struct gw_acl_key *k)
{
	uint16_t sport = rte_be_to_cpu_16(k->sport);
	uint16_t dport = rte_be_to_cpu_16(k->dport);

	for (unsigned int i = 0; i < n; i++)
		if (sel_match(&sel[i], k, sport, dport))
			return (int)sel[i].id;
	return -1;
}

/* A configured selector against a key, for the rare scan below. */
static bool
cfg_match(const struct espgw_cfg_policy *p, const struct gw_acl_key *k)
{
	struct gw_sel s;

	gw_sel_of(&s, p);
	return sel_match(&s, k, rte_be_to_cpu_16(k->sport),
			 rte_be_to_cpu_16(k->dport));
}

/* The answer of a derived version (control/spd.h) from the base's: a
 * dead base policy gives way to the first live one that matches (a
 * scan, until the base is rebuilt; the cache keeps its answer), and
 * the delta's first match wins where it comes first in xfrm order. */
static struct gw_policy *
amend(const struct gw_spd *spd, const struct gw_acl_key *k, struct gw_policy *r)
{
	int d;

	if (r != NULL && spd->dead != NULL && spd->dead[r->id]) {
		r = NULL;
		for (unsigned int i = 0; i < spd->nb && r == NULL; i++)
			if (!spd->dead[i] && !gw_policy_v6(&spd->pol[i].cfg) &&
			    cfg_match(&spd->pol[i].cfg, k))
				r = &spd->pol[i];
	}
	d = linear_match(spd->dsel, spd->nb_dsel, k);
	if (d >= 0) {
		struct gw_policy *q = &spd->delta[d - spd->nb];

		if (r == NULL || gw_policy_before(q, r))
			r = q;
	}
	return r;
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

void
gw_spd_lookup(const struct gw_spd *spd, const uint8_t **keys,
	      struct gw_policy **pol, uint32_t n)
{
	uint32_t res[GW_OUT_MAX];

	if (spd->acl == NULL) {
		for (uint32_t i = 0; i < n; i++) {
			const struct gw_acl_key *k =
				(const struct gw_acl_key *)keys[i];
			int r;

			/* a burst carries runs of one flow, or of one pair
			 * of hosts when no selector looks further: the same
			 * answer as the packet before */
			if (i > 0 &&
			    same_key(spd, k,
				     (const struct gw_acl_key *)keys[i - 1])) {
				pol[i] = pol[i - 1];
				continue;
			}
			r = linear_match(spd->sel, spd->nb4, k);
			pol[i] = r < 0 ? NULL : &spd->pol[r];
		}
	} else {
		for (uint32_t off = 0; off < n; off += RTE_DIM(res)) {
			uint32_t c = RTE_MIN(n - off, (uint32_t)RTE_DIM(res));

			rte_acl_classify(spd->acl, keys + off, res, c, 1);
			for (uint32_t i = 0; i < c; i++)
				pol[off + i] =
					res[i] ? &spd->pol[res[i] - 1] : NULL;
		}
	}
	/* a derived version, whose scan may be the base's too when the
	 * trie is the other family's: once a burst */
	if (spd->dead != NULL || spd->nb_dsel != 0)
		for (uint32_t i = 0; i < n; i++)
			pol[i] = amend(spd, (const struct gw_acl_key *)keys[i],
				       pol[i]);
}

/* The same for IPv6 (selectors control/spd.c compiled with
 * gw_sel6_of); the addresses as two 8-byte words each. */
static inline bool
sel6_match(const struct gw_sel6 *s, const uint64_t src[2],
	   const uint64_t dst[2], const struct gw_acl_key6 *k, uint16_t sport,
	   uint16_t dport)
{
	return ((src[0] & s->src_mask[0]) ^ s->src[0]) == 0 &&
	       ((src[1] & s->src_mask[1]) ^ s->src[1]) == 0 &&
	       ((dst[0] & s->dst_mask[0]) ^ s->dst[0]) == 0 &&
	       ((dst[1] & s->dst_mask[1]) ^ s->dst[1]) == 0 &&
	       (s->proto == 0 || s->proto == k->proto) &&
	       sport >= s->sport_lo && sport <= s->sport_hi &&
	       dport >= s->dport_lo && dport <= s->dport_hi;
}

static inline int
linear_match6(const struct gw_sel6 *sel, unsigned int n,
	      const struct gw_acl_key6 *k)
{
	uint16_t sport = rte_be_to_cpu_16(k->sport);
	uint16_t dport = rte_be_to_cpu_16(k->dport);
	uint64_t src[2], dst[2];

	memcpy(src, k->src, sizeof(src));
	memcpy(dst, k->dst, sizeof(dst));
	for (unsigned int i = 0; i < n; i++)
		if (sel6_match(&sel[i], src, dst, k, sport, dport))
			return (int)sel[i].id;
	return -1;
}

static bool
cfg_match6(const struct espgw_cfg_policy *p, const struct gw_acl_key6 *k)
{
	struct gw_sel6 s;
	uint64_t src[2], dst[2];

	gw_sel6_of(&s, p);
	memcpy(src, k->src, sizeof(src));
	memcpy(dst, k->dst, sizeof(dst));
	return sel6_match(&s, src, dst, k, rte_be_to_cpu_16(k->sport),
			  rte_be_to_cpu_16(k->dport));
}

static struct gw_policy *
amend6(const struct gw_spd *spd, const struct gw_acl_key6 *k,
       struct gw_policy *r)
{
	int d;

	if (r != NULL && spd->dead != NULL && spd->dead[r->id]) {
		r = NULL;
		for (unsigned int i = 0; i < spd->nb && r == NULL; i++)
			if (!spd->dead[i] && gw_policy_v6(&spd->pol[i].cfg) &&
			    cfg_match6(&spd->pol[i].cfg, k))
				r = &spd->pol[i];
	}
	d = linear_match6(spd->dsel6, spd->nb_dsel6, k);
	if (d >= 0) {
		struct gw_policy *q = &spd->delta[d - spd->nb];

		if (r == NULL || gw_policy_before(q, r))
			r = q;
	}
	return r;
}

static inline bool
same_key6(const struct gw_spd *spd, const struct gw_acl_key6 *a,
	  const struct gw_acl_key6 *b)
{
	if (memcmp(a->src, b->src, sizeof(a->src)) != 0 ||
	    memcmp(a->dst, b->dst, sizeof(a->dst)) != 0)
		return false;
	return !spd->l4 || (a->proto == b->proto && a->sport == b->sport &&
			    a->dport == b->dport);
}

void
gw_spd_lookup6(const struct gw_spd *spd, const uint8_t **keys,
	       struct gw_policy **pol, uint32_t n)
{
	uint32_t res[GW_OUT_MAX];

	if (spd->acl6 == NULL) {
		for (uint32_t i = 0; i < n; i++) {
			const struct gw_acl_key6 *k =
				(const struct gw_acl_key6 *)keys[i];
			int r;

			if (i > 0 &&
			    same_key6(
				    spd, k,
				    (const struct gw_acl_key6 *)keys[i - 1])) {
				pol[i] = pol[i - 1];
				continue;
			}
			r = linear_match6(spd->sel6, spd->nb6, k);
			pol[i] = r < 0 ? NULL : &spd->pol[r];
		}
	} else {
		for (uint32_t off = 0; off < n; off += RTE_DIM(res)) {
			uint32_t c = RTE_MIN(n - off, (uint32_t)RTE_DIM(res));

			rte_acl_classify(spd->acl6, keys + off, res, c, 1);
			for (uint32_t i = 0; i < c; i++)
				pol[off + i] =
					res[i] ? &spd->pol[res[i] - 1] : NULL;
		}
	}
	if (spd->dead != NULL || spd->nb_dsel6 != 0)
		for (uint32_t i = 0; i < n; i++)
			pol[i] =
				amend6(spd, (const struct gw_acl_key6 *)keys[i],
				       pol[i]);
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
	c->pairs.b = rte_zmalloc_socket("gw_spd_pairs",
					2 * sizeof(struct gw_spd_pair_entry) *
						nb_buckets,
					RTE_CACHE_LINE_SIZE, socket_id);
	if (c->b == NULL || c->pairs.b == NULL) {
		gw_spd_cache_fini(c);
		return -ENOMEM;
	}
	c->mask = nb_buckets - 1;
	return 0;
}

void
gw_spd_cache_fini(struct gw_spd_cache *c)
{
	rte_free(c->b);
	rte_free(c->pairs.b);
	memset(c, 0, sizeof(*c));
}

static inline struct gw_policy *
pair_pol(const struct gw_spd *spd, uint32_t ref)
{
	return ref == 0 ? NULL
			: (struct gw_policy *)(uintptr_t)gw_spd_policy(spd,
								       ref - 1);
}

static inline uint32_t
pair_ref(const struct gw_policy *p)
{
	return p == NULL ? 0 : p->id + 1;
}

/* Both answers for n keys of one family (v6: struct gw_acl_key6 keys and
 * gw_spd_pair6_entry entries, else the IPv4 ones) through the pairs;
 * the misses classified in one call a direction and inserted newest
 * first. */
static inline void
pair_lookup(const struct gw_spd *fwd, const struct gw_spd *out,
	    struct gw_spd_pairs *pc, uint32_t mask, uint64_t *hits,
	    uint64_t *misses, const bool v6, const uint8_t **keys,
	    struct gw_policy **pol, struct gw_policy **opol, uint32_t n)
{
	enum { MAX = GW_OUT_MAX };
	const size_t klen =
		v6 ? sizeof(struct gw_acl_key6) : sizeof(struct gw_acl_key);
	const size_t esz = v6 ? sizeof(struct gw_spd_pair6_entry)
			      : sizeof(struct gw_spd_pair_entry);
	uint8_t *bk[MAX];
	const uint8_t *miss_key[MAX];
	struct gw_policy *found[MAX], *ofound[MAX];
	uint32_t miss_idx[MAX], nb_miss = 0;

	/* tags are never reused, so a new pair is a new epoch: every
	 * older entry is stale, and nothing needs flushing */
	if (fwd->tag != pc->ftag || out->tag != pc->otag) {
		pc->ftag = fwd->tag;
		pc->otag = out->tag;
		pc->epoch++;
	}
	for (uint32_t i = 0; i < n; i++) {
		bk[i] = (uint8_t *)pc->b +
			(rte_hash_crc(keys[i], (uint32_t)klen, 0) & mask) * 2 *
				esz;
		rte_prefetch0(bk[i]);
		if (v6)
			rte_prefetch0(bk[i] + esz);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct gw_spd_pair *hit = NULL;

		for (unsigned int w = 0; w < 2 && hit == NULL; w++) {
			const uint8_t *e = bk[i] + w * esz;
			const struct gw_spd_pair *p =
				(const struct gw_spd_pair *)(e + klen);
			bool same =
				v6 ? gw_acl_key6_eq(
					     (const struct gw_acl_key6 *)e,
					     (const struct gw_acl_key6 *)
						     keys[i])
				   : gw_acl_key_eq((const struct gw_acl_key *)e,
						   (const struct gw_acl_key *)
							   keys[i]);

			if (p->epoch == pc->epoch && same)
				hit = p;
		}
		if (hit == NULL) {
			miss_key[nb_miss] = keys[i];
			miss_idx[nb_miss++] = i;
			continue;
		}
		pol[i] = pair_pol(fwd, hit->ref);
		opol[i] = pair_pol(out, hit->oref);
	}
	*hits += n - nb_miss;
	*misses += nb_miss;
	if (nb_miss == 0)
		return;
	if (v6) {
		gw_spd_lookup6(fwd, miss_key, found, nb_miss);
		gw_spd_lookup6(out, miss_key, ofound, nb_miss);
	} else {
		gw_spd_lookup(fwd, miss_key, found, nb_miss);
		gw_spd_lookup(out, miss_key, ofound, nb_miss);
	}
	for (uint32_t j = 0; j < nb_miss; j++) {
		uint8_t *e = bk[miss_idx[j]];
		struct gw_spd_pair *p = (struct gw_spd_pair *)(e + klen);

		pol[miss_idx[j]] = found[j];
		opol[miss_idx[j]] = ofound[j];
		memcpy(e + esz, e, esz); /* the older one of the two goes */
		memcpy(e, miss_key[j], klen);
		p->ref = pair_ref(found[j]);
		p->oref = pair_ref(ofound[j]);
		p->epoch = pc->epoch;
	}
}

void
gw_spd_lookup_pair(const struct gw_spd *fwd, const struct gw_spd *out,
		   struct gw_spd_cache *c, const uint8_t **keys,
		   struct gw_policy **pol, struct gw_policy **opol, uint32_t n)
{
	RTE_BUILD_BUG_ON(sizeof(struct gw_spd_pair_entry) * 2 !=
			 RTE_CACHE_LINE_SIZE);
	if ((fwd->acl == NULL && out->acl == NULL) || c->pairs.b == NULL ||
	    n > GW_OUT_MAX) {
		gw_spd_lookup_cached(fwd, c, fwd->tag, keys, pol, n);
		gw_spd_lookup_cached(out, c, out->tag, keys, opol, n);
		return;
	}
	pair_lookup(fwd, out, &c->pairs, c->mask, c->hits, c->misses, false,
		    keys, pol, opol, n);
}

void
gw_spd_lookup_cached(const struct gw_spd *spd, struct gw_spd_cache *c,
		     uint64_t tag, const uint8_t **keys, struct gw_policy **pol,
		     uint32_t n)
{
	enum { MAX = GW_OUT_MAX };
	struct gw_spd_cache_entry(*bk[MAX])[2];
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

		if (e[0].tag == tag && gw_acl_key_eq(&e[0].key, k)) {
			pol[i] = e[0].pol;
		} else if (e[1].tag == tag && gw_acl_key_eq(&e[1].key, k)) {
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

int
gw_spd_cache6_init(struct gw_spd_cache6 *c, uint32_t nb_buckets, int socket_id,
		   uint64_t *hits, uint64_t *misses)
{
	memset(c, 0, sizeof(*c));
	c->hits = hits;
	c->misses = misses;
	c->b = rte_zmalloc_socket("gw_spd_cache6", sizeof(*c->b) * nb_buckets,
				  RTE_CACHE_LINE_SIZE, socket_id);
	c->pairs.b = rte_zmalloc_socket("gw_spd_pairs6",
					2 * sizeof(struct gw_spd_pair6_entry) *
						nb_buckets,
					RTE_CACHE_LINE_SIZE, socket_id);
	if (c->b == NULL || c->pairs.b == NULL) {
		gw_spd_cache6_fini(c);
		return -ENOMEM;
	}
	c->mask = nb_buckets - 1;
	return 0;
}

void
gw_spd_cache6_fini(struct gw_spd_cache6 *c)
{
	rte_free(c->b);
	rte_free(c->pairs.b);
	memset(c, 0, sizeof(*c));
}

/* gw_spd_lookup_pair for IPv6: an entry a line, a bucket two lines. */
void
gw_spd_lookup_pair6(const struct gw_spd *fwd, const struct gw_spd *out,
		    struct gw_spd_cache6 *c, const uint8_t **keys,
		    struct gw_policy **pol, struct gw_policy **opol, uint32_t n)
{
	RTE_BUILD_BUG_ON(sizeof(struct gw_spd_pair6_entry) !=
			 RTE_CACHE_LINE_SIZE);
	if ((fwd->acl6 == NULL && out->acl6 == NULL) || c->pairs.b == NULL ||
	    n > GW_OUT_MAX) {
		gw_spd_lookup_cached6(fwd, c, fwd->tag, keys, pol, n);
		gw_spd_lookup_cached6(out, c, out->tag, keys, opol, n);
		return;
	}
	pair_lookup(fwd, out, &c->pairs, c->mask, c->hits, c->misses, true,
		    keys, pol, opol, n);
}

/* gw_spd_lookup_cached's twin: an entry a line, a bucket two lines. */
void
gw_spd_lookup_cached6(const struct gw_spd *spd, struct gw_spd_cache6 *c,
		      uint64_t tag, const uint8_t **keys,
		      struct gw_policy **pol, uint32_t n)
{
	enum { MAX = GW_OUT_MAX };
	struct gw_spd_cache6_entry(*bk[MAX])[2];
	const uint8_t *miss_key[MAX];
	struct gw_policy *found[MAX];
	uint32_t miss_idx[MAX], nb_miss = 0;

	RTE_BUILD_BUG_ON(sizeof(struct gw_acl_key6) != 40);
	RTE_BUILD_BUG_ON(sizeof(struct gw_spd_cache6_entry) !=
			 RTE_CACHE_LINE_SIZE);
	if (spd->acl6 == NULL || c->b == NULL || n > MAX) {
		gw_spd_lookup6(spd, keys, pol, n);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		bk[i] = &c->b[rte_hash_crc(keys[i], sizeof(struct gw_acl_key6),
					   (uint32_t)tag) &
			      c->mask];
		rte_prefetch0(&(*bk[i])[0]);
		rte_prefetch0(&(*bk[i])[1]);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct gw_acl_key6 *k =
			(const struct gw_acl_key6 *)keys[i];
		struct gw_spd_cache6_entry *e = *bk[i];

		if (e[0].tag == tag && gw_acl_key6_eq(&e[0].key, k)) {
			pol[i] = e[0].pol;
		} else if (e[1].tag == tag && gw_acl_key6_eq(&e[1].key, k)) {
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
	gw_spd_lookup6(spd, miss_key, found, nb_miss);
	for (uint32_t j = 0; j < nb_miss; j++) {
		struct gw_spd_cache6_entry *e = *bk[miss_idx[j]];

		pol[miss_idx[j]] = found[j];
		e[1] = e[0];
		memcpy(&e[0].key, miss_key[j], sizeof(e[0].key));
		e[0].pol = found[j];
		e[0].tag = tag;
	}
}
