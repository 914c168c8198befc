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
