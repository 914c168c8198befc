"""The planning/computing split (README, Layout): every import points downhill, a job's code inputs are
exactly the code its stage runs, each stage can be run by hand from config.yaml, and an edit or a
config change reruns what it changes and nothing else."""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, copy_of_smoke_run, copy_repo, snakemake
from rnnhmm import cli, codedeps

PACKAGE = REPO / "src" / "rnnhmm"


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def rel(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


# ---------------------------------------------------------------------- imports point downhill
def test_no_module_imports_the_cli():
    """cli.py is the top of the package: no module imports it (only __main__, which runs it)."""
    offenders = []
    for path in modules():
        if rel(path) in ("cli.py", "__main__.py"):
            continue
        for f in codedeps._imports(path):
            if f == PACKAGE / "cli.py":
                offenders.append(rel(path))
    assert offenders == []


def test_the_import_graph_has_no_cycle():
    """Module-level and function-level imports together form no cycle (a package's __init__ importing
    its own submodules is no cycle of the code)."""
    graph = {p: {f for f in codedeps._imports(p) if f != p and not (p.name == "__init__.py" and f.parent == p.parent)
                 and not (f.name == "__init__.py" and p.is_relative_to(f.parent))}
             for p in modules()}
    state: dict[Path, int] = {}
    cycle: list[str] = []

    def visit(node: Path, stack: list[Path]) -> bool:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend(rel(p) for p in stack[stack.index(nxt):] + [nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*stack, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert cycle == []


# ---------------------------------------------------------------------- code inputs
def stage_closure(stage: str, *extra: str) -> set[str]:
    files = set(codedeps.dependencies("cli.py")) | set(codedeps.dependencies(f"stages/{cli.STAGES[stage]}.py"))
    for m in extra:
        files |= set(codedeps.dependencies(m))
    return files


@pytest.mark.parametrize("stage", ["hmm", "floor", "train", "evaluate", "evaluate-summary", "control"])
def test_training_and_evaluation_do_not_depend_on_the_analyses_config_or_figures(stage):
    code = stage_closure(stage)
    assert not [f for f in code if f.startswith(("dynamics/", "figures/"))], code
    assert not {"config.py", "claims.py", "byhand.py", "report.py"} & code, code
    assert {"cli.py", f"stages/{cli.STAGES[stage]}.py", "io.py"} <= code


def test_the_training_closure_is_its_numerics_and_io():
    assert stage_closure("train") == {
        "__init__.py", "cli.py", "errors.py", "progress.py", "stages/__init__.py", "stages/train.py", "hmm.py",
        "io.py", "model.py", "rng.py", "sinkhorn.py", "train.py"}


def test_an_analysis_job_runs_its_own_analysis_only(tmp_path):
    """The analyze stage imports the named analysis alone (registry.load), so an analysis' code inputs
    hold no other analysis unless it imports it."""
    code = stage_closure("analyze", "dynamics/residency.py")
    assert "dynamics/residency.py" in code and "dynamics/orbits.py" not in code
    probe = ("import sys; from rnnhmm.dynamics import registry; registry.load('residency'); "
             "others = [m for m in registry.names() if m != 'residency' and f'rnnhmm.dynamics.{m}' in sys.modules]; "
             "print(others)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_analysis_imports_another():
    """Analyses share the machinery of rnnhmm.dynamics (simulate, regions, locate, ...), never each other's
    module, so editing one analysis reruns that analysis (and those declared after it) only."""
    from rnnhmm.plan import analyses

    names = set(analyses.names())
    for a in names:
        others = {Path(f).stem for f in codedeps.dependencies(f"dynamics/{a}.py")} & names - {a}
        assert others == set(), (a, others)


def test_the_cli_imports_only_the_stage_it_runs():
    probe = ("import sys; from rnnhmm import cli; cli.build_parser('train'); "
             "print(sorted(m for m in sys.modules if m.startswith('rnnhmm.stages.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['rnnhmm.stages.train']"


def test_analysis_names_are_found_without_importing_them():
    from rnnhmm.dynamics import registry

    assert registry.names() == list(registry.analyses())


# ---------------------------------------------------------------------- planning without the stack
BLOCKER = """import sys


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "matplotlib"):
            raise ImportError(f"{name} is blocked: planning must not import it")
        return None


sys.meta_path.insert(0, _Block())
"""


def test_planning_needs_neither_torch_nor_matplotlib(tmp_path):
    """`snakemake -n` parses the workflow and plans every preset with torch and matplotlib unimportable:
    analyses and figures are known from their declarations (rnnhmm.plan.analyses, rnnhmm.plan.figures)."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {"PYTHONPATH": str(blocker)}
    probe = subprocess.run([sys.executable, "-c", "import matplotlib"], env={**os.environ, **env},
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "blocked" in probe.stderr  # the blocker works
    work = copy_repo(tmp_path / "repo")
    for preset in ("smoke", "paper"):
        res = snakemake(work, "-n", "--config", f"preset={preset}", env=env, timeout=600)
        assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


def test_figure_declarations_read_without_importing_equal_the_modules():
    from rnnhmm import figures
    from rnnhmm.plan import figures as declared

    for name in figures.FIGURES:
        mod = figures.module(name)
        assert declared.reads(name) == declared.check_reads(name, mod.READS), name
        doc = inspect.getdoc(mod)
        assert declared.caption(name) == doc.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*"), name


# ---------------------------------------------------------------------- the CLI
@pytest.mark.parametrize("stage", list(cli.STAGES))
def test_every_option_of_every_stage_has_help(stage):
    parser = cli.build_parser(stage)
    sub = next(a for a in parser._actions if a.dest == "stage").choices[stage]
    undocumented = [a.option_strings or a.dest for a in sub._actions if not (a.help and a.help.strip())]
    assert undocumented == []


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "RNNHMM_PROGRESS": "0"}
    return subprocess.run([sys.executable, "-m", "rnnhmm.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


BAD_BY_HAND = [
    (["analyze", "residency", "--preset", "nosuch", "--model", "chain2_h150_d100_s0"],
     "--preset 'nosuch' is not a preset of config.yaml; defined: "),
    (["analyze", "residency", "--preset", "laptop", "--model", "chain2-150"],
     "model id 'chain2-150' is not of the form <hmm>_h<hidden>_d<dim>_s<seed>"),
    (["analyze", "residency", "--preset", "laptop", "--model", "chain2_h151_d100_s0"],
     "model chain2_h151_d100_s0 is not in the grid of preset 'laptop'; its models: "),
    (["analyze", "residency", "--preset", "laptop"], "'analyze' by hand needs --model"),
    (["analyze", "nosuch", "--preset", "laptop", "--model", "chain2_h150_d100_s0"], "unknown analysis 'nosuch'"),
    (["analyze", "residency", "--model", "chain2_h150_d100_s0"], "'analyze' needs --params, or --preset"),
    (["analyze", "residency", "--preset", "laptop", "--model", "chain2_h150_d100_s0", "--config", "nope.yaml"],
     "nope.yaml: config file not found"),
    (["hmm", "--preset", "laptop", "--hmm", "chain9"], "'hmm' by hand needs --hmm, one of the preset's HMMs: "),
    (["train", "--preset", "laptop-untrained", "--model", "chain2_h150_d100_s0"],
     "'train' runs on a trained preset, not the control preset 'laptop-untrained'"),
    (["train", "--params", "{}", "--hmm-file", "h.npz"], "--params of 'train' is missing required key(s)"),
    (["nosuchstage"], "argument <stage>: invalid choice: 'nosuchstage'"),
    (["train", "--threads", "0", "--preset", "laptop"], "argument --threads: 0 is out of range"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["info", "no/such/file.csv"], "no/such/file.csv: file not found"),
]


@pytest.mark.parametrize("argv, message", BAD_BY_HAND, ids=[" ".join(a)[:60] for a, _ in BAD_BY_HAND])
def test_every_cli_error_is_one_line_naming_the_problem(argv, message, tmp_path):
    res = run_cli(*argv, cwd=REPO)
    assert res.returncode == 2, res.stdout + res.stderr
    text = res.stdout + res.stderr
    assert "Traceback" not in text, text
    errors = [ln for ln in text.splitlines() if "error" in ln.lower()]
    assert len(errors) == 1, text
    assert message in errors[0], errors[0]


def test_train_params_a_rule_passes_equal_the_by_hand_ones(config):
    """`rnnhmm train --preset P --model ID` builds the slice with the function the rule uses."""
    from rnnhmm import byhand, plan
    from rnnhmm import config as slices

    class Args:
        stage, preset, model, config = "train", "laptop", "chain2_h150_d100_s0", str(REPO / "config.yaml")
        hmm_file = out_dir = None

    args = Args()
    p = byhand.params(args)
    valid = slices.validate({**copy.deepcopy(config), "preset": "laptop"})
    assert p == slices.train_params(valid, "laptop", plan.ModelSpec("chain2", 150, 100, 0))
    assert args.hmm_file == "results/laptop/hmm/chain2.npz"
    assert args.out_dir == "results/laptop/models/chain2/h150_d100/seed0"


# ---------------------------------------------------------------------- what an edit reruns
def planned(work: Path, *args: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job ``snakemake -n`` plans in ``work``."""
    res = snakemake(work, "-n", "--config", "preset=smoke", *args)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    jobs, rule = [], None
    for line in out.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if m:
            rule = m[1]
            jobs.append((rule, {}))
        elif line.strip().startswith("wildcards:") and rule:
            jobs[-1][1].update(kv.split("=", 1) for kv in line.split(":", 1)[1].strip().split(", "))
    return jobs


@pytest.fixture(scope="module")
def finished(smoke_run, tmp_path_factory):
    work = copy_of_smoke_run(smoke_run, tmp_path_factory, "edits")
    assert planned(work) == []
    return work


def edited(work: Path, relative: str):
    """Append a comment to a file (a real edit: Snakemake compares checksums of newer inputs); return a
    function that puts the content and the time stamp back."""
    path = work / relative
    text, st = path.read_text(), path.stat()
    path.write_text(text + "\n# an edit\n")

    def restore():
        path.write_text(text)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    return restore


@pytest.mark.workflow
def test_editing_the_simulator_reruns_analyses_figures_and_claims_only(finished):
    restore = edited(finished, "src/rnnhmm/dynamics/simulate.py")
    try:
        rules = {r for r, _ in planned(finished)}
    finally:
        restore()
    assert "analyze" in rules
    assert rules <= {"analyze", "figure", "claims", "report_pages", "all"}, rules


def figures_running(module: str) -> set[str]:
    """The figures whose code includes ``module`` (e.g. 'figures/panels_local.py')."""
    from rnnhmm import figures

    return {f for f in figures.FIGURES if module in stage_closure("figure", f"figures/{f}.py")}


def test_no_figure_imports_another():
    """Figures share panels through figures/panels_*.py, never another figure's module, so editing one
    figure module reruns that figure only."""
    from rnnhmm import figures

    for f in figures.FIGURES:
        assert figures_running(f"figures/{f}.py") == {f}, f
    assert figures_running("figures/panels_local.py") == {"fig4_local_dynamics", "fig10_compositional",
                                                          "figS6_local_dynamics_all"}


@pytest.mark.workflow
@pytest.mark.parametrize("figure", ["fig11_readout_alignment", "fig4_local_dynamics"])
def test_editing_one_figure_reruns_that_figure_and_the_report_only(finished, figure):
    restore = edited(finished, f"src/rnnhmm/figures/{figure}.py")
    try:
        jobs = planned(finished)
    finally:
        restore()
    assert {r for r, _ in jobs} == {"all", "figure", "report_pages"}, jobs
    assert [w["figure"] for r, w in jobs if r == "figure"] == [figure]


@pytest.mark.workflow
def test_changing_one_analysis_block_reruns_its_jobs_and_their_readers_only(finished):
    from rnnhmm import claims, figures

    cfg = yaml.safe_load((finished / "config.yaml").read_text())
    pcfg = cfg["presets"]["smoke"]
    orbits = dict(pcfg["analysis"].get("orbits", {}))
    orbits["grid"] = int(orbits.get("grid", 40)) + 1
    extra = finished / "orbits.yaml"
    extra.write_text(yaml.safe_dump({"presets": {"smoke": {"analysis": {"orbits": orbits}}}}))
    jobs = planned(finished, "--configfile", str(extra))
    extra.unlink()
    analysed = {w["analysis"] for r, w in jobs if r == "analyze"}
    assert analysed == {"orbits"}, jobs
    # every orbits job of the finished run (trained and control presets), and no other
    done = {(d.parts[-6], d.parts[-3], d.parts[-2], d.parts[-1])
            for d in finished.glob("results/*/analysis/orbits/*/*/*")}
    planned_jobs = {(w["preset"], w["hmm"], f"h{w['hidden']}_d{w['dim']}", f"seed{w['seed']}")
                    for r, w in jobs if r == "analyze"}
    assert done and planned_jobs == done, (planned_jobs, done)
    readers = {f for f in figures.FIGURES if any("/analysis/orbits/" in p for p in figures.needs(f, "smoke", pcfg))}
    assert {w["figure"] for r, w in jobs if r == "figure"} == readers
    reads_orbits = any("/analysis/orbits/" in p for p in claims.needs("smoke", pcfg, cfg["hmms"]))
    assert ("claims" in {r for r, _ in jobs}) == reads_orbits
    assert {r for r, _ in jobs} <= {"analyze", "figure", "claims", "report_pages", "all"}


@pytest.mark.workflow
def test_an_analysis_run_by_hand_writes_what_its_rule_wrote(finished, tmp_path):
    """`rnnhmm analyze residency --preset smoke --model <id>` in the run's folder: the same tables as the
    rule's job (the same slice, the same paths)."""
    from rnnhmm import plan

    cfg = yaml.safe_load((finished / "config.yaml").read_text())
    spec = plan.reference(cfg["presets"]["smoke"], "chain2")
    folder = finished / plan.analysis_dir("smoke", "residency", spec)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")
              and not p.name.endswith(".meta.json")}
    res = run_cli("analyze", "residency", "--preset", "smoke", "--model", spec.id, "--threads", "1", cwd=finished)
    try:
        assert res.returncode == 0, res.stderr[-3000:]
        after = {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")
                 and not p.name.endswith(".meta.json")}
        assert after == before
        assert "residency_states.parquet" in after
        side = json.loads((folder / "residency_states.parquet.meta.json").read_text())
        assert side["config"]["model"] == spec.fields()
    finally:
        # the by-hand run rewrote the folder's files (same bytes, newer): mark the run current again
        snakemake(finished, "--touch", "--cores", "1", "--config", "preset=smoke")
