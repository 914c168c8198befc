"""`rnnhmm report-pages`: the report's evaluation and provenance pages (rnnhmm.report) from finished
tables and figures."""

from __future__ import annotations

import time

from . import add_params, log, stage_params

HELP = "the report's evaluation tables and figure provenance (HTML)"
REQUIRED = ("preset", "figures")


def add_arguments(s) -> None:
    add_params(s, "preset, figures [the figures' PNG paths]", by_hand=None)
    s.add_argument("--training", required=True, help="the evaluation summary's training.csv")
    s.add_argument("--metrics", required=True, help="the evaluation summary's metrics.csv")
    s.add_argument("--evaluation", required=True, help="the evaluation page (.html)")
    s.add_argument("--provenance", required=True, help="the provenance page (.html)")


def run(args) -> None:
    from .. import io
    from ..report import evaluation_html, provenance_html

    p = stage_params(args)
    started = time.time()
    training, metrics = io.read_table(args.training), io.read_table(args.metrics)
    io.write_text(args.evaluation, evaluation_html(p["preset"], training, metrics))
    io.write_text(args.provenance, provenance_html(p["preset"], p["figures"]))
    record = io.provenance(p, started, inputs=io.files_sha256([args.training, args.metrics]))
    for page in (args.evaluation, args.provenance):
        io.write_sidecar(page, record)
    log.info("report pages of %s: %d models, %d figures -> %s, %s", p["preset"], len(training), len(p["figures"]),
             args.evaluation, args.provenance)
