"""Figure S1: Sinkhorn-matched Euclidean distance over the chain grid (docs/method.md §3, §5).

One panel per linear chain: the RNN-vs-HMM matched distance against the noise dimension d, one
line per hidden size H (slightly offset), mean ± std over seeds, at T_eval = the grid length (100,
for every chain; D2).  The grey band is the HMM-vs-HMM baseline pooled over every model of the
chain (mean ± std over models; D11).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plan
from ..io import read_table
from . import FigureContext
from .style import errbar, finite, note, panel_label

CHAINS = ["chain2", "chain3", "chain4", "chain5"]
READS = {"tables": ["grid_summary.csv", "hmm_band.csv"]}


def grid_len(preset_cfg: dict) -> int:
    return int(preset_cfg.get("evaluate", {}).get("grid_seq_len", 100))


def render(ctx: FigureContext):
    grid = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "grid_summary.csv")))
    band = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "hmm_band.csv")))
    t_eval = grid_len(ctx.preset_cfg)
    chains = [c for c in CHAINS if c in plan.hmms_in(ctx.preset_cfg)]
    ncol = max(len(chains), 1)
    fig, axes = plt.subplots(1, ncol, figsize=(3.2 * ncol, 3.2), squeeze=False)
    axes = axes[0]
    if not chains:
        note(axes[0], "no chain HMM in this preset")
    for j, chain in enumerate(chains):
        ax = axes[j]
        sel = grid[(grid["hmm"] == chain) & (grid["T_eval"] == t_eval) & (grid["metric"] == "euclid_rnn_mean")]
        dims = sorted(sel["dim"].unique())
        hiddens = sorted(sel["hidden"].unique())
        b = band[(band["hmm"] == chain) & (band["T_eval"] == t_eval)]
        if len(b):
            b = b.iloc[0]
            ax.axhspan(b["lo"], b["hi"], color="0.85", zorder=0,
                       label=f"HMM baseline ({int(b['n_models'])} models)")
            ax.axhline(b["base_mean"], color="0.5", lw=0.8, ls="--", zorder=0)
        if sel.empty:
            note(ax, f"no evaluation of {chain} at T = {t_eval}")
        elif not len(finite(sel, "mean")):
            note(ax, f"no finite distance of {chain} at T = {t_eval}")
        width = 0.6 / max(len(hiddens), 1)
        for k, h in enumerate(hiddens):
            s = sel[sel["hidden"] == h].set_index("dim").reindex(dims)
            x = np.arange(len(dims)) + (k - (len(hiddens) - 1) / 2) * width
            ax.errorbar(x, s["mean"], yerr=errbar(s["std"]), marker="o", ms=4, capsize=2, lw=1,
                        label=f"H = {h}")
        ax.set_xticks(np.arange(len(dims)), [str(d) for d in dims])
        if len(dims):
            ax.set_xlim(-0.5, len(dims) - 0.5)
        n_seeds = int(sel["n_seeds"].max()) if len(sel) else 0
        ax.set(title=f"{chain} (T = {t_eval}, {n_seeds} seeds)", xlabel="noise dimension d",
               ylabel="matched Euclidean distance" if j == 0 else None)
        panel_label(ax, "ABCD"[j] if j < 4 else "")
        if j == 0:
            ax.legend(frameon=False, loc="best")
    fig.suptitle("RNN vs HMM: Sinkhorn-matched Euclidean distance (mean ± std over seeds; band: HMM vs HMM)")
    fig.tight_layout()
    return fig
