"""Training evolution (docs/method.md §4.4): bifurcation rule, epochs, δh⁽²⁾ recursion, TR, eigen indicators,
and the whole analysis on hand-built checkpoints with a known bifurcation."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnhmm import io
from rnnhmm.dynamics import registry
from rnnhmm.dynamics import training_evolution as te
from rnnhmm.dynamics.simulate import Network
from rnnhmm.model import NoiseRNN
from rnnhmm.plan import ModelSpec


def test_bifurcation_epoch_is_the_first_jump_above_threshold():
    epochs = [1, 11, 21, 31, 41, 51]
    # diffs: 0.01, 0.015, 0.175 (first > 0.02), then 0.3
    assert te.bifurcation_epoch(epochs, [0.0, 0.01, 0.025, 0.2, 0.5, 0.5]) == 31
    assert te.bifurcation_epoch(epochs, [0.4, 0.4, 0.39, 0.1, 0.1, 0.1]) == 31  # a drop counts too (|Δ|)
    assert te.bifurcation_epoch(epochs, [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]) is None
    assert te.bifurcation_epoch(epochs, [0.0, 0.01, 0.02, 0.03, 0.04, 0.05], threshold=0.005) == 11
    assert te.bifurcation_epoch([1, 2, 3], [0.0, np.nan, 0.5]) is None  # NaN never triggers
    assert te.bifurcation_epoch([1], [0.7]) is None


def test_analysed_epochs_follow_the_paper_grid():
    p = dict(te.DEFAULTS)
    every = list(range(1, 501))
    ep, last = te.analysed_epochs(every, "chain2", p)
    assert ep == list(range(1, 242, 10)) and last == 250
    ep, last = te.analysed_epochs(list(range(1, 1001)), "fully3", p)
    assert ep == list(range(1, 492, 10)) and len(ep) == 50 and last == 500
    ep, last = te.analysed_epochs(every, "chain5", {**p, "full": True})
    assert ep == every and last == 500
    assert te.analysed_epochs([1, 2, 3], "chain2", {**p, "epoch_step": 1}) == ([1, 2, 3], 3)


def test_display_epochs_are_the_nearest_checkpoints():
    roles = te.display_epochs(40, 250, list(range(1, 501)))
    assert [e for _, e in roles] == [1, 10, 20, 40, 145, 250]
    assert [r for r, _ in roles] == list(te.DISPLAY_ROLES)
    sparse = list(range(1, 242, 10))
    assert [e for _, e in te.display_epochs(40, 241, sparse)] == [1, 11, 21, 41, 141, 241]
    assert te.display_epochs(2, 3, [1, 2, 3]) == [("first,eb/4,eb/2", 1), ("eb", 2), ("(eb+E)/2,E", 3)]
    assert [e for _, e in te.display_epochs(None, 3, [1, 2, 3])] == [1, 2, 3]


def _net(W, U):
    return Network(np.asarray(W, float), np.asarray(U, float), np.zeros((3, len(W))))


def test_dh2_recursion_matches_the_explicit_sum_over_paths():
    """δ¹_k = Σ_j (Π_{i=j}^{k-1} W D_i) U ω_j and δ² = Σ_u (Π_{i=u+1}^{K-1} W D_i) ½ W D_u (δ¹_u)²,
    with the patterns D_k of the noise-free path; unit 1 switches on at k = 1, unit 2 is always off."""
    W = np.array([[0.9, 0.1, 0.3], [0.6, 0.5, -0.2], [-1.0, -1.0, -0.5]])
    U = np.array([[1.0, -0.5], [0.3, 0.8], [-0.4, 0.2]])
    net, K, n = _net(W, U), 6, 4
    hbar0 = np.array([[1.0, 0.0, 0.0]] * n)
    omega = np.random.default_rng(3).standard_normal((K, n, 2))
    got = te.dh2_recursion(net, hbar0, omega)

    hb = [hbar0[0]]
    for _ in range(K - 1):
        hb.append(np.maximum(W @ hb[-1], 0))
    D = [np.diag((h > 0).astype(float)) for h in hb]
    assert np.diag(D[0]).tolist() == [1, 0, 0] and np.diag(D[1]).tolist() == [1, 1, 0]

    def prop(a, b):  # Π_{i=a}^{b-1} W D_i, later factors on the left
        M = np.eye(3)
        for i in range(a, b):
            M = W @ D[i] @ M
        return M

    for trial in range(n):
        d1 = [sum(prop(j, k) @ U @ omega[j, trial] for j in range(k + 1)) for k in range(K)]
        d2 = sum(prop(u + 1, K) @ (0.5 * W @ D[u] @ (d1[u] ** 2)) for u in range(K))
        assert np.allclose(got[trial], d2, rtol=1e-12, atol=1e-12)


def test_dh2_heuristic_takes_sqrt_abs_of_the_trial_mean():
    W = np.array([[0.5, -0.8], [0.7, 0.2]])
    U = np.array([[1.0], [-1.0]])
    net = _net(W, U)
    rng = np.random.default_rng(0)
    omega, h_post = rng.standard_normal((10, 5, 1)), np.array([0.4, 0.3])
    eta, x_pre = rng.uniform(-1, 1, (5, 2)), rng.standard_normal((9, 5, 1))
    # no jitter, no prelude: h̄_0 = h_post for every trial
    want = np.sqrt(np.abs(te.dh2_recursion(net, np.tile(h_post, (5, 1)), omega).mean(axis=0)))
    assert np.allclose(te.dh2_heuristic(net, h_post, eta, x_pre[:0], omega, jitter=0.0), want)
    # with them: h̄_0 = the prelude run from h_post + 0.05 η
    h = h_post + 0.05 * eta
    for x in x_pre:
        h = np.maximum(h @ W.T + x @ U.T, 0)
    want = np.sqrt(np.abs(te.dh2_recursion(net, h, omega).mean(axis=0)))
    assert np.allclose(te.dh2_heuristic(net, h_post, eta, x_pre, omega, jitter=0.05), want)


def test_switch_row_drops_nonfinite_rows_and_gives_the_known_tr():
    A = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # o = 0 for [1, 0], o = 2 for [0, 1]
    net = Network(np.eye(2), np.ones((2, 1)), A)
    a, b = [1.0, 0.0], [0.0, 1.0]
    states = np.array([a, a, b, [np.nan, np.nan], b, b, a, [np.inf, 0.0], a, b])
    row = te.switch_row(net, states)
    # finite rows: o = 0 0 2 2 2 0 0 2 -> switches at 2, 5, 7; dwells 3, 2
    assert row["n_nonfinite"] == 2 and row["n_switches"] == 3
    assert row["tr"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert row["p_sw"] == pytest.approx(3 / 7)
    quiet = te.switch_row(net, np.array([a] * 5))
    assert quiet["n_switches"] == 0 and np.isnan(quiet["tr"]) and quiet["p_sw"] == 0


def test_eigen_indicators_on_a_rotation_and_an_unstable_unit():
    th = 0.5  # m(e^{iθ}) = i tan(θ/2) = 0.255 i: a critical pair on the unit circle
    W = np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1.5]])
    masks = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]], bool)
    ind = te.eigen_indicators(W, masks, 0.05)
    assert ind == {"frac_unstable": 0.5, "frac_critical": 0.5, "mean_n_unstable": 0.5, "mean_n_critical": 0.5}
    # a rotation of 0.08 rad (m = 0.04 i) is below ε_im = 0.05
    c, s = np.cos(0.08), np.sin(0.08)
    slow = te.eigen_indicators(np.array([[c, -s], [s, c]]), np.ones((3, 2), bool), 0.05, "_nf")
    assert slow["frac_critical_nf"] == 0 and slow["mean_n_unstable_nf"] == 0


def test_jacobian_masks_pair_each_step_with_the_next_preactivation():
    net = _net(np.array([[1.0, 0.0], [0.0, -1.0]]), np.eye(2))
    states = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 5.0], [6.0, 7.0]])
    pre = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [np.nan, -1.0]])
    noisy, free = te.jacobian_masks(net, states, pre, start=1, stride=1)
    # J_t, t = 1, 2, 3: 1[a_{t+1} > 0] = pre rows 1, 2, 3 (row 3 non-finite, dropped); 1[W h_t > 0] = rows 0, 1, 2
    assert noisy.tolist() == [[False, True], [True, True]]
    assert free.tolist() == [[True, False], [True, False], [False, False]]


# ---------------------------------------------------------------------- the whole analysis
H, D_IN = 8, 3


def _rotation_net(r: float, seed: int) -> NoiseRNN:
    m = NoiseRNN(H, D_IN, 3, generator=torch.Generator().manual_seed(seed))
    th = 0.5
    block = r * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    with torch.no_grad():
        m.W.copy_(torch.from_numpy(np.kron(np.eye(H // 2), block)))
        m.U.copy_(torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, (H, D_IN))))
    return m


@pytest.fixture(scope="module")
def evolution_model(tmp_path_factory):
    """Epochs 1–2: a weak copy of the network (no critical pair); 3–4: rotations near the unit circle."""
    root = tmp_path_factory.mktemp("evo")
    spec = ModelSpec("chain2", H, D_IN, 0)
    mdir = root / "results/t/models/chain2" / f"h{H}_d{D_IN}" / "seed0"
    weights = {1: 0.2, 2: 0.2, 3: 1.05, 4: 1.05}
    for e, r in weights.items():
        sd = _rotation_net(r, 1).state_dict()
        io.save_torch(mdir / "checkpoints" / f"epoch{e}.pt", {"format": io.MODEL_FORMAT, "hidden": H, "dim": D_IN,
                                                               "epoch": e, "best": sd, "final": sd})
    io.write_table(mdir / "history.csv", pd.DataFrame({"epoch": [1, 2, 3, 4], "train_loss": [9.0, 8.0, 5.0, 4.0],
                                                       "val_loss": [9.5, 8.5, 5.5, 4.5],
                                                       "grad_norm_preclip_mean": 1.0, "is_best": True}))
    params = registry.check_params("training_evolution", {"warmup": 20, "steps": 400, "epoch_step": 1,
                                                          "converged_last": 2, "pca_points": 100, "pca_clip": 2.0})
    ctx = registry.AnalysisContext("training_evolution", "t", spec, 7, params, root=root)
    return root, ctx, te.training_evolution(ctx)


def test_analysis_finds_the_built_in_bifurcation(evolution_model):
    _, ctx, res = evolution_model
    stats, summ = res["evo_stats.csv"], res["evo_summary.csv"].iloc[0]
    assert stats["epoch"].tolist() == [1, 2, 3, 4]
    # common random numbers: identical weights give identical rows
    cols = [c for c in stats.columns if c not in ("epoch", "train_loss", "val_loss")]
    pd.testing.assert_series_equal(stats.loc[0, cols], stats.loc[1, cols], check_names=False)
    assert stats.loc[0, "frac_critical"] == 0 and stats.loc[2, "frac_critical"] > 0.02
    assert stats.loc[2, "frac_unstable"] > 0  # |λ| = 1.05 whenever a rotation pair is active
    assert summ["bif_epoch"] == 3 and summ["bif_source"] == "rule"
    assert summ["converged_tr"] == pytest.approx(stats["tr"].iloc[-2:].mean())
    assert stats["val_loss"].tolist() == [9.5, 8.5, 5.5, 4.5]
    pca = res["evo_pca.parquet"]
    assert sorted(pca["epoch"].unique()) == [1, 2, 3, 4]
    assert pca.groupby("epoch").size().max() == 100 and pca[["pc1", "pc2"]].abs().to_numpy().max() <= 2.0
    dh2 = res["evo_dh2.parquet"]
    assert len(dh2) == 4 * H and np.isfinite(dh2["dh2"]).all()
    # reproducible, whatever the number of threads the epochs run on
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1 if threads > 1 else 2)
        again = te.training_evolution(ctx)
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(again["evo_stats.csv"], stats)
    pd.testing.assert_frame_equal(again["evo_dh2.parquet"], dh2)
    pd.testing.assert_frame_equal(again["evo_pca.parquet"], pca)


def test_override_is_logged_in_the_summary(evolution_model):
    _, ctx, _ = evolution_model
    ctx2 = registry.AnalysisContext(ctx.name, ctx.preset, ctx.spec, ctx.base_seed,
                                    {**ctx.params, "bif_override": 2, "noise_free_variant": False}, root=ctx.root)
    s = te.training_evolution(ctx2)["evo_summary.csv"].iloc[0]
    assert s["bif_epoch"] == 2 and s["bif_epoch_rule"] == 3 and s["bif_source"] == "override"
    assert "by hand" in s["note"]


def test_fig3_renders_from_the_tables(evolution_model, tmp_path):
    from rnnhmm import figures
    from rnnhmm.figures.style import save
    from rnnhmm.io import write_results

    root, ctx, res = evolution_model
    write_results(ctx.out_dir, res, {})
    pcfg = {"grid": [{"hmms": ["chain2"], "hidden": [H], "dim": [D_IN], "seeds": [0]}],
            "reference": {"hidden": H, "dim": D_IN, "seed": 0}, "train": {"evolution": {"hidden": H, "dim": D_IN}}}
    assert figures.needs("fig3_training_emergence", "t", pcfg) == [str(Path(ctx.out_dir).relative_to(root))]
    fig = figures.render("fig3_training_emergence", figures.FigureContext("t", pcfg, root=root))
    assert "e_b = 3 (rule)" in fig.get_suptitle()
    png = save(fig, tmp_path / "fig3")[1]
    assert png.read_bytes()[:4] == b"\x89PNG"
