/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_SPD_H
#define ESPGW_CONTROL_SPD_H

/* The security policy database (RFC 4301 section 4.4.1) as built for
 * the workers: one compiled direction each of out, in and fwd, its
 * IPv4 and its IPv6 selectors each matched by a scan for a handful of
 * policies and by rte_acl for more. The per-packet lookup is
 * dataplane/spd.h. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <rte_acl.h>
#include <rte_common.h>

#include "espgw/esp.h"
#include "lang/config.h"

/* What rte_acl reads of a packet: fields in network byte order. */
struct gw_acl_key {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src;
	uint32_t dst;
	uint16_t sport; /* ICMP: type, as xfrm selectors use it */
	uint16_t dport; /* ICMP: code */
} __rte_packed;

/* The same of an IPv6 packet: the upper-layer protocol past the
 * extension headers (gw_acl_key6()) and the addresses, which rte_acl
 * takes as four 4-byte fields each. */
struct gw_acl_key6 {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport; /* ICMPv6: type, as xfrm selectors use it */
	uint16_t dport; /* ICMPv6: code */
} __rte_packed;

/* A policy as the data path uses it: what a packet needs in the first
 * cache line (at 10,000 policies every policy line is cold). The SA an
 * out policy's template names is not here but in the table set's
 * bindings (tables.h), so that a new SA rebinds a policy without a new
 * policy database. */
struct gw_policy {
	uint32_t id;	/* position in its direction, in xfrm order */
	uint8_t action; /* enum espgw_cfg_action */
	bool has_tmpl;
	uint32_t reqid, tmpl_src, tmpl_dst; /* template, as in cfg */
	struct espgw_cfg_policy cfg;	    /* as configured */
} __rte_cache_aligned;

/* A policy selector compiled for a linear scan: IPv4, and IPv6. */
struct gw_sel {
	uint32_t src, src_mask, dst, dst_mask; /* network order */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto; /* 0 = any */
	uint32_t id;   /* the policy's, in its direction */
};

struct gw_sel6 {
	uint64_t src[2], src_mask[2], dst[2], dst_mask[2]; /* network order */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto;
	uint32_t id;
};

/* Is p an IPv6 selector (family 0 is AF_INET, as in lang/config.h)? */
static inline bool
gw_policy_v6(const struct espgw_cfg_policy *p)
{
	return p->family == AF_INET6;
}

/* Compile policy p's selector for a scan (gw_sel_of: IPv4 policies,
 * gw_sel6_of: IPv6 ones); the id is the caller's to set. */
void gw_sel_of(struct gw_sel *sel, const struct espgw_cfg_policy *p);
void gw_sel6_of(struct gw_sel6 *sel, const struct espgw_cfg_policy *p);

/* Up to this many policies of a family a direction matches that
 * family by a scan, which beats rte_acl's trie for a handful of rules;
 * above, by rte_acl. */
#define GW_SPD_LINEAR_MAX 8

/* A change to a direction of thousands of policies does not rebuild its
 * trie (200 ms at 10,000): the new version shares the trie (the base)
 * and adds what changed since as a delta, scanned after it, with the
 * base's policies that went marked dead. Past these, a base is rebuilt
 * there and then; control/ctl.c rebuilds one in the background from
 * GW_SPD_REBASE_AT on. */
#define GW_SPD_DELTA_MAX 1024
#define GW_SPD_NO_TMPL UINT32_MAX
#define GW_SPD_REBASE_AT 32

/* One compiled direction of the policy database: built when a policy
 * of its direction changes, and otherwise handed from one table set to
 * the next. Policy ids: base 0..nb-1, delta nb..nb+nb_delta-1, one
 * space for both families in xfrm order; each family has a classifier
 * of its own (a key of one never meets a selector of the other). */
struct gw_spd {
	/* the base, shared by the versions derived from it */
	struct rte_acl_ctx *acl;  /* IPv4, when nb4 > GW_SPD_LINEAR_MAX */
	struct rte_acl_ctx *acl6; /* IPv6, when nb6 > GW_SPD_LINEAR_MAX */
	struct gw_policy *pol;	  /* in xfrm order; ACL userdata - 1 */
	uint32_t *by_seq;	  /* base positions by order of adding */
	/* pol[i]'s template reqid (0: any), or GW_SPD_NO_TMPL: which
	 * policies an SA of a reqid concerns, compact */
	uint32_t *tmpl_reqid;
	unsigned int nb, nb4, nb6; /* nb4 + nb6 = nb */
	/* this version's changes to it */
	uint8_t *dead;		 /* per base policy: removed or replaced */
	struct gw_policy *delta; /* in xfrm order */
	struct gw_sel *dsel;	 /* the IPv4 ones' selectors, in that order */
	struct gw_sel6 *dsel6;	 /* the IPv6 ones' */
	unsigned int nb_dead, nb_delta, nb_dsel, nb_dsel6;
	bool l4;      /* some selector names a protocol or ports */
	uint64_t tag; /* this version's, never 0 or reused: caches key on it */
	/* the base's scans, copied into its versions; last, so that the
	 * IPv4 path's fields share the first lines */
	struct gw_sel sel[GW_SPD_LINEAR_MAX];	/* IPv4, when nb4 <= max */
	struct gw_sel6 sel6[GW_SPD_LINEAR_MAX]; /* IPv6, when nb6 <= max */
};

/* Does policy a come before b in xfrm's order (lowest priority value
 * first, ties to the one added first), base and delta alike? */
static inline bool
gw_policy_before(const struct gw_policy *a, const struct gw_policy *b)
{
	return a->cfg.priority != b->cfg.priority
		       ? a->cfg.priority < b->cfg.priority
		       : a->cfg.seq < b->cfg.seq;
}

/* Policy id of a direction. */
static inline const struct gw_policy *
gw_spd_policy(const struct gw_spd *spd, unsigned int id)
{
	return id < spd->nb ? &spd->pol[id] : &spd->delta[id - spd->nb];
}

/* Is id one of the direction's live policies (not a dead base one)? */
static inline bool
gw_spd_live(const struct gw_spd *spd, unsigned int id)
{
	return id >= spd->nb || spd->dead == NULL || !spd->dead[id];
}

enum gw_dir { GW_OUT, GW_IN, GW_FWD, GW_NB_DIRS };

/* Do two policies have the same direction and selector (its family
 * and addresses of that family included), which xfrm refuses to hold
 * twice (xfrm_policy_insert: "File exists")? Priority, action and
 * template do not count. */
bool gw_policy_same_key(const struct espgw_cfg_policy *a,
			const struct espgw_cfg_policy *b);

/* Do two policies say the same, the line they came from aside (the
 * order of adding counts)? */
bool gw_policy_equal(const struct espgw_cfg_policy *a,
		     const struct espgw_cfg_policy *b);

/* Order by direction and selector; 0 exactly when gw_policy_same_key. */
int gw_policy_key_cmp(const struct espgw_cfg_policy *a,
		      const struct espgw_cfg_policy *b);

/* Compile the policies of direction dir among the n of pols (in the
 * order of adding: ascending seq), of either family. Returns 0, or -1
 * with a message in err. */
int gw_spd_build(struct gw_spd *spd, const struct espgw_cfg_policy *pols,
		 unsigned int n, enum espgw_cfg_dir dir, char *err,
		 size_t errlen);
/* Direction dir of pols as a version of base (a direction built by
 * gw_spd_build, or derived): base's classifiers and what differs as
 * delta and dead. -E2BIG when base has no trie (of either family) or
 * too much differs (then build), -ENOMEM. */
int gw_spd_derive(struct gw_spd *spd, const struct gw_spd *base,
		  const struct espgw_cfg_policy *pols, unsigned int n,
		  enum espgw_cfg_dir dir);
/* Free spd but for what keep (or NULL) shares with it. */
void gw_spd_release(struct gw_spd *spd, const struct gw_spd *keep);
void gw_spd_free(struct gw_spd *spd);
/* The policies of a version, live ones. */
unsigned int gw_spd_count(const struct gw_spd *spd);

#endif /* ESPGW_CONTROL_SPD_H */
