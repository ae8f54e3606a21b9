/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* espgw's start-up: EAL, options, ports, lcores and signals. The main
 * lcore is the control thread: it reads the configuration (lang/),
 * builds and publishes the table set (control/), starts the ports and
 * the workers (dataplane/, every other lcore), prints the counters on
 * SIGUSR1 and at exit. */

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_vect.h>

#include "control/coredump.h"
#include "control/ctl.h"
#include "control/db.h"
#include "control/metrics.h"
#include "control/ports.h"
#include "control/stats.h"
#include "control/telemetry.h"
#include "dataplane/spread.h"
#include "gw.h"
#include "lang/config.h"

static volatile sig_atomic_t got_quit, got_usr1;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_quit = 1;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- [-f <config>] [options]\n"
		"\n"
		"An IPsec ESP tunnel gateway (RFC 4303 tunnel mode, RFC 4106 "
		"AES-GCM)\nconfigured with the statements of Linux's ip "
		"command (docs/configuration.md).\n"
		"\n"
		"Options (after EAL's, behind --):\n"
		"  -f, --config FILE     configuration file (without one espgw "
		"starts\n"
		"                        empty and waits for espgwctl)\n"
		"  -c, --check           parse the configuration and build "
		"the tables,\n"
		"                        report the first problem, start "
		"nothing\n"
		"  -i, --poll-idle-us N  sleep N microseconds when a poll "
		"finds nothing\n"
		"                        (default 0: busy polling; set it on "
		"shared or\n"
		"                        virtual machines)\n"
		"  -s, --stats-file PATH at exit, write every counter as "
		"'name value' lines\n"
		"  -S, --socket PATH     the control socket (default "
		"/run/espgw/espgw.sock,\n"
		"                        /run/espgw/NAME.sock with EAL's "
		"--file-prefix NAME)\n"
		"  -E, --on-expire PROG  run PROG when a state's lifetime "
		"ends, soft or\n"
		"                        hard (its identity in ESPGW_* "
		"variables)\n"
		"  -N, --natt-follow     when the peer of an ESP-in-UDP "
		"state shows up on a\n"
		"                        new address or UDP port (a NAT "
		"rebound), move its\n"
		"                        states and templates there\n"
		"  -K, --natt-keepalive S  on an outbound ESP-in-UDP state "
		"idle for S seconds,\n"
		"                        send a NAT keepalive (RFC 3948 "
		"2.3; IKE daemons: 20)\n"
		"  --spread-esp          spread one SA's inbound ESP over "
		"every worker: the\n"
		"                        receiving worker hands each packet "
		"to the one\n"
		"                        owning its sequence number's run of "
		"256, and sends\n"
		"                        the results in the order received "
		"(2, 4, 8 or 16\n"
		"                        workers; docs/architecture.md)\n"
		"  --spread-weights W0,W1,...  as --spread-esp, worker i "
		"owning Wi of every\n"
		"                        sum-of-W runs (a power of two up to "
		"32; 0: it only\n"
		"                        receives and sends), e.g. 1,3 for "
		"the receiving\n"
		"                        worker 0 of a one-queue port\n"
		"  --metrics ADDR:PORT   serve Prometheus metrics over HTTP "
		"on GET /metrics\n"
		"                        (127.0.0.1:9710, [::1]:9710; port 0: "
		"any free one)\n"
		"  --metrics-file PATH   write them to PATH (node_exporter's "
		"textfile\n"
		"                        collector: *.prom), replaced "
		"atomically\n"
		"  --metrics-interval S  every S seconds (default 10) and at "
		"exit\n"
		"  --counters            print each counter of the stats file "
		"with its side\n"
		"                        of the one-fate law (in, out, event; "
		"reason: an\n"
		"                        ESP drop reason), start nothing\n"
		"  -h, --help            this text\n"
		"\n"
		"Workers run on every EAL lcore but the main one; each port "
		"gets one RX\nand one TX queue per worker. Useful EAL options: "
		"-l 0-2 (lcores),\n--vdev net_pcap0,rx_pcap=in.pcap,tx_pcap="
		"out.pcap, --vdev net_tap0,\n--vdev net_af_packet0,iface=eth1, "
		"-a <PCI address>, --no-huge -m 512,\n--file-prefix NAME.\n"
		"\n"
		"Signals: SIGUSR1 prints the counters (like ip -s xfrm state); "
		"SIGINT or\nSIGTERM stops the workers, prints the counters and "
		"exits 0.\n",
		prog);
}

struct opts {
	const char *config;
	const char *stats_file;
	const char *socket;
	const char *on_expire;
	unsigned int poll_idle_us;
	bool check, natt_follow, spread_esp;
	uint8_t spread_weight[GW_MAX_WORKERS]; /* --spread-weights */
	unsigned int nb_spread_weights;
	unsigned int natt_keepalive;
	const char *metrics, *metrics_file;
	unsigned int metrics_interval;
};

enum {
	OPT_METRICS = 256,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
	OPT_SPREAD_ESP,
	OPT_SPREAD_WEIGHTS,
	OPT_COUNTERS
};

/* "W0,W1,...": one weight a worker, each 0..ESPGW_REPLAY_MAP_MAX. */
static int
parse_weights(const char *arg, struct opts *o)
{
	const char *p = arg;

	o->nb_spread_weights = 0;
	for (;;) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v > ESPGW_REPLAY_MAP_MAX ||
		    o->nb_spread_weights == GW_MAX_WORKERS)
			return -1;
		o->spread_weight[o->nb_spread_weights++] = (uint8_t)v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "poll-idle-us", required_argument, NULL, 'i' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "on-expire", required_argument, NULL, 'E' },
		{ "natt-follow", no_argument, NULL, 'N' },
		{ "natt-keepalive", required_argument, NULL, 'K' },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "metrics-interval", required_argument, NULL,
		  OPT_METRICS_INTERVAL },
		{ "spread-esp", no_argument, NULL, OPT_SPREAD_ESP },
		{ "spread-weights", required_argument, NULL,
		  OPT_SPREAD_WEIGHTS },
		{ "counters", no_argument, NULL, OPT_COUNTERS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:ci:s:S:E:NK:h", lo, NULL)) !=
	       -1) {
		char *end;

		switch (c) {
		case 'f': o->config = optarg; break;
		case 'c': o->check = true; break;
		case 's': o->stats_file = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'E': o->on_expire = optarg; break;
		case 'N': o->natt_follow = true; break;
		case 'K':
			o->natt_keepalive =
				(unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || *optarg == '\0' ||
			    o->natt_keepalive > 86400) {
				fprintf(stderr, "espgw: --natt-keepalive wants "
						"seconds, 0..86400\n");
				return -1;
			}
			break;
		case 'i':
			o->poll_idle_us =
				(unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->poll_idle_us > 1000000) {
				fprintf(stderr, "espgw: --poll-idle-us wants "
						"0..1000000\n");
				return -1;
			}
			break;
		case OPT_METRICS: {
			struct sockaddr_storage ss;
			socklen_t len;
			char err[160];

			o->metrics = optarg;
			if (gw_metrics_parse_addr(optarg, &ss, &len, err,
						  sizeof(err)) != 0) {
				fprintf(stderr, "espgw: %s\n", err);
				return -1;
			}
			break;
		}
		case OPT_METRICS_FILE: o->metrics_file = optarg; break;
		case OPT_SPREAD_ESP: o->spread_esp = true; break;
		case OPT_SPREAD_WEIGHTS:
			if (parse_weights(optarg, o) != 0) {
				fprintf(stderr,
					"espgw: --spread-weights wants one "
					"weight a worker, 0..32, as 1,3\n");
				return -1;
			}
			o->spread_esp = true;
			break;
		case OPT_METRICS_INTERVAL:
			o->metrics_interval =
				(unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || *optarg == '\0' ||
			    o->metrics_interval == 0 ||
			    o->metrics_interval > 86400) {
				fprintf(stderr, "espgw: --metrics-interval "
						"wants seconds, 1..86400\n");
				return -1;
			}
			break;
		case OPT_COUNTERS: gw_stats_counters(stdout); exit(0);
		case 'h': usage(stdout, argv[0]); exit(0);
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "espgw: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (o->config == NULL && o->check) {
		fprintf(stderr, "espgw: --check needs -f <config>\n");
		return -1;
	}
	/* an interval of nothing would be ignored without a word */
	if (o->metrics_interval != 0 && o->metrics_file == NULL) {
		fprintf(stderr,
			"espgw: --metrics-interval needs --metrics-file\n");
		return -1;
	}
	return 0;
}

/* Where espgw's options start: at argv[1] in the forms that start no
 * EAL (espgw --counters, espgw --help), else behind the "--" that ends
 * EAL's (EAL's getopt stops at the first one, file_prefix() too). The
 * index is that of the argument before them, argv[0] or the "--";
 * argc with no "--". */
static int
opts_start(int argc, char **argv)
{
	if (argc > 1 &&
	    (strcmp(argv[1], "--counters") == 0 ||
	     strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return 0;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

/* EAL's --file-prefix, which names the default control socket. */
static const char *
file_prefix(int argc, char **argv)
{
	const char *p = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc)
			p = argv[++i];
		else if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			p = argv[i] + 14;
	}
	return p;
}

static int
workers_init(struct gw *gw)
{
	unsigned int lcore, id = 0;

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (gw_worker_init(&gw->workers[id], id, lcore) != 0)
			return -1;
		id++;
	}
	return 0;
}

/* The owner map of --spread-esp: even, or as --spread-weights says. */
static int
spread_map(const struct opts *o, unsigned int nb_workers,
	   struct espgw_replay_map *m)
{
	uint8_t even[GW_MAX_WORKERS];
	const uint8_t *w = o->spread_weight;

	if (o->nb_spread_weights == 0) {
		memset(even, 1, sizeof(even));
		w = even;
	} else if (o->nb_spread_weights != nb_workers) {
		fprintf(stderr,
			"espgw: --spread-weights gives %u weights for %u "
			"workers\n",
			o->nb_spread_weights, nb_workers);
		return -1;
	}
	if (espgw_replay_map_weighted(m, w, (uint16_t)nb_workers) != 0) {
		fprintf(stderr, "espgw: --spread-weights must sum to a power "
				"of two up to 32\n");
		return -1;
	}
	return 0;
}

static void
workers_fini(struct gw *gw)
{
	gw_spread_fini(gw);
	for (unsigned int i = 0; i < gw->nb_workers; i++)
		gw_worker_fini(&gw->workers[i]);
}

int
main(int argc, char **argv)
{
	static struct gw gw;
	static struct gw_ctl ctl;
	static struct gw_metrics metrics;
	struct gw_worker_arg args[GW_MAX_WORKERS];
	char sock_path[GW_CTLSOCK_PATH_MAX];
	const char *prefix;
	struct opts o = { 0 };
	struct gw_tables *t = NULL;
	struct espgw_cfg cfg;
	char err[512];
	unsigned int nb_mbufs, nb_ports;
	uint16_t max_mtu = RTE_ETHER_MTU;
	int n, start, want, dump, rc = 1;

	/* ours before EAL's: --help and --counters answer without
	 * hugepages, ports or privileges, and so does a bad option */
	start = opts_start(argc, argv);
	if (start < argc) {
		char *sep = argv[start];

		argv[start] = argv[0]; /* getopt's program name, as EAL does */
		n = parse_opts(argc - start, argv + start, &o);
		argv[start] = sep;
		if (n != 0) {
			usage(stderr, argv[0]);
			return 1;
		}
	}
	prefix = file_prefix(argc, argv);
	ctl.sock.fd = -1;
	/* A change at 100,000 SAs copies arrays of a megabyte: from the
	 * heap, not a fresh mmap and munmap each time, whose page faults
	 * and TLB shootdowns reach the workers' cores too. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "espgw: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	/* Let libraries pick 512-bit code paths where the CPU has them
	 * (DPDK's default stops at 256): rte_acl's AVX-512 classifier
	 * matches 32 packets at a time, +16% at 10,000 policies on this
	 * project's bench machine. EAL's --force-max-simd-bitwidth still
	 * wins (this returns -EPERM then). */
	if (rte_vect_get_max_simd_bitwidth() < RTE_VECT_SIMD_512)
		(void)rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
	if ((dump = gw_coredump_exclude_dpdk()) != 0)
		fprintf(stderr, "espgw: DPDK memory stays in core dumps: %s\n",
			strerror(-dump));
	/* EAL's options end where ours start; what EAL left before them
	 * (its getopt moves it there) is an option of neither */
	want = start < argc ? start : argc - 1;
	if (n != want) {
		fprintf(stderr, "espgw: unexpected argument '%s'\n",
			argv[n < want ? n + 1 : want]);
		usage(stderr, argv[0]);
		goto out_eal;
	}

	espgw_cfg_init(&cfg, o.config);
	if (o.config != NULL &&
	    espgw_cfg_parse_file(&cfg, o.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "espgw: %s\n", err);
		goto out_cfg;
	}
	gw.nb_workers = rte_lcore_count() - 1;
	if (gw.nb_workers == 0 || gw.nb_workers > GW_MAX_WORKERS) {
		fprintf(stderr,
			"espgw: need 1 to %d worker lcores besides "
			"the main one (e.g. -l 0-1)\n",
			GW_MAX_WORKERS);
		goto out_cfg;
	}
	/* a window's lines are owned by id modulo the owners: a power of
	 * two keeps that the dispatcher's choice on every number */
	if (o.spread_esp) {
		if (gw.nb_workers < 2 ||
		    (gw.nb_workers & (gw.nb_workers - 1)) != 0) {
			fprintf(stderr,
				"espgw: --spread-esp wants 2, 4, 8 or 16 "
				"workers, not %u\n",
				gw.nb_workers);
			goto out_cfg;
		}
		if (spread_map(&o, gw.nb_workers, &gw.spread_map) != 0)
			goto out_cfg;
		gw.spread = gw.nb_workers;
	}
	gw_db_number(&cfg); /* as the control socket's database will */
	t = gw_tables_build(&cfg, gw.nb_workers, gw_spread_map(&gw), NULL, NULL,
			    err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "espgw: %s\n", err);
		goto out_cfg;
	}
	for (unsigned int i = 0; i < t->nb_up; i++) {
		const struct gw_iface *f = &t->ifaces[t->up[i]];
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		max_mtu = RTE_MAX(max_mtu, f->mtu);
		rte_ether_format_addr(mac, sizeof(mac), &f->mac);
		printf("espgw: port %s id %u mac %s mtu %u\n", f->name, f->port,
		       mac, f->mtu);
	}
	if (o.check) {
		printf("espgw: %s: %u ports, %u addresses, %u states, %u "
		       "policies: OK\n",
		       o.config, t->nb_up, t->nb_local, t->nb_sas,
		       t->nb_policies);
		rc = 0;
		goto out_tables;
	}
	if (t->nb_up == 0 && o.config != NULL) {
		fprintf(stderr, "espgw: %s: no port is set up\n", o.config);
		goto out_tables;
	}
	gw.poll_idle_us = o.poll_idle_us;

	/* mbufs for every port EAL found: `link set ... up` may start one
	 * later (there is no hot plug) */
	nb_ports = RTE_MAX(t->nb_up, rte_eth_dev_count_avail());
	nb_ports = RTE_MIN(nb_ports, (unsigned int)GW_MAX_PORTS);
	nb_mbufs = nb_ports * gw.nb_workers *
			   (GW_PORT_RX_DESC + GW_PORT_TX_DESC + GW_BURST) +
		   gw.nb_workers * (GW_ARP_PENDING + 4096) + 4096;
	/* between workers: a dispatcher's open segments, and their frames */
	if (gw.spread != 0)
		nb_mbufs += gw.nb_workers * 2 * GW_SPREAD_SEGS * GW_BURST;
	gw.pool = rte_pktmbuf_pool_create(
		"gw_pool", nb_mbufs, 256, 0,
		RTE_MAX(RTE_MBUF_DEFAULT_BUF_SIZE,
			RTE_PKTMBUF_HEADROOM + max_mtu + GW_PORT_FRAME_SLACK),
		(int)rte_socket_id());
	gw.indirect_pool = rte_pktmbuf_pool_create("gw_indirect", 8191, 256, 0,
						   0, (int)rte_socket_id());
	/* a reassembled outer packet may be up to 64 KB: the ESP library
	 * wants it in one segment */
	gw.jumbo_pool =
		rte_pktmbuf_pool_create("gw_jumbo", 64 * gw.nb_workers + 63, 0,
					0, UINT16_MAX, (int)rte_socket_id());
	if (gw.pool == NULL || gw.indirect_pool == NULL ||
	    gw.jumbo_pool == NULL || gw_neigh_init(&gw.neigh, 4096) != 0 ||
	    gw_publisher_init(&gw.pub, gw.nb_workers) != 0 ||
	    workers_init(&gw) != 0 ||
	    (gw.spread != 0 && gw_spread_init(&gw) != 0)) {
		fprintf(stderr, "espgw: out of memory (try -m with more MB)\n");
		goto out_run;
	}
	for (unsigned int i = 0; i < cfg.nb_neighs; i++)
		gw_neigh_set(&gw.neigh,
			     (uint16_t)gw_tables_port(t, cfg.neighs[i].port),
			     cfg.neighs[i].addr, &cfg.neighs[i].mac, true);
	for (unsigned int i = 0; i < cfg.nb_neighs6; i++)
		gw_neigh_set6(&gw.neigh,
			      (uint16_t)gw_tables_port(t, cfg.neighs6[i].port),
			      cfg.neighs6[i].addr, &cfg.neighs6[i].mac, true);
	/* no worker runs yet: the first set needs no grace period */
	gw_publish(&gw.pub, t);
	if (gw_ports_apply(&gw, t, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "espgw: %s\n", err);
		goto out_ports;
	}

	if (o.socket == NULL)
		o.socket = gw_ctlsock_default_path(prefix, sock_path,
						   sizeof(sock_path));
	if (o.socket == NULL) {
		fprintf(stderr,
			"espgw: --file-prefix %s makes no socket path "
			"(use --socket)\n",
			prefix);
		goto out_ports;
	}
	rc = gw_ctl_init(&ctl, &gw, &cfg);
	if (rc != 0) {
		if (rc == -ENOMEM)
			fprintf(stderr, "espgw: out of memory\n");
		rc = 1;
		goto out_ports;
	}
	ctl.on_expire = o.on_expire;
	ctl.natt_follow = o.natt_follow;
	ctl.natt_keepalive = o.natt_keepalive;
	if (gw_telemetry_init(&ctl) != 0)
		fprintf(stderr, "espgw: telemetry commands not registered\n");
	rc = 1;
	if (gw_ctlsock_open(&ctl.sock, o.socket, err, sizeof(err)) != 0) {
		fprintf(stderr, "espgw: %s\n", err);
		goto out_ports;
	}
	if (gw_metrics_init(&metrics, &ctl, o.metrics, o.metrics_file,
			    o.metrics_interval, err, sizeof(err)) != 0) {
		fprintf(stderr, "espgw: %s\n", err);
		goto out_ports;
	}
	if (metrics.httpd != NULL)
		printf("espgw: metrics on %s\n", metrics.url);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	printf("espgw: %u workers, %u ports, %u states, %u policies; "
	       "control socket %s; running (SIGUSR1: counters, SIGINT: "
	       "stop)\n",
	       gw.nb_workers, gw.nb_ports, t->nb_sas, t->nb_policies, o.socket);
	fflush(stdout);
	for (unsigned int i = 0; i < gw.nb_workers; i++) {
		args[i] = (struct gw_worker_arg){ .gw = &gw,
						  .w = &gw.workers[i] };
		rte_eal_remote_launch(gw_worker_main, &args[i],
				      gw.workers[i].lcore);
	}
	while (!got_quit) {
		/* commands from espgwctl, or 100 ms of nothing */
		gw_ctlsock_poll(&ctl.sock, gw_ctl_busy(&ctl) ? 2 : 100,
				gw_ctl_handle, &ctl);
		gw_ctl_tick(&ctl);
		gw_metrics_tick(&metrics);
		if (got_usr1) {
			got_usr1 = 0;
			/* ethdev's calls are not thread-safe and some PMDs
			 * read clear-on-read registers: not beside a scrape */
			pthread_mutex_lock(&ctl.lock);
			gw_stats_print(&gw, stdout);
			pthread_mutex_unlock(&ctl.lock);
		}
	}
	__atomic_store_n(&gw.quit, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	gw_spread_release(&gw);
	printf("espgw: stopping; final counters:\n");
	pthread_mutex_lock(&ctl.lock); /* a scrape may still come */
	gw_stats_print(&gw, stdout);
	if (o.stats_file != NULL && gw_stats_write(&gw, o.stats_file) != 0)
		fprintf(stderr, "espgw: cannot write %s\n", o.stats_file);
	pthread_mutex_unlock(&ctl.lock);
	gw_metrics_flush(&metrics);
	rc = 0;
out_ports:
	gw_telemetry_fini();	   /* before what its commands read goes */
	gw_metrics_fini(&metrics); /* its thread reads ports and tables */
	gw_ports_close(&gw);
out_run:
	gw_ctl_fini(&ctl);
	workers_fini(&gw);
	/* the workers are gone: the set published last is freed below */
	if (gw.pub.qs != NULL)
		t = gw_tables_current(&gw.pub);
	gw_publisher_fini(&gw.pub);
	gw_neigh_fini(&gw.neigh);
	rte_mempool_free(gw.pool);
	rte_mempool_free(gw.indirect_pool);
	rte_mempool_free(gw.jumbo_pool);
out_tables:
	gw_tables_free(t);
out_cfg:
	espgw_cfg_free(&cfg);
out_eal:
	rte_eal_cleanup();
	return rc;
}
