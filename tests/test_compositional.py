"""Output-pair segments, the L_min halving rule and the compositional analysis (docs/method.md §4.12, D15)."""

import numpy as np
import pytest

from rnnhmm.dynamics import compositional as comp
from rnnhmm.dynamics.simulate import Network
from rnnhmm.hmm import output_pairs
from test_residency import Ctx, constant_output_net


def runs_sequence(lengths, inside=(0, 1), gap_symbol=2, gap=2):
    """In-pair runs of the given lengths (alternating O1/O2 inside) separated by ``gap`` out-of-pair steps."""
    o = []
    for i, n in enumerate(lengths):
        o += [inside[k % 2] for k in range(n)] if i % 2 else [inside[0]] * n
        o += [gap_symbol] * gap
    return np.array(o)


def test_in_pair_runs():
    o = np.array([2, 0, 1, 1, 2, 2, 0, 2, 1, 0])
    assert comp.in_pair_runs(o, (0, 1)).tolist() == [[1, 4], [6, 7], [8, 10]]
    assert comp.in_pair_runs(o, (1, 2)).tolist() == [[0, 1], [2, 6], [7, 9]]
    assert comp.in_pair_runs(np.zeros(5, int), (1, 2)).shape == (0, 2)


def test_segments_halve_l_min_until_enough():
    o = runs_sequence([300, 150, 120, 60, 60, 30])
    segs, lim, halvings = comp.segments(o, (0, 1), l_min=200, floor=25, min_count=5)
    # > 200: 1 run, > 100: 3, > 50: 5  ->  L = 50 after two halvings
    assert (lim, halvings) == (50, 2)
    assert (segs[:, 1] - segs[:, 0]).tolist() == [300, 150, 120, 60, 60]
    assert segs[0].tolist() == [0, 300]


def test_segments_stop_at_the_floor():
    segs, lim, halvings = comp.segments(runs_sequence([30, 40, 10]), (0, 1), l_min=200, floor=25, min_count=5)
    assert (lim, halvings) == (25, 3) and (segs[:, 1] - segs[:, 0]).tolist() == [40, 30]
    segs, lim, halvings = comp.segments(runs_sequence([500] * 6), (0, 1), l_min=200, floor=25, min_count=5)
    assert (lim, halvings, len(segs)) == (200, 0, 6)


def test_two_way_counts_segments_that_switch_both_ways_within_the_pair():
    o = np.array([0, 1, 0, 1] + [2] * 3 + [0] * 6 + [1] * 2 + [2] + [1, 0, 1])
    segs = comp.in_pair_runs(o, (0, 1))  # [0, 4), [7, 15), [16, 19)
    assert segs.tolist() == [[0, 4], [7, 15], [16, 19]]
    # [0, 4): 0→1 and 1→0; [7, 15): 0→1 only (a long dwell, then one switch); [16, 19): both
    assert comp.two_way(o, segs, (0, 1)) == 2
    assert comp.two_way(o, segs[1:2], (0, 1)) == 0
    assert comp.two_way(o, np.zeros((0, 2), dtype=int), (0, 1)) == 0
    # a dwell of one output only is a segment of every pair that contains it, never a two-way one
    dwell = np.zeros(50, dtype=int)
    assert comp.two_way(dwell, comp.in_pair_runs(dwell, (0, 2)), (0, 2)) == 0


def test_pair_pca_uses_all_in_pair_states():
    rng = np.random.default_rng(0)
    o = rng.integers(0, 3, 400)
    pcs = rng.normal(size=(400, 4))
    pcs[o == 1, 0] += 50.0  # O2 states are far along global PC1
    pp = comp.pair_pca(pcs, o, output_pairs(3), 3)
    # pairs containing O2 have their first component along global PC1; O1O3 does not
    assert abs(pp["O1O2"].components[0, 0]) > 0.99 and abs(pp["O2O3"].components[0, 0]) > 0.99
    assert abs(pp["O1O3"].components[0, 0]) < 0.9
    assert comp.pair_pca(pcs, np.zeros(400, int), output_pairs(3), 3)["O2O3"] is None


def _params():
    return {"warmup": 10, "pca_steps": 600, "l_min": 40, "l_min_floor": 5, "contour_steps": 200,
            "residency_steps": 400, "residency_max_states": 60, "rollouts": 4, "max_steps": 10}


def test_analysis_on_a_random_network():
    rng = np.random.default_rng(3)
    H, d = 16, 4
    net = Network(rng.uniform(-1, 1, (H, H)) / 4, rng.uniform(-1, 1, (H, d)) / 4, rng.uniform(-1, 1, (3, H)) / 4)
    out = comp.run(Ctx("compositional", net, _params(), hmm="fully3"))
    seg = out["subspace_segments.csv"]
    assert set(seg["pair"]) == set(output_pairs(3)) and set(seg["run"]) == {"pca", "residency"}
    res = out["subspace_residency.parquet"]
    assert len(res) and set(res["pair"]) <= set(output_pairs(3))
    for name, pair in output_pairs(3).items():
        assert np.isin(res.loc[res["pair"] == name, "o"], pair).all()
    assert set(out["subspace_residency_summary.csv"]["region"]) == {"transition", "kick-zone", "cluster",
                                                                    "unassigned"}
    lv = out["subspace_contour_levels.csv"]
    assert len(lv) == 15 and (lv["skipped"] == (lv["n_points"] < 10)).all()


def test_analysis_without_switches_says_so():
    out = comp.run(Ctx("compositional", constant_output_net(H=8, d=2), _params(), hmm="cyclic4"))
    seg = out["subspace_segments.csv"].set_index(["run", "pair"])
    assert seg.loc[("pca", "O2O3"), "status"] == "too few in-pair states"
    assert seg.loc[("pca", "O1O2"), "n_segments"] == 1 and seg.loc[("pca", "O1O2"), "longest"] == 600
    assert set(out["subspace_traj.parquet"]["pair"]) == {"O1O2", "O1O3"}
    assert (out["subspace_residency.parquet"]["rt"] == 10).all()


def test_output_pairs_neighbours_first():
    assert list(output_pairs(2)) == ["O1O2"]
    assert output_pairs(3) == {"O1O2": (0, 1), "O2O3": (1, 2), "O1O3": (0, 2)}  # the paper's order
    five = output_pairs(5)
    assert len(five) == 10 and list(five)[:4] == ["O1O2", "O2O3", "O3O4", "O4O5"] and list(five)[-1] == "O1O5"


@pytest.mark.parametrize("k", [2, 5])
def test_analysis_for_k_outputs(k):
    """Every pair of a K-output network gets its rows, and each pair's states emit only that pair."""
    rng = np.random.default_rng(5)
    H, d = 16, 4
    net = Network(rng.uniform(-1, 1, (H, H)) / 4, rng.uniform(-1, 1, (H, d)) / 4, rng.uniform(-1, 1, (k, H)) / 4)
    out = comp.run(Ctx("compositional", net, _params(), hmm="ethogram"))
    seg = out["subspace_segments.csv"]
    assert len(seg) == 2 * len(output_pairs(k)) and set(seg["pair"]) == set(output_pairs(k))
    res = out["subspace_residency.parquet"]
    for name, pair in output_pairs(k).items():
        assert np.isin(res.loc[res["pair"] == name, "o"], pair).all()
    assert len(out["subspace_contour_levels.csv"]) == 5 * len(output_pairs(k))
