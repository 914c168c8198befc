"""One module per figure (docs/method.md §5), each with:

  needs(preset, preset_cfg) -> list[str]   the analysis/evaluation files it reads (the rule's inputs)
  render(ctx) -> matplotlib Figure          reads those tables only; never trains or analyses

Every module named ``fig*.py`` in this package is a figure: ``FIGURES`` maps each target name to
its module; the workflow asks for every entry, and the generic figure rule renders any of them.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

from .. import plan

NO_REF2 = "no chain2 reference model in this preset"

FIGURES: dict[str, str] = {
    info.name: f"{__name__}.{info.name}" for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    if info.name.startswith("fig")
}


# The report's grouping (snakemake --report): a figure's group follows from its name -- fig<n> the
# paper's main figures, figS<n> its supplementary ones, figN<n> this project's new ones; the training
# curves (figure S10) sit with the evaluation tables, where a reader looks for how the models trained.
GROUPS = {"main": "Main figures (the paper's)", "supplementary": "Supplementary figures (the paper's)",
          "new": "New figures (this project's)"}
TRAINING_CATEGORY = "Training and evaluation"
TRAINING_CURVES = "figS10_model_diagnostics"


def group(name: str) -> str:
    """'main', 'supplementary' or 'new', from the figure's name."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure '{name}', known: {', '.join(sorted(FIGURES))}")
    kind = name[3]
    return "supplementary" if kind == "S" else "new" if kind == "N" else "main"


def report_category(name: str) -> str:
    return TRAINING_CATEGORY if name == TRAINING_CURVES else "Figures"


def report_subcategory(name: str) -> str:
    return "Training curves (figure S10)" if name == TRAINING_CURVES else GROUPS[group(name)]


@dataclass
class FigureContext:
    preset: str
    preset_cfg: dict
    hmms_cfg: dict = field(default_factory=dict)
    root: Path = Path(".")

    def path(self, relative: str) -> Path:
        return self.root / relative

    def ref2(self, analysis: str) -> tuple[plan.ModelSpec, Path] | None:
        """The preset's reference 2-state model and its ``analysis`` folder; None (draw ``NO_REF2``)
        when the preset has no such model."""
        models = plan.ref2_models(self.preset_cfg)
        return (models[0], self.path(plan.analysis_dir(self.preset, analysis, models[0]))) if models else None


def module(name: str):
    if name not in FIGURES:
        raise KeyError(f"unknown figure '{name}', known: {', '.join(sorted(FIGURES))}")
    return importlib.import_module(FIGURES[name])


def caption(name: str) -> str:
    """The figure's caption for the report: its module docstring (reStructuredText)."""
    import inspect

    doc = inspect.getdoc(module(name)) or name
    # plain-text docstrings: '|x|' (absolute values) and '*' must not act as RST markup
    return doc.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")


def needs(name: str, preset: str, preset_cfg: dict) -> list[str]:
    return list(module(name).needs(preset, preset_cfg))


def render(name: str, ctx: FigureContext):
    return module(name).render(ctx)
