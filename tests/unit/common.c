/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_udp.h>

struct rte_mempool *t_pool;
static unsigned int pool_start;

void
t_eal_init(const char *prog)
{
	char *argv[] = {
		(char *)prog,
		"--no-huge",
		"-m",
		"256",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"--log-level=lib.*:warning",
		"-l",
		"0",
	};

	if (rte_eal_init(RTE_DIM(argv), argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		exit(1);
	}
	t_pool = rte_pktmbuf_pool_create(
		"t_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (t_pool == NULL) {
		fprintf(stderr, "mbuf pool failed\n");
		exit(1);
	}
}

unsigned int
t_pool_avail(void)
{
	return rte_mempool_avail_count(t_pool);
}

int
t_setup(void **state)
{
	(void)state;
	pool_start = t_pool_avail();
	return 0;
}

int
t_teardown(void **state)
{
	(void)state;
	/* Every mbuf the test took must be back. */
	assert_int_equal(t_pool_avail(), pool_start);
	return 0;
}

void
t_sa_params(struct espgw_sa_params *p, enum espgw_sa_dir dir, uint32_t spi,
	    uint8_t key_len, uint8_t icv_len, bool esn, uint32_t win,
	    uint8_t seed)
{
	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->spi = spi;
	p->src.family = AF_INET;
	p->dst.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &p->src.v4);
	inet_pton(AF_INET, "198.51.100.1", &p->dst.v4);
	p->key_len = key_len;
	for (int i = 0; i < key_len; i++)
		p->key[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	p->icv_len = icv_len;
	p->esn = esn;
	/* the tests carry both inner families through one SA, as a state
	 * with flag af-unspec does (test_esp6: the one without) */
	p->af_unspec = true;
	p->replay_window = win;
}

struct espgw_sa *
t_sa(const struct espgw_sa_params *p)
{
	const char *why = NULL;
	struct espgw_sa *sa = espgw_sa_create(p, &why);

	if (sa == NULL)
		fail_msg("SA refused: %s", why);
	return sa;
}

struct rte_mbuf *
t_inner(int ver, uint16_t plen, uint8_t tos, bool df, uint8_t seed)
{
	static uint8_t buf[RTE_MBUF_DEFAULT_DATAROOM];
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);
	struct rte_udp_hdr *udp;
	uint16_t len;
	uint8_t *pl;

	assert_non_null(m);
	memset(buf, 0, sizeof(buf));
	if (ver == 4) {
		struct rte_ipv4_hdr *ip = (void *)buf;

		len = sizeof(*ip) + sizeof(*udp) + plen;
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = tos;
		ip->total_length = rte_cpu_to_be_16(len);
		ip->packet_id = rte_cpu_to_be_16(seed);
		ip->fragment_offset = df ? rte_cpu_to_be_16(0x4000) : 0;
		ip->time_to_live = 63;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(T_IPV4(10, 0, 1, 10));
		ip->dst_addr = rte_cpu_to_be_32(T_IPV4(10, 0, 2, 20));
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (void *)(ip + 1);
	} else {
		struct rte_ipv6_hdr *ip6 = (void *)buf;

		len = sizeof(*ip6) + sizeof(*udp) + plen;
		ip6->vtc_flow =
			rte_cpu_to_be_32(6u << 28 | (uint32_t)tos << 20 | seed);
		ip6->payload_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = 63;
		/* 2001:db8::1 -> 2001:db8::2 (RFC 3849) */
		memcpy(ip6->src_addr, "\x20\x01\x0d\xb8", 4);
		ip6->src_addr[15] = 1;
		memcpy(ip6->dst_addr, ip6->src_addr, 16);
		ip6->dst_addr[15] = 2;
		udp = (void *)(ip6 + 1);
	}
	udp->src_port = rte_cpu_to_be_16(1000 + seed);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
	pl = (uint8_t *)(udp + 1);
	for (uint16_t i = 0; i < plen; i++)
		pl[i] = (uint8_t)(seed + i * 13);
	pl = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(pl);
	memcpy(pl, buf, len);
	return m;
}

struct rte_mbuf *
t_clone(const struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(t_pool);

	assert_non_null(c);
	memcpy(rte_pktmbuf_append(c, m->data_len),
	       rte_pktmbuf_mtod(m, const void *), m->data_len);
	return c;
}

void
t_assert_same(const struct rte_mbuf *a, const struct rte_mbuf *b)
{
	assert_int_equal(a->pkt_len, b->pkt_len);
	assert_int_equal(a->data_len, b->data_len);
	assert_memory_equal(rte_pktmbuf_mtod(a, const void *),
			    rte_pktmbuf_mtod(b, const void *), a->data_len);
}

void
t_unpair(struct espgw_sad *sad, struct espgw_sa *out, struct espgw_sa *in)
{
	assert_int_equal(espgw_sad_del(sad, in), 0);
	espgw_sa_free(out);
	espgw_sa_free(in);
}

void
t_free(struct rte_mbuf **m, uint16_t n)
{
	rte_pktmbuf_free_bulk(m, n);
}

bool
t_aborts(void (*fn)(void *arg), void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const int crash[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
		int null = open("/dev/null", O_WRONLY);

		/* cmocka catches these to go on with the next test: here
		 * that would be a second test run, in shared memory */
		for (size_t i = 0; i < RTE_DIM(crash); i++)
			signal(crash[i], SIG_DFL);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		alarm(10);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return false;
	/* anything but an abort or a clean return is a test bug */
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	return true;
}

uint64_t
t_sa_drop(const struct espgw_sa *sa, enum espgw_drop d)
{
	struct espgw_sa_stats st;

	espgw_sa_stats_read(sa, &st);
	return st.drops[d];
}

uint64_t
t_w_drop(const struct espgw_worker *w, enum espgw_drop d)
{
	uint64_t drops[ESPGW_DROP_MAX];

	espgw_worker_drops_read(w, drops);
	return drops[d];
}

int
t_esp_main(const char *prog, const char *group, const struct CMUnitTest *tests,
	   size_t n, struct espgw_worker **w, struct espgw_sad **sad)
{
	int rc;

	t_eal_init(prog);
	*w = espgw_worker_create(0, SOCKET_ID_ANY);
	if (sad != NULL)
		*sad = espgw_sad_create("sad", 64, SOCKET_ID_ANY);
	if (*w == NULL || (sad != NULL && *sad == NULL))
		return 1;
	printf("# intel-ipsec-mb code path: %s\n", espgw_worker_arch(*w));
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	if (sad != NULL)
		espgw_sad_free(*sad);
	espgw_worker_free(*w);
	rte_mempool_free(t_pool);
	rte_eal_cleanup();
	return rc;
}
