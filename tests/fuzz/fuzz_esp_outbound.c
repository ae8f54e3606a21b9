/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* espgw_esp_outbound() on hostile inner packets: any length from 0 to
 * 65535, raw bytes or IP headers with lying lengths, options, bad
 * checksums and link-layer padding, in chained mbufs with little or no
 * headroom and tailroom, of either family on SAs of every kind. Each
 * packet must have the fate a model of the contract gives it (esp.h,
 * RFC 4303 section 3.3): encapsulated, and then framed as RFC 4303 and
 * 4106 say and given back whole by espgw_esp_inbound(), or dropped
 * under the one reason the model names. Every mbuf comes back once,
 * and the pools end as full as they began.
 *
 * Input: two bytes of SA (fz_sa_pick), then bursts: a count, then per
 * packet a shape byte (fz_mbuf), a kind byte and its fields. */

#include <string.h>

#include <rte_ip.h>

#include "common.h"
#include "drops.h"
#include "esp_wire.h"

enum { BURST = 8, BURSTS = 4, PKT_MAX = UINT16_MAX };

static struct espgw_sad *sad;

void
fz_target_init(void)
{
	sad = espgw_sad_create("fz_sad", 4, SOCKET_ID_ANY);
	FZ_CHECK(sad != NULL);
}

/* What one packet should become, worked out before the call. */
struct expect {
	int rc;		 /* ESPGW_OK or the drop */
	uint16_t ip_len; /* the inner packet without link-layer padding */
	bool cksum_bad;	 /* inner IPv4 header checksum wrong */
	uint64_t seq;	 /* its sequence number, when encapsulated */
};

static uint8_t pkt[PKT_MAX];
static uint8_t want[BURST][PKT_MAX]; /* each packet's inner bytes */
static uint8_t got[PKT_MAX];

/* The contract's answer for one mbuf (esp.h; RFC 4303 section 3.3),
 * in the order of outb_parse's checks, written from the rules and not
 * from the code: a chain that cannot be made one segment, not an IP
 * packet whose lengths fit, the other family than the SA carries
 * without af-unspec, no room for the outer header or the trailer (or
 * an outer packet past 65535), the sequence numbers run out. */
static struct expect
model(const struct rte_mbuf *m, const uint8_t *p, uint32_t len,
      const struct espgw_sa_params *sp, uint64_t *next)
{
	struct expect e = { .rc = ESPGW_OK };
	uint32_t pad, trailer, room;
	bool v6 = false;

	if (m->nb_segs > 1 && rte_pktmbuf_tailroom(m) < len - m->data_len) {
		e.rc = ESPGW_DROP_NO_ROOM;
		return e;
	}
	if (len >= 1 && p[0] >> 4 == 4 && len >= 20 && (p[0] & 15) >= 5) {
		uint32_t hl = 4u * (p[0] & 15),
			 tot = (uint32_t)p[2] << 8 | p[3];

		if (tot < hl || tot > len || hl > len)
			e.rc = ESPGW_DROP_BAD_INNER_HEADER;
		e.ip_len = (uint16_t)tot;
		e.cksum_bad = hl <= len && rte_raw_cksum(p, hl) != 0xffff;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		uint32_t tot = 40u + ((uint32_t)p[4] << 8 | p[5]);

		if (tot > len)
			e.rc = ESPGW_DROP_BAD_INNER_HEADER;
		e.ip_len = (uint16_t)tot;
		v6 = true;
	} else {
		e.rc = ESPGW_DROP_BAD_INNER_HEADER;
	}
	if (e.rc != ESPGW_OK)
		return e;
	/* without flag af-unspec, the endpoints' family only (the
	 * selector's, as Linux gives it the state's) */
	if (!sp->af_unspec && v6 != (sp->dst.family == AF_INET6)) {
		e.rc = ESPGW_DROP_INNER_FAMILY;
		return e;
	}
	/* RFC 4303 section 2.4 and RFC 4106 section 3.2: pad to 4 */
	pad = (4 - (e.ip_len + 2u) % 4) % 4;
	trailer = pad + ESPGW_ESP_TRAILER_LEN + sp->icv_len;
	/* after the chain is made one and trimmed to the IP length */
	room = m->buf_len - m->data_off - e.ip_len;
	if (m->data_off < espgw_sa_outer_len(sp) || room < trailer ||
	    e.ip_len + espgw_sa_outer_len(sp) + trailer > UINT16_MAX) {
		e.rc = ESPGW_DROP_NO_ROOM;
		return e;
	}
	/* RFC 4303 section 3.3.3: the counter never cycles */
	if (*next > (sp->esn ? UINT64_MAX : UINT32_MAX) || *next == 0) {
		e.rc = ESPGW_DROP_SEQ_EXHAUSTED;
		if (!sp->esn)
			(*next)++;
		return e;
	}
	e.seq = (*next)++;
	return e;
}

/* One encapsulated packet, as RFC 4303 section 2 and RFC 4106 lay it
 * out: outer header, ESP header with the SA's SPI and the expected
 * sequence number, IV, ciphertext padded to 4, ICV. */
static void
check_frame(const struct rte_mbuf *m, const struct expect *e,
	    const struct espgw_sa_params *sp)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t olen = espgw_sa_outer_len(sp);
	const struct espgw_esp_hdr *esp =
		(const struct espgw_esp_hdr *)(p + olen - ESPGW_GCM_IV_LEN -
					       ESPGW_ESP_HDR_LEN);
	uint32_t ct = m->data_len - olen - sp->icv_len;

	FZ_CHECK(m->nb_segs == 1 && m->pkt_len == m->data_len);
	FZ_CHECK(ct >= e->ip_len + 2u && ct - e->ip_len - 2 < 4 && ct % 4 == 0);
	FZ_CHECK(esp->spi == rte_cpu_to_be_32(sp->spi));
	FZ_CHECK(esp->seq == rte_cpu_to_be_32((uint32_t)e->seq));
	if (sp->dst.family == AF_INET6) {
		FZ_CHECK(p[0] >> 4 == 6 && p[6] == ESPGW_IPPROTO_ESP);
		FZ_CHECK((p[4] << 8 | p[5]) == m->data_len - 40);
	} else {
		FZ_CHECK(p[0] == 0x45 && rte_raw_cksum(p, 20) == 0xffff);
		FZ_CHECK((p[2] << 8 | p[3]) == m->data_len);
		FZ_CHECK(p[9] == (sp->encap.udp ? 17 : ESPGW_IPPROTO_ESP));
	}
}

/* Each packet that went out comes back in: the inner bytes as they
 * were, but an inner IPv4 header with a wrong checksum, which inbound
 * refuses (as ip_rcv() would after xfrm; outbound does not read it). */
static void
round_trip(struct espgw_sa *in, struct rte_mbuf **mb, uint16_t n,
	   const struct expect *e, const uint16_t *idx)
{
	struct rte_mbuf *before[BURST], *m;
	struct espgw_sa *who[BURST];
	uint16_t ok, nb_bad = 0;

	for (uint16_t i = 0; i < n; i++)
		nb_bad += e[idx[i]].cksum_bad;
	memcpy(before, mb, n * sizeof(mb[0]));
	ok = espgw_esp_inbound(fz_worker, sad, mb, who, n);
	fz_check_burst(before, mb, n, ok);
	FZ_CHECK(ok == n - nb_bad);
	for (uint16_t i = 0, k = 0; i < n; i++) {
		const struct expect *x = &e[idx[i]];

		if (x->cksum_bad)
			continue;
		m = mb[k++];
		FZ_CHECK(m == before[i] && who[k - 1] == in);
		FZ_CHECK(m->pkt_len == x->ip_len);
		fz_mbuf_read(m, got, sizeof(got));
		FZ_CHECK(memcmp(got, want[idx[i]], x->ip_len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned int avail = fz_avail();
	struct espgw_sa_params po, pi;
	struct espgw_sa *out, *inb;
	uint64_t next;

	fz_sa_pick(&in, &po, &pi);
	/* the receiver keeps every number: no replay drop on the way back */
	if (pi.replay_window != 0)
		pi.replay_window = ESPGW_REPLAY_WINDOW_MAX;
	out = fz_sa(&po);
	inb = fz_sa(&pi);
	FZ_CHECK(espgw_sad_add(sad, inb) == 0);
	next = po.oseq + 1;

	for (unsigned int b = 0; b < BURSTS && in.n > 0; b++) {
		struct rte_mbuf *mb[BURST], *before[BURST];
		struct expect e[BURST];
		uint64_t d0[ESPGW_DROP_MAX], d1[ESPGW_DROP_MAX];
		uint64_t want_drops[ESPGW_DROP_MAX] = { 0 };
		uint16_t n = 1 + fz_u8(&in) % BURST, ok, nb_ok = 0;
		uint16_t idx[BURST];

		for (uint16_t i = 0; i < n; i++) {
			uint8_t shape = fz_u8(&in), kind = fz_u8(&in);
			size_t len = fz_inner(&in, kind, pkt);

			mb[i] = fz_mbuf(pkt, len, shape);
			if (mb[i] == NULL) /* no shape fits: one segment */
				mb[i] = fz_mbuf(pkt, len, 7 << 5);
			FZ_CHECK(mb[i] != NULL);
			e[i] = model(mb[i], pkt, (uint32_t)len, &po, &next);
			if (e[i].rc == ESPGW_OK) {
				memcpy(want[i], pkt, e[i].ip_len);
				nb_ok++;
			} else {
				want_drops[e[i].rc]++;
			}
		}
		memcpy(before, mb, sizeof(mb));
		fz_drops(out, d0);
		ok = espgw_esp_outbound(fz_worker, out, mb, n);
		fz_drops(out, d1);
		fz_check_burst(before, mb, n, ok);
		/* the very packets the model passes, each under its reason */
		FZ_CHECK(ok == nb_ok);
		for (uint16_t i = 0, k = 0; i < n; i++)
			if (e[i].rc == ESPGW_OK) {
				FZ_CHECK(mb[k] == before[i]);
				check_frame(mb[k], &e[i], &po);
				idx[k++] = i;
			}
		for (int r = 0; r < ESPGW_DROP_MAX; r++)
			FZ_CHECK(d1[r] - d0[r] == want_drops[r]);
		round_trip(inb, mb, ok, e, idx);
		rte_pktmbuf_free_bulk(mb, n);
	}
	FZ_CHECK(espgw_sad_del(sad, inb) == 0);
	espgw_sa_free(out);
	espgw_sa_free(inb);
	FZ_CHECK(fz_avail() == avail);
	return 0;
}

/* Valid packets of both families on SAs of each kind, one burst each;
 * a chained one, a short one, one with link-layer padding. */
void
fz_seeds(void)
{
	/* fz_sa_pick's bytes, and the first sequence number's if any */
	static const struct {
		uint8_t len, b[3];
	} sas[] = {
		{ 2, { 0x88, 0x03 } },	     /* AES-128, ICV 16, af-unspec */
		{ 2, { 0x15, 0x03 } },	     /* AES-192, ICV 12, ESN */
		{ 2, { 0xa6, 0x02 } },	     /* AES-256, IPv6, af-unspec */
		{ 3, { 0xc0, 0x10, 0x02 } }, /* ESP in UDP, ICV 8, 2^32 - 3 */
		{ 3, { 0x90, 0x20, 0x01 } }, /* ESN, 2^64 - 2, af-unspec */
		{ 2, { 0x20, 0x00 } },	     /* IPv6: 6in6 only */
		{ 2, { 0x08, 0x03 } },	     /* IPv4: 4in4 only */
	};
	static const uint8_t pkts[] = {
		5, /* 6 packets: shape, kind, flags, length, fields */
		0x66, 1, 0x00, 0x00, 0x20, 0x00, /* IPv4, one segment */
		0xf6, 2, 0x00, 0x00, 0x40, 0,	 0,    0, 0, /* IPv6, 3 segments
							      */
		0x66, 1, 0x80, 0x00, 0x10, 0x02, 0x07,	  /* padding behind */
		0x66, 0, 0x00, 0x00, 0x03, 0x45, 0,    0, /* 3 raw bytes */
		0x66, 2, 0x10, 0x00, 0x10, 0,	 0,    0, 0, 0x05,
		0xdc,				 /* lies */
		0xfe, 1, 0x00, 0x05, 0x00, 0x00, /* 1300 bytes, 4 segments */
		1, /* and a burst of 2 huge ones: 65535 bytes and 65536 */
		0x66, 2, 0x00, 0xff, 0xb0, 0,	 0,    0, 0, /* 40 + 65456 */
		0x06, 1, 0x00, 0xff, 0xec, 0x00,	     /* 20 + 65516 */
	};
	uint8_t buf[3 + sizeof(pkts)];

	for (size_t i = 0; i < RTE_DIM(sas); i++) {
		memcpy(buf, sas[i].b, sas[i].len);
		memcpy(buf + sas[i].len, pkts, sizeof(pkts));
		fz_seed(buf, sas[i].len + sizeof(pkts));
	}
}
