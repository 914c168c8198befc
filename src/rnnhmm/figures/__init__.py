"""One module per figure (docs/method.md §5), each with:

  its docstring                       the caption (the report shows it)
  READS = {...}                        what it reads, as a literal (rnnhmm.plan.figures explains the keys)
  render(ctx) -> matplotlib Figure     reads those tables only; never trains or analyses

Every module named ``fig*.py`` in this package is a figure: ``FIGURES`` maps each target name to its
module; the workflow asks for every entry, and the generic figure rule renders any of them.  Panels
that several figures draw live in ``panels_*.py`` (a figure never imports another figure), and
``style.py`` holds the common look, so an edit of one figure module reruns that figure only.  The
workflow plans figures from rnnhmm.plan.figures, which reads the names, captions and READS without
importing a figure module (or matplotlib).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from .. import plan
from ..plan.figures import (  # noqa: F401  (the figures' planning side, re-exported)
    FIGURES,
    GROUPS,
    TRAINING_CATEGORY,
    TRAINING_CURVES,
    caption,
    group,
    needs,
    report_category,
    report_subcategory,
)

NO_REF2 = "no chain2 reference model in this preset"


@dataclass
class FigureContext:
    preset: str
    preset_cfg: dict
    hmms_cfg: dict = field(default_factory=dict)
    root: Path = Path(".")

    def path(self, relative: str) -> Path:
        return self.root / relative

    def n_outputs(self, hmm: str, *columns) -> int:
        """K, the number of output symbols of ``hmm``: from its definition in the figure params, else
        (a context built without them) from the output-index ``columns`` a panel reads."""
        from ..hmm import build_hmm
        from .style import n_outputs_of

        if hmm in self.hmms_cfg:
            return build_hmm(hmm, self.hmms_cfg[hmm]).n_outputs
        return n_outputs_of(*columns, at_least=2)

    def ref2(self, analysis: str) -> tuple[plan.ModelSpec, Path] | None:
        """The preset's reference 2-state model and its ``analysis`` folder; None (draw ``NO_REF2``)
        when the preset has no such model."""
        models = plan.ref2_models(self.preset_cfg)
        return (models[0], self.path(plan.analysis_dir(self.preset, analysis, models[0]))) if models else None


def module(name: str):
    if name not in FIGURES:
        raise KeyError(f"unknown figure '{name}', known: {', '.join(sorted(FIGURES))}")
    return importlib.import_module(FIGURES[name])


def render(name: str, ctx: FigureContext):
    return module(name).render(ctx)
