"""Figure 7: connectivity of the kick groups and noise-integrating populations, reference 2-state model
(docs/method.md §4.8).

1 × 3 weight blocks (W[i, j] from column j onto row i; diverging colormap, symmetric range):
W[G, G] (G = G1 then G2), W[G, P] (rows kick neurons, columns P1 then P2: populations → kick groups) and
W[P, P].  P1 inhibits G1 and excites G2, P2 the reverse (selected from the weights, §4.8).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..io import read_json, read_npz
from . import NO_REF2, FigureContext
from .style import RUNAWAY, finite_max, note, panel_label

READS = {"analyses": ["connectivity"], "hmms": ["chain2"]}
ANALYSIS = READS["analyses"][0]
BLOCKS = (("GG", "W[G, G]: kick ↔ kick"), ("GP", "W[G, P]: populations → kick"), ("PP", "W[P, P]: populations"))


def draw_block(ax, M: np.ndarray, row_split: int | None, col_split: int | None, title: str, fig) -> None:
    """Heat map of a weight block with a symmetric diverging range and lines between the sub-blocks."""
    if M.size == 0:
        note(ax, "empty block")
        ax.set_title(title, fontsize=8)
        return
    lim = finite_max(np.abs(M), 0.0) or 1.0
    im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest", aspect="auto")
    if not np.isfinite(M).any():
        note(ax, f"no finite weight\n({RUNAWAY})")
    elif not np.isfinite(M).all():
        note(ax, f"{int((~np.isfinite(M)).sum())} of {M.size} weights non-finite", top=True)
    for s, line in ((row_split, ax.axhline), (col_split, ax.axvline)):
        if s is not None and 0 < s < (M.shape[0] if line is ax.axhline else M.shape[1]):
            line(s - 0.5, color="k", lw=0.8)
    ax.set(title=title, xlabel="presynaptic j", ylabel="postsynaptic i")
    fig.colorbar(im, ax=ax, shrink=0.8)


def draw_pair(axes, fig, arrays: dict, pair: str) -> None:
    """The three blocks of one pair (e.g. '12') from weight_blocks.npz on three axes."""
    n_g1, n_p1 = (int(v) for v in arrays[f"p{pair}_split"])
    splits = {"GG": (n_g1, n_g1), "GP": (n_g1, n_p1), "PP": (n_p1, n_p1)}
    if len(pair) > 2:  # all groups: lines between every group of 3
        splits = {"GG": (None, None), "GP": (None, None), "PP": (None, None)}
    for ax, (key, title) in zip(axes, BLOCKS, strict=True):
        draw_block(ax, arrays[f"p{pair}_{key}"], *splits[key], title, fig)


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
