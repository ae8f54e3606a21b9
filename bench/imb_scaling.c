/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* imb_scaling [-s seconds] [-r rounds] [-a direct|job|burst|all] [LEN...]
 *
 * Does intel-ipsec-mb's AES-128-GCM scale from one thread to two? Each
 * cell of bench/imb_ceiling.c (ESP-shaped, in place, 256 buffers) runs on
 * one thread, then on two threads pinned to CPUs 0 and 1 started
 * together, each thread with its own IMB_MGR, for each API, length
 * (default 64 and 1420) and direction.
 *
 * Why: intel-ipsec-mb 1.3 stores 0 to its process-wide `imb_errno` (a
 * hidden plain global, not thread-local) at the entry of every direct GCM
 * call, and in the job and burst functions too (1.4 stores only when the
 * value changes). Two cores storing to one line take it from each other
 * on every call. Each cell is therefore run twice:
 *  - shared: both threads' managers from the one library the program
 *    links, so both store to the same `imb_errno`;
 *  - private: each thread's manager from its own copy of the library,
 *    loaded with dlmopen() into a new namespace: the same code, the same
 *    store, but to a global of its own.
 * The private/shared difference at two threads is what the global costs;
 * at one thread it must be nil (a check of the method).
 *
 * Rounds interleave every cell (1 thread, 2 threads, shared, private),
 * reversing the order every other round, and the 1-thread run alternates
 * between CPU 0 and CPU 1, so drift of a shared machine spreads over all
 * of them. Ratios are taken within a round, then summarised over rounds
 * as median [min, max]. Run it at a higher priority than anything else
 * on the CPUs; where the kernel groups by session (autogroup), nice
 * alone ranks it only within its session:
 *   setsid sh -c 'echo -15 > /proc/self/autogroup;
 *                 exec nice -n -15 build/bench/imb_scaling -s 0.5 -r 9'
 * The "cpu" column says what share of its CPU each thread had. */

/* _GNU_SOURCE (dlmopen, CPU_SET) comes from the build */

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <intel-ipsec-mb.h>

#include "imb_ceiling.h"

#define MAX_ROUNDS 64
#define NB_THR 2 /* libs_open() checks two private copies */

enum mode { SHARED, PRIVATE, NB_MODES };

static const char *const mode_name[NB_MODES] = { "shared", "private" };

/* The three calls a thread needs to get a manager of a library copy;
 * everything else goes through the manager's function pointers. */
struct imb_lib {
	IMB_MGR *(*alloc)(uint64_t flags);
	void (*init)(IMB_MGR *mgr, IMB_ARCH *arch);
	void (*free)(IMB_MGR *mgr);
	const void *base; /* where this copy is mapped */
};

/* Start line for the threads of one run: the timed loops begin together
 * or, if any thread's set-up failed, nobody waits for it. */
struct start {
	atomic_int arrived;
	atomic_int failed;
	int nb;
};

/* A line of its own at least: the timed loop reads cell while the other
 * thread writes its results. */
struct thr {
	_Alignas(64) pthread_t tid;
	int cpu;
	const struct imb_lib *lib;
	struct imb_ceiling_cell cell;
	struct start *start;
	double ops;
	double cpu0, wall0; /* thread CPU time and wall time at the start */
	double share;	    /* of its CPU while timed: others' load shows */
};

static struct imb_lib libs[NB_MODES][NB_THR];

static const void *
lib_base(const void *fn)
{
	Dl_info info;

	return dladdr(fn, &info) != 0 ? info.dli_fbase : NULL;
}

static int
lib_open_private(struct imb_lib *lib)
{
	void *h = dlmopen(LM_ID_NEWLM, "libIPSec_MB.so.1", RTLD_NOW);

	if (h == NULL) {
		fprintf(stderr, "imb_scaling: dlmopen: %s\n", dlerror());
		return -1;
	}
	lib->alloc = (IMB_MGR * (*)(uint64_t)) dlsym(h, "alloc_mb_mgr");
	lib->init =
		(void (*)(IMB_MGR *, IMB_ARCH *))dlsym(h, "init_mb_mgr_auto");
	lib->free = (void (*)(IMB_MGR *))dlsym(h, "free_mb_mgr");
	if (lib->alloc == NULL || lib->init == NULL || lib->free == NULL) {
		fprintf(stderr, "imb_scaling: dlsym: %s\n", dlerror());
		return -1;
	}
	lib->base = lib_base((const void *)lib->alloc);
	return 0;
}

static int
libs_open(void)
{
	for (int t = 0; t < NB_THR; t++) {
		libs[SHARED][t] = (struct imb_lib){
			.alloc = alloc_mb_mgr,
			.init = init_mb_mgr_auto,
			.free = free_mb_mgr,
			.base = lib_base((const void *)alloc_mb_mgr),
		};
		if (lib_open_private(&libs[PRIVATE][t]) < 0)
			return -1;
	}
	/* Without distinct copies "private" would measure "shared" again. */
	if (libs[PRIVATE][0].base == libs[SHARED][0].base ||
	    libs[PRIVATE][1].base == libs[SHARED][0].base ||
	    libs[PRIVATE][0].base == libs[PRIVATE][1].base) {
		fprintf(stderr, "imb_scaling: dlmopen gave no private copy\n");
		return -1;
	}
	return 0;
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
start_ready(void *arg, int ok)
{
	struct thr *t = arg;
	struct start *s = t->start;

	if (!ok)
		atomic_store(&s->failed, 1);
	atomic_fetch_add(&s->arrived, 1);
	while (atomic_load(&s->arrived) < s->nb && !atomic_load(&s->failed))
		;
	t->cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	t->wall0 = clock_s(CLOCK_MONOTONIC);
}

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	cpu_set_t set;
	IMB_ARCH arch = IMB_ARCH_NONE;

	t->ops = IMB_CEIL_ERR_SETUP;
	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
		fprintf(stderr, "imb_scaling: cannot pin to CPU %d\n", t->cpu);
		t->cell.ready(t->cell.arg, 0);
		return NULL;
	}
	/* Allocated here, by the thread that uses it: its own pages. */
	t->cell.mgr = t->lib->alloc(0);
	if (t->cell.mgr == NULL) {
		t->cell.ready(t->cell.arg, 0);
		return NULL;
	}
	t->lib->init(t->cell.mgr, &arch);
	if (arch == IMB_ARCH_NONE || t->cell.mgr->imb_errno != 0) {
		fprintf(stderr, "imb_scaling: init_mb_mgr_auto failed\n");
		t->cell.ready(t->cell.arg, 0);
	} else {
		t->ops = imb_ceiling_run(&t->cell, NULL);
		t->share = (clock_s(CLOCK_THREAD_CPUTIME_ID) - t->cpu0) /
			   (clock_s(CLOCK_MONOTONIC) - t->wall0);
	}
	t->lib->free(t->cell.mgr);
	return NULL;
}

/* One run: nb threads on CPUs cpus[], all in `mode`. Fills per-thread
 * ops/s and CPU share; returns 0 or -1. */
static int
run(enum mode mode, int nb, const int *cpus, enum imb_ceiling_api api, int enc,
    uint32_t len, double secs, double *ops, double *share)
{
	struct start s = { .nb = nb };
	struct thr thr[NB_THR];
	int rc = 0;

	for (int i = 0; i < nb; i++) {
		thr[i] = (struct thr){
			.cpu = cpus[i],
			.lib = &libs[mode][i],
			.cell = { .api = api,
				  .enc = enc,
				  .len = len,
				  .seconds = secs,
				  .ready = start_ready,
				  .arg = &thr[i] },
			.start = &s,
		};
		if (pthread_create(&thr[i].tid, NULL, thr_main, &thr[i]) != 0) {
			fprintf(stderr, "imb_scaling: pthread_create\n");
			/* let the started ones through the start line */
			atomic_store(&s.failed, 1);
			nb = i;
			rc = -1;
			break;
		}
	}
	for (int i = 0; i < nb; i++) {
		pthread_join(thr[i].tid, NULL);
		ops[i] = thr[i].ops;
		share[i] = thr[i].share;
		if (ops[i] < 0.0)
			rc = -1;
	}
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "median [min, max]" of n values, scaled, `prec` decimals */
static void
print_stat(const double *v, unsigned int n, double scale, int prec)
{
	double s[MAX_ROUNDS];
	char buf[3][32];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	snprintf(buf[0], sizeof(buf[0]), "%.*f", prec,
		 (n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) * scale);
	snprintf(buf[1], sizeof(buf[1]), "%.*f", prec, s[0] * scale);
	snprintf(buf[2], sizeof(buf[2]), "%.*f", prec, s[n - 1] * scale);
	printf(" %6s [%s, %s]", buf[0], buf[1], buf[2]);
}

/* With autogroup scheduling, nice only ranks threads within a session:
 * against other sessions what counts is the session's autogroup nice. */
static const char *
autogroup(void)
{
	static char line[64] = "no autogroup\n";
	FILE *f = fopen("/proc/self/autogroup", "r");

	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			snprintf(line, sizeof(line), "autogroup unknown\n");
		fclose(f);
	}
	return line;
}

/* A cell: one API, length and direction, both modes. */
struct cell {
	enum imb_ceiling_api api;
	uint32_t len;
	int enc;
	/* per round: 1-thread ops/s, 2-thread mean per-thread ops/s */
	double one[NB_MODES][MAX_ROUNDS];
	double two[NB_MODES][MAX_ROUNDS];
	/* lowest CPU share of any thread over rounds: 1, 2 threads */
	double share[NB_MODES][2];
};

static void
report(const struct cell *c, unsigned int rounds)
{
	double v[MAX_ROUNDS];

	for (int m = 0; m < NB_MODES; m++) {
		printf("%-6s %4u %-3s %-7s", imb_ceiling_api_name(c->api),
		       c->len, c->enc ? "enc" : "dec", mode_name[m]);
		print_stat(c->one[m], rounds, 1e-6, 2);
		print_stat(c->two[m], rounds, 1e-6, 2);
		for (unsigned int k = 0; k < rounds; k++)
			v[k] = c->two[m][k] / c->one[m][k];
		print_stat(v, rounds, 1.0, 3);
		printf("  %.2f %.2f\n", c->share[m][0], c->share[m][1]);
	}
	/* what the shared global costs, paired within each round */
	printf("%-6s %4u %-3s %-7s", imb_ceiling_api_name(c->api), c->len,
	       c->enc ? "enc" : "dec", "sh/pr");
	for (unsigned int k = 0; k < rounds; k++)
		v[k] = c->one[SHARED][k] / c->one[PRIVATE][k];
	print_stat(v, rounds, 1.0, 3);
	for (unsigned int k = 0; k < rounds; k++)
		v[k] = c->two[SHARED][k] / c->two[PRIVATE][k];
	print_stat(v, rounds, 1.0, 3);
	printf("\n");
}

int
main(int argc, char **argv)
{
	static const uint32_t default_lens[] = { 64, 1420 };
	static const int cpus[NB_THR] = { 0, 1 };
	struct imb_ceiling_args args = {
		.secs = 0.5,
		.reps = 5,
		.max_reps = MAX_ROUNDS,
		.apis = { IMB_CEIL_DIRECT, IMB_CEIL_JOB, IMB_CEIL_BURST },
		.nb_apis = 3
	};
	struct cell *cells;
	unsigned int nb_cells;
	int rc;

	rc = imb_ceiling_args_parse(
		argc, argv, &args,
		"[-s seconds] [-r rounds] [-a direct|job|burst|all] [LEN...]");
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (args.nb_lens == 0) {
		memcpy(args.lens, default_lens, sizeof(default_lens));
		args.nb_lens = (unsigned int)(sizeof(default_lens) /
					      sizeof(default_lens[0]));
	}
	const uint32_t *lens = args.lens;
	const enum imb_ceiling_api *apis = args.apis;
	const unsigned int nb_lens = args.nb_lens, nb_apis = args.nb_apis,
			   rounds = args.reps;
	const double secs = args.secs;

	if (libs_open() < 0)
		return 1;

	nb_cells = nb_lens * nb_apis * 2;
	cells = calloc(nb_cells, sizeof(*cells));
	if (cells == NULL)
		return 1;
	for (unsigned int l = 0, i = 0; l < nb_lens; l++)
		for (unsigned int a = 0; a < nb_apis; a++)
			for (int e = 1; e >= 0; e--, i++) {
				cells[i].api = apis[a];
				cells[i].len = lens[l];
				cells[i].enc = e;
			}

	printf("intel-ipsec-mb %s; library copies: shared %p, private %p "
	       "%p\n",
	       imb_get_version_str(), libs[SHARED][0].base,
	       libs[PRIVATE][0].base, libs[PRIVATE][1].base);
	printf("%u rounds, %g s a run, CPUs %d and %d, nice %d, %s", rounds,
	       secs, cpus[0], cpus[1], nice(0), autogroup());
	fflush(stdout);

	for (unsigned int k = 0; k < rounds; k++) {
		/* odd rounds run the cells, and each cell's four runs, in
		 * reverse: A B B A, so a trend weighs on every run alike */
		int rev = k % 2;
		int one_cpu = cpus[k % 2];

		for (unsigned int n = 0; n < nb_cells; n++) {
			struct cell *ce = &cells[rev ? nb_cells - 1 - n : n];

			for (int j = 0; j < 4; j++) {
				int q = rev ? 3 - j : j;
				enum mode m = (enum mode)(q / 2);
				int two = q % 2;
				double ops[NB_THR], sh[NB_THR] = { 1.0, 1.0 };
				double *lo = &ce->share[m][two];

				if (run(m, two ? 2 : 1, two ? cpus : &one_cpu,
					ce->api, ce->enc, ce->len, secs, ops,
					sh) < 0) {
					fprintf(stderr,
						"imb_scaling: %s %u %s "
						"failed\n",
						imb_ceiling_api_name(ce->api),
						ce->len,
						ce->enc ? "enc" : "dec");
					return 1;
				}
				if (two)
					ce->two[m][k] = (ops[0] + ops[1]) / 2;
				else
					ce->one[m][k] = ops[0];
				for (int i = 0; i < (two ? 2 : 1); i++)
					if (k == 0 || sh[i] < *lo)
						*lo = sh[i];
			}
		}
		fprintf(stderr, "round %u of %u done\n", k + 1, rounds);
	}

	printf("\nMops/s per thread and 2-thread/1-thread ratio, median [min, "
	       "max] over rounds;\nsh/pr: shared over private within a round "
	       "(1 thread, 2 threads);\ncpu: lowest share of its CPU any "
	       "thread had while timed (1 thread, 2 threads)\n");
	printf("%-6s %4s %-3s %-7s %-22s %-22s %-22s %s\n", "api", "len", "dir",
	       "mode", " 1 thread", " 2 threads", " ratio", " cpu");
	for (unsigned int i = 0; i < nb_cells; i++)
		report(&cells[i], rounds);
	free(cells);
	return 0;
}
