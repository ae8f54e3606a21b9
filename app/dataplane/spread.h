/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_SPREAD_H
#define ESPGW_DATAPLANE_SPREAD_H

/* One SA on every worker (--spread-esp; issue 15, target 4). RSS keeps
 * a tunnel's outer flow on one RX queue, so the worker that receives an
 * ESP packet (its dispatcher) hands it to the worker owning its
 * sequence number's run of 256 (espgw_esp_seq_owner(), which the ESP
 * library's window enforces), over a ring a pair of workers. The owner
 * decrypts and carries the packet as far as its frame on a port, all
 * within its own loop and table set, and gives the frames back; the
 * dispatcher sends them in the order it received what made them. So no
 * pointer into a table set crosses a quiescent state, only packets. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/ctx.h"
#include "dataplane/worker.h"

struct gw;

/* Segments a dispatcher may have with its owners at once: each is one
 * receive burst's packets for one owner, ended by a marker. */
#define GW_SPREAD_SEGS 64
/* Entries of a ring between two workers (packets, frames, markers). */
#define GW_SPREAD_RING 4096
/* What a reader takes from its ring at a time. */
#define GW_SPREAD_TAKE 64

/* One direction of a ring between two workers, with what was taken
 * from it and not yet used (a burst may end inside a segment). */
struct gw_spread_rd {
	struct rte_ring *r;
	unsigned int pos, n;
	void *buf[GW_SPREAD_TAKE];
};

/* A worker's side of spreading. in[d]: segments dispatcher d sends it
 * to decrypt; back[o]: the frames owner o made of the segments this
 * worker sent it (on worker 0, also those o sends on a port where it has
 * no TX queue). sched: the owners of this worker's open segments, in
 * the order they were received; open[o]: how many of them are o's. */
struct gw_spread {
	struct gw_spread_rd in[GW_MAX_WORKERS], back[GW_MAX_WORKERS];
	uint8_t sched[GW_SPREAD_SEGS];
	uint8_t open[GW_MAX_WORKERS];
	unsigned int sched_head, sched_n;
};

/* Rings for every pair of workers (main lcore, before they run);
 * 0 or -ENOMEM. gw_spread_fini undoes it. */
int gw_spread_init(struct gw *gw);
void gw_spread_fini(struct gw *gw);

/* n ESP packets for one of our addresses, received by this worker:
 * hand each to its owner (this worker too) as one segment an owner. */
void gw_spread_dispatch(struct gw_ctx *c, struct rte_mbuf **esp,
			unsigned int n);

/* May this worker receive a burst? Not while its open segments could
 * not take one more burst's: the owners are behind, and packets wait in
 * the NIC's queue (or the NIC drops them, imissed) rather than being
 * received only to be dropped. */
static inline bool
gw_spread_room(const struct gw_worker *w, unsigned int nb)
{
	return w->spread->sched_n + nb <= GW_SPREAD_SEGS;
}

/* Decrypt the segments others sent, send back their frames, and send
 * the frames of this worker's own segments that are next in order.
 * Returns the packets and frames handled (0: nothing to do). */
unsigned int gw_spread_poll(struct gw_ctx *c);

/* While an owner works on a segment its frames go back to the
 * segment's dispatcher: tx.c's flush hands them here. */
void gw_spread_stage(struct gw_ctx *c, uint16_t port);

/* Frames of a worker with no TX queue on port, made outside a segment
 * (a held packet released, an ARP request of its own): worker 0, which
 * has queue 0 on every port, sends them (tx.c's flush hands them here). */
void gw_spread_hand(struct gw_ctx *c, uint16_t port);

/* Once every worker has stopped: what is still between workers is
 * counted as held-spread (the one fate of a packet at exit). */
void gw_spread_release(struct gw *gw);

#endif /* ESPGW_DATAPLANE_SPREAD_H */
