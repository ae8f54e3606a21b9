/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* SA lifetimes on the data path (esp.h, struct espgw_sa_limits): byte
 * and packet limits against a model of xfrm_state_check_expire(), both
 * directions, random bursts; espgw_sa_expire(); new limits on an SA in
 * use; the sequence-number margin; the ESN counter pinned at its end. */

#include "common.h"

#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "sa.h"

static struct espgw_worker *W;
static struct espgw_sad *SAD;

/* The kernel's rule, a packet at a time: before each packet, a count at
 * a hard limit refuses it (XFRM_STATE_EXPIRED), at a soft one makes the
 * state dying; a packet that goes then counts (xfrm_output_one,
 * xfrm_input). ok == false: the packet fails for another reason (a bad
 * ICV) and is not counted. */
struct model {
	struct espgw_sa_limits l;
	uint64_t packets, bytes;
	bool soft, hard;
};

static bool
reached(uint64_t v, uint64_t lim)
{
	return lim != 0 && v >= lim;
}

/* Returns whether the packet went. */
static bool
model_packet(struct model *m, uint64_t len, bool ok)
{
	if (m->hard || reached(m->packets, m->l.hard_packets) ||
	    reached(m->bytes, m->l.hard_bytes)) {
		m->hard = true;
		return false;
	}
	if (reached(m->packets, m->l.soft_packets) ||
	    reached(m->bytes, m->l.soft_bytes))
		m->soft = true;
	if (!ok)
		return false;
	m->packets++;
	m->bytes += len;
	return true;
}

static void
model_check(const struct model *m, const struct espgw_sa *sa)
{
	unsigned int x = espgw_sa_expiry(sa);
	struct espgw_sa_stats st;

	espgw_sa_stats_read(sa, &st);
	assert_int_equal(st.packets, m->packets);
	assert_int_equal(st.bytes, m->bytes);
	assert_int_equal(!!(x & ESPGW_SA_HARD), m->hard);
	assert_int_equal(!!(x & ESPGW_SA_SOFT), m->soft);
}

/* Random limits, some of each kind unset, around the traffic's size. */
static struct espgw_sa_limits
random_limits(void)
{
	struct espgw_sa_limits l = { 0 };
	uint64_t p = 1 + (uint64_t)(rand() % 300);

	switch (rand() % 3) {
	case 0:
		l.soft_packets = p;
		l.hard_packets = p + (uint64_t)(rand() % 100);
		break;
	case 1:
		l.soft_bytes = 100 * p;
		l.hard_bytes = 100 * p + (uint64_t)(rand() % 10000);
		break;
	default:
		l.hard_packets = p;
		l.soft_bytes = 50 * p;
		break;
	}
	return l;
}

static void
test_outbound_model(void **state)
{
	(void)state;
	srand(11);
	for (int round = 0; round < 40; round++) {
		struct espgw_sa_params p;
		struct model m = { 0 };
		struct espgw_sa *sa;

		t_sa_params(&p, ESPGW_SA_OUT, 0x4000 + (uint32_t)round, 20, 16,
			    round % 2, 0, (uint8_t)round);
		p.limits = m.l = random_limits();
		sa = t_sa(&p);
		while (!m.hard) {
			struct rte_mbuf *mb[64];
			uint16_t n = (uint16_t)(1 + rand() % 64), want = 0;
			uint64_t expired =
				t_sa_drop(sa, ESPGW_DROP_STATE_EXPIRED);

			for (uint16_t i = 0; i < n; i++) {
				mb[i] = t_inner(4, (uint16_t)(rand() % 300), 0,
						false, (uint8_t)i);
				want += model_packet(&m, mb[i]->pkt_len, true);
			}
			assert_int_equal(espgw_esp_outbound(W, sa, mb, n),
					 want);
			assert_int_equal(
				t_sa_drop(sa, ESPGW_DROP_STATE_EXPIRED) -
					expired,
				n - want);
			model_check(&m, sa);
			t_free(mb, n);
		}
		espgw_sa_free(sa);
	}
}

/* Inbound: limits on the receiving SA, a packet of a burst now and then
 * with a bad ICV (checked, not counted). */
static void
test_inbound_model(void **state)
{
	(void)state;
	srand(12);
	for (int round = 0; round < 40; round++) {
		struct espgw_sa_params p;
		struct model m = { 0 };
		struct espgw_sa *out, *in;

		t_sa_params(&p, ESPGW_SA_OUT, 0x5000 + (uint32_t)round, 28, 16,
			    false, round % 3 ? 1024 : 0, (uint8_t)round);
		out = t_sa(&p);
		p.dir = ESPGW_SA_IN;
		p.limits = m.l = random_limits();
		in = t_sa(&p);
		assert_int_equal(espgw_sad_add(SAD, in), 0);
		while (!m.hard) {
			struct rte_mbuf *mb[64];
			uint16_t n = (uint16_t)(1 + rand() % 64), want = 0;
			uint16_t lens[64];
			int bad = rand() % 4 == 0 ? rand() % n : -1;

			for (uint16_t i = 0; i < n; i++) {
				mb[i] = t_inner(4, (uint16_t)(rand() % 300), 0,
						false, (uint8_t)i);
				lens[i] = (uint16_t)mb[i]->pkt_len;
			}
			assert_int_equal(espgw_esp_outbound(W, out, mb, n), n);
			if (bad >= 0) /* the last ICV byte */
				rte_pktmbuf_mtod(
					mb[bad],
					uint8_t *)[mb[bad]->data_len - 1] ^= 1;
			for (uint16_t i = 0; i < n; i++)
				want += model_packet(&m, lens[i], i != bad);
			assert_int_equal(espgw_esp_inbound(W, SAD, mb, NULL, n),
					 want);
			model_check(&m, in);
			t_free(mb, n);
		}
		assert_int_equal(espgw_sad_del(SAD, in), 0);
		espgw_sa_free(out);
		espgw_sa_free(in);
	}
}

/* Expired by the caller (a time limit): every later packet refused,
 * both directions, under one name. */
static void
test_expire(void **state)
{
	struct espgw_sa_params p;
	struct espgw_sa *out, *in;
	struct rte_mbuf *mb[8];

	(void)state;
	t_sa_params(&p, ESPGW_SA_OUT, 0x6000, 20, 16, false, 64, 3);
	out = t_sa(&p);
	p.dir = ESPGW_SA_IN;
	in = t_sa(&p);
	assert_int_equal(espgw_sad_add(SAD, in), 0);
	for (int i = 0; i < 8; i++)
		mb[i] = t_inner(4, 40, 0, false, (uint8_t)i);
	assert_int_equal(espgw_esp_outbound(W, out, mb, 8), 8);
	espgw_sa_expire(in);
	assert_int_equal(espgw_sa_expiry(in), ESPGW_SA_HARD);
	assert_int_equal(espgw_esp_inbound(W, SAD, mb, NULL, 8), 0);
	assert_int_equal(t_sa_drop(in, ESPGW_DROP_STATE_EXPIRED), 8);
	t_free(mb, 8);
	for (int i = 0; i < 8; i++)
		mb[i] = t_inner(4, 40, 0, false, (uint8_t)i);
	espgw_sa_expire(out);
	assert_int_equal(espgw_esp_outbound(W, out, mb, 8), 0);
	assert_int_equal(t_sa_drop(out, ESPGW_DROP_STATE_EXPIRED), 8);
	/* no sequence number was used up by the refusals */
	assert_int_equal(espgw_sa_next_seq(out), 9);
	t_free(mb, 8);
	assert_int_equal(espgw_sad_del(SAD, in), 0);
	espgw_sa_free(out);
	espgw_sa_free(in);
}

static uint16_t
send_n(struct espgw_sa *sa, uint16_t n)
{
	struct rte_mbuf *mb[64];
	uint16_t ok;

	for (uint16_t i = 0; i < n; i++)
		mb[i] = t_inner(4, 12, 0, false, (uint8_t)i); /* 40 bytes */
	ok = espgw_esp_outbound(W, sa, mb, n);
	t_free(mb, n);
	return ok;
}

/* xfrm_state_update: new limits on an SA in use keep its counts and
 * make it live again. */
static void
test_set_limits(void **state)
{
	struct espgw_sa_params p;
	struct espgw_sa_limits l = { .soft_packets = 5, .hard_packets = 20 };
	struct espgw_sa *sa;

	(void)state;
	t_sa_params(&p, ESPGW_SA_OUT, 0x7000, 20, 16, false, 0, 4);
	sa = t_sa(&p);
	assert_int_equal(send_n(sa, 10), 10); /* counted per worker only */
	espgw_sa_set_limits(sa, &l);
	assert_int_equal(espgw_sa_params(sa)->limits.hard_packets, 20);
	assert_int_equal(espgw_sa_expiry(sa), 0);
	/* from 10: soft at once, hard after 10 more */
	assert_int_equal(send_n(sa, 4), 4);
	assert_int_equal(espgw_sa_expiry(sa), ESPGW_SA_SOFT);
	l.soft_packets = 18;
	espgw_sa_set_limits(sa, &l);
	assert_int_equal(espgw_sa_expiry(sa), 0);
	assert_int_equal(send_n(sa, 4), 4); /* 14 .. 17 */
	assert_int_equal(espgw_sa_expiry(sa), 0);
	assert_int_equal(send_n(sa, 9), 2); /* 18 dying, 19, then hard */
	assert_int_equal(espgw_sa_expiry(sa), ESPGW_SA_SOFT | ESPGW_SA_HARD);
	/* hard is for good: no new limit undoes it */
	l.hard_packets = 1000;
	espgw_sa_set_limits(sa, &l);
	assert_int_equal(send_n(sa, 1), 0);
	assert_int_equal(t_sa_drop(sa, ESPGW_DROP_STATE_EXPIRED), 8);
	/* limits off again: the SA's kind drops the shared count */
	memset(&l, 0, sizeof(l));
	espgw_sa_set_limits(sa, &l);
	assert_ptr_equal(sa->ops->outb_number, espgw_outb_number_seq32);
	espgw_sa_free(sa);
}

/* The sequence space is a lifetime too: soft ESPGW_SEQ_SOFT_MARGIN
 * before its end, on the sender and on the receiver. */
static void
test_seq_margin(void **state)
{
	const uint64_t edge = UINT32_MAX - ESPGW_SEQ_SOFT_MARGIN;
	struct espgw_sa_params p;
	struct espgw_sa *out, *in;
	struct rte_mbuf *mb[2];

	(void)state;
	t_sa_params(&p, ESPGW_SA_OUT, 0x7100, 20, 16, false, 64, 5);
	p.oseq = edge - 1;
	out = t_sa(&p);
	p.dir = ESPGW_SA_IN;
	p.iseq = edge - 10;
	in = t_sa(&p);
	assert_int_equal(espgw_sad_add(SAD, in), 0);
	for (int i = 0; i < 2; i++)
		mb[i] = t_inner(4, 12, 0, false, (uint8_t)i);
	assert_int_equal(espgw_esp_outbound(W, out, mb, 1), 1); /* edge */
	assert_int_equal(espgw_sa_expiry(out), 0);
	assert_int_equal(espgw_esp_inbound(W, SAD, mb, NULL, 1), 1);
	assert_int_equal(espgw_sa_expiry(in), 0);
	assert_int_equal(espgw_esp_outbound(W, out, mb + 1, 1), 1);
	assert_int_equal(espgw_sa_expiry(out), ESPGW_SA_SOFT);
	assert_int_equal(espgw_esp_inbound(W, SAD, mb + 1, NULL, 1), 1);
	assert_int_equal(espgw_sa_expiry(in), ESPGW_SA_SOFT);
	/* dying, not dead */
	t_free(mb, 2);
	assert_int_equal(send_n(out, 3), 3);
	assert_int_equal(espgw_sad_del(SAD, in), 0);
	espgw_sa_free(out);
	espgw_sa_free(in);
}

/* With ESN the 64-bit counter stops at its end (RFC 4303 section
 * 3.3.3; xfrm_replay_overflow_esn): a wrap would send 1, 2, 3 ... again
 * under the same key, and repeat the GCM nonces with them. */
static void
test_esn_pinned(void **state)
{
	struct espgw_sa_params p;
	struct espgw_sa *sa;

	(void)state;
	t_sa_params(&p, ESPGW_SA_OUT, 0x7200, 20, 16, true, 0, 6);
	p.oseq = UINT64_MAX - 2;
	sa = t_sa(&p);
	assert_int_equal(send_n(sa, 5), 2);
	assert_int_equal(t_sa_drop(sa, ESPGW_DROP_SEQ_EXHAUSTED), 3);
	assert_int_equal(send_n(sa, 64), 0);
	assert_int_equal(send_n(sa, 1), 0);
	assert_int_equal(t_sa_drop(sa, ESPGW_DROP_SEQ_EXHAUSTED), 68);
	assert_int_equal(__atomic_load_n(&sa->oseq, __ATOMIC_RELAXED),
			 UINT64_MAX);
	assert_true(espgw_sa_expiry(sa) & ESPGW_SA_SOFT);
	espgw_sa_free(sa);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outbound_model, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_inbound_model, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_expire, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_set_limits, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_seq_margin, t_setup,
						t_teardown),
		cmocka_unit_test_setup_teardown(test_esn_pinned, t_setup,
						t_teardown),
	};

	(void)argc;
	return t_esp_main(argv[0], "limits", tests, RTE_DIM(tests), &W, &SAD);
}
