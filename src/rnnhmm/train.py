"""Training by Sinkhorn divergence between RNN and HMM sequence clouds (docs/method.md §1.2–1.4).

Per epoch: fresh input noise and Gumbel uniforms for every batch, drawn from named streams
``train_noise:{epoch}:{batch}`` etc., so an epoch's randomness depends only on (model key, epoch)
and a resumed run is bit-identical to an uninterrupted one.  The lowest-validation-loss weights
are deep-copied (D1).  A rolling training state under ``_work/`` lets a killed job resume.
"""

from __future__ import annotations

import copy
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import io
from .model import NoiseRNN
from .rng import torch_generator
from .sinkhorn import SinkhornLoss

log = logging.getLogger("rnnhmm.train")


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN/Inf."""


@dataclass(frozen=True)
class ModelKey:
    """Identifies one training run; every random stream of the run is derived from it."""

    hmm: str
    hidden: int
    dim: int
    seed: int
    base_seed: int
    attempt: int = 0

    @property
    def id(self) -> str:
        return f"{self.hmm}_h{self.hidden}_d{self.dim}_s{self.seed}"

    def parts(self, stream: str) -> tuple:
        return (self.hmm, self.hidden, self.dim, self.seed, self.attempt, stream)

    def torch_gen(self, stream: str, device: str | torch.device = "cpu") -> torch.Generator:
        return torch_generator(self.base_seed, *self.parts(stream), device=device)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int = 4096
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.9)
    eps: float = 1e-8
    clip: float = 0.9
    tau: float = 1.0
    sigma: float = 1.0
    blur: float = 0.2
    scaling: float = 0.5
    checkpoint_epochs: tuple[int, ...] = field(default_factory=tuple)
    resume_every: int = 10
    sinkhorn_backend: str = "geomloss"
    device: str = "auto"
    # model selection: 0 = the paper's rule (the lowest validation loss, one pass with that epoch's own
    # noise); P >= 1 = the lowest mean validation loss over P passes whose noise and Gumbel draws are
    # the same at every epoch (stream ``select``), so that epochs are compared on equal inputs
    select_passes: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.select_passes < 0:
            raise ValueError(f"select_passes must be >= 0, got {self.select_passes}")
        bad = [e for e in self.checkpoint_epochs if not 1 <= e <= self.epochs]
        if bad:
            raise ValueError(f"checkpoint_epochs must lie in 1..{self.epochs}, got {bad}")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def one_hot_flat(outputs: np.ndarray, n_outputs: int) -> torch.Tensor:
    """(N, T) integer symbols -> (N, T*K) float32 one-hot rows, the cloud geometry of the loss."""
    t = torch.as_tensor(np.asarray(outputs, dtype=np.int64))
    return torch.nn.functional.one_hot(t, n_outputs).to(torch.float32).reshape(t.shape[0], -1)


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Contiguous batches (e.g. 10000 with 4096 -> 4096, 4096, 1808)."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def draw_inputs(key: ModelKey, stream: str, epoch: int, batch: int, shape: tuple[int, int, int], dim: int,
                sigma: float, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise x = sigma * xi (B, T, d) and Gumbel uniforms (B, T, K) of one batch, drawn on the CPU from
    the batch's own named streams (identical on every device), then moved to ``device``; ``shape`` is
    (B, T, K)."""
    b, t_len, n_outputs = shape
    gen_x = key.torch_gen(f"{stream}_noise:{epoch}:{batch}")
    gen_u = key.torch_gen(f"{stream}_gumbel:{epoch}:{batch}")
    noise = torch.randn(b, t_len, dim, generator=gen_x).mul_(sigma)  # in place: no second (B, T, d) copy
    uniforms = torch.rand(b, t_len, n_outputs, generator=gen_u)
    return noise.to(device), uniforms.to(device)


_LOSS_FNS: dict[tuple, SinkhornLoss] = {}


def _loss_fn(cfg: TrainConfig) -> SinkhornLoss:
    """One loss object per (blur, scaling, backend) and process: it caches the target–target term of
    each fixed target batch (recognised by value), so the train and validation batches reuse theirs."""
    k = (cfg.blur, cfg.scaling, cfg.sinkhorn_backend)
    if k not in _LOSS_FNS:
        _LOSS_FNS[k] = SinkhornLoss(cfg.blur, cfg.scaling, cfg.sinkhorn_backend, cache_size=8)
    return _LOSS_FNS[k]


def run_epoch(model: NoiseRNN, targets: torch.Tensor, key: ModelKey, cfg: TrainConfig, epoch: int, stream: str,
              optimizer: torch.optim.Optimizer | None, device: torch.device) -> tuple[float, float]:
    """One pass over ``targets`` in contiguous batches; trains when an optimizer is given.

    Returns (mean batch loss, mean pre-clip gradient norm or NaN)."""
    n, width = targets.shape
    t_len = width // model.n_outputs
    loss_fn = _loss_fn(cfg)
    losses, norms = [], []
    for b, sl in enumerate(batch_slices(n, cfg.batch_size)):
        noise, uniforms = draw_inputs(key, stream, epoch, b, (sl.stop - sl.start, t_len, model.n_outputs), model.dim, cfg.sigma, device)
        target = targets[sl].to(device)
        if optimizer is None:
            with torch.no_grad():
                y = model(noise, uniforms, cfg.tau).reshape(noise.shape[0], -1)
                loss = loss_fn(y, target)
        else:
            optimizer.zero_grad(set_to_none=True)
            y = model(noise, uniforms, cfg.tau).reshape(noise.shape[0], -1)
            loss = loss_fn(y, target)
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"{key.id}: non-finite training loss ({loss.item()}) at epoch {epoch}, batch {b}")
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            if not torch.isfinite(norm):
                raise TrainingDiverged(f"{key.id}: non-finite gradient norm at epoch {epoch}, batch {b}")
            norms.append(float(norm))
            optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses)), (float(np.mean(norms)) if norms else math.nan)


def _state_dict_copy(model: NoiseRNN) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _check_finite_weights(model: NoiseRNN, key: ModelKey, epoch: int) -> None:
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            raise TrainingDiverged(f"{key.id}: weight {name} became non-finite at epoch {epoch}")


def _finite_output_guard(key: ModelKey):
    """A forward hook that stops training when the network emits NaN/Inf (e.g. exploding weights):
    without it the non-finite cloud reaches the Sinkhorn loss, which fails deep inside geomloss."""

    def hook(module, inputs, output) -> None:
        if isinstance(output, torch.Tensor) and not bool(torch.isfinite(output).all()):
            raise TrainingDiverged(f"{key.id}: the network's output became non-finite (NaN/Inf)")

    return hook


HISTORY_COLUMNS = ["epoch", "train_loss", "val_loss", "grad_norm_preclip_mean", "is_best", "epoch_time_s"]
SELECT_COLUMN = "select_loss"  # history.csv, after val_loss, when TrainConfig.select_passes > 0
# TrainConfig fields that are left out of the recorded configuration (meta.json, the resume state)
# while at these defaults, so that adding an option leaves the records of existing trainings as they were
OPTIONAL_DEFAULTS = {"select_passes": 0}


def selection_loss(model: NoiseRNN, targets: torch.Tensor, key: ModelKey, cfg: TrainConfig,
                   device: torch.device) -> float:
    """Mean validation loss over ``cfg.select_passes`` passes with fixed inputs: pass p draws its noise
    and Gumbel uniforms from the streams ``select_noise:p:b`` / ``select_gumbel:p:b``, the same at
    every epoch."""
    with torch.no_grad():
        return float(np.mean([run_epoch(model, targets, key, cfg, p, "select", None, device)[0]
                              for p in range(cfg.select_passes)]))


def diverged_message(err: TrainingDiverged, epoch: int, state_file: Path) -> str:
    """The one line a training that diverged stops with: what diverged, where, and what is kept."""
    where = "" if "epoch" in str(err) else f" at epoch {epoch}"
    kept = (f"the last good training state ({state_file}, epoch {int(io.load_torch(state_file)['epoch'])}) is kept"
            if state_file.exists() else "no training state had been saved yet")
    return (f"{err}{where}; training stopped, no model was written; {kept}. Lower the learning "
            "rate or the gradient clip, or check the data")


class TrainingRun:
    """One model's training files and bookkeeping, shared by :func:`train` and
    ``rnnhmm.batched.train_batch``: the rolling resume state under ``_work/``, the history, the
    best-so-far weights, the checkpoints, and the final ``model.pt`` / ``history.csv`` /
    ``meta.json``.  Weights are passed in as state dicts ({"W", "U", "A"} on the CPU) and the
    optimizer state as a ``torch.optim.Adam`` state dict of the model's own three parameters."""

    def __init__(self, key: ModelKey, cfg: TrainConfig, out_dir: str | Path, init_state: dict) -> None:
        self.key, self.cfg, self.out_dir = key, cfg, Path(out_dir)
        self.work = self.out_dir / "_work"
        self.epochs_dir = self.work / "epochs"
        self.state_file = self.work / "state.pt"
        self.epochs_dir.mkdir(parents=True, exist_ok=True)
        for stale in [*self.out_dir.glob(".*.tmp"), *self.work.rglob(".*.tmp")]:
            stale.unlink(missing_ok=True)  # temporary files of a killed job's unfinished atomic writes
        self.history: list[dict] = []
        self.best_state, self.best_val, self.best_epoch, self.start_epoch = init_state, math.inf, 0, 1

    def resume(self) -> dict | None:
        """The saved training state when it belongs to this key and configuration and its checkpoints
        are all there (the run then continues after its epoch), else None (the run starts afresh and
        checkpoints of another run are removed)."""
        state = io.load_torch(self.state_file, io.STATE_FORMAT) if self.state_file.exists() else None
        if state is not None:
            missing = [e for e in self.cfg.checkpoint_epochs
                       if e <= int(state["epoch"]) and not (self.epochs_dir / f"epoch{e}.pt").exists()]
            if state["key"] != self.key.id or state["config"] != _cfg_dict(self.cfg):
                log.warning("%s: training state was written for another configuration; starting afresh", self.state_file)
                state = None
            elif missing:
                log.warning("%s: checkpoints of epochs %s are missing; starting afresh", self.state_file, missing[:5])
                state = None
        if state is None:
            shutil.rmtree(self.epochs_dir, ignore_errors=True)  # checkpoints of another run must not be mixed in
            self.epochs_dir.mkdir(parents=True, exist_ok=True)
            return None
        self.best_state, self.best_val, self.best_epoch = state["best"], float(state["best_val"]), int(state["best_epoch"])
        self.history = list(state["history"])
        self.start_epoch = int(state["epoch"]) + 1
        log.info("%s: resumed from %s after epoch %d", self.key.id, self.state_file, self.start_epoch - 1)
        return state

    def record(self, epoch: int, train_loss: float, val_loss: float, select_loss: float, grad_norm: float,
               weights: dict, optimizer_state, seconds: float) -> bool:
        """Book one finished epoch: best weights (by ``select_loss``), history row, checkpoint, and the
        resume state every ``resume_every`` epochs; ``optimizer_state`` is a function returning the
        model's optimizer state dict, called only when the state is saved.  Returns is_best."""
        cfg, key = self.cfg, self.key
        is_best = select_loss < self.best_val  # best_val: the lowest selection score so far
        if is_best:
            self.best_val, self.best_epoch, self.best_state = select_loss, epoch, weights
        self.history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                             **({SELECT_COLUMN: select_loss} if cfg.select_passes else {}),
                             "grad_norm_preclip_mean": grad_norm, "is_best": bool(is_best), "epoch_time_s": seconds})
        if epoch in cfg.checkpoint_epochs:
            io.save_torch(self.epochs_dir / f"epoch{epoch}.pt", {"format": io.MODEL_FORMAT, "hidden": key.hidden,
                                                                  "dim": key.dim, "epoch": epoch,
                                                                  "best": weights, "final": weights})
        if epoch % cfg.resume_every == 0 or epoch == cfg.epochs:
            io.save_torch(self.state_file, {"format": io.STATE_FORMAT, "key": key.id, "config": _cfg_dict(cfg),
                                            "epoch": epoch, "model": weights,
                                            "optimizer": copy.deepcopy(optimizer_state()), "best": self.best_state,
                                            "best_val": self.best_val, "best_epoch": self.best_epoch,
                                            "history": self.history})
        return is_best

    def log_epoch(self, epoch: int, t_loop: float, seconds: float) -> None:
        h = self.history[-1]
        done = epoch - self.start_epoch + 1
        eta = (time.time() - t_loop) / done * (self.cfg.epochs - epoch)
        log.info("%s epoch %d/%d train %.4f val %.4f%s grad %.3f | %.2f s/epoch ETA %s", self.key.id, epoch,
                 self.cfg.epochs, h["train_loss"], h["val_loss"], " (best)" if h["is_best"] else "",
                 h["grad_norm_preclip_mean"], seconds, _fmt_eta(eta))

    def finish(self, final_state: dict, device: torch.device, config_slice: dict | None, started: float) -> dict:
        """Write model.pt, history.csv, meta.json and checkpoints/; remove ``_work/``; return the summary."""
        key, cfg, out_dir, history = self.key, self.cfg, self.out_dir, self.history
        io.save_torch(out_dir / "model.pt", {"format": io.MODEL_FORMAT, "hidden": key.hidden, "dim": key.dim,
                                             "key": key.id, "best_epoch": self.best_epoch, "best": self.best_state,
                                             "final": final_state})
        record = io.provenance(config_slice, started)
        io.write_sidecar(out_dir / "model.pt", record)
        columns = [*HISTORY_COLUMNS[:3], *([SELECT_COLUMN] if cfg.select_passes else []), *HISTORY_COLUMNS[3:]]
        io.write_table(out_dir / "history.csv", pd.DataFrame(history, columns=columns).drop(columns="epoch_time_s"))
        io.write_sidecar(out_dir / "history.csv", record)
        best_row = next(h for h in history if h["epoch"] == self.best_epoch) if self.best_epoch else None
        summary = {"model": key.id, "best_epoch": self.best_epoch,
                   "best_val_loss": best_row["val_loss"] if best_row else self.best_val,
                   **({"best_select_loss": self.best_val, "select_passes": cfg.select_passes} if cfg.select_passes else {}),
                   "final_val_loss": history[-1]["val_loss"], "attempt": key.attempt, "epochs": cfg.epochs,
                   "device": str(device), "mean_epoch_time_s": float(np.mean([h["epoch_time_s"] for h in history]))}
        io.write_json(out_dir / "meta.json", {**summary, "key": asdict(key), "train_config": _cfg_dict(cfg),
                                              "provenance": record})
        ckpt = out_dir / "checkpoints"
        if ckpt.exists():
            shutil.rmtree(ckpt)
        self.epochs_dir.rename(ckpt)
        shutil.rmtree(self.work, ignore_errors=True)
        return summary


def prepare_device(cfg: TrainConfig) -> torch.device:
    device = resolve_device(cfg.device)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)
    return device


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, weight_decay=0.0)


def train(key: ModelKey, cfg: TrainConfig, train_targets: np.ndarray, val_targets: np.ndarray, out_dir: str | Path,
          n_outputs: int, config_slice: dict | None = None) -> dict:
    """Train one model and write ``model.pt``, ``history.csv``, ``meta.json`` and ``checkpoints/`` in out_dir.

    ``train_targets`` / ``val_targets`` are (N, T) integer symbol arrays over the HMM's ``n_outputs``
    symbols (K, the network's readout size).  Resumes from
    ``out_dir/_work/state.pt`` when present.  Returns the training summary.
    """
    started = time.time()
    device = prepare_device(cfg)
    y_train = one_hot_flat(train_targets, n_outputs)
    y_val = one_hot_flat(val_targets, n_outputs)
    model = NoiseRNN(key.hidden, key.dim, n_outputs, generator=key.torch_gen("init")).to(device)
    optimizer = make_optimizer(model.parameters(), cfg)
    model.register_forward_hook(_finite_output_guard(key))
    run = TrainingRun(key, cfg, out_dir, _state_dict_copy(model))
    state = run.resume()
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])

    log.info("%s: training on %s, %d epochs, %d train / %d val sequences, batch %d, backend %s",
             key.id, device, cfg.epochs, len(y_train), len(y_val), cfg.batch_size, cfg.sinkhorn_backend)
    t_loop = time.time()
    for epoch in range(run.start_epoch, cfg.epochs + 1):
        t0 = time.time()
        try:
            model.train()
            train_loss, grad_norm = run_epoch(model, y_train, key, cfg, epoch, "train", optimizer, device)
            _check_finite_weights(model, key, epoch)
            model.eval()
            val_loss, _ = run_epoch(model, y_val, key, cfg, epoch, "val", None, device)
            if not math.isfinite(val_loss):
                raise TrainingDiverged(f"{key.id}: non-finite validation loss ({val_loss}) at epoch {epoch}")
            select_loss = selection_loss(model, y_val, key, cfg, device) if cfg.select_passes else val_loss
        except TrainingDiverged as err:
            raise TrainingDiverged(diverged_message(err, epoch, run.state_file)) from None
        run.record(epoch, train_loss, val_loss, select_loss, grad_norm, _state_dict_copy(model),
                   optimizer.state_dict, time.time() - t0)
        run.log_epoch(epoch, t_loop, time.time() - t0)
    return run.finish(_state_dict_copy(model), device, config_slice, started)


def _cfg_dict(cfg: TrainConfig) -> dict:
    d = {k: v for k, v in asdict(cfg).items() if k not in OPTIONAL_DEFAULTS or v != OPTIONAL_DEFAULTS[k]}
    d["betas"] = list(d["betas"])
    d["checkpoint_epochs"] = list(d["checkpoint_epochs"])
    d.pop("device")  # resuming on another device is allowed
    return d


def _fmt_eta(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"
