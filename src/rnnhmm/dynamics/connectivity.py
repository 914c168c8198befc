"""Noise-integrating populations and connectivity blocks (docs/method.md §4.8).

For a pair of kick groups (Ga, Gb) found by ``kick_neurons``:

1. g_a[j] = mean_{i∈Ga} W[i, j], g_b[j] likewise: the mean weight from presynaptic j onto each group.
   Candidates: every j that is not a kick neuron of any group.
2. Sort by g_a·g_b ascending (opposite-sign projections first) and keep k_pop (clamped to the candidates).
3. Re-sort by g_a ascending and split in halves: P1 = the first ⌊k/2⌋ (inhibits Ga, excites Gb), P2 the rest.

Blocks (W[i, j] from j onto i): W[G, G] with G = Ga then Gb; W[G, P] (rows = kick neurons, columns P1 then
P2: populations → kick); W[P, G] (kick → populations); W[P, P].  Block statistics: mean, std and fraction
positive of every (pre, post) sub-block among {Ga, Gb, P1, P2}; within one set the diagonal (self-weights)
is left out.  Chains: the pair (1, 2).  Fully connected: every pair of groups and all of them at once
(the kick block of all groups with the union of the pairwise populations).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..io import read_json
from .groups import KICK_GROUPS, found_groups
from .registry import Analysis, AnalysisContext

DEFAULTS = {"k_pop": 70}

STAT_COLUMNS = ["pair", "pre", "post", "mean", "std", "frac_pos", "n"]


def populations(W: np.ndarray, ga, gb, k_pop: int = 70, exclude=()) -> tuple[np.ndarray, np.ndarray]:
    """(P1, P2) for kick groups ga, gb: the k_pop presynaptic neurons with the most opposite mean
    projections onto the two groups, split by the projection onto ga (P1: most negative first)."""
    W = np.asarray(W)
    ga, gb = np.asarray(ga, dtype=int), np.asarray(gb, dtype=int)
    g1, g2 = W[ga].mean(axis=0), W[gb].mean(axis=0)
    banned = set(ga.tolist()) | set(gb.tolist()) | {int(i) for i in exclude}
    cand = np.array([j for j in range(W.shape[1]) if j not in banned], dtype=int)
    k = min(int(k_pop), len(cand))
    keep = cand[np.lexsort((cand, g1[cand] * g2[cand]))[:k]]
    keep = keep[np.lexsort((keep, g1[keep]))]
    half = k // 2
    return keep[:half], keep[half:]


def block_stats(W: np.ndarray, sets: dict[str, np.ndarray], pair: str) -> pd.DataFrame:
    """Mean, std and fraction positive of W[post, pre] for every (pre, post) pair of named sets."""
    rows = []
    for pre, post in itertools.product(sets, sets):
        jj, ii = np.asarray(sets[pre], dtype=int), np.asarray(sets[post], dtype=int)
        block = W[np.ix_(ii, jj)]
        if pre == post:
            block = block[~np.eye(len(ii), dtype=bool)]
        block = np.ravel(block)
        rows.append({"pair": pair, "pre": pre, "post": post,
                     "mean": float(block.mean()) if block.size else np.nan,
                     "std": float(block.std()) if block.size else np.nan,
                     "frac_pos": float((block > 0).mean()) if block.size else np.nan, "n": int(block.size)})
    return pd.DataFrame(rows, columns=STAT_COLUMNS)


def connectivity(W: np.ndarray, groups: dict[int, list[int]], k_pop: int = 70):
    """Populations, blocks and block statistics of every pair of groups (and of all, with three or more)."""
    all_kick = sorted({i for g in groups.values() for i in g})
    pops, blocks, stats = {}, {}, []
    labels = sorted(groups)
    for a, b in itertools.combinations(labels, 2):
        pair = f"{a}{b}"
        p1, p2 = populations(W, groups[a], groups[b], k_pop, exclude=all_kick)
        G = np.array(groups[a] + groups[b], dtype=int)
        P = np.concatenate([p1, p2]).astype(int)
        pops[pair] = {"groups": [a, b], "G1": groups[a], "G2": groups[b], "P1": p1.tolist(), "P2": p2.tolist()}
        blocks[pair] = (G, P, len(groups[a]), len(p1))
        stats.append(block_stats(W, {f"G{a}": groups[a], f"G{b}": groups[b], "P1": p1, "P2": p2}, pair))
    if len(labels) >= 3:
        pair = "".join(str(x) for x in labels)
        G = np.array([i for x in labels for i in groups[x]], dtype=int)
        P = np.array(list(dict.fromkeys(i for q in pops.values() for i in q["P1"] + q["P2"])), dtype=int)
        pops[pair] = {"groups": labels, **{f"G{x}": groups[x] for x in labels}, "P": P.tolist()}
        blocks[pair] = (G, P, len(groups[labels[0]]), len(P))
        sets = {f"G{x}": groups[x] for x in labels}
        sets["P"] = P
        stats.append(block_stats(W, sets, pair))
    arrays = {}
    for pair, (G, P, n_g1, n_p1) in blocks.items():
        arrays[f"p{pair}_GG"] = W[np.ix_(G, G)]
        arrays[f"p{pair}_GP"] = W[np.ix_(G, P)]
        arrays[f"p{pair}_PG"] = W[np.ix_(P, G)]
        arrays[f"p{pair}_PP"] = W[np.ix_(P, P)]
        arrays[f"p{pair}_G"] = G
        arrays[f"p{pair}_P"] = P
        arrays[f"p{pair}_split"] = np.array([n_g1, n_p1])
    table = pd.concat(stats, ignore_index=True) if stats else pd.DataFrame(columns=STAT_COLUMNS)
    return pops, arrays, table


def analyse(ctx: AnalysisContext) -> dict:
    kick = read_json(ctx.analysis_dir("kick_neurons") / KICK_GROUPS)
    groups = found_groups(kick)
    W = ctx.network().W
    pops, arrays, table = connectivity(W, groups, ctx.params["k_pop"])
    status = "ok" if pops else f"no kick group pair found ({len(groups)} group(s) found; {kick.get('status')})"
    out_pops = {"model": ctx.spec.id, "status": status, "k_pop": ctx.params["k_pop"],
                "groups": {str(k): v for k, v in groups.items()}, "pairs": pops}
    if not arrays:
        arrays = {"none": np.zeros(0)}
    return {"populations.json": out_pops, "weight_blocks.npz": arrays, "block_stats.csv": table}


ANALYSIS = Analysis(name="connectivity", run=analyse, defaults=DEFAULTS, after=("kick_neurons",), mem_mb=2000,
                    runtime_min=10)
