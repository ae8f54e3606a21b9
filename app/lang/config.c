/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The configuration file: `ip` statements read the way iproute2 reads
 * them (same keywords, same abbreviations of objects and commands, same
 * numbers), so a working Linux set-up can be pasted in. What espgw does
 * not do is refused by name, never skipped. docs/configuration.md is the
 * user's side of this file. No EAL here: it runs before rte_eal_init(). */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lang/config.h"

#define CFG_LINE_MAX 4096
#define CFG_WORDS_MAX (CFG_LINE_MAX / 2 + 1)
#define MTU_MIN 68
#define MTU_MAX 9600

/* One statement being parsed: its words and where the next one is. */
struct ctx {
	struct espgw_cfg *cfg;
	int line;
	char *err;
	size_t errlen;
	char **w;
	int n;
	int i;
};

/* keyword() results besides an index. */
enum { NOT_KEY = -1, BAD = -2 };

static int __attribute__((format(printf, 2, 3)))
fail(struct ctx *c, const char *fmt, ...)
{
	const char *file = c->cfg->file != NULL ? c->cfg->file : "config";
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
static int
split(struct ctx *c, const char *s, char *o, char **w)
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
					return fail(c, "line continuation \"\\\" is not supported: write the statement on one line");
			}
			if (q == '$' && shell_name_char(s[1])) {
				int len = 1;

				while (shell_name_char(s[len]))
					len++;
				return fail(c, "shell variable \"%.*s\" is not expanded: write its value",
					    len, s);
			}
			if (q != '\'' && q != '"') {
				*o++ = *s++;
				continue;
			}
			for (s++; *s != q; s++) {
				if (*s == '\0')
					return fail(c, "unterminated %c quote", q);
				if (q == '"' && *s == '$' && shell_name_char(s[1]))
					return fail(c, "shell variable in \"...\" is not expanded: write its value");
				*o++ = *s;
			}
			s++;
		}
		*o++ = '\0';
	}
}

static const char *
next(struct ctx *c)
{
	return c->i < c->n ? c->w[c->i++] : NULL;
}

/* The word after key; NULL, with the error written, when there is none. */
static const char *
value(struct ctx *c, const char *key)
{
	const char *v = next(c);

	if (v == NULL)
		fail(c, "\"%s\" needs a value", key);
	return v;
}

/* iproute2's matches(): w is a non-empty prefix of full. */
static bool
matches(const char *w, const char *full)
{
	size_t n = strlen(w);

	return n > 0 && strncmp(w, full, n) == 0;
}

static bool
in_list(const char *const *list, const char *w)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, w) == 0)
			return true;
	return false;
}

/* Index of w in keys[nb]; a key given twice is refused, as ip would
 * otherwise silently keep the last one. */
static int
keyword(struct ctx *c, const char *const *keys, int nb, const char *w,
	uint32_t *seen)
{
	for (int k = 0; k < nb; k++) {
		if (strcmp(keys[k], w) != 0)
			continue;
		if (*seen & (1u << k)) {
			fail(c, "\"%s\" is given twice", w);
			return BAD;
		}
		*seen |= 1u << k;
		return k;
	}
	return NOT_KEY;
}

static int
refuse(struct ctx *c, const char *w, const char *what,
       const char *const *known)
{
	if (in_list(known, w))
		return fail(c, "%s option \"%s\" is not supported", what, w);
	return fail(c, "unknown word \"%s\"", w);
}

/* A number as ip's get_u32(..., 0) reads it: decimal, 0x hex or
 * 0-prefixed octal, the whole word, no sign. */
static bool
number(const char *s, uint64_t max, uint64_t *out)
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

static int
num_arg(struct ctx *c, const char *key, uint64_t max, uint64_t *out)
{
	const char *v = value(c, key);

	if (v == NULL)
		return -1;
	if (!number(v, max, out))
		return fail(c, "invalid value \"%s\" for \"%s\" (0 to %llu)", v,
			    key, (unsigned long long)max);
	return 0;
}

static int
u32_arg(struct ctx *c, const char *key, uint32_t *out)
{
	uint64_t v;

	if (num_arg(c, key, UINT32_MAX, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
ipv4(struct ctx *c, const char *s, uint32_t *out)
{
	struct in_addr a;

	if (strchr(s, ':') != NULL)
		return fail(c, "\"%s\": IPv6 is not supported yet", s);
	if (inet_pton(AF_INET, s, &a) != 1)
		return fail(c, "invalid IPv4 address \"%s\"", s);
	*out = a.s_addr;
	return 0;
}

static int
addr_arg(struct ctx *c, const char *key, uint32_t *out)
{
	const char *v = value(c, key);

	return v == NULL ? -1 : ipv4(c, v, out);
}

static uint32_t
mask(uint8_t len)
{
	return len == 0 ? 0 : htonl(~0u << (32 - len));
}

/* A.B.C.D[/len]; without /len a host route (/32), as ip reads it. */
static int
prefix(struct ctx *c, const char *s, uint32_t *addr, uint8_t *len)
{
	char a[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	uint64_t l = 32;
	size_t alen;

	if (strchr(s, ':') != NULL)
		return fail(c, "\"%s\": IPv6 is not supported yet", s);
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(a))
		return fail(c, "invalid IPv4 prefix \"%s\"", s);
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (slash != NULL && !number(slash + 1, UINT32_MAX, &l))
		return fail(c, "invalid prefix length in \"%s\"", s);
	if (l > 32)
		return fail(c, "prefix length %llu in \"%s\" is above 32",
			    (unsigned long long)l, s);
	if (ipv4(c, a, addr) != 0)
		return -1;
	*len = (uint8_t)l;
	return 0;
}

/* A destination prefix whose host bits are clear, as the kernel
 * requires of a route. */
static int
strict_prefix(struct ctx *c, const char *s, uint32_t *addr, uint8_t *len)
{
	char net[INET_ADDRSTRLEN];
	struct in_addr a;

	if (strcmp(s, "default") == 0) {
		*addr = 0;
		*len = 0;
		return 0;
	}
	if (prefix(c, s, addr, len) != 0)
		return -1;
	if ((*addr & ~mask(*len)) == 0)
		return 0;
	a.s_addr = *addr & mask(*len);
	inet_ntop(AF_INET, &a, net, sizeof(net));
	return fail(c, "invalid prefix for given prefix length: \"%s\" (did you mean %s/%u?)",
		    s, net, *len);
}

static int
set_port(struct ctx *c, const char *v, char port[ESPGW_CFG_PORT_LEN])
{
	size_t len = strlen(v);

	if (len == 0)
		return fail(c, "empty port name");
	if (len >= ESPGW_CFG_PORT_LEN)
		return fail(c, "port name \"%s\" is too long (at most %d characters)",
			    v, ESPGW_CFG_PORT_LEN - 1);
	memcpy(port, v, len + 1);
	return 0;
}

static int
port_arg(struct ctx *c, const char *key, char port[ESPGW_CFG_PORT_LEN])
{
	const char *v = value(c, key);

	return v == NULL ? -1 : set_port(c, v, port);
}

static int
hex(char ch)
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
static bool
mac(const char *s, struct rte_ether_addr *m)
{
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++) {
		int v = 0, nd = 0;

		for (; nd < 2 && hex(*s) >= 0; nd++, s++)
			v = v * 16 + hex(*s);
		if (nd == 0)
			return false;
		m->addr_bytes[i] = (uint8_t)v;
		if (i < RTE_ETHER_ADDR_LEN - 1 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

/* A word that ip would take as the statement's address. */
static bool
addressish(const char *w)
{
	return isdigit((unsigned char)w[0]) || strchr(w, ':') != NULL;
}

static void *
append(void *arr, unsigned int n, const void *item, size_t size)
{
	void *a = arr;

	/* Capacity is the count rounded up to a power of two, so the
	 * array is full exactly when the count is 0 or a power of two. */
	if ((n & (n - 1)) == 0) {
		a = realloc(arr, (n != 0 ? 2 * (size_t)n : 1) * size);
		if (a == NULL)
			return NULL;
	}
	memcpy((char *)a + (size_t)n * size, item, size);
	return a;
}

static int
command(struct ctx *c, const char *object, const char *want)
{
	const char *v = next(c);

	if (v == NULL)
		return fail(c, "\"%s\" needs a command (\"%s\")", object, want);
	if (!matches(v, want))
		return fail(c, "\"%s %s\" is not supported: only 'add' (or 'set ... up') is supported in a configuration file",
			    object, v);
	return 0;
}

/* `link set [dev] <port> up [mtu <N>]` */
static const char *const link_refused[] = {
	"name", "address", "broadcast", "brd", "peer", "netns", "multicast",
	"allmulticast", "promisc", "trailers", "arp", "dynamic", "txqueuelen",
	"txqlen", "qlen", "vf", "master", "nomaster", "vrf", "xdp",
	"xdpgeneric", "xdpdrv", "xdpoffload", "alias", "group", "mode",
	"state", "type", "addrgenmode", "protodown", "protodown_reason",
	"gso_max_size", "gso_max_segs", "gro_max_size", "carrier",
	"link-netns", "link-netnsid", "numtxqueues", "numrxqueues", NULL,
};

enum { LK_DEV, LK_UP, LK_MTU, LK_NB };
static const char *const link_keys[LK_NB] = { "dev", "up", "mtu" };

static int
parse_link(struct ctx *c)
{
	struct espgw_cfg_link l = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	uint64_t mtu;
	const char *w;
	void *a;

	if (command(c, "link", "set") != 0)
		return -1;
	while ((w = next(c)) != NULL) {
		switch (keyword(c, link_keys, LK_NB, w, &seen)) {
		case BAD:
			return -1;
		case LK_DEV:
			if (port_arg(c, w, l.port) != 0)
				return -1;
			break;
		case LK_UP:
			break;
		case LK_MTU:
			if (num_arg(c, w, UINT32_MAX, &mtu) != 0)
				return -1;
			if (mtu < MTU_MIN || mtu > MTU_MAX)
				return fail(c, "mtu %llu is out of range (%d to %d)",
					    (unsigned long long)mtu, MTU_MIN,
					    MTU_MAX);
			l.mtu = (uint16_t)mtu;
			break;
		default:
			if (strcmp(w, "down") == 0)
				return fail(c, "link down is not supported");
			if (in_list(link_refused, w) || (seen & (1u << LK_DEV)))
				return refuse(c, w, "link", link_refused);
			/* `ip link set eth0 up`: a bare word is the device */
			seen |= 1u << LK_DEV;
			if (set_port(c, w, l.port) != 0)
				return -1;
		}
	}
	if (!(seen & (1u << LK_DEV)))
		return fail(c, "missing \"dev <port>\"");
	if (!(seen & (1u << LK_UP)))
		return fail(c, "\"link set\" needs \"up\" (ports can only be brought up)");
	a = append(cfg->links, cfg->nb_links, &l, sizeof(l));
	if (a == NULL)
		return fail(c, "out of memory");
	cfg->links = a;
	cfg->nb_links++;
	return 0;
}

/* `addr add <A.B.C.D>/<len> dev <port>` */
static const char *const addr_refused[] = {
	"peer", "remote", "broadcast", "brd", "anycast", "label", "scope",
	"valid_lft", "preferred_lft", "home", "nodad", "optimistic",
	"mngtmpaddr", "noprefixroute", "autojoin", "metric", "priority",
	"preference", "proto", "protocol", NULL,
};

enum { AK_LOCAL, AK_DEV, AK_NB };
static const char *const addr_keys[AK_NB] = { "local", "dev" };

static int
parse_addr(struct ctx *c)
{
	struct espgw_cfg_addr ad = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	const char *w;
	void *a;

	if (command(c, "address", "add") != 0)
		return -1;
	while ((w = next(c)) != NULL) {
		int k = keyword(c, addr_keys, AK_NB, w, &seen);

		if (k == NOT_KEY && !(seen & (1u << AK_LOCAL)) &&
		    addressish(w)) {
			/* `ip addr add 10.0.1.1/24`: a bare address is local */
			k = AK_LOCAL;
			seen |= 1u << AK_LOCAL;
			c->i--;
		}
		switch (k) {
		case BAD:
			return -1;
		case AK_LOCAL:
			w = value(c, w);
			if (w == NULL || prefix(c, w, &ad.addr, &ad.len) != 0)
				return -1;
			break;
		case AK_DEV:
			if (port_arg(c, w, ad.port) != 0)
				return -1;
			break;
		default:
			return refuse(c, w, "addr", addr_refused);
		}
	}
	if (!(seen & (1u << AK_LOCAL)))
		return fail(c, "missing the address (A.B.C.D/len)");
	if (!(seen & (1u << AK_DEV)))
		return fail(c, "missing \"dev <port>\"");
	a = append(cfg->addrs, cfg->nb_addrs, &ad, sizeof(ad));
	if (a == NULL)
		return fail(c, "out of memory");
	cfg->addrs = a;
	cfg->nb_addrs++;
	return 0;
}

/* `route add <prefix>|default [via <gw>] dev <port> [src <addr>]` */
static const char *const route_refused[] = {
	"as", "from", "tos", "dsfield", "expires", "metric", "priority",
	"preference", "iif", "onlink", "pref", "encap", "mtu", "advmss",
	"hoplimit", "reordering", "rtt", "rttvar", "window", "cwnd",
	"initcwnd", "initrwnd", "features", "quickack", "congctl", "rto_min",
	"ssthresh", "realms", "realm", "table", "vrf", "nexthop", "nhid",
	"protocol", "proto", "scope", "mpath", "mp", "ttl-propagate",
	"fastopen_no_cookie", NULL,
};

static const char *const route_types[] = {
	"local", "broadcast", "multicast", "throw", "unreachable", "prohibit",
	"blackhole", "nat", "anycast", NULL,
};

enum { RK_TO, RK_VIA, RK_DEV, RK_SRC, RK_NB };
static const char *const route_keys[RK_NB] = { "to", "via", "dev", "src" };

static int
parse_route(struct ctx *c)
{
	struct espgw_cfg_route r = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	const char *w;
	void *a;

	if (command(c, "route", "add") != 0)
		return -1;
	while ((w = next(c)) != NULL) {
		int k;

		if (strcmp(w, "oif") == 0)
			w = "dev";
		k = keyword(c, route_keys, RK_NB, w, &seen);
		if (k == NOT_KEY && !(seen & (1u << RK_TO)) &&
		    (addressish(w) || strcmp(w, "default") == 0)) {
			k = RK_TO;
			seen |= 1u << RK_TO;
			c->i--;
		}
		switch (k) {
		case BAD:
			return -1;
		case RK_TO:
			w = value(c, w);
			if (w == NULL ||
			    strict_prefix(c, w, &r.prefix, &r.len) != 0)
				return -1;
			break;
		case RK_VIA:
			if (addr_arg(c, w, &r.via) != 0)
				return -1;
			break;
		case RK_DEV:
			if (port_arg(c, w, r.port) != 0)
				return -1;
			break;
		case RK_SRC:
			if (addr_arg(c, w, &r.src) != 0)
				return -1;
			break;
		default:
			if (strcmp(w, "unicast") == 0)
				break;
			if (in_list(route_types, w))
				return fail(c, "route type \"%s\" is not supported",
					    w);
			return refuse(c, w, "route", route_refused);
		}
	}
	if (!(seen & (1u << RK_TO)))
		return fail(c, "missing the destination (prefix or \"default\")");
	if (!(seen & (1u << RK_DEV)))
		return fail(c, "missing \"dev <port>\"");
	a = append(cfg->routes, cfg->nb_routes, &r, sizeof(r));
	if (a == NULL)
		return fail(c, "out of memory");
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

static int
parse_neigh(struct ctx *c)
{
	struct espgw_cfg_neigh ne = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0;
	const char *w;
	void *a;

	if (command(c, "neigh", "add") != 0)
		return -1;
	while ((w = next(c)) != NULL) {
		int k = keyword(c, neigh_keys, NK_NB, w, &seen);

		if (k == NOT_KEY && !(seen & (1u << NK_TO)) && addressish(w)) {
			k = NK_TO;
			seen |= 1u << NK_TO;
			c->i--;
		}
		switch (k) {
		case BAD:
			return -1;
		case NK_TO:
			if (addr_arg(c, w, &ne.addr) != 0)
				return -1;
			break;
		case NK_LLADDR:
			w = value(c, w);
			if (w == NULL)
				return -1;
			if (!mac(w, &ne.mac))
				return fail(c, "invalid MAC address \"%s\" (xx:xx:xx:xx:xx:xx)",
					    w);
			break;
		case NK_DEV:
			if (port_arg(c, w, ne.port) != 0)
				return -1;
			break;
		case NK_NUD:
			/* A static entry is what nud permanent means. */
			w = value(c, w);
			if (w == NULL)
				return -1;
			if (strcmp(w, "permanent") != 0)
				return fail(c, "nud \"%s\" is not supported (static entries are permanent)",
					    w);
			break;
		default:
			return refuse(c, w, "neigh", neigh_refused);
		}
	}
	if (!(seen & (1u << NK_TO)))
		return fail(c, "missing the neighbour's address");
	if (!(seen & (1u << NK_LLADDR)))
		return fail(c, "missing \"lladdr <mac>\"");
	if (!(seen & (1u << NK_DEV)))
		return fail(c, "missing \"dev <port>\"");
	a = append(cfg->neighs, cfg->nb_neighs, &ne, sizeof(ne));
	if (a == NULL)
		return fail(c, "out of memory");
	cfg->neighs = a;
	cfg->nb_neighs++;
	return 0;
}

/* `proto esp`, in a state or a template. */
static int
esp_arg(struct ctx *c)
{
	static const char *const others[] = {
		"ah", "comp", "ipcomp", "route2", "hao", "ipsec-any", NULL,
	};
	const char *v = value(c, "proto");

	if (v == NULL)
		return -1;
	if (strcmp(v, "esp") == 0)
		return 0;
	if (in_list(others, v))
		return fail(c, "proto %s is not supported (only esp)", v);
	return fail(c, "invalid xfrm proto \"%s\"", v);
}

/* `mode tunnel`; other modes matched in ip's order, so `mode t` is
 * transport, as it is to ip. */
static int
mode_arg(struct ctx *c)
{
	static const char *const modes[] = {
		"transport", "tunnel", "ro", "in_trigger", "beet", NULL,
	};
	const char *v = value(c, "mode");

	if (v == NULL)
		return -1;
	for (const char *const *m = modes; *m != NULL; m++) {
		if (!matches(v, *m))
			continue;
		if (strcmp(*m, "tunnel") == 0)
			return 0;
		return fail(c, "mode %s is not supported (only tunnel)", *m);
	}
	return fail(c, "invalid mode \"%s\"", v);
}

/* `flag esn [...]`: ip takes flag names until a word that is not one. */
static int
flags_arg(struct ctx *c, bool *esn)
{
	static const char *const names[] = {
		"noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp",
		"af-unspec", "align4", "esn", NULL,
	};
	int nb = 0;

	while (c->i < c->n && in_list(names, c->w[c->i])) {
		const char *f = c->w[c->i++];

		if (strcmp(f, "esn") != 0)
			return fail(c, "flag \"%s\" is not supported (only esn)",
				    f);
		*esn = true;
		nb++;
	}
	if (nb > 0)
		return 0;
	if (c->i < c->n)
		return fail(c, "unknown flag \"%s\"", c->w[c->i]);
	return fail(c, "\"flag\" needs a value");
}

/* `aead 'rfc4106(gcm(aes))' 0x<key+salt> <ICV bits>` (RFC 4106 section
 * 8.1: the last 4 key bytes are the salt). The key is never echoed in
 * a message: messages end up in logs. */
static int
aead_arg(struct ctx *c, struct espgw_sa_params *p)
{
	const char *name = next(c), *key = next(c), *icv = next(c);
	uint64_t bits;
	size_t nd;

	if (icv == NULL)
		return fail(c, "\"aead\" needs an algorithm name, a key and an ICV length in bits");
	if (strcmp(name, "rfc4106(gcm(aes))") != 0)
		return fail(c, "aead \"%s\" is not supported: only rfc4106(gcm(aes)) is supported",
			    name);
	nd = strlen(key) - (strncmp(key, "0x", 2) == 0 ? 2 : 0);
	if (strncmp(key, "0x", 2) != 0 || (nd != 40 && nd != 56 && nd != 72))
		return fail(c, "aead key must be 0x and 40, 56 or 72 hex digits (AES-128, -192 or -256 key, then the 4-byte salt)");
	for (size_t j = 0; j < nd; j += 2) {
		int hi = hex(key[2 + j]), lo = hex(key[3 + j]);

		if (hi < 0 || lo < 0)
			return fail(c, "aead key has a character that is not a hex digit");
		p->key[j / 2] = (uint8_t)(hi << 4 | lo);
	}
	p->key_len = (uint8_t)(nd / 2);
	if (!number(icv, UINT32_MAX, &bits) ||
	    (bits != 64 && bits != 96 && bits != 128))
		return fail(c, "aead ICV length \"%s\" must be 64, 96 or 128 (bits)",
			    icv);
	p->icv_len = (uint8_t)(bits / 8);
	return 0;
}

/* `xfrm state add ...` */
static const char *const state_refused[] = {
	"seq", "mark", "output-mark", "if_id", "sel", "limit", "encap", "coa",
	"ctx", "extra-flag", "offload", "tfcpad", "pcpu-num",
	"nat-keepalive-interval", "mtimer-thresh", NULL,
};

static const char *const algo_types[] = {
	"enc", "auth", "auth-trunc", "comp", NULL,
};

enum {
	SK_SRC, SK_DST, SK_PROTO, SK_SPI, SK_REQID, SK_MODE, SK_WIN,
	SK_SEQ, SK_SEQ_HI, SK_OSEQ, SK_OSEQ_HI, SK_FLAG, SK_AEAD, SK_NB
};
static const char *const state_keys[SK_NB] = {
	"src", "dst", "proto", "spi", "reqid", "mode", "replay-window",
	"replay-seq", "replay-seq-hi", "replay-oseq", "replay-oseq-hi",
	"flag", "aead",
};

static int
state_word(struct ctx *c, const char *w, int k, struct espgw_sa_params *p,
	   uint32_t seq[4])
{
	switch (k) {
	case SK_SRC: return addr_arg(c, w, &p->src.v4);
	case SK_DST: return addr_arg(c, w, &p->dst.v4);
	case SK_PROTO: return esp_arg(c);
	case SK_SPI: return u32_arg(c, w, &p->spi);
	case SK_REQID: return u32_arg(c, w, &p->reqid);
	case SK_MODE: return mode_arg(c);
	case SK_WIN: return u32_arg(c, w, &p->replay_window);
	case SK_SEQ:
	case SK_SEQ_HI:
	case SK_OSEQ:
	case SK_OSEQ_HI: return u32_arg(c, w, &seq[k - SK_SEQ]);
	case SK_FLAG: return flags_arg(c, &p->esn);
	case SK_AEAD: return aead_arg(c, p);
	}
	if (in_list(algo_types, w))
		return fail(c, "xfrm state option \"%s\" is not supported (only aead rfc4106(gcm(aes)))",
			    w);
	if (strcmp(w, "dir") == 0)
		return fail(c, "xfrm state option \"dir\" is not supported (the direction follows from which end is ours)");
	return refuse(c, w, "xfrm state", state_refused);
}

static int
parse_state(struct ctx *c)
{
	static const char *const needed[SK_NB] = {
		[SK_SRC] = "missing \"src <addr>\"",
		[SK_DST] = "missing \"dst <addr>\"",
		[SK_PROTO] = "missing \"proto esp\"",
		[SK_SPI] = "missing \"spi <SPI>\"",
		[SK_MODE] = "missing \"mode tunnel\" (ip's default, transport, is not supported)",
		[SK_AEAD] = "missing \"aead 'rfc4106(gcm(aes))' <key> <ICV bits>\"",
	};
	struct espgw_cfg_state st = { .line = c->line };
	struct espgw_sa_params *p = &st.p;
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0, seq[4] = { 0 };
	const char *w;
	void *a;

	if (command(c, "xfrm state", "add") != 0)
		return -1;
	p->dir = ESPGW_SA_OUT; /* the table builder decides */
	p->src.family = AF_INET;
	p->dst.family = AF_INET;
	while ((w = next(c)) != NULL) {
		int k = keyword(c, state_keys, SK_NB, w, &seen);

		if (k == BAD || state_word(c, w, k, p, seq) != 0)
			return -1;
	}
	for (int k = 0; k < SK_NB; k++)
		if (needed[k] != NULL && !(seen & (1u << k)))
			return fail(c, "%s", needed[k]);

	/* What espgw_sa_params_check() would refuse, said in the words of
	 * the file. The one check left out, ESN without a replay window,
	 * concerns inbound SAs only: the table builder knows which. */
	if (p->spi == 0)
		return fail(c, "spi 0 is reserved (RFC 4303 section 2.1)");
	if (p->replay_window > ESPGW_REPLAY_WINDOW_MAX)
		return fail(c, "replay-window %u is too large (at most %u)",
			    p->replay_window, ESPGW_REPLAY_WINDOW_MAX);
	if (!p->esn && (seq[SK_SEQ_HI - SK_SEQ] || seq[SK_OSEQ_HI - SK_SEQ]))
		return fail(c, "\"%s\" needs \"flag esn\"",
			    seq[SK_SEQ_HI - SK_SEQ] ? "replay-seq-hi"
						    : "replay-oseq-hi");
	p->iseq = (uint64_t)seq[SK_SEQ_HI - SK_SEQ] << 32 | seq[SK_SEQ - SK_SEQ];
	p->oseq = (uint64_t)seq[SK_OSEQ_HI - SK_SEQ] << 32 |
		  seq[SK_OSEQ - SK_SEQ];

	a = append(cfg->states, cfg->nb_states, &st, sizeof(st));
	if (a == NULL)
		return fail(c, "out of memory");
	cfg->states = a;
	cfg->nb_states++;
	return 0;
}

/* `xfrm policy add ...` */
static const char *const policy_refused[] = {
	"ptype", "mark", "index", "flag", "ctx", "if_id", "offload", "dev",
	"type", "code", "key", NULL,
};

static const char *const tmpl_refused[] = { "spi", "level", NULL };

enum {
	PK_SRC, PK_DST, PK_PROTO, PK_SPORT, PK_DPORT, PK_DIR, PK_PRIORITY,
	PK_ACTION, PK_TMPL, PK_NB
};
static const char *const policy_keys[PK_NB] = {
	"src", "dst", "proto", "sport", "dport", "dir", "priority", "action",
	"tmpl",
};

enum { TK_SRC, TK_DST, TK_PROTO, TK_REQID, TK_MODE, TK_NB };
static const char *const tmpl_keys[TK_NB] = {
	"src", "dst", "proto", "reqid", "mode",
};

static const struct {
	const char *name;
	uint8_t num;
} protos[] = {
	{ "any", 0 },
	{ "icmp", IPPROTO_ICMP },
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "sctp", IPPROTO_SCTP },
};

static int
proto_arg(struct ctx *c, uint8_t *out)
{
	const char *v = value(c, "proto");
	uint64_t n;

	if (v == NULL)
		return -1;
	for (size_t j = 0; j < sizeof(protos) / sizeof(protos[0]); j++) {
		if (strcmp(v, protos[j].name) == 0) {
			*out = protos[j].num;
			return 0;
		}
	}
	if (!number(v, UINT8_MAX, &n))
		return fail(c, "invalid proto \"%s\" (tcp, udp, icmp, sctp, any or a number)",
			    v);
	*out = (uint8_t)n;
	return 0;
}

static int
port16_arg(struct ctx *c, const char *key, uint16_t *port, bool *has)
{
	uint64_t v;

	if (num_arg(c, key, UINT16_MAX, &v) != 0)
		return -1;
	*port = (uint16_t)v;
	*has = v != 0; /* as in ip: port 0 leaves the port unmatched */
	return 0;
}

static int
selector(struct ctx *c, const char *w, uint32_t *addr, uint8_t *len)
{
	const char *v = value(c, w);

	if (v == NULL || prefix(c, v, addr, len) != 0)
		return -1;
	*addr &= mask(*len); /* xfrm matches the prefix bits only */
	return 0;
}

static int
tmpl_word(struct ctx *c, const char *w, int k, struct espgw_cfg_policy *pol)
{
	switch (k) {
	case TK_SRC: return addr_arg(c, w, &pol->tmpl_src);
	case TK_DST: return addr_arg(c, w, &pol->tmpl_dst);
	case TK_PROTO: return esp_arg(c);
	case TK_REQID: return u32_arg(c, w, &pol->reqid);
	case TK_MODE: return mode_arg(c);
	}
	return fail(c, "tmpl option \"%s\" is not supported", w);
}

static int
policy_word(struct ctx *c, const char *w, int k, struct espgw_cfg_policy *pol)
{
	const char *v;

	switch (k) {
	case PK_SRC: return selector(c, w, &pol->src, &pol->src_len);
	case PK_DST: return selector(c, w, &pol->dst, &pol->dst_len);
	case PK_PROTO: return proto_arg(c, &pol->proto);
	case PK_SPORT: return port16_arg(c, w, &pol->sport, &pol->has_sport);
	case PK_DPORT: return port16_arg(c, w, &pol->dport, &pol->has_dport);
	case PK_PRIORITY: return u32_arg(c, w, &pol->priority);
	case PK_TMPL: pol->has_tmpl = true; return 0;
	case PK_DIR:
		v = value(c, w);
		if (v == NULL)
			return -1;
		if (strcmp(v, "out") == 0)
			pol->dir = ESPGW_POL_OUT;
		else if (strcmp(v, "in") == 0)
			pol->dir = ESPGW_POL_IN;
		else if (strcmp(v, "fwd") == 0)
			pol->dir = ESPGW_POL_FWD;
		else
			return fail(c, "invalid dir \"%s\" (out, in or fwd)", v);
		return 0;
	case PK_ACTION:
		v = value(c, w);
		if (v == NULL)
			return -1;
		if (strcmp(v, "allow") == 0)
			pol->action = ESPGW_POL_ALLOW;
		else if (strcmp(v, "block") == 0)
			pol->action = ESPGW_POL_BLOCK;
		else
			return fail(c, "invalid action \"%s\" (allow or block)",
				    v);
		return 0;
	}
	return refuse(c, w, "xfrm policy", policy_refused);
}

static const char *
proto_name(uint8_t num, char *buf, size_t len)
{
	for (size_t j = 0; j < sizeof(protos) / sizeof(protos[0]); j++)
		if (protos[j].num == num)
			return protos[j].name;
	snprintf(buf, len, "%u", num);
	return buf;
}

static int
parse_policy(struct ctx *c)
{
	struct espgw_cfg_policy pol = { .line = c->line };
	struct espgw_cfg *cfg = c->cfg;
	uint32_t seen = 0, tseen = 0;
	bool in_tmpl = false;
	const char *w;
	char num[4];
	void *a;

	if (command(c, "xfrm policy", "add") != 0)
		return -1;
	while ((w = next(c)) != NULL) {
		int k;

		/* The template owns its words up to the first one that is
		 * not a template word; then the policy's resume. */
		if (in_tmpl) {
			k = keyword(c, tmpl_keys, TK_NB, w, &tseen);
			if (k == BAD)
				return -1;
			if (k != NOT_KEY || in_list(tmpl_refused, w)) {
				if (tmpl_word(c, w, k, &pol) != 0)
					return -1;
				continue;
			}
			in_tmpl = false;
		}
		if (strcmp(w, "tmpl") == 0 && pol.has_tmpl)
			return fail(c, "only one \"tmpl\" is supported");
		k = keyword(c, policy_keys, PK_NB, w, &seen);
		if (k == BAD || policy_word(c, w, k, &pol) != 0)
			return -1;
		in_tmpl = k == PK_TMPL;
	}
	if (!(seen & (1u << PK_DIR)))
		return fail(c, "missing \"dir out|in|fwd\"");
	if ((seen & (1u << PK_SPORT | 1u << PK_DPORT)) &&
	    pol.proto != IPPROTO_TCP && pol.proto != IPPROTO_UDP &&
	    pol.proto != IPPROTO_SCTP)
		return fail(c, "\"sport\" and \"dport\" are invalid with proto=%s (only tcp, udp or sctp)",
			    proto_name(pol.proto, num, sizeof(num)));
	if (pol.has_tmpl) {
		if (pol.action == ESPGW_POL_BLOCK)
			return fail(c, "\"action block\" cannot have a \"tmpl\"");
		if (!(tseen & (1u << TK_PROTO)))
			return fail(c, "tmpl needs \"proto esp\"");
		if (!(tseen & (1u << TK_MODE)))
			return fail(c, "tmpl needs \"mode tunnel\" (ip's default, transport, is not supported)");
	}
	a = append(cfg->policies, cfg->nb_policies, &pol, sizeof(pol));
	if (a == NULL)
		return fail(c, "out of memory");
	cfg->policies = a;
	cfg->nb_policies++;
	return 0;
}

static int
parse_xfrm(struct ctx *c)
{
	const char *w = next(c);

	if (w == NULL)
		return fail(c, "\"xfrm\" needs \"state\" or \"policy\"");
	if (matches(w, "state") || matches(w, "sa"))
		return parse_state(c);
	if (matches(w, "policy"))
		return parse_policy(c);
	if (matches(w, "monitor"))
		return fail(c, "ip xfrm monitor is not supported");
	return fail(c, "unknown word \"%s\"", w);
}

/* ip's objects in ip's order, so an abbreviation picks what ip picks
 * (`ip a` is address, `ip n` neighbor). NULL: not something espgw does. */
static const struct {
	const char *name;
	int (*parse)(struct ctx *c);
} objects[] = {
	{ "address", parse_addr },   { "addrlabel", NULL },
	{ "maddress", NULL },        { "route", parse_route },
	{ "rule", NULL },            { "neighbor", parse_neigh },
	{ "neighbour", parse_neigh }, { "ntable", NULL },
	{ "ntbl", NULL },            { "link", parse_link },
	{ "l2tp", NULL },            { "fou", NULL },
	{ "ila", NULL },             { "macsec", NULL },
	{ "tunnel", NULL },          { "tunl", NULL },
	{ "tuntap", NULL },          { "tap", NULL },
	{ "token", NULL },           { "tcpmetrics", NULL },
	{ "tcp_metrics", NULL },     { "monitor", NULL },
	{ "xfrm", parse_xfrm },      { "mroute", NULL },
	{ "mrule", NULL },           { "netns", NULL },
	{ "netconf", NULL },         { "vrf", NULL },
	{ "sr", NULL },              { "nexthop", NULL },
	{ "mptcp", NULL },           { "ioam", NULL },
	{ "stats", NULL },           { "help", NULL },
};

/* `ip -4`, `ip -f inet`: fine. Anything else changes what ip would do. */
static int
option(struct ctx *c, const char *w)
{
	const char *v;

	if (strcmp(w, "-4") == 0)
		return 0;
	if (strcmp(w, "-6") == 0)
		return fail(c, "\"ip -6\": IPv6 is not supported yet");
	if (strlen(w) >= 2 && matches(w, "-family")) {
		v = value(c, w);
		if (v == NULL)
			return -1;
		if (strcmp(v, "inet") == 0)
			return 0;
		if (strcmp(v, "inet6") == 0)
			return fail(c, "\"%s inet6\": IPv6 is not supported yet",
				    w);
		return fail(c, "ip option \"%s %s\" is not supported", w, v);
	}
	return fail(c, "ip option \"%s\" is not supported", w);
}

static int
statement(struct ctx *c)
{
	const char *w = next(c);

	if (strcmp(w, "ip") == 0)
		w = next(c);
	while (w != NULL && w[0] == '-') {
		if (option(c, w) != 0)
			return -1;
		w = next(c);
	}
	if (w == NULL)
		return fail(c, "\"ip\" needs an object: link, address, route, neigh or xfrm");
	for (size_t j = 0; j < sizeof(objects) / sizeof(objects[0]); j++) {
		if (!matches(w, objects[j].name))
			continue;
		if (objects[j].parse == NULL)
			return fail(c, "ip %s is not supported", objects[j].name);
		return objects[j].parse(c);
	}
	return fail(c, "unknown word \"%s\"", w);
}

int
espgw_cfg_parse_line(struct espgw_cfg *cfg, const char *text, int line,
		     char *err, size_t errlen)
{
	char buf[CFG_LINE_MAX + 1];
	char *words[CFG_WORDS_MAX];
	struct ctx c = {
		.cfg = cfg, .line = line, .err = err, .errlen = errlen,
		.w = words,
	};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strnlen(text, CFG_LINE_MAX + 1) > CFG_LINE_MAX)
		return fail(&c, "line is longer than %d characters",
			    CFG_LINE_MAX);
	c.n = split(&c, text, buf, words);
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
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
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
