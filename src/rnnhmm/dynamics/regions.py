"""The rollout core shared by residency (§4.5), noise sensitivity (§4.6) and compositional reuse
(§4.12): fresh-noise first-passage rollouts from given states, residency times RT(h) and sign
changes SC(h), p_max, the zero-input spectra per state and the region labels
(transition / kick-zone / cluster / unassigned) with their per-region summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .simulate import Network
from .spectra import EPS_IM_EVOLUTION, count_spectra

# Region thresholds (§4.5)
RT_TRANSITION = 2.0  # RT < 2
RT_KICK = 8.0  # 2 <= RT <= 8
P_CLUSTER = 0.8  # cluster: RT > 8 and p_max > 0.8
REGIONS = ("transition", "kick-zone", "cluster", "unassigned")
RT_BINS = (1, 2, 4, 9)  # display bins [1, 2, 4, 9, max]


def update_sign_changes(last_sign: np.ndarray, count: np.ndarray, delta: np.ndarray,
                        active: np.ndarray | None = None) -> None:
    """One step of sign-change counting, in place: a change is counted when sign(delta) differs from
    the last non-zero sign; zero increments are ignored and the first non-zero one only initialises."""
    s = np.sign(delta).astype(np.int8)
    nz = s != 0
    if active is not None:
        nz &= active
    count += (nz & (last_sign != 0) & (s != last_sign)).astype(count.dtype)
    last_sign[nz] = s[nz]


def sign_changes(z: np.ndarray) -> np.ndarray:
    """Sign changes of the increments of z along its last axis (e.g. a logit sequence z_0..z_L)."""
    z = np.asarray(z, dtype=np.float64)
    lead = z.shape[:-1]
    last = np.zeros(lead, dtype=np.int8)
    count = np.zeros(lead, dtype=np.int64)
    for t in range(1, z.shape[-1]):
        update_sign_changes(last, count, z[..., t] - z[..., t - 1])
    return count


@dataclass(frozen=True)
class FirstPassage:
    exit_time: np.ndarray  # (n, R) int: first step s with o(h_s) != o(h), or max_steps when censored
    switched: np.ndarray  # (n, R) bool: False = censored at max_steps
    sign_changes: np.ndarray  # (n, R) int: sign changes of z_{k0} before the exit
    k0: np.ndarray  # (n,) dominant output of each start state


def first_passage(net: Network, states: np.ndarray, rng: np.random.Generator, rollouts: int = 20,
                  max_steps: int = 60, sigma: float = 1.0, chunk_rows: int = 20000, c_rec: np.ndarray | None = None,
                  c_in: np.ndarray | None = None, dtype=np.float32) -> FirstPassage:
    """R fresh-noise rollouts of at most ``max_steps`` steps from each state (n, H), batched.

    Rollouts stop at their exit (the first step whose dominant output differs from the start's); only
    the still-running rollouts are advanced, in chunks of ``chunk_rows`` rollouts, so memory stays at a
    few chunk_rows × H arrays whatever n is.  Optional gains apply the §4.10 interventions.  The rollouts
    run in ``dtype`` (float32 by default, the training precision; about twice as fast as float64); the
    start outputs k₀ are taken in float64."""
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    n, H = states.shape
    k0 = net.dominant(states)
    dtype = np.dtype(dtype)
    net = Network(net.W.astype(dtype), net.U.astype(dtype), net.A.astype(dtype))
    c_rec = None if c_rec is None else np.asarray(c_rec, dtype=dtype)
    c_in = None if c_in is None else np.asarray(c_in, dtype=dtype)
    exit_time = np.full(n * rollouts, max_steps, dtype=np.int64)
    switched = np.zeros(n * rollouts, dtype=bool)
    sc = np.zeros(n * rollouts, dtype=np.int64)
    per = max(1, chunk_rows // max(rollouts, 1))  # start states per chunk
    for c0 in range(0, n, per):
        c1 = min(n, c0 + per)
        rows = np.arange(c0 * rollouts, c1 * rollouts)
        h = np.repeat(states[c0:c1].astype(dtype), rollouts, axis=0)
        k = np.repeat(k0[c0:c1], rollouts)
        idx = np.arange(len(rows))  # positions (within the chunk) of the running rollouts
        z_prev = np.take_along_axis(net.logits(h), k[:, None], axis=1)[:, 0].astype(np.float64)
        last = np.zeros(len(rows), dtype=np.int8)
        cnt = np.zeros(len(rows), dtype=np.int64)
        for s in range(1, max_steps + 1):
            if len(idx) == 0:
                break
            x = rng.standard_normal((len(idx), net.dim), dtype=dtype)
            if sigma != 1.0:
                x *= dtype.type(sigma)
            h = net.step(h, x, c_rec=c_rec, c_in=c_in)
            z = net.logits(h)
            out = np.argmax(z, axis=1) != k[idx]
            if out.any():
                gone = idx[out]
                exit_time[rows[gone]] = s
                switched[rows[gone]] = True
            stay = ~out
            zk = np.take_along_axis(z, k[idx][:, None], axis=1)[:, 0]
            sub_last, sub_cnt = last[idx], cnt[idx]
            update_sign_changes(sub_last, sub_cnt, zk.astype(np.float64) - z_prev, active=stay)
            last[idx], cnt[idx] = sub_last, sub_cnt
            idx, h, z_prev = idx[stay], h[stay], zk[stay].astype(np.float64)
        sc[rows] = cnt
    return FirstPassage(exit_time.reshape(n, rollouts), switched.reshape(n, rollouts), sc.reshape(n, rollouts), k0)


@dataclass(frozen=True)
class Residency:
    rt: np.ndarray  # (n,) mean exit time (censored rollouts count as max_steps)
    sc: np.ndarray  # (n,) mean sign changes
    frac_switched: np.ndarray  # (n,) fraction of rollouts that left o(h) within max_steps
    k0: np.ndarray  # (n,)


def residency(net: Network, states: np.ndarray, rng: np.random.Generator, rollouts: int = 20, max_steps: int = 60,
              sigma: float = 1.0, chunk_rows: int = 20000, **gains) -> Residency:
    """RT(h) and SC(h) for each state (§4.5): means over ``rollouts`` fresh-noise rollouts of ≤ max_steps."""
    fp = first_passage(net, states, rng, rollouts, max_steps, sigma, chunk_rows, **gains)
    return Residency(fp.exit_time.mean(axis=1), fp.sign_changes.mean(axis=1), fp.switched.mean(axis=1), fp.k0)


def p_max(net: Network, states: np.ndarray) -> np.ndarray:
    """max_k softmax(z(h))_k per state."""
    z = net.logits(np.atleast_2d(states))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).max(axis=1)


def label_regions(rt: np.ndarray, pmax: np.ndarray) -> np.ndarray:
    """transition (RT < 2), kick-zone (2 ≤ RT ≤ 8), cluster (RT > 8 and p_max > 0.8), else unassigned."""
    rt, pmax = np.asarray(rt, dtype=float), np.asarray(pmax, dtype=float)
    lab = np.full(rt.shape, "unassigned", dtype=object)
    lab[rt < RT_TRANSITION] = "transition"
    lab[(rt >= RT_TRANSITION) & (rt <= RT_KICK)] = "kick-zone"
    lab[(rt > RT_KICK) & (pmax > P_CLUSTER)] = "cluster"
    return lab


def zero_input_spectra(net: Network, states: np.ndarray, eps_im: float = EPS_IM_EVOLUTION):
    """U(h) and n_critical of J(h) = diag(1[Wh > 0]) W per state (zero input)."""
    masks = net.preact(np.atleast_2d(states)) > 0
    return count_spectra(net.W, masks, eps_im=eps_im)


def state_table(net: Network, states: np.ndarray, rng: np.random.Generator, rollouts: int = 20,
                max_steps: int = 60, sigma: float = 1.0, chunk_rows: int = 20000) -> pd.DataFrame:
    """Per-state residency table (idx, o, p_max, rt, sc, frac_switched, n_unstable, n_critical, region)."""
    res = residency(net, states, rng, rollouts, max_steps, sigma, chunk_rows)
    pm = p_max(net, states)
    spec = zero_input_spectra(net, states)
    return pd.DataFrame({
        "idx": np.arange(len(states)), "o": res.k0, "p_max": pm, "rt": res.rt, "sc": res.sc,
        "frac_switched": res.frac_switched, "n_unstable": spec.n_unstable.astype(int),
        "n_critical": spec.n_critical.astype(int), "region": label_regions(res.rt, pm),
    })


def summarize(tbl: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per region (every region listed, empty ones with n_states = 0 and NaN means)."""
    rows = []
    groups = tbl.groupby(list(by)) if by else [((), tbl)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        for region in REGIONS:
            r = g[g["region"] == region]
            n = len(r)
            rows.append({**dict(zip(by, key, strict=True)), "region": region, "n_states": n, "frac_states": n / max(len(g), 1),
                         "mean_rt": r["rt"].mean() if n else np.nan, "mean_sc": r["sc"].mean() if n else np.nan,
                         "mean_unstable": r["n_unstable"].mean() if n else np.nan,
                         "sem_unstable": r["n_unstable"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                         "mean_critical": r["n_critical"].mean() if n else np.nan})
    return pd.DataFrame(rows)
