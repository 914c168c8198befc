"""Panels of the grid's K x K transition matrices (figure S2), also drawn by figure S3."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import fmt, note, output_name


def matrix(df, value: str, k: int) -> np.ndarray:
    """The K x K matrix of column ``value`` of a table with ``from`` and ``to`` symbol columns (NaN where
    a cell has no row)."""
    m = np.full((k, k), np.nan)
    for _, r in df.iterrows():
        a, b = int(r["from"]), int(r["to"])
        if a < k and b < k:
            m[a, b] = r[value]
    return m


def heat(ax, mean, std, vmax, empty_rows=None, fontsize=5):
    im = ax.imshow(mean, cmap="magma_r", vmin=0, vmax=vmax)
    if not np.isfinite(mean).any():
        note(ax, "no finite transition error")
    k = mean.shape[0]
    if k > 4:  # smaller cells: smaller numbers, and no std beyond six symbols
        fontsize = fontsize * 4 / k
        std = std if k <= 6 else None
    for a in range(k):
        for b in range(k):
            if np.isfinite(mean[a, b]) and k <= 8:
                txt = fmt(mean[a, b], ".3f") + (f"\n±{fmt(std[a, b], '.3f')}" if std is not None and np.isfinite(std[a, b]) else "")
                ax.text(b, a, txt, ha="center", va="center", fontsize=fontsize,
                        color="white" if mean[a, b] > 0.6 * vmax else "black")
    if empty_rows is not None:
        for a in np.flatnonzero(empty_rows):
            ax.add_patch(plt.Rectangle((-0.5, a - 0.5), k, 1, fill=False, hatch="///", ec="0.4", lw=0))
    names = [output_name(j) for j in range(k)]
    ax.set_xticks(range(k), names, fontsize=6 if k <= 5 else 4)
    ax.set_yticks(range(k), names, fontsize=6 if k <= 5 else 4)
    return im
