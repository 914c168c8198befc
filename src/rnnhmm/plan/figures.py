"""The figures the workflow renders and what each reads, known without importing them.

A figure is a module ``rnnhmm/figures/fig*.py`` (rnnhmm.figures): its docstring is its caption, and
at its top level it declares, as a literal, what it reads:

    READS = {"analyses": ["state_space", "orbits"], "hmms": ["chain2", "chain3"]}

a dict, or a list of them, each with

    analyses  the analyses whose folders it reads, for each selected model
    hmms      the HMMs whose models it shows (default: every HMM of the grid, in the grid's order)
    select    which of their models: 'reference' (default; the preset's reference model of each HMM),
              'reference_size' (every seed at the reference size), 'reference_seed' (every size at
              the reference seed) or 'evolution' (the reference models trained as the evolution
              model, train.evolution, which keep per-epoch checkpoints)
    tables    tables of the evaluation summary (results/<preset>/evaluate/summary/) it reads

This module reads the docstring and ``READS`` with ``ast`` (planning needs no matplotlib), turns
them into the figure rule's inputs, and gives the figure's code the same model selection
(``models``), so what a figure reads and what it draws come from one declaration.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from . import ModelSpec, analysis_dir, eval_summary_file, expand_grid, hmms_in, is_evolution, reference_models
from .source import literal, parse, top_level

FIGURES_DIR = Path(__file__).resolve().parents[1] / "figures"
PACKAGE = "rnnhmm.figures"
FIGURES: dict[str, str] = {p.stem: f"{PACKAGE}.{p.stem}" for p in sorted(FIGURES_DIR.glob("fig*.py"))}
SELECT = ("reference", "reference_size", "reference_seed", "evolution")
KEYS = ("analyses", "hmms", "select", "tables")

# The report's grouping (snakemake --report): a figure's group follows from its name -- fig<n> the
# paper's main figures, figS<n> its supplementary ones, figN<n> this project's new ones; the training
# curves (figure S10) sit with the evaluation tables, where a reader looks for how the models trained.
GROUPS = {"main": "Main figures (the paper's)", "supplementary": "Supplementary figures (the paper's)",
          "new": "New figures (this project's)"}
TRAINING_CATEGORY = "Training and evaluation"
TRAINING_CURVES = "figS10_model_diagnostics"


def _known(name: str) -> None:
    if name not in FIGURES:
        raise KeyError(f"unknown figure '{name}', known: {', '.join(sorted(FIGURES))}")


def group(name: str) -> str:
    """'main', 'supplementary' or 'new', from the figure's name."""
    _known(name)
    kind = name[3]
    return "supplementary" if kind == "S" else "new" if kind == "N" else "main"


def report_category(name: str) -> str:
    return TRAINING_CATEGORY if name == TRAINING_CURVES else "Figures"


def report_subcategory(name: str) -> str:
    return "Training curves (figure S10)" if name == TRAINING_CURVES else GROUPS[group(name)]


@cache
def _tree(name: str) -> ast.Module:
    _known(name)
    return parse(FIGURES_DIR / f"{name}.py")


def caption(name: str) -> str:
    """The figure's caption for the report: its module docstring (reStructuredText)."""
    doc = ast.get_docstring(_tree(name)) or name
    # plain-text docstrings: '|x|' (absolute values) and '*' must not act as RST markup
    return doc.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")


def check_reads(where: str, reads) -> list[dict]:
    """``reads`` (a dict or a list of dicts, as declared) as a list of dicts; RuntimeError if malformed."""
    groups = reads if isinstance(reads, list) else [reads]
    for g in groups:
        if not isinstance(g, dict) or set(g) - set(KEYS) or not (g.get("analyses") or g.get("tables")):
            raise RuntimeError(f"{where}: READS must be a dict (or list of dicts) of {', '.join(KEYS)} naming "
                               f"analyses or tables; got {g!r}")
        if g.get("select", "reference") not in SELECT:
            raise RuntimeError(f"{where}: READS select {g['select']!r}; allowed: {', '.join(SELECT)}")
    return groups


@cache
def _reads(name: str) -> tuple:
    value = top_level(_tree(name), "READS")
    if value is None:
        raise RuntimeError(f"figures/{name}.py declares no READS (what it reads)")
    return tuple(check_reads(f"figures/{name}.py", literal(value, f"figures/{name}.py: READS")))


def reads(name: str) -> list[dict]:
    """What figure ``name`` reads: its ``READS`` as a list of dicts."""
    return list(_reads(name))


def evolution_models(preset_cfg: dict, hmms) -> tuple[list[ModelSpec], list[ModelSpec]]:
    """The reference models of ``hmms`` that keep per-epoch checkpoints (train.evolution), and those that
    do not."""
    refs = reference_models(preset_cfg, list(hmms))
    ok = [m for m in refs if is_evolution(preset_cfg, m)]
    return ok, [m for m in refs if m not in ok]


def models(reads: dict, preset_cfg: dict) -> list[ModelSpec]:
    """The models a read group selects, in the order of its ``hmms`` (reference models) or of the grid."""
    hmms = reads.get("hmms")
    select = reads.get("select", "reference")
    if select == "reference":
        return reference_models(preset_cfg, None if hmms is None else list(hmms))
    if select == "evolution":
        return evolution_models(preset_cfg, hmms_in(preset_cfg) if hmms is None else hmms)[0]
    ref = preset_cfg["reference"]
    same = ("hidden", "dim") if select == "reference_size" else ("seed",)
    return [m for m in expand_grid(preset_cfg) if (hmms is None or m.hmm in hmms)
            and all(getattr(m, k) == int(ref[k]) for k in same)]


def needs(name: str, preset: str, preset_cfg: dict) -> list[str]:
    """The files and folders figure ``name`` reads (its rule's inputs)."""
    out: list[str] = []
    for g in reads(name):
        out += [eval_summary_file(preset, t) for t in g.get("tables", ())]
        out += [analysis_dir(preset, a, m) for m in models(g, preset_cfg) for a in g.get("analyses", ())]
    return out
