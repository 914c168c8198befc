"""`rnnhmm control`: a control network of the claims check (rnnhmm.controls) from a trained model."""

from __future__ import annotations

import json

from . import ParamsError, add_params, log, stage_params

HELP = "a control network of the claims check (untrained, shuffled)"
REQUIRED = ("base_seed", "model", "control")


def add_arguments(s) -> None:
    s.add_argument("--trained", required=True, help="the trained model.pt the control is made from")
    add_params(s, "base_seed, model{hmm, hidden, dim, seed}, control", by_hand=None)
    s.add_argument("--out-dir", required=True, help="the control network's folder (a training's files)")


def run(args) -> None:
    from ..controls import make_control
    from ..plan import CONTROLS
    from ..train import ModelKey

    p = stage_params(args)
    if p["control"] not in CONTROLS:
        raise ParamsError(f"unknown control {p['control']!r}; known: {', '.join(CONTROLS)}")
    m = p["model"]
    key = ModelKey(m["hmm"], int(m["hidden"]), int(m["dim"]), int(m["seed"]), int(p["base_seed"]), int(p.get("attempt", 0)))
    summary = make_control(p["control"], args.trained, key, args.out_dir, config_slice=p)
    log.info("done: %s", json.dumps(summary))
