/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The neighbour table (RFC 826 ARP results and `neigh add` entries),
 * shared by all workers: readers never lock; the rare writer takes a
 * spinlock; each entry is one 64-bit word, so a reader sees a MAC whole. */

#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "control/neigh.h"

/* One key for both families: an IPv4 address in the first four bytes,
 * an IPv6 one (RFC 4861 neighbour discovery results) in all sixteen. */
struct neigh_key {
	uint8_t ip[16];
	uint16_t port;
	uint8_t family; /* 4 or 6 */
	uint8_t pad;
};

static struct neigh_key
key4(uint16_t port, uint32_t ip)
{
	struct neigh_key k = { .port = port, .family = 4 };

	memcpy(k.ip, &ip, sizeof(ip));
	return k;
}

static struct neigh_key
key6(uint16_t port, const uint8_t ip[16])
{
	struct neigh_key k = { .port = port, .family = 6 };

	memcpy(k.ip, ip, sizeof(k.ip));
	return k;
}

static uint64_t
mac_word(const struct rte_ether_addr *mac)
{
	uint64_t w = 0;

	memcpy(&w, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return w;
}

int
gw_neigh_init(struct gw_neigh *n, unsigned int max)
{
	struct rte_hash_parameters hp = {
		.name = "gw_neigh",
		.entries = max,
		.key_len = sizeof(struct neigh_key),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	rte_spinlock_init(&n->lock);
	n->h = rte_hash_create(&hp);
	n->entry = rte_zmalloc("gw_neigh", sizeof(uint64_t) * (max + 1),
			       RTE_CACHE_LINE_SIZE);
	if (n->h == NULL || n->entry == NULL) {
		gw_neigh_fini(n);
		return -1;
	}
	return 0;
}

void
gw_neigh_fini(struct gw_neigh *n)
{
	rte_hash_free(n->h);
	rte_free(n->entry);
	n->h = NULL;
	n->entry = NULL;
}

static void
neigh_set(struct gw_neigh *n, const struct neigh_key *kp,
	  const struct rte_ether_addr *mac, bool is_static)
{
	const struct neigh_key k = *kp;
	uint64_t w = mac_word(mac) | GW_NEIGH_VALID |
		     (is_static ? GW_NEIGH_STATIC : 0);
	int32_t pos;

	rte_spinlock_lock(&n->lock);
	pos = rte_hash_lookup(n->h, &k);
	if (pos < 0)
		pos = rte_hash_add_key(n->h, &k);
	/* a static entry is never overwritten by what ARP says */
	if (pos >= 0 && (is_static || !(n->entry[pos] & GW_NEIGH_STATIC)) &&
	    n->entry[pos] != w) {
		__atomic_store_n(&n->entry[pos], w, __ATOMIC_RELEASE);
		__atomic_store_n(&n->changes, n->changes + 1, __ATOMIC_RELEASE);
	}
	rte_spinlock_unlock(&n->lock);
}

static void
neigh_forget(struct gw_neigh *n, const struct neigh_key *k)
{
	int32_t pos;

	rte_spinlock_lock(&n->lock);
	pos = rte_hash_lookup(n->h, k);
	if (pos >= 0 && n->entry[pos] != 0) {
		__atomic_store_n(&n->entry[pos], 0, __ATOMIC_RELEASE);
		__atomic_store_n(&n->changes, n->changes + 1, __ATOMIC_RELEASE);
	}
	rte_spinlock_unlock(&n->lock);
}

static bool
neigh_get(const struct gw_neigh *n, const struct neigh_key *k,
	  struct rte_ether_addr *mac)
{
	int32_t pos = rte_hash_lookup(n->h, k);
	uint64_t w;

	if (pos < 0)
		return false;
	w = __atomic_load_n(&n->entry[pos], __ATOMIC_ACQUIRE);
	if (!(w & GW_NEIGH_VALID))
		return false;
	memcpy(mac->addr_bytes, &w, RTE_ETHER_ADDR_LEN);
	return true;
}

void
gw_neigh_set(struct gw_neigh *n, uint16_t port, uint32_t ip,
	     const struct rte_ether_addr *mac, bool is_static)
{
	struct neigh_key k = key4(port, ip);

	neigh_set(n, &k, mac, is_static);
}

void
gw_neigh_forget(struct gw_neigh *n, uint16_t port, uint32_t ip)
{
	struct neigh_key k = key4(port, ip);

	neigh_forget(n, &k);
}

bool
gw_neigh_get(const struct gw_neigh *n, uint16_t port, uint32_t ip,
	     struct rte_ether_addr *mac)
{
	struct neigh_key k = key4(port, ip);

	return neigh_get(n, &k, mac);
}

void
gw_neigh_set6(struct gw_neigh *n, uint16_t port, const uint8_t ip[16],
	      const struct rte_ether_addr *mac, bool is_static)
{
	struct neigh_key k = key6(port, ip);

	neigh_set(n, &k, mac, is_static);
}

void
gw_neigh_forget6(struct gw_neigh *n, uint16_t port, const uint8_t ip[16])
{
	struct neigh_key k = key6(port, ip);

	neigh_forget(n, &k);
}

bool
gw_neigh_get6(const struct gw_neigh *n, uint16_t port, const uint8_t ip[16],
	      struct rte_ether_addr *mac)
{
	struct neigh_key k = key6(port, ip);

	return neigh_get(n, &k, mac);
}
