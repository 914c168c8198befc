"""Figure 2: global dynamics of the chain reference models (docs/method.md §5, §4.1–4.2).

Columns: linear chains (2–5 states), each projected on its own σ = 1 PCA (axes carry the explained
variance).  Row 1: no-input trajectories from orbit states (start points coloured by the dominant
output), the empirical fixed point (×, the mean endpoint of the rollouts, the authors' measure) and
the solved objects of the input-free map: the origin (○; always a fixed point, its contraction rate κ
in the title), rays of fixed points (red), attracting invariant rays (purple) and slow rays (grey),
drawn from the origin to the orbit's median norm.  Only visited activation patterns were solved.
Row 2: one noise-driven trajectory (σ = 1).  Row 3: the 95 % KDE contours (Scott bandwidth × 3) of
the activity at input-noise levels σ = 0.1–4, with the 1–20 % mass band shaded; σ is the noise
**standard deviation**.  Claims C2 (collapse without input) and C3 (noise-sustained orbits that grow
with σ).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .panels_global import (
    contour_failure,
    draw_contours,
    draw_fixed_points,
    draw_noinput,
    endpoint,
    pc_labels,
    scatter_by_output,
)
from .style import drawable, note, panel_label

READS = {"analyses": ["state_space", "fixed_points", "orbits"], "hmms": ["chain2", "chain3", "chain4", "chain5"]}
CHAINS = READS["hmms"]
ANALYSES = READS["analyses"]


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def render(ctx: FigureContext):
    refs = models(ctx.preset_cfg)
    ncol = max(len(refs), 1)
    fig, axes = plt.subplots(3, ncol, figsize=(3.1 * ncol, 8.6), squeeze=False)
    if not refs:
        note(axes[0, 0], "no chain reference model in this preset")
    for j, m in enumerate(refs):
        d = {a: ctx.path(plan.analysis_dir(ctx.preset, a, m)) for a in ANALYSES}
        evr = read_table(d["state_space"] / "pca_global.csv")["evr"].to_numpy()
        noin = read_table(d["state_space"] / "traj_noinput.parquet")
        inp = read_table(d["state_space"] / "traj_input.parquet")
        end = endpoint(read_table(d["state_space"] / "endpoint.csv"))
        fp = read_table(d["fixed_points"] / "fixed_points.csv")
        xl, yl = pc_labels(evr)

        ax = axes[0, j]
        draw_noinput(ax, noin, end)
        summary = draw_fixed_points(ax, fp, say_missing=False)  # (the title says what is missing)
        ax.set(title=f"{m.hmm} ({m.id}): no input\n{summary}", xlabel=xl, ylabel=yl)

        ax = axes[1, j]
        if drawable(ax, inp, "pc1", "pc2", empty="no noise-driven trajectory"):
            ax.plot(inp["pc1"], inp["pc2"], color="0.8", lw=0.3, zorder=1)
            scatter_by_output(ax, inp, size=4, alpha=0.8)
        ax.set(title=f"{m.hmm}: with noise (σ = 1)", xlabel=xl, ylabel=yl)

        ax = axes[2, j]
        dens = read_table(d["orbits"] / "orbit_density.parquet")
        size = read_table(d["orbits"] / "orbit_size.csv")
        if not draw_contours(ax, dens, size):
            note(ax, contour_failure(dens, "KDE degenerate at every σ\n(activity does not span a plane)"))
        ax.set(title=f"{m.hmm}: 95 % contours vs σ (std)", xlabel=xl, ylabel=yl)
        if j == 0:
            for i, lab in enumerate("ABC"):
                panel_label(axes[i, 0], lab)
            axes[0, 0].legend(loc="best", fontsize=5, frameon=False)
            axes[1, 0].legend(loc="best", markerscale=3, frameon=False)
            axes[2, 0].legend(loc="best", fontsize=6, frameon=False)
    fig.suptitle("Global dynamics: collapse without input, noise-sustained orbits with input, growing with σ")
    fig.tight_layout()
    return fig
