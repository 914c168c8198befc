"""`rnnhmm evaluate-summary`: every model's evaluation tables concatenated and aggregated over seeds
(the grid tables the figures read)."""

from __future__ import annotations

import time
from pathlib import Path

from . import add_by_hand, add_params, log, need_paths, stage_params

HELP = "aggregate every model's evaluation over seeds (grid tables)"
REQUIRED = ("preset", "models")


def add_arguments(s) -> None:
    add_params(s, "preset, models [{hmm, hidden, dim, seed}, ...]", by_hand="--preset")
    add_by_hand(s, model=False)
    s.add_argument("--out-dir", default=None, help="the folder of the summary tables")


def run(args) -> None:
    import pandas as pd

    from .. import io
    from ..evaluate import summarise
    from ..plan import EVAL_TABLES, HISTORY_CSV, ModelSpec, eval_dir, eval_file, floor_file

    p = stage_params(args)
    need_paths(args, "out_dir")
    started = time.time()
    parts: dict[str, list] = {k: [] for k in (*EVAL_TABLES, "histories")}
    for m in p["models"]:
        spec = ModelSpec(**m)
        d = Path(eval_dir(p["preset"], spec))
        for name in EVAL_TABLES:
            parts[name].append(io.read_table(d / eval_file(name)))
        hist = io.read_table(HISTORY_CSV.format(preset=p["preset"], **spec.fields()))
        parts["histories"].append(hist.assign(**m)[list(m) + list(hist.columns)])
    hmms = sorted({m["hmm"] for m in p["models"]})
    parts["floors"] = [io.read_table(floor_file(p["preset"], h)) for h in hmms]
    tables = summarise({k: pd.concat(v, ignore_index=True) for k, v in parts.items()})
    out = Path(args.out_dir)
    record = io.provenance(p, started)
    for fname, df in tables.items():
        io.write_table(out / fname, df)
        io.write_sidecar(out / fname, record)
    log.info("evaluation summary of %d models -> %s", len(p["models"]), out)
