"""Shared figure style: colours and names of the output symbols (any number of them), panel labels and
saving as PDF + PNG."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..hmm import output_name as _symbol_name  # noqa: E402
from ..io import atomic_path  # noqa: E402

# symbol k's colour: the paper's three first (O1 blue, O2 grey, O3 red), then the rest of matplotlib's
# tab10 cycle; beyond ten symbols, evenly spaced hues.  A symbol keeps its colour whatever K is.
SYMBOL_PALETTE = ("#1f77b4", "#7f7f7f", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                  "#bcbd22", "#17becf")
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
    """The colour of symbol ``o`` (0-based); black for a missing or negative index."""
    try:
        k = int(o)
    except (TypeError, ValueError):
        return "black"
    if k < 0:
        return "black"
    if k < len(SYMBOL_PALETTE):
        return SYMBOL_PALETTE[k]
    return matplotlib.colors.to_hex(matplotlib.colormaps["hsv"]((k * 0.618034) % 1.0))


def output_name(o) -> str:
    """The name of symbol ``o`` in a figure (O1, O2, ...; '?' for a missing index)."""
    try:
        return _symbol_name(int(o))
    except (TypeError, ValueError):
        return "?"


def outputs_in(column) -> list[int]:
    """The symbols (0-based indices) that occur in an output-index column, sorted (NaN and negative
    entries are not symbols), for a scatter coloured by output."""
    import pandas as pd

    v = pd.to_numeric(pd.Series(np.asarray(column).ravel()), errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v >= 0)]
    return sorted({int(x) for x in v})


def n_outputs_of(*columns, at_least: int = 0) -> int:
    """The number of symbols that output-index columns imply (largest finite index + 1; ``at_least`` when
    they are empty), for a panel that reads them without the HMM."""
    return max([o + 1 for col in columns for o in outputs_in(col)] + [int(at_least)])


def panel_label(ax, label: str) -> None:
    ax.text(-0.12, 1.05, label, transform=ax.transAxes, fontsize=10, fontweight="bold", va="bottom", ha="right")


RUNAWAY = "activity runaway: non-finite values"


def note(ax, text: str, top: bool = False) -> None:
    """Write a degenerate-case message into an axis (e.g. 'no switches at this scale'); ``top``: along the
    top edge, for a panel that still shows data."""
    y, va = (0.97, "top") if top else (0.5, "center")
    # lines wider than the panel are wrapped (about 18 characters per inch at 7 pt)
    width = int(18 * ax.get_position().width * ax.figure.get_figwidth())
    text = "\n".join(textwrap.fill(line, max(width, 16)) for line in str(text).split("\n"))
    put = getattr(ax, "text2D", ax.text)  # a 3-D axis places text in axes coordinates with text2D
    put(0.5, y, text, transform=ax.transAxes, ha="center", va=va, fontsize=7, color="0.3", wrap=True)


def fmt(value, spec: str = ".2f") -> str:
    """``value`` formatted with ``spec``; a runaway magnitude (|value| >= 1e6, or infinite) in short
    scientific notation, so that it cannot fill a panel with digits."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{v:.3g}" if abs(v) >= 1e6 else f"{v:{spec}}"


def is_finite(values) -> np.ndarray:
    """Element-wise: a finite number (NaN, ±inf and non-numbers are not)."""
    import pandas as pd

    return np.isfinite(pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce").to_numpy(dtype=float))


def finite(df, *cols: str):
    """The rows of ``df`` whose ``cols`` are all finite (a runaway or undefined value drops its row)."""
    ok = np.ones(len(df), dtype=bool)
    for c in cols:
        ok &= is_finite(df[c])
    return df[ok]


def drawable(ax, df, *cols: str, empty: str = "no data") -> bool:
    """Whether ``df`` has a row with finite ``cols`` to draw on ``ax``; if not, say why on the panel
    (``empty`` for a table without rows, :data:`RUNAWAY` when every value is NaN or infinite)."""
    if not len(df):
        note(ax, empty)
        return False
    if not len(finite(df, *cols)):
        note(ax, f"no finite {', '.join(cols)}\n({RUNAWAY})")
        return False
    return True


def errbar(values) -> np.ndarray:
    """Error-bar lengths that matplotlib accepts: a NaN, infinite or negative spread is drawn as none."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v) & (v >= 0), v, 0.0)


def finite_max(values, default: float = np.nan) -> float:
    """The largest finite value, ``default`` when there is none."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    return float(v.max()) if v.size else default


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
