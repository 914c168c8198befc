"""Figure 7: connectivity of the kick groups and noise-integrating populations, reference 2-state model
(docs/method.md §4.8).

1 × 3 weight blocks (W[i, j] from column j onto row i; diverging colormap, symmetric range):
W[G, G] (G = G1 then G2), W[G, P] (rows kick neurons, columns P1 then P2: populations → kick groups) and
W[P, P].  P1 inhibits G1 and excites G2, P2 the reverse (selected from the weights, §4.8).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..io import read_json, read_npz
from . import NO_REF2, FigureContext
from .panels_connectivity import draw_pair
from .style import note, panel_label

READS = {"analyses": ["connectivity"], "hmms": ["chain2"]}
ANALYSIS = READS["analyses"][0]


def render(ctx: FigureContext):
    fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.4), squeeze=False)
    ref = ctx.ref2(ANALYSIS)
    if ref is None:
        note(axes[0, 1], NO_REF2)
        return fig
    m, d = ref
    pops = read_json(d / "populations.json")
    if "12" not in pops["pairs"]:
        for ax in axes[0]:
            ax.set_axis_off()
        note(axes[0, 1], f"no kick group pair: {pops['status']}")
    else:
        draw_pair(axes[0], fig, read_npz(d / "weight_blocks.npz"), "12")
        p = pops["pairs"]["12"]
        fig.text(0.5, 0.005, f"G1 = {p['G1']}, G2 = {p['G2']}, |P1| = {len(p['P1'])}, |P2| = {len(p['P2'])}",
                 ha="center", fontsize=7)
    for ax, lab in zip(axes[0], "ABC", strict=True):
        panel_label(ax, lab)
    fig.suptitle(f"Connectivity of kick groups and noise-integrating populations ({m.id})")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
