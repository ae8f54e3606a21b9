/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_SA_H
#define ESPGW_SA_H

/* The SA as the data path sees it, and the worker's private state.
 * Internal to the library (and its unit tests). */

#include <stdint.h>

#include <intel-ipsec-mb.h>
#include <rte_common.h>
#include <rte_ip.h>

#include "espgw/esp.h"
#include "esp_wire.h"
#include "replay.h"

/* AES key sizes, as an index into the worker's GCM function tables. */
enum espgw_key_size { ESPGW_AES128, ESPGW_AES192, ESPGW_AES256, ESPGW_NB_KS };

/* Per-worker counters of one SA: each worker writes only its own slot. */
struct espgw_sa_slot {
	struct espgw_sa_stats s;
} __rte_cache_aligned;

struct espgw_sa {
	/* Read-only after creation, read for every packet. */
	struct gcm_key_data key;      /* expanded key and GHASH tables */
	rte_be32_t spi_be;
	uint32_t esn_mask;            /* ~0 with ESN: AAD word 1 is seq-hi */
	uint8_t ks;                   /* enum espgw_key_size */
	uint8_t icv_len;
	uint8_t aad_len;              /* 12 with ESN, else 8 */
	uint8_t aad_off;              /* 0 with ESN, else 4 */
	uint8_t salt[ESPGW_GCM_SALT_LEN];
	uint8_t out;                  /* outbound SA */
	uint8_t replay_on;            /* inbound with a window */
	uint16_t nb_slots;
	uint64_t iv_base;             /* per-SA random, XORed with seq */
	uint64_t seq_limit;           /* last usable outbound seq */
	struct rte_ipv4_hdr outer;    /* template: everything but per-packet */
	uint32_t outer_sum;           /* its header checksum sum, unfolded */

	/* Outbound: last sequence number handed out. Reserved a burst at a
	 * time with one atomic add, so several workers may share the SA. */
	uint64_t oseq __rte_cache_aligned;

	/* Inbound: owned by the one worker that receives this SA. */
	struct espgw_replay *replay __rte_cache_aligned;

	struct espgw_sa_slot *slots;  /* [nb_slots] */
	struct espgw_sa_params params;
};

/* The worker: one per lcore, never shared. */
struct espgw_worker {
	IMB_MGR *mgr;
	aes_gcm_enc_dec_t enc[ESPGW_NB_KS];
	aes_gcm_enc_dec_t dec[ESPGW_NB_KS];
	const char *arch;
	uint16_t id;
	uint64_t drops[ESPGW_DROP_MAX];
} __rte_cache_aligned;

/* Expand an AES-GCM key with a control-plane manager (thread-safe). */
int espgw_gcm_expand(enum espgw_key_size ks, const uint8_t *key,
		     struct gcm_key_data *out);

#endif /* ESPGW_SA_H */
