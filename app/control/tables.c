/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Control plane: turn a parsed configuration into the tables the workers
 * read. Everything is checked here, before any port starts, and every
 * complaint names the configuration line it is about. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <rte_acl.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_malloc.h>

#include "control/show.h"
#include "control/spd.h"
#include "control/stats.h"
#include "control/tables.h"

static int __attribute__((format(printf, 5, 6)))
fail(char *err, size_t len, const struct espgw_cfg *cfg, int line,
     const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, len, "%s:%d: ", cfg->file, line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - n, fmt, ap);
	va_end(ap);
	return -1;
}

int
gw_port_by_name(const char *name)
{
	uint16_t port;
	char *end;

	if (strncmp(name, "port", 4) == 0 && name[4] != '\0') {
		unsigned long id = strtoul(name + 4, &end, 10);

		if (*end == '\0' && id < RTE_MAX_ETHPORTS &&
		    rte_eth_dev_is_valid_port((uint16_t)id))
			return (int)id;
		return -1;
	}
	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return -1;
	return port;
}

int
gw_tables_port(const struct gw_tables *t, const char *name)
{
	int port;

	for (unsigned int p = 0; p < GW_MAX_PORTS; p++)
		if (t->ifaces[p].used && strcmp(t->ifaces[p].name, name) == 0)
			return (int)p;
	port = gw_port_by_name(name);
	/* a renamed port answers to its new name only, as on Linux */
	if (port >= 0 && port < GW_MAX_PORTS && t->ifaces[port].used)
		return -1;
	return port;
}

/* The port a statement names, which must have been set up. */
static int
iface_of(struct gw_tables *t, const struct espgw_cfg *cfg, const char *name,
	 int line, char *err, size_t len)
{
	int port = gw_tables_port(t, name);

	if (port < 0)
		return fail(err, len, cfg, line,
			    "no port named \"%s\" (use the name EAL "
			    "reports, e.g. net_tap0, port<N>, or the name "
			    "'link set ... name' gave it)",
			    name);
	if (port >= GW_MAX_PORTS)
		return fail(err, len, cfg, line, "port id %d above %d", port,
			    GW_MAX_PORTS - 1);
	if (!t->ifaces[port].used)
		return fail(err, len, cfg, line,
			    "port \"%s\" is not up (add 'link set dev %s up' "
			    "before this line)",
			    name, name);
	return port;
}

static int
add_nexthop(struct gw_tables *t, uint32_t prefix, uint8_t plen,
	    struct gw_nexthop nh)
{
	int rc;

	t->nh[t->nb_nh] = nh;
	if (plen == 0) {
		if (t->default_nh >= 0)
			return -EEXIST;
		t->default_nh = (int)t->nb_nh++;
		return 0;
	}
	rc = rte_lpm_add(t->lpm, rte_be_to_cpu_32(prefix), plen, t->nb_nh);
	if (rc == 0)
		t->nb_nh++;
	return rc;
}

static int
build_ifaces(struct gw_tables *t, const struct espgw_cfg *cfg, char *err,
	     size_t len)
{
	for (unsigned int i = 0; i < cfg->nb_links; i++) {
		const struct espgw_cfg_link *l = &cfg->links[i];
		int port = gw_tables_port(t, l->port);
		struct gw_iface *f;

		if (port < 0)
			return fail(err, len, cfg, l->line,
				    "no DPDK port named \"%s\" (use the name "
				    "EAL reports, e.g. net_tap0, or port<N>)",
				    l->port);
		if (port >= GW_MAX_PORTS)
			return fail(err, len, cfg, l->line,
				    "port id %d above %d", port,
				    GW_MAX_PORTS - 1);
		f = &t->ifaces[port];
		if (!f->used) {
			f->mtu = RTE_ETHER_MTU;
			snprintf(f->name, sizeof(f->name), "%s", l->port);
		} else if (l->newname[0] != '\0') {
			/* dev_change_name: not while the device is up */
			return fail(err, len, cfg, l->line,
				    "%s is up: it can be renamed only in the "
				    "statement that brings it up (Device or "
				    "resource busy)",
				    f->name);
		}
		if (l->newname[0] != '\0') {
			int other = gw_tables_port(t, l->newname);

			if (other >= 0 && other != port)
				return fail(err, len, cfg, l->line,
					    "a port is already named %s (File "
					    "exists)",
					    l->newname);
			snprintf(f->name, sizeof(f->name), "%s", l->newname);
		}
		f->used = true;
		f->port = (uint16_t)port;
		if (l->mtu)
			f->mtu = l->mtu;
		if (rte_eth_macaddr_get((uint16_t)port, &f->mac) != 0)
			return fail(err, len, cfg, l->line,
				    "cannot read the MAC address of %s",
				    l->port);
		uint8_t word[8] = { 0 };

		memcpy(word, f->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
		f->mac_word = gw_mac_word(word);
	}
	for (unsigned int p = 0; p < GW_MAX_PORTS; p++)
		if (t->ifaces[p].used)
			t->up[t->nb_up++] = (uint16_t)p;
	for (unsigned int i = 0; i < cfg->nb_addrs; i++) {
		const struct espgw_cfg_addr *a = &cfg->addrs[i];
		int port = iface_of(t, cfg, a->port, a->line, err, len);
		uint32_t mask =
			a->len ? rte_cpu_to_be_32(~0u << (32 - a->len)) : 0;
		char b[INET_ADDRSTRLEN];

		if (port < 0)
			return -1;
		if (gw_is_local(t, a->addr))
			return fail(err, len, cfg, a->line,
				    "address %s is already assigned",
				    gw_ip_str(a->addr, b));
		if (t->nb_local == GW_MAX_ADDRS)
			return fail(err, len, cfg, a->line,
				    "more than %d addresses", GW_MAX_ADDRS);
		t->local_port[t->nb_local] = (uint16_t)port;
		t->local[t->nb_local++] = a->addr;
		t->local_bits |= gw_local_bit(a->addr);
		if (t->ifaces[port].addr == 0)
			t->ifaces[port].addr = a->addr;
		/* the connected route, as the kernel adds it */
		if (a->len < 32 &&
		    add_nexthop(t, a->addr & mask, a->len,
				(struct gw_nexthop){ .port = (uint16_t)port,
						     .src = a->addr }) != 0)
			return fail(err, len, cfg, a->line, "route table full");
	}
	return 0;
}

static int
build_routes(struct gw_tables *t, const struct espgw_cfg *cfg, char *err,
	     size_t len)
{
	for (unsigned int i = 0; i < cfg->nb_routes; i++) {
		const struct espgw_cfg_route *r = &cfg->routes[i];
		int port = iface_of(t, cfg, r->port, r->line, err, len);
		const struct gw_nexthop *via;
		char b[INET_ADDRSTRLEN];
		uint32_t idx;

		if (port < 0)
			return -1;
		if (r->src != 0 && !gw_is_local(t, r->src))
			return fail(err, len, cfg, r->line,
				    "src %s is not an address of this gateway",
				    gw_ip_str(r->src, b));
		if (r->via != 0) {
			via = gw_route(t, r->via);
			if (via == NULL || via->gw != 0 || via->port != port)
				return fail(
					err, len, cfg, r->line,
					"gateway %s is not on a connected "
					"network of %s (Nexthop has invalid "
					"gateway)",
					gw_ip_str(r->via, b), r->port);
		}
		if ((r->len == 0 && t->default_nh >= 0) ||
		    (r->len > 0 && rte_lpm_is_rule_present(
					   t->lpm, rte_be_to_cpu_32(r->prefix),
					   r->len, &idx) == 1))
			return fail(err, len, cfg, r->line,
				    "route %s/%u already exists (File exists)",
				    gw_ip_str(r->prefix, b), r->len);
		if (add_nexthop(t, r->prefix, r->len,
				(struct gw_nexthop){ .port = (uint16_t)port,
						     .gw = r->via,
						     .src = r->src }) != 0)
			return fail(err, len, cfg, r->line, "route table full");
	}
	return 0;
}

static const char *
ip6_str(const uint8_t a[16], char b[INET6_ADDRSTRLEN])
{
	return inet_ntop(AF_INET6, a, b, INET6_ADDRSTRLEN);
}

/* Is prefix/plen a route of t already? (rte_rib6 masks the prefix) */
static bool
has_route6(const struct gw_tables *t, const uint8_t prefix[16], uint8_t plen)
{
	return rte_rib6_lookup_exact(t->rib6, prefix, plen) != NULL;
}

static int
add_nexthop6(struct gw_tables *t, const uint8_t prefix[16], uint8_t plen,
	     const struct gw_nexthop6 *nh)
{
	struct rte_rib6_node *n = rte_rib6_insert(t->rib6, prefix, plen);

	if (n == NULL || rte_rib6_set_nh(n, t->nb_nh6) != 0)
		return -ENOSPC;
	t->nh6[t->nb_nh6++] = *nh;
	return 0;
}

/* Our IPv6 addresses, each with its connected prefix as the kernel adds
 * it (addrconf_prefix_route), then the IPv6 routes (RFC 4861 section
 * 5.2: on-link by prefix, else through a gateway on a connected one). */
static int
build_net6(struct gw_tables *t, const struct espgw_cfg *cfg, char *err,
	   size_t len)
{
	char b[INET6_ADDRSTRLEN];

	for (unsigned int i = 0; i < cfg->nb_addrs6; i++) {
		const struct espgw_cfg_addr6 *a = &cfg->addrs6[i];
		int port = iface_of(t, cfg, a->port, a->line, err, len);

		if (port < 0)
			return -1;
		if (gw_local6(t, a->addr) >= 0)
			return fail(err, len, cfg, a->line,
				    "address %s is already assigned",
				    ip6_str(a->addr, b));
		if (t->nb_local6 == GW_MAX_ADDRS)
			return fail(err, len, cfg, a->line,
				    "more than %d IPv6 addresses",
				    GW_MAX_ADDRS);
		t->local6[t->nb_local6++] = (struct gw_local6){
			.len = a->len,
			.port = (uint16_t)port,
		};
		memcpy(t->local6[t->nb_local6 - 1].addr, a->addr, 16);
		if (a->len < 128) {
			struct gw_nexthop6 nh = { .port = (uint16_t)port };

			memcpy(nh.src, a->addr, 16);
			/* two addresses of one prefix: one route */
			if (has_route6(t, a->addr, a->len))
				continue;
			if (add_nexthop6(t, a->addr, a->len, &nh) != 0)
				return fail(err, len, cfg, a->line,
					    "IPv6 route table full");
		}
	}
	for (unsigned int i = 0; i < cfg->nb_routes6; i++) {
		const struct espgw_cfg_route6 *r = &cfg->routes6[i];
		int port = iface_of(t, cfg, r->port, r->line, err, len);
		struct gw_nexthop6 nh;

		if (port < 0)
			return -1;
		if (!gw_ip6_unspec(r->src) && gw_local6(t, r->src) < 0)
			return fail(err, len, cfg, r->line,
				    "src %s is not an address of this gateway",
				    ip6_str(r->src, b));
		if (!gw_ip6_unspec(r->via)) {
			const struct gw_nexthop6 *via = gw_route6(t, r->via);

			if (via == NULL || !gw_ip6_unspec(via->gw) ||
			    via->port != port)
				return fail(err, len, cfg, r->line,
					    "gateway %s is not on a connected "
					    "network of %s (Nexthop has "
					    "invalid gateway)",
					    ip6_str(r->via, b), r->port);
		}
		if (has_route6(t, r->prefix, r->len))
			return fail(err, len, cfg, r->line,
				    "route %s/%u already exists (File exists)",
				    ip6_str(r->prefix, b), r->len);
		nh = (struct gw_nexthop6){ .port = (uint16_t)port };
		memcpy(nh.gw, r->via, 16);
		memcpy(nh.src, r->src, 16);
		if (add_nexthop6(t, r->prefix, r->len, &nh) != 0)
			return fail(err, len, cfg, r->line,
				    "IPv6 route table full");
	}
	return 0;
}

/* The inbound SA of p's identity in sad. */
static struct espgw_sa *
sad_lookup(const struct espgw_sad *sad, const struct espgw_sa_params *p)
{
	return p->dst.family == AF_INET6
		       ? espgw_sad_lookup6(sad, p->spi, p->dst.v6)
		       : espgw_sad_lookup(sad, p->spi, p->dst.v4);
}

/* qsort_r comparators: a and b index the SA array sas. */
static int
by_key(const void *a, const void *b, void *sas)
{
	struct espgw_sa **sa = sas;
	const struct espgw_sa_params *x =
		espgw_sa_params(sa[*(const unsigned int *)a]);
	const struct espgw_sa_params *y =
		espgw_sa_params(sa[*(const unsigned int *)b]);

	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

/* The classic hand-made script keys both directions alike. Our IV base
 * is random per SA, but the peer's may not be (RFC 4106 section 3.1: a
 * repeated nonce under one key breaks GCM). Sorting by key finds the
 * twins among 100,000 SAs as fast as among two. */
static void
warn_shared_keys(const struct gw_tables *t, const struct espgw_cfg *cfg)
{
	unsigned int *idx = malloc(sizeof(*idx) * (t->nb_sas + 1));

	if (idx == NULL)
		return;
	for (unsigned int i = 0; i < t->nb_sas; i++)
		idx[i] = i;
	qsort_r(idx, t->nb_sas, sizeof(*idx), by_key, t->sas);
	for (unsigned int i = 1; i < t->nb_sas; i++) {
		unsigned int a = RTE_MIN(idx[i - 1], idx[i]);
		unsigned int b = RTE_MAX(idx[i - 1], idx[i]);

		if (by_key(&idx[i - 1], &idx[i], t->sas) == 0)
			fprintf(stderr,
				"%s:%d: warning: the key of this SA is also "
				"used at line %d; espgw's IVs stay unique, but "
				"give each direction its own key so the peer's "
				"cannot collide\n",
				cfg->file, cfg->states[b].line,
				cfg->states[a].line);
	}
	free(idx);
}

/* An SA's identity as the kernel's (xfrm_state_lookup: dst, proto esp,
 * SPI); the direction follows from dst. */
static int
id_cmp(const struct espgw_sa_params *x, const struct espgw_sa_params *y)
{
	if (x->spi != y->spi)
		return x->spi < y->spi ? -1 : 1;
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	if (x->dst.family == AF_INET6)
		return memcmp(x->dst.v6, y->dst.v6, 16);
	return x->dst.v4 < y->dst.v4 ? -1 : x->dst.v4 > y->dst.v4;
}

/* qsort_r: a and b index the SA array sas. */
static int
by_identity(const void *a, const void *b, void *sas)
{
	struct espgw_sa **sa = sas;

	return id_cmp(espgw_sa_params(sa[*(const unsigned int *)a]),
		      espgw_sa_params(sa[*(const unsigned int *)b]));
}

/* The parameters that make an SA what it is: all but the initial
 * sequence numbers, which only a new SA starts from. */
static bool
same_sa(const struct espgw_sa_params *a, const struct espgw_sa_params *b)
{
	return a->dir == b->dir && a->spi == b->spi &&
	       gw_addr_eq(&a->src, &b->src) && gw_addr_eq(&a->dst, &b->dst) &&
	       a->reqid == b->reqid && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0 &&
	       a->icv_len == b->icv_len && a->esn == b->esn &&
	       a->af_unspec == b->af_unspec &&
	       a->replay_window == b->replay_window &&
	       a->nb_workers == b->nb_workers &&
	       a->replay_owners == b->replay_owners &&
	       memcmp(&a->replay_map, &b->replay_map, sizeof(a->replay_map)) ==
		       0;
}

/* The SAs of a set sorted by identity (indexes into t->sas), for a
 * build that has no log of what changed: a binary search finds an SA
 * to take over. */
struct id_index {
	const struct gw_tables *t;
	unsigned int *ix;
	bool *taken;
};

static int
id_index_make(struct id_index *x, const struct gw_tables *t)
{
	x->t = t;
	x->ix = malloc(sizeof(*x->ix) * (t->nb_sas + 1));
	x->taken = calloc(t->nb_sas + 1, sizeof(*x->taken));
	if (x->ix == NULL || x->taken == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nb_sas; i++)
		x->ix[i] = i;
	qsort_r(x->ix, t->nb_sas, sizeof(*x->ix), by_identity, t->sas);
	return 0;
}

static void
id_index_free(struct id_index *x)
{
	free(x->ix);
	free(x->taken);
}

/* An SA of the indexed set with the same parameters as p, not yet
 * taken; it is taken. */
static struct espgw_sa *
id_index_take(struct id_index *x, const struct espgw_sa_params *p)
{
	unsigned int lo = 0, hi = x->t->nb_sas;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (id_cmp(espgw_sa_params(x->t->sas[x->ix[mid]]), p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < x->t->nb_sas; lo++) {
		unsigned int i = x->ix[lo];
		const struct espgw_sa_params *q = espgw_sa_params(x->t->sas[i]);

		if (id_cmp(q, p) != 0)
			break;
		if (!x->taken[i] && same_sa(q, p)) {
			x->taken[i] = true;
			return x->t->sas[i];
		}
	}
	return NULL;
}

/* Two states of one identity are refused, as xfrm_add_sa refuses the
 * second (a configuration file can hold them; the control socket's
 * database cannot). */
static int
check_state_twins(const struct gw_tables *t, const struct espgw_cfg *cfg,
		  char *err, size_t len)
{
	struct id_index x = { 0 };
	int rc = 0;

	if (id_index_make(&x, t) != 0) {
		id_index_free(&x);
		return fail(err, len, cfg, 0, "out of memory");
	}
	for (unsigned int i = 1; i < t->nb_sas && rc == 0; i++) {
		unsigned int a = RTE_MIN(x.ix[i - 1], x.ix[i]);
		unsigned int b = RTE_MAX(x.ix[i - 1], x.ix[i]);
		char d[INET6_ADDRSTRLEN];

		if (id_cmp(espgw_sa_params(t->sas[a]),
			   espgw_sa_params(t->sas[b])) == 0)
			rc = fail(err, len, cfg, cfg->states[b].line,
				  "an SA with spi 0x%08x dst %s is already at "
				  "line %d (File exists)",
				  cfg->states[b].p.spi,
				  gw_show_ip(&cfg->states[b].p.dst, d),
				  cfg->states[a].line);
	}
	id_index_free(&x);
	return rc;
}

/* The byte and packet limits of a state, as the library takes them. */
static struct espgw_sa_limits
state_limits(const struct espgw_cfg_state *s)
{
	return (struct espgw_sa_limits){
		.soft_bytes = s->lft.soft_bytes,
		.hard_bytes = s->lft.hard_bytes,
		.soft_packets = s->lft.soft_packets,
		.hard_packets = s->lft.hard_packets,
	};
}

/* The SA state s describes in set t: its direction (from which end is
 * ours) and the checks on it. */
static int
state_params(const struct gw_tables *t, const struct espgw_cfg *cfg,
	     const struct espgw_cfg_state *s, unsigned int nb_workers,
	     const struct espgw_replay_map *spread, struct espgw_sa_params *p,
	     char *err, size_t len)
{
	bool src_ours, dst_ours;
	char b1[INET6_ADDRSTRLEN], b2[INET6_ADDRSTRLEN];

	*p = s->p;
	p->limits = state_limits(s);
	src_ours = gw_is_local_addr(t, &p->src);
	dst_ours = gw_is_local_addr(t, &p->dst);
	if (src_ours == dst_ours)
		return fail(err, len, cfg, s->line,
			    "%s of src %s and dst %s is an address "
			    "of this gateway (one must be, to tell "
			    "the SA's direction)",
			    src_ours ? "each" : "neither",
			    gw_show_ip(&p->src, b1), gw_show_ip(&p->dst, b2));
	p->dir = dst_ours ? ESPGW_SA_IN : ESPGW_SA_OUT;
	p->nb_workers = (uint16_t)nb_workers;
	/* spread over the workers, each owns its runs of the window */
	if (p->dir == ESPGW_SA_IN && p->replay_window != 0 && spread) {
		p->replay_owners = (uint16_t)nb_workers;
		p->replay_map = *spread;
	}
	if (p->dir == ESPGW_SA_OUT && !gw_has_route_to(t, &p->dst))
		return fail(err, len, cfg, s->line,
			    "no route to the tunnel's far end %s",
			    gw_show_ip(&p->dst, b1));
	return 0;
}

/* Positions that follow the SAs as a deletion closes the gap below
 * them; the one deleted leaves the list. */
static void
positions_close(unsigned int *pos, unsigned int *nb, unsigned int gap)
{
	unsigned int keep = 0;

	for (unsigned int h = 0; h < *nb; h++)
		if (pos[h] != gap)
			pos[keep++] = pos[h] - (pos[h] > gap);
	*nb = keep;
}

/* Replay a transaction's log of the states on the SAs of prev: t->sas
 * then stands as the configuration's states do, NULL where a state is
 * new; what no longer has a state is gone. An update keeps its SA
 * (xfrm_state_update changes only the limits): its place goes to upd. */
static int
replay(struct gw_tables *t, const struct gw_tables *prev,
       const struct gw_change *chg, const struct espgw_cfg *cfg,
       unsigned int *holes, unsigned int *nb_holes, unsigned int *upd,
       unsigned int *nb_upd, char *err, size_t len)
{
	unsigned int n = prev->nb_sas;

	memcpy(t->sas, prev->sas, n * sizeof(*t->sas));
	*nb_holes = *nb_upd = 0;
	for (unsigned int k = 0; k < chg->nb_ops; k++) {
		const struct gw_state_op *o = &chg->ops[k];

		if (o->op == GW_STATE_ADD) {
			holes[(*nb_holes)++] = n;
			t->sas[n++] = NULL;
			continue;
		}
		if (o->pos >= n)
			break;
		if (o->op == GW_STATE_UPD) {
			if (t->sas[o->pos] != NULL)
				upd[(*nb_upd)++] = o->pos;
			continue;
		}
		if (t->sas[o->pos] != NULL)
			t->gone[t->nb_gone++] = t->sas[o->pos];
		memmove(&t->sas[o->pos], &t->sas[o->pos + 1],
			(n - o->pos - 1) * sizeof(*t->sas));
		n--;
		positions_close(holes, nb_holes, o->pos);
		positions_close(upd, nb_upd, o->pos);
	}
	if (n != cfg->nb_states)
		return fail(err, len, cfg, 0,
			    "internal error: %u SAs for %u states", n,
			    cfg->nb_states);
	return 0;
}

/* An SA that goes on under state s: when the state's limits, UDP ports
 * or far end are not the SA's (xfrm_state_update changes the first two,
 * a followed NAT rebound the last, gw_db_state_move), the new ones are
 * put on it at commit. */
static int
keep_sa(struct gw_tables *t, struct espgw_sa *sa,
	const struct espgw_cfg_state *s)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	struct espgw_sa_limits l = state_limits(s);
	bool in = p->dir == ESPGW_SA_IN;
	/* an IPv6 far end never moves (no NAT traversal): its first four
	 * bytes compare as well as any */
	uint32_t peer = in ? s->p.src.v4 : s->p.dst.v4;
	struct gw_relimit *r;

	if (memcmp(&l, &p->limits, sizeof(l)) == 0 &&
	    s->p.encap.sport == p->encap.sport &&
	    s->p.encap.dport == p->encap.dport &&
	    peer == (in ? p->src.v4 : p->dst.v4))
		return 0;
	r = realloc(t->relimit, (t->nb_relimit + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	t->relimit = r;
	r[t->nb_relimit].sa = sa;
	r[t->nb_relimit].limits = l;
	r[t->nb_relimit].peer = peer;
	r[t->nb_relimit++].encap = s->p.encap;
	return 0;
}

/* A new SAD for the SAs of t, with room to grow. */
static int
fresh_sad(struct gw_tables *t, const struct espgw_cfg *cfg, char *err,
	  size_t len)
{
	char name[RTE_HASH_NAMESIZE];

	snprintf(name, sizeof(name), "gw_sad_%lu",
		 (unsigned long)t->generation);
	t->sad = espgw_sad_create(name, 2 * t->nb_sas + 1024, SOCKET_ID_ANY);
	if (t->sad == NULL)
		return fail(err, len, cfg, 0, "out of memory");
	for (unsigned int i = 0; i < t->nb_sas; i++)
		if (espgw_sa_params(t->sas[i])->dir == ESPGW_SA_IN &&
		    espgw_sad_add(t->sad, t->sas[i]) != 0)
			return fail(err, len, cfg, cfg->states[i].line,
				    "SA table full");
	return 0;
}

/* The SAs of the configuration's states. With the log of a transaction
 * (chg->ops) the SAs of prev that go on stay where they are, unchecked
 * unless the network changed, and the SAD of prev is shared (changed in
 * place by gw_tables_commit) while it has room; without one each state
 * is matched to an SA of prev by identity and parameters. */
static int
build_states(struct gw_tables *t, const struct espgw_cfg *cfg,
	     unsigned int nb_workers, const struct espgw_replay_map *spread,
	     const struct gw_tables *prev, const struct gw_change *chg,
	     bool net, char *err, size_t len)
{
	bool logged = prev != NULL && chg != NULL && chg->ops != NULL;
	/* at 100,000 SAs zeroing what no one reads costs more than the
	 * change: the log bounds what is made and what goes */
	unsigned int nb_prev = prev != NULL ? prev->nb_sas : 0;
	unsigned int room =
		RTE_MAX(cfg->nb_states, nb_prev + (logged ? chg->nb_ops : 0)) +
		1;
	unsigned int nb_made = logged && !net ? chg->nb_ops : cfg->nb_states;
	unsigned int nb_gone = logged && !net ? chg->nb_ops : nb_prev;
	struct id_index x = { 0 };
	unsigned int nb_in = 0;
	int rc = 0;

	t->sas = malloc(room * sizeof(*t->sas));
	t->made = malloc((nb_made + 1) * sizeof(*t->made));
	t->made_seq = malloc((nb_made + 1) * sizeof(*t->made_seq));
	t->gone = malloc((nb_gone + 1) * sizeof(*t->gone));
	if (t->sas == NULL || t->made == NULL || t->made_seq == NULL ||
	    t->gone == NULL)
		return fail(err, len, cfg, 0, "out of memory");
	/* logged without a network change: only the new and changed states
	 * are looked at, not 100,000 */
	bool holes_only = logged && !net;
	unsigned int *holes = NULL, nb_holes = 0, *upd = NULL, nb_upd = 0;

	if (logged) {
		holes = malloc(2 * (chg->nb_ops + 1) * sizeof(*holes));
		upd = holes != NULL ? holes + chg->nb_ops + 1 : NULL;
		rc = holes == NULL ? fail(err, len, cfg, 0, "out of memory")
				   : replay(t, prev, chg, cfg, holes, &nb_holes,
					    upd, &nb_upd, err, len);
		for (unsigned int u = 0; u < nb_upd && rc == 0; u++)
			if (keep_sa(t, t->sas[upd[u]], &cfg->states[upd[u]]))
				rc = fail(err, len, cfg, 0, "out of memory");
	} else if (prev != NULL && id_index_make(&x, prev) != 0) {
		rc = fail(err, len, cfg, 0, "out of memory");
	}
	for (unsigned int v = 0;
	     v < (holes_only ? nb_holes : cfg->nb_states) && rc == 0; v++) {
		unsigned int i = holes_only ? holes[v] : v;
		struct espgw_sa_params p;
		const char *why;

		if (!holes_only)
			t->nb_sas = i + 1;
		rc = state_params(t, cfg, &cfg->states[i], nb_workers, spread,
				  &p, err, len);
		if (rc != 0)
			break;
		if (logged && t->sas[i] != NULL) {
			/* the network changed: its direction may have */
			if (same_sa(espgw_sa_params(t->sas[i]), &p)) {
				if (keep_sa(t, t->sas[i], &cfg->states[i]))
					rc = fail(err, len, cfg, 0,
						  "out of memory");
				continue;
			}
			t->gone[t->nb_gone++] = t->sas[i];
			t->sas[i] = NULL;
		} else if (!logged && prev != NULL) {
			t->sas[i] = id_index_take(&x, &p);
			if (t->sas[i] != NULL) {
				if (keep_sa(t, t->sas[i], &cfg->states[i]))
					rc = fail(err, len, cfg, 0,
						  "out of memory");
				continue;
			}
		}
		t->sas[i] = espgw_sa_create(&p, &why);
		if (t->sas[i] == NULL)
			rc = fail(err, len, cfg, cfg->states[i].line, "%s",
				  why);
		else {
			t->made_seq[t->nb_made] = cfg->states[i].seq;
			t->made[t->nb_made++] = t->sas[i];
		}
	}
	if (rc == 0 && !logged && prev != NULL)
		for (unsigned int i = 0; i < prev->nb_sas; i++)
			if (!x.taken[i])
				t->gone[t->nb_gone++] = prev->sas[i];
	id_index_free(&x);
	free(holes);
	if (rc != 0)
		return rc;
	t->nb_sas = cfg->nb_states;
	if (!logged) {
		if (check_state_twins(t, cfg, err, len) != 0)
			return -1;
		warn_shared_keys(t, cfg);
	}
	for (unsigned int i = 0; i < t->nb_made; i++)
		nb_in += espgw_sa_params(t->made[i])->dir == ESPGW_SA_IN;
	/* a lock-free cuckoo table kept at most half full, so that an add
	 * in gw_tables_commit always finds room */
	if (logged && espgw_sad_count(prev->sad) + nb_in <=
			      espgw_sad_capacity(prev->sad) / 2) {
		t->sad = prev->sad;
		return 0;
	}
	return fresh_sad(t, cfg, err, len);
}

/* Our end's UDP port (network order) of SA sa with encapsulation e, or
 * 0 without. */
static rte_be16_t
natt_port_of_encap(const struct espgw_sa *sa, const struct espgw_sa_encap *e)
{
	if (!e->udp)
		return 0;
	return rte_cpu_to_be_16(
		espgw_sa_params(sa)->dir == ESPGW_SA_IN ? e->dport : e->sport);
}

static rte_be16_t
natt_port_of(const struct espgw_sa *sa)
{
	return natt_port_of_encap(sa, &espgw_sa_params(sa)->encap);
}

/* One state fewer names port (0: none). */
static void
natt_port_drop(struct gw_tables *t, rte_be16_t port)
{
	for (unsigned int k = 0; port != 0 && k < t->nb_natt; k++)
		if (t->natt[k].port == port && --t->natt[k].refs == 0) {
			t->natt[k] = t->natt[--t->nb_natt];
			return;
		}
}

/* One state more names port (0: none). */
static int
natt_port_add(struct gw_tables *t, rte_be16_t port, char *err, size_t len)
{
	unsigned int k = 0;

	if (port == 0)
		return 0;
	while (k < t->nb_natt && t->natt[k].port != port)
		k++;
	if (k == t->nb_natt) {
		if (k == GW_NATT_PORTS_MAX) {
			snprintf(err, len,
				 "more than %d UDP ports for ESP in UDP (encap "
				 "espinudp)",
				 GW_NATT_PORTS_MAX);
			return -1;
		}
		t->natt[t->nb_natt++] = (struct gw_natt_port){ .port = port };
	}
	t->natt[k].refs++;
	return 0;
}

/* The ports of set t: those of prev, and of the SAs t made, less those
 * of the SAs it dropped, with the moves of those an update gave new
 * ports (a handful of entries, whatever the number of SAs). */
static int
build_natt_ports(struct gw_tables *t, const struct gw_tables *prev, bool sas,
		 char *err, size_t len)
{
	if (prev != NULL) {
		memcpy(t->natt, prev->natt, sizeof(t->natt));
		t->nb_natt = prev->nb_natt;
	}
	if (!sas)
		return 0;
	for (unsigned int i = 0; i < t->nb_gone; i++)
		natt_port_drop(t, natt_port_of(t->gone[i]));
	for (unsigned int i = 0; i < t->nb_relimit; i++) {
		const struct gw_relimit *r = &t->relimit[i];
		rte_be16_t was = natt_port_of(r->sa);
		rte_be16_t now = natt_port_of_encap(r->sa, &r->encap);

		if (was == now)
			continue;
		natt_port_drop(t, was);
		if (natt_port_add(t, now, err, len) != 0)
			return -1;
	}
	for (unsigned int i = 0; i < t->nb_made; i++)
		if (natt_port_add(t, natt_port_of(t->made[i]), err, len) != 0)
			return -1;
	return 0;
}

/* The out SAs by reqid of set t: those of prev (changed at commit),
 * or, when the SAs were built anew, made for t. */
static int
build_reqids(struct gw_tables *t, const struct gw_tables *prev,
	     const struct espgw_cfg *cfg, bool anew)
{
	if (prev != NULL && !anew) {
		t->rx = prev->rx;
		t->rx_current = t->sas == prev->sas;
		return 0;
	}
	t->rx = gw_reqids_new();
	if (t->rx == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nb_sas; i++)
		if (gw_reqids_add(t->rx, t->sas[i], cfg->states[i].seq) != 0)
			return -ENOMEM;
	t->rx_current = true;
	return 0;
}

/* By reqid, then by configuration order (qsort is not stable, and the
 * SA added last must win among equals). */
static int
by_reqid(const void *a, const void *b, void *sas)
{
	struct espgw_sa **sa = sas;
	unsigned int i = *(const unsigned int *)a, j = *(const unsigned int *)b;
	uint32_t ri = espgw_sa_params(sa[i])->reqid;
	uint32_t rj = espgw_sa_params(sa[j])->reqid;

	if (ri != rj)
		return ri < rj ? -1 : 1;
	return i < j ? -1 : i > j;
}

static bool
tmpl_matches(const struct espgw_cfg_policy *p, const struct espgw_sa *sa)
{
	const struct espgw_sa_params *s = espgw_sa_params(sa);

	if (s->dir != ESPGW_SA_OUT || (p->reqid != 0 && s->reqid != p->reqid))
		return false;
	/* xfrm_state_look_at(): a state's selector family (its own, but
	 * with flag af-unspec) is the flow's */
	if (!s->af_unspec &&
	    (p->family == AF_INET6) != (s->dst.family == AF_INET6))
		return false;
	/* xfrm_state_addr_cmp(): the template's family is the SA's */
	if (p->tmpl_family == AF_INET6)
		return s->dst.family == AF_INET6 &&
		       (gw_ip6_unspec(p->tmpl_src6) ||
			memcmp(s->src.v6, p->tmpl_src6, 16) == 0) &&
		       (gw_ip6_unspec(p->tmpl_dst6) ||
			memcmp(s->dst.v6, p->tmpl_dst6, 16) == 0);
	return s->dst.family != AF_INET6 &&
	       (p->tmpl_src == 0 || s->src.v4 == p->tmpl_src) &&
	       (p->tmpl_dst == 0 || s->dst.v4 == p->tmpl_dst);
}

/* The outbound SA a template names: by reqid when it has one, and by
 * whichever of src/dst it gives (RFC 4301 section 4.4.1 lets a policy
 * point at its SA). Among several, the one added last, as
 * xfrm_state_find() prefers the newest add_time: a rekey adds the new
 * SA beside the old one (same reqid) and outbound moves to it at once,
 * while the old inbound SA still takes what is in flight. out is sorted
 * by reqid (stable in configuration order, which is the order of
 * adding), so a reqid is a binary search even among 100,000 SAs. */
static struct espgw_sa *
tmpl_sa(const struct gw_tables *t, const struct espgw_cfg *cfg,
	const unsigned int *out, unsigned int n,
	const struct espgw_cfg_policy *p)
{
	struct espgw_sa *best = NULL, *live = NULL;
	unsigned int lo = 0, hi = n;

	if (p->reqid != 0) {
		while (lo < hi) {
			unsigned int mid = lo + (hi - lo) / 2;

			if (espgw_sa_params(t->sas[out[mid]])->reqid < p->reqid)
				lo = mid + 1;
			else
				hi = mid;
		}
		hi = lo;
		while (hi < n &&
		       espgw_sa_params(t->sas[out[hi]])->reqid == p->reqid)
			hi++;
	} else {
		hi = n;
	}
	/* the last of them wins, a dying one only when all are */
	for (unsigned int i = lo; i < hi; i++)
		if (tmpl_matches(p, t->sas[out[i]])) {
			best = t->sas[out[i]];
			if (!cfg->states[out[i]].dying)
				live = best;
		}
	return live != NULL ? live : best;
}

/* The largest inner packet that fits the tunnel MTU of binding b's SA
 * (b->sa set). */
static int
bind_mtu(const struct gw_tables *t, const struct gw_policy *gp,
	 struct gw_bound *b, const char *file, char *err, size_t len)
{
	const struct espgw_sa_params *s = espgw_sa_params(b->sa);
	const struct gw_nexthop6 *nh6 = NULL;
	const struct gw_nexthop *nh = NULL;
	char b1[INET6_ADDRSTRLEN];
	uint16_t port;
	int room;

	if (s->dst.family == AF_INET6)
		nh6 = gw_route6(t, s->dst.v6);
	else
		nh = gw_route(t, s->dst.v4);
	if (nh == NULL && nh6 == NULL) {
		snprintf(err, len, "%s:%d: no route to %s", file, gp->cfg.line,
			 gw_show_ip(&s->dst, b1));
		return -1;
	}
	port = nh != NULL ? nh->port : nh6->port;
	/* outer = IPv4 [+ UDP] or IPv6, + ESP + IV + roundup4(inner + 2)
	 * + ICV */
	room = t->ifaces[port].mtu - espgw_sa_outer_len(s) - s->icv_len;
	room = (room & ~(ESPGW_ESP_ALIGN - 1)) - ESPGW_ESP_TRAILER_LEN;
	if (room < ESPGW_IPV4_MIN_MTU) {
		snprintf(err, len, "%s:%d: MTU of %s too small for ESP", file,
			 gp->cfg.line, t->ifaces[port].name);
		return -1;
	}
	b->max_inner = (uint16_t)room;
	b->frag_outer = s->dst.family == AF_INET6;
	return 0;
}

static int
by_policy_key(const void *a, const void *b, void *arg)
{
	const struct espgw_cfg_policy *p = arg;
	unsigned int i = *(const unsigned int *)a, j = *(const unsigned int *)b;
	int rc = gw_policy_key_cmp(&p[i], &p[j]);

	return rc != 0 ? rc : (i > j) - (i < j);
}

/* Two policies with one selector and direction are refused, as
 * xfrm_policy_insert() refuses the second. Sorted, twins are
 * neighbours, among 10,000 policies as among two. */
static int
check_policy_twins(const struct espgw_cfg *cfg, char *err, size_t len)
{
	unsigned int *idx = malloc(sizeof(*idx) * (cfg->nb_policies + 1));
	int rc = 0;

	if (idx == NULL)
		return fail(err, len, cfg, 0, "out of memory");
	for (unsigned int i = 0; i < cfg->nb_policies; i++)
		idx[i] = i;
	qsort_r(idx, cfg->nb_policies, sizeof(*idx), by_policy_key,
		cfg->policies);
	for (unsigned int i = 1; i < cfg->nb_policies && rc == 0; i++)
		if (gw_policy_same_key(&cfg->policies[idx[i - 1]],
				       &cfg->policies[idx[i]]))
			rc = fail(err, len, cfg, cfg->policies[idx[i]].line,
				  "a policy with this selector and dir is "
				  "already at line %d (File exists)",
				  cfg->policies[idx[i - 1]].line);
	free(idx);
	return rc;
}

/* Each out policy's binding in set t. */
static int
build_bound(struct gw_tables *t, const struct espgw_cfg *cfg, bool pol_new,
	    char *err, size_t len)
{
	const struct gw_spd *spd = &t->spd[GW_OUT];
	unsigned int *out, nb_out = 0, ids = spd->nb + spd->nb_delta;
	int rc = 0;

	t->bound = calloc(ids ? ids : 1, sizeof(*t->bound));
	out = malloc(sizeof(*out) * (t->nb_sas + 1));
	if (t->bound == NULL || out == NULL) {
		free(out);
		return fail(err, len, cfg, 0, "out of memory");
	}
	for (unsigned int i = 0; i < t->nb_sas; i++)
		if (espgw_sa_params(t->sas[i])->dir == ESPGW_SA_OUT)
			out[nb_out++] = i;
	qsort_r(out, nb_out, sizeof(*out), by_reqid, t->sas);
	for (unsigned int i = 0; i < ids && rc == 0; i++) {
		const struct gw_policy *gp = gw_spd_policy(spd, i);
		struct gw_bound *bd = &t->bound[i];

		if (!gp->has_tmpl || gp->action == ESPGW_POL_BLOCK ||
		    !gw_spd_live(spd, i))
			continue;
		/* xfrm accepts a template no state satisfies and drops with
		 * XfrmOutNoStates; so do we, but say so when it is new */
		bd->sa = tmpl_sa(t, cfg, out, nb_out, &gp->cfg);
		if (bd->sa != NULL)
			rc = bind_mtu(t, gp, bd, cfg->file, err, len);
		else if (pol_new)
			fprintf(stderr,
				"%s:%d: warning: no outbound SA matches this "
				"policy's template; its packets will be "
				"dropped (drop-out-no-state)\n",
				cfg->file, gp->cfg.line);
	}
	free(out);
	return rc;
}

/* Past this many SAs made or gone, binding every policy anew (a sort)
 * beats looking at each policy for each of them. */
#define GW_REBIND_MAX 64

/* The newest SA of t that satisfies gp's template, or NULL: by its
 * reqid where the index holds t's SAs, else from the end of them (a
 * rekey's new SA is there). */
static struct espgw_sa *
newest_sa(const struct gw_tables *t, const struct espgw_cfg *cfg,
	  bool any_dying, const struct gw_policy *gp)
{
	struct espgw_sa *dying = NULL;

	if (!any_dying && gp->cfg.reqid != 0 && t->rx_current &&
	    gw_reqids_usable(t->rx))
		return gw_reqids_newest(t->rx, gp->cfg.reqid, tmpl_matches,
					&gp->cfg);
	for (unsigned int k = t->nb_sas; k-- > 0;) {
		if (!tmpl_matches(&gp->cfg, t->sas[k]))
			continue;
		if (!cfg->states[k].dying)
			return t->sas[k];
		if (dying == NULL)
			dying = t->sas[k];
	}
	return dying; /* a dying one only when all are */
}

/* Bind gp to the newest SA its template finds, if any. */
static int
bind_newest(const struct gw_tables *t, const struct gw_policy *gp,
	    struct gw_bound *bd, const struct espgw_cfg *cfg, bool any_dying,
	    char *err, size_t len)
{
	bd->sa = newest_sa(t, cfg, any_dying, gp);
	return bd->sa != NULL ? bind_mtu(t, gp, bd, cfg->file, err, len) : 0;
}

/* The bindings of prev, changed where an SA made or gone by this build
 * concerns a policy: one that a new SA satisfies (the newest wins), or
 * whose SA went. Same out policies, same network. */
static int
patch_bound(struct gw_tables *t, const struct gw_tables *prev,
	    const struct espgw_cfg *cfg, bool any_dying, char *err, size_t len)
{
	const struct gw_spd *spd = &t->spd[GW_OUT];
	unsigned int ids = spd->nb + spd->nb_delta, nb_r = 0;
	uint32_t r[2 * GW_REBIND_MAX];
	int rc = 0;

	t->bound = malloc((ids ? ids : 1) * sizeof(*t->bound));
	if (t->bound == NULL)
		return fail(err, len, cfg, 0, "out of memory");
	memcpy(t->bound, prev->bound, ids * sizeof(*t->bound));
	/* a policy an SA concerns has that SA's reqid in its template (or
	 * none): at 10,000 policies, look at the others' reqid alone */
	for (unsigned int k = 0; k < t->nb_made; k++)
		r[nb_r++] = espgw_sa_params(t->made[k])->reqid;
	for (unsigned int k = 0; k < t->nb_gone; k++)
		r[nb_r++] = espgw_sa_params(t->gone[k])->reqid;
	for (unsigned int i = 0; i < ids && rc == 0; i++) {
		const struct gw_policy *gp = gw_spd_policy(spd, i);
		struct gw_bound *bd = &t->bound[i];
		uint32_t want = i < spd->nb ? spd->tmpl_reqid[i]
				: gp->has_tmpl && gp->action != ESPGW_POL_BLOCK
					? gp->reqid
					: GW_SPD_NO_TMPL;
		bool again = false;

		if (want == GW_SPD_NO_TMPL || !gw_spd_live(spd, i))
			continue;
		for (unsigned int k = 0; k < nb_r && !again && want != 0; k++)
			again = r[k] == want;
		if (want != 0 && !again)
			continue;
		again = false;
		for (unsigned int k = 0; k < t->nb_gone && !again; k++)
			again = bd->sa == t->gone[k];
		for (unsigned int k = 0; k < t->nb_made && !again; k++)
			again = tmpl_matches(&gp->cfg, t->made[k]);
		if (again)
			rc = bind_newest(t, gp, bd, cfg, any_dying, err, len);
	}
	return rc;
}

/* The bindings of a new version of the out policies on prev's base,
 * with the SAs and the network of prev: the base's as prev had them,
 * a delta policy's from prev's delta where it was there already, else
 * found. A rebuilt base or a change to SAs binds all anew instead. */
static int
rebind_delta(struct gw_tables *t, const struct gw_tables *prev,
	     const struct espgw_cfg *cfg, bool any_dying, char *err, size_t len)
{
	const struct gw_spd *spd = &t->spd[GW_OUT], *ps = &prev->spd[GW_OUT];
	unsigned int ids = spd->nb + spd->nb_delta;
	int rc = 0;

	t->bound = calloc(ids ? ids : 1, sizeof(*t->bound));
	if (t->bound == NULL)
		return fail(err, len, cfg, 0, "out of memory");
	memcpy(t->bound, prev->bound, spd->nb * sizeof(*t->bound));
	/* both deltas are in xfrm order (priority, seq): one walk pairs
	 * the policies they share */
	for (unsigned int i = 0, j = 0; i < spd->nb_delta && rc == 0; i++) {
		const struct gw_policy *gp = &spd->delta[i];
		struct gw_bound *bd = &t->bound[spd->nb + i];

		while (j < ps->nb_delta && gw_policy_before(&ps->delta[j], gp))
			j++;
		if (!gp->has_tmpl || gp->action == ESPGW_POL_BLOCK)
			continue;
		if (j < ps->nb_delta &&
		    gw_policy_equal(&ps->delta[j].cfg, &gp->cfg)) {
			*bd = prev->bound[ps->nb + j];
			continue;
		}
		/* none: drop-out-no-state, as xfrm (said for files only) */
		rc = bind_newest(t, gp, bd, cfg, any_dying, err, len);
	}
	return rc;
}

/* The network: ports, addresses and routes. */
static int
build_net(struct gw_tables *t, const struct espgw_cfg *cfg, char *err,
	  size_t len)
{
	struct rte_lpm_config lc = {
		.max_rules = 1024 + cfg->nb_routes + cfg->nb_addrs,
		.number_tbl8s = 256,
	};
	struct rte_rib6_conf rc6 = {
		.max_nodes = 2 * (16 + cfg->nb_routes6 + cfg->nb_addrs6),
	};
	char name[RTE_LPM_NAMESIZE];

	snprintf(name, sizeof(name), "gw_lpm_%lu",
		 (unsigned long)t->generation);
	t->lpm = rte_lpm_create(name, SOCKET_ID_ANY, &lc);
	t->nh = calloc(lc.max_rules, sizeof(*t->nh));
	snprintf(name, sizeof(name), "gw_rib6_%lu",
		 (unsigned long)t->generation);
	t->rib6 = rte_rib6_create(name, SOCKET_ID_ANY, &rc6);
	t->nh6 = calloc(rc6.max_nodes, sizeof(*t->nh6));
	if (t->lpm == NULL || t->nh == NULL || t->rib6 == NULL ||
	    t->nh6 == NULL)
		return fail(err, len, cfg, 0, "out of memory");
	if (build_ifaces(t, cfg, err, len) != 0 ||
	    build_routes(t, cfg, err, len) != 0 ||
	    build_net6(t, cfg, err, len) != 0)
		return -1;
	return 0;
}

static void
take_net(struct gw_tables *t, const struct gw_tables *prev)
{
	memcpy(t->ifaces, prev->ifaces, sizeof(t->ifaces));
	memcpy(t->up, prev->up, sizeof(t->up));
	t->nb_up = prev->nb_up;
	memcpy(t->local, prev->local, sizeof(t->local));
	memcpy(t->local_port, prev->local_port, sizeof(t->local_port));
	t->nb_local = prev->nb_local;
	t->local_bits = prev->local_bits;
	t->lpm = prev->lpm;
	t->nh = prev->nh;
	t->nb_nh = prev->nb_nh;
	t->default_nh = prev->default_nh;
	memcpy(t->local6, prev->local6, sizeof(t->local6));
	t->nb_local6 = prev->nb_local6;
	t->rib6 = prev->rib6;
	t->nh6 = prev->nh6;
	t->nb_nh6 = prev->nb_nh6;
}

struct gw_tables *
gw_tables_build(const struct espgw_cfg *cfg, unsigned int nb_workers,
		const struct espgw_replay_map *spread,
		const struct gw_tables *prev, struct gw_change *chg, char *err,
		size_t len)
{
	static uint64_t generation;
	struct gw_tables *t = calloc(1, sizeof(*t));
	unsigned int changed = chg != NULL ? chg->what : GW_CHANGED_ALL;
	bool live = prev != NULL && chg != NULL && chg->live;
	bool net, sas, pol = false, same_out, dying;

	if (t == NULL) {
		fail(err, len, cfg, 0, "out of memory");
		return NULL;
	}
	if (prev == NULL)
		changed = GW_CHANGED_ALL;
	/* which SAs are ours, and their routes, come from the network */
	net = changed & GW_CHANGED_NET;
	sas = net || (changed & GW_CHANGED_SA);
	t->generation = ++generation;
	t->default_nh = -1;
	if (net ? build_net(t, cfg, err, len) != 0 : (take_net(t, prev), 0))
		goto error;
	if (sas) {
		if (build_states(t, cfg, nb_workers, spread, prev, chg, net,
				 err, len) != 0)
			goto error;
	} else {
		t->sad = prev->sad;
		t->sas = prev->sas;
		t->nb_sas = prev->nb_sas;
	}
	if (build_natt_ports(t, prev, sas, err, len) != 0)
		goto error;
	if (build_reqids(t, prev, cfg,
			 sas && (!live || net || chg->ops == NULL)) != 0) {
		fail(err, len, cfg, 0, "out of memory");
		goto error;
	}
	for (int d = 0; d < GW_NB_DIRS; d++)
		pol |= (changed & GW_CHANGED_POL(d)) != 0;
	/* the database refuses twins as they come; a file may hold them */
	if (pol && !live && check_policy_twins(cfg, err, len) != 0)
		goto error;
	for (int d = 0; d < GW_NB_DIRS; d++) {
		struct gw_spd *rebased = live ? chg->rebased[d] : NULL;
		int rc = -E2BIG;

		if (!(changed & GW_CHANGED_POL(d))) {
			t->spd[d] = prev->spd[d];
		} else {
			/* on the base rebuilt in the background, or on the
			 * one prev has: the trie stays */
			if (live)
				rc = gw_spd_derive(
					&t->spd[d],
					rebased != NULL ? rebased
							: &prev->spd[d],
					cfg->policies, cfg->nb_policies,
					(enum espgw_cfg_dir)d);
			if (rebased != NULL && rc != 0)
				gw_spd_free(rebased);
			if (rebased != NULL)
				chg->rebased[d] = NULL; /* t's now, or gone */
			if (rc != 0 && rc != -E2BIG) {
				fail(err, len, cfg, 0, "out of memory");
				goto error;
			}
			if (rc != 0 &&
			    gw_spd_build(&t->spd[d], cfg->policies,
					 cfg->nb_policies,
					 (enum espgw_cfg_dir)d, err, len) != 0)
				goto error;
		}
		t->nb_policies += gw_spd_count(&t->spd[d]);
	}
	same_out = !net && t->spd[GW_OUT].pol == prev->spd[GW_OUT].pol;
	dying = live && chg->any_dying;
	if (live && chg->rebind) {
		if (build_bound(t, cfg, false, err, len) != 0)
			goto error;
	} else if (sas && !net && !(changed & GW_CHANGED_POL_OUT) && live &&
		   t->nb_made + t->nb_gone <= GW_REBIND_MAX) {
		if (patch_bound(t, prev, cfg, dying, err, len) != 0)
			goto error;
	} else if (!sas && same_out && (changed & GW_CHANGED_POL_OUT)) {
		if (rebind_delta(t, prev, cfg, dying, err, len) != 0)
			goto error;
	} else if (sas || net || (changed & GW_CHANGED_POL_OUT)) {
		if (build_bound(t, cfg, !live && (changed & GW_CHANGED_POL_OUT),
				err, len) != 0)
			goto error;
	} else {
		t->bound = prev->bound;
	}
	for (unsigned int i = 0; i < cfg->nb_neighs; i++)
		if (iface_of(t, cfg, cfg->neighs[i].port, cfg->neighs[i].line,
			     err, len) < 0)
			goto error;
	for (unsigned int i = 0; i < cfg->nb_neighs6; i++)
		if (iface_of(t, cfg, cfg->neighs6[i].port, cfg->neighs6[i].line,
			     err, len) < 0)
			goto error;
	return t;
error:
	/* what was made here goes; what prev has stays */
	for (int d = 0; live && d < GW_NB_DIRS; d++) {
		gw_spd_free(chg->rebased[d]);
		chg->rebased[d] = NULL;
	}
	gw_tables_discard(t, prev);
	return NULL;
}

void
gw_tables_commit(struct gw_tables *t, const struct gw_tables *prev)
{
	char b[INET6_ADDRSTRLEN];

	/* updated limits and ports (xfrm_state_update) and moved far ends,
	 * on SAs in use */
	for (unsigned int i = 0; i < t->nb_relimit; i++) {
		const struct gw_relimit *r = &t->relimit[i];
		bool in = espgw_sa_params(r->sa)->dir == ESPGW_SA_IN;

		espgw_sa_set_limits(r->sa, &r->limits);
		if (espgw_sa_params(r->sa)->dst.family == AF_INET6)
			continue; /* no UDP, no NAT: nothing moves */
		/* address and port in one store, then our own port */
		espgw_sa_set_peer(r->sa, r->peer,
				  in ? r->encap.sport : r->encap.dport);
		espgw_sa_set_ports(r->sa, r->encap.sport, r->encap.dport);
	}
	if (prev != NULL && t->rx == prev->rx && !t->rx_current) {
		for (unsigned int i = 0; i < t->nb_gone; i++)
			gw_reqids_del(t->rx, t->gone[i]);
		/* out of memory: it says so, and templates scan the SAs */
		for (unsigned int i = 0; i < t->nb_made; i++)
			(void)gw_reqids_add(t->rx, t->made[i], t->made_seq[i]);
		t->rx_current = true;
	}
	if (prev == NULL || t->sad != prev->sad)
		return;
	t->slots = calloc(t->nb_gone + 1, sizeof(*t->slots));
	for (unsigned int i = 0; i < t->nb_made; i++)
		if (espgw_sa_params(t->made[i])->dir == ESPGW_SA_IN &&
		    espgw_sad_set(t->sad, t->made[i]) != 0)
			/* kept half empty, so never; but never silently */
			fprintf(stderr,
				"espgw: SAD full: inbound SA spi 0x%08x dst %s "
				"is not found (its packets: drop-esp-in)\n",
				espgw_sa_params(t->made[i])->spi,
				gw_show_ip(&espgw_sa_params(t->made[i])->dst,
					   b));
	for (unsigned int i = 0; i < t->nb_gone; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->gone[i]);
		int32_t slot;

		/* an update's new SA already stands in its place */
		if (p->dir != ESPGW_SA_IN ||
		    sad_lookup(t->sad, p) != t->gone[i])
			continue;
		slot = espgw_sad_unlink(t->sad, t->gone[i]);
		if (slot >= 0 && t->slots != NULL)
			t->slots[t->nb_slots++] = slot;
	}
}

/* Free set t but for the parts that set keep (or NULL) holds; SAs are
 * the callers'. */
static void
free_parts(struct gw_tables *t, const struct gw_tables *keep)
{
	for (int d = 0; d < GW_NB_DIRS; d++)
		gw_spd_release(&t->spd[d], keep != NULL ? &keep->spd[d] : NULL);
	if (keep == NULL || t->bound != keep->bound)
		free(t->bound);
	if (keep == NULL || t->sas != keep->sas)
		free(t->sas);
	if (keep == NULL || t->sad != keep->sad)
		espgw_sad_free(t->sad);
	if (keep == NULL || t->lpm != keep->lpm) {
		rte_lpm_free(t->lpm);
		free(t->nh);
		rte_rib6_free(t->rib6);
		free(t->nh6);
	}
	if (keep == NULL || t->rx != keep->rx)
		gw_reqids_free(t->rx);
	free(t->made);
	free(t->made_seq);
	free(t->gone);
	free(t->slots);
	free(t->relimit);
	free(t);
}

void
gw_tables_free(struct gw_tables *t)
{
	if (t == NULL)
		return;
	for (unsigned int i = 0; i < t->nb_sas; i++)
		espgw_sa_free(t->sas[i]);
	free_parts(t, NULL);
}

void
gw_tables_discard(struct gw_tables *t, const struct gw_tables *prev)
{
	if (t == NULL)
		return;
	for (unsigned int i = 0; i < t->nb_made; i++)
		espgw_sa_free(t->made[i]);
	free_parts(t, prev);
}

void
gw_tables_retire(struct gw_tables *old, struct gw_tables *next)
{
	if (old == NULL)
		return;
	/* no worker can hold what next took out of old any more */
	for (unsigned int i = 0; i < next->nb_gone; i++) {
		gw_stats_sa_gone(next->gone[i]);
		espgw_sa_free(next->gone[i]);
	}
	for (unsigned int i = 0; i < next->nb_slots; i++)
		espgw_sad_reclaim(next->sad, next->slots[i]);
	next->nb_made = next->nb_gone = next->nb_slots = 0;
	free_parts(old, next);
}
