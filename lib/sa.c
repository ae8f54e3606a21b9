/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* SA life cycle: everything decided once, when the SA is made. */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "life.h"
#include "sa.h"

const char *
espgw_sa_params_check(const struct espgw_sa_params *p)
{
	if (p->dir != ESPGW_SA_OUT && p->dir != ESPGW_SA_IN)
		return "direction must be in or out";
	if (p->spi == 0)
		return "SPI 0 is reserved (RFC 4303 section 2.1)";
	if ((p->src.family != AF_INET && p->src.family != AF_INET6) ||
	    p->dst.family != p->src.family)
		return "tunnel endpoints must be both IPv4 or both IPv6";
	if (p->key_len != 16 + ESPGW_GCM_SALT_LEN &&
	    p->key_len != 24 + ESPGW_GCM_SALT_LEN &&
	    p->key_len != 32 + ESPGW_GCM_SALT_LEN)
		return "rfc4106 key must be 20, 28 or 36 bytes (AES key + "
		       "4-byte salt)";
	if (p->icv_len != 8 && p->icv_len != 12 && p->icv_len != 16)
		return "ICV must be 64, 96 or 128 bits";
	if (p->replay_window > ESPGW_REPLAY_WINDOW_MAX)
		return "replay window too large";
	if (p->esn && p->replay_window == 0 && p->dir == ESPGW_SA_IN)
		return "ESN needs a replay window (as xfrm requires)";
	if (p->replay_owners > 1) {
		if (p->replay_owners > ESPGW_REPLAY_OWNERS_MAX ||
		    !rte_is_power_of_2(p->replay_owners))
			return "replay owners must be a power of two from 2 "
			       "to 32";
		if (p->replay_owners > RTE_MAX(p->nb_workers, 1))
			return "replay owners must not outnumber the workers";
		if (p->replay_shared)
			return "replay owners and a shared window exclude "
			       "each other";
		if (p->replay_window == 0 && p->dir == ESPGW_SA_IN)
			return "replay owners need a replay window";
		if (p->replay_map.runs > ESPGW_REPLAY_MAP_MAX ||
		    (p->replay_map.runs != 0 &&
		     !rte_is_power_of_2(p->replay_map.runs)))
			return "replay owner map runs must be a power of two "
			       "up to 32";
		for (unsigned int i = 0; i < p->replay_map.runs; i++)
			if (p->replay_map.owner[i] >= p->replay_owners)
				return "replay owner map names a worker past "
				       "the owners";
	} else if (p->replay_map.runs != 0) {
		return "a replay owner map needs replay owners";
	}
	if (!p->esn && (p->oseq > UINT32_MAX || p->iseq > UINT32_MAX))
		return "sequence number above 32 bits without ESN";
	if (p->encap.udp && (p->encap.sport == 0 || p->encap.dport == 0))
		return "UDP encapsulation needs ports other than 0";
	/* Linux has it (esp6 with a checksummed UDP header, RFC 8200
	 * section 8.1); NAT66 is rare enough that espgw does not yet */
	if (p->encap.udp && p->dst.family == AF_INET6)
		return "ESP in UDP over IPv6 is not supported";
	return NULL;
}

static enum espgw_key_size
key_size(uint8_t key_len)
{
	switch (key_len - ESPGW_GCM_SALT_LEN) {
	case 16: return ESPGW_AES128;
	case 24: return ESPGW_AES192;
	default: return ESPGW_AES256;
	}
}

/* Each kind with and without byte and packet limits (lft: an SA with
 * none never touches its shared counters) and by outer framing, as a
 * table [esn][lft][framing] (outbound) or [replay kind][lft][udp]
 * (inbound: the outer family is the packet's, found before the SA). */
enum { OUTER_ESP4, OUTER_UDP4, OUTER_ESP6, OUTER_KINDS };
#define OUTB(number, seal)                                                     \
	{                                                                      \
		.dir = ESPGW_SA_OUT, .outb_number = number, .outb_seal = seal  \
	}
#define OUTB_KINDS(number)                                                     \
	{                                                                      \
		[OUTER_ESP4] = OUTB(number, espgw_outb_seal_esp),              \
		[OUTER_UDP4] = OUTB(number, espgw_outb_seal_udp),              \
		[OUTER_ESP6] = OUTB(number, espgw_outb_seal_esp6),             \
	}
static const struct espgw_sa_ops outb_ops[2][2][OUTER_KINDS] = {
	{ OUTB_KINDS(espgw_outb_number_seq32),
	  OUTB_KINDS(espgw_outb_number_seq32_lft) },
	{ OUTB_KINDS(espgw_outb_number_esn),
	  OUTB_KINDS(espgw_outb_number_esn_lft) },
};
#undef OUTB_KINDS
#undef OUTB

enum { NO_REPLAY, REPLAY, REPLAY_ESN, CLAIM, CLAIM_ESN, INB_KINDS };
#define INB(prepare, open)                                                     \
	{                                                                      \
		.dir = ESPGW_SA_IN, .inb_prepare = prepare, .inb_open = open   \
	}
static const struct espgw_sa_ops inb_ops[INB_KINDS][2][2] = {
	[NO_REPLAY] = { { INB(espgw_inb_prepare_no_replay,
			      espgw_inb_open_no_replay),
			  INB(espgw_inb_prepare_no_replay_udp,
			      espgw_inb_open_no_replay_udp) },
			{ INB(espgw_inb_prepare_no_replay,
			      espgw_inb_open_no_replay_lft),
			  INB(espgw_inb_prepare_no_replay_udp,
			      espgw_inb_open_no_replay_lft_udp) } },
	[REPLAY] = { { INB(espgw_inb_prepare_replay, espgw_inb_open_replay),
		       INB(espgw_inb_prepare_replay_udp,
			   espgw_inb_open_replay_udp) },
		     { INB(espgw_inb_prepare_replay, espgw_inb_open_replay_lft),
		       INB(espgw_inb_prepare_replay_udp,
			   espgw_inb_open_replay_lft_udp) } },
	[REPLAY_ESN] = { { INB(espgw_inb_prepare_replay_esn,
			       espgw_inb_open_replay),
			   INB(espgw_inb_prepare_replay_esn_udp,
			       espgw_inb_open_replay_udp) },
			 { INB(espgw_inb_prepare_replay_esn,
			       espgw_inb_open_replay_lft),
			   INB(espgw_inb_prepare_replay_esn_udp,
			       espgw_inb_open_replay_lft_udp) } },
	[CLAIM] = { { INB(espgw_inb_prepare_claim, espgw_inb_open_claim),
		      INB(espgw_inb_prepare_claim_udp,
			  espgw_inb_open_claim_udp) },
		    { INB(espgw_inb_prepare_claim, espgw_inb_open_claim_lft),
		      INB(espgw_inb_prepare_claim_udp,
			  espgw_inb_open_claim_lft_udp) } },
	[CLAIM_ESN] = { { INB(espgw_inb_prepare_claim_esn,
			      espgw_inb_open_claim),
			  INB(espgw_inb_prepare_claim_esn_udp,
			      espgw_inb_open_claim_udp) },
			{ INB(espgw_inb_prepare_claim_esn,
			      espgw_inb_open_claim_lft),
			  INB(espgw_inb_prepare_claim_esn_udp,
			      espgw_inb_open_claim_lft_udp) } },
};
#undef INB

static bool
limits_any(const struct espgw_sa_limits *l)
{
	return (l->soft_bytes | l->hard_bytes | l->soft_packets |
		l->hard_packets) != 0;
}

/* The one place an SA's kind becomes its per-packet steps (DPDK
 * lib/ipsec: lksd_none_pkt_func_select). The receiver enables the
 * replay check per SA (RFC 4303 section 3.4.3): without a window no
 * sequence number is checked or recorded, as with xfrm's replay-window
 * 0, and ESN without one is refused by espgw_sa_params_check(). A
 * window claimed by owners (replay_owners) is a kind of its own. ESP in
 * UDP (RFC 3948) is a kind of its own both ways, and so outbound is an
 * IPv6 outer header. */
static const struct espgw_sa_ops *
sa_ops_select(const struct espgw_sa_params *p)
{
	bool lft = limits_any(&p->limits), udp = p->encap.udp;
	bool claim = p->replay_owners > 1;

	if (p->dir == ESPGW_SA_OUT)
		return &outb_ops[p->esn][lft][p->dst.family == AF_INET6
						      ? OUTER_ESP6
					      : udp ? OUTER_UDP4
						    : OUTER_ESP4];
	if (p->replay_window == 0)
		return &inb_ops[NO_REPLAY][lft][udp];
	if (claim)
		return &inb_ops[p->esn ? CLAIM_ESN : CLAIM][lft][udp];
	return &inb_ops[p->esn ? REPLAY_ESN : REPLAY][lft][udp];
}

/* 0 (none) becomes a limit never reached, so the check has one compare. */
static void
limits_store(struct espgw_sa *sa, const struct espgw_sa_limits *l)
{
#define LIM_(f)                                                                \
	__atomic_store_n(&sa->life.f, l->f ? l->f : UINT64_MAX,                \
			 __ATOMIC_RELAXED)
	LIM_(soft_packets);
	LIM_(hard_packets);
	LIM_(soft_bytes);
	LIM_(hard_bytes);
#undef LIM_
}

static uint32_t
sum_addr(rte_be32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	return (h >> 16) + (h & 0xffff);
}

/* The peer's word, with (outbound) the fixed outer header words summed
 * and folded: one store, so a worker sees the old peer or the new. */
static void
sa_peer_store(struct espgw_sa *sa, rte_be32_t addr, uint16_t port)
{
	union espgw_sa_peer v = { .addr = addr,
				  .port = rte_cpu_to_be_16(port) };
	uint32_t sum = (uint32_t)RTE_IPV4_VHL_DEF << 8;

	sum += (uint32_t)ESPGW_DEFAULT_TTL << 8 |
	       (sa->params.encap.udp ? ESPGW_IPPROTO_UDP : ESPGW_IPPROTO_ESP);
	sum += sum_addr(sa->local) + sum_addr(addr);
	sum = (sum & 0xffff) + (sum >> 16);
	v.sum = (uint16_t)((sum & 0xffff) + (sum >> 16));
	__atomic_store_n(&sa->peer.word, v.word, __ATOMIC_RELAXED);
}

int
espgw_replay_map_weighted(struct espgw_replay_map *m, const uint8_t *weight,
			  uint16_t owners)
{
	int credit[ESPGW_REPLAY_OWNERS_MAX] = { 0 };
	unsigned int sum = 0;

	if (owners < 2 || owners > ESPGW_REPLAY_OWNERS_MAX)
		return -EINVAL;
	for (uint16_t w = 0; w < owners; w++)
		sum += weight[w];
	if (sum == 0 || sum > ESPGW_REPLAY_MAP_MAX || !rte_is_power_of_2(sum))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->runs = (uint8_t)sum;
	/* each run to the owner furthest behind its share, so an owner's
	 * runs come at even spacing, not in one block */
	for (unsigned int r = 0; r < sum; r++) {
		uint16_t best = 0;

		for (uint16_t w = 0; w < owners; w++) {
			credit[w] += weight[w];
			if (credit[w] > credit[best])
				best = w;
		}
		credit[best] -= (int)sum;
		m->owner[r] = (uint8_t)best;
	}
	return 0;
}

struct espgw_sa *
espgw_sa_create(const struct espgw_sa_params *p, const char **why)
{
	const char *bad = espgw_sa_params_check(p);
	uint16_t nb_slots = p->nb_workers ? p->nb_workers : 1;
	struct espgw_sa *sa;

	if (bad != NULL) {
		if (why != NULL)
			*why = bad;
		return NULL;
	}
	if (why != NULL)
		*why = "out of memory";
	sa = rte_zmalloc(
		"espgw_sa",
		sizeof(*sa) + nb_slots * sizeof(struct espgw_sa_slot) +
			(p->dir == ESPGW_SA_IN
				 ? espgw_replay_size_map(p->replay_window,
							 p->replay_owners,
							 &p->replay_map)
				 : 0),
		RTE_CACHE_LINE_SIZE);
	if (sa == NULL)
		return NULL;
	sa->nb_slots = nb_slots;
	sa->params = *p;
	sa->params.nb_workers = nb_slots;

	sa->ks = key_size(p->key_len);
	if (espgw_gcm_expand(sa->ks, p->key, &sa->key) != 0) {
		if (why != NULL)
			*why = "crypto library failed to start";
		goto fail;
	}
	memcpy(sa->salt, p->key + p->key_len - ESPGW_GCM_SALT_LEN,
	       ESPGW_GCM_SALT_LEN);
	sa->spi_be = rte_cpu_to_be_32(p->spi);
	sa->icv_len = p->icv_len;
	sa->esn_mask = p->esn ? UINT32_MAX : 0;
	sa->aad_len = p->esn ? 12 : 8;
	sa->aad_off = p->esn ? 0 : 4;
	sa->ops = sa_ops_select(p);
	limits_store(sa, &p->limits);
	/* seqiv (crypto/seqiv.c): a random per-SA value XOR the sequence
	 * number, so two SAs sharing a key share an IV only with
	 * probability about n^2 / 2^64 after n packets. */
	sa->iv_base = rte_rand();
	sa->oseq = p->oseq;
	sa->reqid = p->reqid;
	sa->inbound = p->dir == ESPGW_SA_IN;
	sa->outer_len = (uint8_t)espgw_sa_outer_len(p);
	sa->outer6 = p->dst.family == AF_INET6;
	sa->any_inner = p->af_unspec;
	if (sa->outer6) {
		memcpy(sa->v6.local, sa->inbound ? p->dst.v6 : p->src.v6, 16);
		memcpy(sa->v6.peer, sa->inbound ? p->src.v6 : p->dst.v6, 16);
		sa_peer_store(sa, 0, 0);
	} else if (sa->inbound) {
		sa->local = p->dst.v4;
		sa->local_port = rte_cpu_to_be_16(p->encap.dport);
		sa_peer_store(sa, p->src.v4, p->encap.sport);
	} else {
		sa->local = p->src.v4;
		sa->local_port = rte_cpu_to_be_16(p->encap.sport);
		sa_peer_store(sa, p->dst.v4, p->encap.dport);
	}

	/* everything up to iseq counts as already received */
	if (p->dir == ESPGW_SA_IN)
		espgw_replay_init_map(espgw_sa_replay(sa), p->replay_window,
				      p->iseq, p->replay_shared,
				      p->replay_owners, &p->replay_map);
	if (why != NULL)
		*why = NULL;
	return sa;
fail:
	espgw_sa_free(sa);
	return NULL;
}

void
espgw_sa_free(struct espgw_sa *sa)
{
	if (sa == NULL)
		return;
	/* Keys do not outlive the SA in freed (hugepage) memory; a plain
	 * memset before a free is a dead store the compiler may drop. */
	explicit_bzero(&sa->key, sizeof(sa->key));
	explicit_bzero(sa->salt, sizeof(sa->salt));
	explicit_bzero(sa->params.key, sizeof(sa->params.key));
	rte_free(sa);
}

const struct espgw_sa_params *
espgw_sa_params(const struct espgw_sa *sa)
{
	return &sa->params;
}

bool
espgw_sa_tmpl_match(const struct espgw_sa *sa, uint32_t reqid, uint32_t src,
		    uint32_t dst)
{
	rte_be32_t peer = espgw_sa_peer(sa).addr;

	if (sa->outer6) /* xfrm_state_addr_cmp: another family */
		return false;
	return (reqid == 0 || reqid == sa->reqid) &&
	       (src == 0 || src == (sa->inbound ? peer : sa->local)) &&
	       (dst == 0 || dst == (sa->inbound ? sa->local : peer));
}

bool
espgw_sa_tmpl_match6(const struct espgw_sa *sa, uint32_t reqid,
		     const uint8_t src[16], const uint8_t dst[16])
{
	static const uint8_t any[16];
	const uint8_t *s, *d;

	if (!sa->outer6 || (reqid != 0 && reqid != sa->reqid))
		return false;
	s = sa->inbound ? sa->v6.peer : sa->v6.local;
	d = sa->inbound ? sa->v6.local : sa->v6.peer;
	return (memcmp(src, any, 16) == 0 || memcmp(src, s, 16) == 0) &&
	       (memcmp(dst, any, 16) == 0 || memcmp(dst, d, 16) == 0);
}

unsigned int
espgw_sa_expiry(const struct espgw_sa *sa)
{
	return espgw_sa_flags(sa);
}

bool
espgw_sa_mapping(struct espgw_sa *sa, uint32_t *addr, uint16_t *port)
{
	uint64_t m;

	if (!(espgw_sa_flags(sa) & ESPGW_SA_MAPPING))
		return false;
	__atomic_fetch_and(&sa->expiry, (uint8_t)~ESPGW_SA_MAPPING,
			   __ATOMIC_RELAXED);
	m = __atomic_load_n(&sa->life.mapping, __ATOMIC_RELAXED);
	*addr = (uint32_t)(m >> 16);
	*port = rte_be_to_cpu_16((uint16_t)m);
	return true;
}

void
espgw_sa_expire(struct espgw_sa *sa)
{
	espgw_sa_flag(sa, ESPGW_SA_HARD);
}

void
espgw_sa_set_limits(struct espgw_sa *sa, const struct espgw_sa_limits *l)
{
	if (!limits_any(&sa->params.limits) && limits_any(l)) {
		struct espgw_sa_stats st;

		espgw_sa_stats_read(sa, &st);
		__atomic_store_n(&sa->life.packets, st.packets,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&sa->life.bytes, st.bytes, __ATOMIC_RELAXED);
	}
	limits_store(sa, l);
	sa->params.limits = *l;
	__atomic_fetch_and(&sa->expiry, (uint8_t)~ESPGW_SA_SOFT,
			   __ATOMIC_RELAXED);
	/* the workers read ops once a run: the next takes the new kind */
	__atomic_store_n(&sa->ops, sa_ops_select(&sa->params),
			 __ATOMIC_RELEASE);
}

void
espgw_sa_set_ports(struct espgw_sa *sa, uint16_t sport, uint16_t dport)
{
	struct espgw_sa_params *p = &sa->params;

	if (!p->encap.udp)
		return;
	p->encap.sport = sport;
	p->encap.dport = dport;
	__atomic_store_n(&sa->local_port,
			 rte_cpu_to_be_16(sa->inbound ? dport : sport),
			 __ATOMIC_RELAXED);
	sa_peer_store(sa, espgw_sa_peer(sa).addr, sa->inbound ? sport : dport);
}

void
espgw_sa_set_peer(struct espgw_sa *sa, uint32_t addr, uint16_t port)
{
	struct espgw_sa_params *p = &sa->params;

	RTE_VERIFY(!sa->outer6);
	if (sa->inbound)
		p->src.v4 = addr;
	else
		p->dst.v4 = addr;
	if (!p->encap.udp)
		port = 0;
	else if (sa->inbound)
		p->encap.sport = port;
	else
		p->encap.dport = port;
	sa_peer_store(sa, addr, port);
}

uint64_t
espgw_sa_next_seq(const struct espgw_sa *sa)
{
	uint64_t s = __atomic_load_n(&sa->oseq, __ATOMIC_RELAXED);
	uint64_t limit = espgw_seq_limit(sa->params.esn);

	/* an exhausted SA keeps counting its refusals; do not show them */
	return s >= limit ? limit + 1 : s + 1;
}

uint64_t
espgw_sa_replay_seq(const struct espgw_sa *sa)
{
	if (!sa->inbound)
		return sa->params.iseq;
	return espgw_replay_highest(espgw_sa_replay(sa));
}

uint16_t
espgw_sa_replay_owner_tops(const struct espgw_sa *sa, uint64_t *tops,
			   uint16_t max)
{
	const struct espgw_replay *r;

	if (!sa->inbound || sa->params.replay_window == 0)
		return 0;
	r = espgw_sa_replay(sa);
	if (r->owner_mask == 0 || r->win == 0)
		return 0;
	for (uint16_t w = 0; w <= r->owner_mask && w < max; w++)
		tops[w] = __atomic_load_n(espgw_replay_owner_top(r, w),
					  __ATOMIC_RELAXED);
	return (uint16_t)(r->owner_mask + 1);
}

void
espgw_sa_stats_read(const struct espgw_sa *sa, struct espgw_sa_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t w = 0; w < sa->nb_slots; w++) {
		const struct espgw_sa_stats *s = espgw_sa_slot(sa, w);

		out->packets += s->packets;
		out->bytes += s->bytes;
		out->mappings += s->mappings;
		for (int i = 0; i < ESPGW_DROP_MAX; i++)
			out->drops[i] += s->drops[i];
	}
}
