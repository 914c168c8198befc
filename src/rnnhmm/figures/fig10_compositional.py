"""Figure 10: compositional reuse of the motif in fully3 and cyclic4 (docs/method.md §5, §4.12).

Per model, two rows.  Top: no-input and noise-driven trajectories (3-D PC1–PC3 for fully3), then for
each output pair (neighbours first, at most six) the longest in-pair segment on pair-PC1 vs pair-PC3 with arrows, over the subspace
95 % contours at each noise level.  Bottom: global residency (PCA coloured by RT), subspace residency
per pair, and the share of segment states per region and pair.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .panels_local import REGION_ORDER, draw_rt, drawn_pairs
from .style import (
    RUNAWAY,
    drawable,
    finite,
    finite_max,
    fmt,
    is_finite,
    note,
    output_color,
    output_name,
    outputs_in,
    panel_label,
)

READS = {"analyses": ["state_space", "compositional", "residency"], "hmms": ["fully3", "cyclic4"]}
HMMS = READS["hmms"]
THREE_D = {"fully3"}
REGION_COLORS = {"transition": "#d62728", "kick-zone": "#ff7f0e", "cluster": "#1f77b4", "unassigned": "#c7c7c7"}


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def _traj(ax, df, three_d: bool, title: str, max_ic: int | None = None):
    if max_ic is not None:
        df = df[df["ic"] < max_ic]
    ax.set_title(title)
    if not drawable(ax, df, "pc1", "pc2", *(("pc3",) if three_d else ()), empty="no trajectory"):
        return
    for _, tr in df.groupby("ic"):
        if three_d:
            ax.plot(tr["pc1"], tr["pc2"], tr["pc3"], color="0.75", lw=0.3)
        else:
            ax.plot(tr["pc1"], tr["pc2"], color="0.75", lw=0.3)
    for o in outputs_in(df["o"]):
        sel, c = df[df["o"] == o], output_color(o)
        if three_d:
            ax.scatter(sel["pc1"], sel["pc2"], sel["pc3"], s=1.5, c=c, lw=0, label=output_name(o))
        else:
            ax.scatter(sel["pc1"], sel["pc2"], s=2, c=c, lw=0, label=output_name(o), rasterized=True)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    if three_d:
        ax.set_zlabel("PC3")


def _contours(ax, cont, pair) -> bool:
    """The 95 % KDE contour of the pair subspace at each noise level; False when none could be drawn."""
    sub = finite(cont[cont["pair"] == pair], "sigma", "pc1", "pc3")
    sigmas = sorted(sub["sigma"].unique())
    cols = plt.cm.Greys(np.linspace(0.35, 0.9, max(len(sigmas), 1)))
    drawn = False
    for s, c in zip(sigmas, cols, strict=False):
        pts = sub[sub["sigma"] == s]
        if len(pts) < 3:
            continue
        try:
            sns.kdeplot(x=pts["pc1"], y=pts["pc3"], levels=[0.05], bw_adjust=3, color=c, linewidths=0.6, ax=ax)
        except (ValueError, np.linalg.LinAlgError):  # degenerate cloud (e.g. collinear points)
            continue
        drawn = True
    return drawn


def _segment(ax, seg, pair, cont):
    sub = seg[(seg["pair"] == pair) & (seg["segment"] == 0)]
    contoured = _contours(ax, cont, pair)
    if not len(sub):
        note(ax, f"{pair}: no in-pair segment" + ("" if contoured else f"\nno contour level for {pair}"))
        return
    shown = finite(sub, "pc1", "pc3")
    if not len(shown):
        note(ax, f"{pair}: {RUNAWAY}" + ("" if contoured else f"\nno contour level for {pair}"))
        return
    missing = [] if contoured else [f"no contour level for {pair}"]
    if len(shown) < len(sub):
        missing.append(f"{len(sub) - len(shown)} of {len(sub)} states non-finite (activity runaway)")
    if missing:
        note(ax, "\n".join(missing), top=True)
    ax.plot(shown["pc1"], shown["pc3"], color="0.6", lw=0.4, zorder=1)
    for o in outputs_in(shown["o"]):
        s = shown[shown["o"] == o]
        ax.scatter(s["pc1"], s["pc3"], s=3, c=output_color(o), lw=0, zorder=2, rasterized=True)
    step = max(len(shown) // 25, 1)
    p = shown.iloc[::step]
    d = shown[["pc1", "pc3"]].diff().shift(-1).iloc[::step]
    ok = is_finite(d["pc1"]) & is_finite(d["pc3"])
    if ok.any():
        ax.quiver(p["pc1"][ok], p["pc3"][ok], d["pc1"][ok], d["pc3"][ok], angles="xy", scale_units="xy", scale=1,
                  width=0.004, color="k", zorder=3)


def _regions(ax, summ):
    if not len(summ):
        note(ax, "no segment states")
        return
    if not len(finite(summ, "frac_states")):
        note(ax, f"no finite share of segment states\n({RUNAWAY})")
        return
    piv = summ.pivot_table(index="pair", columns="region", values="frac_states", aggfunc="sum").reindex(
        columns=REGION_ORDER).fillna(0)
    bottom = np.zeros(len(piv))
    for r in REGION_ORDER:
        ax.bar(piv.index, piv[r], bottom=bottom, color=REGION_COLORS[r], label=r)
        bottom += piv[r].to_numpy()
    ax.set(ylabel="share of segment states", title="regions per pair")
    ax.legend(frameon=False, fontsize=6)


def pairs_of(ctx: FigureContext, m) -> tuple[list[str], int]:
    """The output pairs drawn for model ``m`` and how many it has (panels_local.drawn_pairs)."""
    return drawn_pairs(ctx.n_outputs(m.hmm))


def render(ctx: FigureContext):
    refs = models(ctx.preset_cfg)
    nrow = 2 * max(len(refs), 1)
    ncol = max([5] + [len(pairs_of(ctx, m)[0]) + 2 for m in refs])
    fig = plt.figure(figsize=(17 * ncol / 5, 3.3 * nrow))
    gs = fig.add_gridspec(nrow, ncol)
    if not refs:
        note(fig.add_subplot(gs[0, 0]), "no fully3 / cyclic4 reference model in this preset")
        return fig
    for i, m in enumerate(refs):
        ss = ctx.path(plan.analysis_dir(ctx.preset, "state_space", m))
        cp = ctx.path(plan.analysis_dir(ctx.preset, "compositional", m))
        rd = ctx.path(plan.analysis_dir(ctx.preset, "residency", m))
        three_d = m.hmm in THREE_D
        kw = {"projection": "3d"} if three_d else {}
        ax0 = fig.add_subplot(gs[2 * i, 0], **kw)
        _traj(ax0, read_table(ss / "traj_noinput.parquet"), three_d, f"{m.hmm}: no input",
              max_ic=70 if three_d else None)
        ax1 = fig.add_subplot(gs[2 * i, 1], **kw)
        _traj(ax1, read_table(ss / "traj_input.parquet"), three_d, f"{m.hmm}: with noise (σ = 1)")
        seg = read_table(cp / "subspace_traj.parquet")
        cont = read_table(cp / "subspace_contours.parquet")
        pca = read_table(cp / "subspace_pca.csv")
        pairs, n_pairs = pairs_of(ctx, m)
        for j, pair in enumerate(pairs):
            ax = fig.add_subplot(gs[2 * i, 2 + j])
            if i == 0 and j == 0:
                panel_label(ax, "A")  # (the 3-D axes of fully3 take no 2-D panel label)
            _segment(ax, seg, pair, cont)
            ev = pca[(pca["space"] == "pair") & (pca["pair"] == pair)]["evr"].to_numpy()
            evs = (f" ({fmt(100 * ev[0], '.0f')}/{fmt(100 * ev[2], '.0f')} %)"
                   if len(ev) >= 3 and is_finite(ev[[0, 2]]).all() else "")
            ax.set(title=f"{pair} subspace{evs}", xlabel="pair-PC1", ylabel="pair-PC3")
        if n_pairs > len(pairs):
            note(ax, f"{len(pairs)} of the {n_pairs} output pairs drawn (neighbours first)", top=True)
        axg = fig.add_subplot(gs[2 * i + 1, 0])
        gres = read_table(rd / "residency_states.parquet")
        draw_rt(axg, gres, colorbar=False)
        axg.set(title=f"{m.hmm}: global residency", xlabel="PC1", ylabel="PC2")
        sres = read_table(cp / "subspace_residency.parquet")
        max_rt = finite_max(sres["rt"], 1.0)
        for j, pair in enumerate(pairs):
            ax = fig.add_subplot(gs[2 * i + 1, 1 + j])
            sub = sres[sres["pair"] == pair]
            if len(sub):
                draw_rt(ax, sub, x="pc1", y="pc3", max_rt=max_rt, colorbar=j == len(pairs) - 1)
            else:
                note(ax, f"{pair}: no segment states")
            ax.set(title=f"{pair}: subspace residency", xlabel="pair-PC1", ylabel="pair-PC3")
        _regions(fig.add_subplot(gs[2 * i + 1, 1 + len(pairs)]), read_table(cp / "subspace_residency_summary.csv"))
        if i == 0:
            panel_label(axg, "B")
    fig.suptitle("Compositional reuse: one orbit per output pair")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the suptitle
    return fig
