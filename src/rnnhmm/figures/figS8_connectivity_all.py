"""Figure S8: kick groups and connectivity blocks of the chain3–5 and fully3 reference models
(docs/method.md §4.7–4.8).

One row per model: W[G, G], W[G, P] and W[P, P] for the pair of groups 1 and 2 (chains) or for all
kick groups with the union of the pairwise populations (fully3), with the discovered groups and their
effects in the row title.  Missing groups are said on the row.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt

from .. import plan
from ..io import read_json, read_npz
from ..plan.figures import models as selected
from . import FigureContext
from .panels_connectivity import draw_pair
from .panels_kick import group_title
from .style import note

READS = {"analyses": ["kick_neurons", "connectivity"], "hmms": ["chain3", "chain4", "chain5", "fully3"]}
HMMS = READS["hmms"]


def models(preset_cfg: dict) -> list[plan.ModelSpec]:
    return selected(READS, preset_cfg)


def render(ctx: FigureContext):
    refs = models(ctx.preset_cfg)
    n = max(len(refs), 1)
    fig, axes = plt.subplots(n, 3, figsize=(10.0, 3.1 * n), squeeze=False)
    if not refs:
        note(axes[0, 1], "no chain3-5 or fully3 reference model in this preset")
    for r, m in enumerate(refs):
        kick = read_json(ctx.path(plan.analysis_dir(ctx.preset, "kick_neurons", m)) / "kick_groups.json")
        d = ctx.path(plan.analysis_dir(ctx.preset, "connectivity", m))
        pops = read_json(d / "populations.json")
        groups = "; ".join(f"{group_title(g)} {g['neurons']}" if g.get("found") else f"group {k}: not found"
                           for k, g in sorted(kick["groups"].items()))
        pairs = pops["pairs"]
        # chains: groups 1 and 2 (leaving O1 and O3); fully connected: all groups with the pooled populations
        if not pairs:
            pair = None
        elif m.hmm.startswith("fully") or "12" not in pairs:
            pair = max(pairs, key=len)
        else:
            pair = "12"
        if pair is None:
            for ax in axes[r]:
                ax.set_axis_off()
            note(axes[r, 1], "\n".join(textwrap.wrap(f"{m.id}: {pops['status']}", 60)))
            continue
        draw_pair(axes[r], fig, read_npz(d / "weight_blocks.npz"), pair)
        axes[r, 0].set_title(f"{m.id}, groups {'+'.join(pair)}\n" + "\n".join(textwrap.wrap(groups, 60))
                             + "\nW[G, G]: kick ↔ kick", fontsize=6)
    fig.suptitle("Kick groups and connectivity blocks (chains 3–5, fully connected)")
    fig.tight_layout()
    return fig
