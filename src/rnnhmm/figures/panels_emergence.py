"""Panels of the training evolution (figure 3), also drawn by figure S5: PCA per epoch, transition
rate, eigenvalue indicators, second-order response, losses."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .. import plan
from ..io import read_table
from . import FigureContext
from .style import RUNAWAY, finite, finite_max, fmt, note, output_color, output_name, outputs_in

ANALYSIS = "training_evolution"  # the analysis whose tables these panels draw
BIF_COLOR = "#7b2cbf"  # e_b: purple
DH2_PERCENTILE = 90


def load(ctx: FigureContext, spec: plan.ModelSpec) -> dict:
    d = ctx.path(plan.analysis_dir(ctx.preset, ANALYSIS, spec))
    tables = {name: read_table(d / f"evo_{name}.{ext}") for name, ext in
              (("stats", "csv"), ("dh2", "parquet"), ("summary", "csv"), ("pca", "parquet"), ("losses", "csv"))}
    summary = tables["summary"]
    # no summary row: every field unknown (the panels and the caption say so)
    tables["summary"] = summary.iloc[0] if len(summary) else pd.Series(np.nan, index=summary.columns, dtype=object)
    return tables


def _number(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return np.nan


def bif_epoch(summary) -> int | None:
    e = _number(summary.get("bif_epoch"))
    return int(e) if np.isfinite(e) else None


def _mark_bif(ax, summary) -> None:
    e_b = bif_epoch(summary)
    if e_b is not None:
        ax.axvline(e_b, color=BIF_COLOR, lw=1.2, ls="-", alpha=0.8, label=f"e_b = {e_b}")


def draw_stack(ax, t: dict) -> None:
    """Per-epoch PCA planes stacked along the epoch axis of a 3-D axis (e_b's plane framed in purple)."""
    pca, summary = t["pca"], t["summary"]
    e_b = bif_epoch(summary)
    epochs = sorted(pca["epoch"].unique())
    if not epochs:
        note(ax, "no PCA epochs")
        return
    lim = finite_max(np.abs(pca[["pc1", "pc2"]].to_numpy(dtype=float)), 1.0)
    lim = lim if lim > 0 else 1.0
    if not len(finite(pca, "pc1", "pc2")):
        note(ax, f"no finite PCA point\n({RUNAWAY})")
    outputs = outputs_in(pca["o"])
    for pos, e in enumerate(epochs):
        sel = pca[pca["epoch"] == e]
        for o in outputs:
            s = sel[sel["o"] == o]
            if len(s):
                ax.scatter(s["pc1"], np.full(len(s), pos), s["pc2"], s=1.5, c=output_color(o), alpha=0.6, lw=0,
                           label=output_name(o) if pos == 0 else None, rasterized=True)
        if e == e_b:
            sq = np.array([[-lim, -lim], [lim, -lim], [lim, lim], [-lim, lim], [-lim, -lim]])
            ax.plot(sq[:, 0], np.full(5, pos), sq[:, 1], color=BIF_COLOR, lw=1.5)
    ax.set_yticks(range(len(epochs)))
    ax.set_yticklabels([str(e) for e in epochs])
    for lab, e in zip(ax.get_yticklabels(), epochs, strict=True):
        if e == e_b:
            lab.set_color(BIF_COLOR)
            lab.set_fontweight("bold")
    ax.set_xlabel("PC1 (per epoch)", labelpad=-4)
    ax.set_ylabel("epoch", labelpad=-2)
    ax.set_zlabel("PC2", labelpad=-4)
    ax.tick_params(labelsize=6, pad=0)
    ax.set_box_aspect((1.0, 1.9, 0.9), zoom=1.05)
    ax.view_init(elev=16, azim=-58)
    ax.legend(loc="upper left", markerscale=4, frameon=False, fontsize=6)


def draw_tr(ax, t: dict) -> None:
    stats, summary = t["stats"], t["summary"]
    ax.plot(stats["epoch"], stats["tr"], "o-", ms=2.5, lw=1, color="k", label="TR")
    conv = _number(summary.get("converged_tr"))
    if np.isfinite(conv):
        ax.axhline(conv, color="0.4", ls="--", lw=1, label=f"converged TR = {fmt(conv, '.3f')}")
    _mark_bif(ax, summary)
    if not np.isfinite(stats["tr"].to_numpy(dtype=float)).any():
        note(ax, "no complete dwell in any analysed epoch: TR undefined")
    ax.set(xlabel="epoch", ylabel="transition rate (1/dwell)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", frameon=False)


def draw_fractions(ax, t: dict) -> None:
    stats, summary = t["stats"], t["summary"]
    if not (len(finite(stats, "epoch", "frac_critical")) or len(finite(stats, "epoch", "frac_unstable"))):
        note(ax, "no analysed epoch" if not len(stats) else f"no finite fraction\n({RUNAWAY})")
    for col, color, label in (("frac_critical", "#e07b00", "critical"), ("frac_unstable", "#2a7f62", "unstable")):
        ax.plot(stats["epoch"], stats[col], "o-", ms=2.5, lw=1, color=color, label=f"any {label}")
        if f"{col}_nf" in stats:
            ax.plot(stats["epoch"], stats[f"{col}_nf"], ls="--", lw=0.8, color=color, label=f"{label}, noise-free")
    _mark_bif(ax, summary)
    if bif_epoch(summary) is None:
        ax.text(0.02, 0.95, f"no e_b: |Δ critical| ≤ {_number(summary.get('bif_threshold')):g}", transform=ax.transAxes,
                fontsize=6, color=BIF_COLOR, va="top")
    ax.set(xlabel="epoch", ylabel="fraction of time steps", ylim=(-0.03, 1.03))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=6)


def draw_dh2(ax, t: dict, fig) -> None:
    dh2, summary = t["dh2"], t["summary"]
    grid = dh2.pivot(index="unit", columns="epoch", values="dh2").sort_index(axis=1)
    vals = grid.to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    if finite.size == 0 or np.all(finite == 0):
        note(ax, "√|E[δh⁽²⁾]| is zero or undefined")
        return
    thr = np.percentile(finite, DH2_PERCENTILE)
    masked = np.ma.masked_where(~np.isfinite(vals) | (vals < thr), vals)
    epochs = grid.columns.to_numpy()
    # one column per analysed epoch, drawn at its real epoch position
    if len(epochs) > 1:
        mid = (epochs[1:] + epochs[:-1]) / 2
        edges = np.concatenate([[2 * epochs[0] - mid[0]], mid, [2 * epochs[-1] - mid[-1]]])
    else:
        edges = np.array([epochs[0] - 0.5, epochs[0] + 0.5])
    mesh = ax.pcolormesh(edges, np.arange(vals.shape[0] + 1) - 0.5, masked, cmap="magma_r", shading="flat",
                         rasterized=True)
    ax.set_facecolor("0.96")
    fig.colorbar(mesh, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=6)
    _mark_bif(ax, summary)
    ax.set(xlabel="epoch", ylabel="unit")
    ax.set_title(f"√|E[δh⁽²⁾]| ≥ {DH2_PERCENTILE}th percentile ({thr:.3g})", fontsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def draw_losses(ax, t: dict) -> None:
    losses, summary = t["losses"], t["summary"]
    if not (len(finite(losses, "epoch", "train_loss")) or len(finite(losses, "epoch", "val_loss"))):
        note(ax, "no losses recorded" if not len(losses) else f"no finite loss\n({RUNAWAY})")
    marker = "o" if len(losses) == 1 else None  # a single epoch is a point, not a line
    ax.plot(losses["epoch"], losses["train_loss"], lw=1, color="k", label="train", marker=marker)
    ax.plot(losses["epoch"], losses["val_loss"], lw=1, color="0.55", label="validation", marker=marker)
    _mark_bif(ax, summary)
    ax.set(xlabel="epoch", ylabel="Sinkhorn divergence")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", frameon=False)


def caption_note(t: dict, full: bool = True) -> str:
    """e_b and how it was found, the number of analysed epochs and (``full``) the analysis' notes."""
    s = t["summary"]
    e_b = bif_epoch(s)
    if s.isna().all():
        return "no training-evolution summary (evo_summary.csv has no row)"
    src = {"rule": "rule", "override": "set by hand", "none": "not found"}.get(str(s["bif_source"]), str(s["bif_source"]))
    n = _number(s.get("n_analysed"))
    text = f"e_b = {e_b if e_b is not None else '—'} ({src}); {f'{n:.0f}' if np.isfinite(n) else 'unknown'} analysed epochs"
    note_txt = s.get("note")
    if full and isinstance(note_txt, str) and note_txt:
        text += f"; {note_txt}"
    return textwrap.fill(text, 140)
