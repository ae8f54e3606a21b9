/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The control socket (control/ctlsock.h) and espgwctl against it, with
 * no EAL: a server in this process, in a temporary directory, with a
 * handler that echoes what it was sent, and clients that behave (raw
 * sockets, the espgwctl binary meson builds) and that do not (over-long,
 * half-written, silent, too many, not root). Under AddressSanitizer the
 * run also checks that nothing leaks. argv[1] is espgwctl. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/ctlsock.h"
#include "lang/parse.h"

#define WAIT_MS 10000 /* for anything that should take milliseconds */

static const char *espgwctl;
static char dir[64];
static char path[GW_CTLSOCK_PATH_MAX];
static struct gw_ctlsock srv;
static unsigned int calls;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Each word of line as app/lang/lex.c splits it, in <...>. */
static void
print_words(struct gw_ctl_reply *r, const char *line)
{
	char err[256] = "";
	struct lang_ctx c = { .file = "test",
			      .err = err,
			      .errlen = sizeof(err) };
	char *o = malloc(strlen(line) + 1);
	char **w = malloc(sizeof(*w) * (strlen(line) + 1));
	int n;

	assert_non_null(o);
	assert_non_null(w);
	n = lang_split(&c, line, o, w);
	if (n < 0)
		gw_ctl_err(r, "lex: %s\n", err);
	for (int i = 0; i < n; i++)
		gw_ctl_out(r, "<%s>", w[i]);
	gw_ctl_out(r, "\n");
	free(o);
	free(w);
}

/* The fake handler: the header's flags, then each line echoed, except
 * "fail N TEXT" (TEXT to stderr, status N), "monitor M", "pieces" (one
 * line written in parts) and "words ..." (the lexer's view). */
static void
echo(void *arg, const char *req, size_t len, struct gw_ctl_reply *r)
{
	struct gw_ctl_request q;
	char err[128];
	char *body, *line, *save;

	(void)arg;
	calls++;
	assert_int_equal(strlen(req), len);
	assert_int_equal(gw_ctl_request_parse(req, len, &q, err, sizeof(err)),
			 0);
	gw_ctl_out(r, "flags%s%s%s batch=%s\n", q.stats ? " s" : "",
		   q.json ? " j" : "", q.pretty ? " p" : "", q.batch);
	body = strdup(q.body);
	assert_non_null(body);
	for (line = strtok_r(body, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		int n, k;

		if (sscanf(line, "fail %d %n", &n, &k) == 1) {
			gw_ctl_err(r, "%s\n", line + k);
			gw_ctl_status(r, n);
		} else if (sscanf(line, "monitor %d", &n) == 1) {
			gw_ctl_monitor(r, (unsigned int)n);
		} else if (strcmp(line, "pieces") == 0) {
			gw_ctl_out(r, "a");
			gw_ctl_out(r, "b%s", "c");
			gw_ctl_out(r, "\nd\n");
			gw_ctl_err(r, "no newline");
		} else if (strncmp(line, "words ", 6) == 0) {
			print_words(r, line);
		} else {
			gw_ctl_out(r, "%s\n", line);
		}
	}
	free(body);
}

static int
serve(int timeout_ms)
{
	return gw_ctlsock_poll(&srv, timeout_ms, echo, NULL);
}

static int
cl_connect(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
cl_send(int fd, const char *req, size_t len, bool half_close)
{
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	if (half_close)
		assert_int_equal(shutdown(fd, SHUT_WR), 0);
}

/* Reads what fd has now into b; true once it is at its end. */
static bool
cl_drain(int fd, char *b, size_t cap, size_t *len)
{
	for (;;) {
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n > 0) {
			size_t k = (size_t)n;

			if (*len + k >= cap)
				k = cap - 1 - *len;
			memcpy(b + *len, tmp, k);
			*len += k;
			b[*len] = '\0';
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		return true; /* EOF, or the reset that follows our records */
	}
}

/* The whole reply to fd, serving meanwhile. */
static void
cl_reply(int fd, char *b, size_t cap)
{
	uint64_t end = now_ms() + WAIT_MS;
	size_t len = 0;

	b[0] = '\0';
	while (!cl_drain(fd, b, cap, &len)) {
		assert_true(now_ms() < end);
		assert_true(serve(5) >= 0);
	}
	close(fd);
}

/* One request from a fresh client; the reply in b. */
static void
request(const char *req, char *b, size_t cap)
{
	int fd = cl_connect(path);

	assert_true(fd >= 0);
	cl_send(fd, req, strlen(req), true);
	cl_reply(fd, b, cap);
}

static void
serve_until_clients(unsigned int n)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (srv.nb_clients != n) {
		assert_true(now_ms() < end);
		assert_true(serve(5) >= 0);
	}
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	calls = 0;
	snprintf(path, sizeof(path), "%s/run/espgw/t.sock", dir);
	if (gw_ctlsock_open(&srv, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "gw_ctlsock_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gw_ctlsock_close(&srv);
	return access(path, F_OK) == 0 ? -1 : 0; /* close unlinks it */
}

static void
test_default_path(void **state)
{
	char b[GW_CTLSOCK_PATH_MAX], big[200];

	(void)state;
	assert_string_equal(gw_ctlsock_default_path(NULL, b, sizeof(b)),
			    "/run/espgw/espgw.sock");
	assert_string_equal(gw_ctlsock_default_path("", b, sizeof(b)),
			    "/run/espgw/espgw.sock");
	assert_string_equal(gw_ctlsock_default_path("gw2", b, sizeof(b)),
			    "/run/espgw/gw2.sock");
	assert_null(gw_ctlsock_default_path("../x", b, sizeof(b)));
	assert_null(gw_ctlsock_default_path("gw2", b, 10));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(gw_ctlsock_default_path(big, b, sizeof(b)));
}

static void
test_request_parse(void **state)
{
	const char *req = "espgwctl 1 s j p batch=my file.conf\nbody\n";
	struct gw_ctl_request q;
	char err[128];

	(void)state;
	assert_int_equal(
		gw_ctl_request_parse(req, strlen(req), &q, err, sizeof(err)),
		0);
	assert_true(q.stats && q.json && q.pretty);
	assert_string_equal(q.batch, "my file.conf");
	assert_string_equal(q.body, "body\n");
	assert_int_equal(q.body_len, 5);
	req = "espgwctl 1\n";
	assert_int_equal(
		gw_ctl_request_parse(req, strlen(req), &q, err, sizeof(err)),
		0);
	assert_false(q.stats || q.json || q.pretty);
	assert_string_equal(q.batch, "");
	assert_int_equal(q.body_len, 0);
	/* refused headers, and what the error must say (NULL: anything);
	 * "espgwctl \n1\n": no version on the header line, not the next
	 * line's 1, and no read past the request (fuzz_ctl found it
	 * unterminated) */
	static const struct {
		const char *req, *why;
	} bad[] = {
		{ "espgwctl 2\n", "version 2" },
		{ "espgwctl 1 z\n", "\"z\"" },
		{ "espgwctl1\n", NULL },
		{ "espgwctl \n1\n", "bad protocol version" },
		{ "espgwctl  1\n", "bad protocol version" },
		{ "espgwctl +1\n", "bad protocol version" },
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req = bad[i].req;
		assert_int_equal(gw_ctl_request_parse(req, strlen(req), &q, err,
						      sizeof(err)),
				 -1);
		if (bad[i].why != NULL)
			assert_non_null(strstr(err, bad[i].why));
	}
}

static void
test_mode_and_dir(void **state)
{
	struct stat st;
	char d[160];

	(void)state;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	snprintf(d, sizeof(d), "%s/run/espgw", dir);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void
test_request_reply(void **state)
{
	char b[4096];

	(void)state;
	request("espgwctl 1 s\nxfrm state list\nfail 3 no such\npieces\n", b,
		sizeof(b));
	assert_string_equal(b, "o flags s batch=\n"
			       "o xfrm state list\n"
			       "e no such\n"
			       "o abc\n"
			       "o d\n"
			       "e no newline\n"
			       "x 3\n");
	assert_int_equal(calls, 1);
	assert_int_equal(srv.nb_requests, 1);
	serve_until_clients(0);
	/* status outside 0..255 */
	request("espgwctl 1\nfail -1 x\n", b, sizeof(b));
	assert_non_null(strstr(b, "x 1\n"));
}

static void
test_bad_requests(void **state)
{
	static const char *const bad[][2] = {
		{ "hello\n", "e espgw: not an espgwctl request" },
		{ "espgwctl 7\nx\n", "e espgw: protocol version 7" },
		{ "espgwctl 1 q\nx\n", "e espgw: unknown flag \"q\"" },
		{ "espgwctl 1\nno final newline",
		  "e espgw: request cut short" },
		{ "espgwctl 1", "e espgw: request cut short" },
	};
	char b[4096];
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		request(bad[i][0], b, sizeof(b));
		assert_non_null(strstr(b, bad[i][1]));
		assert_non_null(strstr(b, "\nx 1\n"));
	}
	fd = cl_connect(path);
	assert_true(fd >= 0);
	cl_send(fd, "espgwctl 1\na\0b\n", 15, true);
	cl_reply(fd, b, sizeof(b));
	assert_string_equal(b, "e espgw: request holds a NUL byte\nx 1\n");
	assert_int_equal(calls, 0);
	assert_int_equal(srv.nb_bad, 6);
	/* connect and close at once: a probe, nothing said */
	fd = cl_connect(path);
	shutdown(fd, SHUT_WR);
	cl_reply(fd, b, sizeof(b));
	assert_string_equal(b, "");
	serve_until_clients(0);
	assert_int_equal(calls, 0);
}

#define NB_MANY 50

static void
test_many_clients(void **state)
{
	int fd[NB_MANY];
	char *b[NB_MANY];
	size_t len[NB_MANY] = { 0 };
	bool done[NB_MANY] = { false };
	unsigned int nb_done = 0;
	uint64_t end = now_ms() + WAIT_MS;

	(void)state;
	for (int i = 0; i < NB_MANY; i++) {
		char req[64];

		fd[i] = cl_connect(path);
		assert_true(fd[i] >= 0);
		b[i] = calloc(1, 256);
		snprintf(req, sizeof(req), "espgwctl 1\nclient %d\n", i);
		cl_send(fd[i], req, strlen(req), true);
	}
	while (nb_done < NB_MANY) {
		assert_true(now_ms() < end);
		assert_true(serve(5) >= 0);
		for (int i = 0; i < NB_MANY; i++) {
			if (!done[i] && cl_drain(fd[i], b[i], 256, &len[i])) {
				done[i] = true;
				nb_done++;
			}
		}
	}
	for (int i = 0; i < NB_MANY; i++) {
		char want[64];

		snprintf(want, sizeof(want),
			 "o flags batch=\no client %d\nx 0\n", i);
		assert_string_equal(b[i], want);
		close(fd[i]);
		free(b[i]);
	}
	assert_int_equal(calls, NB_MANY);
	serve_until_clients(0);
}

static void
test_too_many_clients(void **state)
{
	int fd[4], extra;
	char b[256];

	(void)state;
	srv.max_clients = 4;
	for (int i = 0; i < 4; i++) {
		fd[i] = cl_connect(path);
		assert_true(fd[i] >= 0);
	}
	serve_until_clients(4);
	extra = cl_connect(path);
	assert_true(extra >= 0);
	cl_reply(extra, b, sizeof(b));
	assert_string_equal(b, "e espgw: too many clients (4)\nx 1\n");
	assert_int_equal(srv.nb_refused, 1);
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	serve_until_clients(0);
	request("espgwctl 1\nafter\n", b, sizeof(b));
	assert_string_equal(b, "o flags batch=\no after\nx 0\n");
}

static void
test_over_long(void **state)
{
	size_t len = GW_CTLSOCK_MAX_REQUEST + (1u << 20), off;
	char *req = malloc(len);
	uint64_t end = now_ms() + WAIT_MS;
	char b[4096];
	size_t got = 0;
	int fd;

	(void)state;
	assert_non_null(req);
	memset(req, 'a', len);
	memcpy(req, "espgwctl 1\n", 11);
	fd = cl_connect(path);
	assert_true(fd >= 0);
	/* write while the server reads, until it stops taking bytes */
	for (off = 0; off < len;) {
		ssize_t n = send(fd, req + off, len - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			off += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			break; /* EPIPE: it has given up on us */
		assert_true(now_ms() < end);
		assert_true(serve(5) >= 0);
	}
	free(req);
	b[0] = '\0';
	while (!cl_drain(fd, b, sizeof(b), &got)) {
		assert_true(now_ms() < end);
		assert_true(serve(5) >= 0);
	}
	close(fd);
	assert_string_equal(b, "e espgw: request longer than 8388608 bytes\n"
			       "x 1\n");
	assert_int_equal(calls, 0);
	assert_int_equal(srv.nb_bad, 1);
	serve_until_clients(0);
	request("espgwctl 1\nstill here\n", b, sizeof(b));
	assert_string_equal(b, "o flags batch=\no still here\nx 0\n");
}

static void
test_gone_mid_request(void **state)
{
	static const char *const part[] = {
		"espgwctl 1\nxfrm state fl",	  /* cut in a line */
		"espgwctl 1\nxfrm state flush\n", /* closed, never half-closed
						   */
	};
	char b[256];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		int fd = cl_connect(path);

		assert_true(fd >= 0);
		cl_send(fd, part[i], strlen(part[i]), false);
		serve_until_clients(1);
		close(fd);
		serve_until_clients(0);
	}
	assert_int_equal(calls, 0);
	assert_int_equal(srv.nb_dropped, 2);
	request("espgwctl 1\nok\n", b, sizeof(b));
	assert_string_equal(b, "o flags batch=\no ok\nx 0\n");
}

static void
test_idle_client(void **state)
{
	uint64_t start = now_ms();
	char b[256];
	int fd;

	(void)state;
	srv.idle_ms = 200;
	fd = cl_connect(path);
	assert_true(fd >= 0);
	cl_send(fd, "espgwctl 1\nxfrm", 15, false);
	cl_reply(fd, b, sizeof(b));
	assert_true(now_ms() - start >= 200);
	assert_string_equal(b, "e espgw: request not finished within 200 ms\n"
			       "x 1\n");
	assert_int_equal(calls, 0);
	assert_int_equal(srv.nb_dropped, 1);
	serve_until_clients(0);
	/* a client connected but silent goes the same way */
	fd = cl_connect(path);
	cl_reply(fd, b, sizeof(b));
	assert_non_null(strstr(b, "not finished"));
	serve_until_clients(0);
}

static void
test_stale_replaced(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256], b[256];
	int fd;

	(void)state;
	gw_ctlsock_close(&srv);
	/* a socket file nobody listens on: what a killed espgw leaves */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(cl_connect(path), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(gw_ctlsock_open(&srv, path, err, sizeof(err)), 0);
	request("espgwctl 1\nnew\n", b, sizeof(b));
	assert_string_equal(b, "o flags batch=\no new\nx 0\n");
}

static void
test_live_refused(void **state)
{
	struct gw_ctlsock other;
	char err[256], want[256], b[256];
	char file[160];
	int fd;

	(void)state;
	assert_int_equal(gw_ctlsock_open(&other, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "espgw is already running on %s", path);
	assert_string_equal(err, want);
	gw_ctlsock_close(&other); /* must leave the live one's path */
	assert_int_equal(access(path, F_OK), 0);
	request("espgwctl 1\nfirst\n", b, sizeof(b));
	assert_string_equal(b, "o flags batch=\no first\nx 0\n");
	assert_int_equal(calls, 1); /* the probe was no request */
	/* nor is anything but a socket replaced */
	snprintf(file, sizeof(file), "%s/plain", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gw_ctlsock_open(&other, file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists and is not a socket"));
	assert_int_equal(access(file, F_OK), 0);
	unlink(file);
}

/* A child as user nobody: 10 if it cannot connect, 11 if connected but
 * given no reply, 12 if told EPERM as ip is without CAP_NET_ADMIN, 13 if
 * given any other reply. */
static int
as_nobody(void)
{
	char b[256];
	size_t len = 0;
	int fd;

	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 2;
	fd = cl_connect(path);
	if (fd < 0)
		return errno == EACCES ? 10 : 3;
	if (send(fd, "espgwctl 1\nx\n", 13, MSG_NOSIGNAL) == 13)
		shutdown(fd, SHUT_WR);
	while (!cl_drain(fd, b, sizeof(b), &len))
		poll(NULL, 0, 5);
	if (strcmp(b, "e RTNETLINK answers: Operation not permitted\nx 2\n") ==
	    0)
		return 12;
	return strstr(b, "x ") != NULL ? 13 : 11;
}

static int
run_as_nobody(void)
{
	uint64_t end = now_ms() + WAIT_MS;
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(as_nobody());
	while (waitpid(pid, &st, WNOHANG) == 0) {
		assert_true(now_ms() < end);
		assert_true(serve(5) >= 0);
	}
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_not_root_refused(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("not root: cannot run a peer as another user, "
			      "skipped\n");
		skip();
	}
	assert_int_equal(chmod(dir, 0755), 0);
	/* mode 0600 keeps it out */
	assert_int_equal(run_as_nobody(), 10);
	/* and with the mode loosened, SO_PEERCRED does */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(run_as_nobody(), 12);
	assert_int_equal(srv.nb_refused, 1);
	assert_int_equal(calls, 0);
	assert_int_equal(chmod(dir, 0700), 0);
}

static void
test_monitor(void **state)
{
	int fd[3];
	char b[3][512];
	size_t len[3] = { 0 };

	(void)state;
	for (int i = 0; i < 3; i++) {
		char req[64];

		fd[i] = cl_connect(path);
		snprintf(req, sizeof(req), "espgwctl 1\nmonitor %d\n", i + 1);
		cl_send(fd[i], req, strlen(req), true);
		b[i][0] = '\0';
	}
	while (calls < 3)
		assert_true(serve(5) >= 0);
	assert_int_equal(gw_ctlsock_broadcast(&srv, 1, "Added %s %d\n%s\n",
					      "state", 7, "second"),
			 2);
	assert_int_equal(gw_ctlsock_broadcast(&srv, 2, "Deleted policy"), 2);
	assert_int_equal(gw_ctlsock_broadcast(&srv, 4, "nobody"), 0);
	for (int k = 0; k < 20; k++) {
		serve(5);
		for (int i = 0; i < 3; i++)
			assert_false(cl_drain(fd[i], b[i], 512, &len[i]));
	}
	/* one goes; the others stay */
	close(fd[1]);
	serve_until_clients(2);
	assert_int_equal(gw_ctlsock_broadcast(&srv, 3, "Updated"), 2);
	gw_ctlsock_close(&srv);
	for (int i = 0; i < 3; i += 2) {
		while (!cl_drain(fd[i], b[i], 512, &len[i]))
			;
		close(fd[i]);
	}
	assert_string_equal(b[0], "o flags batch=\n"
				  "o Added state 7\n"
				  "o second\n"
				  "o Updated\n"
				  "x 0\n");
	assert_string_equal(b[1], "o flags batch=\n"
				  "o Deleted policy\n");
	assert_string_equal(b[2], "o flags batch=\n"
				  "o Added state 7\n"
				  "o second\n"
				  "o Deleted policy\n"
				  "o Updated\n"
				  "x 0\n");
}

static void
test_monitor_slow(void **state)
{
	char line[200];
	int fd, reached = 1;

	(void)state;
	srv.max_backlog = 65536;
	fd = cl_connect(path);
	cl_send(fd, "espgwctl 1\nmonitor 1\n", 21, true);
	while (calls < 1)
		assert_true(serve(5) >= 0);
	memset(line, 'm', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	/* it never reads: the socket fills, then the backlog */
	for (int i = 0; i < 100000 && reached == 1; i++)
		reached = gw_ctlsock_broadcast(&srv, 1, "%s", line);
	assert_int_equal(reached, 0);
	assert_int_equal(srv.nb_dropped, 1);
	serve_until_clients(0);
	close(fd);
}

/* espgwctl run against the server, served while it runs. */
struct run {
	char out[65536];
	char err[65536];
	int status; /* exit status, or 128 + signal */
};

struct child {
	pid_t pid;
	int out, err;
	size_t olen, elen;
};

static void
spawn(struct child *ch, struct run *r, const char *in, const char *env,
      const char *const *args)
{
	int po[2], pe[2], pi[2];
	const char *argv[32] = { espgwctl };
	int n = 1;

	while (args[n - 1] != NULL) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	assert_int_equal(pipe(pi), 0);
	ch->pid = fork();
	assert_true(ch->pid >= 0);
	if (ch->pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		for (int fd = 3; fd < 64; fd++)
			close(fd);
		if (env != NULL)
			putenv((char *)env);
		execv(espgwctl, (char *const *)argv);
		dprintf(2, "exec %s: %s\n", espgwctl, strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	close(pi[0]);
	if (in != NULL)
		assert_int_equal(write(pi[1], in, strlen(in)),
				 (ssize_t)strlen(in));
	close(pi[1]);
	ch->out = po[0];
	ch->err = pe[0];
	fcntl(ch->out, F_SETFL, O_NONBLOCK);
	fcntl(ch->err, F_SETFL, O_NONBLOCK);
	ch->olen = ch->elen = 0;
	r->out[0] = r->err[0] = '\0';
}

static void
pipe_drain(int fd, char *b, size_t cap, size_t *len)
{
	ssize_t n;

	while (*len < cap - 1 && (n = read(fd, b + *len, cap - 1 - *len)) > 0)
		*len += n;
	b[*len] = '\0';
}

/* Serves (if serving) until the child has exited; its output in r. */
static void
finish(struct child *ch, struct run *r, bool serving)
{
	uint64_t end = now_ms() + WAIT_MS;
	int st;

	for (;;) {
		pipe_drain(ch->out, r->out, sizeof(r->out), &ch->olen);
		pipe_drain(ch->err, r->err, sizeof(r->err), &ch->elen);
		if (waitpid(ch->pid, &st, WNOHANG) == ch->pid)
			break;
		assert_true(now_ms() < end);
		if (serving)
			assert_true(serve(5) >= 0);
		else
			poll(NULL, 0, 5);
	}
	fcntl(ch->out, F_SETFL, 0);
	fcntl(ch->err, F_SETFL, 0);
	pipe_drain(ch->out, r->out, sizeof(r->out), &ch->olen);
	pipe_drain(ch->err, r->err, sizeof(r->err), &ch->elen);
	close(ch->out);
	close(ch->err);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct run *
ctl(const char *in, const char *env, const char *const *args)
{
	static struct run r;
	struct child ch;

	spawn(&ch, &r, in, env, args);
	finish(&ch, &r, true);
	return &r;
}

#define CTL(...) ctl(NULL, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void
test_ctl_statement(void **state)
{
	struct run *r;

	(void)state;
	r = CTL("-S", path, "xfrm", "state", "list");
	assert_string_equal(r->out, "flags batch=\nxfrm state list\n");
	assert_string_equal(r->err, "");
	assert_int_equal(r->status, 0);
	r = CTL("--socket", path, "-s", "-j", "-p", "ip", "xfrm", "state");
	assert_string_equal(r->out, "flags s j p batch=\nip xfrm state\n");
	{
		char opt[160];

		snprintf(opt, sizeof(opt), "--socket=%s", path);
		r = CTL(opt, "xfrm", "policy");
		assert_string_equal(r->out, "flags batch=\nxfrm policy\n");
	}
	r = CTL("-stats", "-json", "-pretty", "-S", path, "link", "list");
	assert_string_equal(r->out, "flags s j p batch=\nlink list\n");
	r = CTL("-S", path, "fail", "2", "File", "exists");
	assert_string_equal(r->out, "flags batch=\n");
	assert_string_equal(r->err, "File exists\n");
	assert_int_equal(r->status, 2);
	assert_int_equal(calls, 5);
}

/* Words that the lexer treats specially come back as they went. */
static void
test_ctl_quoting(void **state)
{
	struct run *r;

	(void)state;
	r = CTL("-S", path, "words", "plain", "rfc4106(gcm(aes))", "two words",
		"it's", "say \"hi\"", "$HOME", "#not a comment", "", "back\\",
		"tab\there", "mix'\"$x");
	assert_string_equal(r->err, "");
	assert_string_equal(r->out,
			    "flags batch=\n"
			    "<words><plain><rfc4106(gcm(aes))><two words>"
			    "<it's><say \"hi\"><$HOME><#not a comment><>"
			    "<back\\><tab\there><mix'\"$x>\n");
	r = CTL("-S", path, "words", "line\nbreak");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "newline"));
}

static void
test_ctl_batch(void **state)
{
	char file[160];
	struct run *r;
	FILE *f;

	(void)state;
	snprintf(file, sizeof(file), "%s/setup.ip", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("xfrm state flush\nfail 1 setup.ip:2: bad\nroute list", f);
	fclose(f);
	r = CTL("-S", path, "-batch", file);
	assert_string_equal(r->err, "setup.ip:2: bad\n");
	assert_int_equal(r->status, 1);
	{
		char want[400];

		snprintf(want, sizeof(want),
			 "flags batch=%s\nxfrm state flush\nroute list\n",
			 file);
		assert_string_equal(r->out, want);
	}
	unlink(file);
	r = ctl("neigh list\nlink list\n", NULL,
		(const char *const[]){ "-S", path, "-b", "-", NULL });
	assert_string_equal(r->out, "flags batch=-\nneigh list\nlink list\n");
	assert_int_equal(r->status, 0);
	r = CTL("-S", path, "-batch", "/nonexistent/file");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "cannot open /nonexistent/file"));
	r = CTL("-S", path, "-batch", "-", "extra");
	assert_int_equal(r->status, 1);
	assert_int_equal(calls, 2);
}

static void
test_ctl_over_long(void **state)
{
	char file[160];
	struct run *r;
	FILE *f;

	(void)state;
	snprintf(file, sizeof(file), "%s/big.ip", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "xfrm state flush %0*d\n", 80, i);
	fclose(f);
	r = CTL("-S", path, "-batch", file);
	unlink(file);
	assert_int_equal(r->status, 1);
	assert_string_equal(r->err,
			    "espgw: request longer than 8388608 bytes\n");
	assert_int_equal(calls, 0);
}

static void
test_ctl_no_server(void **state)
{
	char none[160], want[300];
	struct run *r;

	(void)state;
	snprintf(none, sizeof(none), "%s/none.sock", dir);
	r = CTL("-S", none, "xfrm", "state");
	snprintf(want, sizeof(want),
		 "espgwctl: cannot connect to %s: No such file or directory "
		 "(is espgw running?)\n",
		 none);
	assert_string_equal(r->err, want);
	assert_string_equal(r->out, "");
	assert_int_equal(r->status, 1);
	/* the default paths, as espgw makes them */
	r = CTL("--file-prefix", "espgw-test-none", "xfrm", "state");
	assert_non_null(strstr(r->err, "cannot connect to "
				       "/run/espgw/espgw-test-none.sock: "));
	r = ctl(NULL, "ESPGW_FILE_PREFIX=espgw-test-env",
		(const char *const[]){ "link", "list", NULL });
	assert_non_null(strstr(r->err, "/run/espgw/espgw-test-env.sock: "));
	r = ctl(NULL, "ESPGW_FILE_PREFIX=",
		(const char *const[]){ "link", "list", NULL });
	assert_true(strstr(r->err, "/run/espgw/espgw.sock: ") != NULL ||
		    r->status == 0);
	r = CTL("--file-prefix", "a/b", "link");
	assert_non_null(strstr(r->err, "bad --file-prefix"));
}

static void
test_ctl_usage(void **state)
{
	struct run *r;

	(void)state;
	r = CTL("--help");
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "usage: espgwctl"));
	assert_non_null(strstr(r->out, "-batch FILE"));
	r = ctl(NULL, NULL, (const char *const[]){ NULL });
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "usage: espgwctl"));
	r = CTL("-S", path, "-q", "link");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "unknown option \"-q\""));
	assert_int_equal(calls, 0);
}

/* espgwctl monitor prints until espgw closes, then exits 0; and dies
 * on SIGINT. */
static void
test_ctl_monitor(void **state)
{
	static struct run r;
	struct child ch;
	uint64_t end = now_ms() + WAIT_MS;

	(void)state;
	spawn(&ch, &r, NULL, NULL,
	      (const char *const[]){ "-S", path, "monitor", "1", NULL });
	while (calls < 1 || srv.nb_clients < 1) {
		assert_true(now_ms() < end);
		serve(5);
	}
	gw_ctlsock_broadcast(&srv, 1, "Added state %d", 1);
	gw_ctlsock_broadcast(&srv, 1, "Deleted state %d", 1);
	for (int k = 0; k < 20; k++)
		serve(5);
	gw_ctlsock_close(&srv);
	finish(&ch, &r, false);
	assert_string_equal(r.out,
			    "flags batch=\nAdded state 1\nDeleted state 1\n");
	assert_int_equal(r.status, 0);

	assert_int_equal(setup(NULL), 0);
	spawn(&ch, &r, NULL, NULL,
	      (const char *const[]){ "-S", path, "monitor", "1", NULL });
	while (calls < 1 || srv.nb_clients < 1) {
		assert_true(now_ms() < end);
		serve(5);
	}
	kill(ch.pid, SIGINT);
	finish(&ch, &r, true);
	assert_int_equal(r.status, 128 + SIGINT);
	serve_until_clients(0);
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ctlsock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	unsetenv("ESPGW_FILE_PREFIX");
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
group_teardown(void **state)
{
	char d[160];

	(void)state;
	snprintf(d, sizeof(d), "%s/run/espgw", dir);
	rmdir(d);
	snprintf(d, sizeof(d), "%s/run", dir);
	rmdir(d);
	return rmdir(dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_request_parse),
		T(test_mode_and_dir),
		T(test_request_reply),
		T(test_bad_requests),
		T(test_many_clients),
		T(test_too_many_clients),
		T(test_over_long),
		T(test_gone_mid_request),
		T(test_idle_client),
		T(test_stale_replaced),
		T(test_live_refused),
		T(test_not_root_refused),
		T(test_monitor),
		T(test_monitor_slow),
		T(test_ctl_statement),
		T(test_ctl_quoting),
		T(test_ctl_batch),
		T(test_ctl_over_long),
		T(test_ctl_no_server),
		T(test_ctl_usage),
		T(test_ctl_monitor),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s ESPGWCTL\n", argv[0]);
		return 1;
	}
	espgwctl = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
