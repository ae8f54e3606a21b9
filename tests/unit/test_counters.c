/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The counters' sides of the one-fate law (dataplane/counters.h) and
 * what `espgw --counters` prints of them (control/stats.c), which the
 * tests check the law with. A drop or a hold is a fate: a new drop-*
 * counter marked as an event would leave its packets unaccounted for
 * in every run where it stays 0. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/stats.h"

static void
test_sides(void **state)
{
	(void)state;
	for (int c = 0; c < GW_CNT_MAX; c++) {
		const char *n = gw_counter_name(c);
		enum gw_side s = gw_counter_side(c);

		if ((strncmp(n, "drop-", 5) == 0 ||
		     strncmp(n, "held-", 5) == 0) &&
		    s != GW_SIDE_OUT)
			fail_msg("%s is a fate, not side %d", n, s);
		for (int d = 0; d < c; d++)
			if (strcmp(n, gw_counter_name(d)) == 0)
				fail_msg("%s twice", n);
	}
	assert_int_equal(gw_counter_side(GW_RX), GW_SIDE_IN);
	assert_int_equal(gw_counter_side(GW_TX), GW_SIDE_OUT);
}

/* "name side" lines: the counters, drop-esp-in and -out, the reasons */
static void
test_print(void **state)
{
	char *buf, *line, *save;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int n = 0, in = 0, out = 0, reasons = 0;

	(void)state;
	assert_non_null(f);
	gw_stats_counters(f);
	assert_int_equal(fclose(f), 0);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), n++) {
		char name[64], side[16], want[64];

		assert_int_equal(sscanf(line, "%63s %15s", name, side), 2);
		if (n < GW_CNT_MAX) {
			snprintf(want, sizeof(want), "gw.%s",
				 gw_counter_name(n));
			assert_string_equal(name, want);
		} else if (n < GW_CNT_MAX + 2) {
			assert_string_equal(name, n == GW_CNT_MAX
							  ? "gw.drop-esp-in"
							  : "gw.drop-esp-out");
			assert_string_equal(side, "out");
		} else {
			snprintf(want, sizeof(want), "esp.%s",
				 espgw_drop_name(n - GW_CNT_MAX - 2));
			assert_string_equal(name, want);
			assert_string_equal(side, "reason");
		}
		in += strcmp(side, "in") == 0;
		out += strcmp(side, "out") == 0;
		reasons += strcmp(side, "reason") == 0;
	}
	assert_int_equal(n, GW_CNT_MAX + 2 + ESPGW_DROP_MAX);
	assert_int_equal(reasons, ESPGW_DROP_MAX);
	for (int c = 0; c < GW_CNT_MAX; c++) {
		in -= gw_counter_side(c) == GW_SIDE_IN;
		out -= gw_counter_side(c) == GW_SIDE_OUT;
	}
	assert_int_equal(in, 0);
	assert_int_equal(out, 2); /* drop-esp-in and drop-esp-out */
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sides),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
