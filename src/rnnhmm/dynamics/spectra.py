"""Jacobian spectra (docs/method.md §0): J = diag(mask) diag(c_rec) W, eigenvalues in float64, batched.

The Möbius map m(λ) = (λ − 1)/(λ + 1) sends the unit circle to the imaginary axis.  *Unstable*:
|λ| > 1.  *Critical*: |Re m| < 0.1 and Im m > ε_im (one member per conjugate pair, so counts are
critical pairs).  Jacobians are built per chunk and never stored for all time steps at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CRITICAL_RE = 0.1
EPS_IM_EVOLUTION = 0.05
EPS_IM_ABLATION = 0.06


def mobius(lam: np.ndarray) -> np.ndarray:
    lam = np.asarray(lam, dtype=np.complex128)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (lam - 1.0) / (lam + 1.0)


def is_unstable(lam: np.ndarray) -> np.ndarray:
    return np.abs(lam) > 1.0


def is_critical(lam: np.ndarray, eps_im: float = EPS_IM_EVOLUTION) -> np.ndarray:
    m = mobius(lam)
    return (np.abs(m.real) < CRITICAL_RE) & (m.imag > eps_im)


def eigvals_masked(W: np.ndarray, masks: np.ndarray, c_rec: np.ndarray | None = None, chunk: int = 256) -> np.ndarray:
    """Eigenvalues of diag(mask_t) diag(c_rec) W for each mask row; masks (n, H) -> (n, H) complex.

    With the active units S first, diag(mask) W = [[W_SS, W_SN], [0, 0]] is block upper-triangular, so
    its spectrum is eig(W_SS) plus H − |S| zeros: only the active sub-matrix is solved (about 20× faster
    at H = 150), batched over masks with the same number of active units.  Row order: the |S|
    eigenvalues of W_SS, then the zeros."""
    masks = np.asarray(masks, dtype=bool)
    w = np.asarray(W, dtype=np.float64)
    if c_rec is not None:
        w = np.asarray(c_rec, dtype=np.float64)[:, None] * w
    out = np.zeros(masks.shape, dtype=np.complex128)
    sizes = masks.sum(axis=1)
    for s in np.unique(sizes):
        if s == 0:
            continue
        rows = np.flatnonzero(sizes == s)
        for i in range(0, len(rows), chunk):
            r = rows[i:i + chunk]
            idx = np.nonzero(masks[r])[1].reshape(len(r), s)
            out[r, :s] = np.linalg.eigvals(w[idx[:, :, None], idx[:, None, :]])
    return out


@dataclass(frozen=True)
class SpectrumCounts:
    n_unstable: np.ndarray  # (n,) int
    n_critical: np.ndarray  # (n,) int
    rho: np.ndarray  # (n,) spectral radius


def count_spectra(W: np.ndarray, masks: np.ndarray, eps_im: float = EPS_IM_EVOLUTION,
                  c_rec: np.ndarray | None = None, chunk: int = 256) -> SpectrumCounts:
    """Per mask: number of unstable eigenvalues, number of critical pairs and the spectral radius.

    Identical masks are solved once (activation patterns repeat a lot along a trajectory)."""
    masks = np.asarray(masks, dtype=bool)
    uniq, inverse = np.unique(masks, axis=0, return_inverse=True)
    lam = eigvals_masked(W, uniq, c_rec, chunk)
    nu = is_unstable(lam).sum(axis=1)
    nc = is_critical(lam, eps_im).sum(axis=1)
    rho = np.abs(lam).max(axis=1)
    inverse = inverse.ravel()
    return SpectrumCounts(nu[inverse], nc[inverse], rho[inverse])


def critical_pairs_at_switches(W: np.ndarray, preacts: np.ndarray, switches: np.ndarray, half_window: int = 15,
                               eps_im: float = EPS_IM_ABLATION, c_rec: np.ndarray | None = None) -> np.ndarray:
    """n_s = Σ_{t=s−hw}^{s+hw−1} n_critical(J_t) for every switch s except the last (§4.10 b, §6 D8–D9).

    ``preacts`` (n, H) are a_1..a_n of a run (row i is the step into state i).  J_t, the step from state t to
    t+1, is diag(1[a_{t+1} > 0])·diag(c_rec)·W; windows are clipped to t ∈ [0, n−2], never wrapped."""
    n = len(preacts)
    sw = np.asarray(switches, dtype=int)[:-1]
    if not len(sw) or n < 2:
        return np.zeros(0)
    wins = [np.arange(max(s - half_window, 0), min(s + half_window, n - 1)) for s in sw]
    need = np.unique(np.concatenate(wins)) if wins else np.zeros(0, dtype=int)
    counts = np.zeros(n - 1)
    if len(need):
        counts[need] = count_spectra(W, preacts[need + 1] > 0, eps_im=eps_im, c_rec=c_rec).n_critical
    return np.array([counts[w].sum() for w in wins], dtype=float)
