/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* replay_scaling [-s seconds] [-r rounds]
 *
 * What one inbound SA's replay window (lib/replay.h) costs when several
 * workers share it (issue 15, target 4): updates per second on
 *  - one thread, a window of one worker (plain writes);
 *  - one thread, a window made for several (compare-and-swap,
 *    uncontended);
 *  - two threads pinned to CPUs 0 and 1 on one shared window, taking
 *    the numbers in turns of RUN (a burst each, as a spreading step
 *    would hand them out) or of 1 (every number from the other core:
 *    the worst case), or of 256 (a thread's numbers in cache lines
 *    of their own: 4 blocks of 16 bytes a line; only the top shared);
 *  - two threads on two windows (no sharing: the ceiling).
 * Only the window is measured: no packets, no cipher. Rounds interleave
 * the cells, reversing the order every other round; median [min, max]
 * of each cell's Mupdates/s over rounds. Every number must be accepted
 * exactly once (checked), or the run fails.
 *
 * Run it above other load; with autogroup scheduling:
 *   setsid sh -c 'echo -15 > /proc/self/autogroup;
 *                 exec nice -n -15 build/bench/replay_scaling' */

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_pause.h>

#include "replay.h"

#define WIN 4096
#define RUN 32
/* two threads on one window stay within SLACK numbers of each other
 * (checked every 128), well inside the window: a thread the machine
 * stalls must not see the other's numbers as behind the window */
#define SLACK 1024
#define MAX_ROUNDS 64

struct cell {
	const char *name;
	int threads;   /* 1 or 2 */
	bool shared;   /* the window's compare-and-swap mode */
	bool one_win;  /* two threads on one window, else a window each */
	uint32_t turn; /* numbers a thread takes in a row */
	double mups[MAX_ROUNDS];
};

static struct cell cells[] = {
	{ "1 thread, plain window", 1, false, true, RUN, { 0 } },
	{ "1 thread, shared window (CAS)", 1, true, true, RUN, { 0 } },
	{ "2 threads, one window, turns of 32", 2, true, true, RUN, { 0 } },
	{ "2 threads, one window, turns of 1", 2, true, true, 1, { 0 } },
	{ "2 threads, one window, turns of 256", 2, true, true, 256, { 0 } },
	{ "2 threads, a shared window each", 2, true, false, RUN, { 0 } },
};

struct thr {
	uint64_t pos; /* where it is, for the other thread; its own line */
	struct thr *peer;
	pthread_t id;
	struct espgw_replay *w;
	uint64_t base, n; /* numbers base + 1 ... base + n, by turns */
	uint32_t turn, me, of;
	uint64_t accepted;
	double secs;
	int cpu;
} __attribute__((aligned(64)));

static volatile int go;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct espgw_replay *
window(bool shared)
{
	struct espgw_replay *r = aligned_alloc(64, espgw_replay_size(WIN));

	if (r == NULL) {
		perror("replay_scaling");
		exit(1);
	}
	memset(r, 0, espgw_replay_size(WIN));
	espgw_replay_init(r, WIN, 0, shared);
	return r;
}

/* Thread me of `of` takes turns [k * of + me] of `turn` numbers each. */
static void *
worker(void *arg)
{
	struct thr *t = arg;
	cpu_set_t set;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	__atomic_fetch_add(&go, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) < (int)t->of)
		;
	t0 = now();
	for (uint64_t k = t->me; k * t->turn < t->n; k += t->of) {
		uint64_t at = k * t->turn;

		/* every 128 numbers of its own */
		if (t->peer != NULL && (k / t->of * t->turn) % 128 < t->turn) {
			__atomic_store_n(&t->pos, at, __ATOMIC_RELAXED);
			while (at > SLACK + __atomic_load_n(&t->peer->pos,
							    __ATOMIC_RELAXED))
				rte_pause(); /* pinned, as workers are */
		}
		for (uint32_t i = 0; i < t->turn; i++) {
			uint64_t s = t->base + k * t->turn + i + 1;

			if (espgw_replay_check(t->w, s) == ESPGW_OK &&
			    espgw_replay_update(t->w, s) == ESPGW_OK)
				t->accepted++;
		}
	}
	t->secs = now() - t0;
	__atomic_store_n(&t->pos, UINT64_MAX / 2, __ATOMIC_RELAXED);
	return NULL;
}

/* Mupdates/s of a cell: numbers accepted over the slowest thread's time. */
static double
run_cell(const struct cell *c, uint64_t n)
{
	static struct thr t[2];
	struct espgw_replay *w[2];
	uint64_t total = 0;
	double secs = 0;

	w[0] = window(c->shared);
	w[1] = c->one_win ? w[0] : window(c->shared);
	go = 0;
	for (int i = 0; i < c->threads; i++) {
		t[i] = (struct thr){ .w = w[i],
				     .n = n,
				     .turn = c->turn,
				     .me = c->one_win ? (uint32_t)i : 0,
				     .of = c->one_win ? (uint32_t)c->threads
						      : 1,
				     .cpu = i };
		if (c->one_win && c->threads == 2)
			t[i].peer = &t[!i];
		if (pthread_create(&t[i].id, NULL, worker, &t[i]) != 0) {
			perror("pthread_create");
			exit(1);
		}
	}
	for (int i = 0; i < c->threads; i++) {
		pthread_join(t[i].id, NULL);
		total += t[i].accepted;
		if (t[i].secs > secs)
			secs = t[i].secs;
	}
	/* each number once: n on one window, n on each of two */
	if (total != (c->one_win ? n : 2 * n)) {
		fprintf(stderr, "replay_scaling: %s accepted %lu of %lu\n",
			c->name, total, c->one_win ? n : 2 * n);
		exit(1);
	}
	free(w[0]);
	if (!c->one_win)
		free(w[1]);
	return total / secs / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	double secs = 0.3;
	int rounds = 9, opt;
	uint64_t n;
	const int nc = (int)(sizeof(cells) / sizeof(cells[0]));

	while ((opt = getopt(argc, argv, "s:r:")) != -1) {
		if (opt == 's')
			secs = atof(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-s seconds] [-r rounds]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || secs <= 0) {
		fprintf(stderr, "replay_scaling: 1-%d rounds, seconds > 0\n",
			MAX_ROUNDS);
		return 2;
	}
	/* numbers for about secs on one thread, plain: calibrate once */
	n = 1 << 20;
	{
		double r = run_cell(&cells[0], n);

		n = (uint64_t)(r * 1e6 * secs) / 512 * 512;
		if (n < RUN * 64)
			n = RUN * 64;
	}
	for (int k = 0; k < rounds; k++)
		for (int j = 0; j < nc; j++) {
			int i = k % 2 ? nc - 1 - j : j;

			cells[i].mups[k] = run_cell(&cells[i], n);
		}
	printf("replay_scaling: window %d, %lu numbers a cell, %d rounds, "
	       "CPUs 0 and 1, nice %d\n\n",
	       WIN, n, rounds, nice(0));
	printf("| cell | Mupdates/s, median [min, max] | ns an update | "
	       "/ 1 thread plain |\n|---|---:|---:|---:|\n");
	for (int i = 0; i < nc; i++) {
		double m[MAX_ROUNDS], base[MAX_ROUNDS];

		memcpy(m, cells[i].mups, rounds * sizeof(double));
		memcpy(base, cells[0].mups, rounds * sizeof(double));
		qsort(m, rounds, sizeof(double), cmp);
		qsort(base, rounds, sizeof(double), cmp);
		printf("| %s | %.1f [%.1f, %.1f] | %.1f | %.2f |\n",
		       cells[i].name, m[rounds / 2], m[0], m[rounds - 1],
		       1e3 * (cells[i].one_win ? 1 : 2) / m[rounds / 2],
		       m[rounds / 2] / base[rounds / 2]);
	}
	printf("\nMupdates/s: numbers accepted, all threads together, over "
	       "the slowest thread's time. ns an update: a window's time per "
	       "number (a window each: per thread).\n");
	return 0;
}
