/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The `ip`-statement configuration parser (app/config.c): a whole
 * gateway's file field by field, the lines people paste from tutorials,
 * and every refusal with its file:line. Needs no EAL. */

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
#include <unistd.h>

#include "lang/config.h"

#define KEY_OUT "0x0102030405060708090a0b0c0d0e0f1011121314"
#define KEY_IN "0x2122232425262728292a2b2c2d2e2f3031323334"
#define KEY_256                                                                \
	"0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"   \
	"60616263"
#define KEY_192 "0x808182838485868788898a8b8c8d8e8f909192939495969798999a9b"
#define AEAD "aead 'rfc4106(gcm(aes))' "
/* A state line with everything but what the test is about. */
#define STATE "xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 "
#define GOOD_AEAD AEAD KEY_OUT " 128"

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void
parse_all(struct espgw_cfg *cfg, const char *const *lines, size_t n)
{
	char err[512];

	for (size_t i = 0; i < n; i++)
		if (espgw_cfg_parse_line(cfg, lines[i], (int)i + 1, err,
					 sizeof(err)) != 0)
			fail_msg("line %zu refused: %s\n  %s", i + 1, lines[i],
				 err);
}

static void
assert_key(const struct espgw_sa_params *p, uint8_t first, uint8_t len)
{
	assert_int_equal(p->key_len, len);
	for (uint8_t i = 0; i < len; i++)
		assert_int_equal(p->key[i], (uint8_t)(first + i));
}

/* (1) R1 of the classic topology: 10.0.1.0/24 behind net_tap0, public
 * 1.1.1.1 on net_tap1 (port1), the peer R2 at 2.2.2.2 with 10.0.2.0/24. */
static const char *const r1[] = {
	"link set dev net_tap0 up",
	"link set dev net_tap1 up mtu 1500",
	"link set 0000:01:00.0 up mtu 9600",
	"addr add 10.0.1.1/24 dev net_tap0",
	"addr add 1.1.1.1/24 dev net_tap1",
	"route add 10.0.2.0/24 via 1.1.1.2 dev net_tap1 src 10.0.1.1",
	"route add default via 1.1.1.254 dev port1",
	"route add 192.0.2.0/24 dev net_tap0",
	"neigh add 1.1.1.2 lladdr 02:00:00:00:00:02 dev port1",
	"xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 reqid 1 "
	"mode tunnel " AEAD KEY_OUT " 128",
	"xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x2000 reqid 2 "
	"mode tunnel replay-window 64 " AEAD KEY_IN " 128",
	/* ESN variant: options in another order, double quotes */
	"xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x2001 mode "
	"tunnel replay-window 128 flag esn replay-seq 0xfffffff0 replay-seq-hi "
	"1 reqid 2 aead \"rfc4106(gcm(aes))\" " KEY_256 " 96",
	/* outbound ESN without a window: the table builder judges that */
	"xfrm state add reqid 3 aead rfc4106(gcm(aes)) " KEY_192 " 64 src "
	"1.1.1.1 dst 2.2.2.2 proto esp spi 4096 mode tunnel flag esn "
	"replay-oseq 7 replay-oseq-hi 2",
	"xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	"1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel",
	"xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src "
	"2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel",
	"xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in tmpl src "
	"2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel",
	"xfrm policy add src 10.0.1.0/24 dst 10.0.2.66/32 proto tcp dport 23 "
	"dir out priority 10 action block",
	"xfrm policy add src 10.0.1.1 dst 10.0.2.0/24 proto udp sport 500 "
	"dport 500 dir out action allow",
	"xfrm policy add dst 10.0.9.0/24 dir out priority 5 tmpl proto esp "
	"mode tunnel",
};

static void
test_r1(void **state)
{
	struct espgw_cfg cfg;
	const struct espgw_sa_params *p;
	const struct espgw_cfg_policy *pol;
	const struct espgw_cfg_route *rt;

	(void)state;
	espgw_cfg_init(&cfg, "r1.conf");
	parse_all(&cfg, r1, sizeof(r1) / sizeof(r1[0]));

	assert_int_equal(cfg.nb_links, 3);
	assert_string_equal(cfg.links[0].port, "net_tap0");
	assert_int_equal(cfg.links[0].mtu, 0);
	assert_int_equal(cfg.links[0].line, 1);
	assert_string_equal(cfg.links[1].port, "net_tap1");
	assert_int_equal(cfg.links[1].mtu, 1500);
	assert_string_equal(cfg.links[2].port, "0000:01:00.0");
	assert_int_equal(cfg.links[2].mtu, 9600);
	assert_int_equal(cfg.links[2].line, 3);

	assert_int_equal(cfg.nb_addrs, 2);
	assert_int_equal(cfg.addrs[0].addr, ip4("10.0.1.1"));
	assert_int_equal(cfg.addrs[0].len, 24);
	assert_string_equal(cfg.addrs[0].port, "net_tap0");
	assert_int_equal(cfg.addrs[0].line, 4);
	assert_int_equal(cfg.addrs[1].addr, ip4("1.1.1.1"));
	assert_int_equal(cfg.addrs[1].len, 24);
	assert_string_equal(cfg.addrs[1].port, "net_tap1");

	assert_int_equal(cfg.nb_routes, 3);
	rt = &cfg.routes[0];
	assert_int_equal(rt->prefix, ip4("10.0.2.0"));
	assert_int_equal(rt->len, 24);
	assert_int_equal(rt->via, ip4("1.1.1.2"));
	assert_int_equal(rt->src, ip4("10.0.1.1"));
	assert_string_equal(rt->port, "net_tap1");
	assert_int_equal(rt->line, 6);
	rt = &cfg.routes[1];
	assert_int_equal(rt->prefix, 0);
	assert_int_equal(rt->len, 0);
	assert_int_equal(rt->via, ip4("1.1.1.254"));
	assert_int_equal(rt->src, 0);
	assert_string_equal(rt->port, "port1");
	rt = &cfg.routes[2];
	assert_int_equal(rt->prefix, ip4("192.0.2.0"));
	assert_int_equal(rt->len, 24);
	assert_int_equal(rt->via, 0);
	assert_string_equal(rt->port, "net_tap0");

	assert_int_equal(cfg.nb_neighs, 1);
	assert_int_equal(cfg.neighs[0].addr, ip4("1.1.1.2"));
	assert_memory_equal(cfg.neighs[0].mac.addr_bytes,
			    "\x02\x00\x00\x00\x00\x02", 6);
	assert_string_equal(cfg.neighs[0].port, "port1");
	assert_int_equal(cfg.neighs[0].line, 9);

	assert_int_equal(cfg.nb_states, 4);
	p = &cfg.states[0].p;
	assert_int_equal(cfg.states[0].line, 10);
	assert_int_equal(p->dir, ESPGW_SA_OUT);
	assert_int_equal(p->spi, 0x1000);
	assert_int_equal(p->src.family, AF_INET);
	assert_int_equal(p->src.v4, ip4("1.1.1.1"));
	assert_int_equal(p->dst.family, AF_INET);
	assert_int_equal(p->dst.v4, ip4("2.2.2.2"));
	assert_int_equal(p->reqid, 1);
	assert_key(p, 0x01, 20);
	assert_int_equal(p->icv_len, 16);
	assert_false(p->esn);
	assert_int_equal(p->replay_window, 0);
	assert_int_equal(p->oseq, 0);
	assert_int_equal(p->iseq, 0);
	assert_int_equal(p->nb_workers, 0);

	p = &cfg.states[1].p;
	assert_int_equal(p->dir, ESPGW_SA_OUT); /* the builder decides */
	assert_int_equal(p->spi, 0x2000);
	assert_int_equal(p->src.v4, ip4("2.2.2.2"));
	assert_int_equal(p->dst.v4, ip4("1.1.1.1"));
	assert_int_equal(p->reqid, 2);
	assert_key(p, 0x21, 20);
	assert_int_equal(p->icv_len, 16);
	assert_int_equal(p->replay_window, 64);
	assert_false(p->esn);

	p = &cfg.states[2].p;
	assert_int_equal(p->spi, 0x2001);
	assert_int_equal(p->reqid, 2);
	assert_true(p->esn);
	assert_int_equal(p->replay_window, 128);
	assert_int_equal(p->iseq, 0x1fffffff0ull);
	assert_int_equal(p->oseq, 0);
	assert_key(p, 0x40, 36);
	assert_int_equal(p->icv_len, 12);

	p = &cfg.states[3].p;
	assert_int_equal(p->spi, 4096);
	assert_int_equal(p->reqid, 3);
	assert_true(p->esn);
	assert_int_equal(p->replay_window, 0);
	assert_int_equal(p->oseq, 0x200000007ull);
	assert_int_equal(p->iseq, 0);
	assert_key(p, 0x80, 28);
	assert_int_equal(p->icv_len, 8);
	assert_int_equal(p->src.v4, ip4("1.1.1.1"));
	assert_int_equal(p->dst.v4, ip4("2.2.2.2"));

	assert_int_equal(cfg.nb_policies, 6);
	pol = &cfg.policies[0];
	assert_int_equal(pol->line, 14);
	assert_int_equal(pol->src, ip4("10.0.1.0"));
	assert_int_equal(pol->src_len, 24);
	assert_int_equal(pol->dst, ip4("10.0.2.0"));
	assert_int_equal(pol->dst_len, 24);
	assert_int_equal(pol->proto, 0);
	assert_false(pol->has_sport);
	assert_false(pol->has_dport);
	assert_int_equal(pol->dir, ESPGW_POL_OUT);
	assert_int_equal(pol->priority, 0);
	assert_int_equal(pol->action, ESPGW_POL_ALLOW);
	assert_true(pol->has_tmpl);
	assert_int_equal(pol->tmpl_src, ip4("1.1.1.1"));
	assert_int_equal(pol->tmpl_dst, ip4("2.2.2.2"));
	assert_int_equal(pol->reqid, 1);

	pol = &cfg.policies[1];
	assert_int_equal(pol->src, ip4("10.0.2.0"));
	assert_int_equal(pol->dst, ip4("10.0.1.0"));
	assert_int_equal(pol->dir, ESPGW_POL_FWD);
	assert_true(pol->has_tmpl);
	assert_int_equal(pol->tmpl_src, ip4("2.2.2.2"));
	assert_int_equal(pol->tmpl_dst, ip4("1.1.1.1"));
	assert_int_equal(pol->reqid, 2);

	pol = &cfg.policies[2];
	assert_int_equal(pol->dir, ESPGW_POL_IN);
	assert_true(pol->has_tmpl);
	assert_int_equal(pol->reqid, 2);

	pol = &cfg.policies[3];
	assert_int_equal(pol->dst, ip4("10.0.2.66"));
	assert_int_equal(pol->dst_len, 32);
	assert_int_equal(pol->proto, 6);
	assert_false(pol->has_sport);
	assert_true(pol->has_dport);
	assert_int_equal(pol->dport, 23);
	assert_int_equal(pol->dir, ESPGW_POL_OUT);
	assert_int_equal(pol->priority, 10);
	assert_int_equal(pol->action, ESPGW_POL_BLOCK);
	assert_false(pol->has_tmpl);

	pol = &cfg.policies[4];
	assert_int_equal(pol->src, ip4("10.0.1.1"));
	assert_int_equal(pol->src_len, 32);
	assert_int_equal(pol->proto, 17);
	assert_true(pol->has_sport);
	assert_int_equal(pol->sport, 500);
	assert_true(pol->has_dport);
	assert_int_equal(pol->dport, 500);
	assert_int_equal(pol->action, ESPGW_POL_ALLOW);
	assert_false(pol->has_tmpl);

	pol = &cfg.policies[5];
	assert_int_equal(pol->src, 0);
	assert_int_equal(pol->src_len, 0);
	assert_int_equal(pol->dst, ip4("10.0.9.0"));
	assert_int_equal(pol->priority, 5);
	assert_true(pol->has_tmpl);
	assert_int_equal(pol->tmpl_src, 0);
	assert_int_equal(pol->tmpl_dst, 0);
	assert_int_equal(pol->reqid, 0);

	espgw_cfg_free(&cfg);
	assert_null(cfg.states);
	assert_int_equal(cfg.nb_states, 0);
	assert_string_equal(cfg.file, "r1.conf");
}

/* (2) As pasted from the tutorials' hand-made script (one SPI, one key
 * and one reqid both ways) and from a Linux peer's init script. */
static const char *const pasted[] = {
	"#!/bin/sh",
	"# R1: hand-made keys",
	"",
	"   ",
	"ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0xc90713e8 "
	"reqid 0xc90713e8 mode tunnel aead 'rfc4106(gcm(aes))' "
	"0xc90713e8f92eb58f8187b079bd345497c424f13a 128",
	"ip xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0xc90713e8 "
	"reqid 0xc90713e8 mode tunnel aead 'rfc4106(gcm(aes))' "
	"0xc90713e8f92eb58f8187b079bd345497c424f13a 128   # same key back",
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	"1.1.1.1 dst 2.2.2.2 proto esp reqid 0xc90713e8 mode tunnel",
	"ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in tmpl src "
	"2.2.2.2 dst 1.1.1.1 proto esp reqid 0xc90713e8 mode tunnel",
	"\tip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl "
	"src 2.2.2.2 dst 1.1.1.1 proto esp reqid 0xc90713e8 mode tunnel\r",
	/* a Linux peer's init, its variables written out */
	"ip link set lo up",
	"ip addr add 192.0.2.2/24 dev eth0",
	"ip neigh add 192.0.2.1 lladdr 02:00:00:00:02:01 dev eth0 nud "
	"permanent",
	"ip route add 10.0.1.0/24 via 192.0.2.1 dev eth0 src 10.0.2.1",
	"ip xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi "
	"0x00001000 reqid 1 mode tunnel replay-window 0 aead "
	"'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128",
	/* ip's abbreviations and synonyms */
	"ip a add 10.9.0.1/16 dev p0",
	"ip address add 10.9.0.2 dev p0",
	"ip -4 r add to 10.8.0.0/16 dev p0",
	"ip -f inet ro a unicast 10.7.0.0/16 oif p0",
	"ip n add 10.9.0.9 lladdr 2:0:0:0:0:a dev p0",
	"ip neighbour add 10.9.0.10 lladdr 02:00:00:00:00:0B dev p0",
	"ip neighbor add to 10.9.0.11 dev p0 lladdr 02:00:00:00:00:0c",
	"ip l s p0 up",
	"ip x s a src 1.1.1.1 dst 2.2.2.2 proto esp spi 010 mode "
	"tun " GOOD_AEAD,
	"ip xfrm sa add src 1.1.1.1 dst 2.2.2.2 proto esp spi 9 mode tunnel "
	"aead 'rfc4106''(gcm(aes))' " KEY_OUT " 128",
	"ip xfrm pol add dir in",
};

static void
test_pasted(void **state)
{
	struct espgw_cfg cfg;
	const struct espgw_cfg_policy *pol;

	(void)state;
	espgw_cfg_init(&cfg, "pasted.conf");
	parse_all(&cfg, pasted, sizeof(pasted) / sizeof(pasted[0]));

	assert_int_equal(cfg.nb_states, 5);
	for (int i = 0; i < 2; i++) {
		const struct espgw_sa_params *p = &cfg.states[i].p;

		assert_int_equal(p->spi, 0xc90713e8);
		assert_int_equal(p->reqid, 0xc90713e8);
		assert_int_equal(p->key_len, 20);
		assert_memory_equal(p->key,
				    "\xc9\x07\x13\xe8\xf9\x2e\xb5\x8f\x81\x87"
				    "\xb0\x79\xbd\x34\x54\x97\xc4\x24\xf1\x3a",
				    20);
		assert_int_equal(p->icv_len, 16);
		assert_int_equal(p->replay_window, 0);
	}
	assert_int_equal(cfg.states[0].line, 5);
	assert_int_equal(cfg.states[1].line, 6);
	assert_int_equal(cfg.states[1].p.src.v4, ip4("2.2.2.2"));
	assert_int_equal(cfg.states[2].p.spi, 0x1000);
	assert_int_equal(cfg.states[2].p.src.v4, ip4("192.0.2.2"));
	assert_int_equal(cfg.states[3].p.spi, 8); /* 010: octal, as to ip */
	assert_int_equal(cfg.states[4].p.spi, 9);

	assert_int_equal(cfg.nb_policies, 4);
	assert_int_equal(cfg.policies[0].dir, ESPGW_POL_OUT);
	assert_int_equal(cfg.policies[1].dir, ESPGW_POL_IN);
	assert_int_equal(cfg.policies[2].dir, ESPGW_POL_FWD);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cfg.policies[i].reqid, 0xc90713e8);
	assert_int_equal(cfg.policies[2].line, 9);
	pol = &cfg.policies[3]; /* everything from everywhere, allowed in */
	assert_int_equal(pol->src_len, 0);
	assert_int_equal(pol->dst_len, 0);
	assert_int_equal(pol->dir, ESPGW_POL_IN);
	assert_int_equal(pol->action, ESPGW_POL_ALLOW);
	assert_false(pol->has_tmpl);

	assert_int_equal(cfg.nb_links, 2);
	assert_string_equal(cfg.links[0].port, "lo");
	assert_string_equal(cfg.links[1].port, "p0");

	assert_int_equal(cfg.nb_addrs, 3);
	assert_int_equal(cfg.addrs[0].addr, ip4("192.0.2.2"));
	assert_int_equal(cfg.addrs[1].len, 16);
	assert_int_equal(cfg.addrs[2].addr, ip4("10.9.0.2"));
	assert_int_equal(cfg.addrs[2].len, 32);

	assert_int_equal(cfg.nb_routes, 3);
	assert_int_equal(cfg.routes[0].prefix, ip4("10.0.1.0"));
	assert_int_equal(cfg.routes[0].src, ip4("10.0.2.1"));
	assert_int_equal(cfg.routes[1].prefix, ip4("10.8.0.0"));
	assert_int_equal(cfg.routes[2].prefix, ip4("10.7.0.0"));
	assert_string_equal(cfg.routes[2].port, "p0");

	assert_int_equal(cfg.nb_neighs, 4);
	assert_string_equal(cfg.neighs[0].port, "eth0");
	assert_memory_equal(cfg.neighs[1].mac.addr_bytes,
			    "\x02\x00\x00\x00\x00\x0a", 6);
	assert_memory_equal(cfg.neighs[2].mac.addr_bytes,
			    "\x02\x00\x00\x00\x00\x0b", 6);
	assert_int_equal(cfg.neighs[3].addr, ip4("10.9.0.11"));
	espgw_cfg_free(&cfg);
}

/* (2b) IPv6: ip -6, -f inet6, -family inet6, or an address with ':';
 * -4 still IPv4. Addresses in network order, a route's prefix masked
 * (as ip6_route_info_create masks it), default ::/0, via :: on-link,
 * src :: not given. */
static const char *const v6[] = {
	"ip -6 addr add 2001:db8:1::1/64 dev p0",
	"ip addr add fe80::1/10 dev p1",
	"ip -f inet6 address add 2001:db8::5 dev p0",
	"ip -family inet6 route add 2001:db8:2::/48 via fe80::fe dev p0 src "
	"2001:db8:1::1",
	"ip -6 route add default via fe80::fe dev p1",
	"ip route add default via 2001:db8:1::fe dev p0",
	"ip -6 route add 2001:db8:3:ffff::1/47 dev p0",
	"ip -6 r a to 2001:db8:4::4 oif p2",
	"ip -6 route add 2001:db8:5::/64 via :: dev p0 src ::",
	"ip -6 neigh add fe80::fe lladdr 02:00:00:00:00:fe dev p0",
	"ip neigh add 2001:db8:1::fd lladdr 02:00:00:00:00:fd dev p0 nud "
	"permanent",
	"ip -4 addr add 10.0.0.1/8 dev p0",
	"ip -6 -4 route add 10.1.0.0/16 dev p0",
	"ip route add ::/0 dev p3",
	"ip addr add ::ffff:10.0.0.1/128 dev p3",
};

static void
assert_ip6(const uint8_t *got, const char *want)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, want, a), 1);
	assert_memory_equal(got, a, 16);
}

static void
test_ipv6(void **state)
{
	static const uint8_t zero[16];
	struct espgw_cfg cfg;
	const struct espgw_cfg_route6 *r;

	(void)state;
	espgw_cfg_init(&cfg, "v6.conf");
	parse_all(&cfg, v6, sizeof(v6) / sizeof(v6[0]));

	assert_int_equal(cfg.nb_addrs6, 4);
	assert_ip6(cfg.addrs6[0].addr, "2001:db8:1::1");
	assert_int_equal(cfg.addrs6[0].len, 64);
	assert_string_equal(cfg.addrs6[0].port, "p0");
	assert_int_equal(cfg.addrs6[0].line, 1);
	assert_memory_equal(cfg.addrs6[0].addr,
			    "\x20\x01\x0d\xb8\x00\x01\0\0\0\0\0\0\0\0\0\x01",
			    16);
	assert_ip6(cfg.addrs6[1].addr, "fe80::1");
	assert_int_equal(cfg.addrs6[1].len, 10); /* an address: not masked */
	assert_string_equal(cfg.addrs6[1].port, "p1");
	assert_int_equal(cfg.addrs6[1].line, 2);
	assert_ip6(cfg.addrs6[2].addr, "2001:db8::5");
	assert_int_equal(cfg.addrs6[2].len, 128);
	assert_ip6(cfg.addrs6[3].addr, "::ffff:10.0.0.1");
	assert_int_equal(cfg.addrs6[3].line, 15);

	assert_int_equal(cfg.nb_routes6, 7);
	r = &cfg.routes6[0];
	assert_ip6(r->prefix, "2001:db8:2::");
	assert_int_equal(r->len, 48);
	assert_ip6(r->via, "fe80::fe");
	assert_ip6(r->src, "2001:db8:1::1");
	assert_string_equal(r->port, "p0");
	assert_int_equal(r->line, 4);
	r = &cfg.routes6[1];
	assert_memory_equal(r->prefix, zero, 16);
	assert_int_equal(r->len, 0);
	assert_ip6(r->via, "fe80::fe");
	assert_memory_equal(r->src, zero, 16);
	assert_string_equal(r->port, "p1");
	r = &cfg.routes6[2]; /* default, the family from its via */
	assert_memory_equal(r->prefix, zero, 16);
	assert_int_equal(r->len, 0);
	assert_ip6(r->via, "2001:db8:1::fe");
	assert_int_equal(r->line, 6);
	r = &cfg.routes6[3];
	assert_ip6(r->prefix, "2001:db8:2::"); /* masked to /47 */
	assert_int_equal(r->len, 47);
	assert_memory_equal(r->via, zero, 16);
	r = &cfg.routes6[4];
	assert_ip6(r->prefix, "2001:db8:4::4");
	assert_int_equal(r->len, 128);
	assert_string_equal(r->port, "p2");
	r = &cfg.routes6[5]; /* via :: and src ::: as not given */
	assert_ip6(r->prefix, "2001:db8:5::");
	assert_memory_equal(r->via, zero, 16);
	assert_memory_equal(r->src, zero, 16);
	r = &cfg.routes6[6];
	assert_int_equal(r->len, 0);
	assert_string_equal(r->port, "p3");

	assert_int_equal(cfg.nb_neighs6, 2);
	assert_ip6(cfg.neighs6[0].addr, "fe80::fe");
	assert_memory_equal(cfg.neighs6[0].mac.addr_bytes,
			    "\x02\x00\x00\x00\x00\xfe", 6);
	assert_string_equal(cfg.neighs6[0].port, "p0");
	assert_int_equal(cfg.neighs6[0].line, 10);
	assert_ip6(cfg.neighs6[1].addr, "2001:db8:1::fd");
	assert_int_equal(cfg.neighs6[1].line, 11);

	/* -4, and the last of -6 -4, are IPv4 */
	assert_int_equal(cfg.nb_addrs, 1);
	assert_int_equal(cfg.addrs[0].addr, ip4("10.0.0.1"));
	assert_int_equal(cfg.nb_routes, 1);
	assert_int_equal(cfg.routes[0].prefix, ip4("10.1.0.0"));
	assert_int_equal(cfg.nb_neighs, 0);
	espgw_cfg_free(&cfg);
	assert_null(cfg.addrs6);
	assert_null(cfg.routes6);
	assert_null(cfg.neighs6);
	assert_int_equal(cfg.nb_routes6, 0);
}

/* (2c) xfrm over IPv6: a state's src and dst of one family (16 bytes
 * each in p.src.v6, p.dst.v6); a policy's selector of one family, its
 * template of another if it likes (4in6, 6in4), as xfrm allows. */
static const char *const xfrm6[] = {
	"ip xfrm state add src 2001:db8:1::1 dst 2001:db8:2::1 proto esp spi "
	"0x3000 reqid 3 mode tunnel " GOOD_AEAD,
	"ip -6 xfrm state add src fe80::1 dst fe80::2 proto esp spi 0x3001 "
	"mode tunnel replay-window 32 flag esn af-unspec " GOOD_AEAD,
	"ip xfrm policy add src 2001:db8:1::/48 dst 2001:db8:2::/48 dir out "
	"tmpl src 2001:db8:1::1 dst 2001:db8:2::1 proto esp reqid 3 mode "
	"tunnel",
	"ip xfrm policy add src 2001:db8:1::5/48 dst 2001:db8:2::/64 proto tcp "
	"dport 443 dir in priority 7",
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	"2001:db8:1::1 dst 2001:db8:2::1 proto esp reqid 4 mode tunnel",
	"ip xfrm policy add src 2001:db8:1::/48 dst 2001:db8:2::/48 dir fwd "
	"tmpl src 192.0.2.1 dst 198.51.100.1 proto esp reqid 5 mode tunnel",
	"ip -6 xfrm policy add dir in",
	"ip xfrm policy add dst 2001:db8:9::/64 dir out tmpl proto esp mode "
	"tunnel",
	"ip -6 xfrm policy add src 2001:db8::/32 dir out tmpl src 1.1.1.1 dst "
	"2.2.2.2 proto esp mode tunnel",
	"ip xfrm policy add src 10.0.1.0/24 dir out",
};

static void
test_xfrm6(void **state)
{
	static const uint8_t zero[16];
	struct espgw_cfg cfg;
	const struct espgw_sa_params *p;
	const struct espgw_cfg_policy *pol;

	(void)state;
	espgw_cfg_init(&cfg, "x6.conf");
	parse_all(&cfg, xfrm6, sizeof(xfrm6) / sizeof(xfrm6[0]));

	assert_int_equal(cfg.nb_states, 2);
	p = &cfg.states[0].p;
	assert_int_equal(p->src.family, AF_INET6);
	assert_int_equal(p->dst.family, AF_INET6);
	assert_ip6(p->src.v6, "2001:db8:1::1");
	assert_ip6(p->dst.v6, "2001:db8:2::1");
	assert_int_equal(p->spi, 0x3000);
	assert_int_equal(p->reqid, 3);
	assert_key(p, 0x01, 20);
	assert_int_equal(p->icv_len, 16);
	assert_false(p->encap.udp);
	assert_false(p->af_unspec);
	assert_int_equal(cfg.states[0].line, 1);
	p = &cfg.states[1].p;
	assert_ip6(p->src.v6, "fe80::1");
	assert_ip6(p->dst.v6, "fe80::2");
	assert_true(p->esn);
	assert_true(p->af_unspec);
	assert_int_equal(p->replay_window, 32);

	assert_int_equal(cfg.nb_policies, 8);
	pol = &cfg.policies[0];
	assert_int_equal(pol->family, AF_INET6);
	assert_ip6(pol->src6, "2001:db8:1::");
	assert_int_equal(pol->src_len, 48);
	assert_ip6(pol->dst6, "2001:db8:2::");
	assert_int_equal(pol->dst_len, 48);
	assert_int_equal(pol->src, 0); /* the IPv4 fields: unused */
	assert_int_equal(pol->dst, 0);
	assert_true(pol->has_tmpl);
	assert_int_equal(pol->tmpl_family, AF_INET6);
	assert_ip6(pol->tmpl_src6, "2001:db8:1::1");
	assert_ip6(pol->tmpl_dst6, "2001:db8:2::1");
	assert_int_equal(pol->tmpl_src, 0);
	assert_int_equal(pol->reqid, 3);
	assert_int_equal(pol->line, 3);
	pol = &cfg.policies[1]; /* masked to the prefix, as xfrm matches */
	assert_ip6(pol->src6, "2001:db8:1::");
	assert_int_equal(pol->src_len, 48);
	assert_int_equal(pol->dst_len, 64);
	assert_int_equal(pol->proto, 6);
	assert_true(pol->has_dport);
	assert_int_equal(pol->dport, 443);
	assert_int_equal(pol->dir, ESPGW_POL_IN);
	assert_int_equal(pol->priority, 7);
	assert_false(pol->has_tmpl);
	pol = &cfg.policies[2]; /* 4in6 */
	assert_int_equal(pol->family, AF_INET);
	assert_int_equal(pol->src, ip4("10.0.1.0"));
	assert_int_equal(pol->dst, ip4("10.0.2.0"));
	assert_memory_equal(pol->src6, zero, 16);
	assert_int_equal(pol->tmpl_family, AF_INET6);
	assert_ip6(pol->tmpl_src6, "2001:db8:1::1");
	assert_ip6(pol->tmpl_dst6, "2001:db8:2::1");
	assert_int_equal(pol->reqid, 4);
	pol = &cfg.policies[3]; /* 6in4 */
	assert_int_equal(pol->family, AF_INET6);
	assert_int_equal(pol->tmpl_family, AF_INET);
	assert_int_equal(pol->tmpl_src, ip4("192.0.2.1"));
	assert_int_equal(pol->tmpl_dst, ip4("198.51.100.1"));
	assert_memory_equal(pol->tmpl_src6, zero, 16);
	assert_int_equal(pol->dir, ESPGW_POL_FWD);
	pol = &cfg.policies[4]; /* -6 and no address: ::/0 both ways */
	assert_int_equal(pol->family, AF_INET6);
	assert_memory_equal(pol->src6, zero, 16);
	assert_int_equal(pol->src_len, 0);
	assert_int_equal(pol->dst_len, 0);
	assert_false(pol->has_tmpl);
	pol = &cfg.policies[5]; /* a template without addresses: the
				   selector's family, wildcards */
	assert_int_equal(pol->family, AF_INET6);
	assert_int_equal(pol->tmpl_family, AF_INET6);
	assert_memory_equal(pol->tmpl_src6, zero, 16);
	assert_memory_equal(pol->tmpl_dst6, zero, 16);
	pol = &cfg.policies[6]; /* -6 does not bind the template's words */
	assert_int_equal(pol->family, AF_INET6);
	assert_int_equal(pol->tmpl_family, AF_INET);
	assert_int_equal(pol->tmpl_src, ip4("1.1.1.1"));
	pol = &cfg.policies[7]; /* IPv4, as it always was */
	assert_int_equal(pol->family, AF_INET);
	assert_int_equal(pol->src, ip4("10.0.1.0"));
	assert_int_equal(pol->tmpl_family, AF_INET);
	espgw_cfg_free(&cfg);
}

/* (3) Every refusal: the line, and what the message must say. */
static const struct {
	const char *text;
	const char *says;
} bad[] = {
	/* words and shell */
	{ "foo", "unknown word \"foo\"" },
	{ "ip", "\"ip\" needs an object" },
	{ "ip -f inet6 addr add 10.0.0.1/8 dev p0",
	  "inet6 prefix is expected rather than \"10.0.0.1/8\"" },
	{ "ip -s link set dev p0 up", "ip option \"-s\" is not supported" },
	{ "ip -n ns1 link set dev p0 up", "ip option \"-n\" is not supported" },
	{ "ip rule add from 10.0.0.0/8 table 5", "ip rule is not supported" },
	{ "ip tunnel add t0 mode gre", "ip tunnel is not supported" },
	{ "ip route add 10.0.2.0/24 dev p0 \\", "line continuation" },
	{ "ip xfrm state add src $SRC dst 2.2.2.2", "shell variable \"$SRC\"" },
	{ "ip addr add \"$ADDR\" dev p0", "shell variable" },
	{ STATE "mode tunnel aead 'rfc4106(gcm(aes)) " KEY_OUT " 128",
	  "unterminated ' quote" },
	/* commands */
	{ "ip xfrm state delete src 1.1.1.1 dst 2.2.2.2 proto esp spi 1",
	  "only 'add' (or 'set ... up') is supported in a configuration file" },
	{ "ip xfrm state update "
	  "src 1.1.1.1",
	  "\"xfrm state update\"" },
	{ "ip xfrm policy flush", "only 'add' (or 'set ... up') is supported" },
	{ "ip route del 10.0.2.0/24",
	  "\"route del\" is not supported: only 'add'" },
	{ "ip route replace 10.0.2.0/24 dev p0", "only 'add'" },
	{ "ip link add dummy0 type dummy", "\"link add\" is not supported" },
	{ "ip neigh replace 1.1.1.2 lladdr 02:00:00:00:00:02 dev p0",
	  "only 'add'" },
	{ "ip addr flush dev p0", "only 'add'" },
	{ "ip route", "\"route\" needs a command" },
	{ "ip xfrm", "\"xfrm\" needs \"state\" or \"policy\"" },
	{ "ip xfrm monitor", "ip xfrm monitor is not supported" },
	{ "ip xfrm bogus add", "unknown word \"bogus\"" },
	/* link */
	{ "ip link set dev p0 down", "link down is not supported" },
	{ "ip link set dev p0 up mtu 67",
	  "mtu 67 is out of range (68 to 9600)" },
	{ "ip link set dev p0 up mtu 9601", "mtu 9601 is out of range" },
	{ "ip link set dev p0 up mtu 1500x",
	  "invalid value \"1500x\" for \"mtu\"" },
	{ "ip link set dev p0 up mtu", "\"mtu\" needs a value" },
	{ "ip link set dev p0 mtu 1500", "\"link set\" needs \"up\"" },
	{ "ip link set dev p0 up promisc on",
	  "link option \"promisc\" is not supported" },
	{ "ip link set dev p0 address 02:00:00:00:00:01",
	  "link option \"address\" is not supported" },
	{ "ip link set up", "missing \"dev <port>\"" },
	{ "ip link set p0 p1 up", "unknown word \"p1\"" },
	{ "ip link set dev p0 dev p1 up", "\"dev\" is given twice" },
	{ "ip link set dev "
	  "a123456789b123456789c123456789d123456789e123456789f123456789g123 up",
	  "is too long (at most 63 characters)" },
	{ "ip link set dev '' up", "empty port name" },
	/* addr */
	{ "ip addr add 10.0.1.1/33 dev p0",
	  "prefix length 33 in \"10.0.1.1/33\" is above 32" },
	{ "ip addr add 10.0.1.256/24 dev p0",
	  "invalid IPv4 address \"10.0.1.256\"" },
	{ "ip addr add 10.0.1.1/x dev p0",
	  "invalid prefix length in \"10.0.1.1/x\"" },
	{ "ip addr add 10.0.1.1/24", "missing \"dev <port>\"" },
	{ "ip addr add dev p0", "missing the address" },
	{ "ip addr add 10.0.1.1/24 brd + dev p0",
	  "addr option \"brd\" is not supported" },
	{ "ip addr add 10.0.1.1/24 dev p0 label p0:1",
	  "addr option \"label\" is not supported" },
	{ "ip -6 addr add 10.0.1.1/24 dev p0",
	  "inet6 prefix is expected rather than \"10.0.1.1/24\"" },
	{ "ip -4 addr add 2001:db8::1/64 dev p0",
	  "inet prefix is expected rather than \"2001:db8::1/64\"" },
	{ "ip addr add 2001:db8::1/129 dev p0",
	  "prefix length 129 in \"2001:db8::1/129\" is above 128" },
	{ "ip addr add 2001:db8::g/64 dev p0",
	  "invalid IPv6 address \"2001:db8::g\"" },
	{ "ip addr add 2001:db8::1::2/64 dev p0",
	  "invalid IPv6 address \"2001:db8::1::2\"" },
	{ "ip addr add 2001:0db8:0000:0000:0000:0000:0000:0000:0001:0002/64 "
	  "dev p0",
	  "invalid IPv6 prefix" },
	{ "ip addr add 2001:db8::1/64", "missing \"dev <port>\"" },
	{ "ip -6 addr add dev p0", "missing the address (X:X::X/len)" },
	{ "ip -6 addr add 2001:db8::1/64 dev p0 label p0:1",
	  "addr option \"label\" is not supported" },
	{ "ip -6 addr add 2001:db8::1/64 dev p0 nodad",
	  "addr option \"nodad\" is not supported" },
	{ "ip addr add 10.0.1.1/24 10.0.1.2/24 dev p0",
	  "unknown word \"10.0.1.2/24\"" },
	/* route */
	{ "ip route add 10.0.1.5/24 dev p0",
	  "invalid prefix for given prefix length: \"10.0.1.5/24\" (did you "
	  "mean 10.0.1.0/24?)" },
	{ "ip route add 10.0.2.0/24 via 1.1.1.2 dev p0 metric 10",
	  "route option \"metric\" is not supported" },
	{ "ip route add 10.0.2.0/24 dev p0 table 100",
	  "route option \"table\" is not supported" },
	{ "ip route add blackhole 10.0.0.0/8",
	  "route type \"blackhole\" is not supported" },
	{ "ip route add 10.0.2.0/24 via 1.1.1.2", "missing \"dev <port>\"" },
	{ "ip route add via 1.1.1.2 dev p0", "missing the destination" },
	{ "ip route add 10.0.2.0/24 via fe80::1 dev p0",
	  "inet address is expected rather than \"fe80::1\"" },
	{ "ip route add 2001:db8::/32 via 10.0.0.1 dev p0",
	  "inet6 address is expected rather than \"10.0.0.1\"" },
	{ "ip -4 route add 2001:db8::/32 dev p0",
	  "inet prefix is expected rather than \"2001:db8::/32\"" },
	{ "ip -6 route add 10.0.0.0/8 dev p0",
	  "inet6 prefix is expected rather than \"10.0.0.0/8\"" },
	{ "ip route add default via 10.0.0.1 dev p0 src 2001:db8::1",
	  "inet address is expected rather than \"2001:db8::1\"" },
	{ "ip -6 route add default via 10.0.0.1 dev p0",
	  "inet6 address is expected rather than \"10.0.0.1\"" },
	{ "ip -6 route add 2001:db8::/32 via fe80::zz dev p0",
	  "invalid IPv6 address \"fe80::zz\"" },
	{ "ip -6 route add 2001:db8::/32 via fe80::1 dev p0 metric 10",
	  "route option \"metric\" is not supported" },
	{ "ip -6 route add 2001:db8::/32 dev p0 table 100",
	  "route option \"table\" is not supported" },
	{ "ip -6 route add blackhole 2001:db8::/32",
	  "route type \"blackhole\" is not supported" },
	{ "ip -6 route add 2001:db8::/32 via fe80::1",
	  "missing \"dev <port>\"" },
	{ "ip -6 route add via fe80::1 dev p0", "missing the destination" },
	{ "ip route add 2001:db8::/129 dev p0", "is above 128" },
	{ "ip -6 route replace 2001:db8::/32 dev p0", "only 'add'" },
	{ "ip route add 10.0.2.0/24 via 1.1.1 dev p0",
	  "invalid IPv4 address \"1.1.1\"" },
	{ "ip route add 10.0.2.0/24 dev p0 via", "\"via\" needs a value" },
	{ "ip route add 10.0.2.0/40 dev p0", "is above 32" },
	{ "ip route add any dev p0", "unknown word \"any\"" },
	/* neigh */
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00 dev p0",
	  "invalid MAC address \"02:00:00:00:00\"" },
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:zz dev p0",
	  "invalid MAC address" },
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:02:03 dev p0",
	  "invalid MAC address" },
	{ "ip neigh add 1.1.1.2 lladdr 020:00:00:00:00:02 dev p0",
	  "invalid MAC address" },
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:02 dev p0 nud reachable",
	  "nud \"reachable\" is not supported (static entries are permanent)" },
	{ "ip neigh add 1.1.1.2 dev p0", "missing \"lladdr <mac>\"" },
	{ "ip neigh add lladdr 02:00:00:00:00:02 dev p0",
	  "missing the neighbour's address" },
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:02",
	  "missing \"dev <port>\"" },
	{ "ip neigh add proxy 1.1.1.2 dev p0",
	  "neigh option \"proxy\" is not supported" },
	{ "ip -6 neigh add 10.0.0.1 lladdr 02:00:00:00:00:02 dev p0",
	  "inet6 address is expected rather than \"10.0.0.1\"" },
	{ "ip -4 neigh add fe80::1 lladdr 02:00:00:00:00:02 dev p0",
	  "inet address is expected rather than \"fe80::1\"" },
	{ "ip neigh add fe80::1 dev p0", "missing \"lladdr <mac>\"" },
	{ "ip -6 neigh add lladdr 02:00:00:00:00:02 dev p0",
	  "missing the neighbour's address" },
	{ "ip neigh add fe80::1 lladdr 02:00:00:00:00:02",
	  "missing \"dev <port>\"" },
	{ "ip neigh add fe80::1 lladdr 02:00:00:00:00:02 dev p0 nud stale",
	  "nud \"stale\" is not supported" },
	{ "ip neigh add fe80::1 lladdr 02:00:00:00:00:02 dev p0 router",
	  "neigh option \"router\" is not supported" },
	{ "ip neigh add fe80::g lladdr 02:00:00:00:00:02 dev p0",
	  "invalid IPv6 address \"fe80::g\"" },
	/* xfrm state: what is refused by name */
	{ STATE "mode tunnel auth 'hmac(sha256)' 0x00 enc 'cbc(aes)' 0x00",
	  "xfrm state option \"auth\" is not supported (only aead "
	  "rfc4106(gcm(aes)))" },
	{ STATE "mode tunnel enc 'cbc(aes)' 0x00",
	  "xfrm state option \"enc\" is not supported" },
	{ STATE "mode tunnel auth-trunc 'hmac(sha256)' 0x00 128",
	  "xfrm state option \"auth-trunc\" is not supported (only aead" },
	{ STATE "mode tunnel comp deflate",
	  "xfrm state option \"comp\" is not supported" },
	{ STATE "mode transport " GOOD_AEAD,
	  "mode transport is not supported" },
	{ STATE "mode t " GOOD_AEAD, "mode transport is not supported" },
	{ STATE "mode beet " GOOD_AEAD, "mode beet is not supported" },
	{ STATE "mode tunnels " GOOD_AEAD, "invalid mode \"tunnels\"" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto ah spi 1 mode "
	  "tunnel",
	  "proto ah is not supported" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto comp spi 1",
	  "proto comp is not supported" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto 50 spi 1",
	  "invalid xfrm proto \"50\"" },
	{ STATE "mode tunnel aead 'rfc4309(ccm(aes))' " KEY_OUT " 128",
	  "only rfc4106(gcm(aes)) is supported" },
	{ STATE "mode tunnel aead 'rfc7539esp(chacha20,poly1305)' " KEY_OUT
		" 128",
	  "aead \"rfc7539esp(chacha20,poly1305)\" is not supported" },
	{ STATE "mode tunnel aead 'rfc4106(gcm(aes))' 0x0102 128",
	  "aead key must be 0x and 40, 56 or 72 hex digits" },
	{ STATE "mode tunnel aead 'rfc4106(gcm(aes))' "
		"0102030405060708090a0b0c0d0e0f10111213141516 128",
	  "aead key must be 0x" },
	{ STATE "mode tunnel aead 'rfc4106(gcm(aes))' "
		"0x0102030405060708090a0b0c0d0e0f101112131g 128",
	  "aead key has a character that is not a hex digit" },
	{ STATE "mode tunnel aead 'rfc4106(gcm(aes))' " KEY_OUT " 32",
	  "aead ICV length \"32\" must be 64, 96 or 128" },
	{ STATE "mode tunnel aead 'rfc4106(gcm(aes))' " KEY_OUT,
	  "\"aead\" needs an algorithm name, a key and an ICV length" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi",
	  "\"spi\" needs a value" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1g",
	  "invalid value \"0x1g\" for \"spi\"" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x100000000",
	  "invalid value \"0x100000000\" for \"spi\"" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi -1",
	  "invalid value \"-1\" for \"spi\"" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0 mode "
	  "tunnel " GOOD_AEAD,
	  "spi 0 is reserved" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi "
	  "1 " GOOD_AEAD,
	  "missing \"mode tunnel\" (ip's default, transport, is not "
	  "supported)" },
	{ STATE "mode tunnel", "missing \"aead 'rfc4106(gcm(aes))'" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp mode "
	  "tunnel " GOOD_AEAD,
	  "missing \"spi <SPI>\"" },
	{ "ip xfrm state add dst 2.2.2.2 proto esp spi 1 mode "
	  "tunnel " GOOD_AEAD,
	  "missing \"src <addr>\"" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 spi 1 mode "
	  "tunnel " GOOD_AEAD,
	  "missing \"proto esp\"" },
	{ STATE "spi 2 mode tunnel " GOOD_AEAD, "\"spi\" is given twice" },
	{ STATE "mode tunnel " GOOD_AEAD
		" encap espinudp-nonike 4500 4500 0.0.0.0",
	  "encap espinudp-nonike is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " encap espintcp 4500 4500 0.0.0.0",
	  "encap espintcp is not supported (ESP in TCP, RFC 8229" },
	{ STATE "mode tunnel " GOOD_AEAD " encap gre 4500 4500 0.0.0.0",
	  "encap type \"gre\" is not one of espinudp" },
	{ STATE "mode tunnel " GOOD_AEAD " encap espinudp 0 4500 0.0.0.0",
	  "port 0 is not a port" },
	{ STATE "mode tunnel " GOOD_AEAD " encap espinudp 4500 65536 0.0.0.0",
	  "encap dport" },
	{ STATE "mode tunnel " GOOD_AEAD " encap espinudp 4500 4500",
	  "encap OADDR" },
	{ STATE "mode tunnel " GOOD_AEAD " sel src 10.0.1.0/24",
	  "xfrm state option \"sel\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " limit time-hard",
	  "\"time-hard\" needs a value" },
	{ STATE "mode tunnel " GOOD_AEAD " mark 7",
	  "xfrm state option \"mark\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " output-mark 7",
	  "xfrm state option \"output-mark\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " if_id 7",
	  "xfrm state option \"if_id\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " ctx foo",
	  "xfrm state option \"ctx\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " offload dev p0 dir out",
	  "xfrm state option \"offload\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " tfcpad 100",
	  "xfrm state option \"tfcpad\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " coa 1.2.3.4",
	  "xfrm state option \"coa\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " extra-flag dont-encap-dscp",
	  "xfrm state option \"extra-flag\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " seq 5",
	  "xfrm state option \"seq\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " dir in",
	  "xfrm state option \"dir\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " flag noecn",
	  "flag \"noecn\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD
		" replay-window 32 flag esn decap-dscp",
	  "flag \"decap-dscp\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " flag nopmtudisc",
	  "flag \"nopmtudisc\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " flag wildrecv",
	  "flag \"wildrecv\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " flag icmp",
	  "flag \"icmp\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " flag align4",
	  "flag \"align4\" is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " flag 0x80",
	  "unknown flag \"0x80\"" },
	{ STATE "mode tunnel " GOOD_AEAD " flag", "\"flag\" needs a value" },
	{ STATE "mode tunnel " GOOD_AEAD " replay-seq-hi 1",
	  "\"replay-seq-hi\" needs \"flag esn\"" },
	{ STATE "mode tunnel " GOOD_AEAD " replay-oseq-hi 1",
	  "\"replay-oseq-hi\" needs \"flag esn\"" },
	{ STATE "mode tunnel " GOOD_AEAD " replay-window 65537",
	  "replay-window 65537 is too large (at most 65536)" },
	{ STATE "mode tunnel " GOOD_AEAD " replay-seq 4294967296",
	  "invalid value \"4294967296\" for \"replay-seq\"" },
	{ "ip xfrm state add src 1.1.1.1 dst 2001:db8::1 proto esp spi 1",
	  "xfrm state: the same address family is required between \"src "
	  "1.1.1.1\" (inet) and \"dst 2001:db8::1\" (inet6)" },
	{ STATE "mode tunnel " GOOD_AEAD " bogus", "unknown word \"bogus\"" },
	{ "ip xfrm state add src 2001:db8::1 dst 2.2.2.2 proto esp spi 1 mode "
	  "tunnel " GOOD_AEAD,
	  "xfrm state: the same address family is required between \"src "
	  "2001:db8::1\" (inet6) and \"dst 2.2.2.2\" (inet)" },
	{ "ip -6 xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1",
	  "inet6 address is expected rather than \"1.1.1.1\"" },
	{ "ip -4 xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi "
	  "1",
	  "inet address is expected rather than \"2001:db8::1\"" },
	{ "ip xfrm state add src 2001:db8::1 dst 2001:db8::zz proto esp spi 1",
	  "invalid IPv6 address \"2001:db8::zz\"" },
	{ "ip xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 1 "
	  "mode tunnel " GOOD_AEAD " encap espinudp 4500 4500 0.0.0.0",
	  "ESP in UDP over IPv6 is not supported" },
	{ "ip xfrm state add encap espinudp 4500 4500 0.0.0.0 src 2001:db8::1 "
	  "dst 2001:db8::2 proto esp spi 1 mode tunnel " GOOD_AEAD,
	  "ESP in UDP over IPv6 is not supported" },
	{ STATE "mode tunnel " GOOD_AEAD " encap espinudp 4500 4500 ::",
	  "ESP in UDP over IPv6 is not supported" },
	{ "ip xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0 "
	  "mode tunnel " GOOD_AEAD,
	  "spi 0 is reserved" },
	{ "ip xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 1 "
	  "mode transport " GOOD_AEAD,
	  "mode transport is not supported" },
	/* xfrm policy */
	{ "ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out ptype "
	  "main",
	  "xfrm policy option \"ptype\" is not supported" },
	{ "ip xfrm policy add dir out mark 1",
	  "xfrm policy option \"mark\" is not supported" },
	{ "ip xfrm policy add dir out index 8",
	  "xfrm policy option \"index\" is not supported" },
	{ "ip xfrm policy add dir out flag localok",
	  "xfrm policy option \"flag\" is not supported" },
	{ "ip xfrm policy add dir out ctx foo",
	  "xfrm policy option \"ctx\" is not supported" },
	{ "ip xfrm policy add dir out if_id 3",
	  "xfrm policy option \"if_id\" is not supported" },
	{ "ip xfrm policy add dir out dev p0",
	  "xfrm policy option \"dev\" is not supported" },
	{ "ip xfrm policy add dir out proto icmp type 8",
	  "xfrm policy option \"type\" is not supported" },
	{ "ip xfrm policy add dir out tmpl proto esp mode tunnel level use",
	  "tmpl option \"level\" is not supported" },
	{ "ip xfrm policy add dir out tmpl proto esp spi 5 mode tunnel",
	  "tmpl option \"spi\" is not supported" },
	{ "ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir sideways",
	  "invalid dir \"sideways\" (out, in or fwd)" },
	{ "ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir 0",
	  "invalid dir \"0\"" },
	{ "ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24",
	  "missing \"dir out|in|fwd\"" },
	{ "ip xfrm policy add dir out proto icmp sport 1",
	  "\"sport\" and \"dport\" are invalid with proto=icmp" },
	{ "ip xfrm policy add dir out dport 80",
	  "\"sport\" and \"dport\" are invalid with proto=any" },
	{ "ip xfrm policy add dir out proto 47 dport 80",
	  "\"sport\" and \"dport\" are invalid with proto=47" },
	{ "ip xfrm policy add dir out proto tcp dport 65536",
	  "invalid value \"65536\" for \"dport\"" },
	{ "ip xfrm policy add dir out proto foo", "invalid proto \"foo\"" },
	{ "ip xfrm policy add dir out proto 256", "invalid proto \"256\"" },
	{ "ip xfrm policy add dir out action block tmpl proto esp mode tunnel",
	  "\"action block\" cannot have a \"tmpl\"" },
	{ "ip xfrm policy add dir out action deny",
	  "invalid action \"deny\" (allow or block)" },
	{ "ip xfrm policy add dir out tmpl src 1.1.1.1 dst 2.2.2.2 proto ah "
	  "mode tunnel",
	  "proto ah is not supported" },
	{ "ip xfrm policy add dir out tmpl src 1.1.1.1 dst 2.2.2.2 proto esp "
	  "mode transport",
	  "mode transport is not supported" },
	{ "ip xfrm policy add dir out tmpl src 1.1.1.1 dst 2.2.2.2 proto esp "
	  "reqid 1",
	  "tmpl needs \"mode tunnel\"" },
	{ "ip xfrm policy add dir out tmpl src 1.1.1.1 dst 2.2.2.2 mode tunnel",
	  "tmpl needs \"proto esp\"" },
	{ "ip xfrm policy add dir out tmpl proto esp mode tunnel tmpl proto "
	  "esp mode tunnel",
	  "only one \"tmpl\" is supported" },
	{ "ip xfrm policy add dir out tmpl proto esp mode tunnel reqid 1 reqid "
	  "2",
	  "\"reqid\" is given twice" },
	{ "ip xfrm policy add src 10.0.1.0/33 dst 10.0.2.0/24 dir out",
	  "is above 32" },
	{ "ip xfrm policy add src fe80::/64 dst 10.0.2.0/24 dir out",
	  "xfrm policy: the same address family is required between \"src "
	  "fe80::/64\" (inet6) and \"dst 10.0.2.0/24\" (inet)" },
	{ "ip xfrm policy add src 2001:db8::/32 dst 10.0.2.0/24 dir out",
	  "xfrm policy: the same address family is required between \"src "
	  "2001:db8::/32\" (inet6) and \"dst 10.0.2.0/24\" (inet)" },
	{ "ip -6 xfrm policy add src 10.0.0.0/8 dir out",
	  "inet6 prefix is expected rather than \"10.0.0.0/8\"" },
	{ "ip -4 xfrm policy add dst 2001:db8::/32 dir out",
	  "inet prefix is expected rather than \"2001:db8::/32\"" },
	{ "ip xfrm policy add src 2001:db8::/129 dir out", "is above 128" },
	{ "ip xfrm policy add dst 2001:db8::/32 dir out tmpl src 1.1.1.1 dst "
	  "2001:db8::2 proto esp mode tunnel",
	  "tmpl: the same address family is required between \"src "
	  "1.1.1.1\" (inet) and \"dst 2001:db8::2\" (inet6)" },
	{ "ip xfrm policy add dir out tmpl src 2001:db8::zz proto esp mode "
	  "tunnel",
	  "invalid IPv6 address \"2001:db8::zz\"" },
	{ "ip xfrm policy add src 2001:db8::/32 dir out dport 80",
	  "\"sport\" and \"dport\" are invalid with proto=any" },
	{ "ip xfrm policy add src 2001:db8::/32 dir out tmpl src 2001:db8::1 "
	  "dst 2001:db8::2 proto esp mode tunnel level use",
	  "tmpl option \"level\" is not supported" },
	{ "ip xfrm policy add dir out priority high",
	  "invalid value \"high\" for \"priority\"" },
	{ "ip xfrm policy add dir out dir in", "\"dir\" is given twice" },
	{ "ip xfrm policy add dir out tmpl proto esp mode tunnel bogus",
	  "unknown word \"bogus\"" },
	/* values that are missing or given twice, anywhere */
	{ "ip route add 10.0.2.0/24 dev p0 \\  \t", "line continuation" },
	{ "ip -family ipx link set dev p0 up",
	  "ip option \"-family ipx\" is not supported" },
	{ "ip -f", "\"-f\" needs a value" },
	{ "ip addr add 1000000000000000.0.0.1/8 dev p0",
	  "invalid IPv4 prefix" },
	{ "ip addr add 10.0.0.1/8 dev", "\"dev\" needs a value" },
	{ "ip addr add 10.0.0.1/8 dev p0 dev p1", "\"dev\" is given twice" },
	{ "ip addr add 10.0.0.1/8 local 10.0.0.2/8 dev p0",
	  "\"local\" is given twice" },
	{ "ip route add to", "\"to\" needs a value" },
	{ "ip route add 10.0.0.0/8 dev p0 oif p1", "\"dev\" is given twice" },
	{ "ip route add 10.0.2.0/24 dev p0 src 1.2.3",
	  "invalid IPv4 address \"1.2.3\"" },
	{ "ip neigh add 1.1.1.x lladdr 02:00:00:00:00:01 dev p0",
	  "invalid IPv4 address \"1.1.1.x\"" },
	{ "ip neigh add 1.1.1.1 lladdr 02:00:00:00:00:01 lladdr "
	  "02:00:00:00:00:02 dev p0",
	  "\"lladdr\" is given twice" },
	{ "ip neigh add 1.1.1.2 lladdr", "\"lladdr\" needs a value" },
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:02 dev p0 nud",
	  "\"nud\" needs a value" },
	{ "ip neigh add 1.1.1.2 lladdr 02:00:00:00:00:02 dev",
	  "\"dev\" needs a value" },
	{ "ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto",
	  "\"proto\" needs a value" },
	{ "ip xfrm state add src 1.1.1.1 mode", "\"mode\" needs a value" },
	{ "ip xfrm state add src 1.1.1.1 src 1.1.1.2",
	  "\"src\" is given twice" },
	{ "ip xfrm policy add dir", "\"dir\" needs a value" },
	{ "ip xfrm policy add dir out action", "\"action\" needs a value" },
	{ "ip xfrm policy add dir out src", "\"src\" needs a value" },
	{ "ip xfrm policy add dir out proto", "\"proto\" needs a value" },
	{ "ip xfrm policy add dir out tmpl src 1.1.1.256",
	  "invalid IPv4 address \"1.1.1.256\"" },
	{ "ip xfrm policy add dir out tmpl mode", "\"mode\" needs a value" },
};

static bool
cfg_empty(const struct espgw_cfg *cfg)
{
	return cfg->nb_links + cfg->nb_addrs + cfg->nb_routes + cfg->nb_neighs +
		       cfg->nb_states + cfg->nb_policies + cfg->nb_addrs6 +
		       cfg->nb_routes6 + cfg->nb_neighs6 ==
	       0;
}

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct espgw_cfg cfg;
		char err[512], where[32];
		int line = 100 + (int)i;

		espgw_cfg_init(&cfg, "bad.conf");
		snprintf(where, sizeof(where), "bad.conf:%d: ", line);
		if (espgw_cfg_parse_line(&cfg, bad[i].text, line, err,
					 sizeof(err)) == 0)
			fail_msg("accepted: %s", bad[i].text);
		if (strncmp(err, where, strlen(where)) != 0 ||
		    strstr(err, bad[i].says) == NULL)
			fail_msg("line: %s\n  want: %s%s...\n  got:  %s",
				 bad[i].text, where, bad[i].says, err);
		if (!cfg_empty(&cfg))
			fail_msg("refused, but something was added: %s",
				 bad[i].text);
		espgw_cfg_free(&cfg);
	}
	print_message("%zu refusals checked\n", sizeof(bad) / sizeof(bad[0]));
}

/* The key never shows in a message: messages go to logs. */
static void
test_key_not_echoed(void **state)
{
	struct espgw_cfg cfg;
	char err[512];

	(void)state;
	espgw_cfg_init(&cfg, NULL);
	assert_int_equal(espgw_cfg_parse_line(
				 &cfg,
				 STATE
				 "mode tunnel " AEAD
				 "0x0102030405060708090a0b0c0d0e0f10111213 128",
				 7, err, sizeof(err)),
			 -1);
	assert_null(strstr(err, "0102030405"));
	assert_non_null(strstr(err, "config:7: "));
	/* no room for a message: refused all the same */
	assert_int_equal(espgw_cfg_parse_line(&cfg, "foo", 8, NULL, 0), -1);
	assert_int_equal(espgw_cfg_parse_line(&cfg, "foo", 8, err, 0), -1);
	assert_int_equal(espgw_cfg_parse_line(&cfg, "foo", 8, err, 4), -1);
	assert_string_equal(err, "con");
	assert_true(cfg_empty(&cfg));
	espgw_cfg_free(&cfg);
}

static void
test_blank_and_comments(void **state)
{
	static const char *const ok[] = {
		"",
		" \t\r",
		"#",
		"# ip route del everything",
		"   # indented",
		"link set dev p0 up # trailing comment",
		"link set dev p1 up#glued comment",
		"xfrm policy add src 10.0.1.0/24 dir out action allow # dir in",
	};
	struct espgw_cfg cfg;
	char err[512] = "untouched";

	(void)state;
	espgw_cfg_init(&cfg, "c.conf");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (espgw_cfg_parse_line(&cfg, ok[i], 1, err, sizeof(err)) != 0)
			fail_msg("%s: %s", ok[i], err);
	assert_string_equal(err, "");
	assert_int_equal(cfg.nb_links, 2);
	assert_string_equal(cfg.links[1].port, "p1");
	assert_int_equal(cfg.nb_policies, 1);
	assert_int_equal(cfg.policies[0].dir, ESPGW_POL_OUT);
	espgw_cfg_free(&cfg);
}

static void
test_long_line(void **state)
{
	struct espgw_cfg cfg;
	char err[512];
	char *text = malloc(4098);

	(void)state;
	assert_non_null(text);
	espgw_cfg_init(&cfg, "long.conf");
	/* 4096 characters exactly: the last word is a comment */
	memset(text, ' ', 4096);
	memcpy(text, "link set dev p0 up", 18);
	text[4095] = '#';
	text[4096] = '\0';
	assert_int_equal(espgw_cfg_parse_line(&cfg, text, 1, err, sizeof(err)),
			 0);
	text[4096] = ' ';
	text[4097] = '\0';
	assert_int_equal(espgw_cfg_parse_line(&cfg, text, 2, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "long.conf:2: line is longer than 4096"));
	/* the most words a line can hold */
	for (int i = 0; i < 4096; i += 2) {
		text[i] = 'a';
		text[i + 1] = ' ';
	}
	text[4096] = '\0';
	assert_int_equal(espgw_cfg_parse_line(&cfg, text, 3, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "unknown word \"a\""));
	assert_int_equal(cfg.nb_links, 1);
	free(text);
	espgw_cfg_free(&cfg);
}

/* Arrays grow by doubling; many entries, then reuse after free. */
static void
test_growth_and_reuse(void **state)
{
	struct espgw_cfg cfg;
	char line[128], err[512];

	(void)state;
	espgw_cfg_init(&cfg, "many.conf");
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 1000; i++) {
			snprintf(line, sizeof(line),
				 "route add 10.%d.%d.0/24 dev p%d", i / 256,
				 i % 256, i % 7);
			assert_int_equal(espgw_cfg_parse_line(&cfg, line, i + 1,
							      err, sizeof(err)),
					 0);
			snprintf(line, sizeof(line),
				 "xfrm policy add dst 10.%d.%d.0/24 dir out "
				 "priority %d action allow",
				 i / 256, i % 256, i);
			assert_int_equal(espgw_cfg_parse_line(&cfg, line, i + 1,
							      err, sizeof(err)),
					 0);
		}
		assert_int_equal(cfg.nb_routes, 1000);
		assert_int_equal(cfg.nb_policies, 1000);
		assert_int_equal(cfg.routes[999].prefix, ip4("10.3.231.0"));
		assert_string_equal(cfg.routes[999].port, "p5");
		assert_int_equal(cfg.policies[999].priority, 999);
		assert_int_equal(cfg.routes[0].line, 1);
		espgw_cfg_free(&cfg);
		assert_true(cfg_empty(&cfg));
		espgw_cfg_init(&cfg, "many.conf");
	}
}

static char *
temp_file(const char *body)
{
	char *path = strdup("/tmp/espgw_cfg_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	return path;
}

/* (4) A file: the first error stops it, named by path and line. */
static void
test_file(void **state)
{
	struct espgw_cfg cfg;
	char err[512], want[64];
	char *path;

	(void)state;
	path = temp_file("# R1\r\n"
			 "link set dev net_tap0 up\n"
			 "xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi "
			 "0x1000 mode transport " GOOD_AEAD "\n"
			 "link set dev net_tap1 up\n");
	espgw_cfg_init(&cfg, NULL);
	assert_int_equal(espgw_cfg_parse_file(&cfg, path, err, sizeof(err)),
			 -1);
	snprintf(want, sizeof(want), "%s:3: ", path);
	assert_memory_equal(err, want, strlen(want));
	assert_non_null(strstr(err, "mode transport is not supported"));
	assert_int_equal(cfg.nb_links, 1); /* what came before stays */
	assert_int_equal(cfg.nb_states, 0);
	espgw_cfg_free(&cfg);
	unlink(path);
	free(path);

	/* a good file, no newline at the end, a CRLF line */
	path = temp_file("link set dev net_tap0 up\r\n"
			 "addr add 10.0.1.1/24 dev net_tap0\n"
			 "route add default via 10.0.1.254 dev net_tap0");
	espgw_cfg_init(&cfg, path);
	assert_int_equal(espgw_cfg_parse_file(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.nb_links, 1);
	assert_string_equal(cfg.links[0].port, "net_tap0");
	assert_int_equal(cfg.nb_routes, 1);
	assert_int_equal(cfg.routes[0].line, 3);
	espgw_cfg_free(&cfg);
	unlink(path);

	/* gone */
	espgw_cfg_init(&cfg, path);
	assert_int_equal(espgw_cfg_parse_file(&cfg, path, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	espgw_cfg_free(&cfg);
	free(path);
}

/* The loader over memory (what fuzz_lang reads): the same lines, the
 * same first error, named by cfg->file. */
static void
test_stream(void **state)
{
	static const char text[] = "link set dev net_tap0 up\r\n"
				   "# a comment\n"
				   "addr add 10.0.1.1/24 dev net_tap0\n"
				   "route add default via nowhere dev net_tap0";
	struct espgw_cfg cfg;
	char err[512];
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_non_null(f);
	espgw_cfg_init(&cfg, "mem.conf");
	assert_int_equal(espgw_cfg_parse_stream(&cfg, f, err, sizeof(err)), -1);
	fclose(f);
	assert_memory_equal(err, "mem.conf:4: ", 12);
	assert_int_equal(cfg.nb_links, 1);
	assert_int_equal(cfg.nb_addrs, 1);
	assert_int_equal(cfg.addrs[0].line, 3);
	espgw_cfg_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r1),
		cmocka_unit_test(test_pasted),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_xfrm6),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_key_not_echoed),
		cmocka_unit_test(test_blank_and_comments),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_growth_and_reuse),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
