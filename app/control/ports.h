/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */
#ifndef ESPGW_CONTROL_PORTS_H
#define ESPGW_CONTROL_PORTS_H

/* The DPDK ports a table set has up: started (one RX and one TX queue
 * a worker) before the first set that has them is published, at
 * start-up or when `link set dev X up` comes over the control socket,
 * and given the set's MTU. Control thread only. */

#include <stddef.h>

#include <rte_ether.h>

/* Ring sizes a queue, and the room an mbuf needs beside a frame of the
 * MTU: the mbuf pool (app/main.c) is sized from them. */
#define GW_PORT_RX_DESC 1024
#define GW_PORT_TX_DESC 1024
#define GW_PORT_FRAME_SLACK (RTE_ETHER_HDR_LEN + 64)

struct gw;
struct gw_tables;

/* Start the ports set t has up that are not started, and give those
 * that are the MTU t has for them where it differs from cur's (the set
 * now published, or NULL). All or nothing: on error the ports this call
 * started are stopped again, err says why, and -1 is returned. A port
 * cannot go down (no `link set down`), and an MTU must fit the mbufs
 * espgw started with. */
int gw_ports_apply(struct gw *gw, const struct gw_tables *t,
		   const struct gw_tables *cur, char *err, size_t len);

/* The largest MTU a port can take: what one of espgw's mbufs holds. */
unsigned int gw_ports_max_mtu(const struct gw *gw);

/* Stop and close every port started (at exit, workers gone). */
void gw_ports_close(struct gw *gw);

#endif /* ESPGW_CONTROL_PORTS_H */
