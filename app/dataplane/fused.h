/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_DATAPLANE_FUSED_H
#define ESPGW_DATAPLANE_FUSED_H

/* The fused pass: a worker remembers the last flow of each family the
 * policy stages let through to be forwarded, with its out policy (a
 * bypass, RFC 4301 section 4.4.1, or one that protects), once for
 * packets that came in the clear (fwd policy none or allow without a
 * template) and once for packets one SA decrypted (fwd policy allow,
 * its template met by that SA). A packet of the same key (and SA) goes
 * straight to forwarding with that out policy, past the policy stages;
 * the out path still finds a protecting policy's SA and the tunnel's
 * MTU, as for any packet. The answers are the table set's (forgotten
 * with it, gw_ctx_revalidate()); the key holds both addresses, so a
 * hit is never for us and passed the address checks its first packet
 * did (martians, groups, link-local). */

#include <stddef.h>
#include <string.h>

#include "control/tables.h"
#include "dataplane/ctx.h"
#include "dataplane/ipsec.h"
#include "dataplane/ipv4.h"
#include "dataplane/spd.h"

/* The key fields the fwd and out directions look at. */
static inline bool
gw_fused_l4(const struct gw_tables *t)
{
	return t->spd[GW_FWD].l4 || t->spd[GW_OUT].l4;
}

/* Is an IPv4 packet with a well-formed header (past gw_ipv4_check, or
 * decrypted) of the remembered key? (A decrypted one's SA is the
 * caller's to compare with f->sa.) Its addresses are then those of a
 * packet forwarded: not a martian, not ours (so not ESP for us), not a
 * group. Callers ask only for a burst's leading packets, before any
 * left for the stages, so a hit overtakes no packet. Without ports in
 * the key, the addresses (one 8-byte word in the header and in the
 * key) and the protocol. */
static inline bool
gw_fused_hit(const struct gw_fused *f, const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	struct gw_acl_key k;
	uint64_t a, b;

	if (!f->valid)
		return false;
	if (!f->l4) {
		memcpy(&a, &ip->src_addr, sizeof(a));
		memcpy(&b, &f->key.v4.src, sizeof(b));
		return a == b && ip->next_proto_id == f->key.v4.proto;
	}
	gw_acl_key(m, &k, true);
	return gw_acl_key_eq(&k, &f->key.v4);
}

/* The same for an IPv6 packet past gw_ipv6_check (or decrypted). The
 * remembered protocol is never an extension header (gw_fused_learn),
 * so without ports a packet whose first next header is it has none,
 * and its key is its two addresses (32 bytes, side by side in the
 * header as in the key) and that protocol. */
static inline bool
gw_fused6_hit(const struct gw_fused *f, const struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const void *);
	struct gw_acl_key6 k;

	if (!f->valid)
		return false;
	if (!f->l4) {
		const uint8_t *h = (const uint8_t *)ip +
				   offsetof(struct rte_ipv6_hdr, src_addr);
		const uint8_t *r = (const uint8_t *)&f->key.v6 +
				   offsetof(struct gw_acl_key6, src);
		uint64_t a[4], b[4];

		RTE_BUILD_BUG_ON(offsetof(struct rte_ipv6_hdr, dst_addr) !=
				 offsetof(struct rte_ipv6_hdr, src_addr) + 16);
		RTE_BUILD_BUG_ON(offsetof(struct gw_acl_key6, dst) !=
				 offsetof(struct gw_acl_key6, src) + 16);
		memcpy(a, h, sizeof(a));
		memcpy(b, r, sizeof(b));
		return ip->proto == f->key.v6.proto &&
		       ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) |
			(a[3] ^ b[3])) == 0;
	}
	return gw_acl_key6(m, &k, true) == 0 && gw_acl_key6_eq(&k, &f->key.v6);
}

/* Does an out policy send what it matches (bypass or protect), so that
 * its answer is worth remembering? A discarding one is left to the
 * stages, as is the IPv6 extension-chain verdict. */
static inline bool
gw_fused_sends(const struct gw_policy *out)
{
	return out == NULL ||
	       (out != &gw_policy_bad_chain && out->action == ESPGW_POL_ALLOW);
}

/* Remember a packet that passed its fwd policy (clear when sa is NULL),
 * with its out policy out, if that sends: an IPv6 one only without
 * extension headers, whose key is then read straight off the header. */
static inline void
gw_fused_learn(struct gw_ctx *c, const struct rte_mbuf *m,
	       const struct espgw_sa *sa, struct gw_policy *out)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const void *);
	bool v6 = gw_is_ip6(m);
	struct gw_fused *f =
		v6 ? (sa != NULL ? &c->fused6_dec : &c->fused6_clear)
		   : (sa != NULL ? &c->fused_dec : &c->fused_clear);

	if (!gw_fused_sends(out) || (v6 && gw_ip6_ext_hdr(ip6->proto)))
		return;
	f->l4 = gw_fused_l4(c->t);
	f->sa = sa;
	/* a bypass is decided here, not per packet: NULL, the route */
	f->out = gw_policy_bypass(out) ? NULL : out;
	if (v6)
		f->valid = gw_acl_key6(m, &f->key.v6, f->l4) == 0;
	else {
		gw_acl_key(m, &f->key.v4, f->l4);
		f->valid = true;
	}
}

#endif /* ESPGW_DATAPLANE_FUSED_H */
