"""The running side of the analyses: an analysis is a module ``rnnhmm/dynamics/<name>.py`` that defines
``ANALYSIS = Analysis(...)`` (rule ``analyze`` in workflow/rules/analyze.smk runs it).  The workflow
reads those declarations without importing the modules (rnnhmm.plan.analyses: parameters with their
defaults, inputs, resources); this module holds the function's side: ``Analysis`` (the declaration
and its function), the context an analysis runs in, and loading one analysis by name.

An analysis is a function ``run(ctx: AnalysisContext) -> dict[file name, result]`` where a result is
a pandas DataFrame (.csv / .parquet), a dict (.json) or a dict of numpy arrays (.npz).  It declares
what else of the model it reads (``needs``: 'checkpoints', 'history', 'hmm') and which analyses of the
same model must run first (``after``).  Its parameters come from ``presets.<p>.analysis.<name>`` in
config.yaml and are checked against its ``defaults`` and the declared ranges (rnnhmm.plan.params).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .. import plan
from ..plan import analyses as declared
from ..plan.params import check_params as _check


@dataclass(frozen=True)
class Analysis(declared.AnalysisSpec):
    """An analysis' declaration (rnnhmm.plan.analyses.AnalysisSpec) and its function."""

    run: Callable | None = None

    @property
    def spec(self) -> declared.AnalysisSpec:
        """The declaration alone, as the workflow reads it."""
        return declared.AnalysisSpec(**{f.name: getattr(self, f.name) for f in fields(declared.AnalysisSpec)})

@dataclass
class AnalysisContext:
    name: str
    preset: str
    spec: plan.ModelSpec
    base_seed: int
    params: dict
    root: Path = Path(".")

    @property
    def model_dir(self) -> Path:
        return self.root / plan.model_dir(self.preset, self.spec)

    @property
    def hmm_file(self) -> Path:
        return self.root / plan.hmm_file(self.preset, self.spec.hmm)

    @property
    def out_dir(self) -> Path:
        return self.analysis_dir(self.name)

    def analysis_dir(self, name: str) -> Path:
        """Output folder of analysis ``name`` of this model (for analyses listed in ``after``)."""
        return self.root / plan.analysis_dir(self.preset, name, self.spec)

    def model(self, which: str = "best"):
        from ..io import load_model

        return load_model(self.model_dir / "model.pt", which)

    def network(self, which: str = "best"):
        from .simulate import Network

        return Network.from_model(self.model(which))

    def hmm(self):
        from ..hmm import load_hmm_file

        return load_hmm_file(self.hmm_file)[0]

    def rng(self, purpose: str) -> np.random.Generator:
        from ..rng import numpy_rng

        s = self.spec
        return numpy_rng(self.base_seed, s.hmm, s.hidden, s.dim, s.seed, 0, f"analysis:{self.name}:{purpose}")




def names() -> list[str]:
    """The names of the analyses (read from the modules without importing them)."""
    return declared.names()


def load(name: str) -> Analysis:
    """The analysis ``name``, importing its module only (a job runs one analysis' code, not all); its
    objects must equal the declaration the workflow read (a non-literal default would differ)."""
    if name not in declared.specs():
        raise KeyError(f"unknown analysis '{name}'; known: {', '.join(declared.specs())}")
    a = importlib.import_module(f"{__package__}.{name}").ANALYSIS
    if not isinstance(a, Analysis) or a.run is None or a.spec != declared.specs()[name]:
        raise RuntimeError(f"analysis '{name}': the module's ANALYSIS differs from its declaration as read "
                           "without importing it (rnnhmm.plan.analyses)")
    return a


def analyses() -> dict[str, Analysis]:
    """Every analysis, imported (tests, tools; the workflow itself reads rnnhmm.plan.analyses)."""
    return {name: load(name) for name in declared.specs()}


def get(name: str) -> Analysis:
    return load(name)


def check_params(analysis: str | Analysis, params: dict) -> dict:
    """Merge ``params`` over the analysis' defaults (``analysis``: its name or the Analysis itself).
    Unknown keys, wrong types, values outside the declared range and broken cross-parameter rules raise
    ParamError (a ValueError) with a one-line message."""
    a = analysis if isinstance(analysis, Analysis) else get(analysis)
    return _check(a.name, a.defaults, params)
