"""Orbit size vs noise level (docs/method.md §4.2): P2 exactness, a linear rotation embedded in a ReLU
network with a known stationary radius and rotation, and the 95 % KDE level of a known density."""

import numpy as np
import pytest

from rnnhmm.dynamics.orbits import DEFAULTS, iso_proportion_levels, orbit_analysis, orbit_radii
from rnnhmm.dynamics.pca import fit_pca
from rnnhmm.dynamics.simulate import Network


def rotation_network(g: float, theta: float) -> Network:
    """Units (x+, y+, x-, y-) with x = h[:2] - h[2:] following x_{t+1} = g R(θ) x_t + ξ_t exactly,
    since ReLU(a) - ReLU(-a) = a."""
    c, s = np.cos(theta), np.sin(theta)
    M = g * np.array([[c, -s], [s, c]])
    W = np.block([[M, -M], [-M, M]])
    U = np.vstack([np.eye(2), -np.eye(2)])
    A = np.array([[1.0, 0, -1, 0], [0, 1, 0, -1], [1, 0, 1, 0]])
    return Network(W, U, A)


def test_radius_and_rotation_of_a_planar_rotation_network():
    g, theta = 0.9, np.radians(20)
    net = rotation_network(g, theta)
    xi = np.random.default_rng(0).standard_normal((40100, 1, 2))
    h = net.run(np.zeros((1, 4)), xi)[100:, 0]
    x = h[:, :2] - h[:, 2:]
    assert np.allclose(x[1:], x[:-1] @ (g * np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])) + xi[101:, 0])
    plane = np.array([[1.0, 0, -1, 0], [0, 1, 0, -1]]) / np.sqrt(2)
    s = 1.0 / (1.0 - g**2)  # stationary variance per coordinate of x
    want = np.sqrt(np.pi * s / 2) / np.sqrt(2)  # mean of a Rayleigh norm, seen through the 1/√2 plane
    got = orbit_radii(h, plane)
    assert got["r_origin"] == pytest.approx(want, rel=0.04)
    assert got["r_center"] == pytest.approx(want, rel=0.04)
    assert got["rotation_deg"] == pytest.approx(20.0, abs=1.0)
    # the fitted PCA plane is the same plane, so the radius is the same
    assert orbit_radii(h, fit_pca(h, 2).components)["r_origin"] == pytest.approx(got["r_origin"], rel=1e-3)


def test_orbit_size_scales_exactly_with_sigma():
    """P2: with common noise, r(σ) = σ r(1), A95(σ) = σ² A95(1) and the o-free geometry is identical."""
    rng = np.random.default_rng(1)
    H, d = 12, 3
    net = Network(rng.uniform(-0.5, 0.5, (H, H)), rng.uniform(-0.5, 0.5, (H, d)), rng.uniform(-0.5, 0.5, (3, H)))
    p = {**DEFAULTS, "warmup": 20, "steps": 1500, "grid": 40, "kde_max_points": 1000,
         "contour_sigmas": [0.1, 1.0, 4.0], "radius_sigmas": [0.1, 0.5, 1.0, 2.0, 4.0]}
    xi = rng.standard_normal((p["warmup"] + p["steps"], d))
    out = orbit_analysis(net, xi, p, None, np.random.default_rng(2))
    size = out["orbit_size.csv"].set_index("sigma")
    one = size.loc[1.0]
    for s, row in size.iterrows():
        assert row["r_origin"] == pytest.approx(s * one["r_origin"], rel=1e-9)
        assert row["r_center"] == pytest.approx(s * one["r_center"], rel=1e-9)
        assert row["area95"] == pytest.approx(s**2 * one["area95"], rel=1e-6)
        assert row["rotation_deg"] == pytest.approx(one["rotation_deg"], abs=1e-9)
    fit = out["orbit_fit.csv"].set_index(["quantity", "regressor"])
    for q in ("r_origin", "r_center"):
        assert fit.loc[(q, "loglog"), "slope"] == pytest.approx(1.0, abs=1e-9)
        assert fit.loc[(q, "sigma"), "r2"] == pytest.approx(1.0, abs=1e-12)
        assert fit.loc[(q, "sigma"), "intercept"] == pytest.approx(0.0, abs=1e-9)
    assert fit.loc[("area95", "loglog"), "slope"] == pytest.approx(2.0, abs=1e-6)
    cont = out["orbit_contours.parquet"]
    assert sorted(cont["sigma"].unique()) == [0.1, 1.0, 4.0] and (cont.groupby("sigma").size() == 1500).all()
    assert set(out["orbit_density.parquet"]["sigma"].unique()) == {0.1, 1.0, 4.0}


def test_95_percent_level_of_a_standard_gaussian_encloses_the_known_area():
    """The region above the 0.05 iso-proportion level of N(0, I₂) is the disc of radius √(-2 ln 0.05)."""
    xs = np.linspace(-6, 6, 401)
    gx, gy = np.meshgrid(xs, xs)
    dens = np.exp(-(gx**2 + gy**2) / 2) / (2 * np.pi)
    level = iso_proportion_levels(dens, [0.05])[0]
    cell = (xs[1] - xs[0]) ** 2
    assert (dens >= level).sum() * cell == pytest.approx(np.pi * -2 * np.log(0.05), rel=0.01)


def test_degenerate_cloud_is_reported_not_raised():
    """A network whose activity never leaves one line: the KDE is singular, area95 is NaN, kde_ok False."""
    net = Network(np.zeros((2, 2)), np.array([[1.0], [0.0]]), np.eye(3, 2))
    p = {**DEFAULTS, "warmup": 5, "steps": 200, "grid": 20, "contour_sigmas": [1.0], "radius_sigmas": [1.0, 2.0]}
    from rnnhmm.dynamics.pca import PCA
    pca = PCA(np.zeros(2), np.eye(2), np.array([1.0, 0.0]))
    out = orbit_analysis(net, np.random.default_rng(0).standard_normal((205, 1)), p, pca, np.random.default_rng(0))
    size = out["orbit_size.csv"]
    assert not size["kde_ok"].any() and size["area95"].isna().all()
    assert np.isfinite(size["r_origin"]).all()
