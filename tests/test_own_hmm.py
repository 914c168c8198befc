"""HMMs of any size (M states, K symbols) from config or from an HMM file (docs/own-hmm.md): the
file format and its errors, the exact statistics of a non-stationary start, K-output training and
evaluation, and a model fitted with hmmlearn."""

from __future__ import annotations

import copy
import itertools
import json

import numpy as np
import pytest
import yaml

from conftest import REPO
from rnnhmm import evaluate, io
from rnnhmm.config import ConfigError, hmm_spec, validate
from rnnhmm.hmm import HMM, HMMSpecError, build_hmm, read_hmm_spec, write_hmm_spec
from rnnhmm.rng import numpy_rng

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def random_hmm(m: int, k: int, seed: int) -> HMM:
    """A dense random HMM with a start distribution that is not the stationary one."""
    rng = np.random.default_rng(seed)
    t = rng.dirichlet(np.full(m, 0.5), size=m) + np.eye(m) * 2
    e = rng.dirichlet(np.full(k, 0.5), size=m)
    start = np.zeros(m)
    start[0] = 1.0
    return HMM("r", t / t.sum(axis=1, keepdims=True), e, start)


def enumerate_stats(h: HMM, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact mean symbol frequencies and mean consecutive-pair joint over sequences of ``length``
    steps, by summing over every state path and symbol path (no recursion shared with hmm.py)."""
    m, k = h.n_states, h.n_outputs
    freq, joint = np.zeros(k), np.zeros((k, k))
    for states in itertools.product(range(m), repeat=length):
        p_s = h.start[states[0]] * np.prod([h.transition[a, b] for a, b in zip(states, states[1:], strict=False)])
        if p_s == 0:
            continue
        for symbols in itertools.product(range(k), repeat=length):
            p = p_s * np.prod([h.emission[s, y] for s, y in zip(states, symbols, strict=True)])
            for y in symbols:
                freq[y] += p / length
            for a, b in zip(symbols, symbols[1:], strict=False):
                joint[a, b] += p / (length - 1)
    return freq, joint


# ---------------------------------------------------------------------- exact statistics, any (M, K)
@pytest.mark.parametrize("m, k", [(2, 2), (2, 8), (3, 5), (5, 3), (8, 2), (4, 4)])
def test_statistics_of_a_non_stationary_start_are_exact(m, k):
    h = random_hmm(m, k, seed=10 * m + k)
    length = 3 if m ** 3 * k ** 3 <= 40000 else 2
    freq, joint = enumerate_stats(h, length)
    assert not h.start_is_stationary()
    np.testing.assert_allclose(h.output_marginal(length), freq, atol=1e-12)
    np.testing.assert_allclose(h.output_joint(length), joint, atol=1e-12)
    assert h.emitted_switch_prob(length) == pytest.approx(1 - np.trace(joint), abs=1e-12)
    rows = joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(h.output_transition(length), joint / rows, atol=1e-12)
    # the stationary statistics are another thing: the start is honoured, not assumed stationary
    assert np.abs(h.output_marginal() - freq).max() > 1e-3


@pytest.mark.parametrize("m, k", [(2, 7), (6, 5), (8, 3)])
def test_sampled_sequences_match_the_finite_length_statistics(m, k):
    h = random_hmm(m, k, seed=m + 100 * k)
    n, length = 20000, 6
    states, y = h.sample(n, length, numpy_rng(1, "own", m, k))
    assert y.max() < k and states.max() < m
    np.testing.assert_allclose(np.bincount(states[:, 0], minlength=m) / n, h.start, atol=0.015)
    f = evaluate.frequencies(y, k).mean(axis=0)
    np.testing.assert_allclose(f, h.output_marginal(length), atol=0.01)
    v = evaluate.volatility(y).mean()
    assert v == pytest.approx(h.expected_volatility(length), abs=0.05)


def test_a_stationary_start_gives_the_stationary_statistics_exactly():
    h = build_hmm("chain3", CONFIG["hmms"]["chain3"])
    for length in (2, 30, 100):
        assert np.array_equal(h.output_marginal(length), h.output_marginal())
        assert np.array_equal(h.output_joint(length), h.output_joint())


# ---------------------------------------------------------------------- the file format
def test_json_and_npz_files_round_trip(tmp_path):
    h = random_hmm(4, 6, seed=3)
    for suffix in (".json", ".npz"):
        path = tmp_path / f"m{suffix}"
        write_hmm_spec(path, h.start, h.transition, h.emission, symbols=list("abcdef"), source="test")
        got = read_hmm_spec(path, "mine")
        assert got.name == "mine" and (got.n_states, got.n_outputs) == (4, 6)
        for a in ("start", "transition", "emission"):
            assert np.array_equal(getattr(got, a), getattr(h, a)), (suffix, a)


def _write_json(tmp_path, **d):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    return path


GOOD = {"start": [0.5, 0.5], "transition": [[0.9, 0.1], [0.2, 0.8]], "emission": [[0.7, 0.3], [0.1, 0.9]]}


@pytest.mark.parametrize("change, message", [
    ({"start": None}, "missing start"),
    ({"transition": [[0.9, 0.1, 0.0], [0.2, 0.8, 0.0]]}, "transition must be a square M x M matrix, got shape (2, 3)"),
    ({"transition": [[0.9, 0.2], [0.2, 0.8]]}, "transition matrix rows must sum to 1; row(s) [0]"),
    ({"emission": [[0.7, 0.3], [0.1, 0.9], [0.5, 0.5]]}, "emission must have shape (2, K), one row per state"),
    ({"emission": [[1.0], [1.0]]}, "needs at least 2 output symbols, got 1"),
    ({"start": [1.0]}, "start must have 2 entries"),
    ({"start": [1.2, -0.2]}, "negative entries"),
    ({"transition": [[1.0]], "emission": [[0.5, 0.5]], "start": [1.0]}, "needs at least 2 states, got 1"),
    ({"transition": [[0.9, "x"], [0.2, 0.8]]}, "transition must be numbers"),
    ({"weights": [1]}, "unknown key(s) weights"),
    ({"symbols": ["a"]}, "symbols must name the 2 output symbols"),
])
def test_a_bad_file_is_one_line_naming_the_problem(tmp_path, change, message):
    d = {**GOOD, **change}
    d = {k: v for k, v in d.items() if v is not None}
    path = _write_json(tmp_path, **d)
    with pytest.raises(HMMSpecError) as info:
        read_hmm_spec(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and message in msg and "\n" not in msg, msg


def test_files_that_are_no_hmm_files(tmp_path):
    cases = {"a.txt": "must end in .json or .npz", "b.json": "not valid JSON", "c.npz": "not a readable .npz archive",
             "d.json": "must hold a JSON object", "missing.json": "no such HMM file"}
    (tmp_path / "a.txt").write_text("{}")
    (tmp_path / "b.json").write_text("{start: ")
    (tmp_path / "c.npz").write_bytes(b"not a zip")
    (tmp_path / "d.json").write_text("[1, 2]")
    for name, message in cases.items():
        with pytest.raises(HMMSpecError, match=message):
            read_hmm_spec(tmp_path / name)


def test_an_npz_with_objects_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, start=np.array([0.5, 0.5]), transition=np.array(GOOD["transition"]),
             emission=np.array([{"a": 1}, {"b": 2}], dtype=object))
    with pytest.raises(HMMSpecError, match="without pickle"):
        read_hmm_spec(path)


# ---------------------------------------------------------------------- the config
def _config_with(tmp_path, entry: dict) -> dict:
    cfg = copy.deepcopy(CONFIG)
    cfg["preset"] = "smoke"
    cfg["hmms"]["mine"] = {"seq_len": 20, "clip": 0.9, **entry}
    cfg["presets"]["smoke"]["grid"].append({"hmms": ["mine"], "hidden": [8], "dim": [2], "seeds": [0]})
    cfg["presets"]["smoke"]["train"]["epochs"]["mine"] = 2
    return cfg


def test_a_config_entry_names_an_hmm_file(tmp_path):
    h = random_hmm(3, 5, seed=4)
    path = tmp_path / "mine.json"
    write_hmm_spec(path, h.start, h.transition, h.emission)
    cfg = validate(_config_with(tmp_path, {"file": str(path)}))
    spec = hmm_spec(cfg, "mine")
    assert spec["from_file"] == str(path) and spec["seq_len"] == 20
    got = build_hmm("mine", spec)  # what a stage receives: the file's matrices, no file
    assert np.array_equal(got.emission, h.emission) and np.array_equal(got.start, h.start)
    assert hmm_spec(cfg, "chain2") is cfg["hmms"]["chain2"]  # config-defined HMMs pass through


@pytest.mark.parametrize("entry, message", [
    ({"file": "nowhere.json"}, "config key 'hmms.mine.file': nowhere.json: no such HMM file"),
    ({"file": "x.json", "transitions": {"kind": "fully", "n_states": 3, "stay": 0.9}},
     "config key 'hmms.mine' has both 'file' and 'transitions'"),
    ({"transitions": {"kind": "fully", "n_states": 3, "stay": 0.9}}, "config key 'hmms.mine' has no emissions"),
    ({"transitions": {"kind": "fully", "n_states": 3, "stay": 0.9}, "emissions": {"kind": "triangular"},
      "start": [0.5, 0.5]}, "config key 'hmms.mine.start' has 2 entries; allowed: 3"),
])
def test_bad_config_entries_name_the_key(tmp_path, entry, message):
    with pytest.raises(ConfigError) as info:
        validate(_config_with(tmp_path, entry))
    assert message in str(info.value), str(info.value)


def test_a_config_start_is_honoured():
    spec = {"transitions": {"kind": "fully", "n_states": 3, "stay": 0.9},
            "emissions": {"kind": "gaussian", "n_outputs": 6}, "start": [1.0, 0.0, 0.0]}
    h = build_hmm("g", spec)
    assert h.n_outputs == 6 and np.array_equal(h.start, [1.0, 0.0, 0.0])
    _, y = h.sample(2000, 5, numpy_rng(0, "g"))
    assert np.all(np.isin(y[:, 0], np.flatnonzero(h.emission[0] > 0)))


# ---------------------------------------------------------------------- K outputs through training and evaluation
@pytest.mark.parametrize("k", [2, 5, 8])
def test_a_k_symbol_hmm_trains_and_evaluates(tmp_path, k):
    from rnnhmm.train import ModelKey, TrainConfig, train

    h = random_hmm(3, k, seed=k)
    _, y = h.sample(192, 12, numpy_rng(2, "k", k))
    key = ModelKey("mine", 8, 3, 0, base_seed=1)
    summary = train(key, TrainConfig(epochs=2, batch_size=64, checkpoint_epochs=(2,)), y[:128], y[128:], tmp_path, k)
    assert summary["epochs"] == 2 and np.isfinite(summary["best_val_loss"])
    model = io.load_model(tmp_path / "model.pt")
    assert model.n_outputs == k and tuple(model.A.shape) == (k, 8)
    res = evaluate.evaluate_model(model, h, {"hmm": "mine", "hidden": 8, "dim": 3, "seed": 0}, n=64, lengths=[12],
                                  base_seed=1, test_set=y[128:])
    tm = res["transmat"]
    assert set(tm["source"]) == {"rnn", "hmm_emp", "hmm_base", "iid", "hmm_analytic"}
    assert (tm.groupby("source").size() == k * k).all()
    stats = set(res["freq_vol"]["stat"])
    assert {f"freq_O{j + 1}" for j in range(k)} <= stats and f"freq_O{k + 1}" not in stats
    metrics = dict(zip(res["metrics"]["metric"], res["metrics"]["value"], strict=True))
    np.testing.assert_allclose([metrics[f"freq_O{j + 1}_analytic"] for j in range(k)], h.output_marginal(12))
    assert metrics["p_switch_analytic"] == pytest.approx(h.emitted_switch_prob(12))
    assert np.isfinite(metrics["sinkhorn_test"])


# ---------------------------------------------------------------------- a model fitted with hmmlearn
def test_an_hmmlearn_fit_written_in_the_format_trains_and_evaluates(tmp_path):
    hmmlearn = pytest.importorskip("hmmlearn.hmm")
    truth = random_hmm(3, 4, seed=7)
    _, y = truth.sample(200, 30, numpy_rng(3, "fit"))
    fit = hmmlearn.CategoricalHMM(n_components=3, n_iter=30, random_state=0)
    fit.fit(y.reshape(-1, 1).astype(int), lengths=[30] * 200)
    # the README's few lines: the three arrays of the fit, written in the documented format
    path = tmp_path / "fitted.npz"
    write_hmm_spec(path, fit.startprob_, fit.transmat_, fit.emissionprob_, source="hmmlearn CategoricalHMM")
    h = read_hmm_spec(path, "fitted")
    assert (h.n_states, h.n_outputs) == (3, 4)
    from rnnhmm.train import ModelKey, TrainConfig, train

    _, data = h.sample(192, 30, numpy_rng(4, "fitted"))
    train(ModelKey("fitted", 8, 3, 0, base_seed=2), TrainConfig(epochs=2, batch_size=64), data[:128], data[128:],
          tmp_path / "m", h.n_outputs)
    model = io.load_model(tmp_path / "m" / "model.pt")
    res = evaluate.evaluate_model(model, h, {"hmm": "fitted", "hidden": 8, "dim": 3, "seed": 0}, n=64,
                                  lengths=[30], base_seed=2)
    assert (res["transmat"].groupby("source").size() == 16).all()
