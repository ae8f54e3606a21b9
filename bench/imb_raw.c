/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* imb_raw [seconds-per-cell]: AES-128-GCM ceiling of each intel-ipsec-mb
 * API on this core, to pick the data path's API from. */

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <intel-ipsec-mb.h>

#include "imb_ceiling.h"

static const uint32_t sizes[] = { 64, 512, 1420 };
static const enum imb_ceiling_api apis[] = {
	IMB_CEIL_DIRECT,
	IMB_CEIL_JOB,
	IMB_CEIL_BURST,
};

#define NB_SIZES (sizeof(sizes) / sizeof(sizes[0]))
#define NB_APIS (sizeof(apis) / sizeof(apis[0]))

int
main(int argc, char **argv)
{
	double secs = 0.5, ops[NB_SIZES][2][NB_APIS];
	const char *arch = "unknown";
	int failed = 0;
	size_t s, a;
	int enc;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [seconds-per-cell]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;

		secs = strtod(argv[1], &end);
		if (end == argv[1] || *end != '\0' || !(secs > 0.0)) {
			fprintf(stderr, "%s: bad seconds '%s'\n", argv[0],
				argv[1]);
			return 2;
		}
	}

	printf("intel-ipsec-mb %s, AES-128-GCM, 8 B AAD, 12 B IV, 16 B tag, in "
	       "place, %d buffers, %.2f s/cell\n",
	       imb_get_version_str(), IMB_CEIL_NB_BUFS, secs);
	printf("%5s  %-3s  %-6s  %9s  %8s  %7s\n", "size", "dir", "api",
	       "Mops/s", "Gbit/s", "vs best");

	for (s = 0; s < NB_SIZES; s++) {
		for (enc = 1; enc >= 0; enc--) {
			double best = 0.0;

			for (a = 0; a < NB_APIS; a++) {
				const char *ar;
				double r = imb_ceiling_ops(apis[a], enc,
							   sizes[s], secs, &ar);

				ops[s][enc][a] = r;
				if (r > best)
					best = r;
				if (r >= 0.0)
					arch = ar;
				else if (r != IMB_CEIL_ERR_UNSUPPORTED)
					failed = 1;
			}
			for (a = 0; a < NB_APIS; a++) {
				double r = ops[s][enc][a];

				printf("%5u  %-3s  %-6s  ", (unsigned)sizes[s],
				       enc ? "enc" : "dec",
				       imb_ceiling_api_name(apis[a]));
				if (r == IMB_CEIL_ERR_UNSUPPORTED)
					printf("%9s\n", "unsupported");
				else if (r < 0.0)
					printf("%9s\n", "error");
				else
					/* payload bits only, no ESP overhead */
					printf("%9.2f  %8.2f  %6.1f%%\n",
					       r / 1e6,
					       r * sizes[s] * 8.0 / 1e9,
					       100.0 * r / best);
			}
		}
	}
	printf("arch: %s\n", arch);

	/* One line per size so the choice reads at a glance. */
	for (s = 0; s < NB_SIZES; s++) {
		printf("fastest at %4u B:", (unsigned)sizes[s]);
		for (enc = 1; enc >= 0; enc--) {
			size_t best = 0;

			for (a = 1; a < NB_APIS; a++)
				if (ops[s][enc][a] > ops[s][enc][best])
					best = a;
			if (ops[s][enc][best] <= 0.0)
				printf("  %s none", enc ? "enc" : "dec");
			else
				printf("  %s %s", enc ? "enc" : "dec",
				       imb_ceiling_api_name(apis[best]));
		}
		printf("\n");
	}
	return failed;
}
