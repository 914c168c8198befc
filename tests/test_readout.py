"""Readout-axis alignment with the orbit plane (docs/method.md §4.11)."""

import numpy as np
import pytest

from rnnhmm.dynamics.pca import fit_pca
from rnnhmm.dynamics.readout import alignment
from test_orbits import rotation_network


def test_alignment_of_known_geometry():
    plane = np.array([[1.0, 0, 0, 0], [0, 1, 0, 0]])
    A = np.array([[3.0, 0, 0, 0], [0, 0, 0, 2], [1, 0, 1, 0], [0, 0, 0, 0]])
    p, ang = alignment(A, plane)
    assert p[:3] == pytest.approx([1.0, 0.0, np.sqrt(0.5)])
    assert ang[:3] == pytest.approx([0.0, 90.0, 45.0])
    assert np.isnan(p[3])


def test_readout_in_and_out_of_the_orbit_plane_of_a_rotation_network():
    """The orbit of the rotation network lives in span(e1 - e3, e2 - e4): a readout along e1 - e3 is
    in the plane (p = 1), one along e1 + e3 is orthogonal to it (p = 0)."""
    net = rotation_network(0.9, np.radians(20))
    xi = np.random.default_rng(0).standard_normal((20100, 1, 2))
    h = net.run(np.zeros((1, 4)), xi)[100:, 0]
    p, ang = alignment(net.A, fit_pca(h, 2).components)
    assert p[0] == pytest.approx(1.0, abs=1e-3) and p[1] == pytest.approx(1.0, abs=1e-3)
    assert p[2] == pytest.approx(0.0, abs=0.05) and ang[2] > 85
