/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* SA lifetimes (control/lifetime.c) against the kernel's rules, with a
 * clock of our own: each limit kind reaches soft, then hard; a use
 * limit runs from the first use only; 0 is no limit; hard wins. */

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
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 0, 0, 109), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 0, 0, 110), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 0, 0, 119), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 0, 0, 120), GW_HARD);
	/* time-use-*: from the first use, never before it */
	l = (struct espgw_cfg_lifetime){ .soft_use = 5, .hard_use = 8 };
	assert_int_equal(gw_lifetime_check(&l, 100, 0, 0, 0, 1000), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&l, 100, 500, 1, 1, 504), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&l, 100, 500, 1, 1, 505), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&l, 100, 500, 1, 1, 508), GW_HARD);
}

static void
test_counts(void **state)
{
	struct espgw_cfg_lifetime b = { .soft_bytes = 1000,
					.hard_bytes = 2000 };
	struct espgw_cfg_lifetime p = { .soft_packets = 3, .hard_packets = 5 };
	struct espgw_cfg_lifetime none = { 0 };

	(void)state;
	assert_int_equal(gw_lifetime_check(&b, 1, 1, 999, 9, 2), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&b, 1, 1, 1000, 9, 2), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&b, 1, 1, 2000, 9, 2), GW_HARD);
	assert_int_equal(gw_lifetime_check(&p, 1, 1, 1 << 30, 2, 2), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&p, 1, 1, 0, 3, 2), GW_SOFT);
	assert_int_equal(gw_lifetime_check(&p, 1, 1, 0, 5, 2), GW_HARD);
	/* no limit at all, whatever it carried and however old */
	assert_int_equal(gw_lifetime_check(&none, 1, 1, UINT64_MAX, UINT64_MAX,
					   UINT64_MAX),
			 GW_LIVE);
	assert_false(gw_lifetime_any(&none));
	assert_true(gw_lifetime_any(&p));
	/* a hard limit only, reached: hard without a soft one first */
	p = (struct espgw_cfg_lifetime){ .hard_packets = 5 };
	assert_int_equal(gw_lifetime_check(&p, 1, 1, 0, 4, 2), GW_LIVE);
	assert_int_equal(gw_lifetime_check(&p, 1, 1, 0, 5, 2), GW_HARD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
