/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* `ip link`, `ip address`, `ip route` and `ip neigh` statements, with
 * ip's keywords and defaults; what espgw does not do is refused by
 * name. */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

/* `addr add|del <addr>/<len> dev <port>` (either family), `addr show [[dev]
 * <port>]` */
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

/* The statement's family: the option's or its addresses'; IPv4 when
 * neither said (ip's default for a change). */
static uint8_t
family_of(const struct lang_ctx *c)
{
	return c->family != 0 ? c->family : AF_INET;
}

/* A listing's device goes where the family's listing reads it. */
static char *
show_port(struct lang_ctx *c, char *port4, char *port6)
{
	return c->family == AF_INET6 ? port6 : port4;
}

static int
addr_show(struct lang_ctx *c)
{
	struct espgw_cmd *cmd = c->cmd;
	char *port = show_port(c, cmd->u.addr.port, cmd->u.addr6.port);
	const char *w;

	/* no family: both, as `ip addr show` lists both */
	cmd->family = c->family;
	while ((w = lang_next(c)) != NULL) {
		if (lang_in_list(addr_show_refused, w))
			return lang_refuse(c, w, "addr show",
					   addr_show_refused);
		if (cmd->given & ESPGW_SEL_ADDR_DEV)
			return lang_fail(c, "unknown word \"%s\"", w);
		if (strcmp(w, "dev") == 0) {
			if (lang_port_arg(c, w, port) != 0)
				return -1;
		} else if (lang_set_port(c, w, port) != 0) {
			return -1; /* `ip addr show eth0` */
		}
		cmd->given |= ESPGW_SEL_ADDR_DEV;
	}
	return 0;
}

int
lang_parse_addr(struct lang_ctx *c)
{
	struct espgw_cmd *cmd = c->cmd;
	struct espgw_ip_addr a = { 0 };
	char port[ESPGW_CFG_PORT_LEN] = "";
	uint32_t seen = 0;
	uint8_t len = 0;
	const char *w;
	int verb = lang_verb(c, "address", "add", addr_verbs);

	if (verb < 0)
		return -1;
	cmd->verb = verb;
	if (verb == ESPGW_CMD_LIST)
		return addr_show(c);
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
			if (w == NULL || lang_ip_prefix(c, w, &a, &len) != 0)
				return -1;
			break;
		case AK_DEV:
			if (lang_port_arg(c, w, port) != 0)
				return -1;
			break;
		default: return lang_refuse(c, w, "addr", addr_refused);
		}
	}
	cmd->given = seen; /* AK_* are the ESPGW_SEL_ADDR_* bits */
	cmd->family = family_of(c);
	if (!(seen & (1u << AK_LOCAL)))
		return lang_fail(c, "missing the address (%s/len)",
				 cmd->family == AF_INET6 ? "X:X::X"
							 : "A.B.C.D");
	if (!(seen & (1u << AK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	if (cmd->family == AF_INET6) {
		memcpy(cmd->u.addr6.addr, a.v6, sizeof(a.v6));
		cmd->u.addr6.len = len;
		memcpy(cmd->u.addr6.port, port, sizeof(port));
	} else {
		cmd->u.addr.addr = a.v4;
		cmd->u.addr.len = len;
		memcpy(cmd->u.addr.port, port, sizeof(port));
	}
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

/* A route's words before the family is known: the statement's
 * addresses decide it (`ip route add default via 2001:db8::1`). */
struct route_words {
	struct espgw_ip_addr to, via, src;
	uint8_t len;
	char port[ESPGW_CFG_PORT_LEN];
};

static void
route_fill(struct espgw_cmd *cmd, const struct route_words *rw)
{
	if (cmd->family == AF_INET6) {
		struct espgw_cfg_route6 *r = &cmd->u.route6;

		memcpy(r->prefix, rw->to.v6, sizeof(r->prefix));
		memcpy(r->via, rw->via.v6, sizeof(r->via));
		memcpy(r->src, rw->src.v6, sizeof(r->src));
		r->len = rw->len;
		memcpy(r->port, rw->port, sizeof(r->port));
		return;
	}
	cmd->u.route.prefix = rw->to.v4;
	cmd->u.route.via = rw->via.v4;
	cmd->u.route.src = rw->src.v4;
	cmd->u.route.len = rw->len;
	memcpy(cmd->u.route.port, rw->port, sizeof(rw->port));
}

int
lang_parse_route(struct lang_ctx *c)
{
	struct route_words rw = { .len = 0 };
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
			/* a listing matches what it is given; a route must
			 * be a network */
			w = lang_value(c, w);
			if (w == NULL ||
			    lang_dst_prefix(c, w, verb != ESPGW_CMD_LIST,
					    &rw.to, &rw.len) != 0)
				return -1;
			break;
		case RK_VIA:
			if (lang_ip_arg(c, w, &rw.via) != 0)
				return -1;
			break;
		case RK_DEV:
			if (lang_port_arg(c, w, rw.port) != 0)
				return -1;
			break;
		case RK_SRC:
			if (lang_ip_arg(c, w, &rw.src) != 0)
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
	/* `ip route show` lists IPv4 unless told (iproute_list_flush_or_save)
	 */
	c->cmd->family = family_of(c);
	route_fill(c->cmd, &rw);
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
neigh_show(struct lang_ctx *c)
{
	struct espgw_cmd *cmd = c->cmd;
	char *port = show_port(c, cmd->u.neigh.port, cmd->u.neigh6.port);
	const char *w;

	/* no family: both, as `ip neigh show` lists both */
	cmd->family = c->family;
	while ((w = lang_next(c)) != NULL) {
		if (cmd->given == 0 && strcmp(w, "dev") == 0) {
			if (lang_port_arg(c, w, port) != 0)
				return -1;
			cmd->given = ESPGW_SEL_NEIGH_DEV;
		} else if (strcmp(w, "dev") == 0) {
			return lang_fail(c, "\"dev\" is given twice");
		} else if (lang_in_list(neigh_show_refused, w) ||
			   lang_addressish(w)) {
			return lang_fail(c,
					 "neigh %s option \"%s\" is not "
					 "supported (only dev)",
					 cmd->verb == ESPGW_CMD_FLUSH ? "flush"
								      : "show",
					 w);
		} else {
			return lang_fail(c, "unknown word \"%s\"", w);
		}
	}
	/* As ip: a flush of everything must be asked for by name. */
	if (cmd->verb == ESPGW_CMD_FLUSH && cmd->given == 0)
		return lang_fail(c, "\"neigh flush\" needs \"dev <port>\"");
	return 0;
}

int
lang_parse_neigh(struct lang_ctx *c)
{
	struct espgw_cmd *cmd = c->cmd;
	struct espgw_ip_addr a = { 0 };
	struct rte_ether_addr mac = { { 0 } };
	char port[ESPGW_CFG_PORT_LEN] = "";
	uint32_t seen = 0;
	const char *w;
	int verb = lang_verb(c, "neigh", "add", neigh_verbs);

	if (verb < 0)
		return -1;
	cmd->verb = verb;
	if (verb == ESPGW_CMD_LIST || verb == ESPGW_CMD_FLUSH)
		return neigh_show(c);
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
			if (lang_ip_arg(c, w, &a) != 0)
				return -1;
			break;
		case NK_LLADDR:
			w = lang_value(c, w);
			if (w == NULL)
				return -1;
			if (!lang_mac(w, &mac))
				return lang_fail(c,
						 "invalid MAC address \"%s\" "
						 "(xx:xx:xx:xx:xx:xx)",
						 w);
			break;
		case NK_DEV:
			if (lang_port_arg(c, w, port) != 0)
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
	cmd->given = seen & ~(1u << NK_NUD);
	cmd->family = family_of(c);
	if (!(seen & (1u << NK_TO)))
		return lang_fail(c, "missing the neighbour's address");
	if (verb != ESPGW_CMD_DEL && !(seen & (1u << NK_LLADDR)))
		return lang_fail(c, "missing \"lladdr <mac>\"");
	if (!(seen & (1u << NK_DEV)))
		return lang_fail(c, "missing \"dev <port>\"");
	if (cmd->family == AF_INET6) {
		memcpy(cmd->u.neigh6.addr, a.v6, sizeof(a.v6));
		cmd->u.neigh6.mac = mac;
		memcpy(cmd->u.neigh6.port, port, sizeof(port));
	} else {
		cmd->u.neigh.addr = a.v4;
		cmd->u.neigh.mac = mac;
		memcpy(cmd->u.neigh.port, port, sizeof(port));
	}
	return 0;
}
