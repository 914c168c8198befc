"""Kick neurons: data-driven discovery of the small groups that trigger transitions (docs/method.md §4.7, §6 D4).

Per source output a (an output that is dominant in at least 5 % of the steps of a reference run):

1. **Gate score.**  Over the dwells of at least ``min_dwell`` steps that leave a: score_i = the smaller
   of [mean a_i over the pre-switch windows [t_s−5, t_s−1] − mean a_i over the source dwell cores
   (middle thirds)] / pooled std and the same contrast against the cores of the *target* dwells (the
   dwell each switch enters, when it too has ``min_dwell`` steps): a kick neuron rises before the
   switch and is silent on both sides of it, while a neuron of the target cluster rises and stays on.
   Candidates: the top K among the neurons silent (a_i ≤ 0) in at least half of the source core
   steps.  K is clamped to the eligible count.
2. **Causal test, one batch.**  Every candidate alone, every candidate triplet (C(K,3) sets) and a null of
   random non-candidate triplets are silenced with the "kick" intervention at μ = 0 (c_rec = 0 on the
   set: its recurrent drive is removed, its noise input kept).  R rollouts of L steps start from cluster
   states of a (p(a) > 0.8, at least 10 steps before the next switch) with the same noise for every set;
   f(S) is the fraction of rollouts that leave a, e(S) = f(∅) − f(S).  Sets × rollouts run as one batch,
   chunked to bound memory; rollouts that have left a are dropped from the batch as they leave.
3. **Selection.**  G_a = the triplet with the largest effect (ties: larger score sum, then lower indices);
   it is *found* when that effect is positive.
4. **Scoring on fresh rollouts.**  The best of ~2000 noisy estimates is biased upwards on the batch that
   chose it, so G_a, ∅ and a new null are run again from fresh cluster starts with fresh noise.  The
   null draws its triplets from the neurons that are silent in the source cores as the candidates are
   (G_a's members left out; all other neurons when fewer than k qualify), so that the group is compared
   with neurons of its own kind rather than with hubs whose removal perturbs the cluster.  The group is
   *significant* when its fresh effect e > 0 and its z-score against the fresh null is ≥ ``z_min``,
   the z-score's scale being the null's standard deviation or, when larger, the two-proportion
   standard error √(2 p̄(1 − p̄)/R), p̄ = (f(∅) + f(G))/2, of the difference of two leave fractions
   over R rollouts (a null of neurons that never matter has no spread); its mid-rank percentile
   among the null effects is reported beside it.  Degenerate cases (no source
   output, no switch, no candidate) give no group and say why in ``kick_groups.json``.

Optional exhaustive mode: all C(H, k) sets, silencing the whole pre-activation (the authors' search).

Group names (§4.7 step 5, §6 D14), from the emission matrix: the symbols some state makes most likely
are numbered first, then the rare ones.  Chains: group 1 leaves O1, group 2 leaves O3 (O2, if ever a
source, is group 3); HMMs whose every symbol is some state's most likely: group k leaves O_k.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .groups import KICK_GROUPS, null_percentile
from .pca import fit_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network, gain_vector
from .spectra import critical_pairs_at_switches
from .switching import dwell_windows, switch_times, target_cores

DEFAULTS = {
    "warmup": 100,
    "ref_steps": 20000,
    "source_min_frac": 0.05,
    "pre_window": 5,
    "min_dwell": 4,
    "min_frac_silent": 0.5,
    "n_candidates": 24,
    "group_size": 3,
    "n_rollouts": 64,
    "rollout_steps": 50,
    "p_cluster": 0.8,
    "min_before_switch": 10,
    "n_null": 2000,
    "top_n": 10,
    "z_min": 3.0,
    "exhaustive": False,
    "chunk_rows": 16384,
    "preact_steps": 1000,
    "validation_steps": 1000,
    "half_window": 15,
    "eps_im": 0.06,  # spectra.EPS_IM_ABLATION (a literal: the workflow reads DEFAULTS without importing)
}


# ----------------------------------------------------------------------------- naming and gains
def group_label(hmm, output: int) -> int:
    """Group number of the kick group leaving ``output`` of ``hmm`` (an rnnhmm.hmm.HMM): its rank among
    the HMM's symbols taken dominant first, then rare (each in index order).  Chains: O1 → 1, O3 → 2,
    O2 → 3; fully3, cyclic4 and any HMM whose every symbol is some state's most likely: O_k → k."""
    order = [*hmm.dominant_outputs(), *hmm.rare_outputs()]
    return order.index(int(output)) + 1


def softmax_prob(net: Network, h: np.ndarray) -> np.ndarray:
    z = net.logits(h)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- reference run
def reference_run(net: Network, rng: np.random.Generator, steps: int, warmup: int):
    """States, pre-activations and dominant outputs of ``steps`` post-warm-up steps from h_0 = 0."""
    x = net.noise(rng, warmup + steps, 1)
    h, a = net.run(np.zeros(net.hidden), x, record_preact=True)
    h, a = h[warmup:, 0], a[warmup:, 0]
    return h, a, net.dominant(h)


def source_outputs(o: np.ndarray, n_outputs: int, min_frac: float) -> list[int]:
    """Outputs dominant in at least ``min_frac`` of the steps."""
    frac = np.bincount(np.asarray(o), minlength=n_outputs) / max(len(o), 1)
    return [k for k in range(n_outputs) if frac[k] >= min_frac]


def gate_scores(a: np.ndarray, pre_idx: np.ndarray, core_idx: np.ndarray):
    """score_i = (mean pre − mean core) / pooled std, and the fraction of core steps with a_i ≤ 0."""
    p, c = a[pre_idx], a[core_idx]
    n1, n2 = len(p), len(c)
    v1 = p.var(axis=0, ddof=1) if n1 > 1 else np.zeros(a.shape[1])
    v2 = c.var(axis=0, ddof=1) if n2 > 1 else np.zeros(a.shape[1])
    pooled = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / max(n1 + n2 - 2, 1))
    diff = p.mean(axis=0) - c.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(pooled > 0, diff / pooled, 0.0)
    return score, (c <= 0).mean(axis=0)


def gate_scores_two_sided(a: np.ndarray, pre_idx: np.ndarray, core_idx: np.ndarray, target_idx: np.ndarray):
    """The smaller of the source-core and the target-core gate scores (the source one alone when there
    is no target core step), and the fraction of source core steps with a_i ≤ 0."""
    score, frac = gate_scores(a, pre_idx, core_idx)
    if len(target_idx):
        score = np.minimum(score, gate_scores(a, pre_idx, target_idx)[0])
    return score, frac


def cluster_starts(net: Network, h: np.ndarray, o: np.ndarray, source: int, p_cluster: float,
                   min_before: int):
    """Indices of cluster states of ``source``: o = source, p(source) > p_cluster and ≥ min_before steps
    before the next switch.  When none qualifies the probability rule is dropped (flagged 'relaxed')."""
    n = len(o)
    s = switch_times(o)
    nxt = np.full(n, n + 10 ** 9)
    pos = np.searchsorted(s, np.arange(n), side="right")
    has = pos < len(s)
    nxt[has] = s[pos[has]]
    far = (nxt - np.arange(n)) >= min_before
    prob = softmax_prob(net, h)[:, source]
    ok = np.flatnonzero((o == source) & far & (prob > p_cluster))
    if len(ok):
        return ok, "cluster"
    ok = np.flatnonzero((o == source) & far)
    return ok, "relaxed"


# ----------------------------------------------------------------------------- the causal engine
def leave_fractions(net: Network, starts: np.ndarray, source: int, sets: np.ndarray, noise: np.ndarray,
                    silence: str = "recurrent", chunk_rows: int = 16384, dtype=np.float32) -> np.ndarray:
    """Fraction of rollouts that leave ``source`` within len(noise) steps, for every set of silenced units.

    ``sets`` is (n_sets, k) int, padded with −1 (a row of −1 is the empty set ∅); ``starts`` (R, H);
    ``noise`` (L, R, d), the same for every set.  silence='recurrent': c_rec = 0 on the set (the kick
    intervention at μ = 0); 'preactivation': the whole pre-activation of the set is zeroed.  All sets ×
    rollouts advance as one batch, in chunks of about ``chunk_rows`` rows; rows that have left are dropped.
    The rollouts run in float32 by default, the precision the networks were trained in.
    """
    if silence not in ("recurrent", "preactivation"):
        raise ValueError(f"silence must be 'recurrent' or 'preactivation', got {silence!r}")
    sets = np.atleast_2d(np.asarray(sets, dtype=int))
    n_sets, H = len(sets), net.hidden
    R = len(starts)
    ux = (noise @ net.U.T).astype(dtype)  # (L, R, H): the input drive, shared by all sets
    wt = np.ascontiguousarray(net.W.T, dtype=dtype)
    at = np.ascontiguousarray(net.A.T, dtype=dtype)
    out = np.zeros(n_sets)
    per_chunk = max(1, chunk_rows // R)
    for c0 in range(0, n_sets, per_chunk):
        chunk = sets[c0:c0 + per_chunk]
        cs = len(chunk)
        gain = np.ones((cs, H), dtype=dtype)
        rows, cols = np.nonzero(chunk >= 0)
        gain[rows, chunk[rows, cols]] = 0.0
        gain = np.repeat(gain, R, axis=0)  # one row per (set, rollout), compacted with the states
        roll = np.tile(np.arange(R), cs)
        h = np.tile(np.asarray(starts, dtype=dtype), (cs, 1))
        left = np.zeros(cs * R, dtype=bool)
        active = np.arange(cs * R)
        for t in range(len(noise)):
            a = h @ wt
            if silence == "recurrent":
                a *= gain
                a += ux[t][roll]
            else:
                a += ux[t][roll]
                a *= gain
            h = np.maximum(a, 0.0, out=a)
            stay = np.argmax(h @ at, axis=1) == source
            if not stay.all():
                left[active[~stay]] = True
                active, h, gain, roll = active[stay], h[stay], gain[stay], roll[stay]
                if not len(active):
                    break
        out[c0:c0 + cs] = left.reshape(cs, R).mean(axis=1)
    return out


def random_sets(rng: np.random.Generator, pool: np.ndarray, k: int, n: int) -> np.ndarray:
    """n random k-subsets (sorted rows) of ``pool``."""
    if len(pool) < k or n <= 0:
        return np.zeros((0, k), dtype=int)
    keys = rng.random((n, len(pool)))
    return np.sort(pool[np.argsort(keys, axis=1)[:, :k]], axis=1)


# ----------------------------------------------------------------------------- critical pairs around switches


# ----------------------------------------------------------------------------- the analysis
def _finite(x: float) -> float | None:
    """x, or None when it is not finite (JSON has no NaN)."""
    return float(x) if np.isfinite(x) else None


def _status_group(source: int, label: int, status: str) -> dict:
    return {"source": int(source), "group": int(label), "neurons": [], "found": False, "significant": False,
            "status": status}


def discover_source(net: Network, h, a, o, source: int, params: dict, rng_starts, rng_noise, rng_null, label: int,
                    rng_score=None):
    """Run steps 1–4 for one source output; returns (group dict, candidates, triplets, null) tables.
    ``rng_score`` draws the fresh starts, noise and null of step 4 (needed once a group is found)."""
    p = params
    k = int(p["group_size"])
    pre_idx, core_idx, n_dwells = dwell_windows(o, source, p["pre_window"], int(p["min_dwell"]))
    empty = pd.DataFrame(columns=["source", "neuron", "score", "frac_silent_core", "single_effect"])
    empty_t = pd.DataFrame(columns=["source", "rank", *[f"n{i + 1}" for i in range(k)], "f", "effect", "z"])
    empty_n = pd.DataFrame(columns=["source", "effect"])
    if n_dwells == 0:
        return _status_group(source, label, "no kick group found: no complete dwell of at least "
                             f"{int(p['min_dwell'])} steps leaving this output"), empty, empty_t, empty_n
    tgt_idx = target_cores(o, source, int(p["min_dwell"]))
    score, frac_silent = gate_scores_two_sided(a, pre_idx, core_idx, tgt_idx)
    eligible = np.flatnonzero(frac_silent >= p["min_frac_silent"])
    n_cand = min(int(p["n_candidates"]), len(eligible))
    if n_cand < k and not p["exhaustive"]:
        return _status_group(source, label, f"no kick group found: only {len(eligible)} neurons silent in dwell "
                             f"cores (need {k})"), empty, empty_t, empty_n
    order = eligible[np.lexsort((eligible, -score[eligible]))]
    cand = np.sort(order[:n_cand])

    start_idx, start_rule = cluster_starts(net, h, o, source, p["p_cluster"], p["min_before_switch"])
    if not len(start_idx):
        return _status_group(source, label, "no kick group found: no state of this output far from a switch"), \
            empty, empty_t, empty_n
    R = int(p["n_rollouts"])
    pick = rng_starts.choice(start_idx, size=R, replace=len(start_idx) < R)
    starts = h[pick]
    noise = net.noise(rng_noise, int(p["rollout_steps"]), R)

    H = net.hidden
    if p["exhaustive"]:
        singles = np.arange(H)[:, None]
        triplets = np.array(list(itertools.combinations(range(H), k)), dtype=int).reshape(-1, k)
        pool, silence = np.arange(H), "preactivation"
    else:
        singles = cand[:, None]
        triplets = np.array(list(itertools.combinations(cand, k)), dtype=int).reshape(-1, k)
        pool, silence = np.setdiff1d(np.arange(H), cand), "recurrent"
    null_pool = "non-candidates"
    if len(pool) < k:
        pool, null_pool = np.arange(H), "all neurons (too few non-candidates)"
    null = random_sets(rng_null, pool, k, int(p["n_null"]))
    pad = lambda s: np.pad(s, ((0, 0), (0, k - s.shape[1])), constant_values=-1)  # noqa: E731
    all_sets = np.concatenate([np.full((1, k), -1), pad(singles), triplets, null])
    f = leave_fractions(net, starts, source, all_sets, noise, silence, int(p["chunk_rows"]))
    f_empty = f[0]
    f_single = f[1:1 + len(singles)]
    f_trip = f[1 + len(singles):1 + len(singles) + len(triplets)]
    f_null = f[1 + len(singles) + len(triplets):]
    e_trip, e_null = f_empty - f_trip, f_empty - f_null
    mu0, sd0 = (float(e_null.mean()), float(e_null.std())) if len(e_null) else (float("nan"), float("nan"))

    def zscore(e):
        return (e - mu0) / sd0 if sd0 > 0 else np.full(np.shape(e), np.nan)

    ssum = score[triplets].sum(axis=1)
    rank = np.lexsort((*[triplets[:, i] for i in range(k - 1, -1, -1)], -ssum, -e_trip))
    top = rank[:int(p["top_n"])]
    trip_tbl = pd.DataFrame({"source": source, "rank": np.arange(1, len(top) + 1),
                             **{f"n{i + 1}": triplets[top, i] for i in range(k)},
                             "f": f_trip[top], "effect": e_trip[top], "z": zscore(e_trip[top]),
                             "score_sum": ssum[top]})
    single_of = dict(zip(singles[:, 0].tolist(), (f_empty - f_single).tolist(), strict=True))
    cand_tbl = pd.DataFrame({"source": source, "neuron": cand, "score": score[cand],
                             "frac_silent_core": frac_silent[cand],
                             "single_effect": [single_of.get(int(i), np.nan) for i in cand]})
    null_tbl = pd.DataFrame({"source": source, "effect": e_null})
    best = rank[0]
    e_best, z_best = float(e_trip[best]), float(zscore(e_trip[best]))
    found = bool(f_empty > 0 and e_best > 0)
    group = {"source": int(source), "group": int(label), "neurons": [int(i) for i in triplets[best]],
             "found": found, "significant": False, "effect_select": e_best, "z_select": _finite(z_best),
             "f_empty_select": float(f_empty), "f_group_select": float(f_trip[best]), "null_mean_select": _finite(mu0),
             "null_std_select": _finite(sd0), "n_null_select": len(null), "null_pool_select": null_pool,
             "n_candidates": int(n_cand), "n_dwells": int(n_dwells), "n_target_core_steps": int(len(tgt_idx)),
             "gate": "source and target cores" if len(tgt_idx) else "source cores only (no complete target dwell)",
             "n_sets_tested": int(len(all_sets)), "start_rule": start_rule, "n_start_states": int(len(start_idx)),
             "silence": silence}
    if f_empty == 0:
        group["status"] = "no kick group found: no unperturbed rollout leaves this output (nothing to suppress)"
    elif e_best <= 0:
        group["status"] = "no kick group found: no set lowers the leave fraction"
    else:
        group.update(score_fresh(net, h, start_idx, source, triplets[best], eligible, p, silence, rng_score))
    return group, cand_tbl, trip_tbl, null_tbl


def score_fresh(net: Network, h, start_idx, source: int, group, eligible, p: dict, silence: str, rng) -> dict:
    """Step 4: the chosen group, ∅ and a null of triplets of neurons silent in the source cores (all
    other neurons when fewer than k qualify), from fresh cluster starts with fresh noise."""
    k, R = len(group), int(p["n_rollouts"])
    starts = h[rng.choice(start_idx, size=R, replace=len(start_idx) < R)]
    noise = net.noise(rng, int(p["rollout_steps"]), R)
    pool = eligible if not p["exhaustive"] else np.arange(net.hidden)
    pool, null_pool = np.setdiff1d(pool, group), "silent in the source cores"
    if p["exhaustive"]:
        null_pool = "all neurons"
    elif len(pool) < k:
        pool, null_pool = np.setdiff1d(np.arange(net.hidden), group), "all neurons (too few silent in the cores)"
    null = random_sets(rng, pool, k, int(p["n_null"]))
    f = leave_fractions(net, starts, source, np.concatenate([np.full((1, k), -1), [group], null]), noise, silence,
                        int(p["chunk_rows"]))
    effect, e_null = float(f[0] - f[1]), f[0] - f[2:]
    mu, sd = (float(e_null.mean()), float(e_null.std())) if len(e_null) else (float("nan"), float("nan"))
    # the z-score's scale: the null's spread, but never below the two-proportion standard error of
    # f(∅) − f(G) over R rollouts each (a null of neurons that never matter has no spread, and a
    # difference of one or two rollouts must not become significant)
    pooled = (f[0] + f[1]) / 2
    se = float(np.sqrt(2 * pooled * (1 - pooled) / R))
    scale = max(sd, se) if np.isfinite(sd) else float("nan")
    z = (effect - mu) / scale if scale > 0 else float("nan")
    significant = bool(effect > 0 and np.isfinite(z) and z >= p["z_min"])
    if f[0] == 0:
        status = "found, not significant: no fresh unperturbed rollout leaves this output"
    elif not significant:
        status = f"found, not significant on fresh rollouts (effect {effect:.3f}, z = {z:.2f} < {p['z_min']})"
    else:
        status = "kick group found"
    return {"significant": significant, "status": status, "effect": effect, "z": _finite(z),
            "percentile": _finite(null_percentile(effect, e_null)), "f_empty": float(f[0]), "f_group": float(f[1]),
            "null_mean": _finite(mu), "null_std": _finite(sd), "z_scale": _finite(scale), "n_null": len(null),
            "null_pool": null_pool,
            "null_effects": [float(v) for v in e_null]}


def validate_group(net: Network, rng: np.random.Generator, neurons, source: int, steps: int, warmup: int,
                   half_window: int, eps_im: float) -> dict:
    """The §4.10 check: switches away from the source and critical pairs per switch, μ = 1 vs μ = 0."""
    x = net.noise(rng, warmup + steps, 1)
    h0 = net.run(np.zeros(net.hidden), x[:warmup])[-1]
    out = {}
    base_sw = None
    for mu in (1.0, 0.0):
        c = gain_vector(net.hidden, neurons, mu)
        h, a = net.run(h0, x[warmup:], record_preact=True, c_rec=c)
        o = net.dominant(h[:, 0])
        sw = switch_times(o)
        leaving = int(np.sum(o[sw - 1] == source)) if len(sw) else 0
        use = sw if len(sw) >= 2 or base_sw is None else base_sw
        if mu == 1.0:
            base_sw = sw
        cp = critical_pairs_at_switches(net.W, a[:, 0], use, half_window, eps_im, c)
        tag = f"mu{mu:g}"
        out[f"switches_leaving_{tag}"] = leaving
        out[f"cp_mean_{tag}"] = float(cp.mean()) if len(cp) else None
        out[f"cp_fallback_{tag}"] = bool(use is not sw)
    return out


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def discover(ctx: AnalysisContext) -> dict:
    net, p = ctx.network(), ctx.params
    h, a, o = reference_run(net, ctx.rng("reference"), p["ref_steps"], p["warmup"])
    sources = source_outputs(o, net.A.shape[0], p["source_min_frac"])
    hmm = ctx.hmm()
    groups, cands, trips, nulls, fresh = {}, [], [], [], []
    for src in sources:
        label = group_label(hmm, src)
        g, c, t, n = discover_source(net, h, a, o, src, p, ctx.rng(f"starts:{src}"), ctx.rng(f"noise:{src}"),
                                     ctx.rng(f"null:{src}"), label, ctx.rng(f"score:{src}"))
        fresh.append(pd.DataFrame({"source": src, "effect": g.pop("null_effects", [])}))
        if g["found"]:
            g["validation"] = validate_group(net, ctx.rng(f"validation:{src}"), g["neurons"], src,
                                             p["validation_steps"], p["warmup"], p["half_window"], p["eps_im"])
        groups[str(label)] = g
        cands.append(c)
        trips.append(t)
        nulls.append(n)
    n_sw = len(switch_times(o))
    status = ("no switches in the reference run" if n_sw == 0 else
              "no source output with >= 5 % of steps" if not sources else
              "no kick group found" if not any(g["found"] for g in groups.values()) else "ok")
    summary = {"model": ctx.spec.id, "status": status, "sources": sources, "n_switches": int(n_sw),
               "ref_steps": int(p["ref_steps"]), "groups": groups,
               "criterion": "largest drop in the leave fraction when the set's recurrent drive is removed (mu = 0)"}

    # pre-activation maps: a separate run with its own PCA(2)
    hp, ap, op = reference_run(net, ctx.rng("preact"), p["preact_steps"], p["warmup"])
    pca = fit_pca(hp, 2)
    pcs = pca.transform(hp)
    if pcs.shape[1] < 2:
        pcs = np.pad(pcs, ((0, 0), (0, 2 - pcs.shape[1])))
    rows = []
    for label, g in sorted(groups.items()):
        for m, i in enumerate(g["neurons"] if g["found"] else []):
            rows.append(pd.DataFrame({"t": np.arange(len(hp)), "pc1": pcs[:, 0], "pc2": pcs[:, 1], "o": op,
                                      "group": int(label), "member": m, "neuron": int(i), "a": ap[:, i]}))
    cols = ["t", "pc1", "pc2", "o", "group", "member", "neuron", "a"]
    preact = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    summary["preact_evr"] = [float(v) for v in pca.explained_variance_ratio]

    k = int(p["group_size"])
    cand_tbl = _concat(cands, ["source", "neuron", "score", "frac_silent_core", "single_effect"])
    trip_tbl = _concat(trips, ["source", "rank", *[f"n{i + 1}" for i in range(k)], "f", "effect", "z", "score_sum"])
    null_tbl = _concat(nulls, ["source", "effect"])
    return {"kick_candidates.csv": cand_tbl, "kick_triplets.csv": trip_tbl, "kick_null.csv": null_tbl,
            "kick_score_null.csv": _concat(fresh, ["source", "effect"]),
            KICK_GROUPS: summary, "kick_preact.parquet": preact}


ANALYSIS = Analysis(name="kick_neurons", run=discover, defaults=DEFAULTS, needs=("hmm",), mem_mb=4000,
                    runtime_min=60)
