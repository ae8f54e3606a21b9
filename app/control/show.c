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

/* ---- xfrm state ---- */

/* What xfrm would report as the SA's replay state. */
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
	/* the side of the SA espgw does not use keeps what was configured */
	r->seq = p->iseq;
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

/* xfrm_lifetime_print, for the limits `ip xfrm ... add` sets (none) */
static void
lifetime_text(FILE *f, uint64_t bytes, uint64_t packets)
{
	fputs("\tlifetime config:\n"
	      "\t  limit: soft (INF)(bytes), hard (INF)(bytes)\n"
	      "\t  limit: soft (INF)(packets), hard (INF)(packets)\n"
	      "\t  expire add: soft 0(sec), hard 0(sec)\n"
	      "\t  expire use: soft 0(sec), hard 0(sec)\n"
	      "\tlifetime current:\n",
	      f);
	fprintf(f, "\t  %" PRIu64 "(bytes), %" PRIu64 "(packets)\n", bytes,
		packets);
	fputs("\t  add - use -\n", f);
}

static void
lifetime_json(struct jw *j, uint64_t bytes, uint64_t packets)
{
	jw_open(j, "lifetime_config", '{');
	jw_u64(j, "soft_byte_limit", INF_LIMIT);
	jw_u64(j, "hard_byte_limit", INF_LIMIT);
	jw_u64(j, "soft_packet_limit", INF_LIMIT);
	jw_u64(j, "hard_packet_limit", INF_LIMIT);
	jw_u64(j, "soft_add_expires_seconds", 0);
	jw_u64(j, "hard_add_expires_seconds", 0);
	jw_u64(j, "soft_use_expires_seconds", 0);
	jw_u64(j, "hard_use_expires_seconds", 0);
	jw_close_obj(j);
	jw_open(j, "lifetime_current", '{');
	jw_u64(j, "bytes", bytes);
	jw_u64(j, "packets", packets);
	jw_u64(j, "add_time", 0);
	jw_u64(j, "use_time", 0);
	jw_close_obj(j);
}

/* xfrm_state_info_print: xfrm_id_info_print, the flags, the aead of
 * xfrm_xfrma_print (xfrm_aead_print), the replay context, the SA's
 * direction (XFRMA_SA_DIR), the selector (xfrm_selector_print; a state
 * added without one has 0.0.0.0/0 both ways), then with -s
 * xfrm_lifetime_print and xfrm_stats_print. */
static void
state_text(FILE *f, const struct gw_show_opts *o, const struct espgw_sa *sa)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct espgw_sa_stats st;
	struct replay r;

	replay_of(sa, &r);
	fprintf(f, "src %s dst %s\n", gw_ip_str(p->src.v4, a),
		gw_ip_str(p->dst.v4, b));
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
	if (o->stats || p->esn)
		fputs(p->esn ? "flag esn" : "flag ", f);
	if (o->stats)
		fprintf(f, " (0x%s)", p->esn ? "10000000" : "00000000");
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
	fprintf(f, "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 %s\n",
		o->stats ? "uid 0" : "");
	if (!o->stats)
		return;

	espgw_sa_stats_read(sa, &st);
	lifetime_text(f, st.bytes, st.packets);
	fprintf(f,
		"\tstats:\n\t  replay-window %" PRIu64 " replay %" PRIu64
		" failed %" PRIu64 "\n",
		st.drops[ESPGW_DROP_BEHIND_WINDOW],
		st.drops[ESPGW_DROP_REPLAYED], st.drops[ESPGW_DROP_BAD_ICV]);
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
	   const struct espgw_sa *sa)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	char a[INET_ADDRSTRLEN], buf[2 * ESPGW_KEY_MAX_LEN + 3];
	struct espgw_sa_stats st;
	struct replay r;

	replay_of(sa, &r);
	jw_open(j, NULL, '{');
	jw_str(j, "src", gw_ip_str(p->src.v4, a));
	jw_str(j, "dst", gw_ip_str(p->dst.v4, a));
	jw_str(j, "proto", "esp");
	snprintf(buf, sizeof(buf), "0x%08x", p->spi);
	jw_str(j, "spi", buf);
	jw_u64(j, "reqid", p->reqid);
	jw_str(j, "mode", "tunnel");
	jw_u64(j, "replay_window", r.esn_form ? 0 : p->replay_window);
	jw_open(j, "flags", '[');
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
	jw_str(j, "src", "0.0.0.0/0");
	jw_str(j, "dst", "0.0.0.0/0");
	if (o->stats)
		jw_u64(j, "uid", 0);
	jw_close_obj(j);

	if (o->stats) {
		espgw_sa_stats_read(sa, &st);
		lifetime_json(j, st.bytes, st.packets);
		jw_open(j, "stats", '{');
		jw_u64(j, "replay_window", st.drops[ESPGW_DROP_BEHIND_WINDOW]);
		jw_u64(j, "replay", st.drops[ESPGW_DROP_REPLAYED]);
		jw_u64(j, "integrity_failed", st.drops[ESPGW_DROP_BAD_ICV]);
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
			state_text(f, o, sas[i]);
		return;
	}
	jw_begin(&j, f, o);
	for (unsigned int i = 0; i < n; i++)
		state_json(&j, o, sas[i]);
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

/* xfrm_policy_info_print: the selector line (xfrm_selector_print), the
 * dir line, with -s the lifetimes, then the template (xfrm_tmpl_print,
 * which prints it as xfrm_id_info_print does with the title "tmpl "). */
static void
policy_text(FILE *f, const struct gw_show_opts *o,
	    const struct espgw_cfg_policy *p, uint32_t index)
{
	char a[32], b[32];
	bool icmp = p->proto == IPPROTO_ICMP;

	fprintf(f, "src %s ", prefix_str(p->src, p->src_len, a, sizeof(a)));
	fprintf(f, "dst %s ", prefix_str(p->dst, p->dst_len, a, sizeof(a)));
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
		lifetime_text(f, 0, 0);
	if (!p->has_tmpl)
		return;

	fprintf(f, "\ttmpl src %s dst %s\n", gw_ip_str(p->tmpl_src, a),
		gw_ip_str(p->tmpl_dst, b));
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
	char a[32];
	bool icmp = p->proto == IPPROTO_ICMP;

	jw_open(j, NULL, '{');
	jw_str(j, "src", prefix_str(p->src, p->src_len, a, sizeof(a)));
	jw_str(j, "dst", prefix_str(p->dst, p->dst_len, a, sizeof(a)));
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
		lifetime_json(j, 0, 0);
	}
	if (p->has_tmpl) {
		jw_open(j, "tmpl", '[');
		jw_open(j, NULL, '{');
		jw_str(j, "src", gw_ip_str(p->tmpl_src, a));
		jw_str(j, "dst", gw_ip_str(p->tmpl_dst, a));
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
