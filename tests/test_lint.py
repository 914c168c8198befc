"""The code style the repository keeps: ruff on the Python code, snakefmt on the Snakefile and rules
(settings in pyproject.toml).  Both tools are test dependencies (`pip install -e ".[test]"`)."""

import shutil
import subprocess

import pytest

from conftest import REPO

PYTHON = ["src", "tests", "benchmarks", "docs/scripts"]
SNAKEMAKE = ["Snakefile", "workflow"]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; it is a test dependency: pip install -e \".[test]\"")
    return path


def test_ruff_is_clean():
    res = subprocess.run([tool("ruff"), "check", *PYTHON], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_snakefmt_is_clean():
    res = subprocess.run([tool("snakefmt"), "--check", *SNAKEMAKE], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:] + "\nfix with: snakefmt Snakefile workflow"


def test_snakefmt_check_fails_on_unformatted_rules(tmp_path):
    bad = tmp_path / "bad.smk"
    bad.write_text("rule a:\n    output: 'x'\n    shell: 'touch {output}'\n")
    res = subprocess.run([tool("snakefmt"), "--check", str(bad)], capture_output=True, text=True)
    assert res.returncode != 0
