/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_CTL_H
#define ESPGW_CONTROL_CTL_H

/* The control service: what the control thread does with a request
 * from the control socket. Each request is one transaction: its
 * statements apply in order to the live configuration (control/db.h);
 * on the first bad one everything is undone and the reply names it
 * (FILE:LINE); otherwise it is built into a table set (taking over the
 * parts and SAs it still describes), published to the workers, and
 * kept. Listings read the published set. */

#include <pthread.h>

#include "control/ctlsock.h"
#include "control/db.h"
#include "control/rebase.h"
#include "lang/config.h"

struct gw;

struct gw_ctl {
	/* Held while the control thread changes the configuration, the
	 * tables or the counters of freed SAs (gw_ctl_handle, gw_ctl_tick);
	 * a reader on another thread (telemetry, metrics) holds it too. */
	pthread_mutex_t lock;
	struct gw *gw;
	struct gw_db db; /* the live configuration */
	struct gw_ctlsock sock;
	uint64_t nb_commits;		     /* transactions published */
	struct gw_rebase rebase[GW_NB_DIRS]; /* tries built off thread */
	const char *on_expire;		     /* --on-expire PROGRAM, or NULL */
	bool natt_follow; /* --natt-follow: outbound follows a NAT rebound */
	unsigned int natt_keepalive; /* --natt-keepalive S, 0: none */
	uint64_t checked;	     /* when lifetimes were last checked (s) */
	bool rebind; /* a state began dying: bind policies anew */
};

/* Takes over cfg (the configuration espgw started with). 0, or an
 * error printed to stderr. */
int gw_ctl_init(struct gw_ctl *ctl, struct gw *gw, struct espgw_cfg *cfg);
void gw_ctl_fini(struct gw_ctl *ctl);

/* Once a control loop: publish the policy tries built off thread. */
void gw_ctl_tick(struct gw_ctl *ctl);
/* Is a trie being built (then tick often)? */
bool gw_ctl_busy(const struct gw_ctl *ctl);

/* The socket's request handler (gw_ctl_handler_fn); arg: the gw_ctl. */
void gw_ctl_handle(void *arg, const char *req, size_t len,
		   struct gw_ctl_reply *r);

#endif /* ESPGW_CONTROL_CTL_H */
