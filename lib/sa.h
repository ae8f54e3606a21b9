/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_SA_H
#define ESPGW_SA_H

/* The SA as the data path sees it. Internal to the library (and its
 * unit tests). */

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_debug.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "crypto.h"
#include "espgw/esp.h"
#include "esp_wire.h"
#include "replay.h"

/* Per-worker counters of one SA: each worker writes only its own slot. */
struct espgw_sa_slot {
	struct espgw_sa_stats s;
} __rte_cache_aligned;

struct espgw_inb_slice;
struct espgw_outb_slice;

/* A step of the burst code over one run: the consecutive packets of one
 * SA that start at packet k of a slice. Returns where the next run
 * starts. */
typedef uint16_t espgw_inb_run_fn(struct espgw_inb_slice *s, uint16_t k);
typedef uint16_t espgw_outb_run_fn(struct espgw_outb_slice *s, uint16_t k);

/* What one kind of SA does per packet, chosen once when the SA is made
 * (sa_ops_select() in sa.c), as DPDK lib/ipsec picks an SA's burst
 * functions: the burst code calls an SA's steps a run at a time and
 * never tests the SA's settings itself. Each variant is one template
 * instantiated with constant arguments, so its branches fold away. */
struct espgw_sa_ops {
	enum espgw_sa_dir dir;
	/* inbound: lengths, seq-hi (ESN), replay pre-check, nonce, AAD */
	espgw_inb_run_fn *inb_prepare;
	/* inbound: decrypt, verify, move the window, strip */
	espgw_inb_run_fn *inb_open;
	/* outbound: reserve the run's sequence numbers, nonce, AAD */
	espgw_outb_run_fn *outb_number;
	/* outbound: frame (plain ESP or ESP in UDP) and encrypt; k counts
	 * the slice's cipher operations, not its packets */
	espgw_outb_run_fn *outb_seal;
};

/* The variants, in esp_inb.c and esp_outb.c; seal_esp6 frames plain ESP
 * in IPv6 (RFC 4303 section 3.1.2, tunnel mode). */
uint16_t espgw_inb_prepare_no_replay(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_replay(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_replay_esn(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_no_replay(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_replay(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_outb_number_seq32(struct espgw_outb_slice *s, uint16_t k);
uint16_t espgw_outb_number_esn(struct espgw_outb_slice *s, uint16_t k);
uint16_t espgw_outb_seal_esp(struct espgw_outb_slice *s, uint16_t k);
uint16_t espgw_outb_seal_udp(struct espgw_outb_slice *s, uint16_t k);
uint16_t espgw_outb_seal_esp6(struct espgw_outb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_no_replay_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_replay_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_replay_esn_udp(struct espgw_inb_slice *s,
					  uint16_t k);
uint16_t espgw_inb_open_no_replay_lft(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_replay_lft(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_no_replay_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_replay_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_no_replay_lft_udp(struct espgw_inb_slice *s,
					  uint16_t k);
uint16_t espgw_inb_open_replay_lft_udp(struct espgw_inb_slice *s, uint16_t k);
/* an SA spread over workers: its window claimed by owners (replay.h) */
uint16_t espgw_inb_prepare_claim(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_claim_esn(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_claim_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_prepare_claim_esn_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_claim(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_claim_lft(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_claim_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_inb_open_claim_lft_udp(struct espgw_inb_slice *s, uint16_t k);
uint16_t espgw_outb_number_seq32_lft(struct espgw_outb_slice *s, uint16_t k);
uint16_t espgw_outb_number_esn_lft(struct espgw_outb_slice *s, uint16_t k);

/* The far end of the tunnel in one word, so that a NAT rebound the
 * keying side follows (espgw_sa_set_peer) changes address, port and
 * header checksum together: the workers read it in one load. */
union espgw_sa_peer {
	uint64_t word;
	struct {
		rte_be32_t addr; /* outer dst out, outer src in */
		rte_be16_t port; /* ESP in UDP: the peer's port */
		/* outbound: the outer header words that never change
		 * (version/IHL, TTL/protocol, addresses), summed and folded
		 * (RFC 1071), so each packet adds only its own fields */
		uint16_t sum;
	};
};

/* One allocation holds the SA, then its per-worker counter slots
 * [nb_slots], then (inbound) its replay window: every per-packet address
 * is a fixed offset from the SA, so it can be prefetched before the SA's
 * first line arrives. */
struct espgw_sa {
	/* Line 0: everything the data path reads per packet (read-only
	 * after creation). At scale each packet's SA is cold, so one line
	 * must answer every per-packet question. */
	const struct espgw_sa_ops *ops; /* its kind's per-packet steps */
	rte_be32_t spi_be;
	uint32_t esn_mask; /* ~0 with ESN: AAD word 1 is seq-hi */
	uint8_t ks;	   /* enum espgw_key_size */
	uint8_t icv_len;
	uint8_t aad_len; /* 12 with ESN, else 8 */
	uint8_t aad_off; /* 0 with ESN, else 4 */
	uint8_t salt[ESPGW_GCM_SALT_LEN];
	uint16_t nb_slots;
	uint8_t expiry;	  /* ESPGW_SA_SOFT | _HARD | _MAPPING (life.h) */
	bool inbound;	  /* the peer is the outer source */
	rte_be32_t local; /* our end: outer src out, outer dst in */
	uint64_t iv_base; /* per-SA random, XORed with seq */
	union espgw_sa_peer peer;
	uint32_t reqid;	       /* for policy template checks */
	rte_be16_t local_port; /* ESP in UDP (RFC 3948): our port */
	uint8_t outer_len;     /* espgw_sa_outer_len() */
	bool outer6 : 1;       /* IPv6 endpoints: see v6 below */
	bool any_inner : 1;    /* flag af-unspec: either inner family */
	/* Outbound: last sequence number handed out. Reserved a run at a
	 * time with one atomic operation (outb_reserve), so several workers
	 * may share the SA.
	 * On line 0, not a line of its own: at scale that is one cold line
	 * fewer per packet, while workers sharing an SA pay one transfer
	 * of line 0 a run, as they would of a separate line. */
	uint64_t oseq;

	/* Line 1: only SAs with byte or packet limits touch it (life.h),
	 * and inbound ESP in UDP on a new mapping. */
	struct espgw_sa_life {
		uint64_t packets, bytes; /* shared: one atomic add a run */
		/* the limits, UINT64_MAX for none */
		uint64_t soft_packets, hard_packets, soft_bytes, hard_bytes;
		/* inbound ESP in UDP: where the peer's last authentic packet
		 * came from when not the state's address and port (a NAT
		 * rebound), address << 16 | port, network order; 0: none */
		uint64_t mapping;
	} life __rte_cache_aligned;

	/* Line 2: the endpoints of an SA with IPv6 ones (local and peer as
	 * above are 0), read by its outbound seal, which asks for the line
	 * four operations ahead. */
	struct espgw_sa_outer6 {
		uint8_t local[16];
		uint8_t peer[16];
	} v6 __rte_cache_aligned;

	struct gcm_key_data key __rte_cache_aligned; /* expanded key, GHASH */
	struct espgw_sa_params params;		     /* control plane only */
} __rte_cache_aligned;

static inline union espgw_sa_peer
espgw_sa_peer(const struct espgw_sa *sa)
{
	return (union espgw_sa_peer){
		.word = __atomic_load_n(&sa->peer.word, __ATOMIC_RELAXED)
	};
}

static_assert(offsetof(struct espgw_sa, oseq) + sizeof(uint64_t) <=
		      RTE_CACHE_LINE_SIZE,
	      "per-packet SA fields must fit the first cache line");

/* Misuse, not bad input, so fatal and checked once a run: an SA handed
 * to the other direction's burst call, or used by a worker it has no
 * counter slot for (esp.h). */
static inline void
espgw_sa_check_use(const struct espgw_sa *sa, const struct espgw_worker *w,
		   enum espgw_sa_dir dir)
{
	RTE_VERIFY(sa->ops->dir == dir && w->id < sa->nb_slots);
}

/* The last outbound sequence number: without ESN the 32-bit counter
 * must not wrap (RFC 4303 section 3.3.3). */
static inline uint64_t
espgw_seq_limit(bool esn)
{
	return esn ? UINT64_MAX : UINT32_MAX;
}

static inline struct espgw_sa_stats *
espgw_sa_slot(const struct espgw_sa *sa, uint16_t wid)
{
	return &((struct espgw_sa_slot *)(uintptr_t)(sa + 1))[wid].s;
}

/* The replay window (inbound SAs only), behind the slots: cache-line
 * aligned, as its blocks are (replay.h). */
_Static_assert(sizeof(struct espgw_sa) % RTE_CACHE_LINE_SIZE == 0 &&
		       sizeof(struct espgw_sa_slot) % RTE_CACHE_LINE_SIZE == 0,
	       "the replay window behind an SA must be cache-line aligned");

static inline struct espgw_replay *
espgw_sa_replay(const struct espgw_sa *sa)
{
	return (struct espgw_replay
			*)(uintptr_t)((const struct espgw_sa_slot *)(sa + 1) +
				      sa->nb_slots);
}

/* Ask for the lines one packet of this SA will touch, from the SA's
 * address alone: line 0, the worker's counters, the AES round keys
 * (lines 0-3 of the key) and the GHASH powers a short packet uses,
 * HashKey^1..^8 (intel-ipsec-mb stores HashKey^48 first, ^1 last). */
static inline void
espgw_sa_prefetch_key(const struct espgw_sa *sa)
{
	const uint8_t *k = (const uint8_t *)&sa->key;

	for (unsigned int l = 0; l < 4; l++)
		rte_prefetch0(k + l * RTE_CACHE_LINE_SIZE);
	for (unsigned int l = sizeof(sa->key) / RTE_CACHE_LINE_SIZE - 1;
	     l * RTE_CACHE_LINE_SIZE < sizeof(sa->key); l++)
		rte_prefetch0(k + l * RTE_CACHE_LINE_SIZE);
}

static inline void
espgw_sa_prefetch(const struct espgw_sa *sa, uint16_t wid)
{
	rte_prefetch0(sa);
	/* the slot is written, and only by this worker */
	__builtin_prefetch(espgw_sa_slot(sa, wid), 1, 3);
	espgw_sa_prefetch_key(sa);
}

/* RFC 4106 sections 4 and 5: the GCM nonce (salt || explicit IV) and
 * AAD of packet seq, for either direction. Word 1 of the AAD is seq-hi
 * with ESN, else a second copy of the SPI, so that aad_off / aad_len
 * pick SPI || seq (8 bytes) or SPI || seq-hi || seq (12) with no branch. */
static inline void
espgw_gcm_nonce_aad(const struct espgw_sa *sa, uint64_t seq, const void *iv,
		    struct espgw_gcm_nonce *nonce, struct espgw_gcm_aad *aad)
{
	memcpy(nonce->salt, sa->salt, sizeof(nonce->salt));
	memcpy(nonce->iv, iv, ESPGW_GCM_IV_LEN);
	aad->w[0] = sa->spi_be;
	aad->w[1] = (rte_cpu_to_be_32((uint32_t)(seq >> 32)) & sa->esn_mask) |
		    (sa->spi_be & ~sa->esn_mask);
	aad->w[2] = rte_cpu_to_be_32((uint32_t)seq);
}

#endif /* ESPGW_SA_H */
