/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The policy database matches as xfrm does (RFC 4301 section 4.4.1:
 * the first policy in order whose selector matches; xfrm's order is
 * lowest priority value first, ties to the one added first), both as
 * a linear scan (few policies) and through rte_acl (many): random
 * policies and packets against a brute-force model. */

/* rte_vect_set_max_simd_bitwidth (experimental in DPDK 22.11) */
#define ALLOW_EXPERIMENTAL_API

#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_vect.h>

#include "control/spd.h"
#include "dataplane/limits.h"
#include "dataplane/spd.h"

static unsigned int seed;
/* when set, lookups also go through this policy cache, which every
 * build of check_against_model shares (as table sets after a swap) */
static struct gw_spd_cache *cache;

static uint32_t
mask(uint8_t len)
{
	return len ? ~0u << (32 - len) : 0;
}

/* xfrm's answer, the slow way: the line of the winning policy, or 0. */
static int
model(const struct espgw_cfg_policy *pols, unsigned int n,
      enum espgw_cfg_dir dir, const struct gw_acl_key *k)
{
	const struct espgw_cfg_policy *best = NULL;

	for (unsigned int i = 0; i < n; i++) {
		const struct espgw_cfg_policy *p = &pols[i];
		uint16_t sp = rte_be_to_cpu_16(k->sport);
		uint16_t dp = rte_be_to_cpu_16(k->dport);

		if (p->dir != dir ||
		    ((rte_be_to_cpu_32(k->src) ^ rte_be_to_cpu_32(p->src)) &
		     mask(p->src_len)) ||
		    ((rte_be_to_cpu_32(k->dst) ^ rte_be_to_cpu_32(p->dst)) &
		     mask(p->dst_len)) ||
		    (p->proto && p->proto != k->proto) ||
		    (p->has_sport && p->sport != sp) ||
		    (p->has_dport && p->dport != dp))
			continue;
		if (best == NULL || p->priority < best->priority)
			best = p; /* ties: the one added first */
	}
	return best ? best->line : 0;
}

/* Addresses from a small space, so selectors and packets meet often. */
static uint32_t
addr(void)
{
	return rte_cpu_to_be_32(T_IPV4(10, rand() % 4, rand() % 4, rand() % 8));
}

/* n random policies in the order of adding; line: a policy's place. */
static struct espgw_cfg_policy *
random_policies(unsigned int n)
{
	static const uint8_t protos[] = { 0, 6, 17, 1 };
	struct espgw_cfg_policy *pols = calloc(n, sizeof(*pols));

	assert_non_null(pols);
	for (unsigned int i = 0; i < n; i++) {
		struct espgw_cfg_policy *p = &pols[i];

		p->dir = (enum espgw_cfg_dir)(rand() % 3);
		p->src_len = (uint8_t)(rand() % 33);
		p->dst_len = (uint8_t)(rand() % 33);
		p->src = addr() & rte_cpu_to_be_32(mask(p->src_len));
		p->dst = addr() & rte_cpu_to_be_32(mask(p->dst_len));
		p->proto = protos[rand() % 4];
		if (p->proto == 6 || p->proto == 17) {
			p->has_sport = rand() % 3 == 0;
			p->has_dport = rand() % 3 == 0;
			p->sport = (uint16_t)(1000 + rand() % 3);
			p->dport = (uint16_t)(2000 + rand() % 3);
		}
		p->priority = (uint32_t)(rand() % 4);
		/* not in the order of adding: the database must not care */
		p->line = (int)((i * 7919u) % n) + 1;
	}
	return pols;
}

/* Lookups in spd (its three directions), plain and through the cache
 * when there is one, against the model of pols. */
static void
check_lookups(const struct gw_spd spd[3], const struct espgw_cfg_policy *pols,
	      unsigned int nb_pol)
{
	struct gw_acl_key flows[64];

	memset(flows, 0, sizeof(flows));
	for (int round = 0; round < 200; round++) {
		struct gw_acl_key keys[GW_BURST];
		const uint8_t *kp[GW_BURST];
		struct gw_policy *got[GW_BURST];

		for (int i = 0; i < GW_BURST; i++) {
			static const uint8_t protos[] = { 6, 17, 1, 50 };

			kp[i] = (const uint8_t *)&keys[i];
			/* runs: the packet before again, or the same hosts
			 * with another protocol or ports (the scan may reuse
			 * an answer only when no selector tells them apart) */
			if (i > 0 && rand() % 2) {
				keys[i] = keys[i - 1];
				if (rand() % 2)
					keys[i].proto = protos[rand() % 4];
				if (rand() % 2)
					keys[i].sport = rte_cpu_to_be_16(
						(uint16_t)(1000 + rand() % 3));
				if (rand() % 2)
					keys[i].dport = rte_cpu_to_be_16(
						(uint16_t)(2000 + rand() % 3));
				continue;
			}
			/* with a cache: flows that come back */
			if (cache != NULL && rand() % 2) {
				keys[i] = flows[rand() % RTE_DIM(flows)];
				continue;
			}
			memset(&keys[i], 0, sizeof(keys[i]));
			keys[i].proto = protos[rand() % 4];
			keys[i].src = addr();
			keys[i].dst = addr();
			keys[i].sport =
				rte_cpu_to_be_16((uint16_t)(1000 + rand() % 3));
			keys[i].dport =
				rte_cpu_to_be_16((uint16_t)(2000 + rand() % 3));
			if (rand() % 4 == 0)
				flows[rand() % RTE_DIM(flows)] = keys[i];
		}
		for (int d = 0; d < 3 * (cache ? 2 : 1); d++) {
			if (d < 3)
				gw_spd_lookup(&spd[d], kp, got, GW_BURST);
			else
				gw_spd_lookup_cached(&spd[d - 3], cache,
						     spd[d - 3].tag, kp, got,
						     GW_BURST);
			for (int i = 0; i < GW_BURST; i++) {
				int want = model(pols, nb_pol,
						 (enum espgw_cfg_dir)(d % 3),
						 &keys[i]);
				int line = got[i] ? got[i]->cfg.line : 0;

				if (line != want)
					fail_msg("%u policies, dir %d%s: got "
						 "line %d, want line %d (seed "
						 "%u)",
						 nb_pol, d % 3,
						 d >= 3 ? " (cached)" : "",
						 line, want, seed);
			}
		}
	}
}

static void
check_against_model(unsigned int nb_pol)
{
	struct espgw_cfg_policy *pols = random_policies(nb_pol);
	struct gw_spd spd[3];
	char err[256];

	for (int d = 0; d < 3; d++)
		if (gw_spd_build(&spd[d], pols, nb_pol, (enum espgw_cfg_dir)d,
				 err, sizeof(err)) != 0)
			fail_msg("build: %s (seed %u)", err, seed);
	check_lookups(spd, pols, nb_pol);
	for (int d = 0; d < 3; d++)
		gw_spd_free(&spd[d]);
	free(pols);
}

/* The live control plane's changes to pols (in the order of adding):
 * some go, some are replaced in place (seq kept), some come (last). */
static unsigned int
change_policies(struct espgw_cfg_policy **pols, unsigned int n,
		unsigned int nb_changes, uint64_t *seq, int *line)
{
	struct espgw_cfg_policy *p = *pols;
	struct espgw_cfg_policy *more = random_policies(nb_changes);

	p = realloc(p, (n + nb_changes) * sizeof(*p));
	assert_non_null(p);
	for (unsigned int c = 0; c < nb_changes; c++) {
		unsigned int i = n ? (unsigned int)rand() % n : 0;

		switch (n ? rand() % 3 : 2) {
		case 0: /* delete */
			memmove(&p[i], &p[i + 1], (n - i - 1) * sizeof(*p));
			n--;
			break;
		case 1: /* update: another priority, same place (an update
			 * that changes nothing is the same policy) */
			p[i].priority = (p[i].priority + 1 + rand() % 3) % 4;
			p[i].action = (enum espgw_cfg_action)(rand() % 2);
			p[i].line = ++*line;
			p[i].reqid = (uint32_t)*line; /* never as it was */
			break;
		default: /* add */
			p[n] = more[c];
			p[n].seq = ++*seq;
			p[n].line = ++*line;
			n++;
		}
	}
	free(more);
	*pols = p;
	return n;
}

/* A direction derived from its base (and derived again from that
 * version) after adds, deletes and updates answers as the model of the
 * changed policies, and as a direction built from them would. */
static void
test_derive(void **state)
{
	struct gw_spd_cache c;
	uint64_t hits = 0, misses = 0;

	(void)state;
	assert_int_equal(
		gw_spd_cache_init(&c, 1024, SOCKET_ID_ANY, &hits, &misses), 0);
	for (int r = 0; r < 8; r++) {
		/* enough that 40 changes leave most of each base alive */
		unsigned int n = 300 + (unsigned int)(rand() % 150);
		struct espgw_cfg_policy *pols = random_policies(n);
		struct gw_spd base[3], v1[3], v2[3];
		uint64_t seq = 0;
		int line = 100000;
		char err[256];

		/* half the rounds through a cache, as a worker looks up */
		cache = r % 2 ? &c : NULL;
		for (unsigned int i = 0; i < n; i++)
			pols[i].seq = ++seq;
		for (int d = 0; d < 3; d++)
			assert_int_equal(gw_spd_build(&base[d], pols, n,
						      (enum espgw_cfg_dir)d,
						      err, sizeof(err)),
					 0);
		n = change_policies(&pols, n, 1 + (unsigned int)(rand() % 20),
				    &seq, &line);
		for (int d = 0; d < 3; d++) {
			assert_int_equal(gw_spd_derive(&v1[d], &base[d], pols,
						       n,
						       (enum espgw_cfg_dir)d),
					 0);
			assert_ptr_equal(v1[d].pol, base[d].pol);
			assert_true(v1[d].tag != base[d].tag);
		}
		check_lookups(v1, pols, n);
		n = change_policies(&pols, n, 1 + (unsigned int)(rand() % 20),
				    &seq, &line);
		for (int d = 0; d < 3; d++) {
			unsigned int live = 0;

			assert_int_equal(gw_spd_derive(&v2[d], &v1[d], pols, n,
						       (enum espgw_cfg_dir)d),
					 0);
			for (unsigned int i = 0; i < n; i++)
				live += pols[i].dir == (enum espgw_cfg_dir)d;
			assert_int_equal(gw_spd_count(&v2[d]), live);
		}
		check_lookups(v2, pols, n);
		for (int d = 0; d < 3; d++) {
			gw_spd_release(&v2[d], &base[d]);
			gw_spd_release(&v1[d], &base[d]);
			gw_spd_free(&base[d]);
		}
		free(pols);
	}
	cache = NULL;
	gw_spd_cache_fini(&c);
	/* a few policies have no trie to derive from */
	{
		struct espgw_cfg_policy *pols = random_policies(3);
		struct gw_spd b, v;
		char err[256];

		assert_int_equal(gw_spd_build(&b, pols, 3, ESPGW_POL_OUT, err,
					      sizeof(err)),
				 0);
		assert_int_equal(gw_spd_derive(&v, &b, pols, 3, ESPGW_POL_OUT),
				 -E2BIG);
		gw_spd_free(&b);
		free(pols);
	}
}

/* Few policies: every direction scanned linearly. */
static void
test_linear(void **state)
{
	(void)state;
	for (int i = 0; i < 50; i++)
		check_against_model(1 + (unsigned int)(rand() % 12));
}

/* Many: every direction through rte_acl. */
static void
test_acl(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++)
		check_against_model(40 + (unsigned int)(rand() % 200));
}

/* The policy cache answers as the classifier does: across table sets
 * sharing one cache (never a stale answer), with the 4-bucket cache
 * evicting all the time and a roomy one hitting for returning flows. */
static void
test_cache(void **state)
{
	struct gw_spd_cache c;

	(void)state;
	for (uint32_t buckets = 4; buckets <= 4096; buckets *= 1024) {
		uint64_t hits = 0, misses = 0;

		assert_int_equal(gw_spd_cache_init(&c, buckets, SOCKET_ID_ANY,
						   &hits, &misses),
				 0);
		cache = &c;
		for (int i = 0; i < 10; i++) {
			check_against_model(40 + (unsigned int)(rand() % 200));
			/* few policies: the scan, which needs no cache */
			check_against_model(1 + (unsigned int)(rand() % 8));
		}
		printf("# %u buckets: %lu hits, %lu misses\n", buckets,
		       (unsigned long)hits, (unsigned long)misses);
		/* half the keys are new flows, which must miss; most of
		 * the returning ones hit when the cache has room */
		assert_true(misses > 0);
		if (buckets > 4)
			assert_true(hits > misses / 4);
		cache = NULL;
		gw_spd_cache_fini(&c);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_derive),
	};
	const char *s = getenv("ESPGW_SPD_SEED");
	int rc;

	(void)argc;
	seed = s ? (unsigned int)strtoul(s, NULL, 10)
		 : (unsigned int)time(NULL);
	srand(seed);
	printf("# spd seed %u (ESPGW_SPD_SEED to repeat)\n", seed);
	t_eal_init(argv[0]);
	/* as espgw does (app/main.c): rte_acl then picks its AVX-512
	 * classifier where the CPU has one, and that is what is tested */
	if (rte_vect_get_max_simd_bitwidth() < RTE_VECT_SIMD_512)
		(void)rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
	printf("# max SIMD bitwidth %u\n", rte_vect_get_max_simd_bitwidth());
	rc = cmocka_run_group_tests_name("spd", tests, NULL, NULL);
	rte_mempool_free(t_pool);
	rte_eal_cleanup();
	return rc;
}
