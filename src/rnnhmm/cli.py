"""`rnnhmm <stage>`: the entry points the workflow rules call (and users call by hand).

The dispatcher only: each stage lives in its own module of rnnhmm.stages (its options, the keys its
``--params`` needs, the stage itself) and only the module of the stage being run is imported, so a
job runs this file, rnnhmm.stages and its stage's import closure and nothing else -- the code inputs
the workflow gives each rule (rnnhmm.codedeps).

A stage takes its configuration slice as one JSON object (``--params``), or, by hand, builds it from
config.yaml with ``--preset`` (and ``--model``).  A problem that is the user's to fix (an unknown
stage or option, malformed ``--params``, a bad configuration, parameter or result file) stops the
stage with one error line and exit code 2 before anything is written.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .errors import UserError
from .stages import ParamsError

log = logging.getLogger("rnnhmm")

# stage name -> its module in rnnhmm.stages (imported by name, so no stage is another's code input)
STAGES = {
    "hmm": "hmm", "floor": "floor", "train": "train", "control": "control", "evaluate": "evaluate",
    "evaluate-summary": "evaluate_summary", "analyze": "analyze", "figure": "figure", "claims": "claims",
    "report-pages": "report_pages", "info": "info",
}


def stage_module(stage: str):
    return importlib.import_module(f"{__package__}.stages.{STAGES[stage]}")


def _setup_logging(verbose: bool = False) -> None:
    # at a terminal the log lines sit above a progress bar (rnnhmm.progress); in a job's log file they
    # are plain lines
    from .progress import log_handler

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[log_handler(sys.stderr)],
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (``rnnhmm <stage>: error: ...``) and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every stage, or of the stage ``only`` (its module alone is imported)."""
    ap = _Parser(prog="rnnhmm", description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="log debug messages too")
    ap.add_argument("--version", action="version", version=f"rnnhmm {__version__}")
    sub = ap.add_subparsers(dest="stage", required=True, parser_class=_Parser, metavar="<stage>",
                            help=f"one of: {', '.join(STAGES)}")
    for name in STAGES if only is None else (only,):
        mod = stage_module(name)
        s = sub.add_parser(name, help=mod.HELP, description=" ".join(mod.__doc__.split("\n\n")[0].split()))
        mod.add_arguments(s)
        s.set_defaults(func=mod.run, required=mod.REQUIRED)
    return ap


def _stage_of(argv: list[str]) -> str | None:
    """The stage named on the command line (the first word that is not an option), if it is one."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in STAGES else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_stage_of(argv)).parse_args(argv)  # --help, --version, usage errors: SystemExit
    _setup_logging(args.verbose)
    try:
        args.func(args)
    except ParamsError as err:
        log.error("error: %s", err)
        return 2
    except UserError as err:
        log.error("%s: %s", type(err).__name__, err)
        return 2
    except Exception as err:
        # a diverged training can only come from a stage that imported rnnhmm.train; importing it here
        # would make every stage (hmm, figure) need torch
        train = sys.modules.get(f"{__package__}.train")
        if train is None or not isinstance(err, train.TrainingDiverged):
            raise
        log.error("%s: %s", type(err).__name__, err)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
