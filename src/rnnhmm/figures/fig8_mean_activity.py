"""Figure 8: mean activities of the kick groups and noise-integrating populations over time, reference
2-state model (docs/method.md §4.9).

m_G(t) = mean_{i∈G} h_{i,t} for G1, G2 (top) and P1, P2 (bottom) over the first 200 steps of a 300-step
noise-driven run; the background is shaded by the dominant output between switches.  Expected: slow
population integration during a dwell, a kick-group burst at the switch, then a reset.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..io import read_json, read_table
from . import NO_REF2, FigureContext
from .style import RUNAWAY, finite, note, output_color, output_name, panel_label

READS = {"analyses": ["mean_activity"], "hmms": ["chain2"]}
ANALYSIS = READS["analyses"][0]
LINE = {"G1": "#1f77b4", "G2": "#d62728", "P1": "#2ca02c", "P2": "#9467bd"}


def shade_outputs(ax, t: np.ndarray, o: np.ndarray) -> None:
    """Shade the background of each dwell with the colour of its dominant output."""
    if not len(t):
        return
    edges = np.flatnonzero(o[1:] != o[:-1]) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(o)]
    for a, b in zip(starts, ends, strict=True):
        ax.axvspan(t[a] - 0.5, t[b - 1] + 0.5, color=output_color(o[a]), alpha=0.12, lw=0)


def render(ctx: FigureContext):
    fig, axes = plt.subplots(2, 1, figsize=(8.0, 4.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    ref = ctx.ref2(ANALYSIS)
    if ref is None:
        note(axes[0], NO_REF2)
        return fig
    m, d = ref
    info = read_json(d / "mean_activity.json")
    tbl = read_table(d / "mean_activity.csv")
    tbl = tbl[tbl["t"] < int(info.get("show_steps", 200))]
    first = tbl.drop_duplicates("t").sort_values("t")
    for ax, names, title in ((axes[0], ("G1", "G2"), "kick groups"), (axes[1], ("P1", "P2"), "populations")):
        shade_outputs(ax, first["t"].to_numpy(), first["o"].to_numpy())
        drawn, runaway = 0, []
        for name in names:
            sel = tbl[tbl["group"] == name]
            if len(finite(sel, "t", "value")):
                ax.plot(sel["t"], sel["value"], color=LINE[name], lw=1.0, label=name)
                drawn += 1
            elif len(sel):
                runaway.append(name)
        ax.set(ylabel=f"mean activity\n({title})")
        if drawn:
            ax.legend(loc="upper right", frameon=False, ncol=2)
        if runaway:
            note(ax, f"{' and '.join(runaway)}: {RUNAWAY}", top=bool(drawn))
        elif not drawn:
            note(ax, info.get("status", "no groups"))
    if info.get("status") != "ok" and len(tbl[tbl["group"] != "none"]):
        axes[0].set_title(info["status"], fontsize=7)
    ks = range(ctx.n_outputs(m.hmm, first["o"]))
    handles = [plt.Rectangle((0, 0), 1, 1, color=output_color(k), alpha=0.25) for k in ks]
    fig.legend(handles, [f"dominant output {output_name(k)}" for k in ks], loc="lower center",
               frameon=False, ncol=min(len(ks), 6), fontsize=6)
    axes[1].set_xlabel("time step")
    panel_label(axes[0], "A")
    panel_label(axes[1], "B")
    fig.suptitle(f"Mean activities of kick groups and noise-integrating populations ({m.id})")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
