"""The smoke workflow on deliberately degenerate networks: every analysis, figure, the claims check
and the report must complete and say what is missing, never crash.

The smoke run's reference models are replaced in place by hand-built networks of the same shape:

* ``silent``: no input weights (U = 0), so h_t = 0 for ever: no activity, no switches;
* ``untrained``: the initial weights (uniform ±1/√H), no training at all;
* ``zero_readout``: A = 0, so every logit ties and one output is dominant everywhere;
* ``single_output``: A pushes O1 up and O2, O3 down, so O1 is dominant on every non-zero state;
* ``unit_ray``: W = v vᵀ − 0.1 (I − v vᵀ) with v > 0: an exact ray of fixed points with gain 1
  (activity on it never decays without input: a second attractor beside h = 0);
* ``runaway``: W = 3 I, so activity grows by 3× per step and overflows to inf within a few hundred
  steps (non-finite states, NaN Jacobians).

Two passes assign them to the six reference models so that ref2 (chain2, the model of figures 3–9
and of the mechanism analyses) is silent in one pass and runaway in the other.  Each pass reruns
only what depends on the replaced model files (evaluation, analyses, figures, claims); the test
checks that Snakemake exits 0, that every figure was rendered again as a real image, that the claims
table has a row for every check of every replaced model with ``pass`` False where the network cannot
have the property, and that the report builds.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import copy_of_smoke_run, snakemake
from rnnhmm import figures, io, plan

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

PASSES = {
    "A": {"chain2": "silent", "chain3": "untrained", "chain4": "zero_readout", "chain5": "unit_ray",
          "fully3": "runaway", "cyclic4": "single_output"},
    "B": {"chain2": "runaway", "chain3": "unit_ray", "chain4": "silent", "chain5": "zero_readout",
          "fully3": "single_output", "cyclic4": "untrained"},
}
# what each network cannot have, whatever the analysis parameters: a claim check that must fail
MUST_FAIL = {
    "silent": [("C3", "switch_rate_dominant")],
    "zero_readout": [("C3", "switch_rate_dominant")],
    "single_output": [("C3", "switch_rate_dominant")],
    "unit_ray": [("C2", "noinput_to_origin")],
    "runaway": [("C2", "noinput_to_origin")],
}


def degenerate_weights(kind: str, hidden: int, dim: int, n_out: int = 3) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    bound = 1.0 / np.sqrt(hidden)

    def uniform(*shape):
        return (torch.rand(*shape, generator=g, dtype=torch.float32) * 2 - 1) * bound

    W, U, A = uniform(hidden, hidden), uniform(hidden, dim), uniform(n_out, hidden)
    if kind == "silent":
        U = torch.zeros(hidden, dim)
    elif kind == "zero_readout":
        A = torch.zeros(n_out, hidden)
    elif kind == "single_output":
        A = torch.full((n_out, hidden), -1.0)
        A[0] = 1.0
    elif kind == "unit_ray":
        v = torch.linspace(1.0, 2.0, hidden, dtype=torch.float64)
        v /= v.norm()
        P = torch.outer(v, v)
        W = (P - 0.1 * (torch.eye(hidden, dtype=torch.float64) - P)).float()
    elif kind == "runaway":
        W = 3.0 * torch.eye(hidden)
    elif kind != "untrained":
        raise ValueError(kind)
    return {"W": W.contiguous(), "U": U.contiguous(), "A": A.contiguous()}


def replace_model(model_dir, kind: str, hidden: int, dim: int) -> None:
    """Overwrite model.pt (best and final weights) and every per-epoch checkpoint with the network."""
    w = degenerate_weights(kind, hidden, dim)
    model = model_dir / "model.pt"
    for path in [model, *sorted((model_dir / "checkpoints").glob("epoch*.pt"))]:
        obj = {k: v for k, v in io.load_torch(path, io.MODEL_FORMAT).items() if k != io.DIGEST_KEY}
        io.save_torch(path, {**obj, "best": dict(w), "final": dict(w)})
    io.write_sidecar(model, io.provenance({"degenerate": kind}))


@pytest.fixture(scope="module")
def degenerate_runs(smoke_run, tmp_path_factory):
    work = copy_of_smoke_run(smoke_run, tmp_path_factory, "degenerate")
    pcfg = yaml.safe_load((work / "config.yaml").read_text())["presets"]["smoke"]
    refs = {m.hmm: m for m in plan.reference_models(pcfg)}
    out = {}
    for name, kinds in PASSES.items():
        time.sleep(1.1)  # the new model files must be strictly newer than everything built from them
        for hmm, kind in kinds.items():
            m = refs[hmm]
            replace_model(work / plan.model_dir("smoke", m), kind, m.hidden, m.dim)
        started = time.time()
        res = snakemake(work, "--cores", "all", "--config", "preset=smoke", timeout=1500)
        claims = pd.read_csv(work / "results/smoke/claims.csv") if res.returncode == 0 else None
        figs = {n: (work / f"figures/smoke/{n}.png") for n in figures.FIGURES}
        fresh = {n: p.exists() and p.stat().st_mtime >= started for n, p in figs.items()}
        heads = {n: p.read_bytes()[:8] if p.exists() else b"" for n, p in figs.items()}
        out[name] = (res, claims, fresh, heads, {refs[h].id: k for h, k in kinds.items()})
    report = snakemake(work, "--report", "results/smoke/report.html", "--config", "preset=smoke", timeout=600)
    return work, out, report


@pytest.mark.workflow
@pytest.mark.parametrize("name", list(PASSES))
def test_degenerate_networks_run_every_analysis_figure_and_claim(degenerate_runs, name):
    _, out, _ = degenerate_runs
    res, claims, fresh, heads, kinds = out[name]
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-4000:]
    assert all(fresh.values()), f"figures not rendered again: {[n for n, f in fresh.items() if not f]}"
    assert all(h == PNG_MAGIC for h in heads.values())
    for model_id, kind in kinds.items():
        rows = claims[claims["model"] == model_id]
        assert len(rows), model_id
        for claim, check in MUST_FAIL.get(kind, []):
            sel = rows[(rows["claim"] == claim) & (rows["check"] == check)]
            assert len(sel) == 1 and not bool(sel["pass"].iloc[0]), (model_id, kind, claim, check, sel)


@pytest.mark.workflow
def test_report_builds_on_degenerate_networks(degenerate_runs):
    work, _, report = degenerate_runs
    assert report.returncode == 0, report.stderr[-3000:]
    assert (work / "results/smoke/report.html").stat().st_size > 10000
