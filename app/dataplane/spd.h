/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_SPD_H
#define ESPGW_DATAPLANE_SPD_H

/* Policy lookup, a burst of packets at a time, and a worker's caches
 * of rte_acl's answers, IPv4 and IPv6 (the database itself:
 * control/spd.h). */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "control/spd.h"
#include "control/tables.h"
#include "espgw/wire.h"

/* Fill the key of an IPv4 packet (data at the IP header); ports only
 * when asked (some selector to be matched looks at them: gw_spd.l4). */
void gw_acl_key(const struct rte_mbuf *m, struct gw_acl_key *k, bool ports);

/* Are two IPv4 keys the same, every field? */
static inline bool
gw_acl_key_eq(const struct gw_acl_key *a, const struct gw_acl_key *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Are two IPv6 keys the same, every field? */
static inline bool
gw_acl_key6_eq(const struct gw_acl_key6 *a, const struct gw_acl_key6 *b)
{
	uint64_t x[5], y[5];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		(x[4] ^ y[4])) == 0;
}

/* Is an IPv6 next header one of the extension headers xfrm walks past
 * to the upper-layer protocol (spd_lookup.c)? */
static inline bool
gw_ip6_ext_hdr(uint8_t nh)
{
	return nh == ESPGW_IPV6_HOPOPTS || nh == ESPGW_IPV6_ROUTING ||
	       nh == ESPGW_IPV6_DSTOPTS || nh == ESPGW_IPV6_FRAGMENT;
}

/* Fill the key of an IPv6 packet (data at the IPv6 header, whose
 * payload_len fits data_len): the upper-layer protocol past the
 * extension headers, as xfrm takes it (spd_lookup.c), and its ports or
 * ICMPv6 type and code when asked, unless a fragment header came.
 * Returns 0, or -1 when the chain cannot be walked safely (longer than
 * ESPGW_IPV6_EXT_MAX headers, or past the packet): the caller drops. */
int gw_acl_key6(const struct rte_mbuf *m, struct gw_acl_key6 *k, bool ports);

/* Match n keys, struct gw_acl_key (gw_spd_lookup) or struct
 * gw_acl_key6 (gw_spd_lookup6); pol[i] is the winning policy or NULL. */
void gw_spd_lookup(const struct gw_spd *spd, const uint8_t **keys,
		   struct gw_policy **pol, uint32_t n);
void gw_spd_lookup6(const struct gw_spd *spd, const uint8_t **keys,
		    struct gw_policy **pol, uint32_t n);

/* A worker's cache of answers from rte_acl directions: at thousands of
 * policies each classification walks cold trie nodes, while a flow's
 * next packet needs one cache line. Two entries a bucket (one line);
 * an entry is valid for the tag it was written with (its direction's
 * build, gw_spd.tag), so a rebuilt or another direction never sees it,
 * while a change to SAs or routes keeps the cache warm. */
struct gw_spd_cache_entry {
	struct gw_acl_key key;
	struct gw_policy *pol; /* NULL: no policy matched */
	uint64_t tag;	       /* 0: empty */
};

/* The fwd check asks two directions about one key (its fwd policy and
 * the out policy it would leave by): a pair entry holds both answers,
 * so a returning flow costs one line, not two. The policies as their
 * ids + 1 (0: none) and an epoch in place of the two tags, to fit two
 * entries a line: the worker's epoch moves when either direction's tag
 * differs from the pair it last saw. */
struct gw_spd_pair {
	uint32_t ref, oref; /* gw_spd_policy(id) + 1 of each direction */
	uint64_t epoch;	    /* 0: empty */
};

struct gw_spd_pair_entry {
	struct gw_acl_key key;
	struct gw_spd_pair p;
};

/* A cache's pair entries, either family's: buckets of two entries, as
 * many as the cache's; the pair of tags the epoch stands for. */
struct gw_spd_pairs {
	void *b;
	uint64_t ftag, otag, epoch;
};

struct gw_spd_cache {
	uint32_t mask;		 /* nb_buckets - 1 */
	uint64_t *hits, *misses; /* the owner's counters */
	struct gw_spd_cache_entry (*b)[2];
	struct gw_spd_pairs pairs; /* struct gw_spd_pair_entry [2] each */
};

/* nb_buckets: a power of two; lookups through the cache add to *hits
 * and *misses. Runs on the main lcore, before the worker starts.
 * Returns 0 or -ENOMEM. */
int gw_spd_cache_init(struct gw_spd_cache *c, uint32_t nb_buckets,
		      int socket_id, uint64_t *hits, uint64_t *misses);
void gw_spd_cache_fini(struct gw_spd_cache *c);

/* As gw_spd_lookup, through the cache when the direction uses rte_acl.
 * tag: non-zero, different for every build of a direction. */
void gw_spd_lookup_cached(const struct gw_spd *spd, struct gw_spd_cache *c,
			  uint64_t tag, const uint8_t **keys,
			  struct gw_policy **pol, uint32_t n);

/* Both answers of the fwd check for n keys, fwd's in pol and out's in
 * opol, through the pair entries when either direction uses rte_acl;
 * a lookup a key, counted once. */
void gw_spd_lookup_pair(const struct gw_spd *fwd, const struct gw_spd *out,
			struct gw_spd_cache *c, const uint8_t **keys,
			struct gw_policy **pol, struct gw_policy **opol,
			uint32_t n);

/* The cache of IPv6 answers, the same but for its 40-byte keys: an
 * entry a cache line, two a bucket. Tagged as the IPv4 one, by the
 * direction's tag (one cache a family, so the tag is shared). */
struct gw_spd_cache6_entry {
	struct gw_acl_key6 key;
	struct gw_policy *pol; /* NULL: no policy matched */
	uint64_t tag;	       /* 0: empty */
} __rte_cache_aligned;

/* The IPv6 pair entry, as the IPv4 one: both answers of the fwd check
 * in one line. */
struct gw_spd_pair6_entry {
	struct gw_acl_key6 key;
	struct gw_spd_pair p;
} __rte_cache_aligned;

struct gw_spd_cache6 {
	uint32_t mask;		 /* nb_buckets - 1 */
	uint64_t *hits, *misses; /* the owner's counters */
	struct gw_spd_cache6_entry (*b)[2];
	struct gw_spd_pairs pairs; /* struct gw_spd_pair6_entry [2] each */
};

int gw_spd_cache6_init(struct gw_spd_cache6 *c, uint32_t nb_buckets,
		       int socket_id, uint64_t *hits, uint64_t *misses);
void gw_spd_cache6_fini(struct gw_spd_cache6 *c);

/* As gw_spd_lookup6, through the cache when the direction's IPv6
 * policies use rte_acl. */
void gw_spd_lookup_cached6(const struct gw_spd *spd, struct gw_spd_cache6 *c,
			   uint64_t tag, const uint8_t **keys,
			   struct gw_policy **pol, uint32_t n);

/* gw_spd_lookup_pair for IPv6 keys, through the IPv6 cache's pairs when
 * either direction's IPv6 policies use rte_acl. */
void gw_spd_lookup_pair6(const struct gw_spd *fwd, const struct gw_spd *out,
			 struct gw_spd_cache6 *c, const uint8_t **keys,
			 struct gw_policy **pol, struct gw_policy **opol,
			 uint32_t n);

/* Match n keys against one direction of table set t through a worker's
 * cache: IPv4 keys (gw_spd_match) or IPv6 ones (gw_spd_match6). */
static inline void
gw_spd_match(const struct gw_tables *t, struct gw_spd_cache *cache,
	     enum gw_dir dir, const uint8_t **kp, struct gw_policy **pol,
	     unsigned int n)
{
	gw_spd_lookup_cached(&t->spd[dir], cache, t->spd[dir].tag, kp, pol, n);
}

static inline void
gw_spd_match6(const struct gw_tables *t, struct gw_spd_cache6 *cache,
	      enum gw_dir dir, const uint8_t **kp, struct gw_policy **pol,
	      unsigned int n)
{
	gw_spd_lookup_cached6(&t->spd[dir], cache, t->spd[dir].tag, kp, pol, n);
}

#endif /* ESPGW_DATAPLANE_SPD_H */
