/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Known answers: the RFC 4106 vectors of the kernel's testmgr.h, which
 * carry draft-mcgrew-gcm-test-01's ESP cases. Checked three ways:
 *  - the GCM step with the SA's expanded key, byte for byte;
 *  - each vector as a packet through espgw_esp_inbound: the ICV must
 *    verify (so espgw builds nonce and AAD, ESN seq-hi included, as the
 *    vector does), and one flipped bit must fail it;
 *  - the vectors whose payload is an IPv4 packet with RFC 4303 padding
 *    but next header 1: espgw_esp_outbound on that IPv4 packet, with the
 *    vector's SPI, sequence number and IV, must produce the vector's
 *    ciphertext byte for byte, but for the next header byte (4 here),
 *    which differs exactly by 1 ^ 4 (GCM is a stream cipher).
 * The last two with the SA's endpoints in IPv4 and in IPv6 (2001:db8::/32):
 * the ciphertext does not depend on the outer header. */

#include "common.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ip.h>

#include "sa.h"
#include "sad.h"
#include "../vectors/rfc4106_vectors.h"

static struct espgw_worker *W;

static uint64_t
kat_seq(const struct espgw_kat *k)
{
	uint64_t s = 0;

	/* SPI || seq-lo, or SPI || seq-hi || seq-lo */
	for (int i = 4; i < k->aad_len; i++)
		s = s << 8 | k->aad[i];
	return s;
}

/* the endpoints of the SAs the vectors are tried on: IPv6 when set */
static bool kat_v6;
static const uint8_t kat_src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
static const uint8_t kat_dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1 };

static void
kat_params(const struct espgw_kat *k, struct espgw_sa_params *p,
	   enum espgw_sa_dir dir)
{
	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->spi = (uint32_t)k->aad[0] << 24 | (uint32_t)k->aad[1] << 16 |
		 (uint32_t)k->aad[2] << 8 | k->aad[3];
	p->src.family = p->dst.family = AF_INET;
	p->src.v4 = rte_cpu_to_be_32(T_IPV4(192, 0, 2, 1));
	p->dst.v4 = rte_cpu_to_be_32(T_IPV4(198, 51, 100, 1));
	if (kat_v6) {
		p->src.family = p->dst.family = AF_INET6;
		memcpy(p->src.v6, kat_src6, 16);
		memcpy(p->dst.v6, kat_dst6, 16);
	}
	/* the vectors' inner packets are IPv4, over IPv6 too: 4in6 */
	p->af_unspec = true;
	memcpy(p->key, k->key, k->key_len);
	p->key_len = k->key_len;
	p->icv_len = 16;
	p->esn = k->aad_len == 12;
	p->replay_window = p->esn ? 64 : 0;
}

static void
gcm_step(const struct espgw_worker *w)
{
	for (size_t v = 0; v < ESPGW_NB_KATS; v++) {
		const struct espgw_kat *k = &espgw_kats[v];
		enum espgw_key_size ks = k->key_len == 20   ? ESPGW_AES128
					 : k->key_len == 28 ? ESPGW_AES192
							    : ESPGW_AES256;
		struct gcm_key_data key __rte_aligned(64);
		struct gcm_context_data ctx;
		uint8_t buf[2048], nonce[12], tag[16];

		assert_int_equal(espgw_gcm_expand(ks, k->key, &key), 0);
		memcpy(nonce, k->key + k->key_len - 4, 4);
		memcpy(nonce + 4, k->iv, 8);
		memcpy(buf, k->ptext, k->plen);
		w->enc[ks](&key, &ctx, buf, buf, k->plen, nonce, k->aad,
			   k->aad_len, buf + k->plen, 16);
		if (memcmp(buf, k->ctext, k->clen) != 0)
			fail_msg("%s: ciphertext differs", k->name);
		w->dec[ks](&key, &ctx, buf, buf, k->plen, nonce, k->aad,
			   k->aad_len, tag, 16);
		if (memcmp(buf, k->ptext, k->plen) != 0 ||
		    memcmp(tag, k->ctext + k->plen, 16) != 0)
			fail_msg("%s: decryption differs", k->name);
	}
}

static void
test_gcm_step(void **state)
{
	(void)state;
	gcm_step(W);
}

/* Where a function is mapped: which copy of the library it is in. */
static const void *
lib_base(const void *fn)
{
	Dl_info info;

	assert_int_not_equal(dladdr(fn, &info), 0);
	return info.dli_fbase;
}

static const void *
lib_copy(const struct espgw_worker *w)
{
	return lib_base((const void *)w->enc[ESPGW_AES128]);
}

/* Before 1.4 every worker has a copy of intel-ipsec-mb of its own (its
 * own imb_errno, lib/crypto.c), a freed worker's copy is handed on, and
 * keys expanded with the linked copy work in every one of them. */
static void
test_workers_own_copies(void **state)
{
	struct espgw_worker *w2 = espgw_worker_create(2, SOCKET_ID_ANY);
	struct espgw_worker *w3 = espgw_worker_create(3, SOCKET_ID_ANY);
	const void *linked = lib_base((const void *)alloc_mb_mgr);
	const void *c3;

	(void)state;
	assert_non_null(w2);
	assert_non_null(w3);
	gcm_step(w2);
	gcm_step(w3);
	if (imb_get_version() < IMB_VERSION(1, 4, 0)) {
		assert_ptr_not_equal(lib_copy(W), linked);
		assert_ptr_not_equal(lib_copy(w2), linked);
		assert_ptr_not_equal(lib_copy(w2), lib_copy(W));
		assert_ptr_not_equal(lib_copy(w3), lib_copy(w2));
	}
	c3 = lib_copy(w3);
	espgw_worker_free(w3);
	w3 = espgw_worker_create(3, SOCKET_ID_ANY);
	assert_non_null(w3);
	assert_ptr_equal(lib_copy(w3), c3);
	gcm_step(w3);
	espgw_worker_free(w3);
	espgw_worker_free(w2);
}

/* The outer header's length: 20 or 40. */
static uint16_t
kat_hl(void)
{
	return kat_v6 ? 40 : 20;
}

/* outer IPv4 or IPv6 | SPI | seq | IV | ciphertext+ICV of a vector */
static struct rte_mbuf *
kat_packet(const struct espgw_kat *k, const struct espgw_sa_params *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);
	const uint16_t hl = kat_hl();
	uint16_t len = hl + 8 + 8 + k->clen;
	struct rte_ipv6_hdr ip6 = {
		.vtc_flow = rte_cpu_to_be_32(6u << 28),
		.payload_len = rte_cpu_to_be_16(len - 40),
		.proto = 50,
		.hop_limits = 64,
	};
	struct rte_ipv4_hdr ip = {
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16(len),
		.time_to_live = 64,
		.next_proto_id = 50,
		.src_addr = p->src.v4,
		.dst_addr = p->dst.v4,
	};
	uint8_t *d;

	assert_non_null(m);
	ip.hdr_checksum = rte_ipv4_cksum(&ip);
	memcpy(ip6.src_addr, p->src.v6, 16);
	memcpy(ip6.dst_addr, p->dst.v6, 16);
	d = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(d);
	if (kat_v6)
		memcpy(d, &ip6, 40);
	else
		memcpy(d, &ip, 20);
	memcpy(d + hl, k->aad, 4);			/* SPI */
	memcpy(d + hl + 4, k->aad + k->aad_len - 4, 4); /* seq-lo */
	memcpy(d + hl + 8, k->iv, 8);
	memcpy(d + hl + 16, k->ctext, k->clen);
	return m;
}

static enum espgw_drop
decap_drop(struct espgw_sad *sad, struct espgw_sa *sa, struct rte_mbuf *m)
{
	struct espgw_sa_stats before, after;
	uint64_t wd[ESPGW_DROP_MAX];

	espgw_sa_stats_read(sa, &before);
	if (espgw_esp_inbound(W, sad, &m, NULL, 1) == 1) {
		rte_pktmbuf_free(m);
		return ESPGW_DROP_MAX;
	}
	rte_pktmbuf_free(m);
	espgw_sa_stats_read(sa, &after);
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		if (after.drops[d] != before.drops[d])
			return d;
	espgw_worker_drops_read(W, wd);
	fail_msg("dropped, but not on the SA");
	return ESPGW_DROP_MAX;
}

/* Does the plaintext end in RFC 4303 padding with next header 1 after
 * an IPv4 packet of the right length? */
static int
ipv4_with_nh1(const struct espgw_kat *k)
{
	const uint8_t *p = k->ptext;
	uint16_t ilen, pad = p[k->plen - 2];

	if (p[k->plen - 1] != 1 || (p[0] >> 4) != 4 || k->plen < 22)
		return 0;
	ilen = (uint16_t)(p[2] << 8 | p[3]);
	if (ilen + pad + 2 != k->plen)
		return 0;
	for (uint16_t i = 0; i < pad; i++)
		if (p[ilen + i] != i + 1)
			return 0;
	return ilen;
}

static void
inbound_packets(void)
{
	unsigned int nh1 = 0, tested = 0;

	for (size_t v = 0; v < ESPGW_NB_KATS; v++) {
		const struct espgw_kat *k = &espgw_kats[v];
		struct espgw_sad *sad;
		struct espgw_sa_params p;
		struct espgw_sa *sa;
		struct rte_mbuf *m;
		enum espgw_drop d;

		kat_params(k, &p, ESPGW_SA_IN);
		if (p.spi == 0) /* reserved: no SA can carry it */
			continue;
		sad = espgw_sad_create("katsad", 8, SOCKET_ID_ANY);
		assert_non_null(sad);
		tested++;
		/* the receiver's window sits just below the vector's number,
		 * so ESN inference yields the vector's seq-hi */
		p.iseq = kat_seq(k) ? kat_seq(k) - 1 : 0;
		sa = t_sa(&p);
		assert_int_equal(espgw_sad_add(sad, sa), 0);

		/* a flipped bit first: the ICV fails and, being checked
		 * before the window moves, leaves the number unused */
		m = kat_packet(k, &p);
		rte_pktmbuf_mtod(m, uint8_t *)[kat_hl() + 16 + k->clen / 2] ^=
			0x10;
		assert_int_equal(decap_drop(sad, sa, m), ESPGW_DROP_BAD_ICV);

		d = decap_drop(sad, sa, kat_packet(k, &p));
		if (d == ESPGW_DROP_BAD_ICV || d == ESPGW_DROP_UNKNOWN_SPI ||
		    d == ESPGW_DROP_BEHIND_WINDOW || d == ESPGW_DROP_REPLAYED)
			fail_msg("%s: dropped as %s before the payload",
				 k->name, espgw_drop_name(d));
		/* none is a tunnel payload: each fails on its framing */
		assert_int_not_equal(d, ESPGW_DROP_MAX);
		if (ipv4_with_nh1(k)) {
			assert_int_equal(d, ESPGW_DROP_BAD_NEXT_HEADER);
			nh1++;
		}
		espgw_sad_free(sad);
		espgw_sa_free(sa);
	}
	printf("# outer IPv%d: %u vectors as packets (the rest have the "
	       "reserved SPI 0), %u of them IPv4 with next header 1\n",
	       kat_v6 ? 6 : 4, tested, nh1);
	assert_int_equal(nh1, 7);
	assert_true(tested >= 14);
}

static void
test_inbound_packets(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		kat_v6 = v6;
		inbound_packets();
	}
	kat_v6 = false;
}

static void
outbound_bytes(void)
{
	const uint16_t hl = kat_hl();
	unsigned int checked = 0;

	for (size_t v = 0; v < ESPGW_NB_KATS; v++) {
		const struct espgw_kat *k = &espgw_kats[v];
		uint16_t ilen = (uint16_t)ipv4_with_nh1(k);
		struct espgw_sa_params p;
		struct espgw_sa *sa;
		struct rte_mbuf *m;
		uint64_t iv_be, seq = kat_seq(k);
		const uint8_t *d;

		kat_params(k, &p, ESPGW_SA_OUT);
		if (ilen == 0 || p.spi == 0)
			continue;
		p.oseq = seq - 1;
		sa = t_sa(&p);
		/* make seqiv yield the vector's IV for this number */
		memcpy(&iv_be, k->iv, 8);
		sa->iv_base = rte_be_to_cpu_64(iv_be) ^ seq;

		m = rte_pktmbuf_alloc(t_pool);
		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, ilen), k->ptext, ilen);
		assert_int_equal(espgw_esp_outbound(W, sa, &m, 1), 1);
		assert_int_equal(m->data_len, hl + 8 + 8 + k->clen);
		d = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(d[0] >> 4, kat_v6 ? 6 : 4);
		assert_memory_equal(d + hl, k->aad, 4);
		assert_memory_equal(d + hl + 4, k->aad + k->aad_len - 4, 4);
		assert_memory_equal(d + hl + 8, k->iv, 8);
		if (memcmp(d + hl + 16, k->ctext, k->plen - 1) != 0)
			fail_msg("%s: ciphertext differs", k->name);
		assert_int_equal(d[hl + 16 + k->plen - 1],
				 k->ctext[k->plen - 1] ^ 1 ^ 4);
		rte_pktmbuf_free(m);
		espgw_sa_free(sa);
		checked++;
	}
	assert_int_equal(checked, 7);
}

static void
test_outbound_bytes(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		kat_v6 = v6;
		outbound_bytes();
	}
	kat_v6 = false;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gcm_step, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_workers_own_copies,
						t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_inbound_packets, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_outbound_bytes, t_setup,
						t_teardown),
	};
	int rc;

	(void)argc;
	t_eal_init(argv[0]);
	W = espgw_worker_create(0, SOCKET_ID_ANY);
	if (W == NULL)
		return 1;
	printf("# %zu RFC 4106 vectors\n", (size_t)ESPGW_NB_KATS);
	rc = cmocka_run_group_tests_name("kat", tests, NULL, NULL);
	espgw_worker_free(W);
	rte_mempool_free(t_pool);
	rte_eal_cleanup();
	return rc;
}
