/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The replay window (lib/replay.h: RFC 4303 section 3.4.3, RFC 6479's
 * ring of blocks, appendix A's seq-hi inference) against a model that
 * keeps what it has seen in a plain set: each check, update and
 * inferred number must agree, and so must the window's top.
 *
 * Input: a flags byte (ESN, window kind, shared or not, claimed by
 * owners or not), the window, the SA's first iseq, then operations of
 * a byte and a sequence number each, the number given relative to the
 * top, the window's bottom, 2^32 or 2^64 so that the edges are found.
 *
 * Claimed by N owners, each operation is one worker's: the number's
 * owner (or, as the op byte says, another worker, refused not-owner),
 * in its view of the window (espgw_replay_view), which stays open over
 * the worker's next operations while the op byte says its run goes on,
 * and is published when it ends; so one owner may work from an edge
 * another has moved since. An extra byte names the owner whose top the
 * number is relative to. The model keeps each owner's top, the top it
 * published and each open view's edge (test_replay.c's per-owner
 * model). Claimed with flag bit 4 (the shared bit, else unused then),
 * the runs go to the owners as a map read from the input says
 * (--spread-weights; any map, an owner with no run too), not in turn. */

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "sa.h"

enum { MAX_OPS = 4096, SET_CAP = 2 * MAX_OPS };

/* workers of a claimed window: the owners, and one past them */
enum { WORKERS = ESPGW_REPLAY_OWNERS_MAX + 1 };

/* The model: every number up to floor counts as seen (the SA starts
 * with iseq received, as sa.c sets its window), and so does every
 * member of set (open addressing, 0 is empty: 0 is never accepted).
 * Claimed by owners (0: not), top is the highest of otop, each owner's
 * top, which it judges "behind" by; ptop is what it published (at the
 * end of its last run), edge the edge of worker w's open view. */
struct model {
	bool esn;
	uint16_t owners;
	struct espgw_replay_map map; /* claimed: which owner has which run */
	uint32_t win;
	uint64_t top, floor;
	uint64_t otop[WORKERS], ptop[WORKERS], edge[WORKERS];
	bool open[WORKERS];
	uint64_t set[SET_CAP];
};

static struct model md;
static struct espgw_replay_view views[WORKERS];

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

/* RFC 4303 section 3.4.3 in its own words: left of the window seen
 * from top, a duplicate within it, or new. Claimed, worker w may only
 * take its own numbers, and judges from its own top. */
static int
model_check(const struct model *m, uint16_t w, uint64_t s)
{
	uint64_t top = m->top;

	if (m->owners) {
		if (espgw_replay_map_owner(&m->map, (uint32_t)s, m->owners) !=
		    w)
			return ESPGW_DROP_NOT_OWNER;
		top = m->otop[w];
	}
	if (s == 0)
		return ESPGW_DROP_BEHIND_WINDOW;
	if (s > top)
		return ESPGW_OK;
	if (top - s >= m->win)
		return ESPGW_DROP_BEHIND_WINDOW;
	return seen(m, s) ? ESPGW_DROP_REPLAYED : ESPGW_OK;
}

static int
model_update(struct model *m, uint16_t w, uint64_t s)
{
	int rc = model_check(m, w, s);

	if (rc != ESPGW_OK)
		return rc;
	m->top = RTE_MAX(m->top, s);
	if (m->owners) {
		m->otop[w] = RTE_MAX(m->otop[w], s);
		m->edge[w] = RTE_MAX(m->edge[w], s);
	}
	add(m, s);
	return ESPGW_OK;
}

/* The highest top the owners published: what a view starts from. */
static uint64_t
model_published(const struct model *m)
{
	uint64_t t = 0;

	for (uint16_t w = 0; w < m->owners; w++)
		t = RTE_MAX(t, m->ptop[w]);
	return t;
}

/* RFC 4303 appendix A2.1 said another way: the number whose low half is
 * lo in the 2^32 numbers that start at the bottom of a window whose top
 * is top. Below 1 or above 2^64 - 1 there is no such number (*ok
 * false). */
static uint64_t
model_infer(const struct model *m, uint64_t top, uint32_t lo, bool *ok)
{
	__int128 bottom = (__int128)top - m->win + 1;
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

/* How many owners the flags' bits 5-7 ask for: 0 (not claimed), or 2 to
 * 32, a power of two. */
static uint16_t
pick_owners(uint8_t k)
{
	return k == 0 ? 0 : (uint16_t)(1u << ((k - 1) % 5 + 1));
}

/* A map of 1 to 32 runs (a power of two), each run's owner from the
 * input. */
static void
pick_map(struct fz_in *in, uint16_t owners, struct espgw_replay_map *m)
{
	memset(m, 0, sizeof(*m));
	m->runs = (uint8_t)(1u << (fz_u8(in) % 6));
	for (unsigned int i = 0; i < m->runs; i++)
		m->owner[i] = (uint8_t)(fz_u8(in) % owners);
}

/* A window of one worker, or shared: one operation, and the top after. */
static void
op_plain(struct espgw_replay *r, uint8_t op, uint64_t want)
{
	bool ok = true;
	uint64_t s;
	int rc, mrc;

	if (md.esn) {
		/* only the low half is on the wire */
		s = espgw_replay_infer(r, (uint32_t)want);
		want = model_infer(&md, md.top, (uint32_t)want, &ok);
		FZ_CHECK(!ok || s == want);
	} else {
		s = want = (uint32_t)want;
	}
	switch (op & 3) {
	case 0: /* the pre-check, before the ICV */
		rc = espgw_replay_check(r, s);
		mrc = ok ? model_check(&md, 0, s) : rc;
		break;
	case 1: /* inbound's order: check, ICV good, update */
		rc = espgw_replay_check(r, s);
		mrc = ok ? model_check(&md, 0, s) : rc;
		if (rc == ESPGW_OK && mrc == ESPGW_OK) {
			rc = espgw_replay_update(r, s);
			mrc = model_update(&md, 0, s);
		}
		break;
	default: /* an update whose check the same burst passed */
		rc = espgw_replay_update(r, s);
		mrc = ok ? model_update(&md, 0, s) : rc;
		break;
	}
	/* no number past 2^64 - 1 or below 1 is ever taken */
	FZ_CHECK(ok || rc != ESPGW_OK);
	FZ_CHECK(rc == mrc);
	FZ_CHECK(r->top == md.top);
}

/* Worker w's view, begun if it has none open: from the highest top the
 * owners published, and its own. */
static struct espgw_replay_view *
view_of(struct espgw_replay *r, uint16_t w)
{
	struct espgw_replay_view *v = &views[w];

	if (!md.open[w]) {
		espgw_replay_view_begin(r, w, v);
		md.open[w] = true;
		md.edge[w] = model_published(&md);
		/* a worker past the owners has no top */
		FZ_CHECK(v->edge == md.edge[w] &&
			 v->mine == (w < md.owners ? md.otop[w] : 0));
	}
	return v;
}

/* The end of worker w's run: its top published. */
static void
view_close(struct espgw_replay *r, uint16_t w)
{
	if (!md.open[w])
		return;
	espgw_replay_view_end(r, &views[w]);
	md.open[w] = false;
	if (w < md.owners) {
		md.ptop[w] = md.otop[w];
		FZ_CHECK(*espgw_replay_owner_top(r, w) == md.ptop[w]);
	}
}

/* Claimed by owners: one operation by the number's owner or, op bit 6,
 * by another worker (bit 7: one past the owners, else the next owner),
 * in the worker's view; bit 5: its run goes on (the view stays open). */
static void
op_claim(struct espgw_replay *r, uint8_t op, uint64_t want)
{
	uint32_t lo = (uint32_t)want;
	uint16_t w = espgw_replay_map_owner(&md.map, lo, md.owners);
	struct espgw_replay_view *v;
	bool ok = true;
	uint64_t s;
	int rc, mrc;

	if (op & 0x40)
		w = op & 0x80 ? md.owners : (uint16_t)((w + 1) % md.owners);
	v = view_of(r, w);
	if (md.esn) {
		s = espgw_replay_infer_at(r, v->edge, lo);
		want = model_infer(&md, md.edge[w], lo, &ok);
		FZ_CHECK(!ok || s == want);
	} else {
		s = want = lo;
	}
	switch (op & 3) { /* as op_plain's */
	case 0:
		rc = espgw_replay_claim_check(r, v, s);
		mrc = ok ? model_check(&md, w, s) : rc;
		break;
	case 1:
		rc = espgw_replay_claim_check(r, v, s);
		mrc = ok ? model_check(&md, w, s) : rc;
		if (rc == ESPGW_OK && mrc == ESPGW_OK) {
			rc = espgw_replay_claim_update(r, v, s);
			mrc = model_update(&md, w, s);
		}
		break;
	default:
		rc = espgw_replay_claim_update(r, v, s);
		mrc = ok ? model_update(&md, w, s) : rc;
		break;
	}
	FZ_CHECK(ok || rc != ESPGW_OK);
	FZ_CHECK(rc == mrc);
	FZ_CHECK(v->edge == md.edge[w]);
	FZ_CHECK(w >= md.owners || v->mine == md.otop[w]);
	/* claimed, the header is read-only: the workers keep their tops */
	FZ_CHECK(r->top == md.floor);
	if (!(op & 0x20))
		view_close(r, w);
}

static void
check_same(struct espgw_replay *r, uint64_t s)
{
	struct espgw_replay_view v;
	uint16_t w;

	if (!md.owners) {
		FZ_CHECK(espgw_replay_check(r, s) == model_check(&md, 0, s));
		return;
	}
	/* by its owner, in a fresh view */
	w = espgw_replay_map_owner(&md.map, (uint32_t)s, md.owners);
	espgw_replay_view_begin(r, w, &v);
	FZ_CHECK(espgw_replay_claim_check(r, &v, s) == model_check(&md, w, s));
}

/* Every number at the window's edges and near the top seen from top. */
static void
check_edges(struct espgw_replay *r, uint64_t top)
{
	for (uint32_t d = 0; d < 8; d++) {
		check_same(r, top - d);
		check_same(r, top + d);
		check_same(r, top - md.win + d - 4);
	}
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
	/* claimed by owners (workers 0 to N - 1), or a window several
	 * workers share: its compare-and-swap path */
	p.replay_owners = pick_owners(flags >> 5);
	p.nb_workers = p.replay_owners;
	p.replay_shared = !p.replay_owners && (flags & 0x10);
	if (p.replay_owners && (flags & 0x10))
		pick_map(&in, p.replay_owners, &p.replay_map);
	iseq = pick_seq(&in, fz_u8(&in), 0, p.replay_window);
	/* without ESN the counter is 32 bits (RFC 4303 section 2.2) */
	p.iseq = p.esn ? iseq : (uint32_t)iseq;

	/* the window as the SA makes it, from iseq */
	sa = fz_sa(&p);
	r = espgw_sa_replay(sa);
	memset(&md, 0, sizeof(md));
	memset(views, 0, sizeof(views));
	md.esn = p.esn;
	md.owners = p.replay_owners;
	md.map = p.replay_map;
	md.win = p.replay_window;
	md.top = md.floor = p.iseq;
	for (uint16_t w = 0; w < md.owners; w++)
		md.otop[w] = md.ptop[w] = p.iseq;
	FZ_CHECK(r->top == md.top && r->win == md.win);

	for (unsigned int n = 0; n < MAX_OPS && in.n > 0; n++) {
		uint8_t op = fz_u8(&in);
		/* claimed: relative to the top of the owner the next byte
		 * names */
		uint64_t top =
			md.owners ? md.otop[fz_u8(&in) % md.owners] : md.top;
		uint64_t want = pick_seq(&in, op >> 2, top, md.win);

		if (md.owners)
			op_claim(r, op, want);
		else
			op_plain(r, op, want);
	}

	/* and every number at the window's edges and near the top: of
	 * each owner's own when claimed, once every run has ended */
	for (uint16_t w = 0; w <= md.owners; w++)
		view_close(r, w);
	FZ_CHECK(espgw_replay_highest(r) == md.top);
	FZ_CHECK(espgw_sa_replay_seq(sa) == md.top);
	check_edges(r, md.top);
	for (uint16_t w = 0; w < md.owners; w++)
		check_edges(r, md.otop[w]);
	espgw_sa_free(sa);
	return 0;
}

/* Sequential numbers, a gap, numbers replayed and reordered, for each
 * kind of window and start; claimed by owners, one owner running
 * ahead of another, runs that go on, and numbers offered to a worker
 * that does not own them. */
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
	static const uint8_t claim_starts[][10] = {
		{ 0x20, 7, 0x00, 0, 0 },	  /* 2 owners, 64, from 1 */
		{ 0x21, 7, 0x05, 0x00, 0x10, 1 }, /* ESN, near 2^32 */
		{ 0x41, 9, 0x05, 0x00, 0x00, 1 }, /* 4, ESN 127, 2^32 */
		{ 0xa1, 21, 0x06, 0x00, 0x40 },	  /* 32, ESN 65536, 2^64 */
		{ 0x60, 0, 0x01, 0x00, 0x02 },	  /* 8 owners, window 1 */
		{ 0x80, 13, 0x00, 0x00, 0x00 },	  /* 16 owners, 1024 */
	};
	static const uint8_t claim_ops[] = {
		/* op, the owner it is relative to, the number */
		0x01, 0, 0x00, 0x00, /* owner 0's top + 1 */
		0x01, 0, 0x00, 0xff, /* + 256: the next owner's */
		0x21, 1, 0x00, 0xff, /* its run goes on, ahead */
		0x01, 1, 0x00, 0x00, /* and ends */
		0x01, 0, 0x00, 0x01, /* owner 0 from its own top */
		0x05, 0, 0x00, 0x02, /* top - 2: new */
		0x05, 0, 0x00, 0x02, /* again: replayed */
		0x41, 0, 0x00, 0x00, /* to the next owner: not its */
		0xc1, 1, 0x00, 0x00, /* to a worker past the owners */
		0x11, 1, 0x00, 0x01, /* owner 1's bottom + 1 */
		0x1d, 0, 0x00, 0x00, /* owner 0's top */
		0x22, 1, 0x00, 0x40, /* update, no check, the run on */
		0x01, 0, 0x00, 0x40, /* while owner 0 takes one */
		0x09, 0, 0x80, 0x00, 0x00, 0x00, 0x00, /* a jump */
	};
	uint8_t buf[sizeof(claim_starts[0]) + sizeof(claim_ops)];

	for (size_t i = 0; i < RTE_DIM(starts); i++) {
		memcpy(buf, starts[i], sizeof(starts[i]));
		memcpy(buf + sizeof(starts[i]), ops, sizeof(ops));
		fz_seed(buf, sizeof(starts[i]) + sizeof(ops));
	}
	for (size_t i = 0; i < RTE_DIM(claim_starts); i++) {
		memcpy(buf, claim_starts[i], sizeof(claim_starts[i]));
		memcpy(buf + sizeof(claim_starts[i]), claim_ops,
		       sizeof(claim_ops));
		fz_seed(buf, sizeof(buf));
	}
}
