/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mempool.h>

#include "sa.h"

struct rte_mempool *fz_pool, *fz_big_pool;
struct espgw_worker *fz_worker;

int LLVMFuzzerInitialize(int *argc, char ***argv);

__attribute__((weak)) void
fz_target_init(void)
{
}

__attribute__((weak)) void
fz_seeds(void)
{
}

static const char *seed_dir;
static unsigned int seed_nb;

void
fz_seed(const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%03u", seed_dir, seed_nb++);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
}

void
fz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s\n", file, line, what);
	abort();
}

/* At exit, so LeakSanitizer's check at exit finds nothing of ours. */
static void
fz_cleanup(void)
{
	espgw_worker_free(fz_worker);
	rte_mempool_free(fz_pool);
	rte_mempool_free(fz_big_pool);
	rte_eal_cleanup();
}

/* EAL once a process, before the first input. A file prefix of its own
 * (pid) so that parallel jobs (-jobs, -fork) never meet in /var/run. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = {
		(*argv)[0],    "--no-huge",
		"-m",	       "512",
		"--no-pci",    "--no-telemetry",
		"--no-shconf", "--file-prefix",
		prefix,	       "-l",
		"0",	       "--log-level=lib.*:error",
	};

	(void)argc;
	snprintf(prefix, sizeof(prefix), "fuzz%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		exit(1);
	}
	fz_pool = rte_pktmbuf_pool_create("fz_pool", 2047, 0, 0, FZ_ROOM,
					  SOCKET_ID_ANY);
	fz_big_pool = rte_pktmbuf_pool_create("fz_big", 63, 0, 0, FZ_BIG_ROOM,
					      SOCKET_ID_ANY);
	fz_worker = espgw_worker_create(0, SOCKET_ID_ANY);
	if (fz_pool == NULL || fz_big_pool == NULL || fz_worker == NULL) {
		fprintf(stderr, "fuzz set-up failed\n");
		exit(1);
	}
	atexit(fz_cleanup);
	fz_target_init();
	seed_dir = getenv("FUZZ_SEEDS");
	if (seed_dir != NULL) {
		fz_seeds();
		printf("%u seeds in %s\n", seed_nb, seed_dir);
		exit(0);
	}
	return 0;
}

size_t
fz_bytes(struct fz_in *in, void *dst, size_t len)
{
	size_t k = RTE_MIN(len, in->n);

	memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, len - k);
	in->p += k;
	in->n -= k;
	return k;
}

uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v;

	fz_bytes(in, &v, 1);
	return v;
}

uint16_t
fz_u16(struct fz_in *in)
{
	uint8_t b[2];

	fz_bytes(in, b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint32_t
fz_u32(struct fz_in *in)
{
	return (uint32_t)fz_u16(in) << 16 | fz_u16(in);
}

uint64_t
fz_u64(struct fz_in *in)
{
	return (uint64_t)fz_u32(in) << 32 | fz_u32(in);
}

unsigned int
fz_avail(void)
{
	return rte_mempool_avail_count(fz_pool) +
	       rte_mempool_avail_count(fz_big_pool);
}

struct rte_mbuf *
fz_alloc(size_t room)
{
	struct rte_mbuf *m;

	if (room <= FZ_ROOM)
		m = rte_pktmbuf_alloc(fz_pool);
	else if (room <= FZ_BIG_ROOM)
		m = rte_pktmbuf_alloc(fz_big_pool);
	else
		return NULL;
	/* fz_mbuf_room() may have cut it short the last time round */
	if (m != NULL)
		m->buf_len = rte_pktmbuf_data_room_size(m->pool);
	return m;
}

struct rte_mbuf *
fz_mbuf_room(const uint8_t *data, size_t len, uint16_t headroom,
	     uint16_t tailroom)
{
	size_t want = len + headroom + (tailroom == FZ_ALL ? 0 : tailroom);
	struct rte_mbuf *m;

	if (len > UINT16_MAX || (m = fz_alloc(want)) == NULL)
		return NULL;
	/* exact rooms: the buffer ends where the tailroom does */
	if (tailroom != FZ_ALL)
		m->buf_len = (uint16_t)want;
	m->data_off = headroom;
	if (len > 0)
		memcpy(rte_pktmbuf_append(m, (uint16_t)len), data, len);
	return m;
}

struct rte_mbuf *
fz_mbuf(const uint8_t *data, size_t len, uint8_t shape)
{
	static const uint16_t heads[] = { 0, 1, 16, 36, 55, 56, 64, 128 };
	uint16_t head = heads[shape & 7], tail, nb_segs = 1 + (shape >> 3 & 3);
	struct rte_mbuf *first = NULL;
	size_t off = 0;

	/* tailroom: none, a little, the worst case outbound needs, or all */
	switch (shape >> 5 & 3) {
	case 0: tail = 0; break;
	case 1: tail = 7; break;
	case 2: tail = ESPGW_OUTB_TAILROOM; break;
	default: tail = FZ_ALL; break;
	}
	if (len < nb_segs)
		nb_segs = 1;
	for (uint16_t s = 0; s < nb_segs; s++) {
		/* each segment but the last takes half of the rest; the
		 * first has room for the rest behind it (it can be made one
		 * segment) when bit 7 says so */
		bool last = s + 1 == nb_segs;
		size_t seg = last ? len - off : (len - off) / 2;
		uint16_t t = last ? tail : s == 0 && shape >> 7 ? FZ_ALL : 0;
		struct rte_mbuf *m =
			fz_mbuf_room(data + off, seg, s == 0 ? head : 0, t);

		if (m == NULL ||
		    (first != NULL && rte_pktmbuf_chain(first, m) != 0)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(first);
			return NULL;
		}
		if (first == NULL)
			first = m;
		off += seg;
	}
	return first;
}

uint32_t
fz_mbuf_read(const struct rte_mbuf *m, uint8_t *dst, uint32_t cap)
{
	uint32_t off = 0;

	for (; m != NULL; m = m->next) {
		uint32_t k = RTE_MIN((uint32_t)m->data_len, cap - off);

		memcpy(dst + off, rte_pktmbuf_mtod(m, const void *), k);
		off += k;
	}
	return off;
}

void
fz_check_burst(struct rte_mbuf *const before[], struct rte_mbuf *const after[],
	       uint16_t n, uint16_t ok)
{
	uint16_t a = 0, b = ok;

	FZ_CHECK(ok <= n);
	/* a merge of the two runs gives back the arrival order */
	for (uint16_t i = 0; i < n; i++) {
		if (a < ok && after[a] == before[i])
			a++;
		else if (b < n && after[b] == before[i])
			b++;
		else
			FZ_CHECK(!"mbuf lost, doubled or out of order");
	}
	FZ_CHECK(a == ok && b == n);
}

struct espgw_sa *
fz_sa(const struct espgw_sa_params *p)
{
	const char *why = NULL;
	struct espgw_sa *sa = espgw_sa_create(p, &why);

	if (sa == NULL) {
		fprintf(stderr, "SA refused: %s\n", why);
		FZ_CHECK(sa != NULL);
	}
	/* seqiv's base from the SA, not rte_rand(): an input gives the
	 * same bytes in every run, so a finding replays */
	sa->iv_base = 0x9e3779b97f4a7c15u * p->spi;
	return sa;
}

void
fz_drops(const struct espgw_sa *sa, uint64_t d[ESPGW_DROP_MAX])
{
	struct espgw_sa_stats st;

	espgw_worker_drops_read(fz_worker, d);
	if (sa != NULL) {
		espgw_sa_stats_read(sa, &st);
		for (int i = 0; i < ESPGW_DROP_MAX; i++)
			d[i] += st.drops[i];
	}
}

uint64_t
fz_drops_total(const struct espgw_sa *sa)
{
	uint64_t d[ESPGW_DROP_MAX], sum = 0;

	fz_drops(sa, d);
	for (int i = 0; i < ESPGW_DROP_MAX; i++)
		sum += d[i];
	return sum;
}

/* An inner packet of kind: raw bytes, or an IPv4 or IPv6 header whose
 * fields the input chooses (lengths true or not) over a payload. */
size_t
fz_inner(struct fz_in *in, uint8_t kind, uint8_t *p)
{
	uint8_t f = fz_u8(in);
	size_t len = fz_u16(in), hl;

	switch (kind & 3) {
	case 0: /* raw: whatever the input says, 0 bytes to 65535 */
		fz_bytes(in, p, len);
		return len;
	case 1: {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		hl = 4 * (5 + (f & 15) % 11);
		len = RTE_MIN(len + hl, (size_t)FZ_PKT_MAX);
		memset(p, 0, hl);
		fz_bytes(in, p + sizeof(*ip), hl - sizeof(*ip)); /* options */
		ip->version_ihl = (uint8_t)(0x40 | hl / 4);
		ip->type_of_service = fz_u8(in);
		ip->total_length =
			rte_cpu_to_be_16(f & 0x10 ? fz_u16(in) : (uint16_t)len);
		ip->fragment_offset = f & 0x20 ? rte_cpu_to_be_16(0x4000) : 0;
		ip->time_to_live = 64;
		ip->next_proto_id = 17;
		ip->src_addr = rte_cpu_to_be_32(0x0a00010a);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000214);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = (uint16_t)(rte_ipv4_cksum(ip) ^
					      (f & 0x40 ? 0x5a5a : 0));
		break;
	}
	case 2: {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)p;

		hl = sizeof(*ip6);
		len = RTE_MIN(len + hl, (size_t)FZ_PKT_MAX);
		memset(p, 0, hl);
		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28 | fz_u32(in) >> 4);
		ip6->payload_len = rte_cpu_to_be_16(
			f & 0x10 ? fz_u16(in) : (uint16_t)(len - hl));
		ip6->proto = 17;
		ip6->hop_limits = 64;
		ip6->src_addr[0] = 0x20;
		ip6->dst_addr[0] = 0x20;
		ip6->dst_addr[15] = 2;
		break;
	}
	default: /* a header of the version the input says, and no more */
		hl = 1;
		len = RTE_MIN(len, (size_t)FZ_PKT_MAX);
		fz_bytes(in, p, len);
		if (len > 0)
			p[0] = (uint8_t)((f & 0xf0) | (p[0] & 0x0f));
		return len;
	}
	/* the payload is the input's only when f says so: a seed's next
	 * packets are not eaten by this one's bytes */
	if (f & 0x08)
		fz_bytes(in, p + hl, len - hl);
	else
		for (size_t i = hl; i < len; i++)
			p[i] = (uint8_t)(i * 13 + f);
	/* link-layer padding behind the packet, which outbound trims */
	if (f & 0x80) {
		size_t pad =
			RTE_MIN((size_t)(fz_u8(in) & 0x3f), FZ_PKT_MAX - len);

		memset(p + len, 0xee, pad);
		len += pad;
	}
	return len;
}

void
fz_sa_pick(struct fz_in *in, struct espgw_sa_params *out,
	   struct espgw_sa_params *inb)
{
	static const uint8_t icvs[] = { 8, 12, 16 };
	static const uint32_t wins[] = { 0, 1, 32, 64, 128, 1024, 65536 };
	uint8_t b = fz_u8(in), c = fz_u8(in);
	uint64_t seq;

	memset(out, 0, sizeof(*out));
	out->dir = ESPGW_SA_OUT;
	out->spi = 0x1000 + b;
	out->key_len = (uint8_t)(16 + 8 * ((b & 3) % 3) + ESPGW_GCM_SALT_LEN);
	for (int i = 0; i < out->key_len; i++)
		out->key[i] = (uint8_t)(b * 29 + i * 7 + 1);
	out->icv_len = icvs[(b >> 2 & 3) % 3];
	out->esn = b >> 4 & 1;
	out->af_unspec = b >> 7 & 1;
	if (b >> 5 & 1) {
		/* 2001:db8::1 -> 2001:db8::2 (RFC 3849) */
		out->src.family = out->dst.family = AF_INET6;
		memcpy(out->src.v6, "\x20\x01\x0d\xb8", 4);
		memcpy(out->dst.v6, out->src.v6, 16);
		out->src.v6[15] = 1;
		out->dst.v6[15] = 2;
	} else {
		out->src.family = out->dst.family = AF_INET;
		out->src.v4 = rte_cpu_to_be_32(0xc0000201); /* 192.0.2.1 */
		out->dst.v4 = rte_cpu_to_be_32(0xc6336401); /* 198.51.100.1 */
		if (b >> 6 & 1)
			out->encap = (struct espgw_sa_encap){ .udp = true,
							      .sport = 4500,
							      .dport = 4501 };
	}
	out->replay_window =
		(c & 7) < RTE_DIM(wins) ? wins[c & 7] : fz_u16(in) + 1u;
	switch (c >> 3 & 7) {
	case 0: seq = 0; break;
	case 1: seq = fz_u16(in); break;
	case 2: seq = UINT32_MAX - fz_u8(in); break;
	case 3: seq = ((uint64_t)fz_u8(in) << 32) - fz_u8(in); break;
	case 4: seq = UINT64_MAX - fz_u8(in); break;
	default: seq = fz_u32(in); break;
	}
	/* without ESN the counter is 32 bits (RFC 4303 section 2.2); ESN
	 * needs a window at the receiver, as xfrm wants */
	out->oseq = out->esn ? seq : (uint32_t)seq;
	if (out->esn && out->replay_window == 0)
		out->replay_window = 64;
	*inb = *out;
	inb->dir = ESPGW_SA_IN;
	inb->oseq = 0;
	inb->iseq = out->oseq;
}
