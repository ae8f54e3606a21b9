/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_TABLES_H
#define ESPGW_CONTROL_TABLES_H

/* A table set: everything the control plane builds from a configuration
 * (ports, addresses, routes, SAs, policies) for the workers to read.
 * Immutable once published: a change is a new set and a swap
 * (control/publish.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_ether.h>
#include <rte_lpm.h>

#include "espgw/esp.h"
#include "control/spd.h"
#include "lang/config.h"

#define GW_MAX_PORTS 16
#define GW_MAX_ADDRS 64

/* One port as the data path sees it. */
struct gw_iface {
	bool used;
	uint16_t port;
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint32_t addr; /* first address: source of ICMP errors */
	char name[ESPGW_CFG_PORT_LEN];
};

/* Where a route sends a packet. */
struct gw_nexthop {
	uint16_t port;
	uint32_t gw;  /* next-hop address, 0 = on-link */
	uint32_t src; /* preferred source, 0 = the port's */
};

struct gw_tables {
	struct gw_iface ifaces[GW_MAX_PORTS];
	uint32_t local[GW_MAX_ADDRS]; /* our addresses */
	uint16_t local_port[GW_MAX_ADDRS];
	unsigned int nb_local;
	struct rte_lpm *lpm;
	struct gw_nexthop *nh;
	unsigned int nb_nh;
	int default_nh; /* rte_lpm has no /0: -1 = none */
	struct gw_spd spd[GW_NB_DIRS];
	struct gw_policy *policies;
	unsigned int nb_policies;
	struct espgw_sad *sad;
	struct espgw_sa **sas;	 /* in configuration order */
	bool *fresh;		 /* sas[i] made by this build */
	struct espgw_sa **by_id; /* by (SPI, dst, direction) */
	unsigned int nb_sas;
	uint64_t generation; /* a new number for every set */
};

/* Build a table set from a parsed configuration for nb_workers; on
 * error writes "<file>:<line>: <what>" to err and returns NULL. An SA
 * of prev (the set now published, or NULL) that the configuration still
 * describes with the same parameters is taken over, not made again, so
 * its sequence numbers, replay window and counters go on; prev is not
 * changed. */
struct gw_tables *gw_tables_build(const struct espgw_cfg *cfg,
				  unsigned int nb_workers,
				  const struct gw_tables *prev, char *err,
				  size_t errlen);
/* Free a set and all its SAs. */
void gw_tables_free(struct gw_tables *t);
/* Free old once next has replaced it (after the grace period), but for
 * the SAs next took over. */
void gw_tables_retire(struct gw_tables *old, const struct gw_tables *next);

/* Resolve "net_tap0" / "port3" / a PCI name to a port id, or -1. */
int gw_port_by_name(const char *name);
/* The port a statement of set t names: by the name it has there (the
 * DPDK name, or the one `link set ... name` gave it), or -1. */
int gw_tables_port(const struct gw_tables *t, const char *name);

/* Longest-prefix match for a destination in network byte order. */
static inline const struct gw_nexthop *
gw_route(const struct gw_tables *t, uint32_t dst)
{
	uint32_t idx;

	if (rte_lpm_lookup(t->lpm, rte_be_to_cpu_32(dst), &idx) == 0)
		return &t->nh[idx];
	return t->default_nh >= 0 ? &t->nh[t->default_nh] : NULL;
}

/* Is a (network order) address one of ours? A handful of addresses:
 * a scan beats a hash. */
static inline bool
gw_is_local(const struct gw_tables *t, uint32_t a)
{
	for (unsigned int i = 0; i < t->nb_local; i++)
		if (t->local[i] == a)
			return true;
	return false;
}

/* Dotted quad of a network-order address, for messages (buf: at least
 * INET_ADDRSTRLEN bytes). */
static inline const char *
gw_ip_str(uint32_t be, char *buf)
{
	struct in_addr a = { .s_addr = be };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

#endif /* ESPGW_CONTROL_TABLES_H */
