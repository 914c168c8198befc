"""The experiment behind the ``laptop`` preset (docs/laptop-preset.md): how far must a reference
model train before its emissions match the HMM and its dominant output switches under noise?

Train the six reference models of an experimental preset with every epoch checkpointed, e.g.

    snakemake --cores 2 --set-threads train=1 --configfile EXP.yaml --config preset=lapexp -- \\
        results/lapexp/models/{chain2,...}/h150_d100/seed0/model.pt

then score the checkpoints:

    python benchmarks/laptop_preset.py --preset lapexp --epochs 25 50 100 150 200 300

Per (model, epoch) it prints the C1 quantities of docs/claims.md (matched distance against the
HMM-vs-HMM baseline, transition-matrix SSE, on N evaluation sequences of the training length) and the
dominant-output switch statistics of one σ = 1 run (switches, p_sw, and the HMM's latent switch
probability for comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rnnhmm import io
from rnnhmm.cli import load_hmm_file
from rnnhmm.dynamics.simulate import Network
from rnnhmm.dynamics.switching import switch_stats
from rnnhmm.evaluate import evaluate_model
from rnnhmm.model import NoiseRNN

HMMS = ("chain2", "chain3", "chain4", "chain5", "fully3", "cyclic4")


def score(preset: str, hmm_name: str, hidden: int, dim: int, seed: int, epoch: int, seq_len: int, n: int,
          steps: int) -> dict:
    ckpt = Path(f"results/{preset}/models/{hmm_name}/h{hidden}_d{dim}/seed{seed}/checkpoints/epoch{epoch}.pt")
    obj = io.load_torch(ckpt, io.MODEL_FORMAT)
    model = NoiseRNN(hidden, dim, 3)
    model.load_state_dict(obj["final"])
    hmm, _ = load_hmm_file(f"results/{preset}/hmm/{hmm_name}.npz")
    keys = {"hmm": hmm_name, "hidden": hidden, "dim": dim, "seed": seed}
    m = evaluate_model(model, hmm, keys, n=n, lengths=[seq_len], base_seed=12345)["metrics"]
    val = dict(zip(m["metric"], m["value"], strict=True))
    net = Network.from_model(model)
    x = np.random.default_rng(7).standard_normal((100 + steps, 1, dim))
    o = net.dominant(net.run(np.zeros(hidden), x)[100:, 0])
    st = switch_stats(o)
    return {"hmm": hmm_name, "epoch": epoch, "dist_rnn": val["euclid_rnn_mean"], "dist_base": val["euclid_base_mean"],
            "dist_ratio": val["euclid_rnn_mean"] / val["euclid_base_mean"],
            "transmat_sse": val["transmat_sse_rnn_vs_emp"], "switches": st.n_switches, "p_sw_dom": st.p_sw,
            "p_sw_latent_hmm": hmm.latent_switch_prob(), "n_outputs_dom": len(np.unique(o))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", required=True)
    ap.add_argument("--configfile", default="config.yaml", help="for the HMMs' training lengths")
    ap.add_argument("--epochs", type=int, nargs="+", required=True)
    ap.add_argument("--hmms", nargs="+", default=list(HMMS))
    ap.add_argument("--hidden", type=int, default=150)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=2000, help="evaluation sequences per set")
    ap.add_argument("--steps", type=int, default=5000, help="steps of the σ = 1 switching run")
    ap.add_argument("--out", help="also write the table to this CSV")
    args = ap.parse_args(argv)
    cfg = yaml.safe_load(open(args.configfile))
    rows = []
    for h in args.hmms:
        for e in args.epochs:
            try:
                rows.append(score(args.preset, h, args.hidden, args.dim, args.seed, e, cfg["hmms"][h]["seq_len"],
                                  args.n, args.steps))
            except (FileNotFoundError, io.ResultFileError) as err:
                print(f"skip {h} epoch {e}: {err}", file=sys.stderr)
                continue
            print(pd.DataFrame([rows[-1]]).to_string(index=False, header=len(rows) == 1, float_format="%.4f"),
                  flush=True)
    if args.out:
        pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
