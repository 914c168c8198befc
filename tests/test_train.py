"""Training: the loss falls on a 2-state chain, outputs are complete, resume is exact."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnhmm import io
from rnnhmm.hmm import build_hmm
from rnnhmm.rng import numpy_rng
from rnnhmm.train import ModelKey, TrainConfig, batch_slices, train

CHAIN2 = {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05}, "emissions": {"kind": "linear"}}


def data(n=512, length=30):
    _, y = build_hmm("chain2", CHAIN2).sample(2 * n, length, numpy_rng(0, "chain2", "data"))
    return y[:n], y[n:]


def test_batches_are_contiguous_like_the_paper():
    sizes = [s.stop - s.start for s in batch_slices(10000, 4096)]
    assert sizes == [4096, 4096, 1808]


def test_training_a_two_state_chain_lowers_the_loss(tmp_path):
    tr, va = data()
    key = ModelKey("chain2", 32, 8, 0, base_seed=1)
    cfg = TrainConfig(epochs=25, batch_size=256, lr=1e-2, clip=0.9, checkpoint_epochs=(1, 25), resume_every=5)
    summary = train(key, cfg, tr, va, tmp_path, 3)
    hist = pd.read_csv(tmp_path / "history.csv")
    assert list(hist["epoch"]) == list(range(1, 26))
    first, last = hist["val_loss"].iloc[:3].mean(), hist["val_loss"].iloc[-3:].mean()
    assert last < 0.8 * first, (first, last)
    assert summary["best_epoch"] == int(hist.loc[hist["val_loss"].idxmin(), "epoch"])
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch1.pt", "epoch25.pt"]
    assert not (tmp_path / "_work").exists()
    # the best weights are a copy taken at the best epoch, not the final weights (D1)
    obj = io.load_torch(tmp_path / "model.pt", io.MODEL_FORMAT)
    if summary["best_epoch"] != 25:
        assert not torch.equal(obj["best"]["W"], obj["final"]["W"])
    ck25 = io.load_torch(tmp_path / "checkpoints" / "epoch25.pt", io.MODEL_FORMAT)
    assert torch.equal(ck25["final"]["W"], obj["final"]["W"])


def test_resume_from_the_training_state_is_bit_identical(tmp_path, monkeypatch):
    """A job killed after epoch 3 leaves _work/state.pt; resuming from it gives the same files."""
    import rnnhmm.train as T

    tr, va = data(256)
    key = ModelKey("chain2", 16, 4, 0, base_seed=2)
    cfg = TrainConfig(epochs=6, batch_size=128, resume_every=3)
    saved = {}
    orig = io.save_torch

    def capture(path, obj):
        orig(path, obj)
        if obj.get("format") == io.STATE_FORMAT and obj["epoch"] == 3:
            saved["state"] = path.read_bytes()

    monkeypatch.setattr(T.io, "save_torch", capture)
    train(key, cfg, tr, va, tmp_path / "a", 3)
    monkeypatch.setattr(T.io, "save_torch", orig)
    assert saved, "no training state was written at epoch 3"
    (tmp_path / "d" / "_work").mkdir(parents=True)
    (tmp_path / "d" / "_work" / "state.pt").write_bytes(saved["state"])
    train(key, cfg, tr, va, tmp_path / "d", 3)
    a = io.load_torch(tmp_path / "a" / "model.pt", io.MODEL_FORMAT)
    d = io.load_torch(tmp_path / "d" / "model.pt", io.MODEL_FORMAT)
    for k in ("W", "U", "A"):
        assert torch.equal(a["final"][k], d["final"][k])
        assert torch.equal(a["best"][k], d["best"][k])
    assert (tmp_path / "a" / "history.csv").read_bytes() == (tmp_path / "d" / "history.csv").read_bytes()


def test_outputs_are_deterministic(tmp_path):
    tr, va = data(128)
    key = ModelKey("chain2", 8, 2, 3, base_seed=5)
    cfg = TrainConfig(epochs=2, batch_size=64)
    train(key, cfg, tr, va, tmp_path / "x", 3)
    train(key, cfg, tr, va, tmp_path / "y", 3)
    assert (tmp_path / "x" / "history.csv").read_bytes() == (tmp_path / "y" / "history.csv").read_bytes()
    wx = io.load_torch(tmp_path / "x" / "model.pt")["best"]["W"]
    wy = io.load_torch(tmp_path / "y" / "model.pt")["best"]["W"]
    assert torch.equal(wx, wy)
    assert np.isfinite(pd.read_csv(tmp_path / "x" / "history.csv")["train_loss"]).all()


def test_model_selection_over_fixed_validation_passes(tmp_path):
    """select_passes = 2: each epoch's selection score is the mean validation loss over two passes whose
    inputs are the same at every epoch, so it is recomputed exactly from that epoch's checkpoint; the
    best weights are those of the epoch with the lowest score, which the one-pass rule need not pick;
    the training itself (train and validation losses, final weights) is that of select_passes = 0."""
    import rnnhmm.train as T
    from rnnhmm.model import NoiseRNN

    tr, va = data(256, 20)
    key = ModelKey("chain2", 16, 4, 0, base_seed=7)
    cfg = TrainConfig(epochs=8, batch_size=128, lr=1e-2, checkpoint_epochs=tuple(range(1, 9)), select_passes=2)
    summary = train(key, cfg, tr, va, tmp_path / "sel", 3)
    hist = pd.read_csv(tmp_path / "sel" / "history.csv")
    assert list(hist.columns) == ["epoch", "train_loss", "val_loss", "select_loss", "grad_norm_preclip_mean", "is_best"]
    y_val = T.one_hot_flat(va, 3)
    for e in (1, 5, 8):
        ck = io.load_torch(tmp_path / "sel" / "checkpoints" / f"epoch{e}.pt", io.MODEL_FORMAT)
        net = NoiseRNN(16, 4, 3)
        net.load_state_dict(ck["final"])
        net.eval()
        again = T.selection_loss(net, y_val, key, cfg, torch.device("cpu"))
        assert again == pytest.approx(hist.loc[hist["epoch"] == e, "select_loss"].item(), rel=1e-9)  # csv digits
    running_min = hist["select_loss"].cummin()
    assert list(hist["is_best"]) == list((hist["select_loss"] == running_min) & (hist["select_loss"].diff() != 0))
    best = int(hist.loc[hist["select_loss"].idxmin(), "epoch"])
    assert summary["best_epoch"] == best and summary["select_passes"] == 2
    assert summary["best_select_loss"] == pytest.approx(hist["select_loss"].min(), rel=1e-9)
    assert summary["best_val_loss"] == pytest.approx(hist.loc[hist["epoch"] == best, "val_loss"].item(), rel=1e-9)
    obj = io.load_torch(tmp_path / "sel" / "model.pt", io.MODEL_FORMAT)
    ck = io.load_torch(tmp_path / "sel" / "checkpoints" / f"epoch{best}.pt", io.MODEL_FORMAT)
    assert torch.equal(obj["best"]["W"], ck["final"]["W"])
    assert io.read_json(tmp_path / "sel" / "meta.json")["train_config"]["select_passes"] == 2

    # the one-pass rule trains identically: only the choice of the best epoch may differ
    plain = TrainConfig(epochs=8, batch_size=128, lr=1e-2, checkpoint_epochs=tuple(range(1, 9)))
    train(key, plain, tr, va, tmp_path / "one", 3)
    h1 = pd.read_csv(tmp_path / "one" / "history.csv")
    assert "select_loss" not in h1.columns
    for col in ("train_loss", "val_loss", "grad_norm_preclip_mean"):
        assert h1[col].tolist() == hist[col].tolist()
    one = io.load_torch(tmp_path / "one" / "model.pt", io.MODEL_FORMAT)
    assert torch.equal(one["final"]["W"], obj["final"]["W"])
    # at its default the option is not recorded: meta.json and the resume state are as before it existed
    assert "select_passes" not in io.read_json(tmp_path / "one" / "meta.json")["train_config"]


def test_select_passes_must_not_be_negative():
    with pytest.raises(ValueError, match="select_passes"):
        TrainConfig(epochs=2, select_passes=-1)
