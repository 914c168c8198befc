# Shared helpers of the rules: config validation, the project's package, code inputs, targets.
import json
import os
import shlex
import sys
from pathlib import Path

_SRC = Path(workflow.basedir) / "src"
sys.path.insert(0, str(_SRC))

from rnnhmm import claims, codedeps, figures, plan  # noqa: E402
from rnnhmm import config as slices  # noqa: E402  (the params of every rule: one function per stage)
from rnnhmm.cli import STAGES  # noqa: E402
from rnnhmm.config import ConfigError, validate  # noqa: E402
from rnnhmm.plan import analyses  # noqa: E402

try:
    validate(config)
except ConfigError as _err:
    # One clear message and a non-zero exit before any job is planned: a WorkflowError would make
    # Snakemake add a 'File ..., line ...' trace that points at this file instead of the config.
    print(f"invalid configuration: {_err}", file=sys.stderr)
    sys.exit(1)

PRESET = config["preset"]
# every preset name a path can carry: the configured presets and their control presets (plan.CONTROLS)
CONTROL_PRESETS = [plan.control_preset(p, c) for p in config["presets"] for c in plan.CONTROLS]
ALL_PRESETS = [*config["presets"], *CONTROL_PRESETS]

# The project's package is put on PYTHONPATH inside every job, so the jobs run the repository's own
# code even inside a per-rule conda env (Snakemake does not pass PYTHONPATH into conda jobs).
# The path is relative to the working directory (jobs run there, locally and under SLURM's -D), so
# no absolute path of the submit host reaches a job.
# Rules use it as "{RNNHMM} <stage> ..." (Snakemake fills it in from this module's globals).
RNNHMM = f"PYTHONPATH={shlex.quote(os.path.relpath(_SRC))}${{PYTHONPATH:+:$PYTHONPATH}} python -m rnnhmm.cli"


def src(*modules):
    """The repository's source files a job runs, as its inputs -- the named modules and, transitively,
    every rnnhmm module they import (rnnhmm.codedeps) -- so editing any code a job runs reruns it."""
    files = set()
    for m in modules:
        files.update(codedeps.dependencies(m))
    return [os.path.relpath(_SRC / "rnnhmm" / f, os.getcwd()) for f in sorted(files)]


# The conda env of the training jobs (with --software-deployment-method conda), by the pytorch build
# they need: RNNHMM_TRAIN_BUILD=cpu (the default) or cuda (GPU nodes).  Paths are relative to the rules.
TRAIN_ENVS = {"cpu": "../../envs/train.yaml", "cuda": "../../envs/train-cuda.yaml"}
TRAIN_BUILD = os.environ.get("RNNHMM_TRAIN_BUILD", "") or "cpu"
if TRAIN_BUILD not in TRAIN_ENVS:
    print(f"RNNHMM_TRAIN_BUILD={TRAIN_BUILD!r}: must be one of {', '.join(TRAIN_ENVS)}", file=sys.stderr)
    sys.exit(1)
TRAIN_ENV = TRAIN_ENVS[TRAIN_BUILD]


def stage_code(stage, *modules):
    """The code inputs of a job of ``rnnhmm <stage>``, namely the dispatcher, the stage's module and
    what they import (rnnhmm.cli imports only the stage it runs), plus ``modules`` the stage imports by
    name (an analysis)."""
    return src("cli.py", f"stages/{STAGES[stage]}.py", *modules)


def preset_cfg(wildcards):
    """The configuration of the preset in a rule's wildcards (a control preset's is its base preset's)."""
    base = plan.split_preset(wildcards.preset)[0]
    if base not in config["presets"]:
        raise WorkflowError(
            f"unknown preset '{wildcards.preset}' in the target path; defined: {', '.join(config['presets'])}"
        )
    return config["presets"][base]


def models_of(preset):
    """The models of a preset: its grid, or for a control preset the base preset's models with controls."""
    return slices.models_of(config, preset)


def spec_of(wildcards):
    """The ModelSpec named by a rule's wildcards, checked against the preset's models."""
    spec = plan.ModelSpec(wildcards.hmm, int(wildcards.hidden), int(wildcards.dim), int(wildcards.seed))
    preset_cfg(wildcards)
    if spec not in models_of(wildcards.preset):
        raise WorkflowError(f"model {spec.id} is not in the grid of preset '{wildcards.preset}'")
    return spec


def train_priority(preset, spec):
    """The scheduling priority of a training: its relative cost (plan.training_cost)."""
    return plan.training_cost(config["presets"][preset], config["hmms"][spec.hmm], spec)


def hmm_priority(preset, hmm):
    """An HMM file gates its trainings: it gets the priority of its costliest one."""
    return max(
        (train_priority(preset, m) for m in plan.expand_grid(config["presets"][preset]) if m.hmm == hmm),
        default=0,
    )


def as_pattern(template, **fixed):
    """A plan template with some fields fixed and the rest left as wildcards."""
    out = template
    for k, v in fixed.items():
        out = out.replace(f"{{{k}}}", str(v))
    return out


def model_files(preset):
    return [f"{plan.model_dir(preset, m)}/model.pt" for m in plan.expand_grid(config["presets"][preset])]


def eval_files(preset):
    return [
        f"{plan.eval_dir(preset, m)}/{f}"
        for m in plan.expand_grid(config["presets"][preset])
        for f in EVAL_FILES
    ]


def figure_files(preset):
    return [plan.figure_file(preset, name, ext) for name in figures.FIGURES for ext in ("pdf", "png")]


ANALYSES = analyses.specs()  # read from the modules' declarations, none imported


def analysis_inputs(w):
    """model.pt, what the analysis declares in ``needs``, the outputs of analyses in ``after``, its code."""
    a = ANALYSES[w.analysis]
    spec = spec_of(w)
    fields = {"preset": w.preset, **spec.fields()}
    extra = {
        "checkpoints": plan.CHECKPOINTS_DIR.format(**fields),
        "history": plan.HISTORY_CSV.format(**fields),
        "hmm": plan.hmm_file(w.preset, spec.hmm),
    }
    inputs = {"model": plan.MODEL_PT.format(**fields)}
    inputs.update({n: extra[n] for n in a.needs})
    inputs.update({f"after_{n}": plan.analysis_dir(w.preset, n, spec) for n in a.after})
    inputs["code"] = stage_code("analyze", a.module_file)
    return inputs


def claims_files(preset):
    return [plan.claims_file(preset, ext) for ext in ("csv", "html")]


def report_pages(preset):
    return [plan.REPORT_PAGE.format(preset=preset, page=page) for page in plan.REPORT_PAGES]


def all_targets(preset):
    return eval_files(preset) + figure_files(preset) + claims_files(preset) + report_pages(preset)
