"""Residency times, logit-gradient sign changes and local instability (docs/method.md §4.5).

For each state h on the orbit, R rollouts of at most L fresh-noise steps measure how long the dominant
output o stays at k₀ = o(h) (the *exit time*, censored at L) and how often the logit z_{k₀} reverses
direction on the way (*sign changes*; zero increments are ignored, D13).  RT(h) and SC(h) are their
means over rollouts.  U(h) counts the unstable eigenvalues of the zero-input Jacobian diag(1[Wh > 0]) W.
States are then labelled transition / kick-zone / cluster / unassigned.

The rollout core (``first_passage``, ``residency``, the region labels) lives in ``regions``, shared
with noise sensitivity (§4.6, the first-passage scan of ``locate``) and compositional reuse (§4.12,
subspace residency).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pca import fit_pca
from .regions import state_table, summarize
from .registry import Analysis, AnalysisContext
from .simulate import noisy_run

DEFAULTS = {
    "warmup": 100,
    "n_states": 10000,  # N_res for every HMM but chain2
    "n_states_chain2": 5000,
    "rollouts": 20,
    "max_steps": 60,
    "sigma": 1.0,
    "chunk_rows": 20000,  # rollouts advanced together (bounds memory: chunk_rows × H floats per array)
}


def run(ctx: AnalysisContext) -> dict:
    p, net = ctx.params, ctx.network()
    n = p["n_states_chain2"] if ctx.spec.hmm == "chain2" else p["n_states"]
    states = noisy_run(net, ctx.rng("states"), n, p["warmup"], p["sigma"])
    tbl = state_table(net, states, ctx.rng("rollouts"), p["rollouts"], p["max_steps"], p["sigma"], p["chunk_rows"])
    pca = fit_pca(states, 2)
    pcs = pca.transform(states)
    tbl.insert(1, "pc1", pcs[:, 0])
    tbl.insert(2, "pc2", pcs[:, 1] if pcs.shape[1] > 1 else 0.0)
    summary = summarize(tbl)
    summary["n_total"] = len(tbl)
    summary["n_switches_in_run"] = int(np.count_nonzero(np.diff(tbl["o"].to_numpy())))
    evr = pd.DataFrame({"component": np.arange(1, len(pca.explained_variance_ratio) + 1),
                        "evr": pca.explained_variance_ratio})
    return {"residency_states.parquet": tbl, "residency_summary.csv": summary, "residency_pca.csv": evr}


ANALYSIS = Analysis(name="residency", run=run, defaults=DEFAULTS, mem_mb=3000, runtime_min=30)
