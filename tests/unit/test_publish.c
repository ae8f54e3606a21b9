/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Table-set publication under load (control/publish.h): reader threads
 * on their own lcores do what a worker's poll loop does (read the
 * current set at the top, use it, report quiescent at the bottom, now
 * and then go offline for a sleep) while the control thread swaps sets
 * thousands of times and frees each old one as soon as gw_publish()
 * returns it. A freed set is poisoned before free(): a reader that ever
 * sees one counts it, and under AddressSanitizer the read itself is a
 * use-after-free report. */

#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "control/publish.h"
#include "control/tables.h"

#define NB_SWAPS 5000
#define POISON 0 /* a live set's generation is never 0 */

static struct gw_publisher pub;
static bool stop;
static unsigned int started;
static uint64_t bad_sets, stale_sets, reads[RTE_MAX_LCORE];

/* A set with a recognisable body: local[i] == generation + i. */
static struct gw_tables *
make_set(uint64_t gen)
{
	struct gw_tables *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->generation = gen;
	t->nb_local = GW_MAX_ADDRS;
	for (unsigned int i = 0; i < GW_MAX_ADDRS; i++)
		t->local[i] = (uint32_t)(gen + i);
	return t;
}

static void
poison_free(struct gw_tables *t)
{
	if (t == NULL)
		return;
	t->generation = POISON;
	memset(t->local, 0xa5, sizeof(t->local));
	free(t);
}

static int
reader(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	uint64_t last = 0, n = 0;

	gw_reader_start(&pub, id);
	__atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		const struct gw_tables *t = gw_tables_current(&pub);
		uint64_t gen = t->generation;

		/* a poll loop's worth of reading */
		for (unsigned int i = 0; i < t->nb_local && i < GW_MAX_ADDRS;
		     i++)
			if (t->local[i] != (uint32_t)(gen + i) || gen == POISON)
				__atomic_fetch_add(&bad_sets, 1,
						   __ATOMIC_RELAXED);
		/* sets only ever move forward */
		if (gen < last)
			__atomic_fetch_add(&stale_sets, 1, __ATOMIC_RELAXED);
		last = gen;
		n++;
		gw_reader_quiescent(&pub, id);
		if ((n & 255) == 0) { /* as --poll-idle-us does */
			gw_reader_offline(&pub, id);
			usleep(1);
			gw_reader_online(&pub, id);
		}
	}
	gw_reader_stop(&pub, id);
	reads[id] = n;
	return 0;
}

static void
test_swap_under_readers(void **state)
{
	unsigned int lcore, nb = 0;

	(void)state;
	assert_int_equal(gw_publisher_init(&pub, RTE_MAX_LCORE), 0);
	assert_null(gw_publish(&pub, make_set(1)));
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		assert_int_equal(rte_eal_remote_launch(reader,
						       (void *)(uintptr_t)lcore,
						       lcore),
				 0);
		nb++;
	}
	assert_true(nb >= 2);
	/* every reader is online before the first swap */
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < nb)
		rte_pause();
	for (uint64_t g = 2; g <= NB_SWAPS + 1; g++)
		poison_free(gw_publish(&pub, make_set(g)));
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	poison_free(gw_publish(&pub, NULL));
	gw_publisher_fini(&pub);

	assert_int_equal(bad_sets, 0);
	assert_int_equal(stale_sets, 0);
	RTE_LCORE_FOREACH_WORKER(lcore)
	assert_true(reads[lcore] > 0);
}

int
main(int argc, char **argv)
{
	/* two readers besides the main lcore, spread over the CPUs there
	 * are (two on the project's machines) */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char lcores[64];
	char *eal[] = {
		argv[0],
		"--no-huge",
		"-m",
		"64",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"--log-level=lib.*:warning",
		"--lcores",
		lcores,
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_under_readers),
	};

	(void)argc;
	if (ncpu < 1)
		ncpu = 1;
	snprintf(lcores, sizeof(lcores), "0@%ld,1@%ld,2@%ld", 0 % ncpu,
		 1 % ncpu, 2 % ncpu);
	if (rte_eal_init(RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
