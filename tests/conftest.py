import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def config_hmm(name: str):
    """The HMM ``name`` of the repository's config.yaml (an rnnhmm.hmm.HMM)."""
    from rnnhmm.hmm import build_hmm

    cfg = yaml.safe_load((REPO / "config.yaml").read_text())["hmms"][name]
    if "file" in cfg:
        from rnnhmm.hmm import read_hmm_spec

        return read_hmm_spec(REPO / cfg["file"], name)
    return build_hmm(name, cfg)


def copy_repo(dest: Path) -> Path:
    """A copy of the workflow (sources and config, no results) to run snakemake in isolation."""
    top_level = {"results", "figures", ".snakemake", ".git", "benchmarks"}
    anywhere = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache")

    def ignore(folder, names):
        skip = set(anywhere(folder, names))
        if Path(folder) == REPO:
            skip |= top_level & set(names)
        return skip

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def snakemake(workdir: Path, *args: str, timeout: int = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    """``snakemake *args`` in ``workdir`` (with ``env`` added to the environment)."""
    return subprocess.run(["snakemake", *args], cwd=workdir, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke preset run end to end in a copy of the workflow, once per test session:
    (working folder, completed process, wall time in s)."""
    work = copy_repo(tmp_path_factory.mktemp("smoke") / "repo")
    t0 = time.time()
    res = snakemake(work, "--cores", "all", "--config", "preset=smoke", timeout=1500)
    return work, res, time.time() - t0


def copy_of_smoke_run(smoke_run, tmp_path_factory, name: str) -> Path:
    """A copy of the finished smoke run (results included), for a test that changes or reruns parts of it."""
    work0, res0, _ = smoke_run
    assert res0.returncode == 0, res0.stderr[-3000:]
    work = tmp_path_factory.mktemp(name) / "repo"
    shutil.copytree(work0, work, symlinks=True)
    return work


CLI = "python -m rnnhmm.cli"


def dry_run_commands(work: Path, preset: str = "smoke") -> list[tuple[str, str]]:
    """(rule, shell command) of every job that calls the CLI, from ``snakemake -n -p --forceall``."""
    res = snakemake(work, "-n", "-p", "--forceall", "--config", f"preset={preset}")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    out, rule = [], None
    for line in (res.stdout + res.stderr).splitlines():
        s = line.strip()
        if s.startswith(("rule ", "localrule ")) and s.endswith(":"):
            rule = s.split()[1].rstrip(":")
        elif CLI in s and rule:
            out.append((rule, s.removeprefix("Shell command:").strip()))
    return out
