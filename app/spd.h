/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_APP_SPD_H
#define ESPGW_APP_SPD_H

/* Security policy database (RFC 4301 section 4.4.1) on rte_acl: one
 * trie per direction, matched a burst at a time on the 5-tuple. */

#include "gw.h"

/* What rte_acl reads of a packet: fields in network byte order. */
struct gw_acl_key {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src;
	uint32_t dst;
	uint16_t sport; /* ICMP: type, as xfrm selectors use it */
	uint16_t dport; /* ICMP: code */
} __rte_packed;

/* Fill the key of an IPv4 packet (data at the IP header); ports only
 * when asked (some selector to be matched looks at them: gw_spd.l4). */
void gw_acl_key(const struct rte_mbuf *m, struct gw_acl_key *k, bool ports);

int gw_spd_build(struct gw_spd *spd, const struct gw_tables *t,
		 enum espgw_cfg_dir dir, char *err, size_t errlen);
void gw_spd_free(struct gw_spd *spd);

/* Match n keys; pol[i] is the winning policy or NULL. */
void gw_spd_lookup(const struct gw_spd *spd, const uint8_t **keys,
		   struct gw_policy **pol, uint32_t n);

#endif
