/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_STATS_H
#define ESPGW_CONTROL_STATS_H

/* Counters for people (SIGUSR1 and exit, laid out like `ip -s xfrm
 * state`) and for scripts (--stats-file: one "name value" a line). */

#include <stdio.h>

struct gw;
struct espgw_sa;

void gw_stats_print(struct gw *gw, FILE *f);
/* Keep the counters of an SA about to be freed (deleted or expired), so
 * that drop-esp-in and drop-esp-out still sum every SA's drops. */
void gw_stats_sa_gone(const struct espgw_sa *sa);
int gw_stats_write(struct gw *gw, const char *path);

#endif /* ESPGW_CONTROL_STATS_H */
