/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The `ip` statement language (app/lang): the input is a whole
 * configuration file, read by the loader as espgw reads -f (from
 * memory, fmemopen), and each of its lines a statement on its own, as
 * the control socket reads them (espgw_cmd_parse). Checks: every
 * refusal names FILE:LINE and says something; the file's first error
 * is its first bad line; a file read whole and read line by line give
 * the same tables; a statement parses to the same command twice; a
 * line the file takes is the command the socket reads, which applied
 * as the file applies it (espgw_cfg_add) gives the same entry; a
 * policy listed as `ip xfrm policy list` prints it (control/show.c),
 * its lines joined after "xfrm policy add", is the same policy. */

#include "cfg_same.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/show.h"
#include "lang/cmd.h"
#include "lang/config.h"

#define FILE_NAME "fuzz.conf"

static unsigned int
cfg_count(const struct espgw_cfg *c)
{
	return c->nb_links + c->nb_addrs + c->nb_routes + c->nb_neighs +
	       c->nb_states + c->nb_policies + c->nb_addrs6 + c->nb_routes6 +
	       c->nb_neighs6;
}

/* "fuzz.conf:LINE: <something>" */
static void
check_err(const char *err, int line)
{
	char want[64];
	size_t n = (size_t)snprintf(want, sizeof(want), "%s:%d: ", FILE_NAME,
				    line);

	if (strncmp(err, want, n) != 0 || err[n] == '\0') {
		fprintf(stderr, "error \"%s\" does not name %s\n", err, want);
		FZ_CHECK(!"an error without FILE:LINE: and a reason");
	}
}

static uint8_t
family(uint8_t f)
{
	return f == 0 ? AF_INET : f; /* 0 is taken as AF_INET */
}

/* The same policy, as far as a listing shows it (not its line, order
 * or index). */
static bool
policy_same(const struct espgw_cfg_policy *a, const struct espgw_cfg_policy *b)
{
	bool v6 = family(a->family) == AF_INET6;
	bool t6 = family(a->tmpl_family) == AF_INET6;

	if (family(a->family) != family(b->family) ||
	    a->src_len != b->src_len || a->dst_len != b->dst_len ||
	    a->proto != b->proto || a->has_sport != b->has_sport ||
	    a->has_dport != b->has_dport || a->dir != b->dir ||
	    a->priority != b->priority || a->action != b->action ||
	    a->has_tmpl != b->has_tmpl)
		return false;
	if ((a->has_sport && a->sport != b->sport) ||
	    (a->has_dport && a->dport != b->dport))
		return false;
	if (v6 ? memcmp(a->src6, b->src6, 16) != 0 ||
			    memcmp(a->dst6, b->dst6, 16) != 0
	       : a->src != b->src || a->dst != b->dst)
		return false;
	if (!a->has_tmpl)
		return true;
	if (family(a->tmpl_family) != family(b->tmpl_family) ||
	    a->reqid != b->reqid)
		return false;
	return t6 ? memcmp(a->tmpl_src6, b->tmpl_src6, 16) == 0 &&
			       memcmp(a->tmpl_dst6, b->tmpl_dst6, 16) == 0
		  : a->tmpl_src == b->tmpl_src && a->tmpl_dst == b->tmpl_dst;
}

/* A policy listed, its lines joined into a statement, parsed again. */
static void
policy_round_trip(const struct espgw_cfg_policy *p)
{
	static const struct gw_show_opts o = { .keys = false };
	char text[1024] = "xfrm policy add ", err[512];
	size_t off = strlen(text);
	struct espgw_cmd cmd;
	size_t n;
	FILE *f = fmemopen(text + off, sizeof(text) - off, "w");

	FZ_CHECK(f != NULL);
	gw_show_policies(f, &o, &p, NULL, 1);
	fclose(f);
	n = strlen(text);
	for (size_t i = off; i < n; i++)
		if (text[i] == '\n' || text[i] == '\t')
			text[i] = ' ';
	if (espgw_cmd_parse(FILE_NAME, text, 1, &cmd, err, sizeof(err)) != 1) {
		fprintf(stderr, "\"%s\": %s\n", text, err);
		FZ_CHECK(!"a listed policy parses");
	}
	if (!policy_same(p, &cmd.u.policy)) {
		fprintf(stderr, "\"%s\" is another policy\n", text);
		FZ_CHECK(!"a listed policy is the same policy");
	}
}

/* The line one statement, as each is read on its own. */
static void
one_line(const char *text, int line, struct espgw_cfg *file_cfg, int *first_bad)
{
	struct espgw_cmd cmd, again;
	struct espgw_cfg single, applied;
	char err[512], err2[512];
	int rc, rc2, rc_file;

	rc = espgw_cmd_parse(FILE_NAME, text, line, &cmd, err, sizeof(err));
	FZ_CHECK(rc >= -1 && rc <= 1);
	if (rc < 0)
		check_err(err, line);
	if (rc > 0)
		FZ_CHECK(cmd.line == line);
	/* the parser keeps nothing between statements */
	rc2 = espgw_cmd_parse(FILE_NAME, text, line, &again, err2,
			      sizeof(err2));
	FZ_CHECK(rc2 == rc);
	FZ_CHECK(rc <= 0 || memcmp(&cmd, &again, sizeof(cmd)) == 0);
	FZ_CHECK(rc >= 0 || strcmp(err, err2) == 0);

	/* the same line in a file of its own */
	espgw_cfg_init(&single, FILE_NAME);
	rc_file = espgw_cfg_parse_line(&single, text, line, err2, sizeof(err2));
	FZ_CHECK(rc_file == 0 || rc_file == -1);
	if (rc_file < 0) {
		check_err(err2, line);
		if (*first_bad == 0)
			*first_bad = line;
	} else if (*first_bad == 0) {
		/* what the whole file made of it so far */
		FZ_CHECK(espgw_cfg_parse_line(file_cfg, text, line, err2,
					      sizeof(err2)) == 0);
	}
	/* a file takes a subset of what the socket takes, as the same
	 * command */
	if (rc_file == 0 && cfg_count(&single) > 0) {
		FZ_CHECK(rc == 1);
		espgw_cfg_init(&applied, FILE_NAME);
		FZ_CHECK(espgw_cfg_add(&applied, &cmd, err2, sizeof(err2)) ==
			 0);
		FZ_CHECK(fz_cfg_same(&single, &applied));
		espgw_cfg_free(&applied);
	}
	if (rc_file == 0 && cfg_count(&single) == 0)
		FZ_CHECK(rc == 0);
	if (rc > 0) {
		espgw_cfg_init(&applied, FILE_NAME);
		if (espgw_cfg_add(&applied, &cmd, err2, sizeof(err2)) != 0)
			check_err(err2, line);
		espgw_cfg_free(&applied);
	}
	espgw_cfg_free(&single);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct espgw_cfg whole, lines;
	char err[512];
	int rc, line = 0, first_bad = 0;
	const uint8_t *p = data, *end = data + size;
	FILE *f;

	/* as espgw -f reads it */
	espgw_cfg_init(&whole, FILE_NAME);
	f = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "r") : NULL;
	if (f == NULL) {
		FZ_CHECK(size == 0);
		rc = 0;
	} else {
		rc = espgw_cfg_parse_stream(&whole, f, err, sizeof(err));
		fclose(f);
	}
	FZ_CHECK(rc == 0 || rc == -1);

	/* line by line, each a copy of its own so that ASan sees a read
	 * past its end; a line ends at '\n' and its NUL, as getline's */
	espgw_cfg_init(&lines, FILE_NAME);
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *next = nl != NULL ? nl + 1 : end;
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		char *text = malloc(n + 1);

		FZ_CHECK(text != NULL);
		memcpy(text, p, n);
		text[n] = '\0';
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
			text[--n] = '\0';
		one_line(text, ++line, &lines, &first_bad);
		free(text);
		p = next;
	}

	/* the file stops at its first bad line, saying so */
	if (first_bad != 0) {
		FZ_CHECK(rc == -1);
		check_err(err, first_bad);
	} else {
		FZ_CHECK(rc == 0);
		FZ_CHECK(fz_cfg_same(&whole, &lines));
	}
	for (unsigned int i = 0; i < whole.nb_policies && i < 64; i++)
		policy_round_trip(&whole.policies[i]);
	espgw_cfg_free(&whole);
	espgw_cfg_free(&lines);
	return 0;
}
