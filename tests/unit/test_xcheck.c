/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Cross-check with an independent ESP: scapy (tests/scapy_esp.py) makes
 * random cases, every key size, ICV length, with and without ESN, inner
 * IPv4 and IPv6 of 0 to 1400 payload bytes in outer IPv4 or (a quarter)
 * IPv6, some of scapy's IPv6 ones with a destination options header in
 * front of ESP, plain ESP or, for about a third of the IPv4 ones, ESP in
 * UDP (RFC 3948) on 4500 or random ports, with UDP checksum 0 or a valid
 * one. What scapy encrypted must decapsulate here
 * to the inner packet (ESP in UDP from the state's own address and port:
 * no mapping counted); what espgw encapsulates must decrypt in scapy (and
 * in a hand-written RFC 4106 check) with the framing xfrm uses, for ESP
 * in UDP the UDP header Linux sends (the state's ports, the length,
 * checksum 0). Seed: ESPGW_XCHECK_SEED, else the time. */

#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *script;
static char dir[] = "/tmp/espgw-xcheck-XXXXXX";
static char cases[64], results[64];
static unsigned long seed;
static unsigned int count = 400;
static struct espgw_worker *W;

struct xcase {
	unsigned int id;
	struct espgw_sa_params p;
	uint8_t inner[2048], esp[2048];
	uint16_t inner_len, esp_len;
	uint64_t seq;
};

static int
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return (int)(n / 2);
}

/* id key_hex icv_len esn spi_hex seq src dst inner_hex esp_hex encap,
 * encap "-" (plain ESP) or SPORT:DPORT (encap espinudp SPORT DPORT) */
static int
parse_case(char *line, struct xcase *c)
{
	char *f[11], *save = NULL, *t;
	unsigned long sport, dport;
	int n = 0, k;

	for (t = strtok_r(line, " \n", &save); t && n < 11;
	     t = strtok_r(NULL, " \n", &save))
		f[n++] = t;
	if (n != 11 || t != NULL)
		return -1;
	memset(&c->p, 0, sizeof(c->p));
	c->id = (unsigned int)strtoul(f[0], NULL, 10);
	k = unhex(f[1], c->p.key, sizeof(c->p.key));
	if (k < 0)
		return -1;
	c->p.key_len = (uint8_t)k;
	c->p.icv_len = (uint8_t)atoi(f[2]);
	c->p.esn = atoi(f[3]) != 0;
	c->p.af_unspec = true; /* scapy's cases mix the inner families */
	c->p.spi = (uint32_t)strtoul(f[4], NULL, 16);
	c->seq = strtoull(f[5], NULL, 10);
	if (strchr(f[6], ':') != NULL) {
		c->p.src.family = c->p.dst.family = AF_INET6;
		if (inet_pton(AF_INET6, f[6], c->p.src.v6) != 1 ||
		    inet_pton(AF_INET6, f[7], c->p.dst.v6) != 1)
			return -1;
	} else {
		c->p.src.family = c->p.dst.family = AF_INET;
		if (inet_pton(AF_INET, f[6], &c->p.src.v4) != 1 ||
		    inet_pton(AF_INET, f[7], &c->p.dst.v4) != 1)
			return -1;
	}
	k = unhex(f[8], c->inner, sizeof(c->inner));
	if (k < 0)
		return -1;
	c->inner_len = (uint16_t)k;
	k = unhex(f[9], c->esp, sizeof(c->esp));
	if (k < 0)
		return -1;
	c->esp_len = (uint16_t)k;
	if (strcmp(f[10], "-") == 0)
		return 0;
	sport = strtoul(f[10], &t, 10);
	if (*t != ':')
		return -1;
	dport = strtoul(t + 1, &t, 10);
	if (*t != '\0' || sport == 0 || sport > UINT16_MAX || dport == 0 ||
	    dport > UINT16_MAX)
		return -1;
	c->p.encap = (struct espgw_sa_encap){ .udp = true,
					      .sport = (uint16_t)sport,
					      .dport = (uint16_t)dport };
	return 0;
}

static struct rte_mbuf *
mbuf_of(const uint8_t *b, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, len), b, len);
	return m;
}

static int
run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int
gen_cases(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %s gen --seed %lu --count %u --out %s",
		 script, seed, count, cases);
	return run(cmd) == 0 ? 0 : -1;
}

/* Walk the cases file, calling fn on each; fails on a malformed line. */
static void
each_case(void (*fn)(struct xcase *c, FILE *out), FILE *out)
{
	static char line[8192];
	static struct xcase c;
	FILE *f = fopen(cases, "r");
	unsigned int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		if (parse_case(line, &c) != 0)
			fail_msg("malformed case line (seed %lu)", seed);
		fn(&c, out);
		n++;
	}
	fclose(f);
	assert_int_equal(n, count);
}

/* scapy encrypted it: espgw must give back the inner packet. */
static void
decap_one(struct xcase *c, FILE *out)
{
	struct espgw_sad *sad = espgw_sad_create("xsad", 8, SOCKET_ID_ANY);
	struct espgw_sa *sa, *who = NULL;
	struct espgw_sa_stats st;
	struct rte_mbuf *m;
	const char *why;

	(void)out;
	assert_non_null(sad);
	c->p.dir = ESPGW_SA_IN;
	c->p.replay_window = c->p.esn || (c->id & 1) ? 64 : 0;
	/* the receiver has seen everything up to just below this packet,
	 * so it infers seq-hi from there (RFC 4303 appendix A) */
	c->p.iseq = c->seq - 1;
	sa = espgw_sa_create(&c->p, &why);
	if (sa == NULL)
		fail_msg("case %u: SA refused: %s (seed %lu)", c->id, why,
			 seed);
	assert_int_equal(espgw_sad_add(sad, sa), 0);
	m = mbuf_of(c->esp, c->esp_len);
	if (espgw_esp_inbound(W, sad, &m, &who, 1) != 1) {
		uint64_t wd[ESPGW_DROP_MAX];
		int d = 0;

		espgw_sa_stats_read(sa, &st);
		espgw_worker_drops_read(W, wd);
		while (d < ESPGW_DROP_MAX && st.drops[d] == 0)
			d++;
		/* dropped before an SA was found (bad-udp-checksum, ...) */
		for (int e = 0; d == ESPGW_DROP_MAX && e < ESPGW_DROP_MAX; e++)
			if (wd[e] != 0)
				d = e;
		rte_pktmbuf_free(m);
		fail_msg("case %u: scapy's packet dropped (%s) (seed %lu)",
			 c->id, d < ESPGW_DROP_MAX ? espgw_drop_name(d) : "?",
			 seed);
	}
	assert_ptr_equal(who, sa);
	/* from the state's own address and port: not a rebound */
	espgw_sa_stats_read(sa, &st);
	if (st.mappings != 0 || st.packets != 1)
		fail_msg("case %u: %lu mappings, %lu packets after one packet "
			 "(seed %lu)",
			 c->id, (unsigned long)st.mappings,
			 (unsigned long)st.packets, seed);
	if (m->data_len != c->inner_len ||
	    memcmp(rte_pktmbuf_mtod(m, void *), c->inner, c->inner_len) != 0) {
		rte_pktmbuf_free(m);
		fail_msg("case %u: decapsulated packet differs (seed %lu)",
			 c->id, seed);
	}
	rte_pktmbuf_free(m);
	espgw_sad_free(sad);
	espgw_sa_free(sa);
}

/* espgw encrypts it at the case's sequence number, for scapy to check. */
static void
encap_one(struct xcase *c, FILE *out)
{
	struct espgw_sa *sa;
	struct rte_mbuf *m;
	const uint8_t *p;
	const char *why;

	c->p.dir = ESPGW_SA_OUT;
	c->p.oseq = c->seq - 1;
	sa = espgw_sa_create(&c->p, &why);
	if (sa == NULL)
		fail_msg("case %u: SA refused: %s (seed %lu)", c->id, why,
			 seed);
	m = mbuf_of(c->inner, c->inner_len);
	if (espgw_esp_outbound(W, sa, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		fail_msg("case %u: encapsulation failed (seed %lu)", c->id,
			 seed);
	}
	fprintf(out, "%u ", c->id);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	for (uint16_t i = 0; i < m->data_len; i++)
		fprintf(out, "%02x", p[i]);
	fputc('\n', out);
	rte_pktmbuf_free(m);
	espgw_sa_free(sa);
}

static void
test_scapy_to_espgw(void **state)
{
	(void)state;
	each_case(decap_one, NULL);
}

static void
test_espgw_to_scapy(void **state)
{
	char cmd[512];
	FILE *out = fopen(results, "w");

	(void)state;
	assert_non_null(out);
	each_case(encap_one, out);
	fclose(out);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %s check --cases %s --results %s", script,
		 cases, results);
	if (run(cmd) != 0)
		fail_msg("scapy rejected espgw's packets (seed %lu)", seed);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scapy_to_espgw, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_espgw_to_scapy, t_setup,
						t_teardown),
	};
	const char *s = getenv("ESPGW_XCHECK_SEED");
	const char *n = getenv("ESPGW_XCHECK_COUNT");
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s path/to/scapy_esp.py\n", argv[0]);
		return 2;
	}
	script = argv[1];
	seed = s ? strtoul(s, NULL, 10) : (unsigned long)time(NULL);
	if (n)
		count = (unsigned int)strtoul(n, NULL, 10);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(cases, sizeof(cases), "%s/cases", dir);
	snprintf(results, sizeof(results), "%s/results", dir);
	printf("# xcheck seed %lu, %u cases (ESPGW_XCHECK_SEED=%lu to "
	       "repeat)\n",
	       seed, count, seed);

	t_eal_init(argv[0]);
	W = espgw_worker_create(0, SOCKET_ID_ANY);
	if (W == NULL)
		return 1;
	rc = cmocka_run_group_tests_name("xcheck", tests, gen_cases, NULL);
	espgw_worker_free(W);
	rte_mempool_free(t_pool);
	rte_eal_cleanup();
	if (rc == 0) {
		unlink(cases);
		unlink(results);
		rmdir(dir);
	} else {
		printf("# cases kept in %s\n", dir);
	}
	return rc;
}
