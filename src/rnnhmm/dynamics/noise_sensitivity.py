"""Noise sensitivity of cluster vs transition points (docs/method.md §4.6).

``locate`` finds, on a nominal noise-driven run, a long dwell that ends in a switch at t_s, a *cluster
point* t_c inside the dwell and a *transition point* t_k just before the switch, from which fresh-noise
rollouts leave the output quickly and surely (first-passage scan).  It gives up after ``max_runs``
nominal runs (D10) and returns None.  The ablation analysis (§4.10) calls it with θ_slow = 6 and a
required source output.

The test then restarts 100 trajectories of 5 steps from h_{t_c} and h_{t_k} with the nominal
continuation noise mixed with fresh noise, x' = √(1−γ²)·x_nominal + γ·ε (unit variance, D6), and
measures their spread.  Expected: transition points are nearly noise-insensitive, cluster points are not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .locate import locate
from .pca import fit_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network, mix_noise

DEFAULTS = {
    "warmup": 100,
    "n_steps": 2000,
    "theta_slow": 9.0,
    "max_runs": 10,
    "max_candidates": 20,  # candidate switches tried per nominal run, longest dwells first (0 = all; ours, bounds cost)
    "min_start": 200,
    "skip_switches": 4,
    "fpt_rollouts": 100,
    "fpt_steps": 25,
    "fast_m": 3.0,
    "sigma": 1.0,
    "gammas": [0.0, 0.5, 1.0],
    "test_trajectories": 100,
    "test_steps": 5,
    "shown_trajectories": 30,
}


def restart(net: Network, h: np.ndarray, x: np.ndarray, idx: int, gamma: float, rng: np.random.Generator,
            n_traj: int = 100, steps: int = 5, **gains) -> np.ndarray:
    """n_traj trajectories of ``steps`` steps from h[idx] with x'_t = √(1−γ²)·x[idx+t] + γ·ε_t.

    Returns (steps + 1, n_traj, H), row 0 being h[idx]."""
    shared = np.broadcast_to(x[idx + 1: idx + 1 + steps, None, :], (steps, n_traj, x.shape[1]))
    xs = mix_noise(shared, gamma, rng)
    traj = net.run(np.repeat(h[idx][None], n_traj, axis=0), xs, **gains)
    return np.concatenate([np.repeat(h[idx][None, None], n_traj, axis=1), traj])


def spread(traj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step: trace of the across-trajectory covariance (ddof 1) and mean distance to the mean."""
    mean = traj.mean(axis=1, keepdims=True)
    dev = traj - mean
    n = traj.shape[1]
    cov_trace = (dev**2).sum(axis=(1, 2)) / max(n - 1, 1)
    return cov_trace, np.linalg.norm(dev, axis=2).mean(axis=1)


def _empty_outputs(reason: str, trace: list, p: dict) -> dict:
    points = {"found": False, "reason": reason, "runs": len(trace), "theta_slow": p["theta_slow"], "trace": trace}
    return {
        "ns_points.json": points,
        "ns_fpt.csv": pd.DataFrame(columns=["u", "m", "f", "o_u"]),
        "ns_traj.parquet": pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                         [("point", str), ("gamma", float), ("traj", int), ("t", int),
                                          ("pc1", float), ("pc2", float)]}),
        "ns_spread.csv": pd.DataFrame(columns=["point", "gamma", "t", "space", "cov_trace", "mean_dist"]),
        "ns_spread_summary.csv": pd.DataFrame(columns=["point", "gamma", "space", "cov_trace", "mean_dist"]),
        "ns_nominal.parquet": pd.DataFrame({c: pd.Series(dtype=float) for c in ["t", "pc1", "pc2", "o"]}),
    }


def run(ctx: AnalysisContext) -> dict:
    p, net = ctx.params, ctx.network()
    trace: list = []
    res = locate(net, ctx.rng("locate"), n_steps=p["n_steps"], theta_slow=p["theta_slow"], max_runs=p["max_runs"],
                 warmup=p["warmup"], sigma=p["sigma"], max_candidates=p["max_candidates"] or None,
                 min_start=p["min_start"], skip_switches=p["skip_switches"], fpt_rollouts=p["fpt_rollouts"],
                 fpt_steps=p["fpt_steps"], fast_m=p["fast_m"], tail=p["test_steps"], trace=trace)
    if res is None:
        n_sw = sum(r["n_switches"] for r in trace)
        reason = (f"no accepted switch in {len(trace)} nominal runs of {p['n_steps']} steps "
                  f"({n_sw} switches, {sum(r['n_candidates'] for r in trace)} candidates)")
        return _empty_outputs(reason, trace, p)

    pca = fit_pca(res.h[1:], 2)
    rng = ctx.rng("test")
    traj_rows, spread_rows = [], []
    for point, idx in (("cluster", res.t_c), ("transition", res.t_k)):
        for gamma in p["gammas"]:
            tr = restart(net, res.h, res.x, idx, float(gamma), rng, p["test_trajectories"], p["test_steps"])
            pcs = pca.transform(tr)  # (steps+1, n, 2)
            for space, arr in (("H", tr), ("pc12", pcs)):
                ct, md = spread(arr)
                for t in range(1, len(ct)):
                    spread_rows.append({"point": point, "gamma": float(gamma), "t": t, "space": space,
                                        "cov_trace": ct[t], "mean_dist": md[t]})
            k = min(p["shown_trajectories"], tr.shape[1])
            steps = tr.shape[0]
            traj_rows.append(pd.DataFrame({
                "point": point, "gamma": float(gamma), "traj": np.tile(np.arange(k), steps),
                "t": np.repeat(np.arange(steps), k), "pc1": pcs[:, :k, 0].ravel(),
                "pc2": pcs[:, :k, 1].ravel() if pcs.shape[-1] > 1 else 0.0}))
    spread_tbl = pd.DataFrame(spread_rows)
    summary = (spread_tbl.groupby(["point", "gamma", "space"], sort=False)[["cov_trace", "mean_dist"]].mean()
               .reset_index())
    nom_pc = pca.transform(res.h)
    nominal = pd.DataFrame({"t": np.arange(len(res.h)), "pc1": nom_pc[:, 0],
                            "pc2": nom_pc[:, 1] if nom_pc.shape[1] > 1 else 0.0, "o": res.o})
    points = {"found": True, **res.points(), "runs": len(trace), "theta_slow": p["theta_slow"],
              "evr": [float(v) for v in pca.explained_variance_ratio], "trace": trace}
    return {"ns_points.json": points, "ns_fpt.csv": res.fpt, "ns_traj.parquet": pd.concat(traj_rows, ignore_index=True),
            "ns_spread.csv": spread_tbl, "ns_spread_summary.csv": summary, "ns_nominal.parquet": nominal}


ANALYSIS = Analysis(name="noise_sensitivity", run=run, defaults=DEFAULTS, mem_mb=2000, runtime_min=30)
