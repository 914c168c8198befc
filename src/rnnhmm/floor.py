"""The loss floor: the training loss a perfect emulator would get.

The training loss is a debiased Sinkhorn divergence between a batch of RNN sequences and a batch of
HMM sequences.  At a finite batch size it is biased upwards: two independent batches drawn from the
HMM itself are not at divergence 0.  The floor of an HMM at a batch size is that divergence between
two independent HMM batches, averaged over a few pairs; a model's *excess loss* is its loss minus the
floor, so "plateau" (excess far above 0) is a number.  The floor is the HMM's own loss, not a lower
bound: at a finite batch an emitter that is not the HMM can score below it (one that switches less
than a slow chain does; docs/reference-run.md), so a negative excess is possible.

An epoch's loss is the mean over its batches (``train.batch_slices``: 10000 sequences in batches of
4096 are 4096, 4096 and 1808), so the floor of an epoch is the mean of the floors of those batch
sizes, for the training split and for the validation split alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .hmm import HMM
from .sinkhorn import SinkhornLoss
from .train import batch_slices, one_hot_flat

N_PAIRS = 4  # independent batch pairs per batch size; the table carries their standard error
COLUMNS = ["hmm", "split", "n_sequences", "batch_size", "seq_len", "n_pairs", "floor", "floor_se"]


def batch_divergences(hmm_a: HMM, hmm_b: HMM, size: int, seq_len: int, loss: SinkhornLoss,
                      rng: np.random.Generator, n_pairs: int = N_PAIRS) -> np.ndarray:
    """The Sinkhorn divergence between a batch of ``hmm_a`` and an independent batch of ``hmm_b``, each
    of ``size`` sequences of ``seq_len`` steps, for ``n_pairs`` pairs (one value per pair)."""
    values = []
    with torch.no_grad():
        for _ in range(n_pairs):
            a = one_hot_flat(hmm_a.sample(size, seq_len, rng)[1], hmm_a.n_outputs)
            b = one_hot_flat(hmm_b.sample(size, seq_len, rng)[1], hmm_b.n_outputs)
            values.append(float(loss(a, b)))
    return np.asarray(values)


def batch_floor(hmm: HMM, size: int, seq_len: int, loss: SinkhornLoss, rng: np.random.Generator,
                n_pairs: int = N_PAIRS) -> np.ndarray:
    """The floor at one batch size: divergences between pairs of independent batches of ``hmm``."""
    return batch_divergences(hmm, hmm, size, seq_len, loss, rng, n_pairs)


def loss_floor(hmm: HMM, seq_len: int, splits: dict[str, int], batch_size: int, rng: np.random.Generator, *,
               blur: float = 0.2, scaling: float = 0.5, backend: str = "fast", n_pairs: int = N_PAIRS) -> pd.DataFrame:
    """The epoch floor of each split (``splits``: name -> number of sequences, e.g. train and val).

    One row per split (columns ``COLUMNS``): ``floor`` is the mean over the epoch's batches of the
    mean over pairs, ``floor_se`` its standard error over the pairs.  Batch sizes shared by several
    batches or splits are measured once."""
    if n_pairs < 2:
        raise ValueError(f"the loss floor needs n_pairs >= 2 for its standard error, got {n_pairs}")
    loss = SinkhornLoss(blur, scaling, backend)
    per_size: dict[int, np.ndarray] = {}
    rows = []
    for split, n in splits.items():
        sizes = [sl.stop - sl.start for sl in batch_slices(int(n), int(batch_size))]
        for s in sizes:
            if s not in per_size:
                per_size[s] = batch_floor(hmm, s, seq_len, loss, rng, n_pairs)
        epoch = np.mean([per_size[s] for s in sizes], axis=0)  # (n_pairs,): one epoch floor per pair
        rows.append({"hmm": hmm.name, "split": split, "n_sequences": int(n), "batch_size": int(batch_size),
                     "seq_len": int(seq_len), "n_pairs": int(n_pairs), "floor": float(epoch.mean()),
                     "floor_se": float(epoch.std(ddof=1) / np.sqrt(n_pairs))})
    return pd.DataFrame(rows, columns=COLUMNS)


def with_excess(table: pd.DataFrame, floors: pd.DataFrame, losses: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """``table`` (rows with an ``hmm`` column) with floor and excess columns: ``losses`` maps a loss
    column to (split, excess column), e.g. {"val_loss": ("val", "val_excess")}; the floor of each split
    used lands in ``<split>_floor``.  NaN where an HMM has no floor row."""
    out = table.copy()
    for split in sorted({split for split, _ in losses.values()}):
        f = floors[floors["split"] == split].drop_duplicates("hmm").set_index("hmm")["floor"]
        out[f"{split}_floor"] = out["hmm"].map(f).astype(float)
    for col, (split, excess) in losses.items():
        out[excess] = pd.to_numeric(out[col], errors="coerce") - out[f"{split}_floor"]
    return out
