/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Data-path fates that the pcap and namespace tests cannot provoke,
 * because virtual ports and DPDK's pools never run short there: a TX
 * queue that refuses packets (drop-tx-full), a reassembled datagram
 * with no buffer to flatten into (drop-no-mbuf), a packet without
 * headroom for its Ethernet header (drop-no-headroom); the IPv4
 * header check's martians and its use of the NIC's checksum verdict;
 * the send path's remembered destination across links of different
 * MTU and a next hop not yet resolved; and the fused pass for clear
 * and protected forwarding, which must keep each flow's order. Each
 * fate is counted once, and every mbuf is back in its pool afterwards. */

#include "common.h"

#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>

#include "control/tables.h"
#include "dataplane/ctx.h"
#include "dataplane/frag.h"
#include "dataplane/fused.h"
#include "dataplane/ipv4.h"
#include "dataplane/rx.h"
#include "dataplane/route.h"
#include "dataplane/tx.h"
#include "lang/config.h"

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

/* RFC 1812 section 5.3.7: martians are well-formed but told apart
 * (fuzz_rx saw 192.0.2.255 -> 127.0.0.1 forwarded); a DHCP client's
 * 0.0.0.0 to 255.255.255.255 and ordinary unicast and multicast are
 * not martians. */
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

		assert_non_null(gw_ipv4_check(m));
		assert_true(gw_ipv4_martian(
			rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)));
		rte_pktmbuf_free(m);
	}
	for (unsigned int i = 0; i < RTE_DIM(good); i++) {
		struct rte_mbuf *m = ip_from_to(good[i][0], good[i][1]);

		assert_non_null(gw_ipv4_check(m));
		assert_false(gw_ipv4_martian(
			rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)));
		rte_pktmbuf_free(m);
	}
}

/* The NIC's checksum verdict (RTE_MBUF_F_RX_IP_CKSUM_*) decides where
 * there is one; without, the header's checksum is computed. */
static void
test_cksum_offload(void **state)
{
	static const struct {
		uint64_t flag;
		bool bad_sum, pass;
	} cases[] = {
		{ RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, false, true },
		{ RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, true, false },
		{ RTE_MBUF_F_RX_IP_CKSUM_GOOD, true, true },
		{ RTE_MBUF_F_RX_IP_CKSUM_BAD, false, false },
		{ RTE_MBUF_F_RX_IP_CKSUM_NONE, true, false },
	};

	(void)state;
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		struct rte_mbuf *m =
			ip_from_to(T_IPV4(10, 0, 1, 5), T_IPV4(10, 0, 2, 7));
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

		if (cases[i].bad_sum)
			ip->hdr_checksum ^= 0x0101;
		m->ol_flags = cases[i].flag;
		if (cases[i].pass)
			assert_non_null(gw_ipv4_check(m));
		else
			assert_null(gw_ipv4_check(m));
		rte_pktmbuf_free(m);
	}
}

/* Two links, net_null1 of MTU 1500 and net_null2 of 1280, a known
 * neighbour on each and one not yet resolved on the first. */
static const char *const two_links[] = {
	"ip link set dev net_null1 up mtu 1500",
	"ip addr add 192.0.2.1/24 dev net_null1",
	"ip link set dev net_null2 up mtu 1280",
	"ip addr add 198.51.100.1/24 dev net_null2",
	NULL,
};
static const struct rte_ether_addr mac_a = { { 2, 0, 0, 0, 0, 0xa } };
static const struct rte_ether_addr mac_d = { { 2, 0, 0, 0, 0, 0xd } };

/* A frame queued for port: its destination MAC, and its IP length no
 * more than the link's MTU. */
static void
assert_frame(uint16_t port, unsigned int i, const struct rte_ether_addr *to,
	     uint16_t mtu)
{
	struct rte_mbuf *m = c.txq[port].m[i];
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);

	assert_true(i < c.txq[port].n);
	assert_memory_equal(&eth->dst_addr, to, sizeof(*to));
	assert_true(rte_be_to_cpu_16(ip->total_length) <= mtu);
	assert_int_equal(m->pkt_len,
			 sizeof(*eth) + rte_be_to_cpu_16(ip->total_length));
}

static struct rte_mbuf *
ip_len_to(uint32_t dst, uint16_t len)
{
	struct rte_mbuf *m = ip_from_to(T_IPV4(10, 0, 1, 5), dst);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	assert_non_null(rte_pktmbuf_append(m, len - m->data_len));
	ip->total_length = rte_cpu_to_be_16(len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

/* The tables of two_links and the lines more (NULL-terminated) after
 * them, as the control thread builds them from a configuration. */
static struct gw_tables *
two_links_with(const char *const *more)
{
	struct gw_change chg = { .what = GW_CHANGED_ALL };
	struct espgw_cfg cfg;
	struct gw_tables *t;
	char err[256];
	int line = 1;

	espgw_cfg_init(&cfg, "test");
	for (int i = 0; two_links[i] != NULL; i++)
		assert_int_equal(espgw_cfg_parse_line(&cfg, two_links[i],
						      line++, err, sizeof(err)),
				 0);
	for (int i = 0; more[i] != NULL; i++)
		assert_int_equal(espgw_cfg_parse_line(&cfg, more[i], line++,
						      err, sizeof(err)),
				 0);
	t = gw_tables_build(&cfg, 1, NULL, NULL, &chg, err, sizeof(err));
	espgw_cfg_free(&cfg);
	assert_non_null(t);
	return t;
}

/* The two links' ports, and the gateway's pool and neighbour table, as
 * the forwarding tests start them. */
static void
links_up(uint16_t *p1, uint16_t *p2)
{
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null1", p1), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null2", p2), 0);
	gw.pool = t_pool;
	assert_int_equal(gw_neigh_init(&gw.neigh, 64), 0);
}

/* What they leave: the frames queued for both ports, the packets held,
 * the neighbour table and their tables t and t2 (or NULL). */
static void
links_down(uint16_t p1, uint16_t p2, struct gw_tables *t, struct gw_tables *t2)
{
	rte_pktmbuf_free_bulk(c.txq[p1].m, c.txq[p1].n);
	rte_pktmbuf_free_bulk(c.txq[p2].m, c.txq[p2].n);
	for (unsigned int i = 0; i < w.nb_pending; i++)
		rte_pktmbuf_free(w.pending[i].m);
	gw_neigh_fini(&gw.neigh);
	gw_tables_free(t);
	if (t2 != NULL)
		gw_tables_free(t2);
	memset(&gw, 0, sizeof(gw));
}

/* gw_send_ip_fast reuses the last destination's route, MTU and next
 * hop only while they are that destination's: a packet to a next hop
 * being resolved in between (its route looked up, its hop not) must
 * not leave the small link's 1400-byte packet unfragmented, nor a
 * second destination on a link take the first one's MAC. */
static void
test_send_cache(void **state)
{
	static const char *const nothing[] = { NULL };
	struct gw_tables *t;
	struct rte_mempool *ind;
	uint16_t p1, p2;

	(void)state;
	links_up(&p1, &p2);
	t = two_links_with(nothing);
	ind = rte_pktmbuf_pool_create("t_indirect", 63, 0, 0, 0, SOCKET_ID_ANY);
	assert_non_null(ind);
	gw.indirect_pool = ind;
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(T_IPV4(198, 51, 100, 10)), &mac_a,
		     true);
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(T_IPV4(198, 51, 100, 13)), &mac_d,
		     true);
	ctx_reset();
	c.t = t;

	/* A on the small link, then B on the big one, held for ARP */
	gw_send_ip_fast(&c, ip_len_to(T_IPV4(198, 51, 100, 10), 1000));
	gw_send_ip_fast(&c, ip_len_to(T_IPV4(192, 0, 2, 66), 1400));
	assert_int_equal(w.nb_pending, 1);
	/* A again, too long for its link: two fragments, not one frame */
	gw_send_ip_fast(&c, ip_len_to(T_IPV4(198, 51, 100, 10), 1400));
	/* D beside A, then D again: D's MAC both times */
	gw_send_ip_fast(&c, ip_len_to(T_IPV4(198, 51, 100, 13), 100));
	gw_send_ip_fast(&c, ip_len_to(T_IPV4(198, 51, 100, 13), 100));
	/* and A after D */
	gw_send_ip_fast(&c, ip_len_to(T_IPV4(198, 51, 100, 10), 100));

	assert_int_equal(c.txq[p2].n, 6);
	assert_frame(p2, 0, &mac_a, 1280);
	assert_frame(p2, 1, &mac_a, 1280);
	assert_frame(p2, 2, &mac_a, 1280);
	assert_frame(p2, 3, &mac_d, 1280);
	assert_frame(p2, 4, &mac_d, 1280);
	assert_frame(p2, 5, &mac_a, 1280);
	assert_int_equal(w.cnt[GW_FRAGMENTED], 1);
	/* B's ARP request is the one frame on the big link */
	assert_int_equal(c.txq[p1].n, 1);

	assert_int_equal(w.nb_pending, 1);
	links_down(p1, p2, t, NULL);
	rte_mempool_free(ind);
}

/* A frame to our port from src to dst, marked in its IP id. */
static struct rte_mbuf *
frame(uint16_t port, uint32_t src, uint32_t dst, uint16_t mark, uint8_t ttl)
{
	struct rte_mbuf *m = ip_from_to(src, dst);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_ether_hdr *eth;

	ip->packet_id = rte_cpu_to_be_16(mark);
	ip->time_to_live = ttl;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth = (void *)rte_pktmbuf_prepend(m, sizeof(*eth));
	assert_non_null(eth);
	memset(eth, 0, sizeof(*eth));
	eth->dst_addr = c.t->ifaces[port].mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	return m;
}

/* The marks of the frames queued for port from the n-th on, each
 * checked to have left with one hop less and a valid checksum. */
static void
assert_marks(uint16_t port, unsigned int from, const uint16_t *want,
	     unsigned int n)
{
	assert_int_equal(c.txq[port].n, from + n);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = c.txq[port].m[from + i];
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
						sizeof(struct rte_ether_hdr));

		assert_int_equal(rte_be_to_cpu_16(ip->packet_id), want[i]);
		assert_int_equal(ip->time_to_live, 63);
		assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	}
}

/* The fused pass (dataplane/fused.h): a clear flow found to bypass
 * (RFC 4301 section 4.4.1: no policy, or allow without a template, as
 * __xfrm_policy_check() lets a clear packet through) goes straight on from the
 * next burst while it leads the burst, and from the first packet that needs the
 * policy stages on, the stages take the rest, so nothing overtakes; the stages'
 * first forwarded packet moves the answer, a TTL of 1 still expires, and a
 * neighbour or table change makes it forgotten. A decrypted flow's answer is
 * its SA's alone. */
static void
test_bypass_pass(void **state)
{
	enum { A = 0, C = 100, B = 200 };
	const uint32_t a_src = T_IPV4(192, 0, 2, 66),
		       a_dst = T_IPV4(198, 51, 100, 10),
		       b_src = T_IPV4(192, 0, 2, 99),
		       c_src = T_IPV4(192, 0, 2, 67),
		       c_dst = T_IPV4(198, 51, 100, 13);
	static const char *const block[] = {
		"ip xfrm policy add src 192.0.2.99/32 dst 198.51.100.0/24 "
		"dir fwd action block",
		NULL,
	};
	struct gw_tables *t, *t2;
	struct rte_mbuf *b[8];
	/* two SAs, by address only */
	static const char two_sas[2];
	const struct espgw_sa *sa_x = (const void *)&two_sas[0],
			      *sa_y = (const void *)&two_sas[1];
	uint16_t p1, p2;

	(void)state;
	links_up(&p1, &p2);
	t = two_links_with(block);
	t2 = two_links_with(block);
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(a_dst), &mac_a, true);
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(c_dst), &mac_d, true);
	ctx_reset();
	c.t = t;
	gw_ctx_revalidate(&c);
	assert_false(c.fused_clear.valid);

#define F(s, d, mark) frame(p1, s, d, mark, 64)
	/* burst 1 takes the policy stages and teaches A */
	b[0] = F(a_src, a_dst, A + 1);
	b[1] = F(a_src, a_dst, A + 2);
	gw_rx_burst(&c, p1, b, 2);
	assert_true(c.fused_clear.valid);
	assert_marks(p2, 0, (const uint16_t[]){ A + 1, A + 2 }, 2);

	/* burst 2: A3 straight on; from B (blocked) on, the stages */
	b[0] = F(a_src, a_dst, A + 3);
	b[1] = F(b_src, a_dst, B + 1);
	b[2] = F(a_src, a_dst, A + 4);
	b[3] = F(c_src, c_dst, C + 1);
	b[4] = F(a_src, a_dst, A + 5);
	gw_rx_burst(&c, p1, b, 5);
	assert_int_equal(w.cnt[GW_DROP_POLICY_BLOCK], 1);
	assert_marks(p2, 2, (const uint16_t[]){ A + 3, A + 4, C + 1, A + 5 },
		     4);
	assert_int_equal(c.fused_clear.key.v4.dst, RTE_BE32(a_dst));

	/* burst 3: A6 leads and goes straight on, so C2 is the stages'
	 * first and now the answer */
	b[0] = F(a_src, a_dst, A + 6);
	b[1] = F(c_src, c_dst, C + 2);
	gw_rx_burst(&c, p1, b, 2);
	assert_marks(p2, 6, (const uint16_t[]){ A + 6, C + 2 }, 2);
	assert_frame(p2, 7, &mac_d, 1280);
	assert_int_equal(c.fused_clear.key.v4.dst, RTE_BE32(c_dst));

	/* a hit whose TTL runs out is still time-exceeded */
	b[0] = frame(p1, c_src, c_dst, C + 3, 1);
	gw_rx_burst(&c, p1, b, 1);
	assert_int_equal(w.cnt[GW_DROP_TTL], 1);
	assert_int_equal(c.txq[p2].n, 8);

	/* nothing changed: all remembered; C's neighbour moves: forgotten,
	 * and C's next frame goes to the new MAC */
	gw_ctx_revalidate(&c);
	assert_true(c.fused_clear.valid && c.tx_valid);
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(c_dst), &mac_a, true);
	gw_ctx_revalidate(&c);
	assert_false(c.fused_clear.valid || c.tx_valid || c.hop_valid);
	b[0] = F(c_src, c_dst, C + 4);
	gw_rx_burst(&c, p1, b, 1);
	assert_marks(p2, 8, (const uint16_t[]){ C + 4 }, 1);
	assert_frame(p2, 8, &mac_a, 1280);
	assert_true(c.fused_clear.valid);
	/* learnt for one SA (the caller compares it: gw_ipsec_inbound),
	 * apart from the clear answer, which it leaves alone */
	b[0] = F(c_src, c_dst, C + 5);
	rte_pktmbuf_adj(b[0], sizeof(struct rte_ether_hdr)); /* as L3 */
	gw_fused_learn(&c, b[0], sa_x, NULL);
	assert_true(c.fused_dec.sa == sa_x && c.fused_dec.sa != sa_y);
	assert_true(gw_fused_hit(&c.fused_dec, b[0]));
	assert_true(c.fused_clear.valid && c.fused_clear.sa == NULL);
	/* C's key, clear, is still the clear answer */
	assert_true(gw_fused_hit(&c.fused_clear, b[0]));
	/* an out policy that is not a bypass teaches nothing */
	c.fused_dec.valid = false;
	gw_fused_learn(&c, b[0], sa_x, &gw_policy_bad_chain);
	assert_false(c.fused_dec.valid);
	rte_pktmbuf_free(b[0]);
	/* another table set: forgotten */
	c.t = t2;
	gw_ctx_revalidate(&c);
	assert_false(c.fused_clear.valid);
#undef F

	assert_int_equal(w.cnt[GW_RX], 11);
	assert_int_equal(w.cnt[GW_FORWARDED], 9);
	links_down(p1, p2, t, t2);
}

/* A clear frame of len IP bytes to our port, as frame() makes. */
static struct rte_mbuf *
frame_len(uint16_t port, uint32_t src, uint32_t dst, uint16_t len)
{
	struct rte_mbuf *m = frame(port, src, dst, 0, 64);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
		m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));

	assert_non_null(rte_pktmbuf_append(
		m, len - (m->data_len - sizeof(struct rte_ether_hdr))));
	ip->total_length = rte_cpu_to_be_16(len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

/* Frame i queued for port: the tunnel's ESP (RFC 4303 section 2) with
 * sequence number seq around an inner packet of len bytes (a multiple
 * of 4: two bytes of padding, RFC 4106's 8-byte IV and 16-byte ICV),
 * or, with seq 0, a clear packet of len bytes. */
static void
assert_sent(uint16_t port, unsigned int i, uint32_t seq, uint16_t len)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
		c.txq[port].m[i], const struct rte_ipv4_hdr *,
		sizeof(struct rte_ether_hdr));
	const rte_be32_t *esp = (const void *)(ip + 1);

	assert_true(i < c.txq[port].n);
	if (seq == 0) {
		assert_int_not_equal(ip->next_proto_id, IPPROTO_ESP);
		assert_int_equal(rte_be_to_cpu_16(ip->total_length), len);
		return;
	}
	assert_int_equal(ip->next_proto_id, IPPROTO_ESP);
	assert_int_equal(ip->dst_addr, RTE_BE32(T_IPV4(198, 51, 100, 10)));
	assert_int_equal(rte_be_to_cpu_32(esp[0]), 0x100);
	assert_int_equal(rte_be_to_cpu_32(esp[1]), seq);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length),
			 20 + 8 + 8 + len + 2 + 2 + 16);
}

/* The fused pass for a protected flow: a clear flow whose out policy
 * protects (RFC 4301 section 5.1, as xfrm_lookup() bundles it) is
 * remembered with that policy as a bypass is, and its next leading
 * packets go to the policy's SA past the policy stages, in the order
 * they came (the sequence numbers follow the inner lengths). The
 * answer moving to a bypass flow that the stages took second shows the
 * first packet took the pass; a discarding out policy teaches nothing. */
static void
test_protect_pass(void **state)
{
	const uint32_t p_src = T_IPV4(192, 0, 2, 66),
		       p_dst = T_IPV4(10, 0, 2, 5),
		       q_src = T_IPV4(192, 0, 2, 67),
		       x_dst = T_IPV4(198, 51, 100, 13);
	static const char *const tunnel[] = {
		"ip xfrm state add src 198.51.100.1 dst 198.51.100.10 proto "
		"esp spi 0x100 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' "
		"0x0102030405060708090a0b0c0d0e0f1011121314 128",
		"ip xfrm policy add src 192.0.2.0/24 dst 10.0.2.0/24 dir out "
		"tmpl src 198.51.100.1 dst 198.51.100.10 proto esp reqid 1 "
		"mode tunnel",
		"ip xfrm policy add src 192.0.2.99/32 dst 10.0.3.0/24 dir out "
		"action block",
		NULL,
	};
	struct gw_tables *t;
	struct gw_policy *prot;
	struct rte_mbuf *b[4];
	uint16_t p1, p2;

	(void)state;
	links_up(&p1, &p2);
	t = two_links_with(tunnel);
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(T_IPV4(198, 51, 100, 10)), &mac_a,
		     true);
	gw_neigh_set(&gw.neigh, p2, RTE_BE32(x_dst), &mac_d, true);
	ctx_reset();
	w.esp = espgw_worker_create(0, SOCKET_ID_ANY);
	assert_non_null(w.esp);
	c.t = t;
	gw_ctx_revalidate(&c);

	/* burst 1 takes the stages and teaches P with its protecting
	 * policy */
	b[0] = frame_len(p1, p_src, p_dst, 100);
	b[1] = frame_len(p1, p_src, p_dst, 104);
	gw_rx_burst(&c, p1, b, 2);
	assert_true(c.fused_clear.valid);
	prot = c.fused_clear.out;
	assert_non_null(prot);
	assert_true(prot->has_tmpl);
	assert_sent(p2, 0, 1, 100);
	assert_sent(p2, 1, 2, 104);

	/* burst 2: P3 on by the pass; X (bypass) and P4 by the stages. A
	 * bypass leaves at once and a protected packet at the out path's
	 * flush, with or without the pass; P3 and P4 keep their order. */
	b[0] = frame_len(p1, p_src, p_dst, 108);
	b[1] = frame_len(p1, p_src, x_dst, 60);
	b[2] = frame_len(p1, p_src, p_dst, 112);
	gw_rx_burst(&c, p1, b, 3);
	assert_sent(p2, 2, 0, 60);
	assert_sent(p2, 3, 3, 108);
	assert_sent(p2, 4, 4, 112);
	/* X was the stages' first: P3 did not go through them */
	assert_int_equal(c.fused_clear.key.v4.dst, RTE_BE32(x_dst));
	assert_null(c.fused_clear.out);

	/* burst 3: X on by the pass, then Q (protected) teaches itself;
	 * burst 4: Q leads and is encrypted past the stages */
	b[0] = frame_len(p1, p_src, x_dst, 64);
	b[1] = frame_len(p1, q_src, p_dst, 116);
	gw_rx_burst(&c, p1, b, 2);
	assert_sent(p2, 5, 0, 64);
	assert_sent(p2, 6, 5, 116);
	assert_int_equal(c.fused_clear.key.v4.src, RTE_BE32(q_src));
	assert_ptr_equal(c.fused_clear.out, prot);
	b[0] = frame_len(p1, q_src, p_dst, 120);
	gw_rx_burst(&c, p1, b, 1);
	assert_sent(p2, 7, 6, 120);

	/* a discarding out policy is the stages' to apply every time */
	b[0] = frame_len(p1, T_IPV4(192, 0, 2, 99), T_IPV4(10, 0, 3, 1), 60);
	gw_rx_burst(&c, p1, b, 1);
	assert_int_equal(w.cnt[GW_DROP_POLICY_BLOCK], 1);
	assert_ptr_equal(c.fused_clear.out, prot);

	assert_int_equal(w.cnt[GW_RX], 9);
	assert_int_equal(w.cnt[GW_FORWARDED], 9);
	assert_int_equal(w.cnt[GW_ENCRYPTED], 6);
	assert_int_equal(c.txq[p2].n, 8);
	espgw_worker_free(w.esp);
	links_down(p1, p2, t, NULL);
}

/* An IPv6 frame to our port from src to dst, hop limit hlim, marked in
 * its flow label: first is its next header, then the ext_len bytes ext
 * (extension headers chained by their own next-header bytes) and 8
 * zero bytes of the upper-layer header; len, when more, pads the
 * payload to len IP bytes. */
static struct rte_mbuf *
frame6(uint16_t port, const uint8_t *src, const uint8_t *dst, uint8_t first,
       const uint8_t *ext, uint16_t ext_len, uint16_t mark, uint8_t hlim,
       uint16_t len)
{
	uint16_t plen = RTE_MAX((uint16_t)(ext_len + 8),
				(uint16_t)(len > 40 ? len - 40 : 0));
	struct rte_mbuf *m = packet(sizeof(struct rte_ether_hdr) + 40 + plen);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);
	struct rte_ipv6_hdr *ip6 = (void *)(eth + 1);

	eth->dst_addr = c.t->ifaces[port].mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28 | mark);
	ip6->payload_len = rte_cpu_to_be_16(plen);
	ip6->proto = first;
	ip6->hop_limits = hlim;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
	if (ext_len != 0)
		memcpy(ip6 + 1, ext, ext_len);
	return m;
}

/* The flow label of the IPv6 frame queued i-th for port. */
static uint32_t
mark6(uint16_t port, unsigned int i)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(
		c.txq[port].m[i], const struct rte_ipv6_hdr *,
		sizeof(struct rte_ether_hdr));

	assert_true(i < c.txq[port].n);
	return rte_be_to_cpu_32(ip6->vtc_flow) & 0xfffff;
}

/* The marks of the n IPv6 frames queued for port from the from-th on,
 * the last ones queued, each with one hop less. */
static void
assert_marks6(uint16_t port, unsigned int from, const uint16_t *want,
	      unsigned int n)
{
	assert_int_equal(c.txq[port].n, from + n);
	for (unsigned int i = 0; i < n; i++) {
		const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(
			c.txq[port].m[from + i], const struct rte_ipv6_hdr *,
			sizeof(struct rte_ether_hdr));

		assert_int_equal(mark6(port, from + i), want[i]);
		assert_int_equal(ip6->hop_limits, 63);
	}
}

/* The IPv6 fused pass: as IPv4's, a flow that bypasses goes straight on
 * while it leads its burst and a flow that is protected goes to its
 * SA's ESP in order. Without a selector that names a protocol or ports
 * the key is the two addresses and a first next header that is no
 * extension header, so a packet of the same addresses whose chain
 * cannot be walked still gets the stages' verdict (drop-bad-ext6), as
 * does one a word of its addresses apart (blocked here); a
 * packet whose key protocol is itself an extension header (the one
 * after a non-first fragment's header, as xfrm reads it) teaches
 * nothing, since a packet starting with that header would match it.
 * With such a selector the whole 40-byte key is compared: the same
 * addresses over TCP are blocked. */
static void
test_fused6(void **state)
{
	static const uint8_t
		a_src[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0x66 },
		a_dst[16] = { 0x20, 1, 0xd, 0xb8, 0, 2, [15] = 0x10 },
		b_src[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0x99 },
		c_src[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0x67 },
		c_dst[16] = { 0x20, 1, 0xd, 0xb8, 0, 2, [15] = 0x13 },
		p_dst[16] = { 0x20, 1, 0xd, 0xb8, 0, 5, [15] = 5 };
	/* a non-first fragment (offset 8) whose next header is
	 * destination options; options longer than the packet */
	static const uint8_t frag_to_opts[8] = { ESPGW_IPV6_DSTOPTS, 0, 0, 8 },
			     too_long[8] = { IPPROTO_UDP, 255 };
#define V6_LINKS                                                               \
	"ip addr add 2001:db8:1::1/64 dev net_null1",                          \
		"ip addr add 2001:db8:2::1/64 dev net_null2"
	static const char *const v6[] = {
		V6_LINKS,
		"ip xfrm policy add src 2001:db8:1::99/128 "
		"dst 2001:db8:2::/64 dir fwd action block",
		"ip xfrm policy add src 2001:db9::/32 dst ::/0 dir fwd "
		"action block",
		"ip xfrm policy add src ::/0 dst 2001:db8:3::/64 dir fwd "
		"action block",
		"ip xfrm policy add src ::/0 dst 2001:db8:2::11/128 dir fwd "
		"action block",
		"ip xfrm state add src 2001:db8:2::1 dst 2001:db8:2::10 proto "
		"esp spi 0x600 reqid 6 mode tunnel aead 'rfc4106(gcm(aes))' "
		"0x0102030405060708090a0b0c0d0e0f1011121314 128",
		"ip xfrm policy add src 2001:db8:1::/64 dst 2001:db8:5::/64 "
		"dir out tmpl src 2001:db8:2::1 dst 2001:db8:2::10 proto esp "
		"reqid 6 mode tunnel",
		NULL,
	};
	static const char *const v6_tcp[] = {
		V6_LINKS,
		"ip xfrm policy add src 2001:db8:1::66/128 "
		"dst 2001:db8:2::10/128 proto tcp dir fwd action block",
		NULL,
	};
#undef V6_LINKS
	enum { A = 0, C = 100, P = 200, X = 300 };
	static const char one_sa;
	const struct espgw_sa *sa_x = (const void *)&one_sa;
	struct gw_tables *t, *t2;
	struct rte_mbuf *b[8];
	struct gw_policy *prot;
	uint16_t p1, p2;

	(void)state;
	links_up(&p1, &p2);
	t = two_links_with(v6);
	t2 = two_links_with(v6_tcp);
	gw_neigh_set6(&gw.neigh, p2, a_dst, &mac_a, true);
	gw_neigh_set6(&gw.neigh, p2, c_dst, &mac_d, true);
	ctx_reset();
	w.esp = espgw_worker_create(0, SOCKET_ID_ANY);
	assert_non_null(w.esp);
	c.t = t;
	gw_ctx_revalidate(&c);

#define F(s, d, mark) frame6(p1, s, d, IPPROTO_UDP, NULL, 0, mark, 64, 0)
	/* burst 1 takes the stages and teaches A, a bypass */
	b[0] = F(a_src, a_dst, A + 1);
	b[1] = F(a_src, a_dst, A + 2);
	gw_rx_burst(&c, p1, b, 2);
	assert_true(c.fused6_clear.valid && !c.fused6_clear.l4);
	assert_false(c.fused_clear.valid);
	assert_memory_equal(c.fused6_clear.key.v6.dst, a_dst, 16);
	assert_null(c.fused6_clear.out);
	assert_marks6(p2, 0, (const uint16_t[]){ A + 1, A + 2 }, 2);

	/* burst 2: A3 straight on; from B (blocked) on, the stages */
	b[0] = F(a_src, a_dst, A + 3);
	b[1] = F(b_src, a_dst, X);
	b[2] = F(a_src, a_dst, A + 4);
	b[3] = F(c_src, c_dst, C + 1);
	gw_rx_burst(&c, p1, b, 4);
	assert_int_equal(w.cnt[GW_DROP_POLICY_BLOCK], 1);
	assert_marks6(p2, 2, (const uint16_t[]){ A + 3, A + 4, C + 1 }, 3);

	/* burst 3: A's addresses behind a chain too long lead: the
	 * stages drop them; C2 is the stages' first forwarded */
	b[0] = frame6(p1, a_src, a_dst, ESPGW_IPV6_HOPOPTS, too_long, 8, X, 64,
		      0);
	b[1] = F(c_src, c_dst, C + 2);
	gw_rx_burst(&c, p1, b, 2);
	assert_int_equal(w.cnt[GW_DROP_BAD_EXT6], 1);
	assert_memory_equal(c.fused6_clear.key.v6.dst, c_dst, 16);

	/* burst 4: C3 leads and goes straight on, A5 is the stages' first
	 * and now the answer; a hit whose hop limit runs out is refused */
	b[0] = F(c_src, c_dst, C + 3);
	b[1] = F(a_src, a_dst, A + 5);
	gw_rx_burst(&c, p1, b, 2);
	assert_memory_equal(c.fused6_clear.key.v6.dst, a_dst, 16);
	b[0] = frame6(p1, a_src, a_dst, IPPROTO_UDP, NULL, 0, X, 1, 0);
	gw_rx_burst(&c, p1, b, 1);
	assert_int_equal(w.cnt[GW_DROP_TTL], 1);
	assert_marks6(p2, 5, (const uint16_t[]){ C + 2, C + 3, A + 5 }, 3);

	/* burst 5: A's non-first fragment (key protocol: destination
	 * options) is forwarded but teaches nothing; A's destination
	 * options too long for the packet then lead: dropped */
	b[0] = frame6(p1, a_src, a_dst, ESPGW_IPV6_FRAGMENT, frag_to_opts, 8,
		      A + 6, 64, 0);
	gw_rx_burst(&c, p1, b, 1);
	assert_int_equal(c.fused6_clear.key.v6.proto, IPPROTO_UDP);
	b[0] = frame6(p1, a_src, a_dst, ESPGW_IPV6_DSTOPTS, too_long, 8, X, 64,
		      0);
	gw_rx_burst(&c, p1, b, 1);
	assert_int_equal(w.cnt[GW_DROP_BAD_EXT6], 2);
	assert_marks6(p2, 8, (const uint16_t[]){ A + 6 }, 1);

	/* A's key and four blocked ones, each an 8-byte word of the
	 * addresses apart from it, leading in turn: all four blocked */
	for (unsigned int i = 0; i < 4; i++) {
		uint8_t s6[16], d6[16];

		memcpy(s6, a_src, 16);
		memcpy(d6, a_dst, 16);
		if (i == 0)
			s6[3] = 0xb9; /* 2001:db9:1::66 */
		else if (i == 1)
			s6[15] = 0x99; /* 2001:db8:1::99 */
		else if (i == 2)
			d6[5] = 3; /* 2001:db8:3::10 */
		else
			d6[15] = 0x11; /* 2001:db8:2::11 */
		b[0] = F(s6, d6, X);
		gw_rx_burst(&c, p1, b, 1);
		assert_int_equal(w.cnt[GW_DROP_POLICY_BLOCK], 2 + i);
	}
	assert_memory_equal(c.fused6_clear.key.v6.dst, a_dst, 16);

	/* a protected flow: P1 teaches its policy, P2 leads and goes
	 * to ESP past the stages (C4 is then their first), P3 after */
	b[0] = frame6(p1, a_src, p_dst, IPPROTO_UDP, NULL, 0, P + 1, 64, 100);
	gw_rx_burst(&c, p1, b, 1);
	prot = c.fused6_clear.out;
	assert_non_null(prot);
	assert_true(prot->has_tmpl);
	b[0] = frame6(p1, a_src, p_dst, IPPROTO_UDP, NULL, 0, P + 2, 64, 104);
	b[1] = F(c_src, c_dst, C + 4);
	b[2] = frame6(p1, a_src, p_dst, IPPROTO_UDP, NULL, 0, P + 3, 64, 108);
	gw_rx_burst(&c, p1, b, 3);
	assert_memory_equal(c.fused6_clear.key.v6.dst, c_dst, 16);
	assert_int_equal(w.cnt[GW_ENCRYPTED], 3);
	/* C4 left at once; P1 to P3 in order, their sequence numbers
	 * following their lengths (RFC 4303 section 2: ESP header and IV,
	 * the inner packet, 2 bytes of padding, pad length and next
	 * header, 16 of ICV) */
	assert_int_equal(c.txq[p2].n, 13);
	for (unsigned int i = 0; i < 3; i++) {
		static const unsigned int at[] = { 9, 11, 12 };
		const struct rte_ipv6_hdr *o = rte_pktmbuf_mtod_offset(
			c.txq[p2].m[at[i]], const struct rte_ipv6_hdr *,
			sizeof(struct rte_ether_hdr));
		rte_be32_t esp[2]; /* behind 54 bytes: read, not loaded */

		memcpy(esp, o + 1, sizeof(esp));
		assert_int_equal(o->proto, IPPROTO_ESP);
		assert_int_equal(rte_be_to_cpu_32(esp[0]), 0x600);
		assert_int_equal(rte_be_to_cpu_32(esp[1]), i + 1);
		assert_int_equal(rte_be_to_cpu_16(o->payload_len),
				 8 + 8 + 100 + 4 * i + 2 + 2 + 16);
	}
	assert_int_equal(mark6(p2, 10), C + 4);

	/* a decrypted flow's answer is its SA's, apart from the clear one
	 * and from IPv4's */
	b[0] = F(c_src, c_dst, C + 5);
	rte_pktmbuf_adj(b[0], sizeof(struct rte_ether_hdr)); /* as L3 */
	gw_fused_learn(&c, b[0], sa_x, NULL);
	assert_true(c.fused6_dec.valid && c.fused6_dec.sa == sa_x);
	assert_true(gw_fused6_hit(&c.fused6_dec, b[0]));
	assert_false(c.fused_dec.valid);
	assert_true(c.fused6_clear.valid && c.fused6_clear.sa == NULL);
	rte_pktmbuf_free(b[0]);

	/* another table set, one selector naming TCP: forgotten; A over
	 * UDP teaches the whole key, and A over TCP leading is blocked */
	c.t = t2;
	gw_ctx_revalidate(&c);
	assert_false(c.fused6_clear.valid || c.fused6_dec.valid);
	b[0] = F(a_src, a_dst, A + 7);
	gw_rx_burst(&c, p1, b, 1);
	assert_true(c.fused6_clear.valid && c.fused6_clear.l4);
	b[0] = frame6(p1, a_src, a_dst, IPPROTO_TCP, NULL, 0, X, 64, 0);
	b[1] = F(a_src, a_dst, A + 8);
	gw_rx_burst(&c, p1, b, 2);
	assert_int_equal(w.cnt[GW_DROP_POLICY_BLOCK], 6);
	assert_marks6(p2, 13, (const uint16_t[]){ A + 7, A + 8 }, 2);
#undef F

	assert_int_equal(w.cnt[GW_RX], 24);
	assert_int_equal(w.cnt[GW_FORWARDED], 15);
	espgw_worker_free(w.esp);
	links_down(p1, p2, t, t2);
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
		cmocka_unit_test_setup_teardown(test_cksum_offload, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_send_cache, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_bypass_pass, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_protect_pass, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_fused6, t_setup,
						t_teardown),
	};

	(void)argc;
	t_eal_init(argv[0]);
	if (rte_vdev_init("net_null1", NULL) != 0 ||
	    rte_vdev_init("net_null2", NULL) != 0) {
		fprintf(stderr, "cannot create the null ports\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
