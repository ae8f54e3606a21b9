/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_APP_CMD_H
#define ESPGW_APP_CMD_H

/* One `ip` statement as a value: what to do (verb) to which table
 * (obj), and the fields the statement named. The configuration file
 * and the control socket share this parser; the file applies only
 * ADD and link SET (espgw_cfg_add), the control plane applies every
 * verb with the kernel's semantics. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lang/config.h"

enum espgw_cmd_verb {
	ESPGW_CMD_ADD,
	ESPGW_CMD_DEL,
	ESPGW_CMD_UPDATE,
	ESPGW_CMD_REPLACE,
	ESPGW_CMD_GET,
	ESPGW_CMD_LIST, /* also show, lst, and an object alone */
	ESPGW_CMD_FLUSH,
	ESPGW_CMD_DELETEALL,
	ESPGW_CMD_SET,
	ESPGW_CMD_MONITOR,
};

enum espgw_cmd_obj {
	ESPGW_OBJ_LINK,
	ESPGW_OBJ_ADDR,
	ESPGW_OBJ_ROUTE,
	ESPGW_OBJ_NEIGH,
	ESPGW_OBJ_STATE,
	ESPGW_OBJ_POLICY,
	ESPGW_OBJ_MONITOR,
};

/* espgw_cmd.given: the words the statement named, one bit a field, read
 * by obj. They make the selectors of del, get, deleteall, list and
 * flush: a field whose bit is clear matches anything. */
#define ESPGW_SEL_STATE_SRC (1u << 0)
#define ESPGW_SEL_STATE_DST (1u << 1)
#define ESPGW_SEL_STATE_PROTO (1u << 2)
#define ESPGW_SEL_STATE_SPI (1u << 3)
#define ESPGW_SEL_STATE_REQID (1u << 4)
#define ESPGW_SEL_STATE_MODE (1u << 5)
#define ESPGW_SEL_STATE_FLAG (1u << 6)

#define ESPGW_SEL_POLICY_SRC (1u << 0)
#define ESPGW_SEL_POLICY_DST (1u << 1)
#define ESPGW_SEL_POLICY_PROTO (1u << 2)
#define ESPGW_SEL_POLICY_SPORT (1u << 3)
#define ESPGW_SEL_POLICY_DPORT (1u << 4)
#define ESPGW_SEL_POLICY_DIR (1u << 5)
#define ESPGW_SEL_POLICY_INDEX (1u << 6)
#define ESPGW_SEL_POLICY_PRIORITY (1u << 7)
#define ESPGW_SEL_POLICY_ACTION (1u << 8)

#define ESPGW_SEL_ROUTE_PREFIX (1u << 0)
#define ESPGW_SEL_ROUTE_VIA (1u << 1)
#define ESPGW_SEL_ROUTE_DEV (1u << 2)
#define ESPGW_SEL_ROUTE_SRC (1u << 3)

#define ESPGW_SEL_NEIGH_ADDR (1u << 0)
#define ESPGW_SEL_NEIGH_DEV (1u << 1)
#define ESPGW_SEL_NEIGH_LLADDR (1u << 2)

#define ESPGW_SEL_ADDR_ADDR (1u << 0)
#define ESPGW_SEL_ADDR_DEV (1u << 1)

#define ESPGW_SEL_LINK_DEV (1u << 0)
#define ESPGW_SEL_LINK_UP (1u << 1)
#define ESPGW_SEL_LINK_MTU (1u << 2)
#define ESPGW_SEL_LINK_NAME (1u << 3)

/* espgw_cmd.monitor: what `monitor [xfrm|route|neigh|all]` and
 * `xfrm monitor [all|SA|policy]` watch. */
#define ESPGW_MON_SA (1u << 0)
#define ESPGW_MON_POLICY (1u << 1)
#define ESPGW_MON_ROUTE (1u << 2)
#define ESPGW_MON_NEIGH (1u << 3)
#define ESPGW_MON_XFRM (ESPGW_MON_SA | ESPGW_MON_POLICY)
#define ESPGW_MON_ALL (ESPGW_MON_XFRM | ESPGW_MON_ROUTE | ESPGW_MON_NEIGH)

struct espgw_cmd {
	enum espgw_cmd_verb verb;
	enum espgw_cmd_obj obj;
	bool stats, json, pretty; /* ip -s / -j / -p in the statement */
	/* AF_INET, or AF_INET6 (ip -6, -f inet6, or an IPv6 address) for
	 * addr, route and neigh: u.addr6, u.route6, u.neigh6 */
	uint8_t family;
	uint32_t given; /* ESPGW_SEL_<obj>_* */
	union {
		struct espgw_cfg_link link;
		struct espgw_cfg_addr addr;
		struct espgw_cfg_route route;
		struct espgw_cfg_neigh neigh;
		struct espgw_cfg_addr6 addr6;	/* family AF_INET6 */
		struct espgw_cfg_route6 route6; /* family AF_INET6 */
		struct espgw_cfg_neigh6 neigh6; /* family AF_INET6 */
		struct espgw_cfg_state state;
		struct espgw_cfg_policy policy;
	} u;
	unsigned int monitor; /* ESPGW_MON_*, for ESPGW_OBJ_MONITOR */
	int line;
};

/**
 * Parse one statement (a line without its newline) as `ip` would.
 * file names the source in messages (NULL: "config").
 * Returns 1 with *cmd filled, 0 for a blank or comment line, or -1 with
 * "<file>:<line>: <what is wrong>" in err.
 */
int espgw_cmd_parse(const char *file, const char *text, int line,
		    struct espgw_cmd *cmd, char *err, size_t errlen);

/**
 * Apply an ADD (or a link SET) to cfg as the file loader does: append,
 * after the checks the file makes (a link must come up). Any other verb
 * is refused. Returns 0, or -1 with the error in err.
 */
int espgw_cfg_add(struct espgw_cfg *cfg, const struct espgw_cmd *cmd, char *err,
		  size_t errlen);

#endif /* ESPGW_APP_CMD_H */
