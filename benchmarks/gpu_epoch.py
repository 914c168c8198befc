"""One paper-size training epoch on a GPU: geomloss vs the fast backend (issue 9).

    python benchmarks/gpu_epoch.py                  # T 30 and T 100, 10000 train + 10000 val, B 4096
    python benchmarks/gpu_epoch.py --epochs 3 --seq-len 100

Paper settings: H 150, d 100, B 4096, Adam (0.9, 0.9), clip 0.9.  The first epoch of each backend
is a warm-up (CUDA context, kernel selection, the fast path's target-term cache); the following
epochs are timed with CUDA synchronisation.  Prints a table with seconds per epoch and peak GPU
memory.  Exits with a message (status 0) where no GPU is present.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch


def epoch_times(backend: str, seq_len: int, n_train: int, n_val: int, epochs: int) -> tuple[list[float], float, float]:
    from rnnhmm import train as tr
    from rnnhmm.hmm import build_hmm
    from rnnhmm.model import NoiseRNN

    dev = torch.device("cuda")
    hmm = build_hmm("chain2", {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05},
                               "emissions": {"kind": "linear"}})
    _, out = hmm.sample(n_train + n_val, seq_len, np.random.default_rng(0))
    y_train, y_val = tr.one_hot_flat(out[:n_train], 3).to(dev), tr.one_hot_flat(out[n_train:], 3).to(dev)
    key = tr.ModelKey("chain2", 150, 100, 0, 1)
    cfg = tr.TrainConfig(epochs=epochs + 1, batch_size=4096, clip=0.9, sinkhorn_backend=backend, device="cuda")
    model = NoiseRNN(150, 100, 3, generator=key.torch_gen("init")).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.9))
    torch.cuda.reset_peak_memory_stats()
    times, val = [], float("nan")
    for epoch in range(1, epochs + 2):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        tr.run_epoch(model, y_train, key, cfg, epoch, "train", opt, dev)
        val, _ = tr.run_epoch(model, y_val, key, cfg, epoch, "val", None, dev)
        torch.cuda.synchronize()
        if epoch > 1:
            times.append(time.perf_counter() - t0)
    return times, torch.cuda.max_memory_allocated() / 2**30, val


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seq-len", type=int, nargs="*", default=[30, 100])
    ap.add_argument("--epochs", type=int, default=2, help="timed epochs per backend (after one warm-up epoch)")
    ap.add_argument("--n-train", type=int, default=10000)
    ap.add_argument("--n-val", type=int, default=10000)
    ap.add_argument("--backends", nargs="*", default=["geomloss", "fast"])
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device: nothing measured (run this on a GPU machine)")
        return 0
    print(f"# {torch.cuda.get_device_name()} | torch {torch.version.cuda and torch.__version__} CUDA {torch.version.cuda}"
          f" | {args.n_train} train + {args.n_val} val, B 4096, H 150, d 100")
    print("| T | backend | s / epoch (mean of timed) | peak GPU GiB | last val loss |")
    print("|---:|---|---:|---:|---:|")
    for t_len in args.seq_len:
        for backend in args.backends:
            times, peak, val = epoch_times(backend, t_len, args.n_train, args.n_val, args.epochs)
            print(f"| {t_len} | {backend} | {np.mean(times):.3f} | {peak:.2f} | {val:.5f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
