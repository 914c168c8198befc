"""Figure 11: readout-axis alignment with the orbit plane vs the number of states (docs/method.md §4.11, C7).

Chain models at the reference size, every seed of the grid.  p_k is the length of the projection of
the unit readout row k onto the PC1–PC2 plane of noise-driven activity (1: in the plane; 0:
orthogonal) and θ_k = arccos p_k.  (A) p̄, the mean of p_k over the HMM's dominant symbols (those that
are the most likely emission of some state: O1 and O3 for the chains, whose rare symbol O2 is
excluded), per seed (dots) and mean ± std over seeds (ddof 0) vs the number of states M.  (B) the
corresponding angle.
Expected: p̄ decreases (θ grows) as M grows.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .style import RUNAWAY, errbar, finite, note, panel_label

READS = {"analyses": ["readout"], "hmms": ["chain2", "chain3", "chain4", "chain5"], "select": "reference_size"}
CHAINS = READS["hmms"]


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def render(ctx: FigureContext):
    ms = models(ctx.preset_cfg)
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.2))
    if not ms:
        for a in axes:
            note(a, "no chain model at the reference size in this preset")
        return fig
    summ = pd.concat([read_table(ctx.path(plan.analysis_dir(ctx.preset, "readout", m)) / "readout_summary.csv")
                      for m in ms], ignore_index=True)
    agg = summ.groupby("M").agg(p_mean=("p_bar", "mean"), p_std=("p_bar", lambda x: x.std(ddof=0)),
                                a_mean=("angle_bar", "mean"), a_std=("angle_bar", lambda x: x.std(ddof=0)),
                                n=("seed", "size")).reset_index()
    for ax, col, mcol, scol, yl in ((axes[0], "p_bar", "p_mean", "p_std", "p̄ = mean p_k over dominant symbols"),
                                    (axes[1], "angle_bar", "a_mean", "a_std", "angle to orbit plane (deg)")):
        ax.scatter(summ["M"], summ[col], s=10, color="0.6", label="seeds", zorder=2)
        ax.errorbar(agg["M"], agg[mcol], yerr=errbar(agg[scol]), fmt="-o", color="k", ms=4, capsize=3,
                    label="mean ± std over seeds", zorder=3)
        ax.set(xlabel="number of states M", ylabel=yl, xticks=sorted(summ["M"].unique()))
        if not len(finite(summ, "M", col)):
            note(ax, "no readout summary" if not len(summ) else f"no finite {col}\n({RUNAWAY})")
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylim(0, 90)
    axes[0].legend(fontsize=6, frameon=False)
    seeds = ", ".join(f"M={int(r.M)}: {int(r.n)}" for r in agg.itertuples())
    axes[0].set_title(f"seeds per M — {seeds}", fontsize=6)
    panel_label(axes[0], "A")
    panel_label(axes[1], "B")
    fig.suptitle("Readout-axis alignment with the orbit plane vs the number of states (expected: p̄ falls as M grows)")
    fig.tight_layout()
    return fig
