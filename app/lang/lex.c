/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The lexer of the `ip` statements: words split as a shell splits them,
 * and ip's way of reading numbers, addresses, prefixes, MACs and
 * abbreviated keywords (iproute2's matches(), get_u32(), ...). */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lang/parse.h"
#include "wipe.h"

int
lang_fail(struct lang_ctx *c, const char *fmt, ...)
{
	const char *file = c->file != NULL ? c->file : "config";
	va_list ap;
	size_t off;

	if (c->err == NULL || c->errlen == 0)
		return -1;
	snprintf(c->err, c->errlen, "%s:%d: ", file, c->line);
	off = strlen(c->err);
	va_start(ap, fmt);
	vsnprintf(c->err + off, c->errlen - off, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	       ch == '\v' || ch == '\f';
}

static bool
shell_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '{' ||
	       ch == '}';
}

/* Split as the shell would before running ip: blanks separate words,
 * '...' and "..." group (and join: 'a'"b" is ab), # outside quotes
 * starts a comment. Variables and line continuations are not expanded,
 * so they are refused rather than passed on as literal text. */
int
lang_split(struct lang_ctx *c, const char *s, char *o, char **w)
{
	int n = 0;

	for (;;) {
		while (blank(*s))
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		w[n++] = o;
		while (*s != '\0' && !blank(*s) && *s != '#') {
			char q = *s;

			if (q == '\\' && (s[1] == '\0' || blank(s[1]))) {
				const char *t = s + 1;

				while (blank(*t))
					t++;
				if (*t == '\0')
					return lang_fail(
						c, "line continuation \"\\\" "
						   "is not supported: write "
						   "the statement on one line");
			}
			if (q == '$' && shell_name_char(s[1])) {
				int len = 1;

				while (shell_name_char(s[len]))
					len++;
				return lang_fail(
					c,
					"shell variable \"%.*s\" is not "
					"expanded: write its value",
					len, s);
			}
			if (q != '\'' && q != '"') {
				*o++ = *s++;
				continue;
			}
			for (s++; *s != q; s++) {
				if (*s == '\0')
					return lang_fail(
						c, "unterminated %c quote", q);
				if (q == '"' && *s == '$' &&
				    shell_name_char(s[1]))
					return lang_fail(
						c, "shell variable in \"...\" "
						   "is not expanded: write its "
						   "value");
				*o++ = *s;
			}
			s++;
		}
		*o++ = '\0';
	}
}

const char *
lang_next(struct lang_ctx *c)
{
	return c->i < c->n ? c->w[c->i++] : NULL;
}

/* The word after key; NULL, with the error written, when there is none. */
const char *
lang_value(struct lang_ctx *c, const char *key)
{
	const char *v = lang_next(c);

	if (v == NULL)
		lang_fail(c, "\"%s\" needs a value", key);
	return v;
}

/* iproute2's matches(): w is a non-empty prefix of full. */
bool
lang_matches(const char *w, const char *full)
{
	size_t n = strlen(w);

	return n > 0 && strncmp(w, full, n) == 0;
}

bool
lang_in_list(const char *const *list, const char *w)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, w) == 0)
			return true;
	return false;
}

/* Index of w in keys[nb]; a key given twice is refused, as ip would
 * otherwise silently keep the last one. */
int
lang_keyword(struct lang_ctx *c, const char *const *keys, int nb, const char *w,
	     uint32_t *seen)
{
	for (int k = 0; k < nb; k++) {
		if (strcmp(keys[k], w) != 0)
			continue;
		if (*seen & (1u << k)) {
			lang_fail(c, "\"%s\" is given twice", w);
			return BAD;
		}
		*seen |= 1u << k;
		return k;
	}
	return NOT_KEY;
}

int
lang_refuse(struct lang_ctx *c, const char *w, const char *what,
	    const char *const *known)
{
	if (lang_in_list(known, w))
		return lang_fail(c, "%s option \"%s\" is not supported", what,
				 w);
	return lang_fail(c, "unknown word \"%s\"", w);
}

/* A number as ip's get_u32(..., 0) reads it: decimal, 0x hex or
 * 0-prefixed octal, the whole word, no sign. */
bool
lang_number(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

int
lang_num_arg(struct lang_ctx *c, const char *key, uint64_t max, uint64_t *out)
{
	const char *v = lang_value(c, key);

	if (v == NULL)
		return -1;
	if (!lang_number(v, max, out))
		return lang_fail(c,
				 "invalid value \"%s\" for \"%s\" (0 to %llu)",
				 v, key, (unsigned long long)max);
	return 0;
}

int
lang_u32_arg(struct lang_ctx *c, const char *key, uint32_t *out)
{
	uint64_t v;

	if (lang_num_arg(c, key, UINT32_MAX, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

const char *
lang_family_name(uint8_t family)
{
	return family == AF_INET6 ? "inet6" : "inet";
}

/* get_addr_1: a word with ':' is inet6. A statement's addresses are of
 * one family, the option's or its first address's; ip refuses another
 * ("inet6 address is expected rather than ..."). */
int
lang_ip(struct lang_ctx *c, const char *s, struct espgw_ip_addr *out)
{
	uint8_t f = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	if (c->family != 0 && c->family != f)
		return lang_fail(c, "%s address is expected rather than \"%s\"",
				 lang_family_name(c->family), s);
	memset(out, 0, sizeof(*out));
	if (inet_pton(f, s, f == AF_INET ? (void *)&out->v4 : out->v6) != 1)
		return lang_fail(c, "invalid %s address \"%s\"",
				 f == AF_INET ? "IPv4" : "IPv6", s);
	out->family = f;
	c->family = f;
	return 0;
}

int
lang_ip_arg(struct lang_ctx *c, const char *key, struct espgw_ip_addr *out)
{
	const char *v = lang_value(c, key);

	return v == NULL ? -1 : lang_ip(c, v, out);
}

uint32_t
lang_mask(uint8_t len)
{
	return len == 0 ? 0 : htonl(~0u << (32 - len));
}

/* Clear the bits of a past len; false when there were any. */
bool
lang_ip_mask(struct espgw_ip_addr *a, uint8_t len)
{
	uint8_t was[16];
	bool clean;

	if (a->family == AF_INET) {
		clean = (a->v4 & ~lang_mask(len)) == 0;
		a->v4 &= lang_mask(len);
		return clean;
	}
	memcpy(was, a->v6, sizeof(was));
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = len > 8 * i ? len - 8 * i : 0;

		if (bits < 8)
			a->v6[i] &= (uint8_t)(0xff00u >> bits);
	}
	clean = memcmp(was, a->v6, sizeof(was)) == 0;
	return clean;
}

/* ADDR[/len] of either family (lang_ip); without /len a host prefix
 * (/32, /128), as ip reads it. */
int
lang_ip_prefix(struct lang_ctx *c, const char *s, struct espgw_ip_addr *out,
	       uint8_t *len)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	bool v6 = strchr(s, ':') != NULL;
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint64_t max = v6 ? 128 : 32, l = max;

	if (c->family != 0 && c->family != (v6 ? AF_INET6 : AF_INET))
		return lang_fail(c, "%s prefix is expected rather than \"%s\"",
				 lang_family_name(c->family), s);
	if (alen >= (v6 ? INET6_ADDRSTRLEN : INET_ADDRSTRLEN))
		return lang_fail(c, "invalid %s prefix \"%s\"",
				 v6 ? "IPv6" : "IPv4", s);
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (slash != NULL && !lang_number(slash + 1, UINT32_MAX, &l))
		return lang_fail(c, "invalid prefix length in \"%s\"", s);
	if (l > max)
		return lang_fail(
			c, "prefix length %llu in \"%s\" is above %llu",
			(unsigned long long)l, s, (unsigned long long)max);
	if (lang_ip(c, a, out) != 0)
		return -1;
	*len = (uint8_t)l;
	return 0;
}

/* A destination: "default" (of the statement's family, which it does
 * not fix: ip's get_prefix), or a prefix. An IPv4 one must have its
 * host bits clear, as fib_table_insert requires; an IPv6 one is
 * masked, as ip6_route_info_create masks it. */
int
lang_dst_prefix(struct lang_ctx *c, const char *s, bool strict,
		struct espgw_ip_addr *out, uint8_t *len)
{
	char net[INET_ADDRSTRLEN];
	struct in_addr a;

	if (strcmp(s, "default") == 0) {
		memset(out, 0, sizeof(*out));
		*len = 0;
		return 0;
	}
	if (lang_ip_prefix(c, s, out, len) != 0)
		return -1;
	if (out->family != AF_INET) { /* masked, as said */
		lang_ip_mask(out, *len);
		return 0;
	}
	a.s_addr = out->v4 & lang_mask(*len);
	if (lang_ip_mask(out, *len) || !strict)
		return 0;
	inet_ntop(AF_INET, &a, net, sizeof(net));
	return lang_fail(c,
			 "invalid prefix for given prefix length: \"%s\" (did "
			 "you mean %s/%u?)",
			 s, net, *len);
}

int
lang_set_port(struct lang_ctx *c, const char *v, char port[ESPGW_CFG_PORT_LEN])
{
	size_t len = strlen(v);

	if (len == 0)
		return lang_fail(c, "empty port name");
	if (len >= ESPGW_CFG_PORT_LEN)
		return lang_fail(
			c,
			"port name \"%s\" is too long (at most %d characters)",
			v, ESPGW_CFG_PORT_LEN - 1);
	memcpy(port, v, len + 1);
	return 0;
}

int
lang_port_arg(struct lang_ctx *c, const char *key,
	      char port[ESPGW_CFG_PORT_LEN])
{
	const char *v = lang_value(c, key);

	return v == NULL ? -1 : lang_set_port(c, v, port);
}

int
lang_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx, one or two hex digits a byte, as ip's lladdr. */
bool
lang_mac(const char *s, struct rte_ether_addr *m)
{
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++) {
		int v = 0, nd = 0;

		for (; nd < 2 && lang_hex(*s) >= 0; nd++, s++)
			v = v * 16 + lang_hex(*s);
		if (nd == 0)
			return false;
		m->addr_bytes[i] = (uint8_t)v;
		if (i < RTE_ETHER_ADDR_LEN - 1 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

/* A word that ip would take as the statement's address. */
bool
lang_addressish(const char *w)
{
	return isdigit((unsigned char)w[0]) || strchr(w, ':') != NULL;
}

void *
lang_append(void *arr, unsigned int n, const void *item, size_t size)
{
	void *a = arr;

	/* Capacity is the count rounded up to a power of two, so the
	 * array is full exactly when the count is 0 or a power of two. */
	if ((n & (n - 1)) == 0) {
		a = gw_wipe_realloc(arr, (n != 0 ? 2 * (size_t)n : 1) * size);
		if (a == NULL)
			return NULL;
	}
	memcpy((char *)a + (size_t)n * size, item, size);
	return a;
}

int
lang_verb(struct lang_ctx *c, const char *object, const char *file_verb,
	  const struct lang_verb *verbs)
{
	const char *v = lang_next(c);

	if (c->in_file) {
		if (v == NULL)
			return lang_fail(c, "\"%s\" needs a command (\"%s\")",
					 object, file_verb);
		if (!lang_matches(v, file_verb))
			return lang_fail(c,
					 "\"%s %s\" is not supported: only "
					 "'add' (or 'set ... up') is supported "
					 "in a configuration file",
					 object, v);
	}
	if (v == NULL)
		return ESPGW_CMD_LIST; /* `ip route`, `ip xfrm state` */
	for (; verbs->name != NULL; verbs++) {
		if (!lang_matches(v, verbs->name))
			continue;
		if (verbs->verb == NOT_OURS)
			return lang_fail(c, "\"%s %s\" is not supported",
					 object, verbs->name);
		return verbs->verb;
	}
	return lang_fail(c, "unknown command \"%s\" for \"%s\"", v, object);
}

const char *
lang_verb_name(int verb)
{
	static const char *const names[] = {
		[ESPGW_CMD_ADD] = "add",
		[ESPGW_CMD_DEL] = "delete",
		[ESPGW_CMD_UPDATE] = "update",
		[ESPGW_CMD_REPLACE] = "replace",
		[ESPGW_CMD_GET] = "get",
		[ESPGW_CMD_LIST] = "list",
		[ESPGW_CMD_FLUSH] = "flush",
		[ESPGW_CMD_DELETEALL] = "deleteall",
		[ESPGW_CMD_SET] = "set",
		[ESPGW_CMD_MONITOR] = "monitor",
	};

	return verb >= 0 && (size_t)verb < sizeof(names) / sizeof(names[0])
		       ? names[verb]
		       : "?";
}
