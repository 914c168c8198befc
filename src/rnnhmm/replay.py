"""Prove that the working tree trains bit for bit like a base commit: a *replay*.

``python -m rnnhmm.replay --base <commit> --preset P [--models id,...] [--epochs N]`` runs, for each
model, the pipeline's own stage commands twice in a temporary folder, in fresh processes with the
same thread count: once with the base commit's ``src/`` (``git archive <base> src | tar -x``) and
once with a snapshot of the working tree's ``src/``, each as ``PYTHONPATH=<tree>/src python -m
rnnhmm``:

* ``rnnhmm hmm --params <hmm params> --out <tree>/hmm/<hmm>.npz`` (workflow/rules/hmm.smk), and
* ``rnnhmm train --hmm-file … --params <train params> --out-dir … --threads N`` (train.smk).

The parameters are built once, by the working tree's rnnhmm.config from its config.yaml exactly as
the rules build them (``hmm_params``, ``train_params``), and both trees get the same JSON, with the
training shortened to ``epochs = N`` and a checkpoint at every epoch 1..N (every other key, e.g.
the preset's batch size, data sizes, clip and learning rate, as the preset has it).  Then the two
outputs are compared bit for bit: every array of the HMM file (dtype, shape and bytes), model.pt
and every checkpoint (every tensor by dtype, shape and bytes, nested dicts and lists walked, plain
values equal with their types), history.csv (every column but wall-clock timings, as text) and
meta.json (every key but the timings, the host, versions and commit of the provenance: see
``META_EXCLUDED``).  One line per model says ``identical`` or the first difference.

Only when every model is identical does it add one row per model to the record
(``run_numbers.REPLAY_RECORD``, docs/numerics-replay.csv): the base commit, the numerics hash of the
working tree, preset, model, epochs, date and the command; rnnhmm.run_numbers then counts a stamp of
that commit and preset as current for today's numerics hash when every model of its block has a row.
Exit 0: identical; 1: some model differs (or the working tree's stage failed), nothing recorded; 2:
a usage or setup error (one line ``replay: error: …``), e.g. the base tree's stage failed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io as _io
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import run_numbers as rn
from .stages import positive_int

PROG = "python -m rnnhmm.replay"
# the documents whose run-numbers blocks name the models a replay covers by default
STAMPED_DOCS = ("README.md", "docs/reference-run.md", "docs/claims.md")

# history.csv columns that are wall-clock measurements, not training numbers: train.py times each epoch
# (``epoch_time_s``, dropped before history.csv is written today, but a train.py of another commit may
# keep it); any column named ``*_time_s`` is a time
HISTORY_TIME_RE = re.compile(r"(^|_)time_s$")
# meta.json keys (dotted paths) that are no training number, left out of the comparison:
# - mean_epoch_time_s, provenance.wall_time_s: wall-clock timings of this process;
# - provenance.git_commit: where the code came from, not what it computed (both trees run from copies
#   outside git here and say "unknown"; a tree run in place would say its HEAD, with "-dirty");
# - provenance.host: the machine's name;
# - provenance.versions: the package versions of the environment (the same interpreter runs both trees).
# meta.json holds no path and no date today; every other key (the summary: best epoch, best and final
# validation loss, epochs, device; the model key; train_config; provenance.config, the params both trees
# were given) must be equal, and a key only one tree writes is a difference.
META_EXCLUDED = frozenset({"mean_epoch_time_s", "provenance.wall_time_s", "provenance.git_commit",
                           "provenance.host", "provenance.versions"})


class ReplayError(RuntimeError):
    """A usage or setup problem; the message is one line."""


@dataclass(frozen=True)
class Tree:
    """One side of the comparison: a name for messages and the folder holding its ``src/``."""

    name: str
    root: Path

    @property
    def src(self) -> Path:
        return self.root / "src"


# ---------------------------------------------------------------------- comparison
def _where(path: str) -> str:
    return path or "(top level)"


def _scalar_equal(a, b) -> bool:
    """Equal value and type; floats by their exact value (repr round-trips: -0.0 differs from 0.0),
    NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or repr(a) == repr(b)
    return a == b


def _tensor_bits(t):
    import torch

    return t.detach().cpu().contiguous().reshape(-1).view(torch.uint8)


def _tensor_diff(path: str, a, b) -> str | None:
    import torch

    if a.dtype != b.dtype:
        return f"{_where(path)}: dtype {a.dtype} in the base, {b.dtype} in the working tree"
    if tuple(a.shape) != tuple(b.shape):
        return f"{_where(path)}: shape {tuple(a.shape)} in the base, {tuple(b.shape)} in the working tree"
    if a.layout != torch.strided or b.layout != torch.strided:
        same = a.layout == b.layout and torch.equal(a.to_dense(), b.to_dense())
        return None if same else f"{_where(path)}: sparse tensors differ"
    if torch.equal(_tensor_bits(a), _tensor_bits(b)):
        return None
    n = a.numel()
    width = a.element_size()
    differing = int((_tensor_bits(a).reshape(n, width) != _tensor_bits(b).reshape(n, width)).any(dim=1).sum())
    detail = f"{differing} of {n} elements differ"
    if not (a.dtype.is_complex or a.dtype == torch.bool):  # a real number type: how far apart
        d = (a.detach().cpu().double() - b.detach().cpu().double()).abs()
        finite = d[torch.isfinite(d)]
        if finite.numel():
            detail += f", max abs diff {float(finite.max()):.6g}"
    return f"{_where(path)}: {detail}"


def diff_objects(a, b, path: str = "", excluded: frozenset[str] = frozenset()) -> str | None:
    """The first difference between two loaded objects (dicts, lists, tensors, plain values), walked in
    the base's key order; None when equal.  Dotted key paths in ``excluded`` are skipped."""
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return f"{_where(path)}: {type(a).__name__} in the base, {type(b).__name__} in the working tree"
        return _tensor_diff(path, a, b)
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return f"{_where(path)}: {type(a).__name__} in the base, {type(b).__name__} in the working tree"
        keys_a = [k for k in a if f"{path}.{k}".lstrip(".") not in excluded]
        keys_b = [k for k in b if f"{path}.{k}".lstrip(".") not in excluded]
        only_a, only_b = [k for k in keys_a if k not in b], [k for k in keys_b if k not in a]
        if only_a or only_b:
            parts = ([f"key(s) {', '.join(map(str, only_a))} only in the base"] if only_a else []) + \
                    ([f"key(s) {', '.join(map(str, only_b))} only in the working tree"] if only_b else [])
            return f"{_where(path)}: " + "; ".join(parts)
        for k in keys_a:
            why = diff_objects(a[k], b[k], f"{path}.{k}".lstrip("."), excluded)
            if why:
                return why
        return None
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        if type(a) is not type(b):
            return f"{_where(path)}: {type(a).__name__} in the base, {type(b).__name__} in the working tree"
        if len(a) != len(b):
            return f"{_where(path)}: {len(a)} items in the base, {len(b)} in the working tree"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            why = diff_objects(x, y, f"{path}[{i}]", excluded)
            if why:
                return why
        return None
    if _scalar_equal(a, b):
        return None
    extra = ""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        extra = f" (abs diff {abs(a - b):.6g})"
    return f"{_where(path)}: {a!r} in the base, {b!r} in the working tree{extra}"


def diff_npz(a: Path, b: Path) -> str | None:
    """Every array of two .npz files: the same names, dtypes, shapes and bytes."""
    import numpy as np

    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        only_a, only_b = sorted(set(x.files) - set(y.files)), sorted(set(y.files) - set(x.files))
        if only_a or only_b:
            return f"arrays {only_a} only in the base, {only_b} only in the working tree"
        for k in x.files:
            u, v = x[k], y[k]
            if u.dtype != v.dtype:
                return f"array {k}: dtype {u.dtype} in the base, {v.dtype} in the working tree"
            if u.shape != v.shape:
                return f"array {k}: shape {u.shape} in the base, {v.shape} in the working tree"
            if u.tobytes() != v.tobytes():
                detail = f"{int(np.count_nonzero(u != v))} of {u.size} elements differ"
                if np.issubdtype(u.dtype, np.number) and not np.issubdtype(u.dtype, np.complexfloating):
                    d = np.abs(u.astype(np.float64) - v.astype(np.float64))
                    d = d[np.isfinite(d)]
                    if d.size:
                        detail += f", max abs diff {float(d.max()):.6g}"
                return f"array {k}: {detail}"
    return None


def diff_torch(a: Path, b: Path) -> str | None:
    import torch

    return diff_objects(torch.load(a, map_location="cpu", weights_only=True),
                        torch.load(b, map_location="cpu", weights_only=True))


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def diff_history(a: Path, b: Path) -> str | None:
    """history.csv as text, cell by cell, but for the wall-clock columns (``HISTORY_TIME_RE``)."""
    x, y = _read_csv(a), _read_csv(b)
    if not x or not y:
        return None if x == y else "one of the files is empty"
    keep_a = [i for i, c in enumerate(x[0]) if not HISTORY_TIME_RE.search(c)]
    keep_b = [i for i, c in enumerate(y[0]) if not HISTORY_TIME_RE.search(c)]
    cols_a, cols_b = [x[0][i] for i in keep_a], [y[0][i] for i in keep_b]
    if cols_a != cols_b:
        return f"columns {cols_a} in the base, {cols_b} in the working tree"
    if len(x) != len(y):
        return f"{len(x) - 1} rows in the base, {len(y) - 1} in the working tree"
    for r, (ra, rb) in enumerate(zip(x[1:], y[1:], strict=True), 1):
        for col, i, j in zip(cols_a, keep_a, keep_b, strict=True):
            u, v = ra[i] if i < len(ra) else "", rb[j] if j < len(rb) else ""
            if u != v:
                where = f"epoch {ra[keep_a[0]]}" if cols_a[0] == "epoch" else f"row {r}"
                extra = ""
                try:
                    extra = f" (abs diff {abs(float(u) - float(v)):.6g})"
                except ValueError:
                    pass
                return f"{where}, column {col}: {u!r} in the base, {v!r} in the working tree{extra}"
    return None


def diff_meta(a: Path, b: Path) -> str | None:
    return diff_objects(json.loads(a.read_text()), json.loads(b.read_text()), excluded=META_EXCLUDED)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _epoch_order(rel: str):
    m = re.search(r"(\d+)", rel)
    return (int(m[1]) if m else -1, rel)


def compare_runs(base: Path, work: Path, hmm_name: str) -> str | None:
    """The first difference between the base's and the working tree's run folders (``hmm/<hmm>.npz``
    and ``model/``), as ``file: what``; None when they are identical."""
    why = diff_npz(base / "hmm" / f"{hmm_name}.npz", work / "hmm" / f"{hmm_name}.npz")
    if why:
        return f"hmm/{hmm_name}.npz: {why}"
    mb, mw = base / "model", work / "model"
    fb, fw = _files(mb), _files(mw)
    if fb != fw:
        only_b, only_w = sorted(set(fb) - set(fw)), sorted(set(fw) - set(fb))
        return f"model folder: files {only_b} only in the base, {only_w} only in the working tree"
    checkpoints = sorted((f for f in fb if f.startswith("checkpoints/") and f.endswith(".pt")), key=_epoch_order)
    order = [("history.csv", diff_history), *[(c, diff_torch) for c in checkpoints],
             ("model.pt", diff_torch), ("meta.json", diff_meta)]
    for rel, fn in order:
        if rel not in fb:
            return f"{rel}: written by neither tree"
        why = fn(mb / rel, mw / rel)
        if why:
            return f"{rel}: {why}"
    return None


# ---------------------------------------------------------------------- the runs
def _git(root: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, **kw)


def repo_root(cwd: Path) -> Path:
    r = _git(cwd, "rev-parse", "--show-toplevel")
    if r.returncode != 0:
        raise ReplayError(f"{cwd} is not in a git repository (a replay needs the base commit's history)")
    return Path(r.stdout.decode().strip())


def resolve_commit(root: Path, base: str) -> str:
    sha = rn.full_commit(root, base)
    if sha is None:
        raise ReplayError(f"--base {base}: no such commit in {root}")
    return sha


def extract_base(root: Path, commit: str, dest: Path) -> None:
    """The base commit's ``src/`` under ``dest`` (``git archive <commit> src | tar -x``)."""
    dest.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(root), "archive", commit, "src"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, capture_output=True, check=False)
    archive.stdout.close()
    err = archive.stderr.read().decode(errors="replace").strip()
    archive.stderr.close()
    if archive.wait() != 0 or tar.returncode != 0:
        why = (err or tar.stderr.decode(errors="replace").strip() or "no output").splitlines()[-1]
        raise ReplayError(f"cannot extract src/ of commit {commit[:12]}: {why}")
    if not (dest / "src" / "rnnhmm" / "__main__.py").is_file():
        raise ReplayError(f"commit {commit[:12]} has no src/rnnhmm/__main__.py (no `python -m rnnhmm` to run)")


def snapshot_work(root: Path, dest: Path) -> None:
    """A copy of the working tree's ``src/``, so that edits made while the replay runs are not mixed in."""
    shutil.copytree(root / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))


def _env(tree: Tree, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"PYTHONPATH": str(tree.src), "RNNHMM_PROGRESS": "0", "PYTHONHASHSEED": "0",
                "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
    return env


def check_imports(tree: Tree, threads: int, cwd: Path) -> None:
    """``python -m rnnhmm`` of this tree runs this tree's code (not an installed copy)."""
    r = subprocess.run([sys.executable, "-c", "import rnnhmm; print(rnnhmm.__file__)"], env=_env(tree, threads),
                       cwd=cwd, capture_output=True, text=True, check=False)
    where = Path(r.stdout.strip()).resolve() if r.returncode == 0 and r.stdout.strip() else None
    if where is None or not where.is_relative_to(tree.src.resolve()):
        raise ReplayError(f"the {tree.name}'s `import rnnhmm` does not load {tree.src} "
                          f"({where or (r.stderr.strip().splitlines() or ['no output'])[-1]})")


class StageFailed(RuntimeError):
    pass


def run_stage(tree: Tree, args: list[str], threads: int, cwd: Path) -> None:
    cmd = [sys.executable, "-m", "rnnhmm", *args]
    r = subprocess.run(cmd, env=_env(tree, threads), cwd=cwd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        lines = [x for x in r.stderr.splitlines() if x.strip()] or [x for x in r.stdout.splitlines() if x.strip()]
        raise StageFailed(f"`rnnhmm {args[0]}` of the {tree.name} failed (exit {r.returncode}): "
                          f"{lines[-1].strip() if lines else 'no output'}")


def replay_params(root: Path, preset: str, spec, epochs: int) -> tuple[dict, dict]:
    """The (hmm, train) --params of a model, built by the working tree's rnnhmm.config from its
    config.yaml as the rules build them, the training shortened to ``epochs`` with every epoch
    checkpointed."""
    from . import byhand, plan
    from . import config as configuration
    from .errors import UserError

    if plan.split_preset(preset)[1]:
        raise ReplayError(f"--preset {preset}: a control preset has no training to replay; give its base preset")
    try:
        cfg = byhand.load_config(str(root / "config.yaml"), preset)
        if spec.hmm not in cfg["hmms"]:
            raise ReplayError(f"model {spec.id}: HMM {spec.hmm!r} is not defined in {root / 'config.yaml'}")
        hmm_p = configuration.hmm_params(cfg, preset, spec.hmm)
        train_p = configuration.train_params(cfg, preset, spec)
    except UserError as err:
        raise ReplayError(str(err).splitlines()[0]) from None
    train_p["train"]["epochs"] = epochs
    train_p["train"]["checkpoint_epochs"] = list(range(1, epochs + 1))
    return hmm_p, train_p


def replay_model(spec, trees: tuple[Tree, Tree], params: tuple[dict, dict], threads: int, folder: Path) -> str | None:
    """Run both trees' stages for one model under ``folder``; the first difference or None."""
    hmm_p, train_p = (json.dumps(p, sort_keys=True) for p in params)
    outs = []
    for tree in trees:
        out = folder / ("base" if tree is trees[0] else "work")
        (out / "hmm").mkdir(parents=True)
        hmm_file = out / "hmm" / f"{spec.hmm}.npz"
        try:
            run_stage(tree, ["hmm", "--params", hmm_p, "--out", str(hmm_file)], threads, out)
            run_stage(tree, ["train", "--hmm-file", str(hmm_file), "--params", train_p,
                             "--out-dir", str(out / "model"), "--threads", str(threads)], threads, out)
        except StageFailed as err:
            if tree is trees[0]:
                raise ReplayError(f"{spec.id}: {err}") from None
            return str(err)
        outs.append(out)
    return compare_runs(outs[0], outs[1], spec.hmm)


# ---------------------------------------------------------------------- models and the record
def stamped_models(root: Path, commit: str, preset: str) -> list[str]:
    """The union of the models of every block (named blocks too) of ``STAMPED_DOCS`` whose stamp has
    ``commit`` and ``preset``, in order of appearance."""
    models: list[str] = []
    for rel in STAMPED_DOCS:
        path = root / rel
        if not path.is_file():
            continue
        names = [None, *re.findall(r"<!-- run-numbers:begin (\S+) -->", path.read_text(encoding="utf-8"))]
        for name in names:
            try:
                stamp, block = rn.read_stamp(path, name)
            except rn.RunNumbersError:
                continue  # a file without that block, or a block without a stamp
            if stamp.preset == preset and rn.full_commit(root, stamp.commit) == commit:
                models += [m for m in rn.block_models(block) if m not in models]
    return models


def record_rows(path: Path, rows: list[dict]) -> list[dict]:
    """Append ``rows`` to the record CSV (created with its header), atomically, leaving out a row whose
    (base_commit, numerics, preset, model) is there already; the rows added."""
    existing: list[dict] = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != rn.REPLAY_COLUMNS:
                raise ReplayError(f"{path}: columns {reader.fieldnames} are not {list(rn.REPLAY_COLUMNS)}")
            existing = list(reader)
    seen = {tuple(r[c] for c in rn.REPLAY_COLUMNS[:4]) for r in existing}
    added = []
    for r in rows:
        k = tuple(str(r[c]) for c in rn.REPLAY_COLUMNS[:4])
        if k not in seen:
            seen.add(k)
            added.append(r)
    if added:
        buf = _io.StringIO()
        w = csv.DictWriter(buf, fieldnames=rn.REPLAY_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(existing + added)
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        rn.write_atomic(path, buf.getvalue())
        if new:  # a new file gets the mode of any file written here, not the temporary file's 0600
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(path, 0o666 & ~umask)
    return added


# ---------------------------------------------------------------------- command line
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"replay: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = _Parser(prog=PROG, description="Prove that the working tree trains bit for bit like a base commit "
                                       "(the first N epochs of each model), and record it for rnnhmm.run_numbers.")
    p.add_argument("--base", required=True, help="the commit to compare with (a stamp's commit)")
    p.add_argument("--preset", required=True, help="the preset whose parameters the models train with")
    p.add_argument("--models", help="model ids, comma-separated (default: the models of the blocks of README.md, "
                                    "docs/reference-run.md and docs/claims.md stamped with --base and --preset)")
    p.add_argument("--epochs", type=positive_int, default=2, help="epochs to train (default: 2)")
    p.add_argument("--record", default=None, help=f"the record CSV (default: {rn.REPLAY_RECORD} of the repository)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch threads of every training (default: 1)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    a = p.parse_args(argv)
    tmp = None
    try:
        from . import plan

        root = repo_root(Path.cwd())
        here = Path(__file__).resolve().parent
        if here != (root / "src" / "rnnhmm").resolve():
            raise ReplayError(f"this rnnhmm is {here}, not the working tree's {root / 'src' / 'rnnhmm'}: run it with "
                              f"PYTHONPATH={root / 'src'}")
        commit = resolve_commit(root, a.base)
        if a.models is not None:
            models = [m.strip() for m in a.models.split(",") if m.strip()]
            if not models:
                raise ReplayError("--models lists no model")
        else:
            models = stamped_models(root, commit, a.preset)
            if not models:
                raise ReplayError(f"no run-numbers block of {', '.join(STAMPED_DOCS)} is stamped with commit "
                                  f"{commit[:12]} and preset {a.preset} (or it lists no model); give --models")
        try:
            specs = [plan.ModelSpec.from_id(m) for m in models]
        except ValueError as err:
            raise ReplayError(str(err)) from None
        record = Path(a.record) if a.record else root / rn.REPLAY_RECORD
        params = {s.id: replay_params(root, a.preset, s, a.epochs) for s in specs}

        tmp = Path(tempfile.mkdtemp(prefix="rnnhmm-replay-"))
        base, work = Tree(f"base tree ({commit[:12]})", tmp / "base"), Tree("working tree", tmp / "work")
        extract_base(root, commit, base.root)
        snapshot_work(root, work.root)
        numerics = rn.numerics_hash(work.root)  # of the code that is replayed, not of later edits
        for tree in (base, work):
            check_imports(tree, a.threads, tmp)
        print(f"replay: {len(specs)} model(s) of preset {a.preset}, {a.epochs} epoch(s), {a.threads} thread(s): "
              f"base {commit[:12]} (numerics {rn.numerics_hash(root, commit)}) against the working tree "
              f"(numerics {numerics})", file=sys.stderr, flush=True)
        differing = 0
        for s in specs:
            why = replay_model(s, (base, work), params[s.id], a.threads, tmp / "runs" / s.id)
            print(f"{s.id}: {'identical' if why is None else 'differs: ' + why}", flush=True)
            differing += why is not None
        if differing:
            print(f"replay: {differing} of {len(specs)} model(s) differ; nothing recorded", file=sys.stderr)
            return 1
        date = dt.datetime.now(dt.UTC).date().isoformat()
        command = f"{PROG} {shlex.join(argv)}"
        added = record_rows(record, [{"base_commit": commit, "numerics": numerics, "preset": a.preset, "model": s.id,
                                      "epochs": a.epochs, "date": date, "command": command} for s in specs])
        print(f"replay: {len(added)} row(s) added to {record}" + (f" ({len(specs) - len(added)} already there)"
                                                                  if len(added) < len(specs) else ""),
              file=sys.stderr)
        return 0
    except (ReplayError, rn.RunNumbersError, OSError) as err:
        print(f"replay: error: {err}", file=sys.stderr)
        return 2
    finally:
        if tmp is not None:
            if a.keep:
                print(f"replay: kept {tmp}", file=sys.stderr)
            else:
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
