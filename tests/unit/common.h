/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_TEST_COMMON_H
#define ESPGW_TEST_COMMON_H

/* Shared fixtures of the unit tests: EAL without hugepages, one mbuf
 * pool whose free count every test must leave as it found it, and
 * packet builders. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <rte_mbuf.h>

#include "espgw/esp.h"

extern struct rte_mempool *t_pool;

/* A host-order IPv4 address; DPDK 22.11's RTE_IPV4 shifts an int, which
 * UBSan rightly flags for a first byte of 128 and above. */
#define T_IPV4(a, b, c, d)                                                     \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
	 (uint32_t)(d))

/* Start EAL (--no-huge, in memory) and make t_pool. */
void t_eal_init(const char *prog);

/* An SA like `ip xfrm state add src 192.0.2.1 dst 198.51.100.1 ...`
 * with a key of key_len bytes made from seed. */
void t_sa_params(struct espgw_sa_params *p, enum espgw_sa_dir dir, uint32_t spi,
		 uint8_t key_len, uint8_t icv_len, bool esn, uint32_t win,
		 uint8_t seed);
struct espgw_sa *t_sa(const struct espgw_sa_params *p);

/* An inner IPv4 (ver 4) or IPv6 (ver 6) UDP packet with plen bytes of
 * payload filled from seed, and the given tos / traffic class and DF. */
struct rte_mbuf *t_inner(int ver, uint16_t plen, uint8_t tos, bool df,
			 uint8_t seed);

/* Copy of an mbuf's data, for comparing before and after. */
struct rte_mbuf *t_clone(const struct rte_mbuf *m);
void t_assert_same(const struct rte_mbuf *a, const struct rte_mbuf *b);

/* Take an inbound SA out of sad and free it and its outbound twin. */
void t_unpair(struct espgw_sad *sad, struct espgw_sa *out, struct espgw_sa *in);

/* Free n mbufs and check the pool is back to its starting count. */
void t_free(struct rte_mbuf **m, uint16_t n);
unsigned int t_pool_avail(void);

/* Run fn(arg) in a child process: true when it died of SIGABRT (a
 * failed RTE_VERIFY), false when it returned. The child's stderr goes
 * to /dev/null, and it is given 10 seconds. It shares DPDK memory
 * (mbufs, SAs) with the test: what fn changes there before it stops,
 * the test sees. */
bool t_aborts(void (*fn)(void *arg), void *arg);

/* A drop reason's count on an SA (summed over workers) or on worker w. */
uint64_t t_sa_drop(const struct espgw_sa *sa, enum espgw_drop d);
uint64_t t_w_drop(const struct espgw_worker *w, enum espgw_drop d);

/* The main of an ESP test program: EAL, t_pool, worker 0 in *w and,
 * when sad is not NULL, an SAD of 64 in *sad; run the group; free them.
 * Returns the group's result, 1 when the set-up fails. */
int t_esp_main(const char *prog, const char *group,
	       const struct CMUnitTest *tests, size_t n,
	       struct espgw_worker **w, struct espgw_sad **sad);

/* Fixture hooks asserting no mbuf leaked during the test. */
int t_setup(void **state);
int t_teardown(void **state);

#endif
