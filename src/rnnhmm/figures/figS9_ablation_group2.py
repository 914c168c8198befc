"""Figure S9: Figure 9 for kick group 2 (leaves O3) of the reference 2-state model (docs/method.md §4.10)."""

from __future__ import annotations

from . import FigureContext
from .panels_ablation import render_group

READS = {"analyses": ["ablation"], "hmms": ["chain2"]}


def render(ctx: FigureContext):
    return render_group(ctx, 2)
