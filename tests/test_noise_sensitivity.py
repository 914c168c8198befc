"""Noise sensitivity and `locate` (docs/method.md §4.6, D6, D10) on hand-built networks."""

import numpy as np

from rnnhmm.dynamics import locate as loc
from rnnhmm.dynamics import noise_sensitivity as ns
from rnnhmm.dynamics.simulate import Network, mix_noise
from test_residency import Ctx, constant_output_net


def rotation_net(theta_deg=2.0, rho=0.999):
    """An exact noisy rotation y ← ρ R(θ) y + x in 2-D, written as a ReLU RNN on the positive and negative
    parts u = (y1⁺, y1⁻, y2⁺, y2⁻); o = O1 when y1 > 0, O3 when y1 < 0.  Each half-turn (90 steps) is a
    dwell: far from the boundary the output is slow to change, one step before it the change is sure."""
    th = np.deg2rad(theta_deg)
    M = rho * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    E = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    A = np.array([[1.0, 0, 0, 0], [-1, -1, -1, -1], [0, 1, 0, 0]])
    return Network(E @ M @ E.T, E.copy(), A)


def test_mixing_has_unit_variance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200_000, 2))
    for gamma in (0.0, 0.5, 0.8, 1.0):
        y = mix_noise(x, gamma, rng)
        assert abs(y.var() - 1.0) < 0.015
        assert abs(np.mean(x * y) - np.sqrt(1 - gamma**2)) < 0.01
    assert np.array_equal(mix_noise(x, 0.0, rng), x)


def test_gamma_zero_reproduces_the_nominal_trajectory():
    rng = np.random.default_rng(1)
    H, d = 20, 5
    net = Network(rng.normal(0, 0.3, (H, H)), rng.normal(size=(H, d)), rng.normal(size=(3, H)))
    h, x, o = loc.nominal_run(net, rng, 60, warmup=10)
    assert np.allclose(net.step(h[:-1], x[1:]), h[1:], rtol=0, atol=1e-12)  # h[t] = F(h[t-1], x[t])
    tr = ns.restart(net, h, x, 30, 0.0, rng, n_traj=8, steps=5)
    np.testing.assert_allclose(tr, np.broadcast_to(h[30:36, None], tr.shape), rtol=1e-12, atol=1e-12)
    cov, dist = ns.spread(tr)
    assert np.all(cov < 1e-20) and np.all(dist < 1e-10)
    cov1, _ = ns.spread(ns.restart(net, h, x, 30, 1.0, rng, n_traj=8, steps=5))
    assert cov1[0] < 1e-20 and np.all(cov1[1:] > 1e-3)


def test_candidates_rank_by_dwell():
    o = np.array([0] * 10 + [2] * 5 + [0] * 20 + [2] * 3 + [0] * 12 + [2] * 40 + [0] * 10)
    # switches at 10, 15, 35, 38, 50, 90
    c = loc.candidates(o, min_start=0, skip_switches=1, tail=5)
    assert c == [(50, 90), (15, 35), (38, 50), (10, 15), (35, 38)]
    assert loc.candidates(o, min_start=36, skip_switches=1, source=0) == [(38, 50)]


def test_locate_finds_transition_before_switch():
    net = rotation_net()
    trace = []
    res = loc.locate(net, np.random.default_rng(0), n_steps=2000, trace=trace)
    assert res is not None and trace[-1]["accepted"]
    assert res.t_p < res.t_c <= res.t_k < res.t_s
    assert res.t_c == max((res.t_p + res.t_s) // 2, res.t_s - 100)
    scan = res.fpt.set_index("u")
    assert scan.loc[res.t_k, "m"] < 3 and scan.loc[res.t_k, "f"] == 1
    assert ((scan.index < res.t_s) & (scan["m"] >= 9) & (scan["f"] < 1)).any()
    assert res.o[res.t_s] != res.o[res.t_s - 1]
    # the switch needs the source output: O3 before it
    res3 = loc.locate(net, np.random.default_rng(1), n_steps=2000, source=2, tail=100)
    assert res3 is not None and res3.o[res3.t_s - 1] == 2 and res3.t_s + 100 <= 2000


def test_locate_gives_up_without_switches():
    trace = []
    res = loc.locate(constant_output_net(), np.random.default_rng(0), n_steps=300, max_runs=4, min_start=10,
                    trace=trace)
    assert res is None and len(trace) == 4 and all(r["n_switches"] == 0 for r in trace)


def test_analysis_outputs():
    out = ns.run(Ctx("noise_sensitivity", rotation_net(), {"test_trajectories": 30}))
    pts = out["ns_points.json"]
    assert pts["found"] and pts["t_k"] < pts["t_s"]
    summ = out["ns_spread_summary.csv"].set_index(["point", "gamma", "space"])
    assert summ.loc[("cluster", 0.0, "H"), "cov_trace"] < 1e-20
    assert summ.loc[("transition", 1.0, "H"), "cov_trace"] > 0
    traj = out["ns_traj.parquet"]
    assert set(traj["point"]) == {"cluster", "transition"} and traj["t"].max() == 5
    none = ns.run(Ctx("noise_sensitivity", constant_output_net(), {"n_steps": 300, "min_start": 10, "max_runs": 2}))
    assert not none["ns_points.json"]["found"] and "no accepted switch" in none["ns_points.json"]["reason"]
    assert len(none["ns_traj.parquet"]) == 0


def test_figures_render_found_and_not_found(tmp_path):
    from rnnhmm import figures, plan
    from rnnhmm.io import write_results
    from rnnhmm.plan import ModelSpec

    net = rotation_net()
    found = ns.run(Ctx("noise_sensitivity", net, {"test_trajectories": 20}))
    missing = ns.run(Ctx("noise_sensitivity", constant_output_net(H=4, d=2), {"n_steps": 300, "min_start": 10,
                                                                            "max_runs": 1}))
    cfg = {"grid": [{"hmms": ["chain2", "chain3"], "hidden": [4], "dim": [2], "seeds": [0]}],
           "reference": {"hidden": 4, "dim": 2, "seed": 0}}
    for hmm, out in (("chain2", found), ("chain3", missing)):
        write_results(tmp_path / plan.analysis_dir("t", "noise_sensitivity", ModelSpec(hmm, 4, 2, 0)), out, {})
    ctx = figures.FigureContext(preset="t", preset_cfg=cfg, root=tmp_path)
    fig = figures.render("fig5_noise_sensitivity", ctx)
    titles = " ".join(ax.get_title() for ax in fig.axes)
    pts = found["ns_points.json"]
    assert f"cluster (t={pts['t_c']})" in titles and f"transition (t={pts['t_k']}), γ = 1" in titles
    fig = figures.render("figS7_noise_sensitivity_all", ctx)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("no transition point found" in t for t in texts)
