"""`rnnhmm evaluate`: every §3 metric of one trained model (docs/method.md §3), tables in --out-dir."""

from __future__ import annotations

import time
from pathlib import Path

from . import add_by_hand, add_params, add_threads, log, need_paths, set_threads, stage_params

HELP = "emission statistics of a trained RNN vs its HMM"
REQUIRED = ("base_seed", "model", "n_sequences", "grid_seq_len", "match", "sigma", "tau", "blur", "scaling")


def add_arguments(s) -> None:
    add_params(s, "base_seed, model{hmm, hidden, dim, seed}, n_sequences, grid_seq_len, match, sigma, tau, blur, "
               "scaling")
    add_by_hand(s)
    s.add_argument("--hmm-file", default=None, help="the HMM file written by `rnnhmm hmm`")
    s.add_argument("--model-file", default=None,
                   help="the trained model.pt (its history.csv beside it is read too)")
    s.add_argument("--out-dir", default=None, help="the folder of the eval_*.csv tables")
    add_threads(s)


def run(args) -> None:
    from .. import io
    from ..evaluate import eval_lengths, evaluate_model
    from ..hmm import load_hmm_file
    from ..plan import eval_file

    p = stage_params(args)
    need_paths(args, "hmm_file", "model_file", "out_dir")
    set_threads(args.threads)
    started = time.time()
    hmm, data = load_hmm_file(args.hmm_file)
    model = io.load_model(args.model_file, "best")
    m = p["model"]
    keys = {k: m[k] for k in ("hmm", "hidden", "dim", "seed")}
    train_len = int(data["train"].shape[1])
    lengths = eval_lengths(train_len, p["grid_seq_len"])
    history = io.read_table(Path(args.model_file).parent / "history.csv")
    tables = evaluate_model(model, hmm, keys, n=int(p["n_sequences"]), lengths=lengths, base_seed=int(p["base_seed"]),
                            attempt=int(p.get("attempt", 0)), sigma=float(p["sigma"]), tau=float(p["tau"]),
                            match=p["match"], test_set=data["test"], blur=float(p["blur"]),
                            scaling=float(p["scaling"]), history=history)
    out = Path(args.out_dir)
    record = io.provenance(p, started)
    for name, df in tables.items():
        io.write_table(out / eval_file(name), df)
        io.write_sidecar(out / eval_file(name), record)
    d = tables["distance"]
    for _, r in d.iterrows():
        log.info("%s T=%d: matched distance RNN %.3f ± %.3f (%d it), HMM baseline %.3f ± %.3f (%d it)", m["hmm"],
                 r["T_eval"], r["rnn_mean"], r["rnn_std"], r["iters_rnn"], r["base_mean"], r["base_std"], r["iters_base"])
