/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_DB_H
#define ESPGW_CONTROL_DB_H

/* The live configuration (struct espgw_cfg: what the statements so far
 * have made of the gateway) and the changes a command makes to it, with
 * the kernel's semantics and answers. A batch is applied to a copy
 * (gw_db_copy), built into a table set, and only then made current, so
 * a failed line leaves nothing behind. Control thread only. */

#include <stdbool.h>
#include <stdint.h>

#include "lang/cmd.h"
#include "lang/config.h"

/* A deep copy; 0 or -ENOMEM (dst then empty). */
int gw_db_copy(struct espgw_cfg *dst, const struct espgw_cfg *src);

/* `xfrm state add` (update false) and `update`: a state is (dst, SPI)
 * for proto esp (xfrm_state_lookup). add of an existing one: -EEXIST;
 * update of a missing one: -ESRCH (xfrm_state_update). */
int gw_db_state_add(struct espgw_cfg *cfg, const struct espgw_cfg_state *s,
		    bool update);
/* `xfrm state delete|get ID`: the index of (dst, SPI), or -ESRCH. */
int gw_db_state_find(const struct espgw_cfg *cfg, uint32_t dst, uint32_t spi);
void gw_db_state_remove(struct espgw_cfg *cfg, unsigned int i);
/* Does state s match the fields of sel that given names
 * (ESPGW_SEL_STATE_*: src, dst, spi, reqid), as `xfrm state
 * deleteall|list` filters? */
bool gw_db_state_match(const struct espgw_cfg_state *s,
		       const struct espgw_cfg_state *sel, uint32_t given);
/* `xfrm state deleteall [ID] [reqid N]` and `flush` (given 0): how many
 * went. */
unsigned int gw_db_state_remove_matching(struct espgw_cfg *cfg,
					 const struct espgw_cfg_state *sel,
					 uint32_t given);

/* `xfrm policy add` (update false) and `update`: a policy is its
 * selector and dir (xfrm_policy_insert). add of an existing one:
 * -EEXIST; update adds or replaces in place, keeping the index, as the
 * kernel does. A new policy gets the kernel's next index. */
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
