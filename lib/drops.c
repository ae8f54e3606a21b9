/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Printable names of the drop reasons, from the one X-macro list. */

#include "espgw/esp.h"

static const char *const drop_names[] = {
#define ESPGW_DROP_NAME_(n, s) [ESPGW_DROP_##n] = s,
	ESPGW_FOREACH_DROP(ESPGW_DROP_NAME_)
#undef ESPGW_DROP_NAME_
};

const char *
espgw_drop_name(enum espgw_drop reason)
{
	if ((unsigned int)reason >= ESPGW_DROP_MAX)
		return "?";
	return drop_names[reason];
}
