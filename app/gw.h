/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_APP_GW_H
#define ESPGW_APP_GW_H

/* The gateway: tables built by the control thread from the configuration
 * (immutable once published: a change is a new set and a pointer swap),
 * the neighbour table the workers share, and each worker's own state. */

#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_acl.h>
#include <rte_ether.h>
#include <rte_ip_frag.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "espgw/esp.h"
#include "config.h"

/* RFC 792 / RFC 1191 codes the gateway sends. */
enum {
	GW_ICMP_DEST_UNREACH = 3,
	GW_ICMP_CODE_NET_UNREACH = 0,
	GW_ICMP_CODE_FRAG_NEEDED = 4,
	GW_ICMP_TIME_EXCEEDED = 11,
};

#define GW_MAX_PORTS 16
#define GW_MAX_WORKERS 16
#define GW_MAX_ADDRS 64
#define GW_BURST 32
#define GW_ARP_PENDING 64 /* packets a worker holds for ARP */

/* Gateway events and drops, each a per-worker counter with a name. */
/* Gateway events and packet fates, each a per-worker counter with a
 * name. One packet, one fate (docs/architecture.md, "Accounting"):
 *   rx + arp-requested + icmp-errors-sent + fragments-made
 *     = tx + drop-* + arp-replies-received + fragmented + fragments-merged
 *       + held-arp-queue + held-reassembly
 * The rest (forwarded, encrypted, ...) count events on the way and are
 * no fate of their own. drop-esp-in and drop-esp-out are not counted
 * here: they are the sums of the ESP library's reasons (stats.c). */
#define GW_FOREACH_COUNTER(_)                                                 \
	_(RX, "rx")                                                           \
	_(TX, "tx")                                                           \
	_(FORWARDED, "forwarded")                                             \
	_(ENCRYPTED, "encrypted")                                             \
	_(DECRYPTED, "decrypted")                                             \
	_(ARP_REPLIED, "arp-replied")                                         \
	_(ARP_REQUESTED, "arp-requested")                                     \
	_(ARP_LEARNED, "arp-learned")                                         \
	_(ARP_REPLIES_RECEIVED, "arp-replies-received")                       \
	_(ICMP_ECHO_REPLIED, "icmp-echo-replied")                             \
	_(ICMP_ERRORS_SENT, "icmp-errors-sent")                               \
	_(ICMP_RATELIMITED, "icmp-errors-ratelimited")                        \
	_(ALLOC_FAILED, "alloc-failed")                                       \
	_(FRAGMENTED, "fragmented")                                           \
	_(FRAGMENTS_MADE, "fragments-made")                                   \
	_(REASSEMBLED, "reassembled")                                         \
	_(FRAGS_MERGED, "fragments-merged")                                   \
	_(SPD_CACHE_HITS, "policy-cache-hits")                                \
	_(SPD_CACHE_MISSES, "policy-cache-misses")                            \
	_(HELD_ARP, "held-arp-queue")                                         \
	_(HELD_REASSEMBLY, "held-reassembly")                                 \
	_(DROP_NOT_FOR_US, "drop-l2-not-for-us")                              \
	_(DROP_L2_PROTO, "drop-l2-unknown-proto")                             \
	_(DROP_IPV6, "drop-ipv6-unsupported")                                 \
	_(DROP_INNER_IPV6, "drop-inner-ipv6-unsupported")                     \
	_(DROP_BAD_ARP, "drop-bad-arp")                                       \
	_(DROP_BAD_IP, "drop-bad-ip-header")                                  \
	_(DROP_TTL, "drop-ttl-exceeded")                                      \
	_(DROP_NO_ROUTE, "drop-no-route")                                     \
	_(DROP_ARP_UNRESOLVED, "drop-arp-unresolved")                         \
	_(DROP_ARP_QUEUE_FULL, "drop-arp-queue-full")                         \
	_(DROP_POLICY_BLOCK, "drop-policy-block")                             \
	_(DROP_NO_SA, "drop-out-no-state")                                    \
	_(DROP_IN_NO_POLICY, "drop-in-no-policy")                             \
	_(DROP_IN_TMPL_MISMATCH, "drop-in-tmpl-mismatch")                     \
	_(DROP_UNPROTECTED, "drop-in-unprotected")                            \
	_(DROP_LOCAL_UNHANDLED, "drop-local-unhandled")                       \
	_(DROP_FRAG_NEEDED, "drop-frag-needed")                               \
	_(DROP_FRAG_FAILED, "drop-frag-failed")                               \
	_(DROP_REASSEMBLY, "drop-reassembly")                                 \
	_(DROP_NO_MBUF, "drop-no-mbuf")                                       \
	_(DROP_NO_HEADROOM, "drop-no-headroom")                               \
	_(DROP_TX_FULL, "drop-tx-full")

enum gw_counter {
#define GW_CNT_ENUM_(n, s) GW_##n,
	GW_FOREACH_COUNTER(GW_CNT_ENUM_)
#undef GW_CNT_ENUM_
	GW_CNT_MAX
};

const char *gw_counter_name(enum gw_counter c);

/* One port as the data path sees it. */
struct gw_iface {
	bool used;
	uint16_t port;
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint32_t addr;      /* first address: source of ICMP errors */
	char name[ESPGW_CFG_PORT_LEN];
};

/* Where a route sends a packet. */
struct gw_nexthop {
	uint16_t port;
	uint32_t gw;        /* next-hop address, 0 = on-link */
	uint32_t src;       /* preferred source, 0 = the port's */
};

/* A policy as the data path uses it: what a packet needs in the first
 * cache line (at 10,000 policies every policy line is cold). */
struct gw_policy {
	struct espgw_sa *sa;    /* dir out with tmpl: the SA it protects with */
	uint16_t max_inner;     /* dir out with tmpl: largest inner packet */
	uint8_t action;         /* enum espgw_cfg_action */
	bool has_tmpl;
	uint32_t reqid, tmpl_src, tmpl_dst; /* template, as in cfg */
	struct espgw_cfg_policy cfg; /* as configured */
} __rte_cache_aligned;

/* A policy selector compiled for a linear scan. */
struct gw_sel {
	uint32_t src, src_mask, dst, dst_mask; /* network order */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto;                          /* 0 = any */
};

/* Up to this many policies a direction is matched by a scan, which
 * beats rte_acl's trie for a handful of rules; above, by rte_acl. */
#define GW_SPD_LINEAR_MAX 8

/* One compiled direction of the policy database. */
struct gw_spd {
	struct rte_acl_ctx *acl;   /* when nb > GW_SPD_LINEAR_MAX */
	struct gw_policy **pol;    /* in xfrm order; ACL userdata - 1 */
	struct gw_sel sel[GW_SPD_LINEAR_MAX]; /* when nb <= the max */
	unsigned int nb;
	bool l4;    /* some selector names a protocol or ports */
};

enum gw_dir { GW_OUT, GW_IN, GW_FWD, GW_NB_DIRS };

/* Everything built from one configuration; read-only once published. */
struct gw_tables {
	struct gw_iface ifaces[GW_MAX_PORTS];
	uint32_t local[GW_MAX_ADDRS];     /* our addresses */
	uint16_t local_port[GW_MAX_ADDRS];
	unsigned int nb_local;
	struct rte_lpm *lpm;
	struct gw_nexthop *nh;
	unsigned int nb_nh;
	int default_nh;                   /* rte_lpm has no /0: -1 = none */
	struct gw_spd spd[GW_NB_DIRS];
	struct gw_policy *policies;
	unsigned int nb_policies;
	struct espgw_sad *sad;
	struct espgw_sa **sas;
	unsigned int nb_sas;
	uint64_t generation;
};

/* Neighbour (ARP) table shared by the workers: lock-free lookups,
 * writers serialised by a spinlock. Static entries are never replaced. */
struct gw_neigh {
	struct rte_hash *h;
	uint64_t *entry; /* by hash position: MAC | GW_NEIGH_* flags */
	rte_spinlock_t lock;
};

#define GW_NEIGH_VALID (UINT64_C(1) << 48)
#define GW_NEIGH_STATIC (UINT64_C(1) << 49)

struct gw_pending {
	struct rte_mbuf *m;  /* L3 packet waiting for its next hop's MAC */
	uint32_t nh_ip;
	uint16_t port;
	uint8_t tries;
	uint64_t next_try;   /* TSC */
};

struct gw_spd_cache;

/* A worker's own state: never touched by another thread, but for the
 * counters, which the control thread reads. */
struct gw_worker {
	unsigned int id;
	unsigned int lcore;
	struct espgw_worker *esp;
	struct gw_pending pending[GW_ARP_PENDING];
	unsigned int nb_pending;
	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row death_row;
	struct gw_spd_cache *spd_cache; /* policy answers (spd.h) */
	uint64_t icmp_tokens, icmp_last;
	uint64_t cnt[GW_CNT_MAX];
	volatile uint64_t epoch;  /* bumped each loop: table swap grace */
} __rte_cache_aligned;

/* The whole gateway. */
struct gw {
	struct gw_tables *volatile tables;
	struct gw_neigh neigh;
	struct gw_worker workers[GW_MAX_WORKERS];
	unsigned int nb_workers;
	struct rte_mempool *pool, *indirect_pool;
	struct rte_mempool *jumbo_pool; /* reassembled datagrams up to 64 KB */
	uint16_t ports[GW_MAX_PORTS];
	unsigned int nb_ports;
	unsigned int poll_idle_us;
	volatile bool quit;
};

/* rte_pktmbuf_append for a fresh single-segment mbuf, in a form GCC 12's
 * bounds checker follows (it misreads the library inline). */
static inline void *
gw_mbuf_put(struct rte_mbuf *m, uint16_t len)
{
	uint16_t off = m->data_len;

	if (len > rte_pktmbuf_tailroom(m))
		return NULL;
	m->data_len += len;
	m->pkt_len += len;
	return rte_pktmbuf_mtod_offset(m, uint8_t *, off);
}

/* Dotted quad of a network-order address, for messages (buf: at least
 * INET_ADDRSTRLEN bytes). */
static inline const char *
gw_ip_str(uint32_t be, char *buf)
{
	struct in_addr a = { .s_addr = be };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Longest-prefix match for a destination in network byte order. */
static inline const struct gw_nexthop *
gw_route(const struct gw_tables *t, uint32_t dst)
{
	uint32_t idx;

	if (rte_lpm_lookup(t->lpm, rte_be_to_cpu_32(dst), &idx) == 0)
		return &t->nh[idx];
	return t->default_nh >= 0 ? &t->nh[t->default_nh] : NULL;
}

/* 224.0.0.0/4 (RFC 5771); DPDK's RTE_IS_IPV4_MCAST shifts an int past
 * its sign bit, which UBSan rightly refuses. */
static inline bool
gw_is_mcast(uint32_t be)
{
	return (rte_be_to_cpu_32(be) >> 28) == 0xe;
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

/* tables.c: build the tables from a parsed configuration; on error
 * writes "<file>:<line>: <what>" to err and returns NULL. */
struct gw_tables *gw_tables_build(const struct espgw_cfg *cfg,
				  unsigned int nb_workers, char *err,
				  size_t errlen);
void gw_tables_free(struct gw_tables *t);
/* Resolve "net_tap0" / "port3" / a PCI name to a port id, or -1. */
int gw_port_by_name(const char *name);

/* neigh.c */
int gw_neigh_init(struct gw_neigh *n, unsigned int max);
void gw_neigh_fini(struct gw_neigh *n);
/* Learn or set an entry; static entries win over learned ones. */
void gw_neigh_set(struct gw_neigh *n, uint16_t port, uint32_t ip,
		  const struct rte_ether_addr *mac, bool is_static);
/* The MAC of ip on port, or false when not known. */
bool gw_neigh_get(const struct gw_neigh *n, uint16_t port, uint32_t ip,
		  struct rte_ether_addr *mac);

/* worker.c */
int gw_worker_main(void *arg);
struct gw_worker_arg {
	struct gw *gw;
	struct gw_worker *w;
};

/* stats.c */
void gw_stats_print(struct gw *gw, FILE *f);
int gw_stats_write(struct gw *gw, const char *path);

#endif /* ESPGW_APP_GW_H */
