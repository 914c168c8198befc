"""The batched trainer: a model trained inside a stack equals the same model trained alone."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnhmm import io
from rnnhmm.batched import BatchDiverged, ModelStack, init_state, train_batch
from rnnhmm.hmm import build_hmm
from rnnhmm.model import NoiseRNN
from rnnhmm.rng import numpy_rng
from rnnhmm.train import ModelKey, TrainConfig, train

CHAIN2 = {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05}, "emissions": {"kind": "linear"}}
# float tolerance of "the same training": the batched matrix products and element-wise kernels may
# round the last bits differently; a real difference between two trainings is orders of magnitude larger
RTOL, ATOL = 1e-5, 1e-6


def data(n=256, length=12):
    _, y = build_hmm("chain2", CHAIN2).sample(2 * n, length, numpy_rng(0, "chain2", "batched"))
    return y[:n], y[n:]


def keys(*seeds):
    return [ModelKey("chain2", 16, 6, s, base_seed=3) for s in seeds]


CFG = TrainConfig(epochs=5, batch_size=96, lr=1e-2, clip=0.5, checkpoint_epochs=(1, 3, 5), resume_every=2,
                  sinkhorn_backend="fast")


def files(out):
    hist = pd.read_csv(out / "history.csv")
    model = io.load_torch(out / "model.pt", io.MODEL_FORMAT)
    meta = io.read_json(out / "meta.json")
    return hist, model, meta


def assert_same_training(a, b):
    (ha, ma, meta_a), (hb, mb, meta_b) = files(a), files(b)
    assert list(ha.columns) == list(hb.columns)
    assert list(ha["epoch"]) == list(hb["epoch"])
    for col in ("train_loss", "val_loss", "grad_norm_preclip_mean"):
        np.testing.assert_allclose(ha[col], hb[col], rtol=RTOL, atol=ATOL, err_msg=col)
    assert list(ha["is_best"]) == list(hb["is_best"])
    assert ma["best_epoch"] == mb["best_epoch"] == meta_a["best_epoch"] == meta_b["best_epoch"]
    for which in ("best", "final"):
        for name in ("W", "U", "A"):
            torch.testing.assert_close(ma[which][name], mb[which][name], rtol=RTOL, atol=ATOL)
    assert meta_a["train_config"] == meta_b["train_config"] and meta_a["key"] == meta_b["key"]
    assert sorted(p.name for p in (a / "checkpoints").iterdir()) == sorted(p.name for p in (b / "checkpoints").iterdir())


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """Seeds 0, 1, 2 each trained alone by train()."""
    tr, va = data()
    root = tmp_path_factory.mktemp("alone")
    for key in keys(0, 1, 2):
        train(key, CFG, tr, va, root / key.id, 3)
    return root


def test_a_stack_of_three_trains_each_model_as_alone(alone, tmp_path):
    tr, va = data()
    ks = keys(0, 1, 2)
    summaries = train_batch(ks, CFG, tr, va, [tmp_path / k.id for k in ks], 3)
    assert [s["model"] for s in summaries] == [k.id for k in ks]
    for k in ks:
        assert_same_training(alone / k.id, tmp_path / k.id)
        assert not (tmp_path / k.id / "_work").exists()
    # the trainings differ from each other by far more than the tolerance: the test can fail
    h0, h1 = (pd.read_csv(tmp_path / k.id / "history.csv") for k in ks[:2])
    assert np.max(np.abs(h0["val_loss"] - h1["val_loss"])) > 1e3 * ATOL


def test_a_model_does_not_depend_on_its_neighbours(alone, tmp_path):
    """Seed 1 with another neighbour, in another position, equals seed 1 alone."""
    tr, va = data()
    ks = keys(2, 1)
    train_batch(ks, CFG, tr, va, [tmp_path / k.id for k in ks], 3)
    assert_same_training(alone / ks[1].id, tmp_path / ks[1].id)


def test_the_stack_starts_from_each_models_own_initial_weights():
    ks = keys(0, 4)
    stack = ModelStack([init_state(k, 3) for k in ks])
    for j, k in enumerate(ks):
        ref = NoiseRNN(k.hidden, k.dim, 3, generator=k.torch_gen("init"))
        for name, v in ref.state_dict().items():
            assert torch.equal(stack.weights(j)[name], v)


def test_a_killed_batch_resumes_to_the_same_files(alone, tmp_path, monkeypatch):
    """Killed in epoch 3: the resume states of epoch 2 let the batch finish as if uninterrupted, and a
    batch's resume state is a one-model state (train() alone can finish it)."""
    import rnnhmm.batched as B

    tr, va = data()
    ks = keys(0, 1)
    dirs = [tmp_path / k.id for k in ks]
    orig = B.run_epoch_stack

    def killed(stack, targets, keys_, cfg, epoch, *a, **kw):
        if epoch == 3:
            raise KeyboardInterrupt
        return orig(stack, targets, keys_, cfg, epoch, *a, **kw)

    monkeypatch.setattr(B, "run_epoch_stack", killed)
    with pytest.raises(KeyboardInterrupt):
        train_batch(ks, CFG, tr, va, dirs, 3)
    assert all((d / "_work" / "state.pt").exists() for d in dirs)
    monkeypatch.setattr(B, "run_epoch_stack", orig)
    # model 1 is finished alone from the batch's state, model 0 by a batch of one
    train(ks[1], CFG, tr, va, dirs[1], 3)
    train_batch(ks[:1], CFG, tr, va, dirs[:1], 3)
    for k, d in zip(ks, dirs, strict=True):
        assert_same_training(alone / k.id, d)
        hist = pd.read_csv(d / "history.csv")
        assert list(hist["epoch"]) == [1, 2, 3, 4, 5]


def test_a_diverging_model_is_dropped_and_the_others_are_written(alone, tmp_path, monkeypatch):
    import rnnhmm.batched as B

    tr, va = data()
    ks = keys(0, 7, 2)
    orig = B.init_state

    def exploding(key, n_outputs):
        s = orig(key, n_outputs)
        if key.seed == 7:  # weights that overflow float32 within the first steps
            s = {k: v * 1e30 for k, v in s.items()}
        return s

    monkeypatch.setattr(B, "init_state", exploding)
    with pytest.raises(BatchDiverged) as err:
        train_batch(ks, CFG, tr, va, [tmp_path / k.id for k in ks], 3)
    assert list(err.value.errors) == [ks[1].id]
    assert "non-finite" in err.value.errors[ks[1].id] and "no model was written" in err.value.errors[ks[1].id]
    assert not (tmp_path / ks[1].id / "model.pt").exists()
    for k in (ks[0], ks[2]):
        assert_same_training(alone / k.id, tmp_path / k.id)


@pytest.mark.parametrize("bad, match", [
    (lambda: [ModelKey("chain2", 16, 6, 0, 3), ModelKey("chain2", 8, 6, 1, 3)], "one hidden size and input dim"),
    (lambda: keys(0, 0), "same model twice"),
    (lambda: [], "at least one model"),
])
def test_bad_batches_are_refused_with_one_line(tmp_path, bad, match):
    tr, va = data(64)
    ks = bad()
    with pytest.raises(ValueError, match=match):
        train_batch(ks, CFG, tr, va, [tmp_path / f"m{i}" for i in range(len(ks))], 3)


def test_model_selection_over_fixed_passes_is_per_model(tmp_path):
    """select_passes: each model's selection score comes from its own fixed streams, as alone."""
    from dataclasses import replace

    tr, va = data(128)
    cfg = replace(CFG, epochs=3, checkpoint_epochs=(), select_passes=2)
    ks = keys(0, 1)
    for k in ks:
        train(k, cfg, tr, va, tmp_path / "alone" / k.id, 3)
    train_batch(ks, cfg, tr, va, [tmp_path / "stack" / k.id for k in ks], 3)
    for k in ks:
        a, b = (pd.read_csv(tmp_path / w / k.id / "history.csv") for w in ("alone", "stack"))
        np.testing.assert_allclose(a["select_loss"], b["select_loss"], rtol=RTOL, atol=ATOL)
        assert (io.read_json(tmp_path / "alone" / k.id / "meta.json")["best_epoch"]
                == io.read_json(tmp_path / "stack" / k.id / "meta.json")["best_epoch"])
