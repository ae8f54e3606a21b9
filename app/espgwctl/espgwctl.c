/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* espgwctl: sends one `ip` statement, or a whole file as one batch, to
 * a running espgw over its control socket and prints the reply: "o"
 * records to stdout, "e" records to stderr, and exits with the "x"
 * record's status (docs/control.md). The words are joined and quoted so
 * that espgw's lexer, which splits as a shell does, gets them back as
 * they were. Needs no DPDK. */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/ctlsock.h"

#define PROG "espgwctl"

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
add(struct buf *b, const char *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
adds(struct buf *b, const char *s)
{
	add(b, s, strlen(s));
}

static void
usage(FILE *f)
{
	fputs("usage: " PROG " [OPTIONS] [ip] OBJECT COMMAND ...\n"
	      "       " PROG " [OPTIONS] -batch FILE|-\n"
	      "Sends an `ip` statement to a running espgw and prints its "
	      "answer.\n"
	      "\n"
	      "  -S, --socket PATH    espgw's control socket\n"
	      "      --file-prefix P  the socket of the espgw started with "
	      "EAL's\n"
	      "                       --file-prefix P: "
	      "/run/espgw/P.sock\n"
	      "  -s, -stats           counters, as ip -s\n"
	      "  -j, -json            JSON, as ip -j\n"
	      "  -p, -pretty          pretty JSON, as ip -p\n"
	      "  -4, -6, -f inet|inet6\n"
	      "                       the statement's family, as ip's\n"
	      "  -b, -batch FILE|-    every statement of FILE (- for stdin) "
	      "as one\n"
	      "                       change: all of it, or none\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Without -S: --file-prefix, else $ESPGW_FILE_PREFIX, else "
	      "/run/espgw/espgw.sock.\n"
	      "Exit status: espgw's for the statement (0 done, 1 refused), "
	      "1 if espgw\n"
	      "cannot be reached.\n",
	      f);
}

/* A word as espgw's lexer (app/lang/lex.c) must see it to give it back
 * unchanged: as it is when it holds nothing the lexer treats specially,
 * else in '...', with each ' written as '"'"' (quoted strings join). */
static void
add_word(struct buf *b, const char *w)
{
	if (strchr(w, '\n') != NULL)
		die("a word holds a newline: write one statement a line");
	if (w[0] != '\0' && strpbrk(w, " \t\r\v\f'\"#$\\") == NULL) {
		adds(b, w);
		return;
	}
	add(b, "'", 1);
	for (const char *p = w; *p != '\0'; p++) {
		if (*p == '\'')
			adds(b, "'\"'\"'");
		else
			add(b, p, 1);
	}
	add(b, "'", 1);
}

static void
read_all(FILE *f, const char *name, struct buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		add(b, chunk, n);
	if (ferror(f))
		die("cannot read %s: %s", name, strerror(errno));
}

static void
batch_body(const char *file, struct buf *b)
{
	size_t start = b->len;
	FILE *f;

	if (strcmp(file, "-") == 0) {
		read_all(stdin, "stdin", b);
	} else {
		f = fopen(file, "r");
		if (f == NULL)
			die("cannot open %s: %s", file, strerror(errno));
		read_all(f, file, b);
		fclose(f);
	}
	if (memchr(b->p + start, '\0', b->len - start) != NULL)
		die("%s holds a NUL byte", file);
	if (b->len > start && b->p[b->len - 1] != '\n')
		add(b, "\n", 1);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot connect to %s: %s (is espgw running?)", path,
		    strerror(errno));
	return fd;
}

/* The whole request, then the half-close that ends it. If espgw stops
 * reading (a refused request), its answer is still there to read. */
static void
send_request(int fd, const struct buf *req)
{
	size_t off = 0;

	while (off < req->len) {
		ssize_t n =
			send(fd, req->p + off, req->len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		off += n;
	}
	shutdown(fd, SHUT_WR);
}

/* Prints the records until "x", and exits with its status. */
static void __attribute__((noreturn)) read_reply(int fd, const char *path)
{
	FILE *f = fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		die("fdopen: %s", strerror(errno));
	/* a monitor's lines as they come, even into a pipe */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n >= 2 && line[0] == 'o' && line[1] == ' ') {
			puts(line + 2);
		} else if (n >= 2 && line[0] == 'e' && line[1] == ' ') {
			fflush(stdout);
			fprintf(stderr, "%s\n", line + 2);
		} else if (n >= 2 && line[0] == 'x' && line[1] == ' ') {
			char *end;
			long st = strtol(line + 2, &end, 10);

			if (*end != '\0' || st < 0 || st > 255)
				die("bad status from espgw: \"%s\"", line);
			fflush(stdout);
			exit((int)st);
		} else {
			die("unexpected answer from espgw: \"%.40s\"", line);
		}
	}
	/* ECONNRESET after the records is a close, as EOF is */
	die("%s: espgw closed the connection without a status", path);
}

static bool
ip_option(const char *arg, const char *full, size_t min)
{
	size_t n = strlen(arg);

	return n >= min && n <= strlen(full) && strncmp(arg, full, n) == 0;
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *prefix = getenv("ESPGW_FILE_PREFIX");
	const char *batch = NULL, *family = NULL;
	bool stats = false, json = false, pretty = false;
	char defpath[GW_CTLSOCK_PATH_MAX], head[32];
	struct buf req = { 0 };
	int i = 1, fd;

	/* ip's options (single dash, any unambiguous prefix) and ours; the
	 * statement starts at the first word that is not an option */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (ip_option(a, "-statistics", 2) ||
			   ip_option(a, "-stats", 2)) {
			stats = true;
		} else if (strcmp(a, "-4") == 0 || strcmp(a, "-6") == 0) {
			family = a; /* the statement reads it, as ip does */
		} else if (strcmp(a, "-f") == 0 || ip_option(a, "-family", 3)) {
			if (++i == argc)
				die("%s needs inet or inet6", a);
			if (strcmp(argv[i], "inet") != 0 &&
			    strcmp(argv[i], "inet6") != 0)
				die("%s %s: only inet or inet6", a, argv[i]);
			family = argv[i][4] == '6' ? "-6" : "-4";
		} else if (ip_option(a, "-json", 2)) {
			json = true;
		} else if (ip_option(a, "-pretty", 2)) {
			pretty = true;
		} else if (ip_option(a, "-batch", 2)) {
			if (++i == argc)
				die("-batch needs a FILE (or - for stdin)");
			batch = argv[i];
		} else if (strcmp(a, "-S") == 0 || strcmp(a, "--socket") == 0) {
			if (++i == argc)
				die("%s needs a PATH", a);
			path = argv[i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			path = a + 9;
		} else if (strcmp(a, "--file-prefix") == 0) {
			if (++i == argc)
				die("--file-prefix needs a NAME");
			prefix = argv[i];
		} else if (strncmp(a, "--file-prefix=", 14) == 0) {
			prefix = a + 14;
		} else if (strcmp(a, "-h") == 0 || ip_option(a, "--help", 3) ||
			   ip_option(a, "-help", 2)) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, PROG ": unknown option \"%s\"\n", a);
			usage(stderr);
			return 1;
		}
		i++;
	}
	if (batch != NULL && i < argc)
		die("-batch takes no statement words");
	if (batch != NULL && family != NULL)
		die("%s with -batch: give the family on the lines", family);
	if (batch == NULL && i == argc) {
		usage(stderr);
		return 1;
	}
	if (path == NULL) {
		path = gw_ctlsock_default_path(prefix, defpath,
					       sizeof(defpath));
		if (path == NULL)
			die("bad --file-prefix \"%s\"", prefix);
	}

	snprintf(head, sizeof(head), "%s %d", GW_CTL_MAGIC, GW_CTL_VERSION);
	adds(&req, head);
	if (stats)
		adds(&req, " s");
	if (json)
		adds(&req, " j");
	if (pretty)
		adds(&req, " p");
	if (batch != NULL) {
		if (strchr(batch, '\n') != NULL)
			die("a file name with a newline");
		adds(&req, " batch=");
		adds(&req, batch);
	}
	add(&req, "\n", 1);
	if (batch != NULL) {
		batch_body(batch, &req);
	} else {
		for (int k = i; k < argc; k++) {
			if (k > i)
				add(&req, " ", 1);
			/* -4 or -6 before the object, after an "ip" */
			if (family != NULL &&
			    (k > i || strcmp(argv[k], "ip") != 0)) {
				adds(&req, family);
				add(&req, " ", 1);
				family = NULL;
			}
			add_word(&req, argv[k]);
		}
		add(&req, "\n", 1);
	}

	fd = ctl_connect(path);
	signal(SIGPIPE, SIG_IGN);
	send_request(fd, &req);
	free(req.p);
	read_reply(fd, path);
}
