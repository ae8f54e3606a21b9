/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_DB_H
#define ESPGW_CONTROL_DB_H

/* The live configuration (struct espgw_cfg: what the statements so far
 * have made of the gateway) and the changes a command makes to it, with
 * the kernel's answers. A request is one transaction: its statements
 * change the live configuration in place, keeping what undoes them (a
 * copy of each small array they touch, a log for the states, which may
 * be 100,000), and the log tells the table builder which states
 * changed; gw_db_rollback() leaves nothing of a failed one behind.
 * States are found through an index by (dst, SPI). Control thread
 * only. */

#include <stdbool.h>
#include <stdint.h>

#include "control/tables.h"
#include "lang/cmd.h"
#include "lang/config.h"

/* The arrays a transaction keeps a copy of before it changes one. */
enum gw_db_array {
	GW_DB_LINKS,
	GW_DB_ADDRS,
	GW_DB_ROUTES,
	GW_DB_NEIGHS,
	GW_DB_POLICIES,
	GW_DB_ADDRS6,
	GW_DB_ROUTES6,
	GW_DB_NEIGHS6,
	GW_DB_NB_ARRAYS
};

struct gw_db {
	struct espgw_cfg cfg;
	void *ix;	       /* tsearch tree: (dst, SPI) -> the state's seq */
	uint64_t seq;	       /* the last state's order of adding */
	uint64_t pseq;	       /* the last policy's */
	unsigned int nb_dying; /* as the last lifetime check counted */
	/* the transaction under way: the states' log, and the undo
	 * information (old[i]: the state op i replaced or removed) */
	struct gw_state_op *ops;
	struct espgw_cfg_state *old;
	unsigned int nb_ops, cap_ops;
	bool log_full; /* too big to log (a flush): the build redoes all */
	struct {
		void *arr;
		unsigned int n;
		bool saved;
	} snap[GW_DB_NB_ARRAYS];
};

/* Number what a parsed file holds in its order (policies: index and
 * seq; states: seq), where not numbered yet. Before the first build. */
void gw_db_number(struct espgw_cfg *cfg);

/* Take over cfg (numbered, gw_db_number) and index it.
 * Returns 0, -ENOMEM, or -EEXIST when two states have one (dst, SPI)
 * (*dup: the second's index). */
int gw_db_init(struct gw_db *db, struct espgw_cfg *cfg, unsigned int *dup);
void gw_db_fini(struct gw_db *db);

/* Before a transaction's first change to array a: keep a copy to go
 * back to. 0 or -ENOMEM. */
int gw_db_touch(struct gw_db *db, enum gw_db_array a);
/* The array a as it was when the transaction began. */
const void *gw_db_before(const struct gw_db *db, enum gw_db_array a,
			 unsigned int *n);
/* End the transaction: keep its changes, or undo them all. */
void gw_db_commit(struct gw_db *db);
void gw_db_rollback(struct gw_db *db);

/* `xfrm state add` (update false) and `update`: a state is (dst, SPI)
 * for proto esp (xfrm_state_lookup). add of an existing one: -EEXIST;
 * update of a missing one: -ESRCH (xfrm_state_update), else it takes
 * the old one's place. */
int gw_db_state_add(struct gw_db *db, const struct espgw_cfg_state *s,
		    bool update);
/* Move state i to new addresses and (with encapsulation) ports, keeping
 * everything else and its place, as xfrm_state_migrate() moves a state
 * (a NAT rebound followed). -EEXIST when (dst, SPI) is another's,
 * -EAFNOSUPPORT for an IPv6 state (NAT traversal is IPv4's). */
int gw_db_state_move(struct gw_db *db, unsigned int i, uint32_t src,
		     uint32_t dst, uint16_t sport, uint16_t dport);
/* `xfrm state delete|get ID`: the index of (dst, SPI), or -ESRCH; dst
 * of either family, compared whole. */
int gw_db_state_find(const struct gw_db *db, const struct espgw_ip_addr *dst,
		     uint32_t spi);
/* The same address: the same family and all its bytes. */
bool gw_db_ip_same(const struct espgw_ip_addr *a,
		   const struct espgw_ip_addr *b);
void gw_db_state_remove(struct gw_db *db, unsigned int i);
/* Does state s match the fields of sel that given names
 * (ESPGW_SEL_STATE_*: src, dst, spi, reqid), as `xfrm state
 * deleteall|list` filters? */
bool gw_db_state_match(const struct espgw_cfg_state *s,
		       const struct espgw_cfg_state *sel, uint32_t given);
/* `xfrm state deleteall [ID] [reqid N]` and `flush` (given 0): how many
 * went. */
unsigned int gw_db_state_remove_matching(struct gw_db *db,
					 const struct espgw_cfg_state *sel,
					 uint32_t given);

/* `xfrm policy add` (update false) and `update`: a policy is its
 * selector and dir (xfrm_policy_insert). add of an existing one:
 * -EEXIST; update adds or replaces in place, keeping the index and
 * seq, as the kernel does. A new policy gets the kernel's next index,
 * and p's seq (the caller numbers it). */
int gw_db_policy_add(struct espgw_cfg *cfg, const struct espgw_cfg_policy *p,
		     bool update);
/* Give every policy without an index the kernel's (xfrm_gen_index). */
void gw_db_policy_number(struct espgw_cfg *cfg);
/* `xfrm policy delete|get index N dir D`: the position, or -ENOENT. */
int gw_db_policy_find_index(const struct espgw_cfg *cfg, uint32_t index,
			    enum espgw_cfg_dir dir);
/* `xfrm policy delete|get SELECTOR dir D`: the position, or -ENOENT. */
int gw_db_policy_find(const struct espgw_cfg *cfg,
		      const struct espgw_cfg_policy *key);
void gw_db_policy_remove(struct espgw_cfg *cfg, unsigned int i);
/* The same for policies, with ESPGW_SEL_POLICY_* bits. */
bool gw_db_policy_match(const struct espgw_cfg_policy *p,
			const struct espgw_cfg_policy *sel, uint32_t given);
unsigned int gw_db_policy_remove_matching(struct espgw_cfg *cfg,
					  const struct espgw_cfg_policy *sel,
					  uint32_t given);

/* `route add` (-EEXIST for the same prefix), `replace` (add or
 * replace), `del PREFIX [via] [dev]` (given: ESPGW_SEL_ROUTE_*; -ESRCH,
 * as fib_table_delete). */
int gw_db_route_add(struct espgw_cfg *cfg, const struct espgw_cfg_route *r,
		    bool replace);
int gw_db_route_del(struct espgw_cfg *cfg, const struct espgw_cfg_route *r,
		    uint32_t given);

/* `neigh add` (-EEXIST for the same address and dev), `replace`, `del`
 * (-ENOENT), `flush [dev X]`. */
int gw_db_neigh_add(struct espgw_cfg *cfg, const struct espgw_cfg_neigh *n,
		    bool replace);
int gw_db_neigh_del(struct espgw_cfg *cfg, const struct espgw_cfg_neigh *n);
unsigned int gw_db_neigh_flush(struct espgw_cfg *cfg, const char *dev);

/* The same for IPv6 (`ip -6 ...`), in their own arrays, with the same
 * answers (ip6_route_add: File exists; ip6_route_del: No such process). */
int gw_db_route6_add(struct espgw_cfg *cfg, const struct espgw_cfg_route6 *r,
		     bool replace);
int gw_db_route6_del(struct espgw_cfg *cfg, const struct espgw_cfg_route6 *r,
		     uint32_t given);
int gw_db_neigh6_add(struct espgw_cfg *cfg, const struct espgw_cfg_neigh6 *n,
		     bool replace);
int gw_db_neigh6_del(struct espgw_cfg *cfg, const struct espgw_cfg_neigh6 *n);
unsigned int gw_db_neigh6_flush(struct espgw_cfg *cfg, const char *dev);
int gw_db_addr6_add(struct espgw_cfg *cfg, const struct espgw_cfg_addr6 *a);
int gw_db_addr6_del(struct espgw_cfg *cfg, const struct espgw_cfg_addr6 *a);

/* `link set dev X up [mtu N] [name NEW]`: a port the configuration
 * already brings up takes the new MTU in its statement (the list does
 * not grow with every MTU change); anything else is a statement of its
 * own, checked when the tables are built (a rename of a port that is
 * up: Device or resource busy, as dev_change_name). */
int gw_db_link_set(struct espgw_cfg *cfg, const struct espgw_cfg_link *l);

/* `addr add` (-EEXIST), `addr del` (-EADDRNOTAVAIL, as inet_rtm_deladdr). */
int gw_db_addr_add(struct espgw_cfg *cfg, const struct espgw_cfg_addr *a);
int gw_db_addr_del(struct espgw_cfg *cfg, const struct espgw_cfg_addr *a);

#endif /* ESPGW_CONTROL_DB_H */
