"""Readout-axis alignment with the orbit plane vs the number of states (docs/method.md §4.11, claim C7).

One noise-driven run (σ = 1) → PCA(2) with unit loadings v1, v2.  For readout row k:
ŵ_k = A_k/‖A_k‖, p_k = √((ŵ_k·v1)² + (ŵ_k·v2)²) (the length of ŵ_k's projection on the orbit
plane: 1 in the plane, 0 orthogonal to it) and θ_k = arccos(min(p_k, 1)).  Per model
p̄ = the mean of p_k over the symbols some latent state makes most likely (HMM.dominant_outputs): the
rare symbols are excluded (for the linear chains p̄ = (p_O1 + p_O3)/2, O2 excluded).  The figure aggregates p̄ over
seeds per number of states M.

Tables: readout_alignment.csv (hmm, M, seed, k, p, angle_deg), readout_summary.csv (one row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pca import fit_pca
from .registry import Analysis, AnalysisContext
from .simulate import noisy_run

DEFAULTS = {"warmup": 100, "steps": 5000, "sigma": 1.0}


def alignment(A: np.ndarray, components: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p_k and θ_k (degrees) of each readout row of A (K, H) against the plane of ``components`` (2, H)."""
    A = np.asarray(A, dtype=np.float64)
    norms = np.linalg.norm(A, axis=1)
    w = A / np.where(norms > 0, norms, 1.0)[:, None]
    proj = w @ np.asarray(components, dtype=np.float64)[:2].T
    p = np.sqrt(np.sum(proj**2, axis=1))
    p[norms == 0] = np.nan
    return p, np.degrees(np.arccos(np.minimum(p, 1.0)))


def readout_alignment(ctx: AnalysisContext) -> dict[str, pd.DataFrame]:
    net, prm = ctx.network(), ctx.params
    states = noisy_run(net, ctx.rng("run"), prm["steps"], prm["warmup"], prm["sigma"])
    pca = fit_pca(states, 2)
    p, ang = alignment(net.A, pca.components)
    s = ctx.spec
    hmm = ctx.hmm()
    keys = {"hmm": s.hmm, "M": hmm.n_states, "hidden": s.hidden, "dim": s.dim, "seed": s.seed}
    table = pd.DataFrame([{**keys, "k": k, "p": p[k], "angle_deg": ang[k]} for k in range(len(p))])
    main = [k for k in hmm.dominant_outputs() if k < len(p)]
    evr = pca.explained_variance_ratio
    summary = pd.DataFrame([{**keys, "p_bar": float(np.mean(p[main])), "angle_bar": float(np.mean(ang[main])),
                             "evr_pc1": float(evr[0]) if len(evr) else np.nan,
                             "evr_pc2": float(evr[1]) if len(evr) > 1 else np.nan,
                             "state_std": float(states.std()),
                             "note": "" if states.std() > 0 else "activity is constant: PCA plane undefined"}])
    return {"readout_alignment.csv": table, "readout_summary.csv": summary}


ANALYSIS = Analysis(name="readout", run=readout_alignment, defaults=DEFAULTS, needs=("hmm",), mem_mb=2000,
                    runtime_min=15)
