"""Kick-neuron discovery (docs/method.md §4.7) on a network with planted kick triplets, with known answers."""

import numpy as np
import pytest

from conftest import config_hmm
from rnnhmm.dynamics import kick_neurons as kn
from rnnhmm.dynamics.simulate import Network, gain_vector
from rnnhmm.dynamics.spectra import critical_pairs_at_switches
from rnnhmm.dynamics.switching import dwell_windows, switch_times, target_cores
from rnnhmm.hmm import HMM


def planted_network(rho=0.9, kappa=2.0, gamma=30.0, alpha=(2.2, 2.4, 2.6), beta=1.0, lam=3.0, n_fill=12, seed=0,
                    kick_input=0.0):
    """A noise-driven flip-flop whose switches need planted kick triplets.

    Two self-exciting, mutually inhibiting memory populations M1 (read out as O1) and M3 (O3), each fed by
    its own rectified noise unit, never switch on their own.  Kick triplet K1 integrates a rectified noise
    unit against M1 and, when it crosses threshold, silences M1 and excites M3; K3 does the reverse.
    With ``kick_input`` = 0 the kick units get no direct noise input, so removing K1's recurrent drive
    stops every switch away from O1; with ``kick_input`` > 0 they also receive direct noise (U weights of
    that standard deviation on the input dimensions 4-7), as every unit of a trained network does, and
    removing the recurrent drive *releases* them instead (only clamping their output silences them).
    Filler units are weakly coupled, noise-driven and disconnected from the mechanism."""
    NA, NB, NK1, NK3 = 0, 1, 2, 3
    M1, M3 = np.arange(4, 8), np.arange(8, 12)
    K1, K3 = np.arange(12, 15), np.arange(15, 18)
    F = np.arange(18, 18 + n_fill)
    H, d = 18 + n_fill, 8
    W, U, A = np.zeros((H, H)), np.zeros((H, d)), np.zeros((3, H))
    for unit, dim in zip((NA, NB, NK1, NK3), range(4), strict=True):
        U[unit, dim] = 1.0
    for own, other, noise, k_in, k_out in ((M1, M3, NA, K3, K1), (M3, M1, NB, K1, K3)):
        for i in own:
            W[i, own], W[i, noise], W[i, other] = rho / 4, 1.0, -kappa / 4
            W[i, k_out], W[i, k_in] = -gamma, gamma
    for grp, noise, own, other in ((K1, NK1, M1, M3), (K3, NK3, M3, M1)):
        for a, i in zip(alpha, grp, strict=True):
            W[i, noise], W[i, own], W[i, other] = a, -beta / 4, -lam / 4
    rng = np.random.default_rng(seed)
    W[np.ix_(F, F)] = rng.normal(0, 0.3 / np.sqrt(n_fill), (n_fill, n_fill))
    U[F, 4:] = rng.normal(0, 0.5, (n_fill, d - 4))
    A[0, M1], A[2, M3], A[1, M1], A[1, M3] = 0.25, 0.25, -0.25, -0.25
    if kick_input:
        for grp in (K1, K3):
            U[np.ix_(grp, range(4, 8))] = rng.normal(0, kick_input, (len(grp), 4))
    return Network(W, U, A), {"K1": K1.tolist(), "K3": K3.tolist(), "M1": M1, "M3": M3}


@pytest.fixture(scope="module")
def planted():
    net, idx = planted_network()
    h, a, o = kn.reference_run(net, np.random.default_rng(1), 4000, 100)
    return net, idx, h, a, o


def test_planted_network_switches_and_silencing_its_kick_group_stops_switching(planted):
    net, idx, h, a, o = planted
    assert len(switch_times(o)) > 40 and kn.source_outputs(o, 3, 0.05) == [0, 2]
    x = net.noise(np.random.default_rng(2), 3000, 1)
    o_ko = net.dominant(net.run(h[-1], x, c_rec=gain_vector(net.hidden, idx["K1"], 0.0))[:, 0])
    sw = switch_times(o_ko)
    assert np.sum(o_ko[sw - 1] == 0) == 0  # never leaves O1 again
    assert (o_ko[-2000:] == 0).all()


def test_dwell_windows_and_gate_scores_known_answer():
    o = np.array([2] * 3 + [0] * 9 + [2] * 6 + [0] * 9 + [2] * 2)
    pre, core, n = dwell_windows(o, 0, pre_window=2)
    assert n == 2  # dwells [3, 12) and [18, 27), both leaving O1
    assert pre.tolist() == [10, 11, 25, 26]
    assert core.tolist() == [6, 7, 8, 21, 22, 23]
    a = np.zeros((len(o), 2))
    a[pre, 0], a[core, 0] = 1.0, -1.0
    a[[10, 25], 0], a[[6, 21], 0] = 2.0, -2.0  # pre mean 1.5, core mean -4/3; both have variance
    a[:, 1] = -1.0
    score, frac = kn.gate_scores(a, pre, core)
    p, c = a[pre, 0], a[core, 0]
    pooled = np.sqrt((3 * p.var(ddof=1) + 5 * c.var(ddof=1)) / 8)
    assert score[0] == pytest.approx((1.5 + 4 / 3) / pooled)
    assert score[1] == 0.0 and frac.tolist() == [1.0, 1.0]


def test_short_dwells_and_target_cores_known_answer():
    """Dwells shorter than min_dwell are left out; the target core is the middle third of the dwell each
    kept switch enters, when that dwell is complete and long enough."""
    o = np.array([2] * 3 + [0] * 9 + [2] * 6 + [0] * 2 + [2] * 3 + [0] * 9 + [2] * 2)
    # complete dwells: [3, 12) O1, [12, 18) O3, [18, 20) O1 (2 steps), [20, 23) O3, [23, 32) O1; [32, 34)
    # O3 is not complete
    pre, core, n = dwell_windows(o, 0, pre_window=2)
    assert n == 3 and pre.tolist() == [10, 11, 18, 19, 30, 31]
    pre, core, n = dwell_windows(o, 0, pre_window=2, min_dwell=4)
    assert n == 2 and pre.tolist() == [10, 11, 30, 31] and core.tolist() == [6, 7, 8, 26, 27, 28]
    assert target_cores(o, 0, min_dwell=4).tolist() == [14, 15]  # the O3 dwell [12, 18)
    assert target_cores(o, 0).tolist() == [14, 15, 21]  # and, without the filter, [20, 23) after [18, 20)
    assert target_cores(o, 0, min_dwell=7).tolist() == []  # the O1 dwell is kept (9 steps), its target is not
    assert target_cores(o, 2, min_dwell=4).tolist() == []  # no O3 dwell of >= 4 steps enters a complete dwell


def test_two_sided_gate_score_rejects_a_target_cluster_neuron():
    """Neuron 0 rises before the switch and falls silent after it (a kick neuron); neuron 1 rises before
    the switch and stays on in the target dwell (a target-cluster neuron).  The source contrast alone
    ranks them alike; the target contrast removes neuron 1."""
    o = np.array([2] * 6 + [0] * 12 + [2] * 12 + [0] * 3)
    pre, core, _ = dwell_windows(o, 0, pre_window=3, min_dwell=4)
    tgt = target_cores(o, 0, min_dwell=4)
    a = np.full((len(o), 2), -1.0)
    a[pre] = 1.0
    a[tgt, 1] = 1.0
    a[[pre[0], core[0], tgt[0]], :] += 0.1  # some variance in every window
    one, _ = kn.gate_scores(a, pre, core)
    two, frac = kn.gate_scores_two_sided(a, pre, core, tgt)
    assert one[0] == pytest.approx(one[1]) and one[0] > 3
    assert two[0] == pytest.approx(one[0], rel=0.2) and two[1] < 0.5 and frac.tolist() == [1.0, 1.0]
    assert kn.gate_scores_two_sided(a, pre, core, np.zeros(0, dtype=int))[0].tolist() == one.tolist()


def test_leave_fractions_match_one_set_at_a_time(planted):
    net, idx, h, a, o = planted
    starts = h[np.flatnonzero(o == 0)[:16]]
    noise = net.noise(np.random.default_rng(3), 30, 16)
    sets = np.array([[-1, -1, -1], idx["K1"], [20, 21, 22], [4, 5, -1]])
    f = kn.leave_fractions(net, starts, 0, sets, noise, chunk_rows=40, dtype=np.float64)
    for s, fs in zip(sets, f, strict=True):
        c = gain_vector(net.hidden, s[s >= 0], 0.0)
        o_s = net.dominant(net.run(starts, noise, c_rec=c))
        assert fs == pytest.approx((o_s != 0).any(axis=0).mean())
    assert f[1] == 0.0 and f[0] > 0.3


def test_discovery_recovers_planted_triplets_above_the_null(planted):
    net, idx, h, a, o = planted
    p = dict(kn.DEFAULTS, n_candidates=12, n_rollouts=32, rollout_steps=40, n_null=200)
    for src, planted_group, label in ((0, idx["K1"], 1), (2, idx["K3"], 2)):
        rngs = [np.random.default_rng(10 + i) for i in range(4)]
        g, cand, trip, null = kn.discover_source(net, h, a, o, src, p, *rngs[:3], label, rngs[3])
        assert g["neurons"] == planted_group and g["group"] == label
        assert g["found"] and g["f_group_select"] == 0.0
        assert trip.iloc[0]["effect"] > null["effect"].max()
        assert trip.iloc[0]["z"] >= 3 and len(trip) == 10 and g["z_select"] == pytest.approx(trip.iloc[0]["z"])
        assert len(cand) == 12 and set(planted_group) <= set(cand["neuron"])
        assert g["n_sets_tested"] == 1 + 12 + 220 + 200
        # scored again on fresh rollouts, against triplets of neurons silent in the source cores
        assert g["significant"] and g["status"] == "kick group found" and g["f_group"] == 0.0
        assert g["z"] >= 3 and g["percentile"] == 1.0 and g["n_null"] == 200
        assert g["null_pool"] == "silent in the source cores" and len(g["null_effects"]) == 200
        assert g["gate"] == "source and target cores" and g["n_target_core_steps"] > 0


def test_fresh_scoring_withdraws_a_selection_batch_winner():
    """A random network has no kick mechanism: its switches come from the noise.  The best of 120
    candidate triplets on the selecting batch lowers the leave fraction by chance (found, effect > 0),
    and on fresh rollouts it is not significant; the two-proportion floor keeps a null without spread
    from making a one-rollout difference significant."""
    rng = np.random.default_rng(0)
    H, d = 40, 8
    net = Network(rng.normal(0, 0.9 / np.sqrt(H), (H, H)), rng.normal(0, 1, (H, d)), rng.normal(0, 1, (3, H)))
    h, a, o = kn.reference_run(net, np.random.default_rng(1), 4000, 100)
    assert len(switch_times(o)) > 1000
    p = dict(kn.DEFAULTS, n_candidates=10, n_rollouts=32, rollout_steps=5, n_null=200, min_frac_silent=0.3,
             p_cluster=0.5, min_before_switch=1)
    for seed in (30, 40, 50):
        rngs = [np.random.default_rng(seed + i) for i in range(4)]
        g, *_ = kn.discover_source(net, h, a, o, 2, p, *rngs[:3], 1, rngs[3])
        assert g["found"] and g["effect_select"] > 0
        assert not g["significant"] and g["z"] < 3 and "not significant on fresh rollouts" in g["status"]
        assert g["z_scale"] > g["null_std"]  # the floor, not the null's spread, sets the scale here


def test_degenerate_source_without_dwells_reports_no_group(planted):
    net, idx, h, a, o = planted
    g, cand, trip, null = kn.discover_source(net, h, a, np.zeros_like(o), 0, kn.DEFAULTS, *[None] * 3, 1)
    assert not g["found"] and g["neurons"] == [] and "no kick group found" in g["status"]
    assert len(cand) == len(trip) == len(null) == 0


def test_random_sets_are_distinct_subsets_of_the_pool():
    pool = np.arange(10, 20)
    s = kn.random_sets(np.random.default_rng(0), pool, 3, 500)
    assert s.shape == (500, 3) and np.isin(s, pool).all()
    assert (np.diff(s, axis=1) > 0).all()
    assert kn.random_sets(np.random.default_rng(0), pool[:2], 3, 5).shape == (0, 3)


def test_critical_pairs_at_switches_counts_clipped_windows():
    th = np.deg2rad(30)
    W = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])  # |λ| = 1, rotation 30°: critical
    pre = np.ones((60, 2))
    assert critical_pairs_at_switches(W, pre, np.array([10, 20, 50]), 15).tolist() == [25.0, 30.0]
    assert critical_pairs_at_switches(W, pre, np.array([50, 58]), 15).tolist() == [24.0]
    half = np.full(2, 0.5)  # |λ| = 0.5 under the gain: nothing critical
    assert critical_pairs_at_switches(W, pre, np.array([10, 20]), 15, c_rec=half).tolist() == [0.0]
    masked = pre.copy()
    masked[:, 1] = -1  # J = diag(1, 0) W has the real eigenvalue cos 30°: not critical
    assert critical_pairs_at_switches(W, masked, np.array([10, 20]), 15).tolist() == [0.0]


def test_group_labels_follow_the_naming_rule():
    """Dominant symbols first, then the rare ones: the chains' O1, O3, O2 are groups 1, 2, 3; fully3's and
    cyclic4's O_k is group k; a five-symbol HMM whose O2 and O4 no state makes most likely numbers them last."""
    assert [kn.group_label(config_hmm("chain2"), k) for k in (0, 2, 1)] == [1, 2, 3]
    assert [kn.group_label(config_hmm("fully3"), k) for k in range(3)] == [1, 2, 3]
    assert [kn.group_label(config_hmm("cyclic4"), k) for k in range(3)] == [1, 2, 3]
    e = np.array([[0.7, 0.1, 0.1, 0.05, 0.05], [0.1, 0.2, 0.5, 0.1, 0.1], [0.05, 0.1, 0.05, 0.2, 0.6]])
    five = HMM("five", np.full((3, 3), 1 / 3), e)
    assert five.dominant_outputs() == [0, 2, 4] and five.rare_outputs() == [1, 3]
    assert [kn.group_label(five, k) for k in range(5)] == [1, 4, 2, 5, 3]


def test_exhaustive_mode_tests_every_triplet_and_finds_a_full_effect(planted):
    """All C(H, 3) triplets with the whole pre-activation silenced (the authors' search): the best set stops
    every escape from O1, and it silences either the planted triplet K1 or the noise unit (2) that drives it."""
    net, idx, h, a, o = planted
    p = dict(kn.DEFAULTS, exhaustive=True, n_rollouts=16, rollout_steps=30, n_null=100)
    rngs = [np.random.default_rng(20 + i) for i in range(4)]
    g, cand, trip, null = kn.discover_source(net, h, a, o, 0, p, *rngs[:3], 1, rngs[3])
    H = net.hidden
    assert g["n_sets_tested"] == 1 + H + H * (H - 1) * (H - 2) // 6 + 100 and g["silence"] == "preactivation"
    assert g["f_group_select"] == 0.0 and g["effect_select"] == g["f_empty_select"] > 0
    assert g["f_group"] == 0.0 and g["effect"] == g["f_empty"] > 0 and g["null_pool"] == "all neurons"
    assert g["neurons"] == idx["K1"] or 2 in g["neurons"]
