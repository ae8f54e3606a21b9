/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_COUNTERS_H
#define ESPGW_DATAPLANE_COUNTERS_H

/* Gateway events and packet fates, each a per-worker counter: its enum
 * suffix, its name and its side of the one-fate law
 * (docs/architecture.md, "Accounting"):
 *   IN   a frame received, or a packet the gateway made;
 *   OUT  its fate: sent, dropped under one name, consumed (an ARP reply
 *        to us, a packet split into fragments, ...) or held at exit;
 *   EV   an event on the way (forwarded, encrypted, ...), no fate.
 * At exit sum(IN) = sum(OUT) + drop-esp-in + drop-esp-out: those two
 * are no counters here but the sums of the ESP library's reasons
 * (stats.c). `espgw --counters` prints each name and its side, and the
 * tests check the law with what it prints. */
#define GW_FOREACH_COUNTER(_)                                                  \
	_(RX, "rx", IN)                                                        \
	_(TX, "tx", OUT)                                                       \
	_(FORWARDED, "forwarded", EV)                                          \
	_(ENCRYPTED, "encrypted", EV)                                          \
	_(DECRYPTED, "decrypted", EV)                                          \
	_(ARP_REPLIED, "arp-replied", EV)                                      \
	_(ARP_REQUESTED, "arp-requested", IN)                                  \
	_(ARP_LEARNED, "arp-learned", EV)                                      \
	_(ARP_REPLIES_RECEIVED, "arp-replies-received", OUT)                   \
	_(ICMP_ECHO_REPLIED, "icmp-echo-replied", EV)                          \
	_(ICMP6_ECHO_REPLIED, "icmpv6-echo-replied", EV)                       \
	_(ND_ADVERTISED, "nd-advertised", EV)                                  \
	_(ND_SOLICITED, "nd-solicited", IN)                                    \
	_(ND_LEARNED, "nd-learned", EV)                                        \
	_(ND_ADVERTS_RECEIVED, "nd-adverts-received", OUT)                     \
	_(ICMP_ERRORS_SENT, "icmp-errors-sent", IN)                            \
	_(NATT_KEEPALIVES_SENT, "natt-keepalives-sent", IN)                    \
	_(ICMP_RATELIMITED, "icmp-errors-ratelimited", EV)                     \
	_(ALLOC_FAILED, "alloc-failed", EV)                                    \
	_(FRAGMENTED, "fragmented", OUT)                                       \
	_(FRAGMENTS_MADE, "fragments-made", IN)                                \
	_(REASSEMBLED, "reassembled", EV)                                      \
	_(FRAGS_MERGED, "fragments-merged", OUT)                               \
	_(SPD_CACHE_HITS, "policy-cache-hits", EV)                             \
	_(SPD_CACHE_MISSES, "policy-cache-misses", EV)                         \
	_(HELD_ARP, "held-arp-queue", OUT)                                     \
	_(HELD_REASSEMBLY, "held-reassembly", OUT)                             \
	_(HELD_SPREAD, "held-spread", OUT)                                     \
	_(DROP_NOT_FOR_US, "drop-l2-not-for-us", OUT)                          \
	_(DROP_L2_PROTO, "drop-l2-unknown-proto", OUT)                         \
	_(DROP_BAD_ARP, "drop-bad-arp", OUT)                                   \
	_(DROP_BAD_IP, "drop-bad-ip-header", OUT)                              \
	_(DROP_BAD_IP6, "drop-bad-ipv6-header", OUT)                           \
	_(DROP_BAD_ICMP6, "drop-bad-icmpv6", OUT)                              \
	_(DROP_BAD_EXT6, "drop-bad-ext-headers", OUT)                          \
	_(DROP_ND_UNRESOLVED, "drop-nd-unresolved", OUT)                       \
	_(DROP_TTL, "drop-ttl-exceeded", OUT)                                  \
	_(DROP_NO_ROUTE, "drop-no-route", OUT)                                 \
	_(DROP_ARP_UNRESOLVED, "drop-arp-unresolved", OUT)                     \
	_(DROP_ARP_QUEUE_FULL, "drop-arp-queue-full", OUT)                     \
	_(DROP_POLICY_BLOCK, "drop-policy-block", OUT)                         \
	_(DROP_NO_SA, "drop-out-no-state", OUT)                                \
	_(DROP_IN_NO_POLICY, "drop-in-no-policy", OUT)                         \
	_(DROP_IN_TMPL_MISMATCH, "drop-in-tmpl-mismatch", OUT)                 \
	_(DROP_UNPROTECTED, "drop-in-unprotected", OUT)                        \
	_(DROP_LOCAL_UNHANDLED, "drop-local-unhandled", OUT)                   \
	_(DROP_NATT_KEEPALIVE, "drop-natt-keepalive", OUT)                     \
	_(DROP_NATT_IKE, "drop-natt-ike-unhandled", OUT)                       \
	_(DROP_FRAG_NEEDED, "drop-frag-needed", OUT)                           \
	_(DROP_FRAG_FAILED, "drop-frag-failed", OUT)                           \
	_(DROP_REASSEMBLY, "drop-reassembly", OUT)                             \
	_(DROP_NO_MBUF, "drop-no-mbuf", OUT)                                   \
	_(DROP_NO_HEADROOM, "drop-no-headroom", OUT)                           \
	_(DROP_TX_FULL, "drop-tx-full", OUT)                                   \
	_(DROP_SPREAD_FULL, "drop-spread-full", OUT)

/* A counter's side of the law. */
enum gw_side {
	GW_SIDE_IN,
	GW_SIDE_OUT,
	GW_SIDE_EV,
};

enum gw_counter {
#define GW_CNT_ENUM_(n, s, side) GW_##n,
	GW_FOREACH_COUNTER(GW_CNT_ENUM_)
#undef GW_CNT_ENUM_
		GW_CNT_MAX
};

const char *gw_counter_name(enum gw_counter c);
enum gw_side gw_counter_side(enum gw_counter c);

#endif /* ESPGW_DATAPLANE_COUNTERS_H */
