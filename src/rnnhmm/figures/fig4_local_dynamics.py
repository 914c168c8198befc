"""Figure 4: local dynamics of the reference 2-state model (docs/method.md §5, §4.5).

1 × 4: states on PCA(2) coloured by residency time RT (bins [1, 2, 4, 9, max]); histogram of
logit-gradient sign changes SC (unit bins, bars coloured by the bin's mean RT); mean ± sem number of
unstable Jacobian directions per region; states coloured by U (0 / 1 / ≥ 2).
The drawing helpers are shared with figS6 and fig10.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from . import NO_REF2, FigureContext
from .panels_local import draw_row
from .style import note

READS = {"analyses": ["residency"], "hmms": ["chain2"]}
ANALYSIS = READS["analyses"][0]


def render(ctx: FigureContext):
    ref = ctx.ref2(ANALYSIS)
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    if ref is None:
        note(axes[0], NO_REF2)
        return fig
    m, folder = ref
    draw_row(axes, folder, m.hmm, labels=True)
    fig.suptitle(f"Local dynamics of {m.id}: clusters, kick-zones and transitions")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the suptitle
    return fig
