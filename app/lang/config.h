/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_APP_CONFIG_H
#define ESPGW_APP_CONFIG_H

/* The configuration file: one `ip` statement a line, as a Linux router
 * using xfrm would be set up (docs/configuration.md). Parsing checks
 * syntax and values only; names of ports and which addresses are ours
 * are resolved when the tables are built. Addresses are in network
 * byte order; IPv4 unless a structure says IPv6. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>

#include "espgw/esp.h"

#define ESPGW_CFG_PORT_LEN 64

/* `link set dev <port> up [mtu <N>] [name <newname>]` */
struct espgw_cfg_link {
	char port[ESPGW_CFG_PORT_LEN];
	uint16_t mtu;			  /* 0 = not given */
	char newname[ESPGW_CFG_PORT_LEN]; /* "" = not given */
	int line;
};

/* `addr add <A.B.C.D>/<len> dev <port>` */
struct espgw_cfg_addr {
	uint32_t addr;
	uint8_t len;
	char port[ESPGW_CFG_PORT_LEN];
	int line;
};

/* `route add <prefix>|default [via <gw>] dev <port> [src <addr>]` */
struct espgw_cfg_route {
	uint32_t prefix; /* masked to len */
	uint8_t len;
	uint32_t via; /* 0 = on-link */
	uint32_t src; /* 0 = not given */
	char port[ESPGW_CFG_PORT_LEN];
	int line;
};

/* `neigh add <addr> lladdr <mac> dev <port>` */
struct espgw_cfg_neigh {
	uint32_t addr;
	struct rte_ether_addr mac;
	char port[ESPGW_CFG_PORT_LEN];
	int line;
};

/* IPv6 (`ip -6 ...`, or an IPv6 address where ip infers the family):
 * the same statements over 128-bit addresses, kept apart from IPv4's as
 * the kernel keeps its two stacks apart. Addresses in network order. */
#define ESPGW_CFG_IPV6_LEN 16

/* `-6 addr add <addr>/<len> dev <port>` */
struct espgw_cfg_addr6 {
	uint8_t addr[ESPGW_CFG_IPV6_LEN];
	uint8_t len;
	char port[ESPGW_CFG_PORT_LEN];
	int line;
};

/* `-6 route add <prefix>|default [via <gw>] dev <port> [src <addr>]` */
struct espgw_cfg_route6 {
	uint8_t prefix[ESPGW_CFG_IPV6_LEN]; /* masked to len */
	uint8_t len;
	uint8_t via[ESPGW_CFG_IPV6_LEN]; /* :: = on-link */
	uint8_t src[ESPGW_CFG_IPV6_LEN]; /* :: = not given */
	char port[ESPGW_CFG_PORT_LEN];
	int line;
};

/* `-6 neigh add <addr> lladdr <mac> dev <port>` */
struct espgw_cfg_neigh6 {
	uint8_t addr[ESPGW_CFG_IPV6_LEN];
	struct rte_ether_addr mac;
	char port[ESPGW_CFG_PORT_LEN];
	int line;
};

/* `xfrm state add src <a> dst <b> proto esp spi <spi> [reqid <id>]
 *  mode tunnel [replay-window <N>] [replay-seq <N>] [replay-oseq <N>]
 *  [replay-seq-hi <N>] [replay-oseq-hi <N>] [flag esn]
 *  aead 'rfc4106(gcm(aes))' <0xKEY> <ICV bits>`
 * p.dir is left ESPGW_SA_OUT; the table builder decides the direction
 * from which end is an address of ours. */
/* `limit time-soft S | time-hard S | time-use-soft S | time-use-hard S |
 *  byte-soft N | byte-hard N | packet-soft N | packet-hard N`, the
 * fields of struct xfrm_lifetime_cfg: times in seconds, counts in bytes
 * and packets; 0 is no limit (listed as xfrm's XFRM_INF, "(INF)"). */
struct espgw_cfg_lifetime {
	uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets;
	uint64_t soft_add, hard_add, soft_use, hard_use;
};

struct espgw_cfg_state {
	struct espgw_sa_params p;
	struct espgw_cfg_lifetime lft;
	int line;
	uint64_t seq; /* order of adding, as the live control plane keeps it */
	/* kept by the live control plane (control/lifetime.c): wall-clock
	 * seconds of the add and of the first use (0: not yet), and
	 * whether a soft limit was reached */
	uint64_t add_time, use_time;
	bool dying;
	/* outbound ESP in UDP: the packets counted when last looked at, and
	 * when it last carried one or a keepalive (--natt-keepalive) */
	uint64_t ka_packets, ka_time;
};

enum espgw_cfg_dir { ESPGW_POL_OUT, ESPGW_POL_IN, ESPGW_POL_FWD };
enum espgw_cfg_action { ESPGW_POL_ALLOW, ESPGW_POL_BLOCK };

/* `xfrm policy add src <prefix> dst <prefix> [proto <p> [sport <n>]
 *  [dport <n>]] dir out|in|fwd [priority <n>] [action allow|block]
 *  [tmpl src <a> dst <b> proto esp [reqid <id>] mode tunnel]` */
struct espgw_cfg_policy {
	uint32_t src, dst; /* prefixes, masked to their lengths */
	uint8_t src_len, dst_len;
	/* The selector's family: AF_INET, src and dst (0 is taken as
	 * AF_INET), or AF_INET6, src6 and dst6, masked alike. */
	uint8_t family;
	uint8_t src6[ESPGW_CFG_IPV6_LEN], dst6[ESPGW_CFG_IPV6_LEN];
	/* The template's, which xfrm lets differ from the selector's (an
	 * IPv4 selector over IPv6 endpoints, or the reverse): AF_INET,
	 * tmpl_src and tmpl_dst (0 is taken as AF_INET), or AF_INET6,
	 * tmpl_src6 and tmpl_dst6 (:: = wildcard). */
	uint8_t tmpl_family;
	uint8_t tmpl_src6[ESPGW_CFG_IPV6_LEN], tmpl_dst6[ESPGW_CFG_IPV6_LEN];
	uint8_t proto; /* 0 = any; tcp 6, udp 17, icmp 1, or a number */
	bool has_sport, has_dport;
	uint16_t sport, dport; /* host order; only with tcp/udp/sctp */
	enum espgw_cfg_dir dir;
	uint32_t priority; /* lower wins; xfrm's default is 0 */
	enum espgw_cfg_action action;
	bool has_tmpl;
	uint32_t tmpl_src, tmpl_dst; /* 0 = wildcard (xfrm allows omitting) */
	uint32_t reqid;		     /* 0 = match by tmpl src/dst */
	uint32_t index;		     /* 0 = not given */
	int line;
	uint64_t seq; /* order of adding, as the live control plane keeps it */
};

struct espgw_cfg {
	const char *file; /* for messages */
	struct espgw_cfg_link *links;
	struct espgw_cfg_addr *addrs;
	struct espgw_cfg_route *routes;
	struct espgw_cfg_neigh *neighs;
	struct espgw_cfg_state *states;
	struct espgw_cfg_policy *policies;
	unsigned int nb_links, nb_addrs, nb_routes, nb_neighs, nb_states,
		nb_policies;
	struct espgw_cfg_addr6 *addrs6;
	struct espgw_cfg_route6 *routes6;
	struct espgw_cfg_neigh6 *neighs6;
	unsigned int nb_addrs6, nb_routes6, nb_neighs6;
};

/**
 * Parse one statement (a line without its newline) into cfg.
 * Blank lines and `#` comments (whole line or trailing) are accepted and
 * ignored. A leading `ip` is optional. On error writes
 * "<file>:<line>: <what is wrong>" into err and returns -1.
 */
int espgw_cfg_parse_line(struct espgw_cfg *cfg, const char *text, int line,
			 char *err, size_t errlen);

/** Parse a whole file. Returns 0, or -1 with the first error in err. */
int espgw_cfg_parse_file(struct espgw_cfg *cfg, const char *path, char *err,
			 size_t errlen);

/** The same from an open stream (a file, or fmemopen's memory: the
 * fuzzer's), named cfg->file in messages. The caller owns f and its
 * buffer. */
int espgw_cfg_parse_stream(struct espgw_cfg *cfg, FILE *f, char *err,
			   size_t errlen);

/** Free what parsing allocated; cfg may be reused after espgw_cfg_init. */
void espgw_cfg_free(struct espgw_cfg *cfg);
void espgw_cfg_init(struct espgw_cfg *cfg, const char *file);

#endif /* ESPGW_APP_CONFIG_H */
