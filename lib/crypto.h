/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CRYPTO_H
#define ESPGW_CRYPTO_H

/* The crypto library as espgw uses it: a worker is one lcore's
 * intel-ipsec-mb manager with its direct GCM calls; keys are expanded
 * once, when an SA is made. Internal to the library. */

#include <stdint.h>

#include <intel-ipsec-mb.h>
#include <rte_common.h>

#include "espgw/esp.h"

/* AES key sizes, as an index into the worker's GCM function tables. */
enum espgw_key_size { ESPGW_AES128, ESPGW_AES192, ESPGW_AES256, ESPGW_NB_KS };

struct espgw_imb_copy;

/* The worker: one per lcore, never shared. */
struct espgw_worker {
	IMB_MGR *mgr;
	struct espgw_imb_copy
		*imb; /* its copy of the library, or the linked one */
	aes_gcm_enc_dec_t enc[ESPGW_NB_KS];
	aes_gcm_enc_dec_t dec[ESPGW_NB_KS];
	const char *arch;
	uint16_t id;
	uint64_t drops[ESPGW_DROP_MAX];
} __rte_cache_aligned;

/* Expand an AES-GCM key with a control-plane manager (thread-safe). */
int espgw_gcm_expand(enum espgw_key_size ks, const uint8_t *key,
		     struct gcm_key_data *out);

#endif /* ESPGW_CRYPTO_H */
