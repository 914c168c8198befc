"""Panels of the grid's transition matrices (figure S2), also drawn by figure S3."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import OUTPUT_NAMES, fmt, note


def matrix(df, value: str) -> np.ndarray:
    m = np.full((3, 3), np.nan)
    for _, r in df.iterrows():
        m[int(r["from"]), int(r["to"])] = r[value]
    return m


def heat(ax, mean, std, vmax, empty_rows=None, fontsize=5):
    im = ax.imshow(mean, cmap="magma_r", vmin=0, vmax=vmax)
    if not np.isfinite(mean).any():
        note(ax, "no finite transition error")
    for a in range(3):
        for b in range(3):
            if np.isfinite(mean[a, b]):
                txt = fmt(mean[a, b], ".3f") + (f"\n±{fmt(std[a, b], '.3f')}" if std is not None and np.isfinite(std[a, b]) else "")
                ax.text(b, a, txt, ha="center", va="center", fontsize=fontsize,
                        color="white" if mean[a, b] > 0.6 * vmax else "black")
    if empty_rows is not None:
        for a in np.flatnonzero(empty_rows):
            ax.add_patch(plt.Rectangle((-0.5, a - 0.5), 3, 1, fill=False, hatch="///", ec="0.4", lw=0))
    ax.set_xticks(range(3), [OUTPUT_NAMES[k] for k in range(3)], fontsize=6)
    ax.set_yticks(range(3), [OUTPUT_NAMES[k] for k in range(3)], fontsize=6)
    return im
