"""Figure S4: global dynamics across the chain grid (seed 0; docs/method.md §5, §4.1–4.2).

Rows: chain × hidden size H; columns: three blocks (no-input trajectories, a noise-driven trajectory,
95 % KDE contours for σ = 0.1–4, σ the input-noise std) × input dimension d.  Each model is projected
on its own σ = 1 PCA.  No-input panels: rollouts from orbit states (grey), start points coloured by
the dominant output, the empirical endpoint (×).  Missing panels mean the model is not in the grid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .panels_global import contour_failure, draw_contours, draw_noinput, endpoint, scatter_by_output
from .style import drawable, note

READS = {"analyses": ["state_space", "orbits"], "hmms": ["chain2", "chain3", "chain4", "chain5"], "select": "reference_seed"}
CHAINS = READS["hmms"]
ANALYSES = READS["analyses"]
BLOCKS = ("no input", "with noise", "contours")


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def render(ctx: FigureContext):
    ms = models(ctx.preset_cfg)
    hs = sorted({m.hidden for m in ms})
    ds = sorted({m.dim for m in ms})
    rows = [(c, h) for c in CHAINS if any(m.hmm == c for m in ms) for h in hs]
    nrow, ncol = max(len(rows), 1), max(len(ds), 1) * len(BLOCKS)
    fig, axes = plt.subplots(nrow, ncol, figsize=(1.7 * ncol, 1.6 * nrow + 0.6), squeeze=False)
    if not ms:
        note(axes[0, 0], "no seed-0 chain model in this preset")
    index = {(m.hmm, m.hidden, m.dim): m for m in ms}
    for i, (chain, h) in enumerate(rows):
        for jd, d in enumerate(ds):
            m = index.get((chain, h, d))
            for b, block in enumerate(BLOCKS):
                ax = axes[i, b * len(ds) + jd]
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(f"{block}\nd = {d}", fontsize=7)
                if b == 0 and jd == 0:
                    ax.set_ylabel(f"{chain}\nH = {h}", fontsize=7)
                if m is None:
                    note(ax, "not in grid")
                    continue
                ss = ctx.path(plan.analysis_dir(ctx.preset, "state_space", m))
                if block == "no input":
                    end = endpoint(read_table(ss / "endpoint.csv"))
                    draw_noinput(ax, read_table(ss / "traj_noinput.parquet"), end, max_ic=30)
                elif block == "with noise":
                    inp = read_table(ss / "traj_input.parquet")
                    if drawable(ax, inp, "pc1", "pc2", empty="no trajectory"):
                        ax.plot(inp["pc1"], inp["pc2"], color="0.8", lw=0.2)
                        scatter_by_output(ax, inp, size=1.5, alpha=0.8, label=False)
                else:
                    od = ctx.path(plan.analysis_dir(ctx.preset, "orbits", m))
                    dens = read_table(od / "orbit_density.parquet")
                    if not draw_contours(ax, dens, read_table(od / "orbit_size.csv"), label=(i == 0 and jd == 0)):
                        note(ax, contour_failure(dens, "KDE degenerate"))
    if ms and axes[0, 2 * len(ds)].lines:
        axes[0, 2 * len(ds)].legend(fontsize=4, frameon=False, loc="best")
    fig.suptitle("Global dynamics across the chain grid (seed 0): collapse without input, orbits with noise, "
                 "95 % contours vs σ (std)", fontsize=9)
    fig.tight_layout()
    return fig
