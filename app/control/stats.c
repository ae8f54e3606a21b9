/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The espgw authors
 */

/* Counters for people (laid out like `ip -s xfrm state`) and for
 * scripts (one "name value" a line). Per-worker counters are summed
 * here, on read; the workers never share a counter. */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "control/show.h"
#include "control/stats.h"
#include "gw.h"

static const char *const counter_names[] = {
#define GW_CNT_NAME_(n, s, side) [GW_##n] = s,
	GW_FOREACH_COUNTER(GW_CNT_NAME_)
#undef GW_CNT_NAME_
};

const char *
gw_counter_name(enum gw_counter c)
{
	return (unsigned int)c < GW_CNT_MAX ? counter_names[c] : "?";
}

static const enum gw_side counter_sides[] = {
#define GW_CNT_SIDE_(n, s, side) [GW_##n] = GW_SIDE_##side,
	GW_FOREACH_COUNTER(GW_CNT_SIDE_)
#undef GW_CNT_SIDE_
};

enum gw_side
gw_counter_side(enum gw_counter c)
{
	return (unsigned int)c < GW_CNT_MAX ? counter_sides[c] : GW_SIDE_EV;
}

void
gw_stats_counters(FILE *f)
{
	static const char *const side[] = {
		[GW_SIDE_IN] = "in",
		[GW_SIDE_OUT] = "out",
		[GW_SIDE_EV] = "event",
	};

	for (int c = 0; c < GW_CNT_MAX; c++)
		fprintf(f, "gw.%s %s\n", gw_counter_name(c),
			side[gw_counter_side(c)]);
	fprintf(f, "gw.drop-esp-in out\ngw.drop-esp-out out\n");
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		fprintf(f, "esp.%s reason\n", espgw_drop_name(d));
}

/* What the SAs no longer there counted, by direction (control thread). */
static struct espgw_sa_stats gone[2];

void
gw_stats_sa_gone(const struct espgw_sa *sa)
{
	struct espgw_sa_stats *g = &gone[espgw_sa_params(sa)->dir];
	struct espgw_sa_stats st;

	espgw_sa_stats_read(sa, &st);
	g->packets += st.packets;
	g->bytes += st.bytes;
	g->mappings += st.mappings;
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		g->drops[d] += st.drops[d];
}

const struct espgw_sa_stats *
gw_stats_gone(enum espgw_sa_dir dir)
{
	return &gone[dir];
}

/* An SA's counters (or the gone ones), as "ID.name value" lines. */
static void
write_sa_counters(FILE *f, const char *id, const struct espgw_sa_stats *st,
		  bool udp)
{
	fprintf(f, "%s.packets %lu\n%s.bytes %lu\n", id, st->packets, id,
		st->bytes);
	if (udp)
		fprintf(f, "%s.mappings %lu\n", id, st->mappings);
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		fprintf(f, "%s.%s %lu\n", id, espgw_drop_name(d), st->drops[d]);
}

/* The mbuf pools' free counts (lcore caches included): with nothing in
 * flight or held, the count at start; less is a leak. */
static void
write_pools(FILE *f, const struct gw *gw, bool lines)
{
	const struct rte_mempool *mp[] = { gw->pool, gw->indirect_pool,
					   gw->jumbo_pool };

	for (unsigned int i = 0; i < RTE_DIM(mp); i++) {
		unsigned int n = rte_mempool_avail_count(mp[i]);

		if (lines)
			fprintf(f, "pool.%s.available %u\npool.%s.size %u\n",
				mp[i]->name, n, mp[i]->name, mp[i]->size);
		else
			fprintf(f, "  %s %u of %u available\n", mp[i]->name, n,
				mp[i]->size);
	}
}

void
gw_stats_sum(const struct gw *gw, uint64_t cnt[GW_CNT_MAX],
	     uint64_t esp[ESPGW_DROP_MAX], uint64_t *esp_in, uint64_t *esp_out)
{
	const struct gw_tables *t = gw_tables_current(&gw->pub);

	memset(cnt, 0, sizeof(uint64_t) * GW_CNT_MAX);
	memset(esp, 0, sizeof(uint64_t) * ESPGW_DROP_MAX);
	*esp_in = *esp_out = 0;
	for (unsigned int i = 0; i < gw->nb_workers; i++) {
		const struct gw_worker *w = &gw->workers[i];
		uint64_t d[ESPGW_DROP_MAX];

		for (int c = 0; c < GW_CNT_MAX; c++)
			cnt[c] += __atomic_load_n(&w->cnt[c], __ATOMIC_RELAXED);
		if (w->esp == NULL)
			continue;
		espgw_worker_drops_read(w->esp, d);
		for (int c = 0; c < ESPGW_DROP_MAX; c++) {
			esp[c] += d[c];
			*esp_in += d[c];
		}
	}
	for (int d = 0; d < ESPGW_DROP_MAX; d++) {
		*esp_in += gone[ESPGW_SA_IN].drops[d];
		*esp_out += gone[ESPGW_SA_OUT].drops[d];
	}
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		struct espgw_sa_stats st;
		uint64_t n = 0;

		espgw_sa_stats_read(t->sas[i], &st);
		for (int d = 0; d < ESPGW_DROP_MAX; d++)
			n += st.drops[d];
		if (espgw_sa_params(t->sas[i])->dir == ESPGW_SA_IN)
			*esp_in += n;
		else
			*esp_out += n;
	}
}

void
gw_stats_print(struct gw *gw, FILE *f)
{
	const struct gw_tables *t = gw_tables_current(&gw->pub);
	uint64_t cnt[GW_CNT_MAX], esp[ESPGW_DROP_MAX], esp_in, esp_out;

	gw_stats_sum(gw, cnt, esp, &esp_in, &esp_out);
	fprintf(f, "ports:\n");
	for (unsigned int p = 0; p < gw->nb_ports; p++) {
		struct rte_eth_stats st;
		uint16_t port = gw->ports[p];

		if (rte_eth_stats_get(port, &st) != 0)
			continue;
		fprintf(f,
			"  %s (port %u): rx %lu packets %lu bytes, "
			"tx %lu packets %lu bytes, missed %lu, rx-errors %lu, "
			"tx-errors %lu\n",
			t->ifaces[port].name, port, st.ipackets, st.ibytes,
			st.opackets, st.obytes, st.imissed, st.ierrors,
			st.oerrors);
	}
	fprintf(f, "pools:\n");
	write_pools(f, gw, false);
	fprintf(f, "states:\n");
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		struct espgw_sa_stats st;
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		uint64_t failed = 0;

		espgw_sa_stats_read(t->sas[i], &st);
		for (int d = 0; d < ESPGW_DROP_MAX; d++)
			failed += st.drops[d];
		fprintf(f, "src %s dst %s\n", gw_show_ip(&p->src, a),
			gw_show_ip(&p->dst, b));
		fprintf(f,
			"\tproto esp spi 0x%08x(%u) reqid %u(0x%08x) mode "
			"tunnel\n",
			p->spi, p->spi, p->reqid, p->reqid);
		fprintf(f, "\treplay-window %u seq 0x%08lx flag %s(%s)\n",
			p->replay_window,
			(unsigned long)(p->dir == ESPGW_SA_OUT
						? espgw_sa_next_seq(t->sas[i]) -
							  1
						: 0),
			p->esn ? "esn" : "none",
			p->dir == ESPGW_SA_OUT ? "out" : "in");
		fprintf(f, "\taead rfc4106(gcm(aes)) (%u-bit key) %u\n",
			(p->key_len - 4) * 8, p->icv_len * 8);
		fprintf(f,
			"\tlifetime current:\n\t  %lu(bytes), %lu(packets)\n",
			st.bytes, st.packets);
		fprintf(f,
			"\tstats:\n\t  replay-window %lu replay %lu failed "
			"%lu\n",
			st.drops[ESPGW_DROP_BEHIND_WINDOW],
			st.drops[ESPGW_DROP_REPLAYED], failed);
		if (p->encap.udp)
			fprintf(f,
				"\t  encap espinudp sport %u dport %u, "
				"mapping changes %lu\n",
				p->encap.sport, p->encap.dport, st.mappings);
		if (failed) {
			fprintf(f, "\t  drops:");
			for (int d = 0; d < ESPGW_DROP_MAX; d++)
				if (st.drops[d])
					fprintf(f, " %s %lu",
						espgw_drop_name(d),
						st.drops[d]);
			fprintf(f, "\n");
		}
	}
	fprintf(f, "gateway:\n");
	for (int c = 0; c < GW_CNT_MAX; c++)
		if (cnt[c] || c < GW_DROP_NOT_FOR_US)
			fprintf(f, "  %-24s %lu\n", gw_counter_name(c), cnt[c]);
	if (esp_in)
		fprintf(f, "  %-24s %lu\n", "drop-esp-in", esp_in);
	if (esp_out)
		fprintf(f, "  %-24s %lu\n", "drop-esp-out", esp_out);
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		if (esp[d])
			fprintf(f, "  esp-%-20s %lu\n", espgw_drop_name(d),
				esp[d]);
	for (int dir = 0; dir < 2; dir++) {
		const struct espgw_sa_stats *g = &gone[dir];
		uint64_t n = g->packets;

		for (int d = 0; d < ESPGW_DROP_MAX; d++)
			n += g->drops[d];
		if (n == 0)
			continue;
		fprintf(f, "states gone (%s): %lu packets, %lu bytes",
			dir == ESPGW_SA_IN ? "in" : "out", g->packets,
			g->bytes);
		for (int d = 0; d < ESPGW_DROP_MAX; d++)
			if (g->drops[d])
				fprintf(f, " %s %lu", espgw_drop_name(d),
					g->drops[d]);
		fprintf(f, "\n");
	}
	fflush(f);
}

int
gw_stats_write(struct gw *gw, const char *path)
{
	const struct gw_tables *t = gw_tables_current(&gw->pub);
	uint64_t cnt[GW_CNT_MAX], esp[ESPGW_DROP_MAX], esp_in, esp_out;
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	gw_stats_sum(gw, cnt, esp, &esp_in, &esp_out);
	for (int c = 0; c < GW_CNT_MAX; c++)
		fprintf(f, "gw.%s %lu\n", gw_counter_name(c), cnt[c]);
	fprintf(f, "gw.drop-esp-in %lu\ngw.drop-esp-out %lu\n", esp_in,
		esp_out);
	for (int d = 0; d < ESPGW_DROP_MAX; d++)
		fprintf(f, "esp.%s %lu\n", espgw_drop_name(d), esp[d]);
	for (unsigned int p = 0; p < gw->nb_ports; p++) {
		struct rte_eth_stats st;
		uint16_t port = gw->ports[p];

		if (rte_eth_stats_get(port, &st) != 0)
			continue;
		fprintf(f, "port.%s.rx %lu\nport.%s.tx %lu\n",
			t->ifaces[port].name, st.ipackets, t->ifaces[port].name,
			st.opackets);
	}
	for (unsigned int i = 0; i < t->nb_sas; i++) {
		const struct espgw_sa_params *p = espgw_sa_params(t->sas[i]);
		struct espgw_sa_stats st;

		char id[INET6_ADDRSTRLEN + 32], dst[INET6_ADDRSTRLEN];

		/* an SA is (dst, proto, SPI) and a direction: the classic
		 * set-up's one SPI both ways is two names */
		snprintf(id, sizeof(id), "sa.%s/esp/0x%08x/%s",
			 gw_show_ip(&p->dst, dst), p->spi,
			 p->dir == ESPGW_SA_OUT ? "out" : "in");
		espgw_sa_stats_read(t->sas[i], &st);
		write_sa_counters(f, id, &st, p->encap.udp);
	}
	write_sa_counters(f, "gone.in", &gone[ESPGW_SA_IN], false);
	write_sa_counters(f, "gone.out", &gone[ESPGW_SA_OUT], false);
	write_pools(f, gw, true);
	return fclose(f);
}
