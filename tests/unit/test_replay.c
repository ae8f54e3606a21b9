/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Anti-replay window (RFC 4303 section 3.4.3, RFC 6479) and ESN seq-hi
 * inference (RFC 4303 appendix A), checked against a plain model, on a
 * window of one worker and of several (each test runs on both); and two
 * threads offering the same numbers to one window at once, each number
 * accepted exactly once between them. */

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

/* the mode of the windows mk() makes: compare-and-swap or not */
static bool shared;

/* A window as an SA makes it: everything up to top received. */
static struct espgw_replay *
window(uint32_t win, uint64_t top, bool sh)
{
	struct espgw_replay *r = aligned_alloc(64, espgw_replay_size(win));

	assert_non_null(r);
	memset(r, 0, espgw_replay_size(win));
	espgw_replay_init(r, win, top, sh);
	return r;
}

static struct espgw_replay *
mk(uint32_t win, uint64_t top)
{
	/* top alone: the numbers below it are not marked received */
	struct espgw_replay *r = window(win, 0, shared);

	r->top = top;
	return r;
}

/* What an authentic packet with this seq meets: check, then update. */
static int
rx(struct espgw_replay *r, uint64_t seq)
{
	int rc = espgw_replay_check(r, seq);

	return rc != ESPGW_OK ? rc : espgw_replay_update(r, seq);
}

static void
test_in_order(void **state)
{
	struct espgw_replay *r = mk(64, 0);

	(void)state;
	for (uint64_t s = 1; s <= 5000; s++)
		assert_int_equal(rx(r, s), ESPGW_OK);
	assert_int_equal(r->top, 5000);
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

/* Random traffic against a model that remembers every number seen. */
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
		uint64_t top = 0;

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
			if (s == 0 || s + win <= top)
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
	r->top = 5 * E + 1000;
	assert_int_equal(espgw_replay_infer(r, 1000 - 63), 5 * E + 937);
	assert_int_equal(espgw_replay_infer(r, 2000), 5 * E + 2000);
	/* below the window: it must be the next epoch */
	assert_int_equal(espgw_replay_infer(r, 900), 6 * E + 900);

	/* top just past the wrap: the window reaches into the last epoch */
	r->top = 6 * E + 5;
	assert_int_equal(espgw_replay_infer(r, UINT32_MAX), 5 * E + UINT32_MAX);
	assert_int_equal(espgw_replay_infer(r, UINT32_MAX - 57),
			 5 * E + UINT32_MAX - 57);
	assert_int_equal(espgw_replay_infer(r, 3), 6 * E + 3);
	assert_int_equal(espgw_replay_infer(r, 100), 6 * E + 100);

	/* top just before the wrap: small numbers are the next epoch */
	r->top = 5 * E + UINT32_MAX - 2;
	assert_int_equal(espgw_replay_infer(r, 1), 6 * E + 1);
	assert_int_equal(espgw_replay_infer(r, UINT32_MAX), 5 * E + UINT32_MAX);

	/* epoch 0 has nothing before it */
	r->top = 5;
	assert_int_equal(espgw_replay_infer(r, UINT32_MAX), 0);
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
		uint64_t got = espgw_replay_infer(r, (uint32_t)s);

		assert_int_equal(got, s);
		assert_int_equal(rx(r, got), ESPGW_OK);
	}
	/* stragglers from before the wrap, inside and outside the window */
	assert_int_equal(espgw_replay_infer(r, (uint32_t)(E - 2)), E - 2);
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

		__atomic_store_n(&race_pos[me][0], run, __ATOMIC_RELAXED);
		/* yield: the other may have no CPU of its own just now */
		while (run > RACE_SLACK + __atomic_load_n(&race_pos[!me][0],
							  __ATOMIC_RELAXED))
			sched_yield();
		for (uint32_t i = 0; i < RACE_RUN; i++)
			perm[i] = i;
		for (uint32_t i = RACE_RUN - 1; i > 0; i--) {
			uint32_t j, t;

			x = x * 1103515245u + 12345u;
			j = (x >> 8) % (i + 1);
			t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
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

		race_w = window(wins[w], race_base, true);
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
	int rc;

	rc = cmocka_run_group_tests_name("replay", tests, NULL, NULL);
	shared = true;
	rc |= cmocka_run_group_tests_name("replay, shared", tests, NULL, NULL);
	return rc | cmocka_run_group_tests_name("replay, two threads",
						race_tests, NULL, NULL);
}
