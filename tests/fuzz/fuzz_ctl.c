/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The control socket and the transactions behind it (app/control):
 * the input is one or more requests as espgwctl sends them (a header
 * line "espgwctl 1 [s] [j] [p] [batch=NAME]", then statements), a line
 * "%%" between two, each sent on a connection of its own to a real
 * gw_ctlsock served by gw_ctl_handle() over a live configuration: two
 * net_null ports up, addresses, routes, a neighbour, two states and
 * three policies (base[] below), one worker that never runs. Checks:
 * every reply is o/e records and one last "x N" (a monitor: no x); a
 * refused request (N != 0) says why on e and leaves the configuration
 * and the published tables as they were; a changed configuration was
 * published; the published SAs are the states, in their order; no key
 * of the request on an e line; nothing left behind (rte_malloc's
 * count when the base configuration is back, LeakSanitizer at exit). */

#include "cfg_same.h"
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "control/ctl.h"
#include "control/ports.h"
#include "control/publish.h"
#include "control/tables.h"
#include "gw.h"
#include "lang/config.h"
#include "lang/parse.h"

#define KEY1 "0x6c1c4a2e4b43a58fa5d6b5b1f9a9d1e3aa0b2c31"
#define KEY2 "0x1f5e9b3d7a2c84e6f0d1c3b5a7e9f2d4c6b8a0e2"

/* config/r1.conf on net_null ports, and some IPv6 */
static const char *const base[] = {
	"link set dev net_null0 up",
	"link set dev net_null1 up",
	"addr add 10.0.1.1/24 dev net_null0",
	"addr add 1.1.1.1/24 dev net_null1",
	"addr add 2001:db8:1::1/64 dev net_null1",
	"route add default via 1.1.1.254 dev net_null1",
	"route add 10.0.2.0/24 via 1.1.1.254 dev net_null1 src 10.0.1.1",
	"-6 route add 2001:db8:2::/64 via 2001:db8:1::fe dev net_null1",
	"neigh add 1.1.1.254 lladdr 02:00:00:00:00:fe dev net_null1",
	"xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1001 reqid 1 "
	"mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' " KEY1 " 128",
	"xfrm state add src 2.2.2.2 dst 1.1.1.1 proto esp spi 0x2002 reqid 2 "
	"mode tunnel replay-window 64 aead 'rfc4106(gcm(aes))' " KEY2 " 128",
	"xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	"1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel",
	"xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src "
	"2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel",
	"xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in tmpl src "
	"2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel",
};

static struct gw gw;
static struct gw_ctl ctl;
static char sock_path[GW_CTLSOCK_PATH_MAX];
static uint64_t base_commits, base_seq, base_pseq;
static size_t base_heap; /* rte_malloc's count with the base set up */
static bool verbose;	 /* FUZZ_CTL_VERBOSE: print each exchange */

/* A copy of the configuration's arrays, to compare. */
struct snap {
	struct espgw_cfg cfg;
};

static void *
dup_arr(const void *a, size_t n, size_t size)
{
	void *d = n != 0 ? malloc(n * size) : NULL;

	FZ_CHECK(n == 0 || d != NULL);
	if (n != 0)
		memcpy(d, a, n * size);
	return d;
}

static void
snap_take(struct snap *s, const struct espgw_cfg *c)
{
	s->cfg = *c;
#define DUP(arr, nb) s->cfg.arr = dup_arr(c->arr, c->nb, sizeof(*c->arr))
	DUP(links, nb_links);
	DUP(addrs, nb_addrs);
	DUP(routes, nb_routes);
	DUP(neighs, nb_neighs);
	DUP(states, nb_states);
	DUP(policies, nb_policies);
	DUP(addrs6, nb_addrs6);
	DUP(routes6, nb_routes6);
	DUP(neighs6, nb_neighs6);
#undef DUP
}

static bool
snap_same(const struct snap *s, const struct espgw_cfg *c)
{
	return fz_cfg_same(&s->cfg, c);
}

static void
snap_free(struct snap *s)
{
	espgw_cfg_free(&s->cfg);
}

static size_t
heap_count(void)
{
	struct rte_malloc_socket_stats st;
	size_t n = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) ==
		    0)
			n += st.alloc_count;
	return n;
}

/* The published SAs are the configuration's states, one for one, in
 * their order: the lifetime check walks both by the same index. */
static void
check_sas(void)
{
	const struct gw_tables *t = gw_tables_current(&gw.pub);

	FZ_CHECK(t->nb_sas == ctl.db.cfg.nb_states);
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		const struct espgw_cfg_state *s = &ctl.db.cfg.states[i];

		FZ_CHECK(p->spi == s->p.spi);
		FZ_CHECK(gw_db_ip_same(&p->dst, &s->p.dst));
	}
}

/* The base configuration, live, as espgw starts with it. */
static void
start_base(void)
{
	struct espgw_cfg cfg;
	struct gw_tables *t;
	unsigned int dup;
	char err[512];

	for (int d = 0; d < GW_NB_DIRS; d++)
		gw_rebase_cancel(&ctl.rebase[d]);
	gw_db_fini(&ctl.db);
	espgw_cfg_init(&cfg, "base");
	for (size_t i = 0; i < RTE_DIM(base); i++)
		if (espgw_cfg_parse_line(&cfg, base[i], (int)i + 1, err,
					 sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			FZ_CHECK(!"the base configuration parses");
		}
	gw_db_number(&cfg);
	t = gw_tables_build(&cfg, gw.nb_workers, gw_spread_map(&gw), NULL, NULL,
			    err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "%s\n", err);
		FZ_CHECK(!"the base configuration builds");
	}
	gw_tables_free(gw_publish(&gw.pub, t));
	if (gw_ports_apply(&gw, t, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		FZ_CHECK(!"the base configuration's ports start");
	}
	FZ_CHECK(gw_db_init(&ctl.db, &cfg, &dup) == 0);
	ctl.db.cfg.file = "espgwctl";
	ctl.rebind = false;
	base_commits = ctl.nb_commits;
	base_seq = ctl.db.seq;
	base_pseq = ctl.db.pseq;
}

static void
fini(void)
{
	gw_ctl_fini(&ctl);
	gw_tables_free(gw_tables_current(&gw.pub));
	gw_publisher_fini(&gw.pub);
	gw_neigh_fini(&gw.neigh);
	gw_ports_close(&gw);
	unlink(sock_path);
}

void
fz_target_init(void)
{
	struct espgw_cfg none;
	char err[512];

	if (rte_vdev_init("net_null0", NULL) != 0 ||
	    rte_vdev_init("net_null1", NULL) != 0)
		FZ_CHECK(!"net_null ports");
	gw.nb_workers = 1;
	gw.pool = fz_pool;
	FZ_CHECK(gw_neigh_init(&gw.neigh, 4096) == 0);
	FZ_CHECK(gw_publisher_init(&gw.pub, gw.nb_workers) == 0);
	espgw_cfg_init(&none, "base");
	FZ_CHECK(gw_ctl_init(&ctl, &gw, &none) == 0);
	snprintf(sock_path, sizeof(sock_path), "/tmp/espgw-fuzz-%d.sock",
		 (int)getpid());
	if (gw_ctlsock_open(&ctl.sock, sock_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		FZ_CHECK(!"the control socket opens");
	}
	verbose = getenv("FUZZ_CTL_VERBOSE") != NULL;
	start_base();
	/* the first build allocates what later ones reuse */
	start_base();
	base_heap = heap_count();
	atexit(fini);
}

/* A growing buffer for a reply. */
struct text {
	char *p;
	size_t len, cap;
};

static void
text_room(struct text *t, size_t more)
{
	if (t->len + more + 1 <= t->cap)
		return;
	t->cap = (t->len + more + 1) * 2;
	t->p = realloc(t->p, t->cap);
	FZ_CHECK(t->p != NULL);
}

/* One request on a connection of its own; its reply in out (NUL
 * ended). Returns false for a connection kept as a monitor. */
static bool
exchange(const char *req, size_t len, struct text *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	uint64_t done0 = ctl.sock.nb_requests + ctl.sock.nb_bad;
	size_t sent = 0;
	bool shut = false, eof = false, monitor = false;
	int quiet = 0;

	FZ_CHECK(fd >= 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	FZ_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	out->len = 0;
	for (unsigned int round = 0; !eof; round++) {
		bool moved = false;
		ssize_t n;

		FZ_CHECK(round < 1000000);
		if (sent < len) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				moved = true;
			}
		}
		if (sent == len && !shut) {
			FZ_CHECK(shutdown(fd, SHUT_WR) == 0);
			shut = true;
		}
		FZ_CHECK(gw_ctlsock_poll(&ctl.sock, 0, gw_ctl_handle, &ctl) >=
			 0);
		for (;;) {
			text_room(out, 65536);
			n = recv(fd, out->p + out->len, 65536, 0);
			if (n > 0) {
				out->len += (size_t)n;
				moved = true;
				continue;
			}
			if (n == 0)
				eof = true;
			else
				FZ_CHECK(errno == EAGAIN);
			break;
		}
		/* served, nothing more coming, still open: a monitor */
		quiet = moved ? 0 : quiet + 1;
		if (!eof && shut &&
		    ctl.sock.nb_requests + ctl.sock.nb_bad != done0 &&
		    quiet > 3) {
			monitor = true;
			break;
		}
	}
	close(fd);
	/* the server sees the monitor go */
	FZ_CHECK(gw_ctlsock_poll(&ctl.sock, 0, gw_ctl_handle, &ctl) >= 0);
	FZ_CHECK(ctl.sock.nb_clients == 0);
	out->p[out->len] = '\0';
	return !monitor;
}

/* How often needle[0..n) is in s[0..len). */
static unsigned int
count(const char *s, size_t len, const char *needle, size_t n)
{
	const char *p = s, *end = s + len;
	unsigned int nb = 0;

	while ((p = memmem(p, (size_t)(end - p), needle, n)) != NULL) {
		nb++;
		p++;
	}
	return nb;
}

/* The keys a request's states carry: the word after aead's name (or
 * an abbreviation of aead), the statements split into words as the
 * parser splits them (lex.c), so that a quoted word is one. */
static unsigned int
keys_of(const char *req, size_t len, char keys[][80], unsigned int max)
{
	static char o[CFG_LINE_MAX + 1], *w[CFG_WORDS_MAX];
	const char *end = req + len, *p = memchr(req, '\n', len);
	unsigned int nb = 0;

	/* the statements': a batch name is the user's to echo */
	for (; p != NULL && p < end && nb < max;) {
		const char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		size_t n = (size_t)((nl != NULL ? nl : end) - (p + 1));
		char line[CFG_LINE_MAX + 1], err[256];
		struct lang_ctx c = { .file = "keys",
				      .err = err,
				      .errlen = sizeof(err) };
		int nw;

		if (n > CFG_LINE_MAX)
			break; /* refused before its words are read */
		memcpy(line, p + 1, n);
		line[n] = '\0';
		p = nl;
		nw = lang_split(&c, line, o, w);
		for (int i = 0; i + 2 < nw && nb < max; i++) {
			const char *k = w[i + 2];
			size_t kn = 0;

			if (!lang_matches(w[i], "aead") || k[0] != '0' ||
			    (k[1] != 'x' && k[1] != 'X'))
				continue;
			k += 2;
			while (kn < 79 && isxdigit((unsigned char)k[kn]))
				kn++;
			/* too short to find by chance; its digits elsewhere
			 * in the request (a fuzzed address) may be echoed as
			 * that word: only a key said once counts */
			if (kn < 16 || count(req, len, k, kn) != 1)
				continue;
			memcpy(keys[nb], k, kn);
			keys[nb++][kn] = '\0';
		}
	}
	return nb;
}

/* The reply's records: each line "o ", "e " or "x "; one x, the last
 * (none for a monitor). Returns the status, or -1 for a monitor; *err:
 * an e record was sent. */
static int
check_reply(const struct text *r, bool monitor, bool *err, char keys[][80],
	    unsigned int nb_keys, const char *file)
{
	const char *p = r->p, *end = r->p + r->len;
	size_t fl = strlen(file);
	bool unnamed = false;
	int status = -1;

	*err = false;
	FZ_CHECK(r->len == 0 || end[-1] == '\n');
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		FZ_CHECK(n >= 2 && p[1] == ' ');
		FZ_CHECK(status < 0); /* nothing after the x */
		if (p[0] == 'x') {
			char *e;
			long v = strtol(p + 2, &e, 10);

			FZ_CHECK(e == nl && e != p + 2 && v >= 0 && v <= 255);
			status = (int)v;
		} else if (p[0] == 'e') {
			*err = true;
			/* "FILE:LINE: what", or "FILE: nothing changed" */
			if (n < fl + 3 || memcmp(p + 2, file, fl) != 0 ||
			    p[2 + fl] != ':')
				unnamed = true;
			for (unsigned int k = 0; k < nb_keys; k++)
				if (memmem(p, n, keys[k], strlen(keys[k]))) {
					fprintf(stderr, "key %s in \"%.*s\"\n",
						keys[k], (int)n, p);
					FZ_CHECK(!"a key on an e line");
				}
		} else {
			FZ_CHECK(p[0] == 'o');
		}
		p = nl + 1;
	}
	if (monitor)
		FZ_CHECK(status < 0);
	else
		FZ_CHECK(status >= 0);
	/* a refusal names its file and line (docs/control.md) */
	if (status > 0 && unnamed) {
		fprintf(stderr, "an e line does not name %s:\n%s", file, r->p);
		FZ_CHECK(!"a refusal without FILE:LINE");
	}
	return status;
}

static void
one_request(const char *req, size_t len, struct text *reply)
{
	const struct gw_tables *t0 = gw_tables_current(&gw.pub);
	uint64_t commits = ctl.nb_commits;
	char keys[8][80];
	unsigned int nb_keys = keys_of(req, len, keys, RTE_DIM(keys));
	struct gw_ctl_request q;
	char why[256];
	const char *file;
	struct snap before;
	bool monitor, err;
	int status;

	snap_take(&before, &ctl.db.cfg);
	monitor = !exchange(req, len, reply);
	if (len == 0) {
		/* a probe: closed without a word */
		FZ_CHECK(reply->len == 0);
		snap_free(&before);
		return;
	}
	if (verbose)
		fprintf(stderr, "-- %zu bytes, %u keys:\n%.*s-- reply:\n%s",
			len, nb_keys, (int)len, req, reply->p);
	/* the name its errors go by: the batch's, or espgwctl; a header
	 * the server refuses is "espgw: why" */
	if (memchr(req, '\0', len) != NULL || req[len - 1] != '\n' ||
	    gw_ctl_request_parse(req, len, &q, why, sizeof(why)) != 0)
		file = "espgw";
	else
		file = q.batch[0] != '\0' ? q.batch : "espgwctl";
	status = check_reply(reply, monitor, &err, keys, nb_keys, file);
	if (status != 0 && !monitor) {
		/* refused: why, and nothing of it stays */
		FZ_CHECK(err);
		FZ_CHECK(snap_same(&before, &ctl.db.cfg));
		FZ_CHECK(gw_tables_current(&gw.pub) == t0);
		FZ_CHECK(ctl.nb_commits == commits);
	}
	/* a change is published, and only a change */
	if (!snap_same(&before, &ctl.db.cfg))
		FZ_CHECK(ctl.nb_commits == commits + 1);
	FZ_CHECK(ctl.nb_commits <= commits + 1);
	FZ_CHECK(strcmp(ctl.db.cfg.file, "espgwctl") == 0);
	check_sas();
	snap_free(&before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct text reply = { 0 };

	/* back to the base when the last input changed anything */
	if (ctl.nb_commits != base_commits || ctl.db.seq != base_seq ||
	    ctl.db.pseq != base_pseq) {
		start_base();
		FZ_CHECK(heap_count() == base_heap);
	}
	/* requests, a line "%%" between two; the '\n' before it ends
	 * the first */
	for (;;) {
		const char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
		size_t n =
			sep != NULL ? (size_t)(sep + 1 - p) : (size_t)(end - p);

		one_request(p, n, &reply);
		if (sep == NULL)
			break;
		p = sep + 4;
	}
	free(reply.p);
	return 0;
}
