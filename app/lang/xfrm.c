/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* `ip xfrm state` and `ip xfrm policy` statements, with the words and
 * semantics of iproute2's ipxfrm (ip/xfrm_state.c, ip/xfrm_policy.c);
 * what espgw does not do is refused by name. */

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "lang/parse.h"

/* An address as xfrm_id_parse reads it: of the family of ip's option
 * (fam; 0: none), else of the word's. The statement's family is left
 * alone: each parser compares its src and dst itself. */
static int
xfrm_ip(struct lang_ctx *c, const char *key, uint8_t fam,
	struct espgw_ip_addr *out)
{
	uint8_t was = c->family;
	int rc;

	c->family = fam;
	rc = lang_ip_arg(c, key, out);
	c->family = was;
	return rc;
}

/* xfrm_id_parse and xfrm_selector_parse: "the same address family is
 * required between values after "src" and "dst"". */
static int
same_family(struct lang_ctx *c, const char *what, const char *src, uint8_t sf,
	    const char *dst, uint8_t df)
{
	if (src == NULL || dst == NULL || sf == df)
		return 0;
	return lang_fail(c,
			 "%s: the same address family is required between "
			 "\"src %s\" (%s) and \"dst %s\" (%s)",
			 what, src, lang_family_name(sf), dst,
			 lang_family_name(df));
}

/* `proto esp`, in a state or a template. */
static int
esp_arg(struct lang_ctx *c)
{
	static const char *const others[] = {
		"ah", "comp", "ipcomp", "route2", "hao", "ipsec-any", NULL,
	};
	const char *v = lang_value(c, "proto");

	if (v == NULL)
		return -1;
	if (strcmp(v, "esp") == 0)
		return 0;
	if (lang_in_list(others, v))
		return lang_fail(c, "proto %s is not supported (only esp)", v);
	return lang_fail(c, "invalid xfrm proto \"%s\"", v);
}

/* `mode tunnel`; other modes matched in ip's order, so `mode t` is
 * transport, as it is to ip. */
static int
mode_arg(struct lang_ctx *c)
{
	static const char *const modes[] = {
		"transport", "tunnel", "ro", "in_trigger", "beet", NULL,
	};
	const char *v = lang_value(c, "mode");

	if (v == NULL)
		return -1;
	for (const char *const *m = modes; *m != NULL; m++) {
		if (!lang_matches(v, *m))
			continue;
		if (strcmp(*m, "tunnel") == 0)
			return 0;
		return lang_fail(c, "mode %s is not supported (only tunnel)",
				 *m);
	}
	return lang_fail(c, "invalid mode \"%s\"", v);
}

/* `flag esn [af-unspec ...]`: ip takes flag names until a word that is
 * not one. */
static int
flags_arg(struct lang_ctx *c, struct espgw_sa_params *p)
{
	static const char *const names[] = {
		"noecn",     "decap-dscp", "nopmtudisc", "wildrecv", "icmp",
		"af-unspec", "align4",	   "esn",	 NULL,
	};
	int nb = 0;

	while (c->i < c->n && lang_in_list(names, c->w[c->i])) {
		const char *f = c->w[c->i++];

		if (strcmp(f, "esn") == 0)
			p->esn = true;
		else if (strcmp(f, "af-unspec") == 0)
			p->af_unspec = true;
		else
			return lang_fail(c,
					 "flag \"%s\" is not supported (only "
					 "esn and af-unspec)",
					 f);
		nb++;
	}
	if (nb > 0)
		return 0;
	if (c->i < c->n)
		return lang_fail(c, "unknown flag \"%s\"", c->w[c->i]);
	return lang_fail(c, "\"flag\" needs a value");
}

/* `aead 'rfc4106(gcm(aes))' 0x<key+salt> <ICV bits>` (RFC 4106 section
 * 8.1: the last 4 key bytes are the salt). The key is never echoed in
 * a message: messages end up in logs. */
static int
aead_arg(struct lang_ctx *c, struct espgw_sa_params *p)
{
	const char *name = lang_next(c), *key = lang_next(c),
		   *icv = lang_next(c);
	uint64_t bits;
	size_t nd;

	if (icv == NULL)
		return lang_fail(c, "\"aead\" needs an algorithm name, a key "
				    "and an ICV length in bits");
	if (strcmp(name, "rfc4106(gcm(aes))") != 0)
		return lang_fail(c,
				 "aead \"%s\" is not supported: only "
				 "rfc4106(gcm(aes)) is supported",
				 name);
	nd = strlen(key) - (strncmp(key, "0x", 2) == 0 ? 2 : 0);
	if (strncmp(key, "0x", 2) != 0 || (nd != 40 && nd != 56 && nd != 72))
		return lang_fail(
			c, "aead key must be 0x and 40, 56 or 72 hex digits "
			   "(AES-128, -192 or -256 key, then the 4-byte salt)");
	for (size_t j = 0; j < nd; j += 2) {
		int hi = lang_hex(key[2 + j]), lo = lang_hex(key[3 + j]);

		if (hi < 0 || lo < 0)
			return lang_fail(c, "aead key has a character that is "
					    "not a hex digit");
		p->key[j / 2] = (uint8_t)(hi << 4 | lo);
	}
	p->key_len = (uint8_t)(nd / 2);
	if (!lang_number(icv, UINT32_MAX, &bits) ||
	    (bits != 64 && bits != 96 && bits != 128))
		return lang_fail(
			c,
			"aead ICV length \"%s\" must be 64, 96 or 128 (bits)",
			icv);
	p->icv_len = (uint8_t)(bits / 8);
	return 0;
}

/* `xfrm state add ...` */
static const char *const state_refused[] = {
	"seq",		 "mark",   "output-mark", "if_id",
	"sel",		 "coa",	   "ctx",	  "extra-flag",
	"offload",	 "tfcpad", "pcpu-num",	  "nat-keepalive-interval",
	"mtimer-thresh", NULL,
};

static const char *const algo_types[] = {
	"enc", "auth", "auth-trunc", "comp", NULL,
};

enum {
	SK_SRC,
	SK_DST,
	SK_PROTO,
	SK_SPI,
	SK_REQID,
	SK_MODE,
	SK_WIN,
	SK_SEQ,
	SK_SEQ_HI,
	SK_OSEQ,
	SK_OSEQ_HI,
	SK_FLAG,
	SK_AEAD,
	SK_ENCAP,
	SK_NB
};
static const char *const state_keys[SK_NB] = {
	"src",		 "dst",		"proto",	  "spi",
	"reqid",	 "mode",	"replay-window",  "replay-seq",
	"replay-seq-hi", "replay-oseq", "replay-oseq-hi", "flag",
	"aead",		 "encap",
};

/* espgw/esp.h refuses it too: RFC 3948 is written for IPv4 */
#define ESPINUDP6 "ESP in UDP over IPv6 is not supported"

/* `encap ENCAP-TYPE SPORT DPORT OADDR`, as xfrm_encap_type_parse and
 * xfrm_state_modify read it (get_be16 ports). */
static int
encap_arg(struct lang_ctx *c, struct espgw_sa_encap *e)
{
	const char *type = lang_next(c);
	struct espgw_ip_addr oa;
	uint64_t sport, dport;

	if (type == NULL)
		return lang_fail(c, "\"encap\" wants espinudp SPORT DPORT "
				    "OADDR");
	if (strcmp(type, "espinudp-nonike") == 0)
		return lang_fail(c, "encap espinudp-nonike is not supported "
				    "(the non-IKE marker of early NAT-T "
				    "drafts; use espinudp, RFC 3948)");
	if (strcmp(type, "espintcp") == 0)
		return lang_fail(c, "encap espintcp is not supported (ESP in "
				    "TCP, RFC 8229; use espinudp)");
	if (strcmp(type, "espinudp") != 0)
		return lang_fail(c,
				 "encap type \"%s\" is not one of "
				 "espinudp, espinudp-nonike, espintcp",
				 type);
	if (lang_num_arg(c, "encap sport", UINT16_MAX, &sport) != 0 ||
	    lang_num_arg(c, "encap dport", UINT16_MAX, &dport) != 0 ||
	    xfrm_ip(c, "encap OADDR", c->opt_family, &oa) != 0)
		return -1;
	if (sport == 0 || dport == 0)
		return lang_fail(c, "encap espinudp: port 0 is not a port");
	if (oa.family == AF_INET6)
		return lang_fail(c, ESPINUDP6);
	e->oa = oa.v4;
	e->udp = true;
	e->sport = (uint16_t)sport;
	e->dport = (uint16_t)dport;
	return 0;
}

static int
state_word(struct lang_ctx *c, const char *w, int k, struct espgw_sa_params *p,
	   uint32_t seq[4])
{
	switch (k) {
	case SK_SRC: return xfrm_ip(c, w, c->opt_family, &p->src);
	case SK_DST: return xfrm_ip(c, w, c->opt_family, &p->dst);
	case SK_PROTO: return esp_arg(c);
	case SK_SPI: return lang_u32_arg(c, w, &p->spi);
	case SK_REQID: return lang_u32_arg(c, w, &p->reqid);
	case SK_MODE: return mode_arg(c);
	case SK_WIN: return lang_u32_arg(c, w, &p->replay_window);
	case SK_SEQ:
	case SK_SEQ_HI:
	case SK_OSEQ:
	case SK_OSEQ_HI: return lang_u32_arg(c, w, &seq[k - SK_SEQ]);
	case SK_FLAG: return flags_arg(c, p);
	case SK_AEAD: return aead_arg(c, p);
	case SK_ENCAP: return encap_arg(c, &p->encap);
	}
	if (lang_in_list(algo_types, w))
		return lang_fail(c,
				 "xfrm state option \"%s\" is not supported "
				 "(only aead rfc4106(gcm(aes)))",
				 w);
	if (strcmp(w, "dir") == 0)
		return lang_fail(
			c, "xfrm state option \"dir\" is not supported (the "
			   "direction follows from which end is ours)");
	return lang_refuse(c, w, "xfrm state", state_refused);
}

static const struct lang_verb state_verbs[] = {
	{ "add", ESPGW_CMD_ADD },
	{ "update", ESPGW_CMD_UPDATE },
	{ "allocspi", NOT_OURS },
	{ "delete", ESPGW_CMD_DEL },
	{ "deleteall", ESPGW_CMD_DELETEALL },
	{ "delall", ESPGW_CMD_DELETEALL },
	{ "list", ESPGW_CMD_LIST },
	{ "show", ESPGW_CMD_LIST },
	{ "lst", ESPGW_CMD_LIST },
	{ "get", ESPGW_CMD_GET },
	{ "flush", ESPGW_CMD_FLUSH },
	{ "count", NOT_OURS },
	{ "help", NOT_OURS },
	{ NULL, 0 },
};

#define SK(k) (1u << (k))
/* What each command takes, as ip's xfrm_state.c reads it:
 * delete/get `ID := [src] [dst] [proto] [spi]`, deleteall/list
 * `[ID] [mode] [reqid] [flag]`, flush `[proto]`. */
#define STATE_ID (SK(SK_SRC) | SK(SK_DST) | SK(SK_PROTO) | SK(SK_SPI))
#define STATE_FILTER (STATE_ID | SK(SK_REQID) | SK(SK_MODE) | SK(SK_FLAG))

static uint32_t
state_takes(int verb, const char **what)
{
	switch (verb) {
	case ESPGW_CMD_DEL:
	case ESPGW_CMD_GET: *what = "src, dst, proto, spi"; return STATE_ID;
	case ESPGW_CMD_DELETEALL:
	case ESPGW_CMD_LIST:
		*what = "src, dst, proto, spi, mode, reqid, flag";
		return STATE_FILTER;
	case ESPGW_CMD_FLUSH: *what = "proto"; return SK(SK_PROTO);
	}
	*what = NULL;
	return SK(SK_NB) - 1;
}

static uint32_t
state_given(uint32_t seen)
{
	static const struct {
		int key;
		uint32_t bit;
	} map[] = {
		{ SK_SRC, ESPGW_SEL_STATE_SRC },
		{ SK_DST, ESPGW_SEL_STATE_DST },
		{ SK_PROTO, ESPGW_SEL_STATE_PROTO },
		{ SK_SPI, ESPGW_SEL_STATE_SPI },
		{ SK_REQID, ESPGW_SEL_STATE_REQID },
		{ SK_MODE, ESPGW_SEL_STATE_MODE },
		{ SK_FLAG, ESPGW_SEL_STATE_FLAG },
	};
	uint32_t given = 0;

	for (size_t j = 0; j < sizeof(map) / sizeof(map[0]); j++)
		if (seen & SK(map[j].key))
			given |= map[j].bit;
	return given;
}

/* `limit <kind> <N>`, one a keyword, as xfrm_lifetime_cfg_parse reads
 * them (get_u64: decimal, 0x hex, 0 octal). */
static int
limit_arg(struct lang_ctx *c, struct espgw_cfg_lifetime *l)
{
	static const char *const kinds[] = {
		"time-soft",	 "time-hard",	"time-use-soft",
		"time-use-hard", "byte-soft",	"byte-hard",
		"packet-soft",	 "packet-hard", NULL,
	};
	uint64_t *field[] = {
		&l->soft_add,	  &l->hard_add,	    &l->soft_use,
		&l->hard_use,	  &l->soft_bytes,   &l->hard_bytes,
		&l->soft_packets, &l->hard_packets,
	};
	const char *w = lang_next(c);

	for (int i = 0; w != NULL && kinds[i] != NULL; i++)
		if (strcmp(w, kinds[i]) == 0)
			return lang_num_arg(c, kinds[i], UINT64_MAX, field[i]);
	return lang_fail(c,
			 "\"limit\" wants time-soft, time-hard, time-use-soft, "
			 "time-use-hard, byte-soft, byte-hard, packet-soft or "
			 "packet-hard, then a number%s%s",
			 w != NULL ? ", not " : "", w != NULL ? w : "");
}

/* Words ip takes in a selector that espgw does not. */
static const char *const state_sel_refused[] = { "mark", "nokeys", NULL };

static int
parse_state(struct lang_ctx *c)
{
	static const char *const needed[SK_NB] = {
		[SK_SRC] = "missing \"src <addr>\"",
		[SK_DST] = "missing \"dst <addr>\"",
		[SK_PROTO] = "missing \"proto esp\"",
		[SK_SPI] = "missing \"spi <SPI>\"",
		[SK_MODE] = "missing \"mode tunnel\" (ip's default, transport, "
			    "is not supported)",
		[SK_AEAD] =
			"missing \"aead 'rfc4106(gcm(aes))' <key> <ICV bits>\"",
	};
	struct espgw_cfg_state *st = &c->cmd->u.state;
	struct espgw_sa_params *p = &st->p;
	uint32_t seen = 0, seq[4] = { 0 }, takes;
	const char *w, *what, *word[SK_DST + 1] = { NULL, NULL };
	int verb = lang_verb(c, "xfrm state", "add", state_verbs);

	if (verb < 0)
		return -1;
	c->cmd->verb = verb;
	takes = state_takes(verb, &what);
	p->dir = ESPGW_SA_OUT; /* the table builder decides */
	while ((w = lang_next(c)) != NULL) {
		int k;

		/* limit comes once a kind, so not among the keywords */
		if (strcmp(w, "limit") == 0 && what == NULL) {
			if (limit_arg(c, &st->lft) != 0)
				return -1;
			continue;
		}
		k = lang_keyword(c, state_keys, SK_NB, w, &seen);
		if (k >= 0 && !(takes & SK(k)))
			return lang_fail(c,
					 "\"%s\" is not a selector of \"xfrm "
					 "state %s\" (%s)",
					 w, lang_verb_name(verb), what);
		if (k == NOT_KEY && what != NULL) {
			if (lang_in_list(state_sel_refused, w))
				return lang_refuse(c, w, "xfrm state",
						   state_sel_refused);
			return lang_fail(c, "unknown word \"%s\"", w);
		}
		if (k == SK_SRC || k == SK_DST)
			word[k] = c->i < c->n ? c->w[c->i] : NULL;
		if (k == BAD || state_word(c, w, k, p, seq) != 0)
			return -1;
	}
	c->cmd->given = state_given(seen);
	if (same_family(c, "xfrm state", word[SK_SRC], p->src.family,
			word[SK_DST], p->dst.family) != 0)
		return -1;
	/* one not given is of the other's family (a selector's) */
	if (p->src.family == 0)
		p->src.family = p->dst.family;
	if (p->dst.family == 0)
		p->dst.family = p->src.family;
	if (p->src.family == 0)
		p->src.family = p->dst.family =
			c->opt_family != 0 ? c->opt_family : AF_INET;
	c->family = p->dst.family;
	if (p->encap.udp && p->dst.family == AF_INET6)
		return lang_fail(c, ESPINUDP6);
	if (what != NULL)
		return 0; /* a selector: every field may be left out */
	for (int k = 0; k < SK_NB; k++)
		if (needed[k] != NULL && !(seen & SK(k)))
			return lang_fail(c, "%s", needed[k]);

	/* What espgw_sa_params_check() would refuse, said in the words of
	 * the file. The one check left out, ESN without a replay window,
	 * concerns inbound SAs only: the table builder knows which. */
	if (p->spi == 0)
		return lang_fail(c, "spi 0 is reserved (RFC 4303 section 2.1)");
	if (p->replay_window > ESPGW_REPLAY_WINDOW_MAX)
		return lang_fail(c,
				 "replay-window %u is too large (at most %u)",
				 p->replay_window, ESPGW_REPLAY_WINDOW_MAX);
	if (!p->esn && (seq[SK_SEQ_HI - SK_SEQ] || seq[SK_OSEQ_HI - SK_SEQ]))
		return lang_fail(c, "\"%s\" needs \"flag esn\"",
				 seq[SK_SEQ_HI - SK_SEQ] ? "replay-seq-hi"
							 : "replay-oseq-hi");
	p->iseq =
		(uint64_t)seq[SK_SEQ_HI - SK_SEQ] << 32 | seq[SK_SEQ - SK_SEQ];
	p->oseq = (uint64_t)seq[SK_OSEQ_HI - SK_SEQ] << 32 |
		  seq[SK_OSEQ - SK_SEQ];
	return 0;
}

/* `xfrm policy add ...` */
static const char *const policy_refused[] = {
	"ptype", "mark", "flag", "ctx",	  "if_id",  "offload", "dev",
	"type",	 "code", "key",	 "limit", "nosock", NULL,
};

static const char *const tmpl_refused[] = { "spi", "level", NULL };

enum {
	PK_SRC,
	PK_DST,
	PK_PROTO,
	PK_SPORT,
	PK_DPORT,
	PK_DIR,
	PK_INDEX,
	PK_PRIORITY,
	PK_ACTION,
	PK_TMPL,
	PK_NB
};
static const char *const policy_keys[PK_NB] = {
	"src", "dst",	"proto",    "sport",  "dport",
	"dir", "index", "priority", "action", "tmpl",
};

/* PK_* but PK_TMPL are the ESPGW_SEL_POLICY_* bits. */
_Static_assert(1u << PK_ACTION == ESPGW_SEL_POLICY_ACTION, "policy bits");
_Static_assert(1u << PK_INDEX == ESPGW_SEL_POLICY_INDEX, "policy bits");

static const struct lang_verb policy_verbs[] = {
	{ "add", ESPGW_CMD_ADD },
	{ "update", ESPGW_CMD_UPDATE },
	{ "delete", ESPGW_CMD_DEL },
	{ "deleteall", ESPGW_CMD_DELETEALL },
	{ "delall", ESPGW_CMD_DELETEALL },
	{ "list", ESPGW_CMD_LIST },
	{ "show", ESPGW_CMD_LIST },
	{ "lst", ESPGW_CMD_LIST },
	{ "get", ESPGW_CMD_GET },
	{ "flush", ESPGW_CMD_FLUSH },
	{ "count", NOT_OURS },
	{ "set", NOT_OURS },
	{ "setdefault", NOT_OURS },
	{ "getdefault", NOT_OURS },
	{ "help", NOT_OURS },
	{ NULL, 0 },
};

#define PK(k) (1u << (k))
#define POLICY_SEL                                                             \
	(PK(PK_SRC) | PK(PK_DST) | PK(PK_PROTO) | PK(PK_SPORT) | PK(PK_DPORT))

/* What each command takes, as ip's xfrm_policy.c reads it: delete/get
 * `SELECTOR dir DIR` or `index INDEX dir DIR`, deleteall/list
 * `[SELECTOR] [dir] [index] [action] [priority]`, flush nothing. */
static uint32_t
policy_takes(int verb, const char **what)
{
	switch (verb) {
	case ESPGW_CMD_DEL:
	case ESPGW_CMD_GET:
		*what = "src, dst, proto, sport, dport, dir, index";
		return POLICY_SEL | PK(PK_DIR) | PK(PK_INDEX);
	case ESPGW_CMD_DELETEALL:
	case ESPGW_CMD_LIST:
		*what = "src, dst, proto, sport, dport, dir, index, action, "
			"priority";
		return POLICY_SEL | PK(PK_DIR) | PK(PK_INDEX) |
		       PK(PK_PRIORITY) | PK(PK_ACTION);
	case ESPGW_CMD_FLUSH: *what = "nothing"; return 0;
	}
	*what = NULL;
	return PK(PK_NB) - 1;
}

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
proto_arg(struct lang_ctx *c, uint8_t *out)
{
	const char *v = lang_value(c, "proto");
	uint64_t n;

	if (v == NULL)
		return -1;
	for (size_t j = 0; j < sizeof(protos) / sizeof(protos[0]); j++) {
		if (strcmp(v, protos[j].name) == 0) {
			*out = protos[j].num;
			return 0;
		}
	}
	if (!lang_number(v, UINT8_MAX, &n))
		return lang_fail(c,
				 "invalid proto \"%s\" (tcp, udp, icmp, sctp, "
				 "any or a number)",
				 v);
	*out = (uint8_t)n;
	return 0;
}

static int
port16_arg(struct lang_ctx *c, const char *key, uint16_t *port, bool *has)
{
	uint64_t v;

	if (lang_num_arg(c, key, UINT16_MAX, &v) != 0)
		return -1;
	*port = (uint16_t)v;
	*has = v != 0; /* as in ip: port 0 leaves the port unmatched */
	return 0;
}

/* The policy's addresses as read, before the families are known. */
struct policy_words {
	struct espgw_ip_addr src, dst, tsrc, tdst;
	const char *src_w, *dst_w, *tsrc_w, *tdst_w;
};

static int
selector(struct lang_ctx *c, const char *w, struct espgw_ip_addr *addr,
	 uint8_t *len, const char **word)
{
	const char *v = lang_value(c, w);
	uint8_t was = c->family;
	int rc;

	if (v == NULL)
		return -1;
	*word = v;
	c->family = c->opt_family;
	rc = lang_ip_prefix(c, v, addr, len);
	c->family = was;
	if (rc == 0)
		lang_ip_mask(addr, *len); /* xfrm matches the prefix bits */
	return rc;
}

static int
tmpl_word(struct lang_ctx *c, const char *w, int k,
	  struct espgw_cfg_policy *pol, struct policy_words *pw)
{
	/* xfrm_tmpl_parse reads the template's addresses with no family
	 * preferred: theirs may differ from the selector's */
	switch (k) {
	case TK_SRC:
		pw->tsrc_w = c->i < c->n ? c->w[c->i] : NULL;
		return xfrm_ip(c, w, 0, &pw->tsrc);
	case TK_DST:
		pw->tdst_w = c->i < c->n ? c->w[c->i] : NULL;
		return xfrm_ip(c, w, 0, &pw->tdst);
	case TK_PROTO: return esp_arg(c);
	case TK_REQID: return lang_u32_arg(c, w, &pol->reqid);
	case TK_MODE: return mode_arg(c);
	}
	return lang_fail(c, "tmpl option \"%s\" is not supported", w);
}

static int
policy_word(struct lang_ctx *c, const char *w, int k,
	    struct espgw_cfg_policy *pol, struct policy_words *pw)
{
	const char *v;

	switch (k) {
	case PK_SRC: return selector(c, w, &pw->src, &pol->src_len, &pw->src_w);
	case PK_DST: return selector(c, w, &pw->dst, &pol->dst_len, &pw->dst_w);
	case PK_PROTO: return proto_arg(c, &pol->proto);
	case PK_SPORT: return port16_arg(c, w, &pol->sport, &pol->has_sport);
	case PK_DPORT: return port16_arg(c, w, &pol->dport, &pol->has_dport);
	case PK_INDEX: return lang_u32_arg(c, w, &pol->index);
	case PK_PRIORITY: return lang_u32_arg(c, w, &pol->priority);
	case PK_TMPL: pol->has_tmpl = true; return 0;
	case PK_DIR:
		v = lang_value(c, w);
		if (v == NULL)
			return -1;
		if (strcmp(v, "out") == 0)
			pol->dir = ESPGW_POL_OUT;
		else if (strcmp(v, "in") == 0)
			pol->dir = ESPGW_POL_IN;
		else if (strcmp(v, "fwd") == 0)
			pol->dir = ESPGW_POL_FWD;
		else
			return lang_fail(
				c, "invalid dir \"%s\" (out, in or fwd)", v);
		return 0;
	case PK_ACTION:
		v = lang_value(c, w);
		if (v == NULL)
			return -1;
		if (strcmp(v, "allow") == 0)
			pol->action = ESPGW_POL_ALLOW;
		else if (strcmp(v, "block") == 0)
			pol->action = ESPGW_POL_BLOCK;
		else
			return lang_fail(
				c, "invalid action \"%s\" (allow or block)", v);
		return 0;
	}
	return lang_refuse(c, w, "xfrm policy", policy_refused);
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

/* The selector's family: its addresses', else the option's, else
 * IPv4 (xfrm_policy_modify); the template's: its addresses', else the
 * selector's (the kernel's validate_tmpl). */
static int
policy_families(struct lang_ctx *c, struct espgw_cfg_policy *pol,
		const struct policy_words *pw)
{
	uint8_t f = pw->src_w != NULL	 ? pw->src.family
		    : pw->dst_w != NULL	 ? pw->dst.family
		    : c->opt_family != 0 ? c->opt_family
					 : AF_INET;
	uint8_t tf = pw->tsrc_w != NULL	  ? pw->tsrc.family
		     : pw->tdst_w != NULL ? pw->tdst.family
					  : f;

	if (same_family(c, "xfrm policy", pw->src_w, pw->src.family, pw->dst_w,
			pw->dst.family) != 0 ||
	    same_family(c, "tmpl", pw->tsrc_w, pw->tsrc.family, pw->tdst_w,
			pw->tdst.family) != 0)
		return -1;
	pol->family = f;
	c->family = f;
	if (f == AF_INET6) {
		memcpy(pol->src6, pw->src.v6, sizeof(pol->src6));
		memcpy(pol->dst6, pw->dst.v6, sizeof(pol->dst6));
	} else {
		pol->src = pw->src.v4;
		pol->dst = pw->dst.v4;
	}
	pol->tmpl_family = tf;
	if (tf == AF_INET6) {
		memcpy(pol->tmpl_src6, pw->tsrc.v6, sizeof(pol->tmpl_src6));
		memcpy(pol->tmpl_dst6, pw->tdst.v6, sizeof(pol->tmpl_dst6));
	} else {
		pol->tmpl_src = pw->tsrc.v4;
		pol->tmpl_dst = pw->tdst.v4;
	}
	return 0;
}

static int
parse_policy(struct lang_ctx *c)
{
	struct espgw_cfg_policy *pol = &c->cmd->u.policy;
	struct policy_words pw = { .src_w = NULL };
	uint32_t seen = 0, tseen = 0, takes;
	bool in_tmpl = false;
	const char *w, *what;
	char num[4];
	int verb = lang_verb(c, "xfrm policy", "add", policy_verbs);

	if (verb < 0)
		return -1;
	c->cmd->verb = verb;
	takes = policy_takes(verb, &what);
	while ((w = lang_next(c)) != NULL) {
		int k;

		/* The template owns its words up to the first one that is
		 * not a template word; then the policy's resume. */
		if (in_tmpl) {
			k = lang_keyword(c, tmpl_keys, TK_NB, w, &tseen);
			if (k == BAD)
				return -1;
			if (k != NOT_KEY || lang_in_list(tmpl_refused, w)) {
				if (tmpl_word(c, w, k, pol, &pw) != 0)
					return -1;
				continue;
			}
			in_tmpl = false;
		}
		if (strcmp(w, "tmpl") == 0 && pol->has_tmpl)
			return lang_fail(c, "only one \"tmpl\" is supported");
		k = lang_keyword(c, policy_keys, PK_NB, w, &seen);
		if (k >= 0 && !(takes & PK(k)))
			return lang_fail(c,
					 "\"%s\" is not a selector of \"xfrm "
					 "policy %s\" (%s)",
					 w, lang_verb_name(verb), what);
		if (k == BAD || policy_word(c, w, k, pol, &pw) != 0)
			return -1;
		in_tmpl = k == PK_TMPL;
	}
	c->cmd->given = seen & ~PK(PK_TMPL);
	if (policy_families(c, pol, &pw) != 0)
		return -1;
	if ((seen & (PK(PK_SPORT) | PK(PK_DPORT))) &&
	    pol->proto != IPPROTO_TCP && pol->proto != IPPROTO_UDP &&
	    pol->proto != IPPROTO_SCTP)
		return lang_fail(c,
				 "\"sport\" and \"dport\" are invalid with "
				 "proto=%s (only tcp, udp or sctp)",
				 proto_name(pol->proto, num, sizeof(num)));
	if (verb == ESPGW_CMD_DEL || verb == ESPGW_CMD_GET) {
		/* ip: "Not enough information" otherwise */
		if (!(seen & PK(PK_DIR)))
			return lang_fail(c, "missing \"dir out|in|fwd\"");
		if (!(seen & (POLICY_SEL | PK(PK_INDEX))))
			return lang_fail(c,
					 "\"xfrm policy %s\" needs a selector "
					 "(src, dst, proto, sport, dport) or "
					 "\"index\"",
					 lang_verb_name(verb));
		if ((seen & POLICY_SEL) && (seen & PK(PK_INDEX)))
			return lang_fail(c,
					 "\"xfrm policy %s\" takes a selector "
					 "or \"index\", not both",
					 lang_verb_name(verb));
	}
	if (what != NULL)
		return 0;
	if (!(seen & PK(PK_DIR)))
		return lang_fail(c, "missing \"dir out|in|fwd\"");
	if (pol->has_tmpl) {
		if (pol->action == ESPGW_POL_BLOCK)
			return lang_fail(
				c, "\"action block\" cannot have a \"tmpl\"");
		if (!(tseen & (1u << TK_PROTO)))
			return lang_fail(c, "tmpl needs \"proto esp\"");
		if (!(tseen & (1u << TK_MODE)))
			return lang_fail(
				c, "tmpl needs \"mode tunnel\" (ip's default, "
				   "transport, is not supported)");
	}
	return 0;
}

/* `xfrm monitor [all | SA | policy]`, in ip's order of its words. */
static int
parse_xfrm_monitor(struct lang_ctx *c)
{
	static const struct lang_monitor_word words[] = {
		{ "file", false, 0 },
		{ "nokeys", true, 0 },
		{ "all", true, ESPGW_MON_XFRM },
		{ "all-nsid", false, 0 },
		{ "acquire", false, 0 },
		{ "expire", false, 0 },
		{ "SA", false, ESPGW_MON_SA },
		{ "aevent", false, 0 },
		{ "policy", false, ESPGW_MON_POLICY },
		{ "report", false, 0 },
		{ "help", false, 0 },
	};

	if (c->in_file)
		return lang_fail(c, "ip xfrm monitor is not supported");
	return lang_monitor_words(c, words, RTE_DIM(words), "xfrm monitor",
				  ESPGW_MON_XFRM);
}

int
lang_parse_xfrm(struct lang_ctx *c)
{
	const char *w = lang_next(c);

	if (w == NULL)
		return lang_fail(c, "\"xfrm\" needs \"state\" or \"policy\"");
	if (lang_matches(w, "state") || lang_matches(w, "sa")) {
		c->cmd->obj = ESPGW_OBJ_STATE;
		return parse_state(c);
	}
	if (lang_matches(w, "policy")) {
		c->cmd->obj = ESPGW_OBJ_POLICY;
		return parse_policy(c);
	}
	if (lang_matches(w, "monitor"))
		return parse_xfrm_monitor(c);
	return lang_fail(c, "unknown word \"%s\"", w);
}
