"""Compositional reuse of the switching motif in fully3 and cyclic4 (docs/method.md §4.12 b–d), or in
any HMM with three or more symbols.

(b) A long noise-driven run is projected on a global PCA(4); for each output pair P (every pair of the
    network's K outputs, neighbours first: O1O2, O2O3, O1O3 for K = 3) a pair PCA(3) is fitted on the global-PC coordinates of **all** states whose dominant output
    is in P (D15).  *Segments* are maximal in-pair runs longer than L_min (halved while fewer than
    ``min_segments`` are found, down to ``l_min_floor``; the L_min used is recorded); ``n_two_way``
    counts the segments inside which the output switches both ways within the pair (an orbit through
    both outputs rather than a long dwell in one).
(c) Subspace contours: in-pair states of runs at several noise levels mapped through both PCAs (the
    figure draws the KDE levels; levels with fewer than ``contour_min_points`` points are skipped).
(d) Subspace residency: §4.5 (``regions.state_table``) on the segment states of a second run,
    shown on pair-PC1 vs pair-PC3 and summarised per pair and region.
Global dynamics (a) come from ``state_space``, the global residency from ``residency``; kick groups
and blocks (e) from the kick-neuron analyses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..hmm import output_pairs
from .pca import PCA, fit_pca
from .regions import state_table, summarize
from .registry import Analysis, AnalysisContext
from .simulate import noisy_run

DEFAULTS = {
    "warmup": 100,
    "pca_steps": 100000,
    "n_components": 4,
    "pair_components": 3,
    "l_min": 200,
    "l_min_floor": 25,
    "min_segments": 5,
    "draw_segments": 3,
    "draw_max_len": 2000,
    "contour_sigmas": [0.1, 1.0, 2.0, 3.0, 4.0],
    "contour_steps": 10000,
    "contour_min_points": 10,
    "residency_steps": 50000,
    "residency_max_states": 0,  # 0 = every segment state (paper); otherwise an evenly spaced subset
    "rollouts": 20,
    "max_steps": 60,
    "chunk_rows": 20000,
}


def in_pair_runs(o: np.ndarray, pair: tuple[int, ...]) -> np.ndarray:
    """Maximal runs of consecutive steps with o_t in ``pair``, as rows (start, stop) with stop exclusive."""
    inside = np.isin(np.asarray(o), pair).astype(np.int8)
    edges = np.diff(np.concatenate([[0], inside, [0]]))
    return np.column_stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)]).astype(np.int64)


def segments(o: np.ndarray, pair: tuple[int, ...], l_min: int = 200, floor: int = 25,
             min_count: int = 5) -> tuple[np.ndarray, int, int]:
    """In-pair runs longer than L, with L = l_min halved while fewer than ``min_count`` runs qualify and
    L/2 ≥ floor.  Returns (segments (k, 2) sorted longest first, L used, number of halvings)."""
    runs = in_pair_runs(o, pair)
    lengths = runs[:, 1] - runs[:, 0]
    lim, halvings = int(l_min), 0
    while np.count_nonzero(lengths > lim) < min_count and lim // 2 >= floor:
        lim //= 2
        halvings += 1
    keep = runs[lengths > lim]
    order = np.argsort(-(keep[:, 1] - keep[:, 0]), kind="stable")
    return keep[order], lim, halvings


def two_way(o: np.ndarray, segs: np.ndarray, pair: tuple[int, ...]) -> int:
    """Number of segments inside which the dominant output switches both ways within the pair (a → b
    and b → a at least once each): an orbit through both outputs, not a long dwell in one of them."""
    a, b = pair
    n = 0
    for start, stop in np.asarray(segs).reshape(-1, 2):
        x = np.asarray(o[start:stop])
        prev, nxt = x[:-1], x[1:]
        if np.any((prev == a) & (nxt == b)) and np.any((prev == b) & (nxt == a)):
            n += 1
    return n


def pair_pca(global_pcs: np.ndarray, o: np.ndarray, pairs: dict[str, tuple[int, int]],
             n_components: int = 3) -> dict[str, PCA | None]:
    """Pair PCA on the global-PC coordinates of all in-pair states (D15); None when too few states."""
    out = {}
    for name, pair in pairs.items():
        sel = np.isin(o, pair)
        out[name] = fit_pca(global_pcs[sel], n_components) if sel.sum() > n_components else None
    return out


def _coords(pca: PCA, pts: np.ndarray, k: int = 3) -> np.ndarray:
    c = pca.transform(pts)
    if c.shape[1] < k:
        c = np.pad(c, ((0, 0), (0, k - c.shape[1])))
    return c[:, :k]


def run(ctx: AnalysisContext) -> dict:
    p, net = ctx.params, ctx.network()
    states = noisy_run(net, ctx.rng("pca"), p["pca_steps"], p["warmup"])
    o = net.dominant(states)
    gpca = fit_pca(states, p["n_components"])
    gpcs = gpca.transform(states)
    pairs = output_pairs(net.A.shape[0])
    ppca = pair_pca(gpcs, o, pairs, p["pair_components"])

    pca_rows = [{"space": "global", "pair": "", "component": i + 1, "evr": v}
                for i, v in enumerate(gpca.explained_variance_ratio)]
    seg_rows, traj = [], []
    for name, pair in pairs.items():
        segs, lim, halv = segments(o, pair, p["l_min"], p["l_min_floor"], p["min_segments"])
        pc = ppca[name]
        seg_rows.append({"run": "pca", "pair": name, "n_in_pair": int(np.isin(o, pair).sum()), "l_min_used": lim,
                         "halvings": halv, "n_segments": len(segs), "n_two_way": two_way(o, segs, pair),
                         "longest": int(segs[0, 1] - segs[0, 0]) if len(segs) else 0,
                         "status": "ok" if pc is not None and len(segs) else
                         ("too few in-pair states" if pc is None else "no segment longer than L_min")})
        if pc is None:
            continue
        pca_rows += [{"space": "pair", "pair": name, "component": i + 1, "evr": v}
                     for i, v in enumerate(pc.explained_variance_ratio)]
        for rank, (a, b) in enumerate(segs[:p["draw_segments"]]):
            b = min(b, a + p["draw_max_len"])
            c = _coords(pc, gpcs[a:b])
            traj.append(pd.DataFrame({"pair": name, "segment": rank, "t": np.arange(a, b), "pc1": c[:, 0],
                                      "pc2": c[:, 1], "pc3": c[:, 2], "o": o[a:b]}))
    traj_tbl = (pd.concat(traj, ignore_index=True) if traj else
                pd.DataFrame({k: pd.Series(dtype=t) for k, t in [("pair", str), ("segment", int), ("t", int),
                                                                   ("pc1", float), ("pc2", float), ("pc3", float),
                                                                   ("o", int)]}))

    # (c) contours: the same noise at every level (common random numbers), so by P2 only the scale changes
    cont, levels = [], []
    for sigma in p["contour_sigmas"]:
        st = noisy_run(net, ctx.rng("contours"), p["contour_steps"], p["warmup"], float(sigma))
        so = net.dominant(st)
        gp = gpca.transform(st)
        for name, pair in pairs.items():
            sel = np.flatnonzero(np.isin(so, pair))
            ok = ppca[name] is not None and len(sel) >= p["contour_min_points"]
            levels.append({"pair": name, "sigma": float(sigma), "n_points": len(sel), "skipped": not ok})
            if ok:
                c = _coords(ppca[name], gp[sel])
                cont.append(pd.DataFrame({"pair": name, "sigma": float(sigma), "t": sel, "pc1": c[:, 0],
                                          "pc2": c[:, 1], "pc3": c[:, 2]}))
    cont_tbl = (pd.concat(cont, ignore_index=True) if cont else
                pd.DataFrame({k: pd.Series(dtype=t) for k, t in [("pair", str), ("sigma", float), ("t", int),
                                                                   ("pc1", float), ("pc2", float), ("pc3", float)]}))

    # (d) subspace residency on the segment states of a second run
    rs = noisy_run(net, ctx.rng("residency_run"), p["residency_steps"], p["warmup"])
    ro = net.dominant(rs)
    members: dict[str, np.ndarray] = {}
    for name, pair in pairs.items():
        segs, lim, halv = segments(ro, pair, p["l_min"], p["l_min_floor"], p["min_segments"])
        idx = (np.concatenate([np.arange(a, b) for a, b in segs]) if len(segs) else np.zeros(0, dtype=np.int64))
        members[name] = idx
        seg_rows.append({"run": "residency", "pair": name, "n_in_pair": int(np.isin(ro, pair).sum()),
                         "l_min_used": lim, "halvings": halv, "n_segments": len(segs),
                         "n_two_way": two_way(ro, segs, pair),
                         "longest": int(segs[0, 1] - segs[0, 0]) if len(segs) else 0,
                         "status": "ok" if len(segs) else "no segment longer than L_min"})
    union = np.unique(np.concatenate(list(members.values()))) if members else np.zeros(0, dtype=np.int64)
    if p["residency_max_states"] and len(union) > p["residency_max_states"]:
        union = union[np.linspace(0, len(union) - 1, p["residency_max_states"]).round().astype(int)]
        union = np.unique(union)
    res_cols = ["pair", "idx", "pc1", "pc2", "pc3", "o", "p_max", "rt", "sc", "frac_switched", "n_unstable",
                "n_critical", "region"]
    parts = []
    if len(union):
        tbl = state_table(net, rs[union], ctx.rng("residency"), p["rollouts"], p["max_steps"], 1.0, p["chunk_rows"])
        tbl["idx"] = union
        gp = gpca.transform(rs[union])
        for name in pairs:
            if ppca[name] is None:
                continue
            sel = np.isin(union, members[name])
            if not sel.any():
                continue
            c = _coords(ppca[name], gp[sel])
            part = tbl[sel].copy()
            part.insert(0, "pair", name)
            for i in range(3):
                part[f"pc{i + 1}"] = c[:, i]
            parts.append(part[res_cols])
    res_tbl = (pd.concat(parts, ignore_index=True) if parts else
               pd.DataFrame({k: pd.Series(dtype=object if k in ("pair", "region") else float) for k in res_cols}))
    summary = summarize(res_tbl, by=("pair",)) if len(res_tbl) else pd.DataFrame(
        columns=["pair", "region", "n_states", "frac_states", "mean_rt", "mean_sc", "mean_unstable", "sem_unstable",
                 "mean_critical"])
    return {"subspace_pca.csv": pd.DataFrame(pca_rows), "subspace_segments.csv": pd.DataFrame(seg_rows),
            "subspace_traj.parquet": traj_tbl, "subspace_contours.parquet": cont_tbl,
            "subspace_contour_levels.csv": pd.DataFrame(levels), "subspace_residency.parquet": res_tbl,
            "subspace_residency_summary.csv": summary}


ANALYSIS = Analysis(name="compositional", run=run, defaults=DEFAULTS, mem_mb=6000, runtime_min=120)
