/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Anti-replay window (RFC 4303 section 3.4.3, RFC 6479) and ESN seq-hi
 * inference (RFC 4303 appendix A), checked against a plain model, on a
 * window of one worker, of several and claimed by owners (each test runs
 * on all three); two threads offering the same numbers to one window at
 * once, each number accepted exactly once between them; and two owner
 * threads, each taking its own numbers only. */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "replay.h"

/* the mode of the windows mk() makes: compare-and-swap or not, or
 * claimed by this many owners */
static bool shared;
static uint16_t owners;
/* claimed: which owner has which run (NULL: run mod owners) */
static const struct espgw_replay_map *map;

/* The owner of s among own, as the dispatcher judges it. */
static uint16_t
owner_of(uint64_t s, uint16_t own)
{
	if (map == NULL)
		return espgw_esp_seq_owner((uint32_t)s, own);
	return espgw_replay_map_owner(map, (uint32_t)s, own);
}

/* A window as an SA makes it: everything up to top received. */
static struct espgw_replay *
window(uint32_t win, uint64_t top, bool sh, uint16_t own)
{
	size_t size = espgw_replay_size_map(win, own, map);
	struct espgw_replay *r = aligned_alloc(64, RTE_ALIGN(size, 64));

	assert_non_null(r);
	memset(r, 0, size);
	espgw_replay_init_map(r, win, top, sh, own, map);
	return r;
}

/* The window's top, every owner's when claimed. */
static void
set_top(struct espgw_replay *r, uint64_t top)
{
	r->top = top;
	for (uint16_t w = 0; r->owner_mask && w <= r->owner_mask; w++)
		*espgw_replay_owner_top(r, w) = top;
}

static struct espgw_replay *
mk(uint32_t win, uint64_t top)
{
	/* top alone: the numbers below it are not marked received */
	struct espgw_replay *r = window(win, 0, shared, owners);

	set_top(r, top);
	return r;
}

static uint64_t
top_of(const struct espgw_replay *r)
{
	return espgw_replay_highest(r);
}

static uint64_t
infer(const struct espgw_replay *r, uint32_t lo)
{
	if (r->owner_mask == 0)
		return espgw_replay_infer(r, lo);
	return espgw_replay_infer_at(r, espgw_replay_highest(r), lo);
}

/* What an authentic packet with this seq meets: check, then update.
 * Claimed, by its owner, in a run of its own (the edge never late). */
static int
rx(struct espgw_replay *r, uint64_t seq)
{
	struct espgw_replay_view v;
	int rc;

	if (r->owner_mask == 0) {
		rc = espgw_replay_check(r, seq);
		return rc != ESPGW_OK ? rc : espgw_replay_update(r, seq);
	}
	espgw_replay_view_begin(r, owner_of(seq, owners), &v);
	rc = espgw_replay_claim_check(r, &v, seq);
	if (rc == ESPGW_OK)
		rc = espgw_replay_claim_update(r, &v, seq);
	espgw_replay_view_end(r, &v);
	return rc;
}

static void
test_in_order(void **state)
{
	struct espgw_replay *r = mk(64, 0);

	(void)state;
	for (uint64_t s = 1; s <= 5000; s++)
		assert_int_equal(rx(r, s), ESPGW_OK);
	assert_int_equal(top_of(r), 5000);
	free(r);
}

static void
test_duplicates_and_zero(void **state)
{
	struct espgw_replay *r = mk(64, 0);

	(void)state;
	assert_int_equal(rx(r, 0), ESPGW_DROP_BEHIND_WINDOW);
	assert_int_equal(rx(r, 1), ESPGW_OK);
	assert_int_equal(rx(r, 1), ESPGW_DROP_REPLAYED);
	assert_int_equal(rx(r, 3), ESPGW_OK);
	assert_int_equal(rx(r, 3), ESPGW_DROP_REPLAYED);
	assert_int_equal(rx(r, 2), ESPGW_OK);
	assert_int_equal(rx(r, 2), ESPGW_DROP_REPLAYED);
	free(r);
}

/* Reordered inside the window: accepted once; the window's edge exact. */
static void
test_window_edges(void **state)
{
	static const uint32_t wins[] = { 32, 64, 100, 128, 1000, 1024, 4096 };

	(void)state;
	for (size_t w = 0; w < RTE_DIM(wins); w++) {
		uint32_t win = wins[w];
		struct espgw_replay *r = mk(win, 0);
		uint64_t top = 10 * (uint64_t)win + 7;

		assert_int_equal(rx(r, top), ESPGW_OK);
		/* the oldest number still inside the window */
		assert_int_equal(rx(r, top - win + 1), ESPGW_OK);
		assert_int_equal(rx(r, top - win + 1), ESPGW_DROP_REPLAYED);
		/* one below it is too old, seen or not */
		assert_int_equal(rx(r, top - win), ESPGW_DROP_BEHIND_WINDOW);
		/* reordered: every other number inside, descending */
		for (uint64_t s = top - 1; s > top - win + 1; s -= 2)
			assert_int_equal(rx(r, s), ESPGW_OK);
		for (uint64_t s = top - 1; s > top - win + 1; s -= 2)
			assert_int_equal(rx(r, s), ESPGW_DROP_REPLAYED);
		/* far ahead: the window slides past all of it */
		assert_int_equal(rx(r, top + 100000), ESPGW_OK);
		assert_int_equal(rx(r, top), ESPGW_DROP_BEHIND_WINDOW);
		assert_int_equal(rx(r, top + 100000 - 1), ESPGW_OK);
		assert_int_equal(rx(r, top + 100000 - win + 1), ESPGW_OK);
		free(r);
	}
}

/* Random traffic against a model that remembers every number seen;
 * claimed, each owner's edge is its own top (replay.h). */
static void
test_against_model(void **state)
{
	static const uint32_t wins[] = { 32, 64, 65, 256, 1024, 4096 };
	unsigned int seed = (unsigned int)time(NULL);

	(void)state;
	srand(seed);
	for (size_t w = 0; w < RTE_DIM(wins); w++) {
		uint32_t win = wins[w];
		struct espgw_replay *r = mk(win, 0);
		uint8_t *seen = calloc(1u << 20, 1);
		uint64_t top = 0, otop[ESPGW_REPLAY_OWNERS_MAX] = { 0 };

		assert_non_null(seen);
		for (int i = 0; i < 200000; i++) {
			/* mostly near the top, sometimes a jump */
			int64_t d = (rand() % (3 * (int)win)) - 2 * (int)win;
			uint64_t s;
			int want, got;

			if (rand() % 1000 == 0)
				d = rand() % (8 * (int)win);
			s = (int64_t)top + d < 0 ? 0
						 : (uint64_t)((int64_t)top + d);
			if (s >= (1u << 20))
				break;
			uint16_t o = owner_of(s, owners);
			uint64_t edge = owners > 1 ? otop[o] : top;

			if (s == 0 || s + win <= edge)
				want = ESPGW_DROP_BEHIND_WINDOW;
			else if (seen[s])
				want = ESPGW_DROP_REPLAYED;
			else
				want = ESPGW_OK;
			got = rx(r, s);
			if (got != want)
				fail_msg("win %u seq %lu top %lu: got %d want "
					 "%d (seed %u)",
					 win, (unsigned long)s,
					 (unsigned long)top, got, want, seed);
			if (got == ESPGW_OK) {
				seen[s] = 1;
				if (s > top)
					top = s;
				if (s > otop[o])
					otop[o] = s;
			}
		}
		free(seen);
		free(r);
	}
}

/* RFC 4303 appendix A2.2 across the wrap of the low 32 bits. */
static void
test_esn_infer(void **state)
{
	const uint64_t E = UINT64_C(1) << 32;
	struct espgw_replay *r = mk(64, 0);

	(void)state;
	/* window inside one epoch */
	set_top(r, 5 * E + 1000);
	assert_int_equal(infer(r, 1000 - 63), 5 * E + 937);
	assert_int_equal(infer(r, 2000), 5 * E + 2000);
	/* below the window: it must be the next epoch */
	assert_int_equal(infer(r, 900), 6 * E + 900);

	/* top just past the wrap: the window reaches into the last epoch */
	set_top(r, 6 * E + 5);
	assert_int_equal(infer(r, UINT32_MAX), 5 * E + UINT32_MAX);
	assert_int_equal(infer(r, UINT32_MAX - 57), 5 * E + UINT32_MAX - 57);
	assert_int_equal(infer(r, 3), 6 * E + 3);
	assert_int_equal(infer(r, 100), 6 * E + 100);

	/* top just before the wrap: small numbers are the next epoch */
	set_top(r, 5 * E + UINT32_MAX - 2);
	assert_int_equal(infer(r, 1), 6 * E + 1);
	assert_int_equal(infer(r, UINT32_MAX), 5 * E + UINT32_MAX);

	/* epoch 0 has nothing before it */
	set_top(r, 5);
	assert_int_equal(infer(r, UINT32_MAX), 0);
	free(r);
}

/* ESN traffic through the wrap, with the window doing its work. */
static void
test_esn_across_wrap(void **state)
{
	const uint64_t E = UINT64_C(1) << 32;
	struct espgw_replay *r = mk(128, E - 200);

	(void)state;
	for (uint64_t s = E - 150; s < E + 50; s += 3) {
		uint64_t got = infer(r, (uint32_t)s);

		assert_int_equal(got, s);
		assert_int_equal(rx(r, got), ESPGW_OK);
	}
	/* stragglers from before the wrap, inside and outside the window */
	assert_int_equal(infer(r, (uint32_t)(E - 2)), E - 2);
	assert_int_equal(rx(r, E - 2), ESPGW_OK);
	assert_int_equal(rx(r, E - 2), ESPGW_DROP_REPLAYED);
	assert_int_equal(rx(r, E - 150), ESPGW_DROP_BEHIND_WINDOW);
	free(r);
}

/* The last window of the 64-bit space: numbers inside it that never
 * came are new, those below it behind, with no wrap of seq + window
 * (it once made every number within a window of 2^64 behind-window). */
static void
test_top_of_space(void **state)
{
	struct espgw_replay *r = mk(64, UINT64_MAX - 10);

	(void)state;
	assert_int_equal(rx(r, UINT64_MAX - 20), ESPGW_OK);
	assert_int_equal(rx(r, UINT64_MAX - 20), ESPGW_DROP_REPLAYED);
	assert_int_equal(rx(r, UINT64_MAX - 10 - 63), ESPGW_OK);
	assert_int_equal(rx(r, UINT64_MAX - 10 - 64), ESPGW_DROP_BEHIND_WINDOW);
	assert_int_equal(rx(r, UINT64_MAX), ESPGW_OK);
	assert_int_equal(rx(r, UINT64_MAX - 63), ESPGW_OK);
	assert_int_equal(rx(r, UINT64_MAX - 64), ESPGW_DROP_BEHIND_WINDOW);
	assert_int_equal(rx(r, UINT64_MAX), ESPGW_DROP_REPLAYED);
	assert_int_equal(rx(r, UINT64_MAX - 5), ESPGW_OK);
	free(r);
}

/* Two threads offer the same numbers, base + 1 to base + N, each in its
 * own order within runs of 16, to one shared window at once, across
 * 2^32. They keep within a few runs of each other (a progress word
 * each), so they do collide: both pass the check for one number and
 * race to update it; every fourth number skips the check. Runs and the
 * slack are well inside the window: whoever passes a number first has
 * offered every number a window behind it, so every number is accepted
 * by exactly one of them, and some must have lost a race to update. */
enum { RACE_N = 1 << 21, RACE_RUN = 16, RACE_SLACK = 2 };
static const uint64_t race_base = (UINT64_C(1) << 32) - RACE_N / 2;
static struct espgw_replay *race_w;
static uint8_t race_got[RACE_N + 1];
static uint64_t race_pos[2][8]; /* runs done, a line each */
static uint64_t race_lost[2];	/* updates that found their number taken */
static volatile int race_go;

/* Thread me's turn at run: keep within RACE_SLACK runs of the other,
 * and the run's numbers in an order of its own (perm, from *x). */
static void
race_turn(unsigned int me, uint32_t run, uint32_t perm[RACE_RUN], uint32_t *x)
{
	__atomic_store_n(&race_pos[me][0], run, __ATOMIC_RELAXED);
	/* yield: the other may have no CPU of its own just now */
	while (run > RACE_SLACK + __atomic_load_n(&race_pos[!me][0],
						  __ATOMIC_RELAXED))
		sched_yield();
	for (uint32_t i = 0; i < RACE_RUN; i++)
		perm[i] = i;
	for (uint32_t i = RACE_RUN - 1; i > 0; i--) {
		uint32_t j, t;

		*x = *x * 1103515245u + 12345u;
		j = (*x >> 8) % (i + 1);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

static void *
race(void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg;
	uint32_t x = me * 2654435761u + 1;

	__atomic_fetch_add(&race_go, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&race_go, __ATOMIC_ACQUIRE) < 2)
		;
	for (uint32_t run = 0; run < RACE_N / RACE_RUN; run++) {
		uint32_t perm[RACE_RUN];

		race_turn(me, run, perm, &x);
		for (uint32_t i = 0; i < RACE_RUN; i++) {
			uint32_t k = run * RACE_RUN + perm[i] + 1;
			uint64_t s = race_base + k;
			int rc = ESPGW_OK;

			if (k % 4 != 0 &&
			    espgw_replay_check(race_w, s) != ESPGW_OK)
				continue;
			rc = espgw_replay_update(race_w, s);
			if (rc == ESPGW_OK)
				__atomic_fetch_add(&race_got[k], 1,
						   __ATOMIC_RELAXED);
			else
				race_lost[me]++;
		}
	}
	/* done: never hold the other back */
	__atomic_store_n(&race_pos[me][0], UINT64_MAX / 2, __ATOMIC_RELAXED);
	return NULL;
}

static void
test_two_threads(void **state)
{
	static const uint32_t wins[] = { 64, 1024, 64, 1024 };
	uint64_t lost = 0;
	pthread_t t[2];

	(void)state;
	/* a machine that never runs them at once gets more rounds */
	for (unsigned int r = 0; r < 4 || (lost == 0 && r < 32); r++) {
		unsigned int w = r % RTE_DIM(wins);

		race_w = window(wins[w], race_base, true, 0);
		memset(race_got, 0, sizeof(race_got));
		memset(race_pos, 0, sizeof(race_pos));
		race_go = 0;
		for (uintptr_t i = 0; i < 2; i++)
			assert_int_equal(
				pthread_create(&t[i], NULL, race, (void *)i),
				0);
		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_join(t[i], NULL), 0);
		for (uint32_t k = 1; k <= RACE_N; k++)
			if (race_got[k] != 1)
				fail_msg("window %u: %lu accepted %u times",
					 wins[w], race_base + k, race_got[k]);
		assert_int_equal(race_w->top, race_base + RACE_N);
		lost += race_lost[0] + race_lost[1];
		race_lost[0] = race_lost[1] = 0;
		free(race_w);
	}
	/* they did race: some updates found their number taken */
	assert_true(lost > 0);
}

/* The i-th number a layout test probes: the 500 below 2^32 first, then
 * anywhere (x: the generator's state). */
static uint64_t
probe_seq(int i, uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return i < 500 ? (UINT64_C(1) << 32) - 500 + (uint64_t)i
		       : (uint64_t)*x << 31 ^ *x;
}

/* Claimed by owners: every owner count's ring has whole lines of
 * blocks a multiple of the owners, 64-byte aligned, and an owner judges
 * a 64-bit number as esp.h's espgw_esp_seq_owner() judges its low half,
 * across 2^32 too. */
static void
test_claim_layout(void **state)
{
	static const uint32_t wins[] = { 1, 64, 65, 256, 1000, 4096, 65536 };
	uint32_t x = 12345;

	(void)state;
	assert_int_equal(espgw_esp_seq_owner(0x12345678, 0), 0);
	assert_int_equal(espgw_esp_seq_owner(0x12345678, 1), 0);
	assert_int_equal(espgw_esp_seq_owner(0x12345678, 32), 0x16);
	for (uint16_t n = 2; n <= ESPGW_REPLAY_OWNERS_MAX; n *= 2) {
		for (size_t w = 0; w < RTE_DIM(wins); w++) {
			uint32_t nb = espgw_replay_nb_blocks_of(wins[w], n);
			struct espgw_replay *r = window(wins[w], 0, false, n);

			assert_true(rte_is_power_of_2(nb));
			assert_true(nb >= espgw_replay_nb_blocks(wins[w]));
			assert_int_equal(nb / 4 % n, 0);
			assert_int_equal((uintptr_t)r->blks % 64, 0);
			assert_int_equal(
				(uintptr_t)espgw_replay_owner_top(r, 0) % 64,
				0);
			for (int i = 0; i < 1000; i++) {
				struct espgw_replay_view v;
				uint64_t s;
				uint16_t o;

				s = probe_seq(i, &x);
				o = espgw_esp_seq_owner((uint32_t)s, n);
				espgw_replay_view_begin(r, o, &v);
				assert_int_not_equal(
					espgw_replay_claim_check(r, &v, s),
					ESPGW_DROP_NOT_OWNER);
				espgw_replay_view_begin(r, (o + 1) % n, &v);
				assert_int_equal(
					espgw_replay_claim_check(r, &v, s),
					ESPGW_DROP_NOT_OWNER);
			}
			free(r);
		}
	}
}

/* A weighted owner map (--spread-weights): owner w has weight[w] of
 * the runs, spread out (no owner's runs two gaps of its share apart),
 * the ring has whole lines a run, and the window takes a number only
 * from the owner the map names, across 2^32 too. Bad weights and maps
 * are refused, whole. */
static void
test_claim_map(void **state)
{
	static const struct {
		uint16_t owners;
		uint8_t weight[8];
	} ok[] = {
		{ 2, { 1, 3 } },
		{ 2, { 0, 1 } },
		{ 2, { 3, 1 } },
		{ 2, { 5, 27 } },
		{ 4, { 0, 1, 2, 5 } },
		{ 4, { 1, 1, 1, 1 } },
		{ 8, { 0, 0, 0, 0, 0, 0, 0, 1 } },
	};
	static const uint32_t wins[] = { 1, 64, 1000, 65536 };
	struct espgw_replay_map m;
	uint8_t w32[32];
	uint32_t x = 777;

	(void)state;
	for (size_t i = 0; i < RTE_DIM(ok); i++) {
		uint16_t n = ok[i].owners;
		unsigned int sum = 0, got[8] = { 0 };

		assert_int_equal(espgw_replay_map_weighted(&m, ok[i].weight, n),
				 0);
		for (uint16_t o = 0; o < n; o++)
			sum += ok[i].weight[o];
		assert_int_equal(m.runs, sum);
		for (unsigned int r = 0; r < m.runs; r++)
			got[m.owner[r]]++;
		for (uint16_t o = 0; o < n; o++) {
			unsigned int last = UINT32_MAX, gap = 0;

			assert_int_equal(got[o], ok[i].weight[o]);
			/* the widest gap between an owner's runs, round the
			 * map: at most twice its share's */
			for (unsigned int r = 0; r < 2 * m.runs; r++) {
				if (m.owner[r % m.runs] != o)
					continue;
				if (last != UINT32_MAX)
					gap = RTE_MAX(gap, r - last);
				last = r;
			}
			if (ok[i].weight[o] != 0)
				assert_true(gap <=
					    2 * m.runs / ok[i].weight[o]);
		}
		map = &m;
		for (size_t w = 0; w < RTE_DIM(wins); w++) {
			uint32_t nb = espgw_replay_nb_blocks_of(
				wins[w], espgw_replay_runs(n, &m));
			struct espgw_replay *r = window(wins[w], 0, false, n);

			assert_int_equal(nb / 4 % m.runs, 0);
			assert_int_equal((uintptr_t)r->blks % 64, 0);
			for (int k = 0; k < 1000; k++) {
				struct espgw_replay_view v;
				uint64_t s;
				uint16_t o;

				s = probe_seq(k, &x);
				o = m.owner[(s >> ESPGW_REPLAY_RUN_SHIFT) %
					    m.runs];
				assert_int_equal(owner_of(s, n), o);
				for (uint16_t q = 0; q < n; q++) {
					espgw_replay_view_begin(r, q, &v);
					if (q == o)
						assert_int_not_equal(
							espgw_replay_claim_check(
								r, &v, s),
							ESPGW_DROP_NOT_OWNER);
					else
						assert_int_equal(
							espgw_replay_claim_check(
								r, &v, s),
							ESPGW_DROP_NOT_OWNER);
				}
			}
			free(r);
		}
		map = NULL;
	}
	/* no runs, not a power of two, too many runs, too few owners or
	 * too many */
	memset(w32, 1, sizeof(w32));
	assert_int_equal(espgw_replay_map_weighted(&m, (uint8_t[]){ 0, 0 }, 2),
			 -EINVAL);
	assert_int_equal(espgw_replay_map_weighted(&m, (uint8_t[]){ 1, 2 }, 2),
			 -EINVAL);
	assert_int_equal(
		espgw_replay_map_weighted(&m, (uint8_t[]){ 32, 32 }, 2),
		-EINVAL);
	assert_int_equal(espgw_replay_map_weighted(&m, w32, 1), -EINVAL);
	assert_int_equal(espgw_replay_map_weighted(&m, w32, 32), 0);
	assert_int_equal(m.runs, 32);
	assert_int_equal(espgw_replay_map_weighted(&m, w32, 33), -EINVAL);
}

/* Claimed by owners, the edge is each owner's own top: once owner 0
 * has taken T, owner 1 still takes its own numbers more than a window
 * below T (they came in order, and owner 0 ran ahead), each once, but
 * not one more than a window below its own top. The SA's top, and the
 * view's edge that gives ESN's seq-hi, are the highest of the owners'. */
static void
test_claim_edge(void **state)
{
	const uint64_t E = UINT64_C(1) << 32;
	const uint32_t win = 64;
	/* a run of owner 0 past 2^32; the run below it is owner 1's */
	const uint64_t T = E + 4 * 256;
	struct espgw_replay *r = window(win, E - 1000, false, 2);
	struct espgw_replay_view a, b;

	(void)state;
	assert_int_equal(espgw_esp_seq_owner((uint32_t)T, 2), 0);
	assert_int_equal(espgw_esp_seq_owner((uint32_t)(T - 1), 2), 1);
	espgw_replay_view_begin(r, 0, &a);
	assert_int_equal(espgw_replay_claim_check(r, &a, T), ESPGW_OK);
	assert_int_equal(espgw_replay_claim_update(r, &a, T), ESPGW_OK);
	espgw_replay_view_end(r, &a);
	assert_int_equal(espgw_replay_highest(r), T);
	assert_int_equal(*espgw_replay_owner_top(r, 1), E - 1000);

	espgw_replay_view_begin(r, 1, &b);
	assert_int_equal(b.edge, T);
	assert_int_equal(espgw_replay_claim_check(r, &b, T - win), ESPGW_OK);
	assert_int_equal(espgw_replay_claim_update(r, &b, T - win), ESPGW_OK);
	assert_int_equal(espgw_replay_claim_update(r, &b, T - win),
			 ESPGW_DROP_REPLAYED);
	/* owner 1's, a window below its own top T - win */
	assert_int_equal(espgw_esp_seq_owner((uint32_t)(T - 600), 2), 1);
	assert_int_equal(espgw_replay_claim_check(r, &b, T - 600),
			 ESPGW_DROP_BEHIND_WINDOW);
	/* owner 0's, whatever the window says */
	assert_int_equal(espgw_replay_claim_check(r, &b, T - 300),
			 ESPGW_DROP_NOT_OWNER);
	assert_int_equal(espgw_replay_claim_check(r, &b, T + 1),
			 ESPGW_DROP_NOT_OWNER);
	/* within, the oldest too: new once, then replayed */
	assert_int_equal(espgw_replay_claim_update(r, &b, T - win + 1),
			 ESPGW_OK);
	for (uint64_t s = T - 1; s > T - win + 1; s -= 7) {
		assert_int_equal(espgw_replay_claim_check(r, &b, s), ESPGW_OK);
		assert_int_equal(espgw_replay_claim_update(r, &b, s), ESPGW_OK);
		assert_int_equal(espgw_replay_claim_update(r, &b, s),
				 ESPGW_DROP_REPLAYED);
	}
	espgw_replay_view_end(r, &b);
	assert_int_equal(*espgw_replay_owner_top(r, 1), T - 1);
	assert_int_equal(espgw_replay_highest(r), T);
	/* and owner 1 ahead moves the highest */
	espgw_replay_view_begin(r, 1, &b);
	assert_int_equal(espgw_replay_claim_update(r, &b, T + 256), ESPGW_OK);
	espgw_replay_view_end(r, &b);
	assert_int_equal(espgw_replay_highest(r), T + 256);
	free(r);
}

/* Two owner threads of one claimed window, each offered every number
 * base + 1 to base + N (across 2^32, as above) in runs of 16 in its own
 * order, a view a run as the SA path takes one: each takes only its own
 * numbers, every other is refused not-owner, and every number is taken
 * exactly once, by its owner. They keep within a few runs of each
 * other, inside the window, so no owner's number falls behind. */
static uint8_t claim_who[RACE_N + 1];
static uint64_t claim_bad[2]; /* an own number refused, or another's taken */

static void *
claim_race(void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg;
	uint32_t x = me * 2654435761u + 7;

	__atomic_fetch_add(&race_go, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&race_go, __ATOMIC_ACQUIRE) < 2)
		;
	for (uint32_t run = 0; run < RACE_N / RACE_RUN; run++) {
		struct espgw_replay_view v;
		uint32_t perm[RACE_RUN];

		race_turn(me, run, perm, &x);
		espgw_replay_view_begin(race_w, (uint16_t)me, &v);
		for (uint32_t i = 0; i < RACE_RUN; i++) {
			uint32_t k = run * RACE_RUN + perm[i] + 1;
			uint64_t s = race_base + k;
			bool mine = owner_of(s, 2) == me;
			int rc = espgw_replay_claim_check(race_w, &v, s);

			if (rc == ESPGW_OK || k % 4 == 0)
				rc = espgw_replay_claim_update(race_w, &v, s);
			if (rc == ESPGW_OK) {
				__atomic_fetch_add(&race_got[k], 1,
						   __ATOMIC_RELAXED);
				__atomic_store_n(&claim_who[k], me,
						 __ATOMIC_RELAXED);
			}
			if (mine ? rc != ESPGW_OK : rc != ESPGW_DROP_NOT_OWNER)
				claim_bad[me]++;
		}
		espgw_replay_view_end(race_w, &v);
	}
	__atomic_store_n(&race_pos[me][0], UINT64_MAX / 2, __ATOMIC_RELAXED);
	return NULL;
}

static void
test_two_owners(void **state)
{
	static const uint32_t wins[] = { 64, 1024, 64, 1024 };
	static const uint8_t weight[] = { 1, 3 };
	struct espgw_replay_map m13;
	pthread_t t[2];

	(void)state;
	assert_int_equal(espgw_replay_map_weighted(&m13, weight, 2), 0);
	for (unsigned int w = 0; w < RTE_DIM(wins); w++) {
		/* evenly, then owner 0 with one run in four */
		map = w < 2 ? NULL : &m13;
		race_w = window(wins[w], race_base, false, 2);
		memset(race_got, 0, sizeof(race_got));
		memset(race_pos, 0, sizeof(race_pos));
		claim_bad[0] = claim_bad[1] = 0;
		race_go = 0;
		for (uintptr_t i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL, claim_race,
							(void *)i),
					 0);
		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_join(t[i], NULL), 0);
		for (uint32_t k = 1; k <= RACE_N; k++) {
			uint64_t s = race_base + k;

			if (race_got[k] != 1 || claim_who[k] != owner_of(s, 2))
				fail_msg("window %u%s: %lu accepted %u times, "
					 "last by %u",
					 wins[w], map ? " weighted" : "", s,
					 race_got[k], claim_who[k]);
		}
		assert_int_equal(claim_bad[0], 0);
		assert_int_equal(claim_bad[1], 0);
		assert_int_equal(espgw_replay_highest(race_w),
				 race_base + RACE_N);
		free(race_w);
	}
	map = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_duplicates_and_zero),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_esn_infer),
		cmocka_unit_test(test_esn_across_wrap),
		cmocka_unit_test(test_top_of_space),
	};
	const struct CMUnitTest race_tests[] = {
		cmocka_unit_test(test_two_threads),
	};
	/* claimed, the window's edge is each owner's (test_claim_edge) */
	const struct CMUnitTest claimed[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_duplicates_and_zero),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_esn_infer),
		cmocka_unit_test(test_esn_across_wrap),
		cmocka_unit_test(test_top_of_space),
	};
	const struct CMUnitTest claim_tests[] = {
		cmocka_unit_test(test_claim_layout),
		cmocka_unit_test(test_claim_map),
		cmocka_unit_test(test_claim_edge),
		cmocka_unit_test(test_two_owners),
	};
	int rc;

	rc = cmocka_run_group_tests_name("replay", tests, NULL, NULL);
	shared = true;
	rc |= cmocka_run_group_tests_name("replay, shared", tests, NULL, NULL);
	/* one thread plays every owner, each number a run of its own */
	shared = false;
	owners = 4;
	rc |= cmocka_run_group_tests_name("replay, claimed by 4 owners",
					  claimed, NULL, NULL);
	/* and owned as a weighted map gives them out: owner 0 none */
	{
		static const uint8_t weight[] = { 0, 1, 2, 5 };
		static struct espgw_replay_map m;

		if (espgw_replay_map_weighted(&m, weight, 4) != 0)
			return 1;
		map = &m;
		rc |= cmocka_run_group_tests_name(
			"replay, claimed by 4 owners weighted 0:1:2:5", claimed,
			NULL, NULL);
		map = NULL;
	}
	rc |= cmocka_run_group_tests_name("replay, two threads", race_tests,
					  NULL, NULL);
	return rc | cmocka_run_group_tests_name("replay, claimed by owners",
						claim_tests, NULL, NULL);
}
