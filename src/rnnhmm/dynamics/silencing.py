"""Silencing kick groups: the causal half of claim C5 as the paper means it (docs/claims.md, C5).

``kick_neurons`` selects its groups on its own rollouts, and its intervention (recurrent gain μ = 0)
leaves a neuron's noise input U x in place, so the "silenced" neuron still fires on about half of the
steps.  This analysis scores the groups on *fresh* noise with the neuron's output **clamped to 0**
(h_i = 0 at every step: nothing of it reaches the rest of the network), in ``n_runs`` independent
runs of ``run_steps`` steps after a warm-up from h = 0, the same noise for every set.

Per group G leaving source output a:

1. **Switches leaving a**: t with o_{t−1} = a ≠ o_t, summed over the runs, intact and with G
   silenced; their ratio, the occupancy of a (steps with o = a) and the escape rate (leaving switches
   per step in a).
2. **Staying in the source cluster**: the mean norm of the states with o = a over the neurons outside
   G, silenced over intact (a ratio near 0 is a collapse towards h = 0, not a blocked transition).
3. **Activity-matched null**: ``n_null`` random sets of |G| neurons outside G, each member replaced by
   one of the ``match_k`` neurons whose active fraction in the source dwell cores is closest to the
   member's, so that silencing neurons that are always on (hubs) is compared with hubs and silent
   neurons with silent ones; the group's mid-rank percentile among the null ratios (a smaller ratio is
   a stronger effect; a tie counts one half).
4. **Kick signature** of each member, from the intact runs: its active fraction (pre-activation > 0)
   in the source dwell cores (middle thirds of the dwells of at least ``min_dwell`` steps that end by
   leaving a) and in the ``pre_window`` steps before those switches.
5. **Group size**: starting from the empty set, the candidate (a neuron silent in at least
   ``min_frac_silent`` of the core steps) whose clamp gives the lowest escape rate from a (a set whose
   network never visits a is no candidate) is added, up to ``max_size`` neurons, on a separate
   selection noise (``select_runs`` × ``select_steps``); each prefix is then scored on the fresh noise
   of 1.  The size the data picks is the smallest whose ratio is at most ``target_ratio`` while the
   occupancy of a does not fall below the intact one.

Degenerate networks (no kick group, a source never left) give empty tables and say why in
``silencing.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io import read_json
from .groups import KICK_GROUPS, null_percentile
from .registry import Analysis, AnalysisContext
from .simulate import Network
from .switching import dwell_windows

DEFAULTS = {
    "warmup": 100,
    "n_runs": 8,
    "run_steps": 2500,
    "n_null": 200,
    "match_k": 10,
    "pre_window": 5,
    "min_dwell": 4,
    "min_frac_silent": 0.5,
    "max_size": 10,
    "select_runs": 4,
    "select_steps": 1000,
    "target_ratio": 0.5,
    "chunk_rows": 8192,
}

GROUP_COLUMNS = ["group", "source", "size", "neurons", "n_leaving_intact", "n_leaving_silenced", "ratio",
                 "occupancy_intact", "occupancy_silenced", "escape_rate_intact", "escape_rate_silenced",
                 "norm_ratio", "null_median_ratio", "null_percentile", "n_null", "n_core_steps", "n_pre_steps"]
MEMBER_COLUMNS = ["group", "source", "neuron", "core_active", "pre_active"]
NULL_COLUMNS = ["group", "source", "ratio"]
SIZE_COLUMNS = ["group", "source", "size", "neuron_added", "core_active", "pre_active", "n_leaving_select", "ratio",
                "norm_ratio", "occupancy_silenced"]


def clamped_runs(net: Network, ux: np.ndarray, source: int, sets: list, warmup: int, chunk_rows: int = 8192,
                 dtype=np.float32) -> dict[str, np.ndarray]:
    """Runs with each set of neurons clamped to 0, the same input drive ``ux`` (T, R, H) for every set.

    Per set (summed over the R runs, the first ``warmup`` steps left out): ``n_leaving`` (switches
    o_{t−1} = source ≠ o_t), ``in_source`` (steps with o = source) and ``norm_in_source`` (summed ‖h‖
    of those steps).  An empty set is the intact network."""
    T, R, H = ux.shape
    wt = np.ascontiguousarray(net.W.T, dtype=dtype)
    at = np.ascontiguousarray(net.A.T, dtype=dtype)
    n = len(sets)
    out = {k: np.zeros(n) for k in ("n_leaving", "in_source", "norm_in_source")}
    per_chunk = max(1, chunk_rows // R)
    for c0 in range(0, n, per_chunk):
        chunk = sets[c0:c0 + per_chunk]
        cs = len(chunk)
        keep = np.ones((cs, H), dtype=dtype)
        for i, s in enumerate(chunk):
            keep[i, np.asarray(list(s), dtype=int)] = 0.0
        keep = np.repeat(keep, R, axis=0)  # (cs * R, H): one row per (set, run)
        h = np.zeros((cs * R, H), dtype=dtype)
        prev = None
        leaving = np.zeros(cs * R)
        steps_in = np.zeros(cs * R)
        norm_in = np.zeros(cs * R)
        for t in range(T):
            with np.errstate(over="ignore", invalid="ignore"):
                a = h @ wt
                a += np.tile(ux[t], (cs, 1))
                np.maximum(a, 0.0, out=a)
                a *= keep
                h = a
                o = np.argmax(h @ at, axis=1)
            o[~np.isfinite(h).all(axis=1)] = -1  # a runaway state has no dominant output
            if t >= warmup:
                here = o == source
                steps_in += here
                norm_in += np.where(here, np.linalg.norm(h, axis=1), 0.0)
                if prev is not None:
                    leaving += (prev == source) & ~here
            prev = o
        for k, v in (("n_leaving", leaving), ("in_source", steps_in), ("norm_in_source", norm_in)):
            out[k][c0:c0 + cs] = v.reshape(cs, R).sum(axis=1)
    return out


def intact_activity(net: Network, ux: np.ndarray, warmup: int, dtype=np.float32):
    """Pre-activations (T − warmup, R, H) and dominant outputs (T − warmup, R) of the intact runs."""
    T, R, H = ux.shape
    wt = np.ascontiguousarray(net.W.T, dtype=dtype)
    h = np.zeros((R, H), dtype=dtype)
    pre = np.empty((T - warmup, R, H), dtype=dtype)
    o = np.empty((T - warmup, R), dtype=np.int64)
    for t in range(T):
        with np.errstate(over="ignore", invalid="ignore"):
            a = h @ wt + ux[t]
            h = np.maximum(a, 0.0)
            if t >= warmup:
                pre[t - warmup] = a
                o[t - warmup] = np.where(np.isfinite(h).all(axis=1), np.argmax(h @ net.A.T, axis=1), -1)
    return pre, o


def member_activity(pre: np.ndarray, o: np.ndarray, source: int, pre_window: int, min_dwell: int = 1):
    """Per neuron: active fraction (pre-activation > 0) in the source dwell cores and in the pre-switch
    windows of the dwells (of at least ``min_dwell`` steps) that end by leaving the source, pooled over
    runs; and the step counts."""
    H = pre.shape[2]
    core_on, core_n, pre_on, pre_n = np.zeros(H), 0, np.zeros(H), 0
    for r in range(o.shape[1]):
        p_idx, c_idx, _ = dwell_windows(o[:, r], source, pre_window, min_dwell)
        active = pre[:, r, :] > 0
        core_on += active[c_idx].sum(axis=0)
        pre_on += active[p_idx].sum(axis=0)
        core_n += len(c_idx)
        pre_n += len(p_idx)
    with np.errstate(invalid="ignore", divide="ignore"):
        return core_on / core_n if core_n else np.full(H, np.nan), pre_on / pre_n if pre_n else np.full(H, np.nan), \
            core_n, pre_n


def intact_norm(pre: np.ndarray, o: np.ndarray, source: int, exclude) -> float:
    """Mean norm of the intact states with o = source over the neurons outside ``exclude`` (the part of
    the network a clamp of ``exclude`` leaves running); NaN without such a step."""
    here = o == source
    if not here.any():
        return float("nan")
    with np.errstate(invalid="ignore"):
        h = np.maximum(pre[here], 0.0)
    h[:, np.asarray(list(exclude), dtype=int)] = 0.0
    return float(np.linalg.norm(h, axis=1).mean())


def matched_null(rng: np.random.Generator, group: list[int], core_active: np.ndarray, k: int, n: int) -> list:
    """``n`` random sets: each member replaced by one of the ``k`` non-group neurons whose core active
    fraction is closest to its own (members draw without sharing a neuron)."""
    group = [int(i) for i in group]
    pool = np.setdiff1d(np.arange(len(core_active)), group)
    if len(pool) < len(group):
        return []
    act = np.nan_to_num(core_active, nan=0.0)
    near = {i: pool[np.argsort(np.abs(act[pool] - act[i]), kind="stable")[:max(k, len(group))]] for i in group}
    sets = []
    for _ in range(n):
        chosen: list[int] = []
        for i in group:
            options = [j for j in near[i] if j not in chosen]
            if not options:
                options = [j for j in pool if j not in chosen]
            chosen.append(int(rng.choice(options)))
        sets.append(chosen)
    return sets


def greedy_sizes(net: Network, ux_select: np.ndarray, source: int, candidates: np.ndarray, max_size: int,
                 warmup: int, chunk_rows: int) -> list[tuple[int, float]]:
    """Greedy growth: at each size the candidate whose clamp (with those already chosen) gives the lowest
    escape rate from ``source`` (switches leaving it per step spent in it) on the selection noise; a set
    whose network never visits the source is not a candidate (it blocks nothing, it removes the source).
    Returns [(neuron added, n_leaving), ...]."""
    chosen: list[int] = []
    out = []
    left = [int(c) for c in candidates]
    for _ in range(min(max_size, len(left))):
        res = clamped_runs(net, ux_select, source, [chosen + [c] for c in left], warmup, chunk_rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(res["in_source"] > 0, res["n_leaving"] / res["in_source"], np.inf)
        if not np.isfinite(rate).any():
            break
        best = int(np.argmin(rate))  # ties: the lower-ranked candidate (lower index)
        chosen.append(left.pop(best))
        out.append((chosen[-1], float(res["n_leaving"][best])))
        if rate[best] == 0:  # nothing left to remove: a larger set cannot be told apart
            break
    return out


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def silencing(ctx: AnalysisContext) -> dict:
    net, p = ctx.network(), ctx.params
    kick = read_json(ctx.analysis_dir("kick_neurons") / KICK_GROUPS)
    groups = {int(k): g for k, g in sorted(kick.get("groups", {}).items(), key=lambda kv: int(kv[0]))
              if g.get("found") and g.get("neurons")}
    warmup, chunk = int(p["warmup"]), int(p["chunk_rows"])
    T = warmup + int(p["run_steps"])
    ux = (net.noise(ctx.rng("score"), T, int(p["n_runs"])) @ net.U.T).astype(np.float32)
    ux_sel = (net.noise(ctx.rng("select"), warmup + int(p["select_steps"]), int(p["select_runs"])) @ net.U.T
              ).astype(np.float32)
    rows, members, nulls, sizes = [], [], [], []
    notes = {}
    pre, o = intact_activity(net, ux, warmup) if groups else (None, None)
    for label, g in groups.items():
        src, neurons = int(g["source"]), [int(i) for i in g["neurons"]]
        core_act, pre_act, n_core, n_pre = member_activity(pre, o, src, int(p["pre_window"]), int(p["min_dwell"]))
        for i in neurons:
            members.append({"group": label, "source": src, "neuron": i, "core_active": core_act[i],
                            "pre_active": pre_act[i]})
        null_sets = matched_null(ctx.rng(f"null:{label}"), neurons, core_act, int(p["match_k"]), int(p["n_null"]))
        res = clamped_runs(net, ux, src, [[], neurons, *null_sets], warmup, chunk)
        n0, n1 = res["n_leaving"][0], res["n_leaving"][1]
        ratio = _ratio(n1, n0)
        null_ratio = np.array([_ratio(x, n0) for x in res["n_leaving"][2:]])
        finite = null_ratio[np.isfinite(null_ratio)]
        pct = null_percentile(-ratio, -finite)  # a smaller ratio is a larger effect
        nulls += [{"group": label, "source": src, "ratio": r} for r in null_ratio]
        steps = res["in_source"]
        norm = _ratio(res["norm_in_source"][1] / steps[1], intact_norm(pre, o, src, neurons)) \
            if steps[1] > 0 else float("nan")
        total = float(int(p["n_runs"]) * int(p["run_steps"]))
        rows.append({"group": label, "source": src, "size": len(neurons), "neurons": " ".join(map(str, neurons)),
                     "n_leaving_intact": n0, "n_leaving_silenced": n1, "ratio": ratio,
                     "occupancy_intact": steps[0] / total, "occupancy_silenced": steps[1] / total,
                     "escape_rate_intact": _ratio(n0, steps[0]), "escape_rate_silenced": _ratio(n1, steps[1]),
                     "norm_ratio": norm, "null_median_ratio": float(np.median(finite)) if len(finite) else np.nan,
                     "null_percentile": pct, "n_null": len(finite), "n_core_steps": n_core, "n_pre_steps": n_pre})
        if n0 == 0:
            notes[str(label)] = "the intact network never leaves the source in the scoring runs"
        # the group size the data picks: greedy on the selection noise, scored on the fresh noise
        cand = np.flatnonzero(np.nan_to_num(1.0 - core_act, nan=0.0) >= float(p["min_frac_silent"]))
        grown = greedy_sizes(net, ux_sel, src, cand, int(p["max_size"]), warmup, chunk) if len(cand) else []
        prefixes = [[n for n, _ in grown[:k]] for k in range(1, len(grown) + 1)]
        sc = clamped_runs(net, ux, src, prefixes, warmup, chunk) if prefixes else None
        for k, (added, n_sel) in enumerate(grown, start=1):
            st = sc["in_source"][k - 1]
            sizes.append({"group": label, "source": src, "size": k, "neuron_added": added,
                          "core_active": core_act[added], "pre_active": pre_act[added], "n_leaving_select": n_sel,
                          "ratio": _ratio(sc["n_leaving"][k - 1], n0),
                          "norm_ratio": _ratio(sc["norm_in_source"][k - 1] / st,
                                               intact_norm(pre, o, src, prefixes[k - 1])) if st > 0 else np.nan,
                          "occupancy_silenced": st / total})
    size_tbl = pd.DataFrame(sizes, columns=SIZE_COLUMNS)
    picked = {}
    for label in groups:
        occ0 = next(r["occupancy_intact"] for r in rows if r["group"] == label)
        s = size_tbl[(size_tbl["group"] == label) & (size_tbl["ratio"] <= float(p["target_ratio"]))
                     & (size_tbl["occupancy_silenced"] >= occ0)]
        picked[str(label)] = int(s["size"].min()) if len(s) else None
    status = ("no kick group (kick_neurons found none)" if not groups else
              "ok" if not notes else "; ".join(f"group {k}: {v}" for k, v in notes.items()))
    summary = {"model": ctx.spec.id, "status": status, "groups": sorted(str(k) for k in groups),
               "size_picked": picked, "target_ratio": float(p["target_ratio"]),
               "intervention": "output clamped to 0 (h_i = 0 at every step)",
               "scoring": f"{p['n_runs']} runs x {p['run_steps']} steps of fresh noise after {warmup} warm-up steps"}
    return {"silencing_groups.csv": pd.DataFrame(rows, columns=GROUP_COLUMNS),
            "silencing_members.csv": pd.DataFrame(members, columns=MEMBER_COLUMNS),
            "silencing_null.csv": pd.DataFrame(nulls, columns=NULL_COLUMNS),
            "silencing_size.csv": size_tbl, "silencing.json": summary}


ANALYSIS = Analysis(name="silencing", run=silencing, defaults=DEFAULTS, after=("kick_neurons",), mem_mb=4000,
                    runtime_min=60)
