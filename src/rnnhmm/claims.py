"""The claims check (docs/claims.md): the paper's claims C1–C7 measured on the reference models and
on their controls.

Each check reads tables that the evaluation and the dynamical analyses already wrote (nothing is
simulated here) and compares one number with a criterion fixed in docs/claims.md.  The same check
is measured on the controls that apply to it (``Check.controls``): the ``untrained`` and ``shuffled``
networks, whose tables live under the control presets ``<preset>-untrained`` / ``<preset>-shuffled``
(``plan.CONTROLS``, rule ``control_model``), and the ``iid`` emitter, scored in the trained model's
own evaluation (``Check.iid``).  A check *discriminates* when at least one control applies and every
applied control fails it, and *counts* when the trained model also passes.

The result is one row per (claim, check, model) with the columns ``COLUMNS``.  An analysis that
legitimately produced no value (an untrained model that never switches, no kick group) gives value
NaN and pass False; a missing or damaged input file raises ``io.ResultFileError`` naming the file.

How each check maps onto the tables (``CHECKS`` holds the files and columns of each):

* C1 ``matched_distance``, ``transmat_sse``, ``switch_rate``: eval_metrics.csv at T_eval = the HMM's
  training T (``seq_len``): ``euclid_{rnn,base,iid}_mean``, ``transmat_sse_{rnn,iid}_vs_emp``,
  ``p_switch_{rnn,iid,analytic}``.
* C2 ``noinput_to_origin``: fixed_points.csv, the origin's ``basin_frac`` (share of the no-input
  rollouts from orbit states whose final norm is below ``origin_shrink`` × their start norm).
  ``other_attractors``: fixed_points.csv rows of kind fixed_ray / invariant_ray that hold activity
  away from 0 (``gain`` λ ≥ 1: activity along the ray does not decay) and attract (spectral radius
  ``rho`` ≤ λ, no direction of the ray's pattern grows faster, or a non-zero ``basin_frac``).  Rays
  with λ < 1 carry activity to h = 0 and are not attractors other than h = 0.
* C3 ``switch_rate_dominant``: noise_sweep.csv ``p_sw_dom`` over ``p_dom_hmm``.
  ``phase_sets_symbol``: residency_states.parquet ``pc1``, ``pc2``, ``o``: the angle atan2(pc2, pc1)
  about the PCA origin (the mean state) in 36 equal bins.
* C4 ``cluster_share``, ``unstable_kick_vs_cluster``: residency_summary.csv per region ``n_states``,
  ``mean_unstable`` (transition and kick-zone pooled weighted by their state counts).
* C5 ``kick_group_found``: kick_groups.json groups with ``found`` and ``significant`` (the z-score of
  the group's effect on fresh rollouts, not on the batch that selected it).  For those
  groups, from the silencing analysis (the group's output clamped to 0, fresh noise):
  ``silencing_stops_switching``: silencing_groups.csv ``ratio``, ``norm_ratio``, ``occupancy_*``;
  ``kick_beats_random``: its ``null_percentile`` (activity-matched null, mid-rank);
  ``kick_signature``: silencing_members.csv ``core_active``, ``pre_active``.
  ``noise_population_needed``: ablation_cp.csv, conditions ``noise`` and ``control``, ``n_switches``
  at μ = 0 over μ = 1.
* C6 ``bifurcation_found``: evo_summary.csv ``bif_epoch_rule`` (the rule's epoch, not a manual
  override) and ``first_epoch``; evo_stats.csv ``frac_critical`` of the epochs before e_b and from
  e_b on.  ``emergence_coincides``: e_b against the epoch of the validation loss's second drop
  (evo_losses.csv) and the dominant switch probability ``p_sw`` (evo_stats.csv) before and after
  e_b.  ``resonant_noise``: noise_sweep.csv ``sinkhorn_div`` per ``sigma``.
* C7 ``orbits_per_pair``: the output pairs the HMM switches between (eval_transmat.csv, source
  ``hmm_analytic``, an off-diagonal p > 0 in either direction) against subspace_segments.csv (run
  ``pca``, ``n_two_way``: segments switching both ways within the pair).  ``pair_cluster_share``: subspace_residency_summary.csv per pair.
  ``readout_tilt``: readout_summary.csv ``M``, ``p_bar`` of every chain's reference model.
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
from .errors import UserError

if TYPE_CHECKING:
    import pandas as pd

# the controls in the order of their columns: the control networks (plan.CONTROLS), then the emitter
CONTROLS = (*plan.CONTROLS, "iid")
COLUMNS = ["claim", "check", "model", "value", "criterion", "pass",
           *[f"{kind}_{c}" for c in CONTROLS for kind in ("value", "pass")],
           "controls", "discriminates", "counts", "source"]

# ---------------------------------------------------------------------- the criteria (docs/claims.md)
# Written down before any laptop result was looked at; never loosened.
# Revision 2 (2026-12-02), written before any result of it was computed; docs/claims.md gives the
# reason for every change from revision 1.  Revision 3 (2026-12-03): C5's groups are scored for
# significance on fresh rollouts (kick_neurons), likewise before any result.  Never loosened after
# seeing a result.
EXCESS_MAX_FRACTION = 0.5  # C1: RNN excess over the HMM baseline <= 0.5 x the i.i.d. emitter's
TRANSMAT_SSE_MAX = 0.01  # C1: summed squared error of the emitted-symbol transition matrix
SWITCH_RATE_TOL = 0.25  # C1: emitted switch probability within +-25 % of the HMM's
NOINPUT_TO_ORIGIN_MIN = 0.95  # C2: fraction of no-input rollouts ending at h = 0
OTHER_ATTRACTORS_MAX = 0  # C2: attracting fixed points / invariant rays other than h = 0
DOMINANT_RATE_FACTOR = 2.0  # C3: dominant-output switch probability within a factor 2 of the HMM's
PHASE_BINS = 36  # C3: equal angle bins on the PC1-PC2 plane
PHASE_SETS_SYMBOL_MIN = 0.9  # C3: fraction of states whose output is their bin's majority output
CLUSTER_SHARE_MIN = 0.5  # C4 and C7: fraction of the orbit states that are cluster states
SILENCED_SWITCHES_MAX_RATIO = 0.5  # C5: switches leaving the source, group clamped to 0 over intact
SILENCED_NORM_MIN_RATIO = 0.1  # C5: state norm in the source, silenced over intact (no collapse to 0)
KICK_NULL_PERCENTILE_MIN = 0.95  # C5: the group's effect against activity-matched random groups
KICK_CORE_ACTIVE_MAX = 0.5  # C5 signature: active in at most half of the source dwell-core steps
KICK_RISE_FACTOR = 2.0  # C5 signature: active before a switch >= 2 x as often as in the cores (and ever)
NOISE_SILENCED_MAX_RATIO = 0.5  # C5: switches with the noise population's input removed over intact
CONTROL_SILENCED_MIN_RATIO = 0.5  # C5: ... and with the control population's removed, at least half remain
EMERGENCE_MAX_OFFSET = 0.1  # C6: |e_b - epoch of the loss's second drop| <= 0.1 x the epochs trained
EMERGENCE_RATE_FACTOR = 2.0  # C6: the dominant switch probability changes by >= 2x at e_b (either way)
LOSS_SMOOTH = 5  # C6: the loss drop is the largest one-epoch fall of the 5-epoch running median
RESONANCE_EDGE_MIN_RATIO = 1.5  # C6: Sinkhorn divergence at both ends of the sweep over the best
READOUT_TILT_TAU_MAX = -2.0 / 3.0  # C7: Kendall tau of (number of chain states, readout projection)
READOUT_TILT_MIN_CHAINS = 3  # C7: chains needed for the tilt

# Numerical tolerance for "gain >= 1" and "rho <= gain" of a solved ray (not a criterion: the solver
# classifies a ray as fixed when |lambda - 1| < eig_tol = 1e-6).
RAY_TOL = 1.0e-6



# ---------------------------------------------------------------------- which HMMs a check is measured on
@dataclass(frozen=True)
class Scope:
    """The HMMs of a preset a check is measured on: the paper's HMMs a claim is about, by name, or
    those whose matrices pass ``test`` (an rnnhmm.hmm.HMM -> bool), so that a user's HMM gets every
    check its structure allows."""

    text: str  # for docs and errors
    names: tuple[str, ...] = ()
    test: Callable | None = None

    def applies(self, name: str, hmm) -> bool:
        return name in self.names or (self.test is not None and self.test(hmm))


MIN_COMPOSITIONAL_OUTPUTS = 3  # C7: a motif reused across output pairs needs at least three symbols
EVERY_HMM = Scope("every HMM", test=lambda h: True)
REF2 = Scope("chain2", names=("chain2",))  # the paper's mechanism study of the 2-state chain (C5, C6)
COMPOSITIONAL = Scope(f">= {MIN_COMPOSITIONAL_OUTPUTS} symbols, each the most likely of some state (fully3, cyclic4)",
                      test=lambda h: h.n_outputs >= MIN_COMPOSITIONAL_OUTPUTS and not h.rare_outputs())
CHAINS = Scope("the linear chains", names=("chain2", "chain3", "chain4", "chain5"))  # C7 readout tilt

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
    m = t.table("evaluate", plan.eval_file("metrics"), ("T_eval", "metric", "value"))
    sel = m.loc[(m["T_eval"] == t.train_len) & (m["metric"] == name), "value"]
    return _f(sel.iloc[0]) if len(sel) else NAN


def matched_distance(t: Tables, scored: str = "rnn") -> Outcome:
    """C1: the matched-distance excess of the ``scored`` set ('rnn' or 'iid') over the HMM baseline, as
    a fraction of the i.i.d. emitter's excess."""
    d, iid, base = _metric(t, f"euclid_{scored}_mean"), _metric(t, "euclid_iid_mean"), _metric(t, "euclid_base_mean")
    gap = iid - base
    frac = (d - base) / gap if gap > 0 else NAN
    return outcome(frac, f"<= {EXCESS_MAX_FRACTION:g} (excess over the baseline {_g(base)} as a fraction of the "
                         f"i.i.d. emitter's {_g(gap)}; {scored} distance {_g(d)}) at T = {t.train_len}",
                   frac <= EXCESS_MAX_FRACTION)


def transmat_sse(t: Tables, scored: str = "rnn") -> Outcome:
    sse = _metric(t, f"transmat_sse_{scored}_vs_emp")
    return outcome(sse, f"<= {TRANSMAT_SSE_MAX:g} at T = {t.train_len}", sse <= TRANSMAT_SSE_MAX)


def switch_rate(t: Tables, scored: str = "rnn") -> Outcome:
    p, hmm = _metric(t, f"p_switch_{scored}"), _metric(t, "p_switch_analytic")
    ratio = p / hmm if hmm > 0 else NAN
    return outcome(ratio, f"within 1 +- {SWITCH_RATE_TOL:g} (emitted switch probability {_g(p)} over the HMM's "
                          f"{_g(hmm)}) at T = {t.train_len}", abs(ratio - 1.0) <= SWITCH_RATE_TOL)


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
def switch_rate_dominant(t: Tables) -> Outcome:
    ns = t.table("noise_sweep", "noise_sweep.csv", ("p_sw_dom", "p_dom_hmm"))
    p = _f(ns["p_sw_dom"].iloc[0]) if len(ns) else NAN
    hmm = _f(ns["p_dom_hmm"].iloc[0]) if len(ns) else NAN
    ratio = p / hmm if hmm > 0 else NAN
    f = DOMINANT_RATE_FACTOR
    return outcome(ratio, f"in [{1 / f:g}, {f:g}] (dominant-output switch probability {_g(p)} over the HMM's "
                          f"dominant-symbol switch probability {_g(hmm)})", 1 / f <= ratio <= f)


def phase_majority_fraction(pc1, pc2, o, bins: int = PHASE_BINS) -> float:
    """Fraction of states whose output equals the majority output of their angle bin (the angle
    atan2(pc2, pc1) cut into ``bins`` equal bins over [-π, π)); states without a finite angle are left
    out; NaN without states."""
    pc1, pc2, o = (np.asarray(x) for x in (pc1, pc2, o))
    angle = np.arctan2(pc2.astype(float), pc1.astype(float))
    keep = np.isfinite(angle)  # a runaway state has no angle; it must not fall into bin 0
    angle, o = angle[keep], o[keep]
    if len(o) == 0:
        return NAN
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


# ---------------------------------------------------------------------- C4 (and C7)
SUMMARY_COLUMNS = ("region", "n_states", "mean_rt", "mean_unstable")  # regions.summarize


def _region(summary, region: str) -> tuple[int, float, float]:
    """(n_states, mean_rt, mean_unstable) of a region in a residency summary; (0, NaN, NaN) when the
    region is absent or empty."""
    r = summary[summary["region"] == region]
    n = _f(r["n_states"].iloc[0]) if len(r) else 0.0
    if not n > 0:
        return 0, NAN, NAN
    return int(n), _f(r["mean_rt"].iloc[0]), _f(r["mean_unstable"].iloc[0])


def cluster_share_of(summary) -> tuple[float, int, int]:
    """(fraction of the summary's states in clusters, cluster states, transition states); the fraction
    is NaN without states."""
    n = {r: _region(summary, r)[0] for r in ("cluster", "transition", "kick-zone", "unassigned")}
    total = sum(n.values())
    return (n["cluster"] / total if total else NAN), n["cluster"], n["transition"]


def cluster_share(t: Tables) -> Outcome:
    s = t.table("residency", "residency_summary.csv", SUMMARY_COLUMNS)
    share, nc, nt = cluster_share_of(s)
    return outcome(share, f">= {CLUSTER_SHARE_MIN:g} of the orbit states in clusters, with transition states "
                          f"({nc} cluster, {nt} transition states)", share >= CLUSTER_SHARE_MIN and nt > 0)


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
            if g.get("found") and g.get("significant") and g.get("neurons")}


def kick_group_found(t: Tables) -> Outcome:
    n = len(_found_groups(t))
    return outcome(n, ">= 1 group, significant on fresh rollouts against a null of neurons silent in the source "
                      "cores (z >= 3)", n >= 1)


def _silencing_rows(t: Tables, groups: dict[int, dict]):
    """The silencing analysis' rows of the significant kick groups (a missing group has no row)."""
    sil = t.table("silencing", "silencing_groups.csv", ("group", "ratio", "norm_ratio", "null_percentile",
                                                        "occupancy_intact", "occupancy_silenced"))
    return {g: sil[sil["group"].astype(int) == g] for g in groups}


def silencing_stops_switching(t: Tables) -> Outcome:
    groups = _found_groups(t)
    text = (f"<= {SILENCED_SWITCHES_MAX_RATIO:g} x intact switches leaving the source with the group clamped to 0, "
            f"state norm in the source >= {SILENCED_NORM_MIN_RATIO:g} x intact and occupancy of the source >= intact, "
            "every group")
    if not groups:
        return outcome(NAN, f"{text} (no significant kick group)", False)
    ratios, parts, stays = [], [], True
    for g, r in _silencing_rows(t, groups).items():
        ratio = _f(r["ratio"].iloc[0]) if len(r) else NAN
        norm = _f(r["norm_ratio"].iloc[0]) if len(r) else NAN
        occ0 = _f(r["occupancy_intact"].iloc[0]) if len(r) else NAN
        occ1 = _f(r["occupancy_silenced"].iloc[0]) if len(r) else NAN
        ratios.append(ratio)
        stays = stays and norm >= SILENCED_NORM_MIN_RATIO and occ1 >= occ0
        parts.append(f"group {g}: switches {_g(ratio)}, norm {_g(norm)}, occupancy {_g(occ1)} vs {_g(occ0)}")
    worst = NAN if any(math.isnan(r) for r in ratios) else max(ratios)
    return outcome(worst, f"{text} ({'; '.join(parts)})", worst <= SILENCED_SWITCHES_MAX_RATIO and stays)


def kick_beats_random(t: Tables) -> Outcome:
    groups = _found_groups(t)
    text = f">= {KICK_NULL_PERCENTILE_MIN:g}, every group"
    if not groups:
        return outcome(NAN, f"{text} (no significant kick group)", False)
    pcts, parts = [], []
    for g, r in _silencing_rows(t, groups).items():
        pct = _f(r["null_percentile"].iloc[0]) if len(r) else NAN
        pcts.append(pct)
        parts.append(f"group {g}: {_g(pct)}")
    worst = NAN if any(math.isnan(p) for p in pcts) else min(pcts)
    return outcome(worst, f"{text} (mid-rank percentile of the clamped group's effect among activity-matched "
                          f"random groups, fresh noise: {'; '.join(parts)})", worst >= KICK_NULL_PERCENTILE_MIN)


def kick_signature(t: Tables) -> Outcome:
    groups = _found_groups(t)
    text = (f"== 1 (fraction of members active in <= {KICK_CORE_ACTIVE_MAX:g} of the source dwell-core steps and "
            f">= {KICK_RISE_FACTOR:g} x as often before a switch), every group")
    if not groups:
        return outcome(NAN, f"{text} (no significant kick group)", False)
    mem = t.table("silencing", "silencing_members.csv", ("group", "neuron", "core_active", "pre_active"))
    mem = mem[mem["group"].astype(int).isin(list(groups))]
    core, pre = mem["core_active"].astype(float), mem["pre_active"].astype(float)
    ok = (core <= KICK_CORE_ACTIVE_MAX) & (pre >= KICK_RISE_FACTOR * core) & (pre > 0)
    frac = float(ok.mean()) if len(mem) else NAN
    return outcome(frac, f"{text} ({int(ok.sum())} of {len(mem)} members)", frac >= 1.0)


def noise_population_needed(t: Tables) -> Outcome:
    groups = _found_groups(t)
    text = (f"noise population's input removed (mu = 0): <= {NOISE_SILENCED_MAX_RATIO:g} x intact switches; control "
            f"population's: >= {CONTROL_SILENCED_MIN_RATIO:g} x, every group")
    if not groups:
        return outcome(NAN, f"{text} (no significant kick group)", False)
    cp = t.table("ablation", "ablation_cp.csv", ("group", "condition", "mu", "n_switches"))

    def ratio(g: int, condition: str) -> float:
        rows = cp[(cp["group"].astype(int) == g) & (cp["condition"] == condition)]
        at = {}
        for mu in (0.0, 1.0):
            sel = rows.loc[np.isclose(rows["mu"].astype(float), mu), "n_switches"]
            at[mu] = _f(sel.iloc[0]) if len(sel) else NAN
        return at[0.0] / at[1.0] if at[1.0] > 0 else NAN

    noise = {g: ratio(g, "noise") for g in groups}
    control = {g: ratio(g, "control") for g in groups}
    worst = NAN if any(math.isnan(v) for v in noise.values()) else max(noise.values())
    ctl_ok = all(v >= CONTROL_SILENCED_MIN_RATIO for v in control.values())
    parts = "; ".join(f"group {g}: noise {_g(noise[g])}, control {_g(control[g])}" for g in groups)
    return outcome(worst, f"{text} ({parts})", worst <= NOISE_SILENCED_MAX_RATIO and ctl_ok)


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


def second_drop_epoch(epochs, val_loss, smooth: int = LOSS_SMOOTH, skip_frac: float = 0.05) -> float:
    """The epoch of the largest one-epoch fall of the validation loss's ``smooth``-epoch running median,
    after the first ``skip_frac`` of the epochs (the first drop, from the random initial loss to the
    i.i.d. plateau, happens there); NaN with fewer than two epochs left."""
    e = np.asarray(epochs, dtype=float)
    v = running_median(np.asarray(val_loss, dtype=float), smooth)
    start = int(math.ceil(skip_frac * len(e)))
    if len(e) - start < 2:
        return NAN
    fall = v[start:-1] - v[start + 1:]
    if not np.isfinite(fall).any():
        return NAN
    return float(e[start + 1 + int(np.nanargmax(fall))])


def running_median(x: np.ndarray, k: int) -> np.ndarray:
    """Centred running median of ``k`` points (shorter at the ends), NaN-aware; NaN where a window has
    no finite value."""
    half = k // 2
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        w = x[max(0, i - half):i + half + 1]
        if np.isfinite(w).any():
            out[i] = np.nanmedian(w)
    return out


def emergence_coincides(t: Tables) -> Outcome:
    summ = t.table("training_evolution", "evo_summary.csv", ("bif_epoch_rule",))
    stats = t.table("training_evolution", "evo_stats.csv", ("epoch", "p_sw"))
    losses = t.table("training_evolution", "evo_losses.csv", ("epoch", "val_loss"))
    e_b = _f(summ["bif_epoch_rule"].iloc[0]) if len(summ) else NAN
    n_epochs = len(losses)
    e_drop = second_drop_epoch(losses["epoch"], losses["val_loss"])
    text = (f"|e_b - loss drop| <= {EMERGENCE_MAX_OFFSET:g} x {n_epochs} epochs and the dominant switch probability "
            f"changes >= {EMERGENCE_RATE_FACTOR:g}x at e_b")
    if math.isnan(e_b) or math.isnan(e_drop):
        return outcome(NAN, f"{text} (e_b {_g(e_b)}, loss drop {_g(e_drop)})", False)
    epoch, p_sw = stats["epoch"].astype(float), stats["p_sw"].astype(float)
    before, after = p_sw[epoch < e_b].mean(), p_sw[epoch >= e_b].mean()
    change = after / before if before > 0 and after > 0 else (math.inf if after > 0 or before > 0 else NAN)
    rate_ok = change >= EMERGENCE_RATE_FACTOR or change <= 1 / EMERGENCE_RATE_FACTOR
    offset = abs(e_b - e_drop)
    return outcome(offset, f"{text} (e_b {e_b:g}, loss drop at {e_drop:g}; p_sw {_g(before)} before, {_g(after)} "
                           "after)", offset <= EMERGENCE_MAX_OFFSET * n_epochs and rate_ok)


def resonant_noise(t: Tables) -> Outcome:
    ns = t.table("noise_sweep", "noise_sweep.csv", ("sigma", "sinkhorn_div")).sort_values("sigma")
    sigma = ns["sigma"].astype(float).to_numpy()
    div = ns["sinkhorn_div"].astype(float).to_numpy()
    text = f"strictly inside the swept sigma; Sinkhorn divergence at both ends >= {RESONANCE_EDGE_MIN_RATIO:g} x best"
    if len(sigma) < 3 or not np.all(np.isfinite(div)):
        return outcome(NAN, f"{text} ({len(sigma)} levels, {int(np.sum(~np.isfinite(div)))} without a divergence)",
                       False)
    i = int(np.argmin(div))
    best, lo, hi = div[i], div[0], div[-1]
    ok = (0 < i < len(sigma) - 1 and lo >= RESONANCE_EDGE_MIN_RATIO * best
          and hi >= RESONANCE_EDGE_MIN_RATIO * best)
    return outcome(sigma[i], f"sigma* in ({sigma[0]:g}, {sigma[-1]:g}); Sinkhorn divergence at the ends >= "
                             f"{RESONANCE_EDGE_MIN_RATIO:g} x best ({_g(best)}; ends {_g(lo)}, {_g(hi)})", ok)


# ---------------------------------------------------------------------- C7
def pair_name(a: int, b: int) -> str:
    a, b = sorted((int(a), int(b)))
    return f"O{a + 1}O{b + 1}"


def switching_pairs(t: Tables) -> list[str]:
    """Output pairs the HMM switches between: an off-diagonal analytic output-transition p > 0."""
    tr = t.table("evaluate", plan.eval_file("transmat"), ("T_eval", "source", "from", "to", "p"))
    sel = tr[(tr["source"] == "hmm_analytic") & (tr["T_eval"] == t.train_len) & (tr["from"] != tr["to"])
             & (tr["p"].astype(float) > 0)]
    return sorted({pair_name(a, b) for a, b in zip(sel["from"], sel["to"], strict=True)})


def orbits_per_pair(t: Tables) -> Outcome:
    pairs = switching_pairs(t)
    seg = t.table("compositional", "subspace_segments.csv", ("run", "pair", "n_two_way"))
    seg = seg[seg["run"] == "pca"]
    have = {str(p) for p, n in zip(seg["pair"], seg["n_two_way"], strict=True) if _f(n) > 0}
    found = [p for p in pairs if p in have]
    missing = [p for p in pairs if p not in have]
    return outcome(len(found) if pairs else NAN,
                   f"== {len(pairs)} (a segment switching both ways within every pair the HMM switches between: "
                   f"{', '.join(pairs) or 'none'}" + (f"; missing {', '.join(missing)})" if missing else ")"),
                   bool(pairs) and not missing)


def pair_cluster_share(t: Tables) -> Outcome:
    pairs = switching_pairs(t)
    s = t.table("compositional", "subspace_residency_summary.csv", ("pair", *SUMMARY_COLUMNS))
    shares = {}
    for p in pairs:
        share, _, nt = cluster_share_of(s[s["pair"] == p])
        shares[p] = share if nt > 0 else NAN  # no transition states: not a cluster/transition structure
    worst = NAN if not pairs or any(math.isnan(v) for v in shares.values()) else min(shares.values())
    detail = ", ".join(f"{p} {_g(v)}" for p, v in shares.items()) or "no switching pair"
    return outcome(worst, f">= {CLUSTER_SHARE_MIN:g} of the pair's states in clusters, with transition states, "
                          f"every pair ({detail})", worst >= CLUSTER_SHARE_MIN)


def kendall_tau(x, y) -> float:
    """Kendall's tau-a of two sequences ((concordant − discordant) pairs over all pairs); NaN with
    fewer than two points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if n < 2:
        return NAN
    i, j = np.triu_indices(n, k=1)
    return float(np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])) / len(i))


def readout_tilt(ts: list[Tables]) -> Outcome:
    ms, ps, parts = [], [], []
    for t in ts:
        r = t.table("readout", "readout_summary.csv", ("M", "p_bar"))
        m, p = (_f(r["M"].iloc[0]), _f(r["p_bar"].iloc[0])) if len(r) else (NAN, NAN)
        parts.append(f"{t.spec.hmm} {_g(p)}")
        if math.isfinite(m) and math.isfinite(p):
            ms.append(m)
            ps.append(p)
    tau = kendall_tau(ms, ps) if len(ms) >= READOUT_TILT_MIN_CHAINS else NAN
    return outcome(tau, f"<= {READOUT_TILT_TAU_MAX:.3g} (Kendall tau of states vs readout projection on the orbit "
                        f"plane, >= {READOUT_TILT_MIN_CHAINS} chains: {', '.join(parts) or 'none'})",
                   tau <= READOUT_TILT_TAU_MAX)


# ---------------------------------------------------------------------- the checks
NETWORKS = plan.CONTROLS  # the control networks (untrained, shuffled)


@dataclass(frozen=True)
class Check:
    claim: str
    name: str
    scope: Scope  # measured on the reference models of the preset's HMMs in this scope
    reads: tuple[tuple[str, str], ...]  # (stage, file): 'evaluate' or an analysis name
    columns: str  # the columns the value comes from (for the source column)
    # Tables -> Outcome; with ``pooled``, the list of the Tables of every model of ``hmms`` -> Outcome
    measure: Callable
    # why the check cannot be measured on a model (None: it can); its row then has value NaN
    unavailable: Callable[[dict, plan.ModelSpec], str | None] = lambda cfg, spec: None
    networks: tuple[str, ...] = NETWORKS  # control networks the check is measured on
    iid: Callable[[Tables], Outcome] | None = None  # the check on the i.i.d. emitter (emission checks)
    pooled: str = ""  # non-empty: one row over the reference models of the scope, model id '<pooled>_h.._d.._s..'

    @property
    def controls(self) -> tuple[str, ...]:
        return (*self.networks, *(("iid",) if self.iid is not None else ()))

    def source(self) -> str:
        return "; ".join(f"{stage}/{name}" for stage, name in self.reads) + f" ({self.columns})"


def _no_checkpoints(cfg: dict, spec: plan.ModelSpec) -> str | None:
    return None if plan.is_evolution(cfg, spec) else "no per-epoch checkpoints for this model (train.evolution)"


def _on_iid(measure: Callable[..., Outcome]) -> Callable[[Tables], Outcome]:
    return lambda t: measure(t, "iid")


_EVAL = (("evaluate", plan.eval_file("metrics")),)
CHECKS: tuple[Check, ...] = (
    Check("C1", "matched_distance", EVERY_HMM, _EVAL, "euclid_rnn_mean, euclid_base_mean, euclid_iid_mean",
          matched_distance, iid=_on_iid(matched_distance)),
    Check("C1", "transmat_sse", EVERY_HMM, _EVAL, "transmat_sse_rnn_vs_emp", transmat_sse,
          iid=_on_iid(transmat_sse)),
    Check("C1", "switch_rate", EVERY_HMM, _EVAL, "p_switch_rnn, p_switch_analytic", switch_rate,
          iid=_on_iid(switch_rate)),
    Check("C2", "noinput_to_origin", EVERY_HMM, (("fixed_points", "fixed_points.csv"),),
          "origin basin_frac", noinput_to_origin),
    Check("C2", "other_attractors", EVERY_HMM, (("fixed_points", "fixed_points.csv"),),
          "kind, gain, rho, basin_frac", other_attractors),
    Check("C3", "switch_rate_dominant", EVERY_HMM, (("noise_sweep", "noise_sweep.csv"),),
          "p_sw_dom, p_dom_hmm", switch_rate_dominant),
    Check("C3", "phase_sets_symbol", EVERY_HMM, (("residency", "residency_states.parquet"),),
          "pc1, pc2, o", phase_sets_symbol),
    Check("C4", "cluster_share", EVERY_HMM, (("residency", "residency_summary.csv"),),
          "region, n_states", cluster_share),
    Check("C4", "unstable_kick_vs_cluster", EVERY_HMM, (("residency", "residency_summary.csv"),),
          "region, n_states, mean_unstable", unstable_kick_vs_cluster),
    Check("C5", "kick_group_found", REF2, (("kick_neurons", "kick_groups.json"),),
          "groups.found, groups.significant", kick_group_found),
    Check("C5", "silencing_stops_switching", REF2,
          (("kick_neurons", "kick_groups.json"), ("silencing", "silencing_groups.csv")),
          "ratio, norm_ratio, occupancy_intact, occupancy_silenced", silencing_stops_switching),
    Check("C5", "kick_beats_random", REF2,
          (("kick_neurons", "kick_groups.json"), ("silencing", "silencing_groups.csv")),
          "null_percentile", kick_beats_random),
    Check("C5", "kick_signature", REF2,
          (("kick_neurons", "kick_groups.json"), ("silencing", "silencing_members.csv")),
          "core_active, pre_active", kick_signature),
    Check("C5", "noise_population_needed", REF2,
          (("kick_neurons", "kick_groups.json"), ("ablation", "ablation_cp.csv")),
          "conditions noise and control, n_switches at mu 0 and 1", noise_population_needed),
    Check("C6", "bifurcation_found", REF2,
          (("training_evolution", "evo_summary.csv"), ("training_evolution", "evo_stats.csv")),
          "bif_epoch_rule, first_epoch, frac_critical", bifurcation_found, _no_checkpoints, networks=()),
    Check("C6", "emergence_coincides", REF2,
          (("training_evolution", "evo_summary.csv"), ("training_evolution", "evo_stats.csv"),
           ("training_evolution", "evo_losses.csv")),
          "bif_epoch_rule; p_sw; val_loss", emergence_coincides, _no_checkpoints, networks=()),
    Check("C6", "resonant_noise", EVERY_HMM, (("noise_sweep", "noise_sweep.csv"),),
          "sigma, sinkhorn_div", resonant_noise),
    Check("C7", "orbits_per_pair", COMPOSITIONAL,
          (("evaluate", plan.eval_file("transmat")), ("compositional", "subspace_segments.csv")),
          "hmm_analytic p; run pca n_two_way", orbits_per_pair),
    Check("C7", "pair_cluster_share", COMPOSITIONAL,
          (("evaluate", plan.eval_file("transmat")), ("compositional", "subspace_residency_summary.csv")),
          "hmm_analytic p; pair, region, n_states", pair_cluster_share),
    Check("C7", "readout_tilt", CHAINS, (("readout", "readout_summary.csv"),), "M, p_bar", readout_tilt,
          pooled="chains"),
)


def scope_hmms(scope: Scope, preset_cfg: dict, hmms_cfg: dict) -> list[str]:
    """The preset's HMMs (grid order) in ``scope``; ``hmms_cfg`` maps each to its definition (a config
    entry, or config.hmm_spec's resolved one), built only for a structural scope."""
    from .hmm import build_hmm

    out = []
    for name in plan.hmms_in(preset_cfg):
        if name in scope.names:
            out.append(name)
        elif scope.test is not None:
            if name not in hmms_cfg:
                raise UserError(f"claims check: the parameters define no HMM '{name}' (an HMM of the preset's grid)")
            if scope.test(build_hmm(name, hmms_cfg[name])):
                out.append(name)
    return out


def planned(preset_cfg: dict, hmms_cfg: dict) -> list[tuple[Check, list[plan.ModelSpec]]]:
    """Every (check, models) of the preset, in the order of docs/claims.md and of the preset's HMMs:
    one model per row, or all of the check's reference models for a pooled check."""
    out = []
    for c in CHECKS:
        models = plan.reference_models(preset_cfg, scope_hmms(c.scope, preset_cfg, hmms_cfg))
        if c.pooled:
            if models:
                out.append((c, models))
        else:
            out.extend((c, [m]) for m in models)
    return out


def row_model(c: Check, models: list[plan.ModelSpec]) -> str:
    """The model id of a row: the model's, or '<pooled>_h.._d.._s..' for a pooled check."""
    m = models[0]
    return f"{c.pooled}_h{m.hidden}_d{m.dim}_s{m.seed}" if c.pooled else m.id


def networks_for(c: Check, models: list[plan.ModelSpec], preset_cfg: dict) -> tuple[str, ...]:
    """The control networks a row is measured on: the check's, when every model of the row has control
    networks in this preset (``plan.control_models``)."""
    have = set(plan.control_models(preset_cfg))
    return c.networks if all(m in have for m in models) else ()


def needs(preset: str, preset_cfg: dict, hmms_cfg: dict) -> list[str]:
    """What the claims check reads: evaluation files and analysis folders of the preset and of its
    control presets (the rule's inputs); ``hmms_cfg`` as for :func:`planned`."""
    out = set()
    for c, models in planned(preset_cfg, hmms_cfg):
        for m in models:
            if c.unavailable(preset_cfg, m):
                continue
            for where in (preset, *(plan.control_preset(preset, k) for k in networks_for(c, models, preset_cfg))):
                for stage, name in c.reads:
                    out.add(f"{plan.eval_dir(where, m)}/{name}" if stage == "evaluate"
                            else plan.analysis_dir(where, stage, m))
    return sorted(out)


def _measure(c: Check, tables: list[Tables]) -> Outcome:
    return c.measure(tables) if c.pooled else c.measure(tables[0])


def claims_table(preset: str, preset_cfg: dict, hmms_cfg: dict, root: str | Path = ".") -> pd.DataFrame:
    """The claims table of a preset (columns ``COLUMNS``), from the tables under ``root``: every check
    on the trained reference models and on the controls that apply to it.

    ``hmms_cfg`` maps each HMM of the preset to its definition (config.hmm_spec: the training length T
    is its ``seq_len``; the matrices decide the structural scopes)."""
    import pandas as pd

    cache: dict[tuple[str, plan.ModelSpec], Tables] = {}

    def tables(where: str, m: plan.ModelSpec) -> Tables:
        if (where, m) not in cache:
            seq_len = hmms_cfg.get(m.hmm, {}).get("seq_len")
            cache[where, m] = Tables(where, m, int(seq_len) if seq_len is not None else None, Path(root))
        return cache[where, m]

    rows = []
    for c, models in planned(preset_cfg, hmms_cfg):
        why = next((w for w in (c.unavailable(preset_cfg, m) for m in models) if w), None)
        res = Outcome(NAN, why, False) if why else _measure(c, [tables(preset, m) for m in models])
        row = {"claim": c.claim, "check": c.name, "model": row_model(c, models), "value": res.value,
               "criterion": res.criterion, "pass": bool(res.passed)}
        failed = []
        applied = (*networks_for(c, models, preset_cfg), *(("iid",) if c.iid is not None else ()))
        for k in CONTROLS:
            if why or k not in applied:
                ctl = Outcome(NAN, "", False)
            elif k == "iid":
                ctl = c.iid(tables(preset, models[0]))
            else:
                ctl = _measure(c, [tables(plan.control_preset(preset, k), m) for m in models])
            row[f"value_{k}"], row[f"pass_{k}"] = ctl.value, bool(ctl.passed)
            if k in applied:
                failed.append(not ctl.passed)
        discriminates = bool(failed) and all(failed) and not why
        row.update({"controls": " ".join(applied), "discriminates": discriminates,
                    "counts": bool(res.passed) and discriminates, "source": c.source()})
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def verdicts(table) -> list[dict]:
    """Per (claim, model): the number of checks, how many pass and how many count, whether the claim
    holds (all pass) and whether it is supported (all count: passed, and every control failed)."""
    out = []
    for (claim, model), g in table.groupby(["claim", "model"], sort=False):
        out.append({"claim": claim, "model": model, "checks": len(g), "passed": int(g["pass"].sum()),
                    "counted": int(g["counts"].sum()), "holds": bool(g["pass"].all()),
                    "supported": bool(g["counts"].all())})
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
td.ok { color: #1b5e20; }
td.no { color: #b71c1c; }
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
             "<p>Criteria: docs/claims.md.  Every check is measured on the trained model and on its controls "
             f"({', '.join(CONTROLS)}; '—' where a control does not apply).  A check <em>counts</em> when the "
             "trained model passes it and every control fails it.  A claim holds for a model when all its checks "
             "pass, and is supported when all of them count.  NaN: the analysis could not measure the value "
             "(the check fails).</p>",
             "<h2>Claims</h2>", "<table><tr><th>claim</th><th>model</th><th>checks passed</th><th>checks counted</th>"
             "<th>holds</th><th>supported</th></tr>"]
    for v in verdicts(table):
        cls = "pass" if v["supported"] else "fail"
        lines.append(f"<tr class='{cls}'><td>{e(v['claim'])}</td><td>{e(v['model'])}</td>"
                     f"<td class='num'>{v['passed']} / {v['checks']}</td><td class='num'>{v['counted']} / {v['checks']}</td>"
                     f"<td>{'yes' if v['holds'] else 'no'}</td>"
                     f"<td class='verdict'>{'yes' if v['supported'] else 'no'}</td></tr>")
    head = ["claim", "check", "model", "trained", *CONTROLS, "criterion", "counts", "source"]
    lines += ["</table>", "<h2>Checks: trained model and controls</h2>",
              "<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + "</tr>"]

    def cell(value, passed, applies=True) -> str:
        if not applies:
            return "<td class='num'>—</td>"
        return f"<td class='num {'ok' if passed else 'no'}'>{_num(value)} {'pass' if passed else 'fail'}</td>"

    for r in table.itertuples(index=False):
        r = dict(zip(COLUMNS, r, strict=True))
        applied = str(r["controls"]).split()
        cls = "pass" if r["counts"] else "fail"
        lines.append(f"<tr class='{cls}'><td>{e(r['claim'])}</td><td>{e(r['check'])}</td><td>{e(r['model'])}</td>"
                     + cell(r["value"], r["pass"])
                     + "".join(cell(r[f"value_{k}"], r[f"pass_{k}"], k in applied) for k in CONTROLS)
                     + f"<td>{e(str(r['criterion']))}</td>"
                     f"<td class='verdict'>{'yes' if r['counts'] else 'no'}</td><td>{e(r['source'])}</td></tr>")
    lines += ["</table>", "</body></html>", ""]
    return "\n".join(lines)
