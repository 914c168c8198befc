"""The allowed values of every analysis parameter and the check of an analysis' parameters against them.

One range per parameter name (``PARAM_RANGES``; ``RANGE_OVERRIDES`` where a name means something
else in one analysis) and the cross-parameter rules ``CROSS_CHECKS``.  Standard library only: the
workflow validates config.yaml with it before planning any job, and the analysis stage checks its
parameters with it again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import UserError


@dataclass(frozen=True)
class Range:
    """The allowed values of one analysis parameter.

    kind 'integer' / 'real': ``low`` / ``high`` bounds (None = unbounded), each closed unless
    ``low_open`` / ``high_open``; 'string': one of ``choices`` (or, without choices, a name matching
    ``pattern``); 'list': at least ``min_len`` elements, each within ``item``."""

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    item: Range | None = None
    min_len: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("integer", "real", "string", "list"):
            raise ValueError(f"unknown range kind {self.kind!r}")
        if self.kind == "list" and (self.item is None or self.item.kind == "list"):
            raise ValueError("a list range needs an element range that is not a list")
        if self.kind == "string" and not (self.choices or self.pattern):
            raise ValueError("a string range needs its allowed values (choices) or a pattern")

    def describe(self) -> str:
        """e.g. 'integer >= 1', 'real in (0, 1]', "one of 'authors', 'random'", 'list of at least 1 real > 0'."""
        if self.kind == "list":
            return f"list of {f'at least {self.min_len} ' if self.min_len else ''}{self.item.describe()}"
        if self.kind == "string":
            if self.choices:
                return "one of " + ", ".join(repr(c) for c in self.choices)
            return "names of letters and digits, starting with a letter"
        if self.low is not None and self.high is not None:
            return (f"{self.kind} in {'(' if self.low_open else '['}{self.low:g}, "
                    f"{self.high:g}{')' if self.high_open else ']'}")
        if self.low is not None:
            return f"{self.kind} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{self.kind} {'<' if self.high_open else '<='} {self.high:g}"
        return f"any {self.kind}"

    def contains(self, value) -> bool:
        if self.kind == "list":
            return (isinstance(value, (list, tuple)) and len(value) >= self.min_len
                    and all(self.item.contains(v) for v in value))
        if self.kind == "string":
            if not isinstance(value, str):
                return False
            return value in self.choices if self.choices else re.fullmatch(self.pattern, value) is not None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "integer" and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        # written so that NaN fails every comparison
        if self.low is not None and not (value > self.low if self.low_open else value >= self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)


def integer(low: int | None = None, high: int | None = None) -> Range:
    return Range("integer", low, high)


def real(low: float | None = None, high: float | None = None, low_open: bool = False,
         high_open: bool = False) -> Range:
    return Range("real", low, high, low_open, high_open)


def one_of(*choices: str) -> Range:
    return Range("string", choices=tuple(choices))


def list_of(item: Range, min_len: int = 1) -> Range:
    return Range("list", item=item, min_len=min_len)


COUNT = integer(1)  # steps, states, rollouts, trials, candidates, ...
OFFSET = integer(0)  # start offsets and skips that may be 0
ALL_IF_ZERO = integer(0)  # 0 means "all" / "none" (read in the module's code)
POSITIVE = real(0, low_open=True)  # noise levels σ, tolerances, scales
FRACTION = real(0, 1)  # probabilities and fractions
COSINE = real(0, 1, low_open=True)
NAME = Range("string", pattern=r"[A-Za-z][A-Za-z0-9]*")  # the names of config.yaml's hmms

# One range per parameter name: a name shared by several analyses means the same there.
PARAM_RANGES: dict[str, Range] = {
    # shared
    "warmup": COUNT,  # >= 1: nominal_run (noise_sensitivity, ablation) and kick_neurons index the last warm-up state
    "steps": COUNT,
    "sigma": POSITIVE,
    "eps_im": real(0),  # critical: Im m(λ) > eps_im; negative would count both members of a conjugate pair
    "chunk_rows": COUNT,
    "half_window": COUNT,  # window [s - hw, s + hw); 0 would be empty
    "theta_slow": POSITIVE,
    "rollouts": COUNT,
    "max_steps": COUNT,
    "n_components": COUNT,
    "pca_steps": COUNT,
    "noinput_starts": COUNT,
    "noinput_steps": COUNT,
    "contour_sigmas": list_of(POSITIVE),
    # ablation
    "mus": list_of(real(0)),
    "mu_excite": real(0),
    "free_steps": COUNT,
    "noise_top": COUNT,
    "control_top": COUNT,
    "control": one_of("authors", "random"),
    "locate_steps": COUNT,
    "locate_max_runs": COUNT,
    "n_traj": COUNT,
    "traj_steps": COUNT,
    "fresh_weight": FRACTION,  # gamma of mix_noise: sqrt(1 - γ²)
    "shown_traj": COUNT,
    # compositional
    "pair_components": COUNT,
    "l_min": COUNT,
    "l_min_floor": COUNT,  # 0 would halve L_min forever
    "min_segments": COUNT,
    "draw_segments": COUNT,
    "draw_max_len": COUNT,
    "contour_steps": COUNT,
    "contour_min_points": COUNT,
    "residency_steps": COUNT,
    "residency_max_states": ALL_IF_ZERO,
    # connectivity
    "k_pop": integer(2),  # split in halves P1, P2
    # fixed_points
    "orbit_steps": COUNT,
    "n_starts": COUNT,
    "iter_max": COUNT,
    "iter_tol": POSITIVE,
    "lbfgs_maxiter": COUNT,
    "lbfgs_batch": COUNT,
    "unconstrained_starts": COUNT,
    "merge_cos": COSINE,
    "q_fixed": POSITIVE,
    "eig_tol": POSITIVE,
    "max_patterns": COUNT,
    "kappa_window": integer(2),  # a slope needs two points (contraction_rate returns 0 otherwise)
    "basin_cos": COSINE,
    "origin_shrink": real(0, 1, low_open=True),
    # kick_neurons
    "ref_steps": COUNT,
    "source_min_frac": real(0, 1, low_open=True),
    "pre_window": COUNT,
    "min_dwell": COUNT,  # dwells shorter than this are left out of the gate score and the kick signature
    "min_frac_silent": FRACTION,
    "n_candidates": COUNT,
    "group_size": COUNT,
    "n_rollouts": COUNT,
    "rollout_steps": COUNT,
    "p_cluster": FRACTION,
    "min_before_switch": OFFSET,
    "n_null": integer(2),  # the z-score needs the null's standard deviation
    "top_n": COUNT,
    "z_min": real(0),
    "preact_steps": COUNT,
    "validation_steps": COUNT,
    # mean_activity: a pair (or all three) of the group labels 1-3 that connectivity writes
    "show_steps": COUNT,
    "pair": one_of("12", "13", "23", "123"),
    # noise_sensitivity
    "n_steps": COUNT,
    "max_runs": COUNT,
    "max_candidates": ALL_IF_ZERO,
    "min_start": OFFSET,
    "skip_switches": OFFSET,
    "fpt_rollouts": COUNT,
    "fpt_steps": COUNT,
    "fast_m": POSITIVE,
    "gammas": list_of(FRACTION),
    "test_trajectories": COUNT,
    "test_steps": COUNT,
    "shown_trajectories": COUNT,
    # noise_sweep
    "dominant_steps": COUNT,
    "sigmas": list_of(POSITIVE),
    "n_sequences": integer(2),  # as evaluate.n_sequences: the matched distance needs two sequences
    "sinkhorn_n": ALL_IF_ZERO,
    "chunk": COUNT,
    # orbits
    "radius_sigmas": list_of(POSITIVE),  # log-log fits: σ > 0
    "bw_adjust": POSITIVE,
    "grid": integer(2),  # the KDE cell size needs two grid lines
    "kde_max_points": integer(3),  # a 2-D KDE needs at least 3 points
    "levels": list_of(real(0, 1, low_open=True, high_open=True)),
    # residency
    "n_states": COUNT,
    "n_states_chain2": COUNT,
    # silencing
    "n_runs": COUNT,
    "run_steps": integer(2),  # a switch needs two steps
    "match_k": COUNT,
    "max_size": ALL_IF_ZERO,  # 0: no group-size curve
    "select_runs": COUNT,
    "select_steps": integer(2),
    "target_ratio": FRACTION,
    # state_space
    "input_steps": COUNT,
    # training_evolution
    "epoch_step": COUNT,
    "e_max": COUNT,
    "e_max_short": COUNT,
    "short_hmms": list_of(NAME, min_len=0),
    "jac_start": OFFSET,
    "jac_stride": COUNT,
    "dh2_trials": COUNT,
    "dh2_prelude": OFFSET,
    "dh2_steps": COUNT,
    "dh2_jitter": real(0),
    "bif_threshold": FRACTION,  # on |Δ| of a fraction
    "bif_override": ALL_IF_ZERO,  # 0: the rule decides; > 0: this epoch
    "converged_last": COUNT,  # 0 would average every epoch (tail[-0:])
    "pca_clip": POSITIVE,
    "pca_points": COUNT,
}

# (analysis, parameter) -> range, only where the name means something else in that analysis.
RANGE_OVERRIDES: dict[tuple[str, str], Range] = {}

# (analysis, parameter, operator, other parameter): cross-parameter rules.  Only where the result would
# otherwise be empty or meaningless, plus "shown <= simulated" for displayed counts (where the code
# clamps on purpose, e.g. noise_sensitivity's shown_trajectories, no rule is added).
CROSS_CHECKS: tuple[tuple[str, str, str, str], ...] = (
    ("ablation", "shown_traj", "<=", "n_traj"),
    ("compositional", "l_min_floor", "<=", "l_min"),  # L_min is halved down to the floor
    ("mean_activity", "show_steps", "<=", "steps"),
    ("noise_sensitivity", "theta_slow", "<=", "fpt_steps"),  # m(u) is censored at fpt_steps: no point could be slow
    ("training_evolution", "jac_start", "<", "steps"),  # otherwise no Jacobian is analysed
    ("training_evolution", "pca_points", "<=", "steps"),
)
_OPS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


class ParamError(UserError, ValueError):
    """A bad analysis parameter; ``param`` is its name (the config key ends with it)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def param_range(analysis: str, param: str) -> Range | None:
    """The declared range of ``param`` of ``analysis`` (None when there is none)."""
    return RANGE_OVERRIDES.get((analysis, param), PARAM_RANGES.get(param))


_KIND_OF_DEFAULT = {int: "integer", float: "real", str: "string", list: "list", tuple: "list"}




def check_declared(name: str, where: str, defaults: dict) -> None:
    """Every non-boolean default has a declared range of its kind and lies in it (RuntimeError otherwise)."""
    for k, d in defaults.items():
        if isinstance(d, bool):
            continue
        what = f"analysis '{name}' ({where}) parameter '{k}' (default {d!r})"
        r = param_range(name, k)
        if r is None:
            raise RuntimeError(f"{what} has no declared range; add one to PARAM_RANGES in rnnhmm/plan/params.py")
        if d is None:  # any value of the range's kind (check_params accepts every type for a None default)
            continue
        if _KIND_OF_DEFAULT.get(type(d)) != r.kind:
            raise RuntimeError(f"{what} is a {type(d).__name__} but its declared range is {r.describe()}")
        if not r.contains(d):
            raise RuntimeError(f"{what} lies outside its declared range: {r.describe()}")
    for analysis, left, op, right in CROSS_CHECKS:
        if analysis == name and not (left in defaults and right in defaults):
            raise RuntimeError(f"cross-parameter rule {left} {op} {right} of analysis '{name}' names an unknown parameter")


def check_params(name: str, defaults: dict, params: dict | None) -> dict:
    """``params`` merged over an analysis' ``defaults``.  Unknown keys, wrong types, values outside the
    declared range and broken cross-parameter rules raise ParamError (a ValueError) with one line."""
    out = dict(defaults)
    for k, v in (params or {}).items():
        if k not in defaults:
            raise ParamError(f"unknown parameter '{k}' of analysis '{name}'; allowed: {', '.join(sorted(defaults))}", k)
        d = defaults[k]
        ok = (isinstance(v, bool) == isinstance(d, bool)) and (
            (isinstance(d, int) and not isinstance(d, bool) and isinstance(v, int))
            or (isinstance(d, float) and isinstance(v, (int, float)) and not isinstance(v, bool))
            or (isinstance(d, (list, tuple)) and isinstance(v, (list, tuple)))
            or (isinstance(d, str) and isinstance(v, str))
            or (isinstance(d, bool) and isinstance(v, bool))
            or d is None
        )
        if not ok:
            raise ParamError(f"parameter '{k}' of analysis '{name}' = {v!r} has the wrong type; expected {type(d).__name__}", k)
        r = param_range(name, k)
        if r is not None and not r.contains(v):
            what = "is not allowed" if "string" in (r.kind, r.item and r.item.kind) else "is out of range"
            raise ParamError(f"parameter '{k}' of analysis '{name}' = {v!r} {what}; allowed: {r.describe()}", k)
        out[k] = v
    for analysis, left, op, right in CROSS_CHECKS:
        if analysis == name and not _OPS[op](out[left], out[right]):
            raise ParamError(f"parameter '{left}' of analysis '{name}' = {out[left]!r} is out of range; "
                             f"allowed: {op} {right} (= {out[right]!r})", left)
    return out
