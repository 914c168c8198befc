"""The whole pipeline for HMMs of K != 3 output symbols, and the worked example's smoke preset end to end.

Two small runs redefine the paper's chain2 and fully3 as HMMs of another width (a user may give any HMM
those names): chain2 with K = 2 or 5 symbols and fully3 with 5 or 2, so that every figure -- those of the
reference 2-state model, the compositional ones and the grid ones -- draws a model of K = 2 and one of
K = 5.  Each run must finish, render every figure, size its tables by K, and the figures must show K
symbols where they show symbols (ticks of the transition matrices, legends of the outputs, pairs).

Run:  python -m pytest tests/test_any_k_pipeline.py   (about 4 minutes on 2 cores)
"""

from __future__ import annotations

import copy

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import copy_repo, snakemake
from rnnhmm import config as rconfig
from rnnhmm import figures, plan
from rnnhmm.hmm import output_pairs

matplotlib.use("Agg")


def _peaked(rows: int, k: int, peaks: list[int], p: float = 0.8) -> list[list[float]]:
    """``rows`` emission rows over ``k`` symbols, row i putting ``p`` on symbol peaks[i], the rest spread."""
    out = []
    for i in range(rows):
        r = np.full(k, (1 - p) / (k - 1))
        r[peaks[i]] = p
        out.append([round(float(x), 10) for x in r])
    return out


def anyk_config(cfg: dict, k2: int, k3: int) -> dict:
    """config.yaml with chain2 := a 2-state HMM of ``k2`` symbols, fully3 := a 3-state fully connected HMM
    of ``k3`` symbols, and a preset 'anyk' (the worked example's smoke sizes) training both."""
    cfg = copy.deepcopy(cfg)
    cfg["hmms"]["chain2"] = {
        "transitions": {"kind": "custom", "matrix": [[0.95, 0.05], [0.05, 0.95]]},
        "emissions": {"kind": "custom", "matrix": _peaked(2, k2, [0, k2 - 1])},
        "seq_len": 50, "clip": 0.9}
    cfg["hmms"]["fully3"] = {
        "transitions": {"kind": "fully", "n_states": 3, "stay": 0.95},
        "emissions": {"kind": "custom", "matrix": _peaked(3, k3, [0, min(2, k3 - 1) if k3 > 2 else 0, k3 - 1])},
        "seq_len": 50, "clip": 0.3}
    preset = copy.deepcopy(cfg["presets"]["ethosmoke"])
    preset["grid"] = [{"hmms": ["chain2", "fully3"], "hidden": [16], "dim": [4], "seeds": [0]}]
    preset["train"]["epochs"] = {"chain2": 3, "fully3": 3}
    cfg["presets"]["anyk"] = preset
    return cfg


@pytest.fixture(scope="module", params=[(2, 5), (5, 2)], ids=["chain2K2-fully3K5", "chain2K5-fully3K2"])
def anyk_run(request, tmp_path_factory, config):
    k2, k3 = request.param
    work = copy_repo(tmp_path_factory.mktemp("anyk") / "repo")
    cfg = anyk_config(config, k2, k3)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = snakemake(work, "--cores", "all", "--config", "preset=anyk", timeout=1500)
    return work, res, k2, k3, cfg


def test_the_run_finishes_and_renders_every_figure(anyk_run):
    work, res, *_ = anyk_run
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    missing = [f for f in figures.FIGURES if not (work / "figures" / "anyk" / f"{f}.png").is_file()]
    assert not missing, missing


def test_tables_are_sized_by_k(anyk_run):
    work, res, k2, k3, _ = anyk_run
    assert res.returncode == 0, res.stderr[-3000:]
    summ = work / "results" / "anyk" / "evaluate" / "summary"
    trans = pd.read_csv(summ / "transmat.csv")
    for hmm, k in (("chain2", k2), ("fully3", k3)):
        t = trans[(trans["hmm"] == hmm) & (trans["source"] == "hmm_analytic")]
        assert len(t.drop_duplicates(["T_eval", "from", "to"])) == k * k * t["T_eval"].nunique()
        # the analytic rows are stochastic
        rows = t.groupby(["T_eval", "from"])["p"].sum()
        assert np.allclose(rows, 1.0, atol=1e-9)
    fv = pd.read_csv(summ / "freq_vol.csv")
    freq = set(fv.loc[(fv["hmm"] == "chain2") & fv["stat"].str.startswith("freq_"), "stat"])
    assert freq == {f"freq_O{j + 1}" for j in range(k2)}
    comp = work / "results" / "anyk" / "analysis" / "compositional" / plan.ModelSpec("fully3", 16, 4, 0).id
    pairs = set(pd.read_parquet(comp / "subspace_contours.parquet")["pair"]) if (comp / "subspace_contours.parquet").exists() \
        else set()
    assert pairs <= set(output_pairs(k3))


def test_claims_cover_both_models(anyk_run):
    work, res, k2, k3, _ = anyk_run
    assert res.returncode == 0, res.stderr[-3000:]
    claims = pd.read_csv(work / "results" / "anyk" / "claims.csv")
    models = set(claims["model"])
    assert {"chain2_h16_d4_s0", "fully3_h16_d4_s0"} <= models
    # the compositional checks need K >= 3 symbols and none of them rare: fully3 with 2 symbols has too
    # few, with 5 symbols over 3 states two are rare (the ethogram's run below gets them)
    assert "fully3_h16_d4_s0" not in set(claims.loc[claims["claim"] == "C7", "model"])
    # chain2's checks follow the name: the kick-neuron claim is checked on the 2-state model of K symbols
    assert "chain2_h16_d4_s0" in set(claims.loc[claims["claim"] == "C5", "model"])


def _render(work, cfg, name, monkeypatch):
    monkeypatch.chdir(work)  # HMM files are relative to the folder snakemake runs in
    p = rconfig.figure_params(rconfig.validate(copy.deepcopy(cfg)), "anyk")
    ctx = figures.FigureContext(preset="anyk", preset_cfg=p["preset_cfg"], hmms_cfg=p["hmms"], root=work)
    return figures.render(name, ctx)


def test_figures_show_k_symbols(anyk_run, monkeypatch):
    import matplotlib.pyplot as plt

    work, res, k2, k3, cfg = anyk_run
    assert res.returncode == 0, res.stderr[-3000:]
    names = lambda k: [f"O{j + 1}" for j in range(k)]  # noqa: E731
    fig = _render(work, cfg, "fig1_method_performance", monkeypatch)
    pout = [a for a in fig.axes if a.get_title().startswith("P_out")]
    assert len(pout) == 2
    for ax in pout:
        assert [t.get_text() for t in ax.get_xticklabels()] == names(k2)
        assert ax.get_images()[0].get_array().shape == (k2, k2)
    freq = next(a for a in fig.axes if a.get_title().startswith("frequencies"))
    assert [t.get_text() for t in freq.get_xticklabels()] == names(k2)
    plt.close(fig)
    fig = _render(work, cfg, "fig8_mean_activity", monkeypatch)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [f"dominant output {n}" for n in names(k2)]
    plt.close(fig)
    fig = _render(work, cfg, "figS3_fully_cyclic_performance", monkeypatch)
    heat = [a for a in fig.axes if a.get_title().startswith("fully3: D")]
    assert len(heat) == 1 and heat[0].get_images()[0].get_array().shape == (k3, k3)
    plt.close(fig)
    fig = _render(work, cfg, "fig10_compositional", monkeypatch)
    drawn = {a.get_title().split()[0] for a in fig.axes if a.get_title().endswith("subspace") or " subspace (" in a.get_title()}
    assert drawn == set(list(output_pairs(k3))[:6])
    plt.close(fig)


def test_worked_example_smoke_preset_runs_end_to_end(tmp_path, config, monkeypatch):
    """preset=ethosmoke: the ethogram file (6 states, 5 symbols, a non-stationary start) trained, evaluated,
    analysed, drawn and checked."""
    import matplotlib.pyplot as plt

    work = copy_repo(tmp_path / "repo")
    res = snakemake(work, "--cores", "all", "--config", "preset=ethosmoke", timeout=1500)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    missing = [f for f in figures.FIGURES if not (work / "figures" / "ethosmoke" / f"{f}.png").is_file()]
    assert not missing, missing
    claims = pd.read_csv(work / "results" / "ethosmoke" / "claims.csv")
    assert set(claims["model"]) == {"ethogram_h16_d4_s0"}
    # every HMM, compositional (5 symbols, none rare) -- but not chain2's or the chains' checks
    assert {"C1", "C7"} <= set(claims["claim"]) and "C5" not in set(claims["claim"])
    trans = pd.read_csv(work / "results" / "ethosmoke" / "evaluate" / "summary" / "transmat.csv")
    assert set(trans["from"]) == set(range(5)) and set(trans["to"]) == set(range(5))
    # figure 1 C shows the ethogram's model (no chain2 in the preset) with 5 x 5 matrices
    monkeypatch.chdir(work)
    p = rconfig.figure_params(rconfig.validate(copy.deepcopy(config)), "ethosmoke")
    fig = figures.render("fig1_method_performance", figures.FigureContext(
        preset="ethosmoke", preset_cfg=p["preset_cfg"], hmms_cfg=p["hmms"], root=work))
    pout = [a for a in fig.axes if a.get_title().startswith("P_out")]
    assert [a.get_images()[0].get_array().shape for a in pout] == [(5, 5), (5, 5)]
    assert "ethogram_h16_d4_s0" in fig._suptitle.get_text()
    plt.close(fig)
