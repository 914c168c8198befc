"""PCA with the project's conventions: mean-centred, each component sign-fixed so that its
largest-magnitude loading is positive.

Trained networks can run away (activity growing to 1e300 or overflowing to inf): rows that are not
finite are left out of the fit, and the states are divided by their largest magnitude before the
SVD (components and explained-variance ratios do not depend on that scale), so a huge but finite
cloud never makes LAPACK fail to converge.  With fewer than two finite rows the fit is degenerate:
zero mean, the first coordinate axes as components and explained variance 0 (``n_fit`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PCA:
    mean: np.ndarray  # (H,)
    components: np.ndarray  # (k, H), unit rows
    explained_variance_ratio: np.ndarray  # (k,)
    n_fit: int = -1  # finite rows the fit used (-1: not recorded)

    def transform(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return (np.asarray(x) - self.mean) @ self.components.T


def _svd(xc: np.ndarray):
    """Singular values and right vectors of a centred, scaled matrix; the covariance eigenproblem
    if LAPACK's divide-and-conquer SVD does not converge."""
    try:
        _, s, vt = np.linalg.svd(xc, full_matrices=False)
        return s, vt
    except np.linalg.LinAlgError:
        evals, evecs = np.linalg.eigh(xc.T @ xc)
        order = np.argsort(evals)[::-1]
        return np.sqrt(np.clip(evals[order], 0.0, None)), evecs[:, order].T


def fit_pca(x: np.ndarray, n_components: int) -> PCA:
    x = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
    x = x[np.isfinite(x).all(axis=1)]
    width = x.shape[1]
    if len(x) < 2:
        k = max(min(n_components, width), 1)
        return PCA(np.zeros(width), np.eye(width)[:k], np.zeros(k), len(x))
    scale = float(np.abs(x).max())
    scale = scale if scale > 0 else 1.0
    xs = x / scale
    mean_s = xs.mean(axis=0)
    s, vt = _svd(xs - mean_s)
    var = s**2
    total = var.sum()
    k = min(n_components, vt.shape[0])
    comps = vt[:k].copy()
    idx = np.argmax(np.abs(comps), axis=1)
    signs = np.sign(comps[np.arange(k), idx])
    signs[signs == 0] = 1.0
    comps *= signs[:, None]
    evr = var[:k] / total if total > 0 else np.zeros(k)
    return PCA(mean_s * scale, comps, evr, len(x))


# the σ = 1 PCA the state_space analysis writes into its folder: loadings (mean and components) and
# the explained variance ratios
PCA_LOADINGS = "pca_loadings.csv"
PCA_GLOBAL = "pca_global.csv"


def load_pca(folder) -> PCA:
    """The σ = 1 PCA the state_space analysis wrote into ``folder`` (PCA_LOADINGS, PCA_GLOBAL), so other
    analyses of the same model project onto the same axes."""
    from pathlib import Path

    from ..io import read_table

    folder = Path(folder)
    load = read_table(folder / PCA_LOADINGS)
    comps = load[[c for c in load.columns if c.startswith("pc")]].to_numpy().T
    evr = read_table(folder / PCA_GLOBAL)["evr"].to_numpy()
    return PCA(load["mean"].to_numpy(), comps, evr[:len(comps)])
