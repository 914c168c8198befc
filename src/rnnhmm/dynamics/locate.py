"""Locating cluster and transition points before a switch (§4.6, D10), shared by noise sensitivity and
ablation: a nominal noisy run, its candidate switches, the first-passage scan before each and the
acceptance test."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .regions import first_passage
from .simulate import Network
from .switching import switch_times


@dataclass
class LocateResult:
    """A located switch on a nominal run.  Index t refers to h[t]; h[t] = F(h[t−1], x[t]) for t ≥ 1,
    h[0] is the post-warm-up start (x[0] is the warm-up input that produced it)."""

    t_p: int  # previous switch
    t_s: int  # the switch
    t_c: int  # cluster point
    t_k: int  # transition point
    h: np.ndarray  # (n_steps + 1, H) nominal states
    x: np.ndarray  # (n_steps + 1, d) nominal inputs
    o: np.ndarray  # (n_steps + 1,) dominant outputs
    attempt: int  # 1-based nominal run that succeeded
    candidate: int  # 0-based rank of the accepted candidate in that run
    fpt: pd.DataFrame = field(repr=False)  # first-passage scan: u, m, f, o_u

    def points(self) -> dict:
        return {"t_p": self.t_p, "t_s": self.t_s, "t_c": self.t_c, "t_k": self.t_k, "attempt": self.attempt,
                "candidate": self.candidate, "source": int(self.o[self.t_s - 1]), "target": int(self.o[self.t_s])}


def nominal_run(net: Network, rng: np.random.Generator, n_steps: int, warmup: int = 100, sigma: float = 1.0):
    """h (n+1, H), x (n+1, d), o (n+1,): n_steps post-warm-up steps from h_0 = 0 with stored inputs."""
    x = net.noise(rng, warmup + n_steps, 1, sigma)[:, 0]
    h = net.run(np.zeros(net.hidden), x[:, None])[:, 0]
    h, x = h[warmup - 1:], x[warmup - 1:]
    return h, x, net.dominant(h)


def candidates(o: np.ndarray, min_start: int = 200, skip_switches: int = 4, source: int | None = None,
               tail: int = 5) -> list[tuple[int, int]]:
    """(t_p, t_s) pairs ranked by dwell length t_s − t_p, descending (ties: earlier first).

    Skip the first ``skip_switches`` switches, keep t_s > min_start and t_s + tail ≤ last index, and
    (ablation) the output before the switch equal to ``source``."""
    s = switch_times(o)
    out = []
    for i in range(max(skip_switches, 1), len(s)):
        t_p, t_s = int(s[i - 1]), int(s[i])
        if t_s <= min_start or t_s + tail > len(o) - 1:
            continue
        if source is not None and int(o[t_s - 1]) != int(source):
            continue
        out.append((t_p, t_s))
    out.sort(key=lambda c: (-(c[1] - c[0]), c[1]))
    return out


def fpt_scan(net: Network, h: np.ndarray, u0: int, u1: int, rng: np.random.Generator, rollouts: int = 100,
             max_steps: int = 25, sigma: float = 1.0, **gains) -> pd.DataFrame:
    """For u in [u0, u1]: m(u) mean first-passage time (censored at max_steps), f(u) switched fraction."""
    u = np.arange(u0, u1 + 1)
    fp = first_passage(net, h[u], rng, rollouts, max_steps, sigma, **gains)
    return pd.DataFrame({"u": u, "m": fp.exit_time.mean(axis=1), "f": fp.switched.mean(axis=1), "o_u": fp.k0})


def transition_point(scan: pd.DataFrame, t_s: int, fast_m: float = 3.0) -> int | None:
    """t_k = min{u < t_s : m(u) < fast_m and f(u) = 1}."""
    sel = scan[(scan["u"] < t_s) & (scan["m"] < fast_m) & (scan["f"] >= 1.0)]
    return int(sel["u"].min()) if len(sel) else None


def is_accepted(scan: pd.DataFrame, t_s: int, t_k: int | None, theta_slow: float) -> bool:
    """t_k exists and some scanned u < t_s is slow: m(u) ≥ θ_slow with f(u) < 1."""
    if t_k is None:
        return False
    slow = scan[(scan["u"] < t_s) & (scan["m"] >= theta_slow) & (scan["f"] < 1.0)]
    return len(slow) > 0


def locate(net: Network, rng: np.random.Generator, n_steps: int = 2000, theta_slow: float = 9.0,
           source: int | None = None, max_runs: int = 10, warmup: int = 100, sigma: float = 1.0,
           max_candidates: int | None = 20, min_start: int = 200, skip_switches: int = 4, fpt_rollouts: int = 100,
           fpt_steps: int = 25, fast_m: float = 3.0, tail: int = 5, trace: list | None = None,
           **gains) -> LocateResult | None:
    """Find cluster and transition points before a switch (§4.6), or None after ``max_runs`` runs (D10).

    Per nominal run: candidate switches ranked by dwell length (at most ``max_candidates`` tried), then
    t_c = max(⌊(t_p + t_s)/2⌋, t_s − 100), the first-passage scan over u ∈ [t_c, t_s + 5], the
    transition point and the acceptance test with ``theta_slow``.  ``tail`` steps of nominal input must
    follow t_s (the continuation noise of the test; ablation needs 100).  If ``trace`` is a list, one
    record per nominal run (attempt, n_switches, n_candidates, tried, accepted) is appended to it.
    Gains (c_rec, c_in) apply to the rollouts of the scan only."""
    for attempt in range(1, max_runs + 1):
        h, x, o = nominal_run(net, rng, n_steps, warmup, sigma)
        cands = candidates(o, min_start, skip_switches, source, tail=max(tail, 5))
        tried = cands if max_candidates is None else cands[:max_candidates]
        rec = {"attempt": attempt, "n_switches": int(len(switch_times(o))), "n_candidates": len(cands),
               "tried": len(tried), "accepted": False}
        for rank, (t_p, t_s) in enumerate(tried):
            t_c = max((t_p + t_s) // 2, t_s - 100)
            scan = fpt_scan(net, h, t_c, t_s + 5, rng, fpt_rollouts, fpt_steps, sigma, **gains)
            t_k = transition_point(scan, t_s, fast_m)
            if is_accepted(scan, t_s, t_k, theta_slow):
                rec["accepted"] = True
                if trace is not None:
                    trace.append(rec)
                return LocateResult(t_p, t_s, t_c, t_k, h, x, o, attempt, rank, scan)
        if trace is not None:
            trace.append(rec)
    return None
