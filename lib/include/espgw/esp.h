/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_ESP_H
#define ESPGW_ESP_H

/**
 * @file
 * espgw ESP library: RFC 4303 ESP in tunnel mode with RFC 4106 AES-GCM,
 * over DPDK mbufs, framed exactly as Linux xfrm frames it.
 *
 * Mbuf contract, both directions: on entry and on success the packet data
 * starts at the IP header (no L2 header) and the mbuf is one segment
 * (chained mbufs are linearized first). Outbound turns an inner IPv4/IPv6
 * packet into outer IPv4 or IPv6 | ESP | IV | ciphertext | ICV (with UDP
 * before ESP for ESP in UDP over IPv4); inbound does the reverse. Burst calls
 * return how many packets succeeded; the failed mbufs are moved, in their
 * original order, to the tail of the array and are still owned by the caller.
 * Every failure is counted under an espgw_drop reason. A failed mbuf's contents
 * are unspecified (it may have been trimmed, linearized or decrypted in place):
 * free it, never forward it.
 *
 * Threads: a worker (and its intel-ipsec-mb manager) belongs to one
 * lcore. An outbound SA may be used by several workers at once. An
 * inbound SA belongs to one worker at a time, unless it is made with
 * replay_shared: then its replay window changes by compare-and-swap,
 * and several workers may receive it at once, each sequence number
 * accepted at most once between them; or with replay_owners: then
 * worker w receives only the numbers it owns (espgw_esp_seq_owner()),
 * each owner writing its own part of the window. An SAD
 * and its SAs must not be changed while workers use them: build new
 * ones and swap the pointer once the workers have moved on.
 *
 * Misuse is a programming error, not bad input, and stops the process
 * (RTE_VERIFY) rather than being counted: an SA handed to the other
 * direction's burst call, or used by a worker whose id is not below the
 * SA's nb_workers. It is checked once for each run of consecutive
 * packets of one SA, not per packet.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <rte_mbuf.h>

#include "espgw/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Every reason a packet can fail ESP processing: one X-macro gives the
 * enum value, the counter, and the printable name.
 */
#define ESPGW_FOREACH_DROP(_)                                                  \
	_(UNKNOWN_SPI, "unknown-spi")                                          \
	_(TOO_SHORT, "too-short")                                              \
	_(BAD_OUTER_HEADER, "bad-outer-header")                                \
	_(OUTER_FRAGMENT, "outer-fragment")                                    \
	_(BAD_ICV, "bad-icv")                                                  \
	_(REPLAYED, "replayed")                                                \
	_(BEHIND_WINDOW, "behind-window")                                      \
	_(BAD_PADDING, "bad-padding")                                          \
	_(BAD_NEXT_HEADER, "bad-next-header")                                  \
	_(DUMMY_PACKET, "dummy-packet")                                        \
	_(BAD_INNER_HEADER, "bad-inner-header")                                \
	_(ECN_CE_NOT_ECT, "ecn-ce-on-not-ect")                                 \
	_(SEQ_EXHAUSTED, "seq-exhausted")                                      \
	_(STATE_EXPIRED, "state-expired")                                      \
	_(UDP_ENCAP_MISSING, "udp-encap-missing")                              \
	_(UDP_ENCAP_UNEXPECTED, "udp-encap-unexpected")                        \
	_(BAD_UDP_CHECKSUM, "bad-udp-checksum")                                \
	_(NO_ROOM, "no-room")                                                  \
	_(BAD_EXT_HEADERS, "bad-ext-headers")                                  \
	_(INNER_FAMILY, "inner-family")                                        \
	_(NOT_OWNER, "not-owner")

/** Drop reasons; ESPGW_DROP_MAX is the number of reasons.
 *  ESPGW_DROP_NOT_OWNER: inbound, SA spread over workers (replay_owners):
 *  the sequence number belongs to another worker. A correct dispatcher
 *  never causes it; it keeps two workers from marking one number. */
enum espgw_drop {
#define ESPGW_DROP_ENUM_(n, s) ESPGW_DROP_##n,
	ESPGW_FOREACH_DROP(ESPGW_DROP_ENUM_)
#undef ESPGW_DROP_ENUM_
		ESPGW_DROP_MAX
};

/** Printable name of a drop reason ("bad-icv"), or "?" when out of range. */
const char *espgw_drop_name(enum espgw_drop reason);

/** Direction of an SA, as xfrm sees it from this gateway. */
enum espgw_sa_dir {
	ESPGW_SA_OUT, /**< we encrypt: src is us, dst the peer */
	ESPGW_SA_IN,  /**< we decrypt: dst is us */
};

/** An IP address: a tunnel endpoint of either family (both ends of an
 *  SA of one family). */
struct espgw_ip_addr {
	uint8_t family; /**< AF_INET or AF_INET6 */
	union {
		uint32_t v4; /**< network byte order */
		uint8_t v6[16];
	};
};

/** Longest AEAD key accepted: AES-256 key plus 4-byte salt. */
#define ESPGW_KEY_MAX_LEN 36
/** Largest replay window (packets) accepted. */
#define ESPGW_REPLAY_WINDOW_MAX 65536u
/** Most workers one inbound SA may be spread over (replay_owners). */
#define ESPGW_REPLAY_OWNERS_MAX 32u
/** An SA spread over workers is spread in runs of 2^8 sequence numbers:
 *  4 blocks of its replay window, one cache line. */
#define ESPGW_REPLAY_RUN_SHIFT 8
/** Most entries of a replay owner map. */
#define ESPGW_REPLAY_MAP_MAX 32u

/**
 * Which worker owns each run of an SA spread over workers: run r (the
 * sequence number >> ESPGW_REPLAY_RUN_SHIFT) is owner[r & (runs - 1)]'s.
 * Weighted, so that a worker with other work (the one that receives the
 * tunnel and sends what the owners make of it) owns fewer runs, or none;
 * made by espgw_replay_map_weighted(). runs 0: run r is r mod owners'.
 */
struct espgw_replay_map {
	uint8_t runs; /**< entries: 0, or a power of two up to MAP_MAX */
	uint8_t owner[ESPGW_REPLAY_MAP_MAX]; /**< each below the owners */
};

/**
 * Limits on what an SA carries, as `ip xfrm state add ... limit byte-soft
 * N byte-hard N packet-soft N packet-hard N` sets them; 0 = none. They
 * count what xfrm_state_check_expire() counts: packets that succeeded and
 * their inner IP bytes. Before each packet, a count already at a hard
 * limit refuses it (ESPGW_DROP_STATE_EXPIRED, and ESPGW_SA_HARD), at a
 * soft limit sets ESPGW_SA_SOFT. Time limits are the caller's: it
 * calls espgw_sa_expire().
 */
struct espgw_sa_limits {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
};

/**
 * Sequence numbers left when ESPGW_SA_SOFT is set (2^28, one sixteenth
 * of the 32-bit space): a sender soft-expires that far before the
 * counter runs out (RFC 4303 section 3.3.3), a receiver when the
 * highest number received gets there, so a keying daemon has time to
 * rekey before ESPGW_DROP_SEQ_EXHAUSTED.
 */
#define ESPGW_SEQ_SOFT_MARGIN (UINT64_C(1) << 28)

/** espgw_sa_expiry() bits. */
#define ESPGW_SA_SOFT 1u /**< a soft limit or the sequence margin reached */
#define ESPGW_SA_HARD 2u /**< expired: every later packet is refused */
/** inbound ESP in UDP: an authentic packet came from a new address or
 *  port (espgw_sa_mapping) */
#define ESPGW_SA_MAPPING 4u

/**
 * UDP encapsulation, as `ip xfrm state add ... encap espinudp SPORT DPORT
 * OA` sets it (RFC 3948): the sender's and the receiver's UDP port, as
 * the state's src and dst are the sender and the receiver. OA (the
 * original address) matters in transport mode only; it is kept.
 */
struct espgw_sa_encap {
	bool udp;	       /**< ESP in UDP */
	uint16_t sport, dport; /**< host order */
	uint32_t oa;	       /**< network order */
};

/**
 * What `ip xfrm state add ... aead 'rfc4106(gcm(aes))' KEY ICVBITS` says.
 * Decided once at creation; the per-packet path never re-reads it.
 */
struct espgw_sa_params {
	enum espgw_sa_dir dir;
	uint32_t spi;			/**< host byte order, not 0 */
	struct espgw_ip_addr src;	/**< outer source (tunnel endpoint) */
	struct espgw_ip_addr dst;	/**< outer destination */
	uint32_t reqid;			/**< policy template link, 0 = none */
	uint8_t key[ESPGW_KEY_MAX_LEN]; /**< AES key followed by 4-byte salt */
	uint8_t key_len;		/**< 20, 28 or 36 */
	uint8_t icv_len;		/**< 8, 12 or 16 bytes */
	bool esn; /**< extended sequence numbers (flag esn) */
	/** flag af-unspec: the inner packet may be of either family. Without
	 *  it, as in Linux (copy_from_user_state() gives the selector the
	 *  state's family), only of the endpoints' family: 4in4, 6in6. */
	bool af_unspec;
	uint32_t replay_window; /**< packets, 0 = no replay check */
	/** Outbound: last sequence number sent (xfrm replay-oseq and
	 *  replay-oseq-hi as one 64-bit number); the next packet gets +1. */
	uint64_t oseq;
	/** Inbound: highest sequence number already received (xfrm
	 *  replay-seq and replay-seq-hi as one 64-bit number). */
	uint64_t iseq;
	/** Number of per-worker counter slots; worker ids must be below it.
	 *  0 is taken as 1. */
	uint16_t nb_workers;
	/** Inbound: several workers may receive this SA at once. The
	 *  window then changes by 128-bit compare-and-swap (lib/replay.h):
	 *  about 8 ns a packet more on one core, and its lines move between
	 *  cores that really share it (bench/replay_scaling). */
	bool replay_shared;
	/** Inbound: 0 or 1, received by one worker at a time (or shared,
	 *  above). N (a power of two, 2 to ESPGW_REPLAY_OWNERS_MAX, at most
	 *  nb_workers, with a replay window and without replay_shared): the
	 *  SA is received on workers 0 to N - 1 at once, worker w owning the
	 *  sequence numbers whose run (espgw_esp_seq_owner()) is w; it
	 *  drops any other as ESPGW_DROP_NOT_OWNER. Each owner writes only
	 *  its own lines of the window, plainly, and judges "behind" by its
	 *  own top (the owners run at once, so one may be ahead of another
	 *  on numbers that came in order): the edge is late by their lag,
	 *  never early, and no number is accepted twice. ESN's seq-hi comes
	 *  from the highest top of all, read once a run. */
	uint16_t replay_owners;
	/** With replay_owners: which owner has which run (runs 0: run mod
	 *  replay_owners). An owner may have none: it accepts no number of
	 *  this SA, and only dispatches it. */
	struct espgw_replay_map replay_map;
	/** Byte and packet limits; the only setting that may change later
	 *  (espgw_sa_set_limits). */
	struct espgw_sa_limits limits;
	/** ESP in UDP, or plain ESP (udp false). */
	struct espgw_sa_encap encap;
};

struct espgw_sa;
struct espgw_sad;
struct espgw_worker;

/**
 * Check SA parameters.
 * @return NULL when valid, else a static string saying what is wrong.
 */
const char *espgw_sa_params_check(const struct espgw_sa_params *p);

/**
 * Make an SA. The key is expanded here and the outer header template,
 * IV base and function choices are fixed for the SA's life.
 * @param why  when non-NULL, receives the reason on failure.
 * @return the SA, or NULL on bad parameters or no memory.
 */
struct espgw_sa *espgw_sa_create(const struct espgw_sa_params *p,
				 const char **why);

/** Free an SA made by espgw_sa_create(); NULL is ignored. */
void espgw_sa_free(struct espgw_sa *sa);

/** The parameters the SA was made with (the key included). */
const struct espgw_sa_params *espgw_sa_params(const struct espgw_sa *sa);

/**
 * Does the SA satisfy a policy template (RFC 4301 section 5.2 step 4, as
 * xfrm_state_ok)? Each of reqid, src and dst (network order) matches
 * anything when 0. An IPv4 template: an SA with IPv6 endpoints never
 * matches it. Reads only the SA's per-packet cache line.
 */
bool espgw_sa_tmpl_match(const struct espgw_sa *sa, uint32_t reqid,
			 uint32_t src, uint32_t dst);

/** The same for a template with IPv6 endpoints (:: matches anything);
 *  an SA with IPv4 endpoints never matches it. Reads the SA's second
 *  line. */
bool espgw_sa_tmpl_match6(const struct espgw_sa *sa, uint32_t reqid,
			  const uint8_t src[16], const uint8_t dst[16]);

/** Counters of one SA, summed over workers when read. */
struct espgw_sa_stats {
	uint64_t packets; /**< packets processed successfully */
	uint64_t bytes;	  /**< their inner IP bytes */
	/** inbound ESP in UDP: times the peer's address or port changed */
	uint64_t mappings;
	uint64_t drops[ESPGW_DROP_MAX];
};

/** Sum the SA's per-worker counters into *out. */
void espgw_sa_stats_read(const struct espgw_sa *sa, struct espgw_sa_stats *out);

/** ESPGW_SA_SOFT, ESPGW_SA_HARD and ESPGW_SA_MAPPING, as the data path
 *  has set them. */
unsigned int espgw_sa_expiry(const struct espgw_sa *sa);

/**
 * Take the new mapping an inbound ESP-in-UDP SA has seen (ESPGW_SA_MAPPING,
 * cleared here): the address (network order) and UDP port (host order)
 * its last authentic packet came from, as XFRM_MSG_MAPPING reports it.
 * @return false when there is none.
 */
bool espgw_sa_mapping(struct espgw_sa *sa, uint32_t *addr, uint16_t *port);

/**
 * Expire an SA in use (a time limit, as xfrm_timer_handler() sets
 * XFRM_STATE_EXPIRED): from the workers' next run on, every packet of it
 * is refused with ESPGW_DROP_STATE_EXPIRED. There is no way back.
 */
void espgw_sa_expire(struct espgw_sa *sa);

/**
 * Put new limits on an SA in use, as xfrm_state_update() does: the
 * counts so far stay, and ESPGW_SA_SOFT is cleared (it is set again at
 * the next packet if a new soft limit is already reached). An SA that
 * had no limits has counted only per worker: its count starts from
 * their sum, which may miss the packets of a burst in flight.
 */
void espgw_sa_set_limits(struct espgw_sa *sa, const struct espgw_sa_limits *l);

/**
 * New UDP ports for an SA in use with encapsulation, as
 * xfrm_state_update() copies an encapsulation of the same type (a NAT
 * rebound the keying side follows): each is one store the workers see
 * at their next packet.
 */
void espgw_sa_set_ports(struct espgw_sa *sa, uint16_t sport, uint16_t dport);

/**
 * Move the far end of an SA in use, as an IKE daemon migrates its
 * states when the peer's NAT mapping changes (xfrm_state_migrate): the
 * outer dst of an outbound SA or the expected outer src of an inbound
 * one (network order), and with encapsulation the peer's UDP port. The
 * key, sequence numbers, replay window and counters stay; workers see
 * address, port and checksum change together at their next packet. The
 * local end, and so the SAD's (SPI, dst), does not change. IPv4 SAs
 * only (ESP in UDP is IPv4 only): a programming error on an IPv6 one.
 */
void espgw_sa_set_peer(struct espgw_sa *sa, uint32_t addr, uint16_t port);

/** Next outbound sequence number that would be used (diagnostics). */
uint64_t espgw_sa_next_seq(const struct espgw_sa *sa);

/**
 * Inbound: the highest sequence number accepted so far, 64 bits (xfrm
 * replay-seq and replay-seq-hi as one number), iseq before any; with
 * replay_owners the highest of all owners. The workers may be moving it.
 * An outbound SA, or one without a window, returns iseq as made.
 */
uint64_t espgw_sa_replay_seq(const struct espgw_sa *sa);

/**
 * Inbound, with its window claimed by replay_owners workers: each
 * owner's highest number accepted (iseq before any) into tops[0..max),
 * as espgw_sa_replay_seq's relaxed read. Returns the number of owners,
 * or 0 for an SA whose window is not claimed (outbound, no window,
 * replay_owners 0 or 1).
 */
uint16_t espgw_sa_replay_owner_tops(const struct espgw_sa *sa, uint64_t *tops,
				    uint16_t max);

/**
 * The worker that owns an inbound sequence number on an SA spread over
 * owners workers (espgw_sa_params.replay_owners): the run of 2^8
 * numbers it is in, modulo owners; 0 when owners is 0 or 1. A
 * dispatcher calls it on the low 32 bits on the wire; the library
 * judges the inferred 64-bit number alike (2^32 >> 8 is a multiple of
 * every owners allowed).
 */
static inline uint16_t
espgw_esp_seq_owner(uint32_t seq_lo, uint16_t owners)
{
	if (owners <= 1)
		return 0;
	return (uint16_t)((seq_lo >> ESPGW_REPLAY_RUN_SHIFT) & (owners - 1u));
}

/** The owner of seq_lo as map says (espgw_esp_seq_owner() when its
 *  runs are 0: owners is then the SA's replay_owners). */
static inline uint16_t
espgw_replay_map_owner(const struct espgw_replay_map *m, uint32_t seq_lo,
		       uint16_t owners)
{
	if (m->runs == 0)
		return espgw_esp_seq_owner(seq_lo, owners);
	return m->owner[(seq_lo >> ESPGW_REPLAY_RUN_SHIFT) & (m->runs - 1u)];
}

/**
 * A map giving owner w weight[w] of every sum-of-weights runs, each
 * owner's runs spread evenly among the others' (smooth weighted round
 * robin), so no owner waits long for its next run.
 * @return 0, or -EINVAL unless 2 <= owners <= ESPGW_REPLAY_OWNERS_MAX and
 *         the weights sum to a power of two up to ESPGW_REPLAY_MAP_MAX.
 */
int espgw_replay_map_weighted(struct espgw_replay_map *m, const uint8_t *weight,
			      uint16_t owners);

/**
 * A worker's private state: its intel-ipsec-mb manager and the drops that
 * cannot be blamed on an SA. One per lcore; never shared between threads.
 * @param id  index of the worker's counter slot in every SA.
 * @return NULL on no memory or when the crypto library cannot start.
 */
struct espgw_worker *espgw_worker_create(uint16_t id, int socket_id);
void espgw_worker_free(struct espgw_worker *w);
/** Drops counted by the worker outside any SA (unknown SPI, ...). */
void espgw_worker_drops_read(const struct espgw_worker *w,
			     uint64_t drops[ESPGW_DROP_MAX]);
/** Name of the intel-ipsec-mb code path in use ("avx512", ...). */
const char *espgw_worker_arch(const struct espgw_worker *w);

/**
 * Security association database for inbound lookup by (SPI, outer dst).
 * One writer may change it while any number of workers look up (no
 * lock on either side).
 */
struct espgw_sad *espgw_sad_create(const char *name, uint32_t max_sa,
				   int socket_id);
void espgw_sad_free(struct espgw_sad *sad);
/** Add an inbound SA. @return 0, -EEXIST, -ENOSPC or -EINVAL. */
int espgw_sad_add(struct espgw_sad *sad, struct espgw_sa *sa);
/** Add an inbound SA, or put it in the place of the one of its (SPI,
 *  dst): a lookup finds the one or the other, never neither.
 *  @return 0, -ENOSPC or -EINVAL. */
int espgw_sad_set(struct espgw_sad *sad, struct espgw_sa *sa);
/** Remove an SA while workers may look up: later lookups miss it, and
 *  its slot stays taken until espgw_sad_reclaim(), once no worker can
 *  still be in a lookup that began before (RCU grace period).
 *  @return the slot to reclaim, or -ENOENT. */
int32_t espgw_sad_unlink(struct espgw_sad *sad, const struct espgw_sa *sa);
void espgw_sad_reclaim(struct espgw_sad *sad, int32_t slot);
/** Remove an SA when no worker looks up. @return 0 or -ENOENT. */
int espgw_sad_del(struct espgw_sad *sad, const struct espgw_sa *sa);
/** SAs held, and how many it was made for. */
uint32_t espgw_sad_count(const struct espgw_sad *sad);
uint32_t espgw_sad_capacity(const struct espgw_sad *sad);
/** Find an inbound SA; dst in network byte order. */
struct espgw_sa *espgw_sad_lookup(const struct espgw_sad *sad, uint32_t spi,
				  uint32_t dst);
/** Find an inbound SA with an IPv6 outer destination. */
struct espgw_sa *espgw_sad_lookup6(const struct espgw_sad *sad, uint32_t spi,
				   const uint8_t dst[16]);

/** Bursts longer than this are processed in slices of this size. */
#define ESPGW_BURST_MAX 256u

/** Headroom outbound needs in front of the inner packet, at most (an SA
 *  with IPv6 endpoints; espgw_sa_outer_len() gives an SA's own). */
#define ESPGW_OUTB_HEADROOM                                                    \
	(ESPGW_IPV6_HDR_LEN + ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN)

/** The bytes an SA puts in front of the inner packet: outer IPv4 (and
 *  UDP with encapsulation) or IPv6, ESP header and IV. */
static inline uint16_t
espgw_sa_outer_len(const struct espgw_sa_params *p)
{
	uint16_t ip = p->dst.family == AF_INET6
			      ? ESPGW_IPV6_HDR_LEN
			      : ESPGW_IPV4_HDR_LEN +
					(p->encap.udp ? ESPGW_UDP_HDR_LEN : 0);

	return ip + ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN;
}
/** Worst-case tailroom outbound needs behind the inner packet. */
#define ESPGW_OUTB_TAILROOM                                                    \
	(ESPGW_ESP_ALIGN - 1 + ESPGW_ESP_TRAILER_LEN + ESPGW_ICV_MAX_LEN)

/**
 * Encapsulate a burst with one outbound SA (RFC 4303 section 3.3).
 * @return the number of packets encapsulated, now at mb[0..ret-1];
 *         the failures follow them in mb[ret..n-1].
 */
uint16_t espgw_esp_outbound(struct espgw_worker *w, struct espgw_sa *sa,
			    struct rte_mbuf *mb[], uint16_t n);

/**
 * Encapsulate a burst whose packets may each have their own outbound SA:
 * sa[i] protects mb[i]. Consecutive packets of one SA are handled as one
 * run (one sequence-number reservation, one counter update), so callers
 * gain by keeping a flow's packets together but need not sort.
 * @return as espgw_esp_outbound(); sa[] is not reordered.
 */
uint16_t espgw_esp_outbound_bulk(struct espgw_worker *w,
				 struct espgw_sa *const sa[],
				 struct rte_mbuf *mb[], uint16_t n);

/**
 * Decapsulate a burst of ESP packets, each starting at its outer IPv4 or
 * IPv6 header (RFC 4303 section 3.4); IPv6 extension headers before ESP
 * are walked (RFC 8200 section 4.1) and stripped with the outer header. The SA
 * of each is found in sad.
 * @param sa_out  when non-NULL, sa_out[i] receives the SA that decrypted
 *                mb[i] for i < ret.
 * @return the number of packets decapsulated, now inner packets at
 *         mb[0..ret-1]; the failures follow them.
 */
uint16_t espgw_esp_inbound(struct espgw_worker *w, const struct espgw_sad *sad,
			   struct rte_mbuf *mb[], struct espgw_sa *sa_out[],
			   uint16_t n);

/**
 * The low 32 bits of an ESP packet's sequence number (RFC 4303 section
 * 2.2), the packet starting at its outer IPv4 or IPv6 header as for
 * espgw_esp_inbound(), whose parse it follows (ESP in UDP, IPv6
 * extension headers; a chained packet is linearized). For handing a
 * packet to the worker that owns its number (espgw_esp_seq_owner()).
 * @return false when espgw_esp_inbound() would drop the packet before
 *         its replay window anyway (too short, a bad header chain).
 */
bool espgw_esp_seq_lo(struct rte_mbuf *m, uint32_t *seq_lo);

#ifdef __cplusplus
}
#endif

#endif /* ESPGW_ESP_H */
