/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The live configuration's commands against the kernel's answers
 * (control/db.c): a state is (dst, SPI) for proto esp, so add of an
 * existing one is EEXIST and update of a missing one ESRCH
 * (xfrm_add_sa, xfrm_state_update); a policy is (selector, dir), add of
 * a twin is EEXIST and update adds or replaces (xfrm_policy_insert);
 * deleteall takes every state or policy its words match; routes,
 * neighbours and addresses answer as rtnetlink does. A transaction
 * that fails is undone whole: the states' log backwards, the small
 * arrays from their copies. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/db.h"

#define KEY                                                                    \
	"aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 " \
	"128"

/* The one entry a statement adds to an empty configuration. */
static struct espgw_cfg
one(const char *line)
{
	struct espgw_cfg cfg;
	char err[256];

	espgw_cfg_init(&cfg, "test");
	assert_int_equal(espgw_cfg_parse_line(&cfg, line, 1, err, sizeof(err)),
			 0);
	return cfg;
}

static struct espgw_cfg_state
state(const char *src, const char *dst, const char *spi, const char *reqid)
{
	char line[512];
	struct espgw_cfg c;
	struct espgw_cfg_state s;

	snprintf(line, sizeof(line),
		 "ip xfrm state add src %s dst %s proto esp spi %s reqid %s "
		 "mode tunnel " KEY,
		 src, dst, spi, reqid);
	c = one(line);
	assert_int_equal(c.nb_states, 1);
	s = c.states[0];
	espgw_cfg_free(&c);
	return s;
}

static struct espgw_cfg_policy
policy(const char *words)
{
	char line[512];
	struct espgw_cfg c;
	struct espgw_cfg_policy p;

	snprintf(line, sizeof(line), "ip xfrm policy add %s", words);
	c = one(line);
	assert_int_equal(c.nb_policies, 1);
	p = c.policies[0];
	espgw_cfg_free(&c);
	return p;
}

static void
test_states(void **st)
{
	struct espgw_cfg cfg;
	struct gw_db db;
	struct espgw_cfg_state a =
		state("192.0.2.1", "198.51.100.1", "0x10", "1");
	struct espgw_cfg_state b =
		state("198.51.100.1", "192.0.2.1", "0x10", "2");
	struct espgw_cfg_state c =
		state("192.0.2.1", "198.51.100.2", "0x20", "1");
	struct espgw_cfg_state sel = a;

	(void)st;
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_init(&db, &cfg, NULL), 0);
	assert_int_equal(gw_db_state_add(&db, &a, true), -ESRCH);
	assert_int_equal(gw_db_state_add(&db, &a, false), 0);
	assert_int_equal(gw_db_state_add(&db, &a, false), -EEXIST);
	/* the classic set-up's one SPI both ways: two states (two dsts) */
	assert_int_equal(gw_db_state_add(&db, &b, false), 0);
	assert_int_equal(gw_db_state_add(&db, &c, false), 0);
	assert_int_equal(db.cfg.nb_states, 3);
	/* xfrm_state_update: only the limits change */
	a.p.reqid = 7;
	a.lft.hard_packets = 1000;
	db.cfg.states[0].dying = true;
	assert_int_equal(gw_db_state_add(&db, &a, true), 0);
	assert_int_equal(db.cfg.states[0].p.reqid, 1);
	assert_int_equal(db.cfg.states[0].lft.hard_packets, 1000);
	assert_false(db.cfg.states[0].dying);
	assert_int_equal(gw_db_state_find(&db, &b.p.dst, 0x10), 1);
	assert_int_equal(gw_db_state_find(&db, &b.p.dst, 0x11), -ESRCH);
	/* the log: three adds, an update in place */
	assert_int_equal(db.nb_ops, 4);
	assert_int_equal(db.ops[3].op, GW_STATE_UPD);
	assert_int_equal(db.ops[3].pos, 0);
	gw_db_commit(&db);
	assert_int_equal(db.nb_ops, 0);

	/* deleteall src 192.0.2.1: a and c, not b; then undone */
	assert_int_equal(
		gw_db_state_remove_matching(&db, &sel, ESPGW_SEL_STATE_SRC), 2);
	assert_int_equal(db.cfg.nb_states, 1);
	assert_int_equal(db.cfg.states[0].p.reqid, 2);
	assert_int_equal(gw_db_state_find(&db, &c.p.dst, 0x20), -ESRCH);
	gw_db_rollback(&db);
	assert_int_equal(db.cfg.nb_states, 3);
	assert_int_equal(db.cfg.states[0].lft.hard_packets, 1000);
	assert_int_equal(db.cfg.states[2].p.spi, 0x20);
	assert_int_equal(gw_db_state_find(&db, &c.p.dst, 0x20), 2);

	/* a mixed transaction, undone: every step goes back */
	assert_int_equal(gw_db_state_add(&db, &a, true), 0);
	gw_db_state_remove(&db, 1);
	for (uint32_t spi = 0x100; spi < 0x140; spi++) {
		struct espgw_cfg_state x = c;

		x.p.spi = spi;
		assert_int_equal(gw_db_state_add(&db, &x, false), 0);
	}
	assert_int_equal(db.cfg.nb_states, 66);
	assert_int_equal(gw_db_state_find(&db, &c.p.dst, 0x120), 0x22);
	assert_int_equal(gw_db_state_remove_matching(&db, &sel, 0), 66);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x10), -ESRCH);
	gw_db_rollback(&db);
	assert_int_equal(db.cfg.nb_states, 3);
	assert_int_equal(gw_db_state_find(&db, &b.p.dst, 0x10), 1);
	assert_int_equal(gw_db_state_find(&db, &c.p.dst, 0x120), -ESRCH);
	for (unsigned int i = 1; i < db.cfg.nb_states; i++)
		assert_true(db.cfg.states[i - 1].seq < db.cfg.states[i].seq);

	/* kept: removals by reqid (a and c have 1) and a flush */
	sel.p.reqid = 1;
	assert_int_equal(
		gw_db_state_remove_matching(&db, &sel, ESPGW_SEL_STATE_REQID),
		2);
	assert_int_equal(gw_db_state_remove_matching(&db, &sel, 0), 1);
	gw_db_commit(&db);
	assert_int_equal(db.cfg.nb_states, 0);
	assert_int_equal(gw_db_state_add(&db, &c, false), 0);
	assert_int_equal(gw_db_state_find(&db, &c.p.dst, 0x20), 0);
	gw_db_fini(&db);

	/* a file with one state twice: refused */
	espgw_cfg_init(&cfg, "test");
	cfg.states = calloc(2, sizeof(*cfg.states));
	assert_non_null(cfg.states);
	cfg.states[0] = cfg.states[1] = b;
	cfg.nb_states = 2;
	{
		unsigned int dup = 0;

		assert_int_equal(gw_db_init(&db, &cfg, &dup), -EEXIST);
		assert_int_equal(dup, 1);
	}
	gw_db_fini(&db);
}

/* A NAT rebound followed (gw_db_state_move): the state keeps its place
 * and everything but its addresses and ports, is found under its new
 * (dst, SPI) and not the old, refuses another's key, and a rollback
 * puts it and its key back. */
static void
test_state_move(void **st)
{
	struct espgw_cfg cfg;
	struct gw_db db;
	struct espgw_cfg_state a =
		state("192.0.2.1", "198.51.100.1", "0x10", "1");
	struct espgw_cfg_state c =
		state("192.0.2.1", "198.51.100.2", "0x10", "1");
	struct espgw_ip_addr nat_ip = { .family = AF_INET };
	uint32_t nat;

	(void)st;
	inet_pton(AF_INET, "203.0.113.7", &nat);
	nat_ip.v4 = nat;
	a.p.encap = (struct espgw_sa_encap){ .udp = true,
					     .sport = 4500,
					     .dport = 4500 };
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_init(&db, &cfg, NULL), 0);
	assert_int_equal(gw_db_state_add(&db, &a, false), 0);
	assert_int_equal(gw_db_state_add(&db, &c, false), 0);
	gw_db_commit(&db);
	/* another state's (dst, SPI): refused, nothing changed */
	assert_int_equal(
		gw_db_state_move(&db, 0, a.p.src.v4, c.p.dst.v4, 4500, 61000),
		-EEXIST);
	assert_int_equal(db.cfg.states[0].p.dst.v4, a.p.dst.v4);
	assert_int_equal(db.nb_ops, 0);

	assert_int_equal(gw_db_state_move(&db, 0, a.p.src.v4, nat, 4500, 61000),
			 0);
	assert_int_equal(db.cfg.states[0].p.dst.v4, nat);
	assert_int_equal(db.cfg.states[0].p.encap.dport, 61000);
	assert_int_equal(db.cfg.states[0].seq, 1);
	assert_int_equal(db.cfg.states[0].p.reqid, 1);
	assert_int_equal(gw_db_state_find(&db, &nat_ip, 0x10), 0);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x10), -ESRCH);
	assert_int_equal(db.ops[0].op, GW_STATE_UPD);
	gw_db_rollback(&db);
	assert_int_equal(db.cfg.states[0].p.dst.v4, a.p.dst.v4);
	assert_int_equal(db.cfg.states[0].p.encap.dport, 4500);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x10), 0);
	assert_int_equal(gw_db_state_find(&db, &nat_ip, 0x10), -ESRCH);

	/* plain ESP: the ports are not its to take */
	assert_int_equal(gw_db_state_move(&db, 1, c.p.src.v4, nat, 4500, 61000),
			 0);
	assert_int_equal(db.cfg.states[1].p.encap.dport, 0);
	gw_db_commit(&db);
	assert_int_equal(gw_db_state_find(&db, &nat_ip, 0x10), 1);
	gw_db_fini(&db);
}

/* Small arrays are copied before a transaction first changes them and
 * put back when it fails. */
static void
test_touch(void **st)
{
	struct espgw_cfg cfg = one("ip route add 10.0.2.0/24 via 192.0.2.254 "
				   "dev net_null0");
	struct espgw_cfg c2 = one("ip route add 10.0.3.0/24 via 192.0.2.254 "
				  "dev net_null0");
	const struct espgw_cfg_route *was;
	unsigned int n;
	struct gw_db db;

	(void)st;
	assert_int_equal(gw_db_init(&db, &cfg, NULL), 0);
	assert_int_equal(gw_db_touch(&db, GW_DB_ROUTES), 0);
	assert_int_equal(gw_db_route_add(&db.cfg, &c2.routes[0], false), 0);
	assert_int_equal(db.cfg.nb_routes, 2);
	was = gw_db_before(&db, GW_DB_ROUTES, &n);
	assert_int_equal(n, 1);
	assert_int_equal(was[0].prefix, db.cfg.routes[0].prefix);
	gw_db_rollback(&db);
	assert_int_equal(db.cfg.nb_routes, 1);
	assert_int_equal(gw_db_touch(&db, GW_DB_ROUTES), 0);
	assert_int_equal(gw_db_route_add(&db.cfg, &c2.routes[0], false), 0);
	gw_db_commit(&db);
	assert_int_equal(db.cfg.nb_routes, 2);
	(void)gw_db_before(&db, GW_DB_ROUTES, &n);
	assert_int_equal(n, 2);
	gw_db_fini(&db);
	espgw_cfg_free(&c2);
}

static void
test_policies(void **st)
{
	struct espgw_cfg cfg;
	struct espgw_cfg_policy out = policy(
		"src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 192.0.2.1 "
		"dst 198.51.100.1 proto esp reqid 1 mode tunnel");
	struct espgw_cfg_policy fwd = policy(
		"src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src 198.51.100.1 "
		"dst 192.0.2.1 proto esp reqid 2 mode tunnel");
	/* the same selector and dir, another priority and action */
	struct espgw_cfg_policy twin =
		policy("src 10.0.1.0/24 dst 10.0.2.0/24 dir out priority 5 "
		       "action block");
	/* the same selector, another dir: not a twin */
	struct espgw_cfg_policy in =
		policy("src 10.0.1.0/24 dst 10.0.2.0/24 dir in action allow");
	struct espgw_cfg_policy udp = policy(
		"src 10.0.1.0/24 dst 10.0.2.0/24 proto udp dport 53 dir out");
	struct espgw_cfg_policy sel = out;

	(void)st;
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_policy_find(&cfg, &out), -ENOENT);
	assert_int_equal(gw_db_policy_add(&cfg, &out, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &fwd, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &twin, false), -EEXIST);
	assert_int_equal(gw_db_policy_add(&cfg, &in, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &udp, false), 0);
	assert_int_equal(cfg.nb_policies, 4);
	/* xfrm_gen_index: out 1, fwd 8|2, in 16|0, out 24|1 */
	assert_int_equal(cfg.policies[0].index, 1);
	assert_int_equal(cfg.policies[1].index, 10);
	assert_int_equal(cfg.policies[2].index, 16);
	assert_int_equal(cfg.policies[3].index, 25);
	assert_int_equal(gw_db_policy_find_index(&cfg, 16, ESPGW_POL_IN), 2);
	assert_int_equal(gw_db_policy_find_index(&cfg, 16, ESPGW_POL_OUT),
			 -ENOENT);
	/* update replaces in place (the kernel keeps the index) */
	assert_int_equal(gw_db_policy_add(&cfg, &twin, true), 0);
	assert_int_equal(cfg.nb_policies, 4);
	assert_int_equal(gw_db_policy_find(&cfg, &out), 0);
	assert_int_equal(cfg.policies[0].action, ESPGW_POL_BLOCK);
	assert_int_equal(cfg.policies[0].priority, 5);
	assert_int_equal(cfg.policies[0].index, 1);
	/* list and deleteall filter by index too (iproute2's
	 * xfrm_policy_filter_match) */
	{
		struct espgw_cfg_policy ix = { .index = 25 };

		assert_false(gw_db_policy_match(&cfg.policies[0], &ix,
						ESPGW_SEL_POLICY_INDEX));
		assert_true(gw_db_policy_match(&cfg.policies[3], &ix,
					       ESPGW_SEL_POLICY_INDEX));
	}
	/* deleteall dir out: the block and the udp one */
	assert_int_equal(
		gw_db_policy_remove_matching(&cfg, &sel, ESPGW_SEL_POLICY_DIR),
		2);
	assert_int_equal(cfg.nb_policies, 2);
	assert_int_equal(gw_db_policy_find(&cfg, &in), 1);
	gw_db_policy_remove(&cfg, 1);
	assert_int_equal(gw_db_policy_find(&cfg, &in), -ENOENT);
	assert_int_equal(gw_db_policy_find(&cfg, &fwd), 0);
	espgw_cfg_free(&cfg);
}

static void
test_routes_neighs_addrs(void **st)
{
	struct espgw_cfg c1 = one("ip route add 10.0.2.0/24 via 192.0.2.254 "
				  "dev net_null0");
	struct espgw_cfg c2 = one("ip route add 10.0.2.0/24 via 192.0.2.253 "
				  "dev net_null0");
	struct espgw_cfg n1 = one("ip neigh add 192.0.2.254 lladdr "
				  "02:00:00:00:00:01 dev net_null0");
	struct espgw_cfg a1 = one("ip addr add 192.0.2.1/24 dev net_null0");
	struct espgw_cfg cfg;
	struct espgw_cfg_neigh other;

	(void)st;
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_route_add(&cfg, &c1.routes[0], false), 0);
	assert_int_equal(gw_db_route_add(&cfg, &c2.routes[0], false), -EEXIST);
	assert_int_equal(
		gw_db_route_del(&cfg, &c2.routes[0], ESPGW_SEL_ROUTE_VIA),
		-ESRCH);
	assert_int_equal(gw_db_route_add(&cfg, &c2.routes[0], true), 0);
	assert_int_equal(cfg.nb_routes, 1);
	assert_int_equal(cfg.routes[0].via, c2.routes[0].via);
	assert_int_equal(
		gw_db_route_del(&cfg, &c2.routes[0], ESPGW_SEL_ROUTE_VIA), 0);
	assert_int_equal(gw_db_route_del(&cfg, &c2.routes[0], 0), -ESRCH);

	assert_int_equal(gw_db_neigh_add(&cfg, &n1.neighs[0], false), 0);
	assert_int_equal(gw_db_neigh_add(&cfg, &n1.neighs[0], false), -EEXIST);
	other = n1.neighs[0];
	snprintf(other.port, sizeof(other.port), "net_null1");
	assert_int_equal(gw_db_neigh_del(&cfg, &other), -ENOENT);
	assert_int_equal(gw_db_neigh_add(&cfg, &other, false), 0);
	assert_int_equal(gw_db_neigh_flush(&cfg, "net_null1"), 1);
	assert_int_equal(gw_db_neigh_del(&cfg, &n1.neighs[0]), 0);
	assert_int_equal(cfg.nb_neighs, 0);

	assert_int_equal(gw_db_addr_del(&cfg, &a1.addrs[0]), -EADDRNOTAVAIL);
	assert_int_equal(gw_db_addr_add(&cfg, &a1.addrs[0]), 0);
	assert_int_equal(gw_db_addr_add(&cfg, &a1.addrs[0]), -EEXIST);
	assert_int_equal(gw_db_addr_del(&cfg, &a1.addrs[0]), 0);

	espgw_cfg_free(&c1);
	espgw_cfg_free(&c2);
	espgw_cfg_free(&n1);
	espgw_cfg_free(&a1);
	espgw_cfg_free(&cfg);
}

/* IPv6 in their own arrays, with IPv4's answers: a route is its
 * prefix (File exists; a del whose via or dev differs: No such
 * process), a neighbour (address, dev), an address one a device
 * whatever its length (ipv6_add_addr), deleted by address and length
 * (inet6_addr_del). An IPv4 entry of the same bytes is another. */
static void
test_ipv6_net(void **st)
{
	struct espgw_cfg r1 = one("ip -6 route add 2001:db8::/32 via fe80::1 "
				  "dev net_null0");
	struct espgw_cfg r2 = one("ip route add 2001:db8::/32 via fe80::2 "
				  "dev net_null1");
	struct espgw_cfg r3 = one("ip route add 2001:db8::/48 dev net_null0");
	struct espgw_cfg n1 = one("ip neigh add fe80::1 lladdr "
				  "02:00:00:00:00:01 dev net_null0");
	struct espgw_cfg a1 = one("ip addr add 2001:db8::1/64 dev net_null0");
	struct espgw_cfg a2 = one("ip addr add 2001:db8::1/56 dev net_null0");
	struct espgw_cfg cfg;
	struct espgw_cfg_neigh6 other;
	struct espgw_cfg_route6 del;
	struct gw_db db;

	(void)st;
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_route6_add(&cfg, &r1.routes6[0], false), 0);
	assert_int_equal(gw_db_route6_add(&cfg, &r2.routes6[0], false),
			 -EEXIST);
	assert_int_equal(gw_db_route6_add(&cfg, &r3.routes6[0], false), 0);
	assert_int_equal(cfg.nb_routes6, 2);
	assert_int_equal(cfg.nb_routes, 0);
	assert_int_equal(
		gw_db_route6_del(&cfg, &r2.routes6[0], ESPGW_SEL_ROUTE_VIA),
		-ESRCH);
	assert_int_equal(
		gw_db_route6_del(&cfg, &r2.routes6[0], ESPGW_SEL_ROUTE_DEV),
		-ESRCH);
	assert_int_equal(gw_db_route6_add(&cfg, &r2.routes6[0], true), 0);
	assert_int_equal(cfg.nb_routes6, 2);
	assert_memory_equal(cfg.routes6[0].via, r2.routes6[0].via, 16);
	assert_string_equal(cfg.routes6[0].port, "net_null1");
	del = r2.routes6[0];
	del.via[15] = 9;
	assert_int_equal(gw_db_route6_del(&cfg, &del, ESPGW_SEL_ROUTE_VIA),
			 -ESRCH);
	assert_int_equal(gw_db_route6_del(&cfg, &del, 0), 0);
	assert_int_equal(gw_db_route6_del(&cfg, &del, 0), -ESRCH);
	assert_int_equal(cfg.nb_routes6, 1);
	assert_int_equal(cfg.routes6[0].len, 48);

	assert_int_equal(gw_db_neigh6_add(&cfg, &n1.neighs6[0], false), 0);
	assert_int_equal(gw_db_neigh6_add(&cfg, &n1.neighs6[0], false),
			 -EEXIST);
	other = n1.neighs6[0];
	snprintf(other.port, sizeof(other.port), "net_null1");
	assert_int_equal(gw_db_neigh6_del(&cfg, &other), -ENOENT);
	assert_int_equal(gw_db_neigh6_add(&cfg, &other, false), 0);
	other.mac.addr_bytes[5] = 7;
	assert_int_equal(gw_db_neigh6_add(&cfg, &other, true), 0);
	assert_int_equal(cfg.nb_neighs6, 2);
	assert_int_equal(cfg.neighs6[1].mac.addr_bytes[5], 7);
	assert_int_equal(gw_db_neigh6_flush(&cfg, "net_null1"), 1);
	assert_int_equal(gw_db_neigh6_del(&cfg, &n1.neighs6[0]), 0);
	assert_int_equal(cfg.nb_neighs6, 0);
	assert_int_equal(gw_db_neigh6_add(&cfg, &n1.neighs6[0], false), 0);
	assert_int_equal(gw_db_neigh6_flush(&cfg, NULL), 1);

	assert_int_equal(gw_db_addr6_del(&cfg, &a1.addrs6[0]), -EADDRNOTAVAIL);
	assert_int_equal(gw_db_addr6_add(&cfg, &a1.addrs6[0]), 0);
	assert_int_equal(gw_db_addr6_add(&cfg, &a1.addrs6[0]), -EEXIST);
	assert_int_equal(gw_db_addr6_add(&cfg, &a2.addrs6[0]), -EEXIST);
	assert_int_equal(gw_db_addr6_del(&cfg, &a2.addrs6[0]), -EADDRNOTAVAIL);
	assert_int_equal(gw_db_addr6_del(&cfg, &a1.addrs6[0]), 0);
	assert_int_equal(cfg.nb_addrs6, 0);

	/* a transaction's copies cover the IPv6 arrays too */
	assert_int_equal(gw_db_init(&db, &cfg, NULL), 0);
	assert_int_equal(gw_db_touch(&db, GW_DB_ADDRS6), 0);
	assert_int_equal(gw_db_touch(&db, GW_DB_ROUTES6), 0);
	assert_int_equal(gw_db_touch(&db, GW_DB_NEIGHS6), 0);
	assert_int_equal(gw_db_addr6_add(&db.cfg, &a1.addrs6[0]), 0);
	assert_int_equal(gw_db_route6_add(&db.cfg, &r1.routes6[0], false), 0);
	assert_int_equal(gw_db_neigh6_add(&db.cfg, &n1.neighs6[0], false), 0);
	gw_db_rollback(&db);
	assert_int_equal(db.cfg.nb_addrs6, 0);
	assert_int_equal(db.cfg.nb_routes6, 1);
	assert_int_equal(db.cfg.routes6[0].len, 48);
	assert_int_equal(db.cfg.nb_neighs6, 0);
	assert_int_equal(gw_db_touch(&db, GW_DB_ADDRS6), 0);
	assert_int_equal(gw_db_addr6_add(&db.cfg, &a1.addrs6[0]), 0);
	gw_db_commit(&db);
	assert_int_equal(db.cfg.nb_addrs6, 1);
	gw_db_fini(&db);

	espgw_cfg_free(&r1);
	espgw_cfg_free(&r2);
	espgw_cfg_free(&r3);
	espgw_cfg_free(&n1);
	espgw_cfg_free(&a1);
	espgw_cfg_free(&a2);
}

/* IPv6 states: xfrm_state_lookup's (daddr, SPI) of the family, all 16
 * bytes: a dst that differs in its last byte is another state, and an
 * IPv4 dst with the same first 4 bytes (32.1.13.184 is 2001:0db8) is
 * another too. NAT traversal does not move an IPv6 state. */
static void
test_states6(void **st)
{
	struct espgw_cfg cfg;
	struct gw_db db;
	struct espgw_cfg_state a =
		state("2001:db8:1::1", "2001:db8:2::1", "0x10", "1");
	struct espgw_cfg_state b =
		state("2001:db8:1::1", "2001:db8:2::2", "0x10", "1");
	struct espgw_cfg_state c =
		state("2001:db8:2::1", "2001:db8:1::1", "0x10", "2");
	struct espgw_cfg_state v4 =
		state("192.0.2.1", "32.1.13.184", "0x10", "1");
	struct espgw_cfg_state sel = a;
	struct espgw_ip_addr x = a.p.dst;

	(void)st;
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_init(&db, &cfg, NULL), 0);
	assert_int_equal(gw_db_state_add(&db, &a, true), -ESRCH);
	assert_int_equal(gw_db_state_add(&db, &a, false), 0);
	assert_int_equal(gw_db_state_add(&db, &a, false), -EEXIST);
	assert_int_equal(gw_db_state_add(&db, &b, false), 0);
	assert_int_equal(gw_db_state_add(&db, &c, false), 0);
	assert_int_equal(gw_db_state_add(&db, &v4, false), 0);
	assert_int_equal(db.cfg.nb_states, 4);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x10), 0);
	assert_int_equal(gw_db_state_find(&db, &b.p.dst, 0x10), 1);
	assert_int_equal(gw_db_state_find(&db, &c.p.dst, 0x10), 2);
	assert_int_equal(gw_db_state_find(&db, &v4.p.dst, 0x10), 3);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x11), -ESRCH);
	x.v6[15] = 9;
	assert_int_equal(gw_db_state_find(&db, &x, 0x10), -ESRCH);
	/* an update keeps the place, of the right state */
	b.lft.hard_bytes = 77;
	assert_int_equal(gw_db_state_add(&db, &b, true), 0);
	assert_int_equal(db.cfg.states[1].lft.hard_bytes, 77);
	assert_int_equal(db.cfg.states[0].lft.hard_bytes, 0);
	assert_int_equal(gw_db_state_move(&db, 0, 1, 2, 4500, 4500),
			 -EAFNOSUPPORT);
	gw_db_commit(&db);

	/* deleteall src 2001:db8:1::1: a and b; the IPv4 state of the
	 * same first bytes stays; then undone */
	assert_true(gw_db_state_match(&db.cfg.states[1], &sel,
				      ESPGW_SEL_STATE_SRC));
	assert_false(gw_db_state_match(&db.cfg.states[1], &sel,
				       ESPGW_SEL_STATE_DST));
	assert_int_equal(
		gw_db_state_remove_matching(&db, &sel, ESPGW_SEL_STATE_SRC), 2);
	assert_int_equal(db.cfg.nb_states, 2);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x10), -ESRCH);
	assert_int_equal(gw_db_state_find(&db, &v4.p.dst, 0x10), 1);
	gw_db_rollback(&db);
	assert_int_equal(db.cfg.nb_states, 4);
	assert_int_equal(gw_db_state_find(&db, &b.p.dst, 0x10), 1);
	gw_db_state_remove(&db, 0);
	assert_int_equal(gw_db_state_find(&db, &a.p.dst, 0x10), -ESRCH);
	assert_int_equal(gw_db_state_find(&db, &b.p.dst, 0x10), 0);
	gw_db_commit(&db);
	gw_db_fini(&db);
}

/* IPv6 policies: (selector, dir) of the family, every byte of both
 * prefixes. spd.c's key reads the IPv4 fields, which an IPv6 selector
 * leaves 0: two IPv6 selectors that differ only in their addresses,
 * and ::/0 beside 0.0.0.0/0, are not twins. */
static void
test_policies6(void **st)
{
	struct espgw_cfg cfg;
	struct espgw_cfg_policy p6 =
		policy("src 2001:db8:1::/48 dst 2001:db8:2::/48 dir out tmpl "
		       "src 2001:db8:1::1 dst 2001:db8:2::1 proto esp reqid 1 "
		       "mode tunnel");
	struct espgw_cfg_policy twin6 =
		policy("src 2001:db8:1::/48 dst 2001:db8:2::/48 dir out "
		       "priority 5 action block");
	struct espgw_cfg_policy other6 =
		policy("src 2001:db8:1::/48 dst 2001:db8:3::/48 dir out");
	struct espgw_cfg_policy in6 =
		policy("src 2001:db8:1::/48 dst 2001:db8:2::/48 dir in");
	struct espgw_cfg_policy any4 = policy("dir out");
	struct espgw_cfg c6 = one("ip -6 xfrm policy add dir out");
	struct espgw_cfg_policy any6 = c6.policies[0];
	struct espgw_cfg_policy sel = other6;

	(void)st;
	espgw_cfg_init(&cfg, "test");
	assert_int_equal(gw_db_policy_add(&cfg, &p6, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &twin6, false), -EEXIST);
	assert_int_equal(gw_db_policy_add(&cfg, &other6, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &in6, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &any4, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &any6, false), 0);
	assert_int_equal(gw_db_policy_add(&cfg, &any6, false), -EEXIST);
	assert_int_equal(cfg.nb_policies, 5);
	assert_int_equal(gw_db_policy_find(&cfg, &other6), 1);
	assert_int_equal(gw_db_policy_find(&cfg, &any4), 3);
	assert_int_equal(gw_db_policy_find(&cfg, &any6), 4);
	/* update replaces the one of its selector, keeping the index */
	assert_int_equal(gw_db_policy_add(&cfg, &twin6, true), 0);
	assert_int_equal(cfg.nb_policies, 5);
	assert_int_equal(cfg.policies[0].action, ESPGW_POL_BLOCK);
	assert_int_equal(cfg.policies[0].index, 1);
	assert_int_equal(cfg.policies[1].action, ESPGW_POL_ALLOW);
	/* deleteall dst 2001:db8:3::/48: other6 only */
	assert_true(gw_db_policy_match(&cfg.policies[1], &sel,
				       ESPGW_SEL_POLICY_DST));
	assert_false(gw_db_policy_match(&cfg.policies[0], &sel,
					ESPGW_SEL_POLICY_DST));
	assert_true(gw_db_policy_match(&cfg.policies[0], &sel,
				       ESPGW_SEL_POLICY_SRC));
	assert_false(gw_db_policy_match(&cfg.policies[3], &any6,
					ESPGW_SEL_POLICY_SRC));
	assert_int_equal(
		gw_db_policy_remove_matching(&cfg, &sel, ESPGW_SEL_POLICY_DST),
		1);
	assert_int_equal(gw_db_policy_find(&cfg, &other6), -ENOENT);
	/* deleteall src 2001:db8:1::/48: the out and the in one */
	assert_int_equal(
		gw_db_policy_remove_matching(&cfg, &sel, ESPGW_SEL_POLICY_SRC),
		2);
	assert_int_equal(cfg.nb_policies, 2);
	espgw_cfg_free(&c6);
	espgw_cfg_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_state_move),
		cmocka_unit_test(test_touch),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_routes_neighs_addrs),
		cmocka_unit_test(test_ipv6_net),
		cmocka_unit_test(test_states6),
		cmocka_unit_test(test_policies6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
