"""The kick groups the kick_neurons analysis finds (§4.7), as the analyses run after it read them
(connectivity, mean activity, ablation, silencing): the file and the groups found in it."""

from __future__ import annotations

KICK_GROUPS = "kick_groups.json"  # written by kick_neurons into its folder


def found_groups(kick: dict) -> dict[int, list[int]]:
    """{group number: neurons} of the groups ``kick_neurons`` found (kick_groups.json)."""
    return {int(k): list(g["neurons"]) for k, g in sorted(kick.get("groups", {}).items(), key=lambda kv: int(kv[0]))
            if g.get("found") and g.get("neurons")}
