"""Ablation and excitation of kick groups with a gain μ (docs/method.md §4.10, §6 D8–D9).

For kick group g (source output from ``kick_neurons``) and three conditions:

| condition | target set S                                                     | what μ scales            |
|-----------|------------------------------------------------------------------|--------------------------|
| kick      | G_g                                                              | c_rec = μ on S           |
| noise     | ∪_{i∈G_g} top_k(i) \\ (G1 ∪ G2), top_k(i) = k largest W[i, j]     | c_in = μ on S            |
| control   | neurons outside ∪_{i∈G1∪G2} top_k'(i), minus G1 ∪ G2 (or random) | c_in = μ on S            |

The forward pass is a = c_rec ⊙ (W h) + c_in ⊙ (U x); the Jacobian of a step is diag(1[a_{t+1} > 0])·diag(c_rec)·W.
So for the kick condition μ scales the recurrent drive in both the forward pass and the Jacobian; for
the input conditions μ scales the noise input only, which enters the Jacobian through the activation
pattern alone.  μ = 1 is the identity.  All μ of one condition run as one batch:

(a) a free run of ``free_steps`` steps from a common post-warm-up state with the same noise for every μ;
(b) per switch s (but the last): n_s = Σ_{t=s−15}^{s+14} n_critical(J_t), ε_im = 0.06, windows clipped
    at the run edges; with fewer than 2 switches the μ = 1 switch times are used (flagged, D9);
(c) ``locate`` (§4.6) with θ_slow = 6 on a nominal run leaving the group's source, then 100 runs ×
    100 steps from h_{t_c−1} with x'_t = √0.75·x_nom + 0.5·ε_t (common to every μ), projected on the
    nominal PCA(2), and the escape fraction (runs whose dominant output leaves the source).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io import read_json
from .groups import KICK_GROUPS, found_groups
from .locate import locate
from .pca import fit_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network, gain_vector, mix_noise
from .spectra import critical_pairs_at_switches
from .switching import switch_times

DEFAULTS = {
    "mus": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0],  # 0, 0.1, ..., 2
    "mu_excite": 1.9,
    "warmup": 100,
    "free_steps": 1000,
    "half_window": 15,
    "eps_im": 0.06,  # spectra.EPS_IM_ABLATION (a literal: the workflow reads DEFAULTS without importing)
    "noise_top": 60,
    "control_top": 35,
    "control": "authors",
    "theta_slow": 6.0,
    "locate_steps": 2000,
    "locate_max_runs": 10,
    "n_traj": 100,
    "traj_steps": 100,
    "fresh_weight": 0.5,
    "shown_traj": 3,
}

CONDITIONS = ("kick", "noise", "control")
CP_COLUMNS = ["group", "condition", "mu", "n_switches", "n_leaving", "cp_mean", "cp_std", "n_windows",
              "cp_fallback", "escape_frac", "set_size"]


def top_presynaptic(W: np.ndarray, i: int, k: int) -> np.ndarray:
    """The k presynaptic neurons j with the largest W[i, j] (k clamped to H)."""
    k = min(int(k), W.shape[1])
    return np.argsort(-W[i], kind="stable")[:k]


def target_sets(W: np.ndarray, groups: dict[int, list[int]], g: int, noise_top: int = 60, control_top: int = 35,
                control: str = "authors", rng: np.random.Generator | None = None) -> dict[str, list[int]]:
    """The three target sets of group g (§4.10 table)."""
    H = W.shape[0]
    kick_all = {i for grp in groups.values() for i in grp}
    noise = set()
    for i in groups[g]:
        noise |= set(top_presynaptic(W, i, noise_top).tolist())
    noise -= kick_all
    if control == "authors":
        covered = set()
        for i in kick_all:
            covered |= set(top_presynaptic(W, i, control_top).tolist())
        ctrl = set(range(H)) - covered - kick_all
    elif control == "random":
        pool = np.array(sorted(set(range(H)) - kick_all - noise), dtype=int)
        size = min(len(noise), len(pool))
        ctrl = set(rng.choice(pool, size=size, replace=False).tolist()) if size else set()
    else:
        raise ValueError(f"control must be 'authors' or 'random', got {control!r}")
    return {"kick": sorted(int(i) for i in groups[g]), "noise": sorted(int(i) for i in noise),
            "control": sorted(int(i) for i in ctrl)}


def condition_gains(hidden: int, condition: str, targets, mus) -> tuple[np.ndarray, np.ndarray]:
    """(c_rec, c_in), each (n_mu, H): μ on the target set of the scaled drive, 1 elsewhere."""
    g = np.stack([gain_vector(hidden, targets, mu) for mu in mus])
    ones = np.ones_like(g)
    return (g, ones) if condition == "kick" else (ones, g)


def free_run(net: Network, h0: np.ndarray, x: np.ndarray, c_rec: np.ndarray, c_in: np.ndarray):
    """All μ at once from the common state h0 with the common noise x (steps, d): states, pre-activations
    (steps, n_mu, H)."""
    n = len(c_rec)
    xs = np.broadcast_to(x[:, None, :], (len(x), n, x.shape[1]))
    return net.run(np.repeat(h0[None], n, axis=0), xs, record_preact=True, c_rec=c_rec, c_in=c_in)


def critical_pairs_vs_mu(net: Network, states, preacts, c_rec, condition: str, mus, half_window: int,
                         eps_im: float, source: int) -> list[dict]:
    """Per μ: switch counts and mean ± std over switches of the critical pairs in the window (§4.10 b)."""
    i_one = int(np.argmin(np.abs(np.asarray(mus) - 1.0)))
    o_all = net.dominant(states)  # (steps, n_mu)
    sw_one = switch_times(o_all[:, i_one])
    rows = []
    for m, mu in enumerate(mus):
        o = o_all[:, m]
        sw = switch_times(o)
        use, fallback = (sw, False) if len(sw) >= 2 else (sw_one, True)
        cp = critical_pairs_at_switches(net.W, preacts[:, m], use, half_window, eps_im,
                                        c_rec[m] if condition == "kick" else None)
        rows.append({"mu": float(mu), "n_switches": int(len(sw)),
                     "n_leaving": int(np.sum(o[sw - 1] == source)) if len(sw) else 0,
                     "cp_mean": float(cp.mean()) if len(cp) else np.nan,
                     "cp_std": float(cp.std()) if len(cp) else np.nan, "n_windows": int(len(cp)),
                     "cp_fallback": bool(fallback)})
    return rows


def trajectories(net: Network, start: np.ndarray, x_nom: np.ndarray, c_rec, c_in, source: int, n_traj: int,
                 fresh_weight: float, rng: np.random.Generator, pca, keep_mu: list[int], shown: int):
    """(escape fraction per μ, table of the shown trajectories) for runs from ``start`` (§4.10 c).

    x_nom (steps, d) is the nominal continuation noise; each run mixes it with fresh noise, the same
    mixed noise for every μ (common random numbers)."""
    n_mu, steps = len(c_rec), len(x_nom)
    xs = mix_noise(np.broadcast_to(x_nom[:, None, :], (steps, n_traj, x_nom.shape[1])), fresh_weight, rng)
    h = np.repeat(start[None], n_mu * n_traj, axis=0)
    cr, ci = np.repeat(c_rec, n_traj, axis=0), np.repeat(c_in, n_traj, axis=0)
    escaped = np.zeros(n_mu * n_traj, dtype=bool)
    show = np.array([m * n_traj + r for m in keep_mu for r in range(min(shown, n_traj))], dtype=int)
    rec = [h[show]]
    for t in range(steps):
        h = net.step(h, np.tile(xs[t], (n_mu, 1)), c_rec=cr, c_in=ci)
        escaped |= net.dominant(h) != source
        rec.append(h[show])
    rec = np.stack(rec)  # (steps + 1, n_show, H)
    pcs = pca.transform(rec.reshape(-1, net.hidden)).reshape(steps + 1, len(show), -1)
    o = net.dominant(rec)
    frames = []
    for s, row in enumerate(show):
        frames.append(pd.DataFrame({"mu_index": row // n_traj, "traj": row % n_traj, "t": np.arange(steps + 1),
                                    "pc1": pcs[:, s, 0], "pc2": pcs[:, s, 1] if pcs.shape[2] > 1 else 0.0,
                                    "o": o[:, s]}))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return escaped.reshape(n_mu, n_traj).mean(axis=1), table


def ablate_group(net: Network, groups: dict[int, list[int]], g: int, source: int, p: dict, rng_for) -> tuple:
    """All conditions of group g: the cp table rows, the trajectory table, the sets and located points."""
    mus = [float(m) for m in p["mus"]]
    sets = target_sets(net.W, groups, g, p["noise_top"], p["control_top"], p["control"], rng_for(f"control:{g}"))
    x = net.noise(rng_for(f"free:{g}"), p["warmup"] + p["free_steps"], 1)[:, 0]
    h0 = net.run(np.zeros(net.hidden), x[:p["warmup"], None])[-1, 0] if p["warmup"] else np.zeros(net.hidden)
    trace: list = []
    loc = locate(net, rng_for(f"locate:{g}"), n_steps=p["locate_steps"], theta_slow=p["theta_slow"], source=source,
                 max_runs=p["locate_max_runs"], warmup=p["warmup"], tail=p["traj_steps"], trace=trace)
    shown_mu = [0.0, 1.0, float(p["mu_excite"])]
    keep = sorted({int(np.argmin(np.abs(np.asarray(mus) - v))) for v in shown_mu})
    pca = None
    if loc is not None:
        pca = fit_pca(loc.h, 2)
        start = loc.h[loc.t_c - 1]
        x_nom = loc.x[loc.t_c: loc.t_c + p["traj_steps"]]
    rows, trajs = [], []
    for cond in CONDITIONS:
        c_rec, c_in = condition_gains(net.hidden, cond, sets[cond], mus)
        states, pre = free_run(net, h0, x[p["warmup"]:], c_rec, c_in)
        cp_rows = critical_pairs_vs_mu(net, states, pre, c_rec, cond, mus, p["half_window"], p["eps_im"], source)
        esc = np.full(len(mus), np.nan)
        if loc is not None:
            esc, tbl = trajectories(net, start, x_nom, c_rec, c_in, source, p["n_traj"], p["fresh_weight"],
                                    rng_for(f"traj:{g}:{cond}"), pca, keep, p["shown_traj"])
            tbl.insert(0, "condition", cond)
            tbl.insert(0, "group", g)
            tbl.insert(3, "mu", np.asarray(mus)[tbl["mu_index"].to_numpy()])
            trajs.append(tbl.drop(columns="mu_index"))
        for r, e in zip(cp_rows, esc, strict=True):
            rows.append({"group": g, "condition": cond, **r, "escape_frac": float(e), "set_size": len(sets[cond])})
    info = {"sets": sets, "source": int(source), "locate": loc.points() if loc is not None else None,
            "locate_trace": trace,
            "traj_status": "ok" if loc is not None else "no transition located (trajectories skipped)"}
    if loc is not None:
        info["pca_evr"] = [float(v) for v in pca.explained_variance_ratio]
    return rows, trajs, info


def analyse(ctx: AnalysisContext) -> dict:
    p = ctx.params
    kick = read_json(ctx.analysis_dir("kick_neurons") / KICK_GROUPS)
    groups = found_groups(kick)
    net = ctx.network()
    rows, trajs, info = [], [], {}
    for label, g in sorted(kick.get("groups", {}).items(), key=lambda kv: int(kv[0])):
        gi = int(label)
        if gi not in groups:
            info[label] = {"status": g.get("status", "no kick group found"), "source": g.get("source")}
            continue
        r, t, i = ablate_group(net, groups, gi, int(g["source"]), p, ctx.rng)
        rows += r
        trajs += t
        info[label] = {"status": "ok", **i}
    cp = pd.DataFrame(rows, columns=CP_COLUMNS)
    traj_cols = ["group", "condition", "mu", "traj", "t", "pc1", "pc2", "o"]
    traj = pd.concat(trajs, ignore_index=True) if trajs else pd.DataFrame(columns=traj_cols)
    status = "ok" if rows else f"no kick group found ({kick.get('status')})"
    sets_json = {"model": ctx.spec.id, "status": status, "groups": info, "mus": p["mus"],
                 "mu_excite": p["mu_excite"], "control": p["control"],
                 "scaled": {"kick": "c_rec (forward pass and Jacobian)",
                            "noise": "c_in (forward pass; Jacobian via the activation pattern)",
                            "control": "c_in (forward pass; Jacobian via the activation pattern)"}}
    return {"ablation_cp.csv": cp, "ablation_traj.parquet": traj, "ablation_sets.json": sets_json}


ANALYSIS = Analysis(name="ablation", run=analyse, defaults=DEFAULTS, after=("kick_neurons",), mem_mb=4000,
                    runtime_min=60)
