/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Outbound ESP, tunnel mode (RFC 4303 section 3.3, RFC 4106). */

#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "burst.h"
#include "drops.h"
#include "life.h"
#include "sa.h"

/* Pad bytes are 1, 2, 3, ... (RFC 4303 section 2.4). */
static const uint8_t esp_pad[ESPGW_ESP_ALIGN] = { 1, 2, 3, 4 };

/* What the first pass learns of an inner packet. */
struct outb_pkt {
	uint16_t len; /* inner IP length */
	uint8_t pad;  /* ESP pad bytes */
	uint8_t nh;   /* next header: 4 or 41 */
	uint8_t tos;  /* inner DSCP + ECN */
	uint8_t df;   /* 1 when inner IPv4 has DF */
};

/* The outer TOS or traffic class of an inner one, as xfrm takes it with
 * INET_ECN_encapsulate(): DSCP and ECN copied (RFC 4301 section
 * 5.1.2.1), but an inner CE goes out as ECT(0), the reset of RFC 3168
 * section 9.1.1 full functionality; CE is 3 and ECT(0) is 2. */
static inline uint8_t
outer_tos(uint8_t inner)
{
	return inner ^ ((inner & ESPGW_ECN_MASK) == ESPGW_ECN_CE);
}

/* Read the inner header: is it an IP packet this SA carries, and with
 * what outer fields? Trims link-layer padding to the IP length. */
static int
outb_parse(const struct espgw_sa *sa, struct rte_mbuf *m, struct outb_pkt *o)
{
	const uint8_t icv_len = sa->icv_len, outer_len = sa->outer_len;
	const uint8_t *p;
	uint32_t len, ip_len;

	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0)
		return ESPGW_DROP_NO_ROOM;
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	len = m->data_len;
	if (len < 1)
		return ESPGW_DROP_BAD_INNER_HEADER;

	switch (p[0] >> 4) {
	case 4: {
		const struct rte_ipv4_hdr *ip = (const void *)p;

		if (len < sizeof(*ip) || (ip->version_ihl & 0xf) < 5)
			return ESPGW_DROP_BAD_INNER_HEADER;
		ip_len = rte_be_to_cpu_16(ip->total_length);
		if (ip_len < rte_ipv4_hdr_len(ip) || ip_len > len)
			return ESPGW_DROP_BAD_INNER_HEADER;
		o->nh = ESPGW_IPPROTO_IPIP;
		o->tos = outer_tos(ip->type_of_service);
		o->df = !!(ip->fragment_offset &
			   rte_cpu_to_be_16(ESPGW_IPV4_DF));
		break;
	}
	case 6: {
		const struct rte_ipv6_hdr *ip6 = (const void *)p;

		if (len < sizeof(*ip6))
			return ESPGW_DROP_BAD_INNER_HEADER;
		ip_len = sizeof(*ip6) + rte_be_to_cpu_16(ip6->payload_len);
		if (ip_len > len)
			return ESPGW_DROP_BAD_INNER_HEADER;
		o->nh = ESPGW_IPPROTO_IPV6;
		o->tos = outer_tos(
			(uint8_t)(rte_be_to_cpu_32(ip6->vtc_flow) >> 20));
		o->df = 0;
		break;
	}
	default: return ESPGW_DROP_BAD_INNER_HEADER;
	}
	/* the state's inner family only, but with flag af-unspec: the
	 * selector has the state's family (copy_from_user_state()), so
	 * xfrm finds no state for a packet of the other (as inbound,
	 * inb_open, refuses it) */
	if (!sa->any_inner && (o->nh == ESPGW_IPPROTO_IPV6) != sa->outer6)
		return ESPGW_DROP_INNER_FAMILY;
	if (ip_len < len)
		rte_pktmbuf_trim(m, len - ip_len);
	o->len = ip_len;
	/* (inner + pad + 2) must be a multiple of 4 (RFC 4106 section 3.2). */
	o->pad = (uint8_t)(-(ip_len + ESPGW_ESP_TRAILER_LEN) &
			   (ESPGW_ESP_ALIGN - 1));
	/* the outer length field counts the outer header too, IPv4's; for
	 * IPv6 the bound is 40 bytes stricter than it need be */
	if (rte_pktmbuf_headroom(m) < outer_len ||
	    rte_pktmbuf_tailroom(m) <
		    (uint16_t)(o->pad + ESPGW_ESP_TRAILER_LEN + icv_len) ||
	    ip_len + outer_len + o->pad + ESPGW_ESP_TRAILER_LEN + icv_len >
		    UINT16_MAX)
		return ESPGW_DROP_NO_ROOM;
	return ESPGW_OK;
}

/* What the cipher call needs, built a pass before it. */
struct outb_op {
	struct espgw_gcm_nonce nonce;
	struct espgw_gcm_aad aad;
	uint64_t seq;
	uint16_t i; /* the packet's index in the slice */
};

/* One packet's IV (seqiv: sequence number XOR the SA's random base),
 * nonce and AAD. Built for the whole slice before the first
 * cipher call: the cipher reads them with masked vector loads, which
 * cannot be served from stores still in flight, and waited for them
 * when they were written just before the call. */
static inline void
outb_nonce(const struct espgw_sa *sa, uint64_t seq, struct outb_op *op)
{
	uint64_t iv = rte_cpu_to_be_64(seq ^ sa->iv_base);

	espgw_gcm_nonce_aad(sa, seq, &iv, &op->nonce, &op->aad);
	op->seq = seq;
}

/* The outer IPv4 header, and the UDP one of ESP in UDP. It is written
 * field by field from line 0 of the SA: no template to read, and the
 * checksum comes from the fixed fields' sum plus this packet's own (RFC
 * 1071), never from reading back. */
static __rte_always_inline void
outb_ipv4(const struct espgw_sa *sa, struct rte_mbuf *m,
	  const struct outb_pkt *o, uint64_t seq, struct rte_ipv4_hdr *ip,
	  const bool udp)
{
	const union espgw_sa_peer peer = espgw_sa_peer(sa);
	uint32_t sum;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = o->tos; /* outer_tos() */
	ip->total_length = rte_cpu_to_be_16(m->data_len);
	/* The ID only matters if the outer packet is fragmented, which DF
	 * (copied from inner) forbids or makes rare. The low sequence bits
	 * need no shared counter; they repeat after 65536 packets, and two
	 * SAs between the same ends may collide (RFC 6864 section 4.1 asks
	 * for uniqueness per src/dst/protocol within the reassembly time). */
	ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	ip->fragment_offset = o->df ? rte_cpu_to_be_16(ESPGW_IPV4_DF) : 0;
	ip->time_to_live = ESPGW_DEFAULT_TTL;
	ip->next_proto_id = udp ? ESPGW_IPPROTO_UDP : ESPGW_IPPROTO_ESP;
	ip->src_addr = sa->local;
	ip->dst_addr = peer.addr;
	sum = peer.sum + o->tos + m->data_len + (uint16_t)seq +
	      (o->df ? ESPGW_IPV4_DF : 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
	if (udp) {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);

		uh->src_port = sa->local_port;
		uh->dst_port = peer.port;
		uh->dgram_len =
			rte_cpu_to_be_16(m->data_len - ESPGW_IPV4_HDR_LEN);
		/* RFC 3948 section 3.1.1: 0 over IPv4, as Linux sends */
		uh->dgram_cksum = 0;
	}
}

/* The outer IPv6 header, as xfrm6_tunnel_encap_add() writes it: traffic
 * class as the IPv4 TOS above, the inner IPv6 packet's flow label (0 for
 * inner IPv4, as xfrm4_extract_header() leaves it), next header ESP and
 * the default hop limit. */
static __rte_always_inline void
outb_ipv6(const struct espgw_sa *sa, struct rte_mbuf *m,
	  const struct outb_pkt *o, struct rte_ipv6_hdr *ip6)
{
	const struct rte_ipv6_hdr *in =
		(const struct rte_ipv6_hdr *)((const uint8_t *)(ip6 + 1) +
					      ESPGW_ESP_HDR_LEN +
					      ESPGW_GCM_IV_LEN);
	uint32_t flow =
		o->nh == ESPGW_IPPROTO_IPV6
			? rte_be_to_cpu_32(in->vtc_flow) & RTE_IPV6_HDR_FL_MASK
			: 0;

	ip6->vtc_flow =
		rte_cpu_to_be_32(6u << 28 | (uint32_t)o->tos << 20 | flow);
	ip6->payload_len = rte_cpu_to_be_16(m->data_len - ESPGW_IPV6_HDR_LEN);
	ip6->proto = ESPGW_IPPROTO_ESP;
	ip6->hop_limits = ESPGW_DEFAULT_HOP_LIMIT;
	memcpy(ip6->src_addr, sa->v6.local, sizeof(ip6->src_addr));
	memcpy(ip6->dst_addr, sa->v6.peer, sizeof(ip6->dst_addr));
}

/* Build headers and trailer around the inner packet and encrypt it. A
 * template: udp (ESP in UDP over IPv4, RFC 3948) and v6 (an IPv6 outer
 * header) are constants of the SA's variant. */
static __rte_always_inline void
outb_seal(const struct espgw_worker *w, const struct espgw_sa *sa,
	  struct rte_mbuf *m, const struct outb_pkt *o,
	  const struct outb_op *op, const bool udp, const bool v6)
{
	const uint64_t seq = op->seq;
	const uint16_t ip_len = v6    ? ESPGW_IPV6_HDR_LEN
				: udp ? ESPGW_IPV4_HDR_LEN + ESPGW_UDP_HDR_LEN
				      : ESPGW_IPV4_HDR_LEN;
	const uint16_t hdr_len = ip_len + ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN;
	const uint16_t ct_len = o->len + o->pad + ESPGW_ESP_TRAILER_LEN;
	struct gcm_context_data ctx;
	struct espgw_esp_hdr *esp;
	struct espgw_esp_tail *tail;
	uint8_t *t, *payload, *outer;

	t = (uint8_t *)rte_pktmbuf_append(m, ct_len - o->len + sa->icv_len);
	memcpy(t, esp_pad, o->pad);
	tail = (struct espgw_esp_tail *)(t + o->pad);
	tail->pad_len = o->pad;
	tail->next_proto = o->nh;

	outer = (uint8_t *)rte_pktmbuf_prepend(m, hdr_len);
	if (v6)
		outb_ipv6(sa, m, o, (struct rte_ipv6_hdr *)outer);
	else
		outb_ipv4(sa, m, o, seq, (struct rte_ipv4_hdr *)outer, udp);
	esp = (struct espgw_esp_hdr *)(outer + ip_len);
	esp->spi = sa->spi_be;
	esp->seq = rte_cpu_to_be_32((uint32_t)seq);
	memcpy(esp + 1, op->nonce.iv, ESPGW_GCM_IV_LEN);

	payload = (uint8_t *)(esp + 1) + ESPGW_GCM_IV_LEN;
	w->enc[sa->ks](&sa->key, &ctx, payload, payload, ct_len,
		       (const uint8_t *)&op->nonce,
		       (const uint8_t *)&op->aad + sa->aad_off, sa->aad_len,
		       payload + ct_len, sa->icv_len);

	m->packet_type = (v6 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4) |
			 RTE_PTYPE_TUNNEL_ESP;
	m->l2_len = 0;
	m->l3_len = v6 ? ESPGW_IPV6_HDR_LEN : ESPGW_IPV4_HDR_LEN;
}

/* One slice of an outbound burst, as its passes share it. Packet k of
 * the ones that parsed is the slice's mb[ok_idx[k]], of SA
 * sas[ok_idx[k]]. */
struct espgw_outb_slice {
	struct espgw_worker *w;
	uint16_t nb_ok, nb_ops;
	uint16_t pf; /* packets whose SA lines were asked for */
	struct espgw_burst b;
	struct espgw_sa *sas[ESPGW_BURST_MAX]; /* by slice index */
	struct outb_pkt pk[ESPGW_BURST_MAX];   /* by slice index */
	uint16_t ok_idx[ESPGW_BURST_MAX];
	struct outb_op ops[ESPGW_BURST_MAX];
};

/* Seal one run of cipher operations of one SA, its key lines asked for
 * four operations ahead (at scale the reservation pass has pushed the
 * early ones out of L1). */
static __rte_always_inline uint16_t
outb_seal_run(struct espgw_outb_slice *s, uint16_t k, const bool udp,
	      const bool v6)
{
	struct espgw_sa *sa = s->sas[s->ops[k].i];

	do {
		uint16_t i = s->ops[k].i;

		if (k + 4 < s->nb_ops &&
		    s->sas[s->ops[k + 4].i] != s->sas[s->ops[k + 3].i]) {
			const struct espgw_sa *next = s->sas[s->ops[k + 4].i];

			espgw_sa_prefetch_key(next);
			/* its line 0 is cached since the numbering pass */
			if (next->outer6)
				rte_prefetch0(&next->v6);
		}
		outb_seal(s->w, sa, s->b.mb[i], &s->pk[i], &s->ops[k], udp, v6);
	} while (++k < s->nb_ops && s->sas[s->ops[k].i] == sa);
	return k;
}

uint16_t
espgw_outb_seal_esp(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_seal_run(s, k, false, false);
}

uint16_t
espgw_outb_seal_udp(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_seal_run(s, k, true, false);
}

uint16_t
espgw_outb_seal_esp6(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_seal_run(s, k, false, true);
}

/* Ask for the lines of each SA four packets ahead of its numbering, once
 * a run. */
static inline void
outb_prefetch_ahead(struct espgw_outb_slice *s, uint16_t k)
{
	uint16_t pf = s->pf;

	for (; pf < s->nb_ok && pf <= k + 4; pf++)
		if (pf == 0 ||
		    s->sas[s->ok_idx[pf]] != s->sas[s->ok_idx[pf - 1]])
			espgw_sa_prefetch(s->sas[s->ok_idx[pf]], s->w->id);
	s->pf = pf;
}

/* Reserve n sequence numbers after those handed out: the first of them,
 * and in *got how many there were (RFC 4303 section 3.3.3: the counter
 * must not cycle). Without ESN the 64-bit counter can go on past the
 * 32-bit limit for ever, so one atomic add suffices and refusals keep
 * counting; with ESN a compare-and-swap pins it at the limit, as
 * xfrm_replay_overflow_esn() refuses every packet from there on. */
static __rte_always_inline uint64_t
outb_reserve(struct espgw_sa *sa, uint16_t n, uint16_t *got, const bool esn)
{
	uint64_t cur, nxt;

	if (!esn) {
		cur = __atomic_fetch_add(&sa->oseq, n, __ATOMIC_RELAXED);
		*got = cur >= UINT32_MAX      ? 0
		       : cur + n > UINT32_MAX ? (uint16_t)(UINT32_MAX - cur)
					      : n;
		return cur + 1;
	}
	cur = __atomic_load_n(&sa->oseq, __ATOMIC_RELAXED);
	do {
		*got = (uint16_t)RTE_MIN((uint64_t)n, UINT64_MAX - cur);
		nxt = cur + *got;
	} while (*got != 0 && !__atomic_compare_exchange_n(
				      &sa->oseq, &cur, nxt, true,
				      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return cur + 1;
}

/* Of the run's n packets from k, how many its limits let go (life.h). */
static __rte_always_inline uint16_t
outb_admit(struct espgw_outb_slice *s, struct espgw_sa *sa, uint16_t k,
	   uint16_t n)
{
	struct espgw_life_run r;
	uint16_t j = 0;

	espgw_life_begin(sa, &r);
	if (likely(espgw_life_far(sa, &r, n)))
		return n;
	for (; j < n && espgw_life_admit(sa, &r); j++)
		espgw_life_count(&r, s->pk[s->ok_idx[k + j]].len);
	return j;
}

/* Number one run: one reservation of its sequence numbers, so workers
 * sharing the SA send unique numbers, and the counters are written
 * once. Each packet's nonce and AAD are built here, a pass before its
 * cipher call (see outb_nonce). A template: esn and lft (byte or packet
 * limits) are constants of the SA's variant. */
static __rte_always_inline uint16_t
outb_number_run(struct espgw_outb_slice *s, uint16_t k, const bool esn,
		const bool lft)
{
	struct espgw_sa *sa = s->sas[s->ok_idx[k]];
	struct espgw_sa_stats *st = espgw_sa_slot(sa, s->w->id);
	uint16_t end = k + 1, done = 0, nb_ops = s->nb_ops, n, got;
	uint64_t seq, bytes = 0;

	while (end < s->nb_ok && s->sas[s->ok_idx[end]] == sa)
		end++;
	outb_prefetch_ahead(s, k);
	/* line 0 is here: the seal pass will want the IPv6 endpoints (the
	 * seal asks again four operations ahead, for SAs past the first) */
	if (sa->outer6)
		rte_prefetch0(&sa->v6);
	/* an expired SA (xfrm_output_one: XfrmOutStateExpired) */
	n = unlikely(espgw_sa_flags(sa) & ESPGW_SA_HARD) ? 0 : end - k;
	if (lft && n != 0)
		n = outb_admit(s, sa, k, n);
	/* the drop counters only when there is a drop: they lie on lines
	 * of the slot no packet otherwise touches, which at scale are cold
	 * (a read-modify-write of one cost a miss a packet) */
	if (unlikely(n != end - k))
		st->drops[ESPGW_DROP_STATE_EXPIRED] += end - k - n;
	seq = outb_reserve(sa, n, &got, esn);
	if (unlikely(got != n))
		st->drops[ESPGW_DROP_SEQ_EXHAUSTED] += n - got;
	if (got != 0)
		espgw_life_seq(sa, seq + got - 1, espgw_seq_limit(esn));
	for (uint16_t e = k + got; k < e; k++, seq++) {
		uint16_t i = s->ok_idx[k];

		outb_prefetch_ahead(s, k);
		outb_nonce(sa, seq, &s->ops[nb_ops]);
		s->ops[nb_ops++].i = i;
		bytes += s->pk[i].len;
		espgw_burst_keep(&s->b, i);
		done++;
	}
	s->nb_ops = nb_ops;
	st->packets += done;
	st->bytes += bytes;
	if (lft)
		espgw_life_end(sa, done, bytes);
	return end;
}

/* The variants sa.c chooses from. */
uint16_t
espgw_outb_number_seq32(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_number_run(s, k, false, false);
}

uint16_t
espgw_outb_number_esn(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_number_run(s, k, true, false);
}

uint16_t
espgw_outb_number_seq32_lft(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_number_run(s, k, false, true);
}

uint16_t
espgw_outb_number_esn_lft(struct espgw_outb_slice *s, uint16_t k)
{
	return outb_number_run(s, k, true, true);
}

struct outb_args {
	struct espgw_worker *w;
	struct espgw_sa *const *sa; /* per packet */
	struct espgw_sa *one;	    /* or this one for all */
};

static uint16_t
outb_slice(void *arg, struct rte_mbuf **mb, uint16_t n, uint32_t off)
{
	struct outb_args *a = arg;
	struct espgw_worker *w = a->w;
	struct espgw_outb_slice s; /* not zeroed: each field written first */
	struct espgw_sa **sas = s.sas;

	s.w = w;
	s.nb_ok = 0;
	s.nb_ops = 0;
	s.pf = 0;
	espgw_burst_init(&s.b, mb, n);
	if (a->one != NULL) {
		for (uint16_t i = 0; i < n; i++)
			sas[i] = a->one;
	} else {
		memcpy(sas, a->sa + off, n * sizeof(sas[0]));
	}

	/* At scale every packet's SA is cold. Ask for all line 0s first
	 * (the parse loop reads them right away and is short), and the
	 * packets four ahead; the rest of each SA's lines are asked for
	 * four packets ahead of their seal: asked for any earlier, a
	 * burst of them no longer fits L1 when the cipher wants them. */
	for (uint16_t i = 0; i < n; i++)
		if (i == 0 || sas[i] != sas[i - 1]) {
			/* for writing: the atomic add on oseq needs it
			 * exclusive; and the worker's counters, which the
			 * numbering pass, too short to hide a miss, adds to */
			__builtin_prefetch(sas[i], 1, 3);
			__builtin_prefetch(espgw_sa_slot(sas[i], w->id), 1, 3);
		}
	for (uint16_t i = 0; i < RTE_MIN(n, 4); i++)
		rte_prefetch0(rte_pktmbuf_mtod(mb[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct espgw_sa *sa = sas[i];
		int rc;

		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mb[i + 4], void *));
		if (i == 0 || sa != sas[i - 1])
			espgw_sa_check_use(sa, w, ESPGW_SA_OUT);
		rc = outb_parse(sa, mb[i], &s.pk[i]);
		if (rc == ESPGW_OK)
			s.ok_idx[s.nb_ok++] = i;
		else
			espgw_drop_count(espgw_sa_slot(sa, w->id)->drops, rc);
	}

	/* Number the packets run by run, with each SA's own step. */
	for (uint16_t k = 0; k < s.nb_ok;)
		k = sas[s.ok_idx[k]]->ops->outb_number(&s, k);

	/* Frame and encrypt, run by run, with each SA's own step. */
	for (uint16_t k = 0; k < s.nb_ops;)
		k = sas[s.ops[k].i]->ops->outb_seal(&s, k);
	return espgw_burst_finish(&s.b);
}

/* The slice callback's last argument is how many successes came before;
 * outbound needs the slice's offset instead, to find its SAs. */
struct outb_sliced {
	struct outb_args a;
	uint32_t off;
};

static uint16_t
outb_slice_at(void *arg, struct rte_mbuf **mb, uint16_t n, uint32_t good)
{
	struct outb_sliced *s = arg;
	uint16_t ok = outb_slice(&s->a, mb, n, s->off);

	RTE_SET_USED(good);
	s->off += n;
	return ok;
}

uint16_t
espgw_esp_outbound(struct espgw_worker *w, struct espgw_sa *sa,
		   struct rte_mbuf *mb[], uint16_t n)
{
	struct outb_sliced s = { .a = { .w = w, .one = sa } };

	return espgw_burst_sliced(mb, n, outb_slice_at, &s);
}

uint16_t
espgw_esp_outbound_bulk(struct espgw_worker *w, struct espgw_sa *const sa[],
			struct rte_mbuf *mb[], uint16_t n)
{
	struct outb_sliced s = { .a = { .w = w, .sa = sa } };

	return espgw_burst_sliced(mb, n, outb_slice_at, &s);
}
