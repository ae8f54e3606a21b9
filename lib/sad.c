/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Inbound SA database: (SPI, outer destination) -> SA (RFC 4301
 * section 4.4.2: a unicast SA is found by SPI, optionally with the
 * destination). Lock-free for readers (rte_hash's RW_CONCURRENCY_LF):
 * one writer changes it while workers look up. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "sad.h"

struct espgw_sad *
espgw_sad_create(const char *name, uint32_t max_sa, int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = max_sa < 8 ? 8 : max_sa,
		.key_len = sizeof(struct espgw_sad_key),
		.hash_func = rte_hash_crc, /* CRC32 instructions */
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct espgw_sad *sad;
	unsigned int bits = 10;

	/* twice the entries, so that a full SAD leaves most slots empty;
	 * at most 1 MiB */
	while (bits < 20 && (UINT32_C(1) << bits) < 2 * (uint64_t)hp.entries)
		bits++;
	sad = rte_zmalloc_socket("espgw_sad", sizeof(*sad), 0, socket_id);
	if (sad == NULL)
		return NULL;
	sad->spis = rte_zmalloc_socket("espgw_sad_spis", UINT32_C(1) << bits,
				       RTE_CACHE_LINE_SIZE, socket_id);
	sad->spi_shift = (uint8_t)(32 - bits);
	sad->h = sad->spis != NULL ? rte_hash_create(&hp) : NULL;
	if (sad->h == NULL) {
		rte_free(sad->spis);
		rte_free(sad);
		return NULL;
	}
	sad->max = hp.entries;
	return sad;
}

static void
spi_count(struct espgw_sad *sad, rte_be32_t spi, int d)
{
	uint8_t *c = &sad->spis[espgw_sad_spi_slot(sad, spi)];
	uint8_t v = __atomic_load_n(c, __ATOMIC_RELAXED);

	if (v == UINT8_MAX)
		return; /* stuck: "maybe" for good */
	/* the writer is alone; the store is atomic for the readers */
	__atomic_store_n(c, (uint8_t)(v + d), __ATOMIC_RELEASE);
}

void
espgw_sad_free(struct espgw_sad *sad)
{
	if (sad == NULL)
		return;
	rte_hash_free(sad->h);
	rte_free(sad->spis);
	rte_free(sad);
}

static struct espgw_sad_key
sa_key(const struct espgw_sa *sa)
{
	const struct espgw_sa_params *p = espgw_sa_params(sa);
	struct espgw_sad_key k;

	espgw_sad_key_set(&k, rte_cpu_to_be_32(p->spi), p->dst.family,
			  p->dst.family == AF_INET6 ? (const void *)p->dst.v6
						    : &p->dst.v4);
	return k;
}

int
espgw_sad_add(struct espgw_sad *sad, struct espgw_sa *sa)
{
	struct espgw_sad_key k;
	int rc;

	if (espgw_sa_params(sa)->dir != ESPGW_SA_IN)
		return -EINVAL;
	k = sa_key(sa);
	if (rte_hash_lookup(sad->h, &k) >= 0)
		return -EEXIST;
	spi_count(sad, k.spi, 1);
	rc = rte_hash_add_key_data(sad->h, &k, sa);
	if (rc != 0) {
		spi_count(sad, k.spi, -1);
		return -ENOSPC;
	}
	return 0;
}

int
espgw_sad_set(struct espgw_sad *sad, struct espgw_sa *sa)
{
	struct espgw_sad_key k;
	bool fresh;

	if (espgw_sa_params(sa)->dir != ESPGW_SA_IN)
		return -EINVAL;
	k = sa_key(sa);
	fresh = rte_hash_lookup(sad->h, &k) < 0;
	if (fresh)
		spi_count(sad, k.spi, 1);
	/* an existing key's data is replaced with one atomic store */
	if (rte_hash_add_key_data(sad->h, &k, sa) != 0) {
		if (fresh)
			spi_count(sad, k.spi, -1);
		return -ENOSPC;
	}
	return 0;
}

int32_t
espgw_sad_unlink(struct espgw_sad *sad, const struct espgw_sa *sa)
{
	struct espgw_sad_key k = sa_key(sa);
	int32_t pos = rte_hash_del_key(sad->h, &k);

	if (pos < 0)
		return -ENOENT;
	spi_count(sad, k.spi, -1);
	return pos;
}

void
espgw_sad_reclaim(struct espgw_sad *sad, int32_t pos)
{
	/* lock-free: a deleted key's slot is freed only when asked */
	rte_hash_free_key_with_position(sad->h, pos);
}

int
espgw_sad_del(struct espgw_sad *sad, const struct espgw_sa *sa)
{
	int32_t pos = espgw_sad_unlink(sad, sa);

	if (pos < 0)
		return pos;
	espgw_sad_reclaim(sad, pos);
	return 0;
}

uint32_t
espgw_sad_count(const struct espgw_sad *sad)
{
	return (uint32_t)rte_hash_count(sad->h);
}

uint32_t
espgw_sad_capacity(const struct espgw_sad *sad)
{
	return sad->max;
}

static struct espgw_sa *
sad_find(const struct espgw_sad *sad, uint32_t spi, uint32_t family,
	 const void *dst)
{
	struct espgw_sad_key k;
	void *data;

	espgw_sad_key_set(&k, rte_cpu_to_be_32(spi), family, dst);
	if (rte_hash_lookup_data(sad->h, &k, &data) < 0)
		return NULL;
	return data;
}

struct espgw_sa *
espgw_sad_lookup(const struct espgw_sad *sad, uint32_t spi, uint32_t dst)
{
	return sad_find(sad, spi, AF_INET, &dst);
}

struct espgw_sa *
espgw_sad_lookup6(const struct espgw_sad *sad, uint32_t spi,
		  const uint8_t dst[16])
{
	return sad_find(sad, spi, AF_INET6, dst);
}
