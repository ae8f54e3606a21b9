/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_CTLSOCK_H
#define ESPGW_CONTROL_CTLSOCK_H

/* The control socket: an AF_UNIX stream socket, mode 0600, served by the
 * control thread alone (single-threaded, no locks) through
 * gw_ctlsock_poll(). One connection carries one request: a header line
 * and statements, ended by the client's half-close (shutdown SHUT_WR);
 * the reply is a sequence of records, "o <text>" for the client's
 * stdout, "e <text>" for its stderr and a last "x <status>", its exit
 * status (docs/control.md). A handler may instead keep the connection
 * as a monitor, which gets gw_ctlsock_broadcast() lines until either
 * side closes. Nothing a client does blocks the control thread: every
 * socket is non-blocking, requests and unsent output are capped, an
 * idle client is dropped. Plain POSIX: no DPDK, no EAL. */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/un.h>

/* The first word of a request, and the protocol version after it. */
#define GW_CTL_MAGIC "espgwctl"
#define GW_CTL_VERSION 1

#define GW_CTLSOCK_DIR "/run/espgw" /* created 0755 if missing */
#define GW_CTLSOCK_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* Defaults of the limits in struct gw_ctlsock. */
#define GW_CTLSOCK_MAX_CLIENTS 64	  /* also the most there can be */
#define GW_CTLSOCK_MAX_REQUEST (8u << 20) /* bytes, header included */
#define GW_CTLSOCK_IDLE_MS 5000		  /* without progress, mid-request */
#define GW_CTLSOCK_MAX_BACKLOG (1u << 20) /* unsent bytes to a monitor */

struct gw_ctl_client;
struct gw_ctl_reply;

struct gw_ctlsock {
	int fd; /* listening; -1 when closed */
	char path[GW_CTLSOCK_PATH_MAX];
	dev_t dev; /* of the socket file we bound: close unlinks only it */
	ino_t ino;
	uid_t euid; /* besides root, the one peer uid let in */
	/* Limits: gw_ctlsock_open() sets the defaults, change them after. */
	unsigned int max_clients; /* at most GW_CTLSOCK_MAX_CLIENTS */
	size_t max_request;
	int idle_ms;
	size_t max_backlog;
	/* Counters, for people and tests. */
	uint64_t nb_requests; /* handed to the handler */
	uint64_t nb_refused;  /* wrong peer uid, or too many clients */
	uint64_t nb_bad;      /* malformed or over-long requests */
	uint64_t nb_dropped;  /* gone mid-request, idle, or too slow */
	unsigned int nb_clients;
	struct gw_ctl_client *cl[GW_CTLSOCK_MAX_CLIENTS];
};

/* The header line of a request, read by gw_ctl_request_parse(). */
struct gw_ctl_request {
	bool stats;	      /* -s */
	bool json;	      /* -j */
	bool pretty;	      /* -p */
	char batch[PATH_MAX]; /* -batch FILE: "FILE"; "" for one statement */
	const char *body;     /* the statement lines, each ending in '\n' */
	size_t body_len;
};

/* A request's handler, called once a request is complete, in
 * gw_ctlsock_poll(). req is the whole request, header line included,
 * NUL-terminated at req[len], with no NUL before; it is freed when the
 * handler returns. Write the reply to r, which is valid only during the
 * call. The handler may call gw_ctlsock_broadcast(). */
typedef void gw_ctl_handler_fn(void *arg, const char *req, size_t len,
			       struct gw_ctl_reply *r);

/* Listen on path: its directory is created (0755) if missing; a socket
 * that answers there is refused ("espgw is already running on PATH"),
 * one that refuses connections (left by a dead espgw) is replaced, and
 * anything else at path is left alone and refused. The socket is
 * chmod 0600 and owned by the caller's euid. Returns 0, or -1 with the
 * reason in err. */
int gw_ctlsock_open(struct gw_ctlsock *s, const char *path, char *err,
		    size_t errlen);

/* Ends every connection (a monitor gets its "x 0" if it can take it at
 * once), closes the socket and unlinks path if it is still ours. Safe
 * after a failed gw_ctlsock_open() and a second time. */
void gw_ctlsock_close(struct gw_ctlsock *s);

/* Waits up to timeout_ms (-1: no limit; less when a client's idle
 * timeout is due) for clients, accepts, reads and writes whatever is
 * ready without blocking, and calls fn for each request completed.
 * Returns how many requests were handled (EINTR: 0), or -errno when
 * poll() fails. */
int gw_ctlsock_poll(struct gw_ctlsock *s, int timeout_ms, gw_ctl_handler_fn *fn,
		    void *arg);

/* The events some monitor watches (the union of their masks): what
 * is worth formatting for gw_ctlsock_broadcast(). */
unsigned int gw_ctlsock_watched(const struct gw_ctlsock *s);

/* Sends fmt to every monitor whose mask shares a bit with mask, one
 * "o" record a line. A monitor with more than max_backlog bytes unsent
 * is dropped. Returns how many monitors it was queued for. */
int gw_ctlsock_broadcast(struct gw_ctlsock *s, unsigned int mask,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reply to the client of r, printf-style, to its stdout (out) or stderr
 * (err). Text is cut into one record a line; a line may be written in
 * pieces, it is sent once its '\n' comes (or the handler returns). */
void gw_ctl_out(struct gw_ctl_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gw_ctl_err(struct gw_ctl_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The client's exit status: 0 unless set; outside 0..255 it is 1. */
void gw_ctl_status(struct gw_ctl_reply *r, int status);

/* Keep the connection open after the reply, without a status, as a
 * monitor of the events in mask (bits the caller defines). */
void gw_ctl_monitor(struct gw_ctl_reply *r, unsigned int mask);

/* Reads the header line of a request: "espgwctl 1 [s] [j] [p]
 * [batch=NAME]". Returns 0, or -1 with the reason in err. The server
 * checks every request with it before the handler sees it. */
int gw_ctl_request_parse(const char *req, size_t len, struct gw_ctl_request *q,
			 char *err, size_t errlen);

/* The socket espgw uses by default, and espgwctl looks for:
 * /run/espgw/espgw.sock, or /run/espgw/<prefix>.sock for EAL's
 * --file-prefix <prefix> (NULL or "": the default). Returns buf, or NULL
 * when the prefix holds a '/' or the path does not fit. Inline, so that
 * espgwctl needs nothing else from here. */
static inline const char *
gw_ctlsock_default_path(const char *file_prefix, char *buf, size_t len)
{
	int n;

	if (file_prefix == NULL || file_prefix[0] == '\0')
		file_prefix = "espgw";
	if (strchr(file_prefix, '/') != NULL)
		return NULL;
	n = snprintf(buf, len, "%s/%s.sock", GW_CTLSOCK_DIR, file_prefix);
	if (n < 0 || (size_t)n >= len || (size_t)n >= GW_CTLSOCK_PATH_MAX)
		return NULL;
	return buf;
}

#endif /* ESPGW_CONTROL_CTLSOCK_H */
