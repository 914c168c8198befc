"""The claims check (docs/claims.md): the paper's claims C1–C7 measured on the reference models.

Each check reads tables that the evaluation and the dynamical analyses already wrote (nothing is
simulated here) and compares one number with a criterion fixed in docs/claims.md.  The result is one
row per (claim, check, model) with the columns ``COLUMNS``.  An analysis that legitimately produced
no value (an untrained model that never switches, no kick group) gives value NaN and pass False; a
missing or damaged input file raises ``io.ResultFileError`` naming the file.

How each check maps onto the tables (``CHECKS`` holds the files and columns of each):

* C1 ``matched_distance``, ``transmat_sse``: eval_metrics.csv at T_eval = the HMM's training T
  (``seq_len``): metrics ``euclid_rnn_mean`` vs ``euclid_base_mean``, ``transmat_sse_rnn_vs_emp``.
* C2 ``noinput_to_origin``: fixed_points.csv, the origin's ``basin_frac`` (share of the no-input
  rollouts from orbit states whose final norm is below ``origin_shrink`` × their start norm).
  ``other_attractors``: fixed_points.csv rows of kind fixed_ray / invariant_ray that hold activity
  away from 0 (``gain`` λ ≥ 1: activity along the ray does not decay) and attract (spectral radius
  ``rho`` ≤ λ, no direction of the ray's pattern grows faster, or a non-zero ``basin_frac``).  Rays
  with λ < 1 carry activity to h = 0 and are not attractors other than h = 0.
* C3 ``switches_sigma1``: residency_summary.csv ``n_switches_in_run``.  ``phase_sets_symbol``:
  residency_states.parquet ``pc1``, ``pc2``, ``o``: the angle atan2(pc2, pc1) about the PCA origin
  (the mean state) in 36 equal bins.  ``orbit_grows_with_noise``: orbit_fit.csv, quantity
  ``r_center``, regressor ``loglog``, ``slope``.
* C4 ``cluster_slower``, ``unstable_kick_vs_cluster``: residency_summary.csv per region ``n_states``,
  ``mean_rt``, ``mean_unstable`` (transition and kick-zone pooled weighted by their state counts).
* C5 ``kick_group_found``: kick_groups.json groups with ``found``.  ``silencing_stops_switching``:
  ablation_cp.csv, condition ``kick``, ``n_switches`` at μ = 0 over μ = 1, per group.
  ``kick_beats_random``: the group's ``effect`` (kick_groups.json) against the null effects of random
  triplets of the same source (kick_null.csv): the fraction of null effects strictly below it.
* C6 ``bifurcation_found``: evo_summary.csv ``bif_epoch_rule`` (the rule's epoch, not a manual
  override) and ``first_epoch``; evo_stats.csv ``frac_critical`` of the epochs before e_b and from
  e_b on.  ``resonant_noise``: noise_sweep.csv ``euclid_rnn`` − ``euclid_base`` per ``sigma``.
* C7 ``orbits_per_pair``: the output pairs the HMM switches between (eval_transmat.csv, source
  ``hmm_analytic``, an off-diagonal p > 0 in either direction) against subspace_segments.csv (run
  ``pca``, ``n_segments``).  ``pair_clusters_transitions``: subspace_residency_summary.csv per pair.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import io, plan

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["claim", "check", "model", "value", "criterion", "pass", "source"]

# ---------------------------------------------------------------------- the criteria (docs/claims.md)
# Written down before any laptop result was looked at; never loosened.
MATCHED_DISTANCE_MAX_RATIO = 1.25  # C1: RNN -> HMM matched distance <= 1.25 x HMM-vs-HMM baseline
TRANSMAT_SSE_MAX = 0.01  # C1: summed squared error of the emitted-symbol transition matrix
NOINPUT_TO_ORIGIN_MIN = 0.95  # C2: fraction of no-input rollouts ending at h = 0
OTHER_ATTRACTORS_MAX = 0  # C2: attracting fixed points / invariant rays other than h = 0
SWITCHES_SIGMA1_MIN = 10  # C3: switches of the dominant output in the sigma = 1 residency run
PHASE_BINS = 36  # C3: equal angle bins on the PC1-PC2 plane
PHASE_SETS_SYMBOL_MIN = 0.9  # C3: fraction of states whose output is their bin's majority output
ORBIT_SLOPE_MIN, ORBIT_SLOPE_MAX = 0.5, 1.5  # C3: log-log slope of the orbit radius on sigma
CLUSTER_SLOWER_MIN_RATIO = 2.0  # C4 and C7: mean residency time, clusters over transitions
SILENCED_SWITCHES_MAX_RATIO = 0.5  # C5: switches with the kick group silenced over intact
KICK_NULL_PERCENTILE_MIN = 0.95  # C5: the kick group's effect against random groups of its size
RESONANCE_EDGE_MIN_RATIO = 1.5  # C6: matched-distance excess at both ends of the sweep over the best

# Numerical tolerance for "gain >= 1" and "rho <= gain" of a solved ray (not a criterion: the solver
# classifies a ray as fixed when |lambda - 1| < eig_tol = 1e-6).
RAY_TOL = 1.0e-6

# the models each claim is measured on
REFERENCE_HMMS = ("chain2", "chain3", "chain4", "chain5", "fully3", "cyclic4")
REF2_HMMS = ("chain2",)
COMPOSITIONAL_HMMS = ("fully3", "cyclic4")

NAN = float("nan")


# ---------------------------------------------------------------------- reading the tables
class Tables:
    """The tables of one model, read once each (sidecar-verified by rnnhmm.io)."""

    def __init__(self, preset: str, spec: plan.ModelSpec, train_len: int | None, root: Path = Path(".")):
        self.preset, self.spec, self.train_len, self.root = preset, spec, train_len, Path(root)
        self._cache: dict[Path, object] = {}

    def path(self, stage: str, name: str) -> Path:
        """``stage`` is 'evaluate' (the model's evaluation folder) or an analysis name."""
        folder = (plan.eval_dir(self.preset, self.spec) if stage == "evaluate"
                  else plan.analysis_dir(self.preset, stage, self.spec))
        return self.root / folder / name

    def _read(self, stage: str, name: str):
        path = self.path(stage, name)
        if path not in self._cache:
            if not path.is_file():
                raise io.ResultFileError(f"{path}: file not found (the claims check reads it; run the rule that "
                                         "writes it first)")
            self._cache[path] = io.read_json(path) if path.suffix == ".json" else io.read_table(path)
        return path, self._cache[path]

    def table(self, stage: str, name: str, columns: tuple[str, ...] = ()):
        """The table, checked to have ``columns`` (a missing column names the file)."""
        path, df = self._read(stage, name)
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise io.ResultFileError(f"{path}: missing column(s) {', '.join(missing)}; it was written by an older "
                                     "version of its analysis — delete it and rerun")
        return df

    def json(self, stage: str, name: str) -> dict:
        return self._read(stage, name)[1]


@dataclass(frozen=True)
class Outcome:
    value: float
    criterion: str
    passed: bool


def _f(x) -> float:
    """A float, NaN for None / NA / non-numbers."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return NAN
    return v


def _g(x) -> str:
    """A short number for the criterion text."""
    v = _f(x)
    return "nan" if math.isnan(v) else f"{v:.3g}"


def outcome(value, criterion: str, passed) -> Outcome:
    """Pass only with a finite value."""
    v = _f(value)
    return Outcome(v, criterion, bool(passed) and math.isfinite(v))


# ---------------------------------------------------------------------- C1
def _metric(t: Tables, name: str) -> float:
    m = t.table("evaluate", "eval_metrics.csv", ("T_eval", "metric", "value"))
    sel = m.loc[(m["T_eval"] == t.train_len) & (m["metric"] == name), "value"]
    return _f(sel.iloc[0]) if len(sel) else NAN


def matched_distance(t: Tables) -> Outcome:
    rnn, base = _metric(t, "euclid_rnn_mean"), _metric(t, "euclid_base_mean")
    return outcome(rnn, f"<= {MATCHED_DISTANCE_MAX_RATIO:g} x baseline ({_g(base)}) at T = {t.train_len}",
                   rnn <= MATCHED_DISTANCE_MAX_RATIO * base)


def transmat_sse(t: Tables) -> Outcome:
    sse = _metric(t, "transmat_sse_rnn_vs_emp")
    return outcome(sse, f"<= {TRANSMAT_SSE_MAX:g} at T = {t.train_len}", sse <= TRANSMAT_SSE_MAX)


# ---------------------------------------------------------------------- C2
def noinput_to_origin(t: Tables) -> Outcome:
    fp = t.table("fixed_points", "fixed_points.csv", ("kind", "basin_frac"))
    origin = fp.loc[fp["kind"] == "origin", "basin_frac"]
    frac = _f(origin.iloc[0]) if len(origin) else NAN
    return outcome(frac, f">= {NOINPUT_TO_ORIGIN_MIN:g}", frac >= NOINPUT_TO_ORIGIN_MIN)


def other_attractors(t: Tables) -> Outcome:
    fp = t.table("fixed_points", "fixed_points.csv", ("kind", "gain", "rho", "basin_frac"))
    rays = fp[fp["kind"].isin(["fixed_ray", "invariant_ray"])]
    gain = rays["gain"].astype(float).to_numpy()
    rho = rays["rho"].astype(float).to_numpy()
    basin = rays["basin_frac"].astype(float).fillna(0.0).to_numpy()
    holds = gain >= 1.0 - RAY_TOL
    attracts = (rho <= gain + RAY_TOL) | (basin > 0)
    n = int(np.count_nonzero(holds & attracts))
    return outcome(n, f"== {OTHER_ATTRACTORS_MAX} (of {len(rays)} solved rays; counted: gain >= 1 and attracting)",
                   n <= OTHER_ATTRACTORS_MAX)


# ---------------------------------------------------------------------- C3
def switches_sigma1(t: Tables) -> Outcome:
    s = t.table("residency", "residency_summary.csv", ("n_switches_in_run",))["n_switches_in_run"]
    n = _f(s.iloc[0]) if len(s) else NAN
    return outcome(n, f">= {SWITCHES_SIGMA1_MIN}", n >= SWITCHES_SIGMA1_MIN)


def phase_majority_fraction(pc1, pc2, o, bins: int = PHASE_BINS) -> float:
    """Fraction of states whose output equals the majority output of their angle bin (the angle
    atan2(pc2, pc1) cut into ``bins`` equal bins over [-π, π)); NaN without states."""
    pc1, pc2, o = (np.asarray(x) for x in (pc1, pc2, o))
    if len(o) == 0:
        return NAN
    angle = np.arctan2(pc2.astype(float), pc1.astype(float))
    b = np.clip(np.floor((angle + np.pi) / (2 * np.pi / bins)).astype(int), 0, bins - 1)
    _, o_idx = np.unique(o, return_inverse=True)
    counts = np.zeros((bins, o_idx.max() + 1), dtype=np.int64)
    np.add.at(counts, (b, o_idx.reshape(-1)), 1)
    return float(counts.max(axis=1).sum() / len(o))


def phase_sets_symbol(t: Tables) -> Outcome:
    st = t.table("residency", "residency_states.parquet", ("pc1", "pc2", "o"))
    frac = phase_majority_fraction(st["pc1"], st["pc2"], st["o"])
    return outcome(frac, f">= {PHASE_SETS_SYMBOL_MIN:g} ({PHASE_BINS} angle bins, {len(st)} states)",
                   frac >= PHASE_SETS_SYMBOL_MIN)


def orbit_grows_with_noise(t: Tables) -> Outcome:
    fit = t.table("orbits", "orbit_fit.csv", ("quantity", "regressor", "slope"))
    sel = fit.loc[(fit["quantity"] == "r_center") & (fit["regressor"] == "loglog"), "slope"]
    slope = _f(sel.iloc[0]) if len(sel) else NAN
    return outcome(slope, f"in [{ORBIT_SLOPE_MIN:g}, {ORBIT_SLOPE_MAX:g}] (P2 predicts 1)",
                   ORBIT_SLOPE_MIN <= slope <= ORBIT_SLOPE_MAX)


# ---------------------------------------------------------------------- C4 (and C7)
SUMMARY_COLUMNS = ("region", "n_states", "mean_rt", "mean_unstable")  # residency.summarize


def _region(summary, region: str) -> tuple[int, float, float]:
    """(n_states, mean_rt, mean_unstable) of a region in a residency summary; (0, NaN, NaN) when the
    region is absent or empty."""
    r = summary[summary["region"] == region]
    n = _f(r["n_states"].iloc[0]) if len(r) else 0.0
    if not n > 0:
        return 0, NAN, NAN
    return int(n), _f(r["mean_rt"].iloc[0]), _f(r["mean_unstable"].iloc[0])


def rt_ratio(summary) -> tuple[float, float, float]:
    """(cluster mean RT / transition mean RT, cluster RT, transition RT); the ratio is NaN unless both
    regions have states."""
    nc, rc, _ = _region(summary, "cluster")
    nt, rt, _ = _region(summary, "transition")
    ratio = rc / rt if nc > 0 and nt > 0 and rt > 0 else NAN
    return ratio, rc, rt


def cluster_slower(t: Tables) -> Outcome:
    s = t.table("residency", "residency_summary.csv", SUMMARY_COLUMNS)
    ratio, rc, rtr = rt_ratio(s)
    return outcome(ratio, f">= {CLUSTER_SLOWER_MIN_RATIO:g} (cluster / transition mean RT: {_g(rc)} / {_g(rtr)})",
                   ratio >= CLUSTER_SLOWER_MIN_RATIO)


def unstable_kick_vs_cluster(t: Tables) -> Outcome:
    s = t.table("residency", "residency_summary.csv", SUMMARY_COLUMNS)
    nt, _, ut = _region(s, "transition")
    nk, _, uk = _region(s, "kick-zone")
    nc, _, uc = _region(s, "cluster")
    pooled = ((nt * ut if nt else 0.0) + (nk * uk if nk else 0.0)) / (nt + nk) if nt + nk else NAN
    return outcome(pooled, f"> cluster mean ({_g(uc) if nc else 'no cluster states'}); "
                           f"pooled over {nt} transition + {nk} kick-zone states", nc > 0 and pooled > uc)


# ---------------------------------------------------------------------- C5
def _found_groups(t: Tables) -> dict[int, dict]:
    kick = t.json("kick_neurons", "kick_groups.json")
    return {int(k): g for k, g in sorted(kick.get("groups", {}).items(), key=lambda kv: int(kv[0]))
            if g.get("found") and g.get("neurons")}


def kick_group_found(t: Tables) -> Outcome:
    n = len(_found_groups(t))
    return outcome(n, ">= 1 group", n >= 1)


def silencing_stops_switching(t: Tables) -> Outcome:
    groups = _found_groups(t)
    if not groups:
        return outcome(NAN, f"<= {SILENCED_SWITCHES_MAX_RATIO:g} x intact switches, every group (no kick group found)",
                       False)
    cp = t.table("ablation", "ablation_cp.csv", ("group", "condition", "mu", "n_switches"))
    kick = cp[cp["condition"] == "kick"]
    ratios, parts = [], []
    for g in groups:
        rows = kick[kick["group"].astype(int) == g]
        at = {}
        for mu in (0.0, 1.0):
            sel = rows.loc[np.isclose(rows["mu"].astype(float), mu), "n_switches"]
            at[mu] = _f(sel.iloc[0]) if len(sel) else NAN
        ratio = at[0.0] / at[1.0] if at[1.0] > 0 else NAN
        ratios.append(ratio)
        parts.append(f"group {g}: {_g(at[0.0])}/{_g(at[1.0])}")
    worst = NAN if any(math.isnan(r) for r in ratios) else max(ratios)
    return outcome(worst, f"<= {SILENCED_SWITCHES_MAX_RATIO:g} x intact switches, every group "
                          f"(mu=0/mu=1: {'; '.join(parts)})", worst <= SILENCED_SWITCHES_MAX_RATIO)


def null_percentile(effect: float, null_effects) -> float:
    """Fraction of the null effects strictly below ``effect``; NaN without a null."""
    null = np.asarray(null_effects, dtype=float)
    null = null[np.isfinite(null)]
    if not len(null) or not math.isfinite(effect):
        return NAN
    return float(np.mean(null < effect))


def kick_beats_random(t: Tables) -> Outcome:
    groups = _found_groups(t)
    if not groups:
        return outcome(NAN, f">= {KICK_NULL_PERCENTILE_MIN:g}, every group (no kick group found)", False)
    null = t.table("kick_neurons", "kick_null.csv", ("source", "effect"))
    pcts, parts = [], []
    for g, info in groups.items():
        eff = null.loc[null["source"].astype(int) == int(info.get("source", -1)), "effect"]
        p = null_percentile(_f(info.get("effect")), eff)
        pcts.append(p)
        parts.append(f"group {g}: {_g(p)} of {len(eff)} random triplets")
    worst = NAN if any(math.isnan(p) for p in pcts) else min(pcts)
    return outcome(worst, f">= {KICK_NULL_PERCENTILE_MIN:g}, every group (null percentile: {'; '.join(parts)})",
                   worst >= KICK_NULL_PERCENTILE_MIN)


# ---------------------------------------------------------------------- C6
def bifurcation_found(t: Tables) -> Outcome:
    summ = t.table("training_evolution", "evo_summary.csv", ("bif_epoch_rule", "first_epoch"))
    stats = t.table("training_evolution", "evo_stats.csv", ("epoch", "frac_critical"))
    e_b = _f(summ["bif_epoch_rule"].iloc[0]) if len(summ) else NAN
    first = _f(summ["first_epoch"].iloc[0]) if len(summ) else NAN
    text = "bifurcation epoch after the first analysed epoch; critical fraction after it > before it"
    if math.isnan(e_b):
        return outcome(NAN, f"{text} (no bifurcation epoch found)", False)
    epoch = stats["epoch"].astype(float)
    crit = stats["frac_critical"].astype(float)
    after, before = crit[epoch >= e_b].mean(), crit[epoch < e_b].mean()
    return outcome(after, f"> critical fraction before e_b ({_g(before)}); e_b = {e_b:g} after the first analysed "
                          f"epoch {_g(first)}", e_b > first and after > before)


def resonant_noise(t: Tables) -> Outcome:
    ns = t.table("noise_sweep", "noise_sweep.csv", ("sigma", "euclid_rnn", "euclid_base")).sort_values("sigma")
    sigma = ns["sigma"].astype(float).to_numpy()
    excess = (ns["euclid_rnn"].astype(float) - ns["euclid_base"].astype(float)).to_numpy()
    text = f"strictly inside the swept sigma; excess at both ends >= {RESONANCE_EDGE_MIN_RATIO:g} x best"
    if len(sigma) < 3 or not np.all(np.isfinite(excess)):
        return outcome(NAN, f"{text} ({len(sigma)} levels, {int(np.sum(~np.isfinite(excess)))} without a distance)",
                       False)
    i = int(np.argmin(excess))
    best, lo, hi = excess[i], excess[0], excess[-1]
    ok = 0 < i < len(sigma) - 1 and lo >= RESONANCE_EDGE_MIN_RATIO * best and hi >= RESONANCE_EDGE_MIN_RATIO * best
    return outcome(sigma[i], f"sigma* in ({sigma[0]:g}, {sigma[-1]:g}); excess at the ends >= "
                             f"{RESONANCE_EDGE_MIN_RATIO:g} x best ({_g(best)}; ends {_g(lo)}, {_g(hi)})", ok)


# ---------------------------------------------------------------------- C7
def pair_name(a: int, b: int) -> str:
    a, b = sorted((int(a), int(b)))
    return f"O{a + 1}O{b + 1}"


def switching_pairs(t: Tables) -> list[str]:
    """Output pairs the HMM switches between: an off-diagonal analytic output-transition p > 0."""
    tr = t.table("evaluate", "eval_transmat.csv", ("T_eval", "source", "from", "to", "p"))
    sel = tr[(tr["source"] == "hmm_analytic") & (tr["T_eval"] == t.train_len) & (tr["from"] != tr["to"])
             & (tr["p"].astype(float) > 0)]
    return sorted({pair_name(a, b) for a, b in zip(sel["from"], sel["to"], strict=True)})


def orbits_per_pair(t: Tables) -> Outcome:
    pairs = switching_pairs(t)
    seg = t.table("compositional", "subspace_segments.csv", ("run", "pair", "n_segments"))
    seg = seg[seg["run"] == "pca"]
    have = {str(p) for p, n in zip(seg["pair"], seg["n_segments"], strict=True) if _f(n) > 0}
    found = [p for p in pairs if p in have]
    missing = [p for p in pairs if p not in have]
    return outcome(len(found) if pairs else NAN,
                   f"== {len(pairs)} (a segment for every pair the HMM switches between: {', '.join(pairs) or 'none'}"
                   + (f"; missing {', '.join(missing)})" if missing else ")"),
                   bool(pairs) and not missing)


def pair_clusters_transitions(t: Tables) -> Outcome:
    pairs = switching_pairs(t)
    s = t.table("compositional", "subspace_residency_summary.csv", ("pair", *SUMMARY_COLUMNS))
    ratios = {p: rt_ratio(s[s["pair"] == p])[0] for p in pairs}
    worst = NAN if not pairs or any(math.isnan(r) for r in ratios.values()) else min(ratios.values())
    detail = ", ".join(f"{p} {_g(r)}" for p, r in ratios.items()) or "no switching pair"
    return outcome(worst, f">= {CLUSTER_SLOWER_MIN_RATIO:g} cluster / transition mean RT, every pair ({detail})",
                   worst >= CLUSTER_SLOWER_MIN_RATIO)


# ---------------------------------------------------------------------- the checks
def is_evolution_model(preset_cfg: dict, spec: plan.ModelSpec) -> bool:
    """Whether the model keeps per-epoch checkpoints (train.evolution), which training_evolution needs."""
    evo = preset_cfg.get("train", {}).get("evolution", {})
    return spec.hidden == int(evo.get("hidden", -1)) and spec.dim == int(evo.get("dim", -1))


@dataclass(frozen=True)
class Check:
    claim: str
    name: str
    hmms: tuple[str, ...]  # measured on the reference models of these HMMs
    reads: tuple[tuple[str, str], ...]  # (stage, file): 'evaluate' or an analysis name
    columns: str  # the columns the value comes from (for the source column)
    measure: Callable[[Tables], Outcome]
    # why the check cannot be measured on a model (None: it can); its row then has value NaN
    unavailable: Callable[[dict, plan.ModelSpec], str | None] = lambda cfg, spec: None

    def source(self) -> str:
        return "; ".join(f"{stage}/{name}" for stage, name in self.reads) + f" ({self.columns})"


def _no_checkpoints(cfg: dict, spec: plan.ModelSpec) -> str | None:
    return None if is_evolution_model(cfg, spec) else "no per-epoch checkpoints for this model (train.evolution)"


CHECKS: tuple[Check, ...] = (
    Check("C1", "matched_distance", REFERENCE_HMMS, (("evaluate", "eval_metrics.csv"),),
          "euclid_rnn_mean, euclid_base_mean", matched_distance),
    Check("C1", "transmat_sse", REFERENCE_HMMS, (("evaluate", "eval_metrics.csv"),),
          "transmat_sse_rnn_vs_emp", transmat_sse),
    Check("C2", "noinput_to_origin", REFERENCE_HMMS, (("fixed_points", "fixed_points.csv"),),
          "origin basin_frac", noinput_to_origin),
    Check("C2", "other_attractors", REFERENCE_HMMS, (("fixed_points", "fixed_points.csv"),),
          "kind, gain, rho, basin_frac", other_attractors),
    Check("C3", "switches_sigma1", REFERENCE_HMMS, (("residency", "residency_summary.csv"),),
          "n_switches_in_run", switches_sigma1),
    Check("C3", "phase_sets_symbol", REFERENCE_HMMS, (("residency", "residency_states.parquet"),),
          "pc1, pc2, o", phase_sets_symbol),
    Check("C3", "orbit_grows_with_noise", REF2_HMMS, (("orbits", "orbit_fit.csv"),),
          "r_center loglog slope", orbit_grows_with_noise),
    Check("C4", "cluster_slower", REFERENCE_HMMS, (("residency", "residency_summary.csv"),),
          "region, n_states, mean_rt", cluster_slower),
    Check("C4", "unstable_kick_vs_cluster", REFERENCE_HMMS, (("residency", "residency_summary.csv"),),
          "region, n_states, mean_unstable", unstable_kick_vs_cluster),
    Check("C5", "kick_group_found", REF2_HMMS, (("kick_neurons", "kick_groups.json"),),
          "groups.found", kick_group_found),
    Check("C5", "silencing_stops_switching", REF2_HMMS,
          (("kick_neurons", "kick_groups.json"), ("ablation", "ablation_cp.csv")),
          "condition kick, n_switches at mu 0 and 1", silencing_stops_switching),
    Check("C5", "kick_beats_random", REF2_HMMS,
          (("kick_neurons", "kick_groups.json"), ("kick_neurons", "kick_null.csv")),
          "group effect vs null effect", kick_beats_random),
    Check("C6", "bifurcation_found", REF2_HMMS,
          (("training_evolution", "evo_summary.csv"), ("training_evolution", "evo_stats.csv")),
          "bif_epoch_rule, first_epoch, frac_critical", bifurcation_found, _no_checkpoints),
    Check("C6", "resonant_noise", REFERENCE_HMMS, (("noise_sweep", "noise_sweep.csv"),),
          "sigma, euclid_rnn, euclid_base", resonant_noise),
    Check("C7", "orbits_per_pair", COMPOSITIONAL_HMMS,
          (("evaluate", "eval_transmat.csv"), ("compositional", "subspace_segments.csv")),
          "hmm_analytic p; run pca n_segments", orbits_per_pair),
    Check("C7", "pair_clusters_transitions", COMPOSITIONAL_HMMS,
          (("evaluate", "eval_transmat.csv"), ("compositional", "subspace_residency_summary.csv")),
          "hmm_analytic p; pair, region, n_states, mean_rt", pair_clusters_transitions),
)


def planned(preset_cfg: dict) -> list[tuple[Check, plan.ModelSpec]]:
    """Every (check, model) of the preset, in the order of docs/claims.md and of the preset's HMMs."""
    return [(c, m) for c in CHECKS for m in plan.reference_models(preset_cfg, list(c.hmms))]


def needs(preset: str, preset_cfg: dict) -> list[str]:
    """What the claims check reads: evaluation files and analysis folders (the rule's inputs)."""
    out = set()
    for c, m in planned(preset_cfg):
        if c.unavailable(preset_cfg, m):
            continue
        for stage, name in c.reads:
            out.add(f"{plan.eval_dir(preset, m)}/{name}" if stage == "evaluate" else plan.analysis_dir(preset, stage, m))
    return sorted(out)


def claims_table(preset: str, preset_cfg: dict, hmms_cfg: dict, root: str | Path = ".") -> pd.DataFrame:
    """The claims table of a preset (columns ``COLUMNS``), from the tables under ``root``.

    ``hmms_cfg`` is config['hmms'] (the training length T of each HMM is its ``seq_len``)."""
    import pandas as pd

    tables: dict[plan.ModelSpec, Tables] = {}
    rows = []
    for c, m in planned(preset_cfg):
        if m not in tables:
            seq_len = hmms_cfg.get(m.hmm, {}).get("seq_len")
            tables[m] = Tables(preset, m, int(seq_len) if seq_len is not None else None, Path(root))
        why = c.unavailable(preset_cfg, m)
        res = Outcome(NAN, why, False) if why else c.measure(tables[m])
        rows.append({"claim": c.claim, "check": c.name, "model": m.id, "value": res.value, "criterion": res.criterion,
                     "pass": bool(res.passed), "source": c.source()})
    return pd.DataFrame(rows, columns=COLUMNS)


def verdicts(table) -> list[dict]:
    """Per (claim, model): the number of checks, how many pass, and whether the claim holds (all pass)."""
    out = []
    for (claim, model), g in table.groupby(["claim", "model"], sort=False):
        out.append({"claim": claim, "model": model, "checks": len(g), "passed": int(g["pass"].sum()),
                    "holds": bool(g["pass"].all())})
    return out


# ---------------------------------------------------------------------- HTML (the report's view)
_STYLE = """
body { font-family: sans-serif; font-size: 13px; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.pass td.verdict { background: #c8e6c9; }
tr.fail td.verdict { background: #ffcdd2; }
td.num { text-align: right; font-family: monospace; }
"""


def _num(v) -> str:
    v = _f(v)
    return "NaN" if math.isnan(v) else f"{v:.4g}"


def render_html(table, preset: str) -> str:
    """A self-contained HTML page: the verdict per (claim, model), then every check."""
    e = html.escape
    lines = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
             f"<title>claims check: {e(preset)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Claims check, preset {e(preset)}</h1>",
             "<p>Criteria: docs/claims.md.  A claim holds for a model when all its checks pass; a value "
             "of NaN means the analysis could not measure it (the check fails).</p>",
             "<h2>Claims</h2>", "<table><tr><th>claim</th><th>model</th><th>checks passed</th><th>holds</th></tr>"]
    for v in verdicts(table):
        cls = "pass" if v["holds"] else "fail"
        lines.append(f"<tr class='{cls}'><td>{e(v['claim'])}</td><td>{e(v['model'])}</td>"
                     f"<td class='num'>{v['passed']} / {v['checks']}</td>"
                     f"<td class='verdict'>{'yes' if v['holds'] else 'no'}</td></tr>")
    lines += ["</table>", "<h2>Checks</h2>", "<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in COLUMNS) + "</tr>"]
    for r in table.itertuples(index=False):
        r = dict(zip(COLUMNS, r, strict=True))
        cls = "pass" if r["pass"] else "fail"
        lines.append(f"<tr class='{cls}'><td>{e(r['claim'])}</td><td>{e(r['check'])}</td><td>{e(r['model'])}</td>"
                     f"<td class='num'>{_num(r['value'])}</td><td>{e(str(r['criterion']))}</td>"
                     f"<td class='verdict'>{'True' if r['pass'] else 'False'}</td><td>{e(r['source'])}</td></tr>")
    lines += ["</table>", "</body></html>", ""]
    return "\n".join(lines)
