/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* AES-128-GCM throughput of intel-ipsec-mb on one core, per API, with ESP
 * shaped operations (8-byte SPI||seq AAD, 12-byte salt||IV nonce, 16-byte
 * ICV after the payload, in place).
 *
 * What intel-ipsec-mb 1.3 does with GCM in each API (from the library's
 * mb_mgr_burst_async.h and mb_mgr_code.h, checked by running this file
 * against Debian's 1.3-2 on an AVX-512/VAES machine):
 *  - DIRECT calls the arch's gcm128_enc/dec function straight away.
 *  - JOB: IMB_SUBMIT_JOB validates the job, then runs GCM synchronously
 *    inside the submit (GCM has no multi-buffer lanes), so each submit
 *    hands back a completed job. The validation and bookkeeping (plus two
 *    376-byte memcpy()s per job seen in submit_job_avx512_t2) cost about
 *    25-30 ns a job on top of the same GCM code.
 *  - BURST: the generic IMB_SUBMIT_BURST validates every job with the job
 *    API's checks and dispatches each one the way IMB_SUBMIT_JOB does, so
 *    GCM is accepted and completes within the submit. Only the
 *    type-specific IMB_SUBMIT_CIPHER_BURST lacks it: in 1.3 it takes CBC
 *    and CTR only and fails GCM with IMB_ERR_CIPH_MODE, so it isn't used.
 * Should some library reject GCM in IMB_SUBMIT_BURST after all (or have
 * no burst API), imb_ceiling_ops() returns IMB_CEIL_ERR_UNSUPPORTED. */

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <intel-ipsec-mb.h>

#include "imb_ceiling.h"

enum {
	NB_BUFS = IMB_CEIL_NB_BUFS, /* power of two: round robin by mask */
	BURST = 32,
	BATCH = NB_BUFS, /* ops between two clock reads */
	KEY_LEN = 16,
	AAD_LEN = 8,
	IV_LEN = 12,
	TAG_LEN = 16,
	MAX_LEN = 65535, /* an IPv4 datagram; bounds memory */
	ALIGN = 64,
};

_Static_assert((NB_BUFS & (NB_BUFS - 1)) == 0, "NB_BUFS must be 2^n");
_Static_assert(BATCH % BURST == 0, "a batch is whole bursts");

/* Per-buffer nonce and AAD, as an ESP implementation would build them
 * next to the packet; two slots share a cache line. */
struct slot_meta {
	uint8_t iv[16];	 /* salt(4) || explicit IV(8) */
	uint8_t aad[16]; /* SPI(4) || seq(4) */
};

/* One GCM operation: where the payload, nonce, AAD and tag live. */
struct op {
	uint8_t *buf;
	const uint8_t *iv;
	const uint8_t *aad;
	uint8_t *tag;
};

struct ceil {
	IMB_MGR *mgr;
	struct gcm_key_data *key;
	uint8_t *data; /* NB_BUFS slots of `stride` bytes */
	struct slot_meta *meta;
	uint8_t (*tag)[TAG_LEN]; /* computed tags when decrypting */
	uint32_t len;
	uint32_t stride; /* payload + ICV, rounded to a line */
	int enc;
	uint32_t next; /* round-robin slot */
	uint32_t seq;
};

static const char *
arch_name(IMB_ARCH arch)
{
	switch (arch) {
	case IMB_ARCH_NOAESNI: return "noaesni";
	case IMB_ARCH_SSE: return "sse";
	case IMB_ARCH_AVX: return "avx";
	case IMB_ARCH_AVX2: return "avx2";
	case IMB_ARCH_AVX512: return "avx512";
	default: return "unknown";
	}
}

const char *
imb_ceiling_api_name(enum imb_ceiling_api api)
{
	switch (api) {
	case IMB_CEIL_DIRECT: return "direct";
	case IMB_CEIL_JOB: return "job";
	case IMB_CEIL_BURST: return "burst";
	}
	return "?";
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *
zalloc(size_t size)
{
	void *p;

	/* C11 wants the size to be a multiple of the alignment */
	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	p = aligned_alloc(ALIGN, size);
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Next slot, with a fresh sequence number in AAD and IV like a real SA
 * would have; costs the same two stores whichever API runs. The numbers
 * are written AHEAD operations before their slot is used, as a gateway
 * builds a burst's nonces a pass before its cipher calls: GCM reads
 * nonce and AAD with masked vector loads, which wait for stores still
 * in flight (~12 ns a call at 48 bytes when written just before). */
static inline void
next_op(struct ceil *c, struct op *o)
{
	enum { AHEAD = BURST };
	uint32_t i = c->next;
	struct slot_meta *m = &c->meta[i];
	struct slot_meta *fut = &c->meta[(i + AHEAD) & (NB_BUFS - 1)];
	uint32_t seq = ++c->seq + AHEAD;

	c->next = (i + 1) & (NB_BUFS - 1);
	put_be32(fut->aad + 4, seq);
	memcpy(fut->iv + 8, &seq, sizeof(seq));
	o->buf = c->data + (size_t)i * c->stride;
	o->iv = m->iv;
	o->aad = m->aad;
	/* encrypt writes the ICV after the payload; decrypt must not
	 * overwrite the received one, so its tag goes aside */
	o->tag = c->enc ? o->buf + c->len : c->tag[i];
}

static inline void
direct_one(IMB_MGR *mgr, const struct gcm_key_data *key, int enc, uint32_t len,
	   const struct op *o)
{
	struct gcm_context_data ctx;

	if (enc)
		IMB_AES128_GCM_ENC(mgr, key, &ctx, o->buf, o->buf, len, o->iv,
				   o->aad, AAD_LEN, o->tag, TAG_LEN);
	else
		IMB_AES128_GCM_DEC(mgr, key, &ctx, o->buf, o->buf, len, o->iv,
				   o->aad, AAD_LEN, o->tag, TAG_LEN);
}

/* Every field GCM reads: slots are recycled, so nothing may be left
 * over from the previous job in the same slot. */
static inline void
job_fill(IMB_JOB *job, const struct gcm_key_data *key, int enc, uint32_t len,
	 const struct op *o)
{
	job->cipher_mode = IMB_CIPHER_GCM;
	job->hash_alg = IMB_AUTH_AES_GMAC;
	if (enc) {
		job->cipher_direction = IMB_DIR_ENCRYPT;
		job->chain_order = IMB_ORDER_CIPHER_HASH;
	} else {
		job->cipher_direction = IMB_DIR_DECRYPT;
		job->chain_order = IMB_ORDER_HASH_CIPHER;
	}
	job->key_len_in_bytes = IMB_KEY_128_BYTES;
	job->enc_keys = key;
	job->dec_keys = key;
	job->src = o->buf;
	job->dst = o->buf;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = o->iv;
	job->iv_len_in_bytes = IV_LEN;
	job->u.GCM.aad = o->aad;
	job->u.GCM.aad_len_in_bytes = AAD_LEN;
	job->auth_tag_output = o->tag;
	job->auth_tag_output_len_in_bytes = TAG_LEN;
}

static int
job_status_ok(IMB_MGR *mgr, const IMB_JOB *job, const char *what)
{
	int err;

	if (job->status == IMB_STATUS_COMPLETED)
		return 1;
	err = imb_get_errno(mgr);
	fprintf(stderr, "imb_ceiling: %s: job status %d, errno %d (%s)\n", what,
		(int)job->status, err, err ? imb_get_strerror(err) : "-");
	return 0;
}

/* Submit one job and retire whatever completes. */
static inline int
job_submit(IMB_MGR *mgr, const struct gcm_key_data *key, int enc, uint32_t len,
	   const struct op *o, uint64_t *done)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);

	job_fill(job, key, enc, len, o);
	job = IMB_SUBMIT_JOB(mgr);
	if (job == NULL) {
		int err = imb_get_errno(mgr);

		if (err != 0) {
			fprintf(stderr, "imb_ceiling: IMB_SUBMIT_JOB: %s\n",
				imb_get_strerror(err));
			return -1;
		}
		return 0;
	}
	while (job != NULL) {
		if (!job_status_ok(mgr, job, "IMB_SUBMIT_JOB"))
			return -1;
		(*done)++;
		job = IMB_GET_COMPLETED_JOB(mgr);
	}
	return 0;
}

static int
job_flush(IMB_MGR *mgr, uint64_t *done)
{
	IMB_JOB *job;

	while ((job = IMB_FLUSH_JOB(mgr)) != NULL) {
		if (!job_status_ok(mgr, job, "IMB_FLUSH_JOB"))
			return -1;
		(*done)++;
	}
	return 0;
}

#ifdef IMB_GET_NEXT_BURST
/* Errors that mean "this API does not do GCM" rather than a bad job. */
static int
burst_err_unsupported(int err)
{
	return err == IMB_ERR_CIPH_MODE || err == IMB_ERR_HASH_ALGO;
}

static int
burst_retire(IMB_MGR *mgr, IMB_JOB **jobs, uint32_t n, uint64_t *done,
	     const char *what)
{
	uint32_t k;

	for (k = 0; k < n; k++)
		if (!job_status_ok(mgr, jobs[k], what))
			return -1;
	*done += n;
	return 0;
}

/* Submit n jobs as one burst: from `fixed` (n == 1, sanity check) or the
 * next n round-robin slots. Returns 0, -1 or IMB_CEIL_ERR_UNSUPPORTED. */
static int
burst_submit(struct ceil *c, const struct op *fixed, int enc, uint32_t n,
	     uint64_t *done)
{
	IMB_MGR *mgr = c->mgr;
	IMB_JOB *jobs[BURST];
	uint32_t got, k, r;

	got = IMB_GET_NEXT_BURST(mgr, n, jobs);
	if (got < n) {
		/* queue full of unfinished jobs (never for GCM): retire */
		r = IMB_FLUSH_BURST(mgr, n, jobs);
		if (burst_retire(mgr, jobs, r, done, "IMB_FLUSH_BURST") < 0)
			return -1;
		got = IMB_GET_NEXT_BURST(mgr, n, jobs);
		if (got < n) {
			fprintf(stderr,
				"imb_ceiling: IMB_GET_NEXT_BURST: %u of %u "
				"jobs\n",
				got, n);
			return -1;
		}
	}
	for (k = 0; k < n; k++) {
		struct op o;

		if (fixed == NULL)
			next_op(c, &o);
		else
			o = *fixed;
		job_fill(jobs[k], c->key, enc, c->len, &o);
	}
	r = IMB_SUBMIT_BURST(mgr, n, jobs);
	if (r == 0) {
		int err = imb_get_errno(mgr);

		if (err != 0) {
			/* jobs[0] is the job it did not like */
			fprintf(stderr,
				"imb_ceiling: IMB_SUBMIT_BURST: %s (job status "
				"%d)\n",
				imb_get_strerror(err), (int)jobs[0]->status);
			return burst_err_unsupported(err)
				       ? (int)IMB_CEIL_ERR_UNSUPPORTED
				       : -1;
		}
	}
	return burst_retire(mgr, jobs, r, done, "IMB_SUBMIT_BURST");
}

static int
burst_flush(IMB_MGR *mgr, uint64_t *done)
{
	IMB_JOB *jobs[BURST];
	uint32_t r;

	while ((r = IMB_FLUSH_BURST(mgr, BURST, jobs)) > 0)
		if (burst_retire(mgr, jobs, r, done, "IMB_FLUSH_BURST") < 0)
			return -1;
	return 0;
}
#endif /* IMB_GET_NEXT_BURST */

/* Whether this library and manager have the generic burst API at all. */
static int
burst_available(const IMB_MGR *mgr)
{
#ifdef IMB_GET_NEXT_BURST
	return mgr->get_next_burst != NULL && mgr->submit_burst != NULL &&
	       mgr->flush_burst != NULL;
#else
	(void)mgr;
	return 0;
#endif
}

/* One timed batch of BATCH operations; returns jobs completed or -1.
 * For DIRECT every call completes its operation. */
static int64_t
run_batch(struct ceil *c, enum imb_ceiling_api api)
{
	uint64_t done = 0;
	struct op o;
	uint32_t n;

	switch (api) {
	case IMB_CEIL_DIRECT:
		for (n = 0; n < BATCH; n++) {
			next_op(c, &o);
			direct_one(c->mgr, c->key, c->enc, c->len, &o);
		}
		return BATCH;
	case IMB_CEIL_JOB:
		for (n = 0; n < BATCH; n++) {
			next_op(c, &o);
			if (job_submit(c->mgr, c->key, c->enc, c->len, &o,
				       &done) < 0)
				return -1;
		}
		return (int64_t)done;
	case IMB_CEIL_BURST:
#ifdef IMB_GET_NEXT_BURST
		for (n = 0; n < BATCH; n += BURST)
			if (burst_submit(c, NULL, c->enc, BURST, &done) != 0)
				return -1;
		return (int64_t)done;
#else
		return -1;
#endif
	}
	return -1;
}

/* Retire what is still queued (JOB/BURST); returns jobs or -1. */
static int64_t
run_flush(struct ceil *c, enum imb_ceiling_api api)
{
	uint64_t done = 0;
	int rc = 0;

	if (api == IMB_CEIL_JOB)
		rc = job_flush(c->mgr, &done);
#ifdef IMB_GET_NEXT_BURST
	else if (api == IMB_CEIL_BURST)
		rc = burst_flush(c->mgr, &done);
#endif
	return rc < 0 ? -1 : (int64_t)done;
}

/* One operation through `api`, to completion. 0, -1 or UNSUPPORTED. */
static int
one_op(struct ceil *c, enum imb_ceiling_api api, int enc, const struct op *o)
{
	uint64_t done = 0;
	int rc = 0;

	switch (api) {
	case IMB_CEIL_DIRECT:
		direct_one(c->mgr, c->key, enc, c->len, o);
		return 0;
	case IMB_CEIL_JOB:
		if (job_submit(c->mgr, c->key, enc, c->len, o, &done) < 0 ||
		    job_flush(c->mgr, &done) < 0)
			return -1;
		break;
	case IMB_CEIL_BURST:
#ifdef IMB_GET_NEXT_BURST
		rc = burst_submit(c, o, enc, 1, &done);
		if (rc != 0)
			return rc;
		if (burst_flush(c->mgr, &done) < 0)
			return -1;
		break;
#else
		return (int)IMB_CEIL_ERR_UNSUPPORTED;
#endif
	}
	if (done != 1) {
		fprintf(stderr,
			"imb_ceiling: %s: %llu jobs completed, want 1\n",
			imb_ceiling_api_name(api), (unsigned long long)done);
		return -1;
	}
	return rc;
}

static int
check_eq(const void *got, const void *want, size_t n, const char *what)
{
	if (memcmp(got, want, n) == 0)
		return 0;
	fprintf(stderr, "imb_ceiling: sanity check failed: %s\n", what);
	return -1;
}

/* GCM test case 2 of McGrew & Viega: zero key, zero IV, one zero block,
 * no AAD. Pins DIRECT, which the other APIs are compared against. */
static int
direct_kat(IMB_MGR *mgr)
{
	static const uint8_t ct[16] = {
		0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92,
		0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78,
	};
	static const uint8_t tag[16] = {
		0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd,
		0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd, 0xdf,
	};
	uint8_t zero[KEY_LEN] = { 0 }, iv[IV_LEN] = { 0 };
	uint8_t buf[16] = { 0 }, out_tag[TAG_LEN];
	struct gcm_context_data ctx;
	struct gcm_key_data *key = zalloc(sizeof(*key));
	int rc;

	if (key == NULL)
		return -1;
	IMB_AES128_GCM_PRE(mgr, zero, key);
	IMB_AES128_GCM_ENC(mgr, key, &ctx, buf, buf, sizeof(buf), iv, zero, 0,
			   out_tag, TAG_LEN);
	rc = check_eq(buf, ct, sizeof(ct), "direct KAT ciphertext");
	if (rc == 0)
		rc = check_eq(out_tag, tag, sizeof(tag), "direct KAT tag");
	free(key);
	return rc;
}

/* Encrypt the same plaintext with `api` and with DIRECT: ciphertext and
 * tag must match; decrypting with `api` must give the plaintext and the
 * same tag back. */
static double
sanity(struct ceil *c, enum imb_ceiling_api api)
{
	uint8_t *pt = zalloc(c->stride), *a = zalloc(c->stride);
	uint8_t *b = zalloc(c->stride), *tags = zalloc(3 * TAG_LEN);
	struct slot_meta *m = zalloc(sizeof(*m));
	struct op oa, ob;
	double ret = IMB_CEIL_ERR_CHECK;
	uint32_t i;
	int rc;

	if (pt == NULL || a == NULL || b == NULL || tags == NULL || m == NULL) {
		ret = IMB_CEIL_ERR_SETUP;
		goto out;
	}
	if (direct_kat(c->mgr) < 0)
		goto out;

	for (i = 0; i < c->len; i++)
		pt[i] = (uint8_t)(i * 131 + 7);
	memcpy(m->iv,
	       "\xca\xfe\xba\xbe"
	       "\x00\x01\x02\x03\x04\x05\x06\x07",
	       IV_LEN);
	memcpy(m->aad,
	       "\x00\x00\x10\x01"
	       "\x00\x00\x00\x2a",
	       AAD_LEN);
	memcpy(a, pt, c->len);
	memcpy(b, pt, c->len);
	oa = (struct op){ .buf = a, .iv = m->iv, .aad = m->aad, .tag = tags };
	ob = (struct op){
		.buf = b, .iv = m->iv, .aad = m->aad, .tag = tags + TAG_LEN
	};

	rc = one_op(c, api, 1, &oa);
	if (rc != 0) {
		ret = rc == (int)IMB_CEIL_ERR_UNSUPPORTED
			      ? IMB_CEIL_ERR_UNSUPPORTED
			      : IMB_CEIL_ERR_CHECK;
		goto out;
	}
	direct_one(c->mgr, c->key, 1, c->len, &ob);
	if (check_eq(a, b, c->len, "ciphertext differs from direct") < 0 ||
	    check_eq(oa.tag, ob.tag, TAG_LEN, "tag differs from direct") < 0)
		goto out;
	if (memcmp(a, pt, c->len) == 0) {
		fprintf(stderr, "imb_ceiling: sanity check failed: nothing "
				"encrypted\n");
		goto out;
	}

	oa.tag = tags + 2 * TAG_LEN;
	if (one_op(c, api, 0, &oa) != 0)
		goto out;
	if (check_eq(a, pt, c->len, "decrypt does not give the plaintext") <
		    0 ||
	    check_eq(oa.tag, ob.tag, TAG_LEN, "decrypt computes another tag") <
		    0)
		goto out;
	ret = 0;
out:
	free(pt);
	free(a);
	free(b);
	free(tags);
	free(m);
	return ret;
}

static void
ceil_free(struct ceil *c)
{
	if (c->mgr != NULL)
		free_mb_mgr(c->mgr);
	free(c->key);
	free(c->data);
	free(c->meta);
	free(c->tag);
}

static int
ceil_init(struct ceil *c, int enc, uint32_t len)
{
	static const uint8_t key[KEY_LEN] = {
		0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
		0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
	};
	size_t i;

	c->len = len;
	c->enc = enc;
	c->stride = (len + TAG_LEN + ALIGN - 1) & ~(uint32_t)(ALIGN - 1);
	c->key = zalloc(sizeof(*c->key));
	c->data = zalloc((size_t)NB_BUFS * c->stride);
	c->meta = zalloc(NB_BUFS * sizeof(*c->meta));
	c->tag = zalloc(NB_BUFS * sizeof(*c->tag));
	if (c->key == NULL || c->data == NULL || c->meta == NULL ||
	    c->tag == NULL) {
		fprintf(stderr, "imb_ceiling: out of memory\n");
		return -1;
	}
	IMB_AES128_GCM_PRE(c->mgr, key, c->key);

	/* Fault the pages in now, not in the timed loop. */
	for (i = 0; i < (size_t)NB_BUFS * c->stride; i++)
		c->data[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < NB_BUFS; i++) {
		memcpy(c->meta[i].iv, "\xca\xfe\xba\xbe", 4);
		put_be32(c->meta[i].aad, 0x1001); /* SPI */
	}
	return 0;
}

double
imb_ceiling_run(const struct imb_ceiling_cell *cell, const char **arch)
{
	struct ceil c = { 0 };
	IMB_ARCH a = IMB_ARCH_NONE;
	double ret = IMB_CEIL_ERR_SETUP, t0, t;
	enum imb_ceiling_api api = cell->api;
	int own_mgr = cell->mgr == NULL, ready = 0;
	uint64_t done = 0;
	int64_t r;
	int err;

	if (arch != NULL)
		*arch = "unknown";
	if ((api != IMB_CEIL_DIRECT && api != IMB_CEIL_JOB &&
	     api != IMB_CEIL_BURST) ||
	    cell->len == 0 || cell->len > MAX_LEN || !(cell->seconds >= 0.0)) {
		fprintf(stderr, "imb_ceiling: bad arguments\n");
		goto out;
	}

	if (own_mgr) {
		c.mgr = alloc_mb_mgr(0);
		if (c.mgr == NULL) {
			fprintf(stderr, "imb_ceiling: alloc_mb_mgr failed\n");
			goto out;
		}
		init_mb_mgr_auto(c.mgr, &a);
		err = imb_get_errno(c.mgr);
		if (err != 0 || a == IMB_ARCH_NONE) {
			fprintf(stderr, "imb_ceiling: init_mb_mgr_auto: %s\n",
				err ? imb_get_strerror(err) : "no arch");
			goto out;
		}
	} else {
		c.mgr = cell->mgr;
		a = (IMB_ARCH)c.mgr->used_arch;
	}
	if (arch != NULL)
		*arch = arch_name(a);
	if (api == IMB_CEIL_BURST && !burst_available(c.mgr)) {
		fprintf(stderr, "imb_ceiling: library %s has no burst API\n",
			imb_get_version_str());
		ret = IMB_CEIL_ERR_UNSUPPORTED;
		goto out;
	}
	if (ceil_init(&c, cell->enc, cell->len) < 0)
		goto out;

	ret = sanity(&c, api);
	if (ret < 0)
		goto out;

	/* Warm caches, branch predictors and clocks untimed, and leave
	 * the queue empty so only timed jobs get counted. */
	ret = IMB_CEIL_ERR_CHECK;
	if (run_batch(&c, api) < 0 || run_flush(&c, api) < 0)
		goto out;

	ready = 1;
	if (cell->ready != NULL)
		cell->ready(cell->arg, 1);
	t0 = now();
	do {
		r = run_batch(&c, api);
		if (r < 0)
			goto out;
		done += (uint64_t)r;
		t = now();
	} while (t - t0 < cell->seconds);
	r = run_flush(&c, api);
	if (r < 0)
		goto out;
	done += (uint64_t)r;
	t = now();
	ret = (double)done / (t - t0);
out:
	if (!ready && cell->ready != NULL)
		cell->ready(cell->arg, 0);
	if (!own_mgr)
		c.mgr = NULL;
	ceil_free(&c);
	return ret;
}

double
imb_ceiling_ops(enum imb_ceiling_api api, int enc, uint32_t len, double seconds,
		const char **arch)
{
	const struct imb_ceiling_cell cell = {
		.api = api,
		.enc = enc,
		.len = len,
		.seconds = seconds,
	};

	return imb_ceiling_run(&cell, arch);
}

static int
parse_api(const char *s, enum imb_ceiling_api *apis, unsigned int *nb)
{
	if (strcmp(s, "all") == 0) {
		for (int a = IMB_CEIL_DIRECT; a <= IMB_CEIL_BURST; a++)
			apis[a] = a;
		*nb = 3;
		return 0;
	}
	for (int a = IMB_CEIL_DIRECT; a <= IMB_CEIL_BURST; a++)
		if (strcmp(s, imb_ceiling_api_name(a)) == 0) {
			apis[0] = a;
			*nb = 1;
			return 0;
		}
	return -1;
}

int
imb_ceiling_args_parse(int argc, char **argv, struct imb_ceiling_args *a,
		       const char *synopsis)
{
	int c;

	while ((c = getopt(argc, argv, "s:r:a:h")) != -1) {
		char *end;

		switch (c) {
		case 's':
			a->secs = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(a->secs > 0.0)) {
				fprintf(stderr, "bad seconds '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			a->reps = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || a->reps < 1 ||
			    a->reps > a->max_reps) {
				fprintf(stderr, "-r: 1..%u\n", a->max_reps);
				return 2;
			}
			break;
		case 'a':
			if (parse_api(optarg, a->apis, &a->nb_apis) != 0) {
				fprintf(stderr, "bad api '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': printf("usage: %s %s\n", argv[0], synopsis); return 1;
		default:
			fprintf(stderr, "usage: %s %s\n", argv[0], synopsis);
			return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		char *end;
		unsigned long v = strtoul(argv[i], &end, 10);

		if (*end != '\0' || v < 1 || v > 9600 ||
		    a->nb_lens == IMB_CEIL_MAX_LENS) {
			fprintf(stderr,
				"bad length '%s' (1..9600, at most %d)\n",
				argv[i], IMB_CEIL_MAX_LENS);
			return 2;
		}
		a->lens[a->nb_lens++] = (uint32_t)v;
	}
	return 0;
}
