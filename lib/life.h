/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_LIFE_H
#define ESPGW_LIFE_H

/* SA lifetimes on the data path (esp.h, struct espgw_sa_limits): the
 * check xfrm_state_check_expire() makes before each packet, made from
 * a run's own count, so the shared counters are read once and added to
 * once a run. With one worker per SA the limits hold exactly; workers
 * sharing an outbound SA may each pass one run beyond a hard limit. */

#include <stdbool.h>
#include <stdint.h>

#include "sa.h"

static inline unsigned int
espgw_sa_flags(const struct espgw_sa *sa)
{
	return __atomic_load_n(&sa->expiry, __ATOMIC_RELAXED);
}

/* Set a flag once: the line is shared, so it is written only when the
 * flag is not there yet. */
static inline void
espgw_sa_flag(struct espgw_sa *sa, unsigned int f)
{
	if (!(espgw_sa_flags(sa) & f))
		__atomic_fetch_or(&sa->expiry, (uint8_t)f, __ATOMIC_RELAXED);
}

/* A run's view of the SA's count: where it stood, and this run's part. */
struct espgw_life_run {
	uint64_t packets, bytes; /* at the start of the run */
	uint64_t run_packets, run_bytes;
	bool soft;
};

static inline void
espgw_life_begin(const struct espgw_sa *sa, struct espgw_life_run *r)
{
	r->packets = __atomic_load_n(&sa->life.packets, __ATOMIC_RELAXED);
	r->bytes = __atomic_load_n(&sa->life.bytes, __ATOMIC_RELAXED);
	r->run_packets = r->run_bytes = 0;
	r->soft = espgw_sa_flags(sa) & ESPGW_SA_SOFT;
}

/* Can no packet of a run of n reach a limit? Then the run needs no
 * check a packet (ESPGW_LIFE_MAX_LEN bytes each at most): one compare a
 * run, far from the limits. A soft limit already flagged no longer
 * counts. */
#define ESPGW_LIFE_MAX_LEN 65535u

static inline bool
espgw_life_far(const struct espgw_sa *sa, const struct espgw_life_run *r,
	       uint32_t n)
{
	const struct espgw_sa_life *l = &sa->life;
	uint64_t np = r->soft ? l->hard_packets
			      : RTE_MIN(l->soft_packets, l->hard_packets);
	uint64_t nb =
		r->soft ? l->hard_bytes : RTE_MIN(l->soft_bytes, l->hard_bytes);

	return r->packets < np && n <= np - r->packets && r->bytes < nb &&
	       (uint64_t)n * ESPGW_LIFE_MAX_LEN <= nb - r->bytes;
}

/* May one more packet go? A count already at a hard limit refuses it
 * and expires the SA; at a soft limit it makes the SA dying. */
static inline bool
espgw_life_admit(struct espgw_sa *sa, struct espgw_life_run *r)
{
	const struct espgw_sa_life *l = &sa->life;
	uint64_t p = r->packets + r->run_packets, b = r->bytes + r->run_bytes;

	if (unlikely(p >= l->hard_packets || b >= l->hard_bytes)) {
		espgw_sa_flag(sa, ESPGW_SA_HARD);
		return false;
	}
	if (unlikely(!r->soft &&
		     (p >= l->soft_packets || b >= l->soft_bytes))) {
		espgw_sa_flag(sa, ESPGW_SA_SOFT);
		r->soft = true;
	}
	return true;
}

static inline void
espgw_life_count(struct espgw_life_run *r, uint64_t bytes)
{
	r->run_packets++;
	r->run_bytes += bytes;
}

/* Add the packets that went (which may be fewer than were admitted). */
static inline void
espgw_life_end(struct espgw_sa *sa, uint64_t packets, uint64_t bytes)
{
	if (packets == 0)
		return;
	__atomic_fetch_add(&sa->life.packets, packets, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sa->life.bytes, bytes, __ATOMIC_RELAXED);
}

/* The sequence-number margin (ESPGW_SEQ_SOFT_MARGIN) for a number seq
 * handed out or received under limit. */
static inline void
espgw_life_seq(struct espgw_sa *sa, uint64_t seq, uint64_t limit)
{
	if (unlikely(seq > limit - ESPGW_SEQ_SOFT_MARGIN))
		espgw_sa_flag(sa, ESPGW_SA_SOFT);
}

#endif /* ESPGW_LIFE_H */
