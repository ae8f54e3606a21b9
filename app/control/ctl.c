/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The control service (ctl.h): requests from the control socket turned
 * into transactions on the live configuration, with the kernel's
 * answers printed as ip prints them ("RTNETLINK answers: File exists",
 * exit status 2; a statement ip would not parse: exit status 1). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <time.h>
#include <sys/wait.h>

#include <rte_ethdev.h>

#include "control/ctl.h"
#include "control/db.h"
#include "control/lifetime.h"
#include "control/ports.h"
#include "control/show.h"
#include "control/tables.h"
#include "dataplane/natt.h"
#include "gw.h"
#include "lang/cmd.h"
#include "wipe.h"

/* ip's exit statuses: 1 for what it cannot parse, 2 for what the
 * kernel refuses. */
enum { EXIT_SYNTAX = 1, EXIT_REFUSED = 2 };

int
gw_ctl_init(struct gw_ctl *ctl, struct gw *gw, struct espgw_cfg *cfg)
{
	unsigned int dup = 0;
	int rc;

	memset(ctl, 0, sizeof(*ctl));
	pthread_mutex_init(&ctl->lock, NULL);
	ctl->gw = gw;
	ctl->sock.fd = -1;
	rc = gw_db_init(&ctl->db, cfg, &dup);
	if (rc == -EEXIST)
		fprintf(stderr,
			"espgw: %s:%d: a state with this dst and spi is "
			"already there (File exists)\n",
			ctl->db.cfg.file, ctl->db.cfg.states[dup].line);
	return rc;
}

void
gw_ctl_fini(struct gw_ctl *ctl)
{
	for (int d = 0; d < GW_NB_DIRS; d++)
		gw_rebase_cancel(&ctl->rebase[d]);
	gw_ctlsock_close(&ctl->sock);
	gw_db_fini(&ctl->db);
	pthread_mutex_destroy(&ctl->lock);
}

/* The kernel's answer to a refused change, as ip prints it. */
static int
refused(struct gw_ctl_reply *r, const char *file, int line, int rc)
{
	gw_ctl_err(r, "%s:%d: RTNETLINK answers: %s\n", file, line,
		   strerror(-rc));
	return EXIT_REFUSED;
}

/* A change a transaction made, for `monitor` once it is published:
 * ip xfrm monitor's "Deleted "/"Updated " prefix (none for a new
 * entry) or a whole line of its own (the flushes). */
struct event {
	unsigned int mask; /* ESPGW_MON_* */
	const char *prefix;
	const char *suffix; /* a line after the entry, or NULL */
	bool gone;	    /* the entry is in the set replaced, not the new */
	const char *line;   /* instead of an entry */
	enum espgw_cmd_obj obj;
	uint8_t family; /* of a route or neighbour: which of u it is */
	union {
		struct espgw_cfg_state state;
		struct espgw_cfg_policy policy;
		struct espgw_cfg_route route;
		struct espgw_cfg_neigh neigh;
		struct espgw_cfg_route6 route6;
		struct espgw_cfg_neigh6 neigh6;
	} u;
};

struct events {
	struct event *e;
	unsigned int n, cap;
};

static struct event *
event_add(struct events *ev, unsigned int mask, const char *prefix,
	  enum espgw_cmd_obj obj, const void *entry, size_t size)
{
	struct event *e;

	if (ev->n == ev->cap) {
		unsigned int cap = ev->cap ? 2 * ev->cap : 16;
		struct event *a = realloc(ev->e, cap * sizeof(*a));

		if (a == NULL)
			return NULL; /* a monitor misses it; the change stands
				      */
		ev->e = a;
		ev->cap = cap;
	}
	e = &ev->e[ev->n++];
	memset(e, 0, sizeof(*e));
	e->mask = mask;
	e->prefix = prefix;
	e->obj = obj;
	if (entry != NULL)
		memcpy(&e->u, entry, size);
	return e;
}

/* The route or neighbour command c made. */
static void
net_event(struct events *ev, unsigned int mask, const char *prefix,
	  const struct espgw_cmd *c)
{
	bool v6 = c->family == AF_INET6;
	size_t size = c->obj == ESPGW_OBJ_ROUTE
			      ? (v6 ? sizeof(c->u.route6) : sizeof(c->u.route))
			      : (v6 ? sizeof(c->u.neigh6) : sizeof(c->u.neigh));
	struct event *e = event_add(ev, mask, prefix, c->obj, &c->u, size);

	if (e != NULL)
		e->family = v6 ? AF_INET6 : AF_INET;
}

static void
event_line(struct events *ev, unsigned int mask, const char *line)
{
	struct event *e = event_add(ev, mask, "", ESPGW_OBJ_MONITOR, NULL, 0);

	if (e != NULL)
		e->line = line;
}

/* Listings go through a memory stream, then to the client a line a
 * record. They hold keys, so the stream is ours rather than
 * open_memstream's: its buffer and every one it outgrew are wiped
 * (wipe.h), and so is stdio's, which lives here. */
struct listing {
	FILE *f;
	char *buf;
	size_t len, cap;
	char io[BUFSIZ];
};

static ssize_t
listing_write(void *cookie, const char *d, size_t n)
{
	struct listing *l = cookie;

	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap != 0 ? l->cap : 4096;
		char *p;

		while (cap < l->len + n + 1)
			cap *= 2;
		p = gw_wipe_realloc(l->buf, cap);
		if (p == NULL)
			return 0; /* fopencookie's error */
		l->buf = p;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, d, n);
	l->len += n;
	l->buf[l->len] = '\0';
	return (ssize_t)n;
}

static bool
listing_open(struct listing *l)
{
	static const cookie_io_functions_t io = { .write = listing_write };

	l->buf = NULL;
	l->len = 0;
	l->cap = 0;
	l->f = fopencookie(l, "w", io);
	if (l->f != NULL)
		setvbuf(l->f, l->io, _IOFBF, sizeof(l->io));
	return l->f != NULL;
}

/* Done with a listing: what it wrote, wiped. */
static void
listing_close(struct listing *l)
{
	fclose(l->f);
	gw_wipe_free(l->buf);
	explicit_bzero(l, sizeof(*l));
}

static void
listing_send(struct listing *l, struct gw_ctl_reply *r)
{
	fflush(l->f);
	if (l->len > 0)
		gw_ctl_out(r, "%s", l->buf);
	listing_close(l);
}

static void
list_states(const struct gw_ctl *ctl, const struct espgw_cmd *c,
	    const struct gw_show_opts *o, FILE *f)
{
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	struct espgw_sa **pick = malloc(sizeof(*pick) * (t->nb_sas + 1));
	const struct espgw_cfg_state **st =
		malloc(sizeof(*st) * (t->nb_sas + 1));
	struct gw_show_opts so = *o;
	uint32_t given = c->given;
	unsigned int n = 0;

	if (pick == NULL || st == NULL) {
		free(pick);
		free(st);
		return;
	}
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		struct espgw_cfg_state s = { .p = *p };
		int k;

		if (!gw_db_state_match(&s, &c->u.state, given))
			continue;
		/* its lifetimes: the configuration's state of that SA */
		k = gw_db_state_find(&ctl->db, &p->dst, p->spi);
		st[n] = k >= 0 ? &ctl->db.cfg.states[k] : NULL;
		pick[n++] = t->sas[i];
	}
	so.states = st;
	gw_show_states(f, &so, (const struct espgw_sa *const *)pick, n);
	free(pick);
	free(st);
}

static void
list_policies(const struct espgw_cfg *cfg, const struct espgw_cmd *c,
	      const struct gw_show_opts *o, FILE *f)
{
	const struct espgw_cfg_policy **pick =
		malloc(sizeof(*pick) * (cfg->nb_policies + 1));
	uint32_t *index = malloc(sizeof(*index) * (cfg->nb_policies + 1));
	unsigned int n = 0;

	if (pick != NULL && index != NULL) {
		for (unsigned int i = 0; i < cfg->nb_policies; i++)
			if (gw_db_policy_match(&cfg->policies[i], &c->u.policy,
					       c->given)) {
				index[n] = cfg->policies[i].index;
				pick[n++] = &cfg->policies[i];
			}
		gw_show_policies(f, o, pick, index, n);
	}
	free(pick);
	free(index);
}

/* Every port EAL found, those not set up as down, so that a user of an
 * espgw started without -f finds the names to bring up. */
static void
list_links(const struct gw_tables *t, const struct gw_show_opts *o, FILE *f)
{
	struct gw_iface ifs[GW_MAX_PORTS];

	_Static_assert(ESPGW_CFG_PORT_LEN >= RTE_ETH_NAME_MAX_LEN, "names");
	memcpy(ifs, t->ifaces, sizeof(ifs));
	for (uint16_t p = 0; p < GW_MAX_PORTS; p++) {
		struct gw_iface *e = &ifs[p];

		if (e->used || !rte_eth_dev_is_valid_port(p) ||
		    rte_eth_dev_get_name_by_port(p, e->name) != 0)
			continue;
		e->port = p;
		e->mtu = RTE_ETHER_MTU;
		if (rte_eth_macaddr_get(p, &e->mac) != 0)
			memset(&e->mac, 0, sizeof(e->mac));
	}
	gw_show_links(f, o, ifs, NULL, GW_MAX_PORTS);
}

/* The entries of an array (of routes, neighbours or addresses, whose
 * port name sits port_off bytes in) on device dev, or all with NULL. */
static const void **
pick_by_dev(const void *arr, unsigned int n, size_t size, size_t port_off,
	    const char *dev, unsigned int *nb)
{
	const void **pick = malloc(sizeof(*pick) * (n + 1));

	*nb = 0;
	if (pick == NULL)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		const char *e = (const char *)arr + (size_t)i * size;

		if (dev == NULL || strcmp(e + port_off, dev) == 0)
			pick[(*nb)++] = e;
	}
	return pick;
}

#define PICK(cfg, arr, count, dev, nb)                                         \
	pick_by_dev((cfg)->arr, (cfg)->count, sizeof((cfg)->arr[0]),           \
		    offsetof(__typeof__((cfg)->arr[0]), port), (dev), (nb))

/* A listing's device, where the statement's family put it. */
static const char *
cmd_port(const struct espgw_cmd *c, const char *port4, const char *port6)
{
	return c->family == AF_INET6 ? port6 : port4;
}

/* `ip [-6] route list [dev X]`: one family, IPv4 unless told. */
static void
list_routes(const struct espgw_cfg *work, const struct espgw_cmd *c,
	    const struct gw_show_opts *o, FILE *f)
{
	bool v6 = c->family == AF_INET6;
	const char *dev =
		(c->given & ESPGW_SEL_ROUTE_DEV)
			? cmd_port(c, c->u.route.port, c->u.route6.port)
			: NULL;
	unsigned int nr, na;
	const void **r, **a;

	if (v6) {
		r = PICK(work, routes6, nb_routes6, dev, &nr);
		a = PICK(work, addrs6, nb_addrs6, NULL, &na);
		gw_show_routes6(f, o, (const struct espgw_cfg_route6 *const *)r,
				nr, (const struct espgw_cfg_addr6 *const *)a,
				na);
	} else {
		r = PICK(work, routes, nb_routes, dev, &nr);
		a = PICK(work, addrs, nb_addrs, NULL, &na);
		gw_show_routes(f, o, (const struct espgw_cfg_route *const *)r,
			       nr, (const struct espgw_cfg_addr *const *)a, na);
	}
	free(r);
	free(a);
}

/* A read-only statement: its listing, from the configuration as the
 * transaction has it so far (states: the published SAs, with their
 * counters). */
static void
list(const struct gw_ctl *ctl, const struct espgw_cfg *work,
     const struct espgw_cmd *c, struct gw_ctl_reply *r)
{
	struct gw_show_opts o = { .stats = c->stats,
				  .json = c->json,
				  .pretty = c->pretty,
				  .keys = true };
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	const void **pick = NULL;
	struct listing l;
	unsigned int nb = 0;

	if (!listing_open(&l)) {
		gw_ctl_err(r, "out of memory\n");
		return;
	}
	switch (c->obj) {
	case ESPGW_OBJ_STATE: list_states(ctl, c, &o, l.f); break;
	case ESPGW_OBJ_POLICY: list_policies(work, c, &o, l.f); break;
	case ESPGW_OBJ_ROUTE: list_routes(work, c, &o, l.f); break;
	case ESPGW_OBJ_NEIGH: {
		/* no family: both, as ip neigh lists both */
		const char *dev =
			(c->given & ESPGW_SEL_NEIGH_DEV)
				? cmd_port(c, c->u.neigh.port, c->u.neigh6.port)
				: NULL;
		unsigned int n6 = 0;
		const void **p6 = NULL;

		if (c->family != AF_INET6)
			pick = PICK(work, neighs, nb_neighs, dev, &nb);
		if (c->family != AF_INET)
			p6 = PICK(work, neighs6, nb_neighs6, dev, &n6);
		gw_show_neighs(l.f, &o,
			       (const struct espgw_cfg_neigh *const *)pick, nb,
			       (const struct espgw_cfg_neigh6 *const *)p6, n6);
		free(p6);
		break;
	}
	case ESPGW_OBJ_ADDR: {
		const char *dev =
			(c->given & ESPGW_SEL_ADDR_DEV)
				? cmd_port(c, c->u.addr.port, c->u.addr6.port)
				: NULL;
		unsigned int n6 = 0;
		const void **p6 = NULL;

		if (c->family != AF_INET6)
			pick = PICK(work, addrs, nb_addrs, dev, &nb);
		if (c->family != AF_INET)
			p6 = PICK(work, addrs6, nb_addrs6, dev, &n6);
		gw_show_addrs(l.f, &o, t->ifaces, NULL, GW_MAX_PORTS,
			      (const struct espgw_cfg_addr *const *)pick, nb,
			      (const struct espgw_cfg_addr6 *const *)p6, n6);
		free(p6);
		break;
	}
	case ESPGW_OBJ_LINK: list_links(t, &o, l.f); break;
	default: break;
	}
	free(pick);
	listing_send(&l, r);
}

/* One statement of a transaction, applied to work. Returns 0 or the
 * exit status, with the reply written. *changed: what of work was
 * changed (GW_CHANGED_*). */
static int
apply(struct gw_ctl *ctl, const struct espgw_cmd *c, const char *file,
      struct gw_ctl_reply *r, unsigned int *changed, struct events *ev)
{
	static const int array[][2] = {
		[ESPGW_OBJ_POLICY] = { GW_DB_POLICIES, GW_DB_POLICIES },
		[ESPGW_OBJ_ROUTE] = { GW_DB_ROUTES, GW_DB_ROUTES6 },
		[ESPGW_OBJ_NEIGH] = { GW_DB_NEIGHS, GW_DB_NEIGHS6 },
		[ESPGW_OBJ_ADDR] = { GW_DB_ADDRS, GW_DB_ADDRS6 },
		[ESPGW_OBJ_LINK] = { GW_DB_LINKS, GW_DB_LINKS },
	};
	bool v6 = c->family == AF_INET6;
	bool upd = c->verb == ESPGW_CMD_UPDATE || c->verb == ESPGW_CMD_REPLACE;
	struct gw_db *db = &ctl->db;
	struct espgw_cfg *work = &db->cfg;
	unsigned int what = 0;
	int rc = 0;

	if (c->verb == ESPGW_CMD_LIST ||
	    (c->verb == ESPGW_CMD_GET && c->obj != ESPGW_OBJ_STATE &&
	     c->obj != ESPGW_OBJ_POLICY)) {
		list(ctl, work, c, r);
		return 0;
	}
	/* what undoes the change, kept before it is made */
	if (c->obj != ESPGW_OBJ_STATE && c->obj < (int)RTE_DIM(array) &&
	    c->obj != ESPGW_OBJ_MONITOR && c->verb != ESPGW_CMD_GET &&
	    gw_db_touch(db, (enum gw_db_array)array[c->obj][v6]) != 0) {
		gw_ctl_err(r, "out of memory\n");
		return EXIT_REFUSED;
	}
	/* a neigh flush of no family flushes both tables */
	if (c->obj == ESPGW_OBJ_NEIGH && c->verb == ESPGW_CMD_FLUSH &&
	    c->family == 0 && gw_db_touch(db, GW_DB_NEIGHS6) != 0) {
		gw_ctl_err(r, "out of memory\n");
		return EXIT_REFUSED;
	}
	switch (c->obj) {
	case ESPGW_OBJ_STATE:
		what = GW_CHANGED_SA;
		switch (c->verb) {
		case ESPGW_CMD_ADD:
		case ESPGW_CMD_UPDATE: {
			int i = gw_db_state_find(db, &c->u.state.p.dst,
						 c->u.state.p.spi);

			/* an update makes a dying state live again: the
			 * templates may choose it once more */
			if (upd && i >= 0 && work->states[i].dying)
				ctl->rebind = true;
			rc = gw_db_state_add(db, &c->u.state, upd);
			if (rc == 0)
				event_add(ev, ESPGW_MON_SA,
					  upd ? "Updated " : "", c->obj,
					  &c->u.state, sizeof(c->u.state));
			break;
		}
		case ESPGW_CMD_DEL:
		case ESPGW_CMD_GET:
			/* xfrm_get_sa / xfrm_del_sa: by (dst, proto, SPI) */
			rc = gw_db_state_find(db, &c->u.state.p.dst,
					      c->u.state.p.spi);
			if (rc >= 0 && c->verb == ESPGW_CMD_GET) {
				list(ctl, work, c, r);
				return 0;
			}
			if (rc >= 0) {
				event_add(ev, ESPGW_MON_SA, "Deleted ", c->obj,
					  &work->states[rc],
					  sizeof(work->states[rc]));
				gw_db_state_remove(db, (unsigned int)rc);
				rc = 0;
			}
			break;
		case ESPGW_CMD_DELETEALL:
			for (unsigned int i = 0; i < work->nb_states; i++)
				if (gw_db_state_match(&work->states[i],
						      &c->u.state, c->given))
					event_add(ev, ESPGW_MON_SA, "Deleted ",
						  c->obj, &work->states[i],
						  sizeof(work->states[i]));
			gw_db_state_remove_matching(db, &c->u.state, c->given);
			break;
		case ESPGW_CMD_FLUSH:
			gw_db_state_remove_matching(db, &c->u.state, 0);
			/* xfrm_user's XFRM_MSG_FLUSHSA, as ip xfrm monitor
			 * prints it */
			event_line(ev, ESPGW_MON_SA, "Flushed state proto esp");
			break;
		default: rc = -EOPNOTSUPP;
		}
		break;
	case ESPGW_OBJ_POLICY:
		what = GW_CHANGED_POL(c->u.policy.dir);
		switch (c->verb) {
		case ESPGW_CMD_ADD:
		case ESPGW_CMD_UPDATE: {
			struct espgw_cfg_policy np = c->u.policy;

			np.seq = ++db->pseq; /* a replacement keeps its own */
			rc = gw_db_policy_add(work, &np, upd);
			if (rc == 0) {
				int i = gw_db_policy_find(work, &c->u.policy);

				if (i >= 0)
					event_add(ev, ESPGW_MON_POLICY,
						  upd ? "Updated " : "", c->obj,
						  &work->policies[i],
						  sizeof(work->policies[i]));
			}
			break;
		}
		case ESPGW_CMD_DEL:
		case ESPGW_CMD_GET:
			rc = (c->given & ESPGW_SEL_POLICY_INDEX)
				     ? gw_db_policy_find_index(
					       work, c->u.policy.index,
					       c->u.policy.dir)
				     : gw_db_policy_find(work, &c->u.policy);
			if (rc >= 0 && c->verb == ESPGW_CMD_GET) {
				list(ctl, work, c, r);
				return 0;
			}
			if (rc >= 0) {
				what = GW_CHANGED_POL(work->policies[rc].dir);
				event_add(ev, ESPGW_MON_POLICY, "Deleted ",
					  c->obj, &work->policies[rc],
					  sizeof(work->policies[rc]));
				gw_db_policy_remove(work, (unsigned int)rc);
				rc = 0;
			}
			break;
		case ESPGW_CMD_DELETEALL:
			what = 0;
			for (unsigned int i = 0; i < work->nb_policies; i++) {
				const struct espgw_cfg_policy *p =
					&work->policies[i];

				if (!gw_db_policy_match(p, &c->u.policy,
							c->given))
					continue;
				what |= GW_CHANGED_POL(p->dir);
				event_add(ev, ESPGW_MON_POLICY, "Deleted ",
					  c->obj, p, sizeof(*p));
			}
			gw_db_policy_remove_matching(work, &c->u.policy,
						     c->given);
			break;
		case ESPGW_CMD_FLUSH:
			what = GW_CHANGED_POL(GW_OUT) | GW_CHANGED_POL(GW_IN) |
			       GW_CHANGED_POL(GW_FWD);
			gw_db_policy_remove_matching(work, &c->u.policy, 0);
			event_line(ev, ESPGW_MON_POLICY, "Flushed policy");
			break;
		default: rc = -EOPNOTSUPP;
		}
		break;
	case ESPGW_OBJ_ROUTE:
		what = GW_CHANGED_NET;
		if (c->verb == ESPGW_CMD_DEL)
			rc = v6 ? gw_db_route6_del(work, &c->u.route6, c->given)
				: gw_db_route_del(work, &c->u.route, c->given);
		else
			rc = v6 ? gw_db_route6_add(work, &c->u.route6, upd)
				: gw_db_route_add(work, &c->u.route, upd);
		if (rc == 0)
			net_event(ev, ESPGW_MON_ROUTE,
				  c->verb == ESPGW_CMD_DEL ? "Deleted " : "",
				  c);
		break;
	case ESPGW_OBJ_NEIGH:
		what = GW_CHANGED_NEIGH;
		if (c->verb == ESPGW_CMD_DEL) {
			rc = v6 ? gw_db_neigh6_del(work, &c->u.neigh6)
				: gw_db_neigh_del(work, &c->u.neigh);
		} else if (c->verb == ESPGW_CMD_FLUSH) {
			const char *dev = (c->given & ESPGW_SEL_NEIGH_DEV)
						  ? cmd_port(c, c->u.neigh.port,
							     c->u.neigh6.port)
						  : NULL;

			if (c->family != AF_INET6)
				gw_db_neigh_flush(work, dev);
			if (c->family != AF_INET)
				gw_db_neigh6_flush(work, dev);
		} else {
			rc = v6 ? gw_db_neigh6_add(work, &c->u.neigh6, upd)
				: gw_db_neigh_add(work, &c->u.neigh, upd);
		}
		if (rc == 0 && c->verb != ESPGW_CMD_FLUSH)
			net_event(ev, ESPGW_MON_NEIGH,
				  c->verb == ESPGW_CMD_DEL ? "Deleted " : "",
				  c);
		break;
	case ESPGW_OBJ_ADDR:
		what = GW_CHANGED_NET;
		if (v6)
			rc = c->verb == ESPGW_CMD_DEL
				     ? gw_db_addr6_del(work, &c->u.addr6)
				     : gw_db_addr6_add(work, &c->u.addr6);
		else
			rc = c->verb == ESPGW_CMD_DEL
				     ? gw_db_addr_del(work, &c->u.addr)
				     : gw_db_addr_add(work, &c->u.addr);
		break;
	case ESPGW_OBJ_LINK:
		what = GW_CHANGED_NET;
		/* refused here, where the statement's line is known: the
		 * ports' own check at commit names no statement */
		if (c->verb == ESPGW_CMD_SET &&
		    c->u.link.mtu > gw_ports_max_mtu(ctl->gw)) {
			gw_ctl_err(r,
				   "%s:%d: mtu %u is more than espgw's mbufs "
				   "hold (%u; give the port its MTU in the "
				   "file of -f, which sizes them)\n",
				   file, c->line, c->u.link.mtu,
				   gw_ports_max_mtu(ctl->gw));
			return EXIT_REFUSED;
		}
		rc = c->verb == ESPGW_CMD_SET ? gw_db_link_set(work, &c->u.link)
					      : -EOPNOTSUPP;
		break;
	case ESPGW_OBJ_MONITOR:
		/* the connection stays open for what later commits change */
		gw_ctl_monitor(r, c->monitor);
		return 0;
	default: rc = -EOPNOTSUPP;
	}
	if (rc == -EOPNOTSUPP) {
		gw_ctl_err(r, "%s:%d: command not supported\n", file, c->line);
		return EXIT_SYNTAX;
	}
	if (rc < 0)
		return refused(r, file, c->line, rc);
	*changed |= what;
	return 0;
}

/* Is neighbour (port, addr) in the configuration of set t? */
static bool
neigh_kept(const struct gw_tables *t, const struct espgw_cfg *cfg, int port,
	   uint32_t addr)
{
	for (unsigned int i = 0; i < cfg->nb_neighs; i++)
		if (cfg->neighs[i].addr == addr &&
		    gw_tables_port(t, cfg->neighs[i].port) == port)
			return true;
	return false;
}

/* The neighbour table holds what ARP learns beside the configured
 * entries: after a commit, entries gone from the configuration are
 * forgotten and the others set (static, so ARP cannot replace them).
 * An entry that stays is overwritten in one store, never forgotten
 * first: a worker must not miss a next hop that did not change. */
static void
sync_neighs(struct gw *gw, const struct gw_tables *told,
	    const struct espgw_cfg_neigh *old, unsigned int nb_old,
	    const struct gw_tables *tcur, const struct espgw_cfg *cur)
{
	for (unsigned int i = 0; i < nb_old; i++) {
		int port = gw_tables_port(told, old[i].port);

		if (port >= 0 && !neigh_kept(tcur, cur, port, old[i].addr))
			gw_neigh_forget(&gw->neigh, (uint16_t)port,
					old[i].addr);
	}
	for (unsigned int i = 0; i < cur->nb_neighs; i++) {
		int port = gw_tables_port(tcur, cur->neighs[i].port);

		if (port >= 0)
			gw_neigh_set(&gw->neigh, (uint16_t)port,
				     cur->neighs[i].addr, &cur->neighs[i].mac,
				     true);
	}
}

/* The same for the IPv6 neighbours (`ip -6 neigh`). */
static bool
neigh6_kept(const struct gw_tables *t, const struct espgw_cfg *cfg, int port,
	    const uint8_t addr[16])
{
	for (unsigned int i = 0; i < cfg->nb_neighs6; i++)
		if (memcmp(cfg->neighs6[i].addr, addr, 16) == 0 &&
		    gw_tables_port(t, cfg->neighs6[i].port) == port)
			return true;
	return false;
}

static void
sync_neighs6(struct gw *gw, const struct gw_tables *told,
	     const struct espgw_cfg_neigh6 *old, unsigned int nb_old,
	     const struct gw_tables *tcur, const struct espgw_cfg *cur)
{
	for (unsigned int i = 0; i < nb_old; i++) {
		int port = gw_tables_port(told, old[i].port);

		if (port >= 0 && !neigh6_kept(tcur, cur, port, old[i].addr))
			gw_neigh_forget6(&gw->neigh, (uint16_t)port,
					 old[i].addr);
	}
	for (unsigned int i = 0; i < cur->nb_neighs6; i++) {
		int port = gw_tables_port(tcur, cur->neighs6[i].port);

		if (port >= 0)
			gw_neigh_set6(&gw->neigh, (uint16_t)port,
				      cur->neighs6[i].addr,
				      &cur->neighs6[i].mac, true);
	}
}

/* The SA of state s in set t, or NULL. */
static const struct espgw_sa *
sa_in_set(const struct gw_tables *t, const struct espgw_cfg_state *s)
{
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);

		if (p->spi == s->p.spi && gw_db_ip_same(&p->dst, &s->p.dst))
			return t->sas[i];
	}
	return NULL;
}

/* What a published transaction changed, to every monitor that watches
 * it, as ip monitor prints it; keys never (issue #10). old: the set
 * it replaced, still alive, which holds the deleted states. */
static void
notify(struct gw_ctl *ctl, const struct gw_tables *old,
       const struct gw_tables *cur, const struct events *ev)
{
	const struct gw_show_opts o = { .keys = false };
	unsigned int watched = gw_ctlsock_watched(&ctl->sock);

	for (unsigned int i = 0; i < ev->n; i++) {
		const struct event *e = &ev->e[i];
		const struct espgw_sa *sa;
		const void *one = &e->u;
		struct listing l;

		/* finding an SA among 100,000 is for monitors only */
		if (!(e->mask & watched))
			continue;
		if (e->line != NULL) {
			gw_ctlsock_broadcast(&ctl->sock, e->mask, "%s\n",
					     e->line);
			continue;
		}
		if (!listing_open(&l))
			return;
		switch (e->obj) {
		case ESPGW_OBJ_STATE:
			sa = sa_in_set(e->prefix[0] == 'D' || e->gone ? old
								      : cur,
				       &e->u.state);
			if (sa != NULL)
				gw_show_states(l.f, &o, &sa, 1);
			break;
		case ESPGW_OBJ_POLICY:
			gw_show_policies(
				l.f, &o,
				(const struct espgw_cfg_policy *const *)&one,
				&e->u.policy.index, 1);
			break;
		case ESPGW_OBJ_ROUTE:
			if (e->family == AF_INET6)
				gw_show_routes6(l.f, &o,
						(const struct espgw_cfg_route6
							 *const *)&one,
						1, NULL, 0);
			else
				gw_show_routes(l.f, &o,
					       (const struct espgw_cfg_route
							*const *)&one,
					       1, NULL, 0);
			break;
		case ESPGW_OBJ_NEIGH:
			if (e->family == AF_INET6)
				gw_show_neighs(l.f, &o, NULL, 0,
					       (const struct espgw_cfg_neigh6
							*const *)&one,
					       1);
			else
				gw_show_neighs(l.f, &o,
					       (const struct espgw_cfg_neigh
							*const *)&one,
					       1, NULL, 0);
			break;
		default: break;
		}
		fflush(l.f);
		if (l.len > 0)
			gw_ctlsock_broadcast(
				&ctl->sock, e->mask, "%s%s%s", e->prefix, l.buf,
				e->suffix != NULL ? e->suffix : "");
		listing_close(&l);
	}
}

/* A refusal: to the client, or, for the control thread's own changes
 * (r NULL: lifetimes), to espgw's standard error. */
static void
complain(struct gw_ctl_reply *r, const char *err)
{
	if (r != NULL)
		gw_ctl_err(r, "%s\n", err);
	else
		fprintf(stderr, "espgw: %s\n", err);
}

/* A policy direction of set t with many changes on its base: build a
 * new base off thread (rebase.h), unless one is being built. */
static void
rebase_if_due(struct gw_ctl *ctl, const struct gw_tables *t)
{
	for (int d = 0; d < GW_NB_DIRS; d++) {
		const struct gw_spd *spd = &t->spd[d];

		if (ctl->rebase[d].running ||
		    spd->nb_delta + spd->nb_dead < GW_SPD_REBASE_AT)
			continue;
		if (gw_rebase_start(&ctl->rebase[d], (enum gw_dir)d,
				    &ctl->db.cfg) != 0)
			fprintf(stderr, "espgw: cannot start rebuilding the "
					"policies; changes stay deltas\n");
	}
}

/* Build the transaction's configuration into a table set and publish
 * it. Returns 0 or the exit status, with the reply. */
static int
commit(struct gw_ctl *ctl, unsigned int changed, struct gw_ctl_reply *r,
       const struct events *ev)
{
	struct gw *gw = ctl->gw;
	struct gw_db *db = &ctl->db;
	struct gw_tables *cur = gw_tables_current(&gw->pub), *t, *old;
	struct gw_change chg = {
		.what = changed,
		.live = true,
		.ops = db->log_full ? NULL : db->ops,
		.nb_ops = db->nb_ops,
	};
	const struct espgw_cfg_neigh *was;
	const struct espgw_cfg_neigh6 *was6;
	unsigned int nb_was;
	char err[512];

	/* a delta about to overflow: the base being built is nearer than
	 * one built now */
	for (int d = 0; d < GW_NB_DIRS; d++)
		if ((changed & GW_CHANGED_POL(d)) && ctl->rebase[d].running &&
		    cur->spd[d].nb_delta + GW_SPD_REBASE_AT >= GW_SPD_DELTA_MAX)
			chg.rebased[d] = gw_rebase_take(&ctl->rebase[d]);
	chg.any_dying = db->nb_dying != 0;
	chg.rebind = ctl->rebind;
	t = gw_tables_build(&db->cfg, gw->nb_workers, gw_spread_map(gw), cur,
			    &chg, err, sizeof(err));
	if (t == NULL) {
		complain(r, err);
		return EXIT_REFUSED;
	}
	/* a port the set brings up starts before workers can poll it */
	if (gw_ports_apply(gw, t, cur, err, sizeof(err)) != 0) {
		complain(r, err);
		gw_tables_discard(t, cur);
		return EXIT_REFUSED;
	}
	ctl->rebind = false;
	/* nothing fails from here on */
	gw_tables_commit(t, cur);
	old = gw_publish(&gw->pub, t);
	if (changed & (GW_CHANGED_NEIGH | GW_CHANGED_NET)) {
		was = gw_db_before(db, GW_DB_NEIGHS, &nb_was);
		sync_neighs(gw, old, was, nb_was, t, &db->cfg);
		was6 = gw_db_before(db, GW_DB_NEIGHS6, &nb_was);
		sync_neighs6(gw, old, was6, nb_was, t, &db->cfg);
	}
	notify(ctl, old, t, ev);
	gw_tables_retire(old, t);
	ctl->nb_commits++;
	rebase_if_due(ctl, t);
	return 0;
}

bool
gw_ctl_busy(const struct gw_ctl *ctl)
{
	for (int d = 0; d < GW_NB_DIRS; d++)
		if (ctl->rebase[d].running)
			return true;
	return false;
}

/* --on-expire: the program, the state's identity in its environment
 * (ESPGW_EXPIRE_HARD 0|1, ESPGW_SRC, ESPGW_DST, ESPGW_SPI, ESPGW_REQID,
 * ESPGW_DIR); not waited for (reaped by gw_ctl_tick). */
static void
run_hook(const struct gw_ctl *ctl, const struct espgw_cfg_state *s,
	 enum espgw_sa_dir dir, bool hard)
{
	extern char **environ;
	char v[6][64], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char *argv[] = { (char *)ctl->on_expire, NULL };
	unsigned int n = 0;
	char **envp;
	pid_t pid;

	if (ctl->on_expire == NULL)
		return;
	while (environ[n] != NULL)
		n++;
	envp = malloc((n + 7) * sizeof(*envp));
	if (envp == NULL)
		return;
	memcpy(envp, environ, n * sizeof(*envp));
	snprintf(v[0], sizeof(v[0]), "ESPGW_EXPIRE_HARD=%d", hard);
	snprintf(v[1], sizeof(v[1]), "ESPGW_SRC=%s", gw_show_ip(&s->p.src, a));
	snprintf(v[2], sizeof(v[2]), "ESPGW_DST=%s", gw_show_ip(&s->p.dst, b));
	snprintf(v[3], sizeof(v[3]), "ESPGW_SPI=0x%08x", s->p.spi);
	snprintf(v[4], sizeof(v[4]), "ESPGW_REQID=%u", s->p.reqid);
	snprintf(v[5], sizeof(v[5]), "ESPGW_DIR=%s",
		 dir == ESPGW_SA_IN ? "in" : "out");
	for (int i = 0; i < 6; i++)
		envp[n++] = v[i];
	envp[n] = NULL;
	if (posix_spawnp(&pid, ctl->on_expire, NULL, NULL, argv, envp) != 0)
		fprintf(stderr, "espgw: --on-expire %s: cannot run it\n",
			ctl->on_expire);
	free(envp);
}

/* Outbound SAs moved ahead of a build (the templates bind by the SA's
 * far end), to move back if the build fails. */
struct moves {
	struct {
		struct espgw_sa *sa;
		uint32_t addr;
		uint16_t port;
	} m[8];
	unsigned int n;
};

/* The SA of outbound state q in t, looked up: this pass's removals have
 * shifted the states after them, not the SAs. */
static struct espgw_sa *
out_sa_of(const struct gw_tables *t, const struct espgw_cfg_state *q)
{
	for (unsigned int k = 0; k < t->nb_sas; k++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[k]);

		if (p->dir == ESPGW_SA_OUT && p->spi == q->p.spi &&
		    gw_db_ip_same(&p->dst, &q->p.dst))
			return t->sas[k];
	}
	return NULL;
}

/* Templates that name the peer's old address name the new one, as
 * xfrm_policy_migrate() rewrites them: the out templates' dst, the in
 * and fwd templates' src. Returns the GW_CHANGED_POL bits. */
static unsigned int
move_templates(struct gw_db *db, uint32_t ours, uint32_t from, uint32_t to)
{
	unsigned int changed = 0;

	if (gw_db_touch(db, GW_DB_POLICIES) != 0)
		return 0;
	for (unsigned int i = 0; i < db->cfg.nb_policies; i++) {
		struct espgw_cfg_policy *p = &db->cfg.policies[i];
		bool out = p->dir == ESPGW_POL_OUT;
		uint32_t *far = out ? &p->tmpl_dst : &p->tmpl_src;
		uint32_t near = out ? p->tmpl_src : p->tmpl_dst;

		/* an IPv6 template's addresses are elsewhere: not ours */
		if (!p->has_tmpl || p->tmpl_family == AF_INET6 ||
		    *far != from || (near != 0 && near != ours))
			continue;
		*far = to;
		changed |= GW_CHANGED_POL(p->dir);
	}
	return changed;
}

/* RFC 3948 section 5.2: the peer of inbound state s, an ESP-in-UDP one,
 * sent its last authentic packet from elsewhere (a NAT rebound). Told to
 * monitors as ip xfrm monitor prints XFRM_MSG_MAPPING. With
 * --natt-follow the states move to the new mapping as an IKE daemon
 * moves them (xfrm_state_migrate, xfrm_policy_migrate): s expects the
 * peer there, the outbound states to the old mapping send there, and
 * templates naming the old address name the new one. Returns what
 * changed (GW_CHANGED_*); the outbound SAs moved already are in mv. */
static unsigned int
new_mapping(struct gw_ctl *ctl, struct espgw_cfg_state *s, struct espgw_sa *sa,
	    struct moves *mv)
{
	struct gw_db *db = &ctl->db;
	struct espgw_cfg *cfg = &db->cfg;
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	uint32_t addr, from = s->p.src.v4, ours = s->p.dst.v4;
	uint16_t port, was = s->p.encap.sport;
	unsigned int changed = 0;

	/* NAT traversal is IPv4's (RFC 3948): an IPv6 state has no mapping */
	if (s->p.dst.family != AF_INET || !espgw_sa_mapping(sa, &addr, &port))
		return 0;
	gw_ctlsock_broadcast(&ctl->sock, ESPGW_MON_SA,
			     "Mapping change %s:%u -> %s:%u\n\tdst %s  reqid "
			     "0x%x protocol esp  SPI 0x%x\n",
			     gw_ip_str(from, a), was, gw_ip_str(addr, b), port,
			     gw_ip_str(ours, d), s->p.reqid, s->p.spi);
	if (!ctl->natt_follow)
		return 0;
	for (unsigned int i = 0; i < cfg->nb_states && mv->n < RTE_DIM(mv->m);
	     i++) {
		struct espgw_cfg_state *q = &cfg->states[i];
		struct espgw_sa *o;

		if (!q->p.encap.udp || q->p.dst.family != AF_INET ||
		    q->p.dst.v4 != from || q->p.src.v4 != ours ||
		    q->p.encap.dport != was)
			continue;
		o = out_sa_of(t, q);
		if (o == NULL || gw_db_state_move(db, i, ours, addr,
						  q->p.encap.sport, port) != 0)
			continue;
		mv->m[mv->n].sa = o;
		mv->m[mv->n].addr = from;
		mv->m[mv->n++].port = was;
		espgw_sa_set_peer(o, addr, port);
		changed |= GW_CHANGED_SA;
	}
	/* the inbound SA moves at commit (keep_sa), as the templates do */
	if (gw_db_state_move(db, (unsigned int)(s - cfg->states), addr, ours,
			     port, s->p.encap.dport) == 0)
		changed |= GW_CHANGED_SA;
	if (addr != from)
		changed |= move_templates(db, ours, from, addr);
	return changed;
}

/* RFC 3948 section 2.3: an outbound ESP-in-UDP state that carried
 * nothing for --natt-keepalive seconds gets a keepalive, sent by worker
 * 0, so that the NAT keeps its mapping (Linux's IKE daemons send one
 * every 20 s). A full queue waits for the next second. */
static void
keepalive(struct gw_ctl *ctl, struct espgw_cfg_state *s,
	  const struct espgw_sa *sa, uint64_t now)
{
	/* the state's ports, not the SA's: a follow this very pass has
	 * changed them, the SA learns at commit */
	const struct espgw_sa_params *p = &s->p;
	struct gw_natt_keepalive k;
	struct espgw_sa_stats st;

	if (p->dst.family != AF_INET)
		return; /* ESP in UDP is IPv4's */
	espgw_sa_stats_read(sa, &st);
	if (st.packets != s->ka_packets || s->ka_time == 0) {
		s->ka_packets = st.packets;
		s->ka_time = now;
		return;
	}
	if (now < s->ka_time + ctl->natt_keepalive)
		return;
	k = (struct gw_natt_keepalive){
		.src = p->src.v4,
		.dst = p->dst.v4,
		.sport = rte_cpu_to_be_16(p->encap.sport),
		.dport = rte_cpu_to_be_16(p->encap.dport),
	};
	if (rte_ring_enqueue_elem(ctl->gw->workers[0].keepalives, &k,
				  sizeof(k)) == 0)
		s->ka_time = now;
}

/* Once a second, the states' lifetimes (control/lifetime.h): time
 * limits are checked here, byte and packet limits and the sequence
 * margin by the workers, which flag the SA (espgw_sa_expiry). A soft
 * limit makes a state dying (templates then bind past it), a hard one
 * removes it; each is an Expired event, as ip xfrm monitor prints
 * XFRM_MSG_EXPIRE ("hard 0" / "hard 1"), and a run of --on-expire. */
static void
check_lifetimes(struct gw_ctl *ctl)
{
	struct gw_db *db = &ctl->db;
	const struct gw_tables *t = gw_tables_current(&ctl->gw->pub);
	uint64_t now = (uint64_t)time(NULL);
	struct events ev = { 0 };
	struct moves mv = { .n = 0 };
	unsigned int nb_dying = 0, changed = 0;

	if (now == ctl->checked || t->nb_sas != db->cfg.nb_states)
		return;
	ctl->checked = now;
	/* last place first: removing one leaves the others' places */
	for (unsigned int i = db->cfg.nb_states; i-- > 0;) {
		struct espgw_cfg_state *s = &db->cfg.states[i], shown;
		struct espgw_sa *sa = t->sas[i];
		unsigned int flags = espgw_sa_expiry(sa);
		enum gw_expiry x = GW_LIVE;
		struct event *e;

		if (s->use_time == 0) {
			struct espgw_sa_stats st;

			espgw_sa_stats_read(sa, &st);
			if (st.packets != 0)
				s->use_time = now; /* within a second */
		}
		if (gw_lifetime_any(&s->lft))
			x = gw_lifetime_check(&s->lft, s->add_time, s->use_time,
					      now);
		if (flags & ESPGW_SA_MAPPING)
			changed |= new_mapping(ctl, s, sa, &mv);
		if (ctl->natt_keepalive != 0 && s->p.encap.udp &&
		    espgw_sa_params(sa)->dir == ESPGW_SA_OUT)
			keepalive(ctl, s, sa, now);
		if (flags & ESPGW_SA_HARD)
			x = GW_HARD;
		else if ((flags & ESPGW_SA_SOFT) && x == GW_LIVE)
			x = GW_SOFT;
		if (x == GW_LIVE || (x == GW_SOFT && s->dying)) {
			nb_dying += s->dying;
			continue;
		}
		/* as xfrm_timer_handler: expired at once, removed after */
		if (x == GW_HARD)
			espgw_sa_expire(sa);
		shown = *s;
		shown.p.dir = espgw_sa_params(sa)->dir;
		e = event_add(&ev, ESPGW_MON_SA, "Expired ", ESPGW_OBJ_STATE,
			      &shown, sizeof(shown));
		if (e != NULL) {
			e->suffix = x == GW_HARD ? "\thard 1\n" : "\thard 0\n";
			e->gone = x == GW_HARD;
		}
		run_hook(ctl, s, shown.p.dir, x == GW_HARD);
		if (x == GW_HARD) {
			gw_db_state_remove(db, i);
		} else {
			s->dying = true;
			nb_dying++;
			ctl->rebind = true;
		}
		changed |= GW_CHANGED_SA;
	}
	db->nb_dying = nb_dying;
	if (changed != 0) {
		db->cfg.file = "lifetime";
		if (commit(ctl, changed, NULL, &ev) == 0) {
			gw_db_commit(db);
		} else {
			gw_db_rollback(db);
			for (unsigned int k = 0; k < mv.n; k++)
				espgw_sa_set_peer(mv.m[k].sa, mv.m[k].addr,
						  mv.m[k].port);
		}
		db->cfg.file = "espgwctl";
	}
	free(ev.e);
}

static void
tick(struct gw_ctl *ctl)
{
	struct gw *gw = ctl->gw;

	check_lifetimes(ctl);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		; /* --on-expire's runs */

	for (int d = 0; d < GW_NB_DIRS; d++) {
		struct gw_change chg = { .what = GW_CHANGED_POL(d),
					 .live = true };
		struct gw_tables *cur, *t;
		char err[512];

		if (!gw_rebase_done(&ctl->rebase[d]))
			continue;
		chg.rebased[d] = gw_rebase_take(&ctl->rebase[d]);
		if (chg.rebased[d] == NULL) {
			fprintf(stderr,
				"espgw: rebuilding the %s policies: %s\n",
				d == GW_OUT  ? "out"
				: d == GW_IN ? "in"
					     : "fwd",
				ctl->rebase[d].err);
			continue;
		}
		/* what changed while it was built stays a delta of it */
		cur = gw_tables_current(&gw->pub);
		t = gw_tables_build(&ctl->db.cfg, gw->nb_workers,
				    gw_spread_map(gw), cur, &chg, err,
				    sizeof(err));
		if (t == NULL) {
			fprintf(stderr, "espgw: %s\n", err);
			continue;
		}
		gw_tables_commit(t, cur);
		gw_tables_retire(gw_publish(&gw->pub, t), t);
		rebase_if_due(ctl, t);
	}
}

void
gw_ctl_tick(struct gw_ctl *ctl)
{
	pthread_mutex_lock(&ctl->lock);
	tick(ctl);
	pthread_mutex_unlock(&ctl->lock);
}

static void
handle(struct gw_ctl *ctl, const char *req, size_t len, struct gw_ctl_reply *r)
{
	struct gw_ctl_request q;
	const char *file, *p, *end;
	struct events ev = { 0 };
	unsigned int changed = 0;
	char err[512];
	int line = 0, status = 0;

	if (gw_ctl_request_parse(req, len, &q, err, sizeof(err)) != 0) {
		gw_ctl_err(r, "%s\n", err);
		gw_ctl_status(r, EXIT_SYNTAX);
		return;
	}
	file = q.batch[0] != '\0' ? q.batch : "espgwctl";
	ctl->db.cfg.file = file;
	for (p = q.body, end = q.body + q.body_len; p < end && status == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *text = strndup(p, n);
		struct espgw_cmd c;
		int rc;

		p += n + 1;
		line++;
		if (text == NULL) {
			gw_ctl_err(r, "out of memory\n");
			status = EXIT_REFUSED;
			break;
		}
		rc = espgw_cmd_parse(file, text, line, &c, err, sizeof(err));
		gw_wipe_free(text);
		if (rc < 0) {
			gw_ctl_err(r, "%s\n", err);
			status = EXIT_SYNTAX;
		} else if (rc > 0) {
			c.stats |= q.stats;
			c.json |= q.json;
			c.pretty |= q.pretty;
			status = apply(ctl, &c, file, r, &changed, &ev);
		}
		explicit_bzero(&c, sizeof(c)); /* a state's key */
	}
	if (status == 0 && changed)
		status = commit(ctl, changed, r, &ev);
	if (status == 0)
		gw_db_commit(&ctl->db);
	else
		gw_db_rollback(&ctl->db);
	ctl->db.cfg.file = "espgwctl"; /* q.batch goes with the request */
	if (status != 0 && changed)
		gw_ctl_err(r, "%s: nothing changed\n", file);
	gw_wipe_free(ev.e);
	gw_ctl_status(r, status);
}

void
gw_ctl_handle(void *arg, const char *req, size_t len, struct gw_ctl_reply *r)
{
	struct gw_ctl *ctl = arg;

	pthread_mutex_lock(&ctl->lock);
	handle(ctl, req, len, r);
	pthread_mutex_unlock(&ctl->lock);
}
