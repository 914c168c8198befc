"""Throughput of the batched trainer (rnnhmm.batched.train_batch) against one model per process.

    python benchmarks/batched.py                          # K 1 3 12, laptop and paper sizes, T 30
    python benchmarks/batched.py --k 1 3 --sizes paper --t 100 --epochs 3
    python benchmarks/batched.py --device cuda --k 1 3 12 48 --sizes paper --t 30 100   # on a GPU

Each row runs in a fresh process (peak resident memory = VmHWM of that process):

* ``alone``: :func:`rnnhmm.train.train` of one model, the function the training rule runs;
* ``stack K``: :func:`rnnhmm.batched.train_batch` of K seeds of that model in one process.

Sizes: ``laptop`` = the laptop preset's data and batch (4096 training and 1024 validation
sequences, batch 2048); ``paper`` = the paper's (10,000 and 10,000, batch 4096).  Both use
hidden 150, input dim 100, the paper's HMM of the length (chain3 at T = 30, chain2 at T = 100), the
``fast`` Sinkhorn, clip 0.9, lr 1e-3.  Epoch 1 fills caches and is left out; s/epoch is the mean
of the later epochs of the stack (all K models), and the throughput is K / that, in model-epochs per
second.  Seed 0 is in every row; the last column is the largest relative difference of its training
and validation losses (every epoch) from those of seed 0 trained alone: the stack's equality, at this
size.  Timings on a shared machine are noisy: compare rows of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import _peak_rss_mb  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)
from train_epoch import D, H, K, paper_data  # noqa: E402

SIZES = {"laptop": {"n_train": 4096, "n_val": 1024, "batch": 2048},
         "paper": {"n_train": 10000, "n_val": 10000, "batch": 4096}}


def worker(k_models: int, size: str, t_len: int, epochs: int, threads: int, device: str) -> dict:
    import rnnhmm.batched as bt
    import rnnhmm.train as tr

    torch.set_num_threads(threads)  # what `rnnhmm train --threads` does
    s = SIZES[size]
    name, y_train, y_val = paper_data(t_len, max(s["n_train"], s["n_val"]))
    y_train, y_val = y_train[:s["n_train"]], y_val[:s["n_val"]]
    cfg = tr.TrainConfig(epochs=epochs, batch_size=s["batch"], clip=0.9, sinkhorn_backend="fast", device=device)
    keys = [tr.ModelKey(name, H, D, seed, 1) for seed in range(max(k_models, 1))]
    times: dict[int, float] = {}

    def timed(fn):
        def run(*a, **kw):
            t0 = time.perf_counter()
            res = fn(*a, **kw)
            epoch = a[4]
            times[epoch] = times.get(epoch, 0.0) + time.perf_counter() - t0
            return res
        return run

    with tempfile.TemporaryDirectory() as out:
        if k_models == 0:  # alone: train() itself
            tr.run_epoch = timed(tr.run_epoch)
            tr.train(keys[0], cfg, y_train, y_val, Path(out) / keys[0].id, K)
        else:
            bt.run_epoch_stack = timed(bt.run_epoch_stack)
            bt.train_batch(keys, cfg, y_train, y_val, [Path(out) / k.id for k in keys], K)
        seed0 = pd.read_csv(Path(out) / keys[0].id / "history.csv")  # seed 0 is in every row: compared
    epoch_s = [times[e] for e in sorted(times)]
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
    return {"epoch_s": epoch_s, "peak_mb": _peak_rss_mb(), "gpu_peak_mb": gpu_mb,
            "seed0_loss": [*seed0["train_loss"], *seed0["val_loss"]]}


def run_row(k_models: int, size: str, t_len: int, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(k_models), "--sizes", size, "--t", str(t_len),
           "--epochs", str(args.epochs), "--threads", str(args.threads), "--device", args.device]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"K {k_models} ({size}, T {t_len}) failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, nargs="*", default=[1, 3, 12], help="models per stack")
    ap.add_argument("--sizes", nargs="*", default=["laptop", "paper"], choices=sorted(SIZES))
    ap.add_argument("--t", type=int, nargs="*", default=[30], choices=[30, 100])
    ap.add_argument("--epochs", type=int, default=3, help="epochs per row (>= 2: epoch 1 is left out)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the process")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (epoch 1 fills caches and is left out)")
    if any(k < 1 for k in args.k):
        ap.error("--k values must be >= 1")
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.sizes[0], args.t[0], args.epochs, args.threads, args.device)))
        return
    print(f"# rnnhmm batched — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, device {args.device}, {args.threads} threads, "
          f"load avg before {os.getloadavg()[0]:.1f}, {args.epochs} epochs per row")
    rows = []
    for size in args.sizes:
        for t_len in args.t:
            for k_models in [0, *args.k]:  # 0: one model by train(), the reference of the row group
                res = run_row(k_models, size, t_len, args)
                later = float(np.mean(res["epoch_s"][1:]))
                if k_models == 0:
                    ref_loss = np.asarray(res["seed0_loss"])
                diff = float(np.max(np.abs(np.asarray(res["seed0_loss"]) - ref_loss) / np.abs(ref_loss)))
                rows.append((size, t_len, k_models, later, max(k_models, 1) / later, res["peak_mb"], res["gpu_peak_mb"],
                             diff))
                print(f"  {size} T {t_len} {'alone' if k_models == 0 else f'stack {k_models}'}: {later:.2f} s/epoch, "
                      f"peak {res['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
    print()
    gpu = args.device.startswith("cuda")
    print(f"| size | T | run | s/epoch | model-epochs/s | vs alone | peak MB |{' GPU peak MB |' if gpu else ''}"
          " seed 0's losses vs alone |")
    print(f"|---|---:|---|---:|---:|---:|---:|{'---:|' if gpu else ''}---:|")
    for size, t_len, k_models, later, thr, peak, gpu_mb, diff in rows:
        ref = next(r[4] for r in rows if r[0] == size and r[1] == t_len and r[2] == 0)
        run = "train() alone" if k_models == 0 else f"stack of {k_models}"
        print(f"| {size} | {t_len} | {run} | {later:.2f} | {thr:.3f} | {thr / ref:.2f}x | {peak:.0f} |"
              + (f" {gpu_mb:.0f} |" if gpu else "") + (" — |" if k_models == 0 else f" {diff:.1e} |"))


if __name__ == "__main__":
    main()
