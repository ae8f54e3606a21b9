/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_IPV4_H
#define ESPGW_IPV4_H

/**
 * @file
 * IPv4 header checksum check for the per-packet path of the library and
 * the gateway. Almost every header is 20 bytes; for those, five 32-bit
 * loads summed into 64 bits and folded beat rte_raw_cksum()'s 16-bit
 * loop.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>

/**
 * Does the header checksum verify (RFC 1071: a valid header, checksum
 * included, sums to 0xffff)? The one's complement sum does not depend on
 * byte order, so the words are summed as the CPU loads them.
 * @param hl  header length in bytes (IHL * 4), already checked against
 *            the data.
 */
static inline bool
espgw_ipv4_cksum_ok(const struct rte_ipv4_hdr *ip, uint16_t hl)
{
	const uint8_t *p = (const uint8_t *)ip;
	uint64_t s = 0;
	uint32_t w;

	if (hl != sizeof(*ip))
		return rte_raw_cksum(ip, hl) == 0xffff;
	/* memcpy: the header is only 2-byte aligned behind Ethernet */
	for (unsigned int i = 0; i < sizeof(*ip); i += 4) {
		memcpy(&w, p + i, 4);
		s += w;
	}
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

#endif /* ESPGW_IPV4_H */
