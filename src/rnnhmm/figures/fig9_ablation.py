"""Figure 9: ablation and excitation of kick group 1 of the reference 2-state model (docs/method.md §4.10).

Columns: the three conditions — kick (gain μ on the group's recurrent drive, c_rec; the Jacobian is
diag(1[a > 0])·diag(c_rec)·W), noise projection (μ on the input drive c_in of the group's strongest
presynaptic neurons) and control (μ on the input drive of the neurons outside every kick neuron's top
inputs).  Top: three trajectories from the located cluster point (first 60 steps) at μ = 1 (grey),
0 (blue) and 1.9 (red) on the nominal PCA(2).  Bottom: critical pairs per switch window (mean ± std over
switches) vs μ, with the escape fraction of 100 runs (dashed, right axis).  Figure S9 is the same for group 2.
"""

from __future__ import annotations

from . import FigureContext
from .panels_ablation import render_group

READS = {"analyses": ["ablation"], "hmms": ["chain2"]}


def render(ctx: FigureContext):
    return render_group(ctx, 1)
