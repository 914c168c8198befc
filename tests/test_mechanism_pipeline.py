"""The mechanism analyses chained on the planted kick network (kick_neurons → connectivity → mean_activity,
ablation), written where the workflow writes them, and figures 6–9 and S9 rendered from those tables."""

import shutil

import pytest

from conftest import config_hmm
from rnnhmm import figures, plan
from rnnhmm.dynamics import ablation, connectivity, kick_neurons, mean_activity
from rnnhmm.figures.style import save
from rnnhmm.io import read_json, read_table, write_results
from rnnhmm.rng import numpy_rng
from test_kick_neurons import planted_network

PARAMS = {
    "kick_neurons": dict(kick_neurons.DEFAULTS, ref_steps=4000, n_candidates=12, n_rollouts=32, rollout_steps=40,
                         n_null=200, preact_steps=500, validation_steps=500),
    "connectivity": {"k_pop": 8},
    "mean_activity": dict(mean_activity.DEFAULTS),
    "ablation": dict(ablation.DEFAULTS, free_steps=600, locate_steps=1000, locate_max_runs=3, n_traj=30,
                     traj_steps=60, noise_top=5, control_top=5),
}


class PlantedContext:
    """Stands in for AnalysisContext: the planted network instead of a trained model file."""

    def __init__(self, name, net, root, preset, spec):
        self.name, self.net, self.root, self.preset, self.spec = name, net, root, preset, spec
        self.params = PARAMS[name]

    def network(self):
        return self.net

    def hmm(self):
        return config_hmm(self.spec.hmm)

    def rng(self, purpose):
        return numpy_rng(7, self.name, purpose)

    def analysis_dir(self, name):
        return self.root / plan.analysis_dir(self.preset, name, self.spec)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, config):
    root = tmp_path_factory.mktemp("mechanism")
    # the smoke preset with two reference models only (chain2, fully3), so S8 and N3 stay small
    preset_cfg = dict(config["presets"]["smoke"], grid=[{"hmms": ["chain2", "fully3"], "hidden": [16], "dim": [4],
                                                         "seeds": [0]}])
    spec = plan.reference_models(preset_cfg, ["chain2"])[0]
    net, idx = planted_network()
    for a in (kick_neurons, connectivity, mean_activity, ablation):
        ctx = PlantedContext(a.ANALYSIS.name, net, root, "smoke", spec)
        write_results(ctx.analysis_dir(ctx.name), a.ANALYSIS.run(ctx), {})
    for other in plan.reference_models(preset_cfg, ["fully3"]):  # the same tables stand in for S8 and N3
        for name in ("kick_neurons", "connectivity"):
            shutil.copytree(root / plan.analysis_dir("smoke", name, spec), root / plan.analysis_dir("smoke", name, other))
    return root, preset_cfg, spec, idx


def test_chained_analyses_find_the_planted_mechanism(pipeline):
    root, _, spec, idx = pipeline
    d = lambda name: root / plan.analysis_dir("smoke", name, spec)  # noqa: E731
    kick = read_json(d("kick_neurons") / "kick_groups.json")
    assert kick["status"] == "ok" and kick["sources"] == [0, 2]
    assert kick["groups"]["1"]["neurons"] == idx["K1"] and kick["groups"]["2"]["neurons"] == idx["K3"]
    v = kick["groups"]["1"]["validation"]
    assert v["switches_leaving_mu0"] == 0 and v["switches_leaving_mu1"] > 0
    pre = read_table(d("kick_neurons") / "kick_preact.parquet")
    assert set(pre["neuron"]) == set(idx["K1"] + idx["K3"]) and len(pre) == 6 * 500
    pops = read_json(d("connectivity") / "populations.json")["pairs"]["12"]
    assert len(pops["P1"]) + len(pops["P2"]) == 8 and not set(pops["P1"] + pops["P2"]) & set(idx["K1"] + idx["K3"])
    act = read_table(d("mean_activity") / "mean_activity.csv")
    assert set(act["group"]) == {"G1", "G2", "P1", "P2"} and len(act) == 4 * 300
    cp = read_table(d("ablation") / "ablation_cp.csv")
    kick1 = cp[(cp["group"] == 1) & (cp["condition"] == "kick")].set_index("mu")
    assert len(cp) == 2 * 3 * 21
    assert kick1.loc[0.0, "n_leaving"] == 0 and kick1.loc[1.0, "n_leaving"] > 0
    info = read_json(d("ablation") / "ablation_sets.json")["groups"]["1"]
    assert info["locate"] is not None and info["sets"]["kick"] == idx["K1"]
    assert kick1.loc[0.0, "escape_frac"] == 0.0 and kick1.loc[1.0, "escape_frac"] > 0.5


@pytest.mark.parametrize("name", ["fig6_kick_neurons", "fig7_connectivity", "fig8_mean_activity", "fig9_ablation",
                                  "figS8_connectivity_all", "figS9_ablation_group2", "figN3_kick_discovery"])
def test_figures_render_from_the_tables(pipeline, name, tmp_path):
    root, preset_cfg, _, _ = pipeline
    ctx = figures.FigureContext(preset="smoke", preset_cfg=preset_cfg, root=root)
    paths = save(figures.render(name, ctx), tmp_path / name)
    assert all(p.stat().st_size > 5000 for p in paths)
