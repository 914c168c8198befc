"""Figure N1 (ours): solved fixed points vs the empirical fixed point (docs/method.md §4.1 steps 5–6, §6 D3).

Columns: the reference model of every HMM.  Row 1: Jacobian spectra D_s W of the solved objects
(fixed rays red, attracting invariant rays purple, slow rays grey, the empirical endpoint's pattern
black ×) against the unit circle.  Row 2: gain of each ray (v·F0(v); 1 for a ray of fixed points)
against its residual speed q = ½‖F0(v) − v‖² on the unit sphere; marker area ∝ basin fraction (share
of the no-input rollouts whose final direction lies on the ray); the origin's contraction rate κ as
a dashed line.  Row 3: positions on the σ = 1 PCA (rays drawn from the origin to the orbit's median
norm) with the empirical endpoint (×), and what each search found (normalised iteration, sphere and
unconstrained speed minimisation, pattern solve).  Only visited activation patterns were solved:
enumerating all 2^H is impossible, so rays in never-visited patterns can be missed.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .panels_global import RAY_STYLE, draw_fixed_points, origin_row, pc_labels
from .style import RUNAWAY, finite, is_finite, note, panel_label

READS = {"analyses": ["state_space", "fixed_points"]}
ANALYSES = READS["analyses"]
KIND_COLOR = {k: v[0] for k, v in RAY_STYLE.items()} | {"empirical_endpoint": "k"}


def models(preset_cfg: dict):
    return selected(READS, preset_cfg)


def _search_text(search) -> str:
    lines = []
    for _, r in search.iterrows():
        lines.append(f"{r['method']}: {int(r['n_found'])}/{int(r['n_starts'])} found"
                     + (f", {int(r['n_zero'])} to 0" if r["n_zero"] else "")
                     + (f", {int(r['n_nonconverged'])} not conv./skipped" if r["n_nonconverged"] else ""))
    return "\n".join(lines)


def render(ctx: FigureContext):
    refs = models(ctx.preset_cfg)
    ncol = max(len(refs), 1)
    fig, axes = plt.subplots(3, ncol, figsize=(3.0 * ncol, 9.0), squeeze=False)
    if not refs:
        note(axes[0, 0], "no reference model in this preset")
    t = np.linspace(0, 2 * np.pi, 200)
    for j, m in enumerate(refs):
        d = ctx.path(plan.analysis_dir(ctx.preset, "fixed_points", m))
        fp = read_table(d / "fixed_points.csv")
        spec = read_table(d / "fp_spectra.csv")
        search = read_table(d / "fp_search.csv")
        evr = read_table(ctx.path(plan.analysis_dir(ctx.preset, "state_space", m)) / "pca_global.csv")["evr"].to_numpy()

        ax = axes[0, j]
        ax.plot(np.cos(t), np.sin(t), color="0.6", lw=0.6)
        for kind in ("slow_ray", "invariant_ray", "fixed_ray", "empirical_endpoint"):
            ids = fp.loc[fp["kind"] == kind, "object_id"]
            if kind == "slow_ray":
                ids = fp[fp["kind"] == kind].sort_values("n_found", ascending=False)["object_id"].head(8)
            s = spec[spec["object_id"].isin(ids)]
            if len(s):
                ax.scatter(s["re"], s["im"], s=10 if kind != "empirical_endpoint" else 14, c=KIND_COLOR[kind],
                           marker="x" if kind == "empirical_endpoint" else "o", alpha=0.7, lw=0.8 if kind == "empirical_endpoint" else 0,
                           label=kind.replace("_", " "))
        if not len(finite(spec, "re", "im")):
            note(ax, "no spectrum" if not len(spec) else f"no finite eigenvalue\n({RUNAWAY})")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set(title=f"{m.id}: spectra of D_s W", xlabel="Re λ", ylabel="Im λ")

        ax = axes[1, j]
        rays = finite(fp[fp["kind"].isin(["fixed_ray", "invariant_ray", "slow_ray"])], "q", "gain")
        origin = origin_row(fp)
        if len(rays):
            ax.scatter(np.maximum(rays["q"], 1e-18), rays["gain"],
                       s=8 + 80 * rays["basin_frac"].where(is_finite(rays["basin_frac"]), 0).clip(0, 1),
                       c=[KIND_COLOR[k] for k in rays["kind"]], alpha=0.7, lw=0)
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        elif fp["kind"].isin(["fixed_ray", "invariant_ray", "slow_ray"]).any():
            note(ax, f"no ray with a finite speed and gain\n({RUNAWAY})")
        else:
            note(ax, "no ray found: only the origin" if origin is not None else "no solved object")
        ax.axhline(1.0, color="0.5", lw=0.6)
        if origin is not None:
            if np.isfinite(float(origin["kappa"])):
                ax.axhline(origin["kappa"], color="k", ls="--", lw=0.8, label=f"origin κ = {origin['kappa']:.3g}")
            ax.set_title(f"origin basin {origin['basin_frac']:.0%}")
            ax.legend(loc="best", fontsize=6, frameon=False)
        else:
            ax.set_title("no origin in the fixed-point table")
        ax.set(xlabel="q on the sphere", ylabel="gain v·F0(v)")

        ax = axes[2, j]
        draw_fixed_points(ax, fp)
        if len(fp) and not len(finite(fp, "pc1", "pc2")):
            note(ax, f"no solved object with a finite position\n({RUNAWAY})")
        e = fp[fp["kind"] == "empirical_endpoint"]
        if len(e):
            e = e.iloc[0]
            ax.scatter([e["pc1"]], [e["pc2"]], marker="x", s=40, c="k", zorder=6,
                       label=f"empirical (‖·‖ = {e['norm']:.2g})")
        else:
            note(ax, "no empirical endpoint")
        xl, yl = pc_labels(evr)
        ax.set(xlabel=xl, ylabel=yl)
        ax.set_title(_search_text(search), fontsize=5, loc="left")
        if j == 0:
            for i, lab in enumerate("ABC"):
                panel_label(axes[i, 0], lab)
            axes[0, 0].legend(loc="best", fontsize=6, frameon=False)
            axes[2, 0].legend(loc="best", fontsize=5, frameon=False)
    fig.suptitle("Fixed points of the input-free map, solved (rays, P1) and empirical (mean rollout endpoint)")
    fig.tight_layout()
    return fig
