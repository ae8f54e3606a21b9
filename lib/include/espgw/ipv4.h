/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_IPV4_H
#define ESPGW_IPV4_H

/**
 * @file
 * IPv4 header checksum check for the per-packet path of the library and
 * the gateway. Almost every header is 20 bytes; for those, two 64-bit
 * loads and one 32-bit load, added with end-around carry and folded,
 * beat rte_raw_cksum()'s 16-bit loop.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>

/* One's complement additions (RFC 1071 section 2: the carry out of the
 * top goes back in at the bottom, and cannot carry again). */
static inline uint64_t
espgw_ones_add64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s + (s < a);
}

static inline uint32_t
espgw_ones_add32(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < a);
}

static inline uint16_t
espgw_ones_add16(uint16_t a, uint16_t b)
{
	uint16_t s = (uint16_t)(a + b);

	return (uint16_t)(s + (s < a));
}

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
	uint64_t a, b, s;
	uint32_t c;

	if (hl != sizeof(*ip))
		return rte_raw_cksum(ip, hl) == 0xffff;
	/* memcpy: the header is only 2-byte aligned behind Ethernet */
	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	memcpy(&c, p + 16, 4);
	s = espgw_ones_add64(espgw_ones_add64(a, b), c);
	c = espgw_ones_add32((uint32_t)s, (uint32_t)(s >> 32));
	return espgw_ones_add16((uint16_t)c, (uint16_t)(c >> 16)) == 0xffff;
}

#endif /* ESPGW_IPV4_H */
