/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_BURST_H
#define ESPGW_BURST_H

/* The burst contract: successes first, failures after them, both in
 * arrival order, and every mbuf still the caller's. */

#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "espgw/esp.h"

struct espgw_burst {
	struct rte_mbuf **mb;
	uint16_t n;
	uint16_t nb_keep;
	uint8_t keep[ESPGW_BURST_MAX];
};

static inline void
espgw_burst_init(struct espgw_burst *b, struct rte_mbuf **mb, uint16_t n)
{
	b->mb = mb;
	b->n = n;
	b->nb_keep = 0;
	memset(b->keep, 0, n);
}

static inline void
espgw_burst_keep(struct espgw_burst *b, uint16_t i)
{
	b->keep[i] = 1;
	b->nb_keep++;
}

/* Reorder the array: kept mbufs first. Returns how many were kept. */
static inline uint16_t
espgw_burst_finish(struct espgw_burst *b)
{
	struct rte_mbuf *bad[ESPGW_BURST_MAX];
	uint16_t nb_good = 0, nb_bad = 0;

	if (b->nb_keep == b->n) /* the usual case: nothing moves */
		return b->n;

	for (uint16_t i = 0; i < b->n; i++) {
		if (b->keep[i])
			b->mb[nb_good++] = b->mb[i];
		else
			bad[nb_bad++] = b->mb[i];
	}
	memcpy(b->mb + nb_good, bad, nb_bad * sizeof(bad[0]));
	return nb_good;
}

static inline void
burst_reverse(struct rte_mbuf **mb, uint32_t lo, uint32_t hi)
{
	while (lo + 1 < hi) {
		struct rte_mbuf *t = mb[lo];

		mb[lo++] = mb[--hi];
		mb[hi] = t;
	}
}

/* Processes one slice of at most ESPGW_BURST_MAX mbufs; good is how many
 * successes earlier slices had, so per-packet outputs can go straight to
 * their final place. */
typedef uint16_t (*espgw_slice_fn)(void *arg, struct rte_mbuf **mb, uint16_t n,
				   uint32_t good);

/* Run fn over slices and merge the results so the whole array keeps the
 * contract: a rotation by three reversals moves each slice's successes in
 * front of the failures so far. */
static inline uint16_t
espgw_burst_sliced(struct rte_mbuf **mb, uint32_t n, espgw_slice_fn fn,
		   void *arg)
{
	uint32_t good = 0;

	for (uint32_t off = 0; off < n;) {
		uint16_t len = (uint16_t)RTE_MIN(n - off, ESPGW_BURST_MAX);
		uint16_t g = fn(arg, mb + off, len, good);

		burst_reverse(mb, good, off);
		burst_reverse(mb, off, off + g);
		burst_reverse(mb, good, off + g);
		good += g;
		off += len;
	}
	return (uint16_t)good;
}

#endif /* ESPGW_BURST_H */
