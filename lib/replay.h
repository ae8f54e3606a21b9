/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_REPLAY_H
#define ESPGW_REPLAY_H

/* Inbound anti-replay (RFC 4303 section 3.4.3) and ESN seq-hi inference
 * (RFC 4303 appendix A). Owned by one worker at a time: no locking. */

#include <stdint.h>

#include <rte_common.h>

#include "drops.h"

/* RFC 6479: the window lives in a ring of 64-bit blocks, one more than the
 * window needs, so sliding forward clears whole blocks instead of
 * shifting bits. nb_blocks is a power of two. */
struct espgw_replay {
	uint64_t top;	   /* highest sequence number accepted (64-bit) */
	uint32_t win;	   /* window size, packets; 0 = no check */
	uint32_t blk_mask; /* nb_blocks - 1 */
	uint64_t bmp[];
};

enum { ESPGW_REPLAY_BLK_SHIFT = 6, ESPGW_REPLAY_BLK_BITS = 64 };

/* Blocks needed for a window of win packets (0 when there is no window). */
static inline uint32_t
espgw_replay_nb_blocks(uint32_t win)
{
	if (win == 0)
		return 0;
	return rte_align32pow2(
		(win + ESPGW_REPLAY_BLK_BITS - 1) / ESPGW_REPLAY_BLK_BITS + 1);
}

/* RFC 4303 appendix A2.2, for ESN SAs (without ESN seq-hi is 0 and the
 * window is not read): the 64-bit sequence number a received low half
 * stands for, given the window's top. Returns 0 when it can only be a
 * number below 1, which no sender uses. */
static inline uint64_t
espgw_replay_infer(const struct espgw_replay *r, uint32_t seq_lo)
{
	uint32_t tl, th, bottom;

	tl = (uint32_t)r->top;
	th = (uint32_t)(r->top >> 32);
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

static inline uint64_t *
replay_word(struct espgw_replay *r, uint64_t seq)
{
	return &r->bmp[(seq >> ESPGW_REPLAY_BLK_SHIFT) & r->blk_mask];
}

static inline uint64_t
replay_bit(uint64_t seq)
{
	return UINT64_C(1) << (seq & (ESPGW_REPLAY_BLK_BITS - 1));
}

/* Check before decryption: may seq be new? Returns ESPGW_OK or
 * the drop reason. */
static inline int
espgw_replay_check(struct espgw_replay *r, uint64_t seq)
{
	if (seq == 0)
		return ESPGW_DROP_BEHIND_WINDOW;
	if (seq > r->top)
		return ESPGW_OK;
	/* top - seq cannot wrap here; seq + win could, near 2^64 */
	if (r->top - seq >= r->win)
		return ESPGW_DROP_BEHIND_WINDOW;
	if (*replay_word(r, seq) & replay_bit(seq))
		return ESPGW_DROP_REPLAYED;
	return ESPGW_OK;
}

/* After the ICV verified: check again (an earlier packet of the same
 * burst may have taken seq) and record it, sliding the window forward. */
static inline int
espgw_replay_update(struct espgw_replay *r, uint64_t seq)
{
	int rc = espgw_replay_check(r, seq);

	if (rc != ESPGW_OK)
		return rc;
	if (seq > r->top) {
		uint64_t from = (r->top >> ESPGW_REPLAY_BLK_SHIFT) + 1;
		uint64_t to = seq >> ESPGW_REPLAY_BLK_SHIFT;
		uint64_t n = to - from + 1;

		if (to >= from) {
			if (n > (uint64_t)r->blk_mask + 1)
				n = (uint64_t)r->blk_mask + 1;
			for (uint64_t i = 0; i < n; i++)
				r->bmp[(from + i) & r->blk_mask] = 0;
		}
		r->top = seq;
	}
	*replay_word(r, seq) |= replay_bit(seq);
	return ESPGW_OK;
}

#endif /* ESPGW_REPLAY_H */
