/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* espgw's telemetry commands (telemetry.h). Dictionary keys are the
 * counters' names with '-' as '_': telemetry refuses any other character
 * than alphanumerics, '_' and '/' in a name and drops the entry. Numbers
 * are u64, flags 0 or 1 (telemetry has no booleans). */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "control/ctl.h"
#include "control/show.h"
#include "control/stats.h"
#include "control/telemetry.h"
#include "gw.h"

/* The control state the commands read: NULL before init and after fini.
 * Commands hold it for reading while they run, so fini (a writer) waits
 * for those under way; ctl->lock may be gone after. */
static struct gw_ctl *tel_ctl;
static pthread_rwlock_t tel_live = PTHREAD_RWLOCK_INITIALIZER;

static int reply_error(struct rte_tel_data *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
reply_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

/* A counter's name as a telemetry key: drop-bad-ip-header becomes
 * drop_bad_ip_header. */
static const char *
key_of(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < len; i++)
		buf[i] = name[i] == '-' ? '_' : name[i];
	buf[i] = '\0';
	return buf;
}

static void
add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	char k[RTE_TEL_MAX_STRING_LEN];

	rte_tel_data_add_dict_u64(d, key_of(name, k, sizeof(k)), v);
}

/* A dictionary to put in another; NULL when out of memory. */
static struct rte_tel_data *
sub_dict(void)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (c != NULL)
		rte_tel_data_start_dict(c);
	return c;
}

static void
add_sub(struct rte_tel_data *d, const char *name, struct rte_tel_data *c)
{
	if (c != NULL && rte_tel_data_add_dict_container(d, name, c, 0) != 0)
		rte_tel_data_free(c);
}

/* An inbound SA spread over workers (--spread-esp): each owner's top,
 * "owner_seq": [worker 0's, worker 1's, ...]; seq is the highest. */
static void
owner_seq(struct rte_tel_data *d, const struct espgw_sa *sa)
{
	uint64_t tops[ESPGW_REPLAY_OWNERS_MAX];
	uint16_t n = espgw_sa_replay_owner_tops(sa, tops, RTE_DIM(tops));
	struct rte_tel_data *c;

	if (n == 0 || (c = rte_tel_data_alloc()) == NULL)
		return;
	rte_tel_data_start_array(c, RTE_TEL_U64_VAL);
	for (uint16_t w = 0; w < n && w < RTE_DIM(tops); w++)
		rte_tel_data_add_array_u64(c, tops[w]);
	add_sub(d, "owner_seq", c);
}

/* Every reason, as "bad_icv": n. */
static struct rte_tel_data *
drops_dict(const uint64_t drops[ESPGW_DROP_MAX])
{
	struct rte_tel_data *c = sub_dict();

	if (c != NULL)
		for (int r = 0; r < ESPGW_DROP_MAX; r++)
			add_u64(c, espgw_drop_name(r), drops[r]);
	return c;
}

/* Run fn on the control state, or say why not. */
static int
with_ctl(struct rte_tel_data *d, const char *params,
	 int (*fn)(struct gw_ctl *, const char *, struct rte_tel_data *))
{
	int rc;

	pthread_rwlock_rdlock(&tel_live);
	if (tel_ctl == NULL) {
		pthread_rwlock_unlock(&tel_live);
		return reply_error(d, "espgw is stopping");
	}
	pthread_mutex_lock(&tel_ctl->lock);
	rc = fn(tel_ctl, params, d);
	pthread_mutex_unlock(&tel_ctl->lock);
	pthread_rwlock_unlock(&tel_live);
	return rc;
}

/* A decimal number that is the whole parameter. */
static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* The page a list command asks for (none: the first), or an error
 * reply; *first is its first entry. */
static int
page_of(struct rte_tel_data *d, const char *params, unsigned int total,
	unsigned int per, unsigned int *page, unsigned int *first)
{
	unsigned int pages = total == 0 ? 1 : (total + per - 1) / per;
	uint64_t p = 0;

	if (params != NULL && *params != '\0' && parse_u64(params, &p) != 0) {
		reply_error(d, "the page is a number, 0 to %u, not '%.40s'",
			    pages - 1, params);
		return -1;
	}
	if (p >= pages) {
		reply_error(d, "no page %" PRIu64 ": %u pages (0 to %u)", p,
			    pages, pages - 1);
		return -1;
	}
	*page = (unsigned int)p;
	*first = *page * per;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "page", *page);
	rte_tel_data_add_dict_u64(d, "pages", pages);
	rte_tel_data_add_dict_u64(d, "total", total);
	rte_tel_data_add_dict_u64(d, "per_page", per);
	return 0;
}

static int
stats(struct gw_ctl *ctl, const char *params, struct rte_tel_data *d)
{
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	uint64_t cnt[GW_CNT_MAX], esp[ESPGW_DROP_MAX], esp_in, esp_out;

	(void)params;
	gw_stats_sum(ctl->gw, cnt, esp, &esp_in, &esp_out);
	rte_tel_data_start_dict(d);
	for (int c = 0; c < GW_CNT_MAX; c++)
		add_u64(d, gw_counter_name(c), cnt[c]);
	add_u64(d, "drop-esp-in", esp_in);
	add_u64(d, "drop-esp-out", esp_out);
	add_u64(d, "states", t->nb_sas);
	add_u64(d, "policies", ctl->db.cfg.nb_policies);
	add_u64(d, "commits", ctl->nb_commits);
	/* the library's drops not blamed on an SA, as the stats file's
	 * esp.* lines */
	add_sub(d, "esp", drops_dict(esp));
	for (int i = 0; i < 2; i++) {
		enum espgw_sa_dir dir = i == 0 ? ESPGW_SA_IN : ESPGW_SA_OUT;
		const struct espgw_sa_stats *g = gw_stats_gone(dir);
		struct rte_tel_data *c = drops_dict(g->drops);

		if (c != NULL) {
			rte_tel_data_add_dict_u64(c, "packets", g->packets);
			rte_tel_data_add_dict_u64(c, "bytes", g->bytes);
		}
		add_sub(d, dir == ESPGW_SA_IN ? "gone_in" : "gone_out", c);
	}
	return 0;
}

static void
add_prefix(struct rte_tel_data *arr, int family, const void *a,
	   unsigned int len)
{
	char s[INET6_ADDRSTRLEN + 8];

	if (inet_ntop(family, a, s, INET6_ADDRSTRLEN) == NULL)
		return;
	snprintf(s + strlen(s), 8, "/%u", len);
	rte_tel_data_add_array_string(arr, s);
}

static struct rte_tel_data *
port_dict(const struct gw_ctl *ctl, const struct gw_tables *t, uint16_t port)
{
	const struct espgw_cfg *cfg = &ctl->db.cfg;
	struct rte_tel_data *c = sub_dict(), *a = rte_tel_data_alloc();
	char name[RTE_ETH_NAME_MAX_LEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_eth_dev_info info;
	struct rte_eth_stats st;
	struct rte_eth_link link;

	if (c == NULL) {
		rte_tel_data_free(a);
		return NULL;
	}
	rte_tel_data_add_dict_string(c, "name", t->ifaces[port].name);
	if (rte_eth_dev_get_name_by_port(port, name) == 0)
		rte_tel_data_add_dict_string(c, "dpdk_name", name);
	if (rte_eth_dev_info_get(port, &info) == 0 && info.driver_name)
		rte_tel_data_add_dict_string(c, "driver", info.driver_name);
	rte_ether_format_addr(mac, sizeof(mac), &t->ifaces[port].mac);
	rte_tel_data_add_dict_string(c, "mac", mac);
	rte_tel_data_add_dict_u64(c, "mtu", t->ifaces[port].mtu);
	if (rte_eth_link_get_nowait(port, &link) == 0) {
		rte_tel_data_add_dict_string(c, "link",
					     link.link_status ? "up" : "down");
		rte_tel_data_add_dict_u64(c, "speed_mbps", link.link_speed);
	}
	if (rte_eth_stats_get(port, &st) == 0) {
		rte_tel_data_add_dict_u64(c, "rx_packets", st.ipackets);
		rte_tel_data_add_dict_u64(c, "rx_bytes", st.ibytes);
		rte_tel_data_add_dict_u64(c, "rx_errors", st.ierrors);
		rte_tel_data_add_dict_u64(c, "rx_missed", st.imissed);
		rte_tel_data_add_dict_u64(c, "rx_nombuf", st.rx_nombuf);
		rte_tel_data_add_dict_u64(c, "tx_packets", st.opackets);
		rte_tel_data_add_dict_u64(c, "tx_bytes", st.obytes);
		rte_tel_data_add_dict_u64(c, "tx_errors", st.oerrors);
	}
	if (a != NULL) {
		rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
		for (unsigned int i = 0; i < cfg->nb_addrs; i++)
			if (gw_tables_port(t, cfg->addrs[i].port) == port)
				add_prefix(a, AF_INET, &cfg->addrs[i].addr,
					   cfg->addrs[i].len);
		for (unsigned int i = 0; i < cfg->nb_addrs6; i++)
			if (gw_tables_port(t, cfg->addrs6[i].port) == port)
				add_prefix(a, AF_INET6, cfg->addrs6[i].addr,
					   cfg->addrs6[i].len);
		add_sub(c, "addrs", a);
	}
	return c;
}

/* Keyed by port id: a DPDK name ("0000:01:00.0") is no valid key. */
static int
ports(struct gw_ctl *ctl, const char *params, struct rte_tel_data *d)
{
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	const struct gw *gw = ctl->gw;

	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned int p = 0; p < gw->nb_ports; p++) {
		char id[16];

		snprintf(id, sizeof(id), "%u", gw->ports[p]);
		add_sub(d, id, port_dict(ctl, t, gw->ports[p]));
	}
	return 0;
}

/* The configuration's state of an SA, for its id (the state's seq: its
 * order of adding, which no later change reuses) and lifetimes. */
static const struct espgw_cfg_state *
state_of(const struct gw_ctl *ctl, const struct espgw_sa_params *p)
{
	int k = gw_db_state_find(&ctl->db, &p->dst, p->spi);

	return k >= 0 ? &ctl->db.cfg.states[k] : NULL;
}

/* What the list and the info of an SA both say. */
static void
sa_head(struct rte_tel_data *c, const struct espgw_sa_params *p,
	const struct espgw_cfg_state *s, const struct espgw_sa_stats *st)
{
	char a[INET6_ADDRSTRLEN];

	rte_tel_data_add_dict_u64(c, "id", s != NULL ? s->seq : 0);
	rte_tel_data_add_dict_string(c, "src", gw_show_ip(&p->src, a));
	rte_tel_data_add_dict_string(c, "dst", gw_show_ip(&p->dst, a));
	rte_tel_data_add_dict_u64(c, "spi", p->spi);
	rte_tel_data_add_dict_string(c, "dir",
				     p->dir == ESPGW_SA_OUT ? "out" : "in");
	rte_tel_data_add_dict_u64(c, "reqid", p->reqid);
	rte_tel_data_add_dict_string(c, "mode", "tunnel");
	rte_tel_data_add_dict_u64(c, "packets", st->packets);
	rte_tel_data_add_dict_u64(c, "bytes", st->bytes);
}

/* Worst case of an SA (IPv6 ends, every number 20 digits) is about 300
 * bytes of JSON: 50 a page stay well within 16 KB. */
static int
sa_list(struct gw_ctl *ctl, const char *params, struct rte_tel_data *d)
{
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	struct rte_tel_data *list;
	unsigned int page, first;

	if (page_of(d, params, t->nb_sas, GW_TEL_SA_PAGE, &page, &first) != 0)
		return 0;
	list = sub_dict();
	for (unsigned int i = first;
	     list != NULL && i < t->nb_sas && i < first + GW_TEL_SA_PAGE; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		const struct espgw_cfg_state *s = state_of(ctl, p);
		struct rte_tel_data *c = sub_dict();
		struct espgw_sa_stats st;
		char id[24];

		if (c == NULL)
			break;
		espgw_sa_stats_read(t->sas[i], &st);
		sa_head(c, p, s, &st);
		snprintf(id, sizeof(id), "%" PRIu64, s != NULL ? s->seq : 0);
		add_sub(list, id, c);
	}
	add_sub(d, "sas", list);
	return 0;
}

/* The state numbered id: the configuration keeps them in seq order. */
static const struct espgw_cfg_state *
state_by_id(const struct gw_ctl *ctl, uint64_t id)
{
	const struct espgw_cfg *cfg = &ctl->db.cfg;
	unsigned int lo = 0, hi = cfg->nb_states;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (cfg->states[mid].seq < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cfg->nb_states && cfg->states[lo].seq == id
		       ? &cfg->states[lo]
		       : NULL;
}

static struct rte_tel_data *
lifetime_dict(const struct espgw_cfg_state *s, unsigned int expiry)
{
	const struct espgw_cfg_lifetime *l = &s->lft;
	struct rte_tel_data *c = sub_dict();

	if (c == NULL)
		return NULL;
	/* 0 is no limit, as in the configuration */
	rte_tel_data_add_dict_u64(c, "soft_bytes", l->soft_bytes);
	rte_tel_data_add_dict_u64(c, "hard_bytes", l->hard_bytes);
	rte_tel_data_add_dict_u64(c, "soft_packets", l->soft_packets);
	rte_tel_data_add_dict_u64(c, "hard_packets", l->hard_packets);
	rte_tel_data_add_dict_u64(c, "time_soft", l->soft_add);
	rte_tel_data_add_dict_u64(c, "time_hard", l->hard_add);
	rte_tel_data_add_dict_u64(c, "time_use_soft", l->soft_use);
	rte_tel_data_add_dict_u64(c, "time_use_hard", l->hard_use);
	rte_tel_data_add_dict_u64(c, "add_time", s->add_time);
	rte_tel_data_add_dict_u64(c, "use_time", s->use_time);
	rte_tel_data_add_dict_u64(c, "dying",
				  s->dying || (expiry & ESPGW_SA_SOFT));
	rte_tel_data_add_dict_u64(c, "expired", !!(expiry & ESPGW_SA_HARD));
	return c;
}

/* One SA in full, but its key: the key's length only. */
static int
sa_info(struct gw_ctl *ctl, const char *params, struct rte_tel_data *d)
{
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	const struct espgw_cfg_state *s;
	const struct espgw_sa_params *p = NULL;
	const struct espgw_sa *sa = NULL;
	struct espgw_sa_stats st;
	uint64_t id, failed = 0;

	if (params == NULL || *params == '\0')
		return reply_error(d, "which SA? /espgw/sa/info,<id> "
				      "(the ids of /espgw/sa/list)");
	if (parse_u64(params, &id) != 0)
		return reply_error(d, "an SA id is a number, not '%.40s'",
				   params);
	s = state_by_id(ctl, id);
	for (unsigned int i = 0; s != NULL && i < t->nb_sas; i++) {
		p = espgw_sa_params(t->sas[i]);
		if (p->spi == s->p.spi && gw_db_ip_same(&p->dst, &s->p.dst)) {
			sa = t->sas[i];
			break;
		}
	}
	if (sa == NULL)
		return reply_error(d, "no SA with id %" PRIu64, id);
	espgw_sa_stats_read(sa, &st);
	rte_tel_data_start_dict(d);
	sa_head(d, p, s, &st);
	rte_tel_data_add_dict_string(d, "proto", "esp");
	rte_tel_data_add_dict_string(d, "aead", "rfc4106(gcm(aes))");
	rte_tel_data_add_dict_u64(d, "key_bits", (p->key_len - 4) * 8);
	rte_tel_data_add_dict_u64(d, "icv_bits", p->icv_len * 8);
	rte_tel_data_add_dict_u64(d, "esn", p->esn);
	rte_tel_data_add_dict_u64(d, "af_unspec", p->af_unspec);
	rte_tel_data_add_dict_u64(d, "replay_window", p->replay_window);
	/* inbound: the highest number accepted, as `ip xfrm state` shows
	 * it (a relaxed read: the workers may be moving it) */
	rte_tel_data_add_dict_u64(d, "seq", espgw_sa_replay_seq(sa));
	owner_seq(d, sa);
	rte_tel_data_add_dict_u64(
		d, "oseq",
		p->dir == ESPGW_SA_OUT ? espgw_sa_next_seq(sa) - 1 : p->oseq);
	rte_tel_data_add_dict_u64(d, "mappings", st.mappings);
	for (int r = 0; r < ESPGW_DROP_MAX; r++)
		failed += st.drops[r];
	rte_tel_data_add_dict_u64(d, "failed", failed);
	add_sub(d, "drops", drops_dict(st.drops));
	add_sub(d, "lifetime", lifetime_dict(s, espgw_sa_expiry(sa)));
	if (p->encap.udp) {
		struct rte_tel_data *e = sub_dict();
		char oa[INET_ADDRSTRLEN];

		if (e != NULL) {
			rte_tel_data_add_dict_string(e, "type", "espinudp");
			rte_tel_data_add_dict_u64(e, "sport", p->encap.sport);
			rte_tel_data_add_dict_u64(e, "dport", p->encap.dport);
			rte_tel_data_add_dict_string(
				e, "oa", gw_ip_str(p->encap.oa, oa));
		}
		add_sub(d, "encap", e);
	}
	return 0;
}

static const char *
dir_name(enum espgw_cfg_dir dir)
{
	return dir == ESPGW_POL_OUT  ? "out"
	       : dir == ESPGW_POL_IN ? "in"
				     : "fwd";
}

static struct rte_tel_data *
policy_dict(const struct espgw_cfg_policy *p)
{
	struct rte_tel_data *c = sub_dict(), *m;
	char s[INET6_ADDRSTRLEN + 8];
	bool v6 = p->family == AF_INET6, t6 = p->tmpl_family == AF_INET6;

	if (c == NULL)
		return NULL;
	rte_tel_data_add_dict_u64(c, "index", p->index);
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)p->src6 : &p->src,
		  s, INET6_ADDRSTRLEN);
	snprintf(s + strlen(s), 8, "/%u", p->src_len);
	rte_tel_data_add_dict_string(c, "src", s);
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)p->dst6 : &p->dst,
		  s, INET6_ADDRSTRLEN);
	snprintf(s + strlen(s), 8, "/%u", p->dst_len);
	rte_tel_data_add_dict_string(c, "dst", s);
	rte_tel_data_add_dict_u64(c, "proto", p->proto); /* 0: any */
	if (p->has_sport)
		rte_tel_data_add_dict_u64(c, "sport", p->sport);
	if (p->has_dport)
		rte_tel_data_add_dict_u64(c, "dport", p->dport);
	rte_tel_data_add_dict_string(c, "dir", dir_name(p->dir));
	rte_tel_data_add_dict_string(
		c, "action", p->action == ESPGW_POL_BLOCK ? "block" : "allow");
	rte_tel_data_add_dict_u64(c, "priority", p->priority);
	if (!p->has_tmpl || (m = sub_dict()) == NULL)
		return c;
	inet_ntop(t6 ? AF_INET6 : AF_INET,
		  t6 ? (const void *)p->tmpl_src6 : &p->tmpl_src, s, sizeof(s));
	rte_tel_data_add_dict_string(m, "src", s);
	inet_ntop(t6 ? AF_INET6 : AF_INET,
		  t6 ? (const void *)p->tmpl_dst6 : &p->tmpl_dst, s, sizeof(s));
	rte_tel_data_add_dict_string(m, "dst", s);
	rte_tel_data_add_dict_string(m, "proto", "esp");
	rte_tel_data_add_dict_u64(m, "reqid", p->reqid);
	rte_tel_data_add_dict_string(m, "mode", "tunnel");
	add_sub(c, "tmpl", m);
	return c;
}

/* The live configuration's policies, keyed by index (unique, as the
 * kernel's): at worst about 500 bytes each, 20 a page. */
static int
policy_list(struct gw_ctl *ctl, const char *params, struct rte_tel_data *d)
{
	const struct espgw_cfg *cfg = &ctl->db.cfg;
	struct rte_tel_data *list;
	unsigned int page, first;

	if (page_of(d, params, cfg->nb_policies, GW_TEL_POLICY_PAGE, &page,
		    &first) != 0)
		return 0;
	list = sub_dict();
	for (unsigned int i = first; list != NULL && i < cfg->nb_policies &&
				     i < first + GW_TEL_POLICY_PAGE;
	     i++) {
		char id[16];

		snprintf(id, sizeof(id), "%u", cfg->policies[i].index);
		add_sub(list, id, policy_dict(&cfg->policies[i]));
	}
	add_sub(d, "policies", list);
	return 0;
}

#define TEL_CMD_(name, fn)                                                     \
	static int tel_##name(const char *cmd, const char *params,             \
			      struct rte_tel_data *d)                          \
	{                                                                      \
		(void)cmd;                                                     \
		return with_ctl(d, params, fn);                                \
	}
TEL_CMD_(stats, stats)
TEL_CMD_(ports, ports)
TEL_CMD_(sa_list, sa_list)
TEL_CMD_(sa_info, sa_info)
TEL_CMD_(policy_list, policy_list)
#undef TEL_CMD_

int
gw_telemetry_init(struct gw_ctl *ctl)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/espgw/stats", tel_stats,
		  "espgw's counters, as its stats file. No parameters" },
		{ "/espgw/ports", tel_ports,
		  "espgw's ports: counters, MAC, addresses. No parameters" },
		{ "/espgw/sa/list", tel_sa_list,
		  "SAs, a page at a time. Parameter: the page, from 0" },
		{ "/espgw/sa/info", tel_sa_info,
		  "One SA in full, keys excepted. Parameter: its id" },
		{ "/espgw/policy/list", tel_policy_list,
		  "Policies, a page at a time. Parameter: the page, from 0" },
	};

	pthread_rwlock_wrlock(&tel_live);
	tel_ctl = ctl;
	pthread_rwlock_unlock(&tel_live);
	for (unsigned int i = 0; i < RTE_DIM(cmds); i++) {
		int rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn,
						    cmds[i].help);

		if (rc != 0)
			return rc;
	}
	return 0;
}

void
gw_telemetry_fini(void)
{
	pthread_rwlock_wrlock(&tel_live);
	tel_ctl = NULL;
	pthread_rwlock_unlock(&tel_live);
}
