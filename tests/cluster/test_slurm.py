"""The workflow on a real SLURM: a one-node cluster brought up by tests/cluster/local-slurm.sh (Debian's
slurm-wlm, munge, MariaDB + slurmdbd), the smoke preset submitted with the users' command
`snakemake --profile slurm`, and a failing rule that must make snakemake exit non-zero.

Needs root and apt-get (CI has both); skipped with the reason otherwise.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, copy_repo
from rnnhmm import figures

pytestmark = pytest.mark.cluster

CLUSTER = REPO / "tests/cluster/local-slurm.sh"
SACCT_FIELDS = ["JobID", "JobName", "State", "ExitCode", "ReqMem", "Timelimit", "AllocTRES", "Comment", "WorkDir"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The site settings a user exports (README, "Cluster"), here for the CI cluster: its partition and
# account, a first status check after 2 s instead of 40 s, and bundles sized so that two SLURM jobs
# keep the node's two cores busy.
CI_SITE = {
    "RNNHMM_SLURM_PARTITION": "debug",
    "RNNHMM_SLURM_ACCOUNT": "root",
    "RNNHMM_SLURM_GPUS": "1",
    "RNNHMM_SLURM_TRAIN_BUNDLE": "3",
    "RNNHMM_SLURM_BUNDLE": "15",
    "RNNHMM_SLURM_FIRST_CHECK_S": "2",
    # the one node has os.cpu_count() CPUs: a bundle asking for more would pend forever
    "RNNHMM_SLURM_CORES": str(os.cpu_count() or 1),
}
SMOKE_LIMIT_S = 2700  # the smoke run is killed (SIGKILL) after this
# The smoke workflow through SLURM on two of its HMMs, the ones with control networks: every rule, stage
# group and figure is exercised, at a third of the jobs (the whole smoke DAG through the one-node
# cluster took 29 min on 2 cores, 2026-12-02; the local smoke run covers the other HMMs).
SLURM_GRID = [{"hmms": ["chain2"], "hidden": [16], "dim": [2, 4], "seeds": [0, 1]},
              {"hmms": ["fully3"], "hidden": [16], "dim": [4], "seeds": [0, 1]}]
N_TRAININGS = 6


def why_not_here() -> str | None:
    if not Path("/etc/debian_version").exists():
        return "the local SLURM cluster is set up from Debian packages; this is not Debian"
    if os.geteuid() != 0:
        return "bringing up SLURM needs root (it installs packages and starts munged, slurmdbd, slurmctld, slurmd)"
    if not (shutil.which("apt-get") or shutil.which("slurmctld")):
        return "neither apt-get nor an installed slurmctld"
    return None


def daemons_running() -> bool:
    res = subprocess.run(["bash", str(CLUSTER), "status"], capture_output=True, text=True)
    return "slurmctld running" in res.stdout and "slurmd running" in res.stdout


@pytest.fixture(scope="session")
def slurm():
    """A running one-node cluster; torn down afterwards unless it was already running before."""
    reason = why_not_here()
    if reason:
        pytest.skip(reason)
    was_running = daemons_running()
    t0 = time.time()
    res = subprocess.run(["bash", str(CLUSTER), "up"], capture_output=True, text=True, timeout=900,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, f"cluster bring-up failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    print(f"SLURM up in {time.time() - t0:.1f} s")
    yield
    if not was_running:
        subprocess.run(["bash", str(CLUSTER), "down"], capture_output=True, timeout=300)


def run_snakemake(work: Path, args: list[str], limit_s: int, env: dict) -> subprocess.CompletedProcess:
    """snakemake bounded by SIGKILL (the plugin can wait forever on a status it never gets)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RNNHMM_SLURM_", "SBATCH_", "SLURM_"))}
    environ.update(env)
    try:
        return subprocess.run(["timeout", "-s", "KILL", str(limit_s), "snakemake", *args], cwd=work, env=environ,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
    finally:
        cancel_jobs_of(work)


def cancel_jobs_of(work: Path) -> None:
    """scancel whatever this run left queued or running (only jobs whose work dir is ``work``)."""
    res = subprocess.run(["squeue", "-h", "-o", "%i|%Z"], capture_output=True, text=True)
    ids = [line.split("|")[0] for line in res.stdout.splitlines() if line.split("|")[-1] == str(work)]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True)


def sacct_jobs(work: Path, since: str) -> list[dict]:
    """The accounting records of the jobs submitted from ``work`` (waits out sacct's lag of a few s)."""
    rows: list[dict] = []
    for _ in range(60):
        res = subprocess.run(["sacct", "-X", "-P", "-n", "-S", since, "-o", ",".join(SACCT_FIELDS)],
                             capture_output=True, text=True, check=True)
        rows = [dict(zip(SACCT_FIELDS, line.split("|"), strict=True)) for line in res.stdout.splitlines()]
        rows = [r for r in rows if r["WorkDir"] == str(work)]
        if rows and not any(r["State"] in ("PENDING", "RUNNING", "COMPLETING") for r in rows):
            break
        time.sleep(1)
    return rows


def sacct_table(rows: list[dict]) -> str:
    cols = [c for c in SACCT_FIELDS if c != "WorkDir"]
    return "\n".join(" | ".join(r[c] for c in cols) for r in [dict(zip(cols, cols, strict=True)), *rows])


def since() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))


@pytest.fixture(scope="module")
def smoke_on_slurm(slurm, tmp_path_factory):
    work = copy_repo(tmp_path_factory.mktemp("slurm") / "repo")
    (work / "slurm-grid.yaml").write_text(json.dumps({"presets": {"smoke": {"grid": SLURM_GRID}}}))
    start, t0 = since(), time.time()
    # the users' command, with the smaller grid on top; what is site-specific comes from the environment
    res = run_snakemake(work, ["--profile", "slurm", "--configfile", "slurm-grid.yaml", "--config", "preset=smoke"],
                        SMOKE_LIMIT_S, CI_SITE)
    wall = time.time() - t0
    rows = sacct_jobs(work, start)
    print(f"smoke workflow through SLURM: {wall:.0f} s wall, {len(rows)} SLURM jobs\n{sacct_table(rows)}")
    return work, res, wall, rows


def test_smoke_workflow_runs_through_slurm_and_renders_every_figure(smoke_on_slurm):
    work, res, wall, rows = smoke_on_slurm
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"rc={res.returncode} after {wall:.0f} s\n{out[-6000:]}"
    assert "100%) done" in out
    for name in figures.FIGURES:
        assert (work / f"figures/smoke/{name}.pdf").read_bytes()[:5] == b"%PDF-", name
        assert (work / f"figures/smoke/{name}.png").read_bytes()[:8] == PNG_MAGIC, name
    assert not (work / ".snakemake/incomplete").exists() or not any((work / ".snakemake/incomplete").iterdir())


def test_every_job_went_through_slurm_and_completed(smoke_on_slurm):
    work, res, _, rows = smoke_on_slurm
    assert res.returncode == 0
    table = sacct_table(rows)
    # bundles: hmm (1) -> trainings (2 of 3) -> evaluations and analyses (several) -> figures
    assert len(rows) >= 5, table
    assert all(r["State"] == "COMPLETED" and r["ExitCode"] == "0:0" for r in rows), table
    assert all(r["JobName"] == rows[0]["JobName"] for r in rows), "one SLURM run id names all jobs"
    stages = {r["Comment"].removeprefix("rule_").split("_")[0] for r in rows}
    assert {"prepare", "train", "post", "figures"} <= stages, table
    # the plugin deletes the SLURM logs of successful jobs; the rules' own logs stay, one per job
    assert len(list((work / "results/smoke/logs/train").glob("*.log"))) == N_TRAININGS
    assert len(list((work / "results/smoke/logs/figures").glob("*.log"))) == len(figures.FIGURES)


def test_trainings_got_a_gpu_from_slurm_and_fell_back_to_the_cpu(smoke_on_slurm):
    """The CI node advertises stand-in GPUs: SLURM allocates one per training, torch finds no CUDA."""
    work, res, _, rows = smoke_on_slurm
    assert res.returncode == 0
    train = [r for r in rows if r["Comment"].removeprefix("rule_").startswith("train")]
    # two bundles of 3 trainings, run one after another inside each: one GPU, one core, and the
    # sum of the 3 runtimes (10 min each at smoke scale) as the time limit
    assert len(train) == 2, sacct_table(rows)
    for r in train:
        assert "gres/gpu=1" in r["AllocTRES"] and "cpu=1," in r["AllocTRES"], sacct_table(rows)
        assert r["Timelimit"] == "00:30:00", sacct_table(rows)
    others = [r for r in rows if r not in train]
    assert others and all("gres/gpu" not in r["AllocTRES"] for r in others), sacct_table(rows)
    metas = list((work / "results/smoke/models").rglob("meta.json"))
    assert len(metas) == N_TRAININGS
    assert {json.loads(p.read_text()).get("device") for p in metas} == {"cpu"}


FAILING_SNAKEFILE = """
rule all:
    input: "ok.txt", "fails.txt"

rule ok:
    output: "ok.txt"
    resources: mem_mb=lambda w, attempt: 300 * attempt, runtime=lambda w, attempt: 2 * attempt
    shell: "echo ok > {output}"

rule fails:
    output: "fails.txt"
    resources: mem_mb=lambda w, attempt: 300 * attempt, runtime=lambda w, attempt: 2 * attempt
    shell: "echo this rule fails on purpose >&2; exit 3"
"""


def test_a_failing_rule_fails_the_run_after_a_retry_with_more_resources(slurm, tmp_path):
    work = tmp_path / "failing"
    work.mkdir()
    (work / "Snakefile").write_text(FAILING_SNAKEFILE)
    start = since()
    res = run_snakemake(work, ["--profile", str(REPO / "profiles/slurm")], 300, CI_SITE)
    out = res.stdout + res.stderr
    assert res.returncode not in (0, -9, 137), f"rc={res.returncode}\n{out[-4000:]}"
    assert (work / "ok.txt").read_text() == "ok\n"
    assert not (work / "fails.txt").exists()
    rows = sacct_jobs(work, start)
    table = sacct_table(rows)
    failed = [r for r in rows if r["Comment"] == "rule_fails"]
    # the profile retries once; the second attempt asks for twice the memory and time
    assert [r["State"] for r in failed] == ["FAILED", "FAILED"], table
    # the batch step reports the job-step executor's exit status (1), not the shell's 3
    assert all(r["ExitCode"] != "0:0" for r in failed), table
    assert [r["ReqMem"] for r in failed] == ["300M", "600M"], table
    assert [r["Timelimit"] for r in failed] == ["00:02:00", "00:04:00"], table
    assert [r["State"] for r in rows if r["Comment"] == "rule_ok"] == ["COMPLETED"], table
