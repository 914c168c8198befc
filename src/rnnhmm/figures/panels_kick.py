"""Kick-group titles of figure 6, also used by figure S8."""

from __future__ import annotations

from .style import fmt, output_name


def group_title(g: dict) -> str:
    """'group 1 (leaves O1), effect 0.62, z = 8.1' plus a flag when the group is not significant."""
    src = output_name(g.get("source"))
    text = f"group {g.get('group')} (leaves {src})"
    if g.get("found"):
        z = g.get("z")
        text += f": effect {fmt(g['effect'])}" + (f", z = {fmt(z, '.1f')}" if z is not None else "")
        if not g.get("significant"):
            text += " (not significant)"
    return text
