/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Two workers on two threads sending through one outbound SA at once
 * never reuse a sequence number or a GCM nonce (RFC 4106 section 3.1:
 * an IV must never repeat under one key). Every ESP header and IV the
 * run put on the wire is collected and checked: the sequence numbers are
 * exactly the next ones after the SA's start, each once, and so are the
 * IVs; at the end of the 32-bit and the 64-bit space the two threads'
 * races still send each last number once and refuse the rest. */

#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#define NB_THREADS 2
#define PER_THREAD 60000u
#define BURST_MAX 64

static struct espgw_worker *W[NB_THREADS];

struct wire {
	uint64_t seq; /* the 32 bits on the wire; all 64 once checked */
	uint64_t iv;
};

struct run {
	struct espgw_sa *sa;
	struct espgw_worker *w;
	unsigned int nb_sent, nb_refused;
	unsigned int seed;
	int cpu;	  /* to run on, -1: where it is */
	struct wire *got; /* PER_THREAD slots */
	pthread_barrier_t *go;
};

/* ESP header and IV, right behind the outer IPv4 header (no options). */
static struct wire
read_wire(const struct rte_mbuf *m)
{
	const uint8_t *esp = rte_pktmbuf_mtod_offset(m, const uint8_t *, 20);
	struct wire x;
	uint32_t seq;

	memcpy(&seq, esp + 4, 4);
	memcpy(&x.iv, esp + 8, 8);
	x.seq = rte_be_to_cpu_32(seq);
	return x;
}

/* An inner IPv4 packet of 48 bytes (t_inner's buffer is not for
 * threads). */
static struct rte_mbuf *
inner(uint16_t id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);
	uint8_t pkt[48] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	char *data;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(pkt));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(T_IPV4(10, 0, 1, 10));
	ip->dst_addr = rte_cpu_to_be_32(T_IPV4(10, 0, 2, 20));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* the pool is sized for both threads' bursts */
	if (m == NULL || (data = rte_pktmbuf_append(m, sizeof(pkt))) == NULL)
		abort();
	memcpy(data, pkt, sizeof(pkt));
	return m;
}

static void *
sender(void *arg)
{
	struct run *r = arg;
	unsigned int left = PER_THREAD;

	pthread_barrier_wait(r->go);
	/* EAL pinned the main thread, and so its children, to one CPU:
	 * each sender on a CPU of its own, so that they really race */
	if (r->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(r->cpu, &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (left > 0) {
		struct rte_mbuf *mb[BURST_MAX];
		uint16_t n = (uint16_t)(1 + rand_r(&r->seed) % BURST_MAX), ok;

		if (n > left)
			n = (uint16_t)left;
		for (uint16_t i = 0; i < n; i++)
			mb[i] = inner(i);
		ok = espgw_esp_outbound(r->w, r->sa, mb, n);
		for (uint16_t i = 0; i < ok; i++)
			r->got[r->nb_sent++] = read_wire(mb[i]);
		r->nb_refused += n - ok;
		rte_pktmbuf_free_bulk(mb, n);
		left -= n;
	}
	return NULL;
}

static int
by_seq(const void *a, const void *b)
{
	const struct wire *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
by_iv(const void *a, const void *b)
{
	const struct wire *x = a, *y = b;

	return x->iv < y->iv ? -1 : x->iv > y->iv;
}

/* Both threads through sa; every wire record in all[], their count. */
static unsigned int
race(struct espgw_sa *sa, struct wire *all, unsigned int *refused)
{
	struct run r[NB_THREADS];
	pthread_t th[NB_THREADS];
	pthread_barrier_t go;
	unsigned int n = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	pthread_barrier_init(&go, NULL, NB_THREADS);
	for (int t = 0; t < NB_THREADS; t++) {
		r[t] = (struct run){ .sa = sa,
				     .w = W[t],
				     .seed = 7u + t,
				     .cpu = ncpu > 1 ? (int)(t % ncpu) : -1,
				     .go = &go };
		r[t].got = calloc(PER_THREAD, sizeof(struct wire));
		assert_non_null(r[t].got);
		assert_int_equal(pthread_create(&th[t], NULL, sender, &r[t]),
				 0);
	}
	*refused = 0;
	for (int t = 0; t < NB_THREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		memcpy(all + n, r[t].got, r[t].nb_sent * sizeof(struct wire));
		n += r[t].nb_sent;
		*refused += r[t].nb_refused;
		free(r[t].got);
	}
	pthread_barrier_destroy(&go);
	return n;
}

/* Sequence numbers from first on, each once; every IV once. The high
 * half (ESN, not on the wire: RFC 4303 section 2.2.1) is the start's,
 * or one more for a low half below the start's (n < 2^32). */
static void
check_unique(struct wire *all, unsigned int n, uint64_t first)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t hi =
			(first >> 32) + (all[i].seq < (first & UINT32_MAX));

		all[i].seq |= hi << 32;
	}
	qsort(all, n, sizeof(*all), by_seq);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(all[i].seq, first + i);
	qsort(all, n, sizeof(*all), by_iv);
	for (unsigned int i = 1; i < n; i++)
		assert_true(all[i].iv != all[i - 1].iv);
}

static void
run_case(bool esn, uint64_t oseq, unsigned int want_sent)
{
	struct wire *all = calloc(NB_THREADS * PER_THREAD, sizeof(*all));
	struct espgw_sa_params p;
	struct espgw_sa_stats st;
	struct espgw_sa *sa;
	unsigned int n, refused, before = t_pool_avail();

	assert_non_null(all);
	W[1] = espgw_worker_create(1, SOCKET_ID_ANY);
	assert_non_null(W[1]);
	t_sa_params(&p, ESPGW_SA_OUT, 0x9000, 20, 16, esn, 0, 9);
	p.nb_workers = NB_THREADS;
	p.oseq = oseq;
	sa = t_sa(&p);
	n = race(sa, all, &refused);
	assert_int_equal(n, want_sent);
	assert_int_equal(n + refused, NB_THREADS * PER_THREAD);
	assert_int_equal(t_sa_drop(sa, ESPGW_DROP_SEQ_EXHAUSTED), refused);
	espgw_sa_stats_read(sa, &st);
	assert_int_equal(st.packets, n);
	check_unique(all, n, oseq + 1);
	assert_int_equal(t_pool_avail(), before);
	espgw_sa_free(sa);
	espgw_worker_free(W[1]);
	free(all);
}

static void
test_two_workers(void **state)
{
	(void)state;
	run_case(false, 0, NB_THREADS * PER_THREAD);
	run_case(true, 0, NB_THREADS * PER_THREAD);
	/* ESN across a 2^32 boundary: the IV carries all 64 bits */
	run_case(true, UINT32_MAX - PER_THREAD, NB_THREADS * PER_THREAD);
}

/* At the end of the space the last numbers go once, whoever races. */
static void
test_two_workers_at_the_end(void **state)
{
	(void)state;
	run_case(false, UINT32_MAX - 1000, 1000);
	run_case(true, UINT64_MAX - 1000, 1000);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_workers, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_two_workers_at_the_end,
						t_setup, t_teardown),
	};
	(void)argc;
	return t_esp_main(argv[0], "nonce", tests, RTE_DIM(tests), &W[0], NULL);
}
