/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_STATS_H
#define ESPGW_CONTROL_STATS_H

/* Counters for people (SIGUSR1 and exit, laid out like `ip -s xfrm
 * state`) and for scripts (--stats-file: one "name value" a line). */

#include <stdint.h>
#include <stdio.h>

#include <espgw/esp.h>

#include "dataplane/counters.h"

struct gw;

void gw_stats_print(struct gw *gw, FILE *f);
/* Keep the counters of an SA about to be freed (deleted or expired), so
 * that drop-esp-in and drop-esp-out still sum every SA's drops. */
void gw_stats_sa_gone(const struct espgw_sa *sa);
/* The gateway's counters summed over workers; esp: the library's drops
 * not blamed on an SA; esp_in / esp_out: every ESP failure, inbound and
 * outbound, as the sums of the library's reasons (each packet is counted
 * once, by the library; these are views of it, not counts of their own).
 * Control thread, or a thread holding the control lock. */
void gw_stats_sum(const struct gw *gw, uint64_t cnt[GW_CNT_MAX],
		  uint64_t esp[ESPGW_DROP_MAX], uint64_t *esp_in,
		  uint64_t *esp_out);
/* What the SAs freed so far counted in one direction. */
const struct espgw_sa_stats *gw_stats_gone(enum espgw_sa_dir dir);
int gw_stats_write(struct gw *gw, const char *path);
/* Every counter of the stats file with its side of the one-fate law
 * (dataplane/counters.h), "name side" a line: gw.<counter> in, out or
 * event; gw.drop-esp-in and gw.drop-esp-out out; then esp.<reason>
 * reason, each ESP drop reason, summed into those two. */
void gw_stats_counters(FILE *f);

#endif /* ESPGW_CONTROL_STATS_H */
