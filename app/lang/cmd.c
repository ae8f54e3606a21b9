/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* An `ip` statement as iproute2's ip(8) reads it: options, then an
 * object, then its command, abbreviations resolved in ip's order. The
 * objects' own words are in ip.c and xfrm.c. No EAL here. */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_common.h>

#include "lang/parse.h"

/* ip's objects in ip's order, so an abbreviation picks what ip picks
 * (`ip a` is address, `ip n` neighbor). NULL: not something espgw does. */
static const struct {
	const char *name;
	int (*parse)(struct lang_ctx *c);
	enum espgw_cmd_obj obj; /* xfrm sets its own */
} objects[] = {
	{ "address", lang_parse_addr, ESPGW_OBJ_ADDR },
	{ "addrlabel", NULL, 0 },
	{ "maddress", NULL, 0 },
	{ "route", lang_parse_route, ESPGW_OBJ_ROUTE },
	{ "rule", NULL, 0 },
	{ "neighbor", lang_parse_neigh, ESPGW_OBJ_NEIGH },
	{ "neighbour", lang_parse_neigh, ESPGW_OBJ_NEIGH },
	{ "ntable", NULL, 0 },
	{ "ntbl", NULL, 0 },
	{ "link", lang_parse_link, ESPGW_OBJ_LINK },
	{ "l2tp", NULL, 0 },
	{ "fou", NULL, 0 },
	{ "ila", NULL, 0 },
	{ "macsec", NULL, 0 },
	{ "tunnel", NULL, 0 },
	{ "tunl", NULL, 0 },
	{ "tuntap", NULL, 0 },
	{ "tap", NULL, 0 },
	{ "token", NULL, 0 },
	{ "tcpmetrics", NULL, 0 },
	{ "tcp_metrics", NULL, 0 },
	{ "monitor", lang_parse_monitor, ESPGW_OBJ_MONITOR },
	{ "xfrm", lang_parse_xfrm, ESPGW_OBJ_STATE },
	{ "mroute", NULL, 0 },
	{ "mrule", NULL, 0 },
	{ "netns", NULL, 0 },
	{ "netconf", NULL, 0 },
	{ "vrf", NULL, 0 },
	{ "sr", NULL, 0 },
	{ "nexthop", NULL, 0 },
	{ "mptcp", NULL, 0 },
	{ "ioam", NULL, 0 },
	{ "stats", NULL, 0 },
	{ "help", NULL, 0 },
};

/* ip's options in ip's order (ip/ip.c), so that `-s` is -stats and
 * `-p` is -pretty, as to ip. */
enum { OPT_NO, OPT_FAMILY, OPT_STATS, OPT_JSON, OPT_PRETTY };
static const struct {
	const char *name;
	int what;
} options[] = {
	{ "-loops", OPT_NO },	      { "-family", OPT_FAMILY },
	{ "-human", OPT_NO },	      { "-human-readable", OPT_NO },
	{ "-iec", OPT_NO },	      { "-stats", OPT_STATS },
	{ "-statistics", OPT_STATS }, { "-details", OPT_NO },
	{ "-resolve", OPT_NO },	      { "-oneline", OPT_NO },
	{ "-timestamp", OPT_NO },     { "-tshort", OPT_NO },
	{ "-Version", OPT_NO },	      { "-force", OPT_NO },
	{ "-batch", OPT_NO },	      { "-brief", OPT_NO },
	{ "-json", OPT_JSON },	      { "-pretty", OPT_PRETTY },
	{ "-rcvbuf", OPT_NO },	      { "-help", OPT_NO },
	{ "-netns", OPT_NO },	      { "-Numeric", OPT_NO },
	{ "-all", OPT_NO },
};

static int
family(struct lang_ctx *c, const char *w)
{
	const char *v = lang_value(c, w);

	if (v == NULL)
		return -1;
	if (strcmp(v, "inet") == 0 || strcmp(v, "inet6") == 0) {
		c->family = v[4] == '6' ? AF_INET6 : AF_INET;
		c->opt_family = c->family;
		return 0;
	}
	return lang_fail(c, "ip option \"%s %s\" is not supported", w, v);
}

/* `ip -4`, `ip -6`, `ip -f inet|inet6`: the statement's family. -s, -j and -p
 * shape a reply, so only a command has them. Anything else changes what ip
 * would do. */
static int
option(struct lang_ctx *c, const char *w)
{
	/* ip reads --stats as -stats */
	const char *o = w[1] == '-' ? w + 1 : w;
	int what = OPT_NO;

	if (strcmp(o, "-4") == 0 || strcmp(o, "-6") == 0) {
		c->family = o[1] == '6' ? AF_INET6 : AF_INET;
		c->opt_family = c->family;
		return 0;
	}
	for (size_t j = 0; j < sizeof(options) / sizeof(options[0]); j++) {
		if (strlen(o) >= 2 && lang_matches(o, options[j].name)) {
			what = options[j].what;
			break;
		}
	}
	if (what == OPT_FAMILY)
		return family(c, w);
	if (what == OPT_NO || c->in_file)
		return lang_fail(c, "ip option \"%s\" is not supported", w);
	if (what == OPT_STATS)
		c->cmd->stats = true;
	else if (what == OPT_JSON)
		c->cmd->json = true;
	else
		c->cmd->pretty = true;
	return 0;
}

int
lang_monitor_words(struct lang_ctx *c, const struct lang_monitor_word *words,
		   size_t nb, const char *what, unsigned int all)
{
	const char *w;

	c->cmd->obj = ESPGW_OBJ_MONITOR;
	c->cmd->verb = ESPGW_CMD_MONITOR;
	while ((w = lang_next(c)) != NULL) {
		size_t j = 0;

		for (; j < nb; j++)
			if (words[j].exact ? strcmp(w, words[j].name) == 0
					   : lang_matches(w, words[j].name))
				break;
		if (j == nb)
			return lang_fail(c, "unknown word \"%s\"", w);
		if (words[j].bits == 0)
			return lang_fail(c, "%s \"%s\" is not supported", what,
					 words[j].name);
		c->cmd->monitor |= words[j].bits;
	}
	if (c->cmd->monitor == 0)
		c->cmd->monitor = all; /* the object alone watches all */
	return 0;
}

/* `monitor [xfrm | route | neigh | all]`: ip monitor's words in its
 * order, plus xfrm (ip has `ip xfrm monitor` for that). */
int
lang_parse_monitor(struct lang_ctx *c)
{
	static const struct lang_monitor_word words[] = {
		{ "xfrm", false, ESPGW_MON_XFRM },
		{ "file", false, 0 },
		{ "label", false, 0 },
		{ "link", false, 0 },
		{ "address", false, 0 },
		{ "maddress", false, 0 },
		{ "acaddress", true, 0 },
		{ "route", false, ESPGW_MON_ROUTE },
		{ "mroute", false, 0 },
		{ "prefix", false, 0 },
		{ "neigh", false, ESPGW_MON_NEIGH },
		{ "netconf", false, 0 },
		{ "rule", false, 0 },
		{ "nsid", false, 0 },
		{ "nexthop", false, 0 },
		{ "stats", true, 0 },
		{ "all", true, ESPGW_MON_ALL },
		{ "all-nsid", false, 0 },
		{ "help", false, 0 },
		{ "dev", true, 0 },
	};

	if (c->in_file)
		return lang_fail(c, "ip monitor is not supported");
	return lang_monitor_words(c, words, RTE_DIM(words), "monitor",
				  ESPGW_MON_ALL);
}

static int
statement(struct lang_ctx *c)
{
	const char *w = lang_next(c);

	if (strcmp(w, "ip") == 0)
		w = lang_next(c);
	while (w != NULL && w[0] == '-') {
		if (strcmp(w, "--") == 0) {
			w = lang_next(c); /* the end of ip's options */
			break;
		}
		if (option(c, w) != 0)
			return -1;
		w = lang_next(c);
	}
	if (w == NULL)
		return lang_fail(c, "\"ip\" needs an object: link, address, "
				    "route, neigh or xfrm");
	for (size_t j = 0; j < sizeof(objects) / sizeof(objects[0]); j++) {
		if (!lang_matches(w, objects[j].name))
			continue;
		if (objects[j].parse == NULL)
			return lang_fail(c, "ip %s is not supported",
					 objects[j].name);
		c->cmd->obj = objects[j].obj;
		return objects[j].parse(c);
	}
	return lang_fail(c, "unknown word \"%s\"", w);
}

/* Each table entry carries its statement's line, for later messages. */
static void
set_line(struct espgw_cmd *cmd, int line)
{
	cmd->line = line;
	switch (cmd->obj) {
	case ESPGW_OBJ_LINK: cmd->u.link.line = line; break;
	case ESPGW_OBJ_ADDR:
		if (cmd->family == AF_INET6)
			cmd->u.addr6.line = line;
		else
			cmd->u.addr.line = line;
		break;
	case ESPGW_OBJ_ROUTE:
		if (cmd->family == AF_INET6)
			cmd->u.route6.line = line;
		else
			cmd->u.route.line = line;
		break;
	case ESPGW_OBJ_NEIGH:
		if (cmd->family == AF_INET6)
			cmd->u.neigh6.line = line;
		else
			cmd->u.neigh.line = line;
		break;
	case ESPGW_OBJ_STATE: cmd->u.state.line = line; break;
	case ESPGW_OBJ_POLICY: cmd->u.policy.line = line; break;
	case ESPGW_OBJ_MONITOR: break;
	}
}

int
lang_statement(struct lang_ctx *c, const char *text)
{
	char buf[CFG_LINE_MAX + 1];
	char *words[CFG_WORDS_MAX];
	int rc = 1;

	if (c->err != NULL && c->errlen > 0)
		c->err[0] = '\0';
	memset(c->cmd, 0, sizeof(*c->cmd));
	if (strnlen(text, CFG_LINE_MAX + 1) > CFG_LINE_MAX)
		return lang_fail(c, "line is longer than %d characters",
				 CFG_LINE_MAX);
	c->w = words;
	c->i = 0;
	c->n = lang_split(c, text, buf, words);
	if (c->n <= 0)
		rc = c->n;
	else if (statement(c) != 0)
		rc = -1;
	else
		set_line(c->cmd, c->line);
	explicit_bzero(buf, sizeof(buf)); /* the words hold keys */
	return rc;
}

int
espgw_cmd_parse(const char *file, const char *text, int line,
		struct espgw_cmd *cmd, char *err, size_t errlen)
{
	struct lang_ctx c = {
		.file = file,
		.cmd = cmd,
		.line = line,
		.err = err,
		.errlen = errlen,
	};

	return lang_statement(&c, text);
}
