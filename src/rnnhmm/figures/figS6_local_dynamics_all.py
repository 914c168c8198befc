"""Figure S6: fig4 for chain3–5, fully3 and cyclic4, plus the output-pair subspace residency of fully3
and cyclic4 (docs/method.md §5, §4.5, §4.12 d)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plan
from ..io import read_table
from ..plan.figures import models as selected
from . import FigureContext
from .panels_local import draw_row, draw_rt, draw_unstable_by_region, drawn_pairs
from .style import note

READS = [{"analyses": ["residency"], "hmms": ["chain3", "chain4", "chain5", "fully3", "cyclic4"]},
         {"analyses": ["compositional"], "hmms": ["fully3", "cyclic4"]}]
HMMS, PAIR_HMMS = READS[0]["hmms"], READS[1]["hmms"]


def models(preset_cfg: dict):
    return selected(READS[0], preset_cfg)


def pair_models(preset_cfg: dict):
    return selected(READS[1], preset_cfg)


def draw_pair_row(axes, folder, title: str, pairs: list[str]):
    """Subspace residency per output pair (pair-PC1 vs pair-PC3) and the per-pair unstable counts (the
    axis after the pairs)."""
    res = read_table(folder / "subspace_residency.parquet")
    summ = read_table(folder / "subspace_residency_summary.csv")
    max_rt = res["rt"].max() if len(res) else 1
    for ax, pair in zip(axes[:len(pairs)], pairs, strict=True):
        sub = res[res["pair"] == pair]
        if not len(sub):
            note(ax, f"{pair}: no segment states")
        else:
            draw_rt(ax, sub, x="pc1", y="pc3", max_rt=max_rt, colorbar=pair == pairs[-1])
        ax.set(title=f"{title}: {pair} subspace", xlabel="pair-PC1", ylabel="pair-PC3")
    last = axes[len(pairs)]
    if len(summ):
        s = summ.groupby("region", as_index=False).agg(n_states=("n_states", "sum"), mean_unstable=("mean_unstable", "mean"),
                                                        sem_unstable=("sem_unstable", "mean"))
        draw_unstable_by_region(last, s)
        last.set_title("instability per region (all pairs)")
    else:
        note(last, "no segment states")
    for ax in axes[len(pairs) + 1:]:
        ax.set_axis_off()


def pairs_of(ctx: FigureContext, m) -> list[str]:
    """The output pairs drawn for model ``m`` (panels_local.drawn_pairs)."""
    return drawn_pairs(ctx.n_outputs(m.hmm))[0]


def render(ctx: FigureContext):
    refs, prefs = models(ctx.preset_cfg), pair_models(ctx.preset_cfg)
    nrow = max(len(refs) + len(prefs), 1)
    ncol = max([4] + [len(pairs_of(ctx, m)) + 1 for m in prefs])
    fig, axes = plt.subplots(nrow, ncol, figsize=(13 * ncol / 4, 3.0 * nrow), squeeze=False)
    if not refs:
        note(axes[0, 0], "no reference model of chain3-5, fully3 or cyclic4 in this preset")
    for i, m in enumerate(refs):
        draw_row(axes[i], ctx.path(plan.analysis_dir(ctx.preset, "residency", m)), f"{m.hmm} ({m.id})")
        for ax in axes[i, 4:]:
            ax.set_axis_off()
    for k, m in enumerate(prefs):
        draw_pair_row(axes[len(refs) + k], ctx.path(plan.analysis_dir(ctx.preset, "compositional", m)), m.hmm,
                      pairs_of(ctx, m))
    fig.suptitle("Local dynamics of every reference model, and per output-pair subspace")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the suptitle
    return fig
