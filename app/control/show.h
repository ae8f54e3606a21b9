/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_SHOW_H
#define ESPGW_CONTROL_SHOW_H

/* Listings as `ip` prints them: states, policies, routes, neighbours,
 * addresses and links, in iproute2's text byte for byte where espgw has
 * the same information, or as one JSON array (iproute2's -j, and -p for
 * its pretty layout). Pure formatting into a FILE: no sockets, no ports.
 *
 * What espgw cannot know is left out rather than made up (docs of each
 * lister below). iproute2 prints xfrm objects as text even under -j; the
 * JSON keys of states and policies are espgw's, taken from the words of
 * the text and the fields of the kernel's xfrm structs. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "espgw/esp.h"
#include "control/tables.h"
#include "lang/config.h"

/* An address of either family as ip prints it (buf: INET6_ADDRSTRLEN). */
const char *gw_show_ip(const struct espgw_ip_addr *a, char *buf);

struct gw_show_opts {
	bool stats;  /* -s */
	bool json;   /* -j */
	bool pretty; /* -p: with json, iproute2's 4-space layout */
	bool keys;   /* states: print keys (get/list to root), else hidden */
	/* states: each SA's state as configured, for its lifetimes (NULL:
	 * none, printed as unlimited) */
	const struct espgw_cfg_state *const *states;
};

/* `ip [-s] xfrm state list` (xfrm_state_info_print). Live SAs: the
 * sequence number sent last and the counters are read now. Lifetimes
 * from o->states: a limit of 0 as (INF), times as localtime, "-" for
 * none, as iproute2 prints them. An inbound SA's replay window
 * (highest sequence number and bitmap) is not exported by espgw/esp.h:
 * its seq is the configured replay-seq and its bitmap is printed empty.
 * Without keys the key is "<<Keys hidden>>" (`ip xfrm state list
 * nokeys`); under -j it is left out. With -s a line "drops:" follows
 * the stats when espgw counted a drop of a reason xfrm has no name for. */
void gw_show_states(FILE *f, const struct gw_show_opts *o,
		    const struct espgw_sa *const *sas, unsigned int n);

/* `ip [-s] xfrm policy list` (xfrm_policy_info_print, xfrm_tmpl_print).
 * index[i] is the index of p[i] (printed with -s, as the kernel's); NULL
 * gives ((i + 1) << 3) | dir, the kernel's layout of an index. */
void gw_show_policies(FILE *f, const struct gw_show_opts *o,
		      const struct espgw_cfg_policy *const *p,
		      const uint32_t *index, unsigned int n);

/* `ip route list` (print_route): the routes of the main table, with the
 * connected route the kernel adds for each address shorter than /32
 * ("proto kernel scope link src A"; one per prefix and port, as a
 * secondary address adds none), sorted as the kernel's FIB dumps them
 * (by prefix, then longest first). Returns 0, or -1 on no memory. */
int gw_show_routes(FILE *f, const struct gw_show_opts *o,
		   const struct espgw_cfg_route *const *r, unsigned int nr,
		   const struct espgw_cfg_addr *const *a, unsigned int na);

/* `ip -6 route list` (print_route): the main table's IPv6 routes,
 * metric 1024 and pref medium as ip6_route_add makes them, with the
 * prefix route (proto kernel metric 256) the kernel adds for each
 * address shorter than /128, in fib6's dump order. espgw adds no
 * link-local (fe80::/64) or multicast routes: it has neither. Returns
 * 0, or -1 on no memory. */
int gw_show_routes6(FILE *f, const struct gw_show_opts *o,
		    const struct espgw_cfg_route6 *const *r, unsigned int nr,
		    const struct espgw_cfg_addr6 *const *a, unsigned int na);

/* `ip neigh list` (print_neigh): static entries, PERMANENT; the IPv4
 * ones, then the IPv6 ones (ne6), as one list. */
void gw_show_neighs(FILE *f, const struct gw_show_opts *o,
		    const struct espgw_cfg_neigh *const *ne, unsigned int n,
		    const struct espgw_cfg_neigh6 *const *ne6, unsigned int n6);

/* ifs[0..nifs-1] are table-set ports (unused slots skipped), listed by
 * port id, which stands for the ifindex. A used port is up (espgw runs
 * only the ports `link set ... up` names); carrier[i] says whether ifs[i]
 * has its link (LOWER_UP, state UP) or not (NO-CARRIER, state DOWN);
 * carrier NULL means all have. */

/* `ip addr list` (print_linkinfo, print_addrinfo): each port with
 * addresses, then its IPv4 addresses (a), scope global, then its IPv6
 * ones (a6), scope global or link; lifetimes forever. An address is
 * listed under the port of its name. No qdisc, no qlen, and none of
 * the link-local addresses Linux would make by itself. */
void gw_show_addrs(FILE *f, const struct gw_show_opts *o,
		   const struct gw_iface *ifs, const bool *carrier,
		   unsigned int nifs, const struct espgw_cfg_addr *const *a,
		   unsigned int n, const struct espgw_cfg_addr6 *const *a6,
		   unsigned int n6);

/* `ip link list` (print_linkinfo): name, flags, mtu, state, link/ether;
 * an entry with a name that is not used is a port not set up (DOWN).
 * -s adds nothing: port counters are the caller's (rte_eth_stats). */
void gw_show_links(FILE *f, const struct gw_show_opts *o,
		   const struct gw_iface *ifs, const bool *carrier,
		   unsigned int nifs);

#endif /* ESPGW_CONTROL_SHOW_H */
