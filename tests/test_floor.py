"""The loss floor (src/rnnhmm/floor.py): an epoch's floor is the mean over its batch sizes, the finite-
batch bias shrinks with the batch, excess columns are loss minus floor, and the evaluation summary
carries them."""

import numpy as np
import pandas as pd
import pytest

from rnnhmm import floor
from rnnhmm.evaluate import summarise
from rnnhmm.hmm import HMM, emissions_linear, transitions_target_prob
from rnnhmm.rng import numpy_rng

CHAIN2 = HMM("chain2", transitions_target_prob(2, 0.05), emissions_linear(2))


def test_the_epoch_floor_is_the_mean_over_its_batches(monkeypatch):
    # a stand-in divergence that depends only on the batch size: 10 sequences in batches of 4 are
    # 4, 4, 2, so the epoch floor is (f(4) + f(4) + f(2)) / 3; 3 validation sequences are one batch
    calls = []

    def fake(hmm, size, seq_len, loss, rng, n_pairs):
        calls.append(size)
        return np.array([100.0 / size + k for k in range(n_pairs)])

    monkeypatch.setattr(floor, "batch_floor", fake)
    t = floor.loss_floor(CHAIN2, 7, {"train": 10, "val": 3}, 4, numpy_rng(0, "t"), n_pairs=3)
    assert list(t.columns) == floor.COLUMNS
    train, val = t.set_index("split").loc["train"], t.set_index("split").loc["val"]
    assert train["floor"] == pytest.approx((25 + 25 + 50) / 3 + 1)  # + the mean of the pair offsets 0, 1, 2
    assert val["floor"] == pytest.approx(100 / 3 + 1)
    assert train["floor_se"] == pytest.approx(1 / np.sqrt(3))  # sd of 0, 1, 2 over sqrt(3 pairs)
    assert sorted(calls) == [2, 3, 4]  # each batch size measured once
    assert (t["batch_size"] == 4).all() and (t["seq_len"] == 7).all() and list(t["n_sequences"]) == [10, 3]


def test_the_finite_batch_bias_is_positive_and_shrinks_with_the_batch():
    rng = numpy_rng(1, "floor-test")
    small = floor.loss_floor(CHAIN2, 20, {"val": 32}, 32, rng)["floor"].iloc[0]
    large = floor.loss_floor(CHAIN2, 20, {"val": 256}, 256, rng)["floor"].iloc[0]
    assert 0 < large < small


def test_the_floor_is_reproducible_from_its_stream():
    a = floor.loss_floor(CHAIN2, 10, {"train": 40, "val": 24}, 16, numpy_rng(3, "chain2", "floor"))
    b = floor.loss_floor(CHAIN2, 10, {"train": 40, "val": 24}, 16, numpy_rng(3, "chain2", "floor"))
    pd.testing.assert_frame_equal(a, b)


def test_one_pair_is_refused():
    with pytest.raises(ValueError, match="n_pairs >= 2"):
        floor.loss_floor(CHAIN2, 10, {"val": 8}, 8, numpy_rng(0, "x"), n_pairs=1)


FLOORS = pd.DataFrame({"hmm": ["chain2", "chain2", "chain3", "chain3"], "split": ["train", "val", "train", "val"],
                       "floor": [10.0, 11.0, 3.0, 4.0]})


def test_excess_is_loss_minus_the_floor_of_its_hmm_and_split():
    hist = pd.DataFrame({"hmm": ["chain2", "chain2", "chain3", "fully3"], "train_loss": [12.0, 10.5, 5.0, 2.0],
                         "val_loss": [13.0, 10.0, 4.5, 2.5]})
    out = floor.with_excess(hist, FLOORS, {"train_loss": ("train", "train_excess"), "val_loss": ("val", "val_excess")})
    assert list(out["train_excess"][:3]) == [2.0, 0.5, 2.0]
    assert list(out["val_excess"][:3]) == [2.0, -1.0, 0.5]  # below the floor is possible (a lucky minimum)
    assert list(out["val_floor"][:3]) == [11.0, 11.0, 4.0]
    assert np.isnan(out["val_excess"].iloc[3]) and np.isnan(out["val_floor"].iloc[3])  # no floor row for fully3


def test_the_evaluation_summary_carries_the_excess():
    keys = {"hmm": "chain2", "hidden": 4, "dim": 2, "seed": 0}
    per_model = {
        "metrics": pd.DataFrame([{**keys, "T_eval": 10, "N": 8, "metric": "euclid_rnn_mean", "value": 1.0}]),
        "training": pd.DataFrame([{**keys, "best_epoch": 3, "best_val_loss": 11.5, "final_val_loss": 12.0,
                                   "final_train_loss": 12.5, "n_epochs": 5}]),
        "histories": pd.DataFrame([{**keys, "epoch": 1, "train_loss": 13.0, "val_loss": 12.0}]),
        "transmat": pd.DataFrame(columns=["hmm", "hidden", "dim", "seed", "T_eval", "source", "from", "to", "p",
                                          "sqdiff_vs_emp", "sqdiff_vs_analytic", "row_empty"]),
        "distance": pd.DataFrame([{**keys, "T_eval": 10, "base_mean": 1.0, "base_std": 0.1, "rnn_mean": 1.2}]),
        "freq_vol": pd.DataFrame([keys]),
        "floors": FLOORS,
    }
    out = summarise(per_model)
    tr = out["training.csv"].iloc[0]
    assert (tr["best_val_excess"], tr["final_val_excess"], tr["val_floor"]) == (0.5, 1.0, 11.0)
    h = out["histories.csv"].iloc[0]
    assert (h["train_excess"], h["val_excess"]) == (3.0, 1.0)
    m = out["metrics.csv"]
    assert m.loc[m["metric"] == "best_val_excess", "value"].tolist() == [0.5]
