/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_BENCH_IMB_CEILING_H
#define ESPGW_BENCH_IMB_CEILING_H

/* "Crypto ceiling": how many AES-128-GCM ESP-shaped operations per second
 * one core gets out of intel-ipsec-mb with no packet I/O at all, per API.
 * The data path can never beat this, so it bounds what to expect. */

#include <stdint.h>

#include <intel-ipsec-mb.h>

enum imb_ceiling_api { IMB_CEIL_DIRECT, IMB_CEIL_JOB, IMB_CEIL_BURST };

/* The `bufs` below: 256 buffers of up to 1.4 KiB is ~400 KiB, past L1
 * but inside a typical 1-2 MiB L2, like a burst of mbufs in flight. */
#define IMB_CEIL_NB_BUFS 256

/* Negative returns of imb_ceiling_ops(), so a caller can tell "this API
 * cannot do GCM" (print "unsupported") from a real failure. */
#define IMB_CEIL_ERR_SETUP (-1.0)	/* bad argument, alloc or init failed */
#define IMB_CEIL_ERR_UNSUPPORTED (-2.0) /* API rejects GCM jobs */
#define IMB_CEIL_ERR_CHECK (-3.0)	/* wrong result or job status */

/* Encrypt (enc=1) or decrypt (enc=0) `bufs` buffers of `len` bytes each, round
 * robin, with AES-128-GCM, 8-byte AAD (like ESP's SPI||seq), 12-byte IV,
 * 16-byte tag, in place, using the given intel-ipsec-mb API, for at least
 * `seconds` seconds of wall time (CLOCK_MONOTONIC; check the clock every batch,
 * not every op). Returns operations per second; fills *arch with the name of
 * the code path (e.g. "avx512", "avx2", "sse") when arch != NULL. Returns
 * negative on setup failure. */
double imb_ceiling_ops(enum imb_ceiling_api api, int enc, uint32_t len,
		       double seconds, const char **arch);

/* One cell of imb_ceiling_ops() with the knobs a multi-threaded caller
 * needs (bench/imb_scaling.c). */
struct imb_ceiling_cell {
	enum imb_ceiling_api api;
	int enc;
	uint32_t len;
	double seconds;
	/* An initialised manager to run on, left allocated; NULL to have
	 * one allocated and freed. A caller's manager may come from another
	 * copy of the library (dlmopen), hence no init here. */
	IMB_MGR *mgr;
	/* Called exactly once when set: with ok = 1 after set-up and
	 * warm-up, just before the clock starts, so threads can start their
	 * timed loops together; with ok = 0 if set-up failed before that. */
	void (*ready)(void *arg, int ok);
	void *arg;
};

double imb_ceiling_run(const struct imb_ceiling_cell *cell, const char **arch);
const char *imb_ceiling_api_name(enum imb_ceiling_api api);

/* The command line the GCM benchmarks share:
 *   [-s seconds] [-r N] [-a direct|job|burst|all] [LEN...]
 * Set the defaults in *a (and max_reps, the most -r may say) first. */
#define IMB_CEIL_MAX_LENS 32
struct imb_ceiling_args {
	double secs;	   /* -s */
	unsigned int reps; /* -r, 1 to max_reps */
	unsigned int max_reps;
	enum imb_ceiling_api apis[3]; /* -a */
	unsigned int nb_apis;
	uint32_t lens[IMB_CEIL_MAX_LENS]; /* LEN: 1 to 9600 bytes */
	unsigned int nb_lens;
};
/* 0; 1 after -h (usage on stdout); 2 on a bad word (said on stderr).
 * synopsis: the usage line after the program's name. */
int imb_ceiling_args_parse(int argc, char **argv, struct imb_ceiling_args *a,
			   const char *synopsis);

#endif /* ESPGW_BENCH_IMB_CEILING_H */
