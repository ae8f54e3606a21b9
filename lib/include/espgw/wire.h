/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_WIRE_H
#define ESPGW_WIRE_H

/**
 * @file
 * Every number espgw puts on or reads off the wire, for the library and
 * the gateway alike. Header layouts of ESP and GCM are in lib/esp_wire.h;
 * the IPv4, ICMP and ARP layouts are DPDK's (rte_ip.h, rte_icmp.h,
 * rte_arp.h).
 */

#include <stdint.h>

/** IP protocol numbers (IANA) espgw handles itself. */
enum {
	ESPGW_IPPROTO_IPIP = 4,	 /**< next header: inner IPv4 (RFC 2003) */
	ESPGW_IPPROTO_UDP = 17,	 /**< ESP in UDP (RFC 3948) */
	ESPGW_IPPROTO_IPV6 = 41, /**< next header: inner IPv6 (RFC 2473) */
	ESPGW_IPPROTO_ESP = 50,	 /**< RFC 4303 */
	ESPGW_IPPROTO_NONE = 59, /**< RFC 4303 section 2.6: dummy packet */
};

/** IPv6 extension headers (RFC 8200 section 4) a receiver walks past to
 *  find ESP; each begins with next header and, but for the fragment
 *  header, its length in 8-byte units after the first eight. */
enum {
	ESPGW_IPV6_HOPOPTS = 0,	 /**< hop-by-hop options: first, if at all */
	ESPGW_IPV6_ROUTING = 43, /**< routing header */
	ESPGW_IPV6_FRAGMENT = 44,
	ESPGW_IPV6_DSTOPTS = 60, /**< destination options */
	ESPGW_IPV6_EXT_UNIT = 8,
	ESPGW_IPV6_FRAG_HDR_LEN = 8,
	/** a chain longer than this is dropped, not walked: RFC 8200
	 *  expects each kind at most once or twice */
	ESPGW_IPV6_EXT_MAX = 8,
};

/** IPv6 fragment header (RFC 8200 section 4.5): the offset in the high
 *  13 bits of its 16-bit field, M (more fragments) in the lowest. */
enum {
	ESPGW_IPV6_FRAG_OFF_MASK = 0xfff8,
	ESPGW_IPV6_FRAG_MF = 0x0001,
};

/** Options of hop-by-hop and destination options headers (RFC 8200
 *  section 4.2) as Linux's ip6_parse_tlv() takes them: Pad1 and PadN,
 *  at most 7 bytes of padding in a row, at most 8 other options
 *  (net.ipv6.max_{hbh,dst}_opts_number), and an unknown option whose
 *  two high "action" bits are not 00 drops the packet. */
enum {
	ESPGW_IPV6_OPT_PAD1 = 0,
	ESPGW_IPV6_OPT_PADN = 1,
	ESPGW_IPV6_OPT_PAD_MAX = 7,
	ESPGW_IPV6_OPTS_MAX = 8,
	ESPGW_IPV6_OPT_ACTION_SHIFT = 6,
};

/** Routing header types (RFC 8200 section 4.4) Linux's
 *  ipv6_rthdr_rcv() drops even with no segments left: Mobile IPv6's
 *  type 2 not processed by this host, RPL (3) and segment routing (4)
 *  while they are off, as by default. */
enum {
	ESPGW_IPV6_RT_MIP6 = 2,
	ESPGW_IPV6_RT_RPL = 3,
	ESPGW_IPV6_RT_SRH = 4,
};

/** Header and field lengths, bytes. */
enum {
	ESPGW_IPV4_HDR_LEN = 20, /**< an IPv4 header without options */
	ESPGW_IPV6_HDR_LEN = 40,
	ESPGW_UDP_HDR_LEN = 8,
	ESPGW_ESP_HDR_LEN = 8,	   /**< SPI + sequence number */
	ESPGW_GCM_IV_LEN = 8,	   /**< RFC 4106 section 3.1: explicit IV */
	ESPGW_GCM_SALT_LEN = 4,	   /**< RFC 4106 section 4 */
	ESPGW_GCM_NONCE_LEN = 12,  /**< salt || IV */
	ESPGW_ESP_TRAILER_LEN = 2, /**< pad length + next header */
	ESPGW_ESP_ALIGN = 4,	   /**< RFC 4303 section 2.4 */
	ESPGW_ICV_MAX_LEN = 16,	   /**< RFC 4106 section 6: 8, 12 or 16 */
	/** the smallest MTU an IPv4 link may have (RFC 791) */
	ESPGW_IPV4_MIN_MTU = 68,
};

/** ESP in UDP (RFC 3948): the IKE NAT-T port (RFC 3947 section 4), a
 *  NAT keepalive's one byte (section 2.3), and the length of the
 *  non-ESP marker, four zero bytes where an SPI would be (section 2.2),
 *  which says an IKE message follows. */
enum {
	ESPGW_NATT_PORT = 4500,
	ESPGW_NATT_KEEPALIVE = 0xff,
	ESPGW_NATT_NON_ESP_MARKER_LEN = 4,
};

/** The TTL of packets the gateway makes, and of the outer header:
 *  Linux's net.ipv4.ip_default_ttl, which xfrm takes from the route. */
#define ESPGW_DEFAULT_TTL 64
/** The hop limit of an outer IPv6 header: Linux's ip6_dst_hoplimit()
 *  with net.ipv6.conf.*.hop_limit at its default. */
#define ESPGW_DEFAULT_HOP_LIMIT 64

/** IPv4 flag bits, in the host-order 16-bit fragment_offset field. */
enum {
	ESPGW_IPV4_DF = 0x4000,
	ESPGW_IPV4_MF = 0x2000,
	ESPGW_IPV4_OFF_MASK = 0x1fff,
};

/** ECN codepoints (RFC 3168 section 5), the low two bits of the TOS. */
enum {
	ESPGW_ECN_MASK = 0x03,
	ESPGW_ECN_NOT_ECT = 0x00,
	ESPGW_ECN_ECT1 = 0x01,
	ESPGW_ECN_ECT0 = 0x02,
	ESPGW_ECN_CE = 0x03,
};

/** ICMP messages the gateway sends (RFC 792, RFC 1191). */
enum {
	ESPGW_ICMP_DEST_UNREACH = 3,
	ESPGW_ICMP_CODE_NET_UNREACH = 0,
	ESPGW_ICMP_CODE_FRAG_NEEDED = 4,
	ESPGW_ICMP_TIME_EXCEEDED = 11,
	ESPGW_ICMP_CODE_TTL_EXCEEDED = 0,
	/** header + 8 bytes of the offending packet's data (RFC 792) */
	ESPGW_ICMP_QUOTE_DATA = 8,
};

/** ICMPv6 (RFC 4443) and neighbour discovery (RFC 4861) as the gateway
 *  speaks them for its own IPv6 addresses. */
enum {
	ESPGW_IPPROTO_ICMPV6 = 58,
	ESPGW_ICMP6_ECHO_REQUEST = 128,
	ESPGW_ICMP6_ECHO_REPLY = 129,
	/** errors (section 3); types below 128 are errors, never answered
	 *  with an error (section 2.4 (e.1)) */
	ESPGW_ICMP6_DEST_UNREACH = 1,
	ESPGW_ICMP6_CODE_NO_ROUTE = 0,
	ESPGW_ICMP6_PKT_TOO_BIG = 2,
	ESPGW_ICMP6_TIME_EXCEEDED = 3,
	ESPGW_ICMP6_CODE_HOP_LIMIT = 0,
	ESPGW_ICMP6_INFO_MIN = 128,
	ESPGW_ICMP6_HDR_LEN = 8, /**< type, code, checksum, 4 more bytes */
	/** an error carries as much of the offending packet as fits in the
	 *  minimum MTU (section 2.4 (c)), RFC 8200 section 5's 1280 */
	ESPGW_IPV6_MIN_MTU = 1280,
	ESPGW_ND_NEIGHBOR_SOLICIT = 135,
	ESPGW_ND_NEIGHBOR_ADVERT = 136,
	/** RFC 4861 section 7.1: ND messages come with hop limit 255, so
	 *  none has crossed a router */
	ESPGW_ND_HOP_LIMIT = 255,
	ESPGW_ND_MSG_LEN = 24, /**< NS or NA: ICMPv6 header + target */
	ESPGW_ND_OPT_SRC_LLADDR = 1,
	ESPGW_ND_OPT_TGT_LLADDR = 2,
	ESPGW_ND_OPT_UNIT = 8, /**< option lengths count 8 bytes */
	/** NA flags (RFC 4861 section 4.4), first byte after the header */
	ESPGW_ND_NA_ROUTER = 0x80,
	ESPGW_ND_NA_SOLICITED = 0x40,
	ESPGW_ND_NA_OVERRIDE = 0x20,
};

#endif /* ESPGW_WIRE_H */
