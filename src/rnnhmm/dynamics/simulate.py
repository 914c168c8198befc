"""The one batched simulator every analysis uses (docs/method.md §4, shared machinery).

States are float64 numpy arrays of shape (n, H): n trajectories advance together, with one Python
loop over time at most.  Interventions multiply the recurrent drive (``c_rec``) or the input drive
(``c_in``) of chosen units: a = c_rec ⊙ (W h) + c_in ⊙ (U x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Network:
    W: np.ndarray  # (H, H), W[i, j] from j onto i
    U: np.ndarray  # (H, d)
    A: np.ndarray  # (K, H)

    @classmethod
    def from_model(cls, model) -> Network:
        from ..model import weights_numpy

        w = weights_numpy(model)
        return cls(w["W"], w["U"], w["A"])

    @property
    def hidden(self) -> int:
        return self.W.shape[0]

    @property
    def dim(self) -> int:
        return self.U.shape[1]

    def preact(self, h: np.ndarray, x: np.ndarray | None = None, c_rec: np.ndarray | None = None,
               c_in: np.ndarray | None = None) -> np.ndarray:
        """a = c_rec ⊙ (W h) + c_in ⊙ (U x) for a batch h (n, H), x (n, d)."""
        a = h @ self.W.T
        if c_rec is not None:
            a = a * c_rec
        if x is not None:
            drive = x @ self.U.T
            if c_in is not None:
                drive = drive * c_in
            a = a + drive
        return a

    def step(self, h: np.ndarray, x: np.ndarray | None = None, **gains) -> np.ndarray:
        return np.maximum(self.preact(h, x, **gains), 0.0)

    def logits(self, h: np.ndarray) -> np.ndarray:
        return h @ self.A.T

    def dominant(self, h: np.ndarray) -> np.ndarray:
        """o(h) = argmax_k z_k(h), the dominant output."""
        return np.argmax(self.logits(h), axis=-1)

    def run(self, h0: np.ndarray, inputs: np.ndarray | None, steps: int | None = None, record_preact: bool = False,
            **gains):
        """Iterate from h0 (n, H).  ``inputs`` is (steps, n, d) or None (no input, then ``steps`` is needed).

        Returns the states h_1..h_steps as (steps, n, H) (and the pre-activations when asked)."""
        h = np.asarray(h0, dtype=np.float64)
        if h.ndim == 1:
            h = h[None, :]
        n_steps = inputs.shape[0] if inputs is not None else int(steps)
        states = np.empty((n_steps, h.shape[0], self.hidden))
        pre = np.empty_like(states) if record_preact else None
        for t in range(n_steps):
            a = self.preact(h, None if inputs is None else inputs[t], **gains)
            h = np.maximum(a, 0.0)
            states[t] = h
            if record_preact:
                pre[t] = a
        return (states, pre) if record_preact else states

    def noise(self, rng: np.random.Generator, steps: int, n: int, sigma: float = 1.0) -> np.ndarray:
        """Input noise x_t = sigma * xi_t, shape (steps, n, d)."""
        return sigma * rng.standard_normal((steps, n, self.dim))

    def jacobian_masks(self, preacts: np.ndarray) -> np.ndarray:
        """Activation masks 1[a > 0]; the Jacobian of a step is diag(mask) W (stored as masks, not matrices)."""
        return preacts > 0

    def jacobian(self, mask: np.ndarray, c_rec: np.ndarray | None = None) -> np.ndarray:
        """J = diag(mask) diag(c_rec) W, batched over leading dimensions of ``mask``."""
        w = self.W if c_rec is None else c_rec[:, None] * self.W
        return mask[..., :, None] * w


def noisy_run(net: Network, rng: np.random.Generator, steps: int, warmup: int, sigma: float = 1.0) -> np.ndarray:
    """One trajectory from h_0 = 0: states after ``warmup`` discarded steps, shape (steps, H)."""
    x = net.noise(rng, warmup + steps, 1, sigma)
    return net.run(np.zeros(net.hidden), x)[warmup:, 0]


def contraction_rate(norms: np.ndarray, window: int = 100) -> float:
    """κ = exp(slope of log mean ‖h_n‖ over the last ``window`` no-input steps), for norms (T, n).

    κ < 1: the rollouts contract towards the origin; 0 when they reach it in finite time."""
    tail = np.asarray(norms)[-min(window, len(norms)):]
    with np.errstate(divide="ignore"):
        logn = np.log(tail.mean(axis=1))
    finite = np.isfinite(logn)
    if finite.sum() < 2:
        return 0.0
    return float(np.exp(np.polyfit(np.arange(len(logn))[finite], logn[finite], 1)[0]))


def gain_vector(hidden: int, targets, mu: float) -> np.ndarray:
    """Gains c with c_i = μ on the target set and 1 elsewhere (the intervention of §4.10)."""
    c = np.ones(hidden)
    idx = np.asarray(list(targets), dtype=int)
    if idx.size:
        c[idx] = mu
    return c


def mix_noise(x_nominal: np.ndarray, gamma: float, rng: np.random.Generator) -> np.ndarray:
    """x' = √(1−γ²)·x_nominal + γ·ε with fresh ε ~ N(0, I) of the same shape (unit variance, D6)."""
    x_nominal = np.asarray(x_nominal, dtype=np.float64)
    if gamma == 0:
        return x_nominal.copy()
    return np.sqrt(1.0 - gamma**2) * x_nominal + gamma * rng.standard_normal(x_nominal.shape)
