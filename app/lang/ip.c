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
	"address",	"broadcast",	"brd",
	"peer",		"netns",	"multicast",
	"allmulticast", "promisc",	"trailers",
	"arp",		"dynamic",	"txqueuelen",
	"txqlen",	"qlen",		"vf",
	"master",	"nomaster",	"vrf",
	"xdp",		"xdpgeneric",	"xdpdrv",
	"xdpoffload",	"alias",	"group",
	"mode",		"state",	"type",
	"addrgenmode",	"protodown",	"protodown_reason",
	"gso_max_size", "gso_max_segs", "gro_max_size",
	"carrier",	"link-netns",	"link-netnsid",
	"numtxqueues",	"numrxqueues",	NULL,
};

static const struct lang_verb link_verbs[] = {
	{ "add", NOT_OURS },
	{ "set", ESPGW_CMD_SET },
	{ "change", ESPGW_CMD_SET },
	{ "replace", NOT_OURS },
	{ "delete", NOT_OURS },
	{ "show", ESPGW_CMD_LIST },
	{ "lst", ESPGW_CMD_LIST },
	{ "list", ESPGW_CMD_LIST },
	{ "xstats", NOT_OURS },
	{ "afstats", NOT_OURS },
	{ "property", NOT_OURS },
	{ "help", NOT_OURS },
	{ NULL, 0 },
};

/* What `ip link show` filters by, besides the device and up. */
static const char *const link_show_refused[] = {
	"master", "vrf", "type", "group", "nomaster", "novf", NULL,
};

enum { LK_DEV, LK_UP, LK_MTU, LK_NAME, LK_NB };
static const char *const link_keys[LK_NB] = { "dev", "up", "mtu", "name" };
_Static_assert(1u << LK_NAME == ESPGW_SEL_LINK_NAME, "link bits");

/* `link set [dev] <port> [up] [mtu <N>] [name <newname>]`,
 * `link show [[dev] <port>] [up]` */
int
lang_parse_link(struct lang_ctx *c)
{
	struct espgw_cfg_link *l = &c->cmd->u.link;
	uint32_t seen = 0;
	uint64_t mtu;
	const char *w;
	int verb = lang_verb(c, "link", "set", link_verbs);

	if (verb < 0)
		return -1;
	c->cmd->verb = verb;
	while ((w = lang_next(c)) != NULL) {
		/* show filters by the device and up only */
		int k = lang_keyword(c, link_keys,
				     verb == ESPGW_CMD_LIST ? LK_MTU : LK_NB, w,
				     &seen);

		switch (k) {
		case BAD: return -1;
		case LK_DEV:
			if (lang_port_arg(c, w, l->port) != 0)
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
			l->mtu = (uint16_t)mtu;
			break;
		case LK_NAME:
			if (lang_port_arg(c, w, l->newname) != 0)
				return -1;
			break;
		default:
			if (verb == ESPGW_CMD_SET && strcmp(w, "down") == 0)
				return lang_fail(c,
						 "link down is not supported");
			if (verb == ESPGW_CMD_LIST &&
			    lang_in_list(link_show_refused, w))
				return lang_refuse(c, w, "link show",
						   link_show_refused);
			if ((verb == ESPGW_CMD_SET &&
			     lang_in_list(link_refused, w)) ||
			    (seen & (1u << LK_DEV)))
				return lang_refuse(c, w, "link", link_refused);
			/* `ip link set eth0 up`: a bare word is the device */
			seen |= 1u << LK_DEV;
			if (lang_set_port(c, w, l->port) != 0)
				return -1;
		}
	}
	c->cmd->given = seen; /* LK_* are the ESPGW_SEL_LINK_* bits */
	if (verb == ESPGW_CMD_LIST)
		return 0;
	if (!(seen & (1u << LK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	/* A file says why it needs up; espgw_cfg_add() checks that. */
	if (!c->in_file && !(seen & ~(1u << LK_DEV)))
		return lang_fail(c, "\"link set\" needs \"up\", \"mtu\" or "
				    "\"name\"");
	return 0;
}

/* `addr add|del <A.B.C.D>/<len> dev <port>`, `addr show [[dev] <port>]` */
static const char *const addr_refused[] = {
	"peer",	  "remote",	"broadcast",  "brd",	       "anycast",
	"label",  "scope",	"valid_lft",  "preferred_lft", "home",
	"nodad",  "optimistic", "mngtmpaddr", "noprefixroute", "autojoin",
	"metric", "priority",	"preference", "proto",	       "protocol",
	NULL,
};

/* What `ip address show` filters by, besides the device. */
static const char *const addr_show_refused[] = {
	"to",	     "scope",	"up",	     "down",	"label",     "group",
	"master",    "vrf",	"nomaster",  "type",	"proto",     "novf",
	"permanent", "dynamic", "secondary", "primary", "tentative", NULL,
};

static const struct lang_verb addr_verbs[] = {
	{ "add", ESPGW_CMD_ADD },    { "change", NOT_OURS },
	{ "chg", NOT_OURS },	     { "replace", NOT_OURS },
	{ "delete", ESPGW_CMD_DEL }, { "list", ESPGW_CMD_LIST },
	{ "show", ESPGW_CMD_LIST },  { "lst", ESPGW_CMD_LIST },
	{ "flush", NOT_OURS },	     { "save", NOT_OURS },
	{ "showdump", NOT_OURS },    { "restore", NOT_OURS },
	{ "help", NOT_OURS },	     { NULL, 0 },
};

enum { AK_LOCAL, AK_DEV, AK_NB };
static const char *const addr_keys[AK_NB] = { "local", "dev" };
_Static_assert(1u << AK_DEV == ESPGW_SEL_ADDR_DEV, "addr bits");

static int
addr_show(struct lang_ctx *c, struct espgw_cfg_addr *ad)
{
	const char *w;

	while ((w = lang_next(c)) != NULL) {
		if (lang_in_list(addr_show_refused, w))
			return lang_refuse(c, w, "addr show",
					   addr_show_refused);
		if (c->cmd->given & ESPGW_SEL_ADDR_DEV)
			return lang_fail(c, "unknown word \"%s\"", w);
		if (strcmp(w, "dev") == 0) {
			if (lang_port_arg(c, w, ad->port) != 0)
				return -1;
		} else if (lang_set_port(c, w, ad->port) != 0) {
			return -1; /* `ip addr show eth0` */
		}
		c->cmd->given |= ESPGW_SEL_ADDR_DEV;
	}
	return 0;
}

int
lang_parse_addr(struct lang_ctx *c)
{
	struct espgw_cfg_addr *ad = &c->cmd->u.addr;
	uint32_t seen = 0;
	const char *w;
	int verb = lang_verb(c, "address", "add", addr_verbs);

	if (verb < 0)
		return -1;
	c->cmd->verb = verb;
	if (verb == ESPGW_CMD_LIST)
		return addr_show(c, ad);
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
			    lang_prefix(c, w, &ad->addr, &ad->len) != 0)
				return -1;
			break;
		case AK_DEV:
			if (lang_port_arg(c, w, ad->port) != 0)
				return -1;
			break;
		default: return lang_refuse(c, w, "addr", addr_refused);
		}
	}
	c->cmd->given = seen; /* AK_* are the ESPGW_SEL_ADDR_* bits */
	if (!(seen & (1u << AK_LOCAL)))
		return lang_fail(c, "missing the address (A.B.C.D/len)");
	if (!(seen & (1u << AK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	return 0;
}

/* `route add|replace|del <prefix>|default [via <gw>] dev <port>
 *  [src <addr>]`, `route show [[to] <prefix>] [via ...] [dev ...]` */
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
	"root",	    "match",	"exact",	 "cloned",
	"cached",   NULL,
};

static const char *const route_types[] = {
	"local",    "broadcast", "multicast", "throw",	 "unreachable",
	"prohibit", "blackhole", "nat",	      "anycast", NULL,
};

static const struct lang_verb route_verbs[] = {
	{ "add", ESPGW_CMD_ADD },   { "change", NOT_OURS },
	{ "chg", NOT_OURS },	    { "replace", ESPGW_CMD_REPLACE },
	{ "prepend", NOT_OURS },    { "append", NOT_OURS },
	{ "test", NOT_OURS },	    { "delete", ESPGW_CMD_DEL },
	{ "list", ESPGW_CMD_LIST }, { "show", ESPGW_CMD_LIST },
	{ "lst", ESPGW_CMD_LIST },  { "get", NOT_OURS },
	{ "flush", NOT_OURS },	    { "save", NOT_OURS },
	{ "restore", NOT_OURS },    { "showdump", NOT_OURS },
	{ "help", NOT_OURS },	    { NULL, 0 },
};

enum { RK_TO, RK_VIA, RK_DEV, RK_SRC, RK_NB };
static const char *const route_keys[RK_NB] = { "to", "via", "dev", "src" };
_Static_assert(1u << RK_SRC == ESPGW_SEL_ROUTE_SRC, "route bits");

static int
route_to(struct lang_ctx *c, const char *w, struct espgw_cfg_route *r)
{
	w = lang_value(c, w);
	if (w == NULL)
		return -1;
	/* A listing matches what it is given; a route must be a network. */
	if (c->cmd->verb != ESPGW_CMD_LIST)
		return lang_strict_prefix(c, w, &r->prefix, &r->len);
	if (strcmp(w, "default") == 0) {
		r->prefix = 0;
		r->len = 0;
		return 0;
	}
	if (lang_prefix(c, w, &r->prefix, &r->len) != 0)
		return -1;
	r->prefix &= lang_mask(r->len);
	return 0;
}

int
lang_parse_route(struct lang_ctx *c)
{
	struct espgw_cfg_route *r = &c->cmd->u.route;
	uint32_t seen = 0;
	const char *w;
	int verb = lang_verb(c, "route", "add", route_verbs);

	if (verb < 0)
		return -1;
	c->cmd->verb = verb;
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
			if (route_to(c, w, r) != 0)
				return -1;
			break;
		case RK_VIA:
			if (lang_addr_arg(c, w, &r->via) != 0)
				return -1;
			break;
		case RK_DEV:
			if (lang_port_arg(c, w, r->port) != 0)
				return -1;
			break;
		case RK_SRC:
			if (lang_addr_arg(c, w, &r->src) != 0)
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
	c->cmd->given = seen; /* RK_* are the ESPGW_SEL_ROUTE_* bits */
	if (verb == ESPGW_CMD_LIST)
		return 0;
	if (!(seen & (1u << RK_TO)))
		return lang_fail(
			c, "missing the destination (prefix or \"default\")");
	if (verb != ESPGW_CMD_DEL && !(seen & (1u << RK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	return 0;
}

/* `neigh add|replace|del <addr> lladdr <mac> dev <port> [nud permanent]`,
 * `neigh show|flush [dev <port>]` */
static const char *const neigh_refused[] = {
	"proxy", "router", "use", "managed", "extern_learn", "protocol", NULL,
};

/* What `ip neigh show` and `flush` filter by, besides the device. */
static const char *const neigh_show_refused[] = {
	"to",  "nud",	   "proxy",    "unused", "master",
	"vrf", "nomaster", "protocol", NULL,
};

static const struct lang_verb neigh_verbs[] = {
	{ "add", ESPGW_CMD_ADD },    { "change", NOT_OURS },
	{ "chg", NOT_OURS },	     { "replace", ESPGW_CMD_REPLACE },
	{ "delete", ESPGW_CMD_DEL }, { "get", NOT_OURS },
	{ "show", ESPGW_CMD_LIST },  { "lst", ESPGW_CMD_LIST },
	{ "list", ESPGW_CMD_LIST },  { "flush", ESPGW_CMD_FLUSH },
	{ "help", NOT_OURS },	     { NULL, 0 },
};

enum { NK_TO, NK_DEV, NK_LLADDR, NK_NUD, NK_NB };
static const char *const neigh_keys[NK_NB] = { "to", "dev", "lladdr", "nud" };
_Static_assert(1u << NK_LLADDR == ESPGW_SEL_NEIGH_LLADDR, "neigh bits");

static int
neigh_show(struct lang_ctx *c, struct espgw_cfg_neigh *ne)
{
	const char *w;

	while ((w = lang_next(c)) != NULL) {
		if (c->cmd->given == 0 && strcmp(w, "dev") == 0) {
			if (lang_port_arg(c, w, ne->port) != 0)
				return -1;
			c->cmd->given = ESPGW_SEL_NEIGH_DEV;
		} else if (strcmp(w, "dev") == 0) {
			return lang_fail(c, "\"dev\" is given twice");
		} else if (lang_in_list(neigh_show_refused, w) ||
			   lang_addressish(w)) {
			return lang_fail(c,
					 "neigh %s option \"%s\" is not "
					 "supported (only dev)",
					 c->cmd->verb == ESPGW_CMD_FLUSH
						 ? "flush"
						 : "show",
					 w);
		} else {
			return lang_fail(c, "unknown word \"%s\"", w);
		}
	}
	/* As ip: a flush of everything must be asked for by name. */
	if (c->cmd->verb == ESPGW_CMD_FLUSH && c->cmd->given == 0)
		return lang_fail(c, "\"neigh flush\" needs \"dev <port>\"");
	return 0;
}

int
lang_parse_neigh(struct lang_ctx *c)
{
	struct espgw_cfg_neigh *ne = &c->cmd->u.neigh;
	uint32_t seen = 0;
	const char *w;
	int verb = lang_verb(c, "neigh", "add", neigh_verbs);

	if (verb < 0)
		return -1;
	c->cmd->verb = verb;
	if (verb == ESPGW_CMD_LIST || verb == ESPGW_CMD_FLUSH)
		return neigh_show(c, ne);
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
			if (lang_addr_arg(c, w, &ne->addr) != 0)
				return -1;
			break;
		case NK_LLADDR:
			w = lang_value(c, w);
			if (w == NULL)
				return -1;
			if (!lang_mac(w, &ne->mac))
				return lang_fail(c,
						 "invalid MAC address \"%s\" "
						 "(xx:xx:xx:xx:xx:xx)",
						 w);
			break;
		case NK_DEV:
			if (lang_port_arg(c, w, ne->port) != 0)
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
	/* NK_TO, NK_DEV, NK_LLADDR are the ESPGW_SEL_NEIGH_* bits */
	c->cmd->given = seen & ~(1u << NK_NUD);
	if (!(seen & (1u << NK_TO)))
		return lang_fail(c, "missing the neighbour's address");
	if (verb != ESPGW_CMD_DEL && !(seen & (1u << NK_LLADDR)))
		return lang_fail(c, "missing \"lladdr <mac>\"");
	if (!(seen & (1u << NK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	return 0;
}
