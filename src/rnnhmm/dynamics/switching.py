"""Switches and dwells of the dominant output o_t (docs/method.md §0 conventions).

A switch at t means o_t != o_{t-1}; dwells are the gaps between consecutive switches (complete ones
only).  TR = mean over dwells of 1/dwell (the authors' definition); p_sw = #switches / (n - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def switch_times(o: np.ndarray) -> np.ndarray:
    """Indices t >= 1 with o[t] != o[t-1] for a 1-D sequence."""
    o = np.asarray(o)
    return np.flatnonzero(o[1:] != o[:-1]) + 1


def dwells(o: np.ndarray) -> np.ndarray:
    """Lengths of the complete dwells (between consecutive switches)."""
    return np.diff(switch_times(o))


@dataclass(frozen=True)
class SwitchStats:
    n_steps: int
    n_switches: int
    p_sw: float
    tr: float  # NaN when there is no complete dwell
    mean_dwell: float
    cv_dwell: float


def switch_stats(o: np.ndarray) -> SwitchStats:
    o = np.asarray(o)
    s = switch_times(o)
    d = np.diff(s)
    n = len(o)
    tr = float(np.mean(1.0 / d)) if len(d) else float("nan")
    mean_d = float(d.mean()) if len(d) else float("nan")
    cv = float(d.std() / d.mean()) if len(d) > 1 else float("nan")
    return SwitchStats(n, len(s), len(s) / max(n - 1, 1), tr, mean_d, cv)


def dwell_windows(o: np.ndarray, source: int, pre_window: int):
    """Pre-switch and core step indices of the complete dwells in ``source`` that end by leaving it.

    A dwell runs from switch s_k to s_{k+1} − 1; its core is its middle third; its pre-switch window is
    [s_{k+1} − pre_window, s_{k+1} − 1], clipped to the dwell."""
    s = switch_times(o)
    pre, core = [], []
    for start, end in zip(s[:-1], s[1:], strict=False):
        if o[start] != source:
            continue
        length = end - start
        pre.append(np.arange(max(start, end - pre_window), end))
        core.append(np.arange(start + length // 3, start + max(2 * length // 3, length // 3 + 1)))
    none = np.zeros(0, dtype=int)
    return np.concatenate([none, *pre]), np.concatenate([none, *core]), len(pre)
