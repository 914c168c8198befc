"""Figure 1: method and performance (docs/method.md §5, §1, §3).

(A) Schematic: input noise → ReLU RNN → hard Gumbel-softmax sample → output sequences, matched to
HMM target sequences by the Sinkhorn divergence; a 2-state chain drawn.  (B) The HMMs of the preset,
drawn from their transition matrices (self-loops and arrows labelled with probabilities; state colour
= its emission mix of the symbols' colours).  (C) The reference 2-state model (ref2) at its training T: matched
distance vs the HMM baseline (in a preset without chain2, such as a user's HMM, the reference model
of the preset's first HMM instead), output transition matrices of the HMM (analytic) and of the RNN,
output frequencies and volatility against the HMM (K x K matrices and K frequencies for K symbols).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .. import plan
from ..hmm import build_hmm
from ..io import read_table
from . import FigureContext
from .style import errbar, fmt, note, output_color, output_name, panel_label

READS = {"tables": ["distance.csv", "transmat.csv", "freq_vol.csv"]}
GRAPH_ORDER = ["chain2", "chain3", "chain4", "chain5", "fully3", "cyclic4"]


def shown_model(preset_cfg: dict):
    """Panel C's model: the reference 2-state model (ref2), or in a preset without chain2 (a user's
    HMM) the reference model of the preset's first HMM; None when the preset trains no reference model."""
    refs = plan.reference_models(preset_cfg, ["chain2"]) or plan.reference_models(preset_cfg)
    return refs[0] if refs else None


# ---------------------------------------------------------------------- panel A
def _box(ax, x, y, w, h, text, fc):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02", fc=fc, ec="0.3", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=5.5)


def _arrow(ax, a, b, text=None, **kw):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=9, lw=0.9, color=kw.pop("color", "0.2"), **kw))
    if text:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.05, text, ha="center", va="bottom", fontsize=6)


def schematic(ax):
    ax.set(xlim=(0, 10), ylim=(0, 3), aspect="equal")
    ax.axis("off")
    rng = np.random.default_rng(0)  # decoration only: the squiggle of the noise input
    t = np.linspace(0.2, 1.4, 40)
    ax.plot(t, 2.2 + 0.15 * rng.standard_normal(40), color="0.4", lw=0.6)
    ax.text(0.8, 2.6, "noise x_t ~ N(0, σ²I_d)", ha="center", fontsize=6)
    _box(ax, 2.75, 2.2, 1.9, 0.8, "ReLU RNN, no biases\nh_t = φ(W h_{t−1} + U x_t)", "#e8eef7")
    for k in range(6):  # a few recurrent units
        ang = 2 * np.pi * k / 6
        ax.add_patch(Circle((2.7 + 0.55 * np.cos(ang), 1.45 + 0.2 * np.sin(ang)), 0.06, fc="0.6", ec="none"))
    _arrow(ax, (1.45, 2.2), (1.9, 2.2))
    _box(ax, 5.0, 2.2, 1.7, 0.8, "logits z_t = A h_t\nhard Gumbel-softmax\nsample (τ = 1)", "#f4ece1")
    _arrow(ax, (3.75, 2.2), (4.1, 2.2))
    seq = [0, 0, 0, 2, 2, 2, 2, 0, 0, 1, 0, 0]
    for i, o in enumerate(seq):
        ax.add_patch(plt.Rectangle((6.1 + 0.2 * i, 2.05), 0.18, 0.3, fc=output_color(o), ec="none"))
    ax.text(7.3, 2.5, "RNN output sequences", ha="center", fontsize=6)
    _arrow(ax, (5.9, 2.2), (6.05, 2.2))
    # HMM targets: a 2-state chain
    for i, (x, o) in enumerate(((6.6, 0), (7.9, 2))):
        ax.add_patch(Circle((x, 0.75), 0.28, fc=output_color(o), ec="0.2", alpha=0.8))
        ax.text(x, 0.75, f"S{i + 1}", ha="center", va="center", fontsize=6, color="white")
    _arrow(ax, (6.9, 0.85), (7.6, 0.85), "0.05", connectionstyle="arc3,rad=-0.3")
    _arrow(ax, (7.6, 0.65), (6.9, 0.65), None, connectionstyle="arc3,rad=-0.3")
    ax.text(7.25, 0.2, "HMM targets (2-state chain)", ha="center", fontsize=6)
    seq2 = [2, 2, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2]
    for i, o in enumerate(seq2):
        ax.add_patch(plt.Rectangle((8.5 + 0.12 * i, 0.62), 0.11, 0.26, fc=output_color(o), ec="none"))
    ax.annotate("", xy=(7.3, 1.95), xytext=(9.2, 1.0),
                arrowprops={"arrowstyle": "<->", "ls": "--", "color": "C2", "lw": 1})
    ax.text(9.35, 1.55, "Sinkhorn\ndivergence\n(loss)", ha="center", fontsize=6, color="C2")
    for o in range(3):  # the schematic's three symbols
        ax.add_patch(plt.Rectangle((0.3 + 0.9 * o, 0.3), 0.18, 0.18, fc=output_color(o)))
        ax.text(0.55 + 0.9 * o, 0.39, output_name(o), va="center", fontsize=6)


# ---------------------------------------------------------------------- panel B
def _positions(name: str, m: int) -> np.ndarray:
    if name.startswith("chain") or m <= 2:
        return np.stack([np.linspace(-1.2, 1.2, m), np.zeros(m)], axis=1)
    ang = np.pi / 2 - 2 * np.pi * np.arange(m) / m
    return np.stack([np.cos(ang), np.sin(ang)], axis=1)


def hmm_graph(ax, name: str, hmm) -> None:
    m = hmm.n_states
    pos = _positions(name, m)
    r = 0.2 if m <= 3 else 0.15
    for i in range(m):
        for j in range(m):
            p = hmm.transition[i, j]
            if i == j or p <= 0:
                continue
            a, b = pos[i], pos[j]
            d = (b - a) / np.linalg.norm(b - a)
            ax.add_patch(FancyArrowPatch(a + r * d, b - r * d, arrowstyle="-|>", mutation_scale=7, lw=0.6,
                                         color="0.3", connectionstyle="arc3,rad=0.2"))
            mid = (a + b) / 2 - (0.2 if m > 3 else 0.16) * np.array([-d[1], d[0]])
            ax.text(*mid, f"{p:.2g}", fontsize=4.5, ha="center", va="center", color="0.2")
    for i in range(m):
        e = hmm.emission[i]
        color = sum(e[k] * np.array(matplotlib_rgb(output_color(k))) for k in range(hmm.n_outputs))
        ax.add_patch(Circle(pos[i], r, fc=np.clip(color, 0, 1), ec="0.2", lw=0.6, zorder=3))
        ax.text(*pos[i], f"{hmm.transition[i, i]:.2g}", ha="center", va="center", fontsize=4.5, color="white", zorder=4)
    ax.set(xlim=(-1.45, 1.45), ylim=(-1.45, 1.45), aspect="equal")
    ax.set_title(f"{name} ({m} states)", fontsize=7)
    ax.text(0, -1.4, "circle: self-transition; colour: emission mix", ha="center", fontsize=4.5, color="0.4")
    ax.axis("off")


def matplotlib_rgb(color: str):
    from matplotlib.colors import to_rgb

    return to_rgb(color)


# ---------------------------------------------------------------------- panel C
def _matrix(df, k: int) -> np.ndarray:
    """The K x K output transition matrix of a transmat table's rows (NaN where a row is missing)."""
    m = np.full((k, k), np.nan)
    for _, r in df.iterrows():
        a, b = int(r["from"]), int(r["to"])
        if a < k and b < k:
            m[a, b] = r["p"]
    return m


def _pmat(ax, p, title, empty=None):
    k = p.shape[0]
    ax.imshow(p, cmap="Blues", vmin=0, vmax=1)
    if k <= 6:  # numbers fit in the cells
        size = 6 if k <= 3 else 4.5
        for a in range(k):
            for b in range(k):
                ax.text(b, a, fmt(p[a, b]), ha="center", va="center", fontsize=size,
                        color="white" if p[a, b] > 0.6 else "black")
    if empty is not None:
        for a in np.flatnonzero(empty):
            ax.text((k - 1) / 2, a, "never emitted", ha="center", va="center", fontsize=5, color="C3")
    names = [output_name(j) for j in range(k)]
    ax.set_xticks(range(k), names, fontsize=6 if k <= 5 else 4.5)
    ax.set_yticks(range(k), names, fontsize=6 if k <= 5 else 4.5)
    ax.set(title=title, xlabel="next symbol", ylabel="previous symbol")


def performance(fig, cells, ctx: FigureContext, model) -> None:
    axes = [fig.add_subplot(c) for c in cells]
    if model is None:
        for ax in axes:
            ax.axis("off")
        note(axes[0], "no reference model in this preset")
        return
    load = lambda t: read_table(ctx.path(plan.eval_summary_file(ctx.preset, t)))  # noqa: E731
    sel = lambda df: df[(df["hmm"] == model.hmm) & (df["hidden"] == model.hidden) & (df["dim"] == model.dim)  # noqa: E731
                        & (df["seed"] == model.seed)]
    dist, trans, fv = sel(load("distance.csv")), sel(load("transmat.csv")), sel(load("freq_vol.csv"))
    if dist.empty:
        for ax in axes:
            ax.axis("off")
        note(axes[0], f"{model.id} was not evaluated")
        return
    t = int(ctx.hmms_cfg.get(model.hmm, {}).get("seq_len", dist["T_eval"].min()))
    t = t if t in set(dist["T_eval"]) else int(dist["T_eval"].min())
    d = dist[dist["T_eval"] == t].iloc[0]
    trans, fv = trans[trans["T_eval"] == t], fv[fv["T_eval"] == t]
    ax = axes[0]
    means = np.array([d["rnn_mean"], d["base_mean"]], dtype=float)
    ax.bar([0, 1], np.where(np.isfinite(means), means, 0.0), yerr=errbar([d["rnn_std"], d["base_std"]]),
           color=["C0", "0.7"], capsize=3)
    if not np.isfinite(means).all():
        note(ax, "distance not finite:\n" + ", ".join(f"{k} {v:g}" for k, v in zip(("RNN", "HMM"), means, strict=True)))
    ax.set_xticks([0, 1], ["RNN\nvs HMM", "HMM\nvs HMM"])
    ax.set(ylabel="matched Euclidean distance", title=f"distance\n(T = {t}, N = {int(d['N'])})")
    conv = "" if (d["converged_rnn"] and d["converged_base"]) else " (Sinkhorn hit the iteration cap)"
    ax.text(0.5, 0.98, f"± std over sequences{conv}", transform=ax.transAxes, ha="center", va="top", fontsize=5)
    k = ctx.n_outputs(model.hmm, trans["from"], trans["to"])
    _pmat(axes[1], _matrix(trans[trans["source"] == "hmm_analytic"], k), "P_out: HMM (analytic)")
    rnn = trans[trans["source"] == "rnn"]
    empty = rnn.groupby("from")["row_empty"].first().reindex(range(k)).fillna(False).to_numpy(bool)
    _pmat(axes[2], _matrix(rnn, k), "P_out: RNN", empty)
    ax = axes[3]
    width = 0.27
    ks = np.arange(k)
    shown = 0
    for s, (src, label, color) in enumerate((("rnn", "RNN", "C0"), ("hmm_emp", "HMM sample", "0.6"),
                                             ("hmm_analytic", "HMM analytic", "k"))):
        f = fv[(fv["source"] == src) & fv["stat"].str.startswith("freq_O")].set_index("stat")
        stat = [f"freq_{output_name(j)}" for j in ks]
        vals = [f.loc[n, "mean"] if n in f.index else np.nan for n in stat]
        err = [f.loc[n, "std"] if n in f.index else np.nan for n in stat]
        err = errbar(err)
        shown += int(np.isfinite(np.asarray(vals, dtype=float)).sum())
        ax.bar(ks + (s - 1) * width, vals, width, yerr=err, color=color, label=label, capsize=2)
    ax.set_xticks(ks, [output_name(j) for j in ks])
    ax.set(ylabel="output frequency (fraction of steps)", title="frequencies (± std over sequences)", ylim=(0, 1.05))
    ax.legend(frameon=False, fontsize=6)
    if not shown:
        note(ax, "no finite output frequency" if len(fv) else f"no frequencies at T = {t}")
    ax = axes[4]
    vol = fv[fv["stat"] == "volatility"].set_index("source")
    names = [("rnn", "RNN", "C0"), ("hmm_emp", "HMM\nsample", "0.6"), ("hmm_analytic", "HMM\nanalytic", "k")]
    vals = [vol.loc[s, "mean"] if s in vol.index else np.nan for s, _, _ in names]
    errs = [vol.loc[s, "std"] if s in vol.index and np.isfinite(vol.loc[s, "std"]) else 0 for s, _, _ in names]
    ax.bar(range(3), vals, yerr=errs, color=[c for _, _, c in names], capsize=3)
    ax.set_xticks(range(3), [n for _, n, _ in names])
    ax.set(ylabel=f"switches per sequence (T = {t})", title="volatility")
    if not np.isfinite(np.asarray(vals, dtype=float)).any():
        note(ax, "no finite volatility" if len(vol) else f"no volatility at T = {t}")


def render(ctx: FigureContext):
    fig = plt.figure(figsize=(13, 10))
    gs = fig.add_gridspec(3, 6, height_ratios=[1.2, 1.3, 1.25], hspace=0.45, wspace=0.6)
    ax = fig.add_subplot(gs[0, :])
    schematic(ax)
    panel_label(ax, "A")
    hmms = [h for h in GRAPH_ORDER if h in ctx.hmms_cfg] + [h for h in ctx.hmms_cfg if h not in GRAPH_ORDER]
    for j, name in enumerate(hmms[:6]):
        ax = fig.add_subplot(gs[1, j])
        try:
            hmm_graph(ax, name, build_hmm(name, ctx.hmms_cfg[name]))
        except Exception as err:  # a custom HMM the drawing cannot place: say so, never crash
            ax.axis("off")
            note(ax, f"{name}: cannot draw ({err})")
        if j == 0:
            panel_label(ax, "B")
    if not hmms:
        note(fig.add_subplot(gs[1, :]), "no HMMs configured")
    model = shown_model(ctx.preset_cfg)
    cells = [gs[2, 0], gs[2, 1], gs[2, 2], gs[2, 3:5], gs[2, 5]]
    performance(fig, cells, ctx, model)
    panel_label(fig.axes[-5], "C")
    title = ("no reference model" if model is None else f"ref2 = {model.id}" if model.hmm == "chain2"
             else f"{model.id}; no chain2 in this preset")
    fig.suptitle(f"Noise-driven RNNs trained to emit HMM statistics ({title}; preset {ctx.preset})")
    return fig
