/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_SAD_H
#define ESPGW_SAD_H

#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_hash.h>
#include <rte_prefetch.h>

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

/* Before the hash, a counting filter on the SPI alone: a count of the
 * SAs whose SPI falls in each slot. A flood of unknown SPIs (each
 * another) is then dropped for one load each, not a cuckoo lookup's two
 * bucket reads. Counts stick at 255 (a slot that full is only ever a
 * false "maybe"). Writers count up before a key goes in and down after
 * it left, so a reader that sees 0 could not have found it. */
struct espgw_sad {
	struct rte_hash *h;
	uint32_t max;	   /* entries it was made for */
	uint8_t *spis;	   /* 1 << spi_bits counts */
	uint8_t spi_shift; /* 32 - spi_bits */
};

static inline uint32_t
espgw_sad_spi_slot(const struct espgw_sad *sad, rte_be32_t spi)
{
	/* Fibonacci hashing: the top bits of spi times 2^32 / phi */
	return (uint32_t)(spi * UINT32_C(0x9e3779b1)) >> sad->spi_shift;
}

/* May an SA with this SPI (network order) be in sad? */
static inline bool
espgw_sad_maybe(const struct espgw_sad *sad, rte_be32_t spi)
{
	return __atomic_load_n(&sad->spis[espgw_sad_spi_slot(sad, spi)],
			       __ATOMIC_RELAXED) != 0;
}

/* Ask for the line espgw_sad_maybe(sad, spi) will read. */
static inline void
espgw_sad_prefetch_maybe(const struct espgw_sad *sad, rte_be32_t spi)
{
	rte_prefetch0(&sad->spis[espgw_sad_spi_slot(sad, spi)]);
}

#endif /* ESPGW_SAD_H */
