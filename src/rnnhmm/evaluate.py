"""Emission statistics of RNN and HMM sequences (docs/method.md §3).

All statistics are computed on emitted symbols y (integer arrays of shape (N, T)).

* :func:`matched_distance` — the Sinkhorn-matched Euclidean distance between two sequence sets
  (log-domain entropic OT, ε = 0.1, un-squared Euclidean costs, argmax matching of the plan).
* :func:`transition_matrix`, :func:`frequencies`, :func:`volatility` — the other emission metrics.
* :func:`evaluate_model` — every metric of one trained model, as tables.
* :func:`summarise` — the aggregation over seeds and the grid tables the figures read.

Memory of the matching.  Costs never exist as a dense float64 (N × N) matrix when N is large.  For
one-hot rows ‖a − b‖² = 2·Hamming(a, b), so the Hamming counts come from one matmul per block of
rows and are stored as ``uint8`` (``int16`` when T > 255): N² bytes.  When a float64 kernel over the
distinct sequences fits ``max_dense_bytes`` (512 MiB, N ≲ 8000) the iterations run in the
stabilised scaling domain (two matrix-vector products per iteration); otherwise in the log domain
over float32 row blocks of ``block_bytes`` (64 MiB) rebuilt from the counts.  Measured peak memory
of one matching above the process (benchmarks/bench_matching_memory.py, T = 100): N = 5000, dense
engine: 0.3 GB; N = 30000, blocked engine: 1.1 GB (0.86 GiB of it the counts), against 6.7 GiB for
one dense float64 matrix.  Identical sequences are merged first (exactly: potentials are per copy
and the multiplicities enter the sums), which makes degenerate sets (an RNN that always emits the
same symbol) cost almost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from . import plan
from .hmm import HMM
from .model import NoiseRNN
from .rng import numpy_rng, torch_generator

MATCH_DEFAULTS = {"eps": 0.1, "max_iter": 1000, "tol": 1e-3}
# two plan entries count as tied when (u_i − C_ij) differ by less than this (relative 1e-6 / 2e-4 in π;
# the log-domain engine computes its log-sum-exps in float32)
TIE_TOL = {"dense": 1e-7, "log": 2e-5}


# ---------------------------------------------------------------------- Sinkhorn-matched distance
@dataclass(frozen=True)
class MatchResult:
    """Result of ``match(Q → R)``: ``distances[j]`` = ‖R_{i*(j)} − Q_j‖ for every sequence j of Q."""

    mean: float
    std: float
    iters: int
    converged: bool
    marginal_error: float
    distances: np.ndarray = field(repr=False)
    matched: np.ndarray = field(repr=False)  # i*(j): the index (into R) each Q_j is matched to
    n_unique: tuple[int, int] = (0, 0)  # distinct sequences of (Q, R)
    engine: str = "dense"  # 'dense' (scaling domain, float64) or 'log' (log domain, float32 blocks)
    n_tied: int = 0  # sequences of Q whose plan column had several (exactly) tied maxima


def _as_symbols(y, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[0] < 1 or y.shape[1] < 1:
        raise ValueError(f"{name}: expected an (N, T) array of symbols, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name}: expected integer symbols, got dtype {y.dtype}")
    return y


def _unique_rows(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows, the inverse map, the multiplicities and the first index of each distinct row."""
    uniq, first, inverse, counts = np.unique(y, axis=0, return_index=True, return_inverse=True, return_counts=True)
    return uniq, inverse.reshape(-1), counts, first


def _one_hot(y: np.ndarray, k: int, device) -> torch.Tensor:
    t = torch.as_tensor(y.astype(np.int64), device=device)
    return torch.nn.functional.one_hot(t, k).reshape(y.shape[0], -1).to(torch.float32)


def hamming_matrix(r: np.ndarray, q: np.ndarray, k: int | None = None, device="cpu",
                   block_bytes: int = 64 << 20) -> torch.Tensor:
    """H[i, j] = number of steps where r_i and q_j differ, as uint8 (int16 when T > 255).

    Built from one float32 matmul of one-hot rows per block of rows (exact: counts < 2^24)."""
    if r.shape[1] != q.shape[1]:
        raise ValueError(f"sequence sets of different lengths: {r.shape[1]} and {q.shape[1]}")
    length = r.shape[1]
    k = int(max(r.max(), q.max())) + 1 if k is None else k
    dtype = torch.uint8 if length <= 255 else torch.int16
    qh = _one_hot(q, k, device)
    out = torch.empty(r.shape[0], q.shape[0], dtype=dtype, device=device)
    rows = max(1, block_bytes // (4 * max(q.shape[0], 1)))
    for s in range(0, r.shape[0], rows):
        agree = _one_hot(r[s:s + rows], k, device) @ qh.T
        out[s:s + rows] = (length - agree).round_().to(dtype)
    return out


def _kernel(ham, u_t, v_t, eps):
    """K̃_ij = exp((ũ_i + ṽ_j − C_ij)/ε) in float64, built in place (one N² allocation)."""
    k = ham.to(torch.float64).mul_(2.0).sqrt_().neg_()
    return k.add_(u_t[:, None]).add_(v_t[None, :]).div_(eps).exp_()


def _dense_sinkhorn(ham, log_mr, log_mq, log_a, log_b, eps, max_iter, tol, absorb=50.0):
    """Stabilised scaling-domain Sinkhorn (Schmitzer 2019) on a dense float64 kernel: the same
    fixed-point map as the log-domain updates, with the potentials split as u = ũ + ε log α and the
    kernel K̃_ij = exp((ũ_i + ṽ_j − C_ij)/ε) rebuilt whenever |log α| or |log β| exceeds ``absorb``.
    Per iteration two matrix-vector products instead of two log-sum-exps over N² entries."""
    f64 = torch.float64
    n_r, n_q = ham.shape
    mr, mq = torch.exp(log_mr), torch.exp(log_mq)
    u_t = torch.zeros(n_r, dtype=f64, device=ham.device)
    v_t = torch.zeros(n_q, dtype=f64, device=ham.device)
    kern = _kernel(ham, u_t, v_t, eps)
    alpha = torch.ones(n_r, dtype=f64, device=ham.device)
    beta = torch.ones(n_q, dtype=f64, device=ham.device)
    a, b = math.exp(log_a), math.exp(log_b)
    iters, err, converged = 0, float("inf"), False
    for it in range(1, max_iter + 1):
        iters = it
        alpha = a / (kern @ (mq * beta))
        beta_new = b / (kern.T @ (mr * alpha))
        # relative column-marginal error of the plan (u, v_old): N_Q·Σ_i π_ij − 1 = β_old/β_new − 1
        err = float(torch.max(torch.abs(beta / beta_new - 1.0)))
        beta = beta_new
        if not (torch.isfinite(alpha).all() and torch.isfinite(beta).all() and (alpha > 0).all() and (beta > 0).all()):
            raise FloatingPointError("dense Sinkhorn lost precision")  # the caller falls back to the log domain
        if err < tol:
            converged = True
            break
        if float(torch.max(torch.abs(torch.log(alpha)))) > absorb or float(torch.max(torch.abs(torch.log(beta)))) > absorb:
            u_t += eps * torch.log(alpha)
            v_t += eps * torch.log(beta)
            alpha.fill_(1.0)
            beta.fill_(1.0)
            del kern
            kern = _kernel(ham, u_t, v_t, eps)
    return u_t + eps * torch.log(alpha), iters, converged, err


def _log_sinkhorn(ham, log_mr, log_mq, log_a, log_b, eps, max_iter, tol, block_bytes):
    """Log-domain Sinkhorn streamed over float32 row blocks of C = sqrt(2·H) rebuilt from the
    integer Hamming counts: memory N² bytes plus one block, for large N."""
    f64 = torch.float64
    n_r, n_q = ham.shape

    def blocks():
        return _cost_blocks(ham, block_bytes)

    u = torch.zeros(n_r, dtype=f64, device=ham.device)
    v = torch.zeros(n_q, dtype=f64, device=ham.device)
    iters, err, converged = 0, float("inf"), False
    for it in range(1, max_iter + 1):
        iters = it
        w = (log_mq * eps + v).to(torch.float32)
        for sl, c in blocks():
            u[sl] = log_a * eps - eps * torch.logsumexp((w[None, :] - c) / eps, dim=1).to(f64)
        run = None
        for sl, c in blocks():  # L_j = LSE_i(log m_i + (u_i − C_ij)/ε), streamed over row blocks
            x = (log_mr[sl] * eps + u[sl]).to(torch.float32)
            blk = torch.logsumexp((x[:, None] - c) / eps, dim=0).to(f64)
            run = blk if run is None else torch.logaddexp(run, blk)
        v_new = log_b * eps - eps * run
        # relative column-marginal error of the plan (u, v): N_Q·Σ_i π_ij − 1 = exp((v − v_new)/ε) − 1
        err = float(torch.max(torch.abs(torch.expm1((v - v_new) / eps))))
        v = v_new
        if err < tol:
            converged = True
            break
    return u, iters, converged, err


def _cost_blocks(ham, block_bytes, dtype=torch.float32):
    """Row blocks of C = sqrt(2·H) (float32 for the iterations, float64 for the final matching)."""
    n_r, n_q = ham.shape
    rows = max(1, block_bytes // (torch.finfo(dtype).bits // 8 * n_q))
    for s in range(0, n_r, rows):
        sl = slice(s, min(s + rows, n_r))
        yield sl, torch.sqrt(2.0 * ham[sl].to(dtype))


def matched_distance(rnn_set, hmm_set, eps: float = 0.1, max_iter: int = 1000, tol: float = 1e-3, *,
                     device: str | torch.device = "cpu", max_dense_bytes: int = 512 << 20,
                     block_bytes: int = 64 << 20) -> MatchResult:
    """The Sinkhorn-matched Euclidean distance ``match(Q → R)`` of docs/method.md §3, Q = ``rnn_set``
    (the set being scored) and R = ``hmm_set`` (the reference), both (N, T) integer symbol arrays.

    Cost C_ij = ‖R_i − Q_j‖ (un-squared, one-hot rows) = sqrt(2·Hamming).  Entropic OT with ε and
    uniform marginals, the log-domain updates from u = v = 0:
        u_i ← ε log(1/N_R) − ε LSE_j((v_j − C_ij)/ε),   v_j ← ε log(1/N_Q) − ε LSE_i((u_i − C_ij)/ε),
    until the largest relative column-marginal error is below ``tol`` or after ``max_iter``
    iterations.  Each Q_j is matched to i*(j) = argmax_i π_ij; ``distances[j]`` = ‖R_{i*(j)} − Q_j‖.
    Returns the mean and std (ddof 0) over j, the iteration count and whether it converged.
    Sets may differ in size (marginals 1/N_R and 1/N_Q).

    Engine: when a dense float64 (distinct R × distinct Q) kernel fits ``max_dense_bytes`` (512 MiB:
    N ≲ 8000) the same updates run in the stabilised scaling domain (matrix-vector products);
    otherwise in the log domain over float32 row blocks of ``block_bytes``, rebuilt from the uint8
    Hamming counts (N² bytes: 0.9 GB at N = 30000)."""
    q_all = _as_symbols(rnn_set, "rnn_set")
    r_all = _as_symbols(hmm_set, "hmm_set")
    if eps <= 0 or max_iter < 1 or tol <= 0:
        raise ValueError(f"matched_distance needs eps > 0, max_iter >= 1, tol > 0; got {eps}, {max_iter}, {tol}")
    if q_all.shape[1] != r_all.shape[1]:
        raise ValueError(f"matched_distance: sequence lengths differ ({q_all.shape[1]} and {r_all.shape[1]})")
    n_q, n_r = q_all.shape[0], r_all.shape[0]
    q, q_inv, q_cnt, _ = _unique_rows(q_all)
    r, _, r_cnt, r_first = _unique_rows(r_all)
    k = int(max(q.max(), r.max())) + 1
    ham = hamming_matrix(r, q, k, device, block_bytes)
    f64 = torch.float64
    log_mq = torch.log(torch.as_tensor(q_cnt, dtype=f64, device=device))
    log_mr = torch.log(torch.as_tensor(r_cnt, dtype=f64, device=device))
    args = (ham, log_mr, log_mq, -math.log(n_r), -math.log(n_q), eps, max_iter, tol)
    engine = "dense" if 8 * r.shape[0] * q.shape[0] <= max_dense_bytes else "log"
    if engine == "dense":
        try:
            u, iters, converged, err = _dense_sinkhorn(*args)
        except FloatingPointError:
            engine = "log"
    if engine == "log":
        u, iters, converged, err = _log_sinkhorn(*args, block_bytes)

    # argmax_i π_ij = argmax_i (u_i − C_ij): per copy, so multiplicities do not enter.  Exact ties
    # (e.g. a set of identical sequences, whose plan column is flat) are resolved by averaging the
    # distance over the tied rows, the plan's own answer; ``matched`` keeps the first of them.
    best_val = torch.full((q.shape[0],), -float("inf"), dtype=f64, device=device)
    best_idx = torch.zeros(q.shape[0], dtype=torch.int64, device=device)
    for sl, c in _cost_blocks(ham, block_bytes, f64):
        val, idx = torch.max(u[sl, None] - c, dim=0)
        better = val > best_val
        best_val = torch.where(better, val, best_val)
        best_idx = torch.where(better, idx + sl.start, best_idx)
    d_sum = torch.zeros(q.shape[0], dtype=f64, device=device)
    w_tie = torch.zeros(q.shape[0], dtype=f64, device=device)
    n_tie = torch.zeros(q.shape[0], dtype=torch.int64, device=device)
    m_r = torch.as_tensor(r_cnt, dtype=f64, device=device)
    for sl, c in _cost_blocks(ham, block_bytes, f64):
        tied = (u[sl, None] - c) >= best_val[None, :] - TIE_TOL[engine]
        w = torch.where(tied, m_r[sl, None], 0.0)  # every copy of a tied row is a tied atom
        d_sum += (w * c).sum(dim=0)
        w_tie += w.sum(dim=0)
        n_tie += tied.sum(dim=0)
    dist = (d_sum / w_tie).cpu().numpy()[q_inv]
    matched = r_first[best_idx.cpu().numpy()][q_inv]
    n_tied = int((n_tie.cpu().numpy() > 1)[q_inv].sum())
    return MatchResult(mean=float(dist.mean()), std=float(dist.std()), iters=iters, converged=converged,
                       marginal_error=err, distances=dist, matched=matched, n_unique=(q.shape[0], r.shape[0]),
                       engine=engine, n_tied=n_tied)


def exact_matched_distance(rnn_set, hmm_set) -> float:
    """Mean distance of the exact one-to-one (Hungarian) assignment, for equal-size sets; an optional
    check of :func:`matched_distance` on a subsample (dense, so only for small N)."""
    from scipy.optimize import linear_sum_assignment

    q, r = _as_symbols(rnn_set, "rnn_set"), _as_symbols(hmm_set, "hmm_set")
    c = np.sqrt(2.0 * hamming_matrix(r, q).numpy().astype(np.float64))
    rows, cols = linear_sum_assignment(c)
    return float(c[rows, cols].mean())


# ---------------------------------------------------------------------- emission statistics
def transition_counts(y: np.ndarray, k: int) -> np.ndarray:
    """C[k, l] = number of steps t >= 2 with y_{t-1} = k and y_t = l, over all sequences."""
    y = np.asarray(y, dtype=np.int64)
    idx = y[:, :-1] * k + y[:, 1:]
    return np.bincount(idx.ravel(), minlength=k * k).reshape(k, k)


def transition_matrix(y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-normalised output transition matrix and a flag per row that was never visited."""
    c = transition_counts(y, k).astype(np.float64)
    rows = c.sum(axis=1, keepdims=True)
    p = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
    return p, (rows[:, 0] == 0)


def frequencies(y: np.ndarray, k: int) -> np.ndarray:
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
        uniforms = torch.rand(b, length, model.n_outputs, generator=gen_u)
        out.append(model(noise, uniforms, tau).argmax(dim=-1).numpy().astype(np.int8))
    return np.concatenate(out, axis=0)


def emission_tables(sets: dict[str, np.ndarray], hmm: HMM, keys: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transition-matrix and frequency/volatility tables for named symbol sets ('hmm_emp', 'rnn', ...),
    with the analytic HMM values as source 'hmm_analytic'.  ``keys`` (hmm, hidden, dim, seed, ...) are
    prepended to every row.  The analytic values are those of sequences of the sets' length that
    start from the HMM's start distribution (``HMM.output_marginal(length)`` etc.)."""
    length = next(iter(sets.values())).shape[1]
    k_out = hmm.n_outputs
    p_an = hmm.output_transition(length)
    p_emp = transition_matrix(sets["hmm_emp"], k_out)[0] if "hmm_emp" in sets else None
    trans_rows, fv_rows = [], []
    mats = {name: transition_matrix(y, k_out) for name, y in sets.items()}
    mats["hmm_analytic"] = (p_an, np.zeros(k_out, dtype=bool))
    for source, (p, empty) in mats.items():
        for a in range(k_out):
            for b in range(k_out):
                trans_rows.append({**keys, "source": source, "from": a, "to": b, "p": p[a, b],
                                   "row_empty": bool(empty[a]),
                                   "sqdiff_vs_emp": (p_emp[a, b] - p[a, b]) ** 2 if p_emp is not None else np.nan,
                                   "sqdiff_vs_analytic": (p_an[a, b] - p[a, b]) ** 2})
    for source, y in sets.items():
        f = frequencies(y, k_out)
        for k in range(k_out):
            fv_rows.append({**keys, "source": source, "stat": f"freq_O{k + 1}", "mean": f[:, k].mean(), "std": f[:, k].std()})
            fv_rows.append({**keys, "source": source, "stat": f"first_symbol_O{k + 1}", "mean": float((y[:, 0] == k).mean()),
                            "std": np.nan})
        v = volatility(y)
        fv_rows.append({**keys, "source": source, "stat": "volatility", "mean": v.mean(), "std": v.std()})
    mu = hmm.output_marginal(length)
    for k in range(k_out):
        fv_rows.append({**keys, "source": "hmm_analytic", "stat": f"freq_O{k + 1}", "mean": mu[k], "std": np.nan})
    fv_rows.append({**keys, "source": "hmm_analytic", "stat": "volatility", "mean": hmm.expected_volatility(length),
                    "std": np.nan})
    return pd.DataFrame(trans_rows), pd.DataFrame(fv_rows)


# ---------------------------------------------------------------------- all metrics of one set
KEY_COLUMNS = ["hmm", "hidden", "dim", "seed"]


def emission_metrics(rnn: np.ndarray, hmm_a: np.ndarray, hmm_2: np.ndarray, hmm_3: np.ndarray, hmm: HMM,
                     keys: dict, match: dict | None = None, iid: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """Every §3 metric of one scored set ``rnn`` against the HMM: the matched distance
    match(rnn → A) and the baseline match(A3 → A2); transition matrices (sources rnn, hmm_emp = A,
    hmm_base = A3, hmm_analytic) with squared differences; frequencies and volatility.

    ``iid``, when given, is the claims check's i.i.d. control (:func:`sample_iid`): it is scored like
    ``rnn`` (metrics ``euclid_iid_*``, ``transmat_sse_iid_*``, ``p_switch_iid``, ...; source ``iid``).

    ``keys`` (hmm, hidden, dim, seed, ...) are prepended to every row; T_eval and N are added.
    Returns the tables 'distance' (one row), 'transmat', 'freq_vol' and 'metrics' (tidy: one row per
    metric, columns ``metric`` and ``value``)."""
    match = {**MATCH_DEFAULTS, **(match or {})}
    length, n = rnn.shape[1], rnn.shape[0]
    keys = {**keys, "T_eval": length, "N": n}
    d_rnn = matched_distance(rnn, hmm_a, **match)
    d_base = matched_distance(hmm_3, hmm_2, **match)
    d_iid = matched_distance(iid, hmm_a, **match) if iid is not None else None
    distance = pd.DataFrame([{**keys, "rnn_mean": d_rnn.mean, "rnn_std": d_rnn.std, "base_mean": d_base.mean,
                              "base_std": d_base.std, "iters_rnn": d_rnn.iters, "iters_base": d_base.iters,
                              "converged_rnn": d_rnn.converged, "converged_base": d_base.converged,
                              "marginal_err_rnn": d_rnn.marginal_error, "marginal_err_base": d_base.marginal_error}])
    scored = {"rnn": rnn, "base": hmm_3, **({"iid": iid} if iid is not None else {})}  # metric suffix -> set
    sources = {"rnn": "rnn", "base": "hmm_base", "iid": "iid"}  # metric suffix -> transmat source
    trans, fv = emission_tables({"hmm_emp": hmm_a, **{sources[k]: y for k, y in scored.items()}}, hmm, keys)

    mu = hmm.output_marginal(length)
    k_out = hmm.n_outputs
    rows = []

    def add(metric, value):
        rows.append({**keys, "metric": metric, "value": float(value)})

    add("euclid_rnn_mean", d_rnn.mean)
    add("euclid_rnn_std", d_rnn.std)
    add("euclid_base_mean", d_base.mean)
    add("euclid_base_std", d_base.std)
    add("euclid_excess", d_rnn.mean - d_base.mean)
    add("iters_rnn", d_rnn.iters)
    add("iters_base", d_base.iters)
    add("converged_rnn", d_rnn.converged)
    add("converged_base", d_base.converged)
    if d_iid is not None:
        add("euclid_iid_mean", d_iid.mean)
        add("euclid_iid_std", d_iid.std)
    for name in scored:
        sel = trans[trans["source"] == sources[name]]
        add(f"transmat_sse_{name}_vs_emp", sel["sqdiff_vs_emp"].sum())
        add(f"transmat_sse_{name}_vs_analytic", sel["sqdiff_vs_analytic"].sum())
        add(f"transmat_empty_rows_{name}", sel.groupby("from")["row_empty"].first().sum())
    for name, y in scored.items():
        f = frequencies(y, k_out).mean(axis=0)
        add(f"freq_l1_{name}", np.abs(f - mu).sum())
        for k in range(k_out):
            add(f"freq_O{k + 1}_{name}", f[k])
        v = volatility(y)
        add(f"volatility_{name}_mean", v.mean())
        add(f"volatility_{name}_std", v.std())
        add(f"p_switch_{name}", v.mean() / (length - 1))
    for k in range(k_out):
        add(f"freq_O{k + 1}_analytic", mu[k])
    add("volatility_analytic", hmm.expected_volatility(length))
    add("p_switch_analytic", hmm.emitted_switch_prob(length))
    add("n_symbols_emitted_rnn", len(np.unique(rnn)))
    return {"distance": distance, "transmat": trans, "freq_vol": fv, "metrics": pd.DataFrame(rows)}


def sample_iid(hmm: HMM, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """The i.i.d. control of the claims check: ``n`` sequences whose symbols are drawn independently
    from the HMM's output marginal over sequences of ``length`` steps (its frequencies without its
    temporal structure)."""
    mu = np.asarray(hmm.output_marginal(length), dtype=float)
    return rng.choice(len(mu), size=(n, length), p=mu / mu.sum()).astype(np.int8)


def heldout_sinkhorn(rnn: np.ndarray, test: np.ndarray, n_outputs: int, blur: float = 0.2, scaling: float = 0.5) -> float:
    """The §1.3 training loss (debiased Sinkhorn divergence) between an RNN set and the test split,
    symbols one-hot over ``n_outputs``."""
    from .sinkhorn import sinkhorn_divergence

    with torch.no_grad():
        x, y = _one_hot(np.asarray(rnn), n_outputs, "cpu"), _one_hot(np.asarray(test), n_outputs, "cpu")
        return float(sinkhorn_divergence(x, y, blur=blur, scaling=scaling))


def eval_lengths(train_len: int, grid_len: int | None) -> list[int]:
    """The evaluation lengths of a model: its training T, and the grid T (docs/method.md §3, D2)."""
    return sorted({int(train_len)} | ({int(grid_len)} if grid_len else set()))


def evaluate_model(model: NoiseRNN, hmm: HMM, keys: dict, *, n: int, lengths: list[int], base_seed: int,
                   attempt: int = 0, sigma: float = 1.0, tau: float = 1.0, match: dict | None = None,
                   test_set: np.ndarray | None = None, blur: float = 0.2, scaling: float = 0.5,
                   history: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every §3 table of one trained model: RNN and three independent HMM sets of ``n`` sequences
    for each length in ``lengths`` (streams ``eval:<set>:T<len>``), the i.i.d. control scored like
    the RNN (stream ``eval:iid:T<len>``), the held-out Sinkhorn divergence
    against ``test_set`` (at its own length) and the training summary from ``history``."""
    parts = tuple(keys[k] for k in KEY_COLUMNS) + (attempt,)
    out: dict[str, list] = {"distance": [], "transmat": [], "freq_vol": [], "metrics": []}
    for length in lengths:
        rnn = sample_rnn(model, n, length, base_seed, (*parts, f"eval:rnn:T{length}"), sigma=sigma, tau=tau)
        a, a2, a3 = (hmm.sample(n, length, numpy_rng(base_seed, *parts, f"eval:hmm_{s}:T{length}"))[1]
                     for s in ("A", "A2", "A3"))
        iid = sample_iid(hmm, n, length, numpy_rng(base_seed, *parts, f"eval:iid:T{length}"))
        tables = emission_metrics(rnn, a, a2, a3, hmm, keys, match, iid=iid)
        if test_set is not None and test_set.shape[1] == length:
            m = min(n, test_set.shape[0])
            extra = {**keys, "T_eval": length, "N": n}
            tables["metrics"] = pd.concat([tables["metrics"], pd.DataFrame([
                {**extra, "metric": "sinkhorn_test", "value": heldout_sinkhorn(rnn[:m], test_set[:m], hmm.n_outputs, blur, scaling)},
                {**extra, "metric": "sinkhorn_test_iid", "value": heldout_sinkhorn(iid[:m], test_set[:m], hmm.n_outputs, blur, scaling)},
                {**extra, "metric": "sinkhorn_test_n", "value": float(m)}])], ignore_index=True)
        for name, df in tables.items():
            out[name].append(df)
    res = {name: pd.concat(dfs, ignore_index=True) for name, dfs in out.items()}
    if history is not None:
        res["training"] = training_summary(history, keys)
    return res


def training_summary(history: pd.DataFrame, keys: dict) -> pd.DataFrame:
    """Best validation loss, the epoch it was reached and the final losses (one row)."""
    keys = {k: keys[k] for k in KEY_COLUMNS}
    val = pd.to_numeric(history["val_loss"], errors="coerce")
    if len(history) == 0 or val.isna().all():
        return pd.DataFrame([{**keys, "best_epoch": np.nan, "best_val_loss": np.nan, "final_val_loss": np.nan,
                              "final_train_loss": np.nan, "n_epochs": len(history)}])
    best = history.loc[val.idxmin()]
    return pd.DataFrame([{**keys, "best_epoch": int(best["epoch"]), "best_val_loss": float(best["val_loss"]),
                          "final_val_loss": float(val.iloc[-1]),
                          "final_train_loss": float(history["train_loss"].iloc[-1]), "n_epochs": len(history)}])


# ---------------------------------------------------------------------- aggregation over seeds
SUMMARY_TABLES = plan.EVAL_SUMMARY_TABLES


def _std0(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=0)) if len(x) else np.nan


def summarise(per_model: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The aggregation over seeds (docs/method.md §3) from the concatenated per-model tables
    ('metrics', 'distance', 'transmat', 'freq_vol', 'training', 'histories'; and 'floors', the loss
    floor of each HMM, which adds the excess-loss columns to 'training' and 'histories').

    grid_summary: per (hmm, hidden, dim, T_eval, metric) the mean and std (ddof 0) over seeds, plus
    n_seeds; every tidy metric (the training metrics at T_eval = the training T).  grid_transmat: per
    (hmm, hidden, dim, T_eval, source, from, to) the mean and std over seeds of p and of the squared
    differences.  hmm_band: per (hmm, T_eval) the HMM-vs-HMM baseline pooled over every model of the
    HMM (D11): mean, std over models, and the mean per-sequence std."""
    metrics = per_model["metrics"].copy()
    train, histories = per_model["training"], per_model["histories"]
    if "floors" in per_model:  # the loss floor of each HMM (rnnhmm.floor): excess losses over it
        from .floor import with_excess

        floors = per_model["floors"]
        train = with_excess(train, floors, {"best_val_loss": ("val", "best_val_excess"),
                                            "final_val_loss": ("val", "final_val_excess")})
        histories = with_excess(histories, floors, {"train_loss": ("train", "train_excess"),
                                                    "val_loss": ("val", "val_excess")})
    excess = [c for c in ("best_val_excess", "final_val_excess") if c in train]
    # the training metrics join the tidy table at each model's first (training) length
    first_len = metrics.groupby(KEY_COLUMNS, as_index=False).agg(T_eval=("T_eval", "min"), N=("N", "first"))
    tm = train.merge(first_len, on=KEY_COLUMNS, how="left")
    extra = tm.melt(id_vars=KEY_COLUMNS + ["T_eval", "N"], value_vars=["best_val_loss", "best_epoch", "final_val_loss", *excess],
                    var_name="metric", value_name="value")
    metrics = pd.concat([metrics, extra], ignore_index=True)
    group = ["hmm", "hidden", "dim", "T_eval", "metric"]
    grid = (metrics.groupby(group, sort=True)["value"]
            .agg(n_seeds="count", mean="mean", std=_std0, min="min", max="max").reset_index())
    tr = per_model["transmat"]
    gt = (tr.groupby(["hmm", "hidden", "dim", "T_eval", "source", "from", "to"], sort=True)
          .agg(n_seeds=("p", "count"), p_mean=("p", "mean"), p_std=("p", _std0),
               sqdiff_vs_emp_mean=("sqdiff_vs_emp", "mean"), sqdiff_vs_emp_std=("sqdiff_vs_emp", _std0),
               sqdiff_vs_analytic_mean=("sqdiff_vs_analytic", "mean"),
               sqdiff_vs_analytic_std=("sqdiff_vs_analytic", _std0),
               row_empty_frac=("row_empty", "mean")).reset_index())
    dist = per_model["distance"]
    band = (dist.groupby(["hmm", "T_eval"], sort=True)
            .agg(n_models=("base_mean", "count"), base_mean=("base_mean", "mean"), base_std_models=("base_mean", _std0),
                 base_std_seq=("base_std", "mean"), rnn_mean_min=("rnn_mean", "min")).reset_index())
    band["base_std_models"] = band["base_std_models"].fillna(0.0)
    band["lo"] = band["base_mean"] - band["base_std_models"]
    band["hi"] = band["base_mean"] + band["base_std_models"]
    return {"metrics.csv": metrics, "distance.csv": dist, "transmat.csv": tr, "freq_vol.csv": per_model["freq_vol"],
            "training.csv": train, "histories.csv": histories, "grid_summary.csv": grid,
            "grid_transmat.csv": gt, "hmm_band.csv": band}
