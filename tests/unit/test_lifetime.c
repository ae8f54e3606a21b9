/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* SA time limits (control/lifetime.c) against the kernel's rules, with
 * a clock of our own: each kind reaches soft, then hard; a use limit
 * runs from the first use only; 0 is no limit; hard wins. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "control/lifetime.h"

static void
test_times(void **state)
{
	struct espgw_cfg_lifetime l = { .soft_add = 10, .hard_add = 20 };

	(void)state;
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 109), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 110), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 119), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 120), GW_HARD);
	/* time-use-*: from the first use, never before it */
	l = (struct espgw_cfg_lifetime){ .soft_use = 5, .hard_use = 8 };
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 1000), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&l, 100, 500, 504), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&l, 100, 500, 505), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&l, 100, 500, 508), GW_HARD);
}

/* Bytes and packets are the workers' (lib/life.h, test_limits.c): the
 * timer's rule never looks at them (xfrm_timer_handler), so a state
 * at its byte limit expires on its next packet, not at the next tick. */
static void
test_counts_not_timed(void **state)
{
	struct espgw_cfg_lifetime p = { .soft_packets = 3,
					.hard_packets = 5,
					.hard_bytes = 1 };
	struct espgw_cfg_lifetime none = { 0 };

	(void)state;
	assert_int_equal(gw_lifetime_check(&p, 1, 1, UINT64_MAX), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&none, 1, 1, UINT64_MAX), GW_LIVE);
	assert_false(gw_lifetime_any(&none));
	assert_true(gw_lifetime_any(&p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_counts_not_timed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
