"""The training loss: the debiased Sinkhorn divergence between two clouds of flattened sequences
(docs/method.md §1.3), cost c(x, y) = ½‖x − y‖², uniform weights, ε-scaling.

Backends
--------
``geomloss``
    The reference implementation: ``SamplesLoss("sinkhorn", p=2, debias=True, backend="tensorized")``.
``fast``
    An exact re-implementation of the same computation (same ε-schedule, same symmetric
    averaged updates, same debiasing, same final extrapolation with detached potentials, each
    softmin a max-shifted log-sum-exp as in ``torch.logsumexp``), made fast by

    - cost matrices as one ``addmm`` into reused buffers (a fresh 4096 × 4096 matrix page-faults
      on first touch, which costs as much as the matmul);
    - processing each softmin in row blocks that stay in the CPU cache, in reused buffers, with
      ``h − C/ε`` in one pass and the sum of exponentials taken from torch's fused row-wise
      ``log_softmax`` / ``softmax`` kernels (its row maximum is exactly −log Σ exp(v − max));
    - clamping exponents more than ``_EXP_FLOOR`` below a row's maximum before ``exp``: torch's
      vectorised ``exp`` is an order of magnitude slower on its underflow path, and the change to
      each row sum is below 1e-20 relative (invisible in float32);
    - an analytic backward pass (envelope theorem: the gradient flows only through the cost
      matrices, as in geomloss), so no autograd graph over B × B matrices is built;
    - optionally, caching the target–target term, which does not depend on the model
      (:class:`SinkhornLoss`).

    Rounding differs from geomloss only in the last bits (C·(1/ε) for C/ε, another summation
    order); ``tests/test_sinkhorn_fast.py`` checks loss (≤ 1e-6) and gradients (≤ 1e-4) against
    geomloss.
``compiled``
    ``fast`` with the annealing softmins fused into one kernel by ``torch.compile`` (a 4096 × 4096
    softmin in 6 ms against 13–18 ms for ``fast`` on a 2-core CPU, 2 threads; the training epoch
    1.3–1.5× faster, README "Performance").  The first call compiles (about a minute on 2 cores, reported in
    :data:`COMPILE_INFO`); where compilation is unavailable it logs one line and falls back to
    ``fast`` (same results).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch

BACKENDS = ("geomloss", "fast", "compiled")

# exponents this far below the row maximum are clamped before exp (exp(-60) ≈ 8.8e-27)
_EXP_FLOOR = -60.0
# bytes of one row block of the softmin buffers: 2 MiB measured best on a 2-core EPYC (2 MiB L2 per
# core); smaller blocks pay per-operation overhead, larger ones spill to L3
_BLOCK_BYTES = 1 << 21

log = logging.getLogger("rnnhmm.sinkhorn")


def sinkhorn_divergence(
    x: torch.Tensor, y: torch.Tensor, blur: float = 0.2, scaling: float = 0.5, backend: str = "geomloss"
) -> torch.Tensor:
    """S_ε(x, y) for point clouds x (N, D) and y (M, D); differentiable in x (and y)."""
    _check_args(x, y, blur, scaling)
    if _one_point(x, y):
        return _zero_loss(x, y)
    if backend == "geomloss":
        return _geomloss(blur, scaling)(x, y)
    if backend in ("fast", "compiled"):
        return _FastSinkhorn.apply(x, y, blur, scaling, None, backend == "compiled")
    raise ValueError(f"unknown Sinkhorn backend '{backend}', allowed: {', '.join(BACKENDS)}")


class SinkhornLoss:
    """``sinkhorn_divergence`` with a small cache of target–target terms.

    The term ½OT_ε(β, β) depends only on the target batch (and on the ε-schedule, which depends
    on the diameter of both clouds); for a fixed target batch it is computed once.  Targets are
    recognised by value (``torch.equal``), so a stale cache entry can never be used.
    """

    def __init__(self, blur: float = 0.2, scaling: float = 0.5, backend: str = "fast", cache_size: int = 8):
        if backend not in BACKENDS:
            raise ValueError(f"unknown Sinkhorn backend '{backend}', allowed: {', '.join(BACKENDS)}")
        self.blur, self.scaling, self.backend = blur, scaling, backend
        self._cache = _TargetCache(cache_size)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_args(x, y, self.blur, self.scaling)
        if _one_point(x, y):
            return _zero_loss(x, y)
        if self.backend == "geomloss":
            return _geomloss(self.blur, self.scaling)(x, y)
        return _FastSinkhorn.apply(x, y, self.blur, self.scaling, self._cache, self.backend == "compiled")


def _check_args(x: torch.Tensor, y: torch.Tensor, blur: float, scaling: float) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"sinkhorn_divergence needs clouds (N, D) and (M, D), got {tuple(x.shape)} and {tuple(y.shape)}")
    if blur <= 0 or not 0 < scaling < 1:
        raise ValueError(f"sinkhorn_divergence needs blur > 0 and 0 < scaling < 1, got blur={blur}, scaling={scaling}")


def _one_point(x: torch.Tensor, y: torch.Tensor) -> bool:
    """Both clouds are one and the same point (diameter 0: e.g. an emitter and a batch of targets
    that repeat one sequence).  The ε-schedule starts at log Δ, so neither geomloss nor the fast
    backend can run; the divergence is exactly 0 there, and so is its gradient (its minimum)."""
    return _diameter(x.detach(), y.detach()) == 0.0


def _zero_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """0, connected to both clouds, so that backward gives zero gradients instead of none."""
    return (x * 0).sum() + (y * 0).sum()


_GEOMLOSS_CACHE: dict = {}


def _geomloss(blur: float, scaling: float):
    key = (blur, scaling)
    if key not in _GEOMLOSS_CACHE:
        from geomloss import SamplesLoss

        _GEOMLOSS_CACHE[key] = SamplesLoss(
            "sinkhorn", p=2, blur=blur, scaling=scaling, debias=True, backend="tensorized"
        )
    return _GEOMLOSS_CACHE[key]


# ---------------------------------------------------------------------------------------------
# the fast exact backend


def epsilon_schedule(diameter: float, blur: float, scaling: float) -> list[float]:
    """geomloss's ε-list for p = 2: [Δ²] + exp(arange(2 ln Δ, 2 ln blur, 2 ln scaling)) + [blur²]."""
    p = 2
    return ([diameter**p] + [np.exp(e) for e in np.arange(p * np.log(diameter), p * np.log(blur), p * np.log(scaling))]
            + [blur**p])


def _diameter(x: torch.Tensor, y: torch.Tensor) -> float:
    mins = torch.stack((x.min(dim=0)[0], y.min(dim=0)[0])).min(dim=0)[0]
    maxs = torch.stack((x.max(dim=0)[0], y.max(dim=0)[0])).max(dim=0)[0]
    return (maxs - mins).norm().item()


def _cost(x: torch.Tensor, y: torch.Tensor, slot: str) -> torch.Tensor:
    """½‖x_i − y_j‖² = ½‖x_i‖² + ½‖y_j‖² − x_i·y_j (geomloss's expansion): the broadcast sum of the
    squared norms, then one in-place matmul update, in a reused buffer (a fresh B × B matrix
    would page-fault on first touch, which costs as much as the matmul)."""
    c = _WORK.get(slot, x.shape[0], y.shape[0], x)
    torch.add((x * x).sum(-1).mul_(0.5).unsqueeze(1), (y * y).sum(-1).mul_(0.5).unsqueeze(0), out=c)
    return c.addmm_(x, y.T, alpha=-1.0)


def _log_weights(n: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.ones(n, dtype=like.dtype, device=like.device) / n
    return a, a.log()


class _Workspace:
    """Reused row-block buffers for the softmins, one per worker thread."""

    def __init__(self) -> None:
        self.bufs: dict[int | str, torch.Tensor] = {}

    def get(self, slot: int | str, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        need = rows * cols
        buf = self.bufs.get(slot)
        if buf is None or buf.numel() < need or buf.dtype != like.dtype or buf.device != like.device:
            buf = self.bufs[slot] = torch.empty(need, dtype=like.dtype, device=like.device)
        return buf[:need].view(rows, cols)


_WORK = _Workspace()


class _RowPool:
    """Worker threads that each take every k-th row block, with one intra-op thread each.

    Many small operations on cache-sized blocks would each open an OpenMP parallel region; on a
    busy machine the barriers of those regions dominate.  Instead, ``torch.get_num_threads()``
    Python threads run the (GIL-releasing) block operations single-threaded, side by side."""

    def __init__(self) -> None:
        self.pool = None
        self.size = 0

    def workers(self) -> int:
        n = torch.get_num_threads()
        if n <= 1:
            return 1
        if self.pool is None or self.size != n:
            import threading
            from concurrent.futures import ThreadPoolExecutor

            if self.pool is not None:
                self.pool.shutdown(wait=True)
            barrier = threading.Barrier(n)
            self.pool = ThreadPoolExecutor(n, thread_name_prefix="rnnhmm-sinkhorn",
                                           initializer=torch.set_num_threads, initargs=(1,))
            list(self.pool.map(lambda _: barrier.wait(), range(n)))  # start all n threads now
            torch.set_num_threads(n)  # the initializers also set torch's default for new threads
            self.size = n
        return n

    def run(self, fn, n_parts: int) -> None:
        if n_parts == 1:
            fn(0, 1)
        else:
            list(self.pool.map(fn, range(n_parts), [n_parts] * n_parts))


_POOL = _RowPool()


def _block_rows(n_rows: int, n_cols: int, like: torch.Tensor) -> int:
    if like.device.type != "cpu":
        return n_rows  # on a GPU one kernel per operation over the whole matrix is best
    return max(1, min(n_rows, _BLOCK_BYTES // (like.element_size() * max(n_cols, 1))))


def _softmin(eps: float, c: torch.Tensor, h: torch.Tensor, out: torch.Tensor,
             grad_with: torch.Tensor | None = None, grad_out: torch.Tensor | None = None,
             compiled: bool = False) -> torch.Tensor:
    """out_i = −ε · logsumexp_j(h_j − C_ij / ε) = −ε (max_i + log Σ_j exp(v_ij − max_i)), v = h − C/ε,
    in cache-sized row blocks.

    With ``grad_with`` (M, D), also writes grad_out_i = Σ_j P_ij · grad_with_j where P is the
    row-softmax of (h − C/ε): the derivative of out_i with respect to C_i·, contracted."""
    if compiled and grad_with is None:
        fn = _compiled_softmin()
        if fn is not None:
            # ε and 1/ε go in as 0-d tensors, not floats: a float argument is specialised, so every
            # new ε (the schedule follows each batch's diameter) would compile again
            out.copy_(fn(c, h, torch.tensor(1.0 / eps, dtype=c.dtype, device=c.device),
                         torch.tensor(eps, dtype=c.dtype, device=c.device)))
            return out
    n, m = c.shape
    rows = _block_rows(n, m, c)
    h_row = h.view(1, m)
    n_blocks = -(-n // rows)
    inv_eps = 1.0 / eps
    parts = 1 if c.device.type != "cpu" or n_blocks == 1 else min(_POOL.workers(), n_blocks)

    def part(k: int, n_parts: int) -> None:
        buf_all = _WORK.get(k, rows, m, c)
        res_all = _WORK.get(-1 - k, rows, m, c)
        for r0 in range(k * rows, n, n_parts * rows):
            r1 = min(n, r0 + rows)
            buf, res = buf_all[: r1 - r0], res_all[: r1 - r0]
            torch.sub(h_row, c[r0:r1], alpha=inv_eps, out=buf)  # v = h − C/ε in one pass
            mx = buf.amax(dim=1, keepdim=True)
            mx.masked_fill_(mx.abs() == math.inf, 0)
            torch.maximum(buf, mx + _EXP_FLOOR, out=buf)  # clamp far-below-max terms (exp fast path)
            # logsumexp_j v_ij = max_i + log S_i with S_i = Σ_j exp(v_ij − max_i): the row maximum of
            # log_softmax is −log S_i (at the arg max, where v − max = 0), that of softmax is 1/S_i
            if grad_with is None:
                torch.log_softmax(buf, 1, out=res)
                neg_log_s = res.amax(dim=1, keepdim=True)
            else:
                torch.softmax(buf, 1, out=res)
                neg_log_s = res.amax(dim=1, keepdim=True).log_()
                torch.matmul(res, grad_with, out=grad_out[r0:r1])
            out[r0:r1] = mx.sub_(neg_log_s).mul_(-eps).view(-1)

    _POOL.run(part, parts)
    return out


def _softmin_reference_form(c: torch.Tensor, h: torch.Tensor, inv_eps: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The same softmin as one expression, for torch.compile to fuse into a row-wise kernel.  It
    multiplies by 1/ε, as the eager path does: divided by a tensor ε, the fused kernel runs one
    vector division per element and takes twice as long (16 against 6 ms at 4096 × 4096, 2 threads)."""
    v = h.view(1, -1) - c * inv_eps
    mx = v.amax(dim=1, keepdim=True)
    mx = mx.masked_fill(mx.abs() == math.inf, 0)
    e = (v - mx).clamp_min(_EXP_FLOOR).exp()
    return (e.sum(dim=1).log() + mx.squeeze(1)) * (-eps)


COMPILE_INFO: dict = {"status": "not tried", "compile_s": None, "error": None}
_COMPILED: dict = {}


def _compiled_softmin():
    """The torch.compile'd softmin, compiled on first use; None (after one log line) where unavailable."""
    if COMPILE_INFO["status"] == "failed":
        return None
    if "fn" not in _COMPILED:
        t0 = time.perf_counter()
        try:
            fn = torch.compile(_softmin_reference_form, dynamic=True)
            c = torch.zeros(8, 8)
            fn(c, torch.zeros(8), torch.tensor(1.0), torch.tensor(1.0))  # compile now, so failures surface here
        except Exception as exc:  # noqa: BLE001 - any compiler failure means: use the eager path
            COMPILE_INFO.update(status="failed", error=f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            log.warning("torch.compile unavailable (%s); the 'compiled' Sinkhorn backend falls back to 'fast'",
                        COMPILE_INFO["error"])
            return None
        COMPILE_INFO.update(status="compiled", compile_s=time.perf_counter() - t0)
        log.info("compiled the Sinkhorn softmin in %.1f s", COMPILE_INFO["compile_s"])
        _COMPILED["fn"] = fn
    return _COMPILED["fn"]


def _symmetric_problem(c: torch.Tensor, a_log: torch.Tensor, eps_list: list[float],
                       pts: torch.Tensor | None, compiled: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The debiasing problem OT_ε(α, α) on one cloud: the final potential, and Q @ pts if asked."""
    n = c.shape[0]
    f = _softmin(eps_list[0], c, a_log, torch.empty(n, dtype=c.dtype, device=c.device), compiled=compiled)
    ft = torch.empty_like(f)
    for eps in eps_list:
        _softmin(eps, c, a_log + f / eps, ft, compiled=compiled)
        f = 0.5 * (f + ft)
    eps = eps_list[-1]
    grad = None if pts is None else torch.empty_like(pts)
    out = _softmin(eps, c, a_log + f / eps, torch.empty_like(f), pts, grad, compiled=compiled)
    return out, grad


class _TargetCache:
    """Final target–target potentials g_bb, keyed by the target values and the ε-schedule."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: list[tuple[torch.Tensor, tuple, torch.Tensor]] = []

    def get(self, y: torch.Tensor, eps_key: tuple) -> torch.Tensor | None:
        for yy, key, g in self.entries:
            if key == eps_key and yy.shape == y.shape and yy.device == y.device and torch.equal(yy, y):
                return g
        return None

    def put(self, y: torch.Tensor, eps_key: tuple, g: torch.Tensor) -> None:
        self.entries.insert(0, (y.detach().clone(), eps_key, g))
        del self.entries[self.size:]


class _FastSinkhorn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, blur, scaling, cache, compiled):  # noqa: D102
        xd, yd = x.detach(), y.detach()
        n, m = xd.shape[0], yd.shape[0]
        want_x, want_y = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        eps_list = epsilon_schedule(_diameter(xd, yd), blur, scaling)
        a, a_log = _log_weights(n, xd)
        b, b_log = _log_weights(m, yd)

        # the cross problem OT_ε(α, β): f_ba on x, g_ab on y
        c_xy = _cost(xd, yd, "c_xy")
        # the same costs laid out for the softmins on y's side: a transposing copy is cheaper than
        # a second matmul (geomloss computes both; they differ in the last bit at most)
        c_yx = _WORK.get("c_yx", m, n, xd).copy_(c_xy.T)
        eps = eps_list[0]
        g_ab = _softmin(eps, c_yx, a_log, torch.empty(m, dtype=xd.dtype, device=xd.device), compiled=compiled)
        f_ba = _softmin(eps, c_xy, b_log, torch.empty(n, dtype=xd.dtype, device=xd.device), compiled=compiled)
        ft_ba, gt_ab = torch.empty_like(f_ba), torch.empty_like(g_ab)
        for eps in eps_list:
            _softmin(eps, c_xy, b_log + g_ab / eps, ft_ba, compiled=compiled)
            _softmin(eps, c_yx, a_log + f_ba / eps, gt_ab, compiled=compiled)
            f_ba, g_ab = 0.5 * (f_ba + ft_ba), 0.5 * (g_ab + gt_ab)
        eps = eps_list[-1]
        py = torch.empty_like(xd) if want_x else None
        px = torch.empty_like(yd) if want_y else None
        f_fin = _softmin(eps, c_xy, b_log + g_ab / eps, torch.empty_like(f_ba), yd if want_x else None, py, compiled)
        g_fin = _softmin(eps, c_yx, a_log + f_ba / eps, torch.empty_like(g_ab), xd if want_y else None, px, compiled)
        del c_xy, c_yx  # the buffers stay in _WORK; C_xx and C_yy overwrite the "c_xy" one

        # the debiasing problems OT_ε(α, α) and OT_ε(β, β)
        c_xx = _cost(xd, xd, "c_xy")
        f_aa, qx = _symmetric_problem(c_xx, a_log, eps_list, xd if want_x else None, compiled)
        eps_key = (blur, scaling, tuple(float(e) for e in eps_list))
        g_bb = None if (cache is None or want_y) else cache.get(yd, eps_key)
        qy = None
        if g_bb is None:
            c_yy = _cost(yd, yd, "c_xy")
            g_bb, qy = _symmetric_problem(c_yy, b_log, eps_list, yd if want_y else None, compiled)
            if cache is not None and not want_y:
                cache.put(yd, eps_key, g_bb)

        loss = (a * (f_fin - f_aa)).sum() + (b * (g_fin - g_bb)).sum()
        # d loss / d x_i = a_i (Σ_k Q_ik x_k − Σ_j P_ij y_j): the x_i terms cancel (rows of P, Q sum to 1)
        ctx.grad_x = a.unsqueeze(1) * (qx - py) if want_x else None
        ctx.grad_y = b.unsqueeze(1) * (qy - px) if want_y else None
        return loss

    @staticmethod
    def backward(ctx, grad_loss):  # noqa: D102
        gx = None if ctx.grad_x is None else ctx.grad_x * grad_loss
        gy = None if ctx.grad_y is None else ctx.grad_y * grad_loss
        ctx.grad_x = ctx.grad_y = None
        return gx, gy, None, None, None, None
