"""The ablation figure of one kick group (figure 9: group 1; figure S9: group 2)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from ..io import read_json, read_table
from . import NO_REF2, FigureContext
from .style import RUNAWAY, blank, errbar, finite, note, output_name, panel_label

ANALYSIS = "ablation"  # the analysis whose tables these panels draw
SHOW_STEPS = 60
TITLES = {"kick": "kick group (c_rec = μ)", "noise": "noise projection (c_in = μ)", "control": "control (c_in = μ)"}
MU_STYLE = ((1.0, "0.5", "μ = 1"), (0.0, "#1f77b4", "μ = 0"), (1.9, "#d62728", "μ = 1.9"))


def render_group(ctx: FigureContext, group: int):
    fig, axes = plt.subplots(2, 3, figsize=(10.0, 6.0), squeeze=False)
    ref = ctx.ref2(ANALYSIS)
    if ref is None:
        blank(axes, NO_REF2)
        return fig
    m, d = ref
    info = read_json(d / "ablation_sets.json")
    cp = read_table(d / "ablation_cp.csv")
    traj = read_table(d / "ablation_traj.parquet")
    g = info["groups"].get(str(group))
    mu_ex = float(info.get("mu_excite", 1.9))
    style = [(mu, c, lab) if mu != 1.9 else (mu_ex, c, f"μ = {mu_ex:g}") for mu, c, lab in MU_STYLE]
    if g is None or g.get("status") != "ok":
        msg = g["status"] if g else f"no kick group {group}: {info.get('status')}"
        for ax in axes.ravel():
            ax.set_axis_off()
        note(axes[0, 1], "\n".join(textwrap.wrap(msg, 50)))
        fig.suptitle(f"Ablation / excitation of kick group {group} ({m.id})")
        return fig
    src = output_name(g["source"])
    for c, cond in enumerate(("kick", "noise", "control")):
        size = len(g["sets"][cond])
        ax = axes[0, c]
        ax.set_title(f"{TITLES[cond]}, |S| = {size}", fontsize=8)
        t = traj[(traj["group"] == group) & (traj["condition"] == cond) & (traj["t"] <= SHOW_STEPS)] if len(traj) \
            else traj
        if not len(t):
            note(ax, g.get("traj_status", "no trajectories"))
        elif not len(finite(t, "pc1", "pc2")):
            note(ax, f"trajectories: {RUNAWAY}")
        for mu, color, lab in style:
            sel = t[np.isclose(t["mu"], mu)]
            for k, (_, tr) in enumerate(sel.groupby("traj")):
                ax.plot(tr["pc1"], tr["pc2"], color=color, lw=0.8, alpha=0.8, label=lab if k == 0 else None)
                ax.plot(tr["pc1"].iloc[0], tr["pc2"].iloc[0], "ko", ms=3)
        ax.set(xlabel="PC1 (nominal run)", ylabel="PC2")
        if c == 0 and len(t):
            ax.legend(frameon=False, loc="best")
        if size == 0:
            note(ax, "empty target set: μ changes nothing")
        ax = axes[1, c]
        r = cp[(cp["group"] == group) & (cp["condition"] == cond)].sort_values("mu")
        ax.errorbar(r["mu"], r["cp_mean"], yerr=errbar(r["cp_std"]), color="k", lw=0.8, ms=3, marker="o", capsize=1.5)
        for mu, color, _ in style:
            hit = r[np.isclose(r["mu"], mu)]
            ax.plot(hit["mu"], hit["cp_mean"], "o", color=color, ms=7, zorder=3)
        fb = r[r["cp_fallback"].astype(bool)]
        if len(fb):
            ax.plot(fb["mu"], fb["cp_mean"], "x", color="0.3", ms=6, label="< 2 switches: μ = 1 times")
            ax.legend(frameon=False, loc="upper right", fontsize=6)
        if r["cp_mean"].isna().all():
            note(ax, "no switch windows (fewer than 2 switches at μ = 1)")
        elif not len(finite(r, "mu", "cp_mean")):
            note(ax, f"critical pairs: {RUNAWAY}")
        if len(r) and not len(finite(r, "mu", "escape_frac")):
            note(ax, "no finite escape fraction", top=True)
        ax.set(xlabel="gain μ", ylabel="critical pairs per switch window")
        tw = ax.twinx()
        tw.plot(r["mu"], r["escape_frac"], "--", color="#ff7f0e", lw=1)
        tw.set_ylim(-0.05, 1.05)
        tw.set_ylabel(f"escape fraction from {src}", color="#ff7f0e", fontsize=7)
    panel_label(axes[0, 0], "A")
    panel_label(axes[1, 0], "B")
    fig.suptitle(f"Ablation / excitation of kick group {group} (leaves {src}), {m.id}")
    fig.tight_layout()
    return fig
