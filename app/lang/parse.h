/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_LANG_PARSE_H
#define ESPGW_LANG_PARSE_H

/* Inside the `ip` statement language: the lexer (lex.c) that splits a
 * line into words the way a shell would and reads ip's numbers,
 * addresses, prefixes and keyword abbreviations, and the statement
 * parsers (ip.c: link, address, route, neigh; xfrm.c: state, policy)
 * that config.c dispatches to. Every error is written by lang_fail()
 * as "<file>:<line>: <what>". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "lang/cmd.h"
#include "lang/config.h"

#define CFG_LINE_MAX 4096
#define CFG_WORDS_MAX (CFG_LINE_MAX / 2 + 1)
#define MTU_MIN 68
#define MTU_MAX 9600

/* One statement being parsed: its words, where the next one is, and
 * the command it makes. in_file: a configuration file, where only add
 * (or link set) is a command, said as the file has always said it. */
struct lang_ctx {
	const char *file;
	bool in_file;
	struct espgw_cmd *cmd;
	/* AF_INET or AF_INET6 from ip's -4, -6 or -f, or from the first
	 * address of the statement; 0 while neither has said */
	uint8_t family;
	uint8_t opt_family; /* the option's alone (xfrm's words) */
	int line;
	char *err;
	size_t errlen;
	char **w;
	int n;
	int i;
};

/* lang_keyword() results besides an index. */
enum { NOT_KEY = -1, BAD = -2 };

int lang_fail(struct lang_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Split as the shell would before running ip: blanks separate words,
 * '...' and "..." group (and join: 'a'"b" is ab), # outside quotes
 * starts a comment. Variables and line continuations are not expanded,
 * so they are refused rather than passed on as literal text. */
int lang_split(struct lang_ctx *c, const char *s, char *o, char **w);

const char *lang_next(struct lang_ctx *c);

/* The word after key; NULL, with the error written, when there is none. */
const char *lang_value(struct lang_ctx *c, const char *key);

/* iproute2's matches(): w is a non-empty prefix of full. */
bool lang_matches(const char *w, const char *full);

bool lang_in_list(const char *const *list, const char *w);

/* Index of w in keys[nb]; a key given twice is refused, as ip would
 * otherwise silently keep the last one. */
int lang_keyword(struct lang_ctx *c, const char *const *keys, int nb,
		 const char *w, uint32_t *seen);

int lang_refuse(struct lang_ctx *c, const char *w, const char *what,
		const char *const *known);

/* A number as ip's get_u32(..., 0) reads it: decimal, 0x hex or
 * 0-prefixed octal, the whole word, no sign. */
bool lang_number(const char *s, uint64_t max, uint64_t *out);

int lang_num_arg(struct lang_ctx *c, const char *key, uint64_t max,
		 uint64_t *out);

int lang_u32_arg(struct lang_ctx *c, const char *key, uint32_t *out);

uint32_t lang_mask(uint8_t len);

/* "inet" or "inet6", as ip names the families in messages. */
const char *lang_family_name(uint8_t family);

/* An address of either family (a word with ':' is IPv6, as ip's
 * get_addr_1 reads it), which must be of the statement's family
 * (c->family) and fixes it when none is yet. */
int lang_ip(struct lang_ctx *c, const char *s, struct espgw_ip_addr *out);
int lang_ip_arg(struct lang_ctx *c, const char *key, struct espgw_ip_addr *out);

/* ADDR[/len] of either family, as lang_ip; without /len a host prefix
 * (/32 or /128), as ip reads it. Not masked. */
int lang_ip_prefix(struct lang_ctx *c, const char *s, struct espgw_ip_addr *out,
		   uint8_t *len);

/* Clear the bits of a past len; false when some were set. */
bool lang_ip_mask(struct espgw_ip_addr *a, uint8_t len);

/* A route's destination: "default" (0 bits, family left to the rest of
 * the statement) or a prefix, masked; strict: an IPv4 one with host
 * bits set is refused, as the kernel refuses it. */
int lang_dst_prefix(struct lang_ctx *c, const char *s, bool strict,
		    struct espgw_ip_addr *out, uint8_t *len);

int lang_set_port(struct lang_ctx *c, const char *v,
		  char port[ESPGW_CFG_PORT_LEN]);

int lang_port_arg(struct lang_ctx *c, const char *key,
		  char port[ESPGW_CFG_PORT_LEN]);

int lang_hex(char ch);

/* xx:xx:xx:xx:xx:xx, one or two hex digits a byte, as ip's lladdr. */
bool lang_mac(const char *s, struct rte_ether_addr *m);

/* A word that ip would take as the statement's address. */
bool lang_addressish(const char *w);

void *lang_append(void *arr, unsigned int n, const void *item, size_t size);

/* An object's commands in ip's order, so that an abbreviation picks
 * what ip picks; verb NOT_OURS: ip's, but not something espgw does. */
struct lang_verb {
	const char *name;
	int verb;
};
#define NOT_OURS (-1)

/* The command after an object (in a file, only file_verb is one); an
 * object alone lists, as with ip. Returns the verb or -1. */
int lang_verb(struct lang_ctx *c, const char *object, const char *file_verb,
	      const struct lang_verb *verbs);

/* ip's full name of a verb, for messages. */
const char *lang_verb_name(int verb);

/* The statement parsers, one per ip object; c is past the object's
 * name. They fill c->cmd and return 0 or -1 (error written). */
int lang_parse_link(struct lang_ctx *c);
int lang_parse_addr(struct lang_ctx *c);
int lang_parse_route(struct lang_ctx *c);
int lang_parse_neigh(struct lang_ctx *c);
int lang_parse_xfrm(struct lang_ctx *c);

/* A word of `ip monitor` or `ip xfrm monitor`: what it watches (0: a
 * word of ip's that espgw does not watch). */
struct lang_monitor_word {
	const char *name;
	bool exact;	   /* not abbreviated */
	unsigned int bits; /* ESPGW_MON_* */
};

/* Read a monitor statement's words into c->cmd; none means all. */
int lang_monitor_words(struct lang_ctx *c,
		       const struct lang_monitor_word *words, size_t nb,
		       const char *what, unsigned int all);
int lang_parse_monitor(struct lang_ctx *c);

/* Split and parse one line; 1, 0 (nothing on it) or -1. */
int lang_statement(struct lang_ctx *c, const char *text);

#endif /* ESPGW_LANG_PARSE_H */
