"""The plot: Mpps of both gateways, their bypass and the ceiling by frame
size (matplotlib, imported only here and only when plotting)."""

import statistics

from .common import SIZES, log
from .measure import ceiling_pps


def plot(cases, ceil, path, huge_note):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot")
        return False
    by = {c.name: c for c in cases}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, d in zip(axes, ("encap", "decap")):
        series = [("espgw", "espgw-%s-%s", "#1f77b4"), ("ipsec-secgw", "secgw-%s-%s", "#ff7f0e"),
                  ("espgw bypass (clear; same bars both sides)", "espgw-bypass-%s", "#9ecae1"),
                  ("secgw bypass (clear)", "secgw-bypass-%s", "#fdd0a2")]
        w = 0.16
        xs = range(len(SIZES))
        for i, (label, pat, color) in enumerate(series):
            vals, lo, hi = [], [], []
            for s in SIZES:
                name = pat % (d, s) if pat.count("%s") == 2 else pat % s
                c = by.get(name)
                p = [r.pps / 1e6 for r in c.runs] if c and c.runs else []
                m = statistics.median(p) if p else 0
                vals.append(m)
                lo.append(m - min(p) if p else 0)
                hi.append(max(p) - m if p else 0)
            ax.bar([x + (i - 2) * w for x in xs], vals, w, yerr=[lo, hi], label=label,
                   color=color, capsize=2)
        if ceil:
            cv = [statistics.median(ceiling_pps(ceil, s, d)) / 1e6 for s in SIZES]
            ax.bar([x + 2 * w for x in xs], cv, w, label="raw AES-GCM calls (ceiling)",
                   color="#2ca02c")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(["64 B", "512 B", "1420 B", "IMIX"])
        ax.set_title(d)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("Mpps (one core)")
    axes[0].legend(fontsize=8)
    fig.suptitle("espgw vs ipsec-secgw vs raw cipher, net_pcap -> net_null, "
                 "AES-128-GCM (%s)" % huge_note, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
