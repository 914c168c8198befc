"""The controls of the claims check with known answers: the untrained network is the training's own
starting point, the shuffled network permutes W only, the i.i.d. emitter has the HMM's marginals and
no temporal structure, and the control presets map onto their base preset."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnhmm import cli, controls, evaluate, io, plan
from rnnhmm.hmm import HMM
from rnnhmm.rng import numpy_rng
from rnnhmm.train import ModelKey, TrainConfig, train

KEY = ModelKey("chain2", 12, 3, 4, base_seed=5)


def _sequences(n=64, length=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 3, size=(n, length)).astype(np.int8)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    train(KEY, TrainConfig(epochs=2, batch_size=32, lr=5e-2), _sequences(), _sequences(seed=1), out, 3)
    return out / "model.pt"


def test_untrained_is_the_network_training_starts_from(tmp_path):
    """With lr = 0 Adam never moves the weights: the 'trained' model is the initial one."""
    train(KEY, TrainConfig(epochs=1, batch_size=32, lr=0.0), _sequences(), _sequences(seed=1), tmp_path, 3)
    start = io.load_torch(tmp_path / "model.pt", io.MODEL_FORMAT)["best"]
    got = controls.untrained_state(KEY, 3)
    assert set(got) == set(start) and all(torch.equal(got[k], start[k]) for k in start)
    other = controls.untrained_state(ModelKey("chain2", 12, 3, 5, base_seed=5), 3)  # another seed
    assert not torch.equal(other["W"], got["W"])


def test_shuffled_permutes_the_entries_of_w_and_keeps_the_rest(trained):
    best = io.load_torch(trained, io.MODEL_FORMAT)["best"]
    got = controls.shuffled_state(best, KEY)
    assert torch.equal(got["U"], best["U"]) and torch.equal(got["A"], best["A"])
    assert torch.equal(torch.sort(got["W"].reshape(-1)).values, torch.sort(best["W"].reshape(-1)).values)
    assert not torch.equal(got["W"], best["W"])
    assert torch.equal(controls.shuffled_state(best, KEY)["W"], got["W"])  # deterministic
    assert torch.equal(best["W"], io.load_torch(trained, io.MODEL_FORMAT)["best"]["W"])  # input untouched


@pytest.mark.parametrize("kind", plan.CONTROLS)
def test_make_control_writes_a_trainings_files(tmp_path, trained, kind):
    out = tmp_path / kind
    controls.make_control(kind, trained, KEY, out, config_slice={"control": kind})
    model = io.load_model(out / "model.pt", "best")  # format, digest and shape checked
    assert (model.hidden, model.dim) == (KEY.hidden, KEY.dim)
    want = controls.untrained_state(KEY, 3) if kind == "untrained" else \
        controls.shuffled_state(io.load_torch(trained, io.MODEL_FORMAT)["best"], KEY)
    assert all(torch.equal(model.state_dict()[k], want[k]) for k in want)
    hist = io.read_table(out / "history.csv")
    assert hist.empty and list(hist.columns) == ["epoch", "train_loss", "val_loss", "grad_norm_preclip_mean", "is_best"]
    assert (out / "checkpoints").is_dir() and not list((out / "checkpoints").iterdir())
    assert io.read_json(out / "meta.json")["control"] == kind
    # an evaluation's training summary of a control has no epochs
    summary = evaluate.training_summary(hist, {"hmm": "chain2", "hidden": 12, "dim": 3, "seed": 4})
    assert summary["n_epochs"].iloc[0] == 0 and np.isnan(summary["best_val_loss"].iloc[0])


def test_a_model_of_another_shape_is_refused(tmp_path, trained):
    with pytest.raises(io.ResultFileError, match="NoiseRNN\\(12, 3\\), expected \\(12, 4\\)"):
        controls.make_control("untrained", trained, ModelKey("chain2", 12, 4, 4, base_seed=5), tmp_path)


def test_cli_control_names_an_unknown_control_in_one_line(tmp_path, trained, caplog):
    params = '{"base_seed": 5, "model": {"hmm": "chain2", "hidden": 12, "dim": 3, "seed": 4}, "control": "frozen"}'
    assert cli.main(["control", "--trained", str(trained), "--params", params, "--out-dir", str(tmp_path)]) == 2
    assert "unknown control 'frozen'; known: untrained, shuffled" in caplog.text
    assert not list(tmp_path.iterdir())


def test_control_presets_map_onto_their_base_preset():
    assert plan.control_preset("laptop", "untrained") == "laptop-untrained"
    assert plan.split_preset("laptop-shuffled") == ("laptop", "shuffled")
    assert plan.split_preset("laptop") == ("laptop", None)
    assert plan.split_preset("laptop-other") == ("laptop-other", None)  # not a control
    assert plan.hmm_file("smoke-untrained", "chain2") == plan.hmm_file("smoke", "chain2")
    assert plan.model_dir("smoke-untrained", plan.ModelSpec("chain2", 16, 4, 0)).startswith("results/smoke-untrained/")
    with pytest.raises(ValueError, match="unknown control"):
        plan.control_preset("laptop", "frozen")


# ---------------------------------------------------------------------- the i.i.d. emitter
STICKY = HMM("sticky", np.array([[0.95, 0.05], [0.05, 0.95]]), np.array([[0.9, 0.1, 0.0], [0.0, 0.1, 0.9]]))


def test_the_iid_emitter_has_the_marginals_and_no_memory():
    y = evaluate.sample_iid(STICKY, 4000, 50, numpy_rng(1, "t"))
    mu = STICKY.output_marginal()
    assert y.shape == (4000, 50) and y.dtype == np.int8
    assert np.allclose(evaluate.frequencies(y, 3).mean(axis=0), mu, atol=0.01)
    p_switch = evaluate.volatility(y).mean() / 49
    assert p_switch == pytest.approx(1 - np.sum(mu ** 2), abs=0.01)  # i.i.d.: 1 - sum mu_k^2
    p, _ = evaluate.transition_matrix(y, 3)
    assert np.allclose(p, np.tile(mu, (3, 1)), atol=0.02)  # every row is the marginal


def test_emission_metrics_score_the_iid_set_like_the_rnn():
    rng = numpy_rng(2, "t")
    a, a2, a3 = (STICKY.sample(300, 20, rng)[1] for _ in range(3))
    iid = evaluate.sample_iid(STICKY, 300, 20, rng)
    out = evaluate.emission_metrics(a3, a2, a2, a3, STICKY, {"hmm": "sticky"}, iid=iid)
    m = out["metrics"].set_index("metric")["value"]
    # the HMM's own sample scored as the "rnn" is at the baseline; the i.i.d. set is far off
    assert m["euclid_rnn_mean"] == pytest.approx(m["euclid_base_mean"])
    assert m["euclid_iid_mean"] > 1.5 * m["euclid_base_mean"]
    assert m["p_switch_iid"] > 2 * m["p_switch_analytic"]
    assert m["transmat_sse_iid_vs_emp"] > 0.5 and m["transmat_sse_rnn_vs_emp"] < 0.01
    assert set(out["transmat"]["source"]) == {"hmm_emp", "rnn", "hmm_base", "iid", "hmm_analytic"}
    without = evaluate.emission_metrics(a3, a2, a2, a3, STICKY, {"hmm": "sticky"})["metrics"]
    assert not without["metric"].str.contains("iid").any()
    shared = without.set_index("metric")["value"]
    assert np.allclose(shared, m.loc[shared.index], equal_nan=True)  # the iid set changes nothing else


def test_dominant_switch_probability_known_answers():
    # every state has its own most likely symbol: the latent switch probability
    assert STICKY.dominant_switch_prob() == pytest.approx(STICKY.latent_switch_prob()) == pytest.approx(0.05)
    # states 0 and 1 share O1: only moves between {0, 1} and 2 change the dominant symbol
    t = np.array([[0.8, 0.2, 0.0], [0.1, 0.8, 0.1], [0.0, 0.3, 0.7]])
    e = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.0, 0.1, 0.9]])
    hmm = HMM("shared", t, e)
    pi = hmm.stationary()
    assert hmm.dominant_switch_prob() == pytest.approx(pi[1] * 0.1 + pi[2] * 0.3)
    assert hmm.dominant_switch_prob() < hmm.latent_switch_prob()
    assert isinstance(pd.Series([hmm.dominant_switch_prob()]).iloc[0], float)
