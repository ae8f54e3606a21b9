/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Inbound ESP, tunnel mode (RFC 4303 section 3.4, RFC 4106). */

#include <string.h>
#include <sys/socket.h>

#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "burst.h"
#include "drops.h"
#include "life.h"
#include "espgw/ipv4.h"
#include "sad.h"

/* Offsets of one parsed ESP packet. */
struct inb_pkt {
	/* outer headers' length: IPv4 and UDP if any, or IPv6 and its
	 * extension headers */
	uint16_t hl;
	uint16_t esp_len; /* ESP header to end of ICV */
	uint8_t ecn;	  /* outer ECN codepoint */
	bool udp;	  /* ESP in UDP (RFC 3948) */
	rte_be16_t sport; /* ... its source: the peer as the NAT shows it */
	rte_be32_t src;
};

/* RFC 768: the sum over the pseudo-header and the datagram, its
 * checksum included, is all ones. */
static bool
udp_cksum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp,
	     uint16_t ulen)
{
	/* words as memory holds them, as rte_raw_cksum() reads them */
	uint32_t sum = rte_raw_cksum(&ip->src_addr, 8) +
		       rte_cpu_to_be_16(ESPGW_IPPROTO_UDP) +
		       rte_cpu_to_be_16(ulen) + rte_raw_cksum(udp, ulen);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* ESP in UDP (RFC 3948 section 2.1): the UDP header of a datagram the
 * caller found on a port of ours. Its checksum may be 0 (section 3.1.2,
 * as Linux sends it) and is checked when it is not. */
static int
inb_parse_udp(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t *tot,
	      struct inb_pkt *pk)
{
	const struct rte_udp_hdr *udp;
	uint16_t ulen;

	if (*tot < pk->hl + ESPGW_UDP_HDR_LEN)
		return ESPGW_DROP_TOO_SHORT;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + pk->hl);
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (ulen < ESPGW_UDP_HDR_LEN || ulen > *tot - pk->hl)
		return ESPGW_DROP_BAD_OUTER_HEADER;
	*tot = pk->hl + ulen; /* what IP carries past the datagram goes */
	if (udp->dgram_cksum != 0 &&
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
		    RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    !udp_cksum_ok(ip, udp, ulen))
		return ESPGW_DROP_BAD_UDP_CHECKSUM;
	pk->udp = true;
	pk->sport = udp->src_port;
	pk->hl += ESPGW_UDP_HDR_LEN;
	return ESPGW_OK;
}

/* The options of a hop-by-hop or destination options header of hlen
 * bytes (RFC 8200 section 4.2), as ip6_parse_tlv() checks them. */
static bool
inb_ipv6_opts_ok(const uint8_t *e, uint16_t hlen)
{
	unsigned int pad = 0, nb = 0;

	for (uint16_t i = 2; i < hlen;) {
		uint16_t olen;

		if (e[i] == ESPGW_IPV6_OPT_PAD1) {
			if (++pad > ESPGW_IPV6_OPT_PAD_MAX)
				return false;
			i++;
			continue;
		}
		if (i + 2 > hlen || i + 2 + e[i + 1] > hlen)
			return false;
		olen = 2 + e[i + 1];
		if (e[i] == ESPGW_IPV6_OPT_PADN) {
			pad += olen;
			if (pad > ESPGW_IPV6_OPT_PAD_MAX)
				return false;
			for (uint16_t k = 2; k < olen; k++)
				if (e[i + k] != 0)
					return false;
		} else {
			/* none is known here: skipped only when its action
			 * bits say so */
			pad = 0;
			if (++nb > ESPGW_IPV6_OPTS_MAX ||
			    e[i] >> ESPGW_IPV6_OPT_ACTION_SHIFT != 0)
				return false;
		}
		i += olen;
	}
	return true;
}

/* Walk the IPv6 extension headers in front of ESP (RFC 8200 section
 * 4.1: hop-by-hop options first if at all, then routing, destination
 * options or an atomic fragment header), keeping what ip6_input() and
 * the extension handlers would keep before esp6_input(); *off ends at
 * ESP. ESP in UDP over IPv6 is not carried: UDP is not ESP here. */
static int
inb_ipv6_ext(const uint8_t *p, uint16_t tot, uint8_t nh, uint16_t *off)
{
	for (unsigned int n = 0; nh != ESPGW_IPPROTO_ESP; n++) {
		const uint8_t *e;
		uint16_t hlen;

		switch (nh) {
		case ESPGW_IPV6_HOPOPTS:
			if (n != 0)
				return ESPGW_DROP_BAD_EXT_HEADERS;
			break;
		case ESPGW_IPV6_ROUTING:
		case ESPGW_IPV6_DSTOPTS:
		case ESPGW_IPV6_FRAGMENT: break;
		default: return ESPGW_DROP_BAD_OUTER_HEADER;
		}
		if (n == ESPGW_IPV6_EXT_MAX)
			return ESPGW_DROP_BAD_EXT_HEADERS;
		if (*off + ESPGW_IPV6_EXT_UNIT > tot)
			return ESPGW_DROP_TOO_SHORT;
		e = p + *off;
		hlen = nh == ESPGW_IPV6_FRAGMENT
			       ? ESPGW_IPV6_FRAG_HDR_LEN
			       : (uint16_t)((e[1] + 1) * ESPGW_IPV6_EXT_UNIT);
		if (*off + hlen > tot)
			return ESPGW_DROP_TOO_SHORT;
		if (nh == ESPGW_IPV6_FRAGMENT) {
			/* fragments are reassembled before ESP; an atomic
			 * one (RFC 6946: offset 0, no M) is whole */
			if (((e[2] << 8 | e[3]) & (ESPGW_IPV6_FRAG_OFF_MASK |
						   ESPGW_IPV6_FRAG_MF)) != 0)
				return ESPGW_DROP_OUTER_FRAGMENT;
		} else if (nh == ESPGW_IPV6_ROUTING) {
			/* ipv6_rthdr_rcv(): segments left means the packet
			 * is not ours yet */
			if (e[3] != 0 || e[2] == ESPGW_IPV6_RT_MIP6 ||
			    e[2] == ESPGW_IPV6_RT_RPL ||
			    e[2] == ESPGW_IPV6_RT_SRH)
				return ESPGW_DROP_BAD_EXT_HEADERS;
		} else if (!inb_ipv6_opts_ok(e, hlen)) {
			return ESPGW_DROP_BAD_EXT_HEADERS;
		}
		*off += hlen;
		nh = e[0];
	}
	return *off + ESPGW_ESP_HDR_LEN > tot ? ESPGW_DROP_TOO_SHORT : ESPGW_OK;
}

/* Read the outer IPv6 header (RFC 8200) and its extension headers far
 * enough to find the SA. */
static int
inb_parse6(struct rte_mbuf *m, struct inb_pkt *pk, struct espgw_sad_key *key)
{
	const struct rte_ipv6_hdr *ip6 =
		rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct espgw_esp_hdr *esp;
	uint16_t off = ESPGW_IPV6_HDR_LEN, tot;
	int rc;

	if (m->data_len < ESPGW_IPV6_HDR_LEN)
		return ESPGW_DROP_TOO_SHORT;
	/* a jumbogram (payload length 0, RFC 2675) is too short for ESP */
	if (rte_be_to_cpu_16(ip6->payload_len) > m->data_len - off)
		return ESPGW_DROP_TOO_SHORT;
	tot = off + rte_be_to_cpu_16(ip6->payload_len);
	rc = inb_ipv6_ext((const uint8_t *)ip6, tot, ip6->proto, &off);
	if (rc != ESPGW_OK)
		return rc;
	if (tot < m->data_len)
		rte_pktmbuf_trim(m, m->data_len - tot);
	pk->hl = off;
	pk->esp_len = tot - off;
	pk->udp = false;
	pk->src = 0;
	pk->sport = 0;
	pk->ecn = (uint8_t)(rte_be_to_cpu_32(ip6->vtc_flow) >> 20) &
		  ESPGW_ECN_MASK;
	esp = (const struct espgw_esp_hdr *)((const uint8_t *)ip6 + off);
	espgw_sad_key_set(key, esp->spi, AF_INET6, ip6->dst_addr);
	return ESPGW_OK;
}

/* Read the outer IPv4 header (RFC 791) far enough to find the SA, or
 * the IPv6 one (inb_parse6). */
static int
inb_parse(struct rte_mbuf *m, struct inb_pkt *pk, struct espgw_sad_key *key)
{
	const struct rte_ipv4_hdr *ip;
	const struct espgw_esp_hdr *esp;
	uint16_t tot;

	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0)
		return ESPGW_DROP_NO_ROOM;
	if (m->data_len < ESPGW_IPV4_HDR_LEN)
		return ESPGW_DROP_TOO_SHORT;
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	if ((ip->version_ihl >> 4) == 6)
		return inb_parse6(m, pk, key);
	if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5 ||
	    (ip->next_proto_id != ESPGW_IPPROTO_ESP &&
	     ip->next_proto_id != ESPGW_IPPROTO_UDP))
		return ESPGW_DROP_BAD_OUTER_HEADER;
	pk->hl = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot > m->data_len || pk->hl > m->data_len)
		return ESPGW_DROP_TOO_SHORT;
	if (tot < pk->hl)
		return ESPGW_DROP_BAD_OUTER_HEADER;
	/* RFC 1122 section 3.2.1.2, unless the NIC has checked it */
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) !=
		    RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    !espgw_ipv4_cksum_ok(ip, pk->hl))
		return ESPGW_DROP_BAD_OUTER_HEADER;
	/* Fragments are reassembled before ESP, never decrypted alone. */
	if (ip->fragment_offset &
	    rte_cpu_to_be_16(ESPGW_IPV4_MF | ESPGW_IPV4_OFF_MASK))
		return ESPGW_DROP_OUTER_FRAGMENT;
	pk->udp = false;
	pk->src = ip->src_addr;
	if (ip->next_proto_id == ESPGW_IPPROTO_UDP) {
		int rc = inb_parse_udp(m, ip, &tot, pk);

		if (rc != ESPGW_OK)
			return rc;
	}
	if (tot < m->data_len)
		rte_pktmbuf_trim(m, m->data_len - tot);
	pk->esp_len = tot - pk->hl;
	if (pk->esp_len < ESPGW_ESP_HDR_LEN)
		return ESPGW_DROP_TOO_SHORT;
	pk->ecn = ip->type_of_service & ESPGW_ECN_MASK;
	esp = (const struct espgw_esp_hdr *)((const uint8_t *)ip + pk->hl);
	espgw_sad_key_set(key, esp->spi, AF_INET, &ip->dst_addr);
	return ESPGW_OK;
}

/* Constant-time compare, so a forger learns nothing from timing. */
static inline int
icv_differs(const uint8_t *a, const uint8_t *b, uint8_t len)
{
	uint64_t x, y, d = 0;

	/* 16 bytes, the common ICV: two words, no loop */
	if (likely(len == 16)) {
		uint64_t u[2], v[2];

		memcpy(u, a, 16);
		memcpy(v, b, 16);
		return ((u[0] ^ v[0]) | (u[1] ^ v[1])) != 0;
	}
	/* 8 or 12 bytes: whole words, no early exit */
	for (uint8_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	if (len & 4) {
		uint32_t u, v;

		memcpy(&u, a + len - 4, 4);
		memcpy(&v, b + len - 4, 4);
		d |= u ^ v;
	}
	return d != 0;
}

/* Check the inner header against the next header field; returns the
 * inner IP length or 0 when it is not a well-formed packet. */
static inline uint16_t
inner_len(const uint8_t *p, uint16_t room, uint8_t nh)
{
	if (nh == ESPGW_IPPROTO_IPIP) {
		const struct rte_ipv4_hdr *ip = (const void *)p;
		uint16_t tot;

		if (room < sizeof(*ip) || (ip->version_ihl >> 4) != 4 ||
		    (ip->version_ihl & 0xf) < 5)
			return 0;
		tot = rte_be_to_cpu_16(ip->total_length);
		if (rte_ipv4_hdr_len(ip) > room || tot < rte_ipv4_hdr_len(ip) ||
		    tot > room)
			return 0;
		/* A header checksum over a valid header sums to 0xffff. */
		if (!espgw_ipv4_cksum_ok(ip, rte_ipv4_hdr_len(ip)))
			return 0;
		return tot;
	} else {
		const struct rte_ipv6_hdr *ip6 = (const void *)p;
		uint32_t tot;

		if (room < sizeof(*ip6) || (p[0] >> 4) != 6)
			return 0;
		tot = sizeof(*ip6) + rte_be_to_cpu_16(ip6->payload_len);
		if (tot > room)
			return 0;
		return (uint16_t)tot;
	}
}

/* RFC 6040 section 4.2: combine outer ECN into the inner header.
 * Returns ESPGW_OK, or the drop for CE arriving on a Not-ECT packet. */
static inline int
inner_ecn(uint8_t *p, uint8_t nh, uint8_t outer)
{
	uint8_t inner, set;

	if (nh == ESPGW_IPPROTO_IPIP)
		inner = ((struct rte_ipv4_hdr *)p)->type_of_service &
			ESPGW_ECN_MASK;
	else
		inner = (uint8_t)(rte_be_to_cpu_32(((struct rte_ipv6_hdr *)p)
							   ->vtc_flow) >>
				  20) &
			ESPGW_ECN_MASK;

	if (inner == ESPGW_ECN_NOT_ECT)
		return outer == ESPGW_ECN_CE ? ESPGW_DROP_ECN_CE_NOT_ECT
					     : ESPGW_OK;
	if (outer == ESPGW_ECN_CE)
		set = ESPGW_ECN_CE;
	else if (outer == ESPGW_ECN_ECT1 && inner == ESPGW_ECN_ECT0)
		set = ESPGW_ECN_ECT1;
	else
		return ESPGW_OK;

	if (nh == ESPGW_IPPROTO_IPIP) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		ip->type_of_service =
			(ip->type_of_service & ~ESPGW_ECN_MASK) | set;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)p;
		uint32_t v = rte_be_to_cpu_32(ip6->vtc_flow);

		v = (v & ~((uint32_t)ESPGW_ECN_MASK << 20)) |
		    ((uint32_t)set << 20);
		ip6->vtc_flow = rte_cpu_to_be_32(v);
	}
	return ESPGW_OK;
}

/* What the cipher call needs, built a pass before it. */
struct inb_op {
	struct espgw_gcm_nonce nonce;
	struct espgw_gcm_aad aad;
	uint64_t seq; /* full (ESN-inferred) sequence number */
	uint16_t ct_len;
};

/* Lengths, the sequence number (RFC 4303 appendix A: with ESN seq-hi is
 * inferred from the window, else it is 0), the replay pre-check (section
 * 3.4.3: a cheap check before the ICV ...) and the GCM nonce and AAD
 * (RFC 4106 sections 4 and 5). Built for the whole slice before the
 * first cipher call: the cipher reads nonce and AAD with masked vector
 * loads, which cannot be served from stores still in flight, and waited
 * ~10 ns a packet for them when they were written just before the call.
 * A template: replay, esn and claim are constants of the SA's variant;
 * claim: the window is claimed by owners, judged from the run's view v. */
static __rte_always_inline int
inb_prepare(const struct espgw_sa *sa, struct rte_mbuf *m,
	    const struct inb_pkt *pk, struct inb_op *op,
	    const struct espgw_replay_view *v, const bool replay,
	    const bool esn, const bool udp, const bool claim)
{
	const struct espgw_esp_hdr *esp = rte_pktmbuf_mtod_offset(
		m, const struct espgw_esp_hdr *, pk->hl);
	struct espgw_replay *r = espgw_sa_replay(sa);
	uint32_t seq_lo;
	int rc;

	/* xfrm_input: an SA's encapsulation or none, never the other
	 * (XfrmInStateMismatch) */
	if (pk->udp != udp)
		return udp ? ESPGW_DROP_UDP_ENCAP_MISSING
			   : ESPGW_DROP_UDP_ENCAP_UNEXPECTED;
	if (pk->esp_len < ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN +
				  ESPGW_ESP_TRAILER_LEN + sa->icv_len)
		return ESPGW_DROP_TOO_SHORT;
	op->ct_len = pk->esp_len - ESPGW_ESP_HDR_LEN - ESPGW_GCM_IV_LEN -
		     sa->icv_len;
	seq_lo = rte_be_to_cpu_32(esp->seq);
	if (!esn)
		op->seq = seq_lo;
	else if (claim)
		op->seq = espgw_replay_infer_at(r, v->edge, seq_lo);
	else
		op->seq = espgw_replay_infer(r, seq_lo);
	if (replay) {
		rc = claim ? espgw_replay_claim_check(r, v, op->seq)
			   : espgw_replay_check(r, op->seq);
		if (rc != ESPGW_OK)
			return rc;
	}
	/* the SA was found by this SPI, and seq keeps the wire's low half */
	espgw_gcm_nonce_aad(sa, op->seq, esp + 1, &op->nonce, &op->aad);
	return ESPGW_OK;
}

/* Decrypt, verify and strip one prepared packet. A template: replay and
 * claim are constants of the SA's variant (v as for inb_prepare). */
static __rte_always_inline int
inb_open(const struct espgw_worker *w, struct espgw_sa *sa, struct rte_mbuf *m,
	 const struct inb_pkt *pk, const struct inb_op *op,
	 struct espgw_replay_view *v, uint16_t *out_len, const bool replay,
	 const bool claim)
{
	uint8_t *ct = rte_pktmbuf_mtod_offset(m, uint8_t *, pk->hl) +
		      ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN;
	const uint16_t icv = sa->icv_len, ct_len = op->ct_len;
	struct gcm_context_data ctx;
	const struct espgw_esp_tail *tail;
	uint8_t tag[16], *pad;
	int rc;
	uint16_t ilen;

	w->dec[sa->ks](
		&sa->key, &ctx, ct, ct, ct_len, (const uint8_t *)&op->nonce,
		(const uint8_t *)&op->aad + sa->aad_off, sa->aad_len, tag, icv);
	if (icv_differs(tag, ct + ct_len, icv))
		return ESPGW_DROP_BAD_ICV;
	/* ... and the window moves only for authentic packets. */
	if (replay) {
		struct espgw_replay *r = espgw_sa_replay(sa);

		rc = claim ? espgw_replay_claim_update(r, v, op->seq)
			   : espgw_replay_update(r, op->seq);
		if (rc != ESPGW_OK)
			return rc;
	}

	/* RFC 4303 section 2.4: pad bytes must be 1, 2, 3, ... */
	tail = (const struct espgw_esp_tail *)(ct + ct_len -
					       ESPGW_ESP_TRAILER_LEN);
	if (tail->pad_len > ct_len - ESPGW_ESP_TRAILER_LEN)
		return ESPGW_DROP_BAD_PADDING;
	ilen = ct_len - ESPGW_ESP_TRAILER_LEN - tail->pad_len;
	pad = ct + ilen;
	for (uint8_t i = 0; i < tail->pad_len; i++)
		if (pad[i] != i + 1)
			return ESPGW_DROP_BAD_PADDING;
	if (tail->next_proto == ESPGW_IPPROTO_NONE)
		return ESPGW_DROP_DUMMY_PACKET;
	if (tail->next_proto != ESPGW_IPPROTO_IPIP &&
	    tail->next_proto != ESPGW_IPPROTO_IPV6)
		return ESPGW_DROP_BAD_NEXT_HEADER;
	/* the state's inner family only, but with flag af-unspec: xfrm's
	 * inner mode is the selector's (xfrm4/6_remove_tunnel_encap()
	 * refuse the other, XfrmInStateModeError) */
	if (!sa->any_inner &&
	    (tail->next_proto == ESPGW_IPPROTO_IPV6) != sa->outer6)
		return ESPGW_DROP_INNER_FAMILY;

	/* Trim to the inner IP length: TFC padding (RFC 4303 section 2.7)
	 * may sit between the inner packet and the ESP padding. */
	ilen = inner_len(ct, ilen, tail->next_proto);
	if (ilen == 0)
		return ESPGW_DROP_BAD_INNER_HEADER;
	rc = inner_ecn(ct, tail->next_proto, pk->ecn);
	if (rc != ESPGW_OK)
		return rc;

	rte_pktmbuf_adj(m, pk->hl + ESPGW_ESP_HDR_LEN + ESPGW_GCM_IV_LEN);
	rte_pktmbuf_trim(m, m->data_len - ilen);
	m->packet_type = tail->next_proto == ESPGW_IPPROTO_IPIP
				 ? RTE_PTYPE_L3_IPV4
				 : RTE_PTYPE_L3_IPV6;
	m->l2_len = 0;
	*out_len = ilen;
	return ESPGW_OK;
}

/* One slice of an inbound burst, as its passes share it. Packet k of
 * the ones that reached the SA lookup is mb[idx[k]], of SA sas[k]
 * (NULL once it is dropped). */
struct espgw_inb_slice {
	struct espgw_worker *w;
	struct rte_mbuf **mb;
	struct espgw_sa **sa_out; /* or NULL */
	uint32_t good;		  /* successes of the slices before */
	uint16_t nb, nb_ok;
	struct espgw_burst b;
	struct inb_pkt pk[ESPGW_BURST_MAX]; /* by slice index */
	uint16_t idx[ESPGW_BURST_MAX];
	struct espgw_sa *sas[ESPGW_BURST_MAX];
	struct inb_op ops[ESPGW_BURST_MAX];
};

/* At scale every packet's SA is cold: ask for the lines of the SA four
 * packets ahead, once a run. */
static inline void
inb_prefetch_ahead(const struct espgw_inb_slice *s, uint16_t k)
{
	if (k + 4 < s->nb && s->sas[k + 4] != NULL &&
	    s->sas[k + 4] != s->sas[k + 3])
		espgw_sa_prefetch(s->sas[k + 4], s->w->id);
}

/* The key lines again, four ahead of their cipher call: at scale the
 * prepare pass has pushed the early ones out. */
static inline void
inb_prefetch_key_ahead(const struct espgw_inb_slice *s, uint16_t k)
{
	if (k + 4 < s->nb && s->sas[k + 4] != NULL &&
	    s->sas[k + 4] != s->sas[k + 3])
		espgw_sa_prefetch_key(s->sas[k + 4]);
}

/* The prepare pass over one run; a failed packet is counted and leaves
 * the run (its sas[k] becomes NULL). A window claimed by owners is
 * viewed once a run (replay.h espgw_replay_view). */
static __rte_always_inline uint16_t
inb_prepare_run(struct espgw_inb_slice *s, uint16_t k, const bool replay,
		const bool esn, const bool udp, const bool claim)
{
	struct espgw_sa *sa = s->sas[k];
	struct espgw_sa_stats *st = espgw_sa_slot(sa, s->w->id);
	/* an expired SA (xfrm_input: XfrmInStateExpired), before all else */
	bool expired = unlikely(espgw_sa_flags(sa) & ESPGW_SA_HARD);
	struct espgw_replay_view v;

	if (claim)
		espgw_replay_view_begin(espgw_sa_replay(sa), s->w->id, &v);
	do {
		uint16_t i = s->idx[k];
		int rc;

		inb_prefetch_ahead(s, k);
		rc = expired ? ESPGW_DROP_STATE_EXPIRED
			     : inb_prepare(sa, s->mb[i], &s->pk[i], &s->ops[k],
					   &v, replay, esn, udp, claim);
		if (rc != ESPGW_OK) {
			espgw_drop_count(st->drops, rc);
			s->sas[k] = NULL;
		}
	} while (++k < s->nb && s->sas[k] == sa);
	return k;
}

/* A new mapping of the peer (address and port): counted when it is new,
 * and kept for the control thread, which reports it (espgw_sa_mapping). */
static void
inb_mapping(struct espgw_sa *sa, struct espgw_sa_stats *st,
	    const struct inb_pkt *pk)
{
	uint64_t m = (uint64_t)pk->src << 16 | pk->sport;

	if (__atomic_load_n(&sa->life.mapping, __ATOMIC_RELAXED) == m)
		return;
	__atomic_store_n(&sa->life.mapping, m, __ATOMIC_RELAXED);
	st->mappings++;
	espgw_sa_flag(sa, ESPGW_SA_MAPPING);
}

/* The open pass over one run. With byte or packet limits (lft, a
 * constant of the SA's variant) each packet is admitted first, after the
 * replay pre-check as in xfrm_input(). udp, also a constant: the SA has
 * ESP in UDP, so every packet of the run came in UDP (inb_prepare).
 * claim, a constant too: the window is claimed by owners, viewed once a
 * run and this owner's top published after it. */
static __rte_always_inline uint16_t
inb_open_run(struct espgw_inb_slice *s, uint16_t k, const bool replay,
	     const bool lft, const bool udp, const bool claim)
{
	struct espgw_sa *sa = s->sas[k];
	struct espgw_sa_stats *st = espgw_sa_slot(sa, s->w->id);
	uint64_t packets = 0, bytes = 0;
	uint16_t nb_ok = s->nb_ok;
	struct espgw_replay_view v;
	struct espgw_life_run r;
	bool check = false;

	if (claim)
		espgw_replay_view_begin(espgw_sa_replay(sa), s->w->id, &v);

	if (lft) {
		espgw_life_begin(sa, &r);
		/* the run is at most the rest of the slice */
		check = !espgw_life_far(sa, &r, s->nb - k);
	}
	do {
		uint16_t i = s->idx[k], len = 0;
		int rc;

		inb_prefetch_key_ahead(s, k);
		rc = lft && check && !espgw_life_admit(sa, &r)
			     ? ESPGW_DROP_STATE_EXPIRED
			     : inb_open(s->w, sa, s->mb[i], &s->pk[i],
					&s->ops[k], &v, &len, replay, claim);
		if (rc != ESPGW_OK) {
			espgw_drop_count(st->drops, rc);
			continue;
		}
		packets++;
		bytes += len;
		if (lft)
			espgw_life_count(&r, len);
		/* RFC 3948 section 5.2, as esp_input_done2(): an authentic
		 * packet from elsewhere than the state says, a NAT rebound */
		if (udp) {
			union espgw_sa_peer at = espgw_sa_peer(sa);

			if (unlikely(s->pk[i].src != at.addr ||
				     s->pk[i].sport != at.port))
				inb_mapping(sa, st, &s->pk[i]);
		}
		espgw_burst_keep(&s->b, i);
		if (s->sa_out != NULL)
			s->sa_out[s->good + nb_ok] = sa;
		nb_ok++;
	} while (++k < s->nb && s->sas[k] == sa);
	s->nb_ok = nb_ok;
	st->packets += packets;
	st->bytes += bytes;
	if (lft)
		espgw_life_end(sa, packets, bytes);
	if (claim)
		espgw_replay_view_end(espgw_sa_replay(sa), &v);
	/* the peer's counter nears its end: time to rekey */
	if (replay)
		espgw_life_seq(sa,
			       claim ? v.edge
				     : espgw_replay_top(espgw_sa_replay(sa)),
			       espgw_seq_limit(sa->esn_mask != 0));
	return k;
}

/* The variants sa.c chooses from. ESN without a window is refused when
 * the SA is made (as xfrm refuses it), so it has none. */
uint16_t
espgw_inb_prepare_no_replay(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, false, false, false, false);
}

uint16_t
espgw_inb_prepare_replay(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, false, false, false);
}

uint16_t
espgw_inb_prepare_replay_esn(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, true, false, false);
}

uint16_t
espgw_inb_prepare_no_replay_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, false, false, true, false);
}

uint16_t
espgw_inb_prepare_replay_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, false, true, false);
}

uint16_t
espgw_inb_prepare_replay_esn_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, true, true, false);
}

uint16_t
espgw_inb_open_no_replay(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, false, false, false, false);
}

uint16_t
espgw_inb_open_replay(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, false, false, false);
}

uint16_t
espgw_inb_open_no_replay_lft(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, false, true, false, false);
}

uint16_t
espgw_inb_open_replay_lft(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, true, false, false);
}

uint16_t
espgw_inb_open_no_replay_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, false, false, true, false);
}

uint16_t
espgw_inb_open_replay_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, false, true, false);
}

uint16_t
espgw_inb_open_no_replay_lft_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, false, true, true, false);
}

uint16_t
espgw_inb_open_replay_lft_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, true, true, false);
}

/* A window claimed by owners: always with a window, so replay. */
uint16_t
espgw_inb_prepare_claim(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, false, false, true);
}

uint16_t
espgw_inb_prepare_claim_esn(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, true, false, true);
}

uint16_t
espgw_inb_prepare_claim_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, false, true, true);
}

uint16_t
espgw_inb_prepare_claim_esn_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_prepare_run(s, k, true, true, true, true);
}

uint16_t
espgw_inb_open_claim(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, false, false, true);
}

uint16_t
espgw_inb_open_claim_lft(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, true, false, true);
}

uint16_t
espgw_inb_open_claim_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, false, true, true);
}

uint16_t
espgw_inb_open_claim_lft_udp(struct espgw_inb_slice *s, uint16_t k)
{
	return inb_open_run(s, k, true, true, true, true);
}

struct inb_args {
	struct espgw_worker *w;
	const struct espgw_sad *sad;
	struct espgw_sa **sa_out;
};

static uint16_t
inb_slice(void *arg, struct rte_mbuf **mb, uint16_t n, uint32_t good)
{
	struct inb_args *a = arg;
	struct espgw_worker *w = a->w;
	struct espgw_inb_slice s; /* not zeroed: each field written first */
	struct espgw_sad_key keys[ESPGW_BURST_MAX];
	const void *kp[ESPGW_BURST_MAX], *look[ESPGW_BURST_MAX];
	void *uniq[ESPGW_BURST_MAX], *found[ESPGW_BURST_MAX];
	uint16_t at[ESPGW_BURST_MAX];
	uint16_t nb = 0, nb_uniq = 0, nb_look = 0;
	uint64_t hit = 0;

	s.w = w;
	s.mb = mb;
	s.sa_out = a->sa_out;
	s.good = good;
	s.nb_ok = 0;
	espgw_burst_init(&s.b, mb, n);
	for (uint16_t i = 0; i < RTE_MIN(n, 4); i++)
		rte_prefetch0(rte_pktmbuf_mtod(mb[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		int rc;

		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mb[i + 4], void *));
		rc = inb_parse(mb[i], &s.pk[i], &keys[nb]);
		if (rc != ESPGW_OK) {
			espgw_drop_count(w->drops, rc);
			continue;
		}
		s.idx[nb++] = i;
	}
	s.nb = nb;

	/* Packets of one SA come in runs: look up each run's key once, all
	 * of them in one bulk lookup, 64 keys at a time. A key whose SPI
	 * the SAD's filter never saw has no SA and is not looked up: a
	 * flood of unknown SPIs costs one load a run (sad.h). The filter's
	 * lines are asked for first: at scale each is a miss, and a
	 * burst's misses then overlap. */
	for (uint16_t k = 0; k < nb; k++)
		if (k == 0 || memcmp(&keys[k], &keys[k - 1], sizeof(keys[k]))) {
			espgw_sad_prefetch_maybe(a->sad, keys[k].spi);
			kp[nb_uniq++] = &keys[k];
		}
	for (uint16_t u = 0; u < nb_uniq; u++) {
		const struct espgw_sad_key *key = kp[u];

		uniq[u] = NULL;
		if (espgw_sad_maybe(a->sad, key->spi)) {
			look[nb_look] = key;
			at[nb_look++] = u;
		}
	}
	for (uint16_t off = 0; off < nb_look; off += 64) {
		uint16_t c = RTE_MIN(nb_look - off, 64);

		hit = 0;
		rte_hash_lookup_bulk_data(a->sad->h, look + off, c, &hit,
					  found + off);
		for (uint16_t k = 0; k < c; k++)
			if (hit & (UINT64_C(1) << k))
				uniq[at[off + k]] = found[off + k];
	}
	for (uint16_t k = 0, u = 0; k < nb; k++) {
		if (u < nb_uniq && kp[u] == &keys[k])
			s.sas[k] = uniq[u++];
		else /* same key as the one before */
			s.sas[k] = s.sas[k - 1];
	}

	/* Ask for the first SAs' lines (the passes ask four packets
	 * ahead), then prepare every packet (see inb_prepare), then open
	 * them, each pass a run at a time with the SA's own steps. */
	for (uint16_t k = 0; k < RTE_MIN(nb, 4); k++)
		if (s.sas[k] != NULL && (k == 0 || s.sas[k] != s.sas[k - 1]))
			espgw_sa_prefetch(s.sas[k], w->id);
	for (uint16_t k = 0; k < nb;) {
		struct espgw_sa *sa = s.sas[k];

		if (sa == NULL) {
			inb_prefetch_ahead(&s, k++);
			w->drops[ESPGW_DROP_UNKNOWN_SPI]++;
			continue;
		}
		espgw_sa_check_use(sa, w, ESPGW_SA_IN);
		k = sa->ops->inb_prepare(&s, k);
	}
	for (uint16_t k = 0; k < nb;) {
		struct espgw_sa *sa = s.sas[k];

		if (sa == NULL) {
			inb_prefetch_key_ahead(&s, k++);
			continue;
		}
		k = sa->ops->inb_open(&s, k);
	}
	return espgw_burst_finish(&s.b);
}

uint16_t
espgw_esp_inbound(struct espgw_worker *w, const struct espgw_sad *sad,
		  struct rte_mbuf *mb[], struct espgw_sa *sa_out[], uint16_t n)
{
	struct inb_args a = { .w = w, .sad = sad, .sa_out = sa_out };

	return espgw_burst_sliced(mb, n, inb_slice, &a);
}

bool
espgw_esp_seq_lo(struct rte_mbuf *m, uint32_t *seq_lo)
{
	const struct rte_ipv4_hdr *ip;
	const uint8_t *p;
	uint16_t off, tot;

	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0)
		return false;
	if (m->data_len < ESPGW_IPV4_HDR_LEN)
		return false;
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	p = (const uint8_t *)ip;
	if ((ip->version_ihl >> 4) == 6) {
		const struct rte_ipv6_hdr *ip6 = (const void *)ip;

		off = ESPGW_IPV6_HDR_LEN;
		if (m->data_len < off ||
		    rte_be_to_cpu_16(ip6->payload_len) > m->data_len - off)
			return false;
		tot = off + rte_be_to_cpu_16(ip6->payload_len);
		if (inb_ipv6_ext(p, tot, ip6->proto, &off) != ESPGW_OK)
			return false;
	} else {
		off = rte_ipv4_hdr_len(ip);
		if (ip->next_proto_id == ESPGW_IPPROTO_UDP)
			off += ESPGW_UDP_HDR_LEN;
		tot = m->data_len;
	}
	if (off + ESPGW_ESP_HDR_LEN > tot)
		return false;
	*seq_lo = rte_be_to_cpu_32(
		((const struct espgw_esp_hdr *)(p + off))->seq);
	return true;
}
