"""Peak memory (and time per iteration) of the Sinkhorn-matched distance (rnnhmm.evaluate.matched_distance).

    python benchmarks/bench_matching_memory.py N [T] [max_iter]

Two independent chain2 HMM sets of N sequences of length T (default 100).  Prints the engine, the
peak resident memory of the process (ru_maxrss) and the time.  Memory does not depend on the
iteration count, so a small max_iter (default 2) measures it; a dense float64 N × N matrix would
need 8·N² bytes (7.2 GB at N = 30000).
"""

from __future__ import annotations

import resource
import sys
import time

from rnnhmm.evaluate import matched_distance
from rnnhmm.hmm import build_hmm
from rnnhmm.rng import numpy_rng

CHAIN2 = {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05}, "emissions": {"kind": "linear"}}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    n = int(sys.argv[1])
    length = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    max_iter = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    hmm = build_hmm("chain2", CHAIN2)
    a = hmm.sample(n, length, numpy_rng(0, "bench", "a"))[1]
    b = hmm.sample(n, length, numpy_rng(0, "bench", "b"))[1]
    base = rss_mb()
    t0 = time.time()
    res = matched_distance(a, b, max_iter=max_iter)
    wall = time.time() - t0
    print(f"N={n} T={length} engine={res.engine} iters={res.iters} mean={res.mean:.3f} "
          f"peak_rss_mb={rss_mb():.0f} (before matching {base:.0f}) wall_s={wall:.1f} "
          f"dense_float64_would_need_mb={8 * n * n / 2**20:.0f}")


if __name__ == "__main__":
    main()
