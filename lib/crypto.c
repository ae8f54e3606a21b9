/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Control plane of the crypto library: one intel-ipsec-mb manager per
 * worker (a worker is its lcore's manager and its counters), plus one
 * shared by SA creation for key expansion. */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include <rte_malloc.h>

#include "crypto.h"

static IMB_MGR *ctl_mgr;
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* intel-ipsec-mb before 1.4 stores 0 to a process-wide imb_errno (a
 * plain global, not thread-local) on entry to every GCM call, so two
 * workers take its cache line from each other on every packet: each
 * then gets 0.63 (encrypt) and 0.69 (decrypt) of the rate it has with
 * a global of its own, at 64 bytes on two cores (bench/imb_scaling,
 * docs/performance-analysis.md). A copy of the library loaded with
 * dlmopen() into a new link namespace has a global of its own, so each
 * worker gets one while glibc has namespaces left (11 in a small
 * program, by the default static TLS); the rest share the linked copy.
 * Copies are never closed, as a namespace's static TLS is not given
 * back: a freed worker's copy goes to the next worker. */
#define NB_COPIES 15 /* glibc's namespaces less the base one */

struct espgw_imb_copy {
	void *handle;
	IMB_MGR *(*alloc)(uint64_t flags);
	void (*init)(IMB_MGR *mgr, IMB_ARCH *arch);
	void (*free)(IMB_MGR *mgr);
	int used; /* by a worker */
};

/* the library the program links, for key expansion, for a library
 * that does not store, and when no copy is left */
static struct espgw_imb_copy linked = { NULL, alloc_mb_mgr, init_mb_mgr_auto,
					free_mb_mgr, 0 };
static struct espgw_imb_copy copies[NB_COPIES];
static unsigned int nb_copies;
static int copies_failed; /* dlmopen refused once: stop trying */

static int
copy_load(struct espgw_imb_copy *c)
{
	c->handle = dlmopen(LM_ID_NEWLM, "libIPSec_MB.so.1", RTLD_NOW);
	if (c->handle == NULL)
		return -1;
	c->alloc = (IMB_MGR * (*)(uint64_t)) dlsym(c->handle, "alloc_mb_mgr");
	c->init = (void (*)(IMB_MGR *, IMB_ARCH *))dlsym(c->handle,
							 "init_mb_mgr_auto");
	c->free = (void (*)(IMB_MGR *))dlsym(c->handle, "free_mb_mgr");
	/* kept open even so: closing would not give its TLS back */
	return c->alloc && c->init && c->free ? 0 : -1;
}

/* A private copy for a new worker, else the linked one. */
static struct espgw_imb_copy *
copy_get(void)
{
	struct espgw_imb_copy *c = NULL;

	if (imb_get_version() >= IMB_VERSION(1, 4, 0))
		return &linked; /* stores only when the value changes */
	pthread_mutex_lock(&ctl_lock);
	for (unsigned int i = 0; i < nb_copies && c == NULL; i++)
		if (!copies[i].used)
			c = &copies[i];
	if (c == NULL && !copies_failed && nb_copies < NB_COPIES) {
		if (copy_load(&copies[nb_copies]) == 0)
			c = &copies[nb_copies++];
		else
			copies_failed = 1;
	}
	if (c != NULL)
		c->used = 1;
	pthread_mutex_unlock(&ctl_lock);
	return c != NULL ? c : &linked;
}

static void
copy_put(struct espgw_imb_copy *c)
{
	if (c == &linked)
		return; /* shared by all, never taken */
	pthread_mutex_lock(&ctl_lock);
	c->used = 0;
	pthread_mutex_unlock(&ctl_lock);
}

/* Allocate a manager with the best code path the CPU has, from `copy`
 * of the library. */
static IMB_MGR *
mgr_open(const struct espgw_imb_copy *copy, const char **arch_name)
{
	IMB_ARCH arch = IMB_ARCH_NONE;
	IMB_MGR *m = copy->alloc(0);

	if (m == NULL)
		return NULL;
	copy->init(m, &arch);
	/* the manager's own errno: a copy's global is not the linked one */
	if (m->imb_errno != 0) {
		copy->free(m);
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
		ctl_mgr = mgr_open(&linked, NULL);
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
	w->imb = copy_get();
	w->mgr = mgr_open(w->imb, &w->arch);
	if (w->mgr == NULL && w->imb != &linked) {
		copy_put(w->imb);
		w->imb = &linked;
		w->mgr = mgr_open(w->imb, &w->arch);
	}
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
	w->imb->free(w->mgr);
	copy_put(w->imb);
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
