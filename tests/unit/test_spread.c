/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* One SA on two workers (--spread-esp, dataplane/spread.h), stepped by
 * hand in one thread so every interleaving asked for happens: each
 * packet is decrypted by the worker owning its sequence number's run of
 * 256, whichever worker received it; no number is accepted twice
 * whoever received its copies; the frames leave the receiving worker
 * in the order it received their packets, even when the other owner
 * finishes first; a full hand-off is a counted drop, and what is still
 * between workers at exit is counted held. The window's races on two
 * threads are tests/unit/test_replay.c's. */

#include "common.h"

#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>

#include "control/tables.h"
#include "dataplane/ctx.h"
#include "dataplane/ipsec.h"
#include "dataplane/rx.h"
#include "dataplane/spread.h"
#include "dataplane/tx.h"
#include "dataplane/worker.h"
#include "lang/config.h"

#define KEY "0x0102030405060708090a0b0c0d0e0f1011121314"

static const char *const conf[] = {
	"ip link set dev net_null1 up",
	"ip addr add 192.0.2.1/24 dev net_null1",
	"ip link set dev net_null2 up",
	"ip addr add 198.51.100.1/24 dev net_null2",
	"ip xfrm state add src 198.51.100.10 dst 198.51.100.1 proto esp "
	"spi 0x200 reqid 1 mode tunnel replay-window 1024 aead "
	"'rfc4106(gcm(aes))' " KEY " 128",
	"ip xfrm policy add src 10.0.2.0/24 dst 192.0.2.0/24 dir fwd tmpl "
	"src 198.51.100.10 dst 198.51.100.1 proto esp reqid 1 mode tunnel",
	NULL,
};
static const struct rte_ether_addr host_mac = { { 2, 0, 0, 0, 0, 0x42 } };

static struct gw gw;
static struct gw_ctx c[2];
static struct gw_tables *t;
static struct espgw_sa *in_sa;
static struct espgw_sa_params out_p; /* the peer's end of the tunnel */
static struct espgw_worker *peer;
static uint16_t lan, wan;

static void
build(void)
{
	struct gw_change chg = { .what = GW_CHANGED_ALL };
	struct espgw_cfg cfg;
	char err[256];

	espgw_cfg_init(&cfg, "test");
	for (int i = 0; conf[i] != NULL; i++)
		assert_int_equal(espgw_cfg_parse_line(&cfg, conf[i], i + 1, err,
						      sizeof(err)),
				 0);
	t = gw_tables_build(&cfg, 2, gw_spread_map(&gw), NULL, &chg, err,
			    sizeof(err));
	espgw_cfg_free(&cfg);
	assert_non_null(t);
	in_sa = espgw_sad_lookup(t->sad, 0x200,
				 RTE_BE32(T_IPV4(198, 51, 100, 1)));
	assert_non_null(in_sa);
	assert_int_equal(espgw_sa_params(in_sa)->replay_owners, 2);
	out_p = *espgw_sa_params(in_sa);
	out_p.dir = ESPGW_SA_OUT;
	out_p.nb_workers = 1;
	out_p.replay_owners = 0;
	memset(&out_p.replay_map, 0, sizeof(out_p.replay_map));
	out_p.replay_window = 0;
	peer = espgw_worker_create(0, SOCKET_ID_ANY);
	assert_non_null(peer);
}

/* Two workers owning runs by weight (as --spread-weights). */
static int
setup_weighted(void **state, const uint8_t *weight)
{
	assert_int_equal(t_setup(state), 0);
	memset(&gw, 0, sizeof(gw));
	memset(c, 0, sizeof(c));
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null1", &lan), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null2", &wan), 0);
	gw.pool = t_pool;
	gw.nb_workers = 2;
	gw.spread = 2;
	assert_int_equal(espgw_replay_map_weighted(&gw.spread_map, weight, 2),
			 0);
	assert_int_equal(gw_neigh_init(&gw.neigh, 64), 0);
	build();
	gw_neigh_set(&gw.neigh, lan, RTE_BE32(T_IPV4(192, 0, 2, 66)), &host_mac,
		     true);
	for (unsigned int i = 0; i < 2; i++) {
		gw.workers[i].id = i;
		gw.workers[i].lcore = rte_get_main_lcore();
		gw.workers[i].esp =
			espgw_worker_create((uint16_t)i, SOCKET_ID_ANY);
		assert_non_null(gw.workers[i].esp);
		c[i] = (struct gw_ctx){ .gw = &gw,
					.w = &gw.workers[i],
					.hz = rte_get_tsc_hz(),
					.t = t };
		gw_ctx_revalidate(&c[i]);
	}
	assert_int_equal(gw_spread_init(&gw), 0);
	return 0;
}

/* Evenly, as --spread-esp alone: run r is r mod 2's. */
static int
setup(void **state)
{
	static const uint8_t even[] = { 1, 1 };

	return setup_weighted(state, even);
}

/* Worker 0 owns one run in four (run 1 mod 4), worker 1 the rest. */
static int
setup_1_3(void **state)
{
	static const uint8_t w[] = { 1, 3 };

	return setup_weighted(state, w);
}

/* Worker 0 owns nothing: it only receives and sends. */
static int
setup_0_1(void **state)
{
	static const uint8_t w[] = { 0, 1 };

	return setup_weighted(state, w);
}

static int
teardown(void **state)
{
	gw_spread_release(&gw);
	gw_spread_fini(&gw);
	for (unsigned int i = 0; i < 2; i++) {
		for (unsigned int p = 0; p < GW_MAX_PORTS; p++)
			rte_pktmbuf_free_bulk(c[i].txq[p].m, c[i].txq[p].n);
		espgw_worker_free(gw.workers[i].esp);
	}
	espgw_worker_free(peer);
	gw_neigh_fini(&gw.neigh);
	gw_tables_free(t);
	return t_teardown(state);
}

/* ESP to us on the WAN port from the peer, number seq, its inner packet
 * from 10.0.2.5 to 192.0.2.66 marked (IP id) with seq, encrypted by
 * the peer's SA with its counter at seq - 1. */
static struct rte_mbuf *
esp(uint32_t seq)
{
	struct rte_mbuf *m = t_inner(4, 32, 0, false, 0);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_ether_hdr *eth;
	struct espgw_sa *out;
	const char *why;

	ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	ip->time_to_live = 64;
	ip->src_addr = RTE_BE32(T_IPV4(10, 0, 2, 5));
	ip->dst_addr = RTE_BE32(T_IPV4(192, 0, 2, 66));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	out_p.oseq = seq - 1;
	out = espgw_sa_create(&out_p, &why);
	assert_non_null(out);
	assert_int_equal(espgw_esp_outbound(peer, out, &m, 1), 1);
	espgw_sa_free(out);
	eth = (void *)rte_pktmbuf_prepend(m, sizeof(*eth));
	assert_non_null(eth);
	memset(eth, 0, sizeof(*eth));
	eth->dst_addr = t->ifaces[wan].mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	return m;
}

/* Worker i receives ESP numbered seq[0..n) in one burst. */
static void
receive(unsigned int i, const uint32_t *seq, unsigned int n)
{
	struct rte_mbuf *b[GW_BURST];

	for (unsigned int k = 0; k < n; k++)
		b[k] = esp(seq[k]);
	gw_rx_burst(&c[i], wan, b, (uint16_t)n);
}

/* The marks of the frames worker i has queued for the LAN, in order,
 * appended to got[*n...]; the frames are freed. */
static void
collect(unsigned int i, uint16_t *got, unsigned int *n)
{
	for (unsigned int k = 0; k < c[i].txq[lan].n; k++) {
		struct rte_mbuf *m = c[i].txq[lan].m[k];
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
						sizeof(struct rte_ether_hdr));

		got[(*n)++] = rte_be_to_cpu_16(ip->packet_id);
		rte_pktmbuf_free(m);
	}
	c[i].txq[lan].n = 0;
}

/* The inbound SA's drops of reason d, or its packets decrypted. */
static uint64_t
sa_drops(enum espgw_drop d)
{
	struct espgw_sa_stats st;

	espgw_sa_stats_read(in_sa, &st);
	return st.drops[d];
}

static uint64_t
sa_packets(void)
{
	struct espgw_sa_stats st;

	espgw_sa_stats_read(in_sa, &st);
	return st.packets;
}

static uint64_t
cnt(enum gw_counter k)
{
	return gw.workers[0].cnt[k] + gw.workers[1].cnt[k];
}

static void
assert_marks(const uint16_t *got, const uint32_t *want, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		assert_int_equal(got[k], (uint16_t)want[k]);
}

/* Numbers of runs 0 and 1 (owners 0 and 1) received by worker 0: each
 * owner decrypts its own; worker 0 sends its frames at once, worker 1's
 * as they come back, in the order received. */
static void
test_in_order(void **state)
{
	const uint32_t s1[] = { 250, 251, 252, 253, 254, 255,
				256, 257, 258, 259, 260, 261 };
	/* a run of owner 1 ahead of one of owner 0 (the wire reordered
	 * two runs): worker 0 holds its own frames until 1's are back */
	const uint32_t s2[] = { 262, 263, 264, 265, 512, 513, 514, 515 };
	uint16_t got[64];
	unsigned int n = 0;

	(void)state;
	receive(0, s1, RTE_DIM(s1));
	assert_int_equal(gw_spread_poll(&c[0]) != 0, 1);
	collect(0, got, &n);
	assert_int_equal(n, 6);
	assert_marks(got, s1, 6);
	/* owner 1's turn; its frames go back, not to its port */
	assert_int_equal(gw_spread_poll(&c[1]) != 0, 1);
	collect(1, got, &n);
	assert_int_equal(n, 6);
	assert_int_equal(gw.workers[1].cnt[GW_DECRYPTED], 6);
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, 12);
	assert_marks(got, s1, 12);

	n = 0;
	receive(0, s2, RTE_DIM(s2));
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, 0);
	assert_int_equal(gw.workers[0].cnt[GW_DECRYPTED], 10);
	gw_spread_poll(&c[1]);
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, 8);
	assert_marks(got, s2, 8);
	/* nothing left anywhere: a poll now has nothing to do */
	assert_int_equal(gw_spread_poll(&c[0]), 0);
	assert_int_equal(gw_spread_poll(&c[1]), 0);
	assert_int_equal(sa_packets(), 20);
	assert_int_equal(cnt(GW_RX), 20);
	assert_int_equal(cnt(GW_DECRYPTED), 20);
}

/* Copies of numbers received by both workers, in every order of
 * polling: each number is decrypted once, by its owner, the other
 * copies are dropped replayed, and a number behind its owner's window
 * behind-window. */
static void
test_once(void **state)
{
	const uint32_t a[] = { 200, 300, 201, 301 };
	const uint32_t b[] = { 301, 200, 202, 300, 302 };
	const uint32_t late[] = { 400, 5000, 700 };
	uint16_t got[32];
	unsigned int n = 0;

	(void)state;
	receive(0, a, RTE_DIM(a));
	receive(1, b, RTE_DIM(b));
	for (int r = 0; r < 3; r++) {
		gw_spread_poll(&c[1]);
		gw_spread_poll(&c[0]);
	}
	collect(0, got, &n);
	collect(1, got, &n);
	/* 200, 201, 202, 300, 301, 302 once each */
	assert_int_equal(n, 6);
	assert_int_equal(sa_packets(), 6);
	assert_int_equal(sa_drops(ESPGW_DROP_REPLAYED), 3);
	assert_int_equal(sa_drops(ESPGW_DROP_NOT_OWNER), 0);
	/* 5000 (owner 1) moves its top; 400 (owner 1) is then behind its
	 * window of 1,024, while 700 (owner 0, whose top is 202) is not:
	 * each owner's edge is its own, as the owners run at once */
	n = 0;
	receive(1, &late[1], 1);
	gw_spread_poll(&c[1]);
	collect(1, got, &n);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], 5000);
	receive(0, &late[0], 1);
	receive(0, &late[2], 1);
	for (int r = 0; r < 2; r++) {
		gw_spread_poll(&c[1]);
		gw_spread_poll(&c[0]);
	}
	collect(0, got, &n);
	collect(1, got, &n);
	assert_int_equal(n, 2);
	assert_int_equal(got[1], 700);
	assert_int_equal(sa_drops(ESPGW_DROP_BEHIND_WINDOW), 1);
	/* every packet received has one fate */
	assert_int_equal(cnt(GW_RX), 12);
	assert_int_equal(sa_packets() + sa_drops(ESPGW_DROP_REPLAYED) +
				 sa_drops(ESPGW_DROP_BEHIND_WINDOW),
			 12);
	/* each owner's top (telemetry's owner_seq), the SA's the highest;
	 * an outbound SA has none */
	uint64_t tops[4] = { 0 };

	assert_int_equal(espgw_sa_replay_owner_tops(in_sa, tops, 4), 2);
	assert_int_equal(tops[0], 700);
	assert_int_equal(tops[1], 5000);
	assert_int_equal(espgw_sa_replay_seq(in_sa), 5000);
	assert_int_equal(espgw_sa_replay_owner_tops(in_sa, tops, 1), 2);
	const char *why;
	struct espgw_sa *out = espgw_sa_create(&out_p, &why);

	assert_non_null(out);
	assert_int_equal(espgw_sa_replay_owner_tops(out, tops, 4), 0);
	espgw_sa_free(out);
}

/* Weighted 1:3, runs 0, 2, 3 (mod 4) are worker 1's and run 1 worker
 * 0's: each packet is decrypted by that owner, and the frames leave
 * worker 0 in the order received, across each run's edge. */
static void
test_weighted(void **state)
{
	const uint32_t s[] = { 254, 255, 256, 257, 510, 511,  512,
			       513, 766, 767, 768, 769, 1279, 1280 };
	uint16_t got[16];
	unsigned int n = 0, own0 = 0;

	(void)state;
	assert_int_equal(gw.spread_map.runs, 4);
	for (unsigned int k = 0; k < RTE_DIM(s); k++) {
		bool mine = (s[k] >> 8) % 4 == 1;

		assert_int_equal(
			espgw_replay_map_owner(&gw.spread_map, s[k], 2),
			mine ? 0 : 1);
		own0 += mine;
	}
	for (unsigned int k = 0; k < RTE_DIM(s); k += 2) {
		receive(0, &s[k], 2);
		gw_spread_poll(&c[0]);
		collect(0, got, &n);
		gw_spread_poll(&c[1]);
	}
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, RTE_DIM(s));
	assert_marks(got, s, RTE_DIM(s));
	assert_int_equal(own0, 5); /* 256, 257, 510, 511, 1280 */
	assert_int_equal(gw.workers[0].cnt[GW_DECRYPTED], own0);
	assert_int_equal(gw.workers[1].cnt[GW_DECRYPTED], RTE_DIM(s) - own0);
	assert_int_equal(sa_drops(ESPGW_DROP_NOT_OWNER), 0);
	/* the window follows the map: worker 0 may not take worker 1's */
	{
		struct rte_mbuf *m = esp(3000); /* run 11: 3 mod 4 */

		rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
		c[0].nb_out = 0;
		gw_ipsec_inbound(&c[0], &m, 1);
		assert_int_equal(sa_drops(ESPGW_DROP_NOT_OWNER), 1);
	}
}

/* Weighted 0:1, the receiving worker owns no run: worker 1 decrypts
 * every packet, worker 0 only dispatches and sends, in order. */
static void
test_dispatch_only(void **state)
{
	const uint32_t s[] = { 1, 2, 300, 301, 900 };
	uint16_t got[16];
	unsigned int n = 0;

	(void)state;
	receive(0, s, RTE_DIM(s));
	for (int r = 0; r < 2; r++) {
		gw_spread_poll(&c[0]);
		gw_spread_poll(&c[1]);
	}
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, RTE_DIM(s));
	assert_marks(got, s, RTE_DIM(s));
	assert_int_equal(gw.workers[0].cnt[GW_DECRYPTED], 0);
	assert_int_equal(gw.workers[1].cnt[GW_DECRYPTED], RTE_DIM(s));
	assert_int_equal(sa_packets(), RTE_DIM(s));
}

/* The library guards the window: a worker given a number it does not
 * own (a dispatcher gone wrong) drops it, and decrypts nothing. */
static void
test_not_owner(void **state)
{
	struct rte_mbuf *m = esp(5);

	(void)state;
	rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
	c[1].nb_out = 0;
	gw_ipsec_inbound(&c[1], &m, 1);
	assert_int_equal(sa_drops(ESPGW_DROP_NOT_OWNER), 1);
	assert_int_equal(sa_packets(), 0);
}

/* A dispatcher with 64 segments open drops the next burst's packets
 * for the owner (drop-spread-full); the open ones are held-spread at
 * exit (teardown counts them, checked here). */
static void
test_full(void **state)
{
	(void)state;
	for (uint32_t s = 0; s < GW_SPREAD_SEGS + 1; s++) {
		uint32_t seq = 256 + s;

		receive(0, &seq, 1);
	}
	assert_int_equal(gw.workers[0].cnt[GW_DROP_SPREAD_FULL], 1);
	gw_spread_release(&gw);
	assert_int_equal(cnt(GW_HELD_SPREAD), GW_SPREAD_SEGS);
	assert_int_equal(cnt(GW_RX), GW_SPREAD_SEGS + 1);
	assert_int_equal(sa_packets(), 0);
}

/* A frame for the LAN host marked (IP id) with mark, as a worker queues
 * one for its port. */
static void
queue_lan(unsigned int i, uint16_t mark)
{
	struct rte_mbuf *m = t_inner(4, 32, 0, false, 0);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct rte_ether_hdr *eth;

	ip->packet_id = rte_cpu_to_be_16(mark);
	eth = (void *)rte_pktmbuf_prepend(m, sizeof(*eth));
	assert_non_null(eth);
	memset(eth, 0, sizeof(*eth));
	c[i].txq[lan].m[c[i].txq[lan].n++] = m;
}

/* A port with one TX queue: worker 1's frames of its own there (a held
 * packet released, outside any segment) are sent by worker 0, at once
 * when worker 1 has no segment open there, else with that segment's. */
static void
test_no_txq(void **state)
{
	const uint32_t s[] = { 256, 257 };
	uint16_t got[8];
	unsigned int n = 0;

	(void)state;
	gw.no_txq[lan] = 1;
	queue_lan(1, 7);
	gw_tx_flush(&c[1], lan);
	assert_int_equal(c[1].txq[lan].n, 0);
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], 7);

	/* a segment of owner 1 open: the frame goes out before it */
	receive(0, s, RTE_DIM(s));
	queue_lan(1, 8);
	gw_tx_flush(&c[1], lan);
	gw_spread_poll(&c[0]);
	gw_spread_poll(&c[1]);
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, 4);
	assert_int_equal(got[1], 8);
	assert_marks(got + 2, s, 2);
	assert_int_equal(cnt(GW_DROP_SPREAD_FULL), 0);
	gw.no_txq[lan] = 0;
}

/* Worker 0 takes what owner 1 hands it to send only while no segment
 * of owner 1 is open: owner 1 done with two segments, worker 0 with
 * fewer of its own nine between them (8 a poll), the second segment's
 * frames wait for the ninth and its marker stays its end. */
static void
test_no_txq_order(void **state)
{
	const uint32_t want[] = { 256, 1, 2, 3, 4, 5, 6, 7, 8, 9, 257 };
	uint16_t got[16];
	unsigned int n = 0;

	(void)state;
	gw.no_txq[lan] = 1;
	for (unsigned int i = 0; i < RTE_DIM(want); i++)
		receive(0, &want[i], 1);
	gw_spread_poll(&c[1]);
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, 9);
	gw_spread_poll(&c[0]);
	collect(0, got, &n);
	assert_int_equal(n, RTE_DIM(want));
	assert_marks(got, want, RTE_DIM(want));
	gw.no_txq[lan] = 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_owner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weighted, setup_1_3,
						teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_only, setup_0_1,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_txq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_txq_order, setup,
						teardown),
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
