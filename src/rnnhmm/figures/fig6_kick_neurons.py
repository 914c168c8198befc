"""Figure 6: pre-activation maps of the kick neurons of the reference 2-state model (docs/method.md §4.7).

2 × 3 panels: rows = kick groups 1 (leaves O1) and 2 (leaves O3), columns = the three neurons of each group.
Each panel is a 1000-step noise-driven run on its own PCA(2), coloured by the neuron's pre-activation
a_i(t) (diverging, centred at 0).  The groups are discovered by the causal criterion of §4.7 (never
hard-coded); a missing or non-significant group is said on its panels.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from ..io import read_json, read_table
from . import NO_REF2, FigureContext
from .panels_kick import group_title
from .style import blank, drawable, finite_max, fmt, note, panel_label

READS = {"analyses": ["kick_neurons"], "hmms": ["chain2"]}
ANALYSIS = READS["analyses"][0]


def render(ctx: FigureContext):
    fig, axes = plt.subplots(2, 3, figsize=(9.0, 5.8), squeeze=False)
    ref = ctx.ref2(ANALYSIS)
    if ref is None:
        blank(axes, NO_REF2)
        return fig
    m, d = ref
    kick = read_json(d / "kick_groups.json")
    pre = read_table(d / "kick_preact.parquet")
    evr = [v if isinstance(v, (int, float)) and np.isfinite(v) else 0.0 for v in kick.get("preact_evr", [])] + [0.0, 0.0]
    for r, label in enumerate(("1", "2")):
        g = kick["groups"].get(label)
        for c in range(3):
            ax = axes[r, c]
            ax.set(xlabel=f"PC1 ({fmt(100 * evr[0], '.0f')} %)", ylabel=f"PC2 ({fmt(100 * evr[1], '.0f')} %)")
            sel = pre[(pre["group"] == int(label)) & (pre["member"] == c)] if len(pre) else pre
            if g is None or not g.get("found") or not len(sel):
                status = g["status"] if g else f"no kick group {label}: {kick.get('status')}"
                note(ax, "\n".join(textwrap.wrap(status, 34)))
                ax.set_title(f"group {label}", fontsize=8)
                continue
            ax.set_title(f"{group_title(g)}\nneuron {int(sel['neuron'].iloc[0])}", fontsize=7)
            if not drawable(ax, sel, "pc1", "pc2", "a"):
                continue
            a = sel["a"].to_numpy(dtype=float)
            lim = max(finite_max(np.abs(a), 0.0), 1e-12)
            sc = ax.scatter(sel["pc1"], sel["pc2"], c=a, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -lim, lim), s=3, lw=0,
                            rasterized=True)
            fig.colorbar(sc, ax=ax, shrink=0.8, label="pre-activation $a_i$")
        panel_label(axes[r, 0], "AB"[r])
    fig.suptitle(f"Kick neurons of {m.id}: pre-activation ≪ 0 in clusters, ≈ 0 in kick-zones, > 0 in transitions")
    fig.tight_layout()
    return fig
