"""Which chain2-like emitter does the finite-batch training loss prefer?

For a 2-state chain whose per-step switch probability is p (the paper's chain2 has p = 0.05), the
training loss (debiased Sinkhorn divergence, blur 0.2, scaling 0.5) between a batch of the p-chain and
an independent batch of the true chain2, at the paper's batch size and T.  A loss that is minimised
at p = 0.05 has no bias towards a switch rate; a minimum below 0.05 means the objective itself rewards
an emitter that switches less than the HMM.  Prints a markdown table (docs/reference-run.md).

    python docs/scripts/loss_bias.py [--batch 4096] [--seq-len 100] [--pairs 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from rnnhmm.floor import batch_divergences
from rnnhmm.hmm import HMM, emissions_linear, transitions_target_prob
from rnnhmm.rng import numpy_rng
from rnnhmm.sinkhorn import SinkhornLoss

TRUE_P = 0.05
PS = (0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    loss = SinkhornLoss(0.2, 0.5, "fast")
    true = HMM("chain2", transitions_target_prob(2, TRUE_P), emissions_linear(2))
    rng = numpy_rng(20251028, "docs", "loss_bias")
    print(f"| switch probability p | p / 0.05 | loss vs chain2 (batch {a.batch}, T = {a.seq_len}), mean ± se of "
          f"{a.pairs} pairs |")
    print("|---:|---:|---:|")
    for p in PS:
        alt = HMM("alt", transitions_target_prob(2, p), emissions_linear(2))
        v = batch_divergences(alt, true, a.batch, a.seq_len, loss, rng, a.pairs)
        print(f"| {p:.3f} | {p / TRUE_P:.2f} | {v.mean():.3f} ± {v.std(ddof=1) / np.sqrt(len(v)):.3f} |", flush=True)


if __name__ == "__main__":
    main()
