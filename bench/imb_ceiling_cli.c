/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* imb_ceiling_cli [-s seconds] [-r reps] [-a direct|job|burst|all] LEN...
 *
 * The crypto ceiling for bench/run.py: raw intel-ipsec-mb AES-128-GCM
 * encrypt and decrypt calls per second on this core (pin it with taskset)
 * for each payload length given (the bytes GCM processes: ESP payload +
 * padding + trailer), ESP-shaped (8-byte AAD, 12-byte nonce, 16-byte ICV,
 * in place, 256 buffers round robin; see imb_ceiling.h). Prints one JSON
 * object on stdout:
 *
 *   {"imb_version": "1.3.0", "arch": "avx512", "seconds": 1.0, "reps": 3,
 *    "results": [{"len": 48, "api": "direct",
 *                 "enc": [ops/s, ...], "dec": [ops/s, ...]}, ...]}
 *
 * Exits 1 when any cell fails (wrong tag, setup error). */

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <intel-ipsec-mb.h>

#include "imb_ceiling.h"

#define MAX_LENS IMB_CEIL_MAX_LENS
#define MAX_REPS 32

int
main(int argc, char **argv)
{
	struct imb_ceiling_args args = { .secs = 1.0,
					 .reps = 1,
					 .max_reps = MAX_REPS,
					 .apis = { IMB_CEIL_DIRECT },
					 .nb_apis = 1 };
	const char *arch = "unknown";
	int rc, failed = 0;

	rc = imb_ceiling_args_parse(
		argc, argv, &args,
		"[-s seconds] [-r reps] [-a direct|job|burst|all] LEN...");
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (args.nb_lens == 0) {
		fprintf(stderr, "%s: no LEN\n", argv[0]);
		return 2;
	}
	const uint32_t *lens = args.lens;
	const enum imb_ceiling_api *apis = args.apis;
	const unsigned int nb_lens = args.nb_lens, nb_apis = args.nb_apis,
			   reps = args.reps;
	const double secs = args.secs;

	/* Each length and direction in turn within a repetition, so slow
	 * phases of a shared machine spread over all cells. */
	double r[MAX_LENS][3][2][MAX_REPS];

	for (unsigned int k = 0; k < reps; k++)
		for (unsigned int l = 0; l < nb_lens; l++)
			for (unsigned int a = 0; a < nb_apis; a++)
				for (int e = 0; e < 2; e++) {
					const char *ar = NULL;
					double v = imb_ceiling_ops(
						apis[a], e == 0, lens[l], secs,
						&ar);

					r[l][a][e][k] = v;
					if (v < 0.0) {
						if (v !=
						    IMB_CEIL_ERR_UNSUPPORTED)
							failed = 1;
					} else if (ar != NULL) {
						arch = ar;
					}
				}

	printf("{\"imb_version\": \"%s\", \"arch\": \"%s\", \"seconds\": %g, "
	       "\"reps\": %u, \"results\": [",
	       imb_get_version_str(), arch, secs, reps);
	for (unsigned int l = 0; l < nb_lens; l++)
		for (unsigned int a = 0; a < nb_apis; a++) {
			printf("%s\n  {\"len\": %u, \"api\": \"%s\"",
			       l + a ? "," : "", lens[l],
			       imb_ceiling_api_name(apis[a]));
			for (int e = 0; e < 2; e++) {
				printf(", \"%s\": [", e == 0 ? "enc" : "dec");
				for (unsigned int k = 0; k < reps; k++)
					printf("%s%.1f", k ? ", " : "",
					       r[l][a][e][k]);
				printf("]");
			}
			printf("}");
		}
	printf("\n]}\n");
	return failed;
}
