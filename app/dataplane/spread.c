/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* One SA on every worker: dispatch by sequence-number run, decrypt on
 * the owner, send in the order received (spread.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/ipsec.h"
#include "dataplane/spread.h"
#include "dataplane/tx.h"
#include "gw.h"

/* Ends a segment in a ring: the packets (or frames) before it are one
 * receive burst's for one owner. */
static char seg_end_mark;
#define SEG_END ((void *)&seg_end_mark)

int
gw_spread_init(struct gw *gw)
{
	for (unsigned int i = 0; i < gw->nb_workers; i++) {
		struct gw_worker *w = &gw->workers[i];

		w->spread = rte_zmalloc_socket(
			"gw_spread", sizeof(*w->spread), RTE_CACHE_LINE_SIZE,
			(int)rte_lcore_to_socket_id(w->lcore));
		if (w->spread == NULL)
			return -ENOMEM;
	}
	/* in[d] of owner o and back[o] of dispatcher d: each written by
	 * one worker and read by one */
	for (unsigned int o = 0; o < gw->nb_workers; o++) {
		for (unsigned int d = 0; d < gw->nb_workers; d++) {
			struct gw_spread *so = gw->workers[o].spread;
			struct gw_spread *sd = gw->workers[d].spread;
			char name[RTE_RING_NAMESIZE];
			int socket = (int)rte_lcore_to_socket_id(
				gw->workers[o].lcore);

			snprintf(name, sizeof(name), "gws_in_%hhu_%hhu",
				 (uint8_t)d, (uint8_t)o);
			so->in[d].r =
				rte_ring_create(name, GW_SPREAD_RING, socket,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "gws_back_%hhu_%hhu",
				 (uint8_t)o, (uint8_t)d);
			sd->back[o].r =
				rte_ring_create(name, GW_SPREAD_RING, socket,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (so->in[d].r == NULL || sd->back[o].r == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}

void
gw_spread_fini(struct gw *gw)
{
	for (unsigned int i = 0; i < gw->nb_workers; i++) {
		struct gw_spread *s = gw->workers[i].spread;

		if (s == NULL)
			continue;
		for (unsigned int j = 0; j < gw->nb_workers; j++) {
			rte_ring_free(s->in[j].r);
			rte_ring_free(s->back[j].r);
		}
		rte_free(s);
		gw->workers[i].spread = NULL;
	}
}

/* Up to max entries of the current segment; *end when its marker was
 * taken. */
static unsigned int
rd_take(struct gw_spread_rd *rd, void **out, unsigned int max, bool *end)
{
	unsigned int k = 0;

	*end = false;
	while (k < max) {
		void *e;

		if (rd->pos == rd->n) {
			rd->pos = 0;
			rd->n = rte_ring_dequeue_burst(rd->r, rd->buf,
						       GW_SPREAD_TAKE, NULL);
			if (rd->n == 0)
				break;
		}
		e = rd->buf[rd->pos++];
		if (e == SEG_END) {
			*end = true;
			break;
		}
		out[k++] = e;
	}
	return k;
}

/* The worker owning a packet's sequence number, by the map every
 * inbound SA's window was made with; one the library cannot parse stays
 * here, as the library drops it before its window. */
static inline unsigned int
owner_of(struct rte_mbuf *m, const struct gw *gw, unsigned int self)
{
	uint32_t seq;

	if (!espgw_esp_seq_lo(m, &seq))
		return self;
	return espgw_replay_map_owner(&gw->spread_map, seq,
				      (uint16_t)gw->spread);
}

void
gw_spread_dispatch(struct gw_ctx *c, struct rte_mbuf **esp, unsigned int n)
{
	struct gw_spread *sp = c->w->spread;
	unsigned int self = c->w->id;
	void *seg[GW_MAX_WORKERS][GW_BURST + 1];
	unsigned int cnt[GW_MAX_WORKERS] = { 0 };
	uint8_t order[GW_MAX_WORKERS];
	unsigned int nord = 0;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int o = owner_of(esp[i], c->gw, self);

		if (cnt[o] == 0)
			order[nord++] = (uint8_t)o;
		seg[o][cnt[o]++] = esp[i];
	}
	for (unsigned int j = 0; j < nord; j++) {
		unsigned int o = order[j];
		struct rte_ring *r = c->gw->workers[o].spread->in[self].r;

		seg[o][cnt[o]] = SEG_END;
		if (sp->sched_n == GW_SPREAD_SEGS ||
		    rte_ring_enqueue_bulk(r, seg[o], cnt[o] + 1, NULL) == 0) {
			c->w->cnt[GW_DROP_SPREAD_FULL] += cnt[o];
			rte_pktmbuf_free_bulk((struct rte_mbuf **)seg[o],
					      cnt[o]);
			continue;
		}
		sp->sched[(sp->sched_head + sp->sched_n++) % GW_SPREAD_SEGS] =
			(uint8_t)o;
		sp->open[o]++;
	}
}

/* The frames queued for port onto ring r, to the worker that sends
 * them. */
static void
stage_on(struct gw_ctx *c, uint16_t port, struct rte_ring *r)
{
	struct rte_mbuf **m = c->txq[port].m;
	unsigned int n = c->txq[port].n, free_ = rte_ring_free_count(r);
	/* room is kept for the markers of every open segment, so a
	 * segment always ends */
	unsigned int k = free_ > GW_SPREAD_SEGS ? free_ - GW_SPREAD_SEGS : 0;

	if (k > n)
		k = n;
	for (unsigned int i = 0; i < k; i++)
		m[i]->port = port;
	if (k)
		rte_ring_enqueue_bulk(r, (void **)m, k, NULL);
	if (unlikely(k < n)) {
		c->w->cnt[GW_DROP_SPREAD_FULL] += n - k;
		rte_pktmbuf_free_bulk(m + k, n - k);
	}
	c->txq[port].n = 0;
}

void
gw_spread_stage(struct gw_ctx *c, uint16_t port)
{
	stage_on(c, port, c->seg_back);
}

void
gw_spread_hand(struct gw_ctx *c, uint16_t port)
{
	stage_on(c, port, c->gw->workers[0].spread->back[c->w->id].r);
}

/* One segment from dispatcher d, started with pkts[0..k): decrypted and
 * carried to its frames, which go back to d with the marker. */
static unsigned int
owner_segment(struct gw_ctx *c, unsigned int d, struct rte_mbuf **pkts,
	      unsigned int k, bool end)
{
	struct gw_spread_rd *rd = &c->w->spread->in[d];
	unsigned int done = k;

	/* what this loop queued before is not the segment's */
	for (unsigned int p = 0; p < c->t->nb_up; p++)
		gw_tx_flush(c, c->t->up[p]);
	c->seg_back = c->gw->workers[d].spread->back[c->w->id].r;
	for (;;) {
		if (k) {
			gw_ipsec_inbound(c, pkts, k);
			gw_out_flush(c);
		}
		if (end)
			break;
		/* the dispatcher enqueues a segment whole: the rest is
		 * there */
		k = rd_take(rd, (void **)pkts, GW_BURST, &end);
		done += k;
	}
	for (unsigned int p = 0; p < c->t->nb_up; p++)
		if (c->txq[c->t->up[p]].n)
			gw_spread_stage(c, c->t->up[p]);
	RTE_VERIFY(rte_ring_enqueue(c->seg_back, SEG_END) == 0);
	c->seg_back = NULL;
	return done;
}

/* Frames f[0..k) from another worker onto the TX queues of their
 * ports. */
static void
queue_frames(struct gw_ctx *c, struct rte_mbuf **f, unsigned int k)
{
	for (unsigned int i = 0; i < k; i++) {
		uint16_t port = f[i]->port;

		c->txq[port].m[c->txq[port].n++] = f[i];
		if (unlikely(c->txq[port].n == GW_TXQ_MAX))
			gw_tx_flush(c, port);
	}
}

/* Everything rd holds (no marker: its owner has no segment open) onto
 * the TX queues, f the scratch; how many. */
static unsigned int
to_txq(struct gw_ctx *c, struct gw_spread_rd *rd, struct rte_mbuf **f)
{
	unsigned int done = 0, k;
	bool end;

	do {
		k = rd_take(rd, (void **)f, GW_SPREAD_TAKE, &end);
		queue_frames(c, f, k);
		done += k;
	} while (k == GW_SPREAD_TAKE);
	return done;
}

/* The frames of this worker's open segments, in order: the first
 * segment's owner's frames until its marker, then the next. */
static unsigned int
merge(struct gw_ctx *c)
{
	struct gw_spread *sp = c->w->spread;
	struct rte_mbuf *f[GW_SPREAD_TAKE];
	unsigned int done = 0;

	while (sp->sched_n) {
		struct gw_spread_rd *rd = &sp->back[sp->sched[sp->sched_head]];
		bool end;
		unsigned int k = rd_take(rd, (void **)f, GW_SPREAD_TAKE, &end);

		queue_frames(c, f, k);
		done += k;
		if (!end) {
			if (k == GW_SPREAD_TAKE)
				continue;
			break;
		}
		sp->open[sp->sched[sp->sched_head]]--;
		sp->sched_head = (sp->sched_head + 1) % GW_SPREAD_SEGS;
		sp->sched_n--;
	}
	/* an owner with no segment open here has ended every one it had:
	 * what its ring holds now are frames it handed over to be sent */
	if (c->w->id == 0)
		for (unsigned int o = 1; o < c->gw->nb_workers; o++)
			if (sp->open[o] == 0)
				done += to_txq(c, &sp->back[o], f);
	return done;
}

unsigned int
gw_spread_poll(struct gw_ctx *c)
{
	unsigned int done = 0;

	for (unsigned int d = 0; d < c->gw->spread; d++) {
		/* a few segments a dispatcher a loop, so none waits long */
		for (unsigned int s = 0; s < 8; s++) {
			struct rte_mbuf *pkts[GW_BURST];
			bool end;
			unsigned int k = rd_take(&c->w->spread->in[d],
						 (void **)pkts, GW_BURST, &end);

			if (k == 0 && !end)
				break;
			done += owner_segment(c, d, pkts, k, end) + 1;
		}
	}
	return done + merge(c);
}

/* Free what a reader holds and its ring, markers aside; how many. */
static uint64_t
rd_release(struct gw_spread_rd *rd)
{
	uint64_t n = 0;

	for (;;) {
		for (; rd->pos < rd->n; rd->pos++) {
			if (rd->buf[rd->pos] == SEG_END)
				continue;
			rte_pktmbuf_free(rd->buf[rd->pos]);
			n++;
		}
		rd->pos = 0;
		rd->n = rd->r ? rte_ring_dequeue_burst(rd->r, rd->buf,
						       GW_SPREAD_TAKE, NULL)
			      : 0;
		if (rd->n == 0)
			return n;
	}
}

void
gw_spread_release(struct gw *gw)
{
	for (unsigned int i = 0; i < gw->nb_workers; i++) {
		struct gw_spread *s = gw->workers[i].spread;

		if (s == NULL)
			continue;
		for (unsigned int j = 0; j < gw->nb_workers; j++)
			gw->workers[i].cnt[GW_HELD_SPREAD] +=
				rd_release(&s->in[j]) + rd_release(&s->back[j]);
		s->sched_head = s->sched_n = 0;
		memset(s->open, 0, sizeof(s->open));
	}
}
