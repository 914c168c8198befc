"""The per-stage conda envs and the pip constraints: every rule names an env, every pin is exact, the
pins are what CI tested, and pyproject.toml's ranges admit them.

Conda channels cannot be reached where the tests run, so the envs are never built here; what can be
checked is that they describe the tested Python environment exactly, and that the mechanism that
makes the project's own package importable in a job (PYTHONPATH=src in each command) works without
the package being installed.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import REPO, copy_repo, dry_run_commands, snakemake

ENVS = REPO / "envs"
# conda-forge package name -> the distribution name of the same package in the tested environment
CONDA_TO_DIST = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
# conda-forge names that are wrong for these packages (their conda-forge name is on the right)
WRONG_CONDA_NAMES = {"torch": "pytorch", "matplotlib": "matplotlib-base", "yaml": "pyyaml"}
# name=version, or name=version=build (a build-string glob, e.g. pytorch's cpu* / cuda*)
EXACT_CONDA = re.compile(r"^([A-Za-z0-9_.\-]+)=([0-9][0-9A-Za-z.+]*)(?:=([A-Za-z0-9_.*]+))?$")
EXACT_PIP = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.+]*)$")


def env_files() -> list[Path]:
    return sorted(ENVS.glob("*.yaml"))


def pins(env: dict) -> list[tuple[str, str, str]]:
    """(kind, name, version) of every dependency; kind is 'conda' or 'pip'."""
    out = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                m = EXACT_PIP.match(spec)
                assert m, f"pip requirement not pinned exactly (name==version): {spec!r}"
                out.append(("pip", m[1], m[2]))
        else:
            m = EXACT_CONDA.match(dep)
            assert m, f"conda dependency not pinned exactly (name=version): {dep!r}"
            out.append(("conda", m[1], m[2]))
    return out


def version_under_test(name: str) -> str:
    if name == "python":
        return ".".join(map(str, sys.version_info[:3]))
    dist = CONDA_TO_DIST.get(name, name)
    try:
        return version(dist).split("+")[0]  # torch reports '2.13.0+cpu': the local tag is the build
    except PackageNotFoundError:
        pytest.fail(f"{name} is pinned in an env but not installed in the tested environment")


def test_there_is_one_env_per_stage():
    assert {p.stem for p in env_files()} >= {"hmm", "train", "evaluate", "analyze", "figures"}


@pytest.mark.parametrize("path", env_files(), ids=lambda p: p.name)
def test_env_is_conda_forge_only_and_pinned_exactly(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"], path.name
    found = pins(env)
    names = [n for _, n, _ in found]
    assert len(names) == len(set(names)), f"{path.name}: a package is listed twice"
    assert "python" in names, f"{path.name}: python itself must be pinned"
    for kind, name, _ in found:
        if kind == "conda":
            assert name not in WRONG_CONDA_NAMES, f"{path.name}: conda-forge calls {name} '{WRONG_CONDA_NAMES[name]}'"
    if any(kind == "pip" for kind, _, _ in found):
        assert "pip" in names, f"{path.name}: a pip section needs pip itself pinned"


@pytest.mark.parametrize("path", env_files(), ids=lambda p: p.name)
def test_env_pins_equal_the_tested_versions(path):
    """What the env would install is what the test suite ran with (so the envs describe CI)."""
    for _, name, pinned in pins(yaml.safe_load(path.read_text())):
        assert pinned == version_under_test(name), f"{path.name}: {name}={pinned}, tested with {version_under_test(name)}"


def constraints() -> dict[str, str]:
    """envs/constraints.txt as {canonical name: version}."""
    out = {}
    for line in (ENVS / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, ver = line.partition("==")
            assert ver, f"constraints.txt: not pinned exactly: {line!r}"
            out[canonicalize_name(name)] = ver
    return out


def write_constraints():
    """envs/write_constraints.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("write_constraints", ENVS / "write_constraints.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_env_pins_agree_with_the_constraints():
    """The envs and envs/constraints.txt name the same version of every package they share."""
    lock = constraints()
    for path in env_files():
        for _, name, pinned in pins(yaml.safe_load(path.read_text())):
            dist = canonicalize_name(CONDA_TO_DIST.get(name, name))
            if dist in lock:
                assert lock[dist] == pinned, f"{path.name}: {name}={pinned}, constraints.txt has {lock[dist]}"


def test_constraints_are_the_tested_set():
    """envs/constraints.txt is what the running environment has: rnnhmm[test] and everything it pulls in."""
    mod = write_constraints()
    assert (ENVS / "constraints.txt").read_text() == mod.render(), \
        "envs/constraints.txt differs from the tested environment: run python envs/write_constraints.py"
    lock = constraints()
    assert {"torch", "snakemake", "numpy", "tqdm", "pytest", "jinja2"} <= set(lock)  # direct and transitive
    assert lock["torch"] == "2.13.0"  # no local label: the CPU and the CUDA wheel of the release match


def test_the_install_without_test_extras_has_what_the_report_needs():
    """`snakemake --report` needs jinja2 and pygments; a plain `pip install -e .` must bring them."""
    mod = write_constraints()
    plain = mod.closure("rnnhmm")
    assert {"jinja2", "pygments", "snakemake", "torch", "tqdm"} <= set(plain)
    assert "pytest" not in plain  # the test tools come only with [test]


def test_pyproject_ranges_admit_the_tested_set():
    """Every dependency of pyproject.toml is a range (the style tools excepted: their output is their
    version's) that contains the pin in envs/constraints.txt, and Python is not capped."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    lock = constraints()
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is not in constraints.txt"
        assert req.specifier.contains(lock[name]), f"{req}: excludes the tested {lock[name]}"
        exact = any(s.operator == "==" for s in req.specifier)
        assert exact == (name in {"ruff", "snakefmt", "black"}), f"{req}: want a range"
        if not exact:
            assert any(s.operator in (">=", "~=") for s in req.specifier), f"{req}: no lower bound"


def test_train_envs_differ_only_in_the_pytorch_build():
    cpu, cuda = (yaml.safe_load((ENVS / f).read_text()) for f in ("train.yaml", "train-cuda.yaml"))
    assert [d for d in cpu["dependencies"] if not str(d).startswith("pytorch=")] == \
        [d for d in cuda["dependencies"] if not str(d).startswith("pytorch=")]
    builds = {}
    for path in env_files():
        for dep in yaml.safe_load(path.read_text())["dependencies"]:
            if isinstance(dep, str) and dep.startswith("pytorch="):
                builds[path.name] = EXACT_CONDA.match(dep)[3]
    assert builds.pop("train-cuda.yaml") == "cuda*"
    assert builds and set(builds.values()) == {"cpu*"}, builds  # every other stage runs on the CPU


def rule_envs(work: Path, env: dict | None = None) -> dict[str, str | None]:
    """rule name -> the conda env file it names (None when it has none), as Snakemake parses it
    (with ``env`` added to the environment)."""
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from snakemake.api import SnakemakeApi\n"
        "from snakemake.settings.types import ConfigSettings, ResourceSettings\n"
        "with SnakemakeApi() as api:\n"
        "    wf = api.workflow(resource_settings=ResourceSettings(cores=1),\n"
        "                      config_settings=ConfigSettings(config={'preset': 'smoke'}),\n"
        "                      snakefile=Path('Snakefile'), workdir=Path('.'))\n"
        "    out = {}\n"
        "    for r in wf._workflow.rules:\n"
        "        env = r.conda_env\n"
        "        out[r.name] = None if env is None else str(Path(str(r.snakefile)).parent / str(env))\n"
        "    print('RULE_ENVS ' + json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, timeout=300,
                         env={**os.environ, **(env or {})})
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RULE_ENVS ")]
    assert line, res.stdout[-2000:] + res.stderr[-3000:]
    return json.loads(line[0][len("RULE_ENVS "):])


def test_every_rule_with_a_command_names_an_existing_env(tmp_path):
    work = copy_repo(tmp_path / "repo")
    envs = rule_envs(work)
    jobs = {name: env for name, env in envs.items() if name != "all"}
    assert {"hmm", "train", "evaluate", "analyze", "figure"} <= set(jobs)
    for name, env in jobs.items():
        assert env is not None, f"rule {name} has no conda: directive"
        path = Path(env) if Path(env).is_absolute() else work / env
        assert path.resolve().parent == (work / "envs").resolve(), f"rule {name}: {env} is not in envs/"
        assert path.exists(), f"rule {name} names {env}, which does not exist"


def test_the_training_env_follows_the_requested_build(tmp_path):
    work = copy_repo(tmp_path / "repo")
    for build, file in (("", "train.yaml"), ("cpu", "train.yaml"), ("cuda", "train-cuda.yaml")):
        envs = rule_envs(work, {"RNNHMM_TRAIN_BUILD": build})
        assert Path(envs["train"]).name == file, build
        assert Path(envs["loss_floor"]).name == "train.yaml"  # only the training itself goes to a GPU
    res = snakemake(work, "-n", "--config", "preset=smoke", env={"RNNHMM_TRAIN_BUILD": "gpu"})
    assert res.returncode != 0
    assert "RNNHMM_TRAIN_BUILD='gpu': must be one of cpu, cuda" in res.stderr, res.stderr[-1000:]


def test_jobs_import_the_repository_package_without_it_being_installed(tmp_path):
    """Each rule's command starts with a relative PYTHONPATH=src, and that alone imports the package.

    A conda env holds the dependencies but not the project: `python -S` (no site-packages, so no
    editable install either) stands in for it here.
    """
    work = copy_repo(tmp_path / "repo")
    commands = [cmd for _, cmd in dry_run_commands(work)]
    assert commands
    for cmd in commands:
        assert cmd.startswith("PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} python -m rnnhmm.cli "), cmd
        assert str(tmp_path) not in cmd, f"an absolute path of the submit host reaches the job: {cmd}"
    probe = subprocess.run(
        ["bash", "-c", 'PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} python -S -c "import rnnhmm; print(rnnhmm.__file__)"'],
        cwd=work, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin:" + str(Path(sys.executable).parent)},
    )
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).resolve() == (work / "src/rnnhmm/__init__.py").resolve()
