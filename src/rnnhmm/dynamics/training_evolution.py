"""Training evolution: bifurcation and stochastic resonance during training (docs/method.md §4.4, §6 D12).

Every analysed epoch's checkpoint is driven by the *same* warm-up and noise blocks (common random
numbers), each from h_0 = 0, and yields one row of ``evo_stats.csv``:

(a) TR and p_sw of the dominant output over the noise block (non-finite rows counted and dropped);
(b) eigenvalue indicators of the step Jacobians J_t = diag(1[a_{t+1} > 0]) W for t >= 10: the time
    fractions with any unstable (|λ| > 1) / any critical eigenvalue (ε_im = 0.05) and the mean counts,
    plus the same for the noise-free patterns 1[W h_t > 0] (columns ``*_nf``);
(c) the authors' second-order heuristic √|E[δh⁽²⁾]| per unit over 20 trials (``evo_dh2.parquet``);
(d) the train / validation losses from history.csv.

The bifurcation epoch e_b is the first analysed epoch whose critical fraction differs from the
previous analysed epoch's by more than 0.02 (a manual override is logged); the converged TR is the
mean over the last 6 analysed epochs.  The PCA evolution is the per-epoch PCA(2) of the noise block
at the display epochs {1, ⌈e_b/4⌉, ⌈e_b/2⌉, e_b, ⌈(e_b+E)/2⌉, E} (nearest checkpointed epochs).
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import load_model, read_table
from .pca import fit_pca
from .registry import Analysis, AnalysisContext
from .simulate import Network
from .spectra import count_spectra
from .switching import switch_stats

log = logging.getLogger("rnnhmm")

DEFAULTS = {
    "warmup": 100,  # shared warm-up block (discarded)
    "steps": 5000,  # shared noise block
    "sigma": 1.0,
    "epoch_step": 10,  # analysed epochs 1, 1 + step, 1 + 2 step, ... <= E_max
    "e_max": 500,
    "e_max_short": 250,
    "short_hmms": ["chain2", "chain3", "chain4"],  # the HMMs analysed up to e_max_short
    "full": False,  # analyse every checkpointed epoch (no step, no E_max)
    "jac_start": 10,  # Jacobians J_t for t >= jac_start
    "jac_stride": 1,  # every jac_stride-th Jacobian (1 = all, the paper's setting)
    "eps_im": 0.05,
    "noise_free_variant": True,  # also the indicators of the noise-free patterns 1[W h_t > 0]
    "dh2_trials": 20,
    "dh2_prelude": 9,  # noisy steps from the jittered post-warm-up state to h̄_0
    "dh2_steps": 10,  # k = 0 .. dh2_steps - 1
    "dh2_jitter": 0.05,
    "bif_threshold": 0.02,
    "bif_override": 0,  # > 0: use this epoch as e_b (logged; the rule's answer is kept in the summary)
    "converged_last": 6,
    "pca_clip": 15.0,
    "pca_points": 700,
}

DISPLAY_ROLES = ("first", "eb/4", "eb/2", "eb", "(eb+E)/2", "E")
INDICATORS = ("frac_unstable", "frac_critical", "mean_n_unstable", "mean_n_critical")


# ---------------------------------------------------------------------- epochs
def checkpoint_files(model_dir: str | Path) -> dict[int, Path]:
    """The per-epoch checkpoints ``checkpoints/epoch{e}.pt`` of a model folder, by epoch."""
    found = {}
    for p in Path(model_dir, "checkpoints").glob("epoch*.pt"):
        m = re.fullmatch(r"epoch(\d+)\.pt", p.name)
        if m:
            found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def epoch_limit(hmm: str, params: dict) -> int:
    """E_max: 250 for chain2–4, 500 otherwise (the authors' choice)."""
    return int(params["e_max_short"] if hmm in params["short_hmms"] else params["e_max"])


def analysed_epochs(available: list[int], hmm: str, params: dict) -> tuple[list[int], int]:
    """The analysed epochs (1, 1 + step, ... <= E_max, those checkpointed) and the last epoch E considered."""
    available = sorted(available)
    if not available:
        return [], 0
    if params["full"]:
        return available, available[-1]
    e_max = epoch_limit(hmm, params)
    have = set(available)
    epochs = [e for e in range(1, e_max + 1, int(params["epoch_step"])) if e in have]
    last = max([e for e in available if e <= e_max], default=available[0])
    return epochs, last


def nearest(epoch: float, available: list[int]) -> int:
    """The available epoch closest to ``epoch`` (ties go to the earlier one)."""
    arr = np.asarray(sorted(available))
    return int(arr[np.argmin(np.abs(arr - epoch))])


def bifurcation_epoch(epochs, frac_critical, threshold: float = 0.02) -> int | None:
    """First analysed e_i (i >= 1) with |c(e_i) - c(e_{i-1})| > threshold; None if there is none.

    Epochs whose fraction is NaN (no finite rows) never trigger the rule."""
    c = np.asarray(frac_critical, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        jump = np.abs(np.diff(c)) > threshold
    hit = np.flatnonzero(jump)
    return int(np.asarray(epochs)[hit[0] + 1]) if len(hit) else None


def display_epochs(e_b: int | None, e_last: int, available: list[int]) -> list[tuple[str, int]]:
    """(role, epoch) for the PCA evolution: {1, ⌈e_b/4⌉, ⌈e_b/2⌉, e_b, ⌈(e_b+E)/2⌉, E} mapped to the nearest
    checkpointed epochs <= E; without e_b, five evenly spaced epochs (roles 'even').  Duplicates merge."""
    pool = [e for e in available if e <= e_last] or list(available)
    if e_b is not None:
        targets = list(zip(DISPLAY_ROLES, (1, math.ceil(e_b / 4), math.ceil(e_b / 2), e_b,
                                           math.ceil((e_b + e_last) / 2), e_last), strict=True))
    else:
        targets = [("even", 1 + round(f * (e_last - 1))) for f in (0, 0.25, 0.5, 0.75, 1.0)]
    out: dict[int, list[str]] = {}
    for role, t in targets:
        out.setdefault(nearest(t, pool), []).append(role)
    return [(",".join(dict.fromkeys(roles)), e) for e, roles in sorted(out.items())]


# ---------------------------------------------------------------------- per-epoch measures
def epoch_run(net: Network, x_warm: np.ndarray, x_block: np.ndarray):
    """From h_0 = 0: warm-up block then noise block (inputs (steps, d)).  Returns the block's states and
    pre-activations (steps, H) and the post-warm-up state (H,)."""
    with np.errstate(over="ignore", invalid="ignore"):
        warm = net.run(np.zeros(net.hidden), x_warm[:, None, :])
        h_post = warm[-1, 0] if len(warm) else np.zeros(net.hidden)
        states, pre = net.run(h_post, x_block[:, None, :], record_preact=True)
    return states[:, 0], pre[:, 0], h_post


def switch_row(net: Network, states: np.ndarray) -> dict:
    """TR, p_sw and switch count of the dominant output over the finite rows of ``states`` (steps, H)."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = net.logits(states)
    finite = np.isfinite(states).all(axis=1) & np.isfinite(z).all(axis=1)
    st = switch_stats(np.argmax(z[finite], axis=1))
    return {"tr": st.tr, "p_sw": st.p_sw if st.n_steps > 1 else float("nan"), "n_switches": st.n_switches,
            "n_nonfinite": int((~finite).sum())}


def eigen_indicators(W: np.ndarray, masks: np.ndarray, eps_im: float, suffix: str = "") -> dict:
    """Time fractions with any unstable / any critical eigenvalue and the mean counts over ``masks``."""
    if len(masks) == 0:
        return {k + suffix: float("nan") for k in INDICATORS}
    c = count_spectra(W, masks, eps_im=eps_im)
    return {"frac_unstable" + suffix: float((c.n_unstable > 0).mean()),
            "frac_critical" + suffix: float((c.n_critical > 0).mean()),
            "mean_n_unstable" + suffix: float(c.n_unstable.mean()),
            "mean_n_critical" + suffix: float(c.n_critical.mean())}


def jacobian_masks(net: Network, states: np.ndarray, pre: np.ndarray, start: int, stride: int):
    """Masks of J_t for t = start .. steps-1 (every ``stride``-th): the applied-input patterns 1[a_{t+1} > 0]
    (block row t) and the noise-free patterns 1[W h_t > 0] (block row t-1); non-finite rows dropped."""
    t = np.arange(max(start, 1), len(states), max(stride, 1))
    a_next, h_t = pre[t], states[t - 1]
    ok_noisy = np.isfinite(a_next).all(axis=1)
    ok_free = np.isfinite(h_t).all(axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        free = (h_t[ok_free] @ net.W.T) > 0
    return a_next[ok_noisy] > 0, free


def dh2_recursion(net: Network, hbar0: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """The authors' second-order term δ⁽²⁾ per trial (docs/method.md §4.4 (c) steps 2–4).

    hbar0 (n, H) starts the noise-free path h̄_k = F0(h̄_{k-1}), D_k = diag(1[h̄_k > 0]); omega (K, n, d).
    δ¹_0 = U ω_0, δ¹_k = W D_{k-1} δ¹_{k-1} + U ω_k; δ² = 0, then for u = 0..K-1:
    δ² <- W D_u δ² + ½ W (δ¹_u ⊙ δ¹_u ⊙ 1[h̄_u > 0]).  Returns δ² (n, H)."""
    hbar = np.asarray(hbar0, dtype=np.float64)
    d1 = omega[0] @ net.U.T
    d2 = np.zeros_like(hbar)
    with np.errstate(over="ignore", invalid="ignore"):
        for u in range(len(omega)):
            mask = hbar > 0
            d2 = (mask * (d2 + 0.5 * d1 * d1)) @ net.W.T
            if u + 1 < len(omega):
                d1 = (mask * d1) @ net.W.T + omega[u + 1] @ net.U.T
                hbar = np.maximum(hbar @ net.W.T, 0.0)
    return d2


def dh2_heuristic(net: Network, h_post: np.ndarray, eta: np.ndarray, x_pre: np.ndarray, omega: np.ndarray,
                  jitter: float = 0.05) -> np.ndarray:
    """√|mean over trials of δ⁽²⁾| per unit.  Trials start at h_post + jitter·η (η (n, H) uniform in [-1, 1])
    and run the noisy prelude x_pre (steps, n, d) to h̄_0; omega (K, n, d) drives the recursion."""
    with np.errstate(over="ignore", invalid="ignore"):
        h = h_post[None, :] + jitter * eta
        for x in x_pre:
            h = net.step(h, x)
        d2 = dh2_recursion(net, h, omega)
        return np.sqrt(np.abs(d2.mean(axis=0)))


def pca_frame(states: np.ndarray, o: np.ndarray, clip: float, points: int) -> pd.DataFrame:
    """Per-epoch sign-fixed PCA(2) of the finite block states, clipped to ±clip, first ``points`` steps."""
    finite = np.isfinite(states).all(axis=1)
    idx = np.flatnonzero(finite)
    if len(idx) < 2:
        return pd.DataFrame({"t": pd.Series(dtype=int), "pc1": pd.Series(dtype=float),
                             "pc2": pd.Series(dtype=float), "o": pd.Series(dtype=int)})
    pca = fit_pca(states[idx], 2)
    pcs = np.zeros((len(idx), 2))
    proj = pca.transform(states[idx])
    pcs[:, :proj.shape[1]] = proj
    pcs = np.clip(pcs, -clip, clip)
    keep = idx[:points]
    return pd.DataFrame({"t": keep, "pc1": pcs[:len(keep), 0], "pc2": pcs[:len(keep), 1], "o": o[keep]})


# ---------------------------------------------------------------------- the analysis
def _shared_noise(ctx: AnalysisContext, dim: int, hidden: int):
    p = ctx.params
    rng = ctx.rng("noise")
    x_warm = p["sigma"] * rng.standard_normal((p["warmup"], dim))
    x_block = p["sigma"] * rng.standard_normal((p["steps"], dim))
    rng = ctx.rng("dh2")
    n = p["dh2_trials"]
    eta = rng.uniform(-1.0, 1.0, (n, hidden))
    x_pre = p["sigma"] * rng.standard_normal((p["dh2_prelude"], n, dim))
    omega = rng.standard_normal((p["dh2_steps"], n, dim))
    return x_warm, x_block, eta, x_pre, omega


def _network(path: Path) -> Network:
    return Network.from_model(load_model(path, "final"))


def workers() -> int:
    """Threads for the per-epoch work: the process' torch thread budget (``rnnhmm analyze --threads``, the
    rule's ``threads``), at most the CPUs this process may use.  numpy's eigen-solver releases the GIL, so
    epochs run in parallel threads; the results do not depend on the number of threads."""
    import torch

    return max(1, min(torch.get_num_threads(), len(os.sched_getaffinity(0))))


def analyse_epoch(net: Network, p: dict, x_warm, x_block, eta, x_pre, omega) -> tuple[dict, np.ndarray]:
    """One analysed epoch: (a) switches, (b) Jacobian indicators, (c) √|E[δh⁽²⁾]| per unit."""
    states, pre, h_post = epoch_run(net, x_warm, x_block)
    row = switch_row(net, states)
    noisy, free = jacobian_masks(net, states, pre, p["jac_start"], p["jac_stride"])
    row.update(eigen_indicators(net.W, noisy, p["eps_im"]))
    if p["noise_free_variant"]:
        row.update(eigen_indicators(net.W, free, p["eps_im"], "_nf"))
    row["n_jacobians"] = len(noisy)
    return row, dh2_heuristic(net, h_post, eta, x_pre, omega, p["dh2_jitter"])


def training_evolution(ctx: AnalysisContext) -> dict:
    p, spec = ctx.params, ctx.spec
    keys = {"hmm": spec.hmm, "H": spec.hidden, "d": spec.dim, "seed": spec.seed}
    files = checkpoint_files(ctx.model_dir)
    if not files:
        raise FileNotFoundError(f"{ctx.model_dir}/checkpoints: no per-epoch checkpoints; training_evolution needs an "
                                "evolution run (config presets.<p>.train.evolution and checkpoint_epochs)")
    available = list(files)
    epochs, e_last = analysed_epochs(available, spec.hmm, p)
    if not epochs:  # e.g. checkpoints that miss the 1, 1 + step, ... grid: use what there is
        epochs = [e for e in available if e <= e_last] or available[:1]
        log.warning("no checkpoint on the analysed grid; analysing the checkpointed epochs %s", epochs)
    x_warm, x_block, eta, x_pre, omega = _shared_noise(ctx, spec.dim, spec.hidden)
    hist = read_table(ctx.model_dir / "history.csv")

    t0, n_threads, done = time.time(), workers(), []

    def one(e: int):
        row, dh2 = analyse_epoch(_network(files[e]), p, x_warm, x_block, eta, x_pre, omega)
        done.append(e)
        elapsed = time.time() - t0
        log.info("epoch %d (%d/%d): TR %.4f p_sw %.4f unstable %.3f critical %.3f | %.1f s, ETA %.0f s", e, len(done),
                 len(epochs), row["tr"], row["p_sw"], row["frac_unstable"], row["frac_critical"], elapsed,
                 elapsed / len(done) * (len(epochs) - len(done)))
        return {"epoch": e, **row}, pd.DataFrame({"epoch": e, "unit": np.arange(len(dh2)), "dh2": dh2})

    with ThreadPoolExecutor(n_threads) as pool:
        results = list(pool.map(one, epochs))
    rows, dh2_rows = [r for r, _ in results], [d for _, d in results]
    log.info("%d epochs in %.1f s on %d thread(s)", len(epochs), time.time() - t0, n_threads)

    stats = pd.DataFrame(rows)
    losses = hist[["epoch", "train_loss", "val_loss"]]
    stats = stats.merge(losses, on="epoch", how="left")
    cols = ["epoch", "tr", "p_sw", *INDICATORS, "train_loss", "val_loss", "n_nonfinite", "n_switches", "n_jacobians"]
    if p["noise_free_variant"]:
        cols += [k + "_nf" for k in INDICATORS]
    stats = stats[cols]
    for k, v in reversed(keys.items()):
        stats.insert(0, k, v)

    notes = []
    e_rule = bifurcation_epoch(stats["epoch"], stats["frac_critical"], p["bif_threshold"])
    if p["bif_override"] > 0:
        e_b, source = nearest(p["bif_override"], available), "override"
        log.warning("bifurcation epoch set by hand to %d (bif_override = %d); the rule gives %s", e_b,
                    p["bif_override"], e_rule)
        notes.append(f"e_b set by hand (rule: {e_rule})")
    elif e_rule is not None:
        e_b, source = e_rule, "rule"
    else:
        e_b, source = None, "none"
        notes.append(f"no bifurcation epoch: |Δ critical fraction| <= {p['bif_threshold']} between all "
                     f"{len(epochs)} analysed epochs")
    tail = stats["tr"].to_numpy()[-p["converged_last"]:]
    n_conv = int(np.isfinite(tail).sum())
    converged = float(np.nanmean(tail)) if n_conv else float("nan")
    if n_conv == 0:
        notes.append("no complete dwell in the last analysed epochs: converged TR undefined")
    if len(epochs) < p["converged_last"]:
        notes.append(f"only {len(epochs)} analysed epochs (< {p['converged_last']})")
    n_bad = int(stats["n_nonfinite"].sum())
    if n_bad:
        notes.append(f"{n_bad} non-finite rows dropped")

    shown = display_epochs(e_b, e_last, available)
    frames = []
    for role, e in shown:
        net = _network(files[e])
        states, _, _ = epoch_run(net, x_warm, x_block)
        with np.errstate(over="ignore", invalid="ignore"):
            o = net.dominant(states)
        f = pca_frame(states, o, p["pca_clip"], p["pca_points"])
        f.insert(0, "epoch", e)
        f["role"] = role
        frames.append(f)
    pca_tbl = pd.concat(frames, ignore_index=True)
    if len(shown) < len(DISPLAY_ROLES):
        notes.append(f"{len(shown)} distinct display epochs")

    summary = pd.DataFrame([{**keys, "bif_epoch": e_b, "bif_source": source, "bif_epoch_rule": e_rule,
                             "bif_threshold": p["bif_threshold"], "converged_tr": converged, "n_converged": n_conv,
                             "n_analysed": len(epochs), "first_epoch": epochs[0], "last_analysed": epochs[-1],
                             "last_epoch": e_last, "display_epochs": ";".join(str(e) for _, e in shown),
                             "display_roles": ";".join(r for r, _ in shown), "note": "; ".join(notes)}])
    summary["bif_epoch"] = summary["bif_epoch"].astype("Int64")
    summary["bif_epoch_rule"] = summary["bif_epoch_rule"].astype("Int64")
    return {"evo_stats.csv": stats, "evo_dh2.parquet": pd.concat(dh2_rows, ignore_index=True),
            "evo_summary.csv": summary, "evo_pca.parquet": pca_tbl, "evo_losses.csv": losses.reset_index(drop=True)}


ANALYSIS = Analysis(name="training_evolution", run=training_evolution, defaults=DEFAULTS,
                    needs=("checkpoints", "history"), mem_mb=3000, runtime_min=60, threads=8)
