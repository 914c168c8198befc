"""Why does fully3's validation loss rise after it learns (issue: training like the paper)?

Trains fully3 with a preset's settings (default: laptop) through the pipeline's own ``rnnhmm.train``
and data (the HMM file's sampling), once per Sinkhorn backend, checkpointing every ``--every``
epochs, and measures on each checkpoint the spectral radius ρ(W) of the recurrent matrix and the
norm of W.  Writes one table per run (epoch, train and validation loss, pre-clip gradient norm,
ρ(W), ‖W‖₂) and prints a summary:

    python docs/scripts/fully3_stability.py --out /tmp/fully3 --backends fast geomloss
    python docs/scripts/fully3_stability.py --out /tmp/fully3 --backends fast --threads 2

Each run is a separate process (``--one``), so two runs use the two cores at once.  ``--hmm`` and
``--seeds`` repeat another HMM's training or other seeds the same way (e.g. whether chain5 leaves
its plateau with another seed):

    python docs/scripts/fully3_stability.py --out /tmp/chain5 --hmm chain5 --backends fast --seeds 1 2

``--from-run`` measures a training the pipeline already ran (every ``--every``-th checkpoint), e.g.
the ``reference`` preset's fully3:

    python docs/scripts/fully3_stability.py --out /tmp/f3ref --name reference \\
        --from-run results/reference/models/fully3/h150_d100/seed0
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))


def data(preset: str, config_file: Path, hmm_name: str = "fully3"):
    from rnnhmm import config as slices
    from rnnhmm.hmm import build_hmm
    from rnnhmm.rng import numpy_rng

    cfg = slices.validate({**yaml.safe_load(config_file.read_text()), "preset": preset})
    p = slices.hmm_params(cfg, preset, hmm_name)
    hmm = build_hmm(p["name"], p["spec"])
    d = p["data"]
    # the same draw as `rnnhmm hmm` (stage hmm): one stream for all splits, cut in order
    _, out = hmm.sample(d["n_train"] + d["n_val"] + d["n_test"], int(p["seq_len"]),
                        numpy_rng(p["base_seed"], p["name"], "data"))
    return cfg, out[:d["n_train"]], out[d["n_train"]:d["n_train"] + d["n_val"]], hmm.n_outputs


def one(args) -> None:
    """One training run (in its own process) and its checkpoint spectra."""
    import torch

    from rnnhmm import config as slices
    from rnnhmm import plan
    from rnnhmm.train import ModelKey, TrainConfig, train

    torch.set_num_threads(args.threads)
    cfg, y_train, y_val, n_outputs = data(args.preset, args.config, args.hmm)
    pcfg = cfg["presets"][args.preset]
    ref = plan.reference(pcfg, args.hmm)
    spec = plan.ModelSpec(args.hmm, ref.hidden, ref.dim, ref.seed if args.seed is None else args.seed)
    t = copy.deepcopy(slices.train_params(cfg, args.preset, spec)["train"])
    t.update(sinkhorn_backend=args.backend, betas=tuple(t["betas"]), device="cpu",
             checkpoint_epochs=tuple(range(args.every, (args.epochs or t["epochs"]) + 1, args.every)))
    if args.epochs:
        t["epochs"] = args.epochs
    out = Path(args.out) / run_name(args.backend, args.threads, args.seed)
    key = ModelKey(args.hmm, spec.hidden, spec.dim, spec.seed, cfg["base_seed"])
    summary = train(key, TrainConfig(**t), y_train, y_val, out, n_outputs)
    stability_table(out, out, every=1)
    json.dump(summary, open(out / "summary.json", "w"), indent=1)


def stability_table(model_dir: Path, out: Path, every: int) -> None:
    """out/stability.csv: a finished training's history.csv with ρ(W) and ‖W‖₂ of the weights of every
    checkpoint whose epoch is a multiple of ``every`` (model_dir/checkpoints/epoch*.pt)."""
    import pandas as pd

    from rnnhmm import io

    hist = io.read_table(model_dir / "history.csv")
    rows = []
    for f in sorted((model_dir / "checkpoints").glob("epoch*.pt"), key=lambda p: int(p.stem[5:])):
        if int(f.stem[5:]) % every:
            continue
        W = io.load_torch(f)["final"]["W"].double().numpy()
        rows.append({"epoch": int(f.stem[5:]), "rho_W": float(np.abs(np.linalg.eigvals(W)).max()),
                     "norm2_W": float(np.linalg.norm(W, 2))})
    if not rows:
        sys.exit(f"fully3_stability: no checkpoints at multiples of {every} epochs in {model_dir / 'checkpoints'}")
    out.mkdir(parents=True, exist_ok=True)
    hist.merge(pd.DataFrame(rows), on="epoch", how="left").to_csv(out / "stability.csv", index=False)


def run_name(backend: str, threads: int, seed: int | None = None) -> str:
    """A run's folder: the backend, the torch thread count where it is not 1 (the laptop rule's) and the
    seed where it is not the preset's reference seed."""
    return backend + ("" if threads == 1 else f"-t{threads}") + ("" if seed is None else f"-s{seed}")


def report(out: Path, backends: list[str], threads: int = 1, seeds=(None,)) -> None:
    import pandas as pd

    print("| backend | epochs | best val (epoch) | final val | val at 100 / 200 / 300 / 400 | first ρ(W) > 1 | "
          "ρ(W) at the checkpoint nearest the best / last | mean pre-clip grad norm, epochs 1-100 / last 100 |")
    print("|---|---:|---|---:|---|---:|---|---|")
    for b in [run_name(b, threads, s) for b in backends for s in seeds]:
        t = pd.read_csv(out / b / "stability.csv")
        best = t.loc[t["val_loss"].idxmin()]
        ck = t.dropna(subset=["rho_W"])
        above = ck[ck["rho_W"] > 1.0]
        at = [t.loc[t["epoch"] == e, "val_loss"] for e in (100, 200, 300, 400)]
        near = ck.iloc[(ck["epoch"] - best["epoch"]).abs().argsort()[:1]]
        print(f"| {b} | {int(t['epoch'].max())} | {best['val_loss']:.3f} ({int(best['epoch'])}) | "
              f"{t['val_loss'].iloc[-1]:.3f} | {' / '.join(f'{v.iloc[0]:.2f}' if len(v) else '—' for v in at)} | "
              f"{int(above['epoch'].iloc[0]) if len(above) else 'never'} | "
              f"{near['rho_W'].iloc[0]:.3f} / {ck['rho_W'].iloc[-1]:.3f} | "
              f"{t['grad_norm_preclip_mean'].head(100).mean():.1f} / {t['grad_norm_preclip_mean'].tail(100).mean():.1f} |")


def windows(out: Path, name: str, width: int) -> None:
    """Per window of ``width`` epochs of one run: the validation loss (mean, min, max) and the mean
    pre-clip gradient norm (mean and max over the window's epochs)."""
    import pandas as pd

    t = pd.read_csv(out / name / "stability.csv")
    print(f"\n{name}, per {width} epochs:\n")
    print("| epochs | val mean | val min | val max | grad norm mean | grad norm max |")
    print("|---|---:|---:|---:|---:|---:|")
    for start in range(1, int(t["epoch"].max()) + 1, width):
        w = t[(t["epoch"] >= start) & (t["epoch"] < start + width)]
        print(f"| {start}–{int(w['epoch'].max())} | {w['val_loss'].mean():.3f} | {w['val_loss'].min():.3f} | "
              f"{w['val_loss'].max():.3f} | {w['grad_norm_preclip_mean'].mean():.1f} | "
              f"{w['grad_norm_preclip_mean'].max():.1f} |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder of the runs (one subfolder per backend)")
    ap.add_argument("--preset", default="laptop", help="the preset whose fully3 training is repeated")
    ap.add_argument("--config", type=Path, default=REPO / "config.yaml", help="the workflow's config file")
    ap.add_argument("--backends", nargs="+", default=["fast", "geomloss"], help="Sinkhorn backends to compare")
    ap.add_argument("--epochs", type=int, default=0, help="epochs (default: the preset's)")
    ap.add_argument("--every", type=int, default=10, help="checkpoint (and ρ(W)) every this many epochs")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run (the laptop rule uses 1)")
    ap.add_argument("--hmm", default="fully3", help="the HMM whose reference model is trained (default fully3)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds to train (default: the reference seed)")
    ap.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # internal: the seed of --one
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: run one backend
    ap.add_argument("--report", action="store_true", help="only print the summary of finished runs")
    ap.add_argument("--from-run", type=Path, default=None,
                    help="instead of training: a pipeline model folder (history.csv, checkpoints/), e.g. a "
                         "reference-preset training; its table goes to --out/<--name> and is reported")
    ap.add_argument("--name", default="pipeline", help="the report's row name for --from-run")
    ap.add_argument("--windows", type=int, default=0, help="with --from-run: also a table per this many epochs")
    args = ap.parse_args(argv)
    if args.from_run is not None:
        stability_table(args.from_run, Path(args.out) / args.name, args.every)
        report(Path(args.out), [args.name])
        if args.windows > 0:
            windows(Path(args.out), args.name, args.windows)
        return
    if args.one:
        args.backend = args.one
        one(args)
        return
    if not args.report:
        seeds = args.seeds or [None]
        procs = [subprocess.Popen([sys.executable, __file__, "--one", b, "--out", args.out, "--preset", args.preset,
                                   "--config", str(args.config), "--epochs", str(args.epochs), "--every",
                                   str(args.every), "--threads", str(args.threads), "--hmm", args.hmm,
                                   *([] if s is None else ["--seed", str(s)])])
                 for b in args.backends for s in seeds]
        if any(p.wait() for p in procs):
            sys.exit("a run failed")
    report(Path(args.out), args.backends, args.threads, args.seeds or [None])


if __name__ == "__main__":
    main()
