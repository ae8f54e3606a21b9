/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_FUZZ_COMMON_H
#define ESPGW_FUZZ_COMMON_H

/* What every libFuzzer target shares: EAL started once (no hugepages,
 * no PCI, a file prefix of its own), one worker, mbuf pools whose free
 * counts each input must leave as it found them, a reader of the fuzz
 * input and mbufs shaped by it. A target defines LLVMFuzzerTestOneInput
 * and may define fz_target_init() and fz_seeds() (README.md). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "espgw/esp.h"

/* Data room of fz_pool's mbufs (DPDK's default) and of fz_big_pool's,
 * which hold the longest one an mbuf can (buf_len is 16 bits). */
#define FZ_ROOM RTE_MBUF_DEFAULT_BUF_SIZE
#define FZ_BIG_ROOM UINT16_MAX

extern struct rte_mempool *fz_pool, *fz_big_pool;
extern struct espgw_worker *fz_worker;

/* Called by the common LLVMFuzzerInitialize once EAL, the pools and the
 * worker are up (weak: a target may leave it out). */
void fz_target_init(void);

/* Seed generator mode: with FUZZ_SEEDS=DIR in the environment the
 * target writes its seed inputs there (fz_seed) and exits. */
void fz_seeds(void);
void fz_seed(const void *data, size_t len);

/* Stop the run, printed as a finding: libFuzzer saves the input. */
#define FZ_CHECK(cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			fz_fail(__FILE__, __LINE__, #cond);                    \
	} while (0)
__attribute__((noreturn)) void fz_fail(const char *file, int line,
				       const char *what);

/* The fuzz input as a stream: past its end every read gives zeros. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* Up to len bytes into dst; returns how many there were. */
size_t fz_bytes(struct fz_in *in, void *dst, size_t len);

/* Both pools' free counts together, to compare before and after. */
unsigned int fz_avail(void);

/* An mbuf holding data[0..len), in a shape the byte shape picks: one to
 * four segments (bits 3-4), each but the last half of the rest, the
 * first with headroom from none to the default (bits 0-2), the last's
 * tailroom none, 7 bytes, outbound's worst case or all it has (bits
 * 5-6), and the first's, when chained, none or all (bit 7: whether it
 * can be made one segment). NULL when no buffer is long enough for that
 * shape, never half built. */
struct rte_mbuf *fz_mbuf(const uint8_t *data, size_t len, uint8_t shape);

/* One segment of len bytes with exactly headroom and tailroom around it
 * (FZ_ALL: all the buffer has), from fz_big_pool when it needs to be;
 * NULL when no buffer is that long. The buffer is cut short to make the
 * tailroom exact: take mbufs of these pools with fz_alloc(), which
 * gives them back their whole length. */
#define FZ_ALL UINT16_MAX
struct rte_mbuf *fz_mbuf_room(const uint8_t *data, size_t len,
			      uint16_t headroom, uint16_t tailroom);
/* An mbuf of fz_pool or, for more than FZ_ROOM bytes, fz_big_pool. */
struct rte_mbuf *fz_alloc(size_t room);

/* Copy a (possibly chained) mbuf's bytes out; returns pkt_len. */
uint32_t fz_mbuf_read(const struct rte_mbuf *m, uint8_t *dst, uint32_t cap);

/* Every mbuf of mb[0..n) once and no other: the set before a burst call
 * (before[0..n)) and after it are the same, the ok first ones and the
 * rest each in their original order (esp.h's burst contract). */
void fz_check_burst(struct rte_mbuf *const before[],
		    struct rte_mbuf *const after[], uint16_t n, uint16_t ok);

/* An SA or the run stops: the fuzz targets only make valid ones. Its
 * IVs are a function of its SPI and sequence numbers, so that each
 * input gives the same bytes in every run. */
struct espgw_sa *fz_sa(const struct espgw_sa_params *p);

/* The longest packet an mbuf holds. */
#define FZ_PKT_MAX UINT16_MAX

/* An inner packet into p (FZ_PKT_MAX bytes), of the kind kind & 3
 * says: raw bytes of any length from the input; an IPv4 header (IHL,
 * options, TOS, DF, a true or lying total length, a good or bad
 * checksum) or an IPv6 one (traffic class, flow label, a true or lying
 * payload length) over a patterned or input payload, with link-layer
 * padding behind or not; or raw bytes under a version nibble of the
 * input's choosing. Returns its length. */
size_t fz_inner(struct fz_in *in, uint8_t kind, uint8_t *p);

/* An outbound SA's parameters and its inbound twin's (same key, ends,
 * encapsulation and ESN; the twin's iseq is the outbound oseq), all
 * picked by two input bytes: key size, ICV length, ESN, IPv6 or IPv4
 * outer, ESP in UDP (IPv4), af-unspec, the window, the first
 * sequence number (0, small, near 2^32, near k*2^32, near 2^64). */
void fz_sa_pick(struct fz_in *in, struct espgw_sa_params *out,
		struct espgw_sa_params *inb);

/* Drops counted on sa (NULL: none) and the worker, summed. */
uint64_t fz_drops_total(const struct espgw_sa *sa);
/* Drops by reason: sa's (NULL: none) plus the worker's. */
void fz_drops(const struct espgw_sa *sa, uint64_t d[ESPGW_DROP_MAX]);

#endif
