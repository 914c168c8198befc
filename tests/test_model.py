"""The noise-driven RNN: exact properties P1, P2 and the straight-through Gumbel readout."""

import numpy as np
import torch

from rnnhmm.dynamics.simulate import Network
from rnnhmm.model import NoiseRNN, gumbel_straight_through
from rnnhmm.rng import torch_generator


def test_init_is_uniform_in_pytorch_range_and_seeded():
    a = NoiseRNN(50, 7, 3, generator=torch_generator(0, "init"))
    b = NoiseRNN(50, 7, 3, generator=torch_generator(0, "init"))
    bound = 1 / np.sqrt(50)
    for name in ("W", "U", "A"):
        pa, pb = getattr(a, name), getattr(b, name)
        assert torch.equal(pa, pb)
        assert pa.abs().max() <= bound and pa.abs().max() > 0.9 * bound


def test_states_scale_with_sigma_exactly():
    """P2: from h_0 = 0, h_t(sigma) = sigma * h_t(1) for the same xi (no biases, ReLU homogeneous)."""
    torch.manual_seed(0)
    m = NoiseRNN(20, 5, 3, generator=torch_generator(1, "init")).double()
    xi = torch.randn(8, 40, 5, generator=torch_generator(1, "xi"), dtype=torch.float64)
    h1 = m.states(xi)
    h3 = m.states(3.0 * xi)
    assert torch.allclose(h3, 3.0 * h1, rtol=1e-12, atol=1e-12)
    assert torch.equal(m.states(torch.zeros_like(xi)), torch.zeros(8, 40, 20, dtype=torch.float64))


def test_analysis_simulator_matches_training_forward_pass():
    """P4: the numpy simulator reproduces the torch forward pass."""
    m = NoiseRNN(30, 4, 3, generator=torch_generator(2, "init"))
    xi = torch.randn(6, 25, 4, generator=torch_generator(2, "xi"))
    h_torch = m.states(xi).detach().double().numpy()
    net = Network.from_model(m)
    h_np = net.run(np.zeros((6, 30)), xi.double().numpy().transpose(1, 0, 2))
    assert np.allclose(h_np.transpose(1, 0, 2), h_torch, atol=1e-5)


def test_gumbel_straight_through_is_an_exact_categorical_draw_with_soft_gradient():
    logits = torch.tensor([[0.5, -1.0, 1.5]]).repeat(200000, 1).requires_grad_()
    u = torch.rand(200000, 3, generator=torch_generator(3, "u"))
    y = gumbel_straight_through(logits, u)
    assert torch.all((y.detach() == 0) | (y.detach() == 1)) and torch.all(y.detach().sum(-1) == 1)
    freq = y.detach().mean(0).numpy()
    p = torch.softmax(logits[0].detach(), -1).numpy()
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / 200000))
    (y[:, 0].sum()).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_step_logits_and_its_backward_match_autograd_through_states():
    """The hand-written BPTT of NoiseRNN.step_logits (the training forward pass) gives the values and
    the gradients (W, U, A and the noise) of autograd through logits(states(noise))."""
    model = NoiseRNN(40, 7, 3, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(4)
    noise = torch.randn(33, 25, 7, generator=g)
    weights = torch.randn(33, 25, 3, generator=g)

    def grads(fn):
        for p in model.parameters():
            p.grad = None
        x = noise.clone().requires_grad_()
        z = fn(x)
        (z * weights).sum().backward()
        return z.detach(), [model.W.grad, model.U.grad, model.A.grad, x.grad]

    z_fast, g_fast = grads(model.step_logits)
    z_ref, g_ref = grads(lambda x: model.logits(model.states(x)))
    assert (model.states(noise) > 0).float().mean() > 0.2  # a live network, not a trivial check
    torch.testing.assert_close(z_fast, z_ref, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_fast, g_ref, strict=True):
        assert b.norm() > 0
        assert float((a - b).norm() / b.norm()) < 1e-5


def test_step_logits_without_grad_are_the_training_forward_bit_for_bit():
    """Under no_grad (validation passes, evaluation) step_logits keeps no states for a backward pass;
    its logits are those of the recorded forward pass exactly (same operations, same order), for one
    model and for a stack of models (rnnhmm.batched)."""
    from rnnhmm.model import _RecurrentLogits, recurrent_logits

    model = NoiseRNN(40, 7, 3, generator=torch.Generator().manual_seed(5))
    noise = torch.randn(64, 30, 7, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        fast = model.step_logits(noise)
    recorded = _RecurrentLogits.apply(noise, model.W, model.U, model.A)
    assert recorded.requires_grad and not fast.requires_grad
    assert torch.equal(fast, recorded.detach())
    assert fast.abs().max() > 0
    stack = [torch.stack([p.detach(), p.detach() * 0.9]) for p in (model.W, model.U, model.A)]
    noise2 = torch.stack([noise, noise.flip(0)])
    with torch.no_grad():
        stacked = recurrent_logits(noise2, *stack)
    w, u, a = (s.clone().requires_grad_() for s in stack)
    assert torch.equal(stacked, _RecurrentLogits.apply(noise2, w, u, a).detach())
    assert torch.equal(stacked[0], fast)
