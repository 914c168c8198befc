"""Mean activities of kick groups and noise-integrating populations over time (docs/method.md §4.9).

One noisy run (``steps`` post-warm-up steps from h_0 = 0); m_G(t) = mean_{i∈G} h_{i,t} for the kick
groups G1, G2 and the populations P1, P2 of the pair (1, 2) from ``connectivity``, next to the dominant
output o_t (the figure shades the background between switches and shows the first ``show_steps``).
Group names follow §4.7 (§6 D14).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io import read_json
from .registry import Analysis, AnalysisContext
from .simulate import noisy_run

DEFAULTS = {"warmup": 100, "steps": 300, "show_steps": 200, "pair": "12"}


def group_means(states: np.ndarray, o: np.ndarray, sets: dict[str, list[int]]) -> pd.DataFrame:
    """Long table (t, group, value, o) of the mean activity of every named set of neurons."""
    t = np.arange(len(states))
    frames = [pd.DataFrame({"t": t, "group": name, "value": states[:, np.asarray(idx, dtype=int)].mean(axis=1),
                            "o": o}) for name, idx in sets.items() if len(idx)]
    if not frames:  # still record the dominant output, so the figure can shade the switches
        return pd.DataFrame({"t": t, "group": "none", "value": np.nan, "o": o})
    return pd.concat(frames, ignore_index=True)


def analyse(ctx: AnalysisContext) -> dict:
    p = ctx.params
    pops = read_json(ctx.analysis_dir("connectivity") / "populations.json")
    pair = pops.get("pairs", {}).get(p["pair"])
    sets = {}
    if pair:
        a, b = pair["groups"]
        sets = {f"G{a}": pair["G1"], f"G{b}": pair["G2"], "P1": pair["P1"], "P2": pair["P2"]}
    net = ctx.network()
    states = noisy_run(net, ctx.rng("run"), p["steps"], p["warmup"])
    o = net.dominant(states)
    table = group_means(states, o, sets)
    status = "ok" if pair else f"no kick group pair {p['pair']}: {pops.get('status')}"
    n_sw = int(np.count_nonzero(o[1:] != o[:-1]))
    if pair and n_sw == 0:
        status = "no switches in this run"
    return {"mean_activity.csv": table,
            "mean_activity.json": {"model": ctx.spec.id, "status": status, "sets": sets, "n_switches": n_sw,
                                   "show_steps": p["show_steps"]}}


ANALYSIS = Analysis(name="mean_activity", run=analyse, defaults=DEFAULTS, after=("connectivity",), mem_mb=1000,
                    runtime_min=5)
