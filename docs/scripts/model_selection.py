"""How much does the best-validation epoch depend on one noisy validation pass (issue: training like
the paper, model selection)?

For finished trainings of a run folder whose every epoch is checkpointed (the laptop and reference
presets), scores every ``--stride``-th epoch's weights with ``rnnhmm.train.selection_loss``: the mean
validation loss over ``--passes`` passes whose noise and Gumbel draws are the same at every epoch
(what ``train.select_passes`` selects by).  Prints one row per model:

* the epoch the training picked (lowest one-pass validation loss, the paper's rule) and the epoch
  the fixed passes pick, each with its fixed-pass score (on equal inputs, so the two are comparable);
* the spread of one validation pass at the picked weights: the standard deviation over ``--spread``
  passes with independent noise (streams ``spread``), against the range of the fixed-pass scores of
  the last third of the epochs, and the number of epochs whose fixed-pass score lies within one such
  standard deviation of the best.

    python docs/scripts/model_selection.py --run-dir /work/lap --preset laptop --models chain2 fully3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))


def main(argv=None) -> None:
    import pandas as pd
    import torch

    from rnnhmm import config as slices
    from rnnhmm import io, plan
    from rnnhmm.hmm import load_hmm_file
    from rnnhmm.model import NoiseRNN
    from rnnhmm.train import ModelKey, TrainConfig, one_hot_flat, run_epoch, selection_loss

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", type=Path, required=True, help="the run's folder (it holds results/<preset>/)")
    ap.add_argument("--preset", default="laptop")
    ap.add_argument("--models", nargs="*", help="HMM names of the preset's reference models (default: all)")
    ap.add_argument("--passes", type=int, default=4, help="fixed validation passes per score")
    ap.add_argument("--spread", type=int, default=8, help="independent one-pass validations at the picked weights")
    ap.add_argument("--stride", type=int, default=1, help="score every k-th epoch (and both picked epochs)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = slices.validate({**yaml.safe_load((args.run_dir / "config.yaml").read_text()), "preset": args.preset})
    pcfg = cfg["presets"][args.preset]
    hmms = args.models or plan.hmms_in(pcfg)
    dev = torch.device("cpu")
    print("| model | one-pass pick | its fixed score | fixed pick | its fixed score | one-pass SD at pick | "
          "fixed-score range, last third | epochs within 1 SD |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for spec in plan.reference_models(pcfg, hmms):
        p = slices.train_params(cfg, args.preset, spec)
        t = dict(p["train"], betas=tuple(p["train"]["betas"]), checkpoint_epochs=(), select_passes=args.passes)
        tcfg = TrainConfig(**t)
        m = p["model"]
        key = ModelKey(m["hmm"], m["hidden"], m["dim"], m["seed"], p["base_seed"])
        hmm, data = load_hmm_file(args.run_dir / plan.hmm_file(args.preset, spec.hmm))
        y_val = one_hot_flat(data["val"], hmm.n_outputs)
        mdir = args.run_dir / plan.model_dir(args.preset, spec)
        hist = pd.read_csv(mdir / "history.csv")
        picked = int(hist.loc[hist["val_loss"].idxmin(), "epoch"])
        epochs = sorted(set(range(args.stride, int(hist["epoch"].max()) + 1, args.stride)) | {picked})

        def net_at(epoch: int, mdir=mdir, spec=spec, k=hmm.n_outputs) -> NoiseRNN:
            ck = io.load_torch(mdir / "checkpoints" / f"epoch{epoch}.pt", io.MODEL_FORMAT)
            net = NoiseRNN(spec.hidden, spec.dim, k)
            net.load_state_dict(ck["final"])
            return net.eval()

        score = {e: selection_loss(net_at(e), y_val, key, tcfg, dev) for e in epochs}
        best = min(score, key=score.get)
        with torch.no_grad():
            one = [run_epoch(net_at(picked), y_val, key, tcfg, s, "spread", None, dev)[0] for s in range(args.spread)]
        sd = float(np.std(one, ddof=1))
        last = [v for e, v in score.items() if e > 2 * hist["epoch"].max() / 3]
        near = sum(v <= score[best] + sd for v in score.values())
        print(f"| {spec.id} | {picked} | {score[picked]:.3f} | {best} | {score[best]:.3f} | {sd:.3f} | "
              f"{max(last) - min(last):.3f} | {near} of {len(score)} |", flush=True)


if __name__ == "__main__":
    main()
