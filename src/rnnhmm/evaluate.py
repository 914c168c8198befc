"""Emission statistics of RNN and HMM sequences (SCIENCE.md §3).

All statistics are computed on emitted symbols y (integer arrays of shape (N, T)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .hmm import HMM
from .model import N_OUTPUTS, NoiseRNN
from .rng import torch_generator


def transition_counts(y: np.ndarray, k: int = N_OUTPUTS) -> np.ndarray:
    """C[k, l] = number of steps t >= 2 with y_{t-1} = k and y_t = l, over all sequences."""
    y = np.asarray(y, dtype=np.int64)
    idx = y[:, :-1] * k + y[:, 1:]
    return np.bincount(idx.ravel(), minlength=k * k).reshape(k, k)


def transition_matrix(y: np.ndarray, k: int = N_OUTPUTS) -> tuple[np.ndarray, np.ndarray]:
    """Row-normalised output transition matrix and a flag per row that was never visited."""
    c = transition_counts(y, k).astype(np.float64)
    rows = c.sum(axis=1, keepdims=True)
    p = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
    return p, (rows[:, 0] == 0)


def frequencies(y: np.ndarray, k: int = N_OUTPUTS) -> np.ndarray:
    """f[n, k] = fraction of steps of sequence n that emit k."""
    y = np.asarray(y, dtype=np.int64)
    return np.stack([(y == j).mean(axis=1) for j in range(k)], axis=1)


def volatility(y: np.ndarray) -> np.ndarray:
    """Number of emitted switches per sequence."""
    y = np.asarray(y)
    return (y[:, 1:] != y[:, :-1]).sum(axis=1)


@torch.no_grad()
def sample_rnn(model: NoiseRNN, n: int, length: int, base_seed: int, parts: tuple, sigma: float = 1.0,
               tau: float = 1.0, batch: int = 4096) -> np.ndarray:
    """Emitted symbols of ``n`` RNN sequences, the training forward pass without gradient (h_0 = 0)."""
    gen_x = torch_generator(base_seed, *parts, "noise")
    gen_u = torch_generator(base_seed, *parts, "gumbel")
    out = []
    model = model.cpu().eval()
    for start in range(0, n, batch):
        b = min(batch, n - start)
        noise = torch.randn(b, length, model.dim, generator=gen_x) * sigma
        uniforms = torch.rand(b, length, N_OUTPUTS, generator=gen_u)
        out.append(model(noise, uniforms, tau).argmax(dim=-1).numpy().astype(np.int8))
    return np.concatenate(out, axis=0)


def emission_tables(sets: dict[str, np.ndarray], hmm: HMM, keys: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transition-matrix and frequency/volatility tables for named symbol sets ('hmm_emp', 'rnn', ...),
    with the analytic HMM values as source 'hmm_analytic'.  ``keys`` (hmm, hidden, dim, seed, ...) are
    prepended to every row."""
    length = next(iter(sets.values())).shape[1]
    p_an = hmm.output_transition()
    p_emp = transition_matrix(sets["hmm_emp"])[0] if "hmm_emp" in sets else None
    trans_rows, fv_rows = [], []
    mats = {name: transition_matrix(y) for name, y in sets.items()}
    mats["hmm_analytic"] = (p_an, np.zeros(N_OUTPUTS, dtype=bool))
    for source, (p, empty) in mats.items():
        for a in range(N_OUTPUTS):
            for b in range(N_OUTPUTS):
                trans_rows.append({**keys, "source": source, "from": a, "to": b, "p": p[a, b],
                                   "row_empty": bool(empty[a]),
                                   "sqdiff_vs_emp": (p_emp[a, b] - p[a, b]) ** 2 if p_emp is not None else np.nan,
                                   "sqdiff_vs_analytic": (p_an[a, b] - p[a, b]) ** 2})
    for source, y in sets.items():
        f = frequencies(y)
        for k in range(N_OUTPUTS):
            fv_rows.append({**keys, "source": source, "stat": f"freq_O{k + 1}", "mean": f[:, k].mean(), "std": f[:, k].std()})
            fv_rows.append({**keys, "source": source, "stat": f"first_symbol_O{k + 1}", "mean": float((y[:, 0] == k).mean()),
                            "std": np.nan})
        v = volatility(y)
        fv_rows.append({**keys, "source": source, "stat": "volatility", "mean": v.mean(), "std": v.std()})
    mu = hmm.output_marginal()
    for k in range(N_OUTPUTS):
        fv_rows.append({**keys, "source": "hmm_analytic", "stat": f"freq_O{k + 1}", "mean": mu[k], "std": np.nan})
    fv_rows.append({**keys, "source": "hmm_analytic", "stat": "volatility", "mean": hmm.expected_volatility(length),
                    "std": np.nan})
    return pd.DataFrame(trans_rows), pd.DataFrame(fv_rows)
