"""Configuration validation: the shipped config is valid; bad ones stop with a message naming the key."""

import copy

import pytest

from rnnhmm import plan
from rnnhmm.config import ConfigError, train_params, validate


def test_shipped_config_is_valid(config):
    validate(copy.deepcopy(config))


def test_paper_preset_holds_the_paper_values(config):
    p = config["presets"]["paper"]
    PAPER = [h for h in config["hmms"] if "file" not in config["hmms"][h]]  # the worked example's comes from a file
    assert PAPER == ["chain2", "chain3", "chain4", "chain5", "fully3", "cyclic4"]
    assert p["data"] == {"n_train": 10000, "n_val": 10000, "n_test": 10000}
    t = p["train"]
    assert (t["batch_size"], t["lr"], t["betas"], t["blur"], t["scaling"], t["tau"], t["sigma"]) == (
        4096, 1e-3, [0.9, 0.9], 0.2, 0.5, 1.0, 1.0)
    assert t["epochs"] == {"chain2": 500, "chain3": 500, "chain4": 500, "chain5": 500, "fully3": 1000, "cyclic4": 500}
    assert {h: config["hmms"][h]["seq_len"] for h in PAPER} == {
        "chain2": 100, "chain3": 30, "chain4": 30, "chain5": 40, "fully3": 30, "cyclic4": 40}
    assert {h: config["hmms"][h]["clip"] for h in PAPER} == {
        "chain2": 0.9, "chain3": 0.9, "chain4": 0.9, "chain5": 0.9, "fully3": 0.3, "cyclic4": 0.3}
    grid = plan.expand_grid(p)
    assert len(grid) == 150
    assert sum(m.hmm.startswith("chain") for m in grid) == 144


def test_evolution_runs_keep_every_epoch(config):
    config = validate(copy.deepcopy(config))
    p = train_params(config, "paper", plan.ModelSpec("chain2", 150, 100, 0))
    assert p["train"]["checkpoint_epochs"] == list(range(1, 501))
    assert train_params(config, "paper", plan.ModelSpec("chain2", 50, 1, 0))["train"]["checkpoint_epochs"] == []
    assert train_params(config, "paper", plan.ModelSpec("fully3", 150, 100, 0))["train"]["clip"] == 0.3


def _set(cfg, path, value):
    d = cfg
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


@pytest.mark.parametrize(
    "path, value, message",
    [
        (["presets", "smoke", "train", "blur"], -0.2, "presets.smoke.train.blur"),
        (["presets", "smoke", "train", "bogus"], 1, "bogus"),
        (["preset"], "huge", "preset"),
        (["presets", "smoke", "grid", 0, "hmms"], ["chain9"], "chain9"),
        (["hmms", "cyclic4", "transitions", "matrix", 0], [0.9, 0.9, 0.0, 0.0], "rows must sum to 1"),
        (["presets", "smoke", "train", "checkpoint_epochs"], [1, 99], "beyond the last epoch"),
        (["presets", "smoke", "analysis", "state_space", "pca_stepz"], 10, "pca_stepz"),
    ],
)
def test_bad_config_names_the_key(config, path, value, message):
    cfg = copy.deepcopy(config)
    _set(cfg, path, value)
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


def test_validation_applies_the_schemas_defaults_once(config):
    """A key the schema gives a default is filled in where the config leaves it out, and kept where given."""
    cfg = copy.deepcopy(config)
    t, e = cfg["presets"]["smoke"]["train"], cfg["presets"]["smoke"]["evaluate"]
    for k in ("resume_every", "sinkhorn_backend", "device"):
        t.pop(k, None)
    for k in ("eps", "max_iter", "tol", "grid_seq_len"):
        e.pop(k, None)
    cfg["presets"]["laptop"]["evaluate"]["eps"] = 0.05
    validate(cfg)
    assert (t["resume_every"], t["sinkhorn_backend"], t["device"]) == (10, "geomloss", "auto")
    assert (e["eps"], e["max_iter"], e["tol"], e["grid_seq_len"]) == (0.1, 1000, 1.0e-3, 100)
    assert cfg["presets"]["laptop"]["evaluate"]["eps"] == 0.05
    assert cfg["hmms"] == config["hmms"]  # the HMM blocks have no defaults: nothing is added there
