/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Listings (control/show.c) against what iproute2 prints. Every
 * expected string was written from iproute2's print functions (named
 * over each test), not from espgw's output: a word, a space or a tab
 * out of place fails. JSON is checked byte for byte and also parsed by
 * Python's json module. */

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "control/show.h"
#include "lang/config.h"

static struct espgw_worker *W, *W1;
static struct espgw_sad *SAD;

/* t_sa_params's keys: byte i of seed s is s * 31 + i * 7 + 1 */
#define KEY_A "0x01080f161d242b323940474e555c636a71787f86"

/* Collect what a lister prints. */
#define SHOW(buf, call)                                                        \
	do {                                                                   \
		size_t len_;                                                   \
		FILE *f = open_memstream(&(buf), &len_);                       \
		assert_non_null(f);                                            \
		call;                                                          \
		assert_int_equal(fclose(f), 0);                                \
	} while (0)

static void
expect(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	free(got);
}

/* Does Python's json module take s as one JSON document? */
static bool
json_ok(const char *s)
{
	FILE *p = popen("/usr/bin/python3 -c 'import json,sys; "
			"json.load(sys.stdin)' 2>/dev/null",
			"w");

	assert_non_null(p);
	fputs(s, p);
	return pclose(p) == 0;
}

static void
parse(struct espgw_cfg *cfg, const char *const *lines)
{
	char err[256];

	espgw_cfg_init(cfg, "test");
	for (int i = 0; lines[i] != NULL; i++)
		if (espgw_cfg_parse_line(cfg, lines[i], i + 1, err,
					 sizeof(err)) != 0)
			fail_msg("%s", err);
}

static const struct gw_show_opts PLAIN = { 0 };
static const struct gw_show_opts STATS = { .stats = true };
static const struct gw_show_opts KEYS = { .keys = true };
static const struct gw_show_opts STATS_KEYS = { .stats = true, .keys = true };
static const struct gw_show_opts JSON = { .json = true };
static const struct gw_show_opts PRETTY = { .json = true, .pretty = true };

/* An outbound SA that has sent one 92-byte packet after replay-oseq 4,
 * and an inbound ESN SA with a 64-packet window (XFRMA_REPLAY_ESN_VAL,
 * two bitmap words) whose replay-seq-hi is 1 and replay-seq 5. */
static struct espgw_sa *
sa_out(void)
{
	struct espgw_sa_params p;
	struct espgw_sa *sa;
	struct rte_mbuf *m;

	t_sa_params(&p, ESPGW_SA_OUT, 0x100, 20, 16, false, 32, 0);
	p.af_unspec = false;
	p.reqid = 1;
	p.oseq = 4;
	sa = t_sa(&p);
	m = t_inner(4, 64, 0, false, 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 92);
	assert_int_equal(espgw_esp_outbound(W, sa, &m, 1), 1);
	t_free(&m, 1);
	return sa;
}

static struct espgw_sa *
sa_in_esn(void)
{
	struct espgw_sa_params p;

	t_sa_params(&p, ESPGW_SA_IN, 0x200, 36, 16, true, 64, 1);
	p.af_unspec = false;
	inet_pton(AF_INET, "198.51.100.1", &p.src.v4);
	inet_pton(AF_INET, "192.0.2.1", &p.dst.v4);
	p.reqid = 2;
	p.af_unspec = true; /* printed in ip's order: af-unspec esn */
	p.iseq = (UINT64_C(1) << 32) | 5;
	return t_sa(&p);
}

/* xfrm_state_info_print without -s: xfrm_id_info_print (spi forced for
 * esp), "replay-window N " and the flags only when set, the aead of
 * __xfrm_algo_print + xfrm_aead_print (key, ICV bits), XFRMA_REPLAY_VAL
 * or XFRMA_REPLAY_ESN_VAL, XFRMA_SA_DIR, then the selector. */
static void
test_states_plain(void **state)
{
	const struct espgw_sa *sas[2];
	char *out;

	(void)state;
	sas[0] = sa_out();
	sas[1] = sa_in_esn();
	SHOW(out, gw_show_states(f, &KEYS, sas, 1));
	expect(out, "src 192.0.2.1 dst 198.51.100.1\n"
		    "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
		    "\treplay-window 32 \n"
		    "\taead rfc4106(gcm(aes)) " KEY_A " 128\n"
		    "\tanti-replay context: seq 0x0, oseq 0x5, bitmap "
		    "0x00000000\n"
		    "\tdir out\n"
		    "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n");

	/* `ip xfrm state list nokeys`; the ESN form has the legacy
	 * replay-window 0 (the kernel refuses both) */
	SHOW(out, gw_show_states(f, &PLAIN, sas, 2));
	expect(out, "src 192.0.2.1 dst 198.51.100.1\n"
		    "\tproto esp spi 0x00000100 reqid 1 mode tunnel\n"
		    "\treplay-window 32 \n"
		    "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n"
		    "\tanti-replay context: seq 0x0, oseq 0x5, bitmap "
		    "0x00000000\n"
		    "\tdir out\n"
		    "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n"
		    "src 198.51.100.1 dst 192.0.2.1\n"
		    "\tproto esp spi 0x00000200 reqid 2 mode tunnel\n"
		    "\treplay-window 0 flag af-unspec esn\n"
		    "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n"
		    "\tanti-replay esn context:\n"
		    "\t seq-hi 0x1, seq 0x5, oseq-hi 0x0, oseq 0x0\n"
		    "\t replay_window 64, bitmap-length 2\n"
		    "\t 00000000 00000000 \n"
		    "\tdir in\n"
		    "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n");
	espgw_sa_free((struct espgw_sa *)sas[0]);
	espgw_sa_free((struct espgw_sa *)sas[1]);
}

#define LIFETIME_CONFIG                                                        \
	"\tlifetime config:\n"                                                 \
	"\t  limit: soft (INF)(bytes), hard (INF)(bytes)\n"                    \
	"\t  limit: soft (INF)(packets), hard (INF)(packets)\n"                \
	"\t  expire add: soft 0(sec), hard 0(sec)\n"                           \
	"\t  expire use: soft 0(sec), hard 0(sec)\n"

/* With -s: spi and reqid in both bases, "seq 0x%08u", "flag " and the
 * flags as bits, the key's length in bits, "uid 0" on the selector,
 * then xfrm_lifetime_print (limits XFRM_INF: "(INF)"; times 0: "-") and
 * xfrm_stats_print. */
static void
test_states_stats(void **state)
{
	const struct espgw_sa *sas[2];
	char *out;

	(void)state;
	sas[0] = sa_out();
	sas[1] = sa_in_esn();
	SHOW(out, gw_show_states(f, &STATS_KEYS, sas, 1));
	expect(out, "src 192.0.2.1 dst 198.51.100.1\n"
		    "\tproto esp spi 0x00000100(256) reqid 1(0x00000001) "
		    "mode tunnel\n"
		    "\treplay-window 32 seq 0x00000000 flag  (0x00000000)\n"
		    "\taead rfc4106(gcm(aes)) " KEY_A " (160 bits) 128\n"
		    "\tanti-replay context: seq 0x0, oseq 0x5, bitmap "
		    "0x00000000\n"
		    "\tdir out\n"
		    "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 uid 0\n" LIFETIME_CONFIG
		    "\tlifetime current:\n"
		    "\t  92(bytes), 1(packets)\n"
		    "\t  add - use -\n"
		    "\tstats:\n"
		    "\t  replay-window 0 replay 0 failed 0\n");

	/* hidden keys print no length either */
	SHOW(out, gw_show_states(f, &STATS, sas + 1, 1));
	expect(out, "src 198.51.100.1 dst 192.0.2.1\n"
		    "\tproto esp spi 0x00000200(512) reqid 2(0x00000002) "
		    "mode tunnel\n"
		    "\treplay-window 0 seq 0x00000000 flag af-unspec esn "
		    "(0x10100000)\n"
		    "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n"
		    "\tanti-replay esn context:\n"
		    "\t seq-hi 0x1, seq 0x5, oseq-hi 0x0, oseq 0x0\n"
		    "\t replay_window 64, bitmap-length 2\n"
		    "\t 00000000 00000000 \n"
		    "\tdir in\n"
		    "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 uid 0\n" LIFETIME_CONFIG
		    "\tlifetime current:\n"
		    "\t  0(bytes), 0(packets)\n"
		    "\t  add - use -\n"
		    "\tstats:\n"
		    "\t  replay-window 0 replay 0 failed 0\n");
	espgw_sa_free((struct espgw_sa *)sas[0]);
	espgw_sa_free((struct espgw_sa *)sas[1]);
}

/* An SA whose 32-bit sequence numbers ran out: oseq stays at the last
 * number sent, and the refusal, which xfrm_stats has no field for, is
 * espgw's "drops:" line. */
static void
test_states_exhausted(void **state)
{
	struct espgw_sa_params p;
	const struct espgw_sa *sas[1];
	struct espgw_sa *sa;
	struct rte_mbuf *m;
	char *out;

	(void)state;
	t_sa_params(&p, ESPGW_SA_OUT, 0x300, 20, 8, false, 0, 0);
	p.af_unspec = false;
	p.oseq = UINT32_MAX;
	sa = t_sa(&p);
	m = t_inner(4, 64, 0, false, 1);
	assert_int_equal(espgw_esp_outbound(W, sa, &m, 1), 0);
	t_free(&m, 1);
	sas[0] = sa;
	SHOW(out, gw_show_states(f, &STATS, sas, 1));
	expect(out, "src 192.0.2.1 dst 198.51.100.1\n"
		    "\tproto esp spi 0x00000300(768) reqid 0(0x00000000) "
		    "mode tunnel\n"
		    "\treplay-window 0 seq 0x00000000 flag  (0x00000000)\n"
		    "\taead rfc4106(gcm(aes)) <<Keys hidden>> 64\n"
		    "\tanti-replay context: seq 0x0, oseq 0xffffffff, bitmap "
		    "0x00000000\n"
		    "\tdir out\n"
		    "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 uid 0\n" LIFETIME_CONFIG
		    "\tlifetime current:\n"
		    "\t  0(bytes), 0(packets)\n"
		    "\t  add - use -\n"
		    "\tstats:\n"
		    "\t  replay-window 0 replay 0 failed 0\n"
		    "\t  drops: seq-exhausted 1\n");
	espgw_sa_free(sa);
}

/* An outbound SA and its inbound twin (in SAD), made from p. */
static void
twins(struct espgw_sa_params *p, struct espgw_sa **out, struct espgw_sa **in)
{
	p->af_unspec = false;
	p->dir = ESPGW_SA_OUT;
	*out = t_sa(p);
	p->dir = ESPGW_SA_IN;
	*in = t_sa(p);
	assert_int_equal(espgw_sad_add(SAD, *in), 0);
}

/* n packets sealed by out into m */
static void
seal(struct espgw_sa *out, struct rte_mbuf **m, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		m[i] = t_inner(4, 64, 0, false, (uint8_t)i);
	assert_int_equal(espgw_esp_outbound(W, out, m, n), n);
}

/* ... and opened by worker w, every one accepted */
static void
open_all(struct espgw_worker *w, struct rte_mbuf **m, uint16_t n)
{
	assert_int_equal(espgw_esp_inbound(w, SAD, m, NULL, n), n);
	t_free(m, n);
}

/* The replay context is the live one (xfrm_replay_advance, _esn: the
 * highest number received is replay.seq, replay_esn->seq_hi and seq),
 * not the replay-seq the state was added with; the highest whatever the
 * order it came in, and the highest of all owners of a claimed window.
 * The bitmap words stay 0: the library does not export the window. */
static void
test_states_live_seq(void **state)
{
	struct espgw_sa *out[2], *in[2];
	const struct espgw_sa *sas[2];
	struct espgw_sa_params p;
	struct rte_mbuf *m[8];
	char *out_s;

	(void)state;
	/* claimed by workers 0 and 1 (runs of 256): 250..255 are worker
	 * 0's, 256..259 worker 1's, which takes two before worker 0 takes
	 * its six and two after */
	t_sa_params(&p, ESPGW_SA_OUT, 0x500, 20, 16, false, 32, 3);
	p.oseq = 249;
	p.iseq = 200;
	p.nb_workers = 2;
	p.replay_owners = 2;
	twins(&p, &out[0], &in[0]);
	seal(out[0], m, 6);
	seal(out[0], m + 6, 2);
	open_all(W1, m + 6, 2);
	open_all(W, m, 6);
	seal(out[0], m, 2);
	open_all(W1, m, 2);
	/* ESN across 2^32: 2^32 - 2 .. 2^32 + 2, the last first */
	t_sa_params(&p, ESPGW_SA_OUT, 0x600, 20, 16, true, 64, 4);
	p.oseq = (UINT64_C(1) << 32) - 3;
	p.iseq = (UINT64_C(1) << 32) - 4;
	twins(&p, &out[1], &in[1]);
	seal(out[1], m, 5);
	open_all(W, m + 4, 1);
	open_all(W, m, 4);

	sas[0] = in[0];
	sas[1] = in[1];
	SHOW(out_s, gw_show_states(f, &PLAIN, sas, 2));
	expect(out_s, "src 192.0.2.1 dst 198.51.100.1\n"
		      "\tproto esp spi 0x00000500 reqid 0 mode tunnel\n"
		      "\treplay-window 32 \n"
		      "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n"
		      "\tanti-replay context: seq 0x103, oseq 0xf9, bitmap "
		      "0x00000000\n"
		      "\tdir in\n"
		      "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n"
		      "src 192.0.2.1 dst 198.51.100.1\n"
		      "\tproto esp spi 0x00000600 reqid 0 mode tunnel\n"
		      "\treplay-window 0 flag esn\n"
		      "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n"
		      "\tanti-replay esn context:\n"
		      "\t seq-hi 0x1, seq 0x2, oseq-hi 0x0, oseq 0xfffffffd\n"
		      "\t replay_window 64, bitmap-length 2\n"
		      "\t 00000000 00000000 \n"
		      "\tdir in\n"
		      "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n");
	SHOW(out_s, gw_show_states(f, &JSON, sas, 2));
	assert_true(json_ok(out_s));
	assert_non_null(strstr(out_s, "\"anti_replay\":{\"seq\":259,"));
	assert_non_null(
		strstr(out_s, "\"anti_replay_esn\":{\"seq_hi\":1,\"seq\":2,"));
	free(out_s);
	for (int i = 0; i < 2; i++)
		t_unpair(SAD, out[i], in[i]);
}

/* iproute2 prints xfrm as text even under -j: these keys are espgw's,
 * the words of the text and the fields of struct xfrm_usersa_info. */
static void
test_states_json(void **state)
{
	const struct espgw_sa *sas[2];
	char *out;

	(void)state;
	sas[0] = sa_out();
	sas[1] = sa_in_esn();
	SHOW(out, gw_show_states(f, &JSON, sas, 2));
	assert_true(json_ok(out));
	expect(out,
	       "[{\"src\":\"192.0.2.1\",\"dst\":\"198.51.100.1\","
	       "\"proto\":\"esp\",\"spi\":\"0x00000100\",\"reqid\":1,"
	       "\"mode\":\"tunnel\",\"replay_window\":32,\"flags\":[],"
	       "\"aead\":{\"name\":\"rfc4106(gcm(aes))\","
	       "\"key_bits\":160,\"icv_bits\":128},"
	       "\"anti_replay\":{\"seq\":0,\"oseq\":5,\"bitmap\":0},"
	       "\"dir\":\"out\","
	       "\"sel\":{\"src\":\"0.0.0.0/0\",\"dst\":\"0.0.0.0/0\"}},"
	       "{\"src\":\"198.51.100.1\",\"dst\":\"192.0.2.1\","
	       "\"proto\":\"esp\",\"spi\":\"0x00000200\",\"reqid\":2,"
	       "\"mode\":\"tunnel\",\"replay_window\":0,"
	       "\"flags\":[\"af-unspec\",\"esn\"],"
	       "\"aead\":{\"name\":\"rfc4106(gcm(aes))\","
	       "\"key_bits\":288,\"icv_bits\":128},"
	       "\"anti_replay_esn\":{\"seq_hi\":1,\"seq\":5,"
	       "\"oseq_hi\":0,\"oseq\":0,\"replay_window\":64,"
	       "\"bitmap_length\":2,\"bitmap\":[0,0]},"
	       "\"dir\":\"in\","
	       "\"sel\":{\"src\":\"0.0.0.0/0\",\"dst\":\"0.0.0.0/0\"}}]\n");

	/* the key only when asked for; -s adds lifetimes and stats */
	SHOW(out, gw_show_states(f,
				 &(struct gw_show_opts){ .json = true,
							 .pretty = true,
							 .stats = true,
							 .keys = true },
				 sas, 2));
	assert_true(json_ok(out));
	assert_non_null(strstr(out, "\n            \"key\": \"" KEY_A "\",\n"));
	assert_non_null(strstr(out, "\"lifetime_current\": {\n"
				    "            \"bytes\": 92,\n"
				    "            \"packets\": 1,\n"));
	assert_non_null(strstr(out, "\"hard_byte_limit\": "
				    "18446744073709551615,\n"));
	assert_non_null(strstr(out, "\"seq-exhausted\": 0"));
	free(out);
	espgw_sa_free((struct espgw_sa *)sas[0]);
	espgw_sa_free((struct espgw_sa *)sas[1]);
}

static const char *const POLICIES[] = {
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out "
	"priority 5 tmpl src 192.0.2.1 dst 198.51.100.1 proto esp reqid 1 "
	"mode tunnel",
	"ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 proto tcp "
	"dport 22 dir in action block",
	NULL,
};

/* xfrm_policy_info_print: xfrm_selector_print with no prefix, "\tdir
 * ", the action when not allow, priority; then the template as
 * xfrm_tmpl_print prints it (xfrm_id_info_print titled "tmpl "). */
static void
test_policies(void **state)
{
	const struct espgw_cfg_policy *p[2];
	const uint32_t index[2] = { 100, 200 };
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	parse(&cfg, POLICIES);
	p[0] = &cfg.policies[0];
	p[1] = &cfg.policies[1];
	SHOW(out, gw_show_policies(f, &PLAIN, p, NULL, 2));
	expect(out, "src 10.0.1.0/24 dst 10.0.2.0/24 \n"
		    "\tdir out priority 5 \n"
		    "\ttmpl src 192.0.2.1 dst 198.51.100.1\n"
		    "\t\tproto esp reqid 1 mode tunnel\n"
		    "src 10.0.2.0/24 dst 10.0.1.0/24 proto tcp dport 22 \n"
		    "\tdir in action block priority 0 \n");

	/* -s: "uid 0", action allow, index, share and flags, lifetimes
	 * before the template, and the template's spi, level, share and
	 * algorithm masks (iproute2 asks for all: ~0) */
	SHOW(out, gw_show_policies(f, &STATS, p, NULL, 2));
	expect(out,
	       "src 10.0.1.0/24 dst 10.0.2.0/24 uid 0\n"
	       "\tdir out action allow index 9 priority 5 share any flag  "
	       "(0x00000000)\n" LIFETIME_CONFIG "\tlifetime current:\n"
	       "\t  0(bytes), 0(packets)\n"
	       "\t  add - use -\n"
	       "\ttmpl src 192.0.2.1 dst 198.51.100.1\n"
	       "\t\tproto esp spi 0x00000000(0) reqid 1(0x00000001) mode "
	       "tunnel\n"
	       "\t\tlevel required share any \n"
	       "\t\tenc-mask ffffffff auth-mask ffffffff comp-mask ffffffff\n"
	       "src 10.0.2.0/24 dst 10.0.1.0/24 proto tcp dport 22 uid 0\n"
	       "\tdir in action block index 16 priority 0 share any flag  "
	       "(0x00000000)\n" LIFETIME_CONFIG "\tlifetime current:\n"
	       "\t  0(bytes), 0(packets)\n"
	       "\t  add - use -\n");

	SHOW(out, gw_show_policies(f, &STATS, p + 1, index + 1, 1));
	assert_non_null(strstr(out, "action block index 200 priority 0 "));
	free(out);

	SHOW(out, gw_show_policies(f, &JSON, p, NULL, 2));
	assert_true(json_ok(out));
	expect(out, "[{\"src\":\"10.0.1.0/24\",\"dst\":\"10.0.2.0/24\","
		    "\"dir\":\"out\",\"priority\":5,"
		    "\"tmpl\":[{\"src\":\"192.0.2.1\",\"dst\":\"198.51.100.1\","
		    "\"proto\":\"esp\",\"reqid\":1,\"mode\":\"tunnel\"}]},"
		    "{\"src\":\"10.0.2.0/24\",\"dst\":\"10.0.1.0/24\","
		    "\"proto\":\"tcp\",\"dport\":22,\"dir\":\"in\","
		    "\"action\":\"block\",\"priority\":0}]\n");

	/* -p: json_writer's layout, an array of objects in an object */
	SHOW(out, gw_show_policies(f, &PRETTY, p, NULL, 1));
	assert_true(json_ok(out));
	expect(out, "[ {\n"
		    "        \"src\": \"10.0.1.0/24\",\n"
		    "        \"dst\": \"10.0.2.0/24\",\n"
		    "        \"dir\": \"out\",\n"
		    "        \"priority\": 5,\n"
		    "        \"tmpl\": [ {\n"
		    "                \"src\": \"192.0.2.1\",\n"
		    "                \"dst\": \"198.51.100.1\",\n"
		    "                \"proto\": \"esp\",\n"
		    "                \"reqid\": 1,\n"
		    "                \"mode\": \"tunnel\"\n"
		    "            } ]\n"
		    "    } ]\n");

	SHOW(out,
	     gw_show_policies(
		     f, &(struct gw_show_opts){ .json = true, .stats = true },
		     p, NULL, 2));
	assert_true(json_ok(out));
	assert_non_null(strstr(out, "\"action\":\"allow\",\"index\":9,"));
	free(out);
	espgw_cfg_free(&cfg);
}

/* An IPv6 state: xfrm_id_info_print's addresses as inet_ntop writes
 * them, and the empty selector of the state's family (::/0). */
static void
test_states6(void **state)
{
	const struct espgw_sa *sas[1];
	struct espgw_sa_params p;
	char *out;

	(void)state;
	t_sa_params(&p, ESPGW_SA_OUT, 0x300, 20, 16, false, 0, 0);
	p.af_unspec = false;
	p.src.family = p.dst.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::1", p.src.v6), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:2::1", p.dst.v6), 1);
	p.reqid = 3;
	sas[0] = t_sa(&p);
	SHOW(out, gw_show_states(f, &PLAIN, sas, 1));
	expect(out, "src 2001:db8:1::1 dst 2001:db8:2::1\n"
		    "\tproto esp spi 0x00000300 reqid 3 mode tunnel\n"
		    "\treplay-window 0 \n"
		    "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128\n"
		    "\tanti-replay context: seq 0x0, oseq 0x0, bitmap "
		    "0x00000000\n"
		    "\tdir out\n"
		    "\tsel src ::/0 dst ::/0 \n");
	SHOW(out, gw_show_states(f, &JSON, sas, 1));
	assert_true(json_ok(out));
	assert_non_null(strstr(out, "[{\"src\":\"2001:db8:1::1\","
				    "\"dst\":\"2001:db8:2::1\","));
	assert_non_null(
		strstr(out, "\"sel\":{\"src\":\"::/0\",\"dst\":\"::/0\"}"));
	free(out);
	espgw_sa_free((struct espgw_sa *)sas[0]);
}

/* IPv6 selectors and templates, and the two mixed forms xfrm allows:
 * an IPv4 selector over an IPv6 template (4in6) and the reverse. */
static const char *const POLICIES6[] = {
	"ip xfrm policy add src 2001:db8:1::/48 dst 2001:db8:2::/48 dir out "
	"tmpl src 2001:db8:1::1 dst 2001:db8:2::1 proto esp reqid 1 mode "
	"tunnel",
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	"2001:db8:1::1 dst 2001:db8:2::1 proto esp reqid 2 mode tunnel",
	"ip xfrm policy add src 2001:db8:2::/48 dst 2001:db8:1::/48 proto udp "
	"sport 53 dir fwd tmpl src 198.51.100.1 dst 192.0.2.1 proto esp reqid "
	"3 mode tunnel",
	"ip -6 xfrm policy add dir in action block",
	NULL,
};

static void
test_policies6(void **state)
{
	const struct espgw_cfg_policy *p[4];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	parse(&cfg, POLICIES6);
	for (unsigned int i = 0; i < 4; i++)
		p[i] = &cfg.policies[i];
	SHOW(out, gw_show_policies(f, &PLAIN, p, NULL, 4));
	expect(out,
	       "src 2001:db8:1::/48 dst 2001:db8:2::/48 \n"
	       "\tdir out priority 0 \n"
	       "\ttmpl src 2001:db8:1::1 dst 2001:db8:2::1\n"
	       "\t\tproto esp reqid 1 mode tunnel\n"
	       "src 10.0.1.0/24 dst 10.0.2.0/24 \n"
	       "\tdir out priority 0 \n"
	       "\ttmpl src 2001:db8:1::1 dst 2001:db8:2::1\n"
	       "\t\tproto esp reqid 2 mode tunnel\n"
	       "src 2001:db8:2::/48 dst 2001:db8:1::/48 proto udp sport 53 \n"
	       "\tdir fwd priority 0 \n"
	       "\ttmpl src 198.51.100.1 dst 192.0.2.1\n"
	       "\t\tproto esp reqid 3 mode tunnel\n"
	       "src ::/0 dst ::/0 \n"
	       "\tdir in action block priority 0 \n");
	SHOW(out, gw_show_policies(f, &JSON, p, NULL, 1));
	assert_true(json_ok(out));
	expect(out, "[{\"src\":\"2001:db8:1::/48\",\"dst\":\"2001:db8:2::/48\","
		    "\"dir\":\"out\",\"priority\":0,\"tmpl\":[{"
		    "\"src\":\"2001:db8:1::1\",\"dst\":\"2001:db8:2::1\","
		    "\"proto\":\"esp\",\"reqid\":1,\"mode\":\"tunnel\"}]}]\n");
	espgw_cfg_free(&cfg);
}

static const char *const NET[] = {
	"ip addr add 192.0.2.1/24 dev net_null0",
	"ip addr add 192.0.2.2/24 dev net_null0", /* secondary: no route */
	"ip addr add 10.9.9.9/32 dev net_null2",  /* /32: no route */
	"ip route add 10.0.2.0/24 via 192.0.2.254 dev net_null0 src 10.0.1.1",
	"ip route add default via 192.0.2.254 dev net_null0",
	"ip route add 10.0.3.0/24 dev net_null2",
	"ip route add 10.0.2.0/28 dev net_null2",
	"ip route add 10.0.4.4/32 dev net_null2",
	"ip neigh add 192.0.2.254 lladdr 02:00:00:00:00:fe dev net_null0",
	"ip neigh add 192.0.2.253 lladdr 02:00:00:00:00:fd dev net_null0",
	NULL,
};

/* print_route: "default" or the prefix (a host without /32), "via",
 * "dev", proto (not for boot, what `ip route add` sets), scope link for
 * a route without a gateway, "src"; every word followed by a space. The
 * kernel's connected routes (fib_add_ifaddr) are "proto kernel scope
 * link src A". In the FIB's order: by prefix, longest first. */
static void
test_routes(void **state)
{
	const struct espgw_cfg_route *r[8];
	const struct espgw_cfg_addr *a[8];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	parse(&cfg, NET);
	for (unsigned int i = 0; i < cfg.nb_routes; i++)
		r[i] = &cfg.routes[i];
	for (unsigned int i = 0; i < cfg.nb_addrs; i++)
		a[i] = &cfg.addrs[i];
	SHOW(out, assert_int_equal(gw_show_routes(f, &PLAIN, r, cfg.nb_routes,
						  a, cfg.nb_addrs),
				   0));
	expect(out, "default via 192.0.2.254 dev net_null0 \n"
		    "10.0.2.0/28 dev net_null2 scope link \n"
		    "10.0.2.0/24 via 192.0.2.254 dev net_null0 src 10.0.1.1 \n"
		    "10.0.3.0/24 dev net_null2 scope link \n"
		    "10.0.4.4 dev net_null2 scope link \n"
		    "192.0.2.0/24 dev net_null0 proto kernel scope link src "
		    "192.0.2.1 \n");

	/* -j keys as print_route's: gateway, protocol, prefsrc, flags */
	SHOW(out, gw_show_routes(f, &JSON, r, 2, a, 1));
	assert_true(json_ok(out));
	expect(out, "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\","
		    "\"dev\":\"net_null0\",\"flags\":[]},"
		    "{\"dst\":\"10.0.2.0/24\",\"gateway\":\"192.0.2.254\","
		    "\"dev\":\"net_null0\",\"prefsrc\":\"10.0.1.1\","
		    "\"flags\":[]},"
		    "{\"dst\":\"192.0.2.0/24\",\"dev\":\"net_null0\","
		    "\"protocol\":\"kernel\",\"scope\":\"link\","
		    "\"prefsrc\":\"192.0.2.1\",\"flags\":[]}]\n");

	/* -p as json_writer lays it out: "[ {", 4 spaces a level,
	 * "[ ]" for an empty array, "} ]" */
	SHOW(out, gw_show_routes(f, &PRETTY, r + 1, 1, a, 0));
	expect(out, "[ {\n"
		    "        \"dst\": \"default\",\n"
		    "        \"gateway\": \"192.0.2.254\",\n"
		    "        \"dev\": \"net_null0\",\n"
		    "        \"flags\": [ ]\n"
		    "    } ]\n");
	SHOW(out, gw_show_routes(f, &PRETTY, r, 0, a, 0));
	expect(out, "[ ]\n");
	SHOW(out, gw_show_routes(f, &JSON, r, 0, a, 0));
	expect(out, "[]\n");
	espgw_cfg_free(&cfg);
}

/* print_neigh: dst, "dev", "lladdr", the NUD state (print_neigh_state,
 * a JSON array). */
static void
test_neighs(void **state)
{
	const struct espgw_cfg_neigh *ne[2];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	parse(&cfg, NET);
	ne[0] = &cfg.neighs[0];
	ne[1] = &cfg.neighs[1];
	SHOW(out, gw_show_neighs(f, &PLAIN, ne, 2, NULL, 0));
	expect(out, "192.0.2.254 dev net_null0 lladdr 02:00:00:00:00:fe "
		    "PERMANENT \n"
		    "192.0.2.253 dev net_null0 lladdr 02:00:00:00:00:fd "
		    "PERMANENT \n");
	SHOW(out, gw_show_neighs(f, &JSON, ne, 1, NULL, 0));
	assert_true(json_ok(out));
	expect(out, "[{\"dst\":\"192.0.2.254\",\"dev\":\"net_null0\","
		    "\"lladdr\":\"02:00:00:00:00:fe\","
		    "\"state\":[\"PERMANENT\"]}]\n");
	SHOW(out, gw_show_neighs(f, &PRETTY, ne, 2, NULL, 0));
	assert_true(json_ok(out));
	expect(out, "[ {\n"
		    "        \"dst\": \"192.0.2.254\",\n"
		    "        \"dev\": \"net_null0\",\n"
		    "        \"lladdr\": \"02:00:00:00:00:fe\",\n"
		    "        \"state\": [ \"PERMANENT\" ]\n"
		    "    },{\n"
		    "        \"dst\": \"192.0.2.253\",\n"
		    "        \"dev\": \"net_null0\",\n"
		    "        \"lladdr\": \"02:00:00:00:00:fd\",\n"
		    "        \"state\": [ \"PERMANENT\" ]\n"
		    "    } ]\n");
	espgw_cfg_free(&cfg);
}

/* Ports 0 and 2 of a table set; 2 has no carrier. */
static void
ports(struct gw_iface ifs[3], bool carrier[3])
{
	memset(ifs, 0, sizeof(*ifs) * 3);
	ifs[0] = (struct gw_iface){ .used = true, .port = 0, .mtu = 1500 };
	ifs[2] = (struct gw_iface){ .used = true, .port = 2, .mtu = 9000 };
	snprintf(ifs[0].name, sizeof(ifs[0].name), "net_null0");
	snprintf(ifs[2].name, sizeof(ifs[2].name), "net_null2");
	ifs[0].mac.addr_bytes[0] = ifs[2].mac.addr_bytes[0] = 0x02;
	ifs[0].mac.addr_bytes[5] = 0x01;
	ifs[2].mac.addr_bytes[5] = 0x02;
	carrier[0] = true;
	carrier[1] = carrier[2] = false;
}

/* print_linkinfo with do_link: "N: name: <flags> mtu M state S mode
 * DEFAULT group default ", then "    link/ether MAC brd BCAST".
 * print_link_flags puts NO-CARRIER first for a port up without link. */
static void
test_links(void **state)
{
	struct gw_iface ifs[3];
	bool carrier[3];
	char *out;

	(void)state;
	ports(ifs, carrier);
	SHOW(out, gw_show_links(f, &PLAIN, ifs, carrier, 3));
	expect(out, "0: net_null0: <BROADCAST,UP,LOWER_UP> mtu 1500 state UP "
		    "mode DEFAULT group default \n"
		    "    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
		    "2: net_null2: <NO-CARRIER,BROADCAST,UP> mtu 9000 state "
		    "DOWN mode DEFAULT group default \n"
		    "    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff\n");
	SHOW(out, gw_show_links(f, &JSON, ifs, NULL, 1));
	assert_true(json_ok(out));
	expect(out, "[{\"ifindex\":0,\"ifname\":\"net_null0\","
		    "\"flags\":[\"BROADCAST\",\"UP\",\"LOWER_UP\"],"
		    "\"mtu\":1500,\"operstate\":\"UP\","
		    "\"linkmode\":\"DEFAULT\",\"group\":\"default\","
		    "\"link_type\":\"ether\","
		    "\"address\":\"02:00:00:00:00:01\","
		    "\"broadcast\":\"ff:ff:ff:ff:ff:ff\"}]\n");
	/* a port EAL found that no statement set up: down, as a link
	 * never set up is (no UP flag) */
	ifs[1] = (struct gw_iface){ .port = 1, .mtu = 1500 };
	snprintf(ifs[1].name, sizeof(ifs[1].name), "net_null1");
	SHOW(out, gw_show_links(f, &PLAIN, ifs + 1, NULL, 1));
	expect(out, "1: net_null1: <BROADCAST> mtu 1500 state DOWN mode "
		    "DEFAULT group default \n"
		    "    link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff\n");
	SHOW(out, gw_show_links(f, &JSON, ifs + 1, NULL, 1));
	assert_true(json_ok(out));
	assert_non_null(strstr(out, "\"flags\":[\"BROADCAST\"],"));
	assert_non_null(strstr(out, "\"operstate\":\"DOWN\""));
	free(out);
}

/* `ip -4 addr`: print_linkinfo without do_link (no mode, and no
 * link/ether line under a family filter), then print_addrinfo for each
 * address: "    inet A/len scope global LABEL" and the lifetimes on a
 * line of their own; a port without an IPv4 address is not listed
 * (ipaddr_filter). JSON: the addresses in "addr_info". */
static void
test_addrs(void **state)
{
	const struct espgw_cfg_addr *a[3];
	struct gw_iface ifs[3];
	bool carrier[3];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	ports(ifs, carrier);
	parse(&cfg, NET);
	for (unsigned int i = 0; i < 3; i++)
		a[i] = &cfg.addrs[i];
	SHOW(out, gw_show_addrs(f, &PLAIN, ifs, carrier, 3, a, 2, NULL, 0));
	expect(out, "0: net_null0: <BROADCAST,UP,LOWER_UP> mtu 1500 state UP "
		    "group default \n"
		    "    inet 192.0.2.1/24 scope global net_null0\n"
		    "       valid_lft forever preferred_lft forever\n"
		    "    inet 192.0.2.2/24 scope global net_null0\n"
		    "       valid_lft forever preferred_lft forever\n");
	SHOW(out, gw_show_addrs(f, &PRETTY, ifs, carrier, 3, a, 3, NULL, 0));
	assert_true(json_ok(out));
	expect(out,
	       "[ {\n"
	       "        \"ifindex\": 0,\n"
	       "        \"ifname\": \"net_null0\",\n"
	       "        \"flags\": [ \"BROADCAST\",\"UP\",\"LOWER_UP\" ],\n"
	       "        \"mtu\": 1500,\n"
	       "        \"operstate\": \"UP\",\n"
	       "        \"group\": \"default\",\n"
	       "        \"addr_info\": [ {\n"
	       "                \"family\": \"inet\",\n"
	       "                \"local\": \"192.0.2.1\",\n"
	       "                \"prefixlen\": 24,\n"
	       "                \"scope\": \"global\",\n"
	       "                \"label\": \"net_null0\",\n"
	       "                \"valid_life_time\": 4294967295,\n"
	       "                \"preferred_life_time\": 4294967295\n"
	       "            },{\n"
	       "                \"family\": \"inet\",\n"
	       "                \"local\": \"192.0.2.2\",\n"
	       "                \"prefixlen\": 24,\n"
	       "                \"scope\": \"global\",\n"
	       "                \"label\": \"net_null0\",\n"
	       "                \"valid_life_time\": 4294967295,\n"
	       "                \"preferred_life_time\": 4294967295\n"
	       "            } ]\n"
	       "    },{\n"
	       "        \"ifindex\": 2,\n"
	       "        \"ifname\": \"net_null2\",\n"
	       "        \"flags\": [ \"NO-CARRIER\",\"BROADCAST\",\"UP\" ],\n"
	       "        \"mtu\": 9000,\n"
	       "        \"operstate\": \"DOWN\",\n"
	       "        \"group\": \"default\",\n"
	       "        \"addr_info\": [ {\n"
	       "                \"family\": \"inet\",\n"
	       "                \"local\": \"10.9.9.9\",\n"
	       "                \"prefixlen\": 32,\n"
	       "                \"scope\": \"global\",\n"
	       "                \"label\": \"net_null2\",\n"
	       "                \"valid_life_time\": 4294967295,\n"
	       "                \"preferred_life_time\": 4294967295\n"
	       "            } ]\n"
	       "    } ]\n");
	espgw_cfg_free(&cfg);
}

/* IPv6 beside IPv4: two addresses in one /64 (one prefix route), a
 * link-local one, a /128 (no route), routes of every shape. */
static const char *const NET6[] = {
	"ip -6 addr add 2001:db8:1::1/64 dev net_null0",
	"ip addr add 2001:db8:1::2/64 dev net_null0",
	"ip addr add fe80::1/64 dev net_null2",
	"ip addr add 2001:db8:9::9/128 dev net_null2",
	"ip -6 route add 2001:db8:2::/48 via fe80::fe dev net_null0 src "
	"2001:db8:1::1",
	"ip route add default via 2001:db8:1::fe dev net_null0",
	"ip -6 route add 2001:db8:2:1::/64 dev net_null2",
	"ip route add 2001:db8:4::4/128 dev net_null2",
	"ip -f inet6 route add 2001:db8::/32 dev net_null2",
	"ip neigh add 2001:db8:1::fe lladdr 02:00:00:00:00:fe dev net_null0",
	"ip neigh add 192.0.2.254 lladdr 02:00:00:00:00:fd dev net_null0",
	"ip addr add 192.0.2.1/24 dev net_null0",
	NULL,
};

/* print_route of AF_INET6: no scope, "metric 1024" (ip6_route_add's)
 * or "proto kernel metric 256" (an address's prefix route), "pref
 * medium" last with no space after it; in fib6's walk order, a prefix
 * after the ones inside it, so default comes last. */
static void
test_routes6(void **state)
{
	const struct espgw_cfg_route6 *r[8];
	const struct espgw_cfg_addr6 *a[8];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	parse(&cfg, NET6);
	assert_int_equal(cfg.nb_routes6, 5);
	assert_int_equal(cfg.nb_addrs6, 4);
	for (unsigned int i = 0; i < cfg.nb_routes6; i++)
		r[i] = &cfg.routes6[i];
	for (unsigned int i = 0; i < cfg.nb_addrs6; i++)
		a[i] = &cfg.addrs6[i];
	SHOW(out, assert_int_equal(gw_show_routes6(f, &PLAIN, r, 5, a, 4), 0));
	expect(out, "2001:db8:1::/64 dev net_null0 proto kernel metric 256 "
		    "pref medium\n"
		    "2001:db8:2:1::/64 dev net_null2 metric 1024 pref medium\n"
		    "2001:db8:2::/48 via fe80::fe dev net_null0 src "
		    "2001:db8:1::1 metric 1024 pref medium\n"
		    "2001:db8:4::4 dev net_null2 metric 1024 pref medium\n"
		    "2001:db8::/32 dev net_null2 metric 1024 pref medium\n"
		    "fe80::/64 dev net_null2 proto kernel metric 256 pref "
		    "medium\n"
		    "default via 2001:db8:1::fe dev net_null0 metric 1024 pref "
		    "medium\n");
	SHOW(out, gw_show_routes6(f, &JSON, r, 2, a, 1));
	assert_true(json_ok(out));
	expect(out, "[{\"dst\":\"2001:db8:1::/64\",\"dev\":\"net_null0\","
		    "\"protocol\":\"kernel\",\"metric\":256,\"flags\":[],"
		    "\"pref\":\"medium\"},"
		    "{\"dst\":\"2001:db8:2::/48\",\"gateway\":\"fe80::fe\","
		    "\"dev\":\"net_null0\",\"prefsrc\":\"2001:db8:1::1\","
		    "\"metric\":1024,\"flags\":[],\"pref\":\"medium\"},"
		    "{\"dst\":\"default\",\"gateway\":\"2001:db8:1::fe\","
		    "\"dev\":\"net_null0\",\"metric\":1024,\"flags\":[],"
		    "\"pref\":\"medium\"}]\n");
	SHOW(out, gw_show_routes6(f, &JSON, r, 0, a, 0));
	expect(out, "[]\n");
	espgw_cfg_free(&cfg);
}

/* `ip neigh` of both families: ARP's, then neighbour discovery's, in
 * one list; the same line for either. */
static void
test_neighs6(void **state)
{
	const struct espgw_cfg_neigh *ne[1];
	const struct espgw_cfg_neigh6 *ne6[1];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	parse(&cfg, NET6);
	ne[0] = &cfg.neighs[0];
	ne6[0] = &cfg.neighs6[0];
	SHOW(out, gw_show_neighs(f, &PLAIN, ne, 1, ne6, 1));
	expect(out, "192.0.2.254 dev net_null0 lladdr 02:00:00:00:00:fd "
		    "PERMANENT \n"
		    "2001:db8:1::fe dev net_null0 lladdr 02:00:00:00:00:fe "
		    "PERMANENT \n");
	SHOW(out, gw_show_neighs(f, &JSON, NULL, 0, ne6, 1));
	assert_true(json_ok(out));
	expect(out, "[{\"dst\":\"2001:db8:1::fe\",\"dev\":\"net_null0\","
		    "\"lladdr\":\"02:00:00:00:00:fe\","
		    "\"state\":[\"PERMANENT\"]}]\n");
	espgw_cfg_free(&cfg);
}

/* `ip addr` of both families: under each port its inet lines, then its
 * inet6 ones, which have no label ("scope global " ends the line); a
 * port with IPv6 addresses alone is listed too. */
static void
test_addrs6(void **state)
{
	const struct espgw_cfg_addr *a[1];
	const struct espgw_cfg_addr6 *a6[4];
	struct gw_iface ifs[3];
	bool carrier[3];
	struct espgw_cfg cfg;
	char *out;

	(void)state;
	ports(ifs, carrier);
	parse(&cfg, NET6);
	a[0] = &cfg.addrs[0];
	for (unsigned int i = 0; i < 4; i++)
		a6[i] = &cfg.addrs6[i];
	SHOW(out, gw_show_addrs(f, &PLAIN, ifs, carrier, 3, a, 1, a6, 4));
	expect(out, "0: net_null0: <BROADCAST,UP,LOWER_UP> mtu 1500 state UP "
		    "group default \n"
		    "    inet 192.0.2.1/24 scope global net_null0\n"
		    "       valid_lft forever preferred_lft forever\n"
		    "    inet6 2001:db8:1::1/64 scope global \n"
		    "       valid_lft forever preferred_lft forever\n"
		    "    inet6 2001:db8:1::2/64 scope global \n"
		    "       valid_lft forever preferred_lft forever\n"
		    "2: net_null2: <NO-CARRIER,BROADCAST,UP> mtu 9000 state "
		    "DOWN group default \n"
		    "    inet6 fe80::1/64 scope link \n"
		    "       valid_lft forever preferred_lft forever\n"
		    "    inet6 2001:db8:9::9/128 scope global \n"
		    "       valid_lft forever preferred_lft forever\n");
	SHOW(out, gw_show_addrs(f, &JSON, ifs + 2, carrier + 2, 1, NULL, 0,
				a6 + 2, 1));
	assert_true(json_ok(out));
	expect(out, "[{\"ifindex\":2,\"ifname\":\"net_null2\","
		    "\"flags\":[\"NO-CARRIER\",\"BROADCAST\",\"UP\"],"
		    "\"mtu\":9000,\"operstate\":\"DOWN\","
		    "\"group\":\"default\",\"addr_info\":[{"
		    "\"family\":\"inet6\",\"local\":\"fe80::1\","
		    "\"prefixlen\":64,\"scope\":\"link\","
		    "\"valid_life_time\":4294967295,"
		    "\"preferred_life_time\":4294967295}]}]\n");
	/* only IPv4 asked for (ip -4 addr): net_null2 is not listed */
	SHOW(out, gw_show_addrs(f, &PLAIN, ifs, carrier, 3, a, 1, NULL, 0));
	assert_null(strstr(out, "net_null2"));
	free(out);
	espgw_cfg_free(&cfg);
}

/* The JSON writer's strings are escaped as RFC 8259 asks, and the
 * checker is not a rubber stamp. */
static void
test_json_escapes(void **state)
{
	struct espgw_cfg_neigh n = { .addr = htonl(T_IPV4(10, 0, 0, 1)) };
	const struct espgw_cfg_neigh *ne[1] = { &n };
	char *out;

	(void)state;
	snprintf(n.port, sizeof(n.port), "a\"b\\c\td\x01");
	SHOW(out, gw_show_neighs(f, &JSON, ne, 1, NULL, 0));
	assert_true(json_ok(out));
	assert_non_null(strstr(out, "\"dev\":\"a\\\"b\\\\c\\td\\u0001\""));
	free(out);
	assert_false(json_ok("[{\"dev\":\"a\"b\"}]"));
	assert_false(json_ok("[{]"));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states_plain, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_states_stats, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_states_exhausted, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_states_json, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_states_live_seq, t_setup,
						t_teardown),
		cmocka_unit_test(test_policies),
		cmocka_unit_test_setup_teardown(test_states6, t_setup,
						t_teardown),
		cmocka_unit_test(test_policies6),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_neighs),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_routes6),
		cmocka_unit_test(test_neighs6),
		cmocka_unit_test(test_addrs6),
		cmocka_unit_test(test_json_escapes),
	};
	int rc;

	(void)argc;
	t_eal_init(argv[0]);
	W = espgw_worker_create(0, SOCKET_ID_ANY);
	W1 = espgw_worker_create(1, SOCKET_ID_ANY);
	SAD = espgw_sad_create("sad", 8, SOCKET_ID_ANY);
	if (W == NULL || W1 == NULL || SAD == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	espgw_sad_free(SAD);
	espgw_worker_free(W1);
	espgw_worker_free(W);
	return rc;
}
