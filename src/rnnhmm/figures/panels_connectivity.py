"""Connectivity blocks of figure 7, also drawn by figure S8."""

from __future__ import annotations

import numpy as np

from .style import RUNAWAY, finite_max, note

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
