"""Figure 5: noise sensitivity of cluster vs transition points, reference 2-state model (docs/method.md §5, §4.6).

Top, 1 × 6: 30 restarted trajectories (5 steps) over the nominal run on its PCA(2), from the cluster
point (γ = 0, 0.5, 1) and from the transition point (γ = 0, 0.5, 1); x' = √(1−γ²)·x_nominal + γ·ε.
Bottom, 1 × 2: spread (trace of the across-trajectory covariance) per step, in H-space and on PC1–PC2.
The drawing helpers are shared with figS7.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from . import NO_REF2, FigureContext
from .panels_noise import draw_spread, draw_traj_panels
from .style import note, panel_label

READS = {"analyses": ["noise_sensitivity"], "hmms": ["chain2"]}
ANALYSIS = READS["analyses"][0]


def render(ctx: FigureContext):
    ref = ctx.ref2(ANALYSIS)
    fig = plt.figure(figsize=(16, 6))
    gs = fig.add_gridspec(2, 6, height_ratios=[1, 1])
    top = [fig.add_subplot(gs[0, j]) for j in range(6)]
    bottom = [fig.add_subplot(gs[1, 0:3]), fig.add_subplot(gs[1, 3:6])]
    if ref is None:
        note(top[0], NO_REF2)
        return fig
    m, folder = ref
    draw_traj_panels(top, folder, f"{m.hmm} ({m.id})")
    draw_spread(bottom, folder)
    panel_label(top[0], "A")
    panel_label(bottom[0], "B")
    fig.suptitle("Noise sensitivity: cluster points are sensitive, transition points are not")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the suptitle
    return fig

