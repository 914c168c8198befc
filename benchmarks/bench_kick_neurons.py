"""Cost of the kick-neuron causal test and of the ablation sweep (docs/method.md §4.7, §4.10) at paper size.

    python benchmarks/bench_kick_neurons.py                  # H 150, d 100: 1 + 24 + 2024 + 2000 sets × 64 × 50
    python benchmarks/bench_kick_neurons.py --only causal    # the causal test alone

Causal test, two regimes on a random network (weights ×2 the PyTorch init):
  * ``worst``:  a readout that never lets the dominant output change, so no rollout ever leaves and
    every (set, rollout) row runs all 50 steps (an upper bound on the cost);
  * ``random``: the random readout, where rollouts leave quickly and are dropped from the batch.
Ablation: for one group, the three conditions × 21 gains batched over μ: a 1000-step free run and the
critical pairs in the ±15-step windows around every switch (eigenvalues dominate).  Reports wall and
CPU seconds, the peak of numpy allocations (tracemalloc) and the process' peak resident memory.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import time
import tracemalloc

import numpy as np

from rnnhmm.dynamics import ablation as ab
from rnnhmm.dynamics import kick_neurons as kn
from rnnhmm.dynamics.simulate import Network


def random_network(H: int, d: int, scale: float, seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    b = 1 / np.sqrt(H)
    return Network(scale * rng.uniform(-b, b, (H, H)), rng.uniform(-b, b, (H, d)), rng.uniform(-b, b, (3, H)))


def measure(label: str, fn):
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{label:<34} wall {wall:7.2f} s   cpu {cpu:7.2f} s   numpy peak {peak:7.1f} MiB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=150)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--scale", type=float, default=2.0)
    ap.add_argument("--only", choices=["causal", "ablation"], default=None)
    args = ap.parse_args()
    H, d = args.hidden, args.dim
    net = random_network(H, d, args.scale)
    rng = np.random.default_rng(1)
    h, a, o = kn.reference_run(net, rng, 2000, 100)
    p = kn.DEFAULTS
    if args.only in (None, "causal"):
        cand = np.arange(p["n_candidates"])
        k = p["group_size"]
        sets = np.concatenate([np.full((1, k), -1), np.pad(cand[:, None], ((0, 0), (0, k - 1)), constant_values=-1),
                               np.array(list(itertools.combinations(cand, k))),
                               kn.random_sets(rng, np.arange(len(cand), H), k, p["n_null"])])
        R, L = p["n_rollouts"], p["rollout_steps"]
        starts = h[rng.choice(len(h), R)]
        noise = net.noise(rng, L, R)
        print(f"causal test: {len(sets)} sets x {R} rollouts x {L} steps, H = {H}, d = {d}, "
              f"chunk_rows = {p['chunk_rows']}")
        src = int(np.bincount(o, minlength=3).argmax())
        f = measure("causal, random readout", lambda: kn.leave_fractions(net, starts, src, sets, noise))
        print(f"  mean leave fraction {f.mean():.2f}")
        A = np.zeros_like(net.A)
        A[0] = 1.0
        stuck = Network(net.W, net.U, A)
        f = measure("causal, worst case (nobody leaves)", lambda: kn.leave_fractions(stuck, starts, 0, sets, noise))
        print(f"  mean leave fraction {f.mean():.2f}")
    if args.only in (None, "ablation"):
        mus = ab.DEFAULTS["mus"]
        groups = {1: [0, 1, 2], 2: [3, 4, 5]}
        sets = ab.target_sets(net.W, groups, 1)
        x = net.noise(rng, 1000, 1)[:, 0]

        def sweep():
            out = []
            for cond in ab.CONDITIONS:
                c_rec, c_in = ab.condition_gains(H, cond, sets[cond], mus)
                states, pre = ab.free_run(net, h[-1], x, c_rec, c_in)
                out += ab.critical_pairs_vs_mu(net, states, pre, c_rec, cond, mus, 15, 0.06, source=0)
            return out

        rows = measure("ablation sweep, 3 conditions x 21 mu", sweep)
        print(f"  switches per run (mean over mu, conditions) {np.mean([r['n_switches'] for r in rows]):.0f}")
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
