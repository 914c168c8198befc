"""Control networks of the claims check (docs/claims.md, "Controls").

A check is worth something only if a network that lacks the property fails it.  The controls are
networks of the same shape as a trained reference model, written in the same files as a training
(``model.pt``, ``history.csv``, ``meta.json``, ``checkpoints/``) so every evaluation and analysis runs
on them unchanged (under the control preset ``<preset>-<control>``, see ``plan.CONTROLS``):

* ``untrained``: the initial weights of the training (``NoiseRNN`` drawn from the training's own
  ``init`` stream of the same ``ModelKey``), i.e. the network before its first Adam step;
* ``shuffled``: the trained network with the h × h entries of its recurrent matrix W permuted at
  random (stream ``control:shuffled``): the same weight distribution, the same input and readout
  weights, no learned recurrent structure.

The i.i.d. emitter (symbols drawn independently from the HMM's output marginals) is the third
control; it has no network and is scored in the evaluation (``rnnhmm.evaluate``, metrics ``*_iid*``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import torch

from . import io
from .model import NoiseRNN
from .train import HISTORY_COLUMNS, ModelKey


def untrained_state(key: ModelKey, n_outputs: int) -> dict:
    """The state dict of the network the training of ``key`` (with ``n_outputs`` outputs) starts from."""
    return {k: v.detach().clone() for k, v in NoiseRNN(key.hidden, key.dim, n_outputs, generator=key.torch_gen("init"))
            .state_dict().items()}


def shuffled_state(trained: dict, key: ModelKey) -> dict:
    """``trained`` (a NoiseRNN state dict) with the entries of W permuted at random."""
    state = {k: v.detach().clone() for k, v in trained.items()}
    w = state["W"]
    perm = torch.randperm(w.numel(), generator=key.torch_gen("control:shuffled"))
    state["W"] = w.reshape(-1)[perm].reshape(w.shape).clone()
    return state


def make_control(control: str, trained_model: str | Path, key: ModelKey, out_dir: str | Path,
                 config_slice: dict | None = None) -> dict:
    """Write the ``control`` network of the trained model ``trained_model`` into ``out_dir`` in the
    files a training writes; the history is empty and there are no checkpoints."""
    started = time.time()
    obj = io.load_torch(trained_model, io.MODEL_FORMAT)
    if (int(obj["hidden"]), int(obj["dim"])) != (key.hidden, key.dim):
        raise io.ResultFileError(f"{trained_model}: a NoiseRNN({obj['hidden']}, {obj['dim']}), expected "
                                 f"({key.hidden}, {key.dim}) for {key.id}")
    if control == "untrained":
        state = untrained_state(key, int(obj["best"]["A"].shape[0]))
    elif control == "shuffled":
        state = shuffled_state(obj["best"], key)
    else:
        raise ValueError(f"unknown control {control!r}; known: untrained, shuffled")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = io.provenance(config_slice, started, control=control, trained_model=str(trained_model))
    io.save_torch(out / "model.pt", {"format": io.MODEL_FORMAT, "hidden": key.hidden, "dim": key.dim,
                                     "key": key.id, "best_epoch": 0, "best": state, "final": state,
                                     "control": control})
    io.write_sidecar(out / "model.pt", record)
    io.write_table(out / "history.csv", pd.DataFrame(columns=HISTORY_COLUMNS).drop(columns="epoch_time_s"))
    io.write_sidecar(out / "history.csv", record)
    (out / "checkpoints").mkdir(exist_ok=True)
    summary = {"model": key.id, "control": control, "best_epoch": 0, "epochs": 0}
    io.write_json(out / "meta.json", {**summary, "provenance": record})
    return summary
