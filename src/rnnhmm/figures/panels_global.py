"""Panels of the global dynamics (figure 2), also drawn by figures N1 and S4: no-input trajectories,
fixed points and rays, noisy states by output, orbit contours."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import RUNAWAY, finite, fmt, is_finite, note, output_color, output_name, outputs_in

RAY_STYLE = {"fixed_ray": ("#d62728", "-", 1.6), "invariant_ray": ("#9467bd", "-", 1.2),
             "slow_ray": ("0.55", ":", 0.6)}
SIGMA_CMAP = "viridis"


def scatter_by_output(ax, df, size=2, alpha=0.5, label=True):
    for o in outputs_in(df["o"]):
        sel = df[df["o"] == o]
        ax.scatter(sel["pc1"], sel["pc2"], s=size, c=output_color(o), alpha=alpha, lw=0,
                   label=output_name(o) if label else None, rasterized=True)


def pc_labels(evr) -> tuple[str, str]:
    evr = np.asarray(evr, dtype=float)
    pct = [f" ({fmt(100 * v, '.0f')} %)" if np.isfinite(v) else "" for v in evr[:2]]
    pct += [""] * (2 - len(pct))
    return f"PC1{pct[0]}", f"PC2{pct[1]}"


def endpoint(table):
    """(pc1, pc2) of the empirical endpoint (endpoint.csv), None when the table has no row."""
    return (table["pc1"].iloc[0], table["pc2"].iloc[0]) if len(table) else None


def draw_noinput(ax, noin, endpoint_pc=None, max_ic: int | None = None):
    """No-input rollouts (grey) with their start points coloured by o and the empirical endpoint (×)."""
    missing = []
    if not len(noin):
        missing.append("no no-input rollout")
    elif not len(finite(noin, "pc1", "pc2")):
        missing.append(f"no finite no-input state ({RUNAWAY})")
    for ic, tr in noin.groupby("ic"):
        if max_ic is not None and ic >= max_ic:
            break
        ax.plot(tr["pc1"], tr["pc2"], color="0.75", lw=0.3, zorder=1)
    scatter_by_output(ax, noin[noin["t"] == 0], size=6, alpha=0.9)
    if endpoint_pc is not None and np.isfinite(np.asarray(endpoint_pc, dtype=float)).all():
        ax.scatter([endpoint_pc[0]], [endpoint_pc[1]], marker="x", s=40, c="k", zorder=4, label="empirical FP")
    else:
        missing.append("no finite empirical endpoint" if endpoint_pc is not None else "no empirical endpoint")
    if missing:
        note(ax, "\n".join(missing), top=True)


def origin_row(fp):
    """The origin's row of fixed_points.csv, None when the table has none."""
    rows = fp[fp["kind"] == "origin"]
    return rows.iloc[0] if len(rows) else None


def draw_fixed_points(ax, fp, max_slow: int = 8, say_missing: bool = True) -> str:
    """Solved objects: the origin and rays drawn from it.  Returns a short summary for a title (without an
    origin row: 'no solved fixed point', also written on the panel unless ``say_missing`` is False)."""
    origin = origin_row(fp)
    if origin is None:
        if say_missing:
            note(ax, "no origin in the fixed-point table")
        return "no solved fixed point"
    ox, oy = origin["pc1"], origin["pc2"]
    ax.scatter([ox], [oy], marker="o", s=36, facecolors="none", edgecolors="k", zorder=5, label="origin (FP)")
    shown = set()
    slow = fp[fp["kind"] == "slow_ray"].sort_values("n_found", ascending=False).head(max_slow)
    for _, r in list(fp[fp["kind"].isin(["fixed_ray", "invariant_ray"])].iterrows()) + list(slow.iterrows()):
        color, ls, lw = RAY_STYLE[r["kind"]]
        ax.plot([ox, r["pc1"]], [oy, r["pc2"]], color=color, ls=ls, lw=lw, zorder=3,
                label=r["kind"].replace("_", " ") if r["kind"] not in shown else None)
        shown.add(r["kind"])
    n_fixed = int((fp["kind"] == "fixed_ray").sum())
    n_inv = int((fp["kind"] == "invariant_ray").sum())
    return f"origin κ = {fmt(origin['kappa'])}; fixed rays: {n_fixed}, invariant rays: {n_inv}"


def contour_failure(dens, degenerate: str) -> str:
    """Why no contour was drawn: no density grid, a runaway one, or ``degenerate``."""
    if not len(dens):
        return "no density grid"
    if not len(finite(dens, "sigma", "pc1", "pc2", "density")):
        return f"density grid: {RUNAWAY}"
    return degenerate


def draw_contours(ax, dens, size, cmap=SIGMA_CMAP, label=True) -> bool:
    """95 % KDE contour per σ (and the 1–20 % band).  Returns False when nothing could be drawn."""
    sigmas = sorted(dens.loc[is_finite(dens["sigma"]), "sigma"].unique()) if len(dens) else []
    colors = plt.get_cmap(cmap)(np.linspace(0.05, 0.9, max(len(sigmas), 1)))
    drawn = False
    for s, c in zip(sigmas, colors, strict=False):
        row = size[np.isclose(size["sigma"].astype(float), s)]
        if not len(row) or not bool(row.iloc[0].get("kde_ok", True)):
            continue
        row = row.iloc[0]
        d = dens[dens["sigma"] == s]
        g = d.groupby(["iy", "ix"])["density"].mean().unstack()  # (iy, ix) is unique in a written table
        xs, ys = np.sort(d["pc1"].unique()), np.sort(d["pc2"].unique())
        z = np.ma.masked_invalid(g.to_numpy(dtype=float))
        if z.ndim != 2 or min(z.shape) < 2 or z.shape != (len(ys), len(xs)) or z.count() == 0 \
                or not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            continue  # not a grid a contour can be drawn on (too few or non-finite points)
        lo, mid, hi = (float(row.get(k, np.nan)) for k in ("level_0.01", "level_0.05", "level_0.2"))
        if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
            ax.contourf(xs, ys, z, levels=[lo, hi], colors=[c], alpha=0.2)
        if np.isfinite(mid) and z.max() > mid:
            ax.contour(xs, ys, z, levels=[mid], colors=[c], linewidths=0.9)
            ax.plot([], [], color=c, lw=1, label=f"σ = {s:g}" if label else None)
            drawn = True
    return drawn
