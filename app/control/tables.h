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
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_ether.h>
#include <rte_lpm.h>
#include <rte_rib6.h>

#include "espgw/esp.h"
#include "control/reqids.h"
#include "control/spd.h"
#include "lang/config.h"

#define GW_MAX_PORTS 16
#define GW_MAX_ADDRS 64
/* distinct UDP ports of ours that states encapsulate ESP on */
#define GW_NATT_PORTS_MAX 16

/* One port as the data path sees it. */
struct gw_iface {
	bool used;
	uint16_t port;
	uint16_t mtu;
	struct rte_ether_addr mac;
	/* mac as the first 8 bytes of a frame to it read (gw_mac_word()),
	 * the low 48 bits */
	uint64_t mac_word;
	uint32_t addr; /* first address: source of ICMP errors */
	char name[ESPGW_CFG_PORT_LEN];
};

/* The first 8 bytes at p as a little-endian word: a frame's destination
 * MAC is its low 48 bits, on any CPU. */
static inline uint64_t
gw_mac_word(const void *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return rte_le_to_cpu_64(w);
}

/* Where a route sends a packet. */
struct gw_nexthop {
	uint16_t port;
	uint32_t gw;  /* next-hop address, 0 = on-link */
	uint32_t src; /* preferred source, 0 = the port's */
};

/* An IPv6 address of ours (`ip -6 addr add`), on one port. */
struct gw_local6 {
	uint8_t addr[16];
	uint8_t len;
	uint16_t port;
};

/* Where an IPv6 route sends a packet. */
struct gw_nexthop6 {
	uint16_t port;
	uint8_t gw[16];	 /* next hop, :: = on-link */
	uint8_t src[16]; /* preferred source, :: = the port's */
};

/* What an out policy's template resolves to in one table set: the SA
 * added last among those that satisfy it (NULL: none, and its packets
 * are dropped as drop-out-no-state) and the largest inner packet that
 * fits the tunnel's MTU. */
struct gw_bound {
	struct espgw_sa *sa;
	uint16_t max_inner;
	/* an inner IPv4 packet without DF that does not fit: its ESP packet
	 * is fragmented once made (outer IPv6, as Linux's xfrm6 output
	 * does), not the packet before encryption (RFC 4459 section 3) */
	bool frag_outer;
};

/* A set is made of parts, each built only when what it is made from
 * changed and otherwise handed on from the set before (the pointers are
 * then the same): the network (links, addresses, routes), each
 * direction of the policy database, the SAs, and the bindings of out
 * policies to SAs. So adding an SA builds neither a route table nor a
 * policy database. */
struct gw_tables {
	/* the network */
	struct gw_iface ifaces[GW_MAX_PORTS];
	uint16_t up[GW_MAX_PORTS]; /* the ports up, the workers poll */
	unsigned int nb_up;
	uint32_t local[GW_MAX_ADDRS]; /* our addresses */
	uint16_t local_port[GW_MAX_ADDRS];
	unsigned int nb_local;
	uint64_t local_bits; /* a bit of gw_local_bit() an address */
	struct rte_lpm *lpm;
	struct gw_nexthop *nh;
	unsigned int nb_nh;
	int default_nh; /* rte_lpm has no /0: -1 = none */
	/* the same for IPv6, the kernel's other stack: addresses, and the
	 * connected prefixes and routes in an rte_rib6 (a compact trie:
	 * rte_lpm6 and rte_fib6's trie take 32-64 MB each for their first
	 * level, and today only the gateway's own packets are routed) */
	struct gw_local6 local6[GW_MAX_ADDRS];
	unsigned int nb_local6;
	struct rte_rib6 *rib6;
	struct gw_nexthop6 *nh6;
	unsigned int nb_nh6;
	/* the policies, a direction each */
	struct gw_spd spd[GW_NB_DIRS];
	unsigned int nb_policies;
	/* the SAs, in the order of the configuration's states; the SAD is
	 * handed on and changed in place (gw_tables_commit) while it has
	 * room */
	struct espgw_sad *sad;
	struct espgw_sa **sas;
	unsigned int nb_sas;
	/* what this set changed of the one it was built from: the SAs it
	 * made, those of the other it dropped (freed when the other
	 * retires) and the SAD slots to reclaim then */
	struct espgw_sa **made, **gone;
	uint64_t *made_seq; /* made[i]'s state's order of adding */
	unsigned int nb_made, nb_gone;
	/* the out SAs by reqid: handed on like the SAD, changed at commit;
	 * rx_current: it holds this set's SAs already (built for it, or no
	 * SA changed) */
	struct gw_reqids *rx;
	bool rx_current;
	int32_t *slots;
	unsigned int nb_slots;
	/* SAs that go on with new limits, UDP ports or peer address (a
	 * NAT rebound followed), put on them at commit */
	struct gw_relimit {
		struct espgw_sa *sa;
		struct espgw_sa_limits limits;
		struct espgw_sa_encap encap;
		uint32_t peer; /* the far end: dst out, src in */
	} * relimit;
	unsigned int nb_relimit;
	/* the UDP ports ESP in UDP arrives on (RFC 3948 section 2.2): our
	 * end's port of each state with encapsulation, and how many name
	 * it (gw_natt_port) */
	struct gw_natt_port {
		rte_be16_t port;
		uint32_t refs;
	} natt[GW_NATT_PORTS_MAX];
	unsigned int nb_natt;
	/* out policy spd[GW_OUT].pol[i] protects with bound[i] */
	struct gw_bound *bound;
	uint64_t generation; /* a new number for every set */
};

/* One step of what a transaction did to the configuration's states, by
 * position (control/db.c logs them): replayed in order on the SAs of
 * the set before, which stand in the same order as the states, it
 * tells which SAs go on, which go and which are new. */
struct gw_state_op {
	enum { GW_STATE_ADD, GW_STATE_UPD, GW_STATE_DEL } op;
	unsigned int pos; /* ADD: appended, at the end */
};

/* What a change touched, for gw_tables_build: the parts made from it
 * are built anew. */
enum {
	GW_CHANGED_NET = 1u << 0, /* links, addresses, routes */
	GW_CHANGED_SA = 1u << 1,
	GW_CHANGED_POL_OUT = 1u << 2, /* then IN, FWD: GW_CHANGED_POL(dir) */
	GW_CHANGED_NEIGH = 1u << 5,
	GW_CHANGED_ALL = (1u << 6) - 1,
};
#define GW_CHANGED_POL(dir) (GW_CHANGED_POL_OUT << (dir))

struct gw_change {
	unsigned int what; /* GW_CHANGED_* */
	/* the configuration is the control socket's database (db.c): its
	 * twins refused as they came, its entries numbered in the order of
	 * adding (seq), so a policy direction may be derived from the base
	 * before (spd.h) instead of built */
	bool live;
	/* the log of the states, or NULL: then each state is matched to an
	 * SA of the set before by identity */
	const struct gw_state_op *ops;
	unsigned int nb_ops;
	/* a direction's base built in the background, to derive from: the
	 * build takes it over (and sets the pointer to NULL) */
	struct gw_spd *rebased[GW_NB_DIRS];
	/* some state may be dying (cfg->states[i].dying): templates then
	 * look past dying SAs; rebind: bind every out policy anew (a state
	 * began dying) */
	bool any_dying, rebind;
};

/* Build a table set from a parsed configuration for nb_workers (each
 * inbound SA's window owned by runs as the map spread says, by all of
 * them; NULL: by one at a time); on
 * error writes "<file>:<line>: <what>" to err and returns NULL. prev is
 * the set now published, or NULL (then everything is built, as with chg
 * NULL). Parts of prev that nothing chg touched is made into are taken
 * over as they are; an SA of prev that the configuration still
 * describes with the same parameters is taken over, not made again, so
 * its sequence numbers, replay window and counters go on. prev is not
 * changed: a set that is not published is undone with
 * gw_tables_discard(). */
struct gw_tables *gw_tables_build(const struct espgw_cfg *cfg,
				  unsigned int nb_workers,
				  const struct espgw_replay_map *spread,
				  const struct gw_tables *prev,
				  struct gw_change *chg, char *err,
				  size_t errlen);
/* Just before t replaces prev: make what they share (the SAD) what t
 * says. Cannot fail. */
void gw_tables_commit(struct gw_tables *t, const struct gw_tables *prev);
/* Undo a set that was built from prev and not published. */
void gw_tables_discard(struct gw_tables *t, const struct gw_tables *prev);
/* Free a set and all its SAs. */
void gw_tables_free(struct gw_tables *t);
/* Free old once next, built from it, has replaced it (after the grace
 * period): the SAs next dropped and the parts it did not take over. */
void gw_tables_retire(struct gw_tables *old, struct gw_tables *next);

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

/* An IPv4 address's bit in gw_tables.local_bits (Fibonacci hashing). */
static inline uint64_t
gw_local_bit(uint32_t a)
{
	return UINT64_C(1) << ((a * UINT32_C(0x9e3779b1)) >> 26);
}

/* Is a (network order) address one of ours? A handful of addresses:
 * a scan beats a hash, behind a one-word filter that answers "no" for
 * the packets passing through. */
static inline bool
gw_is_local(const struct gw_tables *t, uint32_t a)
{
	if (!(t->local_bits & gw_local_bit(a)))
		return false;
	for (unsigned int i = 0; i < t->nb_local; i++)
		if (t->local[i] == a)
			return true;
	return false;
}

/* ::, the unspecified address (RFC 4291 section 2.5.2): a route's
 * on-link gateway, no preferred source, an asker without an address. */
static inline bool
gw_ip6_unspec(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, sizeof(zero)) == 0;
}

/* The index of an IPv6 address of ours in t->local6, or -1. */
static inline int
gw_local6(const struct gw_tables *t, const uint8_t a[16])
{
	for (unsigned int i = 0; i < t->nb_local6; i++)
		if (memcmp(t->local6[i].addr, a, 16) == 0)
			return (int)i;
	return -1;
}

/* The first IPv6 address of ours on port (the source of what the
 * gateway says there), or NULL. */
static inline const uint8_t *
gw_port_addr6(const struct gw_tables *t, uint16_t port)
{
	for (unsigned int i = 0; i < t->nb_local6; i++)
		if (t->local6[i].port == port)
			return t->local6[i].addr;
	return NULL;
}

/* Longest-prefix match for an IPv6 destination. */
static inline const struct gw_nexthop6 *
gw_route6(const struct gw_tables *t, const uint8_t dst[16])
{
	struct rte_rib6_node *n =
		t->rib6 != NULL ? rte_rib6_lookup(t->rib6, dst) : NULL;
	uint64_t idx;

	if (n == NULL || rte_rib6_get_nh(n, &idx) != 0)
		return NULL;
	return &t->nh6[idx];
}

/* An SA's end, of either family: one of ours? */
static inline bool
gw_is_local_addr(const struct gw_tables *t, const struct espgw_ip_addr *a)
{
	return a->family == AF_INET6 ? gw_local6(t, a->v6) >= 0
				     : gw_is_local(t, a->v4);
}

/* Is there a route to a, of either family? */
static inline bool
gw_has_route_to(const struct gw_tables *t, const struct espgw_ip_addr *a)
{
	return a->family == AF_INET6 ? gw_route6(t, a->v6) != NULL
				     : gw_route(t, a->v4) != NULL;
}

static inline bool
gw_addr_eq(const struct espgw_ip_addr *a, const struct espgw_ip_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == AF_INET6 ? memcmp(a->v6, b->v6, 16) == 0
				     : a->v4 == b->v4;
}

/* Does ESP in UDP arrive on this (network order) port of ours? */
static inline bool
gw_natt_port(const struct gw_tables *t, rte_be16_t port)
{
	for (unsigned int i = 0; i < t->nb_natt; i++)
		if (t->natt[i].port == port)
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
