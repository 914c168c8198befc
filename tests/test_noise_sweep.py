"""Noise sweep (docs/method.md §4.3): o-statistics are σ-invariant (P2), σ → 0 gives uniform i.i.d.
emissions (switch probability 2/3), and the baseline does not depend on σ."""

import numpy as np
import pytest

from rnnhmm.dynamics.noise_sweep import DEFAULTS, P_SWITCH_UNIFORM, dominant_outputs, sweep
from rnnhmm.dynamics.simulate import Network
from rnnhmm.hmm import build_hmm
from rnnhmm.model import NoiseRNN
from rnnhmm.rng import torch_generator


@pytest.fixture(scope="module")
def table():
    model = NoiseRNN(16, 4, 3, generator=torch_generator(5, "init"))
    net = Network.from_model(model)
    hmm = build_hmm("chain2", {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05},
                               "emissions": {"kind": "linear"}})
    p = {**DEFAULTS, "warmup": 20, "dominant_steps": 3000, "n_sequences": 400, "sigmas": [1e-4, 0.5, 1.0, 4.0]}
    rng = np.random.default_rng(0)
    xi = rng.standard_normal((p["warmup"] + p["dominant_steps"], net.dim))
    length = 30
    sets = tuple(hmm.sample(p["n_sequences"], length, np.random.default_rng(i))[1] for i in (1, 2, 3))
    return sweep(net, model, hmm, length, p, xi, 7, ("test",), sets), hmm


def test_dominant_output_statistics_are_sigma_invariant(table):
    df, _ = table
    for col in ("p_sw_dom", "tr_dom", "cv_dwell", "n_switches_dom"):
        assert np.allclose(df[col].to_numpy(), df[col].iloc[0], equal_nan=True), col
    assert df["n_switches_dom"].iloc[0] > 0


def test_vanishing_noise_gives_uniform_iid_emissions(table):
    df, hmm = table
    low = df.iloc[0]
    assert low["p_sw_emit"] == pytest.approx(P_SWITCH_UNIFORM, abs=0.02)
    for k in (1, 2, 3):
        assert low[f"freq_O{k}"] == pytest.approx(1 / 3, abs=0.02)
    # a uniform emitter is a poor match: farther from the HMM than the HMM's own baseline
    assert low["euclid_rnn"] > low["euclid_base"]
    assert df["euclid_base"].nunique() == 1 and df["p_y"].iloc[0] == pytest.approx(hmm.emitted_switch_prob())
    assert np.isfinite(df["sinkhorn_div"]).all() and (df["match_converged"]).all()


def test_dominant_outputs_match_a_direct_simulation():
    rng = np.random.default_rng(3)
    net = Network(rng.uniform(-0.3, 0.3, (8, 8)), rng.uniform(-0.3, 0.3, (8, 2)), rng.uniform(-0.3, 0.3, (3, 8)))
    xi = rng.standard_normal((250, 2))
    o = dominant_outputs(net, xi, [0.5, 2.0], warmup=10, chunk=64)
    direct = net.dominant(net.run(np.zeros((1, 8)), 2.0 * xi[:, None, :])[10:, 0])
    assert o.shape == (240, 2) and np.array_equal(o[:, 1], direct) and np.array_equal(o[:, 0], direct)
