"""The report's own pages (rule ``report_pages``): the evaluation tables of every model and the
provenance of every figure, as self-contained HTML that ``snakemake --report`` embeds.

They present tables the pipeline has already written and compute nothing new:

* ``evaluation.html``: per trained model its training outcome (``training.csv``: epochs, best epoch,
  best and final validation loss, the loss floor and the excess over it) and its emission metrics
  at each evaluated length (``metrics.csv``, one column per metric);
* ``provenance.html``: per figure the commit, host, time and wall time it was rendered with, every
  table it read with that table's SHA-256, and the configuration it was given (the provenance
  sidecar ``<figure>.png.meta.json`` the figure job writes).

A model that trained to a degenerate network still has its rows; a figure without a sidecar (made by
an older version) is listed as such.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd

from . import io, plan

TRAINING_COLUMNS = ["n_epochs", "best_epoch", "best_val_loss", "final_val_loss", "val_floor", "best_val_excess",
                    "final_val_excess"]
STYLE = """
body { font-family: sans-serif; font-size: 13px; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-family: monospace; }
pre { margin: 0; font-size: 11px; }
"""


def _page(title: str, body: list[str]) -> str:
    e = html.escape
    return "\n".join(["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
                      f"<title>{e(title)}</title><style>{STYLE}</style></head><body>", f"<h1>{e(title)}</h1>",
                      *body, "</body></html>", ""])


def _cell(v) -> str:
    if isinstance(v, float | int) and not isinstance(v, bool):
        if isinstance(v, float) and math.isnan(v):
            return "<td class='num'>NaN</td>"
        whole = isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e6)
        text = f"{int(v):d}" if whole else f"{v:.4g}"
        return f"<td class='num'>{text}</td>"
    return f"<td>{html.escape(str(v))}</td>"


def _table(df: pd.DataFrame) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns) + "</tr>"
    rows = ["<tr>" + "".join(_cell(v.item() if hasattr(v, "item") else v) for v in r) + "</tr>"
            for r in df.itertuples(index=False)]
    return "\n".join(["<table>", head, *rows, "</table>"])


def evaluation_html(preset: str, training: pd.DataFrame, metrics: pd.DataFrame) -> str:
    """The evaluation page: the training table, then the metrics per model and length."""
    body = [f"<p>Preset {html.escape(preset)}: every trained model of the grid.  Losses are debiased Sinkhorn "
            "divergences between sequence clouds; <code>val_floor</code> is the loss two independent HMM batches "
            "get (a perfect emulator's loss) and <code>*_excess</code> the loss above it (docs/method.md §1).  "
            "Metrics: docs/method.md §3.  NaN: not measurable for that model (e.g. it emits one symbol).</p>",
            "<h2>Training</h2>"]
    if training.empty:
        body.append("<p>No trained model in this preset.</p>")
    else:
        t = training.copy()
        t.insert(0, "model", plan.table_ids(t))
        body.append(_table(t[["model", *[c for c in TRAINING_COLUMNS if c in t]]]))
    body.append("<h2>Emission metrics</h2>")
    if metrics.empty:
        body.append("<p>No evaluation metrics in this preset.</p>")
    else:
        m = metrics.copy()
        m["model"] = plan.table_ids(m)
        wide = m.pivot_table(index=["model", "T_eval"], columns="metric", values="value", aggfunc="first",
                             sort=True).reset_index()
        wide.columns.name = None
        body.append(_table(wide))
    return _page(f"Evaluation tables, preset {preset}", body)


def provenance_html(preset: str, figure_pngs: list[str]) -> str:
    """The provenance page: one section per figure, from its PNG's sidecar."""
    e = html.escape
    body = [f"<p>Preset {e(preset)}: how each figure was made, from the provenance sidecar its job wrote "
            "(<code>figures/&lt;preset&gt;/&lt;figure&gt;.png.meta.json</code>; <code>rnnhmm info</code> prints "
            "it and checks the file against its SHA-256).  A commit ending in <code>-dirty</code> had uncommitted "
            "changes.</p>",
            "<table><tr><th>figure</th><th>commit</th><th>host</th><th>wall time, s</th><th>tables read</th></tr>"]
    details = []
    versions = None
    for png in figure_pngs:
        name = Path(png).stem
        side = io.sidecar_path(png)
        if not side.exists():
            body.append(f"<tr><td>{e(name)}</td><td colspan='4'>no provenance recorded</td></tr>")
            continue
        rec = io.read_json(side)
        versions = versions or rec.get("versions")
        tables = rec.get("inputs") or {}
        listed = "<br>".join(f"{e(p)} <code>{e((h or 'missing')[:12])}</code>" for p, h in tables.items())
        wall = rec.get("wall_time_s")
        body.append(f"<tr><td><a href='#{e(name)}'>{e(name)}</a></td><td><code>{e(str(rec.get('git_commit')))}</code>"
                    f"</td><td>{e(str(rec.get('host')))}</td>{_cell(wall if wall is not None else math.nan)}"
                    f"<td>{listed or '—'}</td></tr>")
        details.append(f"<h3 id='{e(name)}'>{e(name)}</h3><details><summary>configuration given to the figure"
                       f"</summary><pre>{e(json.dumps(rec.get('config', {}), indent=1, sort_keys=True))}</pre>"
                       "</details>")
    body.append("</table>")
    if versions:
        body += ["<h2>Package versions</h2>",
                 _table(pd.DataFrame(sorted(versions.items()), columns=["package", "version"]))]
    body += ["<h2>Configuration per figure</h2>", *details]
    return _page(f"Provenance of the figures, preset {preset}", body)
