"""The claims check (docs/claims.md) on synthetic analysis tables with known answers: a passing and a
failing case per criterion, the boundaries, degenerate models, missing files and the CLI."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from rnnhmm import claims, cli, io, plan
from rnnhmm.dynamics import silencing
from rnnhmm.plan import ModelSpec

PRESET = "t"
PCFG = {"grid": [{"hmms": ["chain2", "chain3", "chain4", "fully3"], "hidden": [8], "dim": [2], "seeds": [0, 1]}],
        "reference": {"hidden": 8, "dim": 2, "seed": 0},
        "train": {"evolution": {"hidden": 8, "dim": 2}}}
_CONFIG_HMMS = yaml.safe_load((REPO / "config.yaml").read_text())["hmms"]
# the config's definitions at short training lengths
HMMS = {h: {**_CONFIG_HMMS[h], "seq_len": n} for h, n in (("chain2", 10), ("chain3", 10), ("chain4", 10), ("fully3", 12))}
CHAIN2, FULLY3 = ModelSpec("chain2", 8, 2, 0), ModelSpec("fully3", 8, 2, 0)
MODELS = {h: ModelSpec(h, 8, 2, 0) for h in HMMS}
STATES = {"chain2": 2, "chain3": 3, "chain4": 4, "fully3": 3}
CHAINS_ID = "chains_h8_d2_s0"
NETWORKS = plan.CONTROLS  # the control networks; their tables live under the control presets
WHERE = {"trained": PRESET, **{k: plan.control_preset(PRESET, k) for k in NETWORKS}}

# the rows docs/claims.md asks for: (claim, check) -> the HMMs whose reference model it is measured on
EVERY = tuple(HMMS)
DOC_ROWS = {("C1", "matched_distance"): EVERY, ("C1", "transmat_sse"): EVERY, ("C1", "switch_rate"): EVERY,
            ("C2", "noinput_to_origin"): EVERY, ("C2", "other_attractors"): EVERY,
            ("C3", "switch_rate_dominant"): EVERY, ("C3", "phase_sets_symbol"): EVERY,
            ("C4", "cluster_share"): EVERY, ("C4", "unstable_kick_vs_cluster"): EVERY,
            ("C5", "kick_group_found"): ("chain2",), ("C5", "silencing_stops_switching"): ("chain2",),
            ("C5", "kick_beats_random"): ("chain2",), ("C5", "kick_signature"): ("chain2",),
            ("C5", "noise_population_needed"): ("chain2",),
            ("C6", "bifurcation_found"): ("chain2",), ("C6", "emergence_coincides"): ("chain2",),
            ("C6", "resonant_noise"): EVERY,
            ("C7", "orbits_per_pair"): ("fully3",), ("C7", "pair_cluster_share"): ("fully3",),
            ("C7", "readout_tilt"): ("chains",)}
# the controls docs/claims.md applies to each check
DOC_CONTROLS = {check: ("untrained", "shuffled", "iid") if claim == "C1" else ("untrained", "shuffled")
                for claim, check in DOC_ROWS}
DOC_CONTROLS["bifurcation_found"] = DOC_CONTROLS["emergence_coincides"] = ()


def model_id(hmm):
    return CHAINS_ID if hmm == "chains" else MODELS[hmm].id


# ---------------------------------------------------------------------- a world where every claim holds
def keys(spec):
    return {"hmm": spec.hmm, "hidden": spec.hidden, "dim": spec.dim, "seed": spec.seed}


def eval_metrics(spec, rnn=0.5, base=0.5, sse=0.001, iid=1.5, p_rnn=0.1, p_hmm=0.1, sse_iid=0.3, p_iid=0.6):
    """The C1 metrics at the training T (and other values at T = 100, which must not count); the
    i.i.d. emitter fails every C1 check by default."""
    rows = []
    at_t = {"euclid_rnn_mean": rnn, "euclid_base_mean": base, "euclid_iid_mean": iid, "transmat_sse_rnn_vs_emp": sse,
            "transmat_sse_base_vs_emp": 0.0, "transmat_sse_iid_vs_emp": sse_iid, "p_switch_rnn": p_rnn,
            "p_switch_analytic": p_hmm, "p_switch_iid": p_iid}
    at_100 = {**{k: 9.0 for k in at_t}, "euclid_base_mean": 0.5, "transmat_sse_rnn_vs_emp": 1.0}
    for length, values in ((HMMS[spec.hmm]["seq_len"], at_t), (100, at_100)):
        for metric, value in values.items():
            rows.append({**keys(spec), "T_eval": length, "N": 64, "metric": metric, "value": value})
    return pd.DataFrame(rows)


def eval_transmat(spec, p=None):
    """Analytic output transitions (default: every pair switches); at T = 100 nothing switches."""
    p = np.full((3, 3), 1 / 3) if p is None else np.asarray(p)
    rows = []
    for length, mat in ((HMMS[spec.hmm]["seq_len"], p), (100, np.eye(3))):
        for source in ("hmm_analytic", "rnn"):
            for a in range(3):
                for b in range(3):
                    rows.append({**keys(spec), "T_eval": length, "N": 64, "source": source, "from": a, "to": b,
                                 "p": mat[a, b] if source == "hmm_analytic" else 1.0 * (a == b),
                                 "row_empty": False})
    return pd.DataFrame(rows)


def fixed_points(origin_basin=1.0, extra=()):
    rows = [{"kind": "origin", "gain": 0.3, "rho": np.nan, "basin_frac": origin_basin},
            {"kind": "invariant_ray", "gain": 0.5, "rho": 0.6, "basin_frac": 0.2},  # decays to 0
            {"kind": "fixed_ray", "gain": 1.0, "rho": 1.3, "basin_frac": 0.0},  # a saddle
            {"kind": "slow_ray", "gain": 1.2, "rho": 1.0, "basin_frac": 0.5},  # not invariant
            {"kind": "empirical_endpoint", "gain": 0.0, "rho": 0.5, "basin_frac": np.nan}, *extra]
    return pd.DataFrame([{"object_id": i, "source": "test", "norm": 1.0, **r} for i, r in enumerate(rows)])


def residency_summary(regions=None):
    base = {"transition": (10, 1.5, 1.0), "kick-zone": (30, 4.0, 0.0), "cluster": (60, 20.0, 0.1),
            "unassigned": (0, np.nan, np.nan)}
    base.update(regions or {})
    return pd.DataFrame([{"region": r, "n_states": n, "frac_states": n / 100, "mean_rt": rt, "mean_sc": 1.0,
                          "mean_unstable": u, "sem_unstable": np.nan, "mean_critical": 0.0, "n_total": 100,
                          "n_switches_in_run": 50} for r, (n, rt, u) in base.items()])


def residency_states(impure=(0,) * claims.PHASE_BINS, per_bin=10):
    """per_bin states in the middle of each of the 36 angle bins; o = 0 on the upper half plane, 1 on the
    lower, except ``impure[b]`` states of bin b that emit 2."""
    width = 2 * np.pi / claims.PHASE_BINS
    rows = []
    for b in range(claims.PHASE_BINS):
        angle = -np.pi + (b + 0.5) * width
        for i in range(per_bin):
            o = 2 if i < impure[b] else int(angle < 0)
            r = 1.0 + 0.1 * i
            rows.append({"idx": len(rows), "pc1": r * np.cos(angle), "pc2": r * np.sin(angle), "o": o})
    return pd.DataFrame(rows)


def kick_groups(groups=None):
    if groups is None:
        groups = {"1": {"source": 0, "group": 1, "neurons": [1, 2, 3], "found": True, "significant": True, "effect": 0.5},
                  "2": {"source": 2, "group": 2, "neurons": [4, 5, 6], "found": True, "significant": True, "effect": 0.6},
                  "3": {"source": 1, "group": 3, "neurons": [], "found": False, "status": "no kick group found"}}
    return {"model": CHAIN2.id, "status": "ok", "groups": groups}


def kick_null(null=None):
    null = np.arange(100) / 1000 if null is None else np.asarray(null)
    return pd.DataFrame({"source": np.repeat([0, 2], len(null)), "effect": np.tile(null, 2)})


def ablation_cp(switches=None):
    """n_switches per (group, mu) of the noise condition (default: 20 intact, 2 without its noise input);
    the kick and control conditions never stop switching."""
    switches = {1: {0.0: 2, 1.0: 20}, 2: {0.0: 0, 1.0: 15}} if switches is None else switches
    rows = []
    for g, at in switches.items():
        for cond in ("kick", "noise", "control"):
            for mu in (0.0, 0.5, 1.0, 1.9):
                n = at.get(mu, 10) if cond == "noise" else 30
                rows.append({"group": g, "condition": cond, "mu": mu, "n_switches": n, "n_leaving": n // 2,
                             "cp_mean": 1.0, "cp_std": 0.1, "n_windows": n, "cp_fallback": False,
                             "escape_frac": 0.5, "set_size": 3})
    return pd.DataFrame(rows)


def silencing_groups(ratio=(0.2, 0.3), norm=(0.9, 0.9), pct=(0.99, 0.97), occ=((0.5, 0.7), (0.5, 0.6))):
    """The silencing analysis' rows of groups 1 and 2 (defaults: switching stops, the state stays)."""
    return pd.DataFrame([{"group": g, "source": src, "size": 3, "neurons": "1 2 3", "n_leaving_intact": 100,
                          "n_leaving_silenced": 100 * r, "ratio": r, "occupancy_intact": o[0],
                          "occupancy_silenced": o[1], "escape_rate_intact": 0.02, "escape_rate_silenced": 0.01,
                          "norm_ratio": n, "null_median_ratio": 1.0, "null_percentile": q, "n_null": 100}
                         for g, src, r, n, q, o in zip((1, 2), (0, 2), ratio, norm, pct, occ, strict=True)])


def silencing_members(core=(0.1,) * 6, pre=(0.8,) * 6):
    return pd.DataFrame({"group": [1, 1, 1, 2, 2, 2], "source": [0, 0, 0, 2, 2, 2], "neuron": [1, 2, 3, 4, 5, 6],
                         "core_active": core, "pre_active": pre})


def evo(e_b=3, first=1, crit=(0.0, 0.01, 0.3, 0.4, 0.5), p_sw=(0.01, 0.01, 0.05, 0.05, 0.05)):
    stats = pd.DataFrame({"hmm": "chain2", "epoch": np.arange(1, len(crit) + 1), "tr": 0.1, "p_sw": p_sw[:len(crit)],
                          "frac_critical": crit, "frac_unstable": 0.0})
    summary = pd.DataFrame([{"hmm": "chain2", "bif_epoch": 4, "bif_source": "override", "bif_epoch_rule": e_b,
                             "first_epoch": first, "last_analysed": len(crit)}])
    summary["bif_epoch_rule"] = summary["bif_epoch_rule"].astype("Int64")
    return summary, stats


def evo_losses(drop_at=3, n=40):
    """Validation loss per epoch: the random-init fall in epoch 1, a plateau, the second drop ending at
    ``drop_at`` (a 10-epoch fall of the running median), then flat."""
    epochs = np.arange(1, n + 1)
    val = np.where(epochs < drop_at, 30.0, 10.0)
    val[0] = 60.0
    return pd.DataFrame({"epoch": epochs, "train_loss": val, "val_loss": val})


def noise_sweep(div=(0.75, 1.0, 0.5, 1.0, 2.0), sigmas=(0.1, 0.5, 1.0, 2.0, 4.0), p_dom=0.1, p_hmm=0.1):
    return pd.DataFrame({"sigma": sigmas, "sinkhorn_div": div, "euclid_rnn": 1.0, "euclid_base": 0.5,
                         "p_sw_dom": p_dom, "p_dom_hmm": p_hmm})


def segments(n_segments=None):
    """Segments per pair of the pca run, ``n_two_way`` of them switching both ways (two more that do not:
    long dwells of one output); the residency run's rows must not count."""
    n_segments = {"O1O2": 5, "O2O3": 4, "O1O3": 3} if n_segments is None else n_segments
    rows = [{"run": "pca", "pair": p, "n_in_pair": 100, "l_min_used": 20, "halvings": 0, "n_segments": n + 2,
             "n_two_way": n, "longest": 50 if n else 0, "status": "ok" if n else "no segment longer than L_min"}
            for p, n in n_segments.items()]
    rows += [{"run": "residency", "pair": p, "n_in_pair": 0, "l_min_used": 5, "halvings": 2, "n_segments": 9,
              "n_two_way": 9, "longest": 0, "status": "no segment longer than L_min"} for p in n_segments]
    return pd.DataFrame(rows)


def pair_summary(pairs=None):
    """(pair -> {region: (n_states, mean_rt)}); default: clusters 10 steps, transitions 1.5."""
    default = {"transition": (5, 1.5), "kick-zone": (5, 4.0), "cluster": (20, 10.0)}
    pairs = {p: default for p in ("O1O2", "O2O3", "O1O3")} if pairs is None else pairs
    rows = []
    for p, regions in pairs.items():
        for r in ("transition", "kick-zone", "cluster", "unassigned"):
            n, rt = regions.get(r, (0, np.nan))
            rows.append({"pair": p, "region": r, "n_states": n, "frac_states": 0.1, "mean_rt": rt, "mean_sc": 1.0,
                         "mean_unstable": 0.5, "sem_unstable": np.nan, "mean_critical": 0.0})
    return pd.DataFrame(rows)


def readout_summary(spec, p_bar):
    return pd.DataFrame([{**keys(spec), "M": STATES[spec.hmm], "p_bar": p_bar, "angle_bar": 45.0, "evr_pc1": 0.5,
                          "evr_pc2": 0.2, "state_std": 1.0, "note": np.nan}])


READOUT_P = {"chain2": 0.8, "chain3": 0.6, "chain4": 0.4}  # falls with the number of states


def world() -> dict:
    """(where, stage, hmm, file) -> table or dict: every file the claims check reads, for the trained
    models (where 'trained') with every claim holding, and for the control networks, which fail every
    check they are a control for."""
    summary, stats = evo()
    w = {}
    for hmm, spec in MODELS.items():
        w[("trained", "evaluate", hmm, "eval_metrics.csv")] = eval_metrics(spec)
        w[("trained", "fixed_points", hmm, "fixed_points.csv")] = fixed_points()
        w[("trained", "residency", hmm, "residency_summary.csv")] = residency_summary()
        w[("trained", "residency", hmm, "residency_states.parquet")] = residency_states()
        w[("trained", "noise_sweep", hmm, "noise_sweep.csv")] = noise_sweep()
        if hmm in READOUT_P:
            w[("trained", "readout", hmm, "readout_summary.csv")] = readout_summary(spec, READOUT_P[hmm])
    w[("trained", "kick_neurons", "chain2", "kick_groups.json")] = kick_groups()
    w[("trained", "kick_neurons", "chain2", "kick_null.csv")] = kick_null()
    w[("trained", "ablation", "chain2", "ablation_cp.csv")] = ablation_cp()
    w[("trained", "silencing", "chain2", "silencing_groups.csv")] = silencing_groups()
    w[("trained", "silencing", "chain2", "silencing_members.csv")] = silencing_members()
    w[("trained", "training_evolution", "chain2", "evo_summary.csv")] = summary
    w[("trained", "training_evolution", "chain2", "evo_stats.csv")] = stats
    w[("trained", "training_evolution", "chain2", "evo_losses.csv")] = evo_losses()
    w[("trained", "evaluate", "fully3", "eval_transmat.csv")] = eval_transmat(FULLY3)
    w[("trained", "compositional", "fully3", "subspace_segments.csv")] = segments()
    w[("trained", "compositional", "fully3", "subspace_residency_summary.csv")] = pair_summary()
    for k in NETWORKS:
        w.update(control_tables(k))
    return w


def control_tables(k: str) -> dict:
    """A control network that fails every check: emissions of the i.i.d. emitter, persistent activity,
    switching 10 x too fast, no clusters, no phase, no kick group, no resonance, no tilt."""
    w = {}
    for hmm, spec in MODELS.items():
        w[(k, "evaluate", hmm, "eval_metrics.csv")] = eval_metrics(spec, rnn=1.5, sse=0.3, p_rnn=0.6)
        w[(k, "fixed_points", hmm, "fixed_points.csv")] = fixed_points(0.5, extra=[_ray("fixed_ray", 1.0, 0.9, 0.0)])
        w[(k, "residency", hmm, "residency_summary.csv")] = residency_summary(
            {"transition": (60, 1.2, 0.1), "kick-zone": (30, 3.0, 0.1), "cluster": (10, 9.0, 2.0)})
        w[(k, "residency", hmm, "residency_states.parquet")] = residency_states(impure=(5,) * claims.PHASE_BINS)
        w[(k, "noise_sweep", hmm, "noise_sweep.csv")] = noise_sweep(div=(4.0, 3.0, 2.0, 1.5, 1.0), p_dom=1.0)
        if hmm in READOUT_P:
            w[(k, "readout", hmm, "readout_summary.csv")] = readout_summary(spec, 1.0 - READOUT_P[hmm])
    w[(k, "kick_neurons", "chain2", "kick_groups.json")] = kick_groups(
        {"1": {"source": 0, "group": 1, "neurons": [1, 2, 3], "found": True, "significant": False, "effect": 0.01}})
    w[(k, "kick_neurons", "chain2", "kick_null.csv")] = kick_null()
    w[(k, "ablation", "chain2", "ablation_cp.csv")] = ablation_cp({1: {0.0: 20, 1.0: 20}})
    w[(k, "silencing", "chain2", "silencing_groups.csv")] = silencing_groups(ratio=(1.0, 1.0), pct=(0.5, 0.5))
    w[(k, "silencing", "chain2", "silencing_members.csv")] = silencing_members(core=(0.9,) * 6)
    w[(k, "evaluate", "fully3", "eval_transmat.csv")] = eval_transmat(FULLY3)
    w[(k, "compositional", "fully3", "subspace_segments.csv")] = segments({"O1O2": 0, "O2O3": 1, "O1O3": 0})
    w[(k, "compositional", "fully3", "subspace_residency_summary.csv")] = pair_summary(
        {p: {"transition": (20, 1.5), "cluster": (5, 10.0)} for p in ("O1O2", "O2O3", "O1O3")})
    return w


def path_of(root, stage, hmm, name, where="trained"):
    spec, preset = MODELS[hmm], WHERE[where]
    folder = plan.eval_dir(preset, spec) if stage == "evaluate" else plan.analysis_dir(preset, stage, spec)
    return root / folder / name


def write(root, w: dict):
    for (where, stage, hmm, name), obj in w.items():
        path = path_of(root, stage, hmm, name, where)
        if name.endswith(".json"):
            io.write_json(path, obj)
        else:
            io.write_table(path, obj)
        io.write_sidecar(path, {"config": {"test": True}})


def run(root, w=None, pcfg=PCFG):
    write(root, world() if w is None else w)
    return claims.claims_table(PRESET, pcfg, HMMS, root)


def row(table, check, hmm):
    sel = table[(table["check"] == check) & (table["model"] == model_id(hmm))]
    assert len(sel) == 1, (check, hmm, sel)
    return sel.iloc[0]


# ---------------------------------------------------------------------- tests
def test_every_claim_holds_and_every_control_fails_in_the_passing_world(tmp_path):
    table = run(tmp_path)
    assert list(table.columns) == claims.COLUMNS
    expected = {(c, k, model_id(h)) for (c, k), hmms in DOC_ROWS.items() for h in hmms}
    got = list(zip(table["claim"], table["check"], table["model"], strict=True))
    assert len(got) == len(set(got)) and set(got) == expected
    failing = table[~table["pass"]]
    assert failing.empty, failing.to_string()
    assert table["value"].notna().all()
    assert all(table["source"].str.len() > 0) and all(table["criterion"].str.len() > 0)
    for r in table.itertuples(index=False):
        r = r._asdict()
        applied = tuple(r["controls"].split())
        assert applied == DOC_CONTROLS[r["check"]], r
        for k in claims.CONTROLS:
            assert r[f"pass_{k}"] is False or r[f"pass_{k}"] == False, r  # noqa: E712 (numpy bools)
            if k not in applied:
                assert math.isnan(r[f"value_{k}"]), r
        assert bool(r["discriminates"]) is bool(applied), r
        assert bool(r["counts"]) is bool(applied), r
    # a check without controls (the training evolution) is reported but never counts
    assert not row(table, "bifurcation_found", "chain2")["counts"]
    v = claims.verdicts(table)
    assert all(x["holds"] for x in v)
    assert {x["claim"] for x in v if not x["supported"]} == {"C6"}
    assert not row(table, "emergence_coincides", "chain2")["counts"]


def test_a_control_that_passes_makes_the_check_not_discriminate(tmp_path):
    """The untrained network of chain2 keeps its activity at 0 without input, as a trained one does."""
    w = world()
    w[("untrained", "fixed_points", "chain2", "fixed_points.csv")] = fixed_points()
    r = row(run(tmp_path, w), "noinput_to_origin", "chain2")
    assert r["pass"] and r["pass_untrained"] and not r["pass_shuffled"]
    assert r["value_untrained"] == 1.0 and r["value_shuffled"] == 0.5
    assert not r["discriminates"] and not r["counts"]


def test_controls_hmms_limits_the_control_networks_to_those_models(tmp_path):
    pcfg = {**PCFG, "controls": {"hmms": ["fully3"]}}
    need = set(claims.needs(PRESET, pcfg, HMMS))
    for k in NETWORKS:
        assert plan.analysis_dir(WHERE[k], "fixed_points", FULLY3) in need
        assert not any(p.startswith(f"results/{WHERE[k]}/") and "/chain" in p for p in need)
    w = {key: v for key, v in world().items() if key[0] == "trained" or key[2] == "fully3"}
    table = run(tmp_path, w, pcfg)
    for r in table.itertuples(index=False):
        applied = str(r.controls).split()
        if r.model == FULLY3.id and r.check not in ("bifurcation_found", "emergence_coincides"):
            assert {"untrained", "shuffled"} <= set(applied), r
        else:  # chain models, and the pooled chains row: the i.i.d. emitter at most
            assert set(applied) <= {"iid"} and math.isnan(r.value_untrained), r
    assert row(table, "transmat_sse", "chain2")["counts"]  # the i.i.d. control alone still discriminates
    assert not row(table, "phase_sets_symbol", "chain2")["discriminates"]  # no control applies


def test_the_iid_control_is_scored_from_the_trained_models_evaluation(tmp_path):
    w = world()
    w[("trained", "evaluate", "chain2", "eval_metrics.csv")] = eval_metrics(CHAIN2, rnn=0.75, iid=1.5, p_iid=0.12)
    table = run(tmp_path, w)
    md, sw = row(table, "matched_distance", "chain2"), row(table, "switch_rate", "chain2")
    assert md["value"] == pytest.approx(0.25) and md["value_iid"] == pytest.approx(1.0) and not md["pass_iid"]
    # an i.i.d. emitter whose switch probability happens to match the HMM's passes switch_rate
    assert sw["value_iid"] == pytest.approx(1.2) and sw["pass_iid"] and not sw["discriminates"]


def test_thresholds_are_the_ones_of_docs_claims_md():
    assert claims.EXCESS_MAX_FRACTION == 0.5 and claims.TRANSMAT_SSE_MAX == 0.01 and claims.SWITCH_RATE_TOL == 0.25
    assert claims.NOINPUT_TO_ORIGIN_MIN == 0.95 and claims.OTHER_ATTRACTORS_MAX == 0
    assert claims.DOMINANT_RATE_FACTOR == 2.0 and claims.PHASE_BINS == 36 and claims.PHASE_SETS_SYMBOL_MIN == 0.9
    assert claims.CLUSTER_SHARE_MIN == 0.5 and claims.SILENCED_SWITCHES_MAX_RATIO == 0.5
    assert claims.KICK_NULL_PERCENTILE_MIN == 0.95 and claims.RESONANCE_EDGE_MIN_RATIO == 1.5
    assert claims.SILENCED_NORM_MIN_RATIO == 0.1 and claims.KICK_CORE_ACTIVE_MAX == 0.5 and claims.KICK_RISE_FACTOR == 2.0
    assert claims.NOISE_SILENCED_MAX_RATIO == 0.5 and claims.CONTROL_SILENCED_MIN_RATIO == 0.5
    assert claims.READOUT_TILT_TAU_MAX == pytest.approx(-2 / 3) and claims.READOUT_TILT_MIN_CHAINS == 3
    doc = (Path(__file__).resolve().parents[1] / "docs" / "claims.md").read_text()
    for check in {k for _, k in DOC_ROWS}:
        assert f"`{check}`" in doc, check


def _set(key, obj):
    def mutate(w):
        w[key] = obj
    return mutate


def _fp(*extra):
    return _set(("trained", "fixed_points", "chain2", "fixed_points.csv"), fixed_points(extra=extra))


def _ray(kind, gain, rho, basin):
    return {"kind": kind, "gain": gain, "rho": rho, "basin_frac": basin}


def _summ(**regions):
    return _set(("trained", "residency", "chain2", "residency_summary.csv"), residency_summary(regions=regions))


def _impure(k):
    """k impure states in bin 0 (of 10), none elsewhere."""
    return _set(("trained", "residency", "chain2", "residency_states.parquet"),
                residency_states(impure=(k,) + (0,) * (claims.PHASE_BINS - 1)))


def _pairs(**override):
    default = {"transition": (5, 1.5), "kick-zone": (5, 4.0), "cluster": (20, 10.0)}
    pairs = {p: default for p in ("O1O2", "O2O3", "O1O3")}
    pairs.update(override)
    return _set(("trained", "compositional", "fully3", "subspace_residency_summary.csv"), pair_summary(pairs))


C5_AFTER = {"silencing_stops_switching", "kick_beats_random", "kick_signature", "noise_population_needed"}
NO_O1O3 = [[0.9, 0.1, 0.0], [0.1, 0.8, 0.1], [0.0, 0.1, 0.9]]  # an HMM that never switches O1 <-> O3

def _metrics(hmm="chain2", **kw):
    return _set(("trained", "evaluate", hmm, "eval_metrics.csv"), eval_metrics(MODELS[hmm], **kw))


def _sweep(hmm="chain2", **kw):
    return _set(("trained", "noise_sweep", hmm, "noise_sweep.csv"), noise_sweep(**kw))


def _sil(**kw):
    return _set(("trained", "silencing", "chain2", "silencing_groups.csv"), silencing_groups(**kw))


def _readout(**p_bar):
    def mutate(w):
        for hmm, p in p_bar.items():
            w[("trained", "readout", hmm, "readout_summary.csv")] = readout_summary(MODELS[hmm], p)
    return mutate


# (check, hmm, mutation of the passing world, expected pass, expected value or None)
CASES = [
    # C1: excess over the baseline (0.5) <= half the i.i.d. emitter's (1.5 - 0.5); only T = seq_len counts
    ("matched_distance", "chain2", _metrics(rnn=1.0), True, 0.5),
    ("matched_distance", "chain2", _metrics(rnn=1.001), False, 0.501),
    ("matched_distance", "chain2", _metrics(rnn=0.4), True, -0.1),  # closer than the HMM's own baseline
    ("matched_distance", "chain2", _metrics(iid=0.5), False, None),  # no gap to measure against
    ("transmat_sse", "fully3", _metrics("fully3", sse=0.01), True, 0.01),
    ("transmat_sse", "fully3", _metrics("fully3", sse=0.0101), False, 0.0101),
    ("switch_rate", "chain2", _metrics(p_hmm=0.25, p_rnn=0.3125), True, 1.25),  # binary-exact boundaries
    ("switch_rate", "chain2", _metrics(p_hmm=0.25, p_rnn=0.1875), True, 0.75),
    ("switch_rate", "chain2", _metrics(p_hmm=0.25, p_rnn=0.3150), False, 1.26),
    ("switch_rate", "chain2", _metrics(p_hmm=0.25, p_rnn=0.1850), False, 0.74),
    ("switch_rate", "chain2", _metrics(p_hmm=0.0, p_rnn=0.0), False, None),
    # C2
    ("noinput_to_origin", "chain2", _set(("trained", "fixed_points", "chain2", "fixed_points.csv"), fixed_points(0.95)),
     True, 0.95),
    ("noinput_to_origin", "chain2", _set(("trained", "fixed_points", "chain2", "fixed_points.csv"), fixed_points(0.94)),
     False, 0.94),
    ("other_attractors", "chain2", _fp(_ray("fixed_ray", 1.0, 0.9, 0.0)), False, 1),  # a stable fixed ray
    ("other_attractors", "chain2", _fp(_ray("invariant_ray", 1.5, 1.5, 0.0)), False, 1),  # a growing attracting ray
    ("other_attractors", "chain2", _fp(_ray("invariant_ray", 1.2, 2.0, 0.1)), False, 1),  # rollouts end on it
    ("other_attractors", "chain2", _fp(_ray("invariant_ray", 1.0, 1.0, 0.0), _ray("fixed_ray", 1.0, 1.0, 0.0)),
     False, 2),  # marginal: rho = gain = 1 attracts
    ("other_attractors", "chain2", _fp(_ray("invariant_ray", 0.999, 0.5, 0.5)), True, 0),  # carries activity to 0
    # C3: the dominant output switches within a factor 2 of the HMM's dominant-symbol rate
    ("switch_rate_dominant", "chain2", _sweep(p_dom=0.2), True, 2.0),
    ("switch_rate_dominant", "chain2", _sweep(p_dom=0.05), True, 0.5),
    ("switch_rate_dominant", "chain2", _sweep(p_dom=0.201), False, 2.01),
    ("switch_rate_dominant", "chain2", _sweep(p_dom=0.049), False, 0.49),
    ("switch_rate_dominant", "chain2", _sweep(p_dom=0.0), False, 0.0),  # never switches
    ("phase_sets_symbol", "chain2", _set(("trained", "residency", "chain2", "residency_states.parquet"),
                                         residency_states(impure=(1,) * claims.PHASE_BINS)), True, 0.9),
    ("phase_sets_symbol", "chain2", _set(("trained", "residency", "chain2", "residency_states.parquet"),
                                         residency_states(impure=(1,) * 35 + (2,))), False, 323 / 360),
    ("phase_sets_symbol", "chain2", _impure(5), True, 355 / 360),  # a 5/5 tie counts 5
    # C4: half of the orbit states in clusters, with transitions; unstable counts pooled by state count
    ("cluster_share", "chain2", _summ(cluster=(50, 20.0, 0.1), unassigned=(10, 5.0, 0.0)), True, 0.5),
    ("cluster_share", "chain2", _summ(cluster=(49, 20.0, 0.1), unassigned=(11, 5.0, 0.0)), False, 0.49),
    ("cluster_share", "chain2", _summ(transition=(0, np.nan, np.nan), unassigned=(10, 5.0, 0.0)), False, 0.6,
     {"unstable_kick_vs_cluster"}),
    ("cluster_share", "chain2", _summ(cluster=(0, np.nan, np.nan)), False, 0.0, {"unstable_kick_vs_cluster"}),
    ("unstable_kick_vs_cluster", "chain2", _summ(cluster=(60, 20.0, 0.24)), True, 0.25),
    ("unstable_kick_vs_cluster", "chain2", _summ(cluster=(60, 20.0, 0.25)), False, 0.25),  # equal is not more
    ("unstable_kick_vs_cluster", "chain2", _summ(cluster=(60, 20.0, 0.3)), False, 0.25),  # unpooled mean 0.5 would pass
    ("unstable_kick_vs_cluster", "chain2", _summ(cluster=(0, np.nan, np.nan)), False, 0.25, {"cluster_share"}),
    # C5
    ("kick_group_found", "chain2", _set(("trained", "kick_neurons", "chain2", "kick_groups.json"), kick_groups({})),
     False, 0, C5_AFTER),
    ("kick_group_found", "chain2", _set(("trained", "kick_neurons", "chain2", "kick_groups.json"), kick_groups(
        {"1": {"source": 0, "neurons": [1, 2, 3], "found": True, "significant": False, "effect": 0.5}})),
     False, 0, C5_AFTER),  # a positive effect is not enough
    ("silencing_stops_switching", "chain2", _sil(ratio=(0.5, 0.3)), True, 0.5),
    ("silencing_stops_switching", "chain2", _sil(ratio=(0.2, 0.51)), False, 0.51),  # every group must stop switching
    ("silencing_stops_switching", "chain2", _sil(norm=(0.9, 0.1)), True, 0.3),
    ("silencing_stops_switching", "chain2", _sil(norm=(0.9, 0.099)), False, 0.3),  # a collapse towards h = 0
    ("silencing_stops_switching", "chain2", _sil(occ=((0.5, 0.7), (0.5, 0.01))), False, 0.3),  # no longer visits it
    ("silencing_stops_switching", "chain2", _sil(ratio=(0.2, np.nan)), False, None),
    ("silencing_stops_switching", "chain2", lambda w: w.__setitem__(
        ("trained", "silencing", "chain2", "silencing_groups.csv"), silencing_groups().iloc[:1]),
     False, None, {"kick_beats_random"}),  # group 2 missing
    ("kick_beats_random", "chain2", _sil(pct=(0.95, 0.99)), True, 0.95),
    ("kick_beats_random", "chain2", _sil(pct=(0.99, 0.945)), False, 0.945),
    ("kick_signature", "chain2", _set(("trained", "silencing", "chain2", "silencing_members.csv"),
                                      silencing_members(core=(0.5,) * 6, pre=(1.0,) * 6)), True, 1.0),
    ("kick_signature", "chain2", _set(("trained", "silencing", "chain2", "silencing_members.csv"),
                                      silencing_members(core=(0.0,) * 6, pre=(0.0,) * 5 + (0.1,))),
     False, 1 / 6),  # never active at all is no signature
    ("kick_signature", "chain2", _set(("trained", "silencing", "chain2", "silencing_members.csv"),
                                      silencing_members(core=(0.1,) * 5 + (0.51,))), False, 5 / 6),  # a hub
    ("kick_signature", "chain2", _set(("trained", "silencing", "chain2", "silencing_members.csv"),
                                      silencing_members(pre=(0.8,) * 5 + (0.19,))), False, 5 / 6),  # no 2x rise
    ("noise_population_needed", "chain2", _set(("trained", "ablation", "chain2", "ablation_cp.csv"),
                                               ablation_cp({1: {0.0: 10, 1.0: 20}, 2: {0.0: 0, 1.0: 15}})), True, 0.5),
    ("noise_population_needed", "chain2", _set(("trained", "ablation", "chain2", "ablation_cp.csv"),
                                               ablation_cp({1: {0.0: 2, 1.0: 20}, 2: {0.0: 8, 1.0: 15}})),
     False, 8 / 15),  # every group
    ("noise_population_needed", "chain2", _set(("trained", "ablation", "chain2", "ablation_cp.csv"),
                                               ablation_cp({1: {0.0: 0, 1.0: 0}, 2: {0.0: 0, 1.0: 15}})), False, None),
    # C6
    ("bifurcation_found", "chain2", lambda w: w.update(zip(
        [("trained", "training_evolution", "chain2", "evo_summary.csv"), ("trained", "training_evolution", "chain2", "evo_stats.csv")],
        evo(e_b=None), strict=True)), False, None, {"emergence_coincides"}),
    ("bifurcation_found", "chain2", lambda w: w.update(zip(
        [("trained", "training_evolution", "chain2", "evo_summary.csv"), ("trained", "training_evolution", "chain2", "evo_stats.csv")],
        evo(crit=(0.2, 0.2, 0.2, 0.2)), strict=True)), False, 0.2),
    ("bifurcation_found", "chain2", lambda w: w.update(zip(
        [("trained", "training_evolution", "chain2", "evo_summary.csv"), ("trained", "training_evolution", "chain2", "evo_stats.csv")],
        evo(e_b=1), strict=True)), False, 0.242, {"emergence_coincides"}),  # e_b after the first analysed epoch
    ("emergence_coincides", "chain2", _set(("trained", "training_evolution", "chain2", "evo_losses.csv"),
                                           evo_losses(drop_at=7)), True, 4.0),  # 0.1 x 40 epochs
    ("emergence_coincides", "chain2", _set(("trained", "training_evolution", "chain2", "evo_losses.csv"),
                                           evo_losses(drop_at=8)), False, 5.0),
    ("emergence_coincides", "chain2", lambda w: w.update(zip(
        [("trained", "training_evolution", "chain2", "evo_summary.csv"), ("trained", "training_evolution", "chain2", "evo_stats.csv")],
        evo(p_sw=(0.03, 0.03, 0.05, 0.05, 0.05)), strict=True)), False, 1.0),  # the switch rate barely changes
    ("emergence_coincides", "chain2", lambda w: w.update(zip(
        [("trained", "training_evolution", "chain2", "evo_summary.csv"), ("trained", "training_evolution", "chain2", "evo_stats.csv")],
        evo(p_sw=(0.125, 0.125, 0.0625, 0.0625, 0.0625)), strict=True)), True, 1.0),  # halved counts too
    ("resonant_noise", "chain2", _sweep(div=(0.74, 1.0, 0.5, 1.0, 2.0)), False, 1.0),  # 0.74 < 1.5 x 0.5
    ("resonant_noise", "chain2", _sweep(div=(2.0, 1.0, 0.5, 1.0, 0.75)), True, 1.0),
    ("resonant_noise", "fully3", _sweep("fully3", div=(2.0, 1.0, 1.2, 1.0, 0.5)), False, 4.0),  # best at an end
    ("resonant_noise", "fully3", _sweep("fully3", div=(2.0, 1.0, np.nan, 1.0, 2.4)), False, None),
    # C7
    ("orbits_per_pair", "fully3", _set(("trained", "compositional", "fully3", "subspace_segments.csv"),
                                       segments({"O1O2": 5, "O2O3": 4, "O1O3": 0})), False, 2),
    ("orbits_per_pair", "fully3", lambda w: (
        w.__setitem__(("trained", "compositional", "fully3", "subspace_segments.csv"),
                      segments({"O1O2": 5, "O2O3": 4, "O1O3": 0})),
        w.__setitem__(("trained", "evaluate", "fully3", "eval_transmat.csv"), eval_transmat(FULLY3, NO_O1O3))), True, 2),
    ("pair_cluster_share", "fully3", _pairs(O1O3={"transition": (10, 1.5), "cluster": (10, 3.0)}), True, 0.5),
    ("pair_cluster_share", "fully3", _pairs(O1O3={"transition": (11, 1.5), "cluster": (10, 3.0)}), False, 10 / 21),
    # a pair without transition states is no cluster/transition structure
    ("pair_cluster_share", "fully3", _pairs(O2O3={"cluster": (20, 10.0)}), False, None),
    # a pair the HMM never switches between needs neither an orbit nor clusters
    ("pair_cluster_share", "fully3", lambda w: (
        _pairs(O1O3={})(w),
        w.__setitem__(("trained", "evaluate", "fully3", "eval_transmat.csv"), eval_transmat(FULLY3, NO_O1O3))),
     True, 20 / 30),
    ("readout_tilt", "chains", _readout(chain2=0.6), True, -2 / 3),  # a tie between chain2 and chain3
    ("readout_tilt", "chains", _readout(chain2=0.5), False, -1 / 3),  # one of three pairs out of order
    ("readout_tilt", "chains", _readout(chain2=0.5, chain4=0.7), False, 1.0),  # rises
    ("readout_tilt", "chains", _readout(chain4=np.nan), False, None),  # two chains are not enough
]


CASES = [c if len(c) == 6 else (*c, set()) for c in CASES]  # 6th: checks the same mutation also fails


@pytest.mark.parametrize("check, hmm, mutate, passed, value, also", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_criterion_passes_and_fails_at_its_boundary(tmp_path, check, hmm, mutate, passed, value, also):
    w = world()
    mutate(w)
    table = run(tmp_path, w)
    r = row(table, check, hmm)
    assert bool(r["pass"]) is passed, r.to_dict()
    if value is None:
        assert math.isnan(r["value"]), r.to_dict()
    else:
        assert r["value"] == pytest.approx(value, rel=1e-9), r.to_dict()
    others = table[~(table["check"].isin({check} | also) & (table["model"] == model_id(hmm)))]
    assert others["pass"].all(), others[~others["pass"]].to_string()  # the mutation touched only this check


def test_a_degenerate_untrained_model_gives_nan_and_fail_never_a_crash(tmp_path):
    """Smoke-like chain2: no switch, no cluster, no kick group, no bifurcation, a failed matching."""
    w = world()
    summary, stats = evo(e_b=None, crit=(0.0, 0.0, 0.0))
    w.update({("trained", *k): v for k, v in {
        ("evaluate", "chain2", "eval_metrics.csv"): eval_metrics(CHAIN2, rnn=np.nan, sse=np.nan, p_rnn=np.nan),
        ("fixed_points", "chain2", "fixed_points.csv"): fixed_points(np.nan)[:1],
        ("residency", "chain2", "residency_summary.csv"): residency_summary(
            {"transition": (0, np.nan, np.nan), "kick-zone": (0, np.nan, np.nan), "cluster": (0, np.nan, np.nan),
             "unassigned": (200, 60.0, 0.0)}),
        ("residency", "chain2", "residency_states.parquet"): residency_states().iloc[:0],
        ("kick_neurons", "chain2", "kick_groups.json"): {"model": CHAIN2.id, "status": "no switches in the reference run",
                                                         "sources": [0], "groups": {}},
        ("kick_neurons", "chain2", "kick_null.csv"): pd.DataFrame(columns=["source", "effect"]),
        ("ablation", "chain2", "ablation_cp.csv"): pd.DataFrame(columns=["group", "condition", "mu", "n_switches"]),
        ("silencing", "chain2", "silencing_groups.csv"): silencing_groups().iloc[:0],
        ("silencing", "chain2", "silencing_members.csv"): silencing_members().iloc[:0],
        ("training_evolution", "chain2", "evo_summary.csv"): summary,
        ("training_evolution", "chain2", "evo_stats.csv"): stats,
        ("noise_sweep", "chain2", "noise_sweep.csv"): noise_sweep(div=(np.nan,) * 5, p_dom=0.0),
        ("readout", "chain2", "readout_summary.csv"): readout_summary(CHAIN2, np.nan),
    }.items()})
    table = run(tmp_path, w)
    mine = table[table["model"] == CHAIN2.id].set_index("check")
    # only C2's "no other attractor" holds: no ray was found at all
    assert mine["pass"].sum() == 1 and mine.loc["other_attractors", "pass"], mine.to_string()
    assert mine.loc["other_attractors", "value"] == 0 and mine.loc["kick_group_found", "value"] == 0
    assert mine.loc["switch_rate_dominant", "value"] == 0 and mine.loc["cluster_share", "value"] == 0
    nan_checks = set(mine.index) - {"other_attractors", "kick_group_found", "switch_rate_dominant", "cluster_share"}
    assert mine.loc[sorted(nan_checks), "value"].isna().all(), mine.to_string()
    assert mine.index[mine["counts"]].tolist() == ["other_attractors"]  # its controls do have an attractor
    assert table[table["model"] == FULLY3.id]["pass"].all()
    assert not row(table, "readout_tilt", "chains")["pass"]  # two chains with a value are not enough
    claims.render_html(table, PRESET)  # NaN renders too


def test_a_missing_input_file_is_an_error_naming_the_file(tmp_path):
    w = world()
    del w[("trained", "residency", "fully3", "residency_summary.csv")]
    with pytest.raises(io.ResultFileError) as err:
        run(tmp_path, w)
    assert str(path_of(tmp_path, "residency", "fully3", "residency_summary.csv")) in str(err.value)


def test_a_missing_control_file_is_an_error_naming_the_file(tmp_path):
    w = world()
    del w[("shuffled", "noise_sweep", "chain3", "noise_sweep.csv")]
    with pytest.raises(io.ResultFileError) as err:
        run(tmp_path, w)
    assert str(path_of(tmp_path, "noise_sweep", "chain3", "noise_sweep.csv", "shuffled")) in str(err.value)


def test_a_table_without_a_needed_column_is_an_error_naming_the_file(tmp_path):
    w = world()
    w[("trained", "noise_sweep", "chain2", "noise_sweep.csv")] = noise_sweep().drop(columns="p_dom_hmm")
    with pytest.raises(io.ResultFileError, match=r"noise_sweep\.csv: missing column\(s\) p_dom_hmm"):
        run(tmp_path, w)


def test_needs_lists_exactly_the_folders_and_files_it_reads(tmp_path):
    need = set(claims.needs(PRESET, PCFG, HMMS))
    everyone = list(MODELS.values())
    expected = set()
    for where in WHERE.values():
        expected |= {f"{plan.eval_dir(where, m)}/eval_metrics.csv" for m in everyone}
        expected |= {f"{plan.eval_dir(where, FULLY3)}/eval_transmat.csv"}
        expected |= {plan.analysis_dir(where, a, m) for a in ("fixed_points", "residency", "noise_sweep")
                     for m in everyone}
        expected |= {plan.analysis_dir(where, "readout", MODELS[h]) for h in READOUT_P}
        expected |= {plan.analysis_dir(where, a, CHAIN2) for a in ("kick_neurons", "ablation", "silencing")}
        expected |= {plan.analysis_dir(where, "compositional", FULLY3)}
    expected |= {plan.analysis_dir(PRESET, "training_evolution", CHAIN2)}  # no control: no training history
    assert need == expected
    # and the claims check reads nothing else: with only those files present it runs
    table = run(tmp_path)
    assert len(table) == sum(len(h) for h in DOC_ROWS.values())


def test_bifurcation_needs_an_evolution_model(tmp_path):
    pcfg = {**PCFG, "train": {"evolution": {"hidden": 99, "dim": 2}}}
    assert not any("training_evolution" in p for p in claims.needs(PRESET, pcfg, HMMS))
    w = world()
    del w[("trained", "training_evolution", "chain2", "evo_summary.csv")]
    del w[("trained", "training_evolution", "chain2", "evo_stats.csv")]
    del w[("trained", "training_evolution", "chain2", "evo_losses.csv")]
    r = row(run(tmp_path, w, pcfg), "bifurcation_found", "chain2")
    assert not r["pass"] and math.isnan(r["value"]) and "checkpoints" in r["criterion"]


def test_a_preset_without_chain2_has_no_c5_rows(tmp_path):
    pcfg = {**PCFG, "grid": [{"hmms": ["fully3"], "hidden": [8], "dim": [2], "seeds": [0]}]}
    table = run(tmp_path, pcfg=pcfg)
    assert set(table["model"]) == {FULLY3.id}
    assert not {"C5"} & set(table["claim"]) and table["pass"].all()


def test_phase_fraction_and_null_percentile():
    assert math.isnan(claims.phase_majority_fraction([], [], []))
    # states on either side of the angle 0 and of the ±π seam fall into four different bins
    assert claims.phase_majority_fraction([1, 1, -1, -1], [0.1, -0.1, 1e-3, -1e-3], [0, 1, 2, 2]) == 1.0
    assert claims.phase_majority_fraction([1, 1], [1, 1], [0, 1]) == 0.5
    # a non-finite angle (a runaway state) is left out, not put into bin 0
    assert claims.phase_majority_fraction([np.nan, 1, 1], [np.nan, 1, 1], [2, 0, 0]) == 1.0
    assert math.isnan(claims.phase_majority_fraction([np.inf], [np.nan], [0]))
    assert silencing.null_percentile(0.5, [0.1, 0.5, 0.6, np.nan]) == pytest.approx(1.5 / 3)  # mid-rank
    assert math.isnan(silencing.null_percentile(0.5, []))
    assert claims.kendall_tau([2, 3, 4, 5], [0.9, 0.8, 0.7, 0.1]) == -1.0
    assert claims.kendall_tau([2, 3, 4, 5], [0.8, 0.9, 0.7, 0.1]) == pytest.approx(-4 / 6)
    assert math.isnan(claims.kendall_tau([2], [0.5]))


def test_cli_writes_the_csv_and_the_html_atomically_with_provenance(tmp_path, monkeypatch):
    write(tmp_path, world())
    monkeypatch.chdir(tmp_path)
    out, page = tmp_path / "results/t/claims.csv", tmp_path / "results/t/claims.html"
    params = json.dumps({"preset": PRESET, "preset_cfg": PCFG, "hmms": HMMS})
    assert cli.main(["claims", "--params", params, "--out", str(out), "--html", str(page)]) == 0
    table = io.read_table(out)  # checks the sidecar's SHA-256
    assert list(table.columns) == claims.COLUMNS and table["pass"].all()
    for p in (out, page):
        rec = io.read_json(io.sidecar_path(p))
        assert rec["sha256"] == io.file_sha256(p) and rec["config"]["preset"] == PRESET
    text = page.read_text()
    assert "<table>" in text and "matched_distance" in text and CHAIN2.id in text
    assert not list(out.parent.glob(".*.tmp"))


def test_cli_names_a_missing_file_and_exits_2(tmp_path, monkeypatch, caplog):
    w = world()
    del w[("trained", "kick_neurons", "chain2", "kick_groups.json")]
    write(tmp_path, w)
    monkeypatch.chdir(tmp_path)
    params = json.dumps({"preset": PRESET, "preset_cfg": PCFG, "hmms": HMMS})
    assert cli.main(["claims", "--params", params, "--out", "claims.csv"]) == 2
    assert "kick_neurons/chain2/h8_d2/seed0/kick_groups.json" in caplog.text
    assert not (tmp_path / "claims.csv").exists()


def test_which_checks_a_user_hmm_gets():
    """Structural scopes: an HMM of the user's gets every check of every HMM; C7's pair checks when it has
    >= 3 symbols that are each some state's most likely; never the paper's chain2 (C5, C6) or chain checks."""
    five = {"transitions": {"kind": "custom", "matrix": (np.full((5, 5), 0.025) + np.eye(5) * 0.875).tolist()},
            "emissions": {"kind": "custom", "matrix": (np.full((5, 5), 0.05) + np.eye(5) * 0.75).tolist()},
            "seq_len": 20}
    two = {"transitions": {"kind": "custom", "matrix": [[0.9, 0.1], [0.1, 0.9]]},
           "emissions": {"kind": "custom", "matrix": [[0.8, 0.2], [0.3, 0.7]]}, "seq_len": 20}
    rare = {**five, "emissions": {"kind": "custom", "matrix": [[0.7, 0.1, 0.1, 0.05, 0.05]] * 5}}
    hmms = {**HMMS, "five": five, "two": two, "rare": rare}
    pcfg = {**PCFG, "grid": [{"hmms": ["chain2", "fully3", "five", "two", "rare"], "hidden": [8], "dim": [2],
                              "seeds": [0]}]}
    rows: dict[str, set] = {}
    for c, models in claims.planned(pcfg, hmms):
        for m in models:
            rows.setdefault(m.hmm, set()).add((c.claim, c.name))
    general = {(c.claim, c.name) for c in claims.CHECKS if c.scope is claims.EVERY_HMM}
    pairs = {("C7", "orbits_per_pair"), ("C7", "pair_cluster_share")}
    assert rows["five"] == general | pairs and rows["fully3"] == general | pairs
    assert rows["two"] == general and rows["rare"] == general
    assert {c for c, _ in rows["chain2"] - general} == {"C5", "C6", "C7"}  # kick neurons, evolution, tilt
    with pytest.raises(claims.UserError, match="no HMM 'five'"):
        claims.planned(pcfg, HMMS)
