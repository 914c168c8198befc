"""Figure S10: per-model diagnostics (docs/method.md §1, §3, §5).

One panel per trained model: training and validation loss (Sinkhorn divergence, in mismatched
steps) against the epoch, the best epoch marked, the validation loss floor (the loss between two
independent HMM batches of the training batch size, rnnhmm.floor: a perfect emulator's loss; dotted)
with the best epoch's excess over it, and the §3 metrics at the training T: matched
distance vs the HMM baseline, Σ D of the output transition matrix, the L1 frequency error and the
volatility against its analytic value.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from .. import plan
from ..io import read_table
from . import FigureContext
from .style import RUNAWAY, finite, note

READS = {"tables": ["histories.csv", "metrics.csv", "training.csv"]}
KEYS = ["hmm", "hidden", "dim", "seed"]
NCOL = 6


def _fmt(metrics, name, spec="{:.2f}"):
    v = metrics.get(name)
    if v is None or v != v:
        return "n/a"
    return spec.format(v) if abs(v) < 1e6 else f"{v:.3g}"  # (a runaway value in short notation)


def render(ctx: FigureContext):
    hist = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "histories.csv")))
    met = read_table(ctx.path(plan.eval_summary_file(ctx.preset, "metrics.csv")))
    models = plan.expand_grid(ctx.preset_cfg)
    ncol = min(NCOL, max(len(models), 1))
    nrow = max(math.ceil(len(models) / ncol), 1)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.3 * nrow + 0.5), squeeze=False)
    for ax in axes.ravel()[len(models):]:
        ax.axis("off")
    if not models:
        note(axes[0, 0], "no models in this preset")
    for ax, m in zip(axes.ravel(), models, strict=False):
        h = hist[(hist["hmm"] == m.hmm) & (hist["hidden"] == m.hidden) & (hist["dim"] == m.dim) & (hist["seed"] == m.seed)]
        mm = met[(met["hmm"] == m.hmm) & (met["hidden"] == m.hidden) & (met["dim"] == m.dim) & (met["seed"] == m.seed)]
        ax.set_title(m.id, fontsize=7)
        if h.empty:
            note(ax, "no training history")
            continue
        marker = "o" if len(h) == 1 else None  # a single epoch is a point, not a line
        ax.plot(h["epoch"], h["train_loss"], lw=1, color="C0", label="train", marker=marker)
        ax.plot(h["epoch"], h["val_loss"], lw=1, color="C1", label="validation", marker=marker)
        val = h["val_loss"].astype(float)
        if not (len(finite(h, "epoch", "train_loss")) or len(finite(h, "epoch", "val_loss"))):
            note(ax, f"no finite loss\n({RUNAWAY})")
        floor = float(h["val_floor"].iloc[0]) if "val_floor" in h else math.nan
        if math.isfinite(floor):
            ax.axhline(floor, color="0.4", lw=0.8, ls=":", label="validation floor")
        if val.notna().any():
            best = h.loc[val.idxmin()]
            excess = f", excess {best['val_loss'] - floor:+.2f}" if math.isfinite(floor) else ""
            ax.plot([best["epoch"]], [best["val_loss"]], "k*", ms=6, label="best")
            ax.text(0.02, 0.97, f"best epoch {int(best['epoch'])}{excess}", transform=ax.transAxes, va="top", fontsize=5)
        ax.set_xlabel("epoch", fontsize=6)
        ax.set_ylabel("Sinkhorn loss", fontsize=6)
        ax.tick_params(labelsize=6)
        if len(mm):
            t = mm["T_eval"].min()
            v = dict(zip(mm.loc[mm["T_eval"] == t, "metric"], mm.loc[mm["T_eval"] == t, "value"], strict=True))
            empty = float(v.get("transmat_empty_rows_rnn", 0))
            empty = empty if math.isfinite(empty) else 0
            text = (f"T={t}: dist {_fmt(v, 'euclid_rnn_mean')} (HMM {_fmt(v, 'euclid_base_mean')})\n"
                    f"ΣD {_fmt(v, 'transmat_sse_rnn_vs_emp', '{:.3f}')}  L1 freq {_fmt(v, 'freq_l1_rnn')}\n"
                    f"vol {_fmt(v, 'volatility_rnn_mean', '{:.1f}')} (HMM {_fmt(v, 'volatility_analytic', '{:.1f}')})"
                    + (f"\n{int(empty)} symbol(s) never emitted" if empty else ""))
            ax.text(0.98, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=5,
                    bbox={"fc": "white", "ec": "0.8", "alpha": 0.8})
        else:
            ax.text(0.98, 0.97, "not evaluated", transform=ax.transAxes, ha="right", va="top", fontsize=6)
    axes[0, 0].legend(frameon=False, fontsize=5, loc="center right")
    fig.suptitle("Per-model diagnostics: losses and emission metrics (training T)")
    fig.tight_layout()
    return fig
