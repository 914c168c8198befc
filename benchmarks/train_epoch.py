"""The real training epoch against the authors' training loop, side by side in one run (issue 18).

    python benchmarks/train_epoch.py                    # T 30 and T 100, 3 epochs per path, 2 threads
    python benchmarks/train_epoch.py --t 30 --epochs 2 --threads 1 --concurrent 2
    python benchmarks/train_epoch.py --paths fast compiled authors --profile

Paths, each in a fresh process (peak resident memory = VmHWM of that process):

* ``fast`` / ``compiled`` / ``geomloss``: :func:`rnnhmm.train.train`, the function the training rule
  runs (same random streams, buffers, hooks, checkpoint of every epoch as the ``reference`` preset,
  the row-block thread pool, ``torch.set_num_threads`` as ``rnnhmm train --threads`` sets it), on
  the paper's data: 10,000 training and 10,000 validation sequences of the paper's HMM of that
  length (chain3 at T = 30, chain2 at T = 100), batch 4096, Adam lr 1e-3 betas (0.9, 0.9), clip 0.9,
  with the named Sinkhorn backend.
* ``authors``: the authors' loop as their code runs it, written from its description: ``torch.nn.RNN``
  (ReLU, no bias, batch first) and a bias-free ``nn.Linear`` readout, ``F.gumbel_softmax(hard=True,
  tau=1)`` on the logits, geomloss ``SamplesLoss("sinkhorn", p=2, blur=0.2, scaling=0.5)`` between
  the flattened one-hot sequences, fresh noise for the training and the validation set every epoch,
  the same batching, optimiser and clip.

Epoch 1 of every path fills caches (the fast backends' target-term cache, allocator pools) and is
reported apart; the table's s/epoch is the mean of the later epochs.  ``--concurrent N`` starts N
copies of the same path at once (N trainings on one machine, as Snakemake runs them) and reports
their mean.  ``--profile`` adds, for the rnnhmm paths, the top functions of a cProfile of one later
epoch (cumulative time).  Timings on a shared machine are noisy: compare paths of the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import io as _io
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import _peak_rss_mb  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

HMM_OF_T = {30: "chain3", 100: "chain2"}  # the paper's HMM of each training length (SCIENCE §1.5)
H, D, K, B = 150, 100, 3, 4096


def paper_data(t_len: int, n: int):
    """(name, train, val): symbol arrays (n, T) of the paper's HMM of length ``t_len``, as config.yaml
    defines it."""
    import yaml

    from rnnhmm.hmm import build_hmm

    name = HMM_OF_T[t_len]
    spec = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())["hmms"][name]
    hmm = build_hmm(name, spec)
    _, out = hmm.sample(2 * n, t_len, np.random.default_rng(0))
    return name, out[:n], out[n:]


# ---------------------------------------------------------------------------------------------
# the paths


def run_rnnhmm(backend: str, t_len: int, epochs: int, profile: bool, n: int) -> dict:
    from rnnhmm import train as tr

    name, y_train, y_val = paper_data(t_len, n)
    key = tr.ModelKey(name, H, D, 0, 1)
    cfg = tr.TrainConfig(epochs=epochs, batch_size=B, clip=0.9, sinkhorn_backend=backend, device="cpu",
                         checkpoint_epochs=tuple(range(1, epochs + 1)))
    times, prof_text, stages = [], "", {}
    real_epoch = tr.run_epoch

    def timed_epoch(model, y, key_, cfg_, epoch, split, opt, dev):
        t0 = time.perf_counter()
        prof = cProfile.Profile() if profile and epoch == epochs else None
        if prof:
            prof.enable()
        res = real_epoch(model, y, key_, cfg_, epoch, split, opt, dev)
        if prof:
            prof.disable()
            stages[split] = stage_times(pstats.Stats(prof))
            if split == "train":
                s = _io.StringIO()
                pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(18)
                nonlocal prof_text
                prof_text = s.getvalue()
        times.append((epoch, split, time.perf_counter() - t0, res[0]))
        return res

    tr.run_epoch = timed_epoch  # only to time the passes; train() itself is unchanged
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        summary = tr.train(key, cfg, y_train, y_val, out, K)
        total = time.perf_counter() - t0
    per_epoch = {}
    for epoch, _, dt, _ in times:
        per_epoch[epoch] = per_epoch.get(epoch, 0.0) + dt
    return {"epoch_s": [per_epoch[e] for e in sorted(per_epoch)], "total_s": total,
            "val_loss": [round(x[3], 4) for x in times if x[1] == "val"], "best_val": summary["best_val_loss"],
            "profile": prof_text, "stages": stages}


# the stages of one pass of rnnhmm.train.run_epoch, as (file name ending, function name) in a cProfile
STAGES = {
    "draw inputs": ("rnnhmm/train.py", "draw_inputs"),
    "RNN forward + Gumbel": ("rnnhmm/model.py", "forward"),
    "Sinkhorn loss": ("rnnhmm/sinkhorn.py", "__call__"),
    "backward (RNN BPTT)": ("torch/_tensor.py", "backward"),
    "gradient clip": ("torch/nn/utils/clip_grad.py", "clip_grad_norm_"),
    "Adam step": ("torch/optim/adam.py", "step"),
    "the whole pass": ("rnnhmm/train.py", "run_epoch"),
}


def stage_times(stats: pstats.Stats) -> dict:
    """Cumulative seconds of each of STAGES in one profiled pass (0 where it did not run)."""
    out = {}
    for stage, (file_end, func) in STAGES.items():
        out[stage] = max([ct for (f, _, fn), (_, _, _, ct, _) in stats.stats.items()
                          if fn == func and f.replace("\\", "/").endswith(file_end)], default=0.0)
    return out


def run_authors(t_len: int, epochs: int, n: int) -> dict:
    import geomloss
    import torch.nn.functional as F
    from torch import nn

    _, y_train, y_val = paper_data(t_len, n)
    torch.manual_seed(0)
    rnn = nn.RNN(D, H, nonlinearity="relu", bias=False, batch_first=True)
    readout = nn.Linear(H, K, bias=False)
    params = [*rnn.parameters(), *readout.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.9))
    loss_fn = geomloss.SamplesLoss("sinkhorn", p=2, blur=0.2, scaling=0.5)
    targets = {s: F.one_hot(torch.from_numpy(y.astype(np.int64)), K).float() for s, y in
               (("train", y_train), ("val", y_val))}

    def one_pass(split: str) -> float:
        y = targets[split]
        noise = torch.randn(len(y), t_len, D)  # fresh noise every epoch, for both sets
        losses = []
        for b0 in range(0, len(y), B):
            h, _ = rnn(noise[b0:b0 + B])
            x = F.gumbel_softmax(readout(h), tau=1.0, hard=True)
            loss = loss_fn(x.reshape(len(x), -1), y[b0:b0 + B].reshape(len(x), -1))
            if split == "train":
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, 0.9)
                opt.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    epoch_s, val = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        one_pass("train")
        with torch.no_grad():
            val.append(round(one_pass("val"), 4))
        epoch_s.append(time.perf_counter() - t0)
    return {"epoch_s": epoch_s, "total_s": sum(epoch_s), "val_loss": val, "best_val": min(val), "profile": ""}


def worker(path: str, t_len: int, epochs: int, threads: int, profile: bool, n: int) -> None:
    torch.set_num_threads(threads)  # what `rnnhmm train --threads` does
    res = run_authors(t_len, epochs, n) if path == "authors" else run_rnnhmm(path, t_len, epochs, profile, n)
    print(json.dumps({**res, "peak_mb": _peak_rss_mb()}))


# ---------------------------------------------------------------------------------------------
# driver


def run_path(path: str, t_len: int, args) -> list[dict]:
    cmd = [sys.executable, __file__, "--worker", path, "--t", str(t_len), "--epochs", str(args.epochs),
           "--threads", str(args.threads), "--n", str(args.n), *(["--profile"] if args.profile else [])]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(args.concurrent)]
    out = []
    for p in procs:
        stdout, stderr = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"{path} at T = {t_len} failed:\n{stderr[-3000:]}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--t", type=int, nargs="*", default=[30, 100], choices=sorted(HMM_OF_T))
    ap.add_argument("--paths", nargs="*", default=["authors", "fast"], choices=["authors", "fast", "compiled", "geomloss"])
    ap.add_argument("--epochs", type=int, default=3, help="epochs per path (>= 2: epoch 1 is reported apart)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads per training")
    ap.add_argument("--concurrent", type=int, default=1, help="trainings of the same path at once")
    ap.add_argument("--n", type=int, default=10000, help="training and validation sequences each (paper: 10000)")
    ap.add_argument("--profile", action="store_true", help="cProfile one later training pass of the rnnhmm paths")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (epoch 1 fills caches and is reported apart)")
    if args.worker:
        worker(args.worker, args.t[0], args.epochs, args.threads, args.profile, args.n)
        return
    print(f"# rnnhmm train_epoch — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} threads per training, "
          f"{args.concurrent} training(s) at once, load avg before {os.getloadavg()[0]:.1f}")
    print(f"# {args.n} train + {args.n} validation sequences, B {B}, H {H}, d {D}, {args.epochs} epochs per path")
    rows = []
    for t_len in args.t:
        for path in args.paths:
            res = run_path(path, t_len, args)
            later = float(np.mean([np.mean(r["epoch_s"][1:]) for r in res]))
            first = float(np.mean([r["epoch_s"][0] for r in res]))
            peak = max(r["peak_mb"] for r in res)
            rows.append((t_len, path, first, later, peak, res[0]["val_loss"]))
            print(f"  T {t_len:3d} {path:9s} epoch 1 {first:7.2f} s, later {later:7.2f} s/epoch, peak {peak:6.0f} MB, "
                  f"val {res[0]['val_loss']}", file=sys.stderr, flush=True)
            if args.profile and res[0]["profile"]:
                print(f"\n## cProfile, {path}, T {t_len}, one training pass\n```\n{res[0]['profile']}```\n")
                st = res[0]["stages"]
                print(f"where the last epoch's time went, {path}, T {t_len} (cumulative s under cProfile):\n")
                print("| stage | training pass | validation pass |\n|---|---:|---:|")
                for stage in STAGES:
                    print(f"| {stage} | {st.get('train', {}).get(stage, 0.0):.2f} | {st.get('val', {}).get(stage, 0.0):.2f} |")
                print()
    print()
    print("| T | path | epoch 1 s | s/epoch (later) | vs authors | peak MB | validation losses |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for t_len, path, first, later, peak, val in rows:
        ref = next((r[3] for r in rows if r[0] == t_len and r[1] == "authors"), None)
        ratio = f"{ref / later:.1f}x" if ref else "—"
        print(f"| {t_len} | {path} | {first:.2f} | {later:.2f} | {ratio} | {peak:.0f} | "
              f"{', '.join(f'{v:.3f}' for v in val)} |")


if __name__ == "__main__":
    main()
