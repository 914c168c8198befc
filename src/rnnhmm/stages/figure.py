"""`rnnhmm figure <name>`: render one figure (rnnhmm.figures) from the tables it reads, as .pdf and .png,
each with a provenance sidecar that lists those tables with their SHA-256."""

from __future__ import annotations

import time

from . import add_by_hand, add_params, log, need_paths, stage_params

HELP = "render one figure from analysis tables"
REQUIRED = ("preset", "preset_cfg")


def add_arguments(s) -> None:
    s.add_argument("name", help="a figure of rnnhmm.figures (e.g. fig4_local_dynamics)")
    add_params(s, "preset, preset_cfg, hmms", by_hand="--preset")
    add_by_hand(s, model=False)
    s.add_argument("--out", default=None, help="output stem; .pdf and .png are written")


def run(args) -> None:
    from .. import figures, io
    from ..figures.style import save

    p = stage_params(args)
    need_paths(args, "out")
    started = time.time()
    ctx = figures.FigureContext(preset=p["preset"], preset_cfg=p["preset_cfg"], hmms_cfg=p.get("hmms", {}))
    fig = figures.render(args.name, ctx)
    paths = save(fig, args.out)
    # the provenance of the figure (the report's provenance page): config, commit, the tables it read
    record = io.provenance(p, started, figure=args.name,
                           inputs=io.files_sha256(figures.needs(args.name, p["preset"], p["preset_cfg"])))
    for path in paths:
        io.write_sidecar(path, record)
    log.info("%s -> %s", args.name, ", ".join(map(str, paths)))
