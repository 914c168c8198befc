"""The README's run numbers (src/rnnhmm/run_numbers.py): the markdown of a synthetic run folder with
known answers, the repository README's stamp, the atomic rewrite and the --check mode."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rnnhmm import run_numbers as rn

REPO = Path(__file__).resolve().parents[1]
PRESET = "laptop"
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)


def bench(path: Path, s, max_rss):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{s}\t0:00:00\t{max_rss}\t2000.00\t300.00\t310.00\t0.10\t0.20\t90.00\t{s}\n")


def snakemake_log(path: Path, stamps: list[str], done: int, total: int, cores: int = 2):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["Assuming unrestricted shared filesystem usage.", "", "Building DAG of jobs...",
             f"Provided cores: {cores}", "Job stats:", "job      count", "-----  -------", f"total  {total}", ""]
    for i, st in enumerate(stamps):
        k = done * (i + 1) // len(stamps)  # the last stamp reports `done`
        lines += [f"[{st}]", "localrule train:", "    output: x", f"Finished jobid: {i} (Rule: train)",
                  f"{k} of {total} steps ({100 * k // total}%) done"]
    path.write_text("\n".join(lines) + "\n")


CLAIMS = pd.DataFrame([
    # claim, check, model, value, criterion, pass, source, and the newer columns
    ("C1", "matched_distance", "chain2_h8_d2_s0", 0.512345, "<= 1.25 x baseline (0.5) at T = 30", True, "e", True),
    ("C1", "matched_distance", "chain3_h8_d2_s0", 0.7, "<= 1.25 x baseline (0.52) at T = 50", True, "e", False),
    ("C1", "transmat_sse", "chain2_h8_d2_s0", 0.01312, "<= 0.01 at T = 30", False, "e", True),
    ("C1", "transmat_sse", "chain3_h8_d2_s0", 0.0036, "<= 0.01 at T = 30", True, "e", True),
    ("C5", "kick_group_found", "chain2_h8_d2_s0", math.nan, ">= 1 group", False, "k", None),
], columns=["claim", "check", "model", "value", "criterion", "pass", "source", "discriminates"])


@pytest.fixture
def run_dir(tmp_path):
    """A run folder: a git repository with the numerics files, claims.csv, benchmark files, logs."""
    run = tmp_path / "run"
    for i, rel in enumerate(rn.NUMERICS_FILES):
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text(f'"""numerics file {i}"""\nFILE = {i}\n')
    (run / "README.md").write_text(f"# t\n\nintro\n\n{rn.BEGIN}\nold numbers\n{rn.END}\n\n## after\ntext\n")
    git(run, "init", "-q")
    git(run, "add", ".")
    git(run, "commit", "-q", "-m", "sources")
    res = run / "results" / PRESET
    res.mkdir(parents=True)
    claims = CLAIMS.copy()
    claims["control_value"] = [0.9, 0.8, 0.1, 0.2, math.nan]  # an unknown extra column
    claims.to_csv(res / "claims.csv", index=False)
    bench(res / "benchmarks" / "train" / "chain2_h8_d2_s0.tsv", 100.5, 800.25)
    bench(res / "benchmarks" / "train" / "chain3_h8_d2_s0.tsv", 250.25, 1200.6)
    bench(res / "benchmarks" / "analysis" / "residency" / "chain2_h8_d2_s0.tsv", 10.0, "NA")
    logs = run / ".snakemake" / "log"
    # the run: 5 jobs from 21:50:12 to 22:19:00 (28 min 48 s)
    snakemake_log(logs / "2026-12-01T215010.000000.snakemake.log",
                  ["Tue Dec  1 21:50:12 2026", "Tue Dec  1 22:00:00 2026", "Tue Dec  1 22:19:00 2026"], 5, 5)
    # a later complete rerun of 2 jobs, and a still later run that failed: neither is the run
    snakemake_log(logs / "2026-12-02T090000.000000.snakemake.log",
                  ["Wed Dec  2 09:00:01 2026", "Wed Dec  2 09:00:09 2026"], 2, 2)
    snakemake_log(logs / "2026-12-03T090000.000000.snakemake.log",
                  ["Thu Dec  3 09:00:01 2026", "Thu Dec  3 11:00:09 2026"], 3, 5)
    return run


# ---------------------------------------------------------------------- (a) the markdown, known answers
def test_block_known_answers(run_dir):
    block = rn.run_numbers_block(run_dir, PRESET)
    lines = block.splitlines()
    sha = git(run_dir, "rev-parse", "HEAD").stdout.strip()
    assert lines[0] == f"<!-- run-numbers: preset=laptop commit={sha} numerics={rn.numerics_hash(run_dir)} -->"
    assert rn.STAMP_RE.fullmatch(lines[0])
    # the sentence: commit, date, cores, wall time of the first log, jobs, peak memory and its job
    sentence = next(line for line in lines if line.startswith("**The `laptop` run**"))
    assert f"commit `{sha[:7]}`" in sentence and "uncommitted" not in sentence
    assert "2026-12-01 on 2 cores" in sentence
    assert "**28 min 48 s** wall time, 5 jobs" in sentence
    assert "peak resident memory of one job 1201 MB (`train/chain3_h8_d2_s0`)" in sentence
    assert "`.snakemake/log/2026-12-01T215010.000000.snakemake.log`" in sentence
    # the per-stage table: train first, then the analyses, then the total
    assert "| train | 2 | 350.8 | chain3_h8_d2_s0 | 250.2 | 1201 |" in lines
    assert "| analysis/residency | 1 | 10.0 | chain2_h8_d2_s0 | 10.0 | NA |" in lines
    assert "| all of the above | 3 | 360.8 | chain3_h8_d2_s0 | 250.2 | 1201 |" in lines
    assert lines.index("| train | 2 | 350.8 | chain3_h8_d2_s0 | 250.2 | 1201 |") < \
        lines.index("| analysis/residency | 1 | 10.0 | chain2_h8_d2_s0 | 10.0 | NA |")
    # the claims: totals, per check passing / failing models with rounded values, the criterion
    assert "**3 of 5 checks pass**, 3 of 5 discriminate (every control fails them)." in block
    assert "models `<hmm>_h8_d2_s0`" in block
    assert "| claim | check | pass | discriminate | passing (value) | failing (value) | criterion |" in lines
    assert "| C1 | matched_distance | 2/2 | 1/2 | chain2 0.512, chain3 0.7 | — | <= 1.25 x baseline at T = … |" in lines
    assert "| C1 | transmat_sse | 1/2 | 2/2 | chain3 0.0036 | chain2 0.0131 | <= 0.01 at T = 30 |" in lines
    assert "| C5 | kick_group_found | 0/1 | 0/1 | — | chain2 NaN | >= 1 group |" in lines
    assert "control_value" not in block


def test_block_with_controls_counts_what_passes_and_discriminates(run_dir):
    claims = CLAIMS.copy()
    claims["controls"] = ["untrained iid", "untrained iid", "untrained iid", "untrained iid", "untrained"]
    claims["value_untrained"] = [2.0, 0.6, 0.5, 0.3, math.nan]
    claims["pass_untrained"] = [False, True, False, False, False]
    claims["value_iid"] = [1.0, 1.0, 0.3, 0.3, math.nan]
    claims["pass_iid"] = [False, False, False, False, False]
    claims["counts"] = claims["pass"] & claims["discriminates"].fillna(False).astype(bool)
    claims.to_csv(run_dir / "results" / PRESET / "claims.csv", index=False)
    lines = rn.run_numbers_block(run_dir, PRESET).splitlines()
    block = "\n".join(lines)
    assert "**3 of 5 checks pass**, 3 of 5 discriminate (every control fails them), **2 of 5 count**" in block
    assert ("| claim | check | pass | discriminate | count | controls failing | passing (value) | failing (value) "
            "| criterion |") in lines
    assert ("| C1 | matched_distance | 2/2 | 1/2 | 1/2 | untrained 1/2, iid 2/2 | chain2 0.512, chain3 0.7 | — "
            "| <= 1.25 x baseline at T = … |") in lines
    assert "| C5 | kick_group_found | 0/1 | 0/1 | 0/1 | untrained 1/1 | — | chain2 NaN | >= 1 group |" in lines


def test_controls_table_marks_each_value_pass_or_fail(run_dir):
    claims = CLAIMS.copy()
    claims["controls"] = ["untrained iid", "untrained iid", "untrained", "untrained", ""]
    claims["value_untrained"] = [2.0, 0.6, 0.5, 0.3, math.nan]
    claims["pass_untrained"] = [False, True, False, False, False]
    claims["value_iid"] = [1.0, 1.0, math.nan, math.nan, math.nan]
    claims["pass_iid"] = [False, False, False, False, False]
    lines = rn.controls_markdown(claims, PRESET)
    assert "| claim | check | trained | untrained | iid |" in lines
    assert "| C1 | matched_distance | chain2 0.512✓, chain3 0.7✓ | chain2 2✗, chain3 0.6✓ | chain2 1✗, chain3 1✗ |" in lines
    assert "| C1 | transmat_sse | chain2 0.0131✗, chain3 0.0036✓ | chain2 0.5✗, chain3 0.3✗ | — |" in lines
    assert "| C5 | kick_group_found | chain2 NaN✗ | — | — |" in lines
    claims.to_csv(run_dir / "results" / PRESET / "claims.csv", index=False)
    doc = run_dir / "claims.md"
    doc.write_text(f"# c\n\n{rn.BEGIN}\nold\n{rn.END}\n")
    assert rn.main(["--run-dir", str(run_dir), "--preset", PRESET, "--readme", str(run_dir / "README.md"),
                    "--claims-doc", str(doc)]) == 0
    text = doc.read_text()
    assert "old" not in text and "| C1 | matched_distance | chain2 0.512✓" in text and rn.STAMP_RE.search(text)
    assert rn.read_stamp(doc)[0] == rn.read_stamp(run_dir / "README.md")[0]


def test_named_blocks_of_one_file_are_written_and_checked_apart(run_dir):
    """A file with the numbers of two runs (docs/reference-run.md): --block writes one block and leaves
    the other; --check of each block reads its own stamp."""
    doc = run_dir / "reference-run.md"  # a file with two runs, as docs/ has
    begin, end = rn.markers("chain3")
    doc.write_text(f"# runs\n\n{rn.BEGIN}\nfirst run\n{rn.END}\n\nmiddle\n\n{begin}\nold\n{end}\n")
    assert rn.main(["--run-dir", str(run_dir), "--preset", PRESET, "--readme", str(doc), "--block", "chain3"]) == 0
    text = doc.read_text()
    assert "first run" in text and "old" not in text and "middle" in text
    assert rn.read_stamp(doc, "chain3")[0].preset == PRESET
    assert rn.main(["--check", "--readme", str(doc), "--block", "chain3"]) == 0
    assert rn.main(["--check", "--readme", str(doc)]) == 2  # the unnamed block has no stamp: one error line
    assert rn.main(["--run-dir", str(run_dir), "--preset", PRESET, "--readme", str(doc), "--block", "nope"]) == 2
    assert doc.read_text() == text  # a missing block changes nothing
    with pytest.raises(rn.RunNumbersError, match="letters, digits"):
        rn.markers("a b")


def test_block_without_discriminates_and_other_models(run_dir):
    claims = CLAIMS.drop(columns="discriminates")
    claims.loc[0, "model"] = "odd-model"
    claims.to_csv(run_dir / "results" / PRESET / "claims.csv", index=False)
    block = rn.run_numbers_block(run_dir, PRESET)
    assert "**3 of 5 checks pass**." in block and "discriminate" not in block
    assert "| C1 | matched_distance | 2/2 | odd-model 0.512, chain3_h8_d2_s0 0.7 |" in block


def test_log_choice_and_override(run_dir):
    info = rn.choose_log(run_dir)
    assert info.path.name.startswith("2026-12-01") and info.wall_s == 28 * 60 + 48 and info.total == 5
    # an equally long complete rerun later on is the newer whole run
    snakemake_log(run_dir / ".snakemake/log/2026-12-04T090000.000000.snakemake.log",
                  ["Fri Dec  4 09:00:00 2026", "Fri Dec  4 10:00:01 2026"], 5, 5)
    assert rn.choose_log(run_dir).path.name.startswith("2026-12-04")
    assert "**1 h 00 min 01 s** wall time" in rn.run_numbers_block(run_dir, PRESET)
    forced = rn.choose_log(run_dir, ".snakemake/log/2026-12-03T090000.000000.snakemake.log")
    assert (forced.done, forced.total, forced.complete) == (3, 5, False)
    block = rn.run_numbers_block(run_dir, PRESET, ".snakemake/log/2026-12-03T090000.000000.snakemake.log")
    assert "**2 h 00 min 08 s** wall time, 3 of 5 jobs (the run did not finish)" in block
    assert "given by hand (--log)" in block


def test_formatting():
    assert [rn.fmt_value(v) for v in (math.nan, 3.0, 0.0036, 0.99612, 10.76, 1234.5, "x")] == \
        ["NaN", "3", "0.0036", "0.996", "10.8", "1.23e+03", "x"]
    assert [rn.fmt_duration(s) for s in (7, 1724, 3600 + 62)] == ["7 s", "28 min 44 s", "1 h 01 min 02 s"]
    assert rn._criterion_head(["> cluster mean (0.1 (nested)); pooled over 3 states", "> cluster mean; pooled over 4 states",
                               "> cluster mean; pooled over 4 states"]) == "> cluster mean; pooled over …"
    assert rn._criterion_head(["a b", "c d", math.nan]) == "a b; c d"
    assert rn._criterion_head([math.nan, None]) == "—"


def test_numerics_hash(run_dir):
    h = rn.numerics_hash(run_dir)
    assert len(h) == 16 and h == rn.numerics_hash(run_dir, "HEAD")
    # prose and layout are not numerics: a new docstring, a comment, blank lines keep the hash
    (run_dir / "src/rnnhmm/sinkhorn.py").write_text('"""Reworded (docs/method.md)."""\n\n# a comment\nFILE  =  1\n')
    assert rn.numerics_hash(run_dir) == h and rn.changed_numerics_files(run_dir, "HEAD") == []
    (run_dir / "src/rnnhmm/sinkhorn.py").write_text('"""numerics file 1"""\nFILE = 1.5\n')
    assert rn.numerics_hash(run_dir) != h and rn.numerics_hash(run_dir, "HEAD") == h
    assert rn.changed_numerics_files(run_dir, "HEAD") == ["src/rnnhmm/sinkhorn.py"]
    # the file names are part of the hash: the same bytes under other names differ
    assert rn._digest([("a", b"x"), ("b", b"y")]) != rn._digest([("b", b"x"), ("a", b"y")])
    # a changed numerics file of the run shows in the sentence
    assert "with uncommitted changes to 1 tracked file(s)" in rn.run_numbers_block(run_dir, PRESET)


# ---------------------------------------------------------------------- (b) the repository README's stamp
def test_claims_doc_numbers_come_from_the_readmes_run():
    """docs/claims.md's table of what the controls scored is written with the README's block, from the
    same run: the same stamp."""
    assert rn.read_stamp(REPO / "docs" / "claims.md")[0] == rn.read_stamp(REPO / "README.md")[0]


# docs/claims.md holds the controls table of the README's run: its stamp is the README's (checked
# above) and it has no training table of its own for the replay record to match
STAMPED_DOCS = sorted(p.name for p in (REPO / "docs").glob("*.md")
                      if "<!-- run-numbers: preset=" in p.read_text() and p.name != "claims.md")


def test_the_docs_with_run_numbers_are_the_known_ones():
    """A document gaining a stamped block is checked below (the list is read from the docs)."""
    assert {"reference-run.md", "own-hmm.md"} <= set(STAMPED_DOCS)


@pytest.mark.parametrize("doc_name", STAMPED_DOCS)
def test_doc_run_blocks_are_current(doc_name):
    """Every block of a document in docs/ (docs/reference-run.md: one per reference run; docs/own-hmm.md:
    the worked example's run) comes from a commit of this history whose training code is today's."""
    if not (REPO / ".git").exists():
        pytest.skip("no .git: a source tree without history cannot say which commit the numbers are from")
    doc = REPO / "docs" / doc_name
    names = [None, *re.findall(r"<!-- run-numbers:begin (\S+) -->", doc.read_text())]
    for name in names:
        assert rn.stale_reason(doc, REPO, name=name) is None, name


def test_readme_stamp_is_current():
    if not (REPO / ".git").exists():
        pytest.skip("no .git: a source tree without history cannot say which commit the README's numbers are from")
    stamp, _ = rn.read_stamp(REPO / "README.md")
    fix = (f"run `snakemake --cores all` in a clean clone at HEAD, then in this repository: "
           f"{rn.regenerate_command(stamp.preset)}")
    r = subprocess.run(["git", "-C", str(REPO), "merge-base", "--is-ancestor", stamp.commit, "HEAD"],
                       capture_output=True, text=True)
    assert r.returncode == 0, (f"README.md's run numbers come from commit {stamp.commit}, which is not an ancestor "
                               f"of HEAD ({r.stderr.strip() or 'merge-base: no'}); {fix}")
    # the numerics files are the stamp's, or a replay proved that they train its models as they did
    # (rnnhmm.replay, docs/numerics-replay.csv)
    why = rn.stale_reason(REPO / "README.md", REPO)
    assert why is None, f"{why} (to regenerate, first run `snakemake --cores all` in a clean clone at HEAD)"


# ---------------------------------------------------------------------- (c) the rewrite
def test_rewrite_replaces_only_the_block(run_dir, capsys):
    readme = run_dir / "README.md"
    readme.chmod(0o640)
    assert rn.main(["--run-dir", str(run_dir), "--preset", PRESET, "--readme", str(readme)]) == 0
    text = readme.read_text()
    before, block, after = rn.split_readme(text, readme)
    assert before == f"# t\n\nintro\n\n{rn.BEGIN}" and after == f"{rn.END}\n\n## after\ntext\n"
    assert block.strip("\n") == rn.run_numbers_block(run_dir, PRESET) and "old numbers" not in block
    assert (readme.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in run_dir.iterdir() if p.name.startswith(".README")) == []
    assert rn.main(["--run-dir", str(run_dir), "--preset", PRESET, "--readme", str(readme)]) == 0
    assert "unchanged" in capsys.readouterr().out and readme.read_text() == text


def test_rewrite_is_atomic(run_dir, monkeypatch):
    readme = run_dir / "README.md"
    original = readme.read_bytes()
    seen = []

    def replace(src, dst):
        # the new text is complete in a temporary file beside the README, which is still the old one
        seen.append((Path(src).parent, Path(src).read_text(), Path(dst).read_bytes()))
        raise OSError("disk full")

    monkeypatch.setattr(rn.os, "replace", replace)
    assert rn.main(["--run-dir", str(run_dir), "--readme", str(readme)]) == 2
    (folder, new, old), = seen
    assert folder == readme.parent and old == original and rn.END in new and "**3 of 5 checks pass**" in new
    assert readme.read_bytes() == original
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("damage, message", [
    (lambda run: (run / "results/laptop/claims.csv").unlink(), "no claims table:"),
    (lambda run: [p.unlink() for p in (run / "results/laptop/benchmarks").rglob("*.tsv")], "no benchmark files:"),
    (lambda run: (run / "README.md").write_text("# t\nno markers\n"), "needs exactly one"),
    (lambda run: [p.unlink() for p in (run / ".snakemake/log").glob("2026-12-0[12]*")], "no Snakemake log in"),
    (lambda run: subprocess.run(["rm", "-rf", str(run / ".git")], check=True), "cannot read the run's commit"),
])
def test_errors_leave_the_readme_untouched(run_dir, capsys, damage, message):
    damage(run_dir)
    readme = run_dir / "README.md"
    before = readme.read_bytes()
    assert rn.main(["--run-dir", str(run_dir), "--preset", PRESET, "--readme", str(readme)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("run_numbers: error: ") and message in err
    assert readme.read_bytes() == before


def test_command_line_exit_code(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"{rn.BEGIN}\n{rn.END}\n")
    r = subprocess.run([sys.executable, "-m", "rnnhmm.run_numbers", "--run-dir", "/nonexistent/run",
                        "--readme", str(readme)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert r.returncode == 2 and r.stderr.strip() == "run_numbers: error: no run folder /nonexistent/run"


# ---------------------------------------------------------------------- (d) --check
def test_check_mode(run_dir, capsys):
    readme = str(run_dir / "README.md")
    assert rn.main(["--check", "--readme", readme]) == 2  # no stamp yet
    assert "no '<!-- run-numbers:" in capsys.readouterr().err
    assert rn.main(["--run-dir", str(run_dir), "--readme", readme]) == 0
    assert rn.main(["--check", "--readme", readme]) == 0
    assert rn.main(["--check", "--readme", readme, "--run-dir", str(run_dir)]) == 0
    capsys.readouterr()

    # a new run gives other numbers: the block differs from the run's
    bench(run_dir / "results/laptop/benchmarks/train/chain2_h8_d2_s0.tsv", 99.0, 800.25)
    assert rn.main(["--check", "--readme", readme, "--run-dir", str(run_dir)]) == 1
    assert "block differs from what" in capsys.readouterr().err

    # a numerics file changes (committed or not): stale, naming the file and the command
    (run_dir / "src/rnnhmm/train.py").write_text("LR_SCHEDULE = 'cosine'\n")
    assert rn.main(["--check", "--readme", readme]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "src/rnnhmm/train.py changed since commit" in err
    assert "regenerate: python -m rnnhmm.run_numbers --run-dir" in err and "--preset laptop" in err
    git(run_dir, "checkout", "-q", "--", "src/rnnhmm/train.py")
    assert rn.main(["--check", "--readme", readme]) == 0

    # the stamp's commit leaves the history (a branch rewritten): stale
    stamp, _ = rn.read_stamp(readme)
    git(run_dir, "checkout", "-q", "--orphan", "rewritten")
    git(run_dir, "commit", "-q", "-m", "history rewritten")
    assert rn.main(["--check", "--readme", readme]) == 1
    assert f"commit {stamp.commit[:12]} is not an ancestor of HEAD" in capsys.readouterr().err
    # a commit this repository never had
    text = Path(readme).read_text().replace(stamp.commit, "0" * 40)
    Path(readme).write_text(text)
    assert rn.main(["--check", "--readme", readme]) == 1
    assert "is not in the history of" in capsys.readouterr().err


def test_training_table_reports_the_excess_over_the_floor(run_dir):
    summary = run_dir / "results" / PRESET / "evaluate" / "summary"
    summary.mkdir(parents=True)
    pd.DataFrame([
        {"hmm": "chain2", "hidden": 8, "dim": 2, "seed": 0, "best_epoch": 7, "best_val_loss": 11.5,
         "final_val_loss": 12.25, "final_train_loss": 12.0, "n_epochs": 10, "val_floor": 12.0,
         "best_val_excess": -0.5, "final_val_excess": 0.25},
        {"hmm": "chain5", "hidden": 8, "dim": 2, "seed": 0, "best_epoch": math.nan, "best_val_loss": math.nan,
         "final_val_loss": math.nan, "final_train_loss": math.nan, "n_epochs": 0, "val_floor": 8.5,
         "best_val_excess": math.nan, "final_val_excess": math.nan},
    ]).to_csv(summary / "training.csv", index=False)
    lines = rn.run_numbers_block(run_dir, PRESET).splitlines()
    assert "| chain2_h8_d2_s0 | 10 | 7 | 11.5 | 12.2 | 12 | -0.5 | 0.25 |" in lines
    assert "| chain5_h8_d2_s0 | 0 | — | NaN | NaN | 8.5 | NaN | NaN |" in lines
    # without the summary the block says so instead of inventing a table
    (summary / "training.csv").unlink()
    assert any(line.startswith("No training summary in this run") for line in rn.run_numbers_block(run_dir, PRESET).splitlines())


def train_log(path: Path, threads: int = 1, finish_last: bool = True) -> Path:
    """A log of three trainings on 2 cores: chain2 10:00:00-10:30:00, chain3 10:00:00-10:10:00,
    chain4 10:10:00-10:25:00 (with a non-training job in between)."""
    def start(jobid, hmm, at):
        return [f"[Tue Dec  1 {at} 2026]", "localrule train:", "    input: x", "    output: y", f"    jobid: {jobid}",
                *([f"    threads: {threads}"] if threads > 1 else []),
                f"    wildcards: preset=laptop, hmm={hmm}, hidden=8, dim=2, seed=0", "    resources: tmpdir=/tmp"]

    def finish(jobid, rule, at):
        return [f"[Tue Dec  1 {at} 2026]", f"Finished jobid: {jobid} (Rule: {rule})"]

    lines = ["Provided cores: 2", *start(3, "chain2", "10:00:00"), *start(4, "chain3", "10:00:00"),
             *finish(4, "train", "10:10:00"), "[Tue Dec  1 10:10:00 2026]", "localrule figure:", "    jobid: 9",
             *start(5, "chain4", "10:10:00"), *finish(9, "figure", "10:11:00"), *finish(5, "train", "10:25:00"),
             *(finish(3, "train", "10:30:00") if finish_last else []), "5 of 5 steps (100%) done"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_training_phase_against_the_least_any_order_could_take(tmp_path):
    log = train_log(tmp_path / "a.log")
    jobs = rn.read_jobs(log)
    assert [(j.rule, j.jobid) for j in jobs] == [("train", 3), ("train", 4), ("figure", 9), ("train", 5)]
    assert [(j.end - j.start).total_seconds() for j in jobs if j.rule == "train"] == [1800, 600, 900]
    (line,) = rn.training_phase_markdown(rn.read_log(log))
    # phase 10:00-10:30; bound max(1800, 3300 / 2) = 1800 s: this order was the best possible
    assert "3 jobs, 2 at a time, started in the order chain2, chain3, chain4" in line
    assert "**30 min 00 s**, against 30 min 00 s" in line and "the longest, chain2, 30 min 00 s" in line
    assert "all 55 min 00 s spread over 2 slots" in line
    # two threads per training on two cores: one slot, the bound is the sum of the jobs
    (line,) = rn.training_phase_markdown(rn.read_log(train_log(tmp_path / "b.log", threads=2)))
    assert "1 at a time" in line and "against 55 min 00 s" in line
    # a training that never finished has no time: no line rather than a wrong one
    assert rn.training_phase_markdown(rn.read_log(train_log(tmp_path / "c.log", finish_last=False))) == []
