"""Figure 3: emergence of the switching mechanism during training, reference 2-state model (docs/method.md §4.4).

(A) Per-epoch PCA(2) of the same 5000-step noise block (first 700 points, clipped to ±15, coloured by
the dominant output) at epochs 1, ⌈e_b/4⌉, ⌈e_b/2⌉, e_b (purple), ⌈(e_b+E)/2⌉ and E, stacked by epoch.
(B) Transition rate of the dominant output per analysed epoch, with the converged TR (mean of the last
6 analysed epochs, dashed) and the bifurcation epoch e_b (purple).  (C) Fractions of time steps whose
Jacobian has a critical pair (|Re m| < 0.1, Im m > 0.05) or an unstable eigenvalue (|λ| > 1); dashed:
noise-free activation patterns.  e_b is the first analysed epoch where the critical fraction jumps by
more than 0.02.  (D) √|E[δh⁽²⁾]| per unit and epoch (the authors' second-order heuristic), shown only
above the model's 90th percentile.  (E) Training and validation Sinkhorn losses.  Degenerate cases
(no bifurcation found, no complete dwell) are written on the panels.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..plan.figures import evolution_models
from . import NO_REF2, FigureContext
from .panels_emergence import caption_note, draw_dh2, draw_fractions, draw_losses, draw_stack, draw_tr, load
from .style import note, panel_label

READS = {"analyses": ["training_evolution"], "hmms": ["chain2"], "select": "evolution"}
HMMS = READS["hmms"]


def render(ctx: FigureContext):
    models, missing = evolution_models(ctx.preset_cfg, HMMS)
    fig = plt.figure(figsize=(11.5, 7.0))
    if not models:
        ax = fig.add_subplot(111)
        ax.axis("off")
        why = f"{missing[0].id} is not an evolution run (no per-epoch checkpoints)" if missing else \
            NO_REF2
        note(ax, why)
        return fig
    spec = models[0]
    t = load(ctx, spec)
    gs = fig.add_gridspec(2, 3, height_ratios=[1.25, 1], hspace=0.35, wspace=0.42, left=0.06, right=0.97,
                          bottom=0.07, top=0.86)
    ax3 = fig.add_subplot(gs[0, 0:2], projection="3d")
    draw_stack(ax3, t)
    axes = [fig.add_subplot(gs[0, 2]), fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1]), fig.add_subplot(gs[1, 2])]
    draw_tr(axes[0], t)
    draw_fractions(axes[1], t)
    draw_dh2(axes[2], t, fig)
    draw_losses(axes[3], t)
    ax3.text2D(0.0, 1.0, "A", transform=ax3.transAxes, fontsize=10, fontweight="bold", va="bottom")
    for ax, lab in zip(axes, "BCDE", strict=True):
        panel_label(ax, lab)
    fig.suptitle(f"Emergence during training: {spec.id}\n{caption_note(t)}", fontsize=9)
    return fig
