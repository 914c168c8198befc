"""Residency times, sign changes and regions (docs/method.md §4.5) on hand-built networks with known answers."""

import numpy as np
import pytest

from conftest import config_hmm
from rnnhmm.dynamics import regions, registry, residency
from rnnhmm.dynamics.simulate import Network, noisy_run
from rnnhmm.plan import ModelSpec


class Ctx(registry.AnalysisContext):
    """An analysis context whose network is given (no model file)."""

    def __init__(self, name, net, params, hmm="chain3", hmm_obj=None):
        super().__init__(name=name, preset="test", spec=ModelSpec(hmm, net.hidden, net.dim, 0), base_seed=1,
                         params=registry.check_params(name, params))
        self._net, self._hmm = net, hmm_obj

    def network(self, which="best"):
        return self._net

    def hmm(self):
        """The given HMM, or the config's HMM of that name (no HMM file is written)."""
        return self._hmm if self._hmm is not None else config_hmm(self.spec.hmm)


def constant_output_net(H=6, d=3, seed=0):
    """Random recurrence, but z = (Σh, −Σh, −Σh): the dominant output is always O1."""
    rng = np.random.default_rng(seed)
    A = np.vstack([np.ones(H), -np.ones(H), -np.ones(H)])
    return Network(rng.uniform(-0.5, 0.5, (H, H)), rng.uniform(-1, 1, (H, d)), A)


def swap_net(a=1.0, b=1.0, flip=True):
    """h = (h1, h2) -> (a h2, b h1), no input drive.  flip: o follows the active unit (switches every
    step); otherwise o is always O1 and z_O1 = h1 + h2 alternates between 1 and b, b·a, ..."""
    W = np.array([[0.0, a], [b, 0.0]])
    U = np.zeros((2, 1))
    A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]) if flip else np.array([[1.0, 1.0], [-1, -1], [-1, -1]])
    return Network(W, U, A)


def coin_net():
    """W = 0, h = (relu(x), relu(−x)), o = O1 if x > 0 else O2: every step leaves O1 with probability 1/2."""
    return Network(np.zeros((2, 2)), np.array([[1.0], [-1.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))


def test_sign_changes_ignore_zero_increments():
    z = np.array([[0, 1, 1, 2, 1, 1, 0, 3], [5, 5, 5, 5, 5, 5, 5, 5], [0, 1, 0, 1, 0, 1, 0, 1]], dtype=float)
    # row 0: increments + 0 + − 0 − +  -> changes at the first − and at the final +
    assert regions.sign_changes(z).tolist() == [2, 0, 6]


def test_constant_output_is_censored_at_L():
    net = constant_output_net()
    states = noisy_run(net, np.random.default_rng(0), 50, 10)
    res = regions.residency(net, states, np.random.default_rng(1), rollouts=7, max_steps=13)
    assert np.all(res.rt == 13) and np.all(res.frac_switched == 0)


def test_flip_every_step_has_rt_one():
    net = swap_net(flip=True)
    states = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    res = regions.residency(net, states, np.random.default_rng(0), rollouts=5, max_steps=60)
    assert np.all(res.rt == 1) and np.all(res.sc == 0) and np.all(res.frac_switched == 1)
    assert regions.label_regions(res.rt, regions.p_max(net, states)).tolist() == ["transition"] * 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alternating_logit_counts_every_reversal(dtype):
    # z_O1 = 1, 0.5, 1, 0.5, ...: the first increment initialises, each later one reverses -> L - 1 changes
    fp = regions.first_passage(swap_net(2.0, 0.5, flip=False), np.array([[1.0, 0.0]]), np.random.default_rng(0),
                                 rollouts=3, max_steps=60, dtype=dtype)
    assert np.all(fp.sign_changes == 59) and np.all(fp.exit_time == 60) and not fp.switched.any()
    # a constant logit has only zero increments: no sign change
    fp = regions.first_passage(swap_net(1.0, 1.0, flip=False), np.array([[1.0, 0.0]]), np.random.default_rng(0),
                                 rollouts=3, max_steps=60, dtype=dtype)
    assert np.all(fp.sign_changes == 0)


def test_geometric_exit_time():
    # exit probability 1/2 per step: E[min(G, L)] = Σ_{k<L} 2^-k = 2 (L = 60); sd per rollout √2
    net = coin_net()
    states = np.tile([[1.0, 0.0]], (500, 1))
    res = regions.residency(net, states, np.random.default_rng(3), rollouts=20, max_steps=60, chunk_rows=3000)
    assert abs(res.rt.mean() - 2.0) < 0.06
    assert np.all(res.frac_switched == 1)


def test_small_chunks_give_the_same_statistics():
    # 7 rollouts per chunk (one start state at a time): exit times still follow the geometric law
    net = coin_net()
    res = regions.residency(net, np.tile([[1.0, 0.0]], (300, 1)), np.random.default_rng(4), rollouts=20,
                              max_steps=60, chunk_rows=7)
    assert abs(res.rt.mean() - 2.0) < 0.08


def test_region_thresholds():
    rt = np.array([1.5, 2.0, 8.0, 8.5, 9.0])
    pm = np.array([0.9, 0.9, 0.9, 0.9, 0.5])
    assert regions.label_regions(rt, pm).tolist() == ["transition", "kick-zone", "kick-zone", "cluster",
                                                         "unassigned"]


def test_zero_input_unstable_count_matches_dense_eigenvalues():
    rng = np.random.default_rng(2)
    H = 12
    net = Network(rng.normal(0, 0.6, (H, H)), rng.normal(size=(H, 3)), rng.normal(size=(3, H)))
    states = np.abs(rng.normal(size=(25, H)))
    spec = regions.zero_input_spectra(net, states)
    for i, h in enumerate(states):
        lam = np.linalg.eigvals(np.diag((net.W @ h > 0).astype(float)) @ net.W)
        assert spec.n_unstable[i] == np.sum(np.abs(lam) > 1)


def test_analysis_tables_on_a_constant_output_network():
    net = constant_output_net(H=10, d=3)
    out = residency.run(Ctx("residency", net, {"warmup": 5, "n_states": 40, "rollouts": 4, "max_steps": 9}))
    tbl, summ = out["residency_states.parquet"], out["residency_summary.csv"]
    assert list(tbl.columns[:11]) == ["idx", "pc1", "pc2", "o", "p_max", "rt", "sc", "frac_switched", "n_unstable",
                                      "n_critical", "region"]
    assert len(tbl) == 40 and np.all(tbl["rt"] == 9) and np.all(tbl["o"] == 0)
    assert set(summ["region"]) == set(regions.REGIONS) and summ["n_states"].sum() == 40
    assert summ.loc[summ["region"] == "transition", "n_states"].item() == 0
    assert out["residency_summary.csv"]["n_switches_in_run"].iloc[0] == 0
