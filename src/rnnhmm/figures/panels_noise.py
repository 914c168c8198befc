"""Panels of the noise sensitivity test (figure 5), also drawn by figure S7: trajectory spread and the
trajectories around a switch."""

from __future__ import annotations

import textwrap

from ..io import read_json, read_table
from .style import RUNAWAY, drawable, finite, fmt, is_finite, note, output_color, outputs_in

POINT_COLORS = {"cluster": "#1f77b4", "transition": "#d62728"}


def _window(nominal, pts, margin=60):
    lo, hi = max(pts["t_p"] - margin, 0), pts["t_s"] + margin
    return nominal[(nominal["t"] >= lo) & (nominal["t"] <= hi)]


def draw_traj_panels(axes, folder, title: str) -> dict:
    """Six PCA panels (cluster, transition × γ); returns the points record."""
    pts = read_json(folder / "ns_points.json")
    if not pts.get("found"):
        reason = textwrap.fill(str(pts.get("reason", "")), 40)
        note(axes[0], "no transition point found:\n" + reason)
        axes[0].set_title(title)
        for ax in axes[1:]:
            ax.set_axis_off()
        return pts
    nominal, traj = read_table(folder / "ns_nominal.parquet"), read_table(folder / "ns_traj.parquet")
    evr = pts.get("evr", [])
    xl = f"PC1 ({fmt(100 * evr[0], '.0f')} %)" if evr else "PC1"
    yl = f"PC2 ({fmt(100 * evr[1], '.0f')} %)" if len(evr) > 1 else "PC2"
    win = _window(nominal, pts)
    gammas = sorted(traj.loc[is_finite(traj["gamma"]), "gamma"].unique())
    for i, (point, t_idx) in enumerate((("cluster", pts["t_c"]), ("transition", pts["t_k"]))):
        for j in range(3):
            ax = axes[3 * i + j]
            ax.set(title=f"{point} (t={t_idx})", xlabel=xl, ylabel=yl if j == 0 else "")
            if j >= len(gammas):
                note(ax, "no restarted trajectories" if not gammas else f"no γ level #{j + 1}\n(only {len(gammas)} in the table)")
                continue
            g = gammas[j]
            ax.plot(nominal["pc1"], nominal["pc2"], color="0.88", lw=0.3, zorder=0)
            for o in outputs_in(win["o"]):
                sel = win[win["o"] == o]
                ax.scatter(sel["pc1"], sel["pc2"], s=2, c=output_color(o), lw=0, alpha=0.6, zorder=1, rasterized=True)
            sub = traj[(traj["point"] == point) & (traj["gamma"] == g)]
            for _, tr in sub.groupby("traj"):
                ax.plot(tr["pc1"], tr["pc2"], color=POINT_COLORS[point], lw=0.6, alpha=0.6, zorder=2)
            start = sub[sub["t"] == 0].iloc[:1]
            ax.scatter(start["pc1"], start["pc2"], marker="*", s=60, c="k", zorder=3)
            ax.set_title(f"{point} (t={t_idx}), γ = {g:g}")
            if not len(finite(sub, "pc1", "pc2")):
                note(ax, f"no {point} restart at γ = {g:g}" if not len(sub) else f"restarts: {RUNAWAY}")
            elif not len(finite(nominal, "pc1", "pc2")):
                note(ax, f"nominal run: {RUNAWAY}", top=True)
    if gammas:
        axes[0].set_title(f"{title}\ncluster (t={pts['t_c']}), γ = {gammas[0]:g}")
    else:
        axes[0].set_title(f"{title}\ncluster (t={pts['t_c']})")
    return pts


def draw_spread(axes, folder):
    """Spread per step for each point and γ, in H-space and on PC1–PC2."""
    pts = read_json(folder / "ns_points.json")
    if not pts.get("found"):
        note(axes[0], "no spread: no transition point found")
        for ax in axes[1:]:
            ax.set_axis_off()
        return
    sp = read_table(folder / "ns_spread.csv")
    styles = {0.0: ":", 0.5: "--", 1.0: "-"}
    for ax, (space, label) in zip(axes, (("H", "H-space"), ("pc12", "PC1–PC2")), strict=True):
        for (point, g), s in sp[sp["space"] == space].groupby(["point", "gamma"]):
            ax.plot(s["t"], s["cov_trace"], styles.get(float(g), "-."), color=POINT_COLORS.get(point, "k"),
                    marker="o", ms=2, label=f"{point}, γ={g:g}")
        ax.set(xlabel="step after restart", ylabel="Tr Cov", title=f"spread ({label})", yscale="symlog")
        if drawable(ax, sp[sp["space"] == space], "t", "cov_trace", empty=f"no spread ({label})"):
            ax.legend(frameon=False, fontsize=6)
