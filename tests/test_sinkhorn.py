"""The Sinkhorn training loss (docs/method.md §1.3)."""

import pytest
import torch

from rnnhmm.rng import torch_generator
from rnnhmm.sinkhorn import SinkhornLoss, sinkhorn_divergence


def onehot_cloud(n, t, seed):
    idx = torch.randint(0, 3, (n, t), generator=torch_generator(seed, "cloud"))
    return torch.nn.functional.one_hot(idx, 3).float().reshape(n, -1)


def test_identical_clouds_have_zero_divergence():
    x = onehot_cloud(200, 20, 0)
    assert abs(sinkhorn_divergence(x, x.clone()).item()) < 1e-4


def test_divergence_grows_with_a_shift():
    x = onehot_cloud(200, 20, 0)
    vals = [sinkhorn_divergence(x + s, x).item() for s in (0.0, 0.1, 0.3, 1.0)]
    assert vals == sorted(vals) and vals[-1] > 10 * max(vals[1], 1e-6)
    # a uniform shift by s moves every point by s*sqrt(D): S -> ½ s² D as blur -> 0
    assert vals[-1] == pytest.approx(0.5 * 1.0 * 60, rel=0.05)


def test_units_are_mismatched_steps():
    """P3: for one-hot sequences ½‖x − y‖² is the Hamming distance."""
    x = onehot_cloud(1, 50, 1)
    y = onehot_cloud(1, 50, 2)
    hamming = (x.reshape(50, 3).argmax(1) != y.reshape(50, 3).argmax(1)).sum().item()
    assert 0.5 * ((x - y) ** 2).sum().item() == hamming
    # with one point each, the transport is exact and the entropic terms cancel to within blur²
    assert sinkhorn_divergence(x, y, blur=0.05).item() == pytest.approx(hamming, rel=1e-3)


def test_gradient_flows_to_the_first_cloud():
    x = onehot_cloud(64, 10, 3).requires_grad_()
    y = onehot_cloud(64, 10, 4)
    sinkhorn_divergence(x, y).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_bad_arguments_are_named():
    x = onehot_cloud(4, 2, 0)
    with pytest.raises(ValueError, match="blur"):
        sinkhorn_divergence(x, x, blur=0)
    with pytest.raises(ValueError, match="unknown Sinkhorn backend"):
        sinkhorn_divergence(x, x, backend="nope")
    with pytest.raises(ValueError, match="clouds"):
        sinkhorn_divergence(x, x[:, :3])


@pytest.mark.parametrize("backend", ["geomloss", "fast"])
def test_two_clouds_of_one_and_the_same_point_have_zero_divergence_and_gradient(backend):
    """Diameter 0 (every sequence the same, on both sides): the ε-schedule's log Δ is -inf, which made
    both backends fail ('Maximum allowed size exceeded'); the divergence there is exactly 0."""
    for n, m in ((1, 1), (5, 3)):
        x = torch.ones(n, 6).requires_grad_()
        y = torch.ones(m, 6)
        loss = sinkhorn_divergence(x, y, 0.2, 0.5, backend)
        loss.backward()
        assert loss.item() == 0.0 and torch.equal(x.grad, torch.zeros_like(x))
        assert SinkhornLoss(0.2, 0.5, backend)(torch.ones(n, 6), y).item() == 0.0
    # one point apart is no longer degenerate: the usual computation runs
    x = torch.ones(2, 6)
    x[1, 0] = 0.0
    assert sinkhorn_divergence(x, torch.ones(2, 6), 0.2, 0.5, backend).item() > 0
