"""One module per `rnnhmm <stage>`: the stage's options (``add_arguments``), the keys its ``--params``
must hold (``REQUIRED``) and the stage itself (``run(args)``).

A stage's module imports what the stage computes with only inside ``run``, so a module's import
closure (rnnhmm.codedeps) is exactly the code the stage executes; the workflow lists that closure as
the rule's code inputs, and rnnhmm.cli imports only the module of the stage it runs.

A stage takes its configuration slice as one JSON object (``--params``, what the rule passes: the
slice is built by rnnhmm.config, so a rule's params are exactly what the stage depends on) or, run by
hand, builds the same slice from config.yaml with ``--preset`` and ``--model`` (rnnhmm.byhand).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging

from ..errors import UserError

log = logging.getLogger("rnnhmm")


class ParamsError(UserError, ValueError):
    """``--params`` is not a JSON object holding every key its stage requires."""


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}


def stage_params(args) -> dict:
    """The stage's configuration slice: ``--params`` parsed, or, without it, built from the config file
    for ``--preset`` (and ``--model``) as the workflow's rule would (rnnhmm.byhand).  It must be a JSON
    object with every key of ``args.required``; anything else raises ParamsError with one line."""
    if getattr(args, "params", None) is None:
        # by hand: loaded only on this path, so a rule's job (which passes --params) never runs it
        return importlib.import_module(f"{__package__.rpartition('.')[0]}.byhand").params(args)
    try:
        p = json.loads(args.params)
    except json.JSONDecodeError as err:
        raise ParamsError(f"--params is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(p, dict):
        raise ParamsError(f"--params must be a JSON object, got {_JSON_TYPES.get(type(p), type(p).__name__)}")
    required = getattr(args, "required", ())
    missing = [k for k in required if k not in p]
    if missing:
        raise ParamsError(f"--params of '{args.stage}' is missing required key(s) {', '.join(missing)}; "
                          f"required: {', '.join(required)}")
    return p


def positive_int(text: str) -> int:
    """argparse type of the integer options that count something (--threads): an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is out of range; allowed: an integer >= 1")
    return n


def set_threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(int(n))


def add_params(s, keys: str, by_hand: str | None = "--preset and --model") -> None:
    """The ``--params`` option (required unless the stage can be run by hand from the config file)."""
    alt = f"; without it, built from the config file for {by_hand}" if by_hand else ""
    s.add_argument("--params", required=by_hand is None, default=None,
                   help=f"the stage's configuration slice as a JSON object: {keys}{alt}")


def add_by_hand(s, model: bool = True) -> None:
    """The options that build a stage's slice from the config file, as its rule does (rnnhmm.byhand)."""
    s.add_argument("--config", default="config.yaml", help="the workflow's config file (default: config.yaml)")
    s.add_argument("--preset", default=None, help="the preset to take the slice from (with --params omitted)")
    if model:
        s.add_argument("--model", default=None,
                       help="the model, by its id <hmm>_h<hidden>_d<dim>_s<seed> (e.g. chain2_h150_d100_s0)")


def add_threads(s) -> None:
    s.add_argument("--threads", type=positive_int, default=None, help="torch threads, at least 1 (default: torch's)")


def need_paths(args, *names: str) -> None:
    """Every named path option is given (on the command line, or filled in by rnnhmm.byhand)."""
    missing = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n, None) is None]
    if missing:
        raise ParamsError(f"'{args.stage}' needs {', '.join(missing)} (or --preset and --model, without --params, "
                          "to take the workflow's paths)")
