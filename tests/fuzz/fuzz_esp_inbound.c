/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* espgw_esp_inbound() (RFC 4303 section 3.4, RFC 4106) on three kinds
 * of packet, on SAs of every kind (fz_sa_pick):
 * - raw bytes, or raw bytes behind a true outer header and the SA's
 *   SPI: must never pass (no ICV can be guessed);
 * - an inner packet sealed by espgw_esp_outbound(), then mutated or
 *   not: unmutated and fresh it must pass, give back the inner packet
 *   byte for byte and seal again to the very same bytes;
 * - a plaintext the input writes (inner packet, TFC padding, pad bytes,
 *   pad length, next header), encrypted with the SA's key by the
 *   library's own GCM calls behind a true outer header, so the
 *   checks after the ICV are reached: fresh and unmutated, its fate
 *   must be the one a model of RFC 4303 sections 2.4-2.7 and RFC 6040
 *   gives it.
 * Any packet that passes must be what was sealed, with the ECN a
 * model of RFC 6040 section 4.2 gives. Every burst keeps the burst
 * contract, counts each failure once, and the pools end full. */

#include <stdio.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "common.h"
#include "drops.h"
#include "sa.h"

enum { BURST = 8, BURSTS = 4 };
enum { RAW, SEALED, CRAFTED };

/* One packet as the harness knows it. */
struct pkt {
	int kind;
	bool fresh; /* a number right of the window, unmutated: predictable */
	bool mutated;
	uint64_t seq;
	uint32_t pt_len; /* its plaintext (RFC 4303 section 2), not RAW */
	uint32_t wire_len;
	uint8_t pt[FZ_PKT_MAX];
	uint8_t wire[FZ_PKT_MAX]; /* the packet as sent */
};

static struct pkt pk[BURST];
static uint8_t buf[FZ_PKT_MAX], got[FZ_PKT_MAX], want[FZ_PKT_MAX];
static struct espgw_sad *sad;

void
fz_target_init(void)
{
	sad = espgw_sad_create("fz_sad", 4, SOCKET_ID_ANY);
	FZ_CHECK(sad != NULL);
}

/* The outer ECN codepoint of a packet as it goes in. */
static uint8_t
outer_ecn(const uint8_t *w, uint32_t len)
{
	if (len < 2)
		return 0;
	return (w[0] >> 4 == 6 ? (w[1] >> 4) : w[1]) & ESPGW_ECN_MASK;
}

static uint16_t
cksum16(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* What inbound must make of an authentic plaintext pt[0..len) (the
 * checks after the ICV and the window), in RFC order: pad length and
 * pad bytes 1, 2, ... (RFC 4303 section 2.4), next header 59, a dummy
 * (section 2.6), next header 4 or 41, the SA's family without
 * af-unspec, an inner header that fits before the padding (TFC padding,
 * section 2.7, may follow it), then ECN (RFC 6040 section 4.2). On
 * ESPGW_OK the inner packet as it must come out is in out. */
static int
model_open(const uint8_t *pt, uint32_t len, uint8_t ecn,
	   const struct espgw_sa_params *sp, uint8_t *out, uint32_t *out_len)
{
	uint8_t pad = pt[len - 2], nh = pt[len - 1], in_ecn, set;
	uint32_t room, tot;

	if (pad > len - 2)
		return ESPGW_DROP_BAD_PADDING;
	room = len - 2 - pad;
	for (uint32_t i = 0; i < pad; i++)
		if (pt[room + i] != (uint8_t)(i + 1))
			return ESPGW_DROP_BAD_PADDING;
	if (nh == ESPGW_IPPROTO_NONE)
		return ESPGW_DROP_DUMMY_PACKET;
	if (nh != ESPGW_IPPROTO_IPIP && nh != ESPGW_IPPROTO_IPV6)
		return ESPGW_DROP_BAD_NEXT_HEADER;
	if (!sp->af_unspec &&
	    (nh == ESPGW_IPPROTO_IPV6) != (sp->dst.family == AF_INET6))
		return ESPGW_DROP_INNER_FAMILY;
	if (nh == ESPGW_IPPROTO_IPIP) {
		uint32_t hl = 4u * (pt[0] & 15);

		if (room < 20 || pt[0] >> 4 != 4 || hl < 20 || hl > room)
			return ESPGW_DROP_BAD_INNER_HEADER;
		tot = (uint32_t)pt[2] << 8 | pt[3];
		if (tot < hl || tot > room || cksum16(pt, hl) != 0xffff)
			return ESPGW_DROP_BAD_INNER_HEADER;
		in_ecn = pt[1] & 3;
	} else {
		if (room < 40 || pt[0] >> 4 != 6)
			return ESPGW_DROP_BAD_INNER_HEADER;
		tot = 40u + ((uint32_t)pt[4] << 8 | pt[5]);
		if (tot > room)
			return ESPGW_DROP_BAD_INNER_HEADER;
		in_ecn = (pt[1] >> 4) & 3;
	}
	/* RFC 6040 section 4.2's table: Not-ECT with CE outside is
	 * dropped; CE outside marks the inner, ECT(1) outside marks an
	 * inner ECT(0); all else leaves the inner as it is */
	if (in_ecn == ESPGW_ECN_NOT_ECT && ecn == ESPGW_ECN_CE)
		return ESPGW_DROP_ECN_CE_NOT_ECT;
	set = in_ecn;
	if (in_ecn != ESPGW_ECN_NOT_ECT && ecn == ESPGW_ECN_CE)
		set = ESPGW_ECN_CE;
	else if (in_ecn == ESPGW_ECN_ECT0 && ecn == ESPGW_ECN_ECT1)
		set = ESPGW_ECN_ECT1;
	memcpy(out, pt, tot);
	if (set != in_ecn) {
		if (nh == ESPGW_IPPROTO_IPIP) {
			uint32_t hl = 4u * (pt[0] & 15);
			uint16_t c;

			out[1] = (uint8_t)((out[1] & ~3) | set);
			out[10] = out[11] = 0;
			c = (uint16_t)~cksum16(out, hl);
			out[10] = (uint8_t)(c >> 8);
			out[11] = (uint8_t)c;
		} else {
			out[1] = (uint8_t)((out[1] & ~0x30) | set << 4);
		}
	}
	*out_len = tot;
	return ESPGW_OK;
}

/* The outer header the SA's peer would put in front of esp_len bytes of
 * ESP: IPv4 (and UDP with ESP in UDP) or IPv6, with the input's
 * TOS / traffic class. Returns its length. */
static uint32_t
outer(uint8_t *w, const struct espgw_sa_params *sp, uint32_t esp_len,
      uint8_t tos)
{
	struct rte_ipv4_hdr *ip;
	uint32_t hl;

	if (sp->dst.family == AF_INET6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)w;

		memset(ip6, 0, sizeof(*ip6));
		ip6->vtc_flow =
			rte_cpu_to_be_32(6u << 28 | (uint32_t)tos << 20);
		ip6->payload_len = rte_cpu_to_be_16((uint16_t)esp_len);
		ip6->proto = ESPGW_IPPROTO_ESP;
		ip6->hop_limits = 64;
		memcpy(ip6->src_addr, sp->src.v6, 16);
		memcpy(ip6->dst_addr, sp->dst.v6, 16);
		return sizeof(*ip6);
	}
	ip = (struct rte_ipv4_hdr *)w;
	hl = sizeof(*ip) + (sp->encap.udp ? sizeof(struct rte_udp_hdr) : 0);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(hl + esp_len));
	ip->time_to_live = 64;
	ip->next_proto_id =
		sp->encap.udp ? ESPGW_IPPROTO_UDP : ESPGW_IPPROTO_ESP;
	ip->src_addr = sp->src.v4;
	ip->dst_addr = sp->dst.v4;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (sp->encap.udp) {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);

		/* RFC 3948 section 3.1.2: checksum 0 */
		uh->src_port = rte_cpu_to_be_16(sp->encap.sport);
		uh->dst_port = rte_cpu_to_be_16(sp->encap.dport);
		uh->dgram_len =
			rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + esp_len));
		uh->dgram_cksum = 0;
	}
	return hl;
}

/* A plaintext as the input writes it into p->pt: an inner packet, TFC
 * padding, pad bytes right or wrong, a pad length and next header
 * right or not. */
static void
craft_plaintext(struct fz_in *in, struct pkt *p, uint32_t max)
{
	uint8_t f = fz_u8(in), kind = fz_u8(in), nh, pad;
	uint32_t len = (uint32_t)fz_inner(in, kind, buf), tfc;

	len = RTE_MIN(len, max - 2 - 255 - 255);
	memcpy(p->pt, buf, len);
	/* TFC padding behind the inner packet (RFC 4303 section 2.7) */
	tfc = f & 1 ? fz_u8(in) : 0;
	memset(p->pt + len, 0, tfc);
	len += tfc;
	pad = f & 2 ? fz_u8(in) : (uint8_t)((4 - (len + 2) % 4) % 4);
	for (uint32_t i = 0; i < pad; i++)
		p->pt[len + i] = (uint8_t)(i + 1);
	if (f & 4 && pad > 0) /* one pad byte wrong */
		p->pt[len + fz_u8(in) % pad] ^= (uint8_t)(1 | fz_u8(in));
	len += pad;
	p->pt[len++] = f & 8 ? fz_u8(in) : pad;
	switch (f >> 4 & 3) {
	case 0: nh = buf[0] >> 4 == 6 ? 41 : 4; break; /* as the inner */
	case 1: nh = buf[0] >> 4 == 6 ? 4 : 41; break; /* the other */
	case 2: nh = ESPGW_IPPROTO_NONE; break;
	default: nh = fz_u8(in); break;
	}
	p->pt[len++] = nh;
	p->pt_len = len;
}

/* Encrypt p->pt as the SA's peer: ESP header, IV, ciphertext and ICV
 * behind an outer header, with the library's GCM calls and the SA's
 * nonce and AAD layout (RFC 4106 sections 4 and 5). */
static void
craft_seal(struct pkt *p, const struct espgw_sa *sa,
	   const struct espgw_sa_params *sp, uint8_t tos, uint64_t iv)
{
	uint32_t esp_len =
		ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN + p->pt_len + sp->icv_len;
	uint32_t hl = outer(p->wire, sp, esp_len, tos);
	struct espgw_esp_hdr *esp = (struct espgw_esp_hdr *)(p->wire + hl);
	uint8_t *ct = p->wire + hl + ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN;
	struct espgw_gcm_nonce nonce;
	struct espgw_gcm_aad aad;
	struct gcm_context_data ctx;

	esp->spi = rte_cpu_to_be_32(sp->spi);
	esp->seq = rte_cpu_to_be_32((uint32_t)p->seq);
	memcpy(esp + 1, &iv, ESPGW_GCM_IV_LEN);
	espgw_gcm_nonce_aad(sa, p->seq, esp + 1, &nonce, &aad);
	memcpy(ct, p->pt, p->pt_len);
	fz_worker->enc[sa->ks](&sa->key, &ctx, ct, ct, p->pt_len,
			       (const uint8_t *)&nonce,
			       (const uint8_t *)&aad + sa->aad_off, sa->aad_len,
			       ct + p->pt_len, sa->icv_len);
	p->wire_len = hl + esp_len;
}

/* A few bytes changed, the end cut or lengthened. */
static void
mutate(struct fz_in *in, struct pkt *p)
{
	uint8_t k = fz_u8(in);

	for (uint8_t i = 0; i < (k & 3) + 1 && p->wire_len > 0; i++) {
		uint16_t at = fz_u16(in);

		p->wire[at % p->wire_len] ^= fz_u8(in);
	}
	if (k & 4)
		p->wire_len -= RTE_MIN(p->wire_len, (uint32_t)fz_u8(in));
	if (k & 8) {
		uint32_t more =
			RTE_MIN((uint32_t)fz_u8(in), FZ_PKT_MAX - p->wire_len);

		fz_bytes(in, p->wire + p->wire_len, more);
		p->wire_len += more;
	}
	p->mutated = true;
}

/* The sender's side of one input: the next number it will use, and
 * what the receiver's window has surely seen (lo) and may have (hi). */
struct sender {
	uint64_t next, lo, hi;
	bool esn, replay;
};

/* A number the receiver must take: right of anything it may have seen,
 * near enough to what it surely has for ESN's inference (RFC 4303
 * appendix A2.2), and not past the counter's end. */
static bool
is_fresh(const struct sender *s, uint64_t seq)
{
	if (seq == 0 || (!s->esn && seq > UINT32_MAX))
		return false;
	if (!s->replay)
		return true;
	return seq > s->hi && seq - s->lo < (UINT64_C(1) << 31);
}

/* Seal again what came out, with an SA that numbers and IVs as the
 * first did: the same bytes must come out (RFC 4303 section 3.3 leaves
 * the sender no choice once seq and IV are fixed). */
static void
check_reseal(struct espgw_sa *re, const struct rte_mbuf *m, const struct pkt *p)
{
	struct rte_mbuf *c;
	uint32_t len, tail;

	len = fz_mbuf_read(m, got, sizeof(got));
	/* the headroom it was first sealed with, and the tailroom the
	 * trailer needs: the first buffer may have been of the big pool,
	 * for padding behind the IP length that inbound did not give back.
	 * No more than a 16-bit buffer has: one that long was first sealed
	 * in a big buffer with less than the worst case behind it. */
	tail = RTE_MIN((uint32_t)ESPGW_OUTB_TAILROOM, FZ_BIG_ROOM - 64 - len);
	c = fz_mbuf_room(got, len, 64, (uint16_t)tail);
	FZ_CHECK(c != NULL);
	re->oseq = p->seq - 1;
	if (espgw_esp_outbound(fz_worker, re, &c, 1) != 1) {
		struct espgw_sa_stats st;

		espgw_sa_stats_read(re, &st);
		for (int r = 0; r < ESPGW_DROP_MAX; r++)
			if (st.drops[r] != 0)
				fprintf(stderr, "reseal refused: %s\n",
					espgw_drop_name((enum espgw_drop)r));
		FZ_CHECK(!"outbound refused what inbound opened");
	}
	FZ_CHECK(c->pkt_len == p->wire_len);
	fz_mbuf_read(c, got, sizeof(got));
	FZ_CHECK(memcmp(got, p->wire, p->wire_len) == 0);
	rte_pktmbuf_free(c);
}

/* Build packet i of a burst; false when outbound dropped its inner. */
static bool
make_pkt(struct fz_in *in, struct pkt *p, struct espgw_sa *out,
	 struct espgw_sa *inb, const struct espgw_sa_params *sp,
	 struct sender *s)
{
	uint8_t mode = fz_u8(in);

	memset(p, 0, offsetof(struct pkt, pt));
	p->kind = (mode & 3) % 3;
	if (p->kind == RAW) {
		uint32_t hl = 0, len = fz_u16(in);

		/* a true outer header and SPI, or none */
		if (mode & 0x10) {
			rte_be32_t spi = rte_cpu_to_be_32(sp->spi);

			hl = outer(p->wire, sp, len, fz_u8(in));
			memcpy(p->wire + hl, &spi, sizeof(spi));
			hl += sizeof(spi);
		}
		len = RTE_MIN(len, FZ_PKT_MAX - hl);
		fz_bytes(in, p->wire + hl, len);
		p->wire_len = hl + len;
	} else if (p->kind == SEALED) {
		struct rte_mbuf *m;
		uint32_t len = (uint32_t)fz_inner(in, fz_u8(in), buf);
		uint8_t pad;

		m = fz_mbuf_room(buf, len, 64, FZ_ALL);
		if (m == NULL)
			return false;
		p->seq = s->next;
		out->oseq = p->seq - 1;
		if (espgw_esp_outbound(fz_worker, out, &m, 1) != 1) {
			rte_pktmbuf_free(m);
			return false;
		}
		s->next++;
		p->wire_len = fz_mbuf_read(m, p->wire, sizeof(p->wire));
		rte_pktmbuf_free(m);
		/* what outbound encrypted (RFC 4303 section 2.4): the inner
		 * packet cut to its IP length, pad 1, 2, ..., pad length and
		 * next header */
		len = buf[0] >> 4 == 6 ? 40u + (uint32_t)(buf[4] << 8 | buf[5])
				       : (uint32_t)(buf[2] << 8 | buf[3]);
		pad = (uint8_t)((4 - (len + 2) % 4) % 4);
		p->pt_len = len + pad + 2;
		FZ_CHECK(p->wire_len ==
			 espgw_sa_outer_len(sp) + p->pt_len + sp->icv_len);
		memcpy(p->pt, buf, len);
		for (uint8_t i = 0; i < pad; i++)
			p->pt[len + i] = (uint8_t)(i + 1);
		p->pt[len + pad] = pad;
		p->pt[len + pad + 1] = buf[0] >> 4 == 6 ? 41 : 4;
	} else {
		uint8_t tos = fz_u8(in), how = fz_u8(in);

		craft_plaintext(in, p, FZ_PKT_MAX - 80);
		/* the next number, one a little ahead, or any */
		p->seq = how & 1 ? s->next + (how >> 1) : fz_u64(in);
		if (!sp->esn)
			p->seq = (uint32_t)p->seq;
		craft_seal(p, inb, sp, tos, fz_u64(in));
		if (p->seq >= s->next)
			s->next = p->seq + 1;
	}
	p->fresh = p->kind != RAW && is_fresh(s, p->seq);
	if (mode & 0x80)
		mutate(in, p);
	if (p->kind != RAW && p->seq > s->hi)
		s->hi = p->seq;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned int avail = fz_avail();
	struct espgw_sa_params po, pi;
	struct espgw_sa *out, *inb, *re;
	struct sender s;
	uint8_t behind;

	fz_sa_pick(&in, &po, &pi);
	/* the receiver may be ahead of the sender */
	behind = fz_u8(&in);
	if (behind & 1)
		pi.iseq += behind >> 1;
	if (!pi.esn)
		pi.iseq = (uint32_t)pi.iseq;
	out = fz_sa(&po);
	re = fz_sa(&po);
	inb = fz_sa(&pi);
	re->iv_base = out->iv_base;
	FZ_CHECK(espgw_sad_add(sad, inb) == 0);
	s = (struct sender){ .next = po.oseq + 1,
			     .lo = pi.iseq,
			     .hi = pi.iseq,
			     .esn = po.esn,
			     .replay = pi.replay_window != 0 };

	for (unsigned int b = 0; b < BURSTS && in.n > 0; b++) {
		struct rte_mbuf *mb[BURST], *before[BURST];
		struct espgw_sa *who[BURST];
		uint64_t d0[ESPGW_DROP_MAX], d1[ESPGW_DROP_MAX];
		uint64_t want_drops[ESPGW_DROP_MAX] = { 0 };
		uint8_t ecn[BURST];
		bool authentic[BURST]; /* the ICV and the window pass */
		int rc[BURST];
		uint16_t n = 0, ok, nb_ok = 0, want_n = 1 + fz_u8(&in) % BURST;
		bool all_fresh = true;

		for (uint16_t i = 0; i < want_n && in.n > 0; i++) {
			struct pkt *p = &pk[n];
			uint8_t shape = fz_u8(&in);

			if (!make_pkt(&in, p, out, inb, &po, &s))
				continue;
			mb[n] = fz_mbuf(p->wire, p->wire_len, shape);
			if (mb[n] == NULL)
				mb[n] = fz_mbuf(p->wire, p->wire_len, 0x60);
			FZ_CHECK(mb[n] != NULL);
			ecn[n] = outer_ecn(p->wire, p->wire_len);
			rc[n] = -2; /* not predicted */
			authentic[n] = false;
			if (mb[n]->nb_segs > 1 &&
			    rte_pktmbuf_tailroom(mb[n]) <
				    mb[n]->pkt_len - mb[n]->data_len) {
				/* a chain that cannot be made one segment,
				 * before all else (esp.h) */
				rc[n] = ESPGW_DROP_NO_ROOM;
				want_drops[rc[n]]++;
			} else if (p->kind != RAW && p->fresh && !p->mutated) {
				authentic[n] = true;
				uint32_t olen;

				rc[n] = model_open(p->pt, p->pt_len, ecn[n],
						   &pi, want, &olen);
				if (rc[n] == ESPGW_OK)
					nb_ok++;
				else
					want_drops[rc[n]]++;
			} else {
				all_fresh = false;
			}
			n++;
		}
		if (n == 0)
			continue;
		memcpy(before, mb, n * sizeof(mb[0]));
		fz_drops(inb, d0);
		ok = espgw_esp_inbound(fz_worker, sad, mb, who, n);
		fz_drops(inb, d1);
		fz_check_burst(before, mb, n, ok);
		/* one reason for each failure, and only one */
		{
			uint64_t sum = 0;

			for (int r = 0; r < ESPGW_DROP_MAX; r++)
				sum += d1[r] - d0[r];
			FZ_CHECK(sum == (uint64_t)(n - ok));
		}
		if (all_fresh) {
			FZ_CHECK(ok == nb_ok);
			for (int r = 0; r < ESPGW_DROP_MAX; r++)
				FZ_CHECK(d1[r] - d0[r] == want_drops[r]);
		}
		for (uint16_t i = 0, k = 0; i < n; i++) {
			struct pkt *p = &pk[i];
			uint32_t olen = 0, len;
			int m_rc;

			if (k < ok && mb[k] == before[i]) {
				/* it passed: authentic, so what was sealed */
				FZ_CHECK(p->kind != RAW);
				FZ_CHECK(who[k] == inb);
				FZ_CHECK(rc[i] == -2 || rc[i] == ESPGW_OK);
				m_rc = model_open(p->pt, p->pt_len, ecn[i], &pi,
						  want, &olen);
				FZ_CHECK(m_rc == ESPGW_OK);
				FZ_CHECK(mb[k]->nb_segs == 1);
				len = fz_mbuf_read(mb[k], got, sizeof(got));
				FZ_CHECK(len == olen);
				FZ_CHECK(memcmp(got, want, olen) == 0);
				if (p->kind == SEALED && !p->mutated)
					check_reseal(re, mb[k], p);
				if (p->seq > s.lo && s.replay)
					s.lo = p->seq;
				k++;
			} else {
				FZ_CHECK(rc[i] != ESPGW_OK);
				/* authentic ones moved the window all the same
				 * (RFC 4303 section 3.4.3: after the ICV) */
				if (authentic[i] && p->seq > s.lo && s.replay)
					s.lo = p->seq;
			}
		}
		rte_pktmbuf_free_bulk(mb, n);
	}
	FZ_CHECK(espgw_sad_del(sad, inb) == 0);
	espgw_sa_free(out);
	espgw_sa_free(re);
	espgw_sa_free(inb);
	FZ_CHECK(fz_avail() == avail);
	return 0;
}

/* A burst of each kind of packet on SAs of each kind: sealed IPv4 and
 * IPv6 (one chained), crafted with TFC padding, bad padding, a dummy,
 * the other family, CE on Not-ECT, raw behind a true header, and one
 * sealed and mutated in a second burst. */
void
fz_seeds(void)
{
	static const struct {
		uint8_t len, b[3];
	} sas[] = {
		{ 2, { 0x88, 0x03 } },	     /* AES-128, ICV 16, af-unspec */
		{ 2, { 0x15, 0x03 } },	     /* AES-192, ICV 12, ESN */
		{ 2, { 0xa6, 0x02 } },	     /* AES-256, IPv6, af-unspec */
		{ 3, { 0xc0, 0x10, 0x02 } }, /* ESP in UDP, ICV 8, 2^32 - 3 */
		{ 3, { 0x90, 0x20, 0x01 } }, /* ESN, 2^64 - 2, af-unspec */
		{ 2, { 0x20, 0x00 } },	     /* IPv6: 6in6 only, no window */
		{ 2, { 0x08, 0x05 } },	     /* IPv4: 4in4 only, 1024 */
	};
#define IV 1, 2, 3, 4, 5, 6, 7, 8
	static const uint8_t pkts[] = {
		0, /* the receiver is not ahead */
		7, /* 8 packets: shape, mode, then the mode's fields */
		0x66, 1,    1,	  0x00, 0x00, 0x20, 0x00, /* sealed IPv4 */
		0xf6, 1,    2,	  0x00, 0x00, 0x40, 0,	  0,
		0,    0, /* sealed IPv6, 3 segs */
		0x66, 2,    0x02, 0x01, 0x01, 1,    0x00, 0x00,
		0x10, 0x01, 16,	  IV, /* crafted, TFC padding, ECT(0) outside
					 ECT(1) */
		0x66, 2,    0x00, 0x01, 0x06, 1,    0x00, 0x00,
		0x10, 0x00, 5,	  2,	0xff, IV, /* crafted, a pad byte wrong
						   */
		0x66, 2,    0x00, 0x01, 0x20, 0,    0x00, 0x00,
		0x04, 0x45, 0,	  0,	0,    IV, /* crafted dummy (next header
						     59) */
		0x66, 2,    0x00, 0x01, 0x10, 1,    0x00, 0x00,
		0x10, 0x00, IV, /* crafted, next header of the other family */
		0x66, 2,    0x03, 0x01, 0x00, 2,    0x00, 0x00,
		0x08, 0,    0,	  0,	0,    IV, /* crafted, CE outside Not-ECT
						   */
		0x66, 0x10, 0x00, 0x20, 0x00, 0x00, 0x11, 0x22,
		0x33, 0x44, /* raw, behind a true header and SPI */
		0,	    /* a second burst of 1 */
		0x66, 0x81, 1,	  0x00, 0x00, 0x20, 0x00, 0x00,
		0x00, 0x01, 0x40, /* sealed, the TOS's ECN flipped */
	};
#undef IV
	uint8_t b[3 + sizeof(pkts)];

	for (size_t i = 0; i < RTE_DIM(sas); i++) {
		memcpy(b, sas[i].b, sas[i].len);
		memcpy(b + sas[i].len, pkts, sizeof(pkts));
		fz_seed(b, sas[i].len + sizeof(pkts));
	}
}
