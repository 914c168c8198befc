"""Many trainings in one process (``train_batch``): M models that share an HMM's data, a hidden size
and an input dim (e.g. the seeds of one grid cell), trained side by side with their weights stacked.

What is shared and what is not:

- **Stacked**: the weights (W (M, H, H), U (M, H, d), A (M, K, H)), so the recurrence of all M models
  is one batched matrix product per time step, forward and backward (``model._RecurrentLogits``,
  the same code as one model's), and one Adam over the stacked tensors (Adam is element-wise, so
  this is M independent Adams that share only the step count, which is the same for all).
- **Per model**: every random draw (initial weights, each batch's noise and Gumbel uniforms, the
  selection passes) comes from the model's own named streams, exactly as :func:`rnnhmm.train.train`
  draws it; each model's loss is its own Sinkhorn divergence (the losses are summed only to run
  one backward pass, and no model's gradient depends on another's loss); gradient clipping is per
  model (the norm over its own W, U, A); best-epoch selection, history, checkpoints, resume state
  and output files are per model (``train.TrainingRun``, the same bookkeeping as ``train``).

So a model's training does not depend on which others share the stack: its loss history and
weights equal those of ``train`` alone up to float rounding of the batched kernels
(``tests/test_batched.py``).  A model that diverges is dropped from the stack at the end of that
epoch with ``train``'s message, no model written and its last resume state kept; the others carry
on and are written, and ``train_batch`` then raises :class:`BatchDiverged` naming the dropped ones.

The Sinkhorn losses are computed one model after another (the fast backends already use every
core for one 4096 × 4096 problem); benchmarks/batched.py measures what the stack gains.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .model import NoiseRNN, gumbel_straight_through, recurrent_logits
from .train import (
    ModelKey,
    TrainConfig,
    TrainingDiverged,
    TrainingRun,
    _loss_fn,
    _state_dict_copy,
    batch_slices,
    diverged_message,
    draw_inputs,
    make_optimizer,
    one_hot_flat,
    prepare_device,
)

log = logging.getLogger("rnnhmm.batched")

PARAMS = ("W", "U", "A")  # NoiseRNN's parameters, in its (and its optimizer's) order


class BatchDiverged(TrainingDiverged):
    """Some models of a batch diverged (the others were written); ``errors`` maps model id -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


class ModelStack(nn.Module):
    """M NoiseRNNs of one shape, weights stacked on a leading model axis."""

    def __init__(self, states: list[dict]) -> None:
        super().__init__()
        for name in PARAMS:
            setattr(self, name, nn.Parameter(torch.stack([s[name] for s in states])))
        self.n_models, self.n_outputs, self.hidden = self.A.shape
        self.dim = self.U.shape[2]

    def forward(self, noise: torch.Tensor, uniforms: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
        """One-hot samples (M, B, T, K) from noise (M, B, T, d) and uniforms (M, B, T, K)."""
        return gumbel_straight_through(recurrent_logits(noise, self.W, self.U, self.A), uniforms, tau)

    def weights(self, k: int) -> dict:
        """Model k's state dict, as ``NoiseRNN.state_dict()`` holds it (a CPU copy)."""
        return {name: getattr(self, name)[k].detach().cpu().clone() for name in PARAMS}


def init_state(key: ModelKey, n_outputs: int) -> dict:
    """A model's initial weights: those ``train`` starts from (its ``init`` stream)."""
    return _state_dict_copy(NoiseRNN(key.hidden, key.dim, n_outputs, generator=key.torch_gen("init")))


def _split_optimizer(optimizer: torch.optim.Adam, k: int) -> dict:
    """Model k's Adam state dict, in the layout of a one-model ``train`` (so either can resume it)."""
    sd = optimizer.state_dict()
    state = {i: {name: (v.clone() if name == "step" else v[k].clone()) for name, v in s.items()}
             for i, s in sd["state"].items()}
    return {"state": state, "param_groups": sd["param_groups"]}


def _stack_optimizer(optimizer: torch.optim.Adam, states: list[dict]) -> None:
    """Load the per-model Adam states (all at the same step) into the stack's optimizer."""
    first = states[0]
    stacked = {i: {name: (v if name == "step" else torch.stack([s["state"][i][name] for s in states]))
                   for name, v in first["state"][i].items()} for i in first["state"]}
    optimizer.load_state_dict({"state": stacked, "param_groups": first["param_groups"]})


def _clip_per_model(stack: ModelStack, max_norm: float) -> torch.Tensor:
    """clip_grad_norm_ of each model's own (W, U, A) gradients; returns the M pre-clip norms."""
    grads = [getattr(stack, name).grad for name in PARAMS]
    norms = torch.stack([torch.nn.utils.get_total_norm([g[k] for g in grads]) for k in range(stack.n_models)])
    coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)  # clip_grad_norm_'s coefficient, per model
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return norms


def _draw_stack(keys: list[ModelKey], stream: str, epoch: int, batch: int, shape: tuple[int, int, int], dim: int,
                sigma: float, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Each model's noise and uniforms of one batch, from its own streams (``train.draw_inputs``)."""
    b, t_len, n_out = shape
    noise = torch.empty(len(keys), b, t_len, dim, device=device)
    uniforms = torch.empty(len(keys), b, t_len, n_out, device=device)
    for k, key in enumerate(keys):
        x, u = draw_inputs(key, stream, epoch, batch, shape, dim, sigma, device)
        noise[k].copy_(x)
        uniforms[k].copy_(u)
    return noise, uniforms


def run_epoch_stack(stack: ModelStack, targets: torch.Tensor, keys: list[ModelKey], cfg: TrainConfig, epoch: int,
                    stream: str, optimizer: torch.optim.Adam | None, device: torch.device
                    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """``train.run_epoch`` for every model of the stack: (mean batch loss per model, mean pre-clip
    gradient norm per model or NaN, {model index: why it diverged})."""
    n, width = targets.shape
    m = stack.n_models
    t_len = width // stack.n_outputs
    loss_fn = _loss_fn(cfg)
    losses, norms = np.zeros((m, 0)), np.zeros((m, 0))
    failed: dict[int, str] = {}
    for b, sl in enumerate(batch_slices(n, cfg.batch_size)):
        noise, uniforms = _draw_stack(keys, stream, epoch, b, (sl.stop - sl.start, t_len, stack.n_outputs),
                                      stack.dim, cfg.sigma, device)
        target = targets[sl].to(device)
        with torch.set_grad_enabled(optimizer is not None):
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
            y = stack(noise, uniforms, cfg.tau).reshape(m, noise.shape[1], -1)
            finite = torch.isfinite(y.detach()).flatten(1).all(1).tolist()
            batch_losses = []
            for k in range(m):
                if k in failed:
                    batch_losses.append(None)
                elif not finite[k]:
                    failed[k] = f"{keys[k].id}: the network's output became non-finite (NaN/Inf) at epoch {epoch}"
                    batch_losses.append(None)
                else:
                    batch_losses.append(loss_fn(y[k], target))
                    if not torch.isfinite(batch_losses[k]):
                        failed[k] = (f"{keys[k].id}: non-finite {'training' if optimizer else 'validation'} loss "
                                     f"({batch_losses[k].item()}) at epoch {epoch}, batch {b}")
        row = [math.nan if (ell is None or k in failed) else float(ell.detach()) for k, ell in enumerate(batch_losses)]
        if optimizer is not None:
            live = [ell for k, ell in enumerate(batch_losses) if k not in failed]
            if live:
                torch.stack(live).sum().backward()  # the sum only joins the passes: d(sum)/d loss_k = 1
            for name in PARAMS:  # no live model this batch: no gradient, and none is applied
                p = getattr(stack, name)
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            norm = _clip_per_model(stack, cfg.clip)
            for k in range(m):
                if k not in failed and not torch.isfinite(norm[k]):
                    failed[k] = f"{keys[k].id}: non-finite gradient norm at epoch {epoch}, batch {b}"
            norms = np.column_stack([norms, [math.nan if k in failed else float(norm[k]) for k in range(m)]])
            optimizer.step()
        losses = np.column_stack([losses, row])
    mean_norm = norms.mean(1) if norms.shape[1] else np.full(m, math.nan)
    return losses.mean(1), mean_norm, failed


def _restack(states: list[dict], opt_states: list[dict] | None, cfg: TrainConfig, device: torch.device
             ) -> tuple[ModelStack, torch.optim.Adam]:
    stack = ModelStack(states).to(device)
    optimizer = make_optimizer(stack.parameters(), cfg)
    if opt_states is not None:
        _stack_optimizer(optimizer, opt_states)
    return stack, optimizer


def train_batch(keys: list[ModelKey], cfg: TrainConfig, train_targets: np.ndarray, val_targets: np.ndarray,
                out_dirs: list[str | Path], n_outputs: int, config_slices: list[dict | None] | None = None) -> list[dict]:
    """Train ``keys`` (same hidden size and input dim) in one stack; write each model's files in its
    out_dir exactly as ``train`` does (model.pt, history.csv, meta.json, checkpoints/) and return
    their summaries.  Resumes when every model has a resume state of the same epoch; otherwise all
    start afresh.  Raises :class:`BatchDiverged` after writing the others if some model diverged."""
    if not keys:
        raise ValueError("train_batch needs at least one model")
    if len(out_dirs) != len(keys) or len({Path(d).resolve() for d in out_dirs}) != len(keys):
        raise ValueError(f"train_batch needs one distinct out_dir per model, got {len(out_dirs)} for {len(keys)}")
    shapes = {(k.hidden, k.dim) for k in keys}
    if len(shapes) != 1:
        raise ValueError(f"train_batch stacks models of one hidden size and input dim, got {sorted(shapes)}")
    if len({k.id for k in keys}) != len(keys):
        raise ValueError("train_batch got the same model twice")
    config_slices = list(config_slices) if config_slices is not None else [None] * len(keys)
    started = time.time()
    device = prepare_device(cfg)
    y_train = one_hot_flat(train_targets, n_outputs)
    y_val = one_hot_flat(val_targets, n_outputs)

    def fresh_runs() -> list[TrainingRun]:
        return [TrainingRun(key, cfg, d, init_state(key, n_outputs)) for key, d in zip(keys, out_dirs, strict=True)]

    runs = fresh_runs()
    saved = [run.resume() for run in runs]
    if all(s is not None for s in saved) and len({int(s["epoch"]) for s in saved}) == 1:
        stack, optimizer = _restack([s["model"] for s in saved], [s["optimizer"] for s in saved], cfg, device)
    else:
        if any(s is not None for s in saved):
            log.warning("resume states of %s are not all at one epoch; every model of the batch starts afresh",
                        ", ".join(k.id for k in keys))
            runs = fresh_runs()  # the resumed ones hold their state's history and best weights
            for run in runs:
                run.state_file.unlink(missing_ok=True)
                run.resume()
        stack, optimizer = _restack([run.best_state for run in runs], None, cfg, device)
    live = list(range(len(keys)))  # indices into keys/runs of the models still in the stack
    errors: dict[str, str] = {}
    start = runs[0].start_epoch
    log.info("batch of %d (%s): training on %s, %d epochs, %d train / %d val sequences, batch %d, backend %s",
             len(keys), ", ".join(k.id for k in keys), device, cfg.epochs, len(y_train), len(y_val),
             cfg.batch_size, cfg.sinkhorn_backend)
    t_loop = time.time()
    for epoch in range(start, cfg.epochs + 1):
        t0 = time.time()
        live_keys = [keys[i] for i in live]
        stack.train()
        train_loss, grad_norm, failed = run_epoch_stack(stack, y_train, live_keys, cfg, epoch, "train", optimizer, device)
        for j in range(len(live)):
            for name in PARAMS:
                if j not in failed and not torch.isfinite(getattr(stack, name)[j]).all():
                    failed[j] = f"{live_keys[j].id}: weight {name} became non-finite at epoch {epoch}"
        stack.eval()
        val_loss, _, val_failed = run_epoch_stack(stack, y_val, live_keys, cfg, epoch, "val", None, device)
        for j, msg in val_failed.items():
            failed.setdefault(j, msg)
        select = val_loss
        if cfg.select_passes:
            passes = [run_epoch_stack(stack, y_val, live_keys, cfg, p, "select", None, device)
                      for p in range(cfg.select_passes)]
            select = np.mean([p[0] for p in passes], axis=0)
        seconds = time.time() - t0
        for j, i in enumerate(live):
            if j in failed:
                errors[keys[i].id] = diverged_message(TrainingDiverged(failed[j]), epoch, runs[i].state_file)
                log.error("%s", errors[keys[i].id])
                continue
            runs[i].record(epoch, float(train_loss[j]), float(val_loss[j]), float(select[j]), float(grad_norm[j]),
                           stack.weights(j), lambda j=j, opt=optimizer: _split_optimizer(opt, j), seconds)
            runs[i].log_epoch(epoch, t_loop, seconds)
        if failed:
            keep = [j for j in range(len(live)) if j not in failed]
            live = [live[j] for j in keep]
            if not live:
                break
            stack, optimizer = _restack([stack.weights(j) for j in keep],
                                        [_split_optimizer(optimizer, j) for j in keep], cfg, device)
    summaries = []
    for j, i in enumerate(live):
        summaries.append(runs[i].finish(stack.weights(j), device, config_slices[i], started))
    if errors:
        raise BatchDiverged(errors)
    return summaries
