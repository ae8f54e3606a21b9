/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Control plane of the crypto library: one intel-ipsec-mb manager per
 * worker (a worker is its lcore's manager and its counters), plus one
 * shared by SA creation for key expansion. */

#include <errno.h>
#include <pthread.h>

#include <rte_malloc.h>

#include "crypto.h"

static IMB_MGR *ctl_mgr;
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* Allocate a manager with the best code path the CPU has. */
static IMB_MGR *
mgr_open(const char **arch_name)
{
	IMB_ARCH arch;
	IMB_MGR *m = alloc_mb_mgr(0);

	if (m == NULL)
		return NULL;
	init_mb_mgr_auto(m, &arch);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return NULL;
	}
	if (arch_name != NULL) {
		switch (arch) {
		case IMB_ARCH_SSE: *arch_name = "sse"; break;
		case IMB_ARCH_AVX: *arch_name = "avx"; break;
		case IMB_ARCH_AVX2: *arch_name = "avx2"; break;
		case IMB_ARCH_AVX512: *arch_name = "avx512"; break;
		default: *arch_name = "unknown"; break;
		}
	}
	return m;
}

int
espgw_gcm_expand(enum espgw_key_size ks, const uint8_t *key,
		 struct gcm_key_data *out)
{
	int rc = 0;

	pthread_mutex_lock(&ctl_lock);
	if (ctl_mgr == NULL)
		ctl_mgr = mgr_open(NULL);
	if (ctl_mgr == NULL) {
		rc = -ENOTSUP;
	} else {
		switch (ks) {
		case ESPGW_AES128: IMB_AES128_GCM_PRE(ctl_mgr, key, out); break;
		case ESPGW_AES192: IMB_AES192_GCM_PRE(ctl_mgr, key, out); break;
		case ESPGW_AES256: IMB_AES256_GCM_PRE(ctl_mgr, key, out); break;
		default: rc = -EINVAL; break;
		}
	}
	pthread_mutex_unlock(&ctl_lock);
	return rc;
}

struct espgw_worker *
espgw_worker_create(uint16_t id, int socket_id)
{
	struct espgw_worker *w;

	w = rte_zmalloc_socket("espgw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       socket_id);
	if (w == NULL)
		return NULL;
	w->mgr = mgr_open(&w->arch);
	if (w->mgr == NULL) {
		rte_free(w);
		return NULL;
	}
	/* The direct GCM calls: faster than the job API for one buffer at a
	 * time on every code path measured (bench/imb_raw). */
	w->enc[ESPGW_AES128] = w->mgr->gcm128_enc;
	w->enc[ESPGW_AES192] = w->mgr->gcm192_enc;
	w->enc[ESPGW_AES256] = w->mgr->gcm256_enc;
	w->dec[ESPGW_AES128] = w->mgr->gcm128_dec;
	w->dec[ESPGW_AES192] = w->mgr->gcm192_dec;
	w->dec[ESPGW_AES256] = w->mgr->gcm256_dec;
	w->id = id;
	return w;
}

void
espgw_worker_free(struct espgw_worker *w)
{
	if (w == NULL)
		return;
	free_mb_mgr(w->mgr);
	rte_free(w);
}

void
espgw_worker_drops_read(const struct espgw_worker *w,
			uint64_t drops[ESPGW_DROP_MAX])
{
	for (int i = 0; i < ESPGW_DROP_MAX; i++)
		drops[i] = w->drops[i];
}

const char *
espgw_worker_arch(const struct espgw_worker *w)
{
	return w->arch;
}
