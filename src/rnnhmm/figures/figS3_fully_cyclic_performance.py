"""Figure S3: emission statistics of the fully connected (fully3) and cyclic (cyclic4) models
(docs/method.md §3, §5), at each HMM's training T.

(A) Matched Euclidean distance per configuration: mean ± std over seeds (ours) and the authors'
aggregation (mean of per-seed means ± mean of per-seed stds), against the HMM-vs-HMM baseline band.
(B) Transition-matrix error D = (P_HMM − P_RNN)², element-wise mean over seeds, per HMM.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plan
from ..io import read_table
from . import FigureContext
from .panels_grid import heat, matrix
from .style import errbar, note, panel_label

HMMS = ["fully3", "cyclic4"]
READS = {"tables": ["grid_summary.csv", "grid_transmat.csv", "hmm_band.csv"]}


def train_len(ctx: FigureContext, hmm: str, available) -> int:
    t = ctx.hmms_cfg.get(hmm, {}).get("seq_len")
    return int(t) if t is not None else int(min(available))


def _stat(by_metric, metric: str, col: str) -> float:
    """``col`` of ``metric`` in a grid-summary block indexed by metric; NaN when the metric is absent."""
    return float(by_metric.loc[metric, col]) if metric in by_metric.index else np.nan


def render(ctx: FigureContext):
    grid = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "grid_summary.csv")))
    gt = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "grid_transmat.csv")))
    band = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "hmm_band.csv")))
    hmms = [h for h in HMMS if h in plan.hmms_in(ctx.preset_cfg)]
    fig, axes = plt.subplots(1, 1 + max(len(hmms), 1), figsize=(3.8 + 2.8 * max(len(hmms), 1), 3.8), squeeze=False, layout="constrained",
                             gridspec_kw={"width_ratios": [1.6] + [1] * max(len(hmms), 1)})
    axes = axes[0]
    ax = axes[0]
    panel_label(ax, "A")
    if not hmms:
        note(ax, "neither fully3 nor cyclic4 is in this preset")
    labels, x0, shown = [], 0, 0
    for hmm in hmms:
        sel = grid[grid["hmm"] == hmm]
        t = train_len(ctx, hmm, sel["T_eval"].unique() if len(sel) else [0])
        sel = sel[sel["T_eval"] == t]
        cfgs = sorted({(h, d) for h, d in zip(sel["hidden"], sel["dim"], strict=True)})
        b = band[(band["hmm"] == hmm) & (band["T_eval"] == t)]
        if len(b):
            b = b.iloc[0]
            ax.fill_between([x0 - 0.45, x0 + len(cfgs) - 0.55], b["lo"], b["hi"], color="0.85", zorder=0,
                            label="HMM baseline" if x0 == 0 else None)
            ax.hlines(b["base_mean"], x0 - 0.45, x0 + len(cfgs) - 0.55, color="0.5", ls="--", lw=0.8)
        for k, (h, d) in enumerate(cfgs):
            c = sel[(sel["hidden"] == h) & (sel["dim"] == d)].drop_duplicates("metric").set_index("metric")
            m, s = _stat(c, "euclid_rnn_mean", "mean"), _stat(c, "euclid_rnn_mean", "std")
            shown += int(np.isfinite(m))
            s_auth = _stat(c, "euclid_rnn_std", "mean")
            x = x0 + k
            ax.errorbar([x - 0.12], [m], yerr=errbar([s]), fmt="o", color="C0", capsize=3,
                        label="RNN: ± std over seeds" if x == 0 else None)
            ax.errorbar([x + 0.12], [m], yerr=errbar([s_auth]), fmt="s", color="C1", capsize=3, mfc="none",
                        label="RNN: ± mean per-seed std (authors)" if x == 0 else None)
            labels.append(f"{hmm}\nH={h} d={d}\n(T={t}, n={int(c['n_seeds'].max())})")
        x0 += len(cfgs)
    if labels:
        ax.set_xticks(range(len(labels)), labels, fontsize=6)
        ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set(ylabel="matched Euclidean distance", title="RNN vs HMM distance")
    if hmms and not shown:
        note(ax, "no finite distance" if labels else "no evaluation at the training T")
    ax.legend(frameon=False, fontsize=6, loc="upper left", bbox_to_anchor=(0, -0.32), ncol=2)
    im = None
    rnn = gt[gt["source"] == "rnn"]
    vmax = float(np.nanmax(rnn["sqdiff_vs_emp_mean"])) if len(rnn) else 1.0
    vmax = vmax if np.isfinite(vmax) and vmax > 0 else 1.0
    for j, hmm in enumerate(hmms):
        ax = axes[j + 1]
        panel_label(ax, "BC"[j] if j < 2 else "")
        s = rnn[rnn["hmm"] == hmm]
        if s.empty:
            note(ax, f"no evaluation of {hmm}")
            continue
        t = train_len(ctx, hmm, s["T_eval"].unique())
        s = s[s["T_eval"] == t]
        mean = s.groupby(["from", "to"], as_index=False).agg(m=("sqdiff_vs_emp_mean", "mean"),
                                                             sd=("sqdiff_vs_emp_std", "mean"),
                                                             e=("row_empty_frac", "max"))
        k = ctx.n_outputs(hmm, mean["from"], mean["to"])
        empty = matrix(mean, "e", k)[:, 0] > 0
        im = heat(ax, matrix(mean, "m", k), matrix(mean, "sd", k), vmax, empty, fontsize=6)
        ax.set(title=f"{hmm}: D (T = {t})", xlabel="to" + ("  (hatched: never emitted)" if empty.any() else ""),
               ylabel="from")
    if im is not None:
        fig.colorbar(im, ax=list(axes[1:]), shrink=0.8, label="(P_HMM − P_RNN)²")
    fig.suptitle("Fully connected and cyclic HMMs: emission statistics of the RNNs")
    return fig
