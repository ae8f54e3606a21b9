/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* The gateway's whole receive path: one burst of Ethernet frames per
 * input through gw_rx_burst() and the rest of a worker's poll loop
 * (hold queue, NAT keepalives, reassembly expiry, TX flush), on a table
 * set built once from the configuration below, with two ports on
 * rte_rings whose TX side is read back instead of a NIC's. Frames are
 * raw bytes, or Ethernet, ARP, IPv4 and IPv6 headers built from the
 * input (options, fragments, extension headers in the payload, upper
 * checksums right or not), or ESP that an inbound SA accepts: an inner
 * packet the input picks, sealed by the peer's twin of that SA, then
 * maybe changed a byte and split in IPv4 fragments.
 *
 * Checks per input: counters.h's conservation law over the counters'
 * deltas, the ESP library's drops included; every mbuf back in its
 * pool once what is held (hold queue, reassembly) is released as the
 * worker's exit does; each frame sent well formed (our source MAC,
 * IPv4 and ICMP checksums, IPv4 and IPv6 lengths, TTL, ARP's size).
 *
 * Input: a byte of flags (bit 0 the port, bits 1-2 0, 1, 2 or 5 later
 * poll loops 300 ms apart, bit 3 a NAT keepalive asked for), then up to 32
 * frames, each a kind byte, a 16-bit length and the kind's fields (build()). */

#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "common.h"
#include "gw.h"
#include "dataplane/ctx.h"
#include "dataplane/frag.h"
#include "dataplane/hold.h"
#include "dataplane/natt.h"
#include "dataplane/rx.h"
#include "dataplane/tx.h"
#include "lang/config.h"

#define KEY4 "0x6c1c4a2e4b43a58fa5d6b5b1f9a9d1e3aa0b2c31"
#define KEY4I "0x1f5e9b3d7a2c84e6f0d1c3b5a7e9f2d4c6b8a0e2"
#define KEY6 "0x0102030405060708090a0b0c0d0e0f1011121314"
#define KEY6I "0x2122232425262728292a2b2c2d2e2f3031323334"

/* port0 faces the LAN (10.0.1.0/24, 2001:db8:1::/64), port1 the
 * Internet at MTU 1400 (192.0.2.1, 2001:db8:ff::1; IPv6 routed within
 * 2001:db8::/32 only); a tunnel to a site (10.0.2.0/24,
 * 2001:db8:2::/64) behind 198.51.100.2 in ESP in UDP (RFC 3948) and
 * behind 2001:db8:99::2 in plain ESP over IPv6, whose inbound SA takes
 * IPv4 too (af-unspec: no template of IPv4's matches it); 10.0.3.0/24
 * is protected by an SA nobody added (drop-out-no-state). */
static const char *const CONFIG[] = {
	"ip link set dev port0 up",
	"ip link set dev port1 up mtu 1400",
	"ip addr add 10.0.1.1/24 dev port0",
	"ip addr add 192.0.2.1/24 dev port1",
	"ip -6 addr add 2001:db8:1::1/64 dev port0",
	"ip -6 addr add 2001:db8:ff::1/64 dev port1",
	"ip route add default via 192.0.2.254 dev port1",
	"ip -6 route add 2001:db8::/32 via 2001:db8:ff::fe dev port1",
	"ip neigh add 192.0.2.254 lladdr 02:00:00:00:00:fe dev port1",
	"ip -6 neigh add 2001:db8:ff::fe lladdr 02:00:00:00:00:fe dev port1",
	"ip xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x1001 "
	"reqid 1 mode tunnel replay-window 64 encap espinudp 4500 4500 0.0.0.0 "
	"aead 'rfc4106(gcm(aes))' " KEY4 " 128",
	"ip xfrm state add src 198.51.100.2 dst 192.0.2.1 proto esp spi 0x2002 "
	"reqid 2 mode tunnel replay-window 64 encap espinudp 4500 4500 0.0.0.0 "
	"aead 'rfc4106(gcm(aes))' " KEY4I " 128",
	"ip xfrm state add src 2001:db8:ff::1 dst 2001:db8:99::2 proto esp spi "
	"0x3003 reqid 3 mode tunnel replay-window 64 "
	"aead 'rfc4106(gcm(aes))' " KEY6 " 96",
	"ip xfrm state add src 2001:db8:99::2 dst 2001:db8:ff::1 proto esp spi "
	"0x4004 reqid 4 mode tunnel replay-window 64 flag af-unspec "
	"aead 'rfc4106(gcm(aes))' " KEY6I " 96",
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src "
	"192.0.2.1 dst 198.51.100.2 proto esp reqid 1 mode tunnel",
	"ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src "
	"198.51.100.2 dst 192.0.2.1 proto esp reqid 2 mode tunnel",
	"ip xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in tmpl src "
	"198.51.100.2 dst 192.0.2.1 proto esp reqid 2 mode tunnel",
	"ip xfrm policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 dir out "
	"tmpl src 2001:db8:ff::1 dst 2001:db8:99::2 proto esp reqid 3 mode "
	"tunnel",
	"ip xfrm policy add src 2001:db8:2::/64 dst 2001:db8:1::/64 dir fwd "
	"tmpl src 2001:db8:99::2 dst 2001:db8:ff::1 proto esp reqid 4 mode "
	"tunnel",
	"ip xfrm policy add src 2001:db8:2::/64 dst 2001:db8:1::/64 dir in "
	"tmpl src 2001:db8:99::2 dst 2001:db8:ff::1 proto esp reqid 4 mode "
	"tunnel",
	"ip xfrm policy add src 10.0.9.0/24 dst 0.0.0.0/0 dir fwd action block",
	"ip xfrm policy add src 10.0.1.0/24 dst 10.0.3.0/24 dir out tmpl src "
	"192.0.2.1 dst 198.51.100.3 proto esp reqid 9 mode tunnel",
	NULL,
};

/* RTE_IPV4 shifts an int past its sign bit (UBSan) */
#define A4(a, b, c, d)                                                         \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Later poll loops an input may ask for: the last lets the hold queue
 * give up (hold.c: four tries 250 ms apart). */
static const unsigned int LOOPS[] = { 0, 1, 2, 5 };

enum { NB_PORTS = 2, FRAME_MAX = 2048, RING = 4096, LOOP_MS = 300 };

static struct gw gw;
static struct gw_worker *w;
static struct gw_tables *t;
static struct espgw_cfg cfg;
static struct rte_ring *txr[NB_PORTS];
static struct espgw_sa *peer[2]; /* the inbound SAs' twins: v4, v6 */
static uint64_t t0;
static bool verbose; /* FUZZ_RX_VERBOSE: each input's counters */
/* Some frame of this input may carry an ICMP or ICMPv6 message whose
 * sum is wrong (raw bytes, a changed byte, a lying length): a router
 * forwards it as it is, so only clean inputs have their sums checked. */
static bool dirty;

/* Addresses a header byte picks from: ours, the LAN's, the far site's,
 * the next hop, the peers, the Internet and those never to forward. */
static const uint32_t ADDR4[16] = {
	A4(10, 0, 1, 1), A4(192, 0, 2, 1),	 A4(10, 0, 1, 5),
	A4(10, 0, 2, 7), A4(192, 0, 2, 254),	 A4(198, 51, 100, 2),
	A4(8, 8, 8, 8),	 A4(255, 255, 255, 255), A4(224, 0, 0, 1),
	A4(0, 0, 0, 0),	 A4(127, 0, 0, 1),	 A4(192, 0, 2, 255),
	A4(10, 0, 9, 9), A4(10, 0, 1, 6),	 A4(10, 0, 2, 8),
	A4(10, 0, 3, 3),
};
static const uint8_t ADDR6[16][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 7 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0xfe },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [15] = 2 },
	{ 0xff, 0x02, [15] = 1 },
	{ 0xff, 0x02, [11] = 1, 0xff, 0, 0, 1 }, /* solicited-node of ::1 */
	{ 0xfe, 0x80, [15] = 1 },
	{ 0 },
	{ [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 5 },
	{ 0xff, 0x02, [11] = 1, 0xff, 0, 0, 0xfe },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 6 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 8 },
	{ 0x26, 0x00, [15] = 1 }, /* no route */
};

static void
cfg_parse(void)
{
	char err[256];

	espgw_cfg_init(&cfg, "fuzz_rx");
	for (int i = 0; CONFIG[i] != NULL; i++)
		if (espgw_cfg_parse_line(&cfg, CONFIG[i], i + 1, err,
					 sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			FZ_CHECK(!"config");
		}
}

/* Port p on an RX ring nobody fills (the frames go to gw_rx_burst
 * directly) and a TX ring this target drains. */
static void
port_make(uint16_t p)
{
	char name[32];
	struct rte_eth_conf conf = { 0 };
	struct rte_ring *rx;
	int id;

	snprintf(name, sizeof(name), "fzrx_rx%u", p);
	rx = rte_ring_create(name, 64, SOCKET_ID_ANY, 0);
	snprintf(name, sizeof(name), "fzrx_tx%u", p);
	txr[p] = rte_ring_create(name, RING, SOCKET_ID_ANY, 0);
	FZ_CHECK(rx != NULL && txr[p] != NULL);
	snprintf(name, sizeof(name), "fzrx%u", p);
	id = rte_eth_from_rings(name, &rx, 1, &txr[p], 1, SOCKET_ID_ANY);
	FZ_CHECK(id == p);
	FZ_CHECK(rte_eth_dev_configure(p, 1, 1, &conf) == 0);
	FZ_CHECK(rte_eth_rx_queue_setup(p, 0, 64, SOCKET_ID_ANY, NULL,
					gw.pool) == 0);
	FZ_CHECK(rte_eth_tx_queue_setup(p, 0, RING, SOCKET_ID_ANY, NULL) == 0);
	FZ_CHECK(rte_eth_dev_start(p) == 0);
}

/* The configuration's neighbours, and none learned: what one input
 * taught ARP or ND must not change the next one's fate. */
static void
neigh_reset(void)
{
	rte_hash_reset(gw.neigh.h);
	memset(gw.neigh.entry, 0, sizeof(uint64_t) * (256 + 1));
	for (unsigned int i = 0; i < cfg.nb_neighs; i++)
		gw_neigh_set(&gw.neigh,
			     (uint16_t)gw_tables_port(t, cfg.neighs[i].port),
			     cfg.neighs[i].addr, &cfg.neighs[i].mac, true);
	for (unsigned int i = 0; i < cfg.nb_neighs6; i++)
		gw_neigh_set6(&gw.neigh,
			      (uint16_t)gw_tables_port(t, cfg.neighs6[i].port),
			      cfg.neighs6[i].addr, &cfg.neighs6[i].mac, true);
}

static void
fz_rx_cleanup(void)
{
	gw_worker_fini(w);
	for (uint16_t p = 0; p < NB_PORTS; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	for (int i = 0; i < 2; i++)
		espgw_sa_free(peer[i]);
	gw_tables_free(t);
	espgw_cfg_free(&cfg);
	gw_neigh_fini(&gw.neigh);
	rte_mempool_free(gw.pool);
	rte_mempool_free(gw.indirect_pool);
	rte_mempool_free(gw.jumbo_pool);
	for (uint16_t p = 0; p < NB_PORTS; p++)
		rte_ring_free(txr[p]);
}

void
fz_target_init(void)
{
	char err[256];

	gw.nb_workers = 1;
	gw.pool = rte_pktmbuf_pool_create("fzrx_pool", 4095, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	gw.indirect_pool = rte_pktmbuf_pool_create("fzrx_ind", 4095, 0, 0, 0,
						   SOCKET_ID_ANY);
	gw.jumbo_pool = rte_pktmbuf_pool_create("fzrx_jumbo", 31, 0, 0,
						UINT16_MAX, SOCKET_ID_ANY);
	FZ_CHECK(gw.pool != NULL && gw.indirect_pool != NULL &&
		 gw.jumbo_pool != NULL);
	for (uint16_t p = 0; p < NB_PORTS; p++)
		port_make(p);
	cfg_parse();
	t = gw_tables_build(&cfg, 1, NULL, NULL, NULL, err, sizeof(err));
	if (t == NULL)
		fprintf(stderr, "%s\n", err);
	FZ_CHECK(t != NULL && t->nb_sas == 4);
	gw_tables_commit(t, NULL);
	/* net_ring's MACs are all zeros and it cannot set one: a locally
	 * administered MAC each, which all the data path reads from t */
	for (uint16_t p = 0; p < NB_PORTS; p++)
		t->ifaces[p].mac =
			(struct rte_ether_addr){ { 0x02, 0, 0, 0, 0x01,
						   (uint8_t)p } };
	FZ_CHECK(gw_neigh_init(&gw.neigh, 256) == 0);
	w = &gw.workers[0];
	FZ_CHECK(gw_worker_init(w, 0, rte_lcore_id()) == 0);
	/* the peers' ends of the inbound SAs: same key, SPI, ends and
	 * encapsulation, sending */
	for (unsigned int i = 0, k = 0; i < t->nb_sas; i++) {
		struct espgw_sa_params p = *espgw_sa_params(t->sas[i]);

		if (p.dir != ESPGW_SA_IN)
			continue;
		p.dir = ESPGW_SA_OUT;
		p.oseq = 0;
		p.iseq = 0;
		peer[k++] = fz_sa(&p);
	}
	FZ_CHECK(espgw_sa_params(peer[0])->dst.family == AF_INET &&
		 espgw_sa_params(peer[1])->dst.family == AF_INET6);
	t0 = rte_get_tsc_hz() * 1000;
	verbose = getenv("FUZZ_RX_VERBOSE") != NULL;
	atexit(fz_rx_cleanup);
}

/* One's complement sum of len bytes, unfolded. */
static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The upper-layer checksum's offset for proto, or -1: ICMP, ICMPv6 and
 * UDP at 2, 2 and 6 (RFC 792, 4443, 768), TCP at 16 (RFC 793). */
static int
l4_ck_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return 2;
	case IPPROTO_UDP: return 6;
	case IPPROTO_TCP: return 16;
	default: return -1;
	}
}

/* The IPv4 or IPv6 pseudo header's sum (RFC 768, RFC 8200 section
 * 8.1); ICMP over IPv4 has none. */
static uint32_t
pseudo(const uint8_t *ip, bool v6, uint8_t proto, uint32_t len)
{
	uint32_t s = proto + (len >> 16) + (len & 0xffff);

	if (v6)
		return sum16(ip + 8, 32, s);
	return proto == IPPROTO_ICMP ? 0 : sum16(ip + 12, 8, s);
}

/* Fill in the upper-layer checksum of l4[0..len), when it fits. */
static void
l4_fill(const uint8_t *ip, bool v6, uint8_t proto, uint8_t *l4, size_t len)
{
	int off = l4_ck_off(proto);
	uint16_t ck;

	if (off < 0 || len < (size_t)off + 2)
		return;
	l4[off] = l4[off + 1] = 0;
	ck = (uint16_t)~fold(
		sum16(l4, len, pseudo(ip, v6, proto, (uint32_t)len)));
	if (ck == 0 && proto == IPPROTO_UDP)
		ck = 0xffff;
	l4[off] = (uint8_t)(ck >> 8);
	l4[off + 1] = (uint8_t)ck;
}

/* The payload: the input's bytes when bit 3 of f says so, else a
 * pattern (a seed's later frames are then not eaten by this one). */
static void
payload(struct fz_in *in, uint8_t f, uint8_t *p, size_t len)
{
	if (f & 0x08)
		fz_bytes(in, p, len);
	else
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)(i * 7 + f);
}

/* An IPv4 packet at p: the header's options, lengths, fragment fields
 * and checksum as the input says, over len bytes of payload. Fields:
 * f, proto, ttl, addresses (a nibble each), options, fragment. */
static size_t
ip4(struct fz_in *in, uint8_t *p, size_t len, size_t cap)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	uint8_t f = fz_u8(in), proto = fz_u8(in), ttl = fz_u8(in),
		a = fz_u8(in);
	size_t hl = 4 * (5 + (f & 7)), tot = RTE_MIN(hl + len, cap);

	memset(p, 0, hl);
	fz_bytes(in, p + sizeof(*ip), hl - sizeof(*ip)); /* options */
	ip->version_ihl = (uint8_t)(0x40 | hl / 4);
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	/* bit 6: flags and offset from the input; else DF when bit 7 */
	ip->fragment_offset = f & 0x40	 ? rte_cpu_to_be_16(fz_u16(in))
			      : f & 0x80 ? rte_cpu_to_be_16(0x4000)
					 : 0;
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(ADDR4[a & 15]);
	ip->dst_addr = rte_cpu_to_be_32(ADDR4[a >> 4]);
	payload(in, f, p + hl, tot - hl);
	l4_fill(p, false, proto, p + hl, tot - hl);
	/* bit 4: a total length that lies; bit 5: a wrong checksum */
	if (f & 0x10) {
		ip->total_length = rte_cpu_to_be_16(fz_u16(in));
		dirty = true;
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (f & 0x20)
		ip->hdr_checksum ^= 0x0101;
	return tot;
}

/* An IPv6 packet at p: next header, hop limit and addresses from the
 * input; extension headers, when any, are the payload's first bytes
 * (the upper checksum is filled behind the ones it can walk). */
static size_t
ip6(struct fz_in *in, uint8_t *p, size_t len, size_t cap)
{
	struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)p;
	uint8_t f = fz_u8(in), nh = fz_u8(in), hop = fz_u8(in), a = fz_u8(in);
	size_t tot = RTE_MIN(sizeof(*h) + len, cap), off = sizeof(*h);

	memset(p, 0, sizeof(*h));
	h->vtc_flow = rte_cpu_to_be_32(6u << 28);
	h->payload_len = rte_cpu_to_be_16((uint16_t)(tot - sizeof(*h)));
	h->proto = nh;
	h->hop_limits = hop;
	memcpy(h->src_addr, ADDR6[a & 15], 16);
	memcpy(h->dst_addr, ADDR6[a >> 4], 16);
	payload(in, f, p + off, tot - off);
	/* hop-by-hop, routing, destination options (RFC 8200 4.3-4.6) */
	while ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= tot) {
		nh = p[off];
		off += 8 + 8 * (size_t)p[off + 1];
	}
	if (off <= tot)
		l4_fill(p, true, nh, p + off, tot - off);
	if (f & 0x10) {
		h->payload_len = rte_cpu_to_be_16(fz_u16(in));
		dirty = true;
	}
	return tot;
}

/* ARP (RFC 826) of the op the input says, between addresses it
 * picks, from a MAC it may make multicast. */
static size_t
arp(struct fz_in *in, uint8_t *p)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)p;
	uint8_t f = fz_u8(in), ad = fz_u8(in);

	memset(a, 0, sizeof(*a));
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(f & 3);
	a->arp_data.arp_sha.addr_bytes[0] = f & 4 ? 1 : 2;
	a->arp_data.arp_sha.addr_bytes[5] = (uint8_t)(ad + 1);
	a->arp_data.arp_sip = rte_cpu_to_be_32(ADDR4[ad & 15]);
	a->arp_data.arp_tip = rte_cpu_to_be_32(ADDR4[ad >> 4]);
	if (f & 8)
		a->arp_hlen = fz_u8(in);
	return sizeof(*a);
}

/* ESP an inbound SA accepts (RFC 4303 section 3.3): an inner IPv4 or
 * IPv6 packet sealed by the peer's SA. Fields: the SA and the inner
 * kind, the inner packet's. */
static size_t
esp(struct fz_in *in, uint8_t *p, size_t len, size_t cap)
{
	uint8_t k = fz_u8(in);
	struct espgw_sa *sa = peer[k & 1];
	uint16_t olen = espgw_sa_outer_len(espgw_sa_params(sa));
	static uint8_t inner[FRAME_MAX];
	size_t n, room = cap - olen - ESPGW_OUTB_TAILROOM;
	struct rte_mbuf *m;

	n = k & 2 ? ip6(in, inner, RTE_MIN(len, room), room)
		  : ip4(in, inner, RTE_MIN(len, room), room);
	m = fz_mbuf_room(inner, n, olen, FZ_ALL);
	FZ_CHECK(m != NULL);
	if (espgw_esp_outbound(fz_worker, sa, &m, 1) != 1) {
		/* refused by its own checks (a lying inner length) */
		rte_pktmbuf_free(m);
		return 0;
	}
	n = fz_mbuf_read(m, p, (uint32_t)cap);
	rte_pktmbuf_free(m);
	return n;
}

/* Split an IPv4 packet at off (8-byte units, RFC 791) into the two
 * frames' L3 parts a and b. */
static bool
split4(const uint8_t *p, size_t n, size_t at, uint8_t *a, size_t *na,
       uint8_t *b, size_t *nb)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	size_t hl = 4u * (p[0] & 15);
	struct rte_ipv4_hdr *h;

	at &= ~(size_t)7;
	if (n < 20 || (p[0] >> 4) != 4 || hl < 20 || hl + at >= n || at == 0)
		return false;
	memcpy(a, p, hl + at);
	*na = hl + at;
	h = (struct rte_ipv4_hdr *)a;
	h->total_length = rte_cpu_to_be_16((uint16_t)*na);
	h->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
	memcpy(b, p, 20);
	memcpy(b + 20, p + hl + at, n - hl - at);
	*nb = 20 + n - hl - at;
	h = (struct rte_ipv4_hdr *)b;
	h->version_ihl = 0x45;
	h->total_length = rte_cpu_to_be_16((uint16_t)*nb);
	h->fragment_offset = rte_cpu_to_be_16((uint16_t)(at / 8));
	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
	(void)ip;
	return true;
}

/* Split an IPv6 packet without extension headers at off (8-byte
 * units) into two fragments (RFC 8200 section 4.5). */
static bool
split6(const uint8_t *p, size_t n, size_t at, uint8_t *a, size_t *na,
       uint8_t *b, size_t *nb)
{
	struct rte_ipv6_fragment_ext fh = { .id = RTE_BE32(0x5eed) };
	struct rte_ipv6_hdr *h;
	const size_t hl = sizeof(*h);

	at &= ~(size_t)7;
	if (n < hl || (p[0] >> 4) != 6 || at == 0 || hl + at >= n)
		return false;
	fh.next_header = p[6];
	memcpy(a, p, hl);
	fh.frag_data = rte_cpu_to_be_16(RTE_IPV6_EHDR_MF_MASK);
	memcpy(a + hl, &fh, sizeof(fh));
	memcpy(a + hl + sizeof(fh), p + hl, at);
	*na = hl + sizeof(fh) + at;
	memcpy(b, p, hl);
	fh.frag_data = rte_cpu_to_be_16((uint16_t)at);
	memcpy(b + hl, &fh, sizeof(fh));
	memcpy(b + hl + sizeof(fh), p + hl + at, n - hl - at);
	*nb = hl + sizeof(fh) + n - hl - at;
	h = (struct rte_ipv6_hdr *)a;
	h->proto = IPPROTO_FRAGMENT;
	h->payload_len = rte_cpu_to_be_16((uint16_t)(*na - hl));
	h = (struct rte_ipv6_hdr *)b;
	h->proto = IPPROTO_FRAGMENT;
	h->payload_len = rte_cpu_to_be_16((uint16_t)(*nb - hl));
	return true;
}

struct burst {
	struct rte_mbuf *m[GW_BURST];
	uint16_t n;
};

/* A frame of Ethernet header eth and L3 bytes l3 into the burst. */
static void
add(struct burst *b, const struct rte_ether_hdr *eth, const uint8_t *l3,
    size_t n)
{
	struct rte_mbuf *m;
	uint8_t *d;

	if (b->n == GW_BURST)
		return;
	n = RTE_MIN(n, (size_t)FRAME_MAX - sizeof(*eth));
	m = rte_pktmbuf_alloc(gw.pool);
	FZ_CHECK(m != NULL);
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eth) + n));
	FZ_CHECK(d != NULL);
	memcpy(d, eth, sizeof(*eth));
	memcpy(d + sizeof(*eth), l3, n);
	b->m[b->n++] = m;
}

/* One frame of the input: kind (bits 0-2 what, 3-4 the destination
 * MAC: ours, broadcast, IPv6 multicast, another's; bit 5 fragments an
 * IPv4 or IPv6 packet in two, bit 6 sends them the other way round, bit 7
 * changes one byte), length, the kind's fields. */
static void
build(struct fz_in *in, uint16_t port, struct burst *b)
{
	static uint8_t l3[FRAME_MAX], fa[FRAME_MAX], fb[FRAME_MAX];
	uint8_t kind = fz_u8(in);
	size_t len = fz_u16(in) % FRAME_MAX, n, na, nb;
	const size_t cap = FRAME_MAX - sizeof(struct rte_ether_hdr);
	struct rte_ether_hdr eth = { 0 };
	uint16_t type;

	switch (kind >> 3 & 3) {
	case 0: eth.dst_addr = t->ifaces[port].mac; break;
	case 1: memset(&eth.dst_addr, 0xff, sizeof(eth.dst_addr)); break;
	case 2: /* 33:33:ff:00:00:01, a solicited-node group (RFC 2464) */
		eth.dst_addr = (struct rte_ether_addr){ { 0x33, 0x33, 0xff, 0,
							  0, 1 } };
		break;
	default:
		eth.dst_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, 0, 9 } };
		break;
	}
	eth.src_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, 0, 0xfe } };
	switch (kind & 7) {
	case 0: /* a raw frame: header and all */
		dirty = true;
		n = fz_bytes(in, l3, RTE_MIN(len, cap));
		if (n >= sizeof(eth)) {
			memcpy(&eth, l3, sizeof(eth));
			add(b, &eth, l3 + sizeof(eth), n - sizeof(eth));
		}
		return;
	case 1: /* our MAC and any ether type */
		dirty = true;
		type = fz_u16(in);
		n = fz_bytes(in, l3, RTE_MIN(len, cap));
		break;
	case 2:
	case 6:
		type = RTE_ETHER_TYPE_IPV4;
		n = ip4(in, l3, len, cap);
		break;
	case 3:
		type = RTE_ETHER_TYPE_IPV6;
		n = ip6(in, l3, len, cap);
		break;
	case 4:
		type = RTE_ETHER_TYPE_ARP;
		n = arp(in, l3);
		break;
	default: /* ESP for one of our inbound SAs, valid */
		n = esp(in, l3, len, cap);
		if (n == 0)
			return;
		type = (l3[0] >> 4) == 6 ? RTE_ETHER_TYPE_IPV6
					 : RTE_ETHER_TYPE_IPV4;
		break;
	}
	eth.ether_type = rte_cpu_to_be_16(type);
	if (kind & 0x80) { /* one byte changed: past the ICV, or not */
		uint16_t at = fz_u16(in);
		uint8_t x = fz_u8(in);

		if (n > 0)
			l3[at % n] ^= x ? x : 1;
		dirty = true;
	}
	if ((kind & 0x20) &&
	    (type == RTE_ETHER_TYPE_IPV4
		     ? split4(l3, n, fz_u16(in) % 2048, fa, &na, fb, &nb)
	     : type == RTE_ETHER_TYPE_IPV6
		     ? split6(l3, n, fz_u16(in) % 2048, fa, &na, fb, &nb)
		     : false)) {
		if (kind & 0x40) {
			add(b, &eth, fb, nb);
			add(b, &eth, fa, na);
		} else {
			add(b, &eth, fa, na);
			add(b, &eth, fb, nb);
		}
		return;
	}
	add(b, &eth, l3, n);
}

/* An IPv4 source or destination no router sends (RFC 1812 section
 * 5.3.7): from a group, the limited broadcast, network 0 or loopback,
 * to network 0 or loopback. */
static bool
martian4(const uint8_t *l3)
{
	uint32_t s = (uint32_t)l3[12] << 24 | (uint32_t)l3[13] << 16 |
		     (uint32_t)l3[14] << 8 | l3[15];

	return l3[12] >> 4 == 0xe || s == UINT32_MAX || l3[12] == 0 ||
	       l3[12] == 127 || l3[16] == 0 || l3[16] == 127;
}

/* What a frame the gateway sends must be: from our MAC on that port,
 * ARP of its size, IPv4 with a good header (checksum, length, TTL) and
 * ICMP sum, IPv6 of its stated length with a good ICMPv6 sum. */
static void
check_frame(const uint8_t *p, uint32_t n, uint16_t port)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)p;
	const uint8_t *l3 = p + sizeof(*eth);
	uint32_t l3n = n - (uint32_t)sizeof(*eth);
	uint16_t type;

	FZ_CHECK(n >= sizeof(*eth));
	FZ_CHECK(rte_is_same_ether_addr(&eth->src_addr, &t->ifaces[port].mac));
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_ARP) {
		FZ_CHECK(l3n == sizeof(struct rte_arp_hdr));
	} else if (type == RTE_ETHER_TYPE_IPV4) {
		uint32_t hl, tot;

		FZ_CHECK(l3n >= 20 && (l3[0] >> 4) == 4 && (l3[0] & 15) >= 5);
		hl = 4u * (l3[0] & 15);
		tot = (uint32_t)l3[2] << 8 | l3[3];
		FZ_CHECK(hl <= l3n && tot == l3n);
		FZ_CHECK(fold(sum16(l3, hl, 0)) == 0xffff);
		FZ_CHECK(l3[8] != 0); /* TTL */
		FZ_CHECK(tot <= t->ifaces[port].mtu);
		/* ICMP, not a fragment: its sum over the whole message */
		FZ_CHECK(!martian4(l3));
		if (!dirty && l3[9] == IPPROTO_ICMP && (l3[6] & 0x3f) == 0 &&
		    l3[7] == 0 && tot >= hl + 4)
			FZ_CHECK(fold(sum16(l3 + hl, tot - hl, 0)) == 0xffff);
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		FZ_CHECK(l3n >= 40 && (l3[0] >> 4) == 6);
		FZ_CHECK(40u + ((uint32_t)l3[4] << 8 | l3[5]) == l3n);
		FZ_CHECK(l3[7] != 0); /* hop limit */
		FZ_CHECK(l3n <= t->ifaces[port].mtu);
		if (!dirty && l3[6] == IPPROTO_ICMPV6 && l3n >= 44)
			FZ_CHECK(fold(sum16(l3 + 40, l3n - 40,
					    pseudo(l3, true, IPPROTO_ICMPV6,
						   l3n - 40))) == 0xffff);
	} else {
		FZ_CHECK(!"sent a frame of an ether type we never make");
	}
}

/* Every frame the ports' TX rings took, checked and freed; the number. */
static uint64_t
drain(void)
{
	static uint8_t buf[UINT16_MAX];
	struct rte_mbuf *m[64];
	uint64_t total = 0;

	for (uint16_t p = 0; p < NB_PORTS; p++) {
		unsigned int k;

		while ((k = rte_ring_dequeue_burst(txr[p], (void **)m,
						   RTE_DIM(m), NULL)) != 0) {
			for (unsigned int i = 0; i < k; i++) {
				uint32_t len =
					fz_mbuf_read(m[i], buf, sizeof(buf));

				FZ_CHECK(len == m[i]->pkt_len);
				if (verbose) {
					fprintf(stderr, "  sent on %u:", p);
					for (uint32_t j = 0; j < len; j++)
						fprintf(stderr, " %02x",
							buf[j]);
					fprintf(stderr, "\n");
				}
				check_frame(buf, len, p);
			}
			rte_pktmbuf_free_bulk(m, k);
			total += k;
		}
	}
	return total;
}

/* The ESP library's drops, all reasons: the worker's and every SA's
 * (drop-esp-in and drop-esp-out, stats.c). */
static uint64_t
esp_drops(void)
{
	uint64_t d[ESPGW_DROP_MAX], sum = 0;
	struct espgw_sa_stats st;

	espgw_worker_drops_read(w->esp, d);
	for (int i = 0; i < ESPGW_DROP_MAX; i++)
		sum += d[i];
	for (unsigned int s = 0; s < t->nb_sas; s++) {
		espgw_sa_stats_read(t->sas[s], &st);
		for (int i = 0; i < ESPGW_DROP_MAX; i++)
			sum += st.drops[i];
	}
	return sum;
}

/* counters.h's law: what came in or was made, against each fate (the
 * sides its X-macro gives each counter). */
static void
check_law(const uint64_t *before, uint64_t esp_before)
{
	uint64_t lhs = 0, rhs = esp_drops() - esp_before;

	for (int c = 0; c < GW_CNT_MAX; c++) {
		enum gw_side side = gw_counter_side((enum gw_counter)c);

		if (side == GW_SIDE_IN)
			lhs += w->cnt[c] - before[c];
		else if (side == GW_SIDE_OUT)
			rhs += w->cnt[c] - before[c];
	}
	if (lhs != rhs || verbose) {
		for (int c = 0; c < GW_CNT_MAX; c++)
			if (w->cnt[c] != before[c])
				fprintf(stderr, "  %s +%lu\n",
					gw_counter_name((enum gw_counter)c),
					w->cnt[c] - before[c]);
		fprintf(stderr, "  esp drops +%lu\n", esp_drops() - esp_before);
	}
	FZ_CHECK(lhs == rhs);
}

static unsigned int
avail(void)
{
	return fz_avail() + rte_mempool_avail_count(gw.pool) +
	       rte_mempool_avail_count(gw.indirect_pool) +
	       rte_mempool_avail_count(gw.jumbo_pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	uint16_t port = flags & 1;
	struct gw_ctx c = { .gw = &gw, .w = w, .t = t, .hz = rte_get_tsc_hz() };
	struct burst b = { .n = 0 };
	uint64_t before[GW_CNT_MAX], esp_before = esp_drops(), sent;
	unsigned int start = avail();

	memcpy(before, w->cnt, sizeof(before));
	neigh_reset();
	dirty = false;
	/* the same clock and ICMP budget for every input */
	c.now = t0;
	w->icmp_last = t0;
	w->icmp_tokens = 1000;
	while (in.n > 0 && b.n < GW_BURST)
		build(&in, port, &b);
	if (flags & 8) {
		/* what the control thread asks for an idle NAT-T SA */
		struct gw_natt_keepalive k = {
			.src = rte_cpu_to_be_32(A4(192, 0, 2, 1)),
			.dst = rte_cpu_to_be_32(A4(198, 51, 100, 2)),
			.sport = RTE_BE16(4500),
			.dport = RTE_BE16(4500),
		};

		FZ_CHECK(rte_ring_enqueue_elem(w->keepalives, &k, sizeof(k)) ==
			 0);
	}
	/* the worker's poll loop, its RX burst ours (worker.c) */
	for (unsigned int loop = 0; loop <= LOOPS[flags >> 1 & 3]; loop++) {
		c.hop_valid = c.hop6_valid = false;
		c.rt_valid = c.rt6_valid = c.tx_valid = false;
		if (loop == 0 && b.n > 0)
			gw_rx_burst(&c, port, b.m, b.n);
		if (w->nb_pending)
			gw_hold_poll(&c);
		if (!rte_ring_empty(w->keepalives))
			gw_natt_keepalives(&c);
		gw_reassembly_expire(&c);
		for (unsigned int p = 0; p < t->nb_up; p++)
			gw_tx_flush(&c, t->up[p]);
		c.now += c.hz * LOOP_MS / 1000;
	}
	/* as the worker's exit: what is held, counted as held */
	gw_hold_release(w);
	gw_reassembly_release(w);
	sent = drain();
	FZ_CHECK(sent == w->cnt[GW_TX] - before[GW_TX]);
	check_law(before, esp_before);
	FZ_CHECK(avail() == start);
	return 0;
}

/* Seeds: a frame of each kind the gateway answers, forwards, protects
 * or decrypts, and some of each it drops, in the input's format. */
struct seed {
	uint8_t b[2048];
	size_t n;
};

static void
put(struct seed *s, const void *p, size_t n)
{
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

#define PUT(s, ...)                                                            \
	put(s, (const uint8_t[]){ __VA_ARGS__ },                               \
	    sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* A frame's kind and length. */
static void
s_frame(struct seed *s, uint8_t kind, uint16_t len)
{
	PUT(s, kind, (uint8_t)(len >> 8), (uint8_t)len);
}

/* ip4()'s or ip6()'s fields; with f bit 3, the payload pl (zeros past
 * its n bytes) of len bytes. No options, fragment fields or lies. */
static void
s_ip(struct seed *s, uint16_t len, uint8_t f, uint8_t proto, uint8_t ttl,
     uint8_t a, const uint8_t *pl, size_t n)
{
	PUT(s, f, proto, ttl, a);
	if (f & 0x08) {
		memset(s->b + s->n, 0, len);
		memcpy(s->b + s->n, pl, RTE_MIN(n, (size_t)len));
		s->n += len;
	}
}

static void
s_ip4(struct seed *s, uint8_t kind, uint16_t len, uint8_t f, uint8_t proto,
      uint8_t ttl, uint8_t a, const uint8_t *pl, size_t n)
{
	s_frame(s, kind, len);
	s_ip(s, len, f, proto, ttl, a, pl, n);
}

static void
s_esp(struct seed *s, uint8_t kind, uint16_t len, uint8_t k, uint8_t f,
      uint8_t proto, uint8_t ttl, uint8_t a, const uint8_t *pl, size_t n)
{
	s_frame(s, kind | 5, len);
	PUT(s, k);
	s_ip(s, len, f, proto, ttl, a, pl, n);
}

void
fz_seeds(void)
{
	static const uint8_t echo[] = { 8, 0, 0, 0, 0, 1, 0, 1 };
	static const uint8_t echo6[] = { 128, 0, 0, 0, 0, 1, 0, 1 };
	static const uint8_t ka[] = {
		0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0, 0xff
	};
	static const uint8_t ike[] = { 0x11, 0x94, 0x11, 0x94, 0, 16, 0, 0 };
	static const uint8_t ns[] = {
		135, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
		0,   0, 0, 0, 0, 0, 0, 1, 1,	1,    2,    0,	  0, 0, 0, 5,
	};
	static const uint8_t na[] = {
		136, 0, 0, 0, 0x60, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
		0,   0, 0, 0, 0,    0, 0, 5, 2,	   1,	 2,    0,    0, 0, 0, 5,
	};
	/* a destination options header (PadN), then UDP (RFC 8200 4.6) */
	static const uint8_t dopt[] = { 17, 0,	1, 4,  0, 0,  0, 0,
					0,  53, 0, 53, 0, 16, 0, 0 };
	/* a first fragment header (RFC 8200 section 4.5), then ESP */
	static const uint8_t frag6[] = { 50, 0, 0,    1,    0, 0, 0, 7,
					 0,  0, 0x40, 0x04, 0, 0, 0, 1 };
	static const uint8_t spi9[] = { 0, 0, 0x99, 0x99, 0, 0, 0, 1 };
	struct seed s;

	/* ARP: a request for 10.0.1.1 from 10.0.1.5, broadcast; a reply
	 * from the next hop on port1 */
	s = (struct seed){ .n = 0 };
	PUT(&s, 0);
	s_frame(&s, 0x04 | 0x08, 0);
	PUT(&s, 1, 0x02);
	fz_seed(s.b, s.n);
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_frame(&s, 0x04, 0);
	PUT(&s, 2, 0x14);
	fz_seed(s.b, s.n);
	/* ICMP echo to 10.0.1.1 from the LAN, and to 192.0.2.1 from the
	 * Internet on port1 */
	s = (struct seed){ .n = 0 };
	PUT(&s, 0);
	s_ip4(&s, 2, 16, 0x08, 1, 64, 0x02, echo, sizeof(echo));
	fz_seed(s.b, s.n);
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_ip4(&s, 2, 16, 0x08, 1, 64, 0x16, echo, sizeof(echo));
	fz_seed(s.b, s.n);
	/* UDP from the LAN to the far site (protected), to the Internet
	 * (in the clear), to another LAN host (held for ARP, asked again
	 * in two later loops), with TTL 1 (time exceeded), and into the
	 * blocked 10.0.9.0/24's forward policy */
	s = (struct seed){ .n = 0 };
	PUT(&s, 4);
	s_ip4(&s, 2, 64, 0, 17, 64, 0x32, NULL, 0);
	s_ip4(&s, 2, 64, 0, 17, 64, 0x62, NULL, 0);
	s_ip4(&s, 2, 64, 0, 17, 64, 0xd2, NULL, 0);
	s_ip4(&s, 2, 64, 0, 17, 1, 0x62, NULL, 0);
	s_ip4(&s, 2, 64, 0, 6, 64, 0x6c, NULL, 0);
	fz_seed(s.b, s.n);
	/* 1,450 bytes to the Internet: fragmented to port1's 1,400; with
	 * DF, an ICMP frag-needed */
	s = (struct seed){ .n = 0 };
	PUT(&s, 0);
	s_ip4(&s, 2, 1450, 0, 17, 64, 0x62, NULL, 0);
	s_ip4(&s, 2, 1450, 0x80, 17, 64, 0x62, NULL, 0);
	fz_seed(s.b, s.n);
	/* valid ESP in UDP for SA 0x2002: UDP 10.0.2.7 -> 10.0.1.5 (held
	 * for ARP), an echo for 10.0.1.1, and one in two fragments */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_esp(&s, 0, 64, 0, 0, 17, 64, 0x23, NULL, 0);
	s_esp(&s, 0, 16, 0, 0x08, 1, 64, 0x03, echo, sizeof(echo));
	s_esp(&s, 0x20, 200, 0, 0, 17, 64, 0x23, NULL, 0);
	PUT(&s, 0, 64);
	fz_seed(s.b, s.n);
	/* the same with one byte of its ICV changed: drop-esp-in */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_esp(&s, 0x80, 64, 0, 0, 17, 64, 0x23, NULL, 0);
	PUT(&s, 0, 120, 0x55);
	fz_seed(s.b, s.n);
	/* NAT-T keepalive (0xff) and the IKE marker to port 4500 (RFC
	 * 3948 sections 2.2, 2.3); a keepalive sent */
	s = (struct seed){ .n = 0 };
	PUT(&s, 9);
	s_ip4(&s, 2, 9, 0x08, 17, 64, 0x15, ka, sizeof(ka));
	s_ip4(&s, 2, 16, 0x08, 17, 64, 0x15, ike, sizeof(ike));
	fz_seed(s.b, s.n);
	/* IPv6: an echo to 2001:db8:1::1 from the LAN */
	s = (struct seed){ .n = 0 };
	PUT(&s, 0);
	s_ip4(&s, 3, 16, 0x08, 58, 64, 0x02, echo6, sizeof(echo6));
	fz_seed(s.b, s.n);
	/* a neighbour solicitation for 2001:db8:1::1 to its group, with a
	 * source link-layer option (RFC 4861 section 4.3); an advert */
	s = (struct seed){ .n = 0 };
	PUT(&s, 0);
	s_ip4(&s, 3 | 0x10, sizeof(ns), 0x08, 58, 255, 0x72, ns, sizeof(ns));
	s_ip4(&s, 3, sizeof(na), 0x08, 58, 255, 0x02, na, sizeof(na));
	fz_seed(s.b, s.n);
	/* UDP from the IPv6 LAN to the far site behind a destination
	 * options header; to the Internet; to another LAN host (ND) */
	s = (struct seed){ .n = 0 };
	PUT(&s, 2);
	s_ip4(&s, 3, sizeof(dopt), 0x08, 60, 64, 0x32, dopt, sizeof(dopt));
	s_ip4(&s, 3, 24, 0, 17, 64, 0xb2, NULL, 0);
	s_ip4(&s, 3, 24, 0, 17, 64, 0xd2, NULL, 0);
	fz_seed(s.b, s.n);
	/* an IPv6 first fragment of ESP to us */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_ip4(&s, 3, sizeof(frag6), 0x08, 44, 64, 0x15, frag6, sizeof(frag6));
	fz_seed(s.b, s.n);
	/* valid ESP over IPv6 for SA 0x4004: IPv6 UDP from the far site
	 * to the LAN, and an echo to 2001:db8:1::1 */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_esp(&s, 0, 64, 3, 0, 17, 64, 0x23, NULL, 0);
	s_esp(&s, 0, 16, 3, 0x08, 58, 64, 0x03, echo6, sizeof(echo6));
	fz_seed(s.b, s.n);
	/* valid ESP over IPv6 in two fragments, the second first */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_esp(&s, 0x60, 300, 3, 0, 17, 64, 0x23, NULL, 0);
	PUT(&s, 0, 160);
	fz_seed(s.b, s.n);
	/* IPv4 with options, with a lying length, with a bad checksum;
	 * an unknown ether type; a frame for another MAC; a raw runt */
	s = (struct seed){ .n = 0 };
	PUT(&s, 0);
	s_ip4(&s, 2, 8, 0x02, 17, 64, 0x62, NULL, 0);
	PUT(&s, 0x94, 4, 0, 0, 1, 1, 1, 1);
	s_ip4(&s, 2, 8, 0x10, 17, 64, 0x62, NULL, 0);
	PUT(&s, 0x05, 0xdc);
	s_ip4(&s, 2, 8, 0x20, 17, 64, 0x62, NULL, 0);
	s_frame(&s, 1, 4);
	PUT(&s, 0x88, 0xb5, 1, 2, 3, 4);
	s_ip4(&s, 2 | 0x18, 8, 0, 17, 64, 0x62, NULL, 0);
	s_frame(&s, 0, 10);
	PUT(&s, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	fz_seed(s.b, s.n);
	/* plain ESP for us that no SA knows; a UDP datagram for us on
	 * port 4500 in two fragments, the second first */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_ip4(&s, 2, sizeof(spi9), 0x08, 50, 64, 0x15, spi9, sizeof(spi9));
	s_ip4(&s, 2 | 0x60, 200, 0, 17, 64, 0x15, NULL, 0);
	PUT(&s, 0, 64);
	fz_seed(s.b, s.n);
	/* IPv4 out of the IPv6 tunnel (af-unspec), which the IPv4 fwd
	 * policy's template does not name: drop-in-tmpl-mismatch */
	s = (struct seed){ .n = 0 };
	PUT(&s, 1);
	s_esp(&s, 0, 32, 1, 0, 17, 64, 0x23, NULL, 0);
	fz_seed(s.b, s.n);
	/* to 10.0.3.3, whose SA is missing; to 2600::1, no route; to LAN
	 * hosts that never answer, five loops on: unresolved */
	s = (struct seed){ .n = 0 };
	PUT(&s, 6);
	s_ip4(&s, 2, 32, 0, 17, 64, 0xf2, NULL, 0);
	s_ip4(&s, 3, 32, 0, 17, 64, 0xf2, NULL, 0);
	s_ip4(&s, 2, 32, 0, 17, 64, 0xd6, NULL, 0);
	s_ip4(&s, 3, 32, 0, 17, 64, 0xd4, NULL, 0);
	fz_seed(s.b, s.n);
}
