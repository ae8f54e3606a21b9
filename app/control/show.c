/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Listings as iproute2 prints them (control/show.h). Each text format
 * names the iproute2 function it follows; the JSON writer lays out its
 * output as iproute2's json_writer does (-p: four spaces a level, "[ {",
 * "},{", "} ]"), so that -j and -p outputs compare byte for byte. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include <rte_common.h>

#include "control/show.h"

/* xfrm's "no limit" (XFRM_INF) and the kernel's forever lifetime */
#define INF_LIMIT UINT64_MAX
#define INF_LIFE UINT32_MAX

/* The legacy replay state (struct xfrm_replay_state) holds a 32-packet
 * bitmap; xfrm uses the ESN form for more, or for flag esn. */
#define LEGACY_WINDOW_MAX 32u

/* A JSON stream. sep is ',' once a member or element has been written
 * at the current level, 0 right after an opening or a name. */
struct jw {
	FILE *f;
	bool pretty;
	unsigned int depth;
	char sep;
};

static void
jw_sep(struct jw *j)
{
	if (j->sep)
		putc(j->sep, j->f);
	j->sep = ',';
}

static void
jw_newline(struct jw *j)
{
	if (!j->pretty)
		return;
	putc('\n', j->f);
	for (unsigned int i = 0; i < j->depth; i++)
		fputs("    ", j->f);
}

/* A string with RFC 8259's escapes. */
static void
jw_quote(struct jw *j, const char *s)
{
	putc('"', j->f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", j->f); break;
		case '\\': fputs("\\\\", j->f); break;
		case '\b': fputs("\\b", j->f); break;
		case '\f': fputs("\\f", j->f); break;
		case '\n': fputs("\\n", j->f); break;
		case '\r': fputs("\\r", j->f); break;
		case '\t': fputs("\\t", j->f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(j->f, "\\u%04x", c);
			else
				putc(c, j->f);
		}
	}
	putc('"', j->f);
}

static void
jw_key(struct jw *j, const char *key)
{
	if (key == NULL)
		return;
	jw_sep(j);
	jw_newline(j);
	jw_quote(j, key);
	putc(':', j->f);
	if (j->pretty)
		putc(' ', j->f);
	j->sep = 0;
}

/* Open an object or array, as a member (key) or an element (NULL). */
static void
jw_open(struct jw *j, const char *key, char c)
{
	jw_key(j, key);
	jw_sep(j);
	putc(c, j->f);
	if (c == '[' && j->pretty)
		putc(' ', j->f);
	j->depth++;
	j->sep = 0;
}

static void
jw_close_obj(struct jw *j)
{
	j->depth--;
	if (j->sep)
		jw_newline(j);
	putc('}', j->f);
	j->sep = ',';
}

static void
jw_close_arr(struct jw *j)
{
	if (j->pretty && j->sep)
		putc(' ', j->f);
	j->depth--;
	putc(']', j->f);
	j->sep = ',';
}

static void
jw_str(struct jw *j, const char *key, const char *v)
{
	jw_key(j, key);
	jw_sep(j);
	jw_quote(j, v);
}

static void
jw_u64(struct jw *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	jw_sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

/* The list every lister prints: one array, then a newline. */
static void
jw_begin(struct jw *j, FILE *f, const struct gw_show_opts *o)
{
	*j = (struct jw){ .f = f, .pretty = o->pretty };
	jw_open(j, NULL, '[');
}

static void
jw_end(struct jw *j)
{
	jw_close_arr(j);
	putc('\n', j->f);
}

/* "A.B.C.D/len" */
static const char *
prefix_str(uint32_t be, uint8_t len, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, size, "%s/%u", gw_ip_str(be, a), len);
	return buf;
}

/* As ll_addr_n2a prints an Ethernet address. */
static const char *
mac_str(const struct rte_ether_addr *m, char *buf)
{
	const uint8_t *b = m->addr_bytes;

	snprintf(buf, RTE_ETHER_ADDR_FMT_SIZE, "%02x:%02x:%02x:%02x:%02x:%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5]);
	return buf;
}

/* An IPv6 address as inet_ntop (and ip) writes it: RFC 5952's form. */
static const char *
ip6_str(const uint8_t *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

const char *
gw_show_ip(const struct espgw_ip_addr *a, char *buf)
{
	return a->family == AF_INET6 ? ip6_str(a->v6, buf)
				     : gw_ip_str(a->v4, buf);
}

static uint32_t
mask_of(uint8_t len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

/* ---- xfrm state ---- */

/* What xfrm would report as the SA's replay state; its bitmap words are
 * printed 0, as the library does not export the window's bits. */
struct replay {
	bool esn_form; /* XFRMA_REPLAY_ESN_VAL, not XFRMA_REPLAY_VAL */
	uint64_t seq, oseq;
	uint32_t window, bmp_len;
};

static void
replay_of(const struct espgw_sa *sa, struct replay *r)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);

	r->esn_form = p->esn || p->replay_window > LEGACY_WINDOW_MAX;
	r->window = p->replay_window;
	r->bmp_len = (p->replay_window + 31) / 32;
	/* inbound: the live top, the highest number accepted (xfrm's
	 * replay.seq, replay_esn->seq_hi and seq); the side of the SA espgw
	 * does not use keeps what was configured */
	r->seq = espgw_sa_replay_seq(sa);
	r->oseq = p->dir == ESPGW_SA_OUT ? espgw_sa_next_seq(sa) - 1 : p->oseq;
}

/* the stats xfrm keeps (struct xfrm_stats) of espgw's drop reasons */
static uint64_t
drops_xfrm_lacks(const struct espgw_sa_stats *st)
{
	uint64_t n = 0;

	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		if (d != ESPGW_DROP_BEHIND_WINDOW && d != ESPGW_DROP_REPLAYED &&
		    d != ESPGW_DROP_BAD_ICV)
			n += st->drops[d];
	return n;
}

/* strxf_limit: XFRM_INF as "(INF)" */
static void
limit_text(FILE *f, uint64_t v)
{
	if (v == 0)
		fputs("(INF)", f);
	else
		fprintf(f, "%" PRIu64, v);
}

/* strxf_time: local time, "-" for none */
static void
time_text(FILE *f, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t == 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %T", &tm) == 0)
		fputs("-", f);
	else
		fputs(buf, f);
}

/* xfrm_lifetime_print: the limits a state was given (s: NULL for none)
 * and what it carried */
static void
lifetime_text(FILE *f, const struct espgw_cfg_state *s, uint64_t bytes,
	      uint64_t packets)
{
	static const struct espgw_cfg_lifetime none;
	const struct espgw_cfg_lifetime *l = s != NULL ? &s->lft : &none;

	fputs("\tlifetime config:\n\t  limit: soft ", f);
	limit_text(f, l->soft_bytes);
	fputs("(bytes), hard ", f);
	limit_text(f, l->hard_bytes);
	fputs("(bytes)\n\t  limit: soft ", f);
	limit_text(f, l->soft_packets);
	fputs("(packets), hard ", f);
	limit_text(f, l->hard_packets);
	fprintf(f,
		"(packets)\n"
		"\t  expire add: soft %" PRIu64 "(sec), hard %" PRIu64 "(sec)\n"
		"\t  expire use: soft %" PRIu64 "(sec), hard %" PRIu64 "(sec)\n"
		"\tlifetime current:\n"
		"\t  %" PRIu64 "(bytes), %" PRIu64 "(packets)\n\t  add ",
		l->soft_add, l->hard_add, l->soft_use, l->hard_use, bytes,
		packets);
	time_text(f, s != NULL ? s->add_time : 0);
	fputs(" use ", f);
	time_text(f, s != NULL ? s->use_time : 0);
	fputs("\n", f);
}

static uint64_t
limit_json(uint64_t v)
{
	return v == 0 ? INF_LIMIT : v;
}

static void
lifetime_json(struct jw *j, const struct espgw_cfg_state *s, uint64_t bytes,
	      uint64_t packets)
{
	static const struct espgw_cfg_lifetime none;
	const struct espgw_cfg_lifetime *l = s != NULL ? &s->lft : &none;

	jw_open(j, "lifetime_config", '{');
	jw_u64(j, "soft_byte_limit", limit_json(l->soft_bytes));
	jw_u64(j, "hard_byte_limit", limit_json(l->hard_bytes));
	jw_u64(j, "soft_packet_limit", limit_json(l->soft_packets));
	jw_u64(j, "hard_packet_limit", limit_json(l->hard_packets));
	jw_u64(j, "soft_add_expires_seconds", l->soft_add);
	jw_u64(j, "hard_add_expires_seconds", l->hard_add);
	jw_u64(j, "soft_use_expires_seconds", l->soft_use);
	jw_u64(j, "hard_use_expires_seconds", l->hard_use);
	jw_close_obj(j);
	jw_open(j, "lifetime_current", '{');
	jw_u64(j, "bytes", bytes);
	jw_u64(j, "packets", packets);
	jw_u64(j, "add_time", s != NULL ? s->add_time : 0);
	jw_u64(j, "use_time", s != NULL ? s->use_time : 0);
	jw_close_obj(j);
}

/* A state's selector, which espgw's states leave empty: of the state's
 * family (xfrm_selector_print takes it for AF_UNSPEC). */
static const char *
any_sel(const struct espgw_sa_params *p)
{
	return p->dst.family == AF_INET6 ? "::/0" : "0.0.0.0/0";
}

/* xfrm_state_info_print: xfrm_id_info_print, the flags, the aead of
 * xfrm_xfrma_print (xfrm_aead_print), the replay context, the SA's
 * direction (XFRMA_SA_DIR), the selector (xfrm_selector_print; a state
 * added without one has 0.0.0.0/0 both ways), then with -s
 * xfrm_lifetime_print and xfrm_stats_print. */
static void
state_text(FILE *f, const struct gw_show_opts *o, const struct espgw_sa *sa,
	   const struct espgw_cfg_state *cs)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct espgw_sa_stats st;
	struct replay r;

	replay_of(sa, &r);
	fprintf(f, "src %s dst %s\n", gw_show_ip(&p->src, a),
		gw_show_ip(&p->dst, b));
	fprintf(f, "\tproto esp spi 0x%08x", p->spi);
	if (o->stats)
		fprintf(f, "(%u)", p->spi);
	fprintf(f, " reqid %u", p->reqid);
	if (o->stats)
		fprintf(f, "(0x%08x)", p->reqid);
	fputs(" mode tunnel\n", f);

	/* the ESN form leaves the legacy replay_window 0 */
	fprintf(f, "\treplay-window %u ", r.esn_form ? 0 : p->replay_window);
	if (o->stats)
		fputs("seq 0x00000000 ", f); /* km.seq: 0 but for acquires */
	/* ip's order (xfrm_state_info_print), the flags' bits as binary */
	if (o->stats || p->esn || p->af_unspec)
		fprintf(f, "flag %s%s%s", p->af_unspec ? "af-unspec" : "",
			p->af_unspec && p->esn ? " " : "", p->esn ? "esn" : "");
	if (o->stats)
		fprintf(f, " (0x%c0%c00000)", p->esn ? '1' : '0',
			p->af_unspec ? '1' : '0');
	fputs("\n", f);

	fputs("\taead rfc4106(gcm(aes)) ", f);
	if (!o->keys) {
		fputs("<<Keys hidden>>", f);
	} else {
		fputs("0x", f);
		for (unsigned int i = 0; i < p->key_len; i++)
			fprintf(f, "%02x", p->key[i]);
		if (o->stats)
			fprintf(f, " (%u bits)", p->key_len * 8u);
	}
	fprintf(f, " %u\n", p->icv_len * 8u);
	if (p->encap.udp)
		fprintf(f, "\tencap type espinudp sport %u dport %u addr %s\n",
			p->encap.sport, p->encap.dport,
			gw_ip_str(p->encap.oa, a));

	if (!r.esn_form) {
		fprintf(f,
			"\tanti-replay context: seq 0x%x, oseq 0x%x, bitmap "
			"0x%08x\n",
			(uint32_t)r.seq, (uint32_t)r.oseq, 0u);
	} else {
		fprintf(f,
			"\tanti-replay esn context:\n"
			"\t seq-hi 0x%x, seq 0x%x, oseq-hi 0x%x, oseq 0x%x\n"
			"\t replay_window %u, bitmap-length %u",
			(uint32_t)(r.seq >> 32), (uint32_t)r.seq,
			(uint32_t)(r.oseq >> 32), (uint32_t)r.oseq, r.window,
			r.bmp_len);
		for (uint32_t i = 0; i < r.bmp_len; i++)
			fprintf(f, "%s%08x ", i % 8 == 0 ? "\n\t " : "", 0u);
		fputs("\n", f);
	}
	fprintf(f, "\tdir %s\n", p->dir == ESPGW_SA_OUT ? "out" : "in");
	fprintf(f, "\tsel src %s dst %s %s\n", any_sel(p), any_sel(p),
		o->stats ? "uid 0" : "");
	if (!o->stats)
		return;

	espgw_sa_stats_read(sa, &st);
	lifetime_text(f, cs, st.bytes, st.packets);
	fprintf(f,
		"\tstats:\n\t  replay-window %" PRIu64 " replay %" PRIu64
		" failed %" PRIu64 "\n",
		st.drops[ESPGW_DROP_BEHIND_WINDOW],
		st.drops[ESPGW_DROP_REPLAYED], st.drops[ESPGW_DROP_BAD_ICV]);
	/* what XFRM_MSG_MAPPING reported (ESP in UDP): espgw's own line */
	if (p->encap.udp && p->dir == ESPGW_SA_IN)
		fprintf(f, "\t  mapping changes %" PRIu64 "\n", st.mappings);
	if (drops_xfrm_lacks(&st) == 0)
		return;
	fputs("\t  drops:", f);
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		if (st.drops[d])
			fprintf(f, " %s %" PRIu64, espgw_drop_name(d),
				st.drops[d]);
	fputs("\n", f);
}

static void
state_json(struct jw *j, const struct gw_show_opts *o,
	   const struct espgw_sa *sa, const struct espgw_cfg_state *cs)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	char a[INET6_ADDRSTRLEN], buf[2 * ESPGW_KEY_MAX_LEN + 3];
	struct espgw_sa_stats st;
	struct replay r;

	replay_of(sa, &r);
	jw_open(j, NULL, '{');
	jw_str(j, "src", gw_show_ip(&p->src, a));
	jw_str(j, "dst", gw_show_ip(&p->dst, a));
	jw_str(j, "proto", "esp");
	snprintf(buf, sizeof(buf), "0x%08x", p->spi);
	jw_str(j, "spi", buf);
	jw_u64(j, "reqid", p->reqid);
	jw_str(j, "mode", "tunnel");
	jw_u64(j, "replay_window", r.esn_form ? 0 : p->replay_window);
	jw_open(j, "flags", '[');
	if (p->af_unspec)
		jw_str(j, NULL, "af-unspec");
	if (p->esn)
		jw_str(j, NULL, "esn");
	jw_close_arr(j);

	jw_open(j, "aead", '{');
	jw_str(j, "name", "rfc4106(gcm(aes))");
	if (o->keys) {
		buf[0] = '0';
		buf[1] = 'x';
		for (unsigned int i = 0; i < p->key_len; i++)
			snprintf(buf + 2 + 2 * i, 3, "%02x", p->key[i]);
		jw_str(j, "key", buf);
	}
	jw_u64(j, "key_bits", p->key_len * 8u);
	jw_u64(j, "icv_bits", p->icv_len * 8u);
	jw_close_obj(j);
	if (p->encap.udp) {
		jw_open(j, "encap", '{');
		jw_str(j, "type", "espinudp");
		jw_u64(j, "sport", p->encap.sport);
		jw_u64(j, "dport", p->encap.dport);
		jw_str(j, "addr", gw_ip_str(p->encap.oa, a));
		jw_close_obj(j);
	}

	jw_open(j, r.esn_form ? "anti_replay_esn" : "anti_replay", '{');
	if (r.esn_form) {
		jw_u64(j, "seq_hi", r.seq >> 32);
		jw_u64(j, "seq", (uint32_t)r.seq);
		jw_u64(j, "oseq_hi", r.oseq >> 32);
		jw_u64(j, "oseq", (uint32_t)r.oseq);
		jw_u64(j, "replay_window", r.window);
		jw_u64(j, "bitmap_length", r.bmp_len);
		jw_open(j, "bitmap", '[');
		for (uint32_t i = 0; i < r.bmp_len; i++)
			jw_u64(j, NULL, 0);
		jw_close_arr(j);
	} else {
		jw_u64(j, "seq", (uint32_t)r.seq);
		jw_u64(j, "oseq", (uint32_t)r.oseq);
		jw_u64(j, "bitmap", 0);
	}
	jw_close_obj(j);
	jw_str(j, "dir", p->dir == ESPGW_SA_OUT ? "out" : "in");
	jw_open(j, "sel", '{');
	jw_str(j, "src", any_sel(p));
	jw_str(j, "dst", any_sel(p));
	if (o->stats)
		jw_u64(j, "uid", 0);
	jw_close_obj(j);

	if (o->stats) {
		espgw_sa_stats_read(sa, &st);
		lifetime_json(j, cs, st.bytes, st.packets);
		jw_open(j, "stats", '{');
		jw_u64(j, "replay_window", st.drops[ESPGW_DROP_BEHIND_WINDOW]);
		jw_u64(j, "replay", st.drops[ESPGW_DROP_REPLAYED]);
		jw_u64(j, "integrity_failed", st.drops[ESPGW_DROP_BAD_ICV]);
		if (p->encap.udp && p->dir == ESPGW_SA_IN)
			jw_u64(j, "mapping_changes", st.mappings);
		jw_open(j, "drops", '{');
		for (int d = 0; d < ESPGW_DROP_MAX; d++)
			jw_u64(j, espgw_drop_name(d), st.drops[d]);
		jw_close_obj(j);
		jw_close_obj(j);
	}
	jw_close_obj(j);
}

void
gw_show_states(FILE *f, const struct gw_show_opts *o,
	       const struct espgw_sa *const *sas, unsigned int n)
{
	struct jw j;

	if (!o->json) {
		for (unsigned int i = 0; i < n; i++)
			state_text(f, o, sas[i],
				   o->states != NULL ? o->states[i] : NULL);
		return;
	}
	jw_begin(&j, f, o);
	for (unsigned int i = 0; i < n; i++)
		state_json(&j, o, sas[i],
			   o->states != NULL ? o->states[i] : NULL);
	jw_end(&j);
}

/* ---- xfrm policy ---- */

static const char *const dir_names[] = {
	[ESPGW_POL_OUT] = "out",
	[ESPGW_POL_IN] = "in",
	[ESPGW_POL_FWD] = "fwd",
};

/* The kernel's policy directions (XFRM_POLICY_IN 0, OUT 1, FWD 2). */
static uint32_t
xfrm_dir(enum espgw_cfg_dir d)
{
	return d == ESPGW_POL_IN ? 0 : d == ESPGW_POL_OUT ? 1 : 2;
}

/* Names as /etc/protocols gives them (strxf_proto); the rest by number. */
static const char *
l4_name(uint8_t proto, char *buf, size_t size)
{
	switch (proto) {
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: snprintf(buf, size, "%u", proto); return buf;
	}
}

static uint32_t
policy_index(const uint32_t *index, unsigned int i,
	     const struct espgw_cfg_policy *p)
{
	return index ? index[i] : ((i + 1) << 3) | xfrm_dir(p->dir);
}

/* A selector's prefix, of its family. */
static const char *
sel_str(const struct espgw_cfg_policy *p, bool dst, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (p->family != AF_INET6)
		return dst ? prefix_str(p->dst, p->dst_len, buf, size)
			   : prefix_str(p->src, p->src_len, buf, size);
	snprintf(buf, size, "%s/%u", ip6_str(dst ? p->dst6 : p->src6, a),
		 dst ? p->dst_len : p->src_len);
	return buf;
}

/* A template's address, of the template's family. */
static const char *
tmpl_str(const struct espgw_cfg_policy *p, bool dst, char *buf)
{
	if (p->tmpl_family == AF_INET6)
		return ip6_str(dst ? p->tmpl_dst6 : p->tmpl_src6, buf);
	return gw_ip_str(dst ? p->tmpl_dst : p->tmpl_src, buf);
}

/* xfrm_policy_info_print: the selector line (xfrm_selector_print), the
 * dir line, with -s the lifetimes, then the template (xfrm_tmpl_print,
 * which prints it as xfrm_id_info_print does with the title "tmpl "). */
static void
policy_text(FILE *f, const struct gw_show_opts *o,
	    const struct espgw_cfg_policy *p, uint32_t index)
{
	char a[INET6_ADDRSTRLEN + 4], b[INET6_ADDRSTRLEN];
	bool icmp = p->proto == IPPROTO_ICMP;

	fprintf(f, "src %s ", sel_str(p, false, a, sizeof(a)));
	fprintf(f, "dst %s ", sel_str(p, true, a, sizeof(a)));
	if (p->proto)
		fprintf(f, "proto %s ", l4_name(p->proto, a, sizeof(a)));
	if (p->has_sport)
		fprintf(f, "%s %u ", icmp ? "type" : "sport", p->sport);
	if (p->has_dport)
		fprintf(f, "%s %u ", icmp ? "code" : "dport", p->dport);
	fprintf(f, "%s\n", o->stats ? "uid 0" : "");

	fprintf(f, "\tdir %s ", dir_names[p->dir]);
	if (p->action == ESPGW_POL_BLOCK)
		fputs("action block ", f);
	else if (o->stats)
		fputs("action allow ", f);
	if (o->stats)
		fprintf(f, "index %u ", index);
	fprintf(f, "priority %u ", p->priority);
	if (o->stats)
		fputs("share any flag  (0x00000000)", f);
	fputs("\n", f);
	if (o->stats)
		lifetime_text(f, NULL, 0, 0);
	if (!p->has_tmpl)
		return;

	fprintf(f, "\ttmpl src %s dst %s\n", tmpl_str(p, false, a),
		tmpl_str(p, true, b));
	if (!o->stats) {
		fprintf(f, "\t\tproto esp reqid %u mode tunnel\n", p->reqid);
		return;
	}
	fprintf(f,
		"\t\tproto esp spi 0x00000000(0) reqid %u(0x%08x) mode "
		"tunnel\n"
		"\t\tlevel required share any \n"
		"\t\tenc-mask ffffffff auth-mask ffffffff comp-mask ffffffff\n",
		p->reqid, p->reqid);
}

static void
policy_json(struct jw *j, const struct gw_show_opts *o,
	    const struct espgw_cfg_policy *p, uint32_t index)
{
	char a[INET6_ADDRSTRLEN + 4];
	bool icmp = p->proto == IPPROTO_ICMP;

	jw_open(j, NULL, '{');
	jw_str(j, "src", sel_str(p, false, a, sizeof(a)));
	jw_str(j, "dst", sel_str(p, true, a, sizeof(a)));
	if (p->proto)
		jw_str(j, "proto", l4_name(p->proto, a, sizeof(a)));
	if (p->has_sport)
		jw_u64(j, icmp ? "type" : "sport", p->sport);
	if (p->has_dport)
		jw_u64(j, icmp ? "code" : "dport", p->dport);
	if (o->stats)
		jw_u64(j, "uid", 0);
	jw_str(j, "dir", dir_names[p->dir]);
	if (p->action == ESPGW_POL_BLOCK || o->stats)
		jw_str(j, "action",
		       p->action == ESPGW_POL_BLOCK ? "block" : "allow");
	if (o->stats)
		jw_u64(j, "index", index);
	jw_u64(j, "priority", p->priority);
	if (o->stats) {
		jw_str(j, "share", "any");
		jw_open(j, "flags", '[');
		jw_close_arr(j);
		lifetime_json(j, NULL, 0, 0);
	}
	if (p->has_tmpl) {
		jw_open(j, "tmpl", '[');
		jw_open(j, NULL, '{');
		jw_str(j, "src", tmpl_str(p, false, a));
		jw_str(j, "dst", tmpl_str(p, true, a));
		jw_str(j, "proto", "esp");
		if (o->stats)
			jw_str(j, "spi", "0x00000000");
		jw_u64(j, "reqid", p->reqid);
		jw_str(j, "mode", "tunnel");
		if (o->stats) {
			jw_str(j, "level", "required");
			jw_str(j, "share", "any");
			jw_str(j, "enc-mask", "ffffffff");
			jw_str(j, "auth-mask", "ffffffff");
			jw_str(j, "comp-mask", "ffffffff");
		}
		jw_close_obj(j);
		jw_close_arr(j);
	}
	jw_close_obj(j);
}

void
gw_show_policies(FILE *f, const struct gw_show_opts *o,
		 const struct espgw_cfg_policy *const *p, const uint32_t *index,
		 unsigned int n)
{
	struct jw j;

	if (!o->json) {
		for (unsigned int i = 0; i < n; i++)
			policy_text(f, o, p[i], policy_index(index, i, p[i]));
		return;
	}
	jw_begin(&j, f, o);
	for (unsigned int i = 0; i < n; i++)
		policy_json(&j, o, p[i], policy_index(index, i, p[i]));
	jw_end(&j);
}

/* ---- route ---- */

/* A route of the main table as the kernel holds it. */
struct rt {
	uint32_t prefix; /* network order */
	uint8_t len;
	bool kernel; /* connected: proto kernel */
	uint32_t via, src;
	const char *dev;
};

/* The FIB's dump order: by prefix, and of one prefix the longest first. */
static int
rt_cmp(const void *x, const void *y)
{
	const struct rt *a = x, *b = y;
	uint32_t pa = ntohl(a->prefix), pb = ntohl(b->prefix);

	if (pa != pb)
		return pa < pb ? -1 : 1;
	return (int)b->len - (int)a->len;
}

static bool
rt_has(const struct rt *rt, unsigned int n, uint32_t prefix, uint8_t len,
       const char *dev)
{
	for (unsigned int i = 0; i < n; i++)
		if (rt[i].kernel && rt[i].prefix == prefix &&
		    rt[i].len == len && strcmp(rt[i].dev, dev) == 0)
			return true;
	return false;
}

/* print_route: dst ("default", a host without /32), via, dev, proto
 * unless boot (what `ip route add` sets), scope unless universe (link
 * for a route without a gateway), src. Text ends every word with a
 * space, as iproute2 does. */
static void
route_text(FILE *f, const struct rt *r)
{
	char a[32];

	if (r->len == 0)
		fputs("default ", f);
	else if (r->len == 32)
		fprintf(f, "%s ", gw_ip_str(r->prefix, a));
	else
		fprintf(f, "%s ", prefix_str(r->prefix, r->len, a, sizeof(a)));
	if (r->via)
		fprintf(f, "via %s ", gw_ip_str(r->via, a));
	fprintf(f, "dev %s ", r->dev);
	if (r->kernel)
		fputs("proto kernel ", f);
	if (!r->via)
		fputs("scope link ", f);
	if (r->src)
		fprintf(f, "src %s ", gw_ip_str(r->src, a));
	fputs("\n", f);
}

static void
route_json(struct jw *j, const struct rt *r)
{
	char a[32];

	jw_open(j, NULL, '{');
	if (r->len == 0)
		jw_str(j, "dst", "default");
	else if (r->len == 32)
		jw_str(j, "dst", gw_ip_str(r->prefix, a));
	else
		jw_str(j, "dst", prefix_str(r->prefix, r->len, a, sizeof(a)));
	if (r->via)
		jw_str(j, "gateway", gw_ip_str(r->via, a));
	jw_str(j, "dev", r->dev);
	if (r->kernel)
		jw_str(j, "protocol", "kernel");
	if (!r->via)
		jw_str(j, "scope", "link");
	if (r->src)
		jw_str(j, "prefsrc", gw_ip_str(r->src, a));
	jw_open(j, "flags", '[');
	jw_close_arr(j);
	jw_close_obj(j);
}

int
gw_show_routes(FILE *f, const struct gw_show_opts *o,
	       const struct espgw_cfg_route *const *r, unsigned int nr,
	       const struct espgw_cfg_addr *const *a, unsigned int na)
{
	struct rt *rt = malloc(sizeof(*rt) * (nr + na + 1));
	unsigned int n = 0;
	struct jw j;

	if (rt == NULL)
		return -1;
	/* fib_add_ifaddr: a prefix route for an address below /32, one
	 * for the first address of a prefix on a port */
	for (unsigned int i = 0; i < na; i++) {
		uint32_t prefix = a[i]->addr & mask_of(a[i]->len);

		if (a[i]->len >= 32 ||
		    rt_has(rt, n, prefix, a[i]->len, a[i]->port))
			continue;
		rt[n++] = (struct rt){ .prefix = prefix,
				       .len = a[i]->len,
				       .kernel = true,
				       .src = a[i]->addr,
				       .dev = a[i]->port };
	}
	for (unsigned int i = 0; i < nr; i++)
		rt[n++] = (struct rt){ .prefix = r[i]->prefix,
				       .len = r[i]->len,
				       .via = r[i]->via,
				       .src = r[i]->src,
				       .dev = r[i]->port };
	qsort(rt, n, sizeof(*rt), rt_cmp);

	if (!o->json) {
		for (unsigned int i = 0; i < n; i++)
			route_text(f, &rt[i]);
	} else {
		jw_begin(&j, f, o);
		for (unsigned int i = 0; i < n; i++)
			route_json(&j, &rt[i]);
		jw_end(&j);
	}
	free(rt);
	return 0;
}

/* ---- IPv6 route ---- */

/* An IPv6 route as the kernel holds it: what ip6_route_add sets for
 * `ip -6 route add` (metric IP6_RT_PRIO_USER, 1024; preference
 * medium), and for an address's prefix route (addrconf_prefix_route:
 * metric IP6_RT_PRIO_ADDRCONF, 256, proto kernel). */
struct rt6 {
	uint8_t prefix[16], via[16], src[16];
	uint8_t len;
	bool kernel;
	const char *dev;
};

static const uint8_t any6[16];

static unsigned int
bit_of(const uint8_t *a, unsigned int bit)
{
	return a[bit / 8] >> (7 - bit % 8) & 1;
}

/* fib6's dump order (fib6_walk: a node's children, the 0 branch
 * first, before its own routes): a prefix after those inside it, the
 * connected route (metric 256) before a user's (1024). */
static int
rt6_cmp(const void *x, const void *y)
{
	const struct rt6 *a = x, *b = y;
	unsigned int n = RTE_MIN(a->len, b->len);

	for (unsigned int bit = 0; bit < n; bit++)
		if (bit_of(a->prefix, bit) != bit_of(b->prefix, bit))
			return (int)bit_of(a->prefix, bit) -
			       (int)bit_of(b->prefix, bit);
	if (a->len != b->len)
		return (int)b->len - (int)a->len;
	return (int)b->kernel - (int)a->kernel;
}

/* print_route for AF_INET6: no scope (IPv6 routes are universe), then
 * metric and pref, the last word without a space after it. */
static void
route6_text(FILE *f, const struct rt6 *r)
{
	char a[INET6_ADDRSTRLEN];

	if (r->len == 0)
		fputs("default ", f);
	else if (r->len == 128)
		fprintf(f, "%s ", ip6_str(r->prefix, a));
	else
		fprintf(f, "%s/%u ", ip6_str(r->prefix, a), r->len);
	if (memcmp(r->via, any6, 16) != 0)
		fprintf(f, "via %s ", ip6_str(r->via, a));
	fprintf(f, "dev %s ", r->dev);
	if (r->kernel)
		fputs("proto kernel ", f);
	if (memcmp(r->src, any6, 16) != 0)
		fprintf(f, "src %s ", ip6_str(r->src, a));
	fprintf(f, "metric %u pref medium\n", r->kernel ? 256 : 1024);
}

static void
route6_json(struct jw *j, const struct rt6 *r)
{
	char a[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN + 4];

	jw_open(j, NULL, '{');
	if (r->len == 0) {
		jw_str(j, "dst", "default");
	} else if (r->len == 128) {
		jw_str(j, "dst", ip6_str(r->prefix, a));
	} else {
		snprintf(p, sizeof(p), "%s/%u", ip6_str(r->prefix, a), r->len);
		jw_str(j, "dst", p);
	}
	if (memcmp(r->via, any6, 16) != 0)
		jw_str(j, "gateway", ip6_str(r->via, a));
	jw_str(j, "dev", r->dev);
	if (r->kernel)
		jw_str(j, "protocol", "kernel");
	if (memcmp(r->src, any6, 16) != 0)
		jw_str(j, "prefsrc", ip6_str(r->src, a));
	jw_u64(j, "metric", r->kernel ? 256 : 1024);
	jw_open(j, "flags", '[');
	jw_close_arr(j);
	jw_str(j, "pref", "medium");
	jw_close_obj(j);
}

static void
prefix6(uint8_t *out, const uint8_t *in, uint8_t len)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = len > 8 * i ? len - 8 * i : 0;

		out[i] = bits >= 8 ? in[i] : in[i] & (uint8_t)(0xff00u >> bits);
	}
}

int
gw_show_routes6(FILE *f, const struct gw_show_opts *o,
		const struct espgw_cfg_route6 *const *r, unsigned int nr,
		const struct espgw_cfg_addr6 *const *a, unsigned int na)
{
	struct rt6 *rt = calloc(nr + na + 1, sizeof(*rt));
	unsigned int n = 0;
	struct jw j;

	if (rt == NULL)
		return -1;
	for (unsigned int i = 0; i < na; i++) {
		struct rt6 k = { .len = a[i]->len,
				 .kernel = true,
				 .dev = a[i]->port };
		bool dup = false;

		if (a[i]->len >= 128)
			continue;
		prefix6(k.prefix, a[i]->addr, a[i]->len);
		for (unsigned int m = 0; m < n && !dup; m++)
			dup = rt[m].len == k.len &&
			      memcmp(rt[m].prefix, k.prefix, 16) == 0 &&
			      strcmp(rt[m].dev, k.dev) == 0;
		if (!dup)
			rt[n++] = k;
	}
	for (unsigned int i = 0; i < nr; i++) {
		struct rt6 *e = &rt[n++];

		memcpy(e->prefix, r[i]->prefix, 16);
		memcpy(e->via, r[i]->via, 16);
		memcpy(e->src, r[i]->src, 16);
		e->len = r[i]->len;
		e->dev = r[i]->port;
	}
	qsort(rt, n, sizeof(*rt), rt6_cmp);

	if (!o->json) {
		for (unsigned int i = 0; i < n; i++)
			route6_text(f, &rt[i]);
	} else {
		jw_begin(&j, f, o);
		for (unsigned int i = 0; i < n; i++)
			route6_json(&j, &rt[i]);
		jw_end(&j);
	}
	free(rt);
	return 0;
}

/* ---- neigh ---- */

/* print_neigh: dst, dev, lladdr, the NUD state. */
static void
neigh_text(FILE *f, const char *dst, const char *dev,
	   const struct rte_ether_addr *mac)
{
	char m[RTE_ETHER_ADDR_FMT_SIZE];

	fprintf(f, "%s dev %s lladdr %s PERMANENT \n", dst, dev,
		mac_str(mac, m));
}

static void
neigh_json(struct jw *j, const char *dst, const char *dev,
	   const struct rte_ether_addr *mac)
{
	char m[RTE_ETHER_ADDR_FMT_SIZE];

	jw_open(j, NULL, '{');
	jw_str(j, "dst", dst);
	jw_str(j, "dev", dev);
	jw_str(j, "lladdr", mac_str(mac, m));
	jw_open(j, "state", '[');
	jw_str(j, NULL, "PERMANENT");
	jw_close_arr(j);
	jw_close_obj(j);
}

/* The ARP table's entries, then the neighbour discovery table's, as
 * neigh_dump_info walks neigh_tables[]. */
void
gw_show_neighs(FILE *f, const struct gw_show_opts *o,
	       const struct espgw_cfg_neigh *const *ne, unsigned int n,
	       const struct espgw_cfg_neigh6 *const *ne6, unsigned int n6)
{
	char a[INET6_ADDRSTRLEN];
	struct jw j;

	if (o->json)
		jw_begin(&j, f, o);
	for (unsigned int i = 0; i < n; i++) {
		gw_ip_str(ne[i]->addr, a);
		if (o->json)
			neigh_json(&j, a, ne[i]->port, &ne[i]->mac);
		else
			neigh_text(f, a, ne[i]->port, &ne[i]->mac);
	}
	for (unsigned int i = 0; i < n6; i++) {
		ip6_str(ne6[i]->addr, a);
		if (o->json)
			neigh_json(&j, a, ne6[i]->port, &ne6[i]->mac);
		else
			neigh_text(f, a, ne6[i]->port, &ne6[i]->mac);
	}
	if (o->json)
		jw_end(&j);
}

/* ---- link and addr ---- */

/* print_linkinfo up to the link/ether line: index, name, flags
 * (print_link_flags), mtu, state (print_operstate), with do_link the
 * mode, then the group. espgw neither joins multicast groups nor has a
 * qdisc or a txqueuelen: MULTICAST, qdisc and qlen are left out. */
static void
link_head(FILE *f, struct jw *j, const struct gw_iface *ifc, bool carrier,
	  bool do_link)
{
	/* a port not set up is down, as a link that was never set up */
	if (!ifc->used)
		carrier = false;
	if (j == NULL) {
		fprintf(f, "%u: %s: <%s> mtu %u state %s %sgroup default ",
			ifc->port, ifc->name,
			!ifc->used ? "BROADCAST"
			: carrier  ? "BROADCAST,UP,LOWER_UP"
				   : "NO-CARRIER,BROADCAST,UP",
			ifc->mtu, carrier ? "UP" : "DOWN",
			do_link ? "mode DEFAULT " : "");
		return;
	}
	jw_u64(j, "ifindex", ifc->port);
	jw_str(j, "ifname", ifc->name);
	jw_open(j, "flags", '[');
	if (ifc->used && !carrier)
		jw_str(j, NULL, "NO-CARRIER");
	jw_str(j, NULL, "BROADCAST");
	if (ifc->used)
		jw_str(j, NULL, "UP");
	if (carrier)
		jw_str(j, NULL, "LOWER_UP");
	jw_close_arr(j);
	jw_u64(j, "mtu", ifc->mtu);
	jw_str(j, "operstate", carrier ? "UP" : "DOWN");
	if (do_link)
		jw_str(j, "linkmode", "DEFAULT");
	jw_str(j, "group", "default");
}

void
gw_show_links(FILE *f, const struct gw_show_opts *o, const struct gw_iface *ifs,
	      const bool *carrier, unsigned int nifs)
{
	char m[RTE_ETHER_ADDR_FMT_SIZE];
	struct jw j;

	if (o->json)
		jw_begin(&j, f, o);
	for (unsigned int i = 0; i < nifs; i++) {
		bool up = carrier == NULL || carrier[i];

		if (ifs[i].name[0] == '\0')
			continue;
		if (!o->json) {
			link_head(f, NULL, &ifs[i], up, true);
			fprintf(f,
				"\n    link/ether %s brd ff:ff:ff:ff:ff:ff\n",
				mac_str(&ifs[i].mac, m));
			continue;
		}
		jw_open(&j, NULL, '{');
		link_head(f, &j, &ifs[i], up, true);
		jw_str(&j, "link_type", "ether");
		jw_str(&j, "address", mac_str(&ifs[i].mac, m));
		jw_str(&j, "broadcast", "ff:ff:ff:ff:ff:ff");
		jw_close_obj(&j);
	}
	if (o->json)
		jw_end(&j);
}

/* print_addrinfo of a static IPv4 address: family, local/prefixlen,
 * scope, label (the port), lifetimes. No broadcast: `ip addr add`
 * without brd sets none. */
static void
addr_text(FILE *f, const struct espgw_cfg_addr *a, const char *label)
{
	char s[INET_ADDRSTRLEN];

	fprintf(f,
		"    inet %s/%u scope global %s\n"
		"       valid_lft forever preferred_lft forever\n",
		gw_ip_str(a->addr, s), a->len, label);
}

static void
addr_json(struct jw *j, const struct espgw_cfg_addr *a, const char *label)
{
	char s[INET_ADDRSTRLEN];

	jw_open(j, NULL, '{');
	jw_str(j, "family", "inet");
	jw_str(j, "local", gw_ip_str(a->addr, s));
	jw_u64(j, "prefixlen", a->len);
	jw_str(j, "scope", "global");
	jw_str(j, "label", label);
	jw_u64(j, "valid_life_time", INF_LIFE);
	jw_u64(j, "preferred_life_time", INF_LIFE);
	jw_close_obj(j);
}

/* ipv6_addr_scope: link-local is scope link, loopback host. */
static const char *
scope6(const uint8_t *a)
{
	static const uint8_t loop[16] = { [15] = 1 };

	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link";
	return memcmp(a, loop, 16) == 0 ? "host" : "global";
}

/* print_addrinfo of a static IPv6 address: no label (IFA_LABEL is
 * IPv4's), so the scope ends the line; permanent, so no "dynamic". */
static void
addr6_text(FILE *f, const struct espgw_cfg_addr6 *a)
{
	char s[INET6_ADDRSTRLEN];

	fprintf(f,
		"    inet6 %s/%u scope %s \n"
		"       valid_lft forever preferred_lft forever\n",
		ip6_str(a->addr, s), a->len, scope6(a->addr));
}

static void
addr6_json(struct jw *j, const struct espgw_cfg_addr6 *a)
{
	char s[INET6_ADDRSTRLEN];

	jw_open(j, NULL, '{');
	jw_str(j, "family", "inet6");
	jw_str(j, "local", ip6_str(a->addr, s));
	jw_u64(j, "prefixlen", a->len);
	jw_str(j, "scope", scope6(a->addr));
	jw_u64(j, "valid_life_time", INF_LIFE);
	jw_u64(j, "preferred_life_time", INF_LIFE);
	jw_close_obj(j);
}

void
gw_show_addrs(FILE *f, const struct gw_show_opts *o, const struct gw_iface *ifs,
	      const bool *carrier, unsigned int nifs,
	      const struct espgw_cfg_addr *const *a, unsigned int n,
	      const struct espgw_cfg_addr6 *const *a6, unsigned int n6)
{
	struct jw j;

	if (o->json)
		jw_begin(&j, f, o);
	for (unsigned int i = 0; i < nifs; i++) {
		const struct gw_iface *ifc = &ifs[i];
		bool up = carrier == NULL || carrier[i];
		bool any = false;

		if (!ifc->used)
			continue;
		/* ipaddr_filter: a link without an address of the family
		 * asked for is not listed */
		for (unsigned int k = 0; k < n && !any; k++)
			any = strcmp(a[k]->port, ifc->name) == 0;
		for (unsigned int k = 0; k < n6 && !any; k++)
			any = strcmp(a6[k]->port, ifc->name) == 0;
		if (!any)
			continue;
		/* the kernel dumps AF_INET's addresses before AF_INET6's */
		if (!o->json) {
			link_head(f, NULL, ifc, up, false);
			fputs("\n", f);
			for (unsigned int k = 0; k < n; k++)
				if (strcmp(a[k]->port, ifc->name) == 0)
					addr_text(f, a[k], ifc->name);
			for (unsigned int k = 0; k < n6; k++)
				if (strcmp(a6[k]->port, ifc->name) == 0)
					addr6_text(f, a6[k]);
			continue;
		}
		jw_open(&j, NULL, '{');
		link_head(f, &j, ifc, up, false);
		jw_open(&j, "addr_info", '[');
		for (unsigned int k = 0; k < n; k++)
			if (strcmp(a[k]->port, ifc->name) == 0)
				addr_json(&j, a[k], ifc->name);
		for (unsigned int k = 0; k < n6; k++)
			if (strcmp(a6[k]->port, ifc->name) == 0)
				addr6_json(&j, a6[k]);
		jw_close_arr(&j);
		jw_close_obj(&j);
	}
	if (o->json)
		jw_end(&j);
}
