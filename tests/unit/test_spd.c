/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The policy database matches as xfrm does (RFC 4301 section 4.4.1:
 * the first policy in order whose selector matches; xfrm's order is
 * lowest priority value first, ties to the one added first), both as
 * a linear scan (few policies) and through rte_acl (many), for IPv4
 * and IPv6 selectors alone and side by side in one direction: random
 * policies and packets against a brute-force model, and the IPv6 key
 * as xfrm takes it from a packet's extension headers. */

#include "common.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ip.h>
#include <rte_vect.h>

#include "control/spd.h"
#include "dataplane/limits.h"
#include "dataplane/spd.h"

static unsigned int seed;
/* when set, lookups also go through this policy cache, which every
 * build of check_against_model shares (as table sets after a swap) */
static struct gw_spd_cache *cache;
static struct gw_spd_cache6 *cache6;
/* the share of IPv6 policies random_policies makes, in percent */
static int v6_pct;

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

		if (p->dir != dir || p->family == AF_INET6 ||
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

/* IPv6 ones likewise, 2001:db8::/31 with a few bits in play in each of
 * the four 32-bit words rte_acl reads, so every prefix length counts. */
static void
addr6(uint8_t a[16])
{
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	memcpy(a, base, 16);
	a[3] |= (uint8_t)(rand() % 2);
	a[7] = (uint8_t)(rand() % 4);
	a[11] = (uint8_t)(rand() % 2 << 7 | rand() % 2);
	a[15] = (uint8_t)(rand() % 8);
}

static void
mask6(uint8_t a[16], uint8_t len)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int b = len > 8 * i ? RTE_MIN(len - 8 * i, 8u) : 0;

		a[i] &= (uint8_t)(0xff00 >> b);
	}
}

/* Is a in prefix p/len? */
static bool
in6(const uint8_t a[16], const uint8_t p[16], uint8_t len)
{
	uint8_t x[16];

	memcpy(x, a, 16);
	mask6(x, len);
	return memcmp(x, p, 16) == 0;
}

/* xfrm's answer for an IPv6 key, as model() for IPv4. */
static int
model6(const struct espgw_cfg_policy *pols, unsigned int n,
       enum espgw_cfg_dir dir, const struct gw_acl_key6 *k)
{
	const struct espgw_cfg_policy *best = NULL;

	for (unsigned int i = 0; i < n; i++) {
		const struct espgw_cfg_policy *p = &pols[i];
		uint16_t sp = rte_be_to_cpu_16(k->sport);
		uint16_t dp = rte_be_to_cpu_16(k->dport);

		if (p->dir != dir || p->family != AF_INET6 ||
		    !in6(k->src, p->src6, p->src_len) ||
		    !in6(k->dst, p->dst6, p->dst_len) ||
		    (p->proto && p->proto != k->proto) ||
		    (p->has_sport && p->sport != sp) ||
		    (p->has_dport && p->dport != dp))
			continue;
		if (best == NULL || p->priority < best->priority)
			best = p;
	}
	return best ? best->line : 0;
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
		if (rand() % 100 < v6_pct) {
			p->family = AF_INET6;
			p->src_len = (uint8_t)(rand() % 129);
			p->dst_len = (uint8_t)(rand() % 129);
			addr6(p->src6);
			addr6(p->dst6);
			mask6(p->src6, p->src_len);
			mask6(p->dst6, p->dst_len);
		} else {
			p->src_len = (uint8_t)(rand() % 33);
			p->dst_len = (uint8_t)(rand() % 33);
			p->src = addr() & rte_cpu_to_be_32(mask(p->src_len));
			p->dst = addr() & rte_cpu_to_be_32(mask(p->dst_len));
		}
		p->proto = protos[rand() % 4];
		if (p->family == AF_INET6 && p->proto == IPPROTO_ICMP)
			p->proto = IPPROTO_ICMPV6;
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

/* The fwd check's two answers at once, through the pair entries of
 * the keys' family (cache's for AF_INET, struct gw_acl_key keys;
 * cache6's for AF_INET6, struct gw_acl_key6 ones), as the code under
 * test has one pair_lookup() for both: each as the model says, after a
 * lookup through the plain entries too (they must not mix up) and
 * again for a hit. */
static void
check_pair(int family, const struct gw_spd spd[3],
	   const struct espgw_cfg_policy *pols, unsigned int nb_pol,
	   const uint8_t **kp, const void *keys)
{
	const bool v6 = family == AF_INET6;
	const size_t ksz =
		v6 ? sizeof(struct gw_acl_key6) : sizeof(struct gw_acl_key);
	struct gw_policy *f[GW_BURST], *o[GW_BURST];

	for (int again = 0; again < 2; again++) {
		if (v6)
			gw_spd_lookup_pair6(&spd[GW_FWD], &spd[GW_OUT], cache6,
					    kp, f, o, GW_BURST);
		else
			gw_spd_lookup_pair(&spd[GW_FWD], &spd[GW_OUT], cache,
					   kp, f, o, GW_BURST);
		for (int i = 0; i < GW_BURST; i++) {
			const void *k = (const uint8_t *)keys + i * ksz;
			int wf = v6 ? model6(pols, nb_pol, ESPGW_POL_FWD, k)
				    : model(pols, nb_pol, ESPGW_POL_FWD, k);
			int wo = v6 ? model6(pols, nb_pol, ESPGW_POL_OUT, k)
				    : model(pols, nb_pol, ESPGW_POL_OUT, k);
			int lf = f[i] ? f[i]->cfg.line : 0;
			int lo = o[i] ? o[i]->cfg.line : 0;

			if (lf != wf || lo != wo)
				fail_msg("%u policies, %spair%s: got fwd line "
					 "%d out %d, want %d and %d (seed %u)",
					 nb_pol, v6 ? "IPv6 " : "",
					 again ? " again" : "", lf, lo, wf, wo,
					 seed);
		}
	}
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

				if (got[i] != NULL &&
				    got[i]->cfg.family == AF_INET6)
					fail_msg("IPv4 key, IPv6 policy (line "
						 "%d, seed %u)",
						 line, seed);
				if (line != want)
					fail_msg("%u policies, dir %d%s: got "
						 "line %d, want line %d (seed "
						 "%u)",
						 nb_pol, d % 3,
						 d >= 3 ? " (cached)" : "",
						 line, want, seed);
			}
		}
		if (cache != NULL)
			check_pair(AF_INET, spd, pols, nb_pol, kp, keys);
	}
}

/* The same with IPv6 keys, through cache6 when there is one. */
static void
check_lookups6(const struct gw_spd spd[3], const struct espgw_cfg_policy *pols,
	       unsigned int nb_pol)
{
	struct gw_acl_key6 flows[64];

	memset(flows, 0, sizeof(flows));
	for (int round = 0; round < 200; round++) {
		struct gw_acl_key6 keys[GW_BURST];
		const uint8_t *kp[GW_BURST];
		struct gw_policy *got[GW_BURST];

		for (int i = 0; i < GW_BURST; i++) {
			static const uint8_t protos[] = { 6, 17, 58, 50 };

			kp[i] = (const uint8_t *)&keys[i];
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
			if (cache6 != NULL && rand() % 2) {
				keys[i] = flows[rand() % RTE_DIM(flows)];
				continue;
			}
			memset(&keys[i], 0, sizeof(keys[i]));
			keys[i].proto = protos[rand() % 4];
			addr6(keys[i].src);
			addr6(keys[i].dst);
			keys[i].sport =
				rte_cpu_to_be_16((uint16_t)(1000 + rand() % 3));
			keys[i].dport =
				rte_cpu_to_be_16((uint16_t)(2000 + rand() % 3));
			if (rand() % 4 == 0)
				flows[rand() % RTE_DIM(flows)] = keys[i];
		}
		for (int d = 0; d < 3 * (cache6 ? 2 : 1); d++) {
			if (d < 3)
				gw_spd_lookup6(&spd[d], kp, got, GW_BURST);
			else
				gw_spd_lookup_cached6(&spd[d - 3], cache6,
						      spd[d - 3].tag, kp, got,
						      GW_BURST);
			for (int i = 0; i < GW_BURST; i++) {
				int want = model6(pols, nb_pol,
						  (enum espgw_cfg_dir)(d % 3),
						  &keys[i]);
				int line = got[i] ? got[i]->cfg.line : 0;

				if (got[i] != NULL &&
				    got[i]->cfg.family != AF_INET6)
					fail_msg("IPv6 key, IPv4 policy (line "
						 "%d, seed %u)",
						 line, seed);
				if (line != want)
					fail_msg("%u policies, dir %d%s: IPv6 "
						 "got line %d, want line %d "
						 "(seed %u)",
						 nb_pol, d % 3,
						 d >= 3 ? " (cached)" : "",
						 line, want, seed);
			}
		}
		if (cache6 != NULL)
			check_pair(AF_INET6, spd, pols, nb_pol, kp, keys);
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
	check_lookups6(spd, pols, nb_pol);
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
 * changed policies, and as a direction built from them would; pct of
 * the policies IPv6. */
static void
derive_rounds(int pct, int rounds)
{
	struct gw_spd_cache c;
	struct gw_spd_cache6 c6;
	uint64_t hits = 0, misses = 0;

	v6_pct = pct;
	assert_int_equal(
		gw_spd_cache_init(&c, 1024, SOCKET_ID_ANY, &hits, &misses), 0);
	assert_int_equal(
		gw_spd_cache6_init(&c6, 1024, SOCKET_ID_ANY, &hits, &misses),
		0);
	for (int r = 0; r < rounds; r++) {
		/* enough that 40 changes leave most of each base alive */
		unsigned int n = 300 + (unsigned int)(rand() % 150);
		struct espgw_cfg_policy *pols = random_policies(n);
		struct gw_spd base[3], v1[3], v2[3];
		uint64_t seq = 0;
		int line = 100000;
		char err[256];

		/* half the rounds through a cache, as a worker looks up */
		cache = r % 2 ? &c : NULL;
		cache6 = r % 2 ? &c6 : NULL;
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
		check_lookups6(v1, pols, n);
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
		check_lookups6(v2, pols, n);
		for (int d = 0; d < 3; d++) {
			gw_spd_release(&v2[d], &base[d]);
			gw_spd_release(&v1[d], &base[d]);
			gw_spd_free(&base[d]);
		}
		free(pols);
	}
	cache = NULL;
	cache6 = NULL;
	gw_spd_cache_fini(&c);
	gw_spd_cache6_fini(&c6);
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
	v6_pct = 0;
}

static void
test_derive(void **state)
{
	(void)state;
	derive_rounds(0, 8);
}

/* Derived versions of directions of both families: a trie of IPv4 and
 * a scan of IPv6 (whose delta and dead the scan must heed too), the
 * reverse, and a trie each. */
static void
test_derive6(void **state)
{
	(void)state;
	derive_rounds(2, 3);
	derive_rounds(98, 3);
	derive_rounds(50, 3);
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

/* Random selectors of both families, v6 the share of IPv6 ones, few
 * (a scan each) and many (a trie each), and lopsided: a trie of one
 * family beside a scan of the other. */
static void
model_rounds6(int pct)
{
	v6_pct = pct;
	for (int i = 0; i < 20; i++)
		check_against_model(1 + (unsigned int)(rand() % 12));
	for (int i = 0; i < 4; i++)
		check_against_model(40 + (unsigned int)(rand() % 200));
	v6_pct = 0;
}

static void
test_model6(void **state)
{
	(void)state;
	model_rounds6(100);
	model_rounds6(50);
	model_rounds6(5);
	model_rounds6(95);
}

/* The IPv6 policy cache as test_cache has the IPv4 one. */
static void
test_cache6_model(void **state)
{
	struct gw_spd_cache6 c;

	(void)state;
	v6_pct = 70;
	for (uint32_t buckets = 4; buckets <= 4096; buckets *= 1024) {
		uint64_t hits = 0, misses = 0;

		assert_int_equal(gw_spd_cache6_init(&c, buckets, SOCKET_ID_ANY,
						    &hits, &misses),
				 0);
		cache6 = &c;
		for (int i = 0; i < 6; i++) {
			check_against_model(40 + (unsigned int)(rand() % 200));
			check_against_model(1 + (unsigned int)(rand() % 8));
		}
		printf("# %u IPv6 buckets: %lu hits, %lu misses\n", buckets,
		       (unsigned long)hits, (unsigned long)misses);
		assert_true(misses > 0);
		if (buckets > 4)
			assert_true(hits > misses / 4);
		cache6 = NULL;
		gw_spd_cache6_fini(&c);
	}
	v6_pct = 0;
}

/* ---- fixed cases ---------------------------------------------------- */

static void
ip6(uint8_t a[16], const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* An out policy of line (and seq) line: IPv6 src/slen to dst/dlen. */
static struct espgw_cfg_policy
pol6(const char *src, uint8_t slen, const char *dst, uint8_t dlen, int line)
{
	struct espgw_cfg_policy p;

	memset(&p, 0, sizeof(p));
	p.family = AF_INET6;
	ip6(p.src6, src);
	ip6(p.dst6, dst);
	p.src_len = slen;
	p.dst_len = dlen;
	mask6(p.src6, slen);
	mask6(p.dst6, dlen);
	p.dir = ESPGW_POL_OUT;
	p.line = line;
	p.seq = (uint64_t)line;
	return p;
}

static struct espgw_cfg_policy
pol4(uint32_t src, uint8_t slen, uint32_t dst, uint8_t dlen, int line)
{
	struct espgw_cfg_policy p;

	memset(&p, 0, sizeof(p));
	p.src = rte_cpu_to_be_32(src & mask(slen));
	p.dst = rte_cpu_to_be_32(dst & mask(dlen));
	p.src_len = slen;
	p.dst_len = dlen;
	p.dir = ESPGW_POL_OUT;
	p.line = line;
	p.seq = (uint64_t)line;
	return p;
}

static struct gw_acl_key6
key6(const char *src, const char *dst, uint8_t proto, uint16_t sport,
     uint16_t dport)
{
	struct gw_acl_key6 k;

	memset(&k, 0, sizeof(k));
	ip6(k.src, src);
	ip6(k.dst, dst);
	k.proto = proto;
	k.sport = rte_cpu_to_be_16(sport);
	k.dport = rte_cpu_to_be_16(dport);
	return k;
}

static struct gw_acl_key
key4(uint32_t src, uint32_t dst)
{
	struct gw_acl_key k;

	memset(&k, 0, sizeof(k));
	k.src = rte_cpu_to_be_32(src);
	k.dst = rte_cpu_to_be_32(dst);
	k.proto = IPPROTO_UDP;
	return k;
}

/* The line of the policy that one key meets in spd, 0 for none. */
static int
line6(const struct gw_spd *spd, const struct gw_acl_key6 *k)
{
	const uint8_t *kp = (const uint8_t *)k;
	struct gw_policy *got;

	gw_spd_lookup6(spd, &kp, &got, 1);
	return got ? got->cfg.line : 0;
}

static int
line4(const struct gw_spd *spd, const struct gw_acl_key *k)
{
	const uint8_t *kp = (const uint8_t *)k;
	struct gw_policy *got;

	gw_spd_lookup(spd, &kp, &got, 1);
	return got ? got->cfg.line : 0;
}

/* Add filler policies to pols (n of them) that no key of these tests
 * meets, up to total: IPv6 from fe80::/16, IPv4 from 127/8, last in
 * xfrm order. */
static unsigned int
fill_to(struct espgw_cfg_policy *pols, unsigned int n, unsigned int total,
	bool v6)
{
	for (int line = 1000 + (int)n; n < total; line++) {
		pols[n] = v6 ? pol6("fe80::", 16, "::", 0, line)
			     : pol4(T_IPV4(127, 0, 0, 0), 8, 0, 0, line);
		pols[n++].priority = 1000;
	}
	return n;
}

static void
build(struct gw_spd *spd, const struct espgw_cfg_policy *pols, unsigned int n)
{
	char err[256];

	if (gw_spd_build(spd, pols, n, ESPGW_POL_OUT, err, sizeof(err)) != 0)
		fail_msg("build: %s", err);
}

/* Flip bit b (0: the high bit of the first byte) of an address. */
static void
flip(uint8_t a[16], unsigned int b)
{
	a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
}

/* Every prefix length, source and destination, scan and trie: the
 * last bit inside the prefix counts, the first outside does not. */
static void
test_prefix6(void **state)
{
	static const char *a = "2001:db8:1234:5678:9abc:def0:1357:9bdf";

	(void)state;
	for (int dst = 0; dst < 2; dst++)
		for (unsigned int len = 0; len <= 128; len++)
			for (int trie = 0; trie < 2; trie++) {
				struct espgw_cfg_policy pols[16];
				struct gw_acl_key6 k = key6(a, a, 17, 1, 2);
				uint8_t *side = dst ? k.dst : k.src;
				struct gw_spd spd;
				unsigned int n = 1;

				pols[0] =
					dst ? pol6("::", 0, a, (uint8_t)len, 1)
					    : pol6(a, (uint8_t)len, "::", 0, 1);
				if (trie)
					n = fill_to(pols, n, 12, true);
				build(&spd, pols, n);
				assert_true(trie ? spd.acl6 != NULL
						 : spd.acl6 == NULL);
				assert_int_equal(line6(&spd, &k), 1);
				if (len < 128) {
					flip(side, len);
					assert_int_equal(line6(&spd, &k), 1);
					flip(side, len);
				}
				if (len > 0) {
					flip(side, len - 1);
					assert_int_equal(line6(&spd, &k), 0);
				}
				gw_spd_free(&spd);
			}
}

/* Protocols and ports; ICMPv6 type and code where xfrm has them, in
 * sport and dport (struct gw_acl_key6). */
static void
test_ports6(void **state)
{
	static const struct {
		uint8_t proto;
		uint16_t sport, dport;
		int line;
	} want[] = {
		{ IPPROTO_UDP, 7, 500, 1 },    { IPPROTO_UDP, 7, 501, 5 },
		{ IPPROTO_TCP, 1000, 9, 2 },   { IPPROTO_TCP, 1001, 9, 5 },
		{ IPPROTO_UDP, 1000, 9, 5 },   { IPPROTO_ICMPV6, 128, 0, 3 },
		{ IPPROTO_ICMPV6, 129, 0, 4 }, { IPPROTO_ICMPV6, 128, 1, 4 },
		{ IPPROTO_ESP, 0, 0, 5 },
	};

	(void)state;
	for (int trie = 0; trie < 2; trie++) {
		struct espgw_cfg_policy pols[16];
		unsigned int n = 5;
		struct gw_spd spd;

		for (int i = 0; i < 5; i++)
			pols[i] = pol6("::", 0, "2001:db8::", 32, i + 1);
		pols[0].proto = IPPROTO_UDP;
		pols[0].has_dport = true;
		pols[0].dport = 500;
		pols[1].proto = IPPROTO_TCP;
		pols[1].has_sport = true;
		pols[1].sport = 1000;
		/* ip xfrm's "proto ipv6-icmp type 128 code 0" */
		pols[2].proto = IPPROTO_ICMPV6;
		pols[2].has_sport = pols[2].has_dport = true;
		pols[2].sport = 128;
		pols[3].proto = IPPROTO_ICMPV6;
		pols[3].priority = 1;
		pols[4].priority = 2;
		if (trie)
			n = fill_to(pols, n, 12, true);
		build(&spd, pols, n);
		assert_true(spd.l4);
		for (size_t i = 0; i < RTE_DIM(want); i++) {
			struct gw_acl_key6 k = key6(
				"2001:db8:1::1", "2001:db8::2", want[i].proto,
				want[i].sport, want[i].dport);

			if (line6(&spd, &k) != want[i].line)
				fail_msg("%s, case %zu: line %d, want %d",
					 trie ? "trie" : "scan", i,
					 line6(&spd, &k), want[i].line);
		}
		gw_spd_free(&spd);
	}
}

/* xfrm's order among IPv6 policies that all match, scan (3) and trie
 * (50): the lowest priority value, ties to the one added first. */
static void
test_order6(void **state)
{
	struct gw_acl_key6 k = key6("2001:db8::1", "2001:db8::2", 6, 1, 2);
	struct espgw_cfg_policy pols[50];
	struct gw_spd spd;

	(void)state;
	for (int i = 0; i < 50; i++)
		pols[i] = pol6("::", 0, "2001:db8::", (uint8_t)(32 + i), i + 1);
	pols[0].priority = 5;
	pols[1].priority = 3;
	pols[2].priority = 3;
	build(&spd, pols, 3);
	assert_null(spd.acl6);
	assert_int_equal(line6(&spd, &k), 2);
	assert_int_equal(spd.pol[0].cfg.line, 2);
	assert_int_equal(spd.pol[1].cfg.line, 3);
	assert_int_equal(spd.pol[2].cfg.line, 1);
	gw_spd_free(&spd);
	/* 100 - i for the first 30, then 71: line 30 (71) before lines
	 * 31.. (71, added later) */
	for (int i = 0; i < 50; i++)
		pols[i].priority = i < 30 ? 100u - (unsigned int)i : 71u;
	build(&spd, pols, 50);
	assert_non_null(spd.acl6);
	assert_int_equal(line6(&spd, &k), 30);
	gw_spd_free(&spd);
	/* without line 30: line 31, the first added of the 71s */
	memmove(&pols[29], &pols[30], 20 * sizeof(pols[0]));
	build(&spd, pols, 49);
	assert_int_equal(line6(&spd, &k), 31);
	gw_spd_free(&spd);
}

/* Both families in one direction: one id space in xfrm order, a key
 * of each family meeting only its own family's selectors, scan and
 * trie alike. */
static void
test_families(void **state)
{
	(void)state;
	for (int trie = 0; trie < 4; trie++) {
		struct espgw_cfg_policy pols[32];
		struct gw_acl_key k4a = key4(T_IPV4(10, 1, 2, 3), 0);
		struct gw_acl_key k4b = key4(T_IPV4(192, 0, 2, 1), 0);
		struct gw_acl_key k4z = key4(0, 0);
		struct gw_acl_key6 k6 = key6("2001:db8::1", "::1", 17, 1, 2);
		struct gw_acl_key6 k6z = key6("::", "::", 17, 1, 2);
		struct gw_acl_key6 k6m =
			key6("::ffff:10.1.2.3", "::ffff:0.0.0.0", 17, 1, 2);
		struct gw_spd spd;
		unsigned int n = 4;
		const uint8_t *kp;
		struct gw_policy *got;

		pols[0] = pol6("::", 0, "::", 0, 1);
		pols[1] = pol4(0, 0, 0, 0, 2);
		pols[1].priority = 1;
		pols[2] = pol6("2001:db8::", 32, "::", 0, 3);
		pols[2].priority = 1;
		pols[3] = pol4(T_IPV4(10, 0, 0, 0), 8, 0, 0, 4);
		/* bit 0: a trie of IPv4, bit 1: of IPv6 */
		if (trie & 1)
			n = fill_to(pols, n, 14, false);
		if (trie & 2)
			n = fill_to(pols, n, n + 10, true);
		build(&spd, pols, n);
		assert_int_equal(spd.nb, n);
		assert_int_equal(spd.nb4 + spd.nb6, n);
		assert_true((spd.acl != NULL) == !!(trie & 1));
		assert_true((spd.acl6 != NULL) == !!(trie & 2));
		/* ids: priority 0 (lines 1 then 4), then 1 (lines 2, 3) */
		assert_int_equal(spd.pol[0].cfg.line, 1);
		assert_int_equal(spd.pol[1].cfg.line, 4);
		assert_int_equal(spd.pol[2].cfg.line, 2);
		assert_int_equal(spd.pol[3].cfg.line, 3);
		for (unsigned int i = 0; i < n; i++)
			assert_int_equal(gw_spd_policy(&spd, i)->id, i);
		/* ::/0 at priority 0 is first in xfrm order, yet no IPv4
		 * key meets it */
		assert_int_equal(line4(&spd, &k4a), 4);
		assert_int_equal(line4(&spd, &k4b), 2);
		assert_int_equal(line4(&spd, &k4z), 2);
		assert_int_equal(line6(&spd, &k6), 1);
		kp = (const uint8_t *)&k4a;
		gw_spd_lookup(&spd, &kp, &got, 1);
		assert_int_equal(got->id, 1);
		kp = (const uint8_t *)&k6;
		gw_spd_lookup6(&spd, &kp, &got, 1);
		assert_int_equal(got->id, 0);
		assert_ptr_equal(gw_spd_policy(&spd, got->id), got);
		gw_spd_free(&spd);

		/* one family only: the other's keys meet nothing, the
		 * IPv4-mapped IPv6 address included */
		build(&spd, &pols[1], 1); /* 0/0 */
		assert_int_equal(line6(&spd, &k6z), 0);
		assert_int_equal(line6(&spd, &k6m), 0);
		assert_int_equal(line4(&spd, &k4z), 2);
		gw_spd_free(&spd);
		build(&spd, pols, 1); /* ::/0 */
		assert_int_equal(line4(&spd, &k4z), 0);
		assert_int_equal(line4(&spd, &k4a), 0);
		assert_int_equal(line6(&spd, &k6z), 1);
		gw_spd_free(&spd);
	}
}

/* A derived version of a direction with an IPv6 trie and an IPv4
 * scan: a dead IPv6 winner gives way to the next live one, a replaced
 * policy wins from the delta, an added one of each family too. */
static void
test_derive6_fixed(void **state)
{
	struct espgw_cfg_policy pols[64];
	struct gw_acl_key6 k1 = key6("2001:db8::1", "2001:db8:1::1", 17, 1, 2);
	struct gw_acl_key6 k2 = key6("2001:db8::1", "2001:db8:2::1", 17, 1, 2);
	struct gw_acl_key6 k3 = key6("2001:db8::1", "2001:db8:3::1", 17, 1, 2);
	struct gw_acl_key k4 = key4(T_IPV4(10, 0, 0, 1), T_IPV4(10, 9, 0, 1));
	struct gw_spd base, v;
	unsigned int n;

	(void)state;
	/* lines 1..40: 2001:db8:N::/48, N = line % 4, so each key meets
	 * ten; priority 40 - line: the last added of them wins */
	for (int i = 0; i < 40; i++) {
		char dst[40];

		snprintf(dst, sizeof(dst), "2001:db8:%x::", (i + 1) % 4);
		pols[i] = pol6("::", 0, dst, 48, i + 1);
		pols[i].priority = 40u - (unsigned int)i;
	}
	pols[40] = pol4(T_IPV4(10, 0, 0, 0), 8, 0, 0, 41);
	pols[40].priority = 1;
	pols[41] = pol4(0, 0, 0, 0, 42);
	pols[41].priority = 100;
	n = 42;
	build(&base, pols, n);
	assert_non_null(base.acl6);
	assert_null(base.acl);
	assert_int_equal(line6(&base, &k1), 37);
	assert_int_equal(line6(&base, &k2), 38);
	assert_int_equal(line6(&base, &k3), 39);
	assert_int_equal(line4(&base, &k4), 41);

	/* line 37 goes; line 38 is replaced (seq kept) by one at
	 * 2001:db8:3::/48 that beats line 39; an IPv6 and an IPv4
	 * policy come */
	memmove(&pols[36], &pols[37], (size_t)(n - 37) * sizeof(pols[0]));
	n--;
	pols[36].line = 100; /* was line 38 */
	ip6(pols[36].dst6, "2001:db8:3::");
	pols[36].priority = 0;
	pols[n] = pol6("::", 0, "2001:db8:1::", 48, 101);
	pols[n].seq = 101;
	pols[n++].priority = 50; /* loses to the base's lines 33.. */
	pols[n] = pol4(T_IPV4(10, 9, 0, 0), 16, 0, 0, 102);
	pols[n].src_len = 0;
	pols[n].src = 0;
	pols[n].dst = rte_cpu_to_be_32(T_IPV4(10, 9, 0, 0));
	pols[n].dst_len = 16;
	pols[n].seq = 102;
	pols[n++].priority = 0;
	assert_int_equal(gw_spd_derive(&v, &base, pols, n, ESPGW_POL_OUT), 0);
	assert_ptr_equal(v.pol, base.pol);
	assert_int_equal(v.nb_dead, 2);
	assert_int_equal(v.nb_delta, 3);
	assert_int_equal(v.nb_dsel6, 2);
	assert_int_equal(v.nb_dsel, 1);
	assert_int_equal(gw_spd_count(&v), n);
	/* k1: 37 dead, the next of its ten is 33 (the new 101 is at 50) */
	assert_int_equal(line6(&v, &k1), 33);
	/* k2: 38 dead (replaced), then 34 */
	assert_int_equal(line6(&v, &k2), 34);
	/* k3: the replacement, from the delta, at priority 0 */
	assert_int_equal(line6(&v, &k3), 100);
	assert_int_equal(line4(&v, &k4), 102);
	{
		const uint8_t *kp = (const uint8_t *)&k3;
		struct gw_policy *got;

		gw_spd_lookup6(&v, &kp, &got, 1);
		assert_true(got->id >= v.nb);
		assert_ptr_equal(gw_spd_policy(&v, got->id), got);
		assert_true(gw_spd_live(&v, got->id));
	}
	/* the base answers as before */
	assert_int_equal(line6(&base, &k1), 37);
	gw_spd_release(&v, &base);
	gw_spd_free(&base);
}

/* The IPv6 cache: a miss, then a hit with the same answer; another
 * tag (another build) misses; a key that differs in its last address
 * byte only has its own entry (one bucket: every key meets every
 * entry); a scanned direction bypasses the cache. */
static void
test_cache6(void **state)
{
	struct espgw_cfg_policy pols[16];
	struct gw_acl_key6 k = key6("2001:db8::1", "2001:db8::2", 17, 1, 2);
	const uint8_t *kp = (const uint8_t *)&k;
	uint64_t hits = 0, misses = 0;
	struct gw_spd_cache6 c;
	struct gw_policy *got;
	struct gw_spd spd;
	unsigned int n;

	(void)state;
	assert_int_equal(
		gw_spd_cache6_init(&c, 1, SOCKET_ID_ANY, &hits, &misses), 0);
	pols[0] = pol6("::", 0, "2001:db8::2", 128, 1);
	pols[1] = pol6("::", 0, "::", 0, 2);
	pols[1].priority = 1;
	n = fill_to(pols, 2, 12, true);
	build(&spd, pols, n);
	gw_spd_lookup_cached6(&spd, &c, spd.tag, &kp, &got, 1);
	assert_int_equal(misses, 1);
	assert_int_equal(hits, 0);
	assert_int_equal(got->cfg.line, 1);
	got = NULL;
	gw_spd_lookup_cached6(&spd, &c, spd.tag, &kp, &got, 1);
	assert_int_equal(misses, 1);
	assert_int_equal(hits, 1);
	assert_int_equal(got->cfg.line, 1);
	gw_spd_lookup_cached6(&spd, &c, spd.tag + 1000, &kp, &got, 1);
	assert_int_equal(misses, 2);
	assert_int_equal(hits, 1);
	k.dst[15] ^= 1; /* 2001:db8::3 */
	gw_spd_lookup_cached6(&spd, &c, spd.tag, &kp, &got, 1);
	assert_int_equal(misses, 3);
	assert_int_equal(got->cfg.line, 2);
	gw_spd_lookup_cached6(&spd, &c, spd.tag, &kp, &got, 1);
	assert_int_equal(hits, 2);
	assert_int_equal(got->cfg.line, 2);
	gw_spd_free(&spd);
	build(&spd, pols, 2);
	assert_null(spd.acl6);
	gw_spd_lookup_cached6(&spd, &c, spd.tag, &kp, &got, 1);
	assert_int_equal(misses + hits, 5);
	assert_int_equal(got->cfg.line, 2);
	gw_spd_free(&spd);
	gw_spd_cache6_fini(&c);
}

/* ---- the IPv6 key of a packet --------------------------------------- */

/* An IPv6 packet from 2001:db8::1 to 2001:db8::2: next header nh, the
 * payload (len bytes of p), and tail bytes past payload_len (as a
 * frame's padding). */
static struct rte_mbuf *
pkt6(uint8_t nh, const uint8_t *p, uint16_t len, uint16_t tail)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);
	struct rte_ipv6_hdr *ip;
	uint8_t *d;

	assert_non_null(m);
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(40 + len + tail));
	assert_non_null(d);
	memset(d, 0xee, 40u + len + tail);
	ip = (struct rte_ipv6_hdr *)d;
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(len);
	ip->proto = nh;
	ip->hop_limits = 64;
	ip6(ip->src_addr, "2001:db8::1");
	ip6(ip->dst_addr, "2001:db8::2");
	memcpy(d + 40, p, len);
	return m;
}

/* Append an extension header of type (its own next header nh, len
 * bytes: a multiple of 8) to b at *off; a fragment header's len is its
 * offset in 8-byte units and more-fragments bit. */
static void
ext(uint8_t *b, uint16_t *off, uint8_t type, uint8_t nh, uint16_t len,
    uint16_t frag_off, bool mf)
{
	uint8_t *e = b + *off;

	if (type == 44) {
		uint16_t fo = (uint16_t)(frag_off << 3 | (mf ? 1 : 0));

		memset(e, 0, 8);
		e[0] = nh;
		e[2] = (uint8_t)(fo >> 8);
		e[3] = (uint8_t)fo;
		e[4] = 0x12; /* identification */
		*off = (uint16_t)(*off + 8);
		return;
	}
	memset(e, 0, len); /* Pad1 options */
	e[0] = nh;
	e[1] = (uint8_t)(len / 8 - 1);
	if (type == 43) {
		e[2] = 0; /* routing type 0, segments left 0 */
		e[3] = 0;
	}
	*off = (uint16_t)(*off + len);
}

/* Append an upper-layer header: UDP ports, or ICMPv6 type and code. */
static void
l4(uint8_t *b, uint16_t *off, uint8_t a, uint8_t c, uint16_t sport,
   uint16_t dport)
{
	uint8_t *u = b + *off;

	memset(u, 0, 8);
	if (a != 0 || c != 0) {
		u[0] = a;
		u[1] = c;
	} else {
		u[0] = (uint8_t)(sport >> 8);
		u[1] = (uint8_t)sport;
		u[2] = (uint8_t)(dport >> 8);
		u[3] = (uint8_t)dport;
	}
	*off = (uint16_t)(*off + 8);
}

static int
key_of(uint8_t nh, const uint8_t *b, uint16_t len, uint16_t tail, bool ports,
       struct gw_acl_key6 *k)
{
	struct rte_mbuf *m = pkt6(nh, b, len, tail);
	int rc;

	memset(k, 0x55, sizeof(*k));
	rc = gw_acl_key6(m, k, ports);
	rte_pktmbuf_free(m);
	return rc;
}

static void
assert_key(const struct gw_acl_key6 *k, uint8_t proto, uint16_t sport,
	   uint16_t dport)
{
	uint8_t a[16];

	assert_int_equal(k->proto, proto);
	assert_int_equal(rte_be_to_cpu_16(k->sport), sport);
	assert_int_equal(rte_be_to_cpu_16(k->dport), dport);
	assert_int_equal(k->pad[0] | k->pad[1] | k->pad[2], 0);
	ip6(a, "2001:db8::1");
	assert_memory_equal(k->src, a, 16);
	ip6(a, "2001:db8::2");
	assert_memory_equal(k->dst, a, 16);
}

/* The chain walked as decode_session6() walks it (spd_lookup.c). */
static void
test_key6(void **state)
{
	uint8_t b[512];
	struct gw_acl_key6 k;
	uint16_t off;

	(void)state;
	/* plain UDP; ports only when asked */
	off = 0;
	l4(b, &off, 0, 0, 4500, 500);
	assert_int_equal(key_of(17, b, off, 0, true, &k), 0);
	assert_key(&k, 17, 4500, 500);
	assert_int_equal(key_of(17, b, off, 0, false, &k), 0);
	assert_key(&k, 17, 0, 0);

	/* hop-by-hop, destination options, routing, then UDP */
	off = 0;
	ext(b, &off, 0, 60, 8, 0, false);
	ext(b, &off, 60, 43, 16, 0, false);
	ext(b, &off, 43, 17, 24, 0, false);
	l4(b, &off, 0, 0, 1234, 53);
	assert_int_equal(key_of(0, b, off, 0, true, &k), 0);
	assert_key(&k, 17, 1234, 53);

	/* hop-by-hop, destination options, a first fragment: walked to
	 * UDP, yet no ports, as Linux takes none with a fragment header */
	off = 0;
	ext(b, &off, 0, 60, 8, 0, false);
	ext(b, &off, 60, 44, 16, 0, false);
	ext(b, &off, 44, 60, 8, 0, true);
	ext(b, &off, 60, 17, 8, 0, false);
	l4(b, &off, 0, 0, 1234, 53);
	assert_int_equal(key_of(0, b, off, 0, true, &k), 0);
	assert_key(&k, 17, 0, 0);

	/* a later fragment: its next header, what follows being data
	 * (here bytes that would read as a destination options header
	 * of 2 KB) */
	off = 0;
	ext(b, &off, 0, 60, 8, 0, false);
	ext(b, &off, 60, 44, 16, 0, false);
	ext(b, &off, 44, 60, 8, 185, true);
	memset(b + off, 0xff, 16);
	off = (uint16_t)(off + 16);
	assert_int_equal(key_of(0, b, off, 0, true, &k), 0);
	assert_key(&k, 60, 0, 0);
	/* the last one (no M) alike */
	b[8 + 16 + 3] = (uint8_t)(185 << 3);
	assert_int_equal(key_of(0, b, off, 0, true, &k), 0);
	assert_key(&k, 60, 0, 0);

	/* ICMPv6: type and code in sport and dport */
	off = 0;
	ext(b, &off, 60, 58, 8, 0, false);
	l4(b, &off, 128, 0, 0, 0);
	assert_int_equal(key_of(60, b, off, 0, true, &k), 0);
	assert_key(&k, 58, 128, 0);
	off = 0;
	l4(b, &off, 1, 3, 0, 0);
	assert_int_equal(key_of(58, b, off, 0, true, &k), 0);
	assert_key(&k, 58, 1, 3);

	/* AH, ESP and no next header end the walk: upper layers to
	 * xfrm (decode_session6's default case) */
	off = 0;
	ext(b, &off, 0, 51, 8, 0, false);
	ext(b, &off, 51, 17, 16, 0, false); /* AH-shaped: not walked */
	l4(b, &off, 0, 0, 1, 2);
	assert_int_equal(key_of(0, b, off, 0, true, &k), 0);
	assert_key(&k, 51, 0, 0);
	assert_int_equal(key_of(50, b, 8, 0, true, &k), 0);
	assert_key(&k, 50, 0, 0);
	assert_int_equal(key_of(59, b, 0, 0, true, &k), 0);
	assert_key(&k, 59, 0, 0);

	/* eight headers are walked, a ninth is refused */
	off = 0;
	for (int i = 0; i < 7; i++)
		ext(b, &off, 60, 60, 8, 0, false);
	ext(b, &off, 60, 17, 8, 0, false);
	l4(b, &off, 0, 0, 7, 9);
	assert_int_equal(key_of(60, b, off, 0, true, &k), 0);
	assert_key(&k, 17, 7, 9);
	off = 0;
	for (int i = 0; i < 8; i++)
		ext(b, &off, 60, 60, 8, 0, false);
	ext(b, &off, 60, 17, 8, 0, false);
	l4(b, &off, 0, 0, 7, 9);
	assert_int_equal(key_of(60, b, off, 0, true, &k), -1);
	assert_int_equal(key_of(60, b, off, 0, false, &k), -1);

	/* truncated: a header longer than the packet, one cut short
	 * by payload_len with the frame's padding behind it, no room
	 * for a header at all */
	off = 0;
	ext(b, &off, 60, 17, 48, 0, false);
	assert_int_equal(key_of(60, b, 16, 0, true, &k), -1);
	assert_int_equal(key_of(60, b, 16, 64, true, &k), -1);
	assert_int_equal(key_of(60, b, 48, 0, true, &k), 0);
	assert_key(&k, 17, 0, 0); /* no room for ports: none */
	assert_int_equal(key_of(44, b, 4, 0, true, &k), -1);
	assert_int_equal(key_of(0, b, 0, 0, true, &k), -1);
	/* UDP with 2 bytes: its proto, no ports */
	off = 0;
	l4(b, &off, 0, 0, 1, 2);
	assert_int_equal(key_of(17, b, 2, 8, true, &k), 0);
	assert_key(&k, 17, 0, 0);
}

/* xfrm holds one policy per direction and selector, the family and
 * its addresses part of the selector: not twins across families, nor
 * IPv6 ones that differ past the first 32 bits. */
static void
test_twins6(void **state)
{
	struct espgw_cfg_policy a = pol4(0, 0, 0, 0, 1);
	struct espgw_cfg_policy b = pol6("::", 0, "::", 0, 2);
	struct espgw_cfg_policy c = pol6("2001:db8::1", 128, "::", 0, 3);
	struct espgw_cfg_policy d = pol6("2001:db8::2", 128, "::", 0, 4);
	struct espgw_cfg_policy e = c;

	(void)state;
	/* 0.0.0.0/0 and ::/0: the same bytes but for the family */
	assert_false(gw_policy_same_key(&a, &b));
	assert_true(gw_policy_key_cmp(&a, &b) != 0);
	assert_true((gw_policy_key_cmp(&a, &b) < 0) ==
		    (gw_policy_key_cmp(&b, &a) > 0));
	assert_false(gw_policy_same_key(&c, &d));
	assert_true(gw_policy_key_cmp(&c, &d) < 0);
	assert_true(gw_policy_key_cmp(&d, &c) > 0);
	e.line = 9;
	e.priority = 3;
	assert_true(gw_policy_same_key(&c, &e));
	assert_int_equal(gw_policy_key_cmp(&c, &e), 0);
	ip6(e.dst6, "2001:db8::");
	e.dst_len = 32;
	assert_false(gw_policy_same_key(&c, &e));
	/* IPv4 fields an IPv6 selector does not have do not count */
	e = c;
	e.src = 12345;
	assert_true(gw_policy_same_key(&c, &e));
	/* equal: the IPv6 template's endpoints count */
	e = c;
	e.has_tmpl = c.has_tmpl = true;
	e.tmpl_family = c.tmpl_family = AF_INET6;
	ip6(c.tmpl_dst6, "2001:db8:f::1");
	ip6(e.tmpl_dst6, "2001:db8:f::1");
	assert_true(gw_policy_equal(&c, &e));
	e.tmpl_dst6[15] = 2;
	assert_false(gw_policy_equal(&c, &e));
	e = c;
	e.tmpl_family = AF_INET;
	assert_false(gw_policy_equal(&c, &e));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_model6),
		cmocka_unit_test(test_cache6_model),
		cmocka_unit_test(test_derive6),
		cmocka_unit_test(test_prefix6),
		cmocka_unit_test(test_ports6),
		cmocka_unit_test(test_order6),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_derive6_fixed),
		cmocka_unit_test(test_cache6),
		cmocka_unit_test(test_key6),
		cmocka_unit_test(test_twins6),
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
