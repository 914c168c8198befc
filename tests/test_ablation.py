"""Ablation and excitation with a gain μ (docs/method.md §4.10) on the planted kick network."""

import numpy as np
import pytest

from rnnhmm.dynamics import ablation as ab
from rnnhmm.dynamics import kick_neurons as kn
from rnnhmm.dynamics.pca import fit_pca
from rnnhmm.dynamics.simulate import gain_vector
from test_kick_neurons import planted_network

MUS = [0.0, 0.5, 1.0, 1.9]


@pytest.fixture(scope="module")
def planted():
    net, idx = planted_network()
    h, a, o = kn.reference_run(net, np.random.default_rng(1), 2000, 100)
    return net, idx, h, o


@pytest.mark.parametrize("condition", ab.CONDITIONS)
def test_mu_one_is_the_identity(planted, condition):
    net, idx, h, o = planted
    x = net.noise(np.random.default_rng(5), 300, 1)[:, 0]
    c_rec, c_in = ab.condition_gains(net.hidden, condition, idx["K1"] + [20, 21], MUS)
    states, pre = ab.free_run(net, h[-1], x, c_rec, c_in)
    plain, plain_pre = net.run(h[-1], x[:, None], record_preact=True)
    # identical up to BLAS summation order (a batch of 4 rows vs 1 row)
    assert np.allclose(states[:, 2], plain[:, 0], rtol=1e-12, atol=1e-12)
    assert np.allclose(pre[:, 2], plain_pre[:, 0], rtol=1e-12, atol=1e-12)
    assert np.array_equal(net.dominant(states[:, 2]), net.dominant(plain[:, 0]))
    assert not np.array_equal(states[:, 0], plain[:, 0])
    scaled = c_rec if condition == "kick" else c_in
    assert scaled[:, 12].tolist() == MUS and (scaled[:, 0] == 1).all()
    assert ((c_in if condition == "kick" else c_rec) == 1).all()


def test_jacobian_under_the_kick_gain_is_the_derivative_of_the_forward_pass(planted):
    net, idx, h, o = planted
    c = gain_vector(net.hidden, idx["K1"], 1.9)
    x = np.random.default_rng(0).standard_normal(net.dim)
    h0 = h[100]
    a1 = net.preact(h0[None], x[None], c_rec=c)[0]
    J = net.jacobian(a1 > 0, c_rec=c)
    eps = 1e-6
    num = np.stack([(net.step((h0 + eps * e)[None], x[None], c_rec=c)[0]
                     - net.step((h0 - eps * e)[None], x[None], c_rec=c)[0]) / (2 * eps)
                    for e in np.eye(net.hidden)], axis=1)
    assert np.allclose(J, num, atol=1e-6)


def test_silencing_the_kick_group_stops_leaving_its_source(planted):
    net, idx, h, o = planted
    x = net.noise(np.random.default_rng(6), 1500, 1)[:, 0]
    c_rec, c_in = ab.condition_gains(net.hidden, "kick", idx["K1"], MUS)
    states, pre = ab.free_run(net, h[-1], x, c_rec, c_in)
    rows = ab.critical_pairs_vs_mu(net, states, pre, c_rec, "kick", MUS, 15, 0.06, source=0)
    assert rows[0]["n_leaving"] == 0 and rows[2]["n_leaving"] >= 5
    assert rows[0]["cp_fallback"] and not rows[2]["cp_fallback"]
    assert rows[2]["n_windows"] == rows[2]["n_switches"] - 1


def test_trajectories_escape_only_with_the_kick_group(planted):
    net, idx, h, o = planted
    t0 = int(np.flatnonzero(o == 0)[50])
    c_rec, c_in = ab.condition_gains(net.hidden, "kick", idx["K1"], MUS)
    x_nom = net.noise(np.random.default_rng(7), 100, 1)[:, 0]
    pca = fit_pca(h, 2)
    esc, tbl = ab.trajectories(net, h[t0], x_nom, c_rec, c_in, 0, 40, 0.5, np.random.default_rng(8), pca,
                               [0, 2], shown=3)
    assert esc[0] == 0.0 and esc[2] > 0.5
    assert len(tbl) == 2 * 3 * 101 and set(tbl["mu_index"]) == {0, 2}


def test_target_sets_known_answer():
    W = np.zeros((8, 8))
    W[0, [4, 5]] = [2.0, 1.0]  # strongest inputs of kick neuron 0: 4, then 5
    W[1, [5, 6]] = [3.0, 0.5]
    W[2, [1, 3]] = [1.0, 0.9]  # neuron 1 is a kick neuron itself: excluded from the noise projection
    groups = {1: [0, 1], 2: [2]}
    s = ab.target_sets(W, groups, 1, noise_top=2, control_top=1)
    assert s == {"kick": [0, 1], "noise": [4, 5, 6], "control": [3, 6, 7]}  # top1: 0->4, 1->5, 2->1
    r = ab.target_sets(W, groups, 1, noise_top=2, control="random", rng=np.random.default_rng(0))
    assert r["control"] == [3, 7]  # size-matched to the noise set (3), clamped to the 2 neurons left
