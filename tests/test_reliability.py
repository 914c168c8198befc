"""Reliability: a killed job resumes to identical weights, numerical faults stop loudly, damaged files
are detected, two smoke runs give identical files, every result carries its provenance, and no target
path can inject shell text or escape results/ and figures/."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import REPO, copy_repo, snakemake
from rnnhmm import cli, io
from rnnhmm.hmm import load_hmm_file
from rnnhmm.train import ModelKey, TrainConfig, TrainingDiverged, train

CHAIN2 = {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05}, "emissions": {"kind": "linear"}}
TRAIN = {"epochs": 40, "batch_size": 64, "lr": 1e-3, "betas": [0.9, 0.9], "eps": 1e-8, "clip": 0.9, "tau": 1.0,
         "sigma": 1.0, "blur": 0.2, "scaling": 0.5, "checkpoint_epochs": [1, 5, 20, 40], "resume_every": 1,
         "sinkhorn_backend": "geomloss", "device": "cpu"}


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tiny_hmm(folder: Path) -> Path:
    """An HMM file written by the real `rnnhmm hmm` stage: 128 train / 64 val sequences of length 12."""
    out = folder / "chain2.npz"
    p = {"base_seed": 3, "name": "chain2", "spec": {**CHAIN2, "seq_len": 12, "clip": 0.9}, "seq_len": 12,
         "data": {"n_train": 128, "n_val": 64, "n_test": 8}}
    assert cli.main(["hmm", "--params", json.dumps(p), "--out", str(out)]) == 0
    return out


def train_args(hmm_file: Path, out_dir: Path, **train) -> list[str]:
    p = {"base_seed": 3, "model": {"hmm": "chain2", "hidden": 8, "dim": 2, "seed": 0}, "train": {**TRAIN, **train}}
    return ["train", "--hmm-file", str(hmm_file), "--params", json.dumps(p), "--out-dir", str(out_dir), "--threads", "1"]


def model_files(folder: Path) -> dict[str, str]:
    names = ["model.pt", "history.csv", *(f"checkpoints/{p.name}" for p in sorted((folder / "checkpoints").iterdir()))]
    return {n: sha(folder / n) for n in names}


# ---------------------------------------------------------------------- crash safety
def test_sigkill_mid_training_resumes_to_identical_files(tmp_path, caplog):
    hmm = tiny_hmm(tmp_path)
    assert cli.main(train_args(hmm, tmp_path / "whole")) == 0

    out = tmp_path / "killed"
    state = out / "_work" / "state.pt"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "rnnhmm.cli", *train_args(hmm, out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    done = int(io.load_torch(state, io.STATE_FORMAT)["epoch"])  # the state on disk is complete, never half-written
    assert 1 <= done < TRAIN["epochs"]
    assert not (out / "model.pt").exists()
    # what an atomic write interrupted by the kill leaves behind is never taken as a file
    (out / "_work" / "epochs" / ".epoch20.pt.x1y2z3.tmp").write_bytes(b"half a checkpoint")

    with caplog.at_level(logging.INFO, logger="rnnhmm"):
        assert cli.main(train_args(hmm, out)) == 0
    assert f"after epoch {done}" in caplog.text and "resumed from" in caplog.text
    assert not (out / "_work").exists()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch1.pt", "epoch20.pt", "epoch40.pt",
                                                                       "epoch5.pt"]
    assert model_files(out) == model_files(tmp_path / "whole")


LAPTOP_SIZE = {"hidden": 150, "dim": 100}  # the laptop and paper reference network


def test_sigkill_mid_epoch_of_a_laptop_size_training_resumes_to_the_same_weights(tmp_path):
    """The laptop preset's network (hidden 150, input dim 100, the fast Sinkhorn backend, batches of
    1024): SIGKILL lands inside an epoch (well after the last resume state was written and before
    the next one), and the resumed run ends with bit-identical weights and history."""
    hmm = tmp_path / "chain3.npz"
    spec = {"transitions": {"kind": "target_prob", "n_states": 3, "target": 0.05}, "emissions": {"kind": "linear"},
            "seq_len": 30, "clip": 0.9}
    p = {"base_seed": 5, "name": "chain3", "spec": spec, "seq_len": 30,
         "data": {"n_train": 2048, "n_val": 1024, "n_test": 8}}
    assert cli.main(["hmm", "--params", json.dumps(p), "--out", str(hmm)]) == 0
    train_cfg = {**TRAIN, "epochs": 4, "batch_size": 1024, "checkpoint_epochs": [2, 4], "resume_every": 1,
                 "sinkhorn_backend": "fast"}

    def args(out):
        q = {"base_seed": 5, "model": {"hmm": "chain3", **LAPTOP_SIZE, "seed": 0}, "train": train_cfg}
        return ["train", "--hmm-file", str(hmm), "--params", json.dumps(q), "--out-dir", str(out), "--threads", "1"]

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    whole = tmp_path / "whole"
    subprocess.run([sys.executable, "-m", "rnnhmm.cli", *args(whole)], env=env, check=True, capture_output=True)
    epoch_s = io.read_json(whole / "meta.json")["mean_epoch_time_s"]

    out = tmp_path / "killed"
    state = out / "_work" / "state.pt"
    proc = subprocess.Popen([sys.executable, "-m", "rnnhmm.cli", *args(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 600
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    written = state.stat().st_mtime
    time.sleep(0.5 * epoch_s)  # half-way through the next epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    done = int(io.load_torch(state, io.STATE_FORMAT)["epoch"])
    assert state.stat().st_mtime == written, "the kill came after the next resume state: not mid-epoch"
    assert 1 <= done < train_cfg["epochs"] and not (out / "model.pt").exists()

    subprocess.run([sys.executable, "-m", "rnnhmm.cli", *args(out)], env=env, check=True, capture_output=True)
    a, b = io.load_torch(whole / "model.pt"), io.load_torch(out / "model.pt")
    for which in ("best", "final"):
        for k in ("W", "U", "A"):
            assert torch.equal(a[which][k], b[which][k]), (which, k)
    assert model_files(out) == model_files(whole)


def test_a_stale_state_of_another_configuration_is_not_resumed(tmp_path, caplog):
    hmm = tiny_hmm(tmp_path)
    out = tmp_path / "m"
    (out / "_work" / "epochs").mkdir(parents=True)
    io.save_torch(out / "_work" / "state.pt", {"format": io.STATE_FORMAT, "key": "chain2_h8_d2_s0", "config": {},
                                               "epoch": 1})
    io.save_torch(out / "_work" / "epochs" / "epoch3.pt", {"format": io.MODEL_FORMAT})
    with caplog.at_level(logging.INFO, logger="rnnhmm"):
        assert cli.main(train_args(hmm, out, epochs=2, checkpoint_epochs=[2])) == 0
    assert "another configuration; starting afresh" in caplog.text
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["epoch2.pt"]


# ---------------------------------------------------------------------- numerical faults
def test_exploding_weights_stop_the_cli_with_a_clear_message(tmp_path, caplog):
    hmm = tiny_hmm(tmp_path)
    with caplog.at_level(logging.INFO, logger="rnnhmm"):
        rc = cli.main(train_args(hmm, tmp_path / "m", lr=1e30))
    assert rc == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "TrainingDiverged" in errors[0] and "non-finite" in errors[0], errors
    assert "epoch 1" in errors[0] and "no model was written" in errors[0]
    assert not (tmp_path / "m" / "model.pt").exists()


def test_nan_weights_stop_training_and_keep_the_last_state(tmp_path, monkeypatch):
    """A state whose weights hold a NaN (a fault after epoch 2): the next epoch stops, names the fault
    and the kept state, writes no model, and leaves the state file untouched."""
    _, data = load_hmm_file(tiny_hmm(tmp_path))
    key = ModelKey("chain2", 8, 2, 0, base_seed=3)
    cfg = TrainConfig(epochs=4, batch_size=64, resume_every=1, checkpoint_epochs=(1, 2))
    import rnnhmm.train as T

    saved, orig = {}, io.save_torch

    def capture(path, obj):
        orig(path, obj)
        if obj.get("format") == io.STATE_FORMAT and obj["epoch"] == 2:
            saved["state"] = copy.deepcopy(obj)

    monkeypatch.setattr(T.io, "save_torch", capture)
    train(key, cfg, data["train"], data["val"], tmp_path / "a", 3)
    monkeypatch.setattr(T.io, "save_torch", orig)
    state = saved["state"]
    state["model"]["W"][0, 0] = float("nan")
    out = tmp_path / "b"
    io.save_torch(out / "_work" / "state.pt", state)
    for e in (1, 2):
        io.save_torch(out / "_work" / "epochs" / f"epoch{e}.pt", {"format": io.MODEL_FORMAT})
    before = sha(out / "_work" / "state.pt")
    with pytest.raises(TrainingDiverged, match=r"non-finite.*epoch 3.*last good training state .*state\.pt, epoch 2"):
        train(key, cfg, data["train"], data["val"], out, 3)
    assert sha(out / "_work" / "state.pt") == before
    assert not (out / "model.pt").exists()


# ---------------------------------------------------------------------- damaged files
def test_truncated_or_flipped_checkpoints_are_detected(tmp_path):
    _, data = load_hmm_file(tiny_hmm(tmp_path))
    train(ModelKey("chain2", 8, 2, 0, base_seed=3), TrainConfig(epochs=2, batch_size=64, checkpoint_epochs=(2,)),
          data["train"], data["val"], tmp_path / "m", 3)
    model = tmp_path / "m" / "model.pt"
    io.load_model(model)
    raw = model.read_bytes()

    bad = tmp_path / "truncated.pt"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(io.ResultFileError, match=f"{bad}: cannot be loaded"):
        io.load_model(bad)

    # one flipped bit in a weight: torch.load reads it without complaint, the embedded digest does not
    ck = tmp_path / "m" / "checkpoints" / "epoch2.pt"
    w = io.load_torch(ck)["final"]["W"]
    blob = bytearray(ck.read_bytes())
    at = bytes(blob).find(w.numpy().tobytes()[:16])
    assert at > 0
    blob[at + 1] ^= 0x01
    flipped = tmp_path / "flipped.pt"
    flipped.write_bytes(bytes(blob))
    plain = torch.load(flipped, weights_only=True)
    assert not (torch.equal(plain["final"]["W"], w) and torch.equal(plain["best"]["W"], w))
    with pytest.raises(io.ResultFileError, match=f"{flipped}: content does not match its embedded SHA-256"):
        io.load_torch(flipped)

    # the model file has a provenance sidecar too: a damaged copy in place is named by its hash
    model.write_bytes(bytes(blob))
    with pytest.raises(io.ResultFileError, match=f"{model}: SHA-256 does not match its provenance sidecar"):
        io.load_model(model)

    with pytest.raises(io.ResultFileError, match="expected format 'rnnhmm-train-state/1', found 'rnnhmm-model/1'"):
        io.load_torch(ck, io.STATE_FORMAT)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {_Payload.marker}",))


def test_a_checkpoint_cannot_run_code(tmp_path):
    _Payload.marker = tmp_path / "PWNED"
    evil = tmp_path / "model.pt"
    with open(evil, "wb") as fh:
        torch.save({"format": io.MODEL_FORMAT, "best": _Payload()}, fh)
    with pytest.raises(io.ResultFileError, match=f"{evil}: cannot be loaded as a checkpoint"):
        io.load_model(evil)
    assert not _Payload.marker.exists()


def test_damaged_tables_arrays_and_json_are_detected_by_their_sidecar(tmp_path):
    table = tmp_path / "eval.csv"
    io.write_table(table, pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.25, 0.125]}))
    io.write_sidecar(table, io.provenance({"x": 1}))
    assert io.read_table(table)["a"].tolist() == [1, 2, 3]
    table.write_text(table.read_text()[:-8])  # truncated: pandas alone would read the first rows
    assert len(pd.read_csv(table)) == 2
    with pytest.raises(io.ResultFileError, match=f"{table}: SHA-256 does not match"):
        io.read_table(table)

    arrays = tmp_path / "arrays.npz"
    io.write_npz(arrays, x=np.arange(10))
    arrays.write_bytes(arrays.read_bytes()[:40])  # no sidecar: the format check names the file
    with pytest.raises(io.ResultFileError, match=f"{arrays}: cannot be read as .npz"):
        io.read_npz(arrays)

    doc = tmp_path / "summary.json"
    io.write_json(doc, {"k": 1})
    io.write_sidecar(doc, io.provenance())
    doc.write_text('{"k": 2}\n')
    with pytest.raises(io.ResultFileError, match=f"{doc}: SHA-256 does not match"):
        io.read_json(doc)

    broken_side = tmp_path / "other.csv"
    io.write_table(broken_side, pd.DataFrame({"a": [1]}))
    io.sidecar_path(broken_side).write_text('{"sha256": ')
    with pytest.raises(io.ResultFileError, match="other.csv.meta.json: not valid JSON"):
        io.read_table(broken_side)


def test_rewriting_a_file_drops_its_stale_sidecar(tmp_path):
    table = tmp_path / "t.csv"
    io.write_table(table, pd.DataFrame({"a": [1]}))
    io.write_sidecar(table, io.provenance())
    io.write_table(table, pd.DataFrame({"a": [2]}))
    assert not io.sidecar_path(table).exists()
    assert io.read_table(table)["a"].tolist() == [2]


def test_cli_names_the_damaged_file_and_exits_2(tmp_path, caplog):
    hmm = tiny_hmm(tmp_path)
    hmm.write_bytes(hmm.read_bytes()[:-100])
    with caplog.at_level(logging.INFO, logger="rnnhmm"):
        assert cli.main(train_args(hmm, tmp_path / "m")) == 2
        assert cli.main(["info", str(hmm)]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all(f"{hmm}: SHA-256 does not match" in e for e in errors), errors
    assert not (tmp_path / "m" / "model.pt").exists()


# ---------------------------------------------------------------------- the smoke workflow
PROVENANCE_KEYS = {"config", "versions", "git_commit", "wall_time_s", "sha256"}


def result_files(root: Path) -> dict[str, str]:
    """Hash of every file the workflow wrote except logs, benchmarks and provenance records
    (sidecars, meta.json and the report's provenance page, made from the figures' sidecars, carry wall
    times and hosts, which differ by design)."""
    out = {}
    for base in ("results", "figures"):
        for p in sorted((root / base).rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.name == ".snakemake_timestamp":
                continue  # Snakemake's empty completion marker inside directory outputs
            record = rel.endswith("meta.json") or rel.endswith("/report/provenance.html")
            if p.is_file() and "/logs/" not in rel and "/benchmarks/" not in rel and not record:
                out[rel] = sha(p)
    return out


@pytest.fixture(scope="session")
def killed_smoke_run(tmp_path_factory):
    """A second smoke run from scratch whose Snakemake (and every job) gets SIGKILL as soon as a
    training job has saved a resume state; then `--unlock` and a plain rerun complete it."""
    work = copy_repo(tmp_path_factory.mktemp("smoke2") / "repo")
    proc = subprocess.Popen(["snakemake", "--cores", "all", "--config", "preset=smoke"], cwd=work,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, states = time.time() + 1200, []
    while not states and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
        states = list((work / "results/smoke/models").glob("*/*/*/_work/state.pt"))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted = [s.parents[1] for s in states if s.exists() and not (s.parents[1] / "model.pt").exists()]
    unlock = snakemake(work, "--unlock", "--config", "preset=smoke")
    rerun = snakemake(work, "--cores", "all", "--config", "preset=smoke", timeout=1500)
    return work, interrupted, unlock, rerun


@pytest.mark.workflow
def test_a_killed_smoke_run_resumes_and_matches_an_uninterrupted_one(smoke_run, killed_smoke_run):
    work1, res1, _ = smoke_run
    work2, interrupted, unlock, rerun = killed_smoke_run
    assert res1.returncode == 0, res1.stderr[-3000:]
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-3000:]
    assert interrupted, "the kill came too late: no training job was interrupted"
    for model_dir in interrupted:
        rel = model_dir.relative_to(work2 / "results/smoke/models").parts
        log = work2 / f"results/smoke/logs/train/{rel[0]}_{rel[1]}_s{rel[2].removeprefix('seed')}.log"
        assert "resumed from" in log.read_text(), log.read_text()[-2000:]
        assert not (model_dir / "_work").exists()
    a, b = result_files(work1), result_files(work2)
    assert a.keys() == b.keys()
    differ = sorted(k for k in a if a[k] != b[k])
    assert not differ, f"{len(differ)} of {len(a)} files differ between two smoke runs: {differ[:20]}"
    assert any(k.endswith("model.pt") for k in a) and any("/analysis/" in k for k in a)


@pytest.mark.workflow
def test_every_result_carries_its_provenance(smoke_run, capsys):
    work, res, _ = smoke_run
    assert res.returncode == 0
    checked = 0
    for rel in result_files(work):
        path = work / rel
        if "/checkpoints/" in rel:
            continue  # checkpoints embed their digest
        rec = json.loads(io.sidecar_path(path).read_text())
        assert PROVENANCE_KEYS <= rec.keys(), rel
        assert rec["sha256"] == sha(path), rel
        assert rec["versions"]["torch"] == torch.__version__.split("+")[0] or rec["versions"]["torch"] == torch.__version__
        assert isinstance(rec["config"], dict) and rec["config"], rel
        checked += 1
    assert checked >= 20
    model = next(work.glob("results/smoke/models/chain2/h16_d4/seed0/model.pt"))
    assert cli.main(["info", str(model)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sha256_matches"] is True and info["config"]["model"]["hmm"] == "chain2"
    assert {"git_commit", "versions", "wall_time_s"} <= info.keys()


INJECTIONS = [
    "results/smoke/hmm/chain2;touch PWNED.npz",
    "results/smoke/hmm/$(touch PWNED).npz",
    "results/smoke/models/chain2/h16_d4/seed0`touch PWNED`/model.pt",
    "results/smoke/../../PWNED/hmm/chain2.npz",
    "figures/smoke/../../../PWNED.pdf",
    "results/smoke/analysis/state_space/chain2/h16_d4/seed0 && touch PWNED",
    "results/nopreset/hmm/chain2.npz",  # only the config's presets and HMMs match the wildcards
    "results/smoke/hmm/chain9.npz",
]


def test_target_paths_cannot_inject_shell_text_or_escape(tmp_path):
    root = tmp_path / "outer"
    work = copy_repo(root / "repo")
    for target in INJECTIONS:
        res = snakemake(work, target, "--cores", "1", "--config", "preset=smoke", timeout=300)
        out = res.stdout + res.stderr
        assert res.returncode != 0, (target, out[-1500:])
        assert "MissingRuleException" in out or "No rule to produce" in out, (target, out[-1500:])
    assert not list(tmp_path.rglob("PWNED*"))
    assert not (work / "results").exists() and not (work / "figures").exists()
