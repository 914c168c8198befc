"""Figure S2: output transition-matrix error over the chain grid (docs/method.md §3, §5).

Per chain, an (H × d) grid of K × K heat maps (K symbols) of D = (P_HMM − P_RNN)², P_HMM the empirical matrix of
a fresh HMM set, element-wise mean over seeds (annotated mean ± std), at T_eval = 100 for every
chain (D2).  The last column shows the same quantity for an independent HMM set (sampling floor).
Rows never visited by the RNN (a symbol it never emits) are hatched and noted.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plan
from ..io import read_table
from . import FigureContext
from .panels_grid import heat, matrix
from .style import note

CHAINS = ["chain2", "chain3", "chain4", "chain5"]
READS = {"tables": ["grid_transmat.csv"]}


def render(ctx: FigureContext):
    gt = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "grid_transmat.csv")))
    t_eval = int(ctx.preset_cfg.get("evaluate", {}).get("grid_seq_len", 100))
    gt = gt[gt["T_eval"] == t_eval]
    chains = [c for c in CHAINS if c in plan.hmms_in(ctx.preset_cfg)]
    rows = [(c, h) for c in chains for h in sorted(gt.loc[gt["hmm"] == c, "hidden"].unique())]
    dims = sorted(gt.loc[gt["hmm"].isin(chains), "dim"].unique())
    ncol = len(dims) + 1
    nrow = max(len(rows), 1)
    fig, axes = plt.subplots(nrow, ncol, figsize=(1.9 * ncol + 0.8, 1.8 * nrow + 0.6), squeeze=False)
    if not rows:
        note(axes[0, 0], f"no chain evaluation at T = {t_eval}")
    rnn = gt[gt["source"] == "rnn"]
    vmax = float(np.nanmax(rnn["sqdiff_vs_emp_mean"])) if len(rnn) else 1.0
    vmax = vmax if np.isfinite(vmax) and vmax > 0 else 1.0
    im = None
    for i, (chain, h) in enumerate(rows):
        for j, d in enumerate(dims):
            ax = axes[i, j]
            s = rnn[(rnn["hmm"] == chain) & (rnn["hidden"] == h) & (rnn["dim"] == d)]
            if s.empty:
                ax.axis("off")
                continue
            k = ctx.n_outputs(chain, s["from"], s["to"])
            empty = matrix(s, "row_empty_frac", k)[:, 0] > 0
            im = heat(ax, matrix(s, "sqdiff_vs_emp_mean", k), matrix(s, "sqdiff_vs_emp_std", k), vmax, empty)
            ax.set_title(f"{chain} H={h} d={d} (n={int(s['n_seeds'].max())})", fontsize=6)
            if empty.any():
                ax.set_xlabel("hatched: symbol never emitted", fontsize=5)
        ax = axes[i, -1]
        base = gt[(gt["source"] == "hmm_base") & (gt["hmm"] == chain) & (gt["hidden"] == h)]
        if len(base):
            mean = base.groupby(["from", "to"], as_index=False)["sqdiff_vs_emp_mean"].mean()
            heat(ax, matrix(mean, "sqdiff_vs_emp_mean", ctx.n_outputs(chain, mean["from"], mean["to"])), None, vmax)
            ax.set_title(f"{chain}: HMM vs HMM", fontsize=6)
        else:
            ax.axis("off")
    for ax in axes[-1, :-1]:
        if ax.get_xlabel() == "":
            ax.set_xlabel("to (next symbol)", fontsize=6)
    for ax in axes[:, 0]:
        ax.set_ylabel("from", fontsize=6)
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="(P_HMM − P_RNN)²")
    fig.suptitle(f"Output transition-matrix error D over the chain grid (T = {t_eval}; mean ± std over seeds)")
    return fig
