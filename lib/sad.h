/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_SAD_H
#define ESPGW_SAD_H

#include <assert.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_hash.h>

#include "sa.h"

/* Hash key: SPI and destination as they are on the wire, an IPv4 one in
 * the first four bytes of dst and the family telling them apart, padded
 * to 32 bytes, for which rte_hash compares with vector instructions
 * (other sizes go through memcmp). */
struct espgw_sad_key {
	rte_be32_t spi;
	uint32_t family; /* AF_INET or AF_INET6 */
	uint8_t dst[16];
	uint64_t zero;
};

static_assert(sizeof(struct espgw_sad_key) == 32,
	      "a size rte_hash compares fast");

/* Every byte of the key of spi (network order) and dst, an IPv4
 * address (4 bytes) or an IPv6 one (16), as equal keys must hash
 * alike. */
static inline void
espgw_sad_key_set(struct espgw_sad_key *k, rte_be32_t spi, uint32_t family,
		  const void *dst)
{
	const size_t n = family == AF_INET6 ? sizeof(k->dst) : 4;

	k->spi = spi;
	k->family = family;
	memcpy(k->dst, dst, n);
	memset(k->dst + n, 0, sizeof(k->dst) - n);
	k->zero = 0;
}

struct espgw_sad {
	struct rte_hash *h;
	uint32_t max; /* entries it was made for */
};

#endif /* ESPGW_SAD_H */
