/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The configuration file: `ip` statements read the way iproute2 reads
 * them (same keywords, same abbreviations of objects and commands, same
 * numbers), so a working Linux set-up can be pasted in. What espgw does
 * not do is refused by name, never skipped. A file describes the start
 * state: of the commands (cmd.c), only add, and link set, apply to it.
 * docs/configuration.md is the user's side of this file. No EAL here:
 * it runs before rte_eal_init(). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lang/cmd.h"
#include "lang/parse.h"
#include "wipe.h"

/* Appends item to one of cfg's arrays. */
static int
append(struct lang_ctx *c, void *arrp, unsigned int *n, const void *item,
       size_t size)
{
	void **arr = arrp;
	void *a = lang_append(*arr, *n, item, size);

	if (a == NULL)
		return lang_fail(c, "out of memory");
	*arr = a;
	(*n)++;
	return 0;
}

int
espgw_cfg_add(struct espgw_cfg *cfg, const struct espgw_cmd *cmd, char *err,
	      size_t errlen)
{
	struct lang_ctx c = {
		.file = cfg->file,
		.line = cmd->line,
		.err = err,
		.errlen = errlen,
	};
	const enum espgw_cmd_verb want =
		cmd->obj == ESPGW_OBJ_LINK ? ESPGW_CMD_SET : ESPGW_CMD_ADD;

	if (cmd->obj == ESPGW_OBJ_MONITOR || cmd->verb != want)
		return lang_fail(&c,
				 "\"%s\" cannot be applied to a configuration "
				 "(only add, or link set)",
				 lang_verb_name((int)cmd->verb));
	switch (cmd->obj) {
	case ESPGW_OBJ_LINK:
		if (!(cmd->given & ESPGW_SEL_LINK_UP))
			return lang_fail(&c, "\"link set\" needs \"up\" (ports "
					     "can only be brought up)");
		return append(&c, &cfg->links, &cfg->nb_links, &cmd->u.link,
			      sizeof(cmd->u.link));
	case ESPGW_OBJ_ADDR:
		if (cmd->family == AF_INET6)
			return append(&c, &cfg->addrs6, &cfg->nb_addrs6,
				      &cmd->u.addr6, sizeof(cmd->u.addr6));
		return append(&c, &cfg->addrs, &cfg->nb_addrs, &cmd->u.addr,
			      sizeof(cmd->u.addr));
	case ESPGW_OBJ_ROUTE:
		if (cmd->family == AF_INET6)
			return append(&c, &cfg->routes6, &cfg->nb_routes6,
				      &cmd->u.route6, sizeof(cmd->u.route6));
		return append(&c, &cfg->routes, &cfg->nb_routes, &cmd->u.route,
			      sizeof(cmd->u.route));
	case ESPGW_OBJ_NEIGH:
		if (cmd->family == AF_INET6)
			return append(&c, &cfg->neighs6, &cfg->nb_neighs6,
				      &cmd->u.neigh6, sizeof(cmd->u.neigh6));
		return append(&c, &cfg->neighs, &cfg->nb_neighs, &cmd->u.neigh,
			      sizeof(cmd->u.neigh));
	case ESPGW_OBJ_STATE:
		return append(&c, &cfg->states, &cfg->nb_states, &cmd->u.state,
			      sizeof(cmd->u.state));
	case ESPGW_OBJ_POLICY:
		return append(&c, &cfg->policies, &cfg->nb_policies,
			      &cmd->u.policy, sizeof(cmd->u.policy));
	case ESPGW_OBJ_MONITOR: break;
	}
	return lang_fail(&c, "unknown object");
}

int
espgw_cfg_parse_line(struct espgw_cfg *cfg, const char *text, int line,
		     char *err, size_t errlen)
{
	struct espgw_cmd cmd;
	struct lang_ctx c = {
		.file = cfg->file,
		.in_file = true,
		.cmd = &cmd,
		.line = line,
		.err = err,
		.errlen = errlen,
	};
	int rc = lang_statement(&c, text);

	if (rc <= 0)
		return rc;
	/* ip's words that the table builder does not act on yet: refused
	 * in a file rather than skipped. */
	if (cmd.obj == ESPGW_OBJ_POLICY && (cmd.given & ESPGW_SEL_POLICY_INDEX))
		return lang_fail(&c, "xfrm policy option \"index\" is not "
				     "supported in a configuration file");
	return espgw_cfg_add(cfg, &cmd, err, errlen);
}

int
espgw_cfg_parse_stream(struct espgw_cfg *cfg, FILE *f, char *err, size_t errlen)
{
	/* getline starts big enough not to move a usual line, so that the
	 * key it holds is wiped with it (wipe.h) */
	size_t cap = 4096;
	char *text = malloc(cap);
	const char *name = cfg->file != NULL ? cfg->file : "config";
	ssize_t len;
	int line = 0, rc = 0;

	if (text == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", name);
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
			snprintf(err, errlen, "%s: read error", name);
		rc = -1;
	}
	gw_wipe_free(text);
	return rc;
}

int
espgw_cfg_parse_file(struct espgw_cfg *cfg, const char *path, char *err,
		     size_t errlen)
{
	/* The file holds keys: stdio reads it through a buffer of ours, so
	 * that it can be wiped. */
	char io[BUFSIZ];
	FILE *f;
	int rc;

	cfg->file = path;
	f = fopen(path, "r");
	if (f == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(f, io, _IOFBF, sizeof(io));
	rc = espgw_cfg_parse_stream(cfg, f, err, errlen);
	fclose(f);
	explicit_bzero(io, sizeof(io));
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
	gw_wipe_free(cfg->links);
	gw_wipe_free(cfg->addrs);
	gw_wipe_free(cfg->routes);
	gw_wipe_free(cfg->neighs);
	gw_wipe_free(cfg->addrs6);
	gw_wipe_free(cfg->routes6);
	gw_wipe_free(cfg->neighs6);
	gw_wipe_free(cfg->states);
	gw_wipe_free(cfg->policies);
	espgw_cfg_init(cfg, cfg->file);
}
