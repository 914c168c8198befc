"""Noise-sustained orbits and their size vs the noise level (docs/method.md §4.2, §6 D5).

Noise levels σ are **standard deviations** of the input, x_t = σ ξ_t.  All levels are driven by the
same ξ (common random numbers), so by P2 the states satisfy h_t(σ) = σ h_t(1) exactly: orbit radii
grow as σ, KDE areas as σ², and any departure is a bug (a bias or a non-zero h_0).

* Contours (the authors' display): the states of each σ projected on the σ = 1 PCA (the one the
  state_space analysis wrote), a Gaussian KDE with Scott's bandwidth × ``bw_adjust`` on a grid, and
  the iso-proportion levels 0.01, 0.05 (the 95 %-mass region) and 0.2 (the proportion of mass *below*
  the level, seaborn's convention).
* Size (ours): r_origin = mean_t ‖V₂ᵀ h_t‖ (distance from the fixed point 0 in the PC1–PC2 plane),
  r_center = mean_t ‖V₂ᵀ(h_t − h̄_σ)‖, area95 = area of the 95 % KDE region, and the rotation per step
  around the orbit centre (degrees; the circular mean of the angle increments).  Linear fits of each size on σ and σ²
  and the log-log slope (P2 predicts 1 for radii and 2 for the area).

Tables: orbit_contours.parquet (sigma, t, pc1, pc2), orbit_density.parquet (sigma, ix, iy, pc1,
pc2, density: the KDE grid a figure contours), orbit_size.csv, orbit_fit.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import gaussian_kde

from .pca import PCA, PCA_LOADINGS, fit_pca, load_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network

DEFAULTS = {
    "warmup": 100,
    "steps": 10000,
    "contour_sigmas": [0.1, 1.0, 2.0, 3.0, 4.0],
    "radius_sigmas": [0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0],
    "bw_adjust": 3.0,
    "grid": 100,
    "kde_max_points": 10000,
    "levels": [0.01, 0.05, 0.2],
}


def sigma_runs(net: Network, xi: np.ndarray, sigmas, warmup: int) -> np.ndarray:
    """States of one trajectory per σ from h_0 = 0 with inputs σ ξ_t (same ξ for every σ, batched).

    ``xi`` is (warmup + steps, d); returns (steps, n_sigma, H)."""
    sig = np.asarray(sigmas, dtype=np.float64)
    x = sig[None, :, None] * xi[:, None, :]
    return net.run(np.zeros((len(sig), net.hidden)), x)[warmup:]


def orbit_radii(states: np.ndarray, components: np.ndarray) -> dict:
    """r_origin, r_center and mean rotation (deg/step) of states (T, H) in the plane of ``components`` (2, H)."""
    v2 = np.asarray(components)[:2]
    y = states @ v2.T
    yc = y - y.mean(axis=0)
    z = yc[:, 0] + 1j * yc[:, 1]
    step = z[1:] * np.conj(z[:-1])  # e^{iΔ} up to a positive factor
    step = step[np.abs(step) > 0]
    rot = float(np.degrees(np.angle(np.mean(step / np.abs(step))))) if len(step) else np.nan  # circular mean of Δ
    return {"r_origin": float(np.linalg.norm(y, axis=1).mean()), "r_center": float(np.linalg.norm(yc, axis=1).mean()),
            "rotation_deg": rot}


def iso_proportion_levels(density: np.ndarray, proportions) -> np.ndarray:
    """Density thresholds whose lower set holds the given proportions of the (grid) mass."""
    d = np.sort(np.asarray(density, dtype=np.float64).ravel())
    c = np.cumsum(d)
    if c[-1] <= 0:
        return np.full(len(proportions), np.nan)
    c /= c[-1]
    idx = np.minimum(np.searchsorted(c, np.asarray(proportions)), len(d) - 1)
    return d[idx]


def kde_grid(points: np.ndarray, bw_adjust: float = 3.0, grid: int = 100):
    """Gaussian KDE (Scott × bw_adjust, seaborn's ``bw_adjust``) of 2-D points on a grid×grid lattice
    covering them (± 3 kernel widths).

    Returns (xs, ys, density (grid, grid) indexed [iy, ix]) or None if the cloud is degenerate."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < 3 or not np.all(np.isfinite(pts)):
        return None
    factor = len(pts) ** (-1.0 / 6.0) * bw_adjust  # Scott's factor n^(-1/(d+4)) for d = 2
    try:
        kde = gaussian_kde(pts.T, bw_method=factor)
    except (np.linalg.LinAlgError, ValueError):
        return None
    pad = 3.0 * np.sqrt(np.diag(kde.covariance))
    xs = np.linspace(pts[:, 0].min() - pad[0], pts[:, 0].max() + pad[0], grid)
    ys = np.linspace(pts[:, 1].min() - pad[1], pts[:, 1].max() + pad[1], grid)
    gx, gy = np.meshgrid(xs, ys)
    dens = kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(grid, grid)
    return xs, ys, dens


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R² (NaN where fewer than 2 finite points)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return np.nan, np.nan, np.nan
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    resid = y[ok] - (slope * x[ok] + intercept)
    ss = np.sum((y[ok] - y[ok].mean()) ** 2)
    r2 = 1.0 - np.sum(resid**2) / ss if ss > 0 else 1.0
    return float(slope), float(intercept), float(r2)


def size_fits(size: pd.DataFrame) -> pd.DataFrame:
    """Fits of r_origin, r_center, area95 on σ, σ² and in log-log."""
    rows = []
    s = size["sigma"].to_numpy(float)
    for q in ("r_origin", "r_center", "area95"):
        y = size[q].to_numpy(float)
        for reg, x, yy in (("sigma", s, y), ("sigma2", s**2, y),
                           ("loglog", np.log(s), np.log(np.where(y > 0, y, np.nan)))):
            slope, icpt, r2 = linear_fit(x, yy)
            rows.append({"quantity": q, "regressor": reg, "slope": slope, "intercept": icpt, "r2": r2})
    return pd.DataFrame(rows)


def orbit_analysis(net: Network, xi: np.ndarray, p: dict, pca: PCA | None, rng: np.random.Generator) -> dict:
    contour_s = [float(s) for s in p["contour_sigmas"]]
    sigmas = sorted(set(contour_s) | {float(s) for s in p["radius_sigmas"]} | {1.0})
    states = sigma_runs(net, xi, sigmas, p["warmup"])
    if pca is None:
        pca = fit_pca(states[:, sigmas.index(1.0)], 2)
    comps = pca.components[:2] if len(pca.components) >= 2 else np.vstack([pca.components, np.zeros((1, net.hidden))])[:2]
    proportions = [float(q) for q in p["levels"]]
    n_steps = states.shape[0]
    # one subsample for every σ, so the KDEs stay exact scaled copies (P2)
    sub = np.sort(rng.choice(n_steps, p["kde_max_points"], replace=False)) if n_steps > p["kde_max_points"] else np.arange(n_steps)
    size_rows, contour_parts, dens_parts = [], [], []
    for k, s in enumerate(sigmas):
        h = states[:, k]
        pcs = pca.transform(h)[:, :2] if pca.components.shape[0] >= 2 else np.column_stack([pca.transform(h)[:, 0], np.zeros(len(h))])
        row = {"sigma": s, **orbit_radii(h, comps), "n_points": len(h)}
        kde = kde_grid(pcs[sub], p["bw_adjust"], p["grid"])
        if kde is None:
            row.update({"area95": np.nan, "kde_ok": False, **{f"level_{q:g}": np.nan for q in proportions}})
        else:
            xs, ys, dens = kde
            levels = iso_proportion_levels(dens, proportions)
            cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
            lvl95 = iso_proportion_levels(dens, [0.05])[0]
            row.update({"area95": float((dens >= lvl95).sum() * cell), "kde_ok": True,
                        **{f"level_{q:g}": float(v) for q, v in zip(proportions, levels, strict=True)}})
            if s in contour_s:
                gx, gy = np.meshgrid(np.arange(len(xs)), np.arange(len(ys)))
                dens_parts.append(pd.DataFrame({"sigma": s, "ix": gx.ravel(), "iy": gy.ravel(), "pc1": xs[gx.ravel()],
                                                "pc2": ys[gy.ravel()], "density": dens.ravel()}))
        if s in contour_s:
            contour_parts.append(pd.DataFrame({"sigma": s, "t": np.arange(len(h)), "pc1": pcs[:, 0], "pc2": pcs[:, 1]}))
        size_rows.append(row)
    size = pd.DataFrame(size_rows)
    size["in_radius_sweep"] = size["sigma"].isin([float(s) for s in p["radius_sigmas"]])
    fit = size_fits(size[size["in_radius_sweep"]])
    dens = pd.concat(dens_parts, ignore_index=True) if dens_parts else pd.DataFrame(
        columns=["sigma", "ix", "iy", "pc1", "pc2", "density"])
    return {"orbit_contours.parquet": pd.concat(contour_parts, ignore_index=True), "orbit_density.parquet": dens,
            "orbit_size.csv": size, "orbit_fit.csv": fit}


def orbits(ctx: AnalysisContext) -> dict:
    net, p = ctx.network(), ctx.params
    xi = ctx.rng("xi").standard_normal((p["warmup"] + p["steps"], net.dim))
    ss = ctx.analysis_dir("state_space")
    pca = load_pca(ss) if (ss / PCA_LOADINGS).exists() else None
    return orbit_analysis(net, xi, p, pca, ctx.rng("kde"))


ANALYSIS = Analysis(name="orbits", run=orbits, defaults=DEFAULTS, after=("state_space",), mem_mb=4000, runtime_min=30)
