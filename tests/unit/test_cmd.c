/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* `ip` statements as commands (app/lang/cmd.c): every verb of every
 * object, ip's abbreviations, the selectors each names, ip's options,
 * monitor, and a refusal for each malformed form. Needs no EAL. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lang/cmd.h"

#define KEY "0x0102030405060708090a0b0c0d0e0f1011121314"
#define SA_ADD                                                                 \
	"src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 reqid 1 mode tunnel "    \
	"aead 'rfc4106(gcm(aes))' " KEY " 128"

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void
parse_ok(const char *text, struct espgw_cmd *cmd)
{
	char err[512];
	int rc = espgw_cmd_parse("ctl", text, 7, cmd, err, sizeof(err));

	if (rc != 1)
		fail_msg("refused (%d): %s\n  %s", rc, text, err);
	assert_int_equal(cmd->line, 7);
}

/* (1) Which command each statement is: verb, object, given bits. */
#define S(bit) ESPGW_SEL_STATE_##bit
#define P(bit) ESPGW_SEL_POLICY_##bit
#define R(bit) ESPGW_SEL_ROUTE_##bit
#define N(bit) ESPGW_SEL_NEIGH_##bit
#define A(bit) ESPGW_SEL_ADDR_##bit
#define L(bit) ESPGW_SEL_LINK_##bit
static const struct {
	const char *text;
	enum espgw_cmd_verb verb;
	enum espgw_cmd_obj obj;
	uint32_t given;
} good[] = {
	/* xfrm state */
	{ "ip xfrm state add " SA_ADD, ESPGW_CMD_ADD, ESPGW_OBJ_STATE,
	  S(SRC) | S(DST) | S(PROTO) | S(SPI) | S(REQID) | S(MODE) },
	{ "ip x s a " SA_ADD, ESPGW_CMD_ADD, ESPGW_OBJ_STATE,
	  S(SRC) | S(DST) | S(PROTO) | S(SPI) | S(REQID) | S(MODE) },
	{ "xfrm sa update " SA_ADD " flag esn replay-window 32",
	  ESPGW_CMD_UPDATE, ESPGW_OBJ_STATE,
	  S(SRC) | S(DST) | S(PROTO) | S(SPI) | S(REQID) | S(MODE) | S(FLAG) },
	{ "ip x s u " SA_ADD, ESPGW_CMD_UPDATE, ESPGW_OBJ_STATE,
	  S(SRC) | S(DST) | S(PROTO) | S(SPI) | S(REQID) | S(MODE) },
	{ "ip xfrm state delete src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000",
	  ESPGW_CMD_DEL, ESPGW_OBJ_STATE, S(SRC) | S(DST) | S(PROTO) | S(SPI) },
	{ "ip x s d dst 2.2.2.2 spi 5", ESPGW_CMD_DEL, ESPGW_OBJ_STATE,
	  S(DST) | S(SPI) },
	{ "ip x s dele", ESPGW_CMD_DEL, ESPGW_OBJ_STATE, 0 },
	{ "ip xfrm state get dst 2.2.2.2 proto esp spi 0x1000", ESPGW_CMD_GET,
	  ESPGW_OBJ_STATE, S(DST) | S(PROTO) | S(SPI) },
	{ "ip x s g spi 1", ESPGW_CMD_GET, ESPGW_OBJ_STATE, S(SPI) },
	{ "ip xfrm state deleteall", ESPGW_CMD_DELETEALL, ESPGW_OBJ_STATE, 0 },
	{ "ip xfrm state delall reqid 7 mode tunnel", ESPGW_CMD_DELETEALL,
	  ESPGW_OBJ_STATE, S(REQID) | S(MODE) },
	{ "ip x s dela src 1.1.1.1 flag esn", ESPGW_CMD_DELETEALL,
	  ESPGW_OBJ_STATE, S(SRC) | S(FLAG) },
	{ "ip xfrm state flush", ESPGW_CMD_FLUSH, ESPGW_OBJ_STATE, 0 },
	{ "ip x s f proto esp", ESPGW_CMD_FLUSH, ESPGW_OBJ_STATE, S(PROTO) },
	{ "ip xfrm state", ESPGW_CMD_LIST, ESPGW_OBJ_STATE, 0 },
	{ "ip xfrm state list", ESPGW_CMD_LIST, ESPGW_OBJ_STATE, 0 },
	{ "ip xfrm state show", ESPGW_CMD_LIST, ESPGW_OBJ_STATE, 0 },
	{ "ip x s l reqid 2", ESPGW_CMD_LIST, ESPGW_OBJ_STATE, S(REQID) },
	{ "ip x s s dst 1.1.1.1 proto esp spi 0x2000 mode tunnel reqid 2 flag "
	  "esn",
	  ESPGW_CMD_LIST, ESPGW_OBJ_STATE,
	  S(DST) | S(PROTO) | S(SPI) | S(MODE) | S(REQID) | S(FLAG) },
	{ "ip x sa lst", ESPGW_CMD_LIST, ESPGW_OBJ_STATE, 0 },
	/* xfrm policy */
	{ "ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	  "1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel",
	  ESPGW_CMD_ADD, ESPGW_OBJ_POLICY, P(SRC) | P(DST) | P(DIR) },
	{ "ip x p a dir in priority 3 action block index 16", ESPGW_CMD_ADD,
	  ESPGW_OBJ_POLICY, P(DIR) | P(PRIORITY) | P(ACTION) | P(INDEX) },
	{ "ip xfrm pol update src 10.0.1.0/24 dst 10.0.2.0/24 proto tcp dport "
	  "80 dir fwd",
	  ESPGW_CMD_UPDATE, ESPGW_OBJ_POLICY,
	  P(SRC) | P(DST) | P(PROTO) | P(DPORT) | P(DIR) },
	{ "ip xfrm policy delete src 10.0.1.0/24 dst 10.0.2.0/24 dir out",
	  ESPGW_CMD_DEL, ESPGW_OBJ_POLICY, P(SRC) | P(DST) | P(DIR) },
	{ "ip x p d index 8 dir in", ESPGW_CMD_DEL, ESPGW_OBJ_POLICY,
	  P(INDEX) | P(DIR) },
	{ "ip x p d proto udp sport 500 dir out", ESPGW_CMD_DEL,
	  ESPGW_OBJ_POLICY, P(PROTO) | P(SPORT) | P(DIR) },
	{ "ip xfrm policy get dst 10.0.2.0/24 dir out", ESPGW_CMD_GET,
	  ESPGW_OBJ_POLICY, P(DST) | P(DIR) },
	{ "ip x p g index 9 dir fwd", ESPGW_CMD_GET, ESPGW_OBJ_POLICY,
	  P(INDEX) | P(DIR) },
	{ "ip xfrm pol deleteall dir out", ESPGW_CMD_DELETEALL,
	  ESPGW_OBJ_POLICY, P(DIR) },
	{ "ip x p delall", ESPGW_CMD_DELETEALL, ESPGW_OBJ_POLICY, 0 },
	{ "ip x p deleteall src 10.0.1.0/24 action allow priority 0 index 1",
	  ESPGW_CMD_DELETEALL, ESPGW_OBJ_POLICY,
	  P(SRC) | P(ACTION) | P(PRIORITY) | P(INDEX) },
	{ "ip xfrm policy flush", ESPGW_CMD_FLUSH, ESPGW_OBJ_POLICY, 0 },
	{ "ip x p f", ESPGW_CMD_FLUSH, ESPGW_OBJ_POLICY, 0 },
	{ "ip xfrm policy", ESPGW_CMD_LIST, ESPGW_OBJ_POLICY, 0 },
	{ "ip x p l dir fwd", ESPGW_CMD_LIST, ESPGW_OBJ_POLICY, P(DIR) },
	{ "ip x p s dst 10.0.2.0/24", ESPGW_CMD_LIST, ESPGW_OBJ_POLICY,
	  P(DST) },
	{ "ip x p lst", ESPGW_CMD_LIST, ESPGW_OBJ_POLICY, 0 },
	/* route */
	{ "ip route add 10.0.2.0/24 via 1.1.1.2 dev p0 src 10.0.1.1",
	  ESPGW_CMD_ADD, ESPGW_OBJ_ROUTE,
	  R(PREFIX) | R(VIA) | R(DEV) | R(SRC) },
	{ "ip r a default dev p0", ESPGW_CMD_ADD, ESPGW_OBJ_ROUTE,
	  R(PREFIX) | R(DEV) },
	{ "ip route replace 10.0.2.0/24 dev p1", ESPGW_CMD_REPLACE,
	  ESPGW_OBJ_ROUTE, R(PREFIX) | R(DEV) },
	{ "ip r rep 10.0.2.0/24 via 1.1.1.3 dev p1", ESPGW_CMD_REPLACE,
	  ESPGW_OBJ_ROUTE, R(PREFIX) | R(VIA) | R(DEV) },
	{ "ip route del 10.0.2.0/24", ESPGW_CMD_DEL, ESPGW_OBJ_ROUTE,
	  R(PREFIX) },
	{ "ip r d 10.0.2.0/24 via 1.1.1.2 dev p0", ESPGW_CMD_DEL,
	  ESPGW_OBJ_ROUTE, R(PREFIX) | R(VIA) | R(DEV) },
	{ "ip route delete default", ESPGW_CMD_DEL, ESPGW_OBJ_ROUTE,
	  R(PREFIX) },
	{ "ip route", ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, 0 },
	{ "ip r", ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, 0 },
	{ "ip route list", ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, 0 },
	{ "ip r s dev p0", ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, R(DEV) },
	{ "ip ro ls 10.0.0.0/8", ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, R(PREFIX) },
	/* neigh */
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:02 dev p0", ESPGW_CMD_ADD,
	  ESPGW_OBJ_NEIGH, N(ADDR) | N(LLADDR) | N(DEV) },
	{ "ip n replace 1.1.1.2 lladdr 02:00:00:00:00:03 dev p0 nud permanent",
	  ESPGW_CMD_REPLACE, ESPGW_OBJ_NEIGH, N(ADDR) | N(LLADDR) | N(DEV) },
	{ "ip n del 1.1.1.2 dev p0", ESPGW_CMD_DEL, ESPGW_OBJ_NEIGH,
	  N(ADDR) | N(DEV) },
	{ "ip neighbour d to 1.1.1.2 dev p0 lladdr 02:00:00:00:00:02",
	  ESPGW_CMD_DEL, ESPGW_OBJ_NEIGH, N(ADDR) | N(LLADDR) | N(DEV) },
	{ "ip n fl dev X", ESPGW_CMD_FLUSH, ESPGW_OBJ_NEIGH, N(DEV) },
	{ "ip neighbor flush dev p0", ESPGW_CMD_FLUSH, ESPGW_OBJ_NEIGH,
	  N(DEV) },
	{ "ip n", ESPGW_CMD_LIST, ESPGW_OBJ_NEIGH, 0 },
	{ "ip neigh show", ESPGW_CMD_LIST, ESPGW_OBJ_NEIGH, 0 },
	{ "ip n l dev p0", ESPGW_CMD_LIST, ESPGW_OBJ_NEIGH, N(DEV) },
	/* address */
	{ "ip address add 10.0.1.1/24 dev p0", ESPGW_CMD_ADD, ESPGW_OBJ_ADDR,
	  A(ADDR) | A(DEV) },
	{ "ip a d 10.0.1.1/24 dev p0", ESPGW_CMD_DEL, ESPGW_OBJ_ADDR,
	  A(ADDR) | A(DEV) },
	{ "ip addr del local 10.0.1.1/24 dev p0", ESPGW_CMD_DEL, ESPGW_OBJ_ADDR,
	  A(ADDR) | A(DEV) },
	{ "ip a", ESPGW_CMD_LIST, ESPGW_OBJ_ADDR, 0 },
	{ "ip addr list", ESPGW_CMD_LIST, ESPGW_OBJ_ADDR, 0 },
	{ "ip a s dev p0", ESPGW_CMD_LIST, ESPGW_OBJ_ADDR, A(DEV) },
	{ "ip a show p0", ESPGW_CMD_LIST, ESPGW_OBJ_ADDR, A(DEV) },
	/* link */
	{ "ip link set dev p0 up", ESPGW_CMD_SET, ESPGW_OBJ_LINK,
	  L(DEV) | L(UP) },
	{ "ip l s p0 mtu 1400", ESPGW_CMD_SET, ESPGW_OBJ_LINK,
	  L(DEV) | L(MTU) },
	{ "ip link set dev net_tap0 name eth0", ESPGW_CMD_SET, ESPGW_OBJ_LINK,
	  L(DEV) | L(NAME) },
	{ "ip link change p0 name eth0 up mtu 9000", ESPGW_CMD_SET,
	  ESPGW_OBJ_LINK, L(DEV) | L(NAME) | L(UP) | L(MTU) },
	{ "ip link", ESPGW_CMD_LIST, ESPGW_OBJ_LINK, 0 },
	{ "ip l sh", ESPGW_CMD_LIST, ESPGW_OBJ_LINK, 0 },
	{ "ip link list dev p0", ESPGW_CMD_LIST, ESPGW_OBJ_LINK, L(DEV) },
	{ "ip link show p0 up", ESPGW_CMD_LIST, ESPGW_OBJ_LINK,
	  L(DEV) | L(UP) },
	/* monitor */
	{ "ip monitor", ESPGW_CMD_MONITOR, ESPGW_OBJ_MONITOR, 0 },
	{ "ip xfrm monitor", ESPGW_CMD_MONITOR, ESPGW_OBJ_MONITOR, 0 },
};

static void
test_verbs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct espgw_cmd cmd;

		parse_ok(good[i].text, &cmd);
		if (cmd.verb != good[i].verb || cmd.obj != good[i].obj ||
		    cmd.given != good[i].given)
			fail_msg("%s\n  want verb %d obj %d given %#x\n"
				 "  got  verb %d obj %d given %#x",
				 good[i].text, good[i].verb, good[i].obj,
				 good[i].given, cmd.verb, cmd.obj, cmd.given);
		assert_false(cmd.stats || cmd.json || cmd.pretty);
	}
	print_message("%zu commands checked\n", sizeof(good) / sizeof(good[0]));
}

/* (2) The values the selectors and commands carry. */
static void
test_values(void **state)
{
	struct espgw_cmd cmd;
	const struct espgw_sa_params *p;

	(void)state;
	parse_ok("xfrm state delete src 1.1.1.1 dst 2.2.2.2 proto esp spi "
		 "0x1000",
		 &cmd);
	p = &cmd.u.state.p;
	assert_int_equal(p->src.v4, ip4("1.1.1.1"));
	assert_int_equal(p->dst.v4, ip4("2.2.2.2"));
	assert_int_equal(p->dst.family, AF_INET);
	assert_int_equal(p->spi, 0x1000);
	assert_int_equal(cmd.u.state.line, 7);

	parse_ok("xfrm state list reqid 9 flag esn", &cmd);
	assert_int_equal(cmd.u.state.p.reqid, 9);
	assert_true(cmd.u.state.p.esn);

	parse_ok("xfrm state update " SA_ADD " replay-window 64", &cmd);
	assert_int_equal(cmd.u.state.p.replay_window, 64);
	assert_int_equal(cmd.u.state.p.key_len, 20);
	assert_int_equal(cmd.u.state.p.icv_len, 16);
	assert_false(cmd.u.state.p.encap.udp);

	/* RFC 3948: the sender's port, the receiver's, the original
	 * address (xfrm_state_modify) */
	parse_ok("xfrm state add " SA_ADD " encap espinudp 4500 61000 1.2.3.4",
		 &cmd);
	assert_true(cmd.u.state.p.encap.udp);
	assert_int_equal(cmd.u.state.p.encap.sport, 4500);
	assert_int_equal(cmd.u.state.p.encap.dport, 61000);
	assert_int_equal(cmd.u.state.p.encap.oa, ip4("1.2.3.4"));

	parse_ok("xfrm policy delete src 10.0.1.7/24 dst 10.0.2.0/24 proto tcp "
		 "dport 443 dir fwd",
		 &cmd);
	assert_int_equal(cmd.u.policy.src, ip4("10.0.1.0"));
	assert_int_equal(cmd.u.policy.src_len, 24);
	assert_int_equal(cmd.u.policy.proto, 6);
	assert_true(cmd.u.policy.has_dport);
	assert_int_equal(cmd.u.policy.dport, 443);
	assert_int_equal(cmd.u.policy.dir, ESPGW_POL_FWD);

	parse_ok("xfrm policy get index 0x10 dir in", &cmd);
	assert_int_equal(cmd.u.policy.index, 16);
	assert_int_equal(cmd.u.policy.dir, ESPGW_POL_IN);

	parse_ok("xfrm policy list action block priority 5", &cmd);
	assert_int_equal(cmd.u.policy.action, ESPGW_POL_BLOCK);
	assert_int_equal(cmd.u.policy.priority, 5);

	parse_ok("route del 10.0.2.0/24 via 1.1.1.2 dev p0", &cmd);
	assert_int_equal(cmd.u.route.prefix, ip4("10.0.2.0"));
	assert_int_equal(cmd.u.route.len, 24);
	assert_int_equal(cmd.u.route.via, ip4("1.1.1.2"));
	assert_string_equal(cmd.u.route.port, "p0");

	/* a listing matches a prefix; only a route must be a network */
	parse_ok("route show 10.0.1.5/24", &cmd);
	assert_int_equal(cmd.u.route.prefix, ip4("10.0.1.0"));

	parse_ok("neigh del 1.1.1.2 dev p1", &cmd);
	assert_int_equal(cmd.u.neigh.addr, ip4("1.1.1.2"));
	assert_string_equal(cmd.u.neigh.port, "p1");

	parse_ok("neigh flush dev p3", &cmd);
	assert_string_equal(cmd.u.neigh.port, "p3");

	parse_ok("addr del 10.0.1.1/24 dev p0", &cmd);
	assert_int_equal(cmd.u.addr.addr, ip4("10.0.1.1"));
	assert_int_equal(cmd.u.addr.len, 24);

	parse_ok("addr show p2", &cmd);
	assert_string_equal(cmd.u.addr.port, "p2");

	parse_ok("link set dev net_tap0 name eth0 mtu 1400", &cmd);
	assert_string_equal(cmd.u.link.port, "net_tap0");
	assert_string_equal(cmd.u.link.newname, "eth0");
	assert_int_equal(cmd.u.link.mtu, 1400);

	parse_ok("link show p4", &cmd);
	assert_string_equal(cmd.u.link.port, "p4");
}

static void
assert_ip6(const uint8_t *got, const char *want)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, want, a), 1);
	assert_memory_equal(got, a, 16);
}

/* (2b) Each statement's family: the option's, else its addresses';
 * a listing with neither lists both (addr, neigh) or IPv4 (route, as
 * iproute_list_flush_or_save); neigh flush without one flushes both. */
static void
test_families(void **state)
{
	static const struct {
		const char *text;
		uint8_t family;
		enum espgw_cmd_verb verb;
		enum espgw_cmd_obj obj;
		uint32_t given;
	} fam[] = {
		{ "ip -6 route add 2001:db8::/32 dev p0", AF_INET6,
		  ESPGW_CMD_ADD, ESPGW_OBJ_ROUTE, R(PREFIX) | R(DEV) },
		{ "ip route del 2001:db8::/32 via fe80::1 dev p0", AF_INET6,
		  ESPGW_CMD_DEL, ESPGW_OBJ_ROUTE, R(PREFIX) | R(VIA) | R(DEV) },
		{ "ip -6 r rep default via fe80::1 dev p0", AF_INET6,
		  ESPGW_CMD_REPLACE, ESPGW_OBJ_ROUTE,
		  R(PREFIX) | R(VIA) | R(DEV) },
		{ "ip route add default dev p0", AF_INET, ESPGW_CMD_ADD,
		  ESPGW_OBJ_ROUTE, R(PREFIX) | R(DEV) },
		{ "ip route", AF_INET, ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, 0 },
		{ "ip -6 route", AF_INET6, ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE, 0 },
		{ "ip -6 r s dev p0", AF_INET6, ESPGW_CMD_LIST, ESPGW_OBJ_ROUTE,
		  R(DEV) },
		{ "ip route show 2001:db8::5/64", AF_INET6, ESPGW_CMD_LIST,
		  ESPGW_OBJ_ROUTE, R(PREFIX) },
		{ "ip addr", 0, ESPGW_CMD_LIST, ESPGW_OBJ_ADDR, 0 },
		{ "ip -4 a", AF_INET, ESPGW_CMD_LIST, ESPGW_OBJ_ADDR, 0 },
		{ "ip -6 addr show dev p0", AF_INET6, ESPGW_CMD_LIST,
		  ESPGW_OBJ_ADDR, A(DEV) },
		{ "ip addr add 2001:db8::1/64 dev p0", AF_INET6, ESPGW_CMD_ADD,
		  ESPGW_OBJ_ADDR, A(ADDR) | A(DEV) },
		{ "ip -f inet6 a d 2001:db8::1/64 dev p0", AF_INET6,
		  ESPGW_CMD_DEL, ESPGW_OBJ_ADDR, A(ADDR) | A(DEV) },
		{ "ip neigh", 0, ESPGW_CMD_LIST, ESPGW_OBJ_NEIGH, 0 },
		{ "ip -6 neigh show dev p0", AF_INET6, ESPGW_CMD_LIST,
		  ESPGW_OBJ_NEIGH, N(DEV) },
		{ "ip n fl dev p0", 0, ESPGW_CMD_FLUSH, ESPGW_OBJ_NEIGH,
		  N(DEV) },
		{ "ip -6 neigh flush dev p0", AF_INET6, ESPGW_CMD_FLUSH,
		  ESPGW_OBJ_NEIGH, N(DEV) },
		{ "ip -6 n replace fe80::1 lladdr 02:00:00:00:00:01 dev p0",
		  AF_INET6, ESPGW_CMD_REPLACE, ESPGW_OBJ_NEIGH,
		  N(ADDR) | N(LLADDR) | N(DEV) },
		{ "ip neigh del fe80::1 dev p0", AF_INET6, ESPGW_CMD_DEL,
		  ESPGW_OBJ_NEIGH, N(ADDR) | N(DEV) },
		{ "ip -family inet neigh del 10.0.0.1 dev p0", AF_INET,
		  ESPGW_CMD_DEL, ESPGW_OBJ_NEIGH, N(ADDR) | N(DEV) },
	};
	struct espgw_cmd cmd;

	(void)state;
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		parse_ok(fam[i].text, &cmd);
		if (cmd.family != fam[i].family || cmd.verb != fam[i].verb ||
		    cmd.obj != fam[i].obj || cmd.given != fam[i].given)
			fail_msg("%s\n  want family %u verb %d obj %d given "
				 "%#x\n  got  family %u verb %d obj %d given "
				 "%#x",
				 fam[i].text, fam[i].family, fam[i].verb,
				 fam[i].obj, fam[i].given, cmd.family, cmd.verb,
				 cmd.obj, cmd.given);
	}

	/* the values, in the IPv6 members, with the statement's line */
	parse_ok("route del 2001:db8:2::/48 via fe80::1 dev p0", &cmd);
	assert_ip6(cmd.u.route6.prefix, "2001:db8:2::");
	assert_int_equal(cmd.u.route6.len, 48);
	assert_ip6(cmd.u.route6.via, "fe80::1");
	assert_string_equal(cmd.u.route6.port, "p0");
	assert_int_equal(cmd.u.route6.line, 7);
	parse_ok("route show 2001:db8::5/64", &cmd);
	assert_ip6(cmd.u.route6.prefix, "2001:db8::");
	parse_ok("-6 route show dev p5", &cmd);
	assert_string_equal(cmd.u.route6.port, "p5");
	parse_ok("neigh del fe80::9 dev p1", &cmd);
	assert_ip6(cmd.u.neigh6.addr, "fe80::9");
	assert_string_equal(cmd.u.neigh6.port, "p1");
	assert_int_equal(cmd.u.neigh6.line, 7);
	parse_ok("-6 neigh flush dev p3", &cmd);
	assert_string_equal(cmd.u.neigh6.port, "p3");
	parse_ok("addr del 2001:db8::1/64 dev p0", &cmd);
	assert_ip6(cmd.u.addr6.addr, "2001:db8::1");
	assert_int_equal(cmd.u.addr6.len, 64);
	assert_string_equal(cmd.u.addr6.port, "p0");
	assert_int_equal(cmd.u.addr6.line, 7);
	parse_ok("-6 addr show p2", &cmd);
	assert_string_equal(cmd.u.addr6.port, "p2");
	parse_ok("addr show p2", &cmd); /* both: the IPv4 member's */
	assert_string_equal(cmd.u.addr.port, "p2");

	/* xfrm selectors: the state's identity of either family, one
	 * given address deciding the other's */
	parse_ok("xfrm state delete src 2001:db8::1 dst 2001:db8::2 proto esp "
		 "spi 5",
		 &cmd);
	assert_int_equal(cmd.given, S(SRC) | S(DST) | S(PROTO) | S(SPI));
	assert_int_equal(cmd.u.state.p.src.family, AF_INET6);
	assert_int_equal(cmd.u.state.p.dst.family, AF_INET6);
	assert_ip6(cmd.u.state.p.src.v6, "2001:db8::1");
	assert_ip6(cmd.u.state.p.dst.v6, "2001:db8::2");
	assert_int_equal(cmd.u.state.p.spi, 5);
	parse_ok("x s g dst 2001:db8::2 spi 5", &cmd);
	assert_int_equal(cmd.given, S(DST) | S(SPI));
	assert_int_equal(cmd.u.state.p.src.family, AF_INET6);
	parse_ok("-6 xfrm state deleteall reqid 3", &cmd);
	assert_int_equal(cmd.u.state.p.dst.family, AF_INET6);
	parse_ok("xfrm state list src 10.0.0.1", &cmd);
	assert_int_equal(cmd.u.state.p.dst.family, AF_INET);
	parse_ok("xfrm policy delete src 2001:db8:1::7/48 dst ::/0 dir in",
		 &cmd);
	assert_int_equal(cmd.given, P(SRC) | P(DST) | P(DIR));
	assert_int_equal(cmd.u.policy.family, AF_INET6);
	assert_ip6(cmd.u.policy.src6, "2001:db8:1::");
	assert_int_equal(cmd.u.policy.src_len, 48);
	assert_int_equal(cmd.u.policy.dst_len, 0);
	parse_ok("-6 xfrm policy get dir out index 9", &cmd);
	assert_int_equal(cmd.u.policy.family, AF_INET6);
}

/* (3) ip's options, as ip spells and abbreviates them. */
static void
test_options(void **state)
{
	static const struct {
		const char *text;
		bool stats, json, pretty;
	} opts[] = {
		{ "ip -s xfrm state", true, false, false },
		{ "ip -stats x s l", true, false, false },
		{ "ip -statistics route", true, false, false },
		{ "ip -st link", true, false, false },
		{ "ip --stats xfrm policy", true, false, false },
		{ "ip -j xfrm state", false, true, false },
		{ "ip -json -p xfrm state", false, true, true },
		{ "ip -pretty -js route show", false, true, true },
		{ "-s -s -j neigh", true, true, false },
		{ "ip -4 -s -f inet xfrm state", true, false, false },
		{ "ip -6 -s xfrm policy", true, false, false },
		{ "ip -f inet6 -j route", false, true, false },
		{ "ip -- xfrm state", false, false, false },
	};
	struct espgw_cmd cmd;

	(void)state;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		parse_ok(opts[i].text, &cmd);
		if (cmd.stats != opts[i].stats || cmd.json != opts[i].json ||
		    cmd.pretty != opts[i].pretty)
			fail_msg("%s: stats %d json %d pretty %d", opts[i].text,
				 cmd.stats, cmd.json, cmd.pretty);
		assert_int_equal(cmd.verb, ESPGW_CMD_LIST);
	}
}

static void
test_monitor(void **state)
{
	static const struct {
		const char *text;
		unsigned int bits;
	} mons[] = {
		{ "ip monitor", ESPGW_MON_ALL },
		{ "monitor all", ESPGW_MON_ALL },
		{ "ip monitor xfrm", ESPGW_MON_XFRM },
		{ "ip mo x", ESPGW_MON_XFRM },
		{ "ip monitor route", ESPGW_MON_ROUTE },
		{ "ip monitor r n", ESPGW_MON_ROUTE | ESPGW_MON_NEIGH },
		{ "ip monitor neigh xfrm", ESPGW_MON_NEIGH | ESPGW_MON_XFRM },
		{ "ip xfrm monitor", ESPGW_MON_XFRM },
		{ "ip x m all", ESPGW_MON_XFRM },
		{ "ip xfrm monitor SA", ESPGW_MON_SA },
		{ "ip xfrm monitor policy", ESPGW_MON_POLICY },
		{ "ip xfrm monitor SA pol", ESPGW_MON_SA | ESPGW_MON_POLICY },
	};
	struct espgw_cmd cmd;

	(void)state;
	for (size_t i = 0; i < sizeof(mons) / sizeof(mons[0]); i++) {
		parse_ok(mons[i].text, &cmd);
		assert_int_equal(cmd.obj, ESPGW_OBJ_MONITOR);
		assert_int_equal(cmd.verb, ESPGW_CMD_MONITOR);
		if (cmd.monitor != mons[i].bits)
			fail_msg("%s: monitor %#x, want %#x", mons[i].text,
				 cmd.monitor, mons[i].bits);
	}
}

/* (4) Every malformed form, with what the message must say. */
static const struct {
	const char *text;
	const char *says;
} bad[] = {
	/* options */
	{ "ip -6 route add 10.0.0.0/8 dev p0",
	  "inet6 prefix is expected rather than \"10.0.0.0/8\"" },
	{ "ip -4 neigh del fe80::1 dev p0",
	  "inet address is expected rather than \"fe80::1\"" },
	{ "ip -f inet6 addr del 10.0.0.1/8 dev p0",
	  "inet6 prefix is expected rather than \"10.0.0.1/8\"" },
	{ "ip -6 route show 10.0.0.0/8",
	  "inet6 prefix is expected rather than \"10.0.0.0/8\"" },
	{ "ip -f inet7 route", "ip option \"-f inet7\" is not supported" },
	{ "ip xfrm state delete src 2001:db8::1 dst 10.0.0.1 spi 1",
	  "xfrm state: the same address family is required" },
	{ "ip -6 xfrm state get dst 10.0.0.1 spi 1",
	  "inet6 address is expected rather than \"10.0.0.1\"" },
	{ "ip xfrm policy delete src 10.0.0.0/8 dst 2001:db8::/32 dir out",
	  "xfrm policy: the same address family is required" },
	{ "ip -n ns1 route", "ip option \"-n\" is not supported" },
	{ "ip -d link", "ip option \"-d\" is not supported" },
	{ "ip -batch f", "ip option \"-batch\" is not supported" },
	{ "ip -s", "\"ip\" needs an object" },
	/* objects and commands */
	{ "ip xfrm", "\"xfrm\" needs \"state\" or \"policy\"" },
	{ "ip rule", "ip rule is not supported" },
	{ "ip xfrm state allocspi src 1.1.1.1",
	  "\"xfrm state allocspi\" is not supported" },
	{ "ip xfrm state count", "\"xfrm state count\" is not supported" },
	{ "ip xfrm state bogus",
	  "unknown command \"bogus\" for \"xfrm state\"" },
	{ "ip xfrm policy setdefault in block",
	  "\"xfrm policy setdefault\" is not supported" },
	{ "ip xfrm policy count", "\"xfrm policy count\" is not supported" },
	{ "ip route get 10.0.0.1", "\"route get\" is not supported" },
	{ "ip route flush dev p0", "\"route flush\" is not supported" },
	{ "ip r c 10.0.0.0/8 dev p0", "\"route change\" is not supported" },
	{ "ip route append 10.0.0.0/8 dev p0",
	  "\"route append\" is not supported" },
	{ "ip neigh get 1.1.1.1 dev p0", "\"neigh get\" is not supported" },
	{ "ip neigh change 1.1.1.1 dev p0",
	  "\"neigh change\" is not supported" },
	{ "ip addr flush dev p0", "\"address flush\" is not supported" },
	{ "ip addr replace 10.0.0.1/8 dev p0",
	  "\"address replace\" is not supported" },
	{ "ip link add dummy0 type dummy", "\"link add\" is not supported" },
	{ "ip link delete p0", "\"link delete\" is not supported" },
	{ "ip link bogus", "unknown command \"bogus\" for \"link\"" },
	/* xfrm state selectors */
	{ "ip xfrm state delete src", "\"src\" needs a value" },
	{ "ip xfrm state delete spi", "\"spi\" needs a value" },
	{ "ip xfrm state delete spi x", "invalid value \"x\" for \"spi\"" },
	{ "ip xfrm state get dst 2.2.2.256", "invalid IPv4 address" },
	{ "ip xfrm state delete proto ah spi 1", "proto ah is not supported" },
	{ "ip xfrm state delete spi 1 reqid 2",
	  "\"reqid\" is not a selector of \"xfrm state delete\" (src, dst, "
	  "proto, spi)" },
	{ "ip xfrm state get spi 1 mode tunnel",
	  "\"mode\" is not a selector of \"xfrm state get\"" },
	{ "ip xfrm state delete spi 1 spi 2", "\"spi\" is given twice" },
	{ "ip xfrm state delete spi 1 mark 7",
	  "xfrm state option \"mark\" is not supported" },
	{ "ip xfrm state delete spi 1 bogus", "unknown word \"bogus\"" },
	{ "ip xfrm state list mode transport",
	  "mode transport is not supported" },
	{ "ip xfrm state list flag noecn", "flag \"noecn\" is not supported" },
	{ "ip xfrm state list reqid", "\"reqid\" needs a value" },
	{ "ip xfrm state list nokeys",
	  "xfrm state option \"nokeys\" is not supported" },
	{ "ip xfrm state deleteall aead x y z",
	  "\"aead\" is not a selector of \"xfrm state deleteall\"" },
	{ "ip xfrm state flush spi 1",
	  "\"spi\" is not a selector of \"xfrm state flush\" (proto)" },
	{ "ip xfrm state flush proto", "\"proto\" needs a value" },
	/* xfrm state add/update: the full syntax, as in a file */
	{ "ip xfrm state update src 1.1.1.1", "missing \"dst <addr>\"" },
	{ "ip x s a " SA_ADD " bogus", "unknown word \"bogus\"" },
	{ "ip x s u src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 mode tunnel",
	  "missing \"aead" },
	/* xfrm policy selectors */
	{ "ip xfrm policy delete src 10.0.1.0/24",
	  "missing \"dir out|in|fwd\"" },
	{ "ip xfrm policy delete dir out",
	  "\"xfrm policy delete\" needs a selector" },
	{ "ip xfrm policy get dir in", "\"xfrm policy get\" needs a selector" },
	{ "ip xfrm policy delete index 8 src 10.0.0.0/8 dir out",
	  "takes a selector or \"index\", not both" },
	{ "ip xfrm policy delete index dir out",
	  "invalid value \"dir\" for \"index\"" },
	{ "ip xfrm policy delete dir", "\"dir\" needs a value" },
	{ "ip xfrm policy delete dir up src 10.0.0.0/8", "invalid dir \"up\"" },
	{ "ip xfrm policy delete src 10.0.0.0/8 dir out priority 1",
	  "\"priority\" is not a selector of \"xfrm policy delete\"" },
	{ "ip xfrm policy get src 10.0.0.0/8 dir out action allow",
	  "\"action\" is not a selector of \"xfrm policy get\"" },
	{ "ip xfrm policy delete src 10.0.0.0/8 dir out tmpl proto esp",
	  "\"tmpl\" is not a selector" },
	{ "ip xfrm policy delete src 10.0.0.0/8 dir out ptype main",
	  "xfrm policy option \"ptype\" is not supported" },
	{ "ip xfrm policy delete dport 80 dir out",
	  "\"sport\" and \"dport\" are invalid with proto=any" },
	{ "ip xfrm policy deleteall dir sideways", "invalid dir \"sideways\"" },
	{ "ip xfrm policy deleteall tmpl", "\"tmpl\" is not a selector" },
	{ "ip xfrm policy list action deny", "invalid action \"deny\"" },
	{ "ip xfrm policy list nosock",
	  "xfrm policy option \"nosock\" is not supported" },
	{ "ip xfrm policy list bogus", "unknown word \"bogus\"" },
	{ "ip xfrm policy flush dir out",
	  "\"dir\" is not a selector of \"xfrm policy flush\" (nothing)" },
	{ "ip xfrm policy flush ptype sub",
	  "xfrm policy option \"ptype\" is not supported" },
	{ "ip xfrm policy add index 4", "missing \"dir out|in|fwd\"" },
	/* route */
	{ "ip route del", "missing the destination" },
	{ "ip route del dev p0", "missing the destination" },
	{ "ip route del 10.0.1.5/24",
	  "invalid prefix for given prefix length" },
	{ "ip route del 10.0.2.0/24 metric 5",
	  "route option \"metric\" is not supported" },
	{ "ip route replace 10.0.2.0/24", "missing \"dev <port>\"" },
	{ "ip route replace 10.0.2.0/24 dev", "\"dev\" needs a value" },
	{ "ip route list table main",
	  "route option \"table\" is not supported" },
	{ "ip route show root 10.0.0.0/8",
	  "route option \"root\" is not supported" },
	{ "ip route list dev p0 dev p1", "\"dev\" is given twice" },
	{ "ip route list 10.0.0.0/33", "is above 32" },
	/* neigh */
	{ "ip neigh del 1.1.1.2", "missing \"dev <port>\"" },
	{ "ip neigh del dev p0", "missing the neighbour's address" },
	{ "ip neigh replace 1.1.1.2 dev p0", "missing \"lladdr <mac>\"" },
	{ "ip neigh flush", "\"neigh flush\" needs \"dev <port>\"" },
	{ "ip neigh flush dev", "\"dev\" needs a value" },
	{ "ip neigh flush dev p0 dev p1", "\"dev\" is given twice" },
	{ "ip neigh flush to 1.1.1.0/24",
	  "neigh flush option \"to\" is not supported (only dev)" },
	{ "ip neigh show nud reachable",
	  "neigh show option \"nud\" is not supported" },
	{ "ip neigh show 1.1.1.1", "neigh show option \"1.1.1.1\"" },
	{ "ip neigh show p0", "unknown word \"p0\"" },
	/* address */
	{ "ip addr del dev p0", "missing the address" },
	{ "ip addr del 10.0.0.1/8", "missing \"dev <port>\"" },
	{ "ip addr show dev", "\"dev\" needs a value" },
	{ "ip addr show dev p0 p1", "unknown word \"p1\"" },
	{ "ip addr show up", "addr show option \"up\" is not supported" },
	{ "ip addr show to 10.0.0.0/8",
	  "addr show option \"to\" is not supported" },
	/* link */
	{ "ip link set dev p0",
	  "\"link set\" needs \"up\", \"mtu\" or \"name\"" },
	{ "ip link set name eth0", "missing \"dev <port>\"" },
	{ "ip link set dev p0 name", "\"name\" needs a value" },
	{ "ip link set dev p0 name ''", "empty port name" },
	{ "ip link set dev p0 name eth0 name eth1", "\"name\" is given twice" },
	{ "ip link set dev p0 down", "link down is not supported" },
	{ "ip link set dev p0 mtu 20", "mtu 20 is out of range" },
	{ "ip link set dev p0 promisc on",
	  "link option \"promisc\" is not supported" },
	{ "ip link show dev", "\"dev\" needs a value" },
	{ "ip link show p0 p1", "unknown word \"p1\"" },
	{ "ip link show type vlan",
	  "link show option \"type\" is not supported" },
	/* monitor */
	{ "ip monitor link", "monitor \"link\" is not supported" },
	{ "ip monitor a", "monitor \"address\" is not supported" },
	{ "ip monitor file f", "monitor \"file\" is not supported" },
	{ "ip monitor bogus", "unknown word \"bogus\"" },
	{ "ip xfrm monitor acquire",
	  "xfrm monitor \"acquire\" is not supported" },
	{ "ip xfrm monitor nokeys",
	  "xfrm monitor \"nokeys\" is not supported" },
	{ "ip xfrm monitor sa", "unknown word \"sa\"" },
	{ "xfrm state add " SA_ADD " limit time-soon 3",
	  "\"limit\" wants time-soft, time-hard" },
	{ "xfrm state add " SA_ADD " limit byte-hard x",
	  "invalid value \"x\" for \"byte-hard\"" },
	{ "xfrm state delete src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 limit "
	  "time-hard 3",
	  "unknown word \"limit\"" },
};

/* Lifetimes as ip reads them: one `limit` a kind, in any order, any
 * combination; the last of a kind wins; none given is none. */
static void
test_limits(void **state)
{
	struct espgw_cmd cmd;
	const struct espgw_cfg_lifetime *l = &cmd.u.state.lft;

	(void)state;
	parse_ok("xfrm state add " SA_ADD " limit time-soft 10 limit "
		 "time-hard 20 limit time-use-soft 3 limit time-use-hard 0x40 "
		 "limit byte-soft 1000 limit byte-hard 2000 limit packet-soft "
		 "5 limit packet-hard 6 limit time-soft 11",
		 &cmd);
	assert_int_equal(l->soft_add, 11);
	assert_int_equal(l->hard_add, 20);
	assert_int_equal(l->soft_use, 3);
	assert_int_equal(l->hard_use, 64);
	assert_int_equal(l->soft_bytes, 1000);
	assert_int_equal(l->hard_bytes, 2000);
	assert_int_equal(l->soft_packets, 5);
	assert_int_equal(l->hard_packets, 6);
	parse_ok("xfrm state update " SA_ADD, &cmd);
	assert_int_equal(l->hard_add, 0);
	assert_int_equal(l->hard_bytes, 0);
}

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct espgw_cmd cmd;
		char err[512], where[32];
		int line = 200 + (int)i;

		snprintf(where, sizeof(where), "ctl:%d: ", line);
		if (espgw_cmd_parse("ctl", bad[i].text, line, &cmd, err,
				    sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (strncmp(err, where, strlen(where)) != 0 ||
		    strstr(err, bad[i].says) == NULL)
			fail_msg("line: %s\n  want: %s%s...\n  got:  %s",
				 bad[i].text, where, bad[i].says, err);
	}
	print_message("%zu refusals checked\n", sizeof(bad) / sizeof(bad[0]));
}

/* Blank, comment, over-long and shell-only lines, and no room for err. */
static void
test_lines(void **state)
{
	struct espgw_cmd cmd;
	char err[512] = "untouched";
	char *text = malloc(4098);

	(void)state;
	assert_int_equal(espgw_cmd_parse(NULL, "", 1, &cmd, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(espgw_cmd_parse(NULL, "  # ip xfrm state flush", 1,
					 &cmd, err, sizeof(err)),
			 0);
	assert_int_equal(espgw_cmd_parse(NULL, "ip route # list", 2, &cmd, err,
					 sizeof(err)),
			 1);
	assert_int_equal(cmd.verb, ESPGW_CMD_LIST);
	assert_int_equal(espgw_cmd_parse(NULL, "ip xfrm state delete spi $SPI",
					 3, &cmd, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "config:3: shell variable \"$SPI\""));

	assert_non_null(text);
	memset(text, ' ', 4097);
	memcpy(text, "ip route", 8);
	text[4096] = '\0';
	assert_int_equal(
		espgw_cmd_parse("ctl", text, 4, &cmd, err, sizeof(err)), 1);
	text[4096] = ' ';
	text[4097] = '\0';
	assert_int_equal(
		espgw_cmd_parse("ctl", text, 5, &cmd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ctl:5: line is longer than 4096"));
	free(text);

	assert_int_equal(espgw_cmd_parse("ctl", "foo", 6, &cmd, NULL, 0), -1);
	assert_int_equal(espgw_cmd_parse("ctl", "foo", 6, &cmd, err, 3), -1);
	assert_string_equal(err, "ct");
}

/* (5) espgw_cfg_add: what a file may apply, and only that. */
static void
test_cfg_add(void **state)
{
	static const char *const refused[] = {
		"xfrm state delete spi 1",
		"xfrm state",
		"xfrm policy flush",
		"route del 10.0.0.0/8",
		"route replace 10.0.0.0/8 dev p0",
		"neigh flush dev p0",
		"addr show",
		"link show",
		"monitor",
	};
	struct espgw_cfg cfg;
	struct espgw_cmd cmd;
	char err[512];

	(void)state;
	espgw_cfg_init(&cfg, "live");
	parse_ok("xfrm state add " SA_ADD, &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), 0);
	parse_ok("link set dev net_tap0 up name eth0", &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), 0);
	parse_ok("x p a dir out index 8", &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), 0);
	parse_ok("route add 10.0.2.0/24 dev eth0", &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), 0);
	parse_ok("neigh add 1.1.1.1 lladdr 2:0:0:0:0:1 dev eth0", &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), 0);
	parse_ok("addr add 1.1.1.2/24 dev eth0", &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cfg.nb_states, 1);
	assert_int_equal(cfg.states[0].p.spi, 0x1000);
	assert_int_equal(cfg.states[0].line, 7);
	assert_int_equal(cfg.nb_links, 1);
	assert_string_equal(cfg.links[0].newname, "eth0");
	assert_int_equal(cfg.nb_policies, 1);
	assert_int_equal(cfg.policies[0].index, 8);
	assert_int_equal(cfg.nb_routes, 1);
	assert_int_equal(cfg.nb_neighs, 1);
	assert_int_equal(cfg.nb_addrs, 1);

	/* a link must come up, as in a file */
	parse_ok("link set dev p0 mtu 1400", &cmd);
	assert_int_equal(espgw_cfg_add(&cfg, &cmd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "live:7: \"link set\" needs \"up\""));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		parse_ok(refused[i], &cmd);
		if (espgw_cfg_add(&cfg, &cmd, err, sizeof(err)) != -1 ||
		    strstr(err, "cannot be applied to a configuration") == NULL)
			fail_msg("applied: %s (%s)", refused[i], err);
	}
	assert_int_equal(cfg.nb_links, 1);
	assert_int_equal(cfg.nb_routes, 1);
	espgw_cfg_free(&cfg);
}

/* (6) A file takes only add and link set, and says so as it always has. */
static void
test_file_refuses(void **state)
{
	static const struct {
		const char *text;
		const char *says;
	} file_bad[] = {
		{ "ip route", "\"route\" needs a command (\"add\")" },
		{ "ip xfrm state", "\"xfrm state\" needs a command (\"add\")" },
		{ "ip x s deleteall",
		  "\"xfrm state deleteall\" is not supported: "
		  "only 'add' (or 'set ... up') is "
		  "supported in a configuration file" },
		{ "ip x p d dir out",
		  "\"xfrm policy d\" is not supported: only" },
		{ "ip n fl dev p0",
		  "\"neigh fl\" is not supported: only 'add'" },
		{ "ip link show",
		  "\"link show\" is not supported: only 'add'" },
		{ "ip -s link set dev p0 up",
		  "ip option \"-s\" is not supported" },
		{ "ip -j route add 10.0.0.0/8 dev p0",
		  "ip option \"-j\" is not supported" },
		{ "ip monitor", "ip monitor is not supported" },
		{ "ip xfrm monitor", "ip xfrm monitor is not supported" },
		{ "ip link set dev p0 mtu 1500", "\"link set\" needs \"up\"" },
		{ "ip link set dev p0", "\"link set\" needs \"up\"" },
		{ "ip xfrm policy add dir out index 8",
		  "xfrm policy option \"index\" is not supported" },
	};
	struct espgw_cfg cfg;
	char err[512];

	(void)state;
	espgw_cfg_init(&cfg, "f.conf");
	for (size_t i = 0; i < sizeof(file_bad) / sizeof(file_bad[0]); i++) {
		if (espgw_cfg_parse_line(&cfg, file_bad[i].text, 3, err,
					 sizeof(err)) != -1 ||
		    strncmp(err, "f.conf:3: ", 10) != 0 ||
		    strstr(err, file_bad[i].says) == NULL)
			fail_msg("%s\n  want: %s\n  got:  %s", file_bad[i].text,
				 file_bad[i].says, err);
	}
	assert_int_equal(cfg.nb_links + cfg.nb_routes + cfg.nb_policies +
				 cfg.nb_states + cfg.nb_neighs,
			 0);
	espgw_cfg_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_cfg_add),
		cmocka_unit_test(test_file_refuses),
	};

	return cmocka_run_group_tests_name("cmd", tests, NULL, NULL);
}
