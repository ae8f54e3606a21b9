/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Prometheus metrics: the counters stats.c sums, in the text exposition
 * format 0.0.4, over HTTP (libmicrohttpd) and into a file for
 * node_exporter's textfile collector. No key material: only counters,
 * addresses, SPIs and reqids. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <rte_ethdev.h>

#include "control/ctl.h"
#include "control/metrics.h"
#include "control/show.h"
#include "control/stats.h"
#include "gw.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A label value or HELP text as the format escapes it: backslash and
 * newline, and in label values the double quote. */
static void
put_escaped(FILE *f, const char *s, bool label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && label)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* espgw_ and the name with '-' as '_': metric names allow no '-'. */
static void
put_name(FILE *f, const char *name, const char *suffix)
{
	fputs("espgw_", f);
	for (const char *s = name; *s != '\0'; s++)
		fputc(*s == '-' ? '_' : *s, f);
	fputs(suffix, f);
}

static void
family(FILE *f, const char *name, const char *suffix, const char *type,
       const char *help)
{
	fputs("# HELP ", f);
	put_name(f, name, suffix);
	fputc(' ', f);
	put_escaped(f, help, false);
	fputs("\n# TYPE ", f);
	put_name(f, name, suffix);
	fprintf(f, " %s\n", type);
}

static void
label(FILE *f, bool first, const char *name, const char *value)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	put_escaped(f, value, true);
	fputc('"', f);
}

/* An SA's labels, without the braces: (dst, spi, direction) names it;
 * src and reqid say which tunnel it belongs to. */
static void
sa_labels(FILE *f, const struct espgw_sa_params *p)
{
	char a[INET6_ADDRSTRLEN], num[16];

	label(f, true, "dst", gw_show_ip(&p->dst, a));
	snprintf(num, sizeof(num), "0x%08x", p->spi);
	label(f, false, "spi", num);
	label(f, false, "direction", p->dir == ESPGW_SA_OUT ? "out" : "in");
	label(f, false, "src", gw_show_ip(&p->src, a));
	snprintf(num, sizeof(num), "%u", p->reqid);
	label(f, false, "reqid", num);
}

static void
gateway_counters(FILE *f, const struct gw_ctl *ctl)
{
	uint64_t cnt[GW_CNT_MAX], esp[ESPGW_DROP_MAX], esp_in, esp_out;
	char help[128];

	gw_stats_sum(ctl->gw, cnt, esp, &esp_in, &esp_out);
	for (int c = 0; c < GW_CNT_MAX; c++) {
		snprintf(help, sizeof(help),
			 "Gateway counter %s, summed over workers "
			 "(app/dataplane/counters.h).",
			 gw_counter_name(c));
		family(f, gw_counter_name(c), "_total", "counter", help);
		put_name(f, gw_counter_name(c), "_total");
		fprintf(f, " %lu\n", cnt[c]);
	}
	family(f, "drop-esp-in", "_total", "counter",
	       "Inbound ESP failures: every drop reason of every SA, live or "
	       "gone, and those of no SA.");
	fprintf(f, "espgw_drop_esp_in_total %lu\n", esp_in);
	family(f, "drop-esp-out", "_total", "counter",
	       "Outbound ESP failures: every drop reason of every SA, live "
	       "or gone.");
	fprintf(f, "espgw_drop_esp_out_total %lu\n", esp_out);
	family(f, "esp-drops", "_total", "counter",
	       "ESP library drops blamed on no SA, by reason.");
	for (int d = 0; d < ESPGW_DROP_MAX; d++) {
		fputs("espgw_esp_drops_total{", f);
		label(f, true, "reason", espgw_drop_name(d));
		fprintf(f, "} %lu\n", esp[d]);
	}
}

static const struct port_stat {
	const char *name, *help;
	size_t off;
} port_stats[] = {
	{ "port-rx-packets", "Packets received by the port.",
	  offsetof(struct rte_eth_stats, ipackets) },
	{ "port-tx-packets", "Packets sent by the port.",
	  offsetof(struct rte_eth_stats, opackets) },
	{ "port-rx-bytes", "Bytes received by the port.",
	  offsetof(struct rte_eth_stats, ibytes) },
	{ "port-tx-bytes", "Bytes sent by the port.",
	  offsetof(struct rte_eth_stats, obytes) },
	{ "port-rx-missed", "Packets the port dropped: RX queues full.",
	  offsetof(struct rte_eth_stats, imissed) },
	{ "port-rx-errors", "Erroneous packets received by the port.",
	  offsetof(struct rte_eth_stats, ierrors) },
	{ "port-tx-errors", "Packets the port failed to send.",
	  offsetof(struct rte_eth_stats, oerrors) },
	{ "port-rx-nombuf", "RX mbuf allocation failures of the port.",
	  offsetof(struct rte_eth_stats, rx_nombuf) },
};

#define NB_PORT_STATS (sizeof(port_stats) / sizeof(port_stats[0]))

static void
port_counters(FILE *f, const struct gw *gw, const struct gw_tables *t)
{
	struct rte_eth_stats st[GW_MAX_PORTS];
	bool ok[GW_MAX_PORTS];

	/* read once, so that every family shows the same instant */
	for (unsigned int p = 0; p < gw->nb_ports; p++)
		ok[p] = rte_eth_stats_get(gw->ports[p], &st[p]) == 0;
	for (size_t s = 0; s < NB_PORT_STATS; s++) {
		family(f, port_stats[s].name, "_total", "counter",
		       port_stats[s].help);
		for (unsigned int p = 0; p < gw->nb_ports; p++) {
			char id[8];

			if (!ok[p])
				continue;
			put_name(f, port_stats[s].name, "_total{");
			label(f, true, "port", t->ifaces[gw->ports[p]].name);
			snprintf(id, sizeof(id), "%u", gw->ports[p]);
			label(f, false, "port_id", id);
			fprintf(f, "} %lu\n",
				*(const uint64_t *)((const char *)&st[p] +
						    port_stats[s].off));
		}
	}
}

enum sa_stat { SA_PACKETS, SA_BYTES, SA_MAPPINGS };

static void
sa_counter(FILE *f, const struct gw_tables *t, enum sa_stat which,
	   const char *name, const char *help)
{
	family(f, name, "_total", "counter", help);
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		struct espgw_sa_stats st;
		uint64_t v;

		if (which == SA_MAPPINGS && !p->encap.udp)
			continue;
		espgw_sa_stats_read(t->sas[i], &st);
		v = which == SA_PACKETS ? st.packets
		    : which == SA_BYTES ? st.bytes
					: st.mappings;
		put_name(f, name, "_total{");
		sa_labels(f, p);
		fprintf(f, "} %lu\n", v);
	}
}

static void
sa_counters(FILE *f, const struct gw_tables *t)
{
	sa_counter(f, t, SA_PACKETS, "sa-packets",
		   "Packets an SA processed successfully.");
	sa_counter(f, t, SA_BYTES, "sa-bytes",
		   "Inner IP bytes of the packets an SA processed.");
	sa_counter(f, t, SA_MAPPINGS, "sa-mapping-changes",
		   "ESP in UDP: times the peer's address or port changed.");
	/* only the reasons that happened: 20 reasons x 100,000 SAs of
	 * zeros would be most of the scrape */
	family(f, "sa-drops", "_total", "counter",
	       "ESP drops of an SA, by reason; reasons at 0 are left out.");
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		struct espgw_sa_stats st;

		espgw_sa_stats_read(t->sas[i], &st);
		for (int d = 0; d < ESPGW_DROP_MAX; d++) {
			if (st.drops[d] == 0)
				continue;
			fputs("espgw_sa_drops_total{", f);
			sa_labels(f, p);
			label(f, false, "reason", espgw_drop_name(d));
			fprintf(f, "} %lu\n", st.drops[d]);
		}
	}
}

/* What the SAs freed so far counted, by direction. */
static void
gone_counters(FILE *f)
{
	static const char *const dirs[] = {
		[ESPGW_SA_IN] = "in", [ESPGW_SA_OUT] = "out"
	};

	family(f, "sa-gone-packets", "_total", "counter",
	       "Packets of the SAs deleted or expired so far.");
	for (int d = 0; d < 2; d++)
		fprintf(f,
			"espgw_sa_gone_packets_total{direction=\"%s\"} %lu\n",
			dirs[d], gw_stats_gone(d)->packets);
	family(f, "sa-gone-bytes", "_total", "counter",
	       "Inner IP bytes of the SAs deleted or expired so far.");
	for (int d = 0; d < 2; d++)
		fprintf(f, "espgw_sa_gone_bytes_total{direction=\"%s\"} %lu\n",
			dirs[d], gw_stats_gone(d)->bytes);
	family(f, "sa-gone-drops", "_total", "counter",
	       "ESP drops of the SAs deleted or expired so far, by reason.");
	for (int d = 0; d < 2; d++)
		for (int r = 0; r < ESPGW_DROP_MAX; r++)
			fprintf(f,
				"espgw_sa_gone_drops_total{direction=\"%s\","
				"reason=\"%s\"} %lu\n",
				dirs[d], espgw_drop_name(r),
				gw_stats_gone(d)->drops[r]);
}

void
gw_metrics_render(struct gw_ctl *ctl, FILE *f)
{
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);

	gateway_counters(f, ctl);
	port_counters(f, ctl->gw, t);
	sa_counters(f, t);
	gone_counters(f);
	family(f, "states", "", "gauge", "States (SAs) in the tables.");
	fprintf(f, "espgw_states %u\n", t->nb_sas);
	family(f, "policies", "", "gauge", "Policies in the tables.");
	fprintf(f, "espgw_policies %u\n", t->nb_policies);
	family(f, "commits", "_total", "counter",
	       "Control-socket transactions published to the workers.");
	fprintf(f, "espgw_commits_total %lu\n", ctl->nb_commits);
}

/* Render under the lock into a malloc'd buffer: the slow part, sending
 * or writing it, goes without the lock. */
static char *
render(struct gw_ctl *ctl, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	bool bad;

	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&ctl->lock);
	gw_metrics_render(ctl, f);
	pthread_mutex_unlock(&ctl->lock);
	/* out of memory shows at a write or at the last flush */
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- HTTP ---------------------------------------------------------------- */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned int status, char *body, size_t len,
      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? CONTENT_TYPE
						      : "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, (char *)text, strlen(text),
		     MHD_RESPMEM_PERSISTENT);
}

/* libmicrohttpd's thread. Answered at the first call: a body sent with
 * a refused method is not read. HEAD is GET without the body, as HTTP
 * wants of every server (RFC 9110 9.1). */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	   const char *method, const char *version, const char *upload,
	   size_t *upload_len, void **req_cls)
{
	struct gw_metrics *m = cls;
	size_t len;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_cls;
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "not found: espgw serves /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed: GET /metrics\n");
	body = render(m->ctl, &len);
	if (body == NULL)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	return reply(c, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE);
}

int
gw_metrics_parse_addr(const char *s, struct sockaddr_storage *ss,
		      socklen_t *len, char *err, size_t n)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *h = s;
	size_t hl;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			goto bad; /* no port, or IPv6 without brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno ||
	    port > 65535)
		goto bad;
	if (*s == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
bad:
	snprintf(err, n,
		 "--metrics wants ADDR:PORT or [ADDR6]:PORT, numeric (e.g. "
		 "127.0.0.1:9710, [::1]:9710), not '%s'",
		 s);
	return -1;
}

/* Our own socket, for a precise error (a port in use) and CLOEXEC, so
 * that --on-expire's programs do not inherit it. */
static int
listen_on(struct gw_metrics *m, const char *addr, char *err, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1;

	if (gw_metrics_parse_addr(addr, &ss, &len, err, n) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* a restart binds again while old connections sit in TIME_WAIT;
	 * a port another process listens on still fails */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0)
		goto fail;
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(m->url, sizeof(m->url), "http://[%s]:%u/metrics", host,
			 ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(m->url, sizeof(m->url), "http://%s:%u/metrics", host,
			 ntohs(a->sin_port));
	}
	return fd;
fail:
	snprintf(err, n, "--metrics %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* --- the textfile collector's file ----------------------------------------
 */

/* node_exporter may read at any moment: a temporary file beside PATH
 * (so on its file system; not *.prom, so never collected), renamed
 * over it. */
static int
write_file(struct gw_metrics *m, char *err, size_t n)
{
	size_t len, plen = strlen(m->file), done = 0;
	char *tmp = malloc(plen + 8), *body;
	int fd = -1;

	if (tmp == NULL)
		goto fail;
	memcpy(tmp, m->file, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	body = render(m->ctl, &len);
	if (body == NULL)
		goto fail;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		free(body);
		goto fail;
	}
	/* mkostemp's 0600 would keep out a node_exporter of another user */
	fchmod(fd, 0644);
	while (done < len) {
		ssize_t w = write(fd, body + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	free(body);
	if (done < len || close(fd) != 0) {
		if (done < len)
			close(fd);
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, m->file) != 0) {
		unlink(tmp);
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	snprintf(err, n, "cannot write %s: %s", m->file, strerror(errno));
	free(tmp);
	return -1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
gw_metrics_flush(struct gw_metrics *m)
{
	char err[256];

	if (m->file == NULL)
		return;
	if (write_file(m, err, sizeof(err)) == 0) {
		if (m->failing)
			fprintf(stderr, "espgw: %s written again\n", m->file);
		m->failing = false;
	} else if (!m->failing) {
		fprintf(stderr, "espgw: %s\n", err);
		m->failing = true;
	}
}

void
gw_metrics_tick(struct gw_metrics *m)
{
	uint64_t now;

	if (m->file == NULL)
		return;
	now = now_ms();
	if (now < m->due)
		return;
	m->due = now + (uint64_t)m->interval * 1000;
	gw_metrics_flush(m);
}

int
gw_metrics_init(struct gw_metrics *m, struct gw_ctl *ctl, const char *addr,
		const char *file, unsigned int interval, char *err, size_t n)
{
	m->ctl = ctl;
	m->file = file;
	m->interval = interval ? interval : 10;
	/* a file that cannot be written is an error now, not a line on
	 * stderr every interval */
	if (file != NULL) {
		if (write_file(m, err, n) != 0)
			return -1;
		m->due = now_ms() + (uint64_t)m->interval * 1000;
	}
	if (addr != NULL) {
		int fd = listen_on(m, addr, err, n);

		if (fd < 0)
			return -1;
		/* one thread of its own; a scrape is rendered whole, so a
		 * handful of clients at once is plenty */
		m->httpd = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
			NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET, fd,
			MHD_OPTION_CONNECTION_LIMIT, 16u,
			MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
		if (m->httpd == NULL) {
			snprintf(err, n,
				 "--metrics %s: cannot start the HTTP "
				 "server",
				 addr);
			/* fd left open: libmicrohttpd may have closed it, and
			 * espgw exits now */
			return -1;
		}
	}
	return 0;
}

void
gw_metrics_fini(struct gw_metrics *m)
{
	if (m->httpd != NULL)
		MHD_stop_daemon(m->httpd); /* closes the listening socket */
	m->httpd = NULL;
}
