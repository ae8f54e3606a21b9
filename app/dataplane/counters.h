/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_COUNTERS_H
#define ESPGW_DATAPLANE_COUNTERS_H

/* Gateway events and packet fates, each a per-worker counter with a
 * name. One packet, one fate (docs/architecture.md, "Accounting"):
 *   rx + arp-requested + nd-solicited + icmp-errors-sent
 *     + natt-keepalives-sent + fragments-made
 *     = tx + drop-* + arp-replies-received + nd-adverts-received
 *       + fragmented + fragments-merged + held-arp-queue + held-reassembly
 *       + held-spread
 * The rest (forwarded, encrypted, ...) count events on the way and are
 * no fate of their own. drop-esp-in and drop-esp-out are not counted
 * here: they are the sums of the ESP library's reasons (stats.c). */
#define GW_FOREACH_COUNTER(_)                                                  \
	_(RX, "rx")                                                            \
	_(TX, "tx")                                                            \
	_(FORWARDED, "forwarded")                                              \
	_(ENCRYPTED, "encrypted")                                              \
	_(DECRYPTED, "decrypted")                                              \
	_(ARP_REPLIED, "arp-replied")                                          \
	_(ARP_REQUESTED, "arp-requested")                                      \
	_(ARP_LEARNED, "arp-learned")                                          \
	_(ARP_REPLIES_RECEIVED, "arp-replies-received")                        \
	_(ICMP_ECHO_REPLIED, "icmp-echo-replied")                              \
	_(ICMP6_ECHO_REPLIED, "icmpv6-echo-replied")                           \
	_(ND_ADVERTISED, "nd-advertised")                                      \
	_(ND_SOLICITED, "nd-solicited")                                        \
	_(ND_LEARNED, "nd-learned")                                            \
	_(ND_ADVERTS_RECEIVED, "nd-adverts-received")                          \
	_(ICMP_ERRORS_SENT, "icmp-errors-sent")                                \
	_(NATT_KEEPALIVES_SENT, "natt-keepalives-sent")                        \
	_(ICMP_RATELIMITED, "icmp-errors-ratelimited")                         \
	_(ALLOC_FAILED, "alloc-failed")                                        \
	_(FRAGMENTED, "fragmented")                                            \
	_(FRAGMENTS_MADE, "fragments-made")                                    \
	_(REASSEMBLED, "reassembled")                                          \
	_(FRAGS_MERGED, "fragments-merged")                                    \
	_(SPD_CACHE_HITS, "policy-cache-hits")                                 \
	_(SPD_CACHE_MISSES, "policy-cache-misses")                             \
	_(HELD_ARP, "held-arp-queue")                                          \
	_(HELD_REASSEMBLY, "held-reassembly")                                  \
	_(HELD_SPREAD, "held-spread")                                          \
	_(DROP_NOT_FOR_US, "drop-l2-not-for-us")                               \
	_(DROP_L2_PROTO, "drop-l2-unknown-proto")                              \
	_(DROP_BAD_ARP, "drop-bad-arp")                                        \
	_(DROP_BAD_IP, "drop-bad-ip-header")                                   \
	_(DROP_BAD_IP6, "drop-bad-ipv6-header")                                \
	_(DROP_BAD_ICMP6, "drop-bad-icmpv6")                                   \
	_(DROP_BAD_EXT6, "drop-bad-ext-headers")                               \
	_(DROP_ND_UNRESOLVED, "drop-nd-unresolved")                            \
	_(DROP_TTL, "drop-ttl-exceeded")                                       \
	_(DROP_NO_ROUTE, "drop-no-route")                                      \
	_(DROP_ARP_UNRESOLVED, "drop-arp-unresolved")                          \
	_(DROP_ARP_QUEUE_FULL, "drop-arp-queue-full")                          \
	_(DROP_POLICY_BLOCK, "drop-policy-block")                              \
	_(DROP_NO_SA, "drop-out-no-state")                                     \
	_(DROP_IN_NO_POLICY, "drop-in-no-policy")                              \
	_(DROP_IN_TMPL_MISMATCH, "drop-in-tmpl-mismatch")                      \
	_(DROP_UNPROTECTED, "drop-in-unprotected")                             \
	_(DROP_LOCAL_UNHANDLED, "drop-local-unhandled")                        \
	_(DROP_NATT_KEEPALIVE, "drop-natt-keepalive")                          \
	_(DROP_NATT_IKE, "drop-natt-ike-unhandled")                            \
	_(DROP_FRAG_NEEDED, "drop-frag-needed")                                \
	_(DROP_FRAG_FAILED, "drop-frag-failed")                                \
	_(DROP_REASSEMBLY, "drop-reassembly")                                  \
	_(DROP_NO_MBUF, "drop-no-mbuf")                                        \
	_(DROP_NO_HEADROOM, "drop-no-headroom")                                \
	_(DROP_TX_FULL, "drop-tx-full")                                        \
	_(DROP_SPREAD_FULL, "drop-spread-full")                                \
	_(DROP_NO_TXQ, "drop-no-tx-queue")

enum gw_counter {
#define GW_CNT_ENUM_(n, s) GW_##n,
	GW_FOREACH_COUNTER(GW_CNT_ENUM_)
#undef GW_CNT_ENUM_
		GW_CNT_MAX
};

const char *gw_counter_name(enum gw_counter c);

#endif /* ESPGW_DATAPLANE_COUNTERS_H */
