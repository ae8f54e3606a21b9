/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_NEIGH_H
#define ESPGW_CONTROL_NEIGH_H

/* The neighbour (ARP and IPv6 neighbour discovery) table, shared by the workers
 * and the control thread: lock-free lookups, writers (workers learning from
 * ARP, the control thread adding `neigh add` entries) serialised by a spinlock.
 * Static entries are never replaced by what ARP says. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_spinlock.h>

struct rte_hash;

struct gw_neigh {
	struct rte_hash *h;
	uint64_t *entry; /* by hash position: MAC | GW_NEIGH_* flags */
	rte_spinlock_t lock;
	/* one more each time an entry's word changes: a worker keeps the
	 * next hops it resolved while this holds still */
	uint64_t changes;
};

#define GW_NEIGH_VALID (UINT64_C(1) << 48)
#define GW_NEIGH_STATIC (UINT64_C(1) << 49)

/* How many times an entry has changed (gw_neigh.changes). */
static inline uint64_t
gw_neigh_changes(const struct gw_neigh *n)
{
	return __atomic_load_n(&n->changes, __ATOMIC_ACQUIRE);
}

int gw_neigh_init(struct gw_neigh *n, unsigned int max);
void gw_neigh_fini(struct gw_neigh *n);
/* Learn or set an entry; static entries win over learned ones. */
void gw_neigh_set(struct gw_neigh *n, uint16_t port, uint32_t ip,
		  const struct rte_ether_addr *mac, bool is_static);
/* Forget an entry, static or learned (it stays in the hash, invalid, so
 * readers never see a freed slot); ARP may learn it again. */
void gw_neigh_forget(struct gw_neigh *n, uint16_t port, uint32_t ip);
/* The MAC of ip on port, or false when not known. */
bool gw_neigh_get(const struct gw_neigh *n, uint16_t port, uint32_t ip,
		  struct rte_ether_addr *mac);
/* The same for IPv6 neighbours (RFC 4861), in the same table. */
void gw_neigh_set6(struct gw_neigh *n, uint16_t port, const uint8_t ip[16],
		   const struct rte_ether_addr *mac, bool is_static);
void gw_neigh_forget6(struct gw_neigh *n, uint16_t port, const uint8_t ip[16]);
bool gw_neigh_get6(const struct gw_neigh *n, uint16_t port,
		   const uint8_t ip[16], struct rte_ether_addr *mac);

#endif /* ESPGW_CONTROL_NEIGH_H */
