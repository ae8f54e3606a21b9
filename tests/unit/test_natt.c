/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* ESP in UDP (RFC 3948) through the library: the outbound framing, the
 * round trip, plain ESP and UDP on the wrong kind of SA, UDP checksums
 * (0 or valid taken, a bad one dropped), and the peer's mapping seen
 * only on authentic packets. */

#include "common.h"

#include <arpa/inet.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "espgw/ipv4.h"
#include "sa.h"

static struct espgw_worker *W;
static struct espgw_sad *SAD;

/* An SA pair like `... encap espinudp SPORT DPORT 0.0.0.0` on both ends
 * (udp false: plain ESP). */
static void
pair(struct espgw_sa **out, struct espgw_sa **in, uint32_t spi, bool udp_out,
     bool udp_in)
{
	struct espgw_sa_params p;

	t_sa_params(&p, ESPGW_SA_OUT, spi, 20, 16, false, 64, (uint8_t)spi);
	p.encap = (struct espgw_sa_encap){ .udp = udp_out,
					   .sport = 4500,
					   .dport = 4501 };
	*out = t_sa(&p);
	p.dir = ESPGW_SA_IN;
	p.encap.udp = udp_in;
	*in = t_sa(&p);
	assert_int_equal(espgw_sad_add(SAD, *in), 0);
}

static struct rte_udp_hdr *
udp_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 20);
}

static void
test_outbound_framing(void **state)
{
	struct espgw_sa *out, *in;
	struct rte_mbuf *m = t_inner(4, 100, 0x2e, true, 1), *copy = t_clone(m);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *u;
	uint16_t inner_len = m->data_len;

	(void)state;
	pair(&out, &in, 0x8001, true, true);
	assert_int_equal(espgw_esp_outbound(W, out, &m, 1), 1);
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	u = udp_of(m);
	assert_int_equal(ip->next_proto_id, 17);
	assert_int_equal(ip->type_of_service, 0x2e);
	assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset), 0x4000);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), m->pkt_len);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), 4500);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), 4501);
	assert_int_equal(rte_be_to_cpu_16(u->dgram_len), m->pkt_len - 20);
	assert_int_equal(u->dgram_cksum, 0); /* RFC 3948 section 3.1.1 */
	/* the SPI and sequence number right after the UDP header */
	assert_int_equal(rte_be_to_cpu_32(*(const uint32_t *)(u + 1)), 0x8001);
	assert_int_equal(rte_be_to_cpu_32(*((const uint32_t *)(u + 1) + 1)), 1);
	/* 20 + 8 + 8 + 8 + inner + pad + 2 + 16 */
	assert_int_equal(m->pkt_len, 44 + ((inner_len + 2 + 3) & ~3u) + 16);
	assert_int_equal(espgw_sa_outer_len(espgw_sa_params(out)), 44);
	assert_int_equal(espgw_esp_inbound(W, SAD, &m, NULL, 1), 1);
	t_assert_same(m, copy);
	t_free(&m, 1);
	t_free(&copy, 1);

	/* an update to a new port (a NAT rebound followed): the next
	 * packet goes there, numbered on */
	espgw_sa_set_ports(out, 4500, 61000);
	assert_int_equal(espgw_sa_params(out)->encap.dport, 61000);
	m = t_inner(4, 10, 0, false, 2);
	assert_int_equal(espgw_esp_outbound(W, out, &m, 1), 1);
	u = udp_of(m);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), 61000);
	assert_int_equal(rte_be_to_cpu_32(*((const uint32_t *)(u + 1) + 1)), 2);
	t_free(&m, 1);
	t_unpair(SAD, out, in);
}

/* xfrm_input: an SA takes its own kind only (XfrmInStateMismatch). */
static void
test_mismatch(void **state)
{
	struct espgw_sa *out, *in;
	struct rte_mbuf *m;

	(void)state;
	pair(&out, &in, 0x8002, false, true);
	m = t_inner(4, 50, 0, false, 2);
	assert_int_equal(espgw_esp_outbound(W, out, &m, 1), 1);
	assert_int_equal(espgw_esp_inbound(W, SAD, &m, NULL, 1), 0);
	assert_int_equal(t_sa_drop(in, ESPGW_DROP_UDP_ENCAP_MISSING), 1);
	t_free(&m, 1);
	t_unpair(SAD, out, in);

	pair(&out, &in, 0x8003, true, false);
	m = t_inner(4, 50, 0, false, 3);
	assert_int_equal(espgw_esp_outbound(W, out, &m, 1), 1);
	assert_int_equal(espgw_esp_inbound(W, SAD, &m, NULL, 1), 0);
	assert_int_equal(t_sa_drop(in, ESPGW_DROP_UDP_ENCAP_UNEXPECTED), 1);
	t_free(&m, 1);
	t_unpair(SAD, out, in);
}

/* RFC 768 checksum over the pseudo-header, as a sender that sets one
 * would write it. */
static void
set_udp_cksum(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_udp_hdr *u = udp_of(m);

	u->dgram_cksum = 0;
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
}

static void
test_checksums(void **state)
{
	struct espgw_sa *out, *in;
	struct rte_mbuf *m[3];
	uint64_t before;

	(void)state;
	pair(&out, &in, 0x8004, true, true);
	for (int i = 0; i < 3; i++)
		m[i] = t_inner(4, (uint16_t)(30 + i), 0, false, (uint8_t)i);
	assert_int_equal(espgw_esp_outbound(W, out, m, 3), 3);
	set_udp_cksum(m[1]); /* a valid one: taken */
	set_udp_cksum(m[2]);
	udp_of(m[2])->dgram_cksum ^= 0x0101; /* wrong: dropped */
	before = t_w_drop(W, ESPGW_DROP_BAD_UDP_CHECKSUM);
	assert_int_equal(espgw_esp_inbound(W, SAD, m, NULL, 3), 2);
	assert_int_equal(t_w_drop(W, ESPGW_DROP_BAD_UDP_CHECKSUM) - before, 1);
	t_free(m, 3);
	t_unpair(SAD, out, in);
}

/* The NAT rebound: a new source port and address on an authentic
 * packet is reported once; a forged one never moves it (RFC 3948
 * section 5.2; esp_input_done2 calls km_new_mapping after the ICV). */
static void
test_mapping(void **state)
{
	struct espgw_sa *out, *in;
	struct rte_mbuf *m[4];
	uint32_t addr, nat;
	uint16_t port;

	(void)state;
	inet_pton(AF_INET, "203.0.113.7", &nat);
	pair(&out, &in, 0x8005, true, true);
	for (int i = 0; i < 4; i++)
		m[i] = t_inner(4, 40, 0, false, (uint8_t)i);
	assert_int_equal(espgw_esp_outbound(W, out, m, 4), 4);
	/* 0: as the state says; 1: forged from the NAT (bad ICV); 2, 3: the
	 * NAT's new mapping, authentic */
	for (int i = 1; i < 4; i++) {
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod(m[i], struct rte_ipv4_hdr *);

		ip->src_addr = nat;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp_of(m[i])->src_port = rte_cpu_to_be_16(61000);
	}
	rte_pktmbuf_mtod(m[1], uint8_t *)[m[1]->data_len - 1] ^= 1;
	assert_int_equal(espgw_esp_inbound(W, SAD, m, NULL, 2), 1);
	assert_false(espgw_sa_mapping(in, &addr, &port));
	assert_int_equal(espgw_esp_inbound(W, SAD, m + 2, NULL, 2), 2);
	assert_true(espgw_sa_mapping(in, &addr, &port));
	assert_int_equal(addr, nat);
	assert_int_equal(port, 61000);
	assert_false(espgw_sa_mapping(in, &addr, &port)); /* taken */
	{
		struct espgw_sa_stats st;

		espgw_sa_stats_read(in, &st);
		assert_int_equal(st.mappings, 1); /* one change, two packets */
	}
	t_free(m, 4);
	t_unpair(SAD, out, in);
}

/* A new address followed (espgw_sa_set_peer, as an IKE daemon migrates
 * the states): outbound packets go to it with a valid header checksum,
 * numbered on; the inbound SA takes it as its peer, so it is no longer a
 * mapping change and the old address is one; templates see the new. */
static void
test_set_peer(void **state)
{
	struct espgw_sa *out, *in;
	struct rte_mbuf *m[2];
	const struct rte_ipv4_hdr *ip;
	uint32_t nat, old, old_in, addr;
	uint16_t port;

	(void)state;
	inet_pton(AF_INET, "203.0.113.7", &nat);
	pair(&out, &in, 0x8006, true, true);
	old = espgw_sa_params(out)->dst.v4;
	old_in = espgw_sa_params(in)->src.v4;
	for (int i = 0; i < 2; i++)
		m[i] = t_inner(4, 40, 0, false, (uint8_t)i);
	assert_int_equal(espgw_esp_outbound(W, out, m, 1), 1);
	espgw_sa_set_peer(out, nat, 61000);
	espgw_sa_set_peer(in, nat, 61000);
	assert_int_equal(espgw_sa_params(out)->dst.v4, nat);
	assert_int_equal(espgw_sa_params(out)->encap.dport, 61000);
	assert_int_equal(espgw_sa_params(in)->src.v4, nat);
	assert_int_equal(espgw_sa_params(in)->encap.sport, 61000);
	assert_true(espgw_sa_tmpl_match(out, 0, 0, nat));
	assert_false(espgw_sa_tmpl_match(out, 0, 0, old));
	assert_true(espgw_sa_tmpl_match(in, 0, nat, 0));
	assert_false(espgw_sa_tmpl_match(in, 0, old_in, 0));

	assert_int_equal(espgw_esp_outbound(W, out, m + 1, 1), 1);
	ip = rte_pktmbuf_mtod(m[1], const struct rte_ipv4_hdr *);
	assert_int_equal(ip->dst_addr, nat);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(rte_be_to_cpu_16(udp_of(m[1])->src_port), 4500);
	assert_int_equal(rte_be_to_cpu_16(udp_of(m[1])->dst_port), 61000);
	assert_int_equal(
		rte_be_to_cpu_32(*((const uint32_t *)(udp_of(m[1]) + 1) + 1)),
		2);

	/* from the old place (m[0], as sent before): now a change */
	assert_int_equal(espgw_esp_inbound(W, SAD, m, NULL, 1), 1);
	assert_true(espgw_sa_mapping(in, &addr, &port));
	assert_int_equal(addr, old_in);
	assert_int_equal(port, 4500);
	/* from the new one: none (the packet's src as the NAT wrote it) */
	{
		struct rte_ipv4_hdr *h =
			rte_pktmbuf_mtod(m[1], struct rte_ipv4_hdr *);

		h->src_addr = nat;
		h->dst_addr = old; /* the in SA's end: this test's loop */
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
		udp_of(m[1])->src_port = rte_cpu_to_be_16(61000);
	}
	assert_int_equal(espgw_esp_inbound(W, SAD, m + 1, NULL, 1), 1);
	assert_false(espgw_sa_mapping(in, &addr, &port));
	t_free(m, 2);
	t_unpair(SAD, out, in);

	/* plain ESP: an address only, the checksum still right */
	pair(&out, &in, 0x8007, false, false);
	espgw_sa_set_peer(out, nat, 0);
	m[0] = t_inner(4, 40, 0, false, 3);
	assert_int_equal(espgw_esp_outbound(W, out, m, 1), 1);
	ip = rte_pktmbuf_mtod(m[0], const struct rte_ipv4_hdr *);
	assert_int_equal(ip->next_proto_id, 50);
	assert_int_equal(ip->dst_addr, nat);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	t_free(m, 1);
	t_unpair(SAD, out, in);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outbound_framing, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_mismatch, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_checksums, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_mapping, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_set_peer, t_setup,
						t_teardown),
	};

	(void)argc;
	return t_esp_main(argv[0], "natt", tests, RTE_DIM(tests), &W, &SAD);
}
