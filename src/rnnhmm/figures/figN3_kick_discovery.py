"""Figure N3 (ours): how the kick groups are discovered (docs/method.md §4.7).

One row per reference model (chains, fully3) and source output: (A) gate scores of the K candidates
(silent in dwell cores, active just before the switch and not in the target dwell's core), the
selected group highlighted; (B) effects of the top-10 candidate triplets (the drop in the fraction of
rollouts that leave the source when the set's recurrent drive is removed) against the null
distribution of random non-candidate triplets, on the batch that selects them; the title gives the
group's z-score there and on fresh rollouts against a null of neurons silent in the source cores
(the one its significance uses); (C) effects of silencing each candidate alone.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from .. import plan
from ..io import read_json, read_table
from ..plan.figures import models as selected
from . import FigureContext
from .style import RUNAWAY, finite, fmt, note, output_name, panel_label

READS = {"analyses": ["kick_neurons"], "hmms": ["chain2", "chain3", "chain4", "chain5", "fully3"]}
ANALYSIS = READS["analyses"][0]
HMMS = READS["hmms"]


def models(preset_cfg: dict) -> list[plan.ModelSpec]:
    return selected(READS, preset_cfg)


def render(ctx: FigureContext):
    rows = []
    for m in models(ctx.preset_cfg):
        d = ctx.path(plan.analysis_dir(ctx.preset, ANALYSIS, m))
        kick = read_json(d / "kick_groups.json")
        tables = {k: read_table(d / f"kick_{k}.csv") for k in ("candidates", "triplets", "null")}
        if not kick["groups"]:
            rows.append((m, None, kick, tables))
        for _, g in sorted(kick["groups"].items()):
            rows.append((m, g, kick, tables))
    n = max(len(rows), 1)
    fig, axes = plt.subplots(n, 3, figsize=(10.0, 2.3 * n), squeeze=False)
    if not rows:
        note(axes[0, 1], "no chain or fully3 reference model in this preset")
    for r, (m, g, kick, t) in enumerate(rows):
        if g is None:
            for ax in axes[r]:
                ax.set_axis_off()
            note(axes[r, 1], f"{m.id}: {kick['status']}")
            continue
        src = g["source"]
        head = f"{m.id}, group {g['group']} (leaves {output_name(src)})"
        cand = t["candidates"][t["candidates"]["source"] == src] if len(t["candidates"]) else t["candidates"]
        trip = t["triplets"][t["triplets"]["source"] == src] if len(t["triplets"]) else t["triplets"]
        null = t["null"][t["null"]["source"] == src] if len(t["null"]) else t["null"]
        if not len(cand):
            for ax in axes[r]:
                ax.set_axis_off()
            note(axes[r, 1], "\n".join(textwrap.wrap(f"{head}: {g['status']}", 70)))
            continue
        chosen = set(g.get("neurons", [])) if g.get("found") else set()
        cand = cand.sort_values("score", ascending=False)
        x = np.arange(len(cand))
        colors = ["#d62728" if int(i) in chosen else "0.6" for i in cand["neuron"]]
        ax = axes[r, 0]
        ax.bar(x, cand["score"], color=colors)
        ax.set_xticks(x, [str(int(i)) for i in cand["neuron"]], fontsize=5, rotation=90)
        if not len(finite(cand, "score")):
            note(ax, f"no finite gate score\n({RUNAWAY})")
        ax.set(ylabel="gate score", title=f"{head}: candidates", xlabel="neuron")
        ax.title.set_fontsize(7)
        ax = axes[r, 1]
        null_ok = finite(null, "effect")
        if len(null_ok):
            ax.hist(null_ok["effect"], bins=30, color="0.75", label=f"null ({len(null_ok)} random triplets)")
        if len(null_ok) < len(null):
            note(ax, f"{len(null) - len(null_ok)} of {len(null)} null effects non-finite", top=True)
        elif not len(null) and len(trip):
            note(ax, "no null effects (no random triplets)", top=True)
        for k, (_, row) in enumerate(trip.iterrows()):
            if np.isfinite(float(row["effect"])):
                ax.axvline(row["effect"], color="#d62728" if k == 0 else "#1f77b4", lw=1.5 if k == 0 else 0.6,
                           label="selected triplet" if k == 0 else ("top-10 triplets" if k == 1 else None))
        if not len(null_ok) and not len(finite(trip, "effect")):
            note(ax, "no triplet effect" if not len(null) + len(trip) else f"no finite triplet effect\n({RUNAWAY})")
        ax.set(xlabel="effect e(S) = f(∅) − f(S)", ylabel="count")
        zs = [(name, g.get(key)) for name, key in (("selection", "z_select"), ("fresh", "z")) if g.get(key) is not None]
        ax.set_title("; ".join([g["status"], *(f"z = {fmt(z, '.1f')} ({name})" for name, z in zs)]), fontsize=7)
        ax.legend(frameon=False, fontsize=5, loc="upper left")
        ax = axes[r, 2]
        ax.bar(x, cand["single_effect"], color=colors)
        if not len(finite(cand, "single_effect")):
            note(ax, f"no finite single-neuron effect\n({RUNAWAY})")
        ax.set_xticks(x, [str(int(i)) for i in cand["neuron"]], fontsize=5, rotation=90)
        ax.set(ylabel="single-neuron effect", xlabel="neuron", title=f"f(∅) = {fmt(g.get('f_empty_select', np.nan))}")
        ax.title.set_fontsize(7)
        if r == 0:
            for ax, lab in zip(axes[0], "ABC", strict=True):
                panel_label(ax, lab)
    fig.suptitle("Kick-group discovery: gate scores, causal triplet effects vs null, single-neuron effects")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (2.3 * n)))
    return fig
