"""A stage run by hand: ``rnnhmm <stage> --preset P [--model ID]`` builds the stage's configuration
slice from the config file exactly as the workflow's rule does (the same rnnhmm.config functions)
and fills in the paths the rule would use (rnnhmm.plan), e.g.

    rnnhmm analyze residency --preset laptop --model chain2_h150_d100_s0

reads config.yaml, validates it, checks that the model is in the preset's grid, and writes
results/laptop/analysis/residency/chain2/h150_d100/seed0/.  Imported by rnnhmm.stages only when
``--params`` is omitted, so it is no code input of a workflow job.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import config as configuration
from . import plan
from .stages import ParamsError


def load_config(path: str, preset: str) -> dict:
    """The config file, validated, with ``preset`` as its preset (a control preset: its base preset)."""
    import yaml

    if not Path(path).is_file():
        raise ParamsError(f"{path}: config file not found (give --config, or run in the workflow's folder)")
    try:
        cfg = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("presets"), dict):
        raise ParamsError(f"{path}: not a workflow config file (no 'presets' mapping)")
    base = plan.split_preset(preset)[0]
    if base not in cfg["presets"]:
        raise ParamsError(f"--preset {preset!r} is not a preset of {path}; defined: {', '.join(cfg['presets'])}")
    cfg["preset"] = base
    return configuration.validate(cfg)


def model_of(args, config: dict) -> plan.ModelSpec:
    if args.model is None:
        raise ParamsError(f"'{args.stage}' by hand needs --model <hmm>_h<hidden>_d<dim>_s<seed> (or --params)")
    try:
        spec = plan.ModelSpec.from_id(args.model)
    except ValueError as err:
        raise ParamsError(str(err)) from None
    models = configuration.models_of(config, args.preset)
    if spec not in models:
        raise ParamsError(f"model {spec.id} is not in the grid of preset '{args.preset}'; its models: "
                          f"{', '.join(m.id for m in models)}")
    return spec


def hmm_of(args, config: dict) -> str:
    hmms = plan.hmms_in(configuration.base_cfg(config, args.preset))
    if args.hmm is None or args.hmm not in hmms:
        raise ParamsError(f"'{args.stage}' by hand needs --hmm, one of the preset's HMMs: {', '.join(hmms)}"
                          + (f" (got {args.hmm!r})" if args.hmm is not None else ""))
    return args.hmm


def _default(args, name: str, value: str) -> None:
    if getattr(args, name, None) is None:
        setattr(args, name, value)


def params(args) -> dict:
    """The slice of ``args.stage`` from ``args.config`` for ``args.preset`` (and ``args.model``); the
    stage's path options that were not given are set to the workflow's paths."""
    stage, preset = args.stage, args.preset
    if preset is None:
        raise ParamsError(f"'{stage}' needs --params, or --preset (and --model) to build it from the config file")
    config = load_config(args.config, preset)
    if stage in ("hmm", "floor", "train") and plan.split_preset(preset)[1]:
        raise ParamsError(f"'{stage}' runs on a trained preset, not the control preset '{preset}'")
    if stage == "hmm":
        hmm = hmm_of(args, config)
        _default(args, "out", plan.hmm_file(preset, hmm))
        return configuration.hmm_params(config, preset, hmm)
    if stage == "floor":
        hmm = hmm_of(args, config)
        _default(args, "hmm_file", plan.hmm_file(preset, hmm))
        _default(args, "out", plan.floor_file(preset, hmm))
        return configuration.floor_params(config, preset)
    if stage == "evaluate-summary":
        _default(args, "out_dir", os.path.dirname(plan.EVAL_SUMMARY_FILE).format(preset=preset))
        return configuration.summary_params(config, preset)
    if stage == "figure":
        _default(args, "out", os.path.splitext(plan.figure_file(preset, args.name, "png"))[0])
        return configuration.figure_params(config, preset)
    if stage == "claims":
        _default(args, "out", plan.claims_file(preset, "csv"))
        return configuration.claims_params(config, preset)
    spec = model_of(args, config)
    if stage == "train":
        _default(args, "hmm_file", plan.hmm_file(preset, spec.hmm))
        _default(args, "out_dir", plan.model_dir(preset, spec))
        return configuration.train_params(config, preset, spec)
    if stage == "evaluate":
        _default(args, "hmm_file", plan.hmm_file(preset, spec.hmm))
        _default(args, "model_file", plan.MODEL_PT.format(preset=preset, **spec.fields()))
        _default(args, "out_dir", plan.eval_dir(preset, spec))
        return configuration.evaluate_params(config, preset, spec)
    if stage == "analyze":
        return configuration.analysis_params(config, preset, spec, args.analysis)
    raise ParamsError(f"'{stage}' cannot be run from the config file; give --params")
