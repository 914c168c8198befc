"""Noise-integrating populations and connectivity blocks (docs/method.md §4.8) on planted weights."""

import numpy as np
import pytest

from rnnhmm.dynamics import connectivity as cn
from rnnhmm.dynamics.groups import found_groups


def planted_weights(H=40, seed=0):
    """Kick groups G1 = {0,1,2}, G2 = {3,4,5}; P1 = 6..11 inhibits G1 and excites G2, P2 = 12..17 the reverse;
    excitation within a triplet, inhibition between triplets; the rest is weak noise."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.01, (H, H))
    G1, G2, P1, P2 = np.arange(0, 3), np.arange(3, 6), np.arange(6, 12), np.arange(12, 18)
    W[np.ix_(G1, P1)] = -0.5 - 0.1 * np.arange(6)  # P1 -> G1, most negative last
    W[np.ix_(G2, P1)] = 0.5
    W[np.ix_(G1, P2)] = 0.5 + 0.1 * np.arange(6)
    W[np.ix_(G2, P2)] = -0.5
    W[np.ix_(G1, G1)] = W[np.ix_(G2, G2)] = 0.3
    W[np.ix_(G1, G2)] = W[np.ix_(G2, G1)] = -0.4
    W[np.ix_(G1, [30])] = 2.0  # a strong but same-sign projection onto both groups: not a population
    W[np.ix_(G2, [30])] = 2.0
    return W, {"G1": G1, "G2": G2, "P1": P1, "P2": P2}


def test_populations_recover_the_planted_split():
    W, s = planted_weights()
    p1, p2 = cn.populations(W, s["G1"], s["G2"], k_pop=12)
    assert sorted(p1) == s["P1"].tolist() and sorted(p2) == s["P2"].tolist()
    assert p1.tolist() == [11, 10, 9, 8, 7, 6]  # re-sorted by g1 ascending
    assert 30 not in p1 and 30 not in p2
    q1, q2 = cn.populations(W, s["G1"], s["G2"], k_pop=500)  # clamped to the 34 non-kick neurons
    assert len(q1) + len(q2) == 34 and set(s["P1"]) <= set(q1) and set(s["P2"]) <= set(q2)


def test_block_statistics_have_the_planted_signs():
    W, s = planted_weights()
    pops, arrays, table = cn.connectivity(W, {1: [0, 1, 2], 2: [3, 4, 5]}, k_pop=12)
    t = table.set_index(["pre", "post"])
    assert t.loc[("P1", "G1"), "mean"] == pytest.approx(-0.75) and t.loc[("P1", "G1"), "frac_pos"] == 0
    assert t.loc[("P1", "G2"), "mean"] == pytest.approx(0.5) and t.loc[("P2", "G2"), "frac_pos"] == 0
    assert t.loc[("G1", "G1"), "mean"] == pytest.approx(0.3) and t.loc[("G1", "G1"), "n"] == 6  # no diagonal
    assert t.loc[("G1", "G2"), "mean"] == pytest.approx(-0.4) and t.loc[("G1", "G2"), "n"] == 9
    assert len(table) == 16 and set(table["pair"]) == {"12"}
    assert pops["12"]["P1"] == [11, 10, 9, 8, 7, 6]
    assert arrays["p12_GG"].shape == (6, 6) and arrays["p12_GP"].shape == (6, 12)
    assert np.array_equal(arrays["p12_GP"], W[np.ix_(np.arange(6), pops["12"]["P1"] + pops["12"]["P2"])])
    assert np.array_equal(arrays["p12_PG"], W[np.ix_(arrays["p12_P"], arrays["p12_G"])])


def test_three_groups_give_every_pair_and_the_union():
    W, _ = planted_weights()
    groups = {1: [0, 1, 2], 2: [3, 4, 5], 3: [20, 21, 22]}
    pops, arrays, table = cn.connectivity(W, groups, k_pop=10)
    assert set(pops) == {"12", "13", "23", "123"}
    assert arrays["p123_GG"].shape == (9, 9)
    union = set(pops["123"]["P"])
    assert union == {i for k in ("12", "13", "23") for i in pops[k]["P1"] + pops[k]["P2"]}
    assert not union & {0, 1, 2, 3, 4, 5, 20, 21, 22}  # kick neurons of any group are never population members


def test_found_groups_skips_missing_ones():
    kick = {"groups": {"2": {"found": True, "neurons": [4, 5, 6]}, "1": {"found": False, "neurons": []}}}
    assert found_groups(kick) == {2: [4, 5, 6]}
    pops, arrays, table = cn.connectivity(np.zeros((5, 5)), found_groups(kick))
    assert pops == {} and arrays == {} and len(table) == 0
