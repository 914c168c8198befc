"""Validation of the workflow configuration and the per-stage slices the rules pass to the CLI.

``validate(config)`` checks the structure against workflow/schemas/config.schema.yaml and then the
meaning (matrices stochastic, grid HMMs defined, checkpoint epochs within the run, ...).  Any
problem raises ``ConfigError`` with one message that names the key and what is allowed.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from . import plan
from .errors import UserError
from .hmm import MIN_OUTPUTS, MIN_STATES, HMMSpecError, build_hmm, read_hmm_spec

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(UserError, ValueError):
    """The configuration is invalid; the message names the key and what is allowed."""


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def _describe(error) -> str:
    """One readable sentence for a jsonschema ValidationError."""
    key = _key(error.absolute_path)
    v, s = error.validator, error.schema
    if v == "additionalProperties":
        allowed = sorted(s.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        if s.get("additionalProperties") is False and allowed:
            return f"config key '{_key([*error.absolute_path, extra[0]]) if extra else key}' is not allowed; allowed keys here: {', '.join(allowed)}"
    if v == "required":
        return f"config key '{key}' is missing a required entry: {error.message.split(' is a required')[0]}; required: {', '.join(s['required'])}"
    if v == "enum":
        return f"config key '{key}' = {error.instance!r} is not allowed; allowed values: {', '.join(map(str, s['enum']))}"
    if v == "type":
        return f"config key '{key}' = {error.instance!r} has the wrong type; expected {s['type']}"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[v]
        return f"config key '{key}' = {error.instance!r} is out of range; allowed: {op} {s[v]}"
    if v in ("minItems", "minProperties"):
        if s[v] == 1:
            return f"config key '{key}' must not be empty; allowed: at least 1 entry"
        return f"config key '{key}' = {error.instance!r} has too few entries; allowed: at least {s[v]}"
    if v in ("maxItems", "maxProperties"):
        return f"config key '{key}' = {error.instance!r} has too many entries; allowed: at most {s[v]}"
    if v == "uniqueItems":
        return f"config key '{key}' = {error.instance!r} repeats an entry; allowed: distinct entries"
    if v == "const":
        return f"config key '{key}' = {error.instance!r} is not allowed; allowed value: {s['const']!r}"
    if v == "oneOf" and "checkpoint_epochs" in key:
        return f"config key '{key}' = {error.instance!r} is not allowed; allowed: 'all' or a list of distinct epochs >= 1"
    if v == "pattern" or v == "propertyNames":
        return f"config key '{key}': name {error.instance!r} is not allowed; names are letters and digits, starting with a letter"
    return f"config key '{key}': {error.message}"


def load_schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def validate(config: dict) -> dict:
    """Validate ``config`` (as loaded from config.yaml, after --config overrides); return it."""
    import jsonschema

    schema = load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(_describe(best))
    _check_semantics(config)
    apply_defaults(config, schema)
    return config


_NONE = object()  # "the schema gives no default" (None can be a default)


def _resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        target = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def apply_defaults(config: dict, schema: dict | None = None) -> dict:
    """Fill in every key the schema gives a ``default:`` and the config leaves out, in place: the one
    place a default lives, applied once, so no stage repeats it as a fallback."""
    import copy

    root = load_schema() if schema is None else schema

    def fill(node: dict, value) -> None:
        node = _resolve(node, root)
        if isinstance(value, dict):
            props = node.get("properties", {})
            for k, sub in props.items():
                default = _resolve(sub, root).get("default", _NONE)  # a default beside a $ref is kept
                if k not in value and default is not _NONE:
                    value[k] = copy.deepcopy(default)
                if k in value:
                    fill(sub, value[k])
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                for k, v in value.items():
                    if k not in props:
                        fill(extra, v)
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for v in value:
                fill(node["items"], v)

    fill(root, config)
    return config


def _check_finite(obj, path=()) -> None:
    """YAML reads .nan and .inf as numbers, which pass every range check of the schema."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ConfigError(f"config key '{_key(path)}' = {obj!r} is not allowed; allowed: a finite number")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_finite(v, (*path, i))


def _check_hmm(name: str, spec: dict) -> None:
    if "file" in spec:
        other = [k for k in ("transitions", "emissions", "start") if k in spec]
        if other:
            raise ConfigError(f"config key 'hmms.{name}' has both 'file' and {', '.join(repr(k) for k in other)}; "
                              "allowed: an HMM file, or transitions and emissions (with an optional start)")
        try:
            read_hmm_spec(spec["file"], name)
        except HMMSpecError as err:
            raise ConfigError(f"config key 'hmms.{name}.file': {err}") from None
        return
    missing = [k for k in ("transitions", "emissions") if k not in spec]
    if missing:
        raise ConfigError(f"config key 'hmms.{name}' has no {' or '.join(missing)}; allowed: transitions and "
                          "emissions (with an optional start), or file: an HMM file (docs/own-hmm.md)")
    for part in ("transitions", "emissions"):
        matrix = spec[part].get("matrix")
        if matrix is not None and len({len(row) for row in matrix}) > 1:
            raise ConfigError(f"config key 'hmms.{name}.{part}.matrix' has rows of lengths {[len(r) for r in matrix]}; "
                              "allowed: a rectangular matrix (every row the same length)")
    tr, em = spec["transitions"], spec["emissions"]
    n_states = tr.get("n_states")
    if tr["kind"] == "custom" and tr.get("matrix") is not None:
        rows, cols = len(tr["matrix"]), len(tr["matrix"][0])
        if rows != cols:
            raise ConfigError(f"config key 'hmms.{name}.transitions.matrix' is {rows} x {cols}; "
                              "allowed: a square matrix (M x M, one row and column per state)")
        if rows < MIN_STATES:
            raise ConfigError(f"config key 'hmms.{name}.transitions.matrix' has {rows} state; allowed: "
                              f"at least {MIN_STATES} states")
        n_states = rows
    emissions = em.get("matrix") if em["kind"] == "custom" else None
    if emissions is not None:
        if n_states is not None and len(emissions) != n_states:
            raise ConfigError(f"config key 'hmms.{name}.emissions.matrix' has {len(emissions)} rows; the emission "
                              f"matrix must have shape ({n_states}, K), one row per state of the transitions")
        if len(emissions[0]) < MIN_OUTPUTS:
            raise ConfigError(f"config key 'hmms.{name}.emissions.matrix' has {len(emissions[0])} column; allowed: "
                              f"at least {MIN_OUTPUTS} columns, one per output symbol")
    start = spec.get("start")
    if start is not None and n_states is not None and len(start) != n_states:
        raise ConfigError(f"config key 'hmms.{name}.start' has {len(start)} entries; allowed: {n_states}, one per state")
    try:
        build_hmm(name, spec)
    except (HMMSpecError, KeyError, ValueError, TypeError) as err:
        msg = str(err)
        for prefix in (f"hmms.{name}: ", f"{name}: "):  # build_hmm already names the HMM
            while msg.startswith(prefix):
                msg = msg[len(prefix):]
        key = f"hmms.{name}"
        if msg.startswith(key):
            key, _, msg = msg.partition(": ")
        elif "transition" in msg:
            key += ".transitions"
        elif "emission" in msg:
            key += ".emissions"
        raise ConfigError(f"config key '{key}': {msg}") from None


def _check_semantics(config: dict) -> None:
    presets, hmms = config["presets"], config["hmms"]
    _check_finite(config)
    if config["preset"] not in presets:
        raise ConfigError(f"config key 'preset' = {config['preset']!r} is not a defined preset; allowed: {', '.join(presets)}")
    for name, spec in hmms.items():
        _check_hmm(name, spec)
    for pname, pcfg in presets.items():
        where = f"presets.{pname}"
        for g, group in enumerate(pcfg["grid"]):
            unknown = [h for h in group["hmms"] if h not in hmms]
            if unknown:
                raise ConfigError(f"config key '{where}.grid.{g}.hmms': unknown HMM(s) {unknown}; defined: {', '.join(hmms)}")
        train = pcfg["train"]
        used = plan.hmms_in(pcfg)
        missing = [h for h in used if h not in train["epochs"]]
        if missing:
            raise ConfigError(f"config key '{where}.train.epochs' has no entry for {missing}; give epochs for every HMM of the grid")
        ck = train["checkpoint_epochs"]
        if ck != "all":
            for h in used:
                late = [e for e in ck if e > train["epochs"][h]]
                if late:
                    raise ConfigError(f"config key '{where}.train.checkpoint_epochs': epochs {late} lie beyond the last epoch "
                                      f"({train['epochs'][h]}) of {h}; allowed: 1..{train['epochs'][h]}")
        if not plan.reference_models(pcfg):
            ref = pcfg["reference"]
            raise ConfigError(f"config key '{where}.reference' (hidden {ref['hidden']}, dim {ref['dim']}, seed {ref['seed']}) "
                              "is not in the grid of any HMM; the single-model analyses need it")
        unknown = [h for h in pcfg.get("controls", {}).get("hmms", []) if h not in used]
        if unknown:
            raise ConfigError(f"config key '{where}.controls.hmms': {unknown} not in the preset's grid; allowed: "
                              f"{', '.join(used)}")
        _check_analysis_params(where, pcfg.get("analysis", {}))
        if train["batch_size"] > pcfg["data"]["n_train"]:
            raise ConfigError(f"config key '{where}.train.batch_size' = {train['batch_size']} exceeds data.n_train = "
                              f"{pcfg['data']['n_train']}; allowed: 1..{pcfg['data']['n_train']}")


def _check_analysis_params(where: str, analysis_cfg: dict) -> None:
    from .plan import analyses
    from .plan.params import ParamError

    known = analyses.names()
    for name, params in analysis_cfg.items():
        if name not in known:
            raise ConfigError(f"config key '{where}.analysis.{name}': unknown analysis; allowed: {', '.join(known)}")
        try:
            analyses.check_params(name, params)
        except ParamError as err:
            key = f"{where}.analysis.{name}" + (f".{err.param}" if err.param else "")
            raise ConfigError(f"config key '{key}': {err}") from None


# ---------------------------------------------------------------------- slices passed to the stages
def train_params(config: dict, preset: str, spec: plan.ModelSpec) -> dict:
    """Everything the training of one model depends on (the rule's params; a change reruns it)."""
    pcfg = config["presets"][preset]
    t = pcfg["train"]
    hcfg = config["hmms"][spec.hmm]
    epochs = int(t["epochs"][spec.hmm])
    ck = t["checkpoint_epochs"]
    checkpoints = ((list(range(1, epochs + 1)) if ck == "all" else [e for e in ck if e <= epochs])
                   if plan.is_evolution(pcfg, spec) else [])
    return {
        "base_seed": config["base_seed"],
        "model": spec.fields(),
        "train": {
            "epochs": epochs, "batch_size": t["batch_size"], "lr": t["lr"], "betas": list(t["betas"]), "eps": t["eps"],
            "clip": hcfg["clip"], "tau": t["tau"], "sigma": t["sigma"], "blur": t["blur"], "scaling": t["scaling"],
            "checkpoint_epochs": checkpoints, "resume_every": t["resume_every"],
            "sinkhorn_backend": t["sinkhorn_backend"], "device": t["device"],
            # only when set: at its default the params of existing trainings stay as they were
            **({"select_passes": t["select_passes"]} if t["select_passes"] else {}),
        },
    }


def hmm_spec(config: dict, hmm: str) -> dict:
    """The HMM's definition as the rules receive it: an entry with ``file`` becomes the file's
    matrices (``transitions``/``emissions`` custom, ``start``; the file's name kept as ``from_file``),
    so that a stage needs no file and an edited file changes the params of every rule that uses it."""
    spec = config["hmms"][hmm]
    if "file" not in spec:
        return spec
    h = read_hmm_spec(spec["file"], hmm)
    rest = {k: v for k, v in spec.items() if k != "file"}
    return {**rest, "from_file": spec["file"], "start": h.start.tolist(),
            "transitions": {"kind": "custom", "matrix": h.transition.tolist()},
            "emissions": {"kind": "custom", "matrix": h.emission.tolist()}}


def hmm_params(config: dict, preset: str, hmm: str) -> dict:
    pcfg = config["presets"][preset]
    return {"base_seed": config["base_seed"], "name": hmm, "spec": hmm_spec(config, hmm),
            "seq_len": config["hmms"][hmm]["seq_len"], "data": pcfg["data"]}


def base_cfg(config: dict, preset: str) -> dict:
    """The configuration of a preset; a control preset's is its base preset's (plan.split_preset)."""
    return config["presets"][plan.split_preset(preset)[0]]


def models_of(config: dict, preset: str) -> list[plan.ModelSpec]:
    """The models of a preset: its grid, or for a control preset its base preset's models with controls."""
    control = plan.split_preset(preset)[1]
    pcfg = base_cfg(config, preset)
    return plan.control_models(pcfg) if control else plan.expand_grid(pcfg)


def floor_params(config: dict, preset: str) -> dict:
    """What the loss floor of an HMM depends on: the training's batch and loss settings."""
    t = config["presets"][preset]["train"]
    return {"base_seed": config["base_seed"],
            "train": {k: t[k] for k in ("batch_size", "blur", "scaling", "sinkhorn_backend")}}


def control_params(config: dict, preset: str, spec: plan.ModelSpec) -> dict:
    """A control network of a control preset's model (rnnhmm.controls)."""
    return {"base_seed": config["base_seed"], "model": spec.fields(), "control": plan.split_preset(preset)[1]}


def evaluate_params(config: dict, preset: str, spec: plan.ModelSpec) -> dict:
    """Everything the evaluation of one model depends on (docs/method.md §3)."""
    pcfg = base_cfg(config, preset)
    e, t = pcfg["evaluate"], pcfg["train"]
    return {
        "base_seed": config["base_seed"], "model": spec.fields(), "n_sequences": e["n_sequences"],
        "grid_seq_len": e["grid_seq_len"], "match": {"eps": e["eps"], "max_iter": e["max_iter"], "tol": e["tol"]},
        "sigma": t["sigma"], "tau": t["tau"], "blur": t["blur"], "scaling": t["scaling"],
    }


def summary_params(config: dict, preset: str) -> dict:
    """The evaluation summary of a preset: every model of its grid."""
    return {"preset": preset, "models": [m.fields() for m in plan.expand_grid(base_cfg(config, preset))]}


def analysis_params(config: dict, preset: str, spec: plan.ModelSpec, analysis: str) -> dict:
    """One analysis of one model: its own parameters (``presets.<p>.analysis.<name>``), nothing else."""
    return {"preset": preset, "base_seed": config["base_seed"], "model": spec.fields(),
            "params": base_cfg(config, preset).get("analysis", {}).get(analysis, {})}


# The part of a preset the figures and the claims check read (which models exist, which is the
# reference, which get controls, which train as the evolution model, the grid's evaluation length).
# Their rules pass only this slice, so changing an analysis', a training's or the evaluation's other
# settings reruns a figure only through the tables it reads.
PRESENTATION_KEYS = ("grid", "reference", "controls")


def presentation_cfg(pcfg: dict) -> dict:
    out = {k: pcfg[k] for k in PRESENTATION_KEYS if k in pcfg}
    out["train"] = {"evolution": pcfg["train"]["evolution"]}
    out["evaluate"] = {"grid_seq_len": pcfg["evaluate"]["grid_seq_len"]}
    return out


def figure_params(config: dict, preset: str) -> dict:
    """A figure: the preset's presentation slice and the definitions of the HMMs its grid trains on
    (figure 1 draws every HMM; figures label a model by its training length ``seq_len``) without
    their training settings."""
    return {"preset": preset, "preset_cfg": presentation_cfg(base_cfg(config, preset)),
            "hmms": {h: {k: v for k, v in hmm_spec(config, h).items() if k != "clip"} for h in _grid_hmms(config, preset)}}


def _grid_hmms(config: dict, preset: str) -> list[str]:
    """The HMMs of the preset's grid, in the order of ``hmms:`` (so an HMM another preset adds does
    not change this preset's figure and claims params)."""
    used = set(plan.hmms_in(base_cfg(config, preset)))
    return [h for h in config["hmms"] if h in used]


def claims_params(config: dict, preset: str) -> dict:
    """The claims check: the presentation slice and each HMM's definition (its training length, and
    the matrices that decide which checks apply to it)."""
    return {"preset": preset, "preset_cfg": presentation_cfg(base_cfg(config, preset)),
            "hmms": {h: hmm_spec(config, h) for h in _grid_hmms(config, preset)}}
