/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* `ip link`, `ip address`, `ip route` and `ip neigh` statements, with
 * ip's keywords and defaults; what espgw does not do is refused by
 * name. */

#include <stdio.h>
#include <string.h>

#include "lang/parse.h"

static const char *const link_refused[] = {
	"name",
	"address",
	"broadcast",
	"brd",
	"peer",
	"netns",
	"multicast",
	"allmulticast",
	"promisc",
	"trailers",
	"arp",
	"dynamic",
	"txqueuelen",
	"txqlen",
	"qlen",
	"vf",
	"master",
	"nomaster",
	"vrf",
	"xdp",
	"xdpgeneric",
	"xdpdrv",
	"xdpoffload",
	"alias",
	"group",
	"mode",
	"state",
	"type",
	"addrgenmode",
	"protodown",
	"protodown_reason",
	"gso_max_size",
	"gso_max_segs",
	"gro_max_size",
	"carrier",
	"link-netns",
	"link-netnsid",
	"numtxqueues",
	"numrxqueues",
	NULL,
};

enum { LK_DEV, LK_UP, LK_MTU, LK_NB };
static const char *const link_keys[LK_NB] = { "dev", "up", "mtu" };

int
lang_parse_link(struct lang_ctx *c)
{
	struct espgw_cfg_link l = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	uint64_t mtu;
	const char *w;
	void *a;

	if (lang_command(c, "link", "set") != 0)
		return -1;
	while ((w = lang_next(c)) != NULL) {
		switch (lang_keyword(c, link_keys, LK_NB, w, &seen)) {
		case BAD: return -1;
		case LK_DEV:
			if (lang_port_arg(c, w, l.port) != 0)
				return -1;
			break;
		case LK_UP: break;
		case LK_MTU:
			if (lang_num_arg(c, w, UINT32_MAX, &mtu) != 0)
				return -1;
			if (mtu < MTU_MIN || mtu > MTU_MAX)
				return lang_fail(
					c,
					"mtu %llu is out of range (%d to %d)",
					(unsigned long long)mtu, MTU_MIN,
					MTU_MAX);
			l.mtu = (uint16_t)mtu;
			break;
		default:
			if (strcmp(w, "down") == 0)
				return lang_fail(c,
						 "link down is not supported");
			if (lang_in_list(link_refused, w) ||
			    (seen & (1u << LK_DEV)))
				return lang_refuse(c, w, "link", link_refused);
			/* `ip link set eth0 up`: a bare word is the device */
			seen |= 1u << LK_DEV;
			if (lang_set_port(c, w, l.port) != 0)
				return -1;
		}
	}
	if (!(seen & (1u << LK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	if (!(seen & (1u << LK_UP)))
		return lang_fail(c, "\"link set\" needs \"up\" (ports can only "
				    "be brought up)");
	a = lang_append(cfg->links, cfg->nb_links, &l, sizeof(l));
	if (a == NULL)
		return lang_fail(c, "out of memory");
	cfg->links = a;
	cfg->nb_links++;
	return 0;
}

/* `addr add <A.B.C.D>/<len> dev <port>` */
static const char *const addr_refused[] = {
	"peer",	  "remote",	"broadcast",  "brd",	       "anycast",
	"label",  "scope",	"valid_lft",  "preferred_lft", "home",
	"nodad",  "optimistic", "mngtmpaddr", "noprefixroute", "autojoin",
	"metric", "priority",	"preference", "proto",	       "protocol",
	NULL,
};

enum { AK_LOCAL, AK_DEV, AK_NB };
static const char *const addr_keys[AK_NB] = { "local", "dev" };

int
lang_parse_addr(struct lang_ctx *c)
{
	struct espgw_cfg_addr ad = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	const char *w;
	void *a;

	if (lang_command(c, "address", "add") != 0)
		return -1;
	while ((w = lang_next(c)) != NULL) {
		int k = lang_keyword(c, addr_keys, AK_NB, w, &seen);

		if (k == NOT_KEY && !(seen & (1u << AK_LOCAL)) &&
		    lang_addressish(w)) {
			/* `ip addr add 10.0.1.1/24`: a bare address is local */
			k = AK_LOCAL;
			seen |= 1u << AK_LOCAL;
			c->i--;
		}
		switch (k) {
		case BAD: return -1;
		case AK_LOCAL:
			w = lang_value(c, w);
			if (w == NULL ||
			    lang_prefix(c, w, &ad.addr, &ad.len) != 0)
				return -1;
			break;
		case AK_DEV:
			if (lang_port_arg(c, w, ad.port) != 0)
				return -1;
			break;
		default: return lang_refuse(c, w, "addr", addr_refused);
		}
	}
	if (!(seen & (1u << AK_LOCAL)))
		return lang_fail(c, "missing the address (A.B.C.D/len)");
	if (!(seen & (1u << AK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	a = lang_append(cfg->addrs, cfg->nb_addrs, &ad, sizeof(ad));
	if (a == NULL)
		return lang_fail(c, "out of memory");
	cfg->addrs = a;
	cfg->nb_addrs++;
	return 0;
}

/* `route add <prefix>|default [via <gw>] dev <port> [src <addr>]` */
static const char *const route_refused[] = {
	"as",	    "from",	"tos",		 "dsfield",
	"expires",  "metric",	"priority",	 "preference",
	"iif",	    "onlink",	"pref",		 "encap",
	"mtu",	    "advmss",	"hoplimit",	 "reordering",
	"rtt",	    "rttvar",	"window",	 "cwnd",
	"initcwnd", "initrwnd", "features",	 "quickack",
	"congctl",  "rto_min",	"ssthresh",	 "realms",
	"realm",    "table",	"vrf",		 "nexthop",
	"nhid",	    "protocol", "proto",	 "scope",
	"mpath",    "mp",	"ttl-propagate", "fastopen_no_cookie",
	NULL,
};

static const char *const route_types[] = {
	"local",    "broadcast", "multicast", "throw",	 "unreachable",
	"prohibit", "blackhole", "nat",	      "anycast", NULL,
};

enum { RK_TO, RK_VIA, RK_DEV, RK_SRC, RK_NB };
static const char *const route_keys[RK_NB] = { "to", "via", "dev", "src" };

int
lang_parse_route(struct lang_ctx *c)
{
	struct espgw_cfg_route r = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	const char *w;
	void *a;

	if (lang_command(c, "route", "add") != 0)
		return -1;
	while ((w = lang_next(c)) != NULL) {
		int k;

		if (strcmp(w, "oif") == 0)
			w = "dev";
		k = lang_keyword(c, route_keys, RK_NB, w, &seen);
		if (k == NOT_KEY && !(seen & (1u << RK_TO)) &&
		    (lang_addressish(w) || strcmp(w, "default") == 0)) {
			k = RK_TO;
			seen |= 1u << RK_TO;
			c->i--;
		}
		switch (k) {
		case BAD: return -1;
		case RK_TO:
			w = lang_value(c, w);
			if (w == NULL ||
			    lang_strict_prefix(c, w, &r.prefix, &r.len) != 0)
				return -1;
			break;
		case RK_VIA:
			if (lang_addr_arg(c, w, &r.via) != 0)
				return -1;
			break;
		case RK_DEV:
			if (lang_port_arg(c, w, r.port) != 0)
				return -1;
			break;
		case RK_SRC:
			if (lang_addr_arg(c, w, &r.src) != 0)
				return -1;
			break;
		default:
			if (strcmp(w, "unicast") == 0)
				break;
			if (lang_in_list(route_types, w))
				return lang_fail(
					c, "route type \"%s\" is not supported",
					w);
			return lang_refuse(c, w, "route", route_refused);
		}
	}
	if (!(seen & (1u << RK_TO)))
		return lang_fail(
			c, "missing the destination (prefix or \"default\")");
	if (!(seen & (1u << RK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	a = lang_append(cfg->routes, cfg->nb_routes, &r, sizeof(r));
	if (a == NULL)
		return lang_fail(c, "out of memory");
	cfg->routes = a;
	cfg->nb_routes++;
	return 0;
}

/* `neigh add <addr> lladdr <mac> dev <port> [nud permanent]` */
static const char *const neigh_refused[] = {
	"proxy", "router", "use", "managed", "extern_learn", "protocol", NULL,
};

enum { NK_TO, NK_LLADDR, NK_DEV, NK_NUD, NK_NB };
static const char *const neigh_keys[NK_NB] = { "to", "lladdr", "dev", "nud" };

int
lang_parse_neigh(struct lang_ctx *c)
{
	struct espgw_cfg_neigh ne = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	const char *w;
	void *a;

	if (lang_command(c, "neigh", "add") != 0)
		return -1;
	while ((w = lang_next(c)) != NULL) {
		int k = lang_keyword(c, neigh_keys, NK_NB, w, &seen);

		if (k == NOT_KEY && !(seen & (1u << NK_TO)) &&
		    lang_addressish(w)) {
			k = NK_TO;
			seen |= 1u << NK_TO;
			c->i--;
		}
		switch (k) {
		case BAD: return -1;
		case NK_TO:
			if (lang_addr_arg(c, w, &ne.addr) != 0)
				return -1;
			break;
		case NK_LLADDR:
			w = lang_value(c, w);
			if (w == NULL)
				return -1;
			if (!lang_mac(w, &ne.mac))
				return lang_fail(c,
						 "invalid MAC address \"%s\" "
						 "(xx:xx:xx:xx:xx:xx)",
						 w);
			break;
		case NK_DEV:
			if (lang_port_arg(c, w, ne.port) != 0)
				return -1;
			break;
		case NK_NUD:
			/* A static entry is what nud permanent means. */
			w = lang_value(c, w);
			if (w == NULL)
				return -1;
			if (strcmp(w, "permanent") != 0)
				return lang_fail(
					c,
					"nud \"%s\" is not supported (static "
					"entries are permanent)",
					w);
			break;
		default: return lang_refuse(c, w, "neigh", neigh_refused);
		}
	}
	if (!(seen & (1u << NK_TO)))
		return lang_fail(c, "missing the neighbour's address");
	if (!(seen & (1u << NK_LLADDR)))
		return lang_fail(c, "missing \"lladdr <mac>\"");
	if (!(seen & (1u << NK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	a = lang_append(cfg->neighs, cfg->nb_neighs, &ne, sizeof(ne));
	if (a == NULL)
		return lang_fail(c, "out of memory");
	cfg->neighs = a;
	cfg->nb_neighs++;
	return 0;
}
