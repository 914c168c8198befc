"""The README's numbers of a run, written from the run's own files.

``python -m rnnhmm.run_numbers --run-dir DIR --preset laptop --readme README.md`` reads, in the
folder ``DIR`` where ``snakemake`` ran (a clone of this repository):

* ``results/<preset>/claims.csv``: one row per (claim, check, model) with at least the columns
  ``REQUIRED_CLAIM_COLUMNS``; a boolean ``discriminates`` column is reported when present, any other
  extra column is ignored;
* every ``benchmark:`` file under ``results/<preset>/benchmarks/`` (``train/<model>.tsv``,
  ``analysis/<analysis>/<model>.tsv``, any other folder likewise): the job's seconds ``s`` and peak
  resident memory ``max_rss`` (MB); a file with several rows (``repeat``) counts its mean time and
  its largest memory;
* the Snakemake log ``.snakemake/log/*.snakemake.log`` of the run: the wall time is the last minus
  the first ``[Tue Dec  1 21:50:12 2026]`` stamp of one log.  The log chosen is the one that ran
  the whole workflow: among the logs that reached ``N of N steps (100%) done``, the one with the
  most jobs, the newest of those (a later rerun of a few jobs is complete too, but it is not the
  time of the run); ``--log FILE`` picks one by hand;
* the run's commit, ``git -C DIR rev-parse HEAD``;

and replaces the text between ``BEGIN`` and ``END`` in the README with a markdown block: a stamp
``<!-- run-numbers: preset=… commit=<sha> numerics=<hash> -->``, a sentence with the commit, date,
wall time, jobs and peak memory, a per-stage time table and the claims table.  ``numerics`` is
``numerics_hash`` of the run folder: SHA-256 over the code of the files that set the training
numerics (``NUMERICS_FILES``; their comments and docstrings do not count).  ``--check`` exits 1 with one line when the stamp is stale (its commit is not
an ancestor of HEAD, or the numerics files changed since), which tests/test_run_numbers.py checks
for the repository's README and docs.  A file that holds the numbers of several runs (one block per
run: docs/reference-run.md) names its blocks, ``<!-- run-numbers:begin NAME -->`` …
``<!-- run-numbers:end NAME -->``, and ``--block NAME`` writes or checks one of them.  Every error is
one line and exit code 2, with the README untouched.

A change of the numerics files that leaves the training as it was (a refactoring, a new parameter
whose default is the old constant) keeps a stamp current without rerunning the run once it has been
*replayed*: ``python -m rnnhmm.replay --base <commit> --preset <preset>`` (rnnhmm.replay) trains each
model of the block for its first N epochs with the stamp's commit and with the working tree, from
the same parameters, and compares every output bit for bit: the HMM's data, the initial weights and
the noise they see, the losses, every Adam step (a checkpoint of each epoch), the end-of-training
choice of the best weights, the history and the meta file.  Only when all are identical does it add
a row per model to ``REPLAY_RECORD`` (base commit, numerics hash of the working tree, preset, model,
epochs), so a change that alters any number of those epochs can never get one.  A stamp whose
``numerics`` is not today's hash is current when that file has a row for the stamp's own commit,
today's hash and the stamp's preset for every model of its block (the first column of its training
table, ``block_models``; a block without that table cannot be made current this way).  Rows are
always against the stamp's commit, never chained through an intermediate one, and they prove the
first N epochs only: a change that acts from a later epoch on is not seen.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import hashlib
import math
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import plan

# the files whose code decides the training numerics (the order is part of the hash)
# (hmm.py and rng.py draw the training data and every random stream, so they count as well)
NUMERICS_FILES = ("src/rnnhmm/model.py", "src/rnnhmm/sinkhorn.py", "src/rnnhmm/train.py", "src/rnnhmm/hmm.py",
                  "src/rnnhmm/rng.py")

# the replays that prove a change of the numerics files leaves trainings bit for bit as they were
# (rnnhmm.replay writes it; relative to the repository root), and its columns in order
REPLAY_RECORD = "docs/numerics-replay.csv"
REPLAY_COLUMNS = ("base_commit", "numerics", "preset", "model", "epochs", "date", "command")

BEGIN = "<!-- run-numbers:begin -->"
END = "<!-- run-numbers:end -->"


def markers(block: str | None = None) -> tuple[str, str]:
    """The (begin, end) marker lines of a block: ``BEGIN``/``END``, or for a named block (a file that
    holds the numbers of several runs, e.g. docs/reference-run.md) ``<!-- run-numbers:begin NAME -->``."""
    if block is None:
        return BEGIN, END
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", block):
        raise RunNumbersError(f"block name {block!r}: letters, digits, '_', '.' and '-' only")
    return f"<!-- run-numbers:begin {block} -->", f"<!-- run-numbers:end {block} -->"

STAMP_RE = re.compile(r"<!-- run-numbers: preset=(?P<preset>\S+) commit=(?P<commit>[0-9a-f]{7,40}) "
                      r"numerics=(?P<numerics>[0-9a-f]+) -->")
REQUIRED_CLAIM_COLUMNS = ("claim", "check", "model", "value", "criterion", "pass")
# stages in pipeline order; a benchmark folder not named here comes after them, alphabetically
STAGE_ORDER = ("hmm", "train", "evaluate", "analysis", "figure", "claims")

_STAMP_LINE_RE = re.compile(r"^\[\w{3} (?P<mon>\w{3}) +(?P<day>\d{1,2}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) "
                            r"(?P<year>\d{4})\]\s*$")
_STEPS_RE = re.compile(r"^(?P<done>\d+) of (?P<total>\d+) steps \(\d+%\) done")
_CORES_RE = re.compile(r"^Provided cores: (?P<n>\d+)")
_RULE_RE = re.compile(r"^(local)?rule (?P<rule>\w+):$")
_JOB_FIELD_RE = re.compile(r"^ +(?P<field>jobid|threads|wildcards): (?P<value>.*)$")
_FINISHED_RE = re.compile(r"^Finished jobid: (?P<id>\d+) \(Rule: (?P<rule>\w+)\)")
_MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
_MODEL_RE = re.compile(r"^(?P<hmm>.+?)(?P<suffix>_h\d+_d\d+_s\d+)$")
_TRUE = {"true", "1", "yes", "t", "y"}


class RunNumbersError(RuntimeError):
    """A run folder or README that cannot give the numbers; the message is one line."""


def regenerate_command(preset: str = "laptop", readme: str = "README.md", block: str | None = None) -> str:
    return (f"python -m rnnhmm.run_numbers --run-dir <folder of a finished `snakemake --cores all` run at HEAD> "
            f"--preset {preset} --readme {readme}" + (f" --block {block}" if block else ""))


def replay_command(commit: str, preset: str) -> str:
    return f"python -m rnnhmm.replay --base {commit} --preset {preset}"


# ---------------------------------------------------------------------- git and the numerics hash
def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise RunNumbersError("git is not installed") from exc


def _digest(contents: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in contents:
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()[:16]


def code_of(data: bytes) -> bytes:
    """The code of a Python source without its comments, docstrings and layout: the ``ast.dump`` of
    the module with every docstring removed (a file that does not parse counts by its bytes).  Editing
    prose or formatting does not change a result, so it does not change the numerics hash."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return data
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def _numerics_sources(root: Path, commit: str | None) -> list[tuple[str, bytes]]:
    contents = []
    for rel in NUMERICS_FILES:
        if commit is None:
            try:
                contents.append((rel, (root / rel).read_bytes()))
            except OSError as exc:
                raise RunNumbersError(f"cannot read {root / rel}: {exc.strerror or exc}") from exc
        else:
            r = _git(root, "show", f"{commit}:{rel}")
            if r.returncode != 0:
                raise RunNumbersError(f"cannot read {rel} at commit {commit} in {root}: "
                                      f"{r.stderr.decode(errors='replace').strip()}")
            contents.append((rel, r.stdout))
    return contents


def numerics_hash(repo_root: str | os.PathLike, commit: str | None = None) -> str:
    """16 hex digits of SHA-256 over the names and code (``code_of``) of ``NUMERICS_FILES`` in that
    order: of the working tree under ``repo_root``, or of ``commit`` (``git show commit:file``)."""
    return _digest([(rel, code_of(data)) for rel, data in _numerics_sources(Path(repo_root), commit)])


def changed_numerics_files(repo: str | os.PathLike, commit: str) -> list[str]:
    """The files of ``NUMERICS_FILES`` whose working-tree code differs from ``commit``'s."""
    try:
        now, then = _numerics_sources(Path(repo), None), _numerics_sources(Path(repo), commit)
    except RunNumbersError:
        return []
    return [rel for (rel, a), (_, b) in zip(now, then, strict=True) if code_of(a) != code_of(b)]


def run_commit(run_dir: Path) -> str:
    r = _git(run_dir, "rev-parse", "--verify", "HEAD^{commit}")
    if r.returncode != 0:
        why = r.stderr.decode(errors="replace").strip().splitlines()
        raise RunNumbersError(f"cannot read the run's commit: `git -C {run_dir} rev-parse HEAD` failed "
                              f"({why[-1] if why else 'no output'})")
    return r.stdout.decode().strip()


def _dirty(run_dir: Path) -> list[str]:
    """Tracked files of the run folder that differ from its commit, Markdown files aside (a README
    being rewritten in the run folder itself changes no number)."""
    r = _git(run_dir, "status", "--porcelain", "--untracked-files=no")
    if r.returncode != 0:
        return []
    paths = [line[3:].split(" -> ")[-1] for line in r.stdout.decode(errors="replace").splitlines() if line.strip()]
    return [p for p in paths if not p.endswith(".md")]


# ---------------------------------------------------------------------- the Snakemake log
@dataclass(frozen=True)
class LogInfo:
    path: Path
    start: dt.datetime
    end: dt.datetime
    done: int
    total: int
    cores: int | None

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def wall_s(self) -> float:
        return (self.end - self.start).total_seconds()


def _stamp(m: re.Match) -> dt.datetime:
    """The time of a ``[Tue Dec  1 21:50:12 2026]`` job stamp matched by ``_STAMP_LINE_RE``."""
    return dt.datetime(int(m["year"]), _MONTHS[m["mon"]], int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"]))


def read_log(path: Path) -> LogInfo | None:
    """The stamps and step counts of one Snakemake log (None when it has no job stamp)."""
    stamps, done, total, cores = [], 0, 0, None
    for line in path.read_text(errors="replace").splitlines():
        m = _STAMP_LINE_RE.match(line)
        if m and m["mon"] in _MONTHS:
            stamps.append(_stamp(m))
            continue
        m = _STEPS_RE.match(line)
        if m:
            done, total = int(m["done"]), int(m["total"])
            continue
        m = _CORES_RE.match(line)
        if m:
            cores = int(m["n"])
    if not stamps:
        return None
    return LogInfo(path, stamps[0], stamps[-1], done, total, cores)


@dataclass(frozen=True)
class Job:
    rule: str
    jobid: int
    threads: int
    wildcards: str
    start: dt.datetime
    end: dt.datetime | None


def read_jobs(path: Path) -> list[Job]:
    """Every job of a Snakemake log, in the order it started: its rule, id, threads, wildcards, start
    stamp and the stamp of its ``Finished jobid`` line (None when it did not finish)."""
    jobs: dict[int, dict] = {}
    stamp, current = None, None
    for line in path.read_text(errors="replace").splitlines():
        m = _STAMP_LINE_RE.match(line)
        if m and m["mon"] in _MONTHS:
            stamp, current = _stamp(m), None
            continue
        m = _RULE_RE.match(line)
        if m and stamp is not None:
            current = {"rule": m["rule"], "start": stamp, "threads": 1, "wildcards": "", "end": None}
            continue
        m = _JOB_FIELD_RE.match(line)
        if m and current is not None:
            if m["field"] == "jobid":
                current["jobid"] = int(m["value"])
                jobs[current["jobid"]] = current
            elif m["field"] == "threads":
                current["threads"] = int(m["value"])
            else:
                current["wildcards"] = m["value"].strip()
            continue
        m = _FINISHED_RE.match(line)
        if m and int(m["id"]) in jobs and stamp is not None:
            jobs[int(m["id"])]["end"] = stamp
    return sorted((Job(**j) for j in jobs.values()), key=lambda j: j.start)  # stable: log order within a second


def training_phase_markdown(info: LogInfo) -> list[str]:
    """How long the run's trainings took against the least any job order could take: the first training
    start to the last training end, beside max(longest training, total training time / slots), where
    slots = cores // threads per training (each training's time from its start and finish stamps)."""
    jobs = [j for j in read_jobs(info.path) if j.rule == "train"]
    if len(jobs) < 2 or any(j.end is None for j in jobs) or not info.cores:
        return []  # one training is its own bound; an unfinished one has no time
    secs = [(j.end - j.start).total_seconds() for j in jobs]
    phase = (max(j.end for j in jobs) - min(j.start for j in jobs)).total_seconds()
    slots = max(1, info.cores // max(j.threads for j in jobs))
    bound = max(max(secs), sum(secs) / slots)
    names = [dict(kv.split("=", 1) for kv in j.wildcards.split(", ") if "=" in kv).get("hmm", str(j.jobid))
             for j in jobs]
    longest = names[secs.index(max(secs))]
    return [f"Trainings: {len(jobs)} jobs, {slots} at a time, started in the order {', '.join(names)} (the train "
            f"rule's priority: the costliest first); from the first start to the last finish "
            f"**{fmt_duration(phase)}**, against {fmt_duration(bound)}, the least any order of these jobs could take "
            f"(the longest, {longest}, {fmt_duration(max(secs))}, or all {fmt_duration(sum(secs))} spread over "
            f"{slots} slots, whichever is more; job times from the log's start and finish stamps)."]


def choose_log(run_dir: Path, log: str | os.PathLike | None = None) -> LogInfo:
    """The log of the whole run (see the module docstring), or ``log`` when given."""
    if log is not None:
        path = Path(log)
        if not path.is_absolute() and not path.exists():
            path = run_dir / path
        if not path.is_file():
            raise RunNumbersError(f"no Snakemake log {path}")
        info = read_log(path)
        if info is None:
            raise RunNumbersError(f"Snakemake log {path} has no job stamp ('[Tue Dec  1 21:50:12 2026]')")
        return info
    folder = run_dir / ".snakemake" / "log"
    paths = sorted(folder.glob("*.snakemake.log"))
    if not paths:
        raise RunNumbersError(f"no Snakemake log: {folder}/*.snakemake.log not found")
    complete = [i for i in (read_log(p) for p in paths) if i is not None and i.complete]
    if not complete:
        raise RunNumbersError(f"no Snakemake log in {folder} reached 'N of N steps (100%) done' "
                              f"(an unfinished or failed run); pass --log FILE to use one anyway")
    # most jobs first, then the newest (file names are Snakemake's start timestamps; ties by end stamp)
    return max(complete, key=lambda i: (i.total, i.end, i.path.name))


# ---------------------------------------------------------------------- benchmark files
def read_benchmarks(run_dir: Path, preset: str) -> pd.DataFrame:
    """One row per benchmark file: stage (its folder below benchmarks/), job (file stem), s, max_rss."""
    root = run_dir / "results" / preset / "benchmarks"
    files = sorted(root.rglob("*.tsv")) if root.is_dir() else []
    if not files:
        raise RunNumbersError(f"no benchmark files: {root}/**/*.tsv not found")
    rows = []
    for f in files:
        try:
            df = pd.read_csv(f, sep="\t", na_values=["NA", "-"])
        except (OSError, ValueError) as exc:
            raise RunNumbersError(f"cannot read benchmark file {f}: {exc}") from exc
        if "s" not in df.columns or df.empty:
            raise RunNumbersError(f"benchmark file {f} has no 's' column or no row")
        s = pd.to_numeric(df["s"], errors="coerce")
        rss = pd.to_numeric(df["max_rss"], errors="coerce") if "max_rss" in df.columns else pd.Series([math.nan])
        rows.append({"stage": f.parent.relative_to(root).as_posix(), "job": f.stem,
                     "s": float(s.mean()), "max_rss": float(rss.max()) if rss.notna().any() else math.nan})
    return pd.DataFrame(rows)


def _stage_key(stage: str):
    head = stage.split("/", 1)[0]
    return (STAGE_ORDER.index(head) if head in STAGE_ORDER else len(STAGE_ORDER), stage)


# ---------------------------------------------------------------------- formatting
def fmt_value(v) -> str:
    """A measured value, rounded to 3 significant digits; integers as integers; NaN as NaN."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.3g}"


def fmt_duration(seconds: float) -> str:
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min {s:02d} s"
    if m:
        return f"{m} min {s:02d} s"
    return f"{s} s"


def _mb(x: float) -> str:
    return "NA" if math.isnan(x) else f"{x:.0f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _truth(x) -> bool:
    """A boolean cell of a CSV: True/False, 1/0, yes/no; empty or NaN is False."""
    if isinstance(x, bool):
        return x
    if isinstance(x, str):
        return x.strip().lower() in _TRUE
    try:
        f = float(x)
    except (TypeError, ValueError):
        return False
    return math.isfinite(f) and f != 0


def _criterion_head(texts) -> str:
    """The criterion of a check's rows without their per-model details in parentheses; where the
    models still differ (a count, a T), the words they share followed by an ellipsis."""
    out = []
    for t in texts:
        t = "" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t)
        prev = None
        while prev != t:
            prev, t = t, re.sub(r"\s*\([^()]*\)", "", t)
        t = t.strip()
        if t and t not in out:
            out.append(t)
    if len(out) <= 1:
        return out[0] if out else "—"
    words = [t.split() for t in out]
    common = []
    for column in zip(*words, strict=False):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    return " ".join(common).rstrip(";,") + " …" if common else "; ".join(out)


# ---------------------------------------------------------------------- the block
def read_claims(run_dir: Path, preset: str) -> pd.DataFrame:
    path = run_dir / "results" / preset / "claims.csv"
    if not path.is_file():
        raise RunNumbersError(f"no claims table: {path} not found")
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise RunNumbersError(f"cannot read {path}: {exc}") from exc
    missing = [c for c in REQUIRED_CLAIM_COLUMNS if c not in df.columns]
    if missing:
        raise RunNumbersError(f"{path} lacks the column(s) {', '.join(missing)}")
    if df.empty:
        raise RunNumbersError(f"{path} has no row")
    return df


def _model_names(models) -> tuple[dict[str, str], str | None]:
    """Short names (the HMM) when every model id shares one ``_h{H}_d{d}_s{seed}`` suffix."""
    ids = [str(m) for m in models]
    matches = [_MODEL_RE.match(i) for i in ids]
    suffixes = {m["suffix"] for m in matches if m}
    if ids and all(matches) and len(suffixes) == 1:
        return {i: m["hmm"] for i, m in zip(ids, matches, strict=True)}, suffixes.pop()
    return {i: i for i in ids}, None


def _control_names(df: pd.DataFrame) -> list[str]:
    """The controls of a claims table with per-control columns (``value_<c>``/``pass_<c>``), in order."""
    return [c[len("pass_"):] for c in df.columns if c.startswith("pass_") and f"value_{c[len('pass_'):]}" in df.columns]


def claims_markdown(df: pd.DataFrame, preset: str) -> list[str]:
    """The totals line and the table: per (claim, check) the models that pass and fail, with values,
    and (for a table with controls) how many controls fail and how many rows count."""
    passed = df["pass"].map(_truth)
    has_disc = "discriminates" in df.columns
    disc = df["discriminates"].map(_truth) if has_disc else None
    has_counts = "counts" in df.columns
    counts = df["counts"].map(_truth) if has_counts else None
    controls = _control_names(df) if "controls" in df.columns else []
    names, suffix = _model_names(df["model"].unique())
    n, k = len(df), int(passed.sum())
    models = f"models `<hmm>{suffix}`" if suffix else "models as named in the table"
    total = f"**{k} of {n} checks pass**"
    if has_disc:
        total += f", {int(disc.sum())} of {n} discriminate (every control fails them)"
    if has_counts:
        total += f", **{int(counts.sum())} of {n} count** (pass and discriminate)"
    lines = [f"Claims (`results/{preset}/claims.csv`, a row per claim, check and model; {models}): {total}.", ""]
    head = ["claim", "check", "pass"] + (["discriminate"] if has_disc else []) + (["count"] if has_counts else []) \
        + (["controls failing"] if controls else []) + ["passing (value)", "failing (value)", "criterion"]
    numeric = ("pass", "discriminate", "count")
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if h in numeric else "---" for h in head) + "|"]

    def listing(rows):
        return ", ".join(f"{names[str(r.model)]} {fmt_value(r.value)}" for r in rows.itertuples()) or "—"

    def failing_controls(g) -> str:
        parts = []
        for c in controls:
            applies = g["controls"].fillna("").astype(str).str.split().map(lambda x, c=c: c in x)
            if applies.any():
                fails = ~g.loc[applies, f"pass_{c}"].map(_truth)
                parts.append(f"{c} {int(fails.sum())}/{int(applies.sum())}")
        return ", ".join(parts) or "none apply"

    for (claim, check), g in df.groupby(["claim", "check"], sort=False, dropna=False):
        ok = passed.loc[g.index]
        cells = [str(claim), str(check), f"{int(ok.sum())}/{len(g)}"]
        if has_disc:
            cells.append(f"{int(disc.loc[g.index].sum())}/{len(g)}")
        if has_counts:
            cells.append(f"{int(counts.loc[g.index].sum())}/{len(g)}")
        if controls:
            cells.append(failing_controls(g))
        cells += [listing(g[ok]), listing(g[~ok]), _criterion_head(g["criterion"])]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def controls_markdown(df: pd.DataFrame, preset: str) -> list[str]:
    """Per (claim, check): every model's value on the trained network and on each control, a value
    marked ✓ where it passes the criterion and ✗ where it fails ('—': the control does not apply)."""
    controls = _control_names(df)
    names, suffix = _model_names(df["model"].unique())
    models = f"models `<hmm>{suffix}`" if suffix else "models as named in the table"
    lines = [f"What the trained networks and their controls scored (`results/{preset}/claims.csv`, {models}; "
             "✓ passes the criterion, ✗ fails it; a check counts where the trained network passes and every "
             "control fails):", "",
             "| claim | check | trained | " + " | ".join(controls) + " |",
             "|---|---|---|" + "---|" * len(controls)]

    def cell(g, value_col, pass_col, control=None) -> str:
        out = []
        for r in g.to_dict("records"):
            if control is not None and control not in str(r.get("controls", "")).split():
                continue
            out.append(f"{names[str(r['model'])]} {fmt_value(r[value_col])}{'✓' if _truth(r[pass_col]) else '✗'}")
        return ", ".join(out) or "—"

    for (claim, check), g in df.groupby(["claim", "check"], sort=False, dropna=False):
        cells = [str(claim), str(check), cell(g, "value", "pass"),
                 *[cell(g, f"value_{c}", f"pass_{c}", c) for c in controls]]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def claims_doc_block(run_dir: str | os.PathLike, preset: str) -> str:
    """The block of docs/claims.md: the stamp and the controls table of the run's claims.csv."""
    run = Path(run_dir)
    claims = read_claims(run, preset)
    if not _control_names(claims):
        raise RunNumbersError(f"results/{preset}/claims.csv of {run} has no control columns")
    return "\n".join([stamp_line(preset, run_commit(run), numerics_hash(run)),
                      "<!-- written by `python -m rnnhmm.run_numbers --claims-doc`: regenerate it, do not edit it "
                      "by hand -->", "", *controls_markdown(claims, preset)])


def stages_markdown(bench: pd.DataFrame, preset: str) -> list[str]:
    lines = ["| stage | jobs | total s | longest job | longest s | peak max_rss MB |",
             "|---|---:|---:|---|---:|---:|"]

    def row(label, g):
        top = g.loc[g["s"].fillna(-1).idxmax()]
        return (f"| {_cell(label)} | {len(g)} | {g['s'].sum():.1f} | {_cell(top['job'])} | {top['s']:.1f} | "
                f"{_mb(g['max_rss'].max())} |")

    for stage in sorted(bench["stage"].unique(), key=_stage_key):
        lines.append(row(stage, bench[bench["stage"] == stage]))
    lines.append(row("all of the above", bench))
    lines += ["", f"Job seconds and memory: the `s` and `max_rss` columns of the `benchmark:` files under "
                  f"`results/{preset}/benchmarks/` (rules without one are not in the table); total s adds "
                  f"up the jobs' seconds, and jobs ran in parallel, so it can exceed the wall time."]
    return lines


def read_training(run_dir: Path, preset: str) -> pd.DataFrame | None:
    """The run's training summary (results/<preset>/evaluate/summary/training.csv), or None if absent."""
    path = run_dir / "results" / preset / "evaluate" / "summary" / "training.csv"
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise RunNumbersError(f"cannot read {path}: {exc}") from exc


def training_markdown(df: pd.DataFrame | None, preset: str) -> list[str]:
    """Per model: epochs, best epoch, best and final validation loss and their excess over the loss floor."""
    if df is None or df.empty:
        return [f"No training summary in this run (`results/{preset}/evaluate/summary/training.csv`)."]
    lines = ["| model | epochs | best epoch | best val | final val | val floor | best excess | final excess |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for model, (_, r) in zip(plan.table_ids(df), df.iterrows(), strict=True):
        cells = [fmt_value(r.get(c, math.nan)) for c in ("best_val_loss", "final_val_loss", "val_floor",
                                                          "best_val_excess", "final_val_excess")]
        best = "—" if pd.isna(r["best_epoch"]) else str(int(r["best_epoch"]))
        lines.append(f"| {model} | {int(r['n_epochs'])} | {best} | " + " | ".join(cells) + " |")
    lines += ["", "Validation losses are Sinkhorn divergences; the floor is the divergence between two independent "
                  "batches of the HMM at the training batch size (`rnnhmm.floor`, the loss of a perfect emulator), "
                  "and the excess is the loss minus the floor.  The floor is the HMM's own loss, not a lower bound: "
                  "at a finite batch an emitter that is not the HMM can score lower (docs/reference-run.md), so a "
                  "negative excess is not better emulation."]
    return lines


def stamp_line(preset: str, commit: str, numerics: str) -> str:
    return f"<!-- run-numbers: preset={preset} commit={commit} numerics={numerics} -->"


def run_numbers_block(run_dir: str | os.PathLike, preset: str, log: str | os.PathLike | None = None) -> str:
    """The markdown block of a run (the text between ``BEGIN`` and ``END``, stamp first)."""
    run = Path(run_dir)
    if not run.is_dir():
        raise RunNumbersError(f"no run folder {run}")
    claims = read_claims(run, preset)
    bench = read_benchmarks(run, preset)
    info = choose_log(run, log)
    commit = run_commit(run)
    numerics = numerics_hash(run)
    dirty = _dirty(run)
    peak = bench.loc[bench["max_rss"].fillna(-1).idxmax()]
    peak_text = ("unknown (no max_rss in the benchmark files)" if math.isnan(peak["max_rss"])
                 else f"{_mb(peak['max_rss'])} MB (`{peak['stage']}/{peak['job']}`)")
    where = f"commit `{commit[:7]}`" + (f" with uncommitted changes to {len(dirty)} tracked file(s)" if dirty else "")
    cores = f" on {info.cores} core{'s' if info.cores != 1 else ''}" if info.cores else ""
    jobs = f"{info.total} jobs" if info.complete else f"{info.done} of {info.total} jobs (the run did not finish)"
    log_rel = info.path.relative_to(run).as_posix() if info.path.is_relative_to(run) else str(info.path)
    chosen = ("given by hand (--log)" if log is not None
              else "the complete Snakemake log with the most jobs (the newest of those)")
    phase = training_phase_markdown(info)
    phase = [*phase, ""] if phase else []
    lines = [
        stamp_line(preset, commit, numerics),
        "<!-- written by `python -m rnnhmm.run_numbers`: regenerate it, do not edit it by hand -->",
        "",
        f"**The `{preset}` run** ({where}, {info.start:%Y-%m-%d}{cores}): **{fmt_duration(info.wall_s)}** "
        f"wall time, {jobs}, peak resident memory of one job {peak_text}.  Wall time: the first to the last "
        f"job stamp of `{log_rel}`, {chosen}.",
        "",
        *stages_markdown(bench, preset),
        "",
        *phase,
        *training_markdown(read_training(run, preset), preset),
        "",
        *claims_markdown(claims, preset),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- the README
def split_readme(text: str, readme: Path, block: str | None = None) -> tuple[str, str, str]:
    """(before the begin marker, the block, from the end marker on), each marker present exactly once
    and in order (``markers(block)``)."""
    begin, end = markers(block)
    nb, ne = text.count(begin), text.count(end)
    if nb != 1 or ne != 1:
        raise RunNumbersError(f"{readme} needs exactly one '{begin}' and one '{end}' line "
                              f"(found {nb} and {ne})")
    i, j = text.index(begin) + len(begin), text.index(end)
    if j < i:
        raise RunNumbersError(f"{readme}: '{end}' comes before '{begin}'")
    return text[:i], text[i:j], text[j:]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync, and rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_markers(readme: str | os.PathLike, block: str | None = None) -> tuple[str, str, str]:
    """``split_readme`` of the file ``readme``."""
    path = Path(readme)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunNumbersError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return split_readme(text, path, block)


def rewrite_readme(readme: str | os.PathLike, block: str, name: str | None = None) -> bool:
    """Put ``block`` between the markers (of the block ``name``) of ``readme``; False when it was already there."""
    path = Path(readme)
    before, old, after = read_markers(path, name)
    text = before + old + after
    new = before + "\n" + block.strip("\n") + "\n" + after
    if new == text:
        return False
    write_atomic(path, new)
    return True


@dataclass(frozen=True)
class Stamp:
    preset: str
    commit: str
    numerics: str


def read_stamp(readme: str | os.PathLike, name: str | None = None) -> tuple[Stamp, str]:
    """The stamp of the README's block (the block ``name``), and the block."""
    path = Path(readme)
    _, block, _ = read_markers(path, name)
    m = STAMP_RE.search(block)
    if not m:
        raise RunNumbersError(f"{path}: no '<!-- run-numbers: preset=… commit=… numerics=… -->' stamp between "
                              f"the markers")
    return Stamp(m["preset"], m["commit"], m["numerics"]), block


def block_models(block: str) -> list[str]:
    """The models of a block, in order: the first column of its per-model training table (the table
    whose header starts with ``| model |``), the rows that are model ids (``_MODEL_RE``)."""
    models: list[str] = []
    in_table = False
    for line in block.splitlines():
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        first = line.strip().strip("|").split("|")[0].strip()
        if first == "model":
            in_table = True
        elif in_table and _MODEL_RE.match(first) and first not in models:
            models.append(first)
    return models


def replay_rows(root: str | os.PathLike) -> set[tuple[str, str, str, str]]:
    """The (base_commit, numerics, preset, model) of every row of the repository's ``REPLAY_RECORD``
    (none when the file is absent)."""
    path = Path(root) / REPLAY_RECORD
    if not path.is_file():
        return set()
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REPLAY_COLUMNS[:4] if c not in (reader.fieldnames or [])]
            if missing:
                raise RunNumbersError(f"{path} lacks the column(s) {', '.join(missing)}")
            return {(r["base_commit"], r["numerics"], r["preset"], r["model"]) for r in reader}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RunNumbersError(f"cannot read {path}: {exc}") from exc


def full_commit(root: str | os.PathLike, commit: str) -> str | None:
    """The full sha of ``commit`` in the repository ``root`` (None when it has no such commit)."""
    r = _git(Path(root), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    return r.stdout.decode().strip() if r.returncode == 0 else None


def stale_reason(readme: str | os.PathLike, repo: str | os.PathLike | None = None,
                 run_dir: str | os.PathLike | None = None, log: str | os.PathLike | None = None,
                 name: str | None = None) -> str | None:
    """Why the README's block is stale (one line, with the command that regenerates it), or None.

    Stale: the stamp's commit is not an ancestor of the repository's HEAD, the files of
    ``NUMERICS_FILES`` differ from the stamp's hash and ``REPLAY_RECORD`` lacks a replay of some
    model of the block against the stamp's commit with today's hash and the stamp's preset (or the
    block lists no model), or (with ``run_dir``) the block differs from the one that run gives."""
    readme = Path(readme)
    stamp, block = read_stamp(readme, name)
    root = Path(repo) if repo is not None else repo_root(readme)
    fix = f"regenerate: {regenerate_command(stamp.preset, readme.name, name)}"
    r = _git(root, "merge-base", "--is-ancestor", stamp.commit, "HEAD")
    if r.returncode == 1:
        return f"{readme}: run-numbers commit {stamp.commit[:12]} is not an ancestor of HEAD; {fix}"
    if r.returncode != 0:
        why = r.stderr.decode(errors="replace").strip().splitlines()
        return (f"{readme}: run-numbers commit {stamp.commit[:12]} is not in the history of {root} "
                f"({why[-1] if why else 'git merge-base failed'}; a shallow clone needs `git fetch --unshallow`); {fix}")
    now = numerics_hash(root)
    if now != stamp.numerics:
        # current all the same when every model of the block was replayed bit for bit against the
        # stamp's own commit with today's numerics (rnnhmm.replay)
        commit = full_commit(root, stamp.commit) or stamp.commit
        models = block_models(block)
        rows = replay_rows(root)
        lacking = [m for m in models if (commit, now, stamp.preset, m) not in rows]
        if not models or lacking:
            what = ", ".join(changed_numerics_files(root, stamp.commit)) or "the numerics files"
            head = (f"{readme}: run-numbers stale: {what} changed since commit {stamp.commit[:12]} "
                    f"(numerics {stamp.numerics} in the stamp, {now} now)")
            if not models:
                return f"{head}, and the block lists no model a replay could cover; {fix}"
            return (f"{head}, and {REPLAY_RECORD} has no replay of {', '.join(lacking)} at these numerics; if "
                    f"the change leaves the training as it was, replay: {replay_command(commit, stamp.preset)}; "
                    f"else {fix}")
    if run_dir is not None:
        fresh = run_numbers_block(run_dir, stamp.preset, log)
        if block.strip("\n") != fresh.strip("\n"):
            return f"{readme}: run-numbers block differs from what {run_dir} gives; {fix}"
    return None


def repo_root(readme: Path) -> Path:
    folder = readme.resolve().parent
    r = _git(folder, "rev-parse", "--show-toplevel")
    return Path(r.stdout.decode().strip()) if r.returncode == 0 else folder


# ---------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnnhmm.run_numbers",
                                description="Write a run's claims table, timings and figures into the README "
                                            "between the run-numbers markers, or --check that they are current.")
    p.add_argument("--run-dir", help="the folder where `snakemake` ran (a clone of this repository)")
    p.add_argument("--preset", default="laptop", help="the run's preset (default: laptop)")
    p.add_argument("--readme", default="README.md", help="the README to rewrite (default: README.md)")
    p.add_argument("--log", help="the Snakemake log to time (default: see the module docstring)")
    p.add_argument("--repo", help="with --check: the repository whose HEAD and numerics files count "
                                  "(default: the one holding the README)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 with one line when the README's stamp is stale (and, with --run-dir, when the "
                        "block differs from the run's); change nothing")
    p.add_argument("--print", action="store_true", dest="print_only", help="print the block, change nothing")
    p.add_argument("--block", help="the named block to write or check (<!-- run-numbers:begin NAME -->), for a "
                                   "file that holds several runs (docs/reference-run.md); default: the one block")
    p.add_argument("--claims-doc", help="also write the controls table into this file's run-numbers markers "
                                        "(docs/claims.md)")
    a = p.parse_args(argv)
    try:
        if a.check:
            why = stale_reason(a.readme, a.repo, a.run_dir, a.log, a.block)
            if why:
                print(why, file=sys.stderr)
                return 1
            print(f"{a.readme}: run-numbers current")
            return 0
        if not a.run_dir:
            raise RunNumbersError("--run-dir is required (unless --check)")
        if not a.print_only:
            read_markers(a.readme, a.block)  # a README without markers fails before the work
        block = run_numbers_block(a.run_dir, a.preset, a.log)
        if a.print_only:
            print(block)
            return 0
        doc = claims_doc_block(a.run_dir, a.preset) if a.claims_doc else None
        if a.claims_doc:
            read_markers(a.claims_doc)
        changed = rewrite_readme(a.readme, block, a.block)
        print(f"{a.readme}: run-numbers {'rewritten' if changed else 'unchanged'} from {a.run_dir}")
        if doc is not None:
            changed = rewrite_readme(a.claims_doc, doc)
            print(f"{a.claims_doc}: run-numbers {'rewritten' if changed else 'unchanged'} from {a.run_dir}")
        return 0
    except RunNumbersError as exc:
        print(f"run_numbers: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"run_numbers: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
