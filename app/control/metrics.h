/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_METRICS_H
#define ESPGW_CONTROL_METRICS_H

/* Every counter in Prometheus's text exposition format 0.0.4
 * (docs/control.md, "Metrics"): served over HTTP by libmicrohttpd's own
 * thread (--metrics ADDR:PORT, GET /metrics) and written for
 * node_exporter's textfile collector (--metrics-file PATH, every
 * --metrics-interval seconds, by the control thread). Both render under
 * the control lock (struct gw_ctl), then send or write without it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct gw_ctl;
struct MHD_Daemon;

struct gw_metrics {
	struct gw_ctl *ctl;
	struct MHD_Daemon *httpd; /* NULL: no --metrics */
	const char *file;	  /* --metrics-file PATH, or NULL */
	unsigned int interval;	  /* seconds between writes of the file */
	uint64_t due;		  /* next write (CLOCK_MONOTONIC, ms) */
	bool failing;		  /* the last write failed: said once */
	char url[96];		  /* where the HTTP server listens */
};

/* "ADDR:PORT" or "[ADDR6]:PORT", numeric, port 0 for any free one.
 * 0, or -1 with the reason in err. */
int gw_metrics_parse_addr(const char *s, struct sockaddr_storage *ss,
			  socklen_t *len, char *err, size_t n);

/* Listen on addr (NULL: no HTTP) and write file once (NULL: none).
 * After gw_ctl_init. 0, or -1 with the reason in err. */
int gw_metrics_init(struct gw_metrics *m, struct gw_ctl *ctl, const char *addr,
		    const char *file, unsigned int interval, char *err,
		    size_t n);
/* Once a control loop: write the file when it is due. */
void gw_metrics_tick(struct gw_metrics *m);
/* Write the file now (at exit); a failure is printed. */
void gw_metrics_flush(struct gw_metrics *m);
/* Stop the HTTP server (before the ports close and gw_ctl_fini). */
void gw_metrics_fini(struct gw_metrics *m);

/* The exposition. The caller holds ctl->lock. */
void gw_metrics_render(struct gw_ctl *ctl, FILE *f);

#endif /* ESPGW_CONTROL_METRICS_H */
