"""`rnnhmm train`: train one RNN (rnnhmm.train; docs/method.md §1)."""

from __future__ import annotations

import json

from . import add_by_hand, add_params, add_threads, log, need_paths, set_threads, stage_params

HELP = "train one RNN"
REQUIRED = ("base_seed", "model", "train")


def add_arguments(s) -> None:
    add_params(s, "base_seed, model{hmm, hidden, dim, seed}, train{...}")
    add_by_hand(s)
    s.add_argument("--hmm-file", default=None, help="the HMM file written by `rnnhmm hmm`")
    s.add_argument("--out-dir", default=None, help="the model's folder (model.pt, history.csv, checkpoints/)")
    add_threads(s)


def run(args) -> None:
    from ..hmm import load_hmm_file
    from ..train import ModelKey, TrainConfig, train

    p = stage_params(args)
    need_paths(args, "hmm_file", "out_dir")
    set_threads(args.threads)
    hmm, data = load_hmm_file(args.hmm_file)
    m = p["model"]
    key = ModelKey(m["hmm"], int(m["hidden"]), int(m["dim"]), int(m["seed"]), int(p["base_seed"]), int(p.get("attempt", 0)))
    t = dict(p["train"])
    t["betas"] = tuple(t["betas"])
    t["checkpoint_epochs"] = tuple(t["checkpoint_epochs"])
    summary = train(key, TrainConfig(**t), data["train"], data["val"], args.out_dir, hmm.n_outputs, config_slice=p)
    log.info("done: %s", json.dumps(summary))
