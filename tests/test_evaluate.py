"""Emission statistics (docs/method.md §3): the matched distance, transition matrices, frequencies and
volatility, against known answers, an independent HMM sample, and models that are wrong on purpose."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnhmm.evaluate import (
    emission_metrics,
    evaluate_model,
    exact_matched_distance,
    frequencies,
    hamming_matrix,
    matched_distance,
    summarise,
    transition_counts,
    transition_matrix,
    volatility,
)
from rnnhmm.hmm import build_hmm
from rnnhmm.model import NoiseRNN
from rnnhmm.rng import numpy_rng

KEYS = {"hmm": "chain2", "hidden": 4, "dim": 2, "seed": 0}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: one thread avoids oversubscribing a shared CPU (as the workflow's --threads 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def hmm_of(config, name):
    return build_hmm(name, config["hmms"][name])


def sets(hmm, n, length, tag, k=4):
    return [hmm.sample(n, length, numpy_rng(7, tag, i))[1] for i in range(k)]


# ---------------------------------------------------------------------- the matching itself
def test_hamming_matrix_counts_mismatches():
    r = np.array([[0, 1, 2, 0], [2, 2, 2, 2]])
    q = np.array([[0, 1, 2, 0], [0, 0, 0, 0], [2, 1, 2, 1]])
    expected = [[0, 2, 2], [3, 4, 2]]
    assert hamming_matrix(r, q).tolist() == expected
    assert hamming_matrix(r, q).dtype == torch.uint8
    assert hamming_matrix(np.zeros((2, 300), int), np.ones((1, 300), int)).dtype == torch.int16


def test_known_distances_sqrt_two_hamming():
    """Q_j has exactly j mismatches with the only reference sequence: d_j = sqrt(2j) (P3)."""
    length = 20
    r = np.zeros((1, length), dtype=np.int8)
    q = np.zeros((length + 1, length), dtype=np.int8)
    for j in range(length + 1):
        q[j, :j] = 1 + j % 2
    res = matched_distance(q, r)
    assert np.allclose(res.distances, np.sqrt(2 * np.arange(length + 1)))
    assert res.mean == pytest.approx(np.sqrt(2 * np.arange(length + 1)).mean())


def test_identical_sets_match_at_zero(config):
    y = hmm_of(config, "chain3").sample(150, 30, numpy_rng(1, "same"))[1]
    res = matched_distance(y, y[::-1].copy())  # same set, other order
    assert res.mean == 0.0 and res.std == 0.0
    assert res.converged


def test_dense_and_log_engines_agree(config):
    a, b, *_ = sets(hmm_of(config, "chain2"), 120, 30, "engines", k=2)
    dense = matched_distance(a, b, max_iter=200)
    logd = matched_distance(a, b, max_iter=200, max_dense_bytes=0, block_bytes=4096)  # many small blocks
    assert dense.engine == "dense" and logd.engine == "log"
    assert dense.iters == logd.iters
    assert np.allclose(dense.distances, logd.distances)
    # a set of one repeated sequence has a flat plan column: both engines average over the tie
    const = np.zeros_like(a)
    expected = np.sqrt(2 * (b != 0).sum(axis=1)).mean()
    for kw in ({}, {"max_dense_bytes": 0}):
        res = matched_distance(const, b, **kw)
        assert res.mean == pytest.approx(expected) and res.n_tied == len(a)


def test_matching_is_close_to_the_exact_assignment(config):
    a, b, *_ = sets(hmm_of(config, "fully3"), 150, 30, "hungarian", k=2)
    ent = matched_distance(a, b).mean
    exact = exact_matched_distance(a, b)
    # the argmax matching is many-to-one, not a permutation, but it stays near the optimal assignment
    assert abs(ent - exact) < 0.1 * exact, (ent, exact)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="integer symbols"):
        matched_distance(np.zeros((3, 4)), np.zeros((3, 4), int))
    with pytest.raises(ValueError, match="lengths differ"):
        matched_distance(np.zeros((3, 4), int), np.zeros((3, 5), int))


# ---------------------------------------------------------------------- statistics vs exact values
@pytest.mark.parametrize("name", ["chain2", "chain5", "cyclic4"])
def test_long_hmm_samples_match_the_analytic_statistics(config, name):
    hmm = hmm_of(config, name)
    y = hmm.sample(4000, 100, numpy_rng(3, "long", name))[1]
    p, empty = transition_matrix(y, 3)
    assert not empty.any()
    assert np.abs(p - hmm.output_transition()).max() < 0.02
    assert frequencies(y, 3).mean(axis=0) == pytest.approx(hmm.output_marginal(), abs=0.02)
    assert volatility(y).mean() == pytest.approx(hmm.expected_volatility(100), rel=0.05)


def test_transition_matrix_of_a_hand_made_sequence():
    y = np.array([[0, 0, 2, 2, 0]])
    p, empty = transition_matrix(y, 3)
    assert p.tolist() == [[0.5, 0, 0.5], [0, 0, 0], [0.5, 0, 0.5]]
    assert empty.tolist() == [False, True, False]
    assert volatility(y).tolist() == [2]


# ---------------------------------------------------------------------- RNN vs HMM
def metrics_dict(tables):
    m = tables["metrics"]
    return dict(zip(m["metric"], m["value"], strict=True))


def test_an_independent_hmm_sample_sits_at_the_baseline(config):
    hmm = hmm_of(config, "chain3")
    a, a2, a3, other = sets(hmm, 300, 30, "indep")
    v = metrics_dict(emission_metrics(other, a, a2, a3, hmm, KEYS))
    assert abs(v["euclid_rnn_mean"] - v["euclid_base_mean"]) < 0.1 * v["euclid_base_mean"]
    # sampling tolerance of Σ D: E[(p̂ − p̂')²] = 2 p(1 − p)/n_k for a row seen n_k times in each set
    p = hmm.output_transition()
    n_k = transition_counts(a, 3).sum(axis=1)
    expected = (2 * p * (1 - p) / n_k[:, None]).sum()
    assert v["transmat_sse_rnn_vs_emp"] < 4 * expected
    assert v["transmat_sse_rnn_vs_analytic"] < 2 * expected
    assert v["freq_l1_rnn"] < 0.1
    assert v["volatility_rnn_mean"] == pytest.approx(v["volatility_analytic"], rel=0.1)


def always_o1_model(dim=3):
    """A network whose readout always picks O1: h = (|x| split over 2d units) > 0, z_O1 ≫ z_O2, z_O3."""
    model = NoiseRNN(2 * dim, dim, 3)
    with torch.no_grad():
        model.W.zero_()
        model.U.copy_(torch.cat([torch.eye(dim), -torch.eye(dim)]))
        model.A.copy_(torch.tensor([[100.0] * 2 * dim, [-100.0] * 2 * dim, [-100.0] * 2 * dim]))
    return model


def test_wrong_models_are_clearly_separated_by_every_metric(config):
    hmm = hmm_of(config, "chain2")
    n, length = 256, 40
    history = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 2.5], "val_loss": [3.1, 1.9, 2.2]})
    res = evaluate_model(always_o1_model(), hmm, KEYS, n=n, lengths=[length], base_seed=11, history=history,
                         test_set=hmm.sample(n, length, numpy_rng(11, "test"))[1])
    v = metrics_dict(res)
    assert v["n_symbols_emitted_rnn"] == 1 and v["transmat_empty_rows_rnn"] == 2
    assert v["euclid_rnn_mean"] > 1.3 * v["euclid_base_mean"]
    assert v["transmat_sse_rnn_vs_emp"] > 20 * max(v["transmat_sse_base_vs_emp"], 1e-3)
    assert v["freq_l1_rnn"] > 0.9 and v["freq_l1_base"] < 0.1
    assert v["volatility_rnn_mean"] == 0 and v["volatility_analytic"] > 2
    assert v["sinkhorn_test"] > 1.0
    train = res["training"].iloc[0]
    assert train["best_epoch"] == 2 and train["best_val_loss"] == 1.9
    # sequences of another HMM (fully3 emits O2 a third of the time): separated as well
    a, a2, a3 = sets(hmm, n, length, "wrong", k=3)
    wrong = hmm_of(config, "fully3").sample(n, length, numpy_rng(5, "fully3"))[1]
    w = metrics_dict(emission_metrics(wrong, a, a2, a3, hmm, KEYS))
    assert w["euclid_rnn_mean"] > 1.3 * w["euclid_base_mean"]
    assert w["transmat_sse_rnn_vs_emp"] > 20 * w["transmat_sse_base_vs_emp"]
    assert w["freq_l1_rnn"] > 0.5 > 0.1 > w["freq_l1_base"]


def test_rnn_sampling_is_deterministic_per_stream(config):
    hmm = hmm_of(config, "chain2")
    model = NoiseRNN(8, 2, 3, generator=torch.Generator().manual_seed(0))
    kw = {"n": 64, "lengths": [20, 30], "base_seed": 3, "match": {"max_iter": 50}}
    r1, r2 = evaluate_model(model, hmm, KEYS, **kw), evaluate_model(model, hmm, KEYS, **kw)
    pd.testing.assert_frame_equal(r1["metrics"], r2["metrics"])
    assert sorted(r1["distance"]["T_eval"]) == [20, 30]


# ---------------------------------------------------------------------- aggregation
def test_summary_means_and_stds_over_seeds_and_the_pooled_band():
    rows, dist, trans = [], [], []
    for seed, (d, b) in enumerate([(4.0, 2.0), (6.0, 3.0)]):
        k = {"hmm": "chain2", "hidden": 16, "dim": 2, "seed": seed, "T_eval": 100, "N": 10}
        rows.append({**k, "metric": "euclid_rnn_mean", "value": d})
        dist.append({**k, "rnn_mean": d, "rnn_std": 1.0, "base_mean": b, "base_std": 0.5})
        for a in range(3):
            for c in range(3):
                trans.append({**k, "source": "rnn", "from": a, "to": c, "p": 1 / 3, "row_empty": seed == 1 and a == 1,
                              "sqdiff_vs_emp": 0.1 * (seed + 1), "sqdiff_vs_analytic": 0.0})
    training = pd.DataFrame([{"hmm": "chain2", "hidden": 16, "dim": 2, "seed": s, "best_epoch": 3 + s,
                              "best_val_loss": 1.0, "final_val_loss": 1.5} for s in (0, 1)])
    out = summarise({"metrics": pd.DataFrame(rows), "distance": pd.DataFrame(dist), "transmat": pd.DataFrame(trans),
                     "freq_vol": pd.DataFrame(), "training": training, "histories": pd.DataFrame()})
    g = out["grid_summary.csv"].set_index("metric")
    assert g.loc["euclid_rnn_mean", "mean"] == 5.0 and g.loc["euclid_rnn_mean", "std"] == 1.0  # ddof 0
    assert g.loc["best_epoch", "mean"] == 3.5 and g.loc["euclid_rnn_mean", "n_seeds"] == 2
    t = out["grid_transmat.csv"]
    assert t["sqdiff_vs_emp_mean"].to_numpy() == pytest.approx(0.15)
    assert t.loc[t["from"] == 1, "row_empty_frac"].tolist() == [0.5] * 3
    band = out["hmm_band.csv"].iloc[0]
    assert (band["base_mean"], band["base_std_models"], band["lo"], band["hi"]) == (2.5, 0.5, 2.0, 3.0)
