"""Fixed points and invariant rays of F0(h) = ReLU(W h) on hand-built networks with known answers
(docs/method.md §4.1 steps 5-6, P1)."""

import numpy as np
import pytest
import torch

from rnnhmm.dynamics.fixed_points import DEFAULTS, pattern_rays, solve_fixed_points
from rnnhmm.dynamics.simulate import Network

SMALL = {**DEFAULTS, "n_starts": 24, "iter_max": 500, "lbfgs_maxiter": 200, "unconstrained_starts": 8,
         "max_patterns": 50, "noinput_starts": 20, "noinput_steps": 300, "kappa_window": 50}


def _net(W, d=1):
    H = W.shape[0]
    return Network(np.asarray(W, float), np.ones((H, d)), np.eye(3, H))


def _rot(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _positive_states(rng, n, H):
    return rng.uniform(0.1, 1.0, (n, H))


def test_closed_form_jacobian_equals_autograd():
    rng = np.random.default_rng(0)
    H = 12
    net = Network(rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=(H, 2)), rng.normal(size=(3, H)))
    for _ in range(5):
        h = np.abs(rng.normal(size=H))
        auto = torch.autograd.functional.jacobian(lambda x: torch.relu(torch.as_tensor(net.W) @ x),
                                                  torch.as_tensor(h)).numpy()
        closed = net.jacobian(net.W @ h > 0)
        assert np.allclose(auto, closed, atol=1e-12)


def test_rotation_network_has_a_fixed_ray_along_e2_with_eigenvalues_0_and_1():
    """W = R(30°)/cos 30°: every positive state rotates out of the quadrant, is clipped onto e2 and
    stays there with gain cos 30°/cos 30° = 1, so e2 is a ray of fixed points; D_s W = [[0,0],[tan 30°,1]]."""
    theta = np.pi / 6
    net = _net(_rot(theta) / np.cos(theta))
    out = solve_fixed_points(net, _positive_states(np.random.default_rng(1), 200, 2), SMALL)
    fp, spec = out["fixed_points.csv"], out["fp_spectra.csv"]
    rays = fp[fp["kind"] == "fixed_ray"]
    assert len(rays) == 1
    ray = rays.iloc[0]
    assert ray["gain"] == pytest.approx(1.0, abs=1e-9) and ray["q"] < 1e-12 and ray["n_active"] == 1
    assert ray["basin_frac"] == 1.0 and ray["n_unstable"] == 0
    lam = np.sort(spec[spec["object_id"] == ray["object_id"]]["re"].to_numpy())
    assert np.allclose(lam, [0.0, 1.0], atol=1e-12)
    origin = fp[fp["kind"] == "origin"].iloc[0]
    assert origin["kappa"] == pytest.approx(1.0, abs=1e-9) and origin["basin_frac"] == 0.0
    assert {"iteration", "pattern"} <= set(ray["source"].split("+"))


def test_perron_block_fixed_ray_location_and_spectrum():
    """Three units coupled by a row-stochastic P (Perron root 1, eigenvector (1,1,1)) and two units
    they inhibit: the fixed ray is (1,1,1,0,0)/√3 and its spectrum is eig(P) ∪ {0, 0}."""
    P = np.array([[0.2, 0.5, 0.3], [0.4, 0.1, 0.5], [0.3, 0.3, 0.4]])
    W = np.zeros((5, 5))
    W[:3, :3] = P
    W[:3, 3:] = 0.3
    W[3:, :3] = -1.0
    W[3:, 3:] = 0.5 * np.eye(2)
    net = _net(W)
    out = solve_fixed_points(net, _positive_states(np.random.default_rng(2), 200, 5), SMALL)
    fp, spec = out["fixed_points.csv"], out["fp_spectra.csv"]
    rays = fp[fp["kind"] == "fixed_ray"]
    assert len(rays) == 1
    ray = rays.iloc[0]
    assert ray["n_active"] == 3 and ray["gain"] == pytest.approx(1.0, abs=1e-9)
    lam = spec[spec["object_id"] == ray["object_id"]]
    got = np.sort_complex(lam["re"].to_numpy() + 1j * lam["im"].to_numpy())
    want = np.sort_complex(np.concatenate([np.linalg.eigvals(P), [0, 0]]))
    assert np.allclose(got, want, atol=1e-10)
    # location, from the exact pattern solve
    v, lams, _ = pattern_rays(W, np.array([[1, 1, 1, 0, 0]], bool))
    assert len(v) == 1 and lams[0] == pytest.approx(1.0)
    assert np.allclose(v[0], np.array([1, 1, 1, 0, 0]) / np.sqrt(3), atol=1e-12)


def test_contracting_rotation_has_only_the_origin_as_fixed_point():
    """0.8 R(30°)/cos 30°: the e2 ray is invariant with gain 0.8 < 1, so the origin is the only fixed
    point, every rollout collapses to it with κ = 0.8, and the unconstrained speed minimisation ends at 0."""
    theta = np.pi / 6
    net = _net(0.8 * _rot(theta) / np.cos(theta))
    out = solve_fixed_points(net, _positive_states(np.random.default_rng(3), 200, 2), SMALL)
    fp, search = out["fixed_points.csv"], out["fp_search.csv"].set_index("method")
    assert "fixed_ray" not in set(fp["kind"])
    inv = fp[fp["kind"] == "invariant_ray"]
    assert len(inv) == 1 and inv.iloc[0]["gain"] == pytest.approx(0.8, abs=1e-9) and inv.iloc[0]["rho"] == pytest.approx(0.8)
    origin = fp[fp["kind"] == "origin"].iloc[0]
    assert origin["kappa"] == pytest.approx(0.8, abs=1e-6) and origin["basin_frac"] == 1.0
    unc = search.loc["unconstrained_lbfgs"]
    assert unc["n_zero"] == unc["n_starts"] and unc["n_found"] == 0


def test_network_that_kills_activity_in_one_step():
    """W = -I/2: F0 maps every non-negative state to 0 at once (finite-time collapse, κ = 0)."""
    net = _net(-0.5 * np.eye(3))
    out = solve_fixed_points(net, _positive_states(np.random.default_rng(4), 100, 3), SMALL)
    fp, search = out["fixed_points.csv"], out["fp_search.csv"].set_index("method")
    assert not set(fp["kind"]) & {"fixed_ray", "invariant_ray"}
    assert search.loc["normalised_iteration", "n_zero"] == search.loc["normalised_iteration", "n_starts"]
    origin = fp[fp["kind"] == "origin"].iloc[0]
    assert origin["kappa"] == 0.0 and origin["basin_frac"] == 1.0
    assert fp[fp["kind"] == "empirical_endpoint"].iloc[0]["norm"] == 0.0
