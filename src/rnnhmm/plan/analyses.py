"""The analyses the workflow can run, read from their modules' declarations without importing them.

An analysis is a module ``rnnhmm/dynamics/<name>.py`` that declares, at its top level,

    DEFAULTS = {...}                      # its parameters and their defaults (literals only)
    ANALYSIS = Analysis(name="<name>", run=<function>, defaults=DEFAULTS, needs=(...), after=(...),
                        mem_mb=..., runtime_min=..., threads=...)

This module reads those two statements with ``ast`` (nothing is executed, so planning the workflow
needs neither torch nor the analyses' other dependencies): the declaration stays next to the code
that reads it, and one edit of an analysis' defaults reruns that analysis only.
rnnhmm.dynamics.registry checks, when an analysis is imported to run, that the module's objects
equal what was read here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import params as _params
from .source import literal, parse, top_level

DYNAMICS_DIR = Path(__file__).resolve().parents[1] / "dynamics"
NEEDS = ("checkpoints", "history", "hmm")  # what of the model besides model.pt an analysis may read


@dataclass(frozen=True)
class AnalysisSpec:
    """What the workflow needs to know of an analysis: its parameters, inputs and resources."""

    name: str
    defaults: dict = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # of NEEDS
    after: tuple[str, ...] = ()  # analyses of the same model that must run first
    mem_mb: int = 4000
    runtime_min: int = 60
    threads: int = 1  # the rule's threads (capped by --cores); the analysis may parallelise up to it

    @property
    def module_file(self) -> str:
        """The analysis' module, relative to the rnnhmm package folder (e.g. 'dynamics/orbits.py')."""
        return f"dynamics/{self.name}.py"


def read(path: Path) -> AnalysisSpec | None:
    """The declaration of the analysis in ``path``, or None when the module declares no ``ANALYSIS``."""
    tree = parse(path)
    call = top_level(tree, "ANALYSIS")
    if call is None:
        return None
    where = f"{path.name}: ANALYSIS"
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Analysis"
            and not call.args):
        raise RuntimeError(f"{where} must be Analysis(...) with keyword arguments only")
    fields: dict = {}
    for kw in call.keywords:
        if kw.arg == "run":
            continue
        if kw.arg == "defaults" and isinstance(kw.value, ast.Name):
            value = top_level(tree, kw.value.id)
            if value is None:
                raise RuntimeError(f"{where}: defaults={kw.value.id} is not assigned at the module's top level")
        else:
            value = kw.value
        fields[kw.arg] = literal(value, f"{where}: {kw.arg}")
    spec = AnalysisSpec(**fields)
    if spec.name != path.stem:
        raise RuntimeError(f"{where}: name '{spec.name}' must be the module's name '{path.stem}'")
    unknown = [n for n in spec.needs if n not in NEEDS]
    if unknown:
        raise RuntimeError(f"{where}: needs {unknown}; allowed: {', '.join(NEEDS)}")
    _params.check_declared(spec.name, spec.module_file, spec.defaults)
    return spec


@cache
def specs() -> dict[str, AnalysisSpec]:
    """Every analysis, by name (sorted), with the cross-parameter rules checked against them."""
    found = {s.name: s for s in map(read, sorted(DYNAMICS_DIR.glob("*.py"))) if s is not None}
    for name, *_ in _params.CROSS_CHECKS:
        if name not in found:
            raise RuntimeError(f"cross-parameter rule for unknown analysis '{name}'")
    for s in found.values():
        unknown = [a for a in s.after if a not in found]
        if unknown:
            raise RuntimeError(f"analysis '{s.name}' runs after unknown analyses {unknown}")
    return found


def names() -> list[str]:
    return list(specs())


def check_params(name: str, params: dict | None) -> dict:
    """The parameters of analysis ``name``: ``params`` merged over its defaults, checked (ParamError)."""
    if name not in specs():
        raise _params.ParamError(f"unknown analysis '{name}'; allowed: {', '.join(specs())}")
    return _params.check_params(name, specs()[name].defaults, params)
