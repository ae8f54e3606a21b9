"""The report: Markdown tables of throughput, IPsec cost, scale, workers,
the ceiling, losses, profiles and targets, and the runs as JSON. It only
formats what was measured: it starts nothing."""

import os
import statistics

from .cases import SPREAD_MAPS, espgw_lcores
from .common import (COST_TARGET, FAMILIES, FLOOR_TARGET, GW_WAN6, INNER6_DST, INNER6_SRC,
                     INNER_DST, L3FWD_DST, L3FWD_SRC, MIN_FRAME6, NATT_PORT, NATT_TARGET,
                     PEER_WAN6, RATIO_TARGET, SCALE_PKTS, SCALE_ROWS, SCALE_TARGET, SECGW_SRC,
                     SIZES, V6_SECGW_TARGET, V6_V4_TARGET, WORKER_CPU, avg_frame, esp_ct_len,
                     frame_lens, inner6)
from .measure import ceiling_pps


def workers_rows(by, pairs):
    """Rows of one worker's case beside its two-worker twin: (label, one,
    two) names; the twin's CPU share on CPU 0 is the worker sharing it."""
    rows = []
    for label, n1, n2 in pairs:
        c1, c2 = by.get(n1), by.get(n2)
        if c2 and c2.runs:
            p1 = [r.pps for r in c1.runs] if c1 else []
            p2 = [r.pps for r in c2.runs]
            rows.append([label, fmt_mmm(p1), fmt_mmm(p2),
                         "-" if not p1 else "%.2f" % (med(p2) / med(p1)),
                         "%.2f" % min(r.share2 for r in c2.runs)])
    return rows

def mmm(xs):
    return (min(xs), statistics.median(xs), max(xs)) if xs else (None, None, None)


def fmt_m(v, d=2):
    return "-" if v is None else ("%.*f" % (d, v))


def fmt_mmm(xs, scale=1e6, d=2):
    if not xs:
        return "-"
    lo, med, hi = mmm([x / scale for x in xs])
    return "%s / %s / %s" % (fmt_m(lo, d), fmt_m(med, d), fmt_m(hi, d))


def med(xs):
    return statistics.median(xs) if xs else None


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def verdict(ok):
    return "yes" if ok else "**NO**"


def per_cpu(case):
    """Packets per second of the worker's time on a CPU, per run: what
    another process's share of CPU 1 does not change."""
    return [r.pps / max(r.share, 0.05) for r in case.runs] if case else []


def report(cases, ceil, env, args, profiles, instr=None):
    by = {c.name: c for c in cases}

    def pps(name):
        c = by.get(name)
        return [r.pps for r in c.runs] if c else []

    lines = []
    lines.append("# espgw vs ipsec-secgw vs the raw cipher (bench/run.py)\n")
    lines.append("- date: %s" % env["date"])
    lines.append("- CPU: %s (%s)" % (env["cpu"], env["lscpu"]))
    lines.append("- kernel %s; DPDK %s; intel-ipsec-mb %s (%s code path)" %
                 (env["kernel"], env["dpdk"], ceil["imb_version"] if ceil else "?",
                  ceil["arch"] if ceil else "?"))
    lines.append("- memory: %s" % env["huge"])
    lines.append("- espgw: git %s%s; binary %s" % (
        env["git"], (" + uncommitted changes in " + ", ".join(env["dirty"]))
        if env["dirty"] else "", env["espgw_bin"]))
    lines.append("- ipsec-secgw: %s built against the installed DPDK with the vdev "
                 "patch (RX checksum offload dropped); legacy (default) path, "
                 "crypto_aesni_gcm lookaside vdev, no replay window" % SECGW_SRC)
    if any(c.gw == "l3fwd" for c in cases):
        lines.append("- l3fwd: %s built against the installed DPDK with the same vdev "
                     "patch; LPM lookup with its built-in routes, --parse-ptype, -P, "
                     "both ports polled" % L3FWD_SRC)
    lines.append("- ports: source net_pcap0 (rx_pcap, infinite_rx=1), sink net_null0 "
                 "(no-rx=1); espgw -l 0-1 (worker on CPU %d, busy polling), "
                 "ipsec-secgw and l3fwd -l %d; all with %s" % (
                     WORKER_CPU, WORKER_CPU, "--in-memory" if "hugepages" in env["huge"][:10]
                     else "--no-huge -m 2048 --no-shconf"))
    lines.append("- method: %d run(s) a case, cases interleaved round by round; %.1f s "
                 "warm-up, %.1f s window; Mpps = sink opackets / window (telemetry); "
                 "Gbit/s = Mpps x plaintext frame bits (frame size with FCS, no preamble or gap); "
                 "values are min / median / max" % (args.runs, args.warmup, args.window))
    lines.append("- noise: other helpers shared this 2-CPU VM and its host during the "
                 "run; 'others' = CPUs used by other processes during the windows "
                 "(max over runs), 'steal' = hypervisor steal on CPU %d (max). "
                 "Compare ratios within this run, not absolute numbers across runs."
                 % WORKER_CPU)
    lines.append("")

    # main table
    rows = []
    summary = []
    for d in ("encap", "decap", "bypass"):
        for s in SIZES:
            e, g = pps("espgw-%s-%s" % (d, s)), pps("secgw-%s-%s" % (d, s))
            if not e and not g:
                continue
            ratio = med(e) / med(g) if e and g else None
            tgt = RATIO_TARGET.get(s) if d != "bypass" else None
            ok = "" if tgt is None or ratio is None else verdict(ratio >= tgt)
            cl = ""
            if ceil and d != "bypass":
                cp = ceiling_pps(ceil, s, d)
                cl = "%.2f" % (med(cp) / 1e6)
            gbit = lambda xs: "-" if not xs else "%.1f" % (med(xs) * avg_frame(s) * 8 / 1e9)  # noqa
            rows.append([d, s, fmt_mmm(e), gbit(e), fmt_mmm(g), gbit(g),
                         "-" if ratio is None else "%.2f" % ratio,
                         "" if tgt is None else "≥ %.1f" % tgt, ok, cl])
            if tgt is not None and ratio is not None:
                summary.append(("espgw/secgw %s %s" % (d, s), "%.2f" % ratio,
                                "≥ %.1f" % tgt, ratio >= tgt))
    lines.append("## Throughput, one worker core\n")
    lines.append(md_table(["dir", "frame B", "espgw Mpps", "espgw Gbit/s",
                           "secgw Mpps", "secgw Gbit/s", "espgw/secgw (median)",
                           "target", "met", "raw cipher Mops"], rows))
    lines.append("\nraw cipher Mops = intel-ipsec-mb direct AES-128-GCM calls per second "
                 "on CPU %d at the length GCM processes for that frame (IMIX: the 7:4:1 "
                 "mix of call times): the ceiling, with no packet I/O at all." % WORKER_CPU)
    lines.append("")

    # the forwarding floor (issue 15): clear forwarding against DPDK's l3fwd
    def ns(xs):
        return "-" if not xs else "%.1f" % (1e9 / med(xs))

    rows = []
    for s in SIZES:
        e, g, f = (pps("%s-bypass-%s" % (gw, s)) for gw in ("espgw", "secgw", "l3fwd"))
        if not f or not (e or g):
            continue
        fe, fg = (med(f) / med(x) if x else None for x in (e, g))
        ce = per_cpu(by.get("espgw-bypass-%s" % s))
        cf = per_cpu(by.get("l3fwd-bypass-%s" % s))
        tgt = FLOOR_TARGET.get(s)
        ok = None if tgt is None or fe is None else fe <= tgt
        rows.append([s, ns(e), ns(g), ns(f), "-" if fe is None else "%.2f" % fe,
                     "-" if not ce or not cf else "%.2f" % (med(cf) / med(ce)),
                     "" if tgt is None else "≤ %.1f" % tgt, "" if ok is None else verdict(ok),
                     "-" if fg is None else "%.2f" % fg])
        if ok is not None:
            summary.append(("espgw bypass / l3fwd, time per packet, %s" % s, "%.2f" % fe,
                            "≤ %.1f" % tgt, ok))
    if rows:
        lines.append("## Forwarding floor: bypass against DPDK's l3fwd, one worker\n")
        lines.append(md_table(["frame B", "espgw bypass ns/pkt", "secgw bypass ns/pkt",
                               "l3fwd ns/pkt", "espgw / l3fwd (medians)", "per CPU-s",
                               "target", "met", "secgw / l3fwd"], rows))
        lines.append("\nns/pkt = 1 / median Mpps of the main table's bypass cases and of "
                     "l3fwd, measured in the same rounds; l3fwd forwards the same frames "
                     "but to %s, which its built-in LPM table sends to port 1 (the "
                     "others' bypass traffic goes to %s through a bypass policy): "
                     "the cost of the ports and of plain IPv4 forwarding (TTL and "
                     "checksum, an LPM lookup, the MAC rewrite). 'per CPU-s' divides "
                     "each run's rate by its worker's CPU share first; the target is "
                     "judged on the medians." % (L3FWD_DST, INNER_DST))
        lines.append("")

    if instr and instr.get("cases"):
        lines += instr_section(instr, by, env, ceil)
    elif instr and instr.get("error"):
        lines.append("## Instructions per packet (callgrind), one worker\n")
        lines.append("Not measured: %s\n" % instr["error"].splitlines()[0])

    # ESP in UDP against plain ESP (issue #12), espgw alone
    rows = []
    for d in ("encap", "decap"):
        for s in SIZES:
            u, e = pps("espgw-%s-udp-%s" % (d, s)), pps("espgw-%s-%s" % (d, s))
            if not u or not e:
                continue
            ratio = med(u) / med(e)
            rows.append([d, s, fmt_mmm(u), fmt_mmm(e), "%.2f" % ratio,
                         "≥ %.2f" % NATT_TARGET, verdict(ratio >= NATT_TARGET)])
            summary.append(("ESP in UDP / plain ESP %s %s" % (d, s), "%.2f" % ratio,
                            "≥ %.2f" % NATT_TARGET, ratio >= NATT_TARGET))
    if rows:
        lines.append("## ESP in UDP (RFC 3948) against plain ESP, espgw, one worker\n")
        lines.append(md_table(["dir", "frame B", "ESP in UDP Mpps", "plain ESP Mpps",
                               "UDP / plain (median)", "target", "met"], rows))
        lines.append("\nThe same inner frames as the main table; the ESP side carries a "
                     "UDP header on port %d (checksum 0) besides. ipsec-secgw's software "
                     "path has no NAT traversal." % NATT_PORT)
        lines.append("")

    # IPv6 inside, outside or both against 4in4 (issue #13)
    def cpu_pps(name):
        return per_cpu(by.get(name))

    def ratio(a, b):
        return med(a) / med(b) if a and b else None

    def fr(x):
        return "-" if x is None else "%.2f" % x

    rows = []
    for d in ("encap", "decap"):
        for s in SIZES:
            for fam in FAMILIES:
                n6e, n6g = "espgw-%s-%s-%s" % (d, fam, s), "secgw-%s-%s-%s" % (d, fam, s)
                n4e, n4g = "espgw-%s-%s" % (d, s), "secgw-%s-%s" % (d, s)
                e6, g6 = pps(n6e), pps(n6g)
                if not e6 and not g6:
                    continue
                ce6, cg6, ce4, cg4 = (cpu_pps(n) for n in (n6e, n6g, n4e, n4g))
                eg, ceg = ratio(e6, g6), ratio(ce6, cg6)
                v64, cv64 = ratio(e6, pps(n4e)), ratio(ce6, ce4)
                # the ratio within each round (its runs were neighbours)
                rr = [a / b for a, b in zip(ce6, ce4)]
                flen = "/".join(str(x) for x in sorted(set(frame_lens(s, fam)))) \
                    if s != "imix" else ("imix (66/570/1420)" if inner6(fam) else "imix")
                rows.append([d, flen, fam, fmt_mmm(e6), fmt_mmm(g6), fr(eg), fr(ceg),
                             "" if ceg is None else verdict(ceg >= V6_SECGW_TARGET),
                             fr(v64), fr(cv64),
                             "%.2f-%.2f" % (min(rr), max(rr)) if rr else "-",
                             "" if cv64 is None else verdict(cv64 >= V6_V4_TARGET),
                             fr(ratio(cg6, cg4))])
                if ceg is not None:
                    summary.append(("espgw/secgw %s %s %s (per worker CPU-second)"
                                    % (d, fam, s), "%.2f" % ceg,
                                    "≥ %.2f" % V6_SECGW_TARGET, ceg >= V6_SECGW_TARGET))
                if cv64 is not None:
                    summary.append(("espgw %s / 4in4 %s %s (per worker CPU-second)"
                                    % (fam, d, s), "%.2f" % cv64,
                                    "≥ %.2f" % V6_V4_TARGET, cv64 >= V6_V4_TARGET))
    skipped = env.get("families_skipped") or {}
    if rows or skipped:
        lines.append("## IPv6: 4in6, 6in6, 6in4 beside 4in4, one worker\n")
    for fam, why in sorted(skipped.items()):
        lines.append("%s: not measured, this espgw refuses its configuration (\"%s\").\n"
                     % (fam, why))
    if rows:
        lines.append(md_table(["dir", "frame B", "inner in outer", "espgw Mpps", "secgw Mpps",
                               "espgw/secgw", "per CPU-s", "≥ %.2f" % V6_SECGW_TARGET,
                               "espgw / its 4in4", "per CPU-s", "per round",
                               "≥ %.2f" % V6_V4_TARGET, "secgw / its 4in4 per CPU-s"], rows))
        lines.append("\nThe 4in4 twins are the main table's cases, measured in the same rounds "
                     "(each IPv6 case runs right after them). Ratios are of medians; "
                     "'per CPU-s' divides each run's rate by its worker's CPU share "
                     "(schedstat, see 'Where packets went'): the gateway's own rate per "
                     "second it had a CPU, which other programs on this VM do not change; "
                     "the goals are judged on it. 'per round' = the range of espgw's "
                     "per CPU-s ratio to 4in4 over the rounds. Tunnel ends %s and %s "
                     "(ipsec-secgw: `mode ipv6-tunnel`, `rt ipv6`), IPv6 inner packets "
                     "UDP from %s to %s (`sp ipv6`); an IPv6 + UDP packet does not fit "
                     "a 64-byte frame, so IPv6 inner traffic takes %d-byte frames (no "
                     "payload) where IPv4's takes 64, in IMIX too."
                     % (GW_WAN6, PEER_WAN6, INNER6_SRC, INNER6_DST, MIN_FRAME6))
        lines.append("")

    # IPsec cost
    rows = []
    for d in ("encap", "decap"):
        for s in SIZES:
            e, b = pps("espgw-%s-%s" % (d, s)), pps("espgw-bypass-%s" % s)
            ge, gb = pps("secgw-%s-%s" % (d, s)), pps("secgw-bypass-%s" % s)
            if not e or not b:
                continue
            cost = (1 / med(e) - 1 / med(b)) * 1e9
            gcost = (1 / med(ge) - 1 / med(gb)) * 1e9 if ge and gb else None
            raw = None
            if ceil:
                raw = 1e9 / med(ceiling_pps(ceil, s, d))
            rel = cost / raw if raw else None
            tgt = COST_TARGET.get(s)
            rows.append([d, s, "%.1f" % (1e9 / med(e)), "%.1f" % (1e9 / med(b)),
                         "%.1f" % cost, "-" if gcost is None else "%.1f" % gcost,
                         "-" if raw is None else "%.1f" % raw,
                         "-" if rel is None else "%.2f" % rel,
                         "" if tgt is None else "≤ %.1f" % tgt,
                         "" if tgt is None or rel is None else verdict(rel <= tgt)])
            if tgt is not None and rel is not None:
                summary.append(("IPsec cost / raw cipher %s %s" % (d, s), "%.2f" % rel,
                                "≤ %.1f" % tgt, rel <= tgt))
    if rows:
        lines.append("## IPsec cost per packet (ns, medians)\n")
        lines.append(md_table(["dir", "frame B", "espgw ns/pkt", "espgw bypass ns/pkt",
                               "espgw IPsec cost", "secgw IPsec cost",
                               "raw cipher ns/op", "espgw cost / raw", "target", "met"],
                              rows))
        lines.append("\nIPsec cost = 1/pps(case) - 1/pps(bypass of the same frames); raw "
                     "cipher ns/op = 1 / (raw calls per second) at that frame's GCM length "
                     "(64 B frame: %d B, 1420 B frame: %d B)." % (esp_ct_len(64),
                                                                    esp_ct_len(1420)))
        lines.append("")

    # scale
    rows = []
    base = {}
    for d in ("encap", "decap"):
        c = by.get("espgw-scale-%s-sa1-pol10" % d)
        if c and c.runs:
            base[d] = med([r.pps for r in c.runs])
    for nsa, npol in SCALE_ROWS:
        row = ["{:,}".format(nsa), "{:,}".format(npol)]
        anyrun = False
        for d in ("encap", "decap"):
            c = by.get("espgw-scale-%s-sa%d-pol%d" % (d, nsa, npol))
            if c and c.runs:
                anyrun = True
                m = med([r.pps for r in c.runs])
                rel = m / base[d] if d in base else None
                row += ["{:,}".format(c.meta["hit"]), fmt_mmm([r.pps for r in c.runs]),
                        "-" if rel is None else "%.2f" % rel]
                if (nsa, npol) == (100000, 10000) and rel is not None:
                    summary.append(("100k SAs + 10k policies vs 1 SA + 10 policies, %s" % d,
                                    "%.2f" % rel, "≥ %.2f" % SCALE_TARGET,
                                    rel >= SCALE_TARGET))
            else:
                row += ["-", "-", "-"]
        if anyrun:
            rows.append(row)
    if rows:
        lines.append("## Scale: espgw, 64-byte frames, one worker\n")
        lines.append(md_table(["SAs", "policies", "encap SAs hit", "encap Mpps",
                               "vs 1 SA/10 pol", "decap SAs hit", "decap Mpps",
                               "vs 1 SA/10 pol"], rows))
        lines.append("\nEach pcap holds %d frames; the traffic cycles over 'SAs hit' "
                     "distinct SAs spread evenly over all configured ones (the pcap "
                     "driver keeps its whole file in the gateway's mbuf pool, which "
                     "bounds the count). Encap: one out policy per SA hit (a policy "
                     "protects with one SA), the rest of the policies and SAs are "
                     "present but not hit; decap: one fwd policy accepts every SA. "
                     "Extra policies are non-matching out/fwd bypass rules. Target: "
                     "100,000 SAs + 10,000 policies ≥ %.2f of 1 SA + 10 policies."
                     % (SCALE_PKTS, SCALE_TARGET))
        lines.append("")
    rows = workers_rows(by, [(d, "espgw-%s-64" % d, "espgw-w2-%s-64" % d)
                             for d in ("encap", "decap")])
    if rows:
        lines.append("## Workers: espgw, 64-byte frames, 1 SA\n")
        lines.append(md_table(["dir", "1 worker Mpps", "2 workers Mpps", "2 / 1",
                               "CPU share of the worker on CPU 0 (min)"], rows))
        lines.append("\n2 workers: %s (this VM has %d CPUs, so -l 0-2 cannot be used; "
                     "worker lcore 2 shares CPU 0 with the sleeping main lcore and with "
                     "whatever else runs there); the source has one rx_pcap (same file) "
                     "per queue." % (" ".join(espgw_lcores(2)), os.cpu_count() or 0))
        lines.append("")
    rows = workers_rows(by, [("%s, %s" % (z, a[-1] if len(a) > 1 else "even"),
                              "espgw-decap-%s" % z,
                              "espgw-spread%s-decap-%s" % (tag, z))
                             for z in ("64", "1420") for tag, a in SPREAD_MAPS])
    if rows:
        lines.append("## One SA on two workers: decap, one RX queue, --spread-esp\n")
        lines.append(md_table(["bytes, runs of worker 0,1", "1 worker Mpps",
                               "2 workers spread Mpps", "2 / 1",
                               "CPU share of the worker on CPU 0 (min)"], rows))
        lines.append("\nThe source has one rx_pcap: one queue, which worker 0 reads; it "
                     "hands each packet to the worker owning its sequence number's run "
                     "of 256 and sends the frames in the order received (target 4; "
                     "docs/architecture.md). Runs: even (--spread-esp, two of the "
                     "four runs of the 1024 numbers each), or --spread-weights: 3,1 "
                     "(worker 0 three runs in four), 1,3 (one) or 0,1 (none: it only "
                     "receives and sends).")
        lines.append("")

    # ceiling
    if ceil:
        rows = []
        for l in sorted(ceil["by_len"]):
            x = ceil["by_len"][l]
            rows.append([l, fmt_mmm(x["enc"]), "%.1f" % (1e9 / med(x["enc"])),
                         fmt_mmm(x["dec"]), "%.1f" % (1e9 / med(x["dec"]))])
        lines.append("## Raw cipher ceiling: intel-ipsec-mb %s, %s, direct API, CPU %d\n"
                     % (ceil["imb_version"], ceil["arch"], WORKER_CPU))
        lines.append(md_table(["GCM bytes", "encrypt Mops", "ns/op", "decrypt Mops",
                               "ns/op"], rows))
        lines.append("\n%g s per cell, %d repetitions (one per round of the gateway runs; "
                     "CPU share of the program %s%s); 8-byte AAD, 16-byte ICV, in place, "
                     "256 buffers round robin (bench/imb_ceiling_cli)."
                     % (ceil["seconds"], ceil["reps"],
                        ", ".join("%.2f" % x for x in ceil["shares"]),
                        "; attempts measured again at share " +
                        ", ".join("%.2f" % x for x in ceil["dirty"]) if ceil["dirty"] else ""))
        lines.append("")

    # loss accounting
    rows = []
    for c in cases:
        if not c.runs:
            continue
        inout = [(r.rx_pps - r.pps) * r.dt for r in c.runs]
        drops = {}
        for r in c.runs:
            for k, v in r.drops.items():
                drops[k] = drops.get(k, 0) + v
        conserve = ""
        if c.gw == "espgw":
            bad = []
            work = {"encap": "gw.encrypted", "decap": "gw.decrypted"}.get(c.direction)
            for r in c.runs:
                if not getattr(r, "balance", None):  # a JSON from before it
                    bad.append("not recorded")
                    continue
                came, went, odd = r.balance
                if came != went:
                    bad.append("in %d != accounted for %d" % (came, went))
                if odd:
                    bad.append("sides and stats disagree: %s" % ", ".join(odd))
                # what is still between workers at exit (--spread-esp)
                # may be received and not yet encrypted or decrypted
                rx = r.stats.get("gw.rx", 0)
                held = r.stats.get("gw.held-spread", 0)
                if work and not rx - held <= r.stats.get(work, 0) <= rx:
                    bad.append("%s %d of rx %d (held %d)" % (
                        work[3:], r.stats.get(work, 0), rx, held))
            held = any(r.stats.get("gw.held-spread", 0) for r in c.runs)
            conserve = "; ".join(bad) if bad else "in = tx + drops + held" + (
                "; %s %s" % (work[3:], ">= rx - held-spread" if held else "= rx")
                if work else "")
        rows.append([c.name, fmt_mmm([r.rx_pps for r in c.runs]),
                     "%d" % max(abs(x) for x in inout),
                     sum(r.imissed for r in c.runs), sum(r.rx_nombuf for r in c.runs),
                     "%d" % sum(r.oerrors for r in c.runs),
                     ", ".join("%s %d" % kv for kv in sorted(drops.items())) or
                     ("none" if c.gw == "espgw" else "n/a"),
                     conserve,
                     "%.2f" % min(r.dirty_share for r in c.runs),
                     ", ".join("%.2f@%.2f" % (p / 1e6, sh) for p, sh in c.dirty) or "-",
                     "%.2f" % max(r.others_cpu for r in c.runs),
                     "%.0f%%" % (100 * max(r.steal.get("cpu%d" % WORKER_CPU, 0)
                                           for r in c.runs))])
    if rows:
        lines.append("## Where packets went\n")
        lines.append(md_table(["case", "source rx Mpps", "max in - out in a window",
                               "imissed", "rx_nombuf", "sink oerrors",
                               "espgw drop counters (all runs, at exit)",
                               "espgw conservation", "worker CPU share (min)",
                               "runs measured again (Mpps@share)", "others (CPUs)",
                               "steal"], rows))
        lines.append("\nThe pcap source produces only what the gateway polls (it never "
                     "reports imissed): a gateway that is slower than the source simply "
                     "polls less often. 'in - out' = source frames received minus sink "
                     "frames sent in the window: bursts in flight at its edges plus the "
                     "skew of two telemetry reads when the harness waits for a CPU; "
                     "exact accounting is espgw's own at exit ('conservation': every "
                     "frame received, or made by espgw, was sent, counted as one named "
                     "drop or still held, docs/architecture.md; whole run, warm-up "
                     "included). 'worker CPU share' = the worker thread's time "
                     "on a CPU / the window (schedstat; below 1 when another process ran "
                     "on its CPU); a run below %.2f was measured again, up to %d more "
                     "times, and the attempts it replaced are listed." % (
                         args.min_share, args.retries))
        lines.append("")

    if profiles:
        lines.append("## Profiles (perf record -e cpu-clock -p <gateway pid>, the same "
                     "binaries, 64-byte frames)\n")
        for name, (path, top, pps_) in profiles.items():
            lines.append("### %s (%.2f Mpps while profiled; full: bench/results/%s)\n"
                         % (name, pps_ / 1e6, os.path.basename(path)))
            lines.append("```\n" + "\n".join(top) + "\n```\n")

    if summary:
        lines.append("## Targets (issues 5, 12, 13, 15)\n")
        lines.append(md_table(["what", "measured", "target", "met"],
                              [[a, b, c, verdict(ok)] for a, b, c, ok in summary]))
        lines.append("")
    if env.get("verified"):
        lines.append("Functional check before measuring: %s." % env["verified"])
    return "\n".join(lines) + "\n", summary


def instr_section(instr, by, env, ceil):
    """Instructions per packet under callgrind (issue 15): the deterministic
    companion of the Mpps, per case, beside the timed median."""
    res = instr["cases"]

    def ipp(name):
        x = res.get(name)
        return x["ir"] / x["packets"] if x and x.get("packets") else None

    rows = []
    for name in res:
        if "error" in res[name]:
            rows.append([name, "-", "-", "-", "-", "-", "failed: " + res[name]["error"]])
            continue
        gw, d, rest = name.split("-", 2)
        floor = ipp("l3fwd-bypass-" + rest) if d == "bypass" else None
        other = ipp("secgw-%s-%s" % (d, rest)) if gw == "espgw" else None
        c = by.get(name)
        rows.append([name, "{:,}".format(res[name]["packets"]), "%.0f" % ipp(name),
                     "-" if not floor else "%.2f" % (ipp(name) / floor),
                     "-" if not other else "%.2f" % (ipp(name) / other),
                     "-" if not c or not c.runs else "%.2f" % (med([r.pps for r in c.runs]) / 1e6),
                     res[name]["check"]])
    out = ["## Instructions per packet (callgrind), one worker\n"]
    out.append(md_table(["case", "packets", "instructions / packet", "/ l3fwd bypass",
                         "espgw / secgw", "timed Mpps (median)", "packet count checked"],
                        rows))
    out.append("\nThe same cases, ports and pcaps as the timed runs, each run once more "
               "under valgrind --tool=callgrind for %g s of traffic (bench/instr.py, "
               "espgwbench/instr.py), counting only inside the packet loop "
               "(--toggle-collect: espgw gw_worker_main, ipsec-secgw "
               "ipsec_poll_mode_worker, l3fwd lpm_main_loop): the ports' drivers "
               "included, start-up not. Packets = port 0's ipackets when the program "
               "stops its ports after the loop (build/bench/libstopstats.so, LD_PRELOAD), "
               "checked against a second count: espgw's gw.rx and gw.encrypted / "
               "gw.decrypted, ipsec-secgw's calls of esp_outbound / esp_inbound (one "
               "a packet), or where no call is made once a packet (l3fwd, secgw bypass) "
               "port 1's opackets, which trail by what the program still held to send "
               "when it stopped. Instruction counts do not move with the load of a "
               "shared machine, timings do: ratios here are ratios of work, lower "
               "is less ('/ l3fwd bypass': against l3fwd's count for the same frames; "
               "'espgw / secgw': espgw's count over secgw's for the same case). "
               "valgrind presents a CPU of its own, without AVX-512, to the program: "
               "intel-ipsec-mb runs its %s code under it%s, on this %s. An instruction "
               "count is not a time: a load that misses the cache counts one, as a "
               "register move does." % (
                   instr["secs"], instr.get("arch", "?"),
                   " (the timed runs: %s)" % ceil["arch"] if ceil else "", env["cpu"]))
    out.append("")
    out += raw_instr_rows(instr, ipp)
    return out


def raw_instr_rows(instr, ipp):
    """Target 2 of issue 15 in instructions: each gateway's IPsec work (the
    case less its bypass) over one raw GCM call of the same length."""
    raw = instr.get("raw") or {}
    rows = []
    for d in ("encap", "decap"):
        for s, n in (("64", esp_ct_len(64)), ("1420", esp_ct_len(1420))):
            r = raw.get(str(n))
            if not r:
                continue
            cells = [d, s, "%.0f" % r]
            for gw in ("espgw", "secgw"):
                c, b = ipp("%s-%s-%s" % (gw, d, s)), ipp("%s-bypass-%s" % (gw, s))
                cells += ["-", "-"] if not c or not b else ["%.0f" % (c - b),
                                                             "%.2f" % ((c - b) / r)]
            tgt = COST_TARGET.get(s)
            rel = float(cells[4]) if cells[4] != "-" else None
            cells += ["≤ %.1f" % tgt, "-" if rel is None else verdict(rel <= tgt)]
            rows.append(cells)
    if not rows:
        return []
    out = ["## IPsec instructions over the raw cipher call (callgrind)\n"]
    out.append(md_table(["dir", "frame B", "raw GCM call", "espgw IPsec", "espgw / raw",
                         "secgw IPsec", "secgw / raw", "target", "met"], rows))
    out.append("\nIPsec = the case's instructions a packet less its gateway's bypass "
               "of the same frames; raw GCM call = intel-ipsec-mb's own instructions "
               "for one direct-API call of the frame's GCM length (encrypt and decrypt "
               "averaged), bench/imb_ceiling_cli under callgrind, the calls from its "
               "loop into the library counted inclusive. The target is the timed one's "
               "(IPsec cost / raw cipher), judged above on time.")
    out.append("")
    return out


def run_json(r):
    """A run for latest.json: gateway and port counters, drops by name and
    per-SA totals (a stats file has a line per SA counter: 100,000 SAs)."""
    d = {k: v for k, v in r.__dict__.items() if k != "stats"}
    d["stats"] = {k: v for k, v in r.stats.items() if k.startswith(("gw.", "port."))}
    d["stats"]["sa.*.packets"] = sum(v for k, v in r.stats.items()
                                     if k.startswith("sa.") and k.endswith(".packets"))
    return d
