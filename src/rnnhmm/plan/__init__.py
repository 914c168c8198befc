"""The model grid of a preset and the paths every stage writes.

The path templates are the single source of truth: the Snakemake rules use them as patterns (their
``{...}`` fields are wildcards) and the Python code formats them, so a rule and the code that reads
its outputs cannot disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

HMM_FILE = "results/{preset}/hmm/{hmm}.npz"
FLOOR_FILE = "results/{preset}/hmm/{hmm}_floor.csv"  # the loss floor of an HMM at the preset's batch size
MODEL_DIR = "results/{preset}/models/{hmm}/h{hidden}_d{dim}/seed{seed}"
MODEL_PT = f"{MODEL_DIR}/model.pt"
HISTORY_CSV = f"{MODEL_DIR}/history.csv"
META_JSON = f"{MODEL_DIR}/meta.json"
CHECKPOINTS_DIR = f"{MODEL_DIR}/checkpoints"
EVAL_DIR = "results/{preset}/evaluate/{hmm}/h{hidden}_d{dim}/seed{seed}"
EVAL_TABLES = ("metrics", "distance", "transmat", "freq_vol", "training")  # one model's evaluation (rule evaluate)
EVAL_FILE = "eval_{table}.csv"  # each of EVAL_TABLES in EVAL_DIR
EVAL_SUMMARY_FILE = "results/{preset}/evaluate/summary/{table}"  # over all models (rule evaluate_summary)
EVAL_SUMMARY_TABLES = ("metrics.csv", "distance.csv", "transmat.csv", "freq_vol.csv", "training.csv",
                       "histories.csv", "grid_summary.csv", "grid_transmat.csv", "hmm_band.csv")
ANALYSIS_DIR = "results/{preset}/analysis/{analysis}/{hmm}/h{hidden}_d{dim}/seed{seed}"
FIGURE_FILE = "figures/{preset}/{figure}.{ext}"
REPORT_PAGE = "results/{preset}/report/{page}.html"  # the report's own pages (rule report_pages, rnnhmm.report)
REPORT_PAGES = ("evaluation", "provenance")
CLAIMS_FILE = "results/{preset}/claims.{ext}"  # the claims check (docs/claims.md): csv, and html for the report
LOG_DIR = "results/{preset}/logs"

# Controls of the claims check (docs/claims.md): networks that must fail the checks a trained network
# passes.  A control's results live under the *control preset* "<preset>-<control>" (a preset name is
# letters and digits only, so the hyphen cannot clash with a user's preset), with the same layout as
# the preset's own, so every evaluation and analysis rule runs on it unchanged.  Its models are the
# preset's reference models, made by rule control_model from the trained ones (rnnhmm.controls):
#   untrained: the network's initial weights (the training's own "init" stream, same seed);
#   shuffled:  the trained network with the entries of its recurrent matrix W randomly permuted.
CONTROLS = ("untrained", "shuffled")
CONTROL_SEP = "-"


@dataclass(frozen=True, order=True)
class ModelSpec:
    hmm: str
    hidden: int
    dim: int
    seed: int

    @property
    def id(self) -> str:
        return f"{self.hmm}_h{self.hidden}_d{self.dim}_s{self.seed}"

    def fields(self) -> dict:
        return asdict(self)

    @classmethod
    def from_id(cls, text: str) -> ModelSpec:
        """The model of an id ``<hmm>_h<hidden>_d<dim>_s<seed>`` (the inverse of ``id``)."""
        import re

        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)_h([1-9][0-9]*)_d([1-9][0-9]*)_s([0-9]+)", text)
        if m is None:
            raise ValueError(f"model id {text!r} is not of the form <hmm>_h<hidden>_d<dim>_s<seed>, "
                             "e.g. chain2_h150_d100_s0")
        return cls(m[1], int(m[2]), int(m[3]), int(m[4]))


def table_ids(table) -> list[str]:
    """The ``ModelSpec.id`` of each row of a table with the columns hmm, hidden, dim and seed."""
    return [ModelSpec(h, int(H), int(d), int(s)).id
            for h, H, d, s in zip(table["hmm"], table["hidden"], table["dim"], table["seed"], strict=True)]


def expand_grid(preset_cfg: dict) -> list[ModelSpec]:
    """Every (hmm, hidden, dim, seed) of the preset's grid, de-duplicated and sorted."""
    specs = set()
    for group in preset_cfg["grid"]:
        for hmm in group["hmms"]:
            for hidden in group["hidden"]:
                for dim in group["dim"]:
                    for seed in group["seeds"]:
                        specs.add(ModelSpec(hmm, int(hidden), int(dim), int(seed)))
    return sorted(specs)


def hmms_in(preset_cfg: dict) -> list[str]:
    """The HMMs the preset trains on, in the order of first appearance in the grid."""
    seen: list[str] = []
    for group in preset_cfg["grid"]:
        for hmm in group["hmms"]:
            if hmm not in seen:
                seen.append(hmm)
    return seen


def reference(preset_cfg: dict, hmm: str) -> ModelSpec:
    """The reference model of an HMM (the configuration the paper analyses, e.g. h150_d100_s0)."""
    ref = preset_cfg["reference"]
    return ModelSpec(hmm, int(ref["hidden"]), int(ref["dim"]), int(ref["seed"]))


def reference_models(preset_cfg: dict, hmms: list[str] | None = None) -> list[ModelSpec]:
    """The reference models of the given HMMs (default: all of the preset's HMMs) that the grid trains."""
    grid = set(expand_grid(preset_cfg))
    names = hmms_in(preset_cfg) if hmms is None else [h for h in hmms if h in hmms_in(preset_cfg)]
    return [reference(preset_cfg, h) for h in names if reference(preset_cfg, h) in grid]


def is_evolution(preset_cfg: dict, spec: ModelSpec) -> bool:
    """Whether a model is trained as the preset's evolution model (``train.evolution``: its hidden size
    and input dim), which keeps per-epoch checkpoints for the training-evolution analysis."""
    evo = preset_cfg.get("train", {}).get("evolution", {})
    return spec.hidden == int(evo.get("hidden", -1)) and spec.dim == int(evo.get("dim", -1))


def control_models(preset_cfg: dict) -> list[ModelSpec]:
    """The reference models that get control networks (``controls.hmms`` of the preset; default: every
    reference model).  A smaller set keeps a test preset fast; a check whose models are not all in it
    is measured without the control networks."""
    hmms = preset_cfg.get("controls", {}).get("hmms")
    return reference_models(preset_cfg, None if hmms is None else list(hmms))


def ref2_models(preset_cfg: dict) -> list[ModelSpec]:
    """The reference 2-state model ('ref2', the chain2 reference) as a one-element list, or [] when
    the preset does not train it."""
    return reference_models(preset_cfg, ["chain2"])


def control_preset(preset: str, control: str) -> str:
    """The preset name under which a control of ``preset``'s reference models is evaluated."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control {control!r}; known: {', '.join(CONTROLS)}")
    return f"{preset}{CONTROL_SEP}{control}"


def split_preset(name: str) -> tuple[str, str | None]:
    """(base preset, control) of a preset name: ('laptop', 'untrained') for 'laptop-untrained',
    ('laptop', None) for 'laptop'."""
    base, sep, control = name.rpartition(CONTROL_SEP)
    if sep and control in CONTROLS and base:
        return base, control
    return name, None


def hmm_file(preset: str, hmm: str) -> str:
    """The HMM file of a preset; a control preset uses its base preset's (the same HMM and data)."""
    return HMM_FILE.format(preset=split_preset(preset)[0], hmm=hmm)


def floor_file(preset: str, hmm: str) -> str:
    """The loss-floor table of an HMM (rnnhmm.floor); a control preset's is its base preset's."""
    return FLOOR_FILE.format(preset=split_preset(preset)[0], hmm=hmm)


def model_dir(preset: str, spec: ModelSpec) -> str:
    return MODEL_DIR.format(preset=preset, **spec.fields())


def eval_dir(preset: str, spec: ModelSpec) -> str:
    return EVAL_DIR.format(preset=preset, **spec.fields())


def eval_file(table: str) -> str:
    """The file name of one of a model's evaluation tables (EVAL_TABLES), e.g. 'eval_metrics.csv'."""
    if table not in EVAL_TABLES:
        raise KeyError(f"unknown evaluation table {table!r}; known: {', '.join(EVAL_TABLES)}")
    return EVAL_FILE.format(table=table)


def eval_summary_file(preset: str, table: str) -> str:
    """An aggregated evaluation table (one of EVAL_SUMMARY_TABLES), e.g. 'grid_summary.csv'."""
    return EVAL_SUMMARY_FILE.format(preset=preset, table=table)


def analysis_dir(preset: str, analysis: str, spec: ModelSpec) -> str:
    return ANALYSIS_DIR.format(preset=preset, analysis=analysis, **spec.fields())


def figure_file(preset: str, figure: str, ext: str) -> str:
    return FIGURE_FILE.format(preset=preset, figure=figure, ext=ext)


def claims_file(preset: str, ext: str = "csv") -> str:
    return CLAIMS_FILE.format(preset=preset, ext=ext)


def training_cost(preset_cfg: dict, hmm_cfg: dict, spec: ModelSpec) -> int:
    """A training's relative cost for scheduling: epochs × sequence length × sequences per epoch
    (train + validation) × (hidden + dim), in units of 10^6.  Only its order matters: the rule's
    priority, so the longest trainings start first and a run's length does not depend on the order
    Snakemake happens to pick."""
    epochs = int(preset_cfg["train"]["epochs"][spec.hmm])
    data = preset_cfg["data"]
    work = epochs * int(hmm_cfg["seq_len"]) * (int(data["n_train"]) + int(data["n_val"])) * (spec.hidden + spec.dim)
    return max(1, work // 10**6)
