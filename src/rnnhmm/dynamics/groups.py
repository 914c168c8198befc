"""The kick groups the kick_neurons analysis finds (§4.7), as the analyses run after it read them
(connectivity, mean activity, ablation, silencing): the file and the groups found in it, and the
mid-rank percentile both analyses score a group against its null with."""

from __future__ import annotations

import numpy as np

KICK_GROUPS = "kick_groups.json"  # written by kick_neurons into its folder


def found_groups(kick: dict) -> dict[int, list[int]]:
    """{group number: neurons} of the groups ``kick_neurons`` found (kick_groups.json)."""
    return {int(k): list(g["neurons"]) for k, g in sorted(kick.get("groups", {}).items(), key=lambda kv: int(kv[0]))
            if g.get("found") and g.get("neurons")}


def null_percentile(effect: float, null_effects) -> float:
    """Mid-rank percentile of ``effect`` among the null effects (below counts 1, tied counts 1/2);
    NaN without a null."""
    null = np.asarray(null_effects, dtype=float)
    null = null[np.isfinite(null)]
    if not len(null) or not np.isfinite(effect):
        return float("nan")
    return float(np.mean(null < effect) + 0.5 * np.mean(null == effect))
