"""`rnnhmm analyze <analysis>`: one dynamical analysis of one trained RNN (rnnhmm.dynamics), written to
its folder results/<preset>/analysis/<analysis>/<model>/.

Only the named analysis' module is imported (by name, at run time), so a job's code inputs are this
module's closure and that analysis' (the rule adds it)."""

from __future__ import annotations

import time

from . import ParamsError, add_by_hand, add_params, add_threads, log, set_threads, stage_params

HELP = "run one dynamical analysis on a trained RNN"
REQUIRED = ("preset", "base_seed", "model")


def add_arguments(s) -> None:
    s.add_argument("analysis", help="an analysis of rnnhmm.dynamics (e.g. residency, orbits, kick_neurons)")
    add_params(s, "preset, base_seed, model{hmm, hidden, dim, seed}, params")
    add_by_hand(s)
    add_threads(s)


def run(args) -> None:
    from .. import io
    from ..dynamics import registry
    from ..plan import ModelSpec

    p = stage_params(args)
    set_threads(args.threads)
    started = time.time()
    if args.analysis not in registry.names():
        raise ParamsError(f"unknown analysis '{args.analysis}'; known: {', '.join(registry.names())}")
    analysis = registry.load(args.analysis)
    ctx = registry.AnalysisContext(name=analysis.name, preset=p["preset"], spec=ModelSpec(**p["model"]),
                                   base_seed=int(p["base_seed"]),
                                   params=registry.check_params(analysis, p.get("params", {})))
    results = analysis.run(ctx)
    written = io.write_results(ctx.out_dir, results, io.provenance(p, started))
    log.info("%s on %s: wrote %s", analysis.name, ctx.spec.id, ", ".join(x.name for x in written))
