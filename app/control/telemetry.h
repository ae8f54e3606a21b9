/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_TELEMETRY_H
#define ESPGW_CONTROL_TELEMETRY_H

/* espgw's commands on DPDK's telemetry socket (docs/control.md,
 * "Telemetry"): /espgw/stats, /espgw/ports, /espgw/sa/list,<page>,
 * /espgw/sa/info,<id> and /espgw/policy/list,<page>. They run on
 * telemetry's threads and read the tables, the configuration and the
 * counters under ctl->lock, as the control thread changes them. Keys are
 * never in a reply. */

struct gw_ctl;

/* SAs and policies a page (each page's worst case fits telemetry's 16 KB
 * reply). */
#define GW_TEL_SA_PAGE 50
#define GW_TEL_POLICY_PAGE 20

/* Register the commands, which read ctl from now on. 0, or a negative
 * errno from rte_telemetry_register_cmd. Once, after gw_ctl_init. */
int gw_telemetry_init(struct gw_ctl *ctl);
/* Before ctl goes: waits for the commands under way; later ones reply
 * {"error": ...} (telemetry has no way to unregister them). */
void gw_telemetry_fini(void);

#endif /* ESPGW_CONTROL_TELEMETRY_H */
