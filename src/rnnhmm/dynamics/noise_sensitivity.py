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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .pca import fit_pca
from .registry import Analysis, AnalysisContext
from .residency import first_passage
from .simulate import Network
from .switching import switch_times

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


@dataclass
class LocateResult:
    """A located switch on a nominal run.  Index t refers to h[t]; h[t] = F(h[t−1], x[t]) for t ≥ 1,
    h[0] is the post-warm-up start (x[0] is the warm-up input that produced it)."""

    t_p: int  # previous switch
    t_s: int  # the switch
    t_c: int  # cluster point
    t_k: int  # transition point
    h: np.ndarray  # (n_steps + 1, H) nominal states
    x: np.ndarray  # (n_steps + 1, d) nominal inputs
    o: np.ndarray  # (n_steps + 1,) dominant outputs
    attempt: int  # 1-based nominal run that succeeded
    candidate: int  # 0-based rank of the accepted candidate in that run
    fpt: pd.DataFrame = field(repr=False)  # first-passage scan: u, m, f, o_u

    def points(self) -> dict:
        return {"t_p": self.t_p, "t_s": self.t_s, "t_c": self.t_c, "t_k": self.t_k, "attempt": self.attempt,
                "candidate": self.candidate, "source": int(self.o[self.t_s - 1]), "target": int(self.o[self.t_s])}


def mix_noise(x_nominal: np.ndarray, gamma: float, rng: np.random.Generator) -> np.ndarray:
    """x' = √(1−γ²)·x_nominal + γ·ε with fresh ε ~ N(0, I) of the same shape (unit variance, D6)."""
    x_nominal = np.asarray(x_nominal, dtype=np.float64)
    if gamma == 0:
        return x_nominal.copy()
    return np.sqrt(1.0 - gamma**2) * x_nominal + gamma * rng.standard_normal(x_nominal.shape)


def nominal_run(net: Network, rng: np.random.Generator, n_steps: int, warmup: int = 100, sigma: float = 1.0):
    """h (n+1, H), x (n+1, d), o (n+1,): n_steps post-warm-up steps from h_0 = 0 with stored inputs."""
    x = net.noise(rng, warmup + n_steps, 1, sigma)[:, 0]
    h = net.run(np.zeros(net.hidden), x[:, None])[:, 0]
    h, x = h[warmup - 1:], x[warmup - 1:]
    return h, x, net.dominant(h)


def candidates(o: np.ndarray, min_start: int = 200, skip_switches: int = 4, source: int | None = None,
               tail: int = 5) -> list[tuple[int, int]]:
    """(t_p, t_s) pairs ranked by dwell length t_s − t_p, descending (ties: earlier first).

    Skip the first ``skip_switches`` switches, keep t_s > min_start and t_s + tail ≤ last index, and
    (ablation) the output before the switch equal to ``source``."""
    s = switch_times(o)
    out = []
    for i in range(max(skip_switches, 1), len(s)):
        t_p, t_s = int(s[i - 1]), int(s[i])
        if t_s <= min_start or t_s + tail > len(o) - 1:
            continue
        if source is not None and int(o[t_s - 1]) != int(source):
            continue
        out.append((t_p, t_s))
    out.sort(key=lambda c: (-(c[1] - c[0]), c[1]))
    return out


def fpt_scan(net: Network, h: np.ndarray, u0: int, u1: int, rng: np.random.Generator, rollouts: int = 100,
             max_steps: int = 25, sigma: float = 1.0, **gains) -> pd.DataFrame:
    """For u in [u0, u1]: m(u) mean first-passage time (censored at max_steps), f(u) switched fraction."""
    u = np.arange(u0, u1 + 1)
    fp = first_passage(net, h[u], rng, rollouts, max_steps, sigma, **gains)
    return pd.DataFrame({"u": u, "m": fp.exit_time.mean(axis=1), "f": fp.switched.mean(axis=1), "o_u": fp.k0})


def transition_point(scan: pd.DataFrame, t_s: int, fast_m: float = 3.0) -> int | None:
    """t_k = min{u < t_s : m(u) < fast_m and f(u) = 1}."""
    sel = scan[(scan["u"] < t_s) & (scan["m"] < fast_m) & (scan["f"] >= 1.0)]
    return int(sel["u"].min()) if len(sel) else None


def is_accepted(scan: pd.DataFrame, t_s: int, t_k: int | None, theta_slow: float) -> bool:
    """t_k exists and some scanned u < t_s is slow: m(u) ≥ θ_slow with f(u) < 1."""
    if t_k is None:
        return False
    slow = scan[(scan["u"] < t_s) & (scan["m"] >= theta_slow) & (scan["f"] < 1.0)]
    return len(slow) > 0


def locate(net: Network, rng: np.random.Generator, n_steps: int = 2000, theta_slow: float = 9.0,
           source: int | None = None, max_runs: int = 10, warmup: int = 100, sigma: float = 1.0,
           max_candidates: int | None = 20, min_start: int = 200, skip_switches: int = 4, fpt_rollouts: int = 100,
           fpt_steps: int = 25, fast_m: float = 3.0, tail: int = 5, trace: list | None = None,
           **gains) -> LocateResult | None:
    """Find cluster and transition points before a switch (§4.6), or None after ``max_runs`` runs (D10).

    Per nominal run: candidate switches ranked by dwell length (at most ``max_candidates`` tried), then
    t_c = max(⌊(t_p + t_s)/2⌋, t_s − 100), the first-passage scan over u ∈ [t_c, t_s + 5], the
    transition point and the acceptance test with ``theta_slow``.  ``tail`` steps of nominal input must
    follow t_s (the continuation noise of the test; ablation needs 100).  If ``trace`` is a list, one
    record per nominal run (attempt, n_switches, n_candidates, tried, accepted) is appended to it.
    Gains (c_rec, c_in) apply to the rollouts of the scan only."""
    for attempt in range(1, max_runs + 1):
        h, x, o = nominal_run(net, rng, n_steps, warmup, sigma)
        cands = candidates(o, min_start, skip_switches, source, tail=max(tail, 5))
        tried = cands if max_candidates is None else cands[:max_candidates]
        rec = {"attempt": attempt, "n_switches": int(len(switch_times(o))), "n_candidates": len(cands),
               "tried": len(tried), "accepted": False}
        for rank, (t_p, t_s) in enumerate(tried):
            t_c = max((t_p + t_s) // 2, t_s - 100)
            scan = fpt_scan(net, h, t_c, t_s + 5, rng, fpt_rollouts, fpt_steps, sigma, **gains)
            t_k = transition_point(scan, t_s, fast_m)
            if is_accepted(scan, t_s, t_k, theta_slow):
                rec["accepted"] = True
                if trace is not None:
                    trace.append(rec)
                return LocateResult(t_p, t_s, t_c, t_k, h, x, o, attempt, rank, scan)
        if trace is not None:
            trace.append(rec)
    return None


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
