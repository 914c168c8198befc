"""`rnnhmm <stage>`: the entry points the workflow rules call (and users call by hand).

Each stage takes its whole configuration slice as one JSON object (``--params``), so a rule's
params are exactly what the stage depends on.  Malformed JSON, a value that is not an object or a
missing required key (declared next to each stage's parser) stop the stage with one error line and
exit code 2 before anything is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, io

log = logging.getLogger("rnnhmm")


def _setup_logging(verbose: bool = False) -> None:
    # at a terminal the log lines sit above a progress bar (rnnhmm.progress; it changes no result, so it
    # is imported here and is no code input of any job); in a job's log file they are plain lines
    from .progress import log_handler

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[log_handler(sys.stderr)],
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")


class ParamsError(ValueError):
    """``--params`` is not a JSON object holding every key its stage requires."""


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}


def stage_params(args) -> dict:
    """The stage's ``--params`` parsed: a JSON object with every key of ``args.required`` (set next to the
    stage's parser).  Anything else raises ParamsError with a one-line message."""
    try:
        p = json.loads(args.params)
    except json.JSONDecodeError as err:
        raise ParamsError(f"--params is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(p, dict):
        raise ParamsError(f"--params must be a JSON object, got {_JSON_TYPES.get(type(p), type(p).__name__)}")
    required = getattr(args, "required", ())
    missing = [k for k in required if k not in p]
    if missing:
        raise ParamsError(f"--params of '{args.stage}' is missing required key(s) {', '.join(missing)}; "
                          f"required: {', '.join(required)}")
    return p


def _positive_int(text: str) -> int:
    """argparse type of the integer options that count something (--threads): an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is out of range; allowed: an integer >= 1")
    return n


def _threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(int(n))


# ---------------------------------------------------------------------- stages
def cmd_hmm(args) -> None:
    from .hmm import build_hmm
    from .rng import numpy_rng

    p = stage_params(args)
    started = time.time()
    hmm = build_hmm(p["name"], p["spec"])
    d = p["data"]
    n = d["n_train"] + d["n_val"] + d["n_test"]
    states, outputs = hmm.sample(n, int(p["seq_len"]), numpy_rng(p["base_seed"], p["name"], "data"))
    a, b = d["n_train"], d["n_train"] + d["n_val"]
    io.write_npz(args.out, format=np.array(io.HMM_FORMAT), name=np.array(p["name"]), transition=hmm.transition,
                 emission=hmm.emission, start=hmm.start, train=outputs[:a], val=outputs[a:b], test=outputs[b:],
                 train_states=states[:a], val_states=states[a:b], test_states=states[b:])
    io.write_sidecar(args.out, io.provenance(p, started))
    log.info("%s: %d sequences of length %d -> %s", p["name"], n, p["seq_len"], args.out)


def load_hmm_file(path: str | Path):
    """The HMM and its data splits from an hmm .npz written by `rnnhmm hmm`."""
    from .hmm import HMM

    data = io.read_npz(path)
    if str(data.get("format", "")) != io.HMM_FORMAT:
        raise io.ResultFileError(f"{path}: not an rnnhmm HMM file (format tag {data.get('format')!r})")
    hmm = HMM(str(data["name"]), data["transition"], data["emission"], data["start"])
    return hmm, data


def cmd_floor(args) -> None:
    """The loss floor of an HMM (rnnhmm.floor): a perfect emulator's training and validation loss."""
    from .floor import N_PAIRS, loss_floor
    from .rng import numpy_rng

    p = stage_params(args)
    _threads(args.threads)
    started = time.time()
    hmm, data = load_hmm_file(args.hmm_file)
    t = p["train"]
    table = loss_floor(hmm, int(data["train"].shape[1]), {"train": len(data["train"]), "val": len(data["val"])},
                       int(t["batch_size"]), numpy_rng(p["base_seed"], hmm.name, "floor"), blur=float(t["blur"]),
                       scaling=float(t["scaling"]), backend=str(t["sinkhorn_backend"]),
                       n_pairs=int(p.get("n_pairs", N_PAIRS)))
    io.write_table(args.out, table)
    io.write_sidecar(args.out, io.provenance(p, started))
    for _, r in table.iterrows():
        log.info("%s %s (%d sequences, batch %d): floor %.4f ± %.4f", r["hmm"], r["split"], r["n_sequences"],
                 r["batch_size"], r["floor"], r["floor_se"])


def cmd_train(args) -> None:
    from .train import ModelKey, TrainConfig, train

    p = stage_params(args)
    _threads(args.threads)
    _, data = load_hmm_file(args.hmm_file)
    m = p["model"]
    key = ModelKey(m["hmm"], int(m["hidden"]), int(m["dim"]), int(m["seed"]), int(p["base_seed"]), int(p.get("attempt", 0)))
    t = dict(p["train"])
    t["betas"] = tuple(t["betas"])
    t["checkpoint_epochs"] = tuple(t["checkpoint_epochs"])
    summary = train(key, TrainConfig(**t), data["train"], data["val"], args.out_dir, config_slice=p)
    log.info("done: %s", json.dumps(summary))


def cmd_control(args) -> None:
    """A control network of the claims check (rnnhmm.controls) from a trained model."""
    from .controls import make_control
    from .plan import CONTROLS
    from .train import ModelKey

    p = stage_params(args)
    if p["control"] not in CONTROLS:
        raise ParamsError(f"unknown control {p['control']!r}; known: {', '.join(CONTROLS)}")
    m = p["model"]
    key = ModelKey(m["hmm"], int(m["hidden"]), int(m["dim"]), int(m["seed"]), int(p["base_seed"]), int(p.get("attempt", 0)))
    summary = make_control(p["control"], args.trained, key, args.out_dir, config_slice=p)
    log.info("done: %s", json.dumps(summary))


def cmd_evaluate(args) -> None:
    """Every §3 metric of one trained model (docs/method.md §3): tables in --out-dir."""
    from .evaluate import eval_lengths, evaluate_model

    p = stage_params(args)
    _threads(args.threads)
    started = time.time()
    hmm, data = load_hmm_file(args.hmm_file)
    model = io.load_model(args.model, "best")
    m = p["model"]
    keys = {k: m[k] for k in ("hmm", "hidden", "dim", "seed")}
    train_len = int(data["train"].shape[1])
    lengths = eval_lengths(train_len, p.get("grid_seq_len"))
    history = io.read_table(Path(args.model).parent / "history.csv")
    tables = evaluate_model(model, hmm, keys, n=int(p["n_sequences"]), lengths=lengths, base_seed=int(p["base_seed"]),
                            attempt=int(p.get("attempt", 0)), sigma=float(p.get("sigma", 1.0)),
                            tau=float(p.get("tau", 1.0)), match=p.get("match"), test_set=data["test"],
                            blur=float(p.get("blur", 0.2)), scaling=float(p.get("scaling", 0.5)), history=history)
    out = Path(args.out_dir)
    record = io.provenance(p, started)
    for name, df in tables.items():
        io.write_table(out / f"eval_{name}.csv", df)
        io.write_sidecar(out / f"eval_{name}.csv", record)
    d = tables["distance"]
    for _, r in d.iterrows():
        log.info("%s T=%d: matched distance RNN %.3f ± %.3f (%d it), HMM baseline %.3f ± %.3f (%d it)", m["hmm"],
                 r["T_eval"], r["rnn_mean"], r["rnn_std"], r["iters_rnn"], r["base_mean"], r["base_std"], r["iters_base"])


def cmd_evaluate_summary(args) -> None:
    """Concatenate every model's evaluation tables and aggregate over seeds (the tables figures read)."""
    import pandas as pd

    from .evaluate import summarise
    from .plan import ModelSpec, eval_dir, floor_file, model_dir

    p = stage_params(args)
    started = time.time()
    parts: dict[str, list] = {k: [] for k in ("metrics", "distance", "transmat", "freq_vol", "training", "histories")}
    for m in p["models"]:
        spec = ModelSpec(**m)
        d = Path(eval_dir(p["preset"], spec))
        for name in ("metrics", "distance", "transmat", "freq_vol", "training"):
            parts[name].append(io.read_table(d / f"eval_{name}.csv"))
        hist = io.read_table(Path(model_dir(p["preset"], spec)) / "history.csv")
        parts["histories"].append(hist.assign(**m)[list(m) + list(hist.columns)])
    hmms = sorted({m["hmm"] for m in p["models"]})
    parts["floors"] = [io.read_table(floor_file(p["preset"], h)) for h in hmms]
    tables = summarise({k: pd.concat(v, ignore_index=True) for k, v in parts.items()})
    out = Path(args.out_dir)
    record = io.provenance(p, started)
    for fname, df in tables.items():
        io.write_table(out / fname, df)
        io.write_sidecar(out / fname, record)
    log.info("evaluation summary of %d models -> %s", len(p["models"]), out)


def write_results(out_dir: str | Path, results: dict, record: dict) -> list[Path]:
    """Write an analysis' results by file ending (.csv/.parquet tables, .json dicts, .npz arrays),
    each with its provenance sidecar."""
    import pandas as pd

    written = []
    for fname, obj in results.items():
        path = Path(out_dir) / fname
        if path.suffix in (".csv", ".parquet"):
            if not isinstance(obj, pd.DataFrame):
                raise TypeError(f"{fname}: a table file needs a DataFrame, got {type(obj).__name__}")
            io.write_table(path, obj)
        elif path.suffix == ".json":
            io.write_json(path, obj)
        elif path.suffix == ".npz":
            io.write_npz(path, **obj)
        else:
            raise ValueError(f"{fname}: unknown result format (use .csv, .parquet, .json or .npz)")
        io.write_sidecar(path, record)
        written.append(path)
    return written


def cmd_analyze(args) -> None:
    from .dynamics import registry
    from .plan import ModelSpec

    p = stage_params(args)
    _threads(args.threads)
    started = time.time()
    if args.analysis not in registry.analyses():
        raise ParamsError(f"unknown analysis '{args.analysis}'; known: {', '.join(registry.analyses())}")
    analysis = registry.get(args.analysis)
    ctx = registry.AnalysisContext(name=analysis.name, preset=p["preset"], spec=ModelSpec(**p["model"]),
                                   base_seed=int(p["base_seed"]),
                                   params=registry.check_params(analysis.name, p.get("params", {})))
    results = analysis.run(ctx)
    written = write_results(ctx.out_dir, results, io.provenance(p, started))
    log.info("%s on %s: wrote %s", analysis.name, ctx.spec.id, ", ".join(x.name for x in written))


def cmd_figure(args) -> None:
    from . import figures
    from .figures.style import save

    p = stage_params(args)
    started = time.time()
    ctx = figures.FigureContext(preset=p["preset"], preset_cfg=p["preset_cfg"], hmms_cfg=p.get("hmms", {}))
    fig = figures.render(args.name, ctx)
    paths = save(fig, args.out)
    # the provenance of the figure (the report's provenance page): config, commit, the tables it read
    record = io.provenance(p, started, figure=args.name,
                           inputs=io.files_sha256(figures.needs(args.name, p["preset"], p["preset_cfg"])))
    for path in paths:
        io.write_sidecar(path, record)
    log.info("%s -> %s", args.name, ", ".join(map(str, paths)))


def cmd_report_pages(args) -> None:
    """The report's evaluation and provenance pages (rnnhmm.report) from finished tables and figures."""
    from .report import evaluation_html, provenance_html

    p = stage_params(args)
    started = time.time()
    training, metrics = io.read_table(args.training), io.read_table(args.metrics)
    io.write_text(args.evaluation, evaluation_html(p["preset"], training, metrics))
    io.write_text(args.provenance, provenance_html(p["preset"], p["figures"]))
    record = io.provenance(p, started, inputs=io.files_sha256([args.training, args.metrics]))
    for page in (args.evaluation, args.provenance):
        io.write_sidecar(page, record)
    log.info("report pages of %s: %d models, %d figures -> %s, %s", p["preset"], len(training), len(p["figures"]),
             args.evaluation, args.provenance)


def cmd_claims(args) -> None:
    """The claims check (docs/claims.md): claims.csv and, with --html, the same table as a page."""
    from .claims import claims_table, render_html

    p = stage_params(args)
    started = time.time()
    table = claims_table(p["preset"], p["preset_cfg"], p.get("hmms", {}))
    record = io.provenance(p, started)
    io.write_table(args.out, table)
    io.write_sidecar(args.out, record)
    if args.html:
        io.write_text(args.html, render_html(table, p["preset"]))
        io.write_sidecar(args.html, record)
    log.info("claims check of %s: %d of %d checks pass, %d count (pass and every control fails) -> %s", p["preset"],
             int(table["pass"].sum()), len(table), int(table["counts"].sum()), args.out)


def cmd_info(args) -> None:
    """Print the provenance of a result file (its sidecar; for a model or checkpoint also the training
    summary meta.json) and check the file against the SHA-256 recorded there."""
    path = Path(args.file)
    if not path.exists():
        raise io.ResultFileError(f"{path}: file not found")
    side = io.sidecar_path(path)
    rec = io.read_json(side) if side.exists() else {}
    if path.suffix == ".pt":
        io.load_torch(path)  # format and embedded content digest
        for meta in (path.parent / "meta.json", path.parent.parent / "meta.json"):
            if meta.exists():
                rec = {**io.read_json(meta), **rec} if rec else io.read_json(meta)
                break
    elif path.name == "meta.json":
        rec = io.read_json(path)
    if not rec:
        raise io.ResultFileError(f"{path}: no provenance found (expected {side})")
    if "sha256" in rec:
        rec["sha256_matches"] = io.file_sha256(path) == rec["sha256"]
    print(json.dumps(rec, indent=2, sort_keys=True, default=str))
    if rec.get("sha256_matches") is False:
        raise io.ResultFileError(f"{path}: SHA-256 does not match its provenance sidecar {side.name}; the file is "
                                 "truncated, corrupted or was changed after it was written — delete it and rerun")


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="rnnhmm", description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--version", action="version", version=f"rnnhmm {__version__}")
    sub = ap.add_subparsers(dest="stage", required=True)

    s = sub.add_parser("hmm", help="sample an HMM's train/val/test sequences")
    s.add_argument("--params", required=True, help="JSON: name, spec, seq_len, data, base_seed")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_hmm, required=("name", "spec", "seq_len", "data", "base_seed"))

    s = sub.add_parser("floor", help="the loss floor of an HMM: the loss of a perfect emulator at the batch size")
    s.add_argument("--hmm-file", required=True)
    s.add_argument("--params", required=True, help="JSON: base_seed, train{batch_size, blur, scaling, sinkhorn_backend}")
    s.add_argument("--out", required=True, help="the floor table (.csv)")
    s.add_argument("--threads", type=_positive_int, default=None, help="at least 1")
    s.set_defaults(func=cmd_floor, required=("base_seed", "train"))

    s = sub.add_parser("train", help="train one RNN")
    s.add_argument("--hmm-file", required=True)
    s.add_argument("--params", required=True, help="JSON: base_seed, model{hmm,hidden,dim,seed}, train{...}")
    s.add_argument("--out-dir", required=True)
    s.add_argument("--threads", type=_positive_int, default=None, help="at least 1")
    s.set_defaults(func=cmd_train, required=("base_seed", "model", "train"))

    s = sub.add_parser("control", help="a control network of the claims check (untrained, shuffled)")
    s.add_argument("--trained", required=True, help="the trained model.pt the control is made from")
    s.add_argument("--params", required=True, help="JSON: base_seed, model{hmm,hidden,dim,seed}, control")
    s.add_argument("--out-dir", required=True)
    s.set_defaults(func=cmd_control, required=("base_seed", "model", "control"))

    s = sub.add_parser("evaluate", help="emission statistics of a trained RNN vs its HMM")
    s.add_argument("--hmm-file", required=True)
    s.add_argument("--model", required=True)
    s.add_argument("--params", required=True)
    s.add_argument("--out-dir", required=True)
    s.add_argument("--threads", type=_positive_int, default=None, help="at least 1")
    s.set_defaults(func=cmd_evaluate, required=("base_seed", "model", "n_sequences"))

    s = sub.add_parser("evaluate-summary", help="aggregate every model's evaluation over seeds (grid tables)")
    s.add_argument("--params", required=True, help="JSON: preset, models [{hmm,hidden,dim,seed}, ...]")
    s.add_argument("--out-dir", required=True)
    s.set_defaults(func=cmd_evaluate_summary, required=("preset", "models"))

    s = sub.add_parser("analyze", help="run one dynamical analysis on a trained RNN")
    s.add_argument("analysis", help="a registered analysis (rnnhmm.dynamics.registry)")
    s.add_argument("--params", required=True, help="JSON: preset, base_seed, model{hmm,hidden,dim,seed}, params")
    s.add_argument("--threads", type=_positive_int, default=None, help="at least 1")
    s.set_defaults(func=cmd_analyze, required=("preset", "base_seed", "model"))

    s = sub.add_parser("figure", help="render one figure from analysis tables")
    s.add_argument("name")
    s.add_argument("--params", required=True, help="JSON: preset, preset_cfg, hmms")
    s.add_argument("--out", required=True, help="output stem; .pdf and .png are written")
    s.set_defaults(func=cmd_figure, required=("preset", "preset_cfg"))

    s = sub.add_parser("claims", help="measure the paper's claims on the reference models (docs/claims.md)")
    s.add_argument("--params", required=True, help="JSON: preset, preset_cfg, hmms")
    s.add_argument("--out", required=True, help="the claims table (.csv)")
    s.add_argument("--html", default=None, help="also write the table as an HTML page (the report's view)")
    s.set_defaults(func=cmd_claims, required=("preset", "preset_cfg"))

    s = sub.add_parser("report-pages", help="the report's evaluation tables and figure provenance (HTML)")
    s.add_argument("--params", required=True, help="JSON: preset, figures [the figures' PNG paths]")
    s.add_argument("--training", required=True, help="the evaluation summary's training.csv")
    s.add_argument("--metrics", required=True, help="the evaluation summary's metrics.csv")
    s.add_argument("--evaluation", required=True, help="the evaluation page (.html)")
    s.add_argument("--provenance", required=True, help="the provenance page (.html)")
    s.set_defaults(func=cmd_report_pages, required=("preset", "figures"))

    s = sub.add_parser("info", help="print the provenance of a result file")
    s.add_argument("file")
    s.set_defaults(func=cmd_info)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    from .config import ConfigError
    from .dynamics.registry import ParamError
    from .hmm import HMMSpecError

    try:
        args.func(args)
    except ParamsError as err:
        log.error("error: %s", err)
        return 2
    except Exception as err:
        known = (io.ResultFileError, ConfigError, HMMSpecError, ParamError)
        # a diverged training can only come from a stage that imported rnnhmm.train; importing it here
        # would make every stage (hmm, figure) need torch
        train = sys.modules.get(f"{__package__}.train")
        if not isinstance(err, known + ((train.TrainingDiverged,) if train else ())):
            raise
        log.error("%s: %s", type(err).__name__, err)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
