"""Per-epoch cost of the training-evolution analysis (docs/method.md §4.4) on a random network.

    python benchmarks/bench_training_evolution.py                  # paper size: H 150, d 100, 5000 steps
    python benchmarks/bench_training_evolution.py --steps 2000 --jac-stride 4   # the laptop preset

One analysed epoch = the shared warm-up + noise block from h_0 = 0, TR, the Jacobian indicators of the
applied-input and the noise-free patterns (eigenvalues dominate), the δh⁽²⁾ heuristic and a PCA.  The
weights are scaled so the Jacobians have unstable and critical eigenvalues, as after the bifurcation.
Reports seconds per part and the estimate for 25 (chain2–4) and 50 (chain5, fully3, cyclic4) epochs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rnnhmm.dynamics import training_evolution as te
from rnnhmm.dynamics.simulate import Network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=150)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--jac-stride", type=int, default=1)
    ap.add_argument("--scale", type=float, default=2.2,
                    help="recurrent weight scale (1 = PyTorch init; 2.2 keeps activity bounded with critical pairs)")
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    b = 1 / np.sqrt(a.hidden)
    net = Network(a.scale * rng.uniform(-b, b, (a.hidden, a.hidden)), rng.uniform(-b, b, (a.hidden, a.dim)),
                  rng.uniform(-b, b, (3, a.hidden)))
    x_warm, x_block = rng.standard_normal((100, a.dim)), rng.standard_normal((a.steps, a.dim))
    eta, x_pre, omega = rng.uniform(-1, 1, (20, a.hidden)), rng.standard_normal((9, 20, a.dim)), \
        rng.standard_normal((10, 20, a.dim))
    best: dict[str, float] = {}
    for _ in range(a.repeats):
        t = {}
        t0 = time.perf_counter()
        states, pre, h_post = te.epoch_run(net, x_warm, x_block)
        t["simulate"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        row = te.switch_row(net, states)
        t["switches"] = time.perf_counter() - t0
        noisy, free = te.jacobian_masks(net, states, pre, 10, a.jac_stride)
        t0 = time.perf_counter()
        ind = te.eigen_indicators(net.W, noisy, 0.05)
        t["eig_applied_input"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        te.eigen_indicators(net.W, free, 0.05, "_nf")
        t["eig_noise_free"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        te.dh2_heuristic(net, h_post, eta, x_pre, omega)
        t["dh2"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        te.pca_frame(states, net.dominant(states), 15.0, 700)
        t["pca"] = time.perf_counter() - t0
        best = {k: min(v, best.get(k, np.inf)) for k, v in t.items()}
    total = sum(best.values())
    print(f"H {a.hidden}, d {a.dim}, {a.steps} steps, {len(noisy)} Jacobians per variant, "
          f"active fraction {noisy.mean():.2f}; TR {row['tr']:.3f}, frac_unstable {ind['frac_unstable']:.2f}, "
          f"frac_critical {ind['frac_critical']:.2f}; {len(np.unique(noisy, axis=0))} distinct patterns, "
          f"{row['n_nonfinite']} non-finite rows")
    for k, v in best.items():
        print(f"  {k:18s} {v:8.3f} s")
    print(f"  {'per epoch':18s} {total:8.3f} s  ({1e3 * best['eig_applied_input'] / max(len(noisy), 1):.2f} ms "
          "per Jacobian spectrum)")
    print(f"  25 epochs: {25 * total / 60:.1f} min;  50 epochs: {50 * total / 60:.1f} min")


if __name__ == "__main__":
    main()
