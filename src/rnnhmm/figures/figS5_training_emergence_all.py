"""Figure S5: emergence during training for the reference models of chain3–5, fully3 and cyclic4
(docs/method.md §4.4; the panels of figure 3, one row per model).

Columns: per-epoch PCA(2) of the shared noise block stacked by epoch (e_b framed in purple); transition
rate with the converged TR (dashed) and e_b (purple line); fractions of time steps with a critical pair
or an unstable eigenvalue (dashed: noise-free patterns); √|E[δh⁽²⁾]| per unit and epoch above each
model's 90th percentile; training and validation losses.  Only evolution runs keep per-epoch
checkpoints; a model without them, a missing bifurcation or undefined TR is written on its row.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..plan.figures import evolution_models
from . import FigureContext
from .panels_emergence import (
    caption_note,
    draw_dh2,
    draw_fractions,
    draw_losses,
    draw_stack,
    draw_tr,
    load,
)
from .style import note

READS = {"analyses": ["training_evolution"], "hmms": ["chain3", "chain4", "chain5", "fully3", "cyclic4"], "select": "evolution"}
HMMS = READS["hmms"]
COLUMNS = ("PCA per epoch", "transition rate", "eigenvalue indicators", "√|E[δh⁽²⁾]|", "losses")


def render(ctx: FigureContext):
    models, missing = evolution_models(ctx.preset_cfg, HMMS)
    rows = sorted(models + missing, key=lambda m: HMMS.index(m.hmm))
    n = max(len(rows), 1)
    fig = plt.figure(figsize=(17.0, 3.0 * n + 0.6))
    gs = fig.add_gridspec(n, 5, width_ratios=[1.3, 1, 1, 1.15, 1], hspace=0.6, wspace=0.42, left=0.04, right=0.98,
                          bottom=0.04, top=1 - 1.2 / (3.0 * n + 0.6))
    if not rows:
        ax = fig.add_subplot(gs[0, :])
        ax.axis("off")
        note(ax, "no reference model of chain3–5, fully3 or cyclic4 in this preset")
        return fig
    for i, spec in enumerate(rows):
        if spec in missing:
            ax = fig.add_subplot(gs[i, :])
            ax.axis("off")
            note(ax, f"{spec.id}: not an evolution run (no per-epoch checkpoints)")
            continue
        t = load(ctx, spec)
        ax3 = fig.add_subplot(gs[i, 0], projection="3d")
        draw_stack(ax3, t)
        axes = [fig.add_subplot(gs[i, j]) for j in range(1, 5)]
        draw_tr(axes[0], t)
        draw_fractions(axes[1], t)
        draw_dh2(axes[2], t, fig)
        draw_losses(axes[3], t)
        ax3.text2D(-0.08, 0.5, spec.id, transform=ax3.transAxes, fontsize=8, fontweight="bold", rotation=90,
                   va="center", ha="right")
        axes[0].set_title(caption_note(t, full=False), fontsize=6, loc="left")
        if i == 0:
            for ax, title in zip([ax3, *axes], COLUMNS, strict=True):
                put = ax.text2D if ax is ax3 else ax.text
                put(0.5, 1.2, title, transform=ax.transAxes, ha="center", fontsize=9, fontweight="bold")
    fig.suptitle("Emergence during training: chain3–5, fully3, cyclic4 reference models", fontsize=10, y=0.995)
    return fig
