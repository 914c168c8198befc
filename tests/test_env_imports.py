"""Each rule's conda env holds what its stage imports: every kind of job of the smoke DAG (every
analysis and every figure) runs again, in a copy of the smoke run, with the imports of the
repository's code restricted to the packages of the rule's env file (tests/envguard.py).

Conda channels cannot be reached from the build machines, so the envs are never built; this test is
what keeps them true.  A package removed from an env file makes its stage fail (shown below).
"""

import os
import re
import subprocess

import pytest
import yaml

from conftest import CLI, copy_of_smoke_run, dry_run_commands
from test_envs import rule_envs


def job_kinds(work) -> dict[str, tuple[str, str]]:
    """One shell command per kind of job: per rule, and per analysis or figure name -> (rule, command)."""
    kinds = {}
    for rule, cmd in dry_run_commands(work):
        words = cmd.split(CLI, 1)[1].split()
        kind = f"{rule} {words[1]}" if rule in ("analyze", "figure") else rule
        kinds.setdefault(kind, (rule, cmd))
    return kinds


def guarded(cmd: str, env_file: str) -> str:
    return cmd.replace(CLI, f"python tests/envguard.py {env_file} -m rnnhmm.cli", 1)


def run_guarded(work, cmd: str, env_file: str, log) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", guarded(cmd, env_file)], cwd=work, capture_output=True, text=True,
                          env={**os.environ, "ENVGUARD_LOG": str(log)}, timeout=600)


def job_log(work, cmd: str) -> str:
    """The tail of the log a job's command writes (``> log 2>&1``)."""
    m = re.search(r"> (\S+) 2>&1", cmd)
    path = work / m.group(1) if m else None
    return path.read_text()[-800:] if path and path.exists() else "(no log)"


@pytest.fixture(scope="module")
def guarded_copy(smoke_run, tmp_path_factory):
    work = copy_of_smoke_run(smoke_run, tmp_path_factory, "envguard")
    envs = {name: env for name, env in rule_envs(work).items() if env}
    return work, job_kinds(work), envs


@pytest.mark.workflow
def test_every_job_kind_runs_with_only_its_envs_packages(guarded_copy, tmp_path):
    work, kinds, envs = guarded_copy
    assert {"hmm", "loss_floor", "train", "control_model", "evaluate", "evaluate_summary", "claims"} <= set(kinds)
    assert sum(k.startswith("analyze ") for k in kinds) >= 10 and sum(k.startswith("figure ") for k in kinds) >= 20
    log = tmp_path / "blocked.log"
    failed = []
    for kind, (rule, cmd) in sorted(kinds.items()):
        env_file = os.path.relpath(os.path.normpath(work / envs[rule]), work)
        res = run_guarded(work, cmd, env_file, log)
        if res.returncode != 0:
            failed.append(f"{kind} ({env_file}): rc {res.returncode}\n{res.stderr[-300:]}{job_log(work, cmd)}")
    blocked = log.read_text() if log.exists() else ""
    assert not blocked, f"imports outside the rule's env:\n{blocked}"
    assert not failed, "\n".join(failed)


@pytest.mark.workflow
def test_a_package_missing_from_an_env_fails_its_stage(guarded_copy, tmp_path):
    work, kinds, envs = guarded_copy
    rule, cmd = kinds["figure fig2_global_dynamics"]
    env = yaml.safe_load((work / "envs/figures.yaml").read_text())
    env["dependencies"] = [d for d in env["dependencies"] if not str(d).startswith("matplotlib")]
    broken = tmp_path / "figures-without-matplotlib.yaml"
    broken.write_text(yaml.safe_dump(env))
    log = tmp_path / "blocked.log"
    res = run_guarded(work, cmd, str(broken), log)
    assert res.returncode != 0
    assert f"imports 'matplotlib', which {broken} does not provide" in log.read_text()
