/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The data path of one worker lcore: receive, ARP, ICMP to us, ESP to
 * us, policy, route, neighbour, send. Packets travel as L3 (the Ethernet
 * header is stripped on receive and written again on send). */

/* rte_ip_frag_table_del_expired_entries (experimental in DPDK 22.11) */
#define ALLOW_EXPERIMENTAL_API

#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_prefetch.h>

#include "espgw/ipv4.h"
#include "gw.h"
#include "spd.h"

#define OUT_MAX (GW_BURST * 4)
#define TXQ_MAX 64        /* packets gathered per port before a tx_burst */
#define FRAG_MAX 64       /* fragments of one packet */
#define ARP_RETRY_MS 250
#define ARP_TRIES 4       /* then the held packets are dropped */
#define ICMP_ERR_PER_SEC 1000

struct ctx {
	struct gw *gw;
	const struct gw_tables *t;
	struct gw_worker *w;
	uint64_t now, hz;
	struct rte_mbuf *out[OUT_MAX]; /* L3 packets for the out path */
	/* their out policy when already matched (forwarded packets are
	 * matched together with the fwd check, from the same key) */
	struct gw_policy *out_pol[OUT_MAX];
	bool out_known[OUT_MAX];
	unsigned int nb_out;
	/* The last route and next hop resolved in this loop: bursts mostly
	 * go to one (reset every loop, so neither outlives a table or ARP
	 * change by more than a burst). */
	uint32_t rt_dst;
	const struct gw_nexthop *rt_nh;
	uint16_t rt_mtu;
	bool rt_valid;
	uint32_t hop;
	uint16_t hop_port;
	bool hop_valid;
	struct rte_ether_hdr hop_eth; /* the Ethernet header to it */
	/* packets ready to send, per port: one rte_eth_tx_burst each at
	 * the end of the loop (or when full) */
	struct {
		uint16_t n;
		struct rte_mbuf *m[TXQ_MAX];
	} txq[GW_MAX_PORTS];
};

static void out_flush(struct ctx *c);

static inline void
drop(struct ctx *c, struct rte_mbuf *m, enum gw_counter why)
{
	c->w->cnt[why]++;
	rte_pktmbuf_free(m);
}

/* Queue an L3 packet for the out path (policy, ESP, route), with its
 * out policy when known already. */
static inline void
out_queue(struct ctx *c, struct rte_mbuf *m, struct gw_policy *pol,
	  bool known)
{
	if (c->nb_out == OUT_MAX)
		out_flush(c);
	c->out_pol[c->nb_out] = pol;
	c->out_known[c->nb_out] = known;
	c->out[c->nb_out++] = m;
}

static inline void
out_add(struct ctx *c, struct rte_mbuf *m)
{
	out_queue(c, m, NULL, false);
}

static inline uint16_t
ip_len(const struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(
		rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->total_length);
}

/* ---- sending ---------------------------------------------------------- */

/* Send what is queued for a port; what the queue does not take is
 * dropped and counted. */
static void
tx_flush(struct ctx *c, uint16_t port)
{
	uint16_t n = c->txq[port].n;
	uint16_t sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(port, (uint16_t)c->w->id, c->txq[port].m, n);
	c->w->cnt[GW_TX] += sent;
	if (unlikely(sent < n)) {
		c->w->cnt[GW_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(c->txq[port].m + sent, n - sent);
	}
	c->txq[port].n = 0;
}

/* Put a prebuilt Ethernet header in front and queue for TX. */
static inline void
send_eth(struct ctx *c, struct rte_mbuf *m, uint16_t port,
	 const struct rte_ether_hdr *hdr)
{
	struct rte_ether_hdr *eth;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (unlikely(eth == NULL)) {
		drop(c, m, GW_DROP_NO_HEADROOM);
		return;
	}
	memcpy(eth, hdr, sizeof(*eth));
	c->txq[port].m[c->txq[port].n++] = m;
	if (unlikely(c->txq[port].n == TXQ_MAX))
		tx_flush(c, port);
}

/* The Ethernet header from our port to dmac. */
static inline struct rte_ether_hdr
eth_hdr(const struct ctx *c, uint16_t port, const struct rte_ether_addr *dmac,
	uint16_t type)
{
	struct rte_ether_hdr h = { .ether_type = rte_cpu_to_be_16(type) };

	rte_ether_addr_copy(dmac, &h.dst_addr);
	rte_ether_addr_copy(&c->t->ifaces[port].mac, &h.src_addr);
	return h;
}

static void
send_l2(struct ctx *c, struct rte_mbuf *m, uint16_t port,
	const struct rte_ether_addr *dmac, uint16_t type)
{
	struct rte_ether_hdr h = eth_hdr(c, port, dmac, type);

	send_eth(c, m, port, &h);
}

/* RFC 826: who has ip? tell our address on port. */
static void
arp_request(struct ctx *c, uint16_t port, uint32_t ip)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }
	};
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->gw->pool);
	struct rte_arp_hdr *a;

	/* a request not made is no packet lost: ARP asks again */
	a = m != NULL ? gw_mbuf_put(m, sizeof(*a)) : NULL;
	if (a == NULL) {
		rte_pktmbuf_free(m);
		c->w->cnt[GW_ALLOC_FAILED]++;
		return;
	}
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&c->t->ifaces[port].mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = c->t->ifaces[port].addr;
	memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	a->arp_data.arp_tip = ip;
	c->w->cnt[GW_ARP_REQUESTED]++;
	send_l2(c, m, port, &bcast, RTE_ETHER_TYPE_ARP);
}

/* Hold a packet until its next hop answers ARP (bounded, with retries). */
static void
pending_add(struct ctx *c, struct rte_mbuf *m, uint16_t port, uint32_t ip)
{
	struct gw_worker *w = c->w;
	struct gw_pending *p;
	bool asked = false;

	if (w->nb_pending == GW_ARP_PENDING) {
		drop(c, m, GW_DROP_ARP_QUEUE_FULL);
		return;
	}
	p = &w->pending[w->nb_pending++];
	*p = (struct gw_pending){ .m = m, .nh_ip = ip, .port = port,
				  .tries = 1,
				  .next_try = c->now + c->hz * ARP_RETRY_MS / 1000 };
	for (unsigned int i = 0; i + 1 < w->nb_pending; i++)
		if (w->pending[i].nh_ip == ip && w->pending[i].port == port) {
			p->tries = w->pending[i].tries;
			p->next_try = w->pending[i].next_try;
			asked = true;
			break;
		}
	if (!asked)
		arp_request(c, port, ip);
}

/* Send what ARP has resolved, retry what it has not, give up at last. */
static void
pending_poll(struct ctx *c)
{
	struct gw_worker *w = c->w;
	unsigned int keep = 0;

	for (unsigned int i = 0; i < w->nb_pending; i++) {
		struct gw_pending *p = &w->pending[i];
		struct rte_ether_addr mac;
		bool asked = false;

		if (gw_neigh_get(&c->gw->neigh, p->port, p->nh_ip, &mac)) {
			send_l2(c, p->m, p->port, &mac, RTE_ETHER_TYPE_IPV4);
			continue;
		}
		if (c->now >= p->next_try) {
			if (p->tries >= ARP_TRIES) {
				drop(c, p->m, GW_DROP_ARP_UNRESOLVED);
				continue;
			}
			for (unsigned int j = 0; j < keep; j++)
				if (w->pending[j].nh_ip == p->nh_ip &&
				    w->pending[j].port == p->port)
					asked = true;
			if (!asked)
				arp_request(c, p->port, p->nh_ip);
			p->tries++;
			p->next_try = c->now + c->hz * ARP_RETRY_MS / 1000;
		}
		w->pending[keep++] = *p;
	}
	w->nb_pending = keep;
}

static int fragment(struct ctx *c, struct rte_mbuf *m, uint16_t mtu,
		    struct rte_mbuf **frags);
static void icmp_error(struct ctx *c, struct rte_mbuf *orig, uint8_t type,
		       uint8_t code, uint16_t mtu);

/* Route an L3 packet and hand it to its next hop. */
static void
send_ip(struct ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	const struct gw_nexthop *nh;
	struct rte_ether_addr mac;
	uint32_t hop;
	uint16_t mtu;

	if (c->rt_valid && c->rt_dst == ip->dst_addr) {
		nh = c->rt_nh;
		mtu = c->rt_mtu;
	} else {
		nh = gw_route(c->t, ip->dst_addr);
		if (nh == NULL) {
			icmp_error(c, m, GW_ICMP_DEST_UNREACH,
				   GW_ICMP_CODE_NET_UNREACH, 0);
			drop(c, m, GW_DROP_NO_ROUTE);
			return;
		}
		mtu = c->t->ifaces[nh->port].mtu;
		c->rt_dst = ip->dst_addr;
		c->rt_nh = nh;
		c->rt_mtu = mtu;
		c->rt_valid = true;
	}
	if (unlikely(ip_len(m) > mtu)) {
		struct rte_mbuf *frags[FRAG_MAX];
		int n;

		if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
			icmp_error(c, m, GW_ICMP_DEST_UNREACH, GW_ICMP_CODE_FRAG_NEEDED,
				   mtu);
			drop(c, m, GW_DROP_FRAG_NEEDED);
			return;
		}
		n = fragment(c, m, mtu, frags);
		for (int i = 0; i < n; i++)
			send_ip(c, frags[i]);
		return;
	}
	hop = nh->gw ? nh->gw : ip->dst_addr;
	if (c->hop_valid && c->hop == hop && c->hop_port == nh->port) {
		send_eth(c, m, nh->port, &c->hop_eth);
	} else if (gw_neigh_get(&c->gw->neigh, nh->port, hop, &mac)) {
		c->hop = hop;
		c->hop_port = nh->port;
		c->hop_eth = eth_hdr(c, nh->port, &mac, RTE_ETHER_TYPE_IPV4);
		c->hop_valid = true;
		send_eth(c, m, nh->port, &c->hop_eth);
	} else {
		pending_add(c, m, nh->port, hop);
	}
}

/* ---- fragments and ICMP ----------------------------------------------- */

/* Split an IPv4 packet (DF clear) to fit mtu. Returns the number of
 * fragments, 0 when it failed (counted; m is freed either way). */
static int
fragment(struct ctx *c, struct rte_mbuf *m, uint16_t mtu,
	 struct rte_mbuf **frags)
{
	int n = rte_ipv4_fragment_packet(m, frags, FRAG_MAX, mtu, c->gw->pool,
					 c->gw->indirect_pool);

	if (n <= 0) {
		drop(c, m, GW_DROP_FRAG_FAILED);
		return 0;
	}
	c->w->cnt[GW_FRAGMENTED]++;
	c->w->cnt[GW_FRAGMENTS_MADE] += n;
	rte_pktmbuf_free(m); /* the fragments hold their own references */
	for (int i = 0; i < n; i++) {
		struct rte_ipv4_hdr *ip;

		frags[i]->packet_type = RTE_PTYPE_L3_IPV4;
		/* one segment for the ESP library and the Ethernet header */
		if (rte_pktmbuf_linearize(frags[i]) != 0) {
			for (int j = i; j < n; j++)
				drop(c, frags[j], GW_DROP_FRAG_FAILED);
			return i;
		}
		/* the library leaves the fragments' checksums at zero */
		ip = rte_pktmbuf_mtod(frags[i], struct rte_ipv4_hdr *);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return n;
}

/* RFC 792 error about orig, from our address on the port it came in by.
 * Never about an ICMP error, a later fragment, or a non-unicast source
 * (RFC 1122 section 3.2.2); rate-limited like the kernel's. */
static void
icmp_error(struct ctx *c, struct rte_mbuf *orig, uint8_t type, uint8_t code,
	   uint16_t mtu)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod(orig, const void *);
	uint16_t ohl = rte_ipv4_hdr_len(oip);
	uint16_t quote = RTE_MIN((uint16_t)(ohl + 8), orig->data_len);
	const uint8_t *ol4 = (const uint8_t *)oip + ohl;
	struct gw_worker *w = c->w;
	const struct gw_nexthop *back;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct rte_mbuf *m;
	uint64_t add;
	uint32_t src;

	if ((oip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) ||
	    (oip->next_proto_id == IPPROTO_ICMP && orig->data_len > ohl &&
	     ol4[0] != RTE_IP_ICMP_ECHO_REQUEST && ol4[0] != RTE_IP_ICMP_ECHO_REPLY) ||
	    oip->src_addr == 0 || gw_is_mcast(oip->src_addr) ||
	    oip->src_addr == UINT32_MAX)
		return;
	/* token bucket: ICMP_ERR_PER_SEC, burst of the same; time moves on
	 * only by the tokens it earned, so a flood still gets its share */
	add = (c->now - w->icmp_last) * ICMP_ERR_PER_SEC / c->hz;
	if (add > 0) {
		w->icmp_tokens = RTE_MIN(w->icmp_tokens + add,
					 (uint64_t)ICMP_ERR_PER_SEC);
		w->icmp_last += add * c->hz / ICMP_ERR_PER_SEC;
	}
	if (w->icmp_tokens == 0) {
		w->cnt[GW_ICMP_RATELIMITED]++;
		return;
	}
	w->icmp_tokens--;

	/* the source the route back prefers (as icmp_send does), so an
	 * error about tunnel traffic matches the tunnel's policy and goes
	 * back encrypted; else the port it came in by */
	back = gw_route(c->t, oip->src_addr);
	src = back == NULL ? 0
	      : back->src ? back->src
			  : c->t->ifaces[back->port].addr;
	if (src == 0 && orig->port < GW_MAX_PORTS)
		src = c->t->ifaces[orig->port].addr;
	if (src == 0 && c->t->nb_local > 0)
		src = c->t->local[0];
	m = rte_pktmbuf_alloc(c->gw->pool);
	ip = m != NULL ? gw_mbuf_put(m, sizeof(*ip) + sizeof(*icmp) + quote)
		       : NULL;
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		w->cnt[GW_ALLOC_FAILED]++;
		return;
	}
	memset(ip, 0, sizeof(*ip) + sizeof(*icmp));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(m->data_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	/* RFC 1191 section 4: next-hop MTU in the low 16 bits */
	icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	memcpy(icmp + 1, oip, quote);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + quote);
	m->port = orig->port;
	w->cnt[GW_ICMP_ERRORS_SENT]++;
	out_add(c, m);
}

/* RFC 792 echo: answer in place and send it back the way replies go. */
static void
icmp_echo(struct ctx *c, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hl);
	uint32_t a = ip->src_addr;

	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, ip_len(m) - hl);
	c->w->cnt[GW_ICMP_ECHO_REPLIED]++;
	out_add(c, m);
}

/* A packet for this gateway, past the in policy check. */
static void
local_input(struct ctx *c, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	uint16_t hl = rte_ipv4_hdr_len(ip);
	const uint8_t *l4 = (const uint8_t *)ip + hl;

	if (ip->next_proto_id == IPPROTO_ICMP && m->data_len >= hl + 8 &&
	    l4[0] == RTE_IP_ICMP_ECHO_REQUEST &&
	    !(ip->fragment_offset &
	      rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		icmp_echo(c, m);
		return;
	}
	drop(c, m, GW_DROP_LOCAL_UNHANDLED);
}

/* Decrement TTL (RFC 1812 section 5.3.1) and send on; pol is its out
 * policy, matched already when known. */
static void
forward(struct ctx *c, struct rte_mbuf *m, struct gw_policy *pol, bool known)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint32_t sum;

	if (ip->time_to_live <= 1) {
		icmp_error(c, m, GW_ICMP_TIME_EXCEEDED, 0, 0);
		drop(c, m, GW_DROP_TTL);
		return;
	}
	ip->time_to_live--;
	/* RFC 1624 incremental update (TTL is the high byte of its word),
	 * with the end-around carry that gives 0x0000, never 0xffff, as
	 * the kernel's ip_decrease_ttl does */
	sum = (uint32_t)ip->hdr_checksum + rte_cpu_to_be_16(0x0100);
	ip->hdr_checksum = (uint16_t)(sum + (sum >= 0xffff));
	c->w->cnt[GW_FORWARDED]++;
	out_queue(c, m, pol, known);
}

/* ---- policy ----------------------------------------------------------- */

/* Match n keys against one direction, through the worker's policy
 * cache, whose entries belong to one table set and one direction. */
static inline void
spd_match(struct ctx *c, enum gw_dir dir, const uint8_t **kp,
	  struct gw_policy **pol, unsigned int n)
{
	gw_spd_lookup_cached(&c->t->spd[dir], c->w->spd_cache,
			     c->t->generation << 2 | (uint64_t)dir, kp, pol, n);
}

/* Does the SA that decrypted a packet satisfy the policy's template?
 * (RFC 4301 section 5.2, step 4; xfrm_state_ok) */
static bool
tmpl_ok(const struct gw_policy *p, const struct espgw_sa *sa)
{
	if (!p->has_tmpl)
		return true;
	return sa != NULL &&
	       espgw_sa_tmpl_match(sa, p->reqid, p->tmpl_src, p->tmpl_dst);
}

/* Check packets that arrived (decrypted by sas[i], or in the clear when
 * sas is NULL) against the in or fwd policies, as xfrm does after
 * input; the ones allowed go on to the gateway or the out path. */
static void
check_inbound(struct ctx *c, struct rte_mbuf **m, struct espgw_sa **sas,
	      unsigned int n)
{
	struct gw_acl_key keys[OUT_MAX];
	const uint8_t *kp[OUT_MAX];
	struct gw_policy *pol[OUT_MAX], *opol[OUT_MAX];
	bool local[OUT_MAX];

	/* in (to us) and fwd (through us) in one pass each */
	for (int pass = 0; pass < 2; pass++) {
		enum gw_dir dir = pass == 0 ? GW_IN : GW_FWD;
		unsigned int k = 0;
		uint16_t idx[OUT_MAX];

		/* no policy to match: no keys to build; packets to forward
		 * get their out policy from the same key */
		bool out_too = dir == GW_FWD && c->t->spd[GW_OUT].nb != 0;
		bool match = c->t->spd[dir].nb != 0 || out_too;
		bool l4 = c->t->spd[dir].l4 || (out_too && c->t->spd[GW_OUT].l4);

		for (unsigned int i = 0; i < n; i++) {
			if (pass == 0)
				local[i] = gw_is_local(
					c->t, rte_pktmbuf_mtod(m[i],
					      const struct rte_ipv4_hdr *)->dst_addr);
			if (local[i] != (pass == 0))
				continue;
			if (match) {
				gw_acl_key(m[i], &keys[k], l4);
				kp[k] = (const uint8_t *)&keys[k];
			}
			idx[k++] = (uint16_t)i;
		}
		spd_match(c, dir, kp, pol, k);
		if (out_too)
			spd_match(c, GW_OUT, kp, opol, k);
		/* with thousands of policies their lines are cold */
		for (unsigned int j = 0; j < RTE_MIN(k, 4u); j++)
			if (pol[j] != NULL)
				rte_prefetch0(pol[j]);
		for (unsigned int j = 0; j < k; j++) {
			struct rte_mbuf *p = m[idx[j]];
			struct espgw_sa *sa = sas ? sas[idx[j]] : NULL;

			if (j + 4 < k && pol[j + 4] != NULL &&
			    pol[j + 4] != pol[j + 3])
				rte_prefetch0(pol[j + 4]);

			if (pol[j] == NULL) {
				/* RFC 4301 section 5.2: tunnel-mode traffic
				 * must match a policy */
				if (sa != NULL) {
					drop(c, p, GW_DROP_IN_NO_POLICY);
					continue;
				}
			} else if (pol[j]->action == ESPGW_POL_BLOCK) {
				drop(c, p, GW_DROP_POLICY_BLOCK);
				continue;
			} else if (!tmpl_ok(pol[j], sa)) {
				drop(c, p, sa ? GW_DROP_IN_TMPL_MISMATCH
					      : GW_DROP_UNPROTECTED);
				continue;
			}
			if (dir == GW_IN)
				local_input(c, p);
			else if (out_too)
				forward(c, p, opol[j], true);
			else
				forward(c, p, NULL, c->t->spd[GW_OUT].nb == 0);
		}
	}
}

/* Encrypt packets (each with its own SA) and send the results. */
static void
protect(struct ctx *c, struct espgw_sa **sa, struct rte_mbuf **m,
	unsigned int n)
{
	uint16_t ok = espgw_esp_outbound_bulk(c->w->esp, sa, m, (uint16_t)n);

	c->w->cnt[GW_ENCRYPTED] += ok;
	/* counted by the library under the SA's reason (drop-esp-out) */
	rte_pktmbuf_free_bulk(m + ok, n - ok);
	for (unsigned int i = 0; i < ok; i++)
		send_ip(c, m[i]);
}

/* The out path (RFC 4301 section 5.1): match out policies a burst at a
 * time; protect, bypass or discard; then route. */
static void
out_flush(struct ctx *c)
{
	struct gw_acl_key keys[OUT_MAX];
	const uint8_t *kp[OUT_MAX];
	struct gw_policy *pol[OUT_MAX], *found[OUT_MAX];
	struct rte_mbuf *pkts[OUT_MAX], *run[OUT_MAX + FRAG_MAX];
	struct espgw_sa *run_sa[OUT_MAX + FRAG_MAX];
	unsigned int n = c->nb_out, nb_run = 0, nb_new = 0;
	uint16_t idx[OUT_MAX];

	if (n == 0)
		return;
	memcpy(pkts, c->out, n * sizeof(pkts[0]));
	memcpy(pol, c->out_pol, n * sizeof(pol[0]));
	c->nb_out = 0; /* ICMP made below queues anew */
	/* match what was not matched on the way in (our own packets) */
	for (unsigned int i = 0; i < n; i++) {
		if (c->out_known[i])
			continue;
		gw_acl_key(pkts[i], &keys[nb_new], c->t->spd[GW_OUT].l4);
		kp[nb_new] = (const uint8_t *)&keys[nb_new];
		idx[nb_new++] = (uint16_t)i;
	}
	if (nb_new) {
		spd_match(c, GW_OUT, kp, found, nb_new);
		for (unsigned int j = 0; j < nb_new; j++)
			pol[idx[j]] = found[j];
	}

	/* At 10,000 policies and 100,000 SAs their lines are cold: ask for
	 * a policy four packets ahead and, once it has come, its SA two
	 * ahead (the ESP library wants the SA's first line first). */
	for (unsigned int i = 0; i < RTE_MIN(n, 4u); i++)
		if (pol[i] != NULL)
			rte_prefetch0(pol[i]);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct gw_policy *p = pol[i];

		if (i + 4 < n && pol[i + 4] != NULL && pol[i + 4] != pol[i + 3])
			rte_prefetch0(pol[i + 4]);
		if (i + 2 < n && pol[i + 2] != NULL && pol[i + 2] != pol[i + 1] &&
		    pol[i + 2]->sa != NULL)
			rte_prefetch0(pol[i + 2]->sa);

		if (p == NULL || (p->action == ESPGW_POL_ALLOW &&
				  !p->has_tmpl)) {
			send_ip(c, m);
			continue;
		}
		if (p->action == ESPGW_POL_BLOCK) {
			drop(c, m, GW_DROP_POLICY_BLOCK);
			continue;
		}
		if (p->sa == NULL) {
			drop(c, m, GW_DROP_NO_SA);
			continue;
		}
		if (nb_run + FRAG_MAX > RTE_DIM(run)) {
			protect(c, run_sa, run, nb_run);
			nb_run = 0;
		}
		if (unlikely(ip_len(m) > p->max_inner)) {
			/* RFC 4459 section 3: fragment before encryption,
			 * or tell the sender the tunnel's MTU */
			const struct rte_ipv4_hdr *ip =
				rte_pktmbuf_mtod(m, const void *);
			int nf;

			if (ip->fragment_offset &
			    rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
				icmp_error(c, m, GW_ICMP_DEST_UNREACH,
					   GW_ICMP_CODE_FRAG_NEEDED,
					   p->max_inner);
				drop(c, m, GW_DROP_FRAG_NEEDED);
				continue;
			}
			nf = fragment(c, m, p->max_inner, run + nb_run);
			for (int f = 0; f < nf; f++)
				run_sa[nb_run++] = p->sa;
			continue;
		}
		run_sa[nb_run] = p->sa;
		run[nb_run++] = m;
	}
	if (nb_run)
		protect(c, run_sa, run, nb_run);
	/* ICMP errors and replies made on the way go out too */
	if (c->nb_out)
		out_flush(c);
}

/* ---- receiving -------------------------------------------------------- */

/* RFC 826 for our addresses: answer requests, learn who asked or replied. */
static void
arp_input(struct ctx *c, struct rte_mbuf *m, uint16_t port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	const struct gw_iface *f = &c->t->ifaces[port];
	uint32_t tip, sip;
	uint16_t op;

	if (m->data_len < sizeof(*eth) + sizeof(*a) ||
	    a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4) {
		drop(c, m, GW_DROP_BAD_ARP);
		return;
	}
	op = rte_be_to_cpu_16(a->arp_opcode);
	tip = a->arp_data.arp_tip;
	sip = a->arp_data.arp_sip;
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		drop(c, m, GW_DROP_BAD_ARP);
		return;
	}
	/* only conversations with us teach us anything */
	if (!gw_is_local(c->t, tip)) {
		drop(c, m, GW_DROP_NOT_FOR_US);
		return;
	}
	if (sip != 0 && !rte_is_multicast_ether_addr(&a->arp_data.arp_sha)) {
		gw_neigh_set(&c->gw->neigh, port, sip, &a->arp_data.arp_sha,
			     false);
		c->w->cnt[GW_ARP_LEARNED]++;
	}
	if (op != RTE_ARP_OP_REQUEST) {
		c->w->cnt[GW_ARP_REPLIES_RECEIVED]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* the reply, in place */
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&f->mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = tip;
	rte_pktmbuf_adj(m, sizeof(*eth));
	rte_pktmbuf_trim(m, m->data_len - sizeof(*a));
	c->w->cnt[GW_ARP_REPLIED]++;
	send_l2(c, m, port, &a->arp_data.arp_tha, RTE_ETHER_TYPE_ARP);
}

/* One segment for a reassembled datagram: in place when the first
 * fragment's buffer has room, else copied into a 64 KB buffer. Returns
 * the packet, or NULL when it was dropped (counted). */
static struct rte_mbuf *
flatten(struct ctx *c, struct rte_mbuf *m)
{
	struct rte_mbuf *j;
	const void *p;
	uint32_t len = m->pkt_len;

	if (m->nb_segs == 1 || rte_pktmbuf_linearize(m) == 0)
		return m;
	j = rte_pktmbuf_alloc(c->gw->jumbo_pool);
	if (j == NULL || len > rte_pktmbuf_tailroom(j)) {
		rte_pktmbuf_free(j);
		drop(c, m, GW_DROP_NO_MBUF);
		return NULL;
	}
	p = rte_pktmbuf_read(m, 0, len, rte_pktmbuf_mtod(j, void *));
	if (p != rte_pktmbuf_mtod(j, void *))
		memcpy(rte_pktmbuf_mtod(j, void *), p, len);
	j->data_len = (uint16_t)len;
	j->pkt_len = len;
	j->port = m->port;
	j->packet_type = m->packet_type;
	rte_pktmbuf_free(m);
	return j;
}

/* RFC 1812 section 5.2.2: a well-formed IPv4 header, trimmed to its
 * length. Returns the header or NULL. */
static struct rte_ipv4_hdr *
ip_valid(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, void *);
	uint16_t hl, tot;

	if (m->data_len < sizeof(*ip) || (ip->version_ihl >> 4) != 4 ||
	    (ip->version_ihl & 0xf) < 5)
		return NULL;
	hl = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (hl > m->data_len || tot < hl || tot > m->data_len ||
	    !espgw_ipv4_cksum_ok(ip, hl))
		return NULL;
	if (tot < m->data_len)
		rte_pktmbuf_trim(m, m->data_len - tot);
	/* checked once: the ESP library need not check it again */
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_IP_CKSUM_MASK) |
		      RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	return ip;
}

static void
rx_burst(struct ctx *c, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	const struct gw_iface *f = &c->t->ifaces[port];
	struct rte_mbuf *esp[GW_BURST], *plain[GW_BURST];
	struct espgw_sa *sas[GW_BURST];
	unsigned int nb_esp = 0, nb_plain = 0;
	uint16_t ok;

	c->w->cnt[GW_RX] += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);
		struct rte_ipv4_hdr *ip;
		uint16_t type;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (m->data_len < sizeof(*eth)) {
			drop(c, m, GW_DROP_L2_PROTO);
			continue;
		}
		if (!rte_is_same_ether_addr(&eth->dst_addr, &f->mac) &&
		    !rte_is_multicast_ether_addr(&eth->dst_addr)) {
			drop(c, m, GW_DROP_NOT_FOR_US);
			continue;
		}
		m->port = port;
		type = rte_be_to_cpu_16(eth->ether_type);
		if (type == RTE_ETHER_TYPE_ARP) {
			arp_input(c, m, port);
			continue;
		}
		if (type == RTE_ETHER_TYPE_IPV6) {
			drop(c, m, GW_DROP_IPV6);
			continue;
		}
		if (type != RTE_ETHER_TYPE_IPV4) {
			drop(c, m, GW_DROP_L2_PROTO);
			continue;
		}
		rte_pktmbuf_adj(m, sizeof(*eth));
		ip = ip_valid(m);
		if (ip == NULL) {
			drop(c, m, GW_DROP_BAD_IP);
			continue;
		}
		if (ip->next_proto_id == IPPROTO_ESP &&
		    gw_is_local(c->t, ip->dst_addr)) {
			if (rte_ipv4_frag_pkt_is_fragmented(ip)) {
				struct rte_mbuf *r;

				/* RFC 4303 section 3.4.1: reassemble first */
				m->l2_len = 0;
				m->l3_len = rte_ipv4_hdr_len(ip);
				r = rte_ipv4_frag_reassemble_packet(
					c->w->frag_tbl, &c->w->death_row, m,
					c->now, ip);
				if (r == NULL)
					continue; /* held, or on death row */
				c->w->cnt[GW_REASSEMBLED]++;
				/* the other fragments live on as segments */
				c->w->cnt[GW_FRAGS_MERGED] += r->nb_segs - 1;
				m = flatten(c, r);
				if (m == NULL)
					continue;
				/* new length and flags: a new checksum */
				ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
			}
			esp[nb_esp++] = m;
			continue;
		}
		if (gw_is_mcast(ip->dst_addr) ||
		    ip->dst_addr == UINT32_MAX) {
			drop(c, m, GW_DROP_LOCAL_UNHANDLED);
			continue;
		}
		plain[nb_plain++] = m;
	}

	if (nb_esp) {
		ok = espgw_esp_inbound(c->w->esp, c->t->sad, esp, sas,
				       (uint16_t)nb_esp);
		c->w->cnt[GW_DECRYPTED] += ok;
		/* counted by the library under its reason (drop-esp-in) */
		rte_pktmbuf_free_bulk(esp + ok, nb_esp - ok);
		/* the gateway routes IPv4 only, for now; the rest keep
		 * their order */
		nb_esp = 0;
		for (unsigned int i = 0; i < ok; i++) {
			if (unlikely(esp[i]->packet_type == RTE_PTYPE_L3_IPV6)) {
				drop(c, esp[i], GW_DROP_INNER_IPV6);
				continue;
			}
			sas[nb_esp] = sas[i];
			esp[nb_esp++] = esp[i];
		}
		check_inbound(c, esp, sas, nb_esp);
	}
	if (nb_plain)
		check_inbound(c, plain, NULL, nb_plain);
	out_flush(c);
}

/* On the way out: what the worker still holds is counted as held and
 * freed, so that every packet received has its one fate. */
static void
held_count(struct gw_worker *w)
{
	for (unsigned int i = 0; i < w->nb_pending; i++)
		rte_pktmbuf_free(w->pending[i].m);
	w->cnt[GW_HELD_ARP] += w->nb_pending;
	w->nb_pending = 0;
	/* a death row takes a bounded number of entries a call */
	do {
		rte_ip_frag_table_del_expired_entries(w->frag_tbl,
						      &w->death_row, UINT64_MAX);
		w->cnt[GW_HELD_REASSEMBLY] += w->death_row.cnt;
		rte_ip_frag_free_death_row(&w->death_row, 0);
	} while (w->death_row.cnt != 0);
}

int
gw_worker_main(void *arg)
{
	struct gw_worker_arg *a = arg;
	struct gw *gw = a->gw;
	struct gw_worker *w = a->w;
	struct rte_mbuf *pkts[GW_BURST];
	struct ctx c = { .gw = gw, .w = w, .hz = rte_get_tsc_hz() };

	w->icmp_last = rte_rdtsc();
	w->icmp_tokens = ICMP_ERR_PER_SEC;
	while (!__atomic_load_n(&gw->quit, __ATOMIC_RELAXED)) {
		uint32_t got = 0;

		c.t = __atomic_load_n(&gw->tables, __ATOMIC_ACQUIRE);
		c.now = rte_rdtsc();
		c.hop_valid = false;
		c.rt_valid = false;
		for (unsigned int p = 0; p < gw->nb_ports; p++) {
			uint16_t port = gw->ports[p];
			uint16_t n = rte_eth_rx_burst(port, (uint16_t)w->id,
						      pkts, GW_BURST);

			if (n) {
				rx_burst(&c, port, pkts, n);
				got += n;
			}
		}
		if (w->nb_pending)
			pending_poll(&c);
		/* fragments that timed out, came twice or did not fit */
		rte_ip_frag_table_del_expired_entries(w->frag_tbl,
						      &w->death_row, c.now);
		w->cnt[GW_DROP_REASSEMBLY] += w->death_row.cnt;
		rte_ip_frag_free_death_row(&w->death_row, 3);
		for (unsigned int p = 0; p < gw->nb_ports; p++)
			tx_flush(&c, gw->ports[p]);
		/* quiescent point: the tables read above are released */
		__atomic_store_n(&w->epoch, w->epoch + 1, __ATOMIC_RELEASE);
		if (got == 0 && gw->poll_idle_us)
			usleep(gw->poll_idle_us);
	}
	held_count(w);
	return 0;
}
