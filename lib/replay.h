/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_REPLAY_H
#define ESPGW_REPLAY_H

/* Inbound anti-replay (RFC 4303 section 3.4.3) and ESN seq-hi inference
 * (RFC 4303 appendix A). A shared window may be checked and updated by
 * several workers at once: each block carries the number of the block
 * it holds and changes with one 128-bit compare-and-swap, so a number is
 * accepted at most once whoever sees it; a window of one worker is
 * written plainly. A window claimed by owners (an SA spread over
 * workers by sequence number, esp.h espgw_esp_seq_owner()) is written
 * plainly too: each owner marks only its own numbers, in ring lines no
 * other owner writes, and keeps its own top on a line of its own. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_atomic.h>
#include <rte_common.h>

#include "drops.h"

/* RFC 6479: the window lives in a ring of 64-bit blocks, one more than the
 * window needs, so sliding forward starts a block instead of shifting
 * bits. A slot is started afresh by the first number of a newer block
 * to reach it (nothing clears the blocks a jump skips), and a number
 * whose slot holds a newer block is behind the window. nb_blocks is a
 * power of two. */
union espgw_replay_blk {
	struct {
		uint64_t bits; /* the numbers of block `blk` received */
		uint64_t blk;  /* seq >> ESPGW_REPLAY_BLK_SHIFT of them */
	};
	rte_int128_t cas; /* both, for rte_atomic128_cmp_exchange */
};

/* Claimed by owners, the ring is followed by one line per owner, its
 * top (espgw_replay_owner_top). The header is read-only then: workers
 * only read it. */
struct espgw_replay {
	/* highest sequence number accepted (64-bit); claimed by owners,
	 * where they started (each keeps its own since) */
	uint64_t top;
	uint32_t win;	    /* window size, packets; 0 = no check */
	uint32_t blk_mask;  /* nb_blocks - 1 */
	bool shared;	    /* several workers update it: compare-and-swap */
	uint8_t owner_mask; /* claimed by owners: owners - 1; else 0 */
	/* claimed by owners: run r is map[r & run_mask]'s (esp.h
	 * espgw_replay_map, the even one filled in) */
	uint8_t run_mask;
	uint8_t map[ESPGW_REPLAY_MAP_MAX];
	union espgw_replay_blk blks[] __rte_cache_aligned;
};
/* cmpxchg16b wants its 16 bytes aligned, and a worker that owns lines
 * of the ring wants them whole; the SA places the window behind
 * cache-aligned parts (sa.h espgw_sa_replay) */
_Static_assert(offsetof(struct espgw_replay, blks) % RTE_CACHE_LINE_SIZE == 0,
	       "replay blocks must be cache-line aligned");

enum { ESPGW_REPLAY_BLK_SHIFT = 6, ESPGW_REPLAY_BLK_BITS = 64 };

/* A run of an owner's numbers (esp.h ESPGW_REPLAY_RUN_SHIFT) is one
 * ring line, so no line is written by two owners; and the owner of the
 * low 32 bits is that of all 64. */
enum {
	ESPGW_REPLAY_LINE_BLKS =
		1 << (ESPGW_REPLAY_RUN_SHIFT - ESPGW_REPLAY_BLK_SHIFT)
};
_Static_assert(ESPGW_REPLAY_LINE_BLKS * sizeof(union espgw_replay_blk) ==
		       RTE_CACHE_LINE_SIZE,
	       "a run of numbers must be one line of blocks");
_Static_assert(ESPGW_REPLAY_OWNERS_MAX <=
			       (1u << (32 - ESPGW_REPLAY_RUN_SHIFT)) &&
		       ESPGW_REPLAY_MAP_MAX <=
			       (1u << (32 - ESPGW_REPLAY_RUN_SHIFT)),
	       "owners and maps must divide the runs of 2^32");

/* Runs of an owner map (esp.h): its own, or the even map's one a
 * owner; 0 when not claimed by owners (0 or 1). */
static inline uint32_t
espgw_replay_runs(uint16_t owners, const struct espgw_replay_map *map)
{
	if (owners <= 1)
		return 0;
	return map != NULL && map->runs != 0 ? map->runs : owners;
}

/* Blocks needed for a window of win packets (0 when there is no window)
 * claimed by owners over runs runs (0 or 1: one worker, or shared): at
 * least a line a run, and whole lines of each, so that a line's runs
 * are all one owner's. A power of two. */
static inline uint32_t
espgw_replay_nb_blocks_of(uint32_t win, uint32_t runs)
{
	uint32_t nb;

	if (win == 0)
		return 0;
	nb = (win + ESPGW_REPLAY_BLK_BITS - 1) / ESPGW_REPLAY_BLK_BITS + 1;
	if (runs > 1)
		nb = RTE_MAX(nb, runs * ESPGW_REPLAY_LINE_BLKS);
	return rte_align32pow2(nb);
}

static inline uint32_t
espgw_replay_nb_blocks(uint32_t win)
{
	return espgw_replay_nb_blocks_of(win, 0);
}

/* Bytes of a window of win packets claimed by owners (0 or 1: not) as
 * map says (NULL: the even map), for its allocation (cache-line
 * aligned). */
static inline size_t
espgw_replay_size_map(uint32_t win, uint16_t owners,
		      const struct espgw_replay_map *map)
{
	return sizeof(struct espgw_replay) +
	       espgw_replay_nb_blocks_of(win, espgw_replay_runs(owners, map)) *
		       sizeof(union espgw_replay_blk) +
	       (owners > 1 && win > 0 ? owners * RTE_CACHE_LINE_SIZE : 0);
}

static inline size_t
espgw_replay_size_of(uint32_t win, uint16_t owners)
{
	return espgw_replay_size_map(win, owners, NULL);
}

static inline size_t
espgw_replay_size(uint32_t win)
{
	return espgw_replay_size_of(win, 0);
}

/* Claimed by owners: owner w's top, the highest number it accepted, on a
 * line only it writes, behind the ring. */
static inline uint64_t *
espgw_replay_owner_top(const struct espgw_replay *r, uint16_t w)
{
	return (uint64_t *)(uintptr_t)((const uint8_t *)&r
					       ->blks[r->blk_mask + 1] +
				       (size_t)w * RTE_CACHE_LINE_SIZE);
}

static inline union espgw_replay_blk *
replay_slot(struct espgw_replay *r, uint64_t seq)
{
	return &r->blks[(seq >> ESPGW_REPLAY_BLK_SHIFT) & r->blk_mask];
}

static inline uint64_t
replay_bit(uint64_t seq)
{
	return UINT64_C(1) << (seq & (ESPGW_REPLAY_BLK_BITS - 1));
}

/* The highest number accepted (other workers may be moving it); not
 * claimed by owners. */
static inline uint64_t
espgw_replay_top(const struct espgw_replay *r)
{
	return __atomic_load_n(&r->top, __ATOMIC_RELAXED);
}

/* The highest number accepted, in any mode: claimed by owners, the
 * highest of their tops (each a line another worker writes). */
static inline uint64_t
espgw_replay_highest(const struct espgw_replay *r)
{
	uint64_t top;

	if (r->owner_mask == 0 || r->win == 0)
		return espgw_replay_top(r);
	top = 0;
	for (uint16_t w = 0; w <= r->owner_mask; w++)
		top = RTE_MAX(top, __atomic_load_n(espgw_replay_owner_top(r, w),
						   __ATOMIC_RELAXED));
	return top;
}

/* The slot of seq as it would be with seq received; false (and *rc the
 * reason) when seq may not be. */
static inline bool
replay_mark(union espgw_replay_blk *want, const union espgw_replay_blk *old,
	    uint64_t seq, int *rc)
{
	uint64_t blk = seq >> ESPGW_REPLAY_BLK_SHIFT;

	if (old->blk > blk) {
		*rc = ESPGW_DROP_BEHIND_WINDOW;
		return false;
	}
	if (old->blk == blk && (old->bits & replay_bit(seq))) {
		*rc = ESPGW_DROP_REPLAYED;
		return false;
	}
	want->blk = blk;
	want->bits = (old->blk == blk ? old->bits : 0) | replay_bit(seq);
	return true;
}

/* A window of win packets in zeroed memory (espgw_replay_size_map()),
 * claimed by owners (0 or 1: not) as map says (NULL: evenly) or shared
 * or neither, whose highest number is top, with everything up to top
 * counted as received (a new SA's iseq): every owner starts from top. */
static inline void
espgw_replay_init_map(struct espgw_replay *r, uint32_t win, uint64_t top,
		      bool shared, uint16_t owners,
		      const struct espgw_replay_map *map)
{
	uint32_t runs = espgw_replay_runs(owners, map);
	uint32_t nb = espgw_replay_nb_blocks_of(win, runs);

	r->win = win;
	r->blk_mask = nb ? nb - 1 : 0;
	r->top = top;
	r->shared = shared;
	r->owner_mask = owners > 1 && win > 0 ? (uint8_t)(owners - 1) : 0;
	r->run_mask = r->owner_mask ? (uint8_t)(runs - 1) : 0;
	for (uint32_t i = 0; r->owner_mask && i < runs; i++)
		r->map[i] = map != NULL && map->runs != 0 ? map->owner[i]
							  : (uint8_t)i;
	for (uint16_t w = 0; r->owner_mask && w <= r->owner_mask; w++)
		*espgw_replay_owner_top(r, w) = top;
	for (uint64_t s = top, k = 0; s > 0 && k < win; s--, k++) {
		union espgw_replay_blk *b = replay_slot(r, s), want;
		int rc;

		/* each number once, newest first: never refused */
		if (replay_mark(&want, b, s, &rc))
			*b = want;
	}
}

static inline void
espgw_replay_init_of(struct espgw_replay *r, uint32_t win, uint64_t top,
		     bool shared, uint16_t owners)
{
	espgw_replay_init_map(r, win, top, shared, owners, NULL);
}

static inline void
espgw_replay_init(struct espgw_replay *r, uint32_t win, uint64_t top,
		  bool shared)
{
	espgw_replay_init_of(r, win, top, shared, 0);
}

/* RFC 4303 appendix A2.2, for ESN SAs (without ESN seq-hi is 0 and the
 * window is not read): the 64-bit sequence number a received low half
 * stands for, given the window's top (claimed by owners: the edge of
 * a view, espgw_replay_view). Returns 0 when it can only be a
 * number below 1, which no sender uses. */
static inline uint64_t
espgw_replay_infer_at(const struct espgw_replay *r, uint64_t top,
		      uint32_t seq_lo)
{
	uint32_t tl, th, bottom;

	tl = (uint32_t)top;
	th = (uint32_t)(top >> 32);
	bottom = tl - r->win + 1; /* wraps when tl < win - 1 */
	if (tl >= r->win - 1) {
		/* window within one seq-hi epoch */
		if (seq_lo >= bottom)
			return ((uint64_t)th << 32) | seq_lo;
		return ((uint64_t)(th + 1) << 32) | seq_lo;
	}
	/* window straddles the epoch boundary */
	if (seq_lo >= bottom) {
		if (th == 0)
			return 0;
		return ((uint64_t)(th - 1) << 32) | seq_lo;
	}
	return ((uint64_t)th << 32) | seq_lo;
}

/* The same from the window's own top (not claimed by owners). */
static inline uint64_t
espgw_replay_infer(const struct espgw_replay *r, uint32_t seq_lo)
{
	return espgw_replay_infer_at(r, espgw_replay_top(r), seq_lo);
}

/* Left of the window seen from top (or 0, which no sender uses)? top -
 * seq cannot wrap here; seq + win could, near 2^64. */
static inline bool
replay_behind(const struct espgw_replay *r, uint64_t top, uint64_t seq)
{
	return seq == 0 || (seq <= top && top - seq >= r->win);
}

/* Check before decryption: may seq be new? Returns ESPGW_OK or
 * the drop reason. A hint only when shared: the update decides. */
static inline int
espgw_replay_check(struct espgw_replay *r, uint64_t seq)
{
	const union espgw_replay_blk *b;
	uint64_t top = espgw_replay_top(r), blk;

	if (replay_behind(r, top, seq))
		return ESPGW_DROP_BEHIND_WINDOW;
	if (seq > top)
		return ESPGW_OK;
	b = replay_slot(r, seq);
	/* blk before bits (acquire, against the update's release): bits
	 * of an older block never pass for this one's */
	blk = __atomic_load_n(&b->blk, __ATOMIC_ACQUIRE);
	if (blk > seq >> ESPGW_REPLAY_BLK_SHIFT)
		return ESPGW_DROP_BEHIND_WINDOW;
	if (blk == seq >> ESPGW_REPLAY_BLK_SHIFT &&
	    (__atomic_load_n(&b->bits, __ATOMIC_RELAXED) & replay_bit(seq)))
		return ESPGW_DROP_REPLAYED;
	return ESPGW_OK;
}

/* After the ICV verified: check again (an earlier packet of the same
 * burst, or another worker, may have taken seq) and record it, moving
 * the top forward. Shared, the block changes by compare-and-swap: of
 * two workers marking one number, one wins and the other sees it
 * replayed (or behind, when the window has moved on meanwhile). */
static inline int
espgw_replay_update(struct espgw_replay *r, uint64_t seq)
{
	union espgw_replay_blk *b, old, want;
	uint64_t top = espgw_replay_top(r);
	int rc = ESPGW_OK;

	if (replay_behind(r, top, seq))
		return ESPGW_DROP_BEHIND_WINDOW;
	b = replay_slot(r, seq);
	if (!r->shared) {
		if (!replay_mark(&want, b, seq, &rc))
			return rc;
		*b = want;
		if (seq > top)
			r->top = seq;
		return ESPGW_OK;
	}
	/* a torn first read is at worst a drop with the wrong reason
	 * (replayed for behind); a failed exchange reads both halves */
	old.blk = __atomic_load_n(&b->blk, __ATOMIC_ACQUIRE);
	old.bits = __atomic_load_n(&b->bits, __ATOMIC_RELAXED);
	do {
		if (!replay_mark(&want, &old, seq, &rc))
			return rc;
	} while (!rte_atomic128_cmp_exchange(&b->cas, &old.cas, &want.cas, 0,
					     __ATOMIC_RELEASE,
					     __ATOMIC_ACQUIRE));
	while (seq > top &&
	       !__atomic_compare_exchange_n(&r->top, &top, seq, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return ESPGW_OK;
}

/* Claimed by owners: one owner's view of the window, taken once a run
 * (espgw_replay_view_begin) and written back after it (_end). An owner
 * judges "behind the window" by its own top: the owners work at once,
 * so one may be a few bursts ahead of another on numbers that came in
 * order, and judged by the highest top those would be dropped though
 * none was seen before. A number is still accepted once at most (only
 * its owner marks it, its lines hold the owner's last window of runs,
 * and a slot only moves to newer blocks); the window's edge is late by
 * the owners' lag, never early. The highest top of all, read once a
 * run (reading it a packet would move the other owners' lines to and
 * fro), gives ESN's seq-hi (RFC 4303 appendix A2.2). */
struct espgw_replay_view {
	uint64_t edge; /* highest of all tops when taken, and own since */
	uint64_t mine; /* this owner's top: its edge */
	uint16_t me;   /* the owner: its worker id */
};

static inline void
espgw_replay_view_begin(const struct espgw_replay *r, uint16_t me,
			struct espgw_replay_view *v)
{
	v->me = me;
	v->edge = espgw_replay_highest(r);
	/* a worker id past the owners owns nothing, and writes no top */
	v->mine = me <= r->owner_mask
			  ? __atomic_load_n(espgw_replay_owner_top(r, me),
					    __ATOMIC_RELAXED)
			  : 0;
}

/* Publish the owner's top, when it moved: one store a run. */
static inline void
espgw_replay_view_end(struct espgw_replay *r, const struct espgw_replay_view *v)
{
	uint64_t *t;

	if (v->me > r->owner_mask)
		return;
	t = espgw_replay_owner_top(r, v->me);
	if (__atomic_load_n(t, __ATOMIC_RELAXED) != v->mine)
		__atomic_store_n(t, v->mine, __ATOMIC_RELAXED);
}

/* The worker that owns seq; esp.h espgw_replay_map_owner() of its low
 * half (the map divides 2^32's runs). */
static inline uint16_t
replay_owner(const struct espgw_replay *r, uint64_t seq)
{
	return r->map[(seq >> ESPGW_REPLAY_RUN_SHIFT) & r->run_mask];
}

/* Claimed by owners, before decryption: may seq be new? ESPGW_OK or the
 * drop reason; the ring's lines of seq are only the owner's, so read
 * plainly. */
static inline int
espgw_replay_claim_check(const struct espgw_replay *r,
			 const struct espgw_replay_view *v, uint64_t seq)
{
	union espgw_replay_blk want;
	int rc = ESPGW_OK;

	if (replay_owner(r, seq) != v->me)
		return ESPGW_DROP_NOT_OWNER;
	if (replay_behind(r, v->mine, seq))
		return ESPGW_DROP_BEHIND_WINDOW;
	replay_mark(&want,
		    &r->blks[(seq >> ESPGW_REPLAY_BLK_SHIFT) & r->blk_mask],
		    seq, &rc);
	return rc;
}

/* Claimed by owners, after the ICV verified: check again and record
 * seq, moving this owner's top and its view's edge forward. */
static inline int
espgw_replay_claim_update(struct espgw_replay *r, struct espgw_replay_view *v,
			  uint64_t seq)
{
	union espgw_replay_blk *b, want;
	int rc;

	if (replay_owner(r, seq) != v->me)
		return ESPGW_DROP_NOT_OWNER;
	if (replay_behind(r, v->mine, seq))
		return ESPGW_DROP_BEHIND_WINDOW;
	b = replay_slot(r, seq);
	if (!replay_mark(&want, b, seq, &rc))
		return rc;
	*b = want;
	v->mine = RTE_MAX(v->mine, seq);
	v->edge = RTE_MAX(v->edge, seq);
	return ESPGW_OK;
}

#endif /* ESPGW_REPLAY_H */
