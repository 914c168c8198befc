"""Shared figure style: colours of the three outputs, panel labels and saving as PDF + PNG."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..io import atomic_path  # noqa: E402

OUTPUT_COLORS = {0: "#1f77b4", 1: "#7f7f7f", 2: "#d62728"}  # O1 blue, O2 (rare) grey, O3 red
OUTPUT_NAMES = {0: "O1", 1: "O2", 2: "O3"}
DPI = 150

plt.rcParams.update({
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
    "svg.hashsalt": "rnnhmm",
})


def output_color(o) -> str:
    return OUTPUT_COLORS.get(int(o), "black")


def panel_label(ax, label: str) -> None:
    ax.text(-0.12, 1.05, label, transform=ax.transAxes, fontsize=10, fontweight="bold", va="bottom", ha="right")


def note(ax, text: str) -> None:
    """Write a degenerate-case message into an axis (e.g. 'no switches at this scale')."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.3", wrap=True)


def blank(axes, text: str) -> None:
    """A figure with nothing to draw: every panel off, and the reason written in the middle one."""
    flat = list(getattr(axes, "ravel", lambda: axes)())
    for ax in flat:
        ax.set_axis_off()
    note(flat[min(1, len(flat) - 1)], text)


def save(fig, stem: str | os.PathLike) -> list[Path]:
    """Save ``fig`` as <stem>.pdf and <stem>.png atomically (no timestamps embedded in the PDF)."""
    stem = Path(stem)
    out = []
    for ext, kwargs in (("pdf", {"metadata": {"CreationDate": None, "ModDate": None}}), ("png", {"dpi": DPI})):
        path = stem.with_suffix(f".{ext}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, **kwargs)
        out.append(path)
    plt.close(fig)
    return out
