"""The replay (src/rnnhmm/replay.py): a working tree that trains like its base commit is recorded, one
whose training numbers differ is not, and a recorded replay keeps a run-numbers stamp current
(rnnhmm.run_numbers.stale_reason).  Each replay trains one smoke model for 2 epochs in a temporary
clone of this repository, with the base commit's code and with the clone's working tree."""

import csv
import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnhmm import replay
from rnnhmm import run_numbers as rn

REPO = Path(__file__).resolve().parents[1]
MODEL = "chain2_h16_d2_s0"  # the smallest smoke model: 16 neurons, 2 input dims, 3 epochs in the preset
# the code under test, copied into the clone (it may not be committed yet); neither is a numerics file
TOOL_FILES = ("src/rnnhmm/replay.py", "src/rnnhmm/run_numbers.py")


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)


@pytest.fixture
def clone(tmp_path):
    """A clone of this repository at its HEAD, with this working tree's replay tool."""
    if not (REPO / ".git").exists():
        pytest.skip("no .git: a replay needs the base commit's history (a source tree without it cannot clone)")
    dest = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True, capture_output=True)
    for rel in TOOL_FILES:
        shutil.copyfile(REPO / rel, dest / rel)
    # the tests count the rows their own replays write: the repository's record starts them off empty
    (dest / rn.REPLAY_RECORD).unlink(missing_ok=True)
    return dest


def run_replay(folder: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """``python -m rnnhmm.replay *args`` in ``folder`` with its own code, temporary files under
    ``folder/../tmp``."""
    tmp = folder.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(folder / "src"), "RNNHMM_PROGRESS": "0", "TMPDIR": str(tmp)}
    return subprocess.run([sys.executable, "-m", "rnnhmm.replay", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=timeout)


def record_of(folder: Path) -> list[dict]:
    with (folder / rn.REPLAY_RECORD).open(newline="") as fh:
        return list(csv.DictReader(fh))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name} no longer has {old!r} once: update this test's edit"
    path.write_text(text.replace(old, new))


def doc_with_blocks(path: Path, blocks: dict[str | None, str]) -> Path:
    """A markdown file with one run-numbers block per (name, text)."""
    parts = ["# runs", ""]
    for name, text in blocks.items():
        begin, end = rn.markers(name)
        parts += [begin, text, end, ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path


def block(preset: str, commit: str, numerics: str, models: list[str]) -> str:
    """A block as rnnhmm.run_numbers writes it: the stamp, a stage table and the per-model training table."""
    lines = [rn.stamp_line(preset, commit, numerics), "", "| stage | jobs | total s | longest job | longest s | peak |",
             "|---|---:|---:|---|---:|---:|", f"| train | {len(models)} | 1.0 | {(models or ['x'])[0]} | 1.0 | 1 |", ""]
    if models:
        lines += ["| model | epochs | best epoch | best val | final val | val floor | best excess | final excess |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|", *[f"| {m} | 3 | 2 | 1.5 | 1.6 | NaN | NaN | NaN |" for m in models]]
    lines += ["", "| claim | check | pass |", "|---|---|---:|", "| C1 | matched_distance | 1/1 |"]
    return "\n".join(lines)


# ---------------------------------------------------------------------- (a) an unchanged tree
def test_unchanged_tree_is_identical_and_recorded(clone):
    head = git(clone, "rev-parse", "HEAD").stdout.strip()
    r = run_replay(clone, "--base", "HEAD", "--preset", "smoke", "--models", MODEL, "--epochs", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == f"{MODEL}: identical\n"
    rows = record_of(clone)
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == list(rn.REPLAY_COLUMNS)
    assert row["base_commit"] == head and len(head) == 40
    assert row["numerics"] == rn.numerics_hash(clone) == rn.numerics_hash(clone, "HEAD")
    assert (row["preset"], row["model"], row["epochs"]) == ("smoke", MODEL, "2")
    today = dt.datetime.now(dt.UTC).date()
    assert dt.date.fromisoformat(row["date"]) in (today, today - dt.timedelta(days=1))
    assert row["command"] == f"python -m rnnhmm.replay --base HEAD --preset smoke --models {MODEL} --epochs 2"
    assert "1 row(s) added" in r.stderr
    # the temporary folder is gone (no --keep)
    assert list((clone.parent / "tmp").glob("rnnhmm-replay-*")) == []

    # the same (base, numerics, preset, model) again is not duplicated, and the file is not rewritten
    record = clone / rn.REPLAY_RECORD
    umask = os.umask(0)
    os.umask(umask)
    assert (record.stat().st_mode & 0o777) == 0o666 & ~umask  # not the temporary file's 0600
    before = record.read_bytes()
    again = {**row, "date": "2030-01-01", "command": "another"}
    new = {**row, "model": "chain3_h16_d2_s0"}
    assert replay.record_rows(record, [again]) == []
    assert record.read_bytes() == before
    assert replay.record_rows(record, [again, new]) == [new]
    assert [r["model"] for r in record_of(clone)] == [MODEL, "chain3_h16_d2_s0"]
    assert [p.name for p in record.parent.iterdir() if p.name.endswith(".tmp")] == []


# ---------------------------------------------------------------------- (b) a change of a training number
def test_changed_learning_rate_differs_and_records_nothing(clone):
    edit(clone / "src/rnnhmm/train.py", "lr=cfg.lr,", "lr=cfg.lr * 1.0001,")
    assert rn.numerics_hash(clone) != rn.numerics_hash(clone, "HEAD")
    r = run_replay(clone, "--base", "HEAD", "--preset", "smoke", "--models", MODEL, "--epochs", "2")
    assert r.returncode == 1, r.stderr[-3000:]
    line, = r.stdout.splitlines()
    # the first difference names its file: the history's first epoch (its gradient norm or loss), or a
    # checkpoint when the history's 10 digits hide it
    m = re.fullmatch(rf"{MODEL}: differs: (history\.csv|checkpoints/epoch1\.pt|checkpoints/epoch2\.pt): (.+)", line)
    assert m, line
    assert "in the base" in m[2] and "in the working tree" in m[2]
    assert "nothing recorded" in r.stderr
    assert not (clone / rn.REPLAY_RECORD).exists()


# ---------------------------------------------------------------------- (c) a change of code structure only
def test_structural_change_replays_and_keeps_the_stamp_current(clone):
    head = git(clone, "rev-parse", "HEAD").stdout.strip()
    old = rn.numerics_hash(clone, "HEAD")
    train_py = clone / "src/rnnhmm/train.py"
    train_py.write_text(train_py.read_text() + "\n\ndef _unused_helper(x):\n    return x + 1\n")
    now = rn.numerics_hash(clone)
    assert now != old and rn.changed_numerics_files(clone, "HEAD") == ["src/rnnhmm/train.py"]

    # stamps at HEAD whose blocks list MODEL: stale before the replay, naming the model and the command
    doc = doc_with_blocks((clone / "docs" / "synthetic-run").with_suffix(".md"), {
        None: block("smoke", head, old, [MODEL]),
        "short": block("smoke", head[:7], old, [MODEL]),  # a stamp with the short sha
        "two": block("smoke", head, old, [MODEL, "chain3_h16_d2_s0"]),
        "nomodel": block("smoke", head, old, []),
        "laptop": block("laptop", head, old, [MODEL]),
    })
    assert rn.block_models(rn.read_stamp(doc, "two")[1]) == [MODEL, "chain3_h16_d2_s0"]
    assert rn.block_models(rn.read_stamp(doc, "nomodel")[1]) == []
    why = rn.stale_reason(doc, clone)
    assert why is not None and "src/rnnhmm/train.py changed since commit" in why
    assert f"no replay of {MODEL} at these numerics" in why
    assert f"python -m rnnhmm.replay --base {head} --preset smoke" in why and "rnnhmm.run_numbers --run-dir" in why

    r = run_replay(clone, "--base", head, "--preset", "smoke", "--models", MODEL)  # --epochs defaults to 2
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == f"{MODEL}: identical\n"
    row, = record_of(clone)
    assert (row["base_commit"], row["numerics"], row["preset"], row["model"], row["epochs"]) == \
        (head, now, "smoke", MODEL, "2")

    # every model of the block has a row against the stamp's commit at today's numerics: current
    assert rn.stale_reason(doc, clone) is None
    assert rn.stale_reason(doc, clone, name="short") is None
    assert rn.main(["--check", "--readme", str(doc), "--repo", str(clone)]) == 0
    # a model without a row: stale, naming that model only
    why = rn.stale_reason(doc, clone, name="two")
    assert why is not None and "no replay of chain3_h16_d2_s0 at these numerics" in why and f"{MODEL}," not in why
    # a block without a model table, or of another preset: replays cannot make it current
    assert "the block lists no model" in rn.stale_reason(doc, clone, name="nomodel")
    assert f"no replay of {MODEL}" in rn.stale_reason(doc, clone, name="laptop")
    # a further change of the numerics code has another hash: the row no longer counts
    train_py.write_text(train_py.read_text() + "\n\ndef _another_helper(x):\n    return x - 1\n")
    assert f"no replay of {MODEL} at these numerics" in rn.stale_reason(doc, clone)
    # nor does a row against another commit than the stamp's
    train_py.write_text(train_py.read_text().replace("\n\ndef _another_helper(x):\n    return x - 1\n", ""))
    assert rn.stale_reason(doc, clone) is None
    record = clone / rn.REPLAY_RECORD
    record.write_text(record.read_text().replace(head, "1" * 40))
    assert rn.stale_reason(doc, clone) is not None


# ---------------------------------------------------------------------- the default models, errors
def test_default_models_are_those_of_the_blocks_stamped_with_base_and_preset(clone):
    head = git(clone, "rev-parse", "HEAD").stdout.strip()
    other = git(clone, "rev-parse", "HEAD~1").stdout.strip()
    doc_with_blocks(clone / "README.md", {None: block("smoke", head[:7], "0" * 16, ["chain2_h16_d2_s0", "chain3_h16_d2_s0"])})
    doc_with_blocks(clone / "docs" / "reference-run.md", {
        None: block("smoke", other, "0" * 16, ["chain4_h16_d2_s0"]),  # another commit
        "x": block("smoke", head, "0" * 16, ["chain3_h16_d2_s0", "fully3_h16_d4_s0"]),
        "y": block("laptop", head, "0" * 16, ["chain5_h16_d2_s0"]),  # another preset
    })
    doc_with_blocks(clone / "docs" / "claims.md", {None: block("smoke", head, "0" * 16, [])})  # no model table
    assert replay.stamped_models(clone, head, "smoke") == ["chain2_h16_d2_s0", "chain3_h16_d2_s0", "fully3_h16_d4_s0"]
    assert replay.stamped_models(clone, head, "laptop") == ["chain5_h16_d2_s0"]
    assert replay.stamped_models(clone, head, "paper") == []


def test_the_repositorys_stamped_models():
    """The README's block names the laptop preset's six models, the way the replay finds them."""
    stamp, text = rn.read_stamp(REPO / "README.md")
    models = rn.block_models(text)
    assert len(models) == 6 and all(m.endswith("_h150_d100_s0") for m in models) and models[0].startswith("chain2")


@pytest.mark.parametrize("args, message", [
    (["--base", "0" * 40, "--preset", "smoke", "--models", MODEL], "--base 0000000000000000000000000000000000000000: "
                                                                   "no such commit"),
    (["--base", "HEAD", "--preset", "smoke"], "no run-numbers block of README.md"),
    (["--base", "HEAD", "--preset", "smoke", "--models", "chain2"], "is not of the form"),
    (["--base", "HEAD", "--preset", "nope", "--models", MODEL], "is not a preset of"),
    (["--base", "HEAD", "--preset", "smoke", "--models", MODEL, "--epochs", "0"], "--epochs: 0 is out of range"),
    (["--preset", "smoke"], "the following arguments are required: --base"),
])
def test_usage_errors_are_one_line_and_exit_2(clone, args, message):
    r = run_replay(clone, *args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("replay: error: ") and message in r.stderr, r.stderr
    assert not (clone / rn.REPLAY_RECORD).exists()


def test_a_failing_base_tree_is_a_setup_error_naming_its_last_line(clone):
    train_py = clone / "src/rnnhmm/train.py"
    good = train_py.read_text()
    train_py.write_text(good + "\n\nraise RuntimeError('this base cannot train')\n")
    git(clone, "commit", "-q", "-am", "a base that cannot train")
    train_py.write_text(good)
    r = run_replay(clone, "--base", "HEAD", "--preset", "smoke", "--models", MODEL)
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()[-1]
    assert err.startswith(f"replay: error: {MODEL}: `rnnhmm train` of the base tree (")
    assert err.endswith("RuntimeError: this base cannot train")
    assert not (clone / rn.REPLAY_RECORD).exists()


# ---------------------------------------------------------------------- the comparison, known answers
def test_tensors_compare_bit_for_bit():
    a = torch.tensor([1.0, 0.0, math.nan], dtype=torch.float32)
    assert replay.diff_objects({"w": a}, {"w": a.clone()}) is None  # NaN equals itself bit for bit
    assert "dtype torch.float32 in the base, torch.float64" in replay.diff_objects({"w": a}, {"w": a.double()})
    assert "1 of 3 elements differ" in replay.diff_objects({"w": a}, {"w": torch.tensor([1.0, -0.0, math.nan])})
    b = a.clone()
    b[0] = torch.nextafter(b[0], torch.tensor(2.0))
    assert replay.diff_objects({"best": {"W": a}}, {"best": {"W": b}}) == \
        "best.W: 1 of 3 elements differ, max abs diff 1.19209e-07"
    assert "shape (3,) in the base, (1, 3)" in replay.diff_objects(a, a.reshape(1, 3))
    assert "key(s) extra only in the working tree" in replay.diff_objects({"a": 1}, {"a": 1, "extra": 3})
    assert replay.diff_objects({"e": 3}, {"e": 3.0}) == "e: 3 in the base, 3.0 in the working tree (abs diff 0)"
    assert replay.diff_objects([1, (2, 0.5)], [1, (2, 0.5)]) is None
    assert replay.diff_objects([1, (2, 0.5)], [1, [2, 0.5]]).startswith("[1]: tuple in the base, list")


def test_history_and_meta_leave_out_timings_only(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("epoch,train_loss,val_loss,epoch_time_s\n1,2.5,2.25,0.31\n2,2.0,1.75,0.30\n")
    b.write_text("epoch,train_loss,val_loss,epoch_time_s\n1,2.5,2.25,0.52\n2,2.0,1.75,0.47\n")
    assert replay.diff_history(a, b) is None
    b.write_text("epoch,train_loss,val_loss\n1,2.5,2.25\n2,2.0,1.7500001\n")
    assert replay.diff_history(a, b) == "epoch 2, column val_loss: '1.75' in the base, '1.7500001' in the working " \
                                        "tree (abs diff 1e-07)"
    meta = {"best_epoch": 2, "best_val_loss": 1.75, "mean_epoch_time_s": 0.3, "train_config": {"lr": 0.001},
            "provenance": {"config": {"lr": 0.001}, "git_commit": "unknown", "host": "a", "wall_time_s": 1.0,
                           "versions": {"torch": "2"}}}
    other = json.loads(json.dumps(meta))
    other["mean_epoch_time_s"] = 9.0
    other["provenance"].update({"git_commit": "abc-dirty", "host": "b", "wall_time_s": 7.0, "versions": {}})
    (tmp_path / "a.json").write_text(json.dumps(meta))
    (tmp_path / "b.json").write_text(json.dumps(other))
    assert replay.diff_meta(tmp_path / "a.json", tmp_path / "b.json") is None
    other["provenance"]["config"]["lr"] = 0.002
    (tmp_path / "b.json").write_text(json.dumps(other))
    assert replay.diff_meta(tmp_path / "a.json", tmp_path / "b.json").startswith("provenance.config.lr: 0.001 in the base")
