"""The noise-driven ReLU RNN (docs/method.md §1.1).

h_t = ReLU(W h_{t-1} + U x_t), h_0 = 0, x_t = sigma * xi_t, z_t = A h_t, no biases anywhere.
The output is a hard straight-through Gumbel-softmax sample of Cat(softmax(z_t / tau)) over the
K symbols of the HMM it emulates (A has K rows).
"""

from __future__ import annotations

import math

import torch
from torch import nn

# uniforms are clamped away from 0 and 1 so the Gumbel transform stays finite
_U_EPS = 1e-12


class NoiseRNN(nn.Module):
    """Bias-free ReLU RNN driven by input noise, with a linear readout to K = ``n_outputs`` logits.

    The weights are drawn from ``generator`` in the order W, U, A."""

    def __init__(self, hidden: int, dim: int, n_outputs: int, generator: torch.Generator | None = None):
        super().__init__()
        if hidden < 1 or dim < 1 or n_outputs < 2:
            raise ValueError(f"hidden and dim must be >= 1 and n_outputs >= 2, got hidden={hidden}, dim={dim}, "
                             f"n_outputs={n_outputs}")
        self.hidden, self.dim, self.n_outputs = hidden, dim, n_outputs
        bound = 1.0 / math.sqrt(hidden)

        def init(*shape: int) -> nn.Parameter:
            w = torch.empty(*shape)
            w.uniform_(-bound, bound, generator=generator)
            return nn.Parameter(w)

        self.W = init(hidden, hidden)  # W[i, j]: weight from unit j onto unit i
        self.U = init(hidden, dim)
        self.A = init(n_outputs, hidden)

    def states(self, noise: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states h_1..h_T, shape (B, T, H), for input noise x of shape (B, T, d)."""
        b, t_len, _ = noise.shape
        h = noise.new_zeros(b, self.hidden) if h0 is None else h0
        out = []
        wt, ut = self.W.T, self.U.T
        # U x_t step by step: no (B, T, H) drive tensor and no (B, T, H) gradient of it, which at
        # T = 100 would add 2 x 250 MB to a training step's peak; with unbind, not noise[:, t], so
        # the backward never builds zero-filled (B, T, d) slices either
        for x_t in noise.unbind(1):
            h = torch.addmm(x_t @ ut, h, wt).relu_()
            out.append(h)
        return torch.stack(out, dim=1)

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        return states @ self.A.T

    def step_logits(self, noise: torch.Tensor) -> torch.Tensor:
        """Logits z_1..z_T, shape (B, T, K): the values of ``logits(states(noise))`` (up to float
        rounding), computed by :func:`recurrent_logits` (with :class:`_RecurrentLogits`'s hand-written
        backward pass where gradients are recorded)."""
        return recurrent_logits(noise, self.W, self.U, self.A)

    def forward(self, noise: torch.Tensor, uniforms: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
        """Straight-through one-hot samples y, shape (B, T, K), from noise (B, T, d) and uniforms (B, T, K)."""
        return gumbel_straight_through(self.step_logits(noise), uniforms, tau)


def _t(m: torch.Tensor) -> torch.Tensor:
    """The transpose of a matrix, or of each matrix of a stack (K, n, m)."""
    return m.transpose(-1, -2)


def _mm(x: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out = x @ y: ``torch.mm`` for matrices, ``torch.bmm`` for stacks of K matrices."""
    return (torch.mm if x.dim() == 2 else torch.bmm)(x, y, out=out)


def _addmm(c: torch.Tensor, x: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out = c + x @ y (``addmm`` / ``baddbmm``)."""
    return (torch.addmm if x.dim() == 2 else torch.baddbmm)(c, x, y, out=out)


def _addmm_(acc: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """acc += x @ y in place (``addmm_`` / ``baddbmm_``)."""
    return acc.addmm_(x, y) if x.dim() == 2 else acc.baddbmm_(x, y)


def recurrent_logits(noise: torch.Tensor, w: torch.Tensor, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The logits of one model or of a stack (see :class:`_RecurrentLogits`): with autograd's
    backward pass where gradients are recorded, without keeping the states under ``no_grad``."""
    if torch.is_grad_enabled():
        return _RecurrentLogits.apply(noise, w, u, a)
    return _recurrence(noise, w, u, a, keep_states=False)[0]


def _recurrence(noise, w, u, a, keep_states: bool):
    """The forward recurrence, step by step into preallocated buffers: the logits (…, B, T, K) and,
    with ``keep_states``, the states (T, …, B, H) a backward pass needs.  Without them it writes the
    states into two (B, H) buffers in turn, with the same operations in the same order (so the same
    logits, bit for bit): the (T, B, H) array, 245 MB at B 4096, T 100, written fresh at every call,
    cost a third of a validation batch's forward time in page faults."""
    *lead, b, t_len, _ = noise.shape
    hidden = w.shape[-2]
    hs = noise.new_empty(t_len, *lead, b, hidden) if keep_states else None
    spare = None if keep_states else noise.new_empty(*lead, b, hidden)
    z = noise.new_empty(t_len, *lead, b, a.shape[-2])
    drive = noise.new_empty(*lead, b, hidden)
    h = noise.new_zeros(*lead, b, hidden)
    for t in range(t_len):
        _mm(noise.select(-2, t), _t(u), out=drive)
        pre = hs[t] if keep_states else spare
        _addmm(drive, h, _t(w), out=pre)
        if not keep_states:
            spare = h  # h_{t-1} is not needed after this step: it takes h_{t+1}
        h = pre.relu_()
        _mm(h, _t(a), out=z[t])
    return z.movedim(0, -2).contiguous(), hs


class _RecurrentLogits(torch.autograd.Function):
    """z_t = A h_t, h_t = ReLU(W h_{t−1} + U x_t), h_0 = 0, with backpropagation through time
    written out.  Every step writes into preallocated buffers: the states (T, B, H), which the
    backward pass needs, are the only large allocation.  (Autograd's per-step temporaries, freed
    between live states, fragment the heap: at B 4096, T 100 a training step's resident memory
    grew by ~1 GB instead of the 250 MB of the states.)

    One model: noise (B, T, d), W (H, H), U (H, d), A (K, H).  A stack of M models
    (rnnhmm.batched): every tensor gains a leading model axis (noise (M, B, T, d), W (M, H, H), ...)
    and each matrix product becomes a batched one over it; no model's numbers touch another's."""

    @staticmethod
    def forward(ctx, noise, w, u, a):  # noqa: D102
        z, hs = _recurrence(noise, w, u, a, keep_states=True)
        ctx.save_for_backward(noise, w, u, a, hs)
        return z

    @staticmethod
    def backward(ctx, gz):  # noqa: D102
        noise, w, u, a, hs = ctx.saved_tensors
        t_len, *lead, b, hidden = hs.shape
        g_w, g_u, g_a = torch.zeros_like(w), torch.zeros_like(u), torch.zeros_like(a)
        g_noise = torch.empty_like(noise) if ctx.needs_input_grad[0] else None
        g_h = noise.new_zeros(*lead, b, hidden)  # dL/dh_t: (dL/da_{t+1}) W, then + (dL/dz_t) A
        g_pre = noise.new_empty(*lead, b, hidden)  # dL/da_t = dL/dh_t · 1[a_t > 0]
        active = noise.new_empty(*lead, b, hidden)
        for t in reversed(range(t_len)):
            gz_t = gz.select(-2, t)
            _addmm_(g_h, gz_t, a)
            _addmm_(g_a, _t(gz_t), hs[t])
            torch.sign(hs[t], out=active)  # h = ReLU(a) ≥ 0: sign is 1[a > 0]
            torch.mul(g_h, active, out=g_pre)
            if t > 0:
                _addmm_(g_w, _t(g_pre), hs[t - 1])
            _addmm_(g_u, _t(g_pre), noise.select(-2, t))
            if g_noise is not None:
                _mm(g_pre, u, out=g_noise.select(-2, t))
            _mm(g_pre, w, out=g_h)
        return g_noise, g_w, g_u, g_a


def gumbel_straight_through(logits: torch.Tensor, uniforms: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Hard straight-through Gumbel-softmax: the forward value is onehot(argmax(z + g)), an exact draw
    from Cat(softmax(z)); the gradient is that of softmax((z + g) / tau)."""
    u = uniforms.clamp(_U_EPS, 1.0 - _U_EPS)
    g = -torch.log(-torch.log(u))
    soft = torch.softmax((logits + g) / tau, dim=-1)
    hard = torch.nn.functional.one_hot(soft.argmax(dim=-1), logits.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


def weights_numpy(model: NoiseRNN) -> dict:
    """The weights as float64 numpy arrays (W, U, A), the form the analyses use."""
    return {k: getattr(model, k).detach().cpu().double().numpy() for k in ("W", "U", "A")}
