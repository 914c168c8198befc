"""The analysis registry: every module in ``rnnhmm.dynamics`` that defines ``ANALYSIS = Analysis(...)``
is an analysis the workflow can run (rule ``analyze`` in workflow/rules/analyze.smk).

An analysis is a function ``run(ctx: AnalysisContext) -> dict[file name, result]`` where a result is
a pandas DataFrame (.csv / .parquet), a dict (.json) or a dict of numpy arrays (.npz).  It declares
what else of the model it reads (``needs``: 'checkpoints', 'history', 'hmm') and which analyses of the
same model must run first (``after``).  Its parameters come from ``presets.<p>.analysis.<name>`` in
config.yaml and are checked against ``defaults`` (unknown keys and wrong types are config errors).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import plan

NEEDS = ("checkpoints", "history", "hmm")


@dataclass(frozen=True)
class Analysis:
    name: str
    run: Callable
    defaults: dict = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    mem_mb: int = 4000
    runtime_min: int = 60
    threads: int = 1  # the rule's threads (capped by --cores); the analysis may parallelise up to it

    @property
    def module_file(self) -> str:
        """The analysis' module, relative to the rnnhmm package folder (e.g. 'dynamics/orbits.py')."""
        return "/".join(self.run.__module__.split(".")[1:]) + ".py"


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
        from ..cli import load_hmm_file

        return load_hmm_file(self.hmm_file)[0]

    def rng(self, purpose: str) -> np.random.Generator:
        from ..rng import numpy_rng

        s = self.spec
        return numpy_rng(self.base_seed, s.hmm, s.hidden, s.dim, s.seed, 0, f"analysis:{self.name}:{purpose}")


_REGISTRY: dict[str, Analysis] | None = None


def analyses() -> dict[str, Analysis]:
    """All registered analyses, by name (discovered once per process)."""
    global _REGISTRY
    if _REGISTRY is None:
        from .. import dynamics

        found: dict[str, Analysis] = {}
        for info in pkgutil.iter_modules(dynamics.__path__):
            mod = importlib.import_module(f"{dynamics.__name__}.{info.name}")
            spec = getattr(mod, "ANALYSIS", None)
            if isinstance(spec, Analysis):
                if spec.name in found:
                    raise RuntimeError(f"analysis '{spec.name}' is defined twice")
                found[spec.name] = spec
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def get(name: str) -> Analysis:
    reg = analyses()
    if name not in reg:
        raise KeyError(f"unknown analysis '{name}'; known: {', '.join(reg)}")
    return reg[name]


def check_params(name: str, params: dict) -> dict:
    """Merge ``params`` over the analysis defaults; unknown keys or wrong types raise ValueError."""
    a = get(name)
    out = dict(a.defaults)
    for k, v in (params or {}).items():
        if k not in a.defaults:
            raise ValueError(f"unknown parameter '{k}' of analysis '{name}'; allowed: {', '.join(sorted(a.defaults))}")
        d = a.defaults[k]
        ok = (isinstance(v, bool) == isinstance(d, bool)) and (
            (isinstance(d, int) and not isinstance(d, bool) and isinstance(v, int))
            or (isinstance(d, float) and isinstance(v, (int, float)) and not isinstance(v, bool))
            or (isinstance(d, (list, tuple)) and isinstance(v, (list, tuple)))
            or (isinstance(d, str) and isinstance(v, str))
            or (isinstance(d, bool) and isinstance(v, bool))
            or d is None
        )
        if not ok:
            raise ValueError(f"parameter '{k}' of analysis '{name}' = {v!r} has the wrong type; expected {type(d).__name__}")
        out[k] = v
    return out
