"""`rnnhmm claims`: the claims check (docs/claims.md): claims.csv and, with --html, the same table as a page."""

from __future__ import annotations

import time

from . import add_by_hand, add_params, log, need_paths, stage_params

HELP = "measure the paper's claims on the reference models (docs/claims.md)"
REQUIRED = ("preset", "preset_cfg")


def add_arguments(s) -> None:
    add_params(s, "preset, preset_cfg, hmms", by_hand="--preset")
    add_by_hand(s, model=False)
    s.add_argument("--out", default=None, help="the claims table (.csv)")
    s.add_argument("--html", default=None, help="also write the table as an HTML page (the report's view)")


def run(args) -> None:
    from .. import io
    from ..claims import claims_table, render_html

    p = stage_params(args)
    need_paths(args, "out")
    started = time.time()
    table = claims_table(p["preset"], p["preset_cfg"], p.get("hmms", {}))
    record = io.provenance(p, started)
    io.write_table(args.out, table)
    io.write_sidecar(args.out, record)
    if args.html:
        io.write_text(args.html, render_html(table, p["preset"]))
        io.write_sidecar(args.html, record)
    log.info("claims check of %s: %d of %d checks pass, %d count (pass and every control fails) -> %s", p["preset"],
             int(table["pass"].sum()), len(table), int(table["counts"].sum()), args.out)
