"""Figure N2 (ours): stochastic resonance in noise and orbit size vs the noise level
(docs/method.md §4.2–4.3, §6 D5).

σ is the input-noise **standard deviation**; every level uses the same noise and Gumbel draws.
One line per reference model.  (A) Dominant-output switch probability and transition rate: constant
in σ, as P2 requires.  (B) Sinkhorn-matched Euclidean distance of emitted sequences to an HMM set
(solid) and the HMM-vs-HMM baseline (dashed).  (C) Emitted-switch probability with the HMM's p_y
(dotted) and the uniform-i.i.d. limit 2/3 (grey): small σ makes emissions uniform, large σ makes them
the deterministic argmax sequence.  (D) Squared error of the output transition matrix (vs the
analytic HMM one) and L1 error of the symbol frequencies.  (E) Orbit radius in the PC1–PC2 plane
from the fixed point 0 (r_origin) vs σ with the linear fit (P2 predicts r = σ·r(1)).  (F) Area of the
95 % KDE region vs σ, log–log, with the fitted slope (P2 predicts 2).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .style import RUNAWAY, finite, finite_max, is_finite, note, panel_label

READS = {"analyses": ["noise_sweep", "orbits"]}
ANALYSES = READS["analyses"]


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def _line(ax, x, y, *args, **kwargs) -> bool:
    """``ax.plot`` of the points with a finite x and y (a runaway or undefined value is left out); whether a
    point with a positive x (one a log axis can show) was drawn."""
    ok = is_finite(x) & is_finite(y)
    x = np.asarray(x, dtype=float)[ok]
    ax.plot(x, np.asarray(y, dtype=float)[ok], *args, **kwargs)
    return bool((x > 0).any())


def render(ctx: FigureContext):
    refs = models(ctx.preset_cfg)
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.6))
    ax = axes.ravel()
    if not refs:
        for a in ax:
            note(a, "no reference model in this preset")
    drawn = np.zeros(len(ax), dtype=bool)  # per panel: a point at a positive σ was drawn
    colors = plt.get_cmap("tab10")(np.arange(max(len(refs), 1)) % 10)
    for m, c in zip(refs, colors, strict=False):
        sw = read_table(ctx.path(plan.analysis_dir(ctx.preset, "noise_sweep", m)) / "noise_sweep.csv")
        od = ctx.path(plan.analysis_dir(ctx.preset, "orbits", m))
        size = read_table(od / "orbit_size.csv")
        fit = read_table(od / "orbit_fit.csv")
        s = sw["sigma"]
        drawn[0] |= _line(ax[0], s, sw["p_sw_dom"], "-o", ms=2, color=c, label=m.hmm)
        drawn[0] |= _line(ax[0], s, sw["tr_dom"], "--", color=c, lw=0.8)
        drawn[1] |= _line(ax[1], s, sw["euclid_rnn"], "-o", ms=2, color=c, label=m.hmm)
        drawn[1] |= _line(ax[1], s, sw["euclid_base"], "--", color=c, lw=0.8)
        drawn[2] |= _line(ax[2], s, sw["p_sw_emit"], "-o", ms=2, color=c, label=m.hmm)
        p_y = finite_max(sw["p_y"].iloc[:1])
        if np.isfinite(p_y):
            ax[2].axhline(p_y, color=c, ls=":", lw=0.8)
        drawn[3] |= _line(ax[3], s, sw["transmat_sse"], "-o", ms=2, color=c, label=m.hmm)
        drawn[3] |= _line(ax[3], s, sw["freq_l1"], "--", color=c, lw=0.8)
        rs = size[size["in_radius_sweep"].astype(bool)] if "in_radius_sweep" in size else size
        drawn[4] |= _line(ax[4], rs["sigma"], rs["r_origin"], "o", ms=3, color=c, label=m.hmm)
        f = fit[(fit["quantity"] == "r_origin") & (fit["regressor"] == "sigma")]
        top = finite_max(rs["sigma"])
        if len(f) and np.isfinite(f[["slope", "intercept"]].iloc[0].to_numpy(dtype=float)).all() and np.isfinite(top):
            xx = np.linspace(0, top, 20)
            ax[4].plot(xx, f["slope"].iloc[0] * xx + f["intercept"].iloc[0], color=c, lw=0.8)
        ok = finite(rs, "sigma", "area95")
        ok = ok[(ok["area95"] > 0) & (ok["sigma"] > 0)]
        if len(ok):
            f2 = fit[(fit["quantity"] == "area95") & (fit["regressor"] == "loglog")]
            slope = f2["slope"].iloc[0] if len(f2) else np.nan
            ax[5].loglog(ok["sigma"], ok["area95"], "-o", ms=3, color=c, label=f"{m.hmm}: slope {slope:.2f}")
    if refs:
        ax[2].axhline(2 / 3, color="0.6", lw=0.8)
        if not ax[5].lines:
            note(ax[5], "KDE degenerate at every σ")
        for a, ok in zip(ax[:5], drawn, strict=False):
            if not ok:
                note(a, f"no finite value at a positive σ\n({RUNAWAY})")
    for a, ok in zip(ax[:4], drawn, strict=False):
        if ok:
            a.set_xscale("log")
    titles = [("switching of the dominant output", "p_sw (—), TR (- -)"),
              ("emission match", "matched distance (—), baseline (- -)"),
              ("emitted-switch probability", "p_sw of emissions; p_y dotted"),
              ("emission statistics errors", "Σ D_kl (—), freq. L1 (- -)"),
              ("orbit radius", "r_origin (PC1–PC2)"), ("95 % KDE area", "area")]
    for i, (a, (t, yl)) in enumerate(zip(ax, titles, strict=True)):
        a.set(title=t, xlabel="σ (input-noise std)", ylabel=yl)
        panel_label(a, "ABCDEF"[i])
        if refs:
            a.legend(fontsize=5, frameon=False, loc="best")
    fig.suptitle("Noise sweep (σ = input-noise std): dominant-output statistics must be σ-invariant (P2); "
                 "emission match vs σ (expected best near the training level σ = 1)")
    fig.tight_layout()
    return fig
