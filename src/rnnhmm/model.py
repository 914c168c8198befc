"""The noise-driven ReLU RNN (SCIENCE.md §1.1).

h_t = ReLU(W h_{t-1} + U x_t), h_0 = 0, x_t = sigma * xi_t, z_t = A h_t, no biases anywhere.
The output is a hard straight-through Gumbel-softmax sample of Cat(softmax(z_t / tau)).
"""

from __future__ import annotations

import math

import torch
from torch import nn

N_OUTPUTS = 3
# uniforms are clamped away from 0 and 1 so the Gumbel transform stays finite
_U_EPS = 1e-12


class NoiseRNN(nn.Module):
    """Bias-free ReLU RNN driven by input noise, with a linear readout to 3 logits."""

    def __init__(self, hidden: int, dim: int, n_outputs: int = N_OUTPUTS, generator: torch.Generator | None = None):
        super().__init__()
        if hidden < 1 or dim < 1:
            raise ValueError(f"hidden and dim must be >= 1, got hidden={hidden}, dim={dim}")
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
            h = torch.relu(h @ wt + x_t @ ut)
            out.append(h)
        return torch.stack(out, dim=1)

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        return states @ self.A.T

    def forward(self, noise: torch.Tensor, uniforms: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
        """Straight-through one-hot samples y, shape (B, T, K), from noise (B, T, d) and uniforms (B, T, K)."""
        return gumbel_straight_through(self.logits(self.states(noise)), uniforms, tau)


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
