"""Fixed points and invariant rays of the input-free map F0(h) = ReLU(W h), solved properly
(docs/method.md §4.1 steps 5–6, §6 D3).

With no biases F0 is positively homogeneous (P1): the origin is always a fixed point, activation
patterns and Jacobians are constant along rays, and a non-zero fixed point makes its whole ray
fixed.  Plain speed minimisation q(h) = ½‖F0(h) − h‖² therefore collapses to 0, so the searches are
scale-free:

(a) normalised iteration v ← F0(v)/‖F0(v)‖ from orbit states: limits are attracting invariant rays
    with gain λ* = ‖F0(v*)‖ (non-convergence, e.g. a rotating direction, and collapse to 0 in finite
    time are counted);
(b) minimisation of q on the unit sphere (L-BFGS, batched over starts): q < q_fixed is a ray of fixed
    points, otherwise a *slow ray* with gain v·F0(v); plus the unconstrained q(h), whose final ‖h‖
    shows the collapse to 0;
(c) pattern solve: for each visited activation pattern s, the eigenvectors of D_s W with real λ > 0
    that are consistent with s are exact invariant rays (|λ − 1| < eig_tol: fixed rays).  Only
    visited patterns are solved; enumerating all 2^H is impossible.

Per object: the spectrum of D_s W, ρ, unstable and critical counts, and the basin fraction (share of
the no-input rollouts that approach it).  For the origin, κ = exp(slope of log‖h_n‖), the
empirical contraction rate.  The authors' measure (the mean endpoint of the no-input rollouts) is
reported beside them.

Tables: fixed_points.csv (one row per object), fp_spectra.csv (eigenvalues per object),
fp_search.csv (what each search found, including its failures).  Rays are unit vectors (norm 1);
their pc1–pc3 are the projection of the point at the orbit's median norm along the ray (``scale``).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from .pca import PCA, PCA_LOADINGS, fit_pca, load_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network, contraction_rate, noisy_run
from .spectra import eigvals_masked, is_critical, is_unstable

DEFAULTS = {
    "warmup": 100,
    "sigma": 1.0,
    "orbit_steps": 30000,  # noisy run the starts are drawn from
    "n_starts": 512,  # starts of the normalised iteration and of the sphere minimisation
    "iter_max": 2000,
    "iter_tol": 1.0e-10,
    "lbfgs_maxiter": 500,
    "lbfgs_batch": 64,  # starts minimised jointly (the objective is a sum of independent terms)
    "unconstrained_starts": 64,
    "merge_cos": 0.999,
    "q_fixed": 1.0e-10,
    "eig_tol": 1.0e-6,
    "max_patterns": 300,  # most frequent visited patterns solved in (c)
    "noinput_starts": 100,
    "noinput_steps": 500,
    "kappa_window": 100,
    "basin_cos": 0.99,
    "origin_shrink": 0.01,  # a rollout approaches the origin if its final norm < this x its start norm
    "eps_im": 0.05,
}

log = logging.getLogger("rnnhmm")

KINDS = ("origin", "fixed_ray", "invariant_ray", "slow_ray", "empirical_endpoint")


def _tick(t0: float, what: str) -> float:
    t = time.perf_counter()
    log.info("fixed_points: %s took %.2f s", what, t - t0)
    return t


def _norm(x: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis that does not underflow for tiny vectors (collapsing rollouts)."""
    m = np.max(np.abs(x), axis=-1)
    safe = np.where(m > 0, m, 1.0)
    return m * np.linalg.norm(x / safe[..., None], axis=-1)


def _unit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = _norm(x)
    safe = np.where(n > 0, n, 1.0)
    return x / safe[..., None], n


def f0(W: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The input-free map F0(h) = ReLU(W h) for a batch h (n, H)."""
    return np.maximum(h @ W.T, 0.0)


def speed(W: np.ndarray, h: np.ndarray) -> np.ndarray:
    """q(h) = ½‖F0(h) − h‖² per row."""
    return 0.5 * np.sum((f0(W, h) - h) ** 2, axis=-1)


# ---------------------------------------------------------------------- (a) normalised iteration
def normalised_iteration(W: np.ndarray, starts: np.ndarray, iter_max: int, tol: float, growth_window: int = 100):
    """Iterate v <- F0(v)/‖F0(v)‖ for all starts at once (converged rows drop out of the batch).

    Returns v (n, H), gain ‖F0(v)‖ (n,), converged (n,), zero (n,: F0 reached 0 in finite time),
    growth (n,: geometric-mean gain over the last ``growth_window`` iterations, for rows that never
    converged) and the number of iterations."""
    v, n0 = _unit(np.asarray(starts, dtype=np.float64))
    n = len(v)
    zero = n0 == 0
    converged = np.zeros(n, bool)
    gain = np.full(n, np.nan)
    log_sum = np.zeros(n)
    log_cnt = np.zeros(n)
    active = ~zero
    it = 0
    for it in range(1, iter_max + 1):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        f = f0(W, v[idx])
        g = np.linalg.norm(f, axis=1)
        dead = g == 0
        zero[idx[dead]] = True
        active[idx[dead]] = False
        idx, f, g = idx[~dead], f[~dead], g[~dead]
        vn = f / g[:, None]
        dv = np.linalg.norm(vn - v[idx], axis=1)
        v[idx] = vn
        gain[idx] = g
        if it > iter_max - growth_window:
            log_sum[idx] += np.log(g)
            log_cnt[idx] += 1
        done = dv < tol
        converged[idx[done]] = True
        active[idx[done]] = False
    ok = converged
    gain[ok] = np.linalg.norm(f0(W, v[ok]), axis=1)
    growth = np.where(log_cnt > 0, np.exp(log_sum / np.maximum(log_cnt, 1)), np.nan)
    v[zero] = 0.0
    return {"v": v, "gain": gain, "converged": converged, "zero": zero, "growth": growth, "iterations": it}


# ---------------------------------------------------------------------- (b) speed minimisation
def _sphere_objective(W: np.ndarray, n: int, h: int):
    def fg(flat):
        w = flat.reshape(n, h)
        v, nw = _unit(w)
        a = v @ W.T
        mask = a > 0
        r = np.where(mask, a, 0.0) - v
        gv = (r * mask) @ W - r  # dq/dv = (D W − I)ᵀ r
        gw = (gv - v * np.sum(gv * v, axis=1, keepdims=True)) / np.where(nw > 0, nw, 1.0)[:, None]
        return 0.5 * float(np.sum(r * r)), gw.ravel()

    return fg


def _free_objective(W: np.ndarray, n: int, h: int):
    def fg(flat):
        x = flat.reshape(n, h)
        a = x @ W.T
        mask = a > 0
        r = np.where(mask, a, 0.0) - x
        return 0.5 * float(np.sum(r * r)), ((r * mask) @ W - r).ravel()

    return fg


def _lbfgs(objective, x0: np.ndarray, maxiter: int, batch: int) -> tuple[np.ndarray, int]:
    """Minimise a sum of independent per-row terms with L-BFGS, ``batch`` rows at a time."""
    out = np.empty_like(x0)
    iters = 0
    for i in range(0, len(x0), batch):
        blk = x0[i:i + batch]
        res = minimize(objective(len(blk), blk.shape[1]), blk.ravel(), jac=True, method="L-BFGS-B",
                       options={"maxiter": maxiter, "ftol": 0.0, "gtol": 1e-12, "maxcor": 20})
        out[i:i + batch] = res.x.reshape(blk.shape)
        iters = max(iters, int(res.nit))
    return out, iters


def sphere_speed_minima(W: np.ndarray, starts: np.ndarray, maxiter: int, batch: int = 64):
    """Minimise q(v) over the unit sphere (v = w/‖w‖) from each start.  Returns v (n, H), q (n,), iterations."""
    w0, n0 = _unit(np.asarray(starts, dtype=np.float64))
    w0 = w0[n0 > 0]
    if len(w0) == 0:
        return np.zeros((0, W.shape[0])), np.zeros(0), 0
    w, iters = _lbfgs(lambda n, h: _sphere_objective(W, n, h), w0, maxiter, batch)
    v, _ = _unit(w)
    return v, speed(W, v), iters


def unconstrained_speed_minima(W: np.ndarray, starts: np.ndarray, maxiter: int, batch: int = 64):
    """Minimise q(h) without constraint (it must collapse to 0 unless a fixed ray exists)."""
    h0 = np.asarray(starts, dtype=np.float64)
    h, iters = _lbfgs(lambda n, h_: _free_objective(W, n, h_), h0, maxiter, batch)
    return h, speed(W, h), iters


# ---------------------------------------------------------------------- (c) pattern solve
def pattern_rays(W: np.ndarray, patterns: np.ndarray, tol: float = 1e-9, chunk: int = 64):
    """Exact invariant rays of F0 from activation patterns: eigenvectors v of D_s W with real λ > 0,
    sign-fixed, with v_i > 0 exactly where s_i = 1 and (W v)_i <= 0 where s_i = 0.

    Returns (v (m, H) unit rows, λ (m,), index of the pattern (m,))."""
    patterns = np.asarray(patterns, dtype=bool)
    rays, lams, which = [], [], []
    for i in range(0, len(patterns), chunk):
        s = patterns[i:i + chunk]
        lam, vec = np.linalg.eig(s[:, :, None] * W[None])
        for j in range(len(s)):
            for k in np.flatnonzero((np.abs(lam[j].imag) <= 1e-9 * np.maximum(1.0, np.abs(lam[j]))) & (lam[j].real > tol)):
                v = vec[j][:, k].real
                v = v / np.linalg.norm(v)
                if v[s[j]].sum() < 0:
                    v = -v
                scale = np.abs(v).max()
                on, off = s[j], ~s[j]
                wv = W @ v
                if np.all(v[on] > tol * scale) and np.all(np.abs(v[off]) <= tol * scale) and np.all(wv[off] <= tol * scale):
                    rays.append(v)
                    lams.append(float(lam[j][k].real))
                    which.append(i + j)
    h = W.shape[0]
    return (np.array(rays).reshape(-1, h), np.array(lams), np.array(which, dtype=int))


def merge_directions(v: np.ndarray, cos: float, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Group unit vectors whose cosine exceeds ``cos``.  Rows are visited in ``order`` (best first);
    returns the representative row of each group and the group label of every row."""
    n = len(v)
    labels = np.full(n, -1)
    reps: list[int] = []
    if n == 0:
        return np.zeros(0, int), labels
    gram = v @ v.T
    for i in (np.arange(n) if order is None else order):
        if labels[i] >= 0:
            continue
        members = (gram[i] > cos) & (labels < 0)
        labels[members] = len(reps)
        labels[i] = len(reps)
        reps.append(int(i))
    return np.array(reps, dtype=int), labels


# ---------------------------------------------------------------------- the analysis
def solve_fixed_points(net: Network, orbit: np.ndarray, p: dict, pca: PCA | None = None,
                       rng: np.random.Generator | None = None) -> dict[str, pd.DataFrame]:
    """All of §4.1 steps 4–6 from a set of orbit states (m, H)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    W, H = net.W, net.hidden
    orbit = np.asarray(orbit, dtype=np.float64)
    pca = pca if pca is not None else fit_pca(orbit, 3)
    pick = np.sort(rng.choice(len(orbit), size=min(p["n_starts"], len(orbit)), replace=False))
    starts = orbit[pick]
    scale = float(np.median(np.linalg.norm(orbit, axis=1))) or 1.0
    search = []
    t0 = time.perf_counter()

    # step 2 / 4 / origin: no-input rollouts from orbit states
    ni_pick = np.sort(rng.choice(len(orbit), size=min(p["noinput_starts"], len(orbit)), replace=False))
    ni_starts = orbit[ni_pick]
    roll = net.run(ni_starts, None, steps=p["noinput_steps"])  # (T, n, H)
    norms = _norm(roll)
    n0 = _norm(ni_starts)
    final = roll[-1]
    final_dir, final_norm = _unit(final)
    kappa = contraction_rate(norms, p["kappa_window"])
    to_origin = final_norm < p["origin_shrink"] * np.maximum(n0, 1e-300)
    grown = final_norm > n0 * (1 + 1e-9)
    search.append({"method": "noinput_rollouts", "n_starts": len(ni_starts), "n_found": int(to_origin.sum()),
                   "n_zero": int((final_norm == 0).sum()), "n_nonconverged": int(grown.sum()),
                   "detail": f"kappa={kappa:.6g}; {int(to_origin.sum())} approach the origin, {int(grown.sum())} grow"})

    t0 = _tick(t0, "noinput_rollouts")
    # (a) normalised iteration
    it = normalised_iteration(W, starts, p["iter_max"], p["iter_tol"])
    conv = it["converged"]
    nonconv = ~conv & ~it["zero"]
    growth = it["growth"][nonconv]
    search.append({"method": "normalised_iteration", "n_starts": len(starts), "n_found": int(conv.sum()),
                   "n_zero": int(it["zero"].sum()), "n_nonconverged": int(nonconv.sum()),
                   "detail": (f"mean growth factor of non-converged = {np.mean(growth):.6g}" if len(growth)
                              else "all converged or reached 0") + f"; {it['iterations']} iterations"})

    t0 = _tick(t0, "normalised_iteration")
    # (b) speed minimisation on the sphere, and unconstrained
    sv, sq, s_iters = sphere_speed_minima(W, starts, p["lbfgs_maxiter"], p["lbfgs_batch"])
    search.append({"method": "sphere_lbfgs", "n_starts": len(sv), "n_found": int((sq < p["q_fixed"]).sum()),
                   "n_zero": 0, "n_nonconverged": 0,
                   "detail": f"min q = {sq.min() if len(sq) else np.nan:.3g}; max iterations {s_iters}"})
    t0 = _tick(t0, "sphere_lbfgs")
    u_pick = starts[: p["unconstrained_starts"]]
    uh, uq, u_iters = unconstrained_speed_minima(W, u_pick, p["lbfgs_maxiter"], p["lbfgs_batch"])
    un = np.linalg.norm(uh, axis=1)
    search.append({"method": "unconstrained_lbfgs", "n_starts": len(uh), "n_found": int(((uq < p["q_fixed"]) & (un > 1e-6)).sum()),
                   "n_zero": int((un <= 1e-6).sum()), "n_nonconverged": 0,
                   "detail": f"final norm median {np.median(un) if len(un) else np.nan:.3g}, max {un.max() if len(un) else np.nan:.3g} "
                             f"(start median {np.median(np.linalg.norm(u_pick, axis=1)):.3g})"})

    t0 = _tick(t0, "unconstrained_lbfgs")
    # (c) pattern solve on every visited pattern (limits, minima, no-input rollout states)
    visited = np.concatenate([it["v"][~it["zero"]], sv, roll.reshape(-1, H)[_norm(roll.reshape(-1, H)) > 0]])
    pats, counts = np.unique(visited @ W.T > 0, axis=0, return_counts=True)
    nonzero = pats.any(axis=1)  # the all-off pattern is the origin's neighbourhood (J = 0)
    pats, counts = pats[nonzero], counts[nonzero]
    keep = np.argsort(-counts, kind="stable")[: p["max_patterns"]]
    pv, plam, _ = pattern_rays(W, pats[keep])
    search.append({"method": "pattern_solve", "n_starts": len(pats), "n_found": len(pv), "n_zero": 0,
                   "n_nonconverged": max(len(pats) - len(keep), 0),
                   "detail": f"{len(keep)} of {len(pats)} visited patterns solved; "
                             f"{int((np.abs(plam - 1) < p['eig_tol']).sum())} with |λ−1| < {p['eig_tol']:g}"})

    t0 = _tick(t0, "pattern_solve")
    # ---- objects: invariant rays (iteration limits + pattern solutions + sphere minima with q ≈ 0)
    cand_v = [it["v"][conv], pv, sv[sq < p["q_fixed"]]]
    cand_src = [["iteration"] * int(conv.sum()), ["pattern"] * len(pv), ["sphere"] * int((sq < p["q_fixed"]).sum())]
    inv_v = np.concatenate(cand_v) if sum(len(c) for c in cand_v) else np.zeros((0, H))
    inv_src = sum(cand_src, [])
    inv_q = speed(W, inv_v)
    reps, labels = merge_directions(inv_v, p["merge_cos"], np.argsort(inv_q, kind="stable"))
    slow_mask = sq >= p["q_fixed"]
    slow_v, slow_q = sv[slow_mask], sq[slow_mask]
    # a slow minimum on an invariant ray is that ray
    if len(slow_v) and len(reps):
        on_inv = (slow_v @ inv_v[reps].T).max(axis=1) > p["merge_cos"]
        slow_v, slow_q = slow_v[~on_inv], slow_q[~on_inv]
    sreps, slabels = merge_directions(slow_v, p["merge_cos"], np.argsort(slow_q, kind="stable"))

    objects = [{"kind": "origin", "vec": np.zeros(H), "source": "homogeneity (P1)", "n_found": 0}]
    for g, r in enumerate(reps):
        members = labels == g
        v = inv_v[r]
        lam = float(np.linalg.norm(f0(W, v[None])[0]))
        kind = "fixed_ray" if abs(lam - 1.0) < p["eig_tol"] or inv_q[r] < p["q_fixed"] else "invariant_ray"
        objects.append({"kind": kind, "vec": v, "source": "+".join(sorted({inv_src[i] for i in np.flatnonzero(members)})),
                        "n_found": int(members.sum())})
    for g, r in enumerate(sreps):
        objects.append({"kind": "slow_ray", "vec": slow_v[r], "source": "sphere", "n_found": int((slabels == g).sum())})
    endpoint = final.mean(axis=0)
    objects.append({"kind": "empirical_endpoint", "vec": endpoint, "source": "mean endpoint of no-input rollouts",
                    "n_found": len(final)})

    rows, spectra = [], []
    for oid, ob in enumerate(objects):
        vec = ob["vec"]
        nrm = float(_norm(vec))
        unit = vec / nrm if nrm > 0 else vec
        mask = (W @ unit) > 0
        if ob["kind"] == "origin":
            lam = np.full(H, np.nan, dtype=np.complex128)
            basin = float(to_origin.mean()) if len(to_origin) else np.nan
            point = np.zeros(H)
            gain = kappa
        else:
            lam = eigvals_masked(W, mask[None])[0]
            is_ray = ob["kind"] != "empirical_endpoint"
            point = unit * scale if is_ray else vec
            gain = float(unit @ f0(W, unit[None])[0]) if nrm > 0 else 0.0
            if is_ray:
                ok = final_norm > 0
                basin = float(((final_dir @ unit > p["basin_cos"]) & ok).mean()) if len(final) else np.nan
            else:
                basin = np.nan
        finite = np.isfinite(lam)
        pc = pca.transform(point[None])[0]
        rows.append({
            "object_id": oid, "kind": ob["kind"], "source": ob["source"], "norm": nrm if ob["kind"] in ("origin", "empirical_endpoint") else 1.0,
            "gain": gain, "q": float(speed(W, vec[None])[0]), "n_active": int(mask.sum()) if ob["kind"] != "origin" else 0,
            "rho": float(np.abs(lam[finite]).max()) if finite.any() else np.nan,
            "n_unstable": int(is_unstable(lam[finite]).sum()) if finite.any() else np.nan,
            "n_critical": int(is_critical(lam[finite], p["eps_im"]).sum()) if finite.any() else np.nan,
            "basin_frac": basin, "n_found": ob["n_found"], "kappa": kappa if ob["kind"] == "origin" else np.nan,
            "scale": scale if ob["kind"] not in ("origin", "empirical_endpoint") else np.nan,
            **{f"pc{i + 1}": (float(pc[i]) if i < len(pc) else 0.0) for i in range(3)},
        })
        if finite.any():
            lf = lam[finite]
            spectra.append(pd.DataFrame({"object_id": oid, "re": lf.real, "im": lf.imag, "abs": np.abs(lf)}))
    fp = pd.DataFrame(rows)
    fp["kind"] = pd.Categorical(fp["kind"], categories=KINDS)
    fp["kind"] = fp["kind"].astype(str)
    spec = pd.concat(spectra, ignore_index=True) if spectra else pd.DataFrame(columns=["object_id", "re", "im", "abs"])
    return {"fixed_points.csv": fp, "fp_spectra.csv": spec, "fp_search.csv": pd.DataFrame(search)}


def fixed_points(ctx: AnalysisContext) -> dict[str, pd.DataFrame]:
    net, p = ctx.network(), ctx.params
    orbit = noisy_run(net, ctx.rng("orbit"), p["orbit_steps"], p["warmup"], p["sigma"])
    ss = ctx.analysis_dir("state_space")
    pca = load_pca(ss) if (ss / PCA_LOADINGS).exists() else None
    return solve_fixed_points(net, orbit, p, pca, ctx.rng("starts"))


ANALYSIS = Analysis(name="fixed_points", run=fixed_points, defaults=DEFAULTS, after=("state_space",),
                    mem_mb=4000, runtime_min=30)
