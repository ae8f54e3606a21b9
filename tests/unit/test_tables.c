/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Table sets built one after the other from changing configurations
 * (control/tables.c): an SA the new configuration still describes is
 * taken over, with its sequence numbers and counters; one whose
 * parameters changed, or that is gone, is made anew or freed when the
 * old set retires; a failed build leaves the published set as it was.
 * Under ASan a double free or a use of a freed SA is a report. */

#include "common.h"

#include <string.h>

#include <rte_bus_vdev.h>

#include "control/db.h"
#include "lang/cmd.h"
#include "control/tables.h"
#include "lang/config.h"

#define KEY1 "0x0102030405060708090a0b0c0d0e0f1011121314"
#define KEY2 "0x1112131415161718191a1b1c1d1e1f2021222324"
#define KEY3 "0x2122232425262728292a2b2c2d2e2f3031323334"

static struct espgw_worker *W;

static void
parse(struct espgw_cfg *cfg, const char *const *lines)
{
	char err[256];

	espgw_cfg_init(cfg, "test");
	for (int i = 0; lines[i] != NULL; i++)
		assert_int_equal(espgw_cfg_parse_line(cfg, lines[i], i + 1, err,
						      sizeof(err)),
				 0);
}

static struct gw_tables *
build_changed(const char *const *lines, const struct gw_tables *prev,
	      unsigned int changed, char *err)
{
	struct espgw_cfg cfg;
	struct gw_tables *t;

	struct gw_change chg = { .what = changed };

	parse(&cfg, lines);
	t = gw_tables_build(&cfg, 1, NULL, prev, &chg, err, 256);
	espgw_cfg_free(&cfg);
	return t;
}

static struct gw_tables *
build(const char *const *lines, const struct gw_tables *prev, char *err)
{
	return build_changed(lines, prev, GW_CHANGED_ALL, err);
}

static struct espgw_sa *
sa_of(const struct gw_tables *t, uint32_t spi)
{
	for (unsigned int i = 0; i < t->nb_sas; i++)
		if (espgw_sa_params(t->sas[i])->spi == spi)
			return t->sas[i];
	return NULL;
}

/* Encapsulate one packet with the SA of spi; returns its sequence
 * number. */
static uint64_t
send_one(const struct gw_tables *t, uint32_t spi)
{
	struct espgw_sa *sa = sa_of(t, spi);
	struct rte_mbuf *m = t_inner(4, 64, 0, false, 1);
	uint64_t seq;

	assert_non_null(sa);
	seq = espgw_sa_next_seq(sa);
	assert_int_equal(espgw_esp_outbound(W, sa, &m, 1), 1);
	t_free(&m, 1);
	return seq;
}

#define BASE                                                                   \
	"ip link set dev net_null0 up",                                        \
		"ip addr add 192.0.2.1/24 dev net_null0",                      \
		"ip route add default via 192.0.2.254 dev net_null0"
#define STATE(spi, src, dst, key)                                              \
	"ip xfrm state add src " src " dst " dst " proto esp spi " spi         \
	" reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' " key " 128"

static void
test_sa_survives_rebuild(void **state)
{
	const char *const v1[] = {
		BASE,
		STATE("0x100", "192.0.2.1", "198.51.100.1", KEY1),
		STATE("0x200", "198.51.100.1", "192.0.2.1", KEY2),
		NULL,
	};
	const char *const v2[] = {
		BASE,
		STATE("0x100", "192.0.2.1", "198.51.100.1", KEY1),
		STATE("0x200", "198.51.100.1", "192.0.2.1", KEY2),
		STATE("0x300", "192.0.2.1", "198.51.100.2", KEY3),
		NULL,
	};
	/* 0x100 rekeyed under the same SPI: a new SA; 0x200 gone */
	const char *const v3[] = {
		BASE,
		STATE("0x100", "192.0.2.1", "198.51.100.1", KEY2),
		STATE("0x300", "192.0.2.1", "198.51.100.2", KEY3),
		NULL,
	};
	/* no route to 203.0.113.1: the build fails */
	const char *const bad[] = {
		"ip link set dev net_null0 up",
		"ip addr add 192.0.2.1/24 dev net_null0",
		STATE("0x100", "192.0.2.1", "198.51.100.1", KEY1),
		NULL,
	};
	struct gw_tables *t1, *t2, *t3;
	struct espgw_sa_stats st;
	char err[256];

	(void)state;
	t1 = build(v1, NULL, err);
	assert_non_null(t1);
	assert_int_equal(send_one(t1, 0x100), 1);
	assert_int_equal(send_one(t1, 0x100), 2);

	t2 = build(v2, t1, err);
	assert_non_null(t2);
	assert_ptr_equal(sa_of(t2, 0x100), sa_of(t1, 0x100));
	assert_ptr_equal(sa_of(t2, 0x200), sa_of(t1, 0x200));
	assert_non_null(sa_of(t2, 0x300));
	/* the published set's SAs serve until it is replaced */
	assert_int_equal(send_one(t1, 0x100), 3);
	gw_tables_retire(t1, t2);
	assert_int_equal(send_one(t2, 0x100), 4);
	espgw_sa_stats_read(sa_of(t2, 0x100), &st);
	assert_int_equal(st.packets, 4);

	assert_null(build(bad, t2, err));
	assert_non_null(strstr(err, "no route"));
	assert_int_equal(send_one(t2, 0x100), 5);

	t3 = build(v3, t2, err);
	assert_non_null(t3);
	assert_ptr_not_equal(sa_of(t3, 0x100), sa_of(t2, 0x100));
	assert_ptr_equal(sa_of(t3, 0x300), sa_of(t2, 0x300));
	assert_null(sa_of(t3, 0x200));
	assert_int_equal(send_one(t3, 0x100), 1);
	assert_int_equal(send_one(t3, 0x300), 1);
	gw_tables_retire(t2, t3);
	assert_int_equal(send_one(t3, 0x300), 2);
	gw_tables_free(t3);
}

#define POLICY(dir, reqid)                                                     \
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir " dir          \
	" tmpl src 192.0.2.1 dst 198.51.100.1 proto esp reqid " reqid          \
	" mode tunnel"
#define STATE_R(spi, reqid, key)                                               \
	"ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi " spi  \
	" reqid " reqid " mode tunnel aead 'rfc4106(gcm(aes))' " key " 128"

/* A change builds only the parts made from what it touched: a new SA
 * neither a route table nor a policy database, yet it rebinds the out
 * policy (the newest SA of the template wins); a new in policy only its
 * direction. A failed build frees what it made and none of what it
 * shares. */
static void
test_parts_shared(void **state)
{
	const char *const v1[] = {
		BASE,
		STATE_R("0x100", "7", KEY1),
		POLICY("out", "7"),
		NULL,
	};
	const char *const v2[] = {
		BASE,
		STATE_R("0x100", "7", KEY1),
		STATE_R("0x101", "7", KEY2),
		POLICY("out", "7"),
		NULL,
	};
	const char *const v3[] = {
		BASE,
		STATE_R("0x100", "7", KEY1),
		STATE_R("0x101", "7", KEY2),
		POLICY("out", "7"),
		POLICY("in", "8"),
		NULL,
	};
	/* MTU too small for ESP: the bindings cannot be built */
	const char *const bad[] = {
		"ip link set dev net_null0 up mtu 100",
		"ip addr add 192.0.2.1/24 dev net_null0",
		"ip route add default via 192.0.2.254 dev net_null0",
		STATE_R("0x100", "7", KEY1),
		STATE_R("0x101", "7", KEY2),
		POLICY("out", "7"),
		POLICY("in", "8"),
		NULL,
	};
	struct gw_tables *t1, *t2, *t3;
	char err[256];

	(void)state;
	t1 = build(v1, NULL, err);
	assert_non_null(t1);
	assert_ptr_equal(t1->bound[0].sa, sa_of(t1, 0x100));

	t2 = build_changed(v2, t1, GW_CHANGED_SA, err);
	assert_non_null(t2);
	assert_ptr_equal(t2->lpm, t1->lpm);
	for (int d = 0; d < GW_NB_DIRS; d++)
		assert_ptr_equal(t2->spd[d].pol, t1->spd[d].pol);
	assert_ptr_not_equal(t2->sas, t1->sas);
	assert_ptr_equal(sa_of(t2, 0x100), sa_of(t1, 0x100));
	/* make before break: the out policy moves to the SA added last */
	assert_ptr_equal(t2->bound[0].sa, sa_of(t2, 0x101));
	assert_ptr_equal(t1->bound[0].sa, sa_of(t1, 0x100));
	gw_tables_retire(t1, t2);

	t3 = build_changed(v3, t2, GW_CHANGED_POL(GW_IN), err);
	assert_non_null(t3);
	assert_ptr_equal(t3->lpm, t2->lpm);
	assert_ptr_equal(t3->sas, t2->sas);
	assert_ptr_equal(t3->bound, t2->bound);
	assert_ptr_equal(t3->spd[GW_OUT].pol, t2->spd[GW_OUT].pol);
	assert_ptr_not_equal(t3->spd[GW_IN].pol, t2->spd[GW_IN].pol);
	assert_int_equal(t3->spd[GW_IN].nb, 1);
	assert_int_equal(t3->nb_policies, 2);
	gw_tables_retire(t2, t3);

	assert_null(build_changed(bad, t3, GW_CHANGED_NET, err));
	assert_non_null(strstr(err, "too small"));
	/* t3 whole: its SA still sends */
	assert_int_equal(send_one(t3, 0x101), 1);
	gw_tables_free(t3);
}

/* One transaction of statements on db, built from prev with its log
 * (as the control socket does), made current on success: the new set,
 * or NULL with db as it was. */
static struct gw_tables *
txn(struct gw_db *db, struct gw_tables *prev, const char *const *lines,
    char *err)
{
	struct gw_change chg = { .what = GW_CHANGED_SA };
	struct gw_tables *t;

	for (int i = 0; lines[i] != NULL; i++) {
		struct espgw_cmd c;
		char e[256];

		assert_true(espgw_cmd_parse("test", lines[i], 1, &c, e,
					    sizeof(e)) > 0);
		if (c.verb == ESPGW_CMD_DEL) {
			int pos = gw_db_state_find(db, &c.u.state.p.dst,
						   c.u.state.p.spi);

			assert_true(pos >= 0);
			gw_db_state_remove(db, (unsigned int)pos);
		} else {
			assert_int_equal(
				gw_db_state_add(db, &c.u.state,
						c.verb == ESPGW_CMD_UPDATE),
				0);
		}
	}
	chg.ops = db->ops;
	chg.nb_ops = db->nb_ops;
	t = gw_tables_build(&db->cfg, 1, NULL, prev, &chg, err, 256);
	if (t == NULL) {
		gw_db_rollback(db);
		return NULL;
	}
	gw_tables_commit(t, prev);
	gw_db_commit(db);
	return t;
}

/* The statements txn() takes, as espgwctl sends them. */
#define DEL(src, dst, spi)                                                     \
	"ip xfrm state delete src " src " dst " dst " proto esp spi " spi
#define S(verb, src, dst, spi, reqid, key)                                     \
	"ip xfrm state " verb " src " src " dst " dst " proto esp spi " spi    \
	" reqid " reqid " mode tunnel aead 'rfc4106(gcm(aes))' " key " 128"

/* The control socket's way: changes logged, the SAs that go on and the
 * SAD handed on (the SAD changed in place at commit), the out policy
 * rebound by the log alone; a failed transaction changes nothing. */
static void
test_logged_changes(void **state)
{
	const struct espgw_ip_addr peer = {
		.family = AF_INET,
		.v4 = rte_cpu_to_be_32(T_IPV4(198, 51, 100, 1)),
	};
	const char *const v1[] = {
		BASE,
		STATE_R("0x100", "7", KEY1),
		STATE("0x200", "198.51.100.1", "192.0.2.1", KEY2),
		POLICY("out", "7"),
		NULL,
	};
	/* make before break: the new pair, the same reqid */
	const char *const rekey[] = {
		S("add", "198.51.100.1", "192.0.2.1", "0x201", "8", KEY3),
		S("add", "192.0.2.1", "198.51.100.1", "0x101", "7", KEY3),
		NULL,
	};
	const char *const old_out[] = {
		DEL("192.0.2.1", "198.51.100.1", "0x100"),
		/* xfrm_state_update: the limits change, key and reqid stay */
		S("update", "198.51.100.1", "192.0.2.1", "0x200", "1",
		  KEY3) " limit packet-hard 100 limit byte-soft 5000",
		NULL,
	};
	const char *const last_out[] = {
		DEL("192.0.2.1", "198.51.100.1", "0x101"),
		NULL,
	};
	const char *const bad[] = {
		S("add", "192.0.2.1", "198.51.100.1", "0x102", "7", KEY3),
		S("add", "203.0.113.1", "198.51.100.1", "0x103", "7", KEY3),
		NULL,
	};
	struct espgw_cfg cfg;
	struct gw_tables *t1, *t2, *t3, *t4;
	struct espgw_sa *in200;
	struct gw_db db;
	char err[256];

	(void)state;
	parse(&cfg, v1);
	t1 = gw_tables_build(&cfg, 1, NULL, NULL, NULL, err, sizeof(err));
	assert_non_null(t1);
	assert_int_equal(gw_db_init(&db, &cfg, NULL), 0);
	assert_int_equal(send_one(t1, 0x100), 1);
	in200 = sa_of(t1, 0x200);

	t2 = txn(&db, t1, rekey, err);
	assert_non_null(t2);
	assert_ptr_equal(t2->sad, t1->sad);
	assert_ptr_equal(t2->lpm, t1->lpm);
	assert_ptr_equal(t2->spd[GW_OUT].pol, t1->spd[GW_OUT].pol);
	assert_int_equal(t2->nb_made, 2);
	assert_int_equal(t2->nb_gone, 0);
	assert_ptr_equal(t2->bound[0].sa, sa_of(t2, 0x101));
	assert_ptr_equal(
		espgw_sad_lookup(t2->sad, 0x201,
				 rte_cpu_to_be_32(T_IPV4(192, 0, 2, 1))),
		sa_of(t2, 0x201));
	gw_tables_retire(t1, t2);
	assert_int_equal(send_one(t2, 0x100), 2); /* still the same SA */

	/* the new one dies (a soft limit): its template takes the older,
	 * which does not (xfrm_state_find passes over dying states) */
	{
		int k = gw_db_state_find(&db, &peer, 0x101);
		struct gw_change dc = { .what = GW_CHANGED_SA,
					.live = true,
					.ops = db.ops,
					.any_dying = true,
					.rebind = true };
		struct gw_tables *td;

		assert_true(k >= 0);
		db.cfg.states[k].dying = true;
		td = gw_tables_build(&db.cfg, 1, NULL, t2, &dc, err,
				     sizeof(err));
		assert_non_null(td);
		assert_ptr_equal(td->bound[0].sa, sa_of(td, 0x100));
		assert_ptr_equal(sa_of(td, 0x101), sa_of(t2, 0x101));
		gw_tables_commit(td, t2);
		gw_tables_retire(t2, td);
		db.cfg.states[k].dying = false;
		t2 = td;
	}

	t3 = txn(&db, t2, old_out, err);
	assert_non_null(t3);
	assert_null(sa_of(t3, 0x100));
	assert_int_equal(t3->nb_gone, 1);
	/* the updated SA goes on, with its key, reqid and counters, and
	 * the new limits on it */
	assert_ptr_equal(sa_of(t3, 0x200), in200);
	assert_int_equal(espgw_sa_params(in200)->reqid, 1);
	assert_int_equal(espgw_sa_params(in200)->key[0], 0x11);
	assert_int_equal(espgw_sa_params(in200)->limits.hard_packets, 100);
	assert_int_equal(espgw_sa_params(in200)->limits.soft_bytes, 5000);
	assert_int_equal(espgw_sa_params(in200)->limits.soft_packets, 0);
	assert_ptr_equal(
		espgw_sad_lookup(t3->sad, 0x200,
				 rte_cpu_to_be_32(T_IPV4(192, 0, 2, 1))),
		sa_of(t3, 0x200));
	assert_ptr_equal(t3->bound[0].sa, sa_of(t3, 0x101));
	assert_int_equal(t3->nb_sas, 3);
	gw_tables_retire(t2, t3);

	/* the bound SA goes: the policy has none (drop-out-no-state) */
	t4 = txn(&db, t3, last_out, err);
	assert_non_null(t4);
	assert_null(t4->bound[0].sa);
	gw_tables_retire(t3, t4);

	assert_null(txn(&db, t4, bad, err));
	assert_non_null(strstr(err, "neither of src 203.0.113.1"));
	assert_int_equal(db.cfg.nb_states, 2);
	assert_int_equal(gw_db_state_find(&db, &peer, 0x102), -ESRCH);
	assert_int_equal(t4->nb_sas, 2);
	gw_db_fini(&db);
	gw_tables_free(t4);
}

static bool
any_sa(const struct espgw_cfg_policy *p, const struct espgw_sa *sa)
{
	(void)p;
	return espgw_sa_params(sa)->spi != 0x13;
}

/* Out SAs by reqid: the newest of a reqid first, whatever the order
 * they came in; in SAs and gone ones not found. */
static void
test_reqids(void **state)
{
	struct gw_reqids *x = gw_reqids_new();
	struct espgw_sa_params p;
	struct espgw_sa *sa[5];
	const struct espgw_cfg_policy tmpl = { .reqid = 7 };

	(void)state;
	for (int i = 0; i < 5; i++) {
		t_sa_params(&p, i == 4 ? ESPGW_SA_IN : ESPGW_SA_OUT,
			    0x10 + (uint32_t)i, 20, 16, false, 0, 1);
		p.reqid = i == 3 ? 8 : 7;
		sa[i] = t_sa(&p);
	}
	/* orders of adding 1, 3, 2 for reqid 7 */
	assert_int_equal(gw_reqids_add(x, sa[0], 1), 0);
	assert_int_equal(gw_reqids_add(x, sa[1], 3), 0);
	assert_int_equal(gw_reqids_add(x, sa[2], 2), 0);
	assert_int_equal(gw_reqids_add(x, sa[3], 4), 0);
	assert_int_equal(gw_reqids_add(x, sa[4], 5), 0); /* in: ignored */
	assert_true(gw_reqids_usable(x));
	assert_ptr_equal(gw_reqids_newest(x, 7, any_sa, &tmpl), sa[1]);
	/* the template refuses 0x13, reqid 8's only SA */
	assert_null(gw_reqids_newest(x, 8, any_sa, &tmpl));
	assert_null(gw_reqids_newest(x, 9, any_sa, &tmpl));
	gw_reqids_del(x, sa[1]);
	assert_ptr_equal(gw_reqids_newest(x, 7, any_sa, &tmpl), sa[2]);
	gw_reqids_del(x, sa[2]);
	gw_reqids_del(x, sa[0]);
	gw_reqids_del(x, sa[4]); /* not there: nothing */
	assert_null(gw_reqids_newest(x, 7, any_sa, &tmpl));
	gw_reqids_del(x, sa[3]);
	gw_reqids_free(x);
	for (int i = 0; i < 5; i++)
		espgw_sa_free(sa[i]);
}

/* The IPv6 network (`ip -6 addr/route/neigh`): our addresses and their
 * connected prefixes, routes through a gateway on one of them, each
 * looked up as the data path does; and what the kernel refuses. */
static void
test_ipv6_net(void **state)
{
	static const char *const ok[] = {
		BASE,
		"ip -6 addr add 2001:db8:1::1/64 dev net_null0",
		"ip -6 addr add 2001:db8:1::2/64 dev net_null0",
		"ip -6 route add 2001:db8:99::/48 via 2001:db8:1::fe dev "
		"net_null0",
		"ip -6 route add default via 2001:db8:1::fd dev net_null0",
		"ip -6 neigh add 2001:db8:1::fe lladdr 02:00:00:00:00:fe dev "
		"net_null0",
		NULL
	};
	static const struct {
		const char *line, *says;
	} bad[] = {
		{ "ip -6 addr add 2001:db8:1::1/128 dev net_null0",
		  "address 2001:db8:1::1 is already assigned" },
		{ "ip -6 route add 2001:db8:5::/48 via 2001:db8:7::1 dev "
		  "net_null0",
		  "gateway 2001:db8:7::1 is not on a connected network" },
		{ "ip -6 route add 2001:db8:1::/64 dev net_null0",
		  "route 2001:db8:1::/64 already exists" },
		{ "ip -6 route add 2001:db8:5::/48 dev net_null0 src "
		  "2001:db8:1::9",
		  "src 2001:db8:1::9 is not an address of this gateway" },
	};
	const uint8_t a1[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 1 };
	const uint8_t host[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0x33 };
	const uint8_t far[16] = { 0x20, 1, 0xd, 0xb8, 0, 0x99, [15] = 5 };
	const uint8_t other[16] = { 0x20, 1, 0xd, 0xb8, 0, 0x42, [15] = 5 };
	const uint8_t fe[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0xfe };
	const uint8_t fd[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0xfd };
	const struct gw_nexthop6 *nh;
	struct gw_tables *t;
	char err[256] = "";

	(void)state;
	t = build(ok, NULL, err);
	if (t == NULL)
		fail_msg("%s", err);
	assert_int_equal(t->nb_local6, 2);
	assert_int_equal(gw_local6(t, a1), 0);
	assert_int_equal(gw_local6(t, host), -1);
	assert_memory_equal(gw_port_addr6(t, 0), a1, 16);
	nh = gw_route6(t, host); /* connected: on-link, from our address */
	assert_non_null(nh);
	assert_memory_equal(nh->gw, (uint8_t[16]){ 0 }, 16);
	assert_memory_equal(nh->src, a1, 16);
	assert_memory_equal(gw_route6(t, far)->gw, fe, 16);
	assert_memory_equal(gw_route6(t, other)->gw, fd, 16);
	gw_tables_free(t);

	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		const char *lines[] = { ok[0], ok[1],	    ok[2],
					ok[3], bad[i].line, NULL };

		err[0] = '\0';
		t = build(lines, NULL, err);
		if (t != NULL || strstr(err, bad[i].says) == NULL)
			fail_msg("%s: got \"%s\"", bad[i].line, err);
	}
}

/* States with IPv6 endpoints: the direction from the end that is ours,
 * taken over by a rebuild, one identity (dst, SPI) of their family and
 * not IPv4's, bound to the out policies whose template names them with
 * the tunnel MTU of a 40-byte outer header. */
static void
test_ipv6_states(void **state)
{
#define V6NET                                                                  \
	BASE, "ip -6 addr add 2001:db8:1::1/64 dev net_null0",                 \
		"ip -6 route add 2001:db8:2::/64 via 2001:db8:1::fe dev "      \
		"net_null0"
#define POL46                                                                  \
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl "     \
	"src 2001:db8:1::1 dst 2001:db8:2::1 proto esp mode tunnel"
	static const char *const v1[] = {
		V6NET,
		STATE("0x100", "2001:db8:1::1", "2001:db8:2::1",
		      KEY1) " flag af-unspec",
		STATE("0x200", "2001:db8:2::1", "2001:db8:1::1",
		      KEY2) " flag af-unspec",
		/* an IPv4 state with the same SPI and an IPv6 one's twin
		 * but for the family */
		STATE("0x100", "192.0.2.1", "198.51.100.1", KEY3), POL46, NULL
	};
	static const struct {
		const char *line, *says;
	} bad[] = {
		{ STATE("0x100", "2001:db8:1::1", "2001:db8:2::1", KEY2),
		  "an SA with spi 0x00000100 dst 2001:db8:2::1 is already at "
		  "line 6 (File exists)" },
		{ STATE("0x300", "2001:db8:3::1", "2001:db8:2::1", KEY2),
		  "neither of src 2001:db8:3::1 and dst 2001:db8:2::1" },
		{ STATE("0x300", "2001:db8:1::1", "2001:db8:7::1", KEY2),
		  "no route to the tunnel's far end 2001:db8:7::1" },
	};
	struct gw_tables *t1, *t2;
	char err[256] = "";
	const struct espgw_sa_params *p;

	(void)state;
	t1 = build(v1, NULL, err);
	if (t1 == NULL)
		fail_msg("%s", err);
	assert_int_equal(t1->nb_sas, 3);
	p = espgw_sa_params(t1->sas[0]);
	assert_int_equal(p->dir, ESPGW_SA_OUT);
	assert_int_equal(p->dst.family, AF_INET6);
	assert_int_equal(espgw_sa_params(t1->sas[1])->dir, ESPGW_SA_IN);
	assert_int_equal(espgw_sa_params(t1->sas[2])->dir, ESPGW_SA_OUT);
	/* the template names IPv6 ends: the IPv6 SA, never the IPv4 one
	 * of the same SPI; MTU 1500 - 40 - 8 - 8 - 16 = 1428, rounded to
	 * ESP's 4 bytes less the 2-byte trailer */
	assert_ptr_equal(t1->bound[0].sa, t1->sas[0]);
	assert_int_equal(t1->bound[0].max_inner, 1428 - 2);
	/* the inbound one is found by its family's key */
	assert_ptr_equal(
		espgw_sad_lookup6(t1->sad, 0x200,
				  (const uint8_t[16]){ 0x20, 1, 0xd, 0xb8, 0,
						       1, [15] = 1 }),
		t1->sas[1]);
	assert_null(espgw_sad_lookup(t1->sad, 0x200, 0));
	gw_tables_commit(t1, NULL);

	/* without af-unspec the IPv6 state carries IPv6 only
	 * (xfrm_state_look_at(): the selector's family is the state's):
	 * the IPv4 policy binds nothing */
	{
		const char *plain[] = {
			v1[0],
			v1[1],
			v1[2],
			v1[3],
			v1[4],
			STATE("0x100", "2001:db8:1::1", "2001:db8:2::1", KEY1),
			POL46,
			NULL
		};
		struct gw_tables *t3 = build(plain, NULL, err);

		if (t3 == NULL)
			fail_msg("%s", err);
		assert_false(espgw_sa_params(t3->sas[0])->af_unspec);
		assert_null(t3->bound[0].sa);
		gw_tables_free(t3);
	}

	/* rebuilt from the same lines: the same SAs go on */
	t2 = build(v1, t1, err);
	if (t2 == NULL)
		fail_msg("%s", err);
	assert_ptr_equal(t2->sas[0], t1->sas[0]);
	assert_ptr_equal(t2->sas[1], t1->sas[1]);
	gw_tables_commit(t2, t1);
	gw_tables_retire(t1, t2);
	gw_tables_free(t2);

	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		const char *lines[] = { v1[0], v1[1], v1[2],	   v1[3],
					v1[4], v1[5], bad[i].line, NULL };

		err[0] = '\0';
		t1 = build(lines, NULL, err);
		if (t1 != NULL || strstr(err, bad[i].says) == NULL)
			fail_msg("%s: got \"%s\"", bad[i].line, err);
	}
#undef V6NET
#undef POL46
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sa_survives_rebuild,
						t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_parts_shared, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_logged_changes, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_reqids, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_net, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_states, t_setup,
						t_teardown),
	};
	int rc;

	(void)argc;
	t_eal_init(argv[0]);
	if (rte_vdev_init("net_null0", NULL) != 0) {
		fprintf(stderr, "cannot create net_null0\n");
		return 1;
	}
	W = espgw_worker_create(0, SOCKET_ID_ANY);
	if (W == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	espgw_worker_free(W);
	return rc;
}
