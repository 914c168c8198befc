"""HMM families, validation and sampling against exact statistics (docs/method.md §2)."""

import numpy as np
import pytest

from rnnhmm.hmm import HMM, HMMSpecError, build_hmm, transitions_target_prob
from rnnhmm.rng import numpy_rng

# docs/method.md §2.4: p_y, E[vol] at the training T, latent switch probability, delta of P_out
TABLE = {
    "chain2": (0.0688, 6.81, 0.050, 0.9405),
    "chain3": (0.2562, 7.43, 0.298, 0.7512),
    "chain4": (0.2978, 8.64, 0.553, 0.7092),
    "chain5": (0.3112, 12.14, 0.757, 0.6957),
    "fully3": (0.0864, 2.51, 0.050, None),
    "cyclic4": (0.2143, 8.36, 0.050, None),
}


def hmms(config):
    return {name: build_hmm(name, spec) for name, spec in config["hmms"].items()}


@pytest.mark.parametrize("name", list(TABLE))
def test_analytic_statistics_match_the_reference_table(config, name):
    hmm = hmms(config)[name]
    p_y, vol, latent, delta = TABLE[name]
    assert hmm.emitted_switch_prob() == pytest.approx(p_y, abs=6e-5)
    assert hmm.expected_volatility(config["hmms"][name]["seq_len"]) == pytest.approx(vol, abs=6e-3)
    assert hmm.latent_switch_prob() == pytest.approx(latent, abs=6e-4)
    if delta is not None:
        p = hmm.output_transition()
        assert p[0, 0] == pytest.approx(delta, abs=6e-5)
        assert p[2, 2] == pytest.approx(delta, abs=6e-5)
        assert p[1] == pytest.approx([0.495, 0.01, 0.495], abs=1e-9)


def test_chain_matrices_follow_the_formula():
    t = transitions_target_prob(5, 0.05)
    assert t[2, 2] == pytest.approx(0.0543, abs=1e-4)  # not a typo (docs/method.md §2.1)
    assert np.allclose(t.sum(axis=1), 1)
    assert np.linalg.matrix_power(transitions_target_prob(3, 0.05), 2)[0, 2] == pytest.approx(0.05)


def test_cyclic_and_fully_marginals(config):
    h = hmms(config)
    assert h["fully3"].output_marginal() == pytest.approx([1 / 3] * 3)
    assert h["cyclic4"].output_marginal() == pytest.approx([0.25, 0.5, 0.25])
    assert h["fully3"].output_transition()[0, 0] == pytest.approx(0.9136, abs=1e-4)
    assert h["cyclic4"].output_transition()[0] == pytest.approx([0.7835, 0.2120, 0.0045], abs=1e-4)


@pytest.mark.parametrize("name", ["chain2", "chain4", "cyclic4"])
def test_samples_match_exact_statistics_within_sampling_error(config, name):
    """Per-sequence estimates are independent across sequences, so their standard error is
    std/sqrt(N); every estimate must lie within 5 standard errors of the exact value."""
    hmm = hmms(config)[name]
    n, length = 20000, 60
    states, y = hmm.sample(n, length, numpy_rng(1, "test", name))
    assert states.shape == y.shape == (n, length)
    assert states.min() >= 0 and states.max() < hmm.n_states and y.max() < 3
    # output marginal
    freq = np.stack([(y == k).mean(axis=1) for k in range(3)], axis=1)
    se = freq.std(axis=0) / np.sqrt(n) + 1e-12
    assert np.all(np.abs(freq.mean(axis=0) - hmm.output_marginal()) < 5 * se + 1e-9)
    # joint of consecutive outputs
    idx = y[:, :-1].astype(int) * 3 + y[:, 1:]
    per_seq = np.stack([(idx == j).mean(axis=1) for j in range(9)], axis=1)
    se = per_seq.std(axis=0) / np.sqrt(n) + 1e-12
    assert np.all(np.abs(per_seq.mean(axis=0) - hmm.output_joint().ravel()) < 5 * se + 1e-9)
    # latent switches
    sw = (states[:, 1:] != states[:, :-1]).mean(axis=1)
    assert abs(sw.mean() - hmm.latent_switch_prob()) < 5 * sw.std() / np.sqrt(n)


def test_sampling_is_deterministic_per_stream(config):
    hmm = hmms(config)["chain3"]
    a = hmm.sample(100, 30, numpy_rng(7, "x"))[1]
    b = hmm.sample(100, 30, numpy_rng(7, "x"))[1]
    c = hmm.sample(100, 30, numpy_rng(7, "y"))[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    "trans, emis, match",
    [
        ([[0.5, 0.6], [0.5, 0.5]], [[1, 0, 0], [0, 0, 1]], "rows must sum to 1"),
        ([[1.2, -0.2], [0.5, 0.5]], [[1, 0, 0], [0, 0, 1]], "negative"),
        ([[1.0]], [[1, 0, 0], [0, 0, 1]], "shape"),
        ([[0.5, 0.5], [0.5, 0.5]], [[1, 0, 0]], "shape"),
        ([[0.5, 0.5, 0.0]], [[1, 0, 0]], "square"),
        ([[np.nan, 1], [0.5, 0.5]], [[1, 0, 0], [0, 0, 1]], "NaN"),
    ],
)
def test_invalid_matrices_are_rejected_with_a_clear_message(trans, emis, match):
    with pytest.raises(HMMSpecError, match=match):
        HMM("bad", np.array(trans, dtype=float), np.array(emis, dtype=float))


def test_unknown_family_is_named():
    with pytest.raises(HMMSpecError, match="allowed: target_prob"):
        build_hmm("x", {"transitions": {"kind": "ring", "n_states": 3}, "emissions": {"kind": "linear"}})
