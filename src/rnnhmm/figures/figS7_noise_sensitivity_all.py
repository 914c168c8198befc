"""Figure S7: fig5 for chain3–5 (docs/method.md §5, §4.6): one row per chain, six trajectory panels and the
two spread panels."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plan
from ..plan.figures import models as selected
from . import FigureContext
from .panels_noise import draw_spread, draw_traj_panels
from .style import note

READS = {"analyses": ["noise_sensitivity"], "hmms": ["chain3", "chain4", "chain5"]}
CHAINS = READS["hmms"]
ANALYSIS = READS["analyses"][0]


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def render(ctx: FigureContext):
    refs = models(ctx.preset_cfg)
    nrow = max(len(refs), 1)
    fig, axes = plt.subplots(nrow, 8, figsize=(22, 2.9 * nrow), squeeze=False)
    if not refs:
        note(axes[0, 0], "no chain3-5 reference model in this preset")
    for i, m in enumerate(refs):
        folder = ctx.path(plan.analysis_dir(ctx.preset, ANALYSIS, m))
        draw_traj_panels(list(axes[i, :6]), folder, f"{m.hmm} ({m.id})")
        draw_spread(list(axes[i, 6:]), folder)
    fig.suptitle("Noise sensitivity of cluster and transition points, chains with 3-5 states")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the suptitle
    return fig
