"""Global dynamics in state space (docs/method.md §4.1 steps 1–4).

PCA of noise-driven activity, no-input trajectories from states on the orbit (which collapse to a
fixed point, claim C2), one trajectory with input, and the authors' empirical fixed-point measure
(the mean endpoint of the no-input rollouts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pca import PCA, PCA_GLOBAL, PCA_LOADINGS, fit_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network, contraction_rate, noisy_run

DEFAULTS = {
    "warmup": 100,
    "pca_steps": 30000,
    "n_components": 10,
    "noinput_starts": 100,
    "noinput_steps": 500,
    "input_steps": 500,
    "sigma": 1.0,
}


def _traj_frame(states: np.ndarray, pca: PCA, net: Network) -> pd.DataFrame:
    """(T, n, H) states -> long table (ic, t, pc1..pc3, o)."""
    t_len, n, _ = states.shape
    pcs = pca.transform(states.reshape(-1, net.hidden))
    k = min(3, pcs.shape[1])
    df = pd.DataFrame({"ic": np.tile(np.arange(n), t_len), "t": np.repeat(np.arange(t_len), n)})
    for i in range(3):
        df[f"pc{i + 1}"] = pcs[:, i] if i < k else 0.0
    df["o"] = net.dominant(states.reshape(-1, net.hidden))
    return df.sort_values(["ic", "t"], kind="stable").reset_index(drop=True)


def global_dynamics(ctx: AnalysisContext) -> dict[str, pd.DataFrame]:
    """Run §4.1 steps 1–4 on the context's model: PCA, no-input and input trajectories, endpoint."""
    net, p, rng_for = ctx.network(), ctx.params, ctx.rng
    fit_states = noisy_run(net, rng_for("pca"), p["pca_steps"], p["warmup"], p["sigma"])
    pca = fit_pca(fit_states, p["n_components"])
    starts_run = noisy_run(net, rng_for("starts"), p["pca_steps"], p["warmup"], p["sigma"])
    pick = rng_for("pick").choice(len(starts_run), size=min(p["noinput_starts"], len(starts_run)), replace=False)
    starts = starts_run[np.sort(pick)]
    noinput = net.run(starts, None, steps=p["noinput_steps"])
    traj_noinput = _traj_frame(np.concatenate([starts[None], noinput]), pca, net)
    x = net.noise(rng_for("input"), p["warmup"] + p["input_steps"], 1, p["sigma"])
    traj_input = _traj_frame(net.run(np.zeros(net.hidden), x)[p["warmup"]:], pca, net)

    ends = noinput[-1]
    endpoint = ends.mean(axis=0)
    end_pc = pca.transform(endpoint[None])[0]
    norms = np.linalg.norm(noinput, axis=-1)  # (T, n)
    kappa = contraction_rate(norms)
    endpoint_tbl = pd.DataFrame([{
        "object_id": 0, "kind": "empirical_endpoint", "norm": float(np.linalg.norm(endpoint)),
        "max_final_norm": float(norms[-1].max()), "frac_grown": float((norms[-1] > norms[0] + 1e-9).mean()),
        "kappa": kappa, "pc1": end_pc[0], "pc2": end_pc[1] if len(end_pc) > 1 else 0.0,
        "pc3": end_pc[2] if len(end_pc) > 2 else 0.0,
    }])
    evr = pd.DataFrame({"component": np.arange(1, len(pca.explained_variance_ratio) + 1),
                        "evr": pca.explained_variance_ratio})
    loadings = pd.DataFrame(pca.components.T, columns=[f"pc{i + 1}" for i in range(pca.components.shape[0])])
    loadings.insert(0, "unit", np.arange(net.hidden))
    loadings.insert(1, "mean", pca.mean)
    return {PCA_GLOBAL: evr, PCA_LOADINGS: loadings, "traj_noinput.parquet": traj_noinput,
            "traj_input.parquet": traj_input, "endpoint.csv": endpoint_tbl}


ANALYSIS = Analysis(name="state_space", run=global_dynamics, defaults=DEFAULTS, mem_mb=4000, runtime_min=30)
