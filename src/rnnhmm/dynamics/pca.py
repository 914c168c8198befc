"""PCA with the project's conventions: mean-centred, each component sign-fixed so that its
largest-magnitude loading is positive (SCIENCE.md §0)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PCA:
    mean: np.ndarray  # (H,)
    components: np.ndarray  # (k, H), unit rows
    explained_variance_ratio: np.ndarray  # (k,)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) - self.mean) @ self.components.T


def fit_pca(x: np.ndarray, n_components: int) -> PCA:
    x = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
    mean = x.mean(axis=0)
    xc = x - mean
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    var = s**2
    total = var.sum()
    k = min(n_components, vt.shape[0])
    comps = vt[:k].copy()
    idx = np.argmax(np.abs(comps), axis=1)
    signs = np.sign(comps[np.arange(k), idx])
    signs[signs == 0] = 1.0
    comps *= signs[:, None]
    evr = var[:k] / total if total > 0 else np.zeros(k)
    return PCA(mean, comps, evr)
