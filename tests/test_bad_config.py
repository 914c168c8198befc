"""Bad configurations stop before any job runs, with one message naming the key and what is allowed.

Every case is checked twice: in-process (``validate`` raises ConfigError with the expected message)
and through the real ``snakemake`` CLI (exit code != 0, one ``invalid configuration:`` line, no
traceback, nothing written under ``results/``).  The table is the list of bad inputs the issue asks
for; ``python tests/test_bad_config.py`` prints what each returns.
"""

from __future__ import annotations

import copy
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from conftest import REPO, copy_repo, snakemake
from rnnhmm import sinkhorn
from rnnhmm.config import ConfigError, load_schema, validate

P = ["presets", "smoke"]
T = [*P, "train"]
H = ["hmms", "cyclic4"]


def put(path, value):
    def apply(cfg):
        d = cfg
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return apply


def drop(path):
    def apply(cfg):
        d = cfg
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
    return apply


def rename_hmm(new):
    def apply(cfg):
        cfg["hmms"][new] = cfg["hmms"]["chain2"]
    return apply


def add_preset(new):
    def apply(cfg):
        cfg["presets"][new] = copy.deepcopy(cfg["presets"]["smoke"])
    return apply


# (id, change, key the message must name, what-is-allowed fragment the message must contain)
CASES = [
    ("unknown top-level key", put(["extra"], 1), "'extra'", "allowed keys here: base_seed, hmms, preset, presets"),
    ("unknown train key", put([*T, "bogus"], 1), "presets.smoke.train.bogus", "allowed keys here: batch_size"),
    ("unknown HMM key", put(["hmms", "chain2", "bogus"], 1), "hmms.chain2.bogus", "allowed keys here: clip"),
    ("missing required key", drop([*T, "lr"]), "presets.smoke.train", "required: epochs"),
    ("base_seed not an integer", put(["base_seed"], "abc"), "base_seed", "expected integer"),
    ("base_seed negative", put(["base_seed"], -1), "base_seed", "allowed: >= 0"),
    ("lr a string", put([*T, "lr"], "fast"), "presets.smoke.train.lr", "expected number"),
    ("lr NaN", put([*T, "lr"], float("nan")), "presets.smoke.train.lr", "allowed: a finite number"),
    ("sigma Inf", put([*T, "sigma"], float("inf")), "presets.smoke.train.sigma", "allowed: a finite number"),
    ("n_train a float", put([*P, "data", "n_train"], 1.5), "presets.smoke.data.n_train", "expected integer"),
    ("n_train zero", put([*P, "data", "n_train"], 0), "presets.smoke.data.n_train", "allowed: >= 1"),
    ("hidden negative", put([*P, "grid", 0, "hidden"], [-4]), "presets.smoke.grid.0.hidden.0", "allowed: >= 1"),
    ("dim zero", put([*P, "grid", 0, "dim"], [0]), "presets.smoke.grid.0.dim.0", "allowed: >= 1"),
    ("hidden a boolean", put([*P, "grid", 0, "hidden"], [True]), "presets.smoke.grid.0.hidden.0", "expected integer"),
    ("batch_size negative", put([*T, "batch_size"], -1), "presets.smoke.train.batch_size", "allowed: >= 1"),
    ("batch_size > n_train", put([*T, "batch_size"], 100000), "presets.smoke.train.batch_size", "allowed: 1..256"),
    ("transitions not stochastic", put([*H, "transitions", "matrix", 0], [0.9, 0.9, 0.0, 0.0]),
     "hmms.cyclic4.transitions", "rows must sum to 1"),
    ("emissions wrong shape", put([*H, "emissions", "matrix"], [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.0, 0.1, 0.9]]),
     "hmms.cyclic4.emissions", "must have shape (4, K)"),
    ("transitions ragged", put([*H, "transitions", "matrix", 0], [0.95, 0.05]),
     "hmms.cyclic4.transitions.matrix", "allowed: a rectangular matrix"),
    ("probability negative", put([*H, "transitions", "matrix", 0], [1.1, -0.1, 0.0, 0.0]),
     "hmms.cyclic4.transitions.matrix.0.1", "allowed: >= 0"),
    ("probability > 1", put([*H, "emissions", "matrix", 0], [1.5, 0.0, 0.0]),
     "hmms.cyclic4.emissions.matrix.0.0", "allowed: <= 1"),
    ("unknown HMM family", put(["hmms", "chain2", "transitions", "kind"], "ring"), "hmms.chain2.transitions.kind",
     "allowed values: target_prob, stay_prob, fully, custom"),
    ("unknown emission family", put(["hmms", "chain2", "emissions", "kind"], "poisson"), "hmms.chain2.emissions.kind",
     "allowed values: linear, gaussian, triangular, custom"),
    ("chain target impossible", put(["hmms", "chain5", "transitions", "target"], 0.7), "hmms.chain5.transitions",
     "> 0.5"),
    ("one-state HMM", put(["hmms", "chain2", "transitions", "n_states"], 1), "hmms.chain2.transitions.n_states",
     "allowed: >= 2"),
    ("seq_len 1", put(["hmms", "chain2", "seq_len"], 1), "hmms.chain2.seq_len", "allowed: >= 2"),
    ("clip zero", put(["hmms", "chain2", "clip"], 0), "hmms.chain2.clip", "allowed: > 0"),
    ("unknown preset", put(["preset"], "huge"), "'preset'", "not a defined preset; allowed: "),
    ("preset not a string", put(["preset"], 123), "'preset'", "expected string"),
    ("controls name an HMM outside the grid", put([*P, "controls", "hmms"], ["chain2", "chain9"]),
     "presets.smoke.controls.hmms", "allowed: chain2, chain3"),
    ("grid names unknown HMM", put([*P, "grid", 0, "hmms"], ["chain9"]), "presets.smoke.grid.0.hmms",
     "defined: chain2"),
    ("empty grid", put([*P, "grid"], []), "presets.smoke.grid", "at least 1 entry"),
    ("empty hidden list", put([*P, "grid", 0, "hidden"], []), "presets.smoke.grid.0.hidden", "at least 1 entry"),
    ("empty seed list", put([*P, "grid", 0, "seeds"], []), "presets.smoke.grid.0.seeds", "at least 1 entry"),
    ("repeated seeds", put([*P, "grid", 0, "seeds"], [0, 0]), "presets.smoke.grid.0.seeds", "distinct entries"),
    ("no HMMs", put(["hmms"], {}), "'hmms'", "at least 1 entry"),
    ("blur zero", put([*T, "blur"], 0), "presets.smoke.train.blur", "allowed: > 0"),
    ("blur negative", put([*T, "blur"], -0.2), "presets.smoke.train.blur", "allowed: > 0"),
    ("epochs zero", put([*T, "epochs", "chain2"], 0), "presets.smoke.train.epochs.chain2", "allowed: >= 1"),
    ("epochs missing for an HMM", drop([*T, "epochs", "chain3"]), "presets.smoke.train.epochs",
     "give epochs for every HMM"),
    ("checkpoint beyond last epoch", put([*T, "checkpoint_epochs"], [1, 99]), "presets.smoke.train.checkpoint_epochs",
     "allowed: 1..3"),
    ("checkpoint_epochs a word", put([*T, "checkpoint_epochs"], "some"), "presets.smoke.train.checkpoint_epochs",
     "allowed: 'all' or a list"),
    ("checkpoint epoch zero", put([*T, "checkpoint_epochs"], [0]), "presets.smoke.train.checkpoint_epochs.0",
     "allowed: >= 1"),
    ("reference not in grid", put([*P, "reference", "hidden"], 999), "presets.smoke.reference", "not in the grid"),
    ("scaling 1", put([*T, "scaling"], 1.0), "presets.smoke.train.scaling", "allowed: < 1"),
    ("betas of length 1", put([*T, "betas"], [0.9]), "presets.smoke.train.betas", "allowed: at least 2"),
    ("unknown Sinkhorn backend", put([*T, "sinkhorn_backend"], "magic"), "presets.smoke.train.sinkhorn_backend",
     "allowed values: geomloss"),
    ("unknown device", put([*T, "device"], "tpu"), "presets.smoke.train.device", "allowed values: auto, cpu, cuda"),
    ("resume_every zero", put([*T, "resume_every"], 0), "presets.smoke.train.resume_every", "allowed: >= 1"),
    ("n_sequences 1", put([*P, "evaluate", "n_sequences"], 1), "presets.smoke.evaluate.n_sequences", "allowed: >= 2"),
    ("unknown analysis", put([*P, "analysis", "telepathy"], {}), "presets.smoke.analysis.telepathy",
     "allowed: "),
    ("unknown analysis parameter", put([*P, "analysis", "state_space", "pca_stepz"], 10),
     "presets.smoke.analysis.state_space", "allowed: "),
    ("analysis parameter wrong type", put([*P, "analysis", "state_space", "pca_steps"], "many"),
     "presets.smoke.analysis.state_space", "expected int"),
    ("HMM name with shell text", rename_hmm("a;touch pwned"), "'hmms'", "names are letters and digits"),
    ("preset name escaping results/", add_preset("../escape"), "'presets'", "names are letters and digits"),
]


# Through the real CLI (each run costs a Snakemake start-up): one case of every kind of check —
# unknown key, missing key, type, range, non-finite, HMM semantics, enum, preset, grid, empty list,
# checkpoints, analysis parameters, names that could inject shell text or escape results/.
CLI_CASES = [
    "unknown top-level key", "missing required key", "lr a string", "lr NaN", "hidden negative",
    "transitions not stochastic", "emissions wrong shape", "unknown HMM family", "unknown preset", "empty grid",
    "blur zero", "epochs zero", "checkpoint beyond last epoch", "unknown analysis parameter",
    "HMM name with shell text", "preset name escaping results/",
]


def bad_config(change) -> dict:
    # a JSON round trip unshares the blocks that YAML aliases share (a change of smoke's is smoke's only)
    cfg = json.loads(json.dumps(yaml.safe_load((REPO / "config.yaml").read_text())))
    cfg["preset"] = "smoke"
    for entry in cfg["hmms"].values():  # HMM files are relative to the working folder, which here is another
        if "file" in entry:
            entry["file"] = str(REPO / entry["file"])
    change(cfg)
    return cfg


def test_the_table_is_long_enough():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)
    assert [c[0] for c in CASES if c[0] in CLI_CASES] == CLI_CASES


@pytest.mark.parametrize("name, change, key, allowed", CASES, ids=[c[0] for c in CASES])
def test_validate_names_the_key_and_what_is_allowed(name, change, key, allowed):
    with pytest.raises(ConfigError) as info:
        validate(bad_config(change))
    msg = str(info.value)
    assert key in msg and allowed in msg, msg
    assert "\n" not in msg


def test_schema_backends_match_the_code():
    schema = load_schema()
    backend = schema["$defs"]["preset"]["properties"]["train"]["properties"]["sinkhorn_backend"]
    assert tuple(backend["enum"]) == sinkhorn.BACKENDS


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory):
    """Run `snakemake -n` once per bad config: one copy of the workflow, one working folder per case
    holding only its config.yaml (so whatever a run writes there is visible)."""
    root = tmp_path_factory.mktemp("badcfg")
    repo = copy_repo(root / "repo")

    def run(i_case):
        i, (_, change, _, _) = i_case
        work = root / f"case{i:02d}"
        work.mkdir()
        (work / "config.yaml").write_text(yaml.safe_dump(bad_config(change)))
        res = snakemake(repo, "-s", str(repo / "Snakefile"), "-d", str(work), "-n", timeout=300)
        return work, res

    cases = [c for c in CASES if c[0] in CLI_CASES]
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 1))) as pool:
        return dict(zip(CLI_CASES, pool.map(run, enumerate(cases)), strict=True))


@pytest.mark.parametrize("name", CLI_CASES)
def test_snakemake_stops_with_one_clean_message(cli_results, name):
    _, _, key, allowed = next(c for c in CASES if c[0] == name)
    work, res = cli_results[name]
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-2000:]
    lines = [ln for ln in out.splitlines() if ln.startswith("invalid configuration: ")]
    assert len(lines) == 1 and key in lines[0] and allowed in lines[0], out[-2000:]
    for trace in ("Traceback", 'File "', "WorkflowError", "Exception"):
        assert trace not in out, out[-2000:]
    assert not (work / "results").exists()
    assert not (work / "figures").exists()


def test_the_shipped_config_passes_the_cli(tmp_path):
    """Control: the same mechanism lets a good config through (so the checks above can fail)."""
    repo = copy_repo(tmp_path / "repo")
    res = snakemake(repo, "-n", "--config", "preset=smoke", timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "invalid configuration" not in res.stdout + res.stderr


if __name__ == "__main__":  # the closing note's table: each bad input and what it returns
    for name, change, _, _ in CASES:
        try:
            validate(bad_config(change))
            print(f"| {name} | ACCEPTED |")
        except ConfigError as err:
            print(f"| {name} | {err} |")
