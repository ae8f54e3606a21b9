/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The configuration file: `ip` statements read the way iproute2 reads
 * them (same keywords, same abbreviations of objects and commands, same
 * numbers), so a working Linux set-up can be pasted in. What espgw does
 * not do is refused by name, never skipped. docs/configuration.md is the
 * user's side of this file. No EAL here: it runs before rte_eal_init(). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/parse.h"

/* ip's objects in ip's order, so an abbreviation picks what ip picks
 * (`ip a` is address, `ip n` neighbor). NULL: not something espgw does. */
static const struct {
	const char *name;
	int (*parse)(struct lang_ctx *c);
} objects[] = {
	{ "address", lang_parse_addr },
	{ "addrlabel", NULL },
	{ "maddress", NULL },
	{ "route", lang_parse_route },
	{ "rule", NULL },
	{ "neighbor", lang_parse_neigh },
	{ "neighbour", lang_parse_neigh },
	{ "ntable", NULL },
	{ "ntbl", NULL },
	{ "link", lang_parse_link },
	{ "l2tp", NULL },
	{ "fou", NULL },
	{ "ila", NULL },
	{ "macsec", NULL },
	{ "tunnel", NULL },
	{ "tunl", NULL },
	{ "tuntap", NULL },
	{ "tap", NULL },
	{ "token", NULL },
	{ "tcpmetrics", NULL },
	{ "tcp_metrics", NULL },
	{ "monitor", NULL },
	{ "xfrm", lang_parse_xfrm },
	{ "mroute", NULL },
	{ "mrule", NULL },
	{ "netns", NULL },
	{ "netconf", NULL },
	{ "vrf", NULL },
	{ "sr", NULL },
	{ "nexthop", NULL },
	{ "mptcp", NULL },
	{ "ioam", NULL },
	{ "stats", NULL },
	{ "help", NULL },
};

/* `ip -4`, `ip -f inet`: fine. Anything else changes what ip would do. */
static int
option(struct lang_ctx *c, const char *w)
{
	const char *v;

	if (strcmp(w, "-4") == 0)
		return 0;
	if (strcmp(w, "-6") == 0)
		return lang_fail(c, "\"ip -6\": IPv6 is not supported yet");
	if (strlen(w) >= 2 && lang_matches(w, "-family")) {
		v = lang_value(c, w);
		if (v == NULL)
			return -1;
		if (strcmp(v, "inet") == 0)
			return 0;
		if (strcmp(v, "inet6") == 0)
			return lang_fail(
				c, "\"%s inet6\": IPv6 is not supported yet",
				w);
		return lang_fail(c, "ip option \"%s %s\" is not supported", w,
				 v);
	}
	return lang_fail(c, "ip option \"%s\" is not supported", w);
}

static int
statement(struct lang_ctx *c)
{
	const char *w = lang_next(c);

	if (strcmp(w, "ip") == 0)
		w = lang_next(c);
	while (w != NULL && w[0] == '-') {
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
		return objects[j].parse(c);
	}
	return lang_fail(c, "unknown word \"%s\"", w);
}

int
espgw_cfg_parse_line(struct espgw_cfg *cfg, const char *text, int line,
		     char *err, size_t errlen)
{
	char buf[CFG_LINE_MAX + 1];
	char *words[CFG_WORDS_MAX];
	struct lang_ctx c = {
		.cfg = cfg,
		.line = line,
		.err = err,
		.errlen = errlen,
		.w = words,
	};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strnlen(text, CFG_LINE_MAX + 1) > CFG_LINE_MAX)
		return lang_fail(&c, "line is longer than %d characters",
				 CFG_LINE_MAX);
	c.n = lang_split(&c, text, buf, words);
	if (c.n <= 0)
		return c.n;
	return statement(&c);
}

int
espgw_cfg_parse_file(struct espgw_cfg *cfg, const char *path, char *err,
		     size_t errlen)
{
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	int line = 0, rc = 0;
	FILE *f;

	cfg->file = path;
	f = fopen(path, "r");
	if (f == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (len = getline(&text, &cap, f)) >= 0) {
		line++;
		while (len > 0 &&
		       (text[len - 1] == '\n' || text[len - 1] == '\r'))
			text[--len] = '\0';
		rc = espgw_cfg_parse_line(cfg, text, line, err, errlen);
	}
	if (rc == 0 && ferror(f)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	free(text);
	fclose(f);
	return rc;
}

void
espgw_cfg_init(struct espgw_cfg *cfg, const char *file)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->file = file;
}

void
espgw_cfg_free(struct espgw_cfg *cfg)
{
	free(cfg->links);
	free(cfg->addrs);
	free(cfg->routes);
	free(cfg->neighs);
	free(cfg->states);
	free(cfg->policies);
	espgw_cfg_init(cfg, cfg->file);
}
