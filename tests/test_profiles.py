"""The profiles: `snakemake --profile slurm` resolves from the repository root, takes everything
site-specific from the environment, maps resources the plugin's way; the default profile stays local.

These are dry runs (no scheduler needed); tests/cluster/ submits to a real SLURM.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, copy_repo

SITE_VARS = ("RNNHMM_SLURM_PARTITION", "SBATCH_PARTITION", "RNNHMM_SLURM_ACCOUNT", "SBATCH_ACCOUNT")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("profiles") / "repo")


def dry_run(work: Path, *args: str, **env: str) -> str:
    """`snakemake --profile slurm -n …` with a clean site environment plus ``env``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RNNHMM_SLURM_") and k not in SITE_VARS}
    environ.update(env)
    res = subprocess.run(["snakemake", "--profile", "slurm", "-n", "--config", "preset=smoke", *args],
                         cwd=work, env=environ, capture_output=True, text=True, timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    return out


def resources_of(out: str, rule: str) -> list[str]:
    """The `resources:` line of every job of ``rule`` in a dry run's output."""
    blocks = re.split(r"\n\s*\n", out)
    return [re.search(r"resources: (.*)", b)[1] for b in blocks
            if re.search(rf"^\s*rule {rule}:", b, re.M) and "resources:" in b]


def test_literal_profile_name_resolves_from_the_repo_root(work):
    out = dry_run(work, RNNHMM_SLURM_PARTITION="gpu-short", RNNHMM_SLURM_ACCOUNT="lab42")
    assert "Using profiles slurm and workflow specific profile profiles/default" in out
    train = resources_of(out, "train")
    assert len(train) == 20, out[-2000:]
    for res in train:
        assert "slurm_partition=gpu-short" in res and "slurm_account=lab42" in res, res
        assert "gpu=1" in res, res  # one GPU per training, the plugin's `gpu` resource
        assert "mem_mb=1000" in res and "runtime=10" in res, res
    for rule in ("hmm", "evaluate", "analyze", "figure"):
        res = resources_of(out, rule)
        assert res, rule
        assert all("gpu=" not in r and "slurm_partition=gpu-short" in r for r in res), (rule, res)


def test_sbatch_variables_are_the_fallback_and_nothing_site_specific_is_built_in(work):
    out = dry_run(work, SBATCH_PARTITION="batch", SBATCH_ACCOUNT="proj7")
    assert all("slurm_partition=batch" in r and "slurm_account=proj7" in r for r in resources_of(out, "train"))
    bare = dry_run(work)
    for rule in ("hmm", "train", "evaluate", "analyze", "figure"):
        for res in resources_of(bare, rule):
            assert "slurm_partition" not in res and "slurm_account" not in res, (rule, res)


def test_cpu_only_clusters_ask_for_no_gpu(work):
    out = dry_run(work, RNNHMM_SLURM_GPUS="0")
    train = resources_of(out, "train")
    assert train and all("gpu" not in r for r in train), train


def test_small_jobs_are_bundled_into_few_submissions(work):
    one_each = dry_run(work)
    assert one_each.count("Group job train ") == 20  # default: one training per SLURM job
    bundled = dry_run(work, RNNHMM_SLURM_TRAIN_BUNDLE="10", RNNHMM_SLURM_BUNDLE="1000")
    assert bundled.count("Group job train ") == 2
    assert bundled.count("Group job prepare ") == 1
    assert bundled.count("Group job figures ") == 1


def test_resources_grow_with_each_attempt(work):
    """mem_mb and runtime of every rule double on the second attempt (the profile retries once)."""
    code = """
import json
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.iocontainers import Wildcards
from snakemake.settings.types import ConfigSettings, ResourceSettings
with SnakemakeApi() as api:
    wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                      config_settings=ConfigSettings(config={"preset": "smoke"}),
                      snakefile=Path("Snakefile"), workdir=Path("."))
    w = wf._workflow
    analysis = next(iter(w.globals["ANALYSES"]))
    figure = next(iter(w.globals["figures"].FIGURES))
    wc = dict(preset="smoke", hmm="chain2", hidden="16", dim="2", seed="0", analysis=analysis, figure=figure)
    out = {}
    for r in w.rules:
        if r.name == "all":
            continue
        wildcards = Wildcards(fromdict={k: wc[k] for k in r.wildcard_names})
        out[r.name] = [{k: r.expand_resources(wildcards, [], attempt)[k] for k in ("mem_mb", "runtime")}
                       for attempt in (1, 2)]
    print("RESOURCES " + json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, timeout=300)
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESOURCES ")]
    assert line, res.stdout[-2000:] + res.stderr[-3000:]
    found = json.loads(line[0].removeprefix("RESOURCES "))
    assert {"hmm", "train", "evaluate", "analyze", "figure"} <= set(found)
    for rule, (first, second) in found.items():
        assert first["mem_mb"] > 0 and first["runtime"] > 0, rule
        assert second == {k: 2 * v for k, v in first.items()}, (rule, first, second)


def test_slurm_profile_retries_and_has_no_absolute_paths():
    text = (REPO / "profiles/slurm/config.yaml").read_text()
    assert not re.search(r"(^|[\s:'\"])/(home|work|tmp|scratch|root|usr)\b", text)
    assert (REPO / "slurm").resolve() == (REPO / "profiles/slurm").resolve()


def test_default_profile_stays_local_and_leaves_default_resources_to_the_slurm_profile():
    """profiles/default is loaded as the workflow profile on every run, --profile slurm included;
    a `default-resources` there would silently replace the slurm profile's (Snakemake's rule)."""
    default = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    cluster_shaped = {"executor", "cores", "jobs", "default-resources", "set-resources", "groups", "group-components"}
    assert not cluster_shaped & set(default), cluster_shaped & set(default)


def test_the_slurm_executor_is_pinned_and_installed_as_pinned():
    """Snakemake and its SLURM plugins are dependencies (ranges in pyproject.toml) pinned in the tested
    set (envs/constraints.txt), and installed as pinned."""
    from importlib.metadata import version

    text = (REPO / "pyproject.toml").read_text()
    lock = (REPO / "envs" / "constraints.txt").read_text()
    for dist in ("snakemake", "snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep"):
        assert re.search(rf'"{re.escape(dist)}>=', text), f"{dist} is not a dependency in pyproject.toml"
        pin = re.search(rf"^{re.escape(dist)}==(\S+)$", lock, re.M)
        assert pin, f"{dist} is not pinned in envs/constraints.txt"
        assert version(dist) == pin[1], dist
