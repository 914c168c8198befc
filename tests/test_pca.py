"""PCA conventions (mean-centred, sign-fixed components) and its behaviour on runaway activity."""

import numpy as np

from rnnhmm.dynamics.pca import fit_pca


def _cloud(n=400, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)) * np.array([5.0, 2.0, 1.0, 0.5, 0.2, 0.1])
    return (x + 3.0) * scale


def test_components_are_the_principal_axes_sign_fixed():
    p = fit_pca(_cloud(), 3)
    for k in range(3):
        # the axes of the diagonal cloud, each with its largest loading positive
        assert abs(p.components[k, k]) > 0.99 and p.components[k, k] > 0
    assert np.all(np.diff(p.explained_variance_ratio) < 0) and p.explained_variance_ratio.sum() < 1
    assert np.allclose(p.transform(_cloud()).mean(axis=0), 0.0, atol=1e-9)


def test_a_huge_finite_cloud_gives_the_same_axes_as_its_scaled_copy():
    """Activity of a runaway network near the float64 limit: centring alone would overflow."""
    small, huge = fit_pca(_cloud(), 3), fit_pca(_cloud(scale=1e306), 3)
    assert np.allclose(small.components, huge.components, atol=1e-9)
    assert np.allclose(small.explained_variance_ratio, huge.explained_variance_ratio, rtol=1e-9)
    assert np.isfinite(huge.mean).all() and huge.n_fit == 400


def test_non_finite_rows_are_left_out_and_too_few_rows_are_degenerate():
    x = _cloud()
    with_bad = x.copy()
    with_bad[[3, 7]] = np.inf
    with_bad[11, 2] = np.nan
    p = fit_pca(with_bad, 2)
    q = fit_pca(np.delete(x, [3, 7, 11], axis=0), 2)
    assert p.n_fit == 397 and np.allclose(p.components, q.components)
    for rows in (0, 1):
        d = fit_pca(x[:rows], 4)
        assert d.n_fit == rows and d.components.shape == (4, 6)
        assert np.all(d.explained_variance_ratio == 0) and np.all(d.mean == 0)
    all_bad = fit_pca(np.full((50, 6), np.inf), 2)
    assert all_bad.n_fit == 0 and all_bad.components.shape == (2, 6)
