"""`rnnhmm floor`: the loss floor of an HMM (rnnhmm.floor): a perfect emulator's training and
validation loss at the training's batch size."""

from __future__ import annotations

import time

from . import add_by_hand, add_params, add_threads, log, need_paths, set_threads, stage_params

HELP = "the loss floor of an HMM: the loss of a perfect emulator at the batch size"
REQUIRED = ("base_seed", "train")


def add_arguments(s) -> None:
    add_params(s, "base_seed, train{batch_size, blur, scaling, sinkhorn_backend}", by_hand="--preset and --hmm")
    add_by_hand(s, model=False)
    s.add_argument("--hmm", default=None, help="the HMM, by its name in the config file (with --params omitted)")
    s.add_argument("--hmm-file", default=None, help="the HMM file written by `rnnhmm hmm`")
    s.add_argument("--out", default=None, help="the floor table (.csv)")
    add_threads(s)


def run(args) -> None:
    from .. import io
    from ..floor import N_PAIRS, loss_floor
    from ..hmm import load_hmm_file
    from ..rng import numpy_rng

    p = stage_params(args)
    need_paths(args, "hmm_file", "out")
    set_threads(args.threads)
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
