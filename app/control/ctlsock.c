/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The control socket's server side (control/ctlsock.h). Each client is
 * a small state machine: reading its request, then writing the reply
 * and closing, or, as a monitor, writing broadcasts until it goes.
 * Clients found dead are only marked so during a round of
 * gw_ctlsock_poll() and freed at its end, so that a handler's broadcast
 * never frees a client that is being served. */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control/ctlsock.h"
#include "wipe.h"

#define LISTEN_BACKLOG 128
#define READ_CHUNK 65536
#define KEEP_BUF 65536 /* an idle monitor's buffer above this is freed */

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

enum client_state {
	C_READ,	   /* request coming */
	C_WRITE,   /* reply going, then close */
	C_MONITOR, /* broadcasts going until either side closes */
	C_DEAD,	   /* freed at the end of the round */
};

struct gw_ctl_client {
	int fd;
	enum client_state state;
	unsigned int mask; /* a monitor's events */
	struct buf in;
	struct buf out;
	size_t sent;   /* of out */
	uint64_t last; /* ms: accepted, or the last byte moved */
};

struct gw_ctl_reply {
	struct gw_ctlsock *s;
	struct gw_ctl_client *c;
	struct buf line[2]; /* unfinished lines: stdout, stderr */
	int status;
	bool monitor;
	unsigned int mask;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap != 0 ? b->cap : 4096;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = gw_wipe_realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int
buf_add(struct buf *b, const void *d, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

static void
buf_free(struct buf *b)
{
	gw_wipe_free(b->p);
	*b = (struct buf){ 0 };
}

static void
client_kill(struct gw_ctlsock *s, struct gw_ctl_client *c)
{
	if (c->state == C_READ)
		s->nb_dropped++;
	c->state = C_DEAD;
}

/* One record, "<kind> <text>\n"; a client whose record cannot be
 * queued has lost part of its reply and is dropped. */
static void
record(struct gw_ctlsock *s, struct gw_ctl_client *c, char kind,
       const char *text, size_t n)
{
	char head[2] = { kind, ' ' };

	if (c->state == C_DEAD)
		return;
	if (buf_reserve(&c->out, n + 3) < 0) {
		client_kill(s, c);
		return;
	}
	buf_add(&c->out, head, 2);
	buf_add(&c->out, text, n);
	buf_add(&c->out, "\n", 1);
}

static void record_fmt(struct gw_ctlsock *s, struct gw_ctl_client *c, char kind,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
record_fmt(struct gw_ctlsock *s, struct gw_ctl_client *c, char kind,
	   const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	record(s, c, kind, text, n < 0 ? 0 : (size_t)n);
}

/* Sends what out holds, as much as the socket takes now. A reply fully
 * sent ends the connection. */
static void
client_flush(struct gw_ctlsock *s, struct gw_ctl_client *c, uint64_t now)
{
	while (c->state != C_DEAD && c->sent < c->out.len) {
		ssize_t n =
			send(c->fd, c->out.p + c->sent, c->out.len - c->sent,
			     MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->sent += n;
			c->last = now;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			client_kill(s, c);
			return;
		}
	}
	if (c->state == C_DEAD)
		return;
	c->out.len = 0;
	c->sent = 0;
	if (c->out.cap > KEEP_BUF)
		buf_free(&c->out);
	if (c->state == C_WRITE)
		c->state = C_DEAD;
}

/* A request refused before any handler sees it: an error and status 1,
 * then the connection ends. */
static void
refuse(struct gw_ctlsock *s, struct gw_ctl_client *c, uint64_t now,
       const char *what)
{
	s->nb_bad++;
	buf_free(&c->in);
	record_fmt(s, c, 'e', "espgw: %s", what);
	record(s, c, 'x', "1", 1);
	if (c->state != C_DEAD)
		c->state = C_WRITE;
	client_flush(s, c, now);
}

/* The handler's text for one stream: each finished line a record, the
 * rest kept in r->line[] for the next call. */
static void
reply_text(struct gw_ctl_reply *r, int stream, const char *t, size_t n)
{
	struct gw_ctlsock *s = r->s;
	struct buf *line = &r->line[stream];
	char kind = stream == 0 ? 'o' : 'e';

	while (n > 0) {
		const char *nl = memchr(t, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - t) : n;

		if (nl == NULL || line->len > 0) {
			if (buf_add(line, t, k) < 0) {
				client_kill(s, r->c);
				return;
			}
		}
		if (nl == NULL)
			return;
		if (line->len > 0) {
			record(s, r->c, kind, line->p, line->len);
			line->len = 0;
		} else {
			record(s, r->c, kind, t, k);
		}
		t += k + 1;
		n -= k + 1;
	}
}

static void reply_vprintf(struct gw_ctl_reply *r, int stream, const char *fmt,
			  va_list ap) __attribute__((format(printf, 3, 0)));

static void
reply_vprintf(struct gw_ctl_reply *r, int stream, const char *fmt, va_list ap)
{
	char *t = NULL;
	va_list aq;
	int n;

	/* sized first, not vasprintf's growing buffer: a listing's keys
	 * would stay behind in the blocks it outgrew */
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n >= 0)
		t = malloc((size_t)n + 1);
	if (t == NULL) {
		client_kill(r->s, r->c);
		return;
	}
	vsnprintf(t, (size_t)n + 1, fmt, ap);
	reply_text(r, stream, t, (size_t)n);
	gw_wipe_free(t);
}

void
gw_ctl_out(struct gw_ctl_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vprintf(r, 0, fmt, ap);
	va_end(ap);
}

void
gw_ctl_err(struct gw_ctl_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vprintf(r, 1, fmt, ap);
	va_end(ap);
}

void
gw_ctl_status(struct gw_ctl_reply *r, int status)
{
	r->status = status >= 0 && status <= 255 ? status : 1;
}

void
gw_ctl_monitor(struct gw_ctl_reply *r, unsigned int mask)
{
	r->monitor = true;
	r->mask = mask;
}

int
gw_ctl_request_parse(const char *req, size_t len, struct gw_ctl_request *q,
		     char *err, size_t errlen)
{
	const char *nl = memchr(req, '\n', len);
	const char *p = req, *end;
	size_t ml = strlen(GW_CTL_MAGIC);
	long version;
	char *e;

	*q = (struct gw_ctl_request){ 0 };
	if (nl == NULL)
		return fail(err, errlen, "request without a header line");
	end = nl;
	if ((size_t)(end - p) < ml || memcmp(p, GW_CTL_MAGIC, ml) != 0 ||
	    (p + ml < end && p[ml] != ' ') || p + ml == end)
		return fail(err, errlen,
			    "not an espgwctl request (it must start with "
			    "\"%s %d\")",
			    GW_CTL_MAGIC, GW_CTL_VERSION);
	p += ml + 1;
	/* digits on the header line: strtol would skip the newline and
	 * read on into the body, or past a buffer with no NUL */
	if (p >= end || *p < '0' || *p > '9')
		return fail(err, errlen, "bad protocol version in the header");
	version = strtol(p, &e, 10);
	if (e == p || (e < end && *e != ' '))
		return fail(err, errlen, "bad protocol version in the header");
	if (version != GW_CTL_VERSION)
		return fail(err, errlen,
			    "protocol version %ld is not supported (espgw "
			    "speaks %d)",
			    version, GW_CTL_VERSION);
	p = e;
	while (p < end) {
		const char *w;
		size_t wl;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		w = p;
		if ((size_t)(end - w) > 6 && memcmp(w, "batch=", 6) == 0) {
			/* the name runs to the end of the line */
			wl = end - w - 6;
			if (wl >= sizeof(q->batch))
				return fail(err, errlen, "batch name too long");
			memcpy(q->batch, w + 6, wl);
			q->batch[wl] = '\0';
			break;
		}
		while (p < end && *p != ' ')
			p++;
		wl = p - w;
		if (wl == 1 && *w == 's')
			q->stats = true;
		else if (wl == 1 && *w == 'j')
			q->json = true;
		else if (wl == 1 && *w == 'p')
			q->pretty = true;
		else
			return fail(err, errlen,
				    "unknown flag \"%.*s\" in the header",
				    (int)(wl > 32 ? 32 : wl), w);
	}
	q->body = nl + 1;
	q->body_len = len - (size_t)(nl + 1 - req);
	return 0;
}

/* The client half-closed: its request is complete, unless it closed
 * altogether (gone mid-request: nobody to apply it for). */
static int
client_request(struct gw_ctlsock *s, struct gw_ctl_client *c, short revents,
	       gw_ctl_handler_fn *fn, void *arg)
{
	struct pollfd p = { .fd = c->fd, .events = 0 };
	struct gw_ctl_request q;
	struct gw_ctl_reply r = { .s = s, .c = c };
	uint64_t now = now_ms();
	char why[160];

	if ((revents & POLLHUP) ||
	    (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))) {
		client_kill(s, c);
		return 0;
	}
	if (c->in.len == 0) {
		/* a probe (another espgw checking the socket is live) */
		c->state = C_DEAD;
		return 0;
	}
	if (memchr(c->in.p, '\0', c->in.len) != NULL) {
		refuse(s, c, now, "request holds a NUL byte");
		return 0;
	}
	if (c->in.p[c->in.len - 1] != '\n') {
		refuse(s, c, now, "request cut short (no final newline)");
		return 0;
	}
	c->in.p[c->in.len] = '\0';
	if (gw_ctl_request_parse(c->in.p, c->in.len, &q, why, sizeof(why)) <
	    0) {
		refuse(s, c, now, why);
		return 0;
	}
	s->nb_requests++;
	fn(arg, c->in.p, c->in.len, &r);
	buf_free(&c->in);
	for (int i = 0; i < 2; i++) {
		if (r.line[i].len > 0)
			record(s, c, i == 0 ? 'o' : 'e', r.line[i].p,
			       r.line[i].len);
		buf_free(&r.line[i]);
	}
	if (c->state == C_DEAD)
		return 1;
	if (r.monitor) {
		c->state = C_MONITOR;
		c->mask = r.mask;
	} else {
		record_fmt(s, c, 'x', "%d", r.status);
		if (c->state != C_DEAD)
			c->state = C_WRITE;
	}
	client_flush(s, c, now_ms());
	return 1;
}

/* Everything the socket holds now, up to one byte over the cap. */
static int
client_read(struct gw_ctlsock *s, struct gw_ctl_client *c, short revents,
	    uint64_t now, gw_ctl_handler_fn *fn, void *arg)
{
	for (;;) {
		size_t room = s->max_request + 1 - c->in.len;
		ssize_t n;

		if (room > READ_CHUNK)
			room = READ_CHUNK;
		/* one byte more for the NUL the handler gets */
		if (buf_reserve(&c->in, room + 1) < 0) {
			client_kill(s, c);
			return 0;
		}
		n = recv(c->fd, c->in.p + c->in.len, room, MSG_DONTWAIT);
		if (n > 0) {
			c->in.len += n;
			c->last = now;
			if (c->in.len > s->max_request) {
				char why[80];

				snprintf(why, sizeof(why),
					 "request longer than %zu bytes",
					 s->max_request);
				refuse(s, c, now, why);
				return 0;
			}
		} else if (n == 0) {
			return client_request(s, c, revents, fn, arg);
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		} else {
			client_kill(s, c);
			return 0;
		}
	}
}

static void
client_free(struct gw_ctl_client *c)
{
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static void
sweep(struct gw_ctlsock *s)
{
	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++) {
		if (s->cl[i] != NULL && s->cl[i]->state == C_DEAD) {
			client_free(s->cl[i]);
			s->cl[i] = NULL;
			s->nb_clients--;
		}
	}
}

/* Root, or the user espgw runs as (the socket's mode says the same;
 * this holds even if someone loosens it). */
static bool
peer_allowed(const struct gw_ctlsock *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == s->euid;
}

static void
accept_clients(struct gw_ctlsock *s, uint64_t now)
{
	unsigned int max = s->max_clients < GW_CTLSOCK_MAX_CLIENTS
				   ? s->max_clients
				   : GW_CTLSOCK_MAX_CLIENTS;

	/* bounded: a flood of connections cannot hold the thread here */
	for (unsigned int k = 0; k < GW_CTLSOCK_MAX_CLIENTS * 2; k++) {
		struct gw_ctl_client *c;
		unsigned int i;
		int fd;

		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return;
		if (!peer_allowed(s, fd)) {
			/* what netlink says to a peer without CAP_NET_ADMIN
			 * (netlink_capable() in xfrm_user_rcv_msg()) */
			static const char eperm[] = "e RTNETLINK answers: "
						    "Operation not permitted\n"
						    "x 2\n";

			s->nb_refused++;
			if (send(fd, eperm, sizeof(eperm) - 1,
				 MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				/* it is refused either way */
			}
			close(fd);
			continue;
		}
		if (s->nb_clients >= max) {
			char msg[96];
			int n = snprintf(
				msg, sizeof(msg),
				"e espgw: too many clients (%u)\nx 1\n", max);

			s->nb_refused++;
			if (send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				/* it is refused either way */
			}
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = C_READ;
		c->last = now;
		for (i = 0; s->cl[i] != NULL; i++)
			;
		s->cl[i] = c;
		s->nb_clients++;
	}
}

/* A client that moves nothing for idle_ms while it owes us a request,
 * or we owe it bytes, is dropped. A monitor with nothing pending may
 * wait forever. */
static bool
client_waiting(const struct gw_ctl_client *c)
{
	return c->state == C_READ || c->state == C_WRITE ||
	       (c->state == C_MONITOR && c->sent < c->out.len);
}

static void
expire(struct gw_ctlsock *s, uint64_t now)
{
	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++) {
		struct gw_ctl_client *c = s->cl[i];

		if (c == NULL || !client_waiting(c) ||
		    now - c->last < (uint64_t)s->idle_ms)
			continue;
		if (c->state == C_READ) {
			/* say why, if it listens; it goes either way */
			buf_free(&c->in);
			record_fmt(s, c, 'e',
				   "espgw: request not finished within %d ms",
				   s->idle_ms);
			record(s, c, 'x', "1", 1);
			client_flush(s, c, now);
		}
		s->nb_dropped++;
		c->state = C_DEAD;
	}
}

static int
poll_timeout(const struct gw_ctlsock *s, int timeout_ms, uint64_t now)
{
	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++) {
		const struct gw_ctl_client *c = s->cl[i];
		uint64_t due;
		int left;

		if (c == NULL || !client_waiting(c))
			continue;
		due = c->last + (uint64_t)s->idle_ms;
		left = due > now ? (int)(due - now) : 0;
		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = left;
	}
	return timeout_ms;
}

int
gw_ctlsock_poll(struct gw_ctlsock *s, int timeout_ms, gw_ctl_handler_fn *fn,
		void *arg)
{
	struct pollfd pfd[GW_CTLSOCK_MAX_CLIENTS + 1];
	struct gw_ctl_client *polled[GW_CTLSOCK_MAX_CLIENTS];
	unsigned int n = 0;
	int handled = 0;
	uint64_t now;

	sweep(s);
	now = now_ms();
	pfd[0] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++) {
		struct gw_ctl_client *c = s->cl[i];
		short ev = 0;

		if (c == NULL)
			continue;
		if (c->state == C_READ)
			ev |= POLLIN;
		if (c->sent < c->out.len)
			ev |= POLLOUT;
		/* POLLHUP comes unasked: a monitor's goodbye */
		pfd[n + 1] = (struct pollfd){ .fd = c->fd, .events = ev };
		polled[n++] = c;
	}
	if (poll(pfd, n + 1, poll_timeout(s, timeout_ms, now)) < 0)
		return errno == EINTR ? 0 : -errno;
	now = now_ms();
	for (unsigned int i = 0; i < n; i++) {
		struct gw_ctl_client *c = polled[i];
		short re = pfd[i + 1].revents;

		if (c->state == C_DEAD || re == 0)
			continue;
		if (re & POLLNVAL) {
			client_kill(s, c);
			continue;
		}
		if (c->state == C_READ && (re & (POLLIN | POLLHUP | POLLERR))) {
			handled += client_read(s, c, re, now, fn, arg);
			continue;
		}
		if (re & (POLLHUP | POLLERR)) {
			/* it will not read what it is owed */
			if (c->state == C_WRITE || c->sent < c->out.len)
				s->nb_dropped++;
			client_kill(s, c);
			continue;
		}
		if (re & POLLOUT)
			client_flush(s, c, now);
	}
	sweep(s);
	if (pfd[0].revents & POLLIN)
		accept_clients(s, now);
	expire(s, now_ms());
	sweep(s);
	return handled;
}

unsigned int
gw_ctlsock_watched(const struct gw_ctlsock *s)
{
	unsigned int mask = 0;

	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++)
		if (s->cl[i] != NULL && s->cl[i]->state == C_MONITOR)
			mask |= s->cl[i]->mask;
	return mask;
}

int
gw_ctlsock_broadcast(struct gw_ctlsock *s, unsigned int mask, const char *fmt,
		     ...)
{
	uint64_t now = now_ms();
	va_list ap;
	char *t;
	int n, reached = 0;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++) {
		struct gw_ctl_client *c = s->cl[i];
		const char *p = t, *end = t + n;

		if (c == NULL || c->state != C_MONITOR || !(c->mask & mask))
			continue;
		while (p < end) {
			const char *nl = memchr(p, '\n', end - p);
			const char *e = nl != NULL ? nl : end;

			record(s, c, 'o', p, e - p);
			p = nl != NULL ? nl + 1 : end;
		}
		if (c->out.len - c->sent > s->max_backlog) {
			s->nb_dropped++;
			client_kill(s, c);
			continue;
		}
		client_flush(s, c, now);
		reached += c->state != C_DEAD;
	}
	free(t);
	return reached;
}

/* mkdir -p of the directories above path. */
static int
make_dirs(const char *path, char *err, size_t errlen)
{
	char dir[GW_CTLSOCK_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return fail(err, errlen,
				    "cannot create directory %s: %s", dir,
				    strerror(errno));
		*p = '/';
	}
	return 0;
}

/* Whatever is at path: nothing, a dead espgw's socket (removed), a live
 * one or something else (refused). */
static int
clear_path(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, "cannot check %s: %s", path,
			    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return fail(err, errlen, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		/* EAGAIN: alive, its backlog full */
		close(fd);
		return fail(err, errlen, "espgw is already running on %s",
			    path);
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED)
		return fail(err, errlen, "cannot check %s: %s", path,
			    strerror(rc));
	if (unlink(path) < 0 && errno != ENOENT)
		return fail(err, errlen, "cannot remove stale socket %s: %s",
			    path, strerror(errno));
	return 0;
}

int
gw_ctlsock_open(struct gw_ctlsock *s, const char *path, char *err,
		size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	*s = (struct gw_ctlsock){
		.fd = -1,
		.euid = geteuid(),
		.max_clients = GW_CTLSOCK_MAX_CLIENTS,
		.max_request = GW_CTLSOCK_MAX_REQUEST,
		.idle_ms = GW_CTLSOCK_IDLE_MS,
		.max_backlog = GW_CTLSOCK_MAX_BACKLOG,
	};
	if (path == NULL || path[0] == '\0')
		return fail(err, errlen, "empty socket path");
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen,
			    "socket path too long (%zu bytes at "
			    "most): %s",
			    sizeof(sa.sun_path) - 1, path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (make_dirs(path, err, errlen) < 0 ||
	    clear_path(&sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	/* Between bind and chmod the mode is the umask's: the peer check
	 * at accept covers that moment. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail(err, errlen, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		fail(err, errlen, "cannot set up %s: %s", path,
		     strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	memcpy(s->path, sa.sun_path, sizeof(s->path));
	return 0;
}

void
gw_ctlsock_close(struct gw_ctlsock *s)
{
	struct stat st;

	for (unsigned int i = 0; i < GW_CTLSOCK_MAX_CLIENTS; i++) {
		struct gw_ctl_client *c = s->cl[i];

		if (c == NULL)
			continue;
		if (c->state == C_MONITOR) {
			record(s, c, 'x', "0", 1);
			c->state = C_WRITE;
			client_flush(s, c, now_ms());
		}
		client_free(c);
		s->cl[i] = NULL;
	}
	s->nb_clients = 0;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		/* another espgw may have taken the path since: leave its */
		if (lstat(s->path, &st) == 0 && st.st_dev == s->dev &&
		    st.st_ino == s->ino)
			unlink(s->path);
	}
	s->path[0] = '\0';
}
