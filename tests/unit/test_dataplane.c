/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Data-path fates that the pcap and namespace tests cannot provoke,
 * because virtual ports and DPDK's pools never run short there: a TX
 * queue that refuses packets (drop-tx-full), a reassembled datagram
 * with no buffer to flatten into (drop-no-mbuf), a packet without
 * headroom for its Ethernet header (drop-no-headroom); and the IPv4
 * header check's martians. Each fate is counted once, and every mbuf
 * is back in its pool afterwards. */

#include "common.h"

#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>

#include "dataplane/ctx.h"
#include "dataplane/frag.h"
#include "dataplane/ipv4.h"
#include "dataplane/tx.h"

static struct gw gw;
static struct gw_worker w;
static struct gw_ctx c;

static void
ctx_reset(void)
{
	memset(&w, 0, sizeof(w));
	memset(&c, 0, sizeof(c));
	c.gw = &gw;
	c.w = &w;
	c.hz = rte_get_tsc_hz();
}

static struct rte_mbuf *
packet(uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_pool);

	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, len));
	memset(rte_pktmbuf_mtod(m, void *), 0, len);
	return m;
}

/* A port on a ring of 8 slots (7 usable) that nobody drains: the 10
 * packets queued for it are 7 sent and 3 drop-tx-full. */
static void
test_tx_full(void **state)
{
	struct rte_ring *r = rte_ring_create("t_tx_ring", 8, SOCKET_ID_ANY,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_eth_conf conf = { 0 };
	struct rte_mbuf *sent[8];
	int port;
	unsigned int n;

	(void)state;
	assert_non_null(r);
	port = rte_eth_from_ring(r);
	assert_true(port >= 0 && port < GW_MAX_PORTS);
	assert_int_equal(rte_eth_dev_configure((uint16_t)port, 1, 1, &conf), 0);
	assert_int_equal(rte_eth_rx_queue_setup((uint16_t)port, 0, 8,
						SOCKET_ID_ANY, NULL, t_pool),
			 0);
	assert_int_equal(rte_eth_tx_queue_setup((uint16_t)port, 0, 8,
						SOCKET_ID_ANY, NULL),
			 0);
	assert_int_equal(rte_eth_dev_start((uint16_t)port), 0);
	ctx_reset();
	for (int i = 0; i < 10; i++)
		c.txq[port].m[c.txq[port].n++] = packet(60);
	gw_tx_flush(&c, (uint16_t)port);
	assert_int_equal(w.cnt[GW_TX], 7);
	assert_int_equal(w.cnt[GW_DROP_TX_FULL], 3);
	assert_int_equal(c.txq[port].n, 0);
	n = rte_ring_dequeue_burst(r, (void **)sent, RTE_DIM(sent), NULL);
	assert_int_equal(n, 7);
	rte_pktmbuf_free_bulk(sent, n);
	rte_eth_dev_stop((uint16_t)port);
	rte_eth_dev_close((uint16_t)port);
	rte_ring_free(r);
}

/* An mbuf that has lost its headroom cannot take an Ethernet header. */
static void
test_no_headroom(void **state)
{
	struct rte_ether_hdr h = { .ether_type =
					   RTE_BE16(RTE_ETHER_TYPE_IPV4) };
	struct rte_mbuf *m = packet(60);

	(void)state;
	ctx_reset();
	assert_non_null(rte_pktmbuf_prepend(m, rte_pktmbuf_headroom(m)));
	gw_tx_eth(&c, m, 0, &h);
	assert_int_equal(w.cnt[GW_DROP_NO_HEADROOM], 1);
	assert_int_equal(c.txq[0].n, 0);
}

/* One of the two fragments of a 3,000-byte datagram (RFC 791). */
static struct rte_mbuf *
fragment(bool first)
{
	uint16_t plen = first ? 1480 : 1500;
	struct rte_mbuf *m = packet(sizeof(struct rte_ipv4_hdr) + plen);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(m->data_len);
	ip->packet_id = RTE_BE16(7);
	ip->fragment_offset =
		rte_cpu_to_be_16(first ? RTE_IPV4_HDR_MF_FLAG : 1480 / 8);
	ip->time_to_live = 64;
	ip->next_proto_id = ESPGW_IPPROTO_ESP;
	ip->src_addr = RTE_BE32(T_IPV4(198, 51, 100, 1));
	ip->dst_addr = RTE_BE32(T_IPV4(192, 0, 2, 1));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static struct rte_mbuf *
reassemble(struct rte_mbuf *m)
{
	return gw_reassemble(&c, m, rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *));
}

/* The datagram does not fit one 2 KB buffer: with a free 64 KB buffer
 * it comes out whole, in one segment; with none, it is drop-no-mbuf
 * and its fragments go back to their pool. */
static void
test_reassembly_buffer(void **state)
{
	struct rte_mbuf *whole, *hog;

	(void)state;
	gw.jumbo_pool = rte_pktmbuf_pool_create("t_jumbo", 1, 0, 0, UINT16_MAX,
						SOCKET_ID_ANY);
	assert_non_null(gw.jumbo_pool);
	ctx_reset();
	w.frag_tbl = rte_ip_frag_table_create(16, 4, 64, c.hz, SOCKET_ID_ANY);
	assert_non_null(w.frag_tbl);

	assert_null(reassemble(fragment(true)));
	whole = reassemble(fragment(false));
	assert_non_null(whole);
	assert_int_equal(whole->nb_segs, 1);
	assert_int_equal(whole->pkt_len, 3000);
	assert_int_equal(w.cnt[GW_REASSEMBLED], 1);
	assert_int_equal(w.cnt[GW_FRAGS_MERGED], 1);
	assert_int_equal(w.cnt[GW_DROP_NO_MBUF], 0);
	rte_pktmbuf_free(whole);

	hog = rte_pktmbuf_alloc(gw.jumbo_pool);
	assert_non_null(hog);
	assert_null(reassemble(fragment(false)));
	assert_null(reassemble(fragment(true)));
	assert_int_equal(w.cnt[GW_REASSEMBLED], 2);
	assert_int_equal(w.cnt[GW_DROP_NO_MBUF], 1);
	rte_pktmbuf_free(hog);

	gw_reassembly_release(&w);
	assert_int_equal(w.cnt[GW_HELD_REASSEMBLY], 0);
	rte_ip_frag_table_destroy(w.frag_tbl);
	rte_mempool_free(gw.jumbo_pool);
}

/* An IPv4 packet from src to dst with a good header. */
static struct rte_mbuf *
ip_from_to(uint32_t src, uint32_t dst)
{
	struct rte_mbuf *m = packet(sizeof(struct rte_ipv4_hdr) + 8);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(m->data_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

/* RFC 1812 section 5.3.7: martians never pass the header check (fuzz_rx
 * saw 192.0.2.255 -> 127.0.0.1 forwarded); a DHCP client's 0.0.0.0 to
 * 255.255.255.255 and ordinary unicast and multicast do. */
static void
test_martians(void **state)
{
	static const uint32_t bad[][2] = {
		{ T_IPV4(10, 0, 1, 5), T_IPV4(127, 0, 0, 1) },
		{ T_IPV4(127, 0, 0, 1), T_IPV4(10, 0, 2, 7) },
		{ T_IPV4(224, 0, 0, 1), T_IPV4(10, 0, 2, 7) },
		{ T_IPV4(255, 255, 255, 255), T_IPV4(10, 0, 2, 7) },
		{ T_IPV4(0, 0, 0, 0), T_IPV4(10, 0, 2, 7) },
		{ T_IPV4(0, 1, 2, 3), T_IPV4(10, 0, 2, 7) },
		{ T_IPV4(10, 0, 1, 5), T_IPV4(0, 0, 0, 0) },
	};
	static const uint32_t good[][2] = {
		{ T_IPV4(10, 0, 1, 5), T_IPV4(10, 0, 2, 7) },
		{ T_IPV4(0, 0, 0, 0), T_IPV4(255, 255, 255, 255) },
		{ T_IPV4(10, 0, 1, 5), T_IPV4(224, 0, 0, 251) },
	};

	(void)state;
	for (unsigned int i = 0; i < RTE_DIM(bad); i++) {
		struct rte_mbuf *m = ip_from_to(bad[i][0], bad[i][1]);

		assert_null(gw_ipv4_check(m));
		rte_pktmbuf_free(m);
	}
	for (unsigned int i = 0; i < RTE_DIM(good); i++) {
		struct rte_mbuf *m = ip_from_to(good[i][0], good[i][1]);

		assert_non_null(gw_ipv4_check(m));
		rte_pktmbuf_free(m);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_full, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_no_headroom, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_reassembly_buffer, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_martians, t_setup,
						t_teardown),
	};

	(void)argc;
	t_eal_init(argv[0]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
