/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The replay window (lib/replay.h: RFC 4303 section 3.4.3, RFC 6479's
 * ring of blocks, appendix A's seq-hi inference) against a model that
 * keeps what it has seen in a plain set: each check, update and
 * inferred number must agree, and so must the window's top.
 *
 * Input: a flags byte (ESN, window kind, shared or not), the window, the
 * SA's first iseq, then operations of a byte and a sequence number each, the
 * number given relative to the top, the window's bottom, 2^32 or 2^64
 * so that the edges are found. */

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "sa.h"

enum { MAX_OPS = 4096, SET_CAP = 2 * MAX_OPS };

/* The model: every number up to floor counts as seen (the SA starts
 * with iseq received, as sa.c sets its window), and so does every
 * member of set (open addressing, 0 is empty: 0 is never accepted). */
struct model {
	bool esn;
	uint32_t win;
	uint64_t top, floor;
	uint64_t set[SET_CAP];
};

static struct model md;

static bool
seen(const struct model *m, uint64_t s)
{
	if (s <= m->floor)
		return true;
	for (uint32_t h = (uint32_t)(s * 0x9e3779b97f4a7c15u >> 51);;
	     h = (h + 1) % SET_CAP) {
		if (m->set[h] == s)
			return true;
		if (m->set[h] == 0)
			return false;
	}
}

static void
add(struct model *m, uint64_t s)
{
	uint32_t h = (uint32_t)(s * 0x9e3779b97f4a7c15u >> 51);

	while (m->set[h] != 0 && m->set[h] != s)
		h = (h + 1) % SET_CAP;
	m->set[h] = s;
}

/* RFC 4303 section 3.4.3 in its own words: left of the window, a
 * duplicate within it, or new. */
static int
model_check(const struct model *m, uint64_t s)
{
	if (s == 0)
		return ESPGW_DROP_BEHIND_WINDOW;
	if (s > m->top)
		return ESPGW_OK;
	if (m->top - s >= m->win)
		return ESPGW_DROP_BEHIND_WINDOW;
	return seen(m, s) ? ESPGW_DROP_REPLAYED : ESPGW_OK;
}

static int
model_update(struct model *m, uint64_t s)
{
	int rc = model_check(m, s);

	if (rc != ESPGW_OK)
		return rc;
	if (s > m->top)
		m->top = s;
	add(m, s);
	return ESPGW_OK;
}

/* RFC 4303 appendix A2.1 said another way: the number whose low half is
 * lo in the 2^32 numbers that start at the window's bottom. Below 1 or
 * above 2^64 - 1 there is no such number (*ok false). */
static uint64_t
model_infer(const struct model *m, uint32_t lo, bool *ok)
{
	__int128 bottom = (__int128)m->top - m->win + 1;
	__int128 c = bottom + (uint32_t)(lo - (uint32_t)bottom);

	*ok = c >= 1 && c <= (__int128)UINT64_MAX;
	return *ok ? (uint64_t)c : 0;
}

static const uint32_t windows[] = {
	1,   2,	  3,   31,   32,   33,	 63,   64,   65,    127,   128,
	129, 255, 256, 1023, 1024, 1025, 4096, 8191, 32768, 65535, 65536,
};

static uint32_t
pick_window(struct fz_in *in, uint8_t kind)
{
	if (kind < 4)
		return windows[fz_u8(in) % RTE_DIM(windows)];
	return fz_u32(in) % ESPGW_REPLAY_WINDOW_MAX + 1;
}

/* A 64-bit number near an edge the input names. */
static uint64_t
pick_seq(struct fz_in *in, uint8_t form, uint64_t top, uint32_t win)
{
	uint16_t d = fz_u16(in);

	switch (form & 7) {
	case 0: return top + 1 + (d & 0xff);
	case 1: return top - d;
	case 2: return top + fz_u32(in);
	case 3: return fz_u64(in);
	case 4: return top - win + (int16_t)d;
	case 5: return ((uint64_t)fz_u8(in) << 32) + (int16_t)d;
	case 6: return UINT64_MAX - d;
	default: return top;
	}
}

static void
check_same(struct espgw_replay *r, uint64_t s)
{
	FZ_CHECK(espgw_replay_check(r, s) == model_check(&md, s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct espgw_sa_params p;
	struct espgw_replay *r;
	struct espgw_sa *sa;
	uint8_t flags = fz_u8(&in);
	uint64_t iseq;

	memset(&p, 0, sizeof(p));
	p.dir = ESPGW_SA_IN;
	p.spi = 1;
	p.src.family = p.dst.family = AF_INET;
	p.src.v4 = htonl(0xc0000201);
	p.dst.v4 = htonl(0xc6336401);
	p.key_len = 20;
	p.icv_len = 16;
	p.esn = flags & 1;
	p.replay_window = pick_window(&in, flags >> 1 & 7);
	/* a window several workers share: its compare-and-swap path */
	p.replay_shared = flags & 0x10;
	iseq = pick_seq(&in, fz_u8(&in), 0, p.replay_window);
	/* without ESN the counter is 32 bits (RFC 4303 section 2.2) */
	p.iseq = p.esn ? iseq : (uint32_t)iseq;

	/* the window as the SA makes it, from iseq */
	sa = fz_sa(&p);
	r = espgw_sa_replay(sa);
	memset(&md, 0, sizeof(md));
	md.esn = p.esn;
	md.win = p.replay_window;
	md.top = md.floor = p.iseq;
	FZ_CHECK(r->top == md.top && r->win == md.win);

	for (unsigned int n = 0; n < MAX_OPS && in.n > 0; n++) {
		uint8_t op = fz_u8(&in);
		uint64_t want = pick_seq(&in, op >> 2, md.top, md.win), s;
		bool ok = true;
		int rc, mrc;

		if (md.esn) {
			/* only the low half is on the wire */
			s = espgw_replay_infer(r, (uint32_t)want);
			want = model_infer(&md, (uint32_t)want, &ok);
			FZ_CHECK(!ok || s == want);
		} else {
			s = want = (uint32_t)want;
		}
		switch (op & 3) {
		case 0: /* the pre-check, before the ICV */
			rc = espgw_replay_check(r, s);
			mrc = ok ? model_check(&md, s) : rc;
			break;
		case 1: /* inbound's order: check, ICV good, update */
			rc = espgw_replay_check(r, s);
			mrc = ok ? model_check(&md, s) : rc;
			if (rc == ESPGW_OK && mrc == ESPGW_OK) {
				rc = espgw_replay_update(r, s);
				mrc = model_update(&md, s);
			}
			break;
		default: /* an update whose check the same burst passed */
			rc = espgw_replay_update(r, s);
			mrc = ok ? model_update(&md, s) : rc;
			break;
		}
		/* no number past 2^64 - 1 or below 1 is ever taken */
		FZ_CHECK(ok || rc != ESPGW_OK);
		FZ_CHECK(rc == mrc);
		FZ_CHECK(r->top == md.top);
	}

	/* and every number at the window's edges and near the top */
	for (uint32_t d = 0; d < 8; d++) {
		check_same(r, md.top - d);
		check_same(r, md.top + d);
		check_same(r, md.top - md.win + d - 4);
	}
	espgw_sa_free(sa);
	return 0;
}

/* Sequential numbers, a gap, numbers replayed and reordered, for each
 * kind of window and start. */
void
fz_seeds(void)
{
	static const uint8_t starts[][10] = {
		/* flags, window index, start form and number */
		{ 0x00, 7, 0x00, 0, 0 },	  /* 64, from 1 */
		{ 0x01, 7, 0x05, 0x00, 0x10, 1 }, /* ESN, near 2^32 */
		{ 0x01, 21, 0x06, 0x00, 0x40 },	  /* ESN 65536, 2^64 */
		{ 0x00, 0, 0x01, 0x00, 0x02 },	  /* window 1, start 0 */
		{ 0x09, 0x00, 0x00, 0x01, 0x00, 0x00, 0x10 }, /* ESN 257 */
		{ 0x00, 21, 0x05, 0x00, 0x00, 0x00 },	      /* 2^32 - 2^32 */
	};
	static const uint8_t ops[] = {
		0x01, 0x00, 0x00,			  /* top + 1 */
		0x01, 0x00, 0x00, 0x01, 0x00, 0x05,	  /* a gap of 5 */
		0x05, 0x00, 0x02,			  /* top - 2: new */
		0x05, 0x00, 0x02,			  /* again: replayed */
		0x11, 0x00, 0x01,			  /* bottom + 1 */
		0x09, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, /* a jump */
		0x02, 0x00, 0x00,			  /* update, no check */
	};
	uint8_t buf[sizeof(starts[0]) + sizeof(ops)];

	for (size_t i = 0; i < RTE_DIM(starts); i++) {
		memcpy(buf, starts[i], sizeof(starts[i]));
		memcpy(buf + sizeof(starts[i]), ops, sizeof(ops));
		fz_seed(buf, sizeof(buf));
	}
}
