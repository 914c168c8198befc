"""`rnnhmm hmm`: sample an HMM's train/val/test sequences into its HMM file (docs/method.md §2)."""

from __future__ import annotations

import time

from . import add_by_hand, add_params, log, need_paths, stage_params

HELP = "sample an HMM's train/val/test sequences"
REQUIRED = ("name", "spec", "seq_len", "data", "base_seed")


def add_arguments(s) -> None:
    add_params(s, "name, spec, seq_len, data, base_seed", by_hand="--preset and --hmm")
    add_by_hand(s, model=False)
    s.add_argument("--hmm", default=None, help="the HMM, by its name in the config file (with --params omitted)")
    s.add_argument("--out", default=None, help="the HMM file (.npz); by hand: results/<preset>/hmm/<hmm>.npz")


def run(args) -> None:
    import numpy as np

    from .. import io
    from ..hmm import build_hmm
    from ..rng import numpy_rng

    p = stage_params(args)
    need_paths(args, "out")
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
