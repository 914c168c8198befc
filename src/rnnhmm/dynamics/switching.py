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


def _source_dwells(o: np.ndarray, source: int, min_dwell: int):
    """(start, end, next_end) of the complete dwells in ``source`` of at least ``min_dwell`` steps that
    end by leaving it; next_end is the end of the following (target) dwell, or −1 when that dwell is
    not complete."""
    s = switch_times(o)
    out = []
    for k in range(len(s) - 1):
        start, end = s[k], s[k + 1]
        if o[start] != source or end - start < min_dwell:
            continue
        out.append((int(start), int(end), int(s[k + 2]) if k + 2 < len(s) else -1))
    return out


def _core(start: int, end: int) -> np.ndarray:
    """The middle third of the dwell [start, end) (at least one step)."""
    length = end - start
    return np.arange(start + length // 3, start + max(2 * length // 3, length // 3 + 1))


def dwell_windows(o: np.ndarray, source: int, pre_window: int, min_dwell: int = 1):
    """Pre-switch and core step indices of the complete dwells in ``source`` that end by leaving it.

    A dwell runs from switch s_k to s_{k+1} − 1; dwells shorter than ``min_dwell`` steps are left out;
    its core is its middle third; its pre-switch window is [s_{k+1} − pre_window, s_{k+1} − 1], clipped
    to the dwell.  Returns (pre indices, core indices, number of dwells)."""
    pre, core = [], []
    for start, end, _ in _source_dwells(o, source, min_dwell):
        pre.append(np.arange(max(start, end - pre_window), end))
        core.append(_core(start, end))
    none = np.zeros(0, dtype=int)
    return np.concatenate([none, *pre]), np.concatenate([none, *core]), len(pre)


def target_cores(o: np.ndarray, source: int, min_dwell: int = 1) -> np.ndarray:
    """Core step indices of the *target* dwells: the complete dwell that follows each dwell of
    :func:`dwell_windows` (the output the switch went to), when it too has at least ``min_dwell``
    steps.  A neuron of the target cluster rises before the switch as a kick neuron does, and stays
    on in these cores, where a kick neuron falls silent again."""
    core = [_core(end, nxt) for _, end, nxt in _source_dwells(o, source, min_dwell)
            if nxt >= 0 and nxt - end >= min_dwell]
    return np.concatenate([np.zeros(0, dtype=int), *core])
