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
#include <string.h>
#include <unistd.h>

#include <intel-ipsec-mb.h>

#include "imb_ceiling.h"

#define MAX_LENS 32
#define MAX_REPS 32

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-s seconds] [-r reps] [-a direct|job|burst|all] "
		"LEN...\n",
		prog);
}

static int
parse_api(const char *s, enum imb_ceiling_api *apis, unsigned int *nb)
{
	if (strcmp(s, "all") == 0) {
		apis[0] = IMB_CEIL_DIRECT;
		apis[1] = IMB_CEIL_JOB;
		apis[2] = IMB_CEIL_BURST;
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
main(int argc, char **argv)
{
	enum imb_ceiling_api apis[3] = { IMB_CEIL_DIRECT };
	unsigned int nb_apis = 1, nb_lens = 0, reps = 1;
	uint32_t lens[MAX_LENS];
	const char *arch = "unknown";
	double secs = 1.0;
	int c, failed = 0;

	while ((c = getopt(argc, argv, "s:r:a:h")) != -1) {
		char *end;

		switch (c) {
		case 's':
			secs = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(secs > 0.0)) {
				fprintf(stderr, "bad seconds '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			reps = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || reps < 1 || reps > MAX_REPS) {
				fprintf(stderr, "reps: 1..%d\n", MAX_REPS);
				return 2;
			}
			break;
		case 'a':
			if (parse_api(optarg, apis, &nb_apis) != 0) {
				fprintf(stderr, "bad api '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout, argv[0]); return 0;
		default: usage(stderr, argv[0]); return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		char *end;
		unsigned long v = strtoul(argv[i], &end, 10);

		if (*end != '\0' || v < 1 || v > 9600 || nb_lens == MAX_LENS) {
			fprintf(stderr,
				"bad length '%s' (1..9600, at most %d)\n",
				argv[i], MAX_LENS);
			return 2;
		}
		lens[nb_lens++] = (uint32_t)v;
	}
	if (nb_lens == 0) {
		usage(stderr, argv[0]);
		return 2;
	}

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
