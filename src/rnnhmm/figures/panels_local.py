"""Panels of the local dynamics (figure 4), also drawn by figures 10 and S6: residency-time maps, sign-
change histograms, unstable counts per region."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

from ..io import read_table
from .style import RUNAWAY, drawable, errbar, finite, finite_max, fmt, note, panel_label

RT_EDGES = [1, 2, 4, 9]
RT_COLORS = ["#d62728", "#ff7f0e", "#bcbd22", "#1f77b4"]  # transition … slow
U_COLORS = {0: "#c7c7c7", 1: "#ff7f0e", 2: "#9467bd"}
REGION_ORDER = ["transition", "kick-zone", "cluster", "unassigned"]
MAX_SC_BINS = 200  # beyond this range of SC the histogram uses equal (not unit) bins

MAX_PAIRS = 6  # output pairs drawn per model by figures 10 and S6 (neighbours first); K = 4 has six


def drawn_pairs(n_outputs: int) -> tuple[list[str], int]:
    """The output pairs a figure draws for a model of ``n_outputs`` symbols (at most MAX_PAIRS,
    neighbours first) and how many pairs the model has."""
    from ..hmm import output_pairs

    pairs = list(output_pairs(n_outputs))
    return pairs[:MAX_PAIRS], len(pairs)


def rt_cmap(max_rt: float):
    max_rt = float(max_rt) if np.isfinite(max_rt) else RT_EDGES[-1] + 1.0  # no finite RT: the default top bin
    edges = RT_EDGES + [max(max_rt, RT_EDGES[-1] + 1.0) + 1e-6]  # top bin includes the censored L
    return ListedColormap(RT_COLORS), BoundaryNorm(edges, len(RT_COLORS)), edges


def draw_rt(ax, tbl, x="pc1", y="pc2", max_rt=None, colorbar=True):
    """States coloured by RT bin."""
    if not len(tbl):
        note(ax, "no states")
        return
    shown = finite(tbl, x, y, "rt")
    if not len(shown):
        note(ax, f"no state with a finite position and RT\n({RUNAWAY})")
        return
    if len(shown) < len(tbl):
        note(ax, f"{len(tbl) - len(shown)} of {len(tbl)} states non-finite", top=True)
    cmap, norm, edges = rt_cmap(finite_max(shown["rt"]) if max_rt is None else max_rt)
    sc = ax.scatter(shown[x], shown[y], c=shown["rt"], cmap=cmap, norm=norm, s=3, lw=0, rasterized=True)
    if colorbar:
        cb = plt.colorbar(sc, ax=ax, ticks=edges, fraction=0.05, pad=0.02)
        cb.ax.set_yticklabels([fmt(e, ".0f") for e in edges])
        cb.set_label("RT (steps)")


def draw_sc_hist(ax, tbl):
    if not len(tbl):
        note(ax, "no states")
        return
    tbl = finite(tbl, "sc")
    if not len(tbl):
        note(ax, f"no finite sign-change count\n({RUNAWAY})")
        return
    lo, hi = np.floor(tbl["sc"].min()), np.floor(tbl["sc"].max())
    if hi - lo <= MAX_SC_BINS:  # unit bins
        bins = np.arange(lo, hi + 2)
    else:  # a runaway count: equal bins over its range
        bins = np.linspace(lo, hi + 1, MAX_SC_BINS + 1)
        note(ax, "SC range too wide for unit bins", top=True)
    which = np.clip(np.digitize(tbl["sc"], bins) - 1, 0, len(bins) - 2)
    counts = np.bincount(which, minlength=len(bins) - 1)
    rt = tbl["rt"].to_numpy(dtype=float)
    mean_rt = np.array([np.nanmean(rt[which == i]) if counts[i] and np.isfinite(rt[which == i]).any() else np.nan
                        for i in range(len(counts))])
    cmap, norm, _ = rt_cmap(finite_max(rt))
    colors = [cmap(norm(v)) if np.isfinite(v) else "white" for v in mean_rt]
    ax.bar(bins[:-1], counts, width=np.diff(bins), align="edge", color=colors, edgecolor="0.3", lw=0.3)
    ax.set(xlabel="sign changes SC (mean over rollouts)", ylabel="states")


def draw_unstable_by_region(ax, summary):
    s = summary.set_index("region").reindex(REGION_ORDER)
    x = np.arange(len(REGION_ORDER))
    mean = s["mean_unstable"].to_numpy(dtype=float)
    ok = np.isfinite(mean)
    ax.bar(x, np.where(ok, mean, 0.0), yerr=errbar(s["sem_unstable"]), color=["#d62728", "#ff7f0e", "#1f77b4", "#c7c7c7"],
           capsize=2)
    n_states = s["n_states"].to_numpy(dtype=float)
    for i, n in enumerate(n_states):
        text = "empty" if not n or np.isnan(n) else f"n={fmt(n, '.0f')}" if np.isfinite(n) else "n non-finite"
        text += "" if ok[i] or text == "empty" else ", U undefined"
        ax.text(i, 0, text, ha="center", va="bottom", fontsize=6, rotation=90, color="k")
    ax.set_xticks(x, REGION_ORDER, rotation=30)
    ax.set(ylabel="unstable directions U (mean ± sem)")


def draw_u(ax, tbl, x="pc1", y="pc2"):
    if not drawable(ax, tbl, x, y, "n_unstable", empty="no states"):
        return
    u = np.minimum(tbl["n_unstable"].to_numpy(dtype=float), 2)
    for k, color in U_COLORS.items():
        sel = u == k
        if sel.any():
            ax.scatter(tbl[x][sel], tbl[y][sel], c=color, s=3, lw=0, label=["U = 0", "U = 1", "U ≥ 2"][k],
                       rasterized=True, zorder=1 + k)
    ax.legend(loc="best", markerscale=3, frameon=False)


def draw_row(axes, folder, title: str, labels: bool = False):
    """The four fig4 panels of one model from its residency folder."""
    tbl = read_table(folder / "residency_states.parquet")
    summ = read_table(folder / "residency_summary.csv")
    evr = read_table(folder / "residency_pca.csv")["evr"].to_numpy(dtype=float)
    xl = f"PC1 ({fmt(100 * evr[0], '.0f')} %)" if len(evr) and np.isfinite(evr[0]) else "PC1"
    yl = f"PC2 ({fmt(100 * evr[1], '.0f')} %)" if len(evr) > 1 and np.isfinite(evr[1]) else "PC2"
    draw_rt(axes[0], tbl)
    axes[0].set(title=f"{title}: residency time", xlabel=xl, ylabel=yl)
    draw_sc_hist(axes[1], tbl)
    axes[1].set_title("logit-gradient sign changes")
    draw_unstable_by_region(axes[2], summ)
    counts = summ.set_index("region")["n_states"]
    axes[2].set_title("instability per region")
    draw_u(axes[3], tbl)
    axes[3].set(title="unstable directions", xlabel=xl, ylabel=yl)
    if len(tbl) and counts.get("transition", 0) == 0 and counts.get("kick-zone", 0) == 0:
        note(axes[0], "no transition or kick-zone state\n(the output never leaves within L steps)")
    if labels:
        for ax, lab in zip(axes, "ABCD", strict=True):
            panel_label(ax, lab)
