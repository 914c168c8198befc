"""Stochastic resonance in noise: switching and emission match vs the input-noise level
(docs/method.md §4.3, §6 D5).

Noise levels σ are **standard deviations**.  Every σ uses the same ξ and the same Gumbel uniforms
(common random numbers), so differences between levels come from σ alone.

(i) Dominant-output statistics of one long run per σ: p_sw, TR and the CV of dwell lengths.  By P2
    (h_t(σ) = σ h_t(1)) they are identical across σ; a change reveals a bug.
(ii) Emission match of N RNN sequences of the training T at noise σ (the training forward pass with
    hard Gumbel sampling, rnnhmm.evaluate.sample_rnn): the matched distance (§3) against an HMM set
    and its baseline, the Sinkhorn divergence (§1.3 loss) against the same HMM set, Σ_kl D_kl against
    the analytic output transition matrix, the L1 frequency error, the emitted-switch probability and
    the volatility.  As σ → 0 the logits vanish and emissions become uniform i.i.d. (switch
    probability 2/3); as σ → ∞ they become the deterministic argmax sequence.

Table: noise_sweep.csv, one row per σ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import evaluate
from ..hmm import HMM
from .registry import Analysis, AnalysisContext
from .simulate import Network
from .switching import switch_stats

DEFAULTS = {
    "warmup": 100,
    "dominant_steps": 20000,
    "sigmas": [0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0, 4.0],
    "n_sequences": 5000,
    "sinkhorn_divergence": True,
    "sinkhorn_n": 0,  # sequences of each set used for S_ε (0: all N); S_ε costs O(N² T) per level
    "chunk": 2000,  # time steps simulated per block (memory)
}

P_SWITCH_UNIFORM = 2.0 / 3.0  # emitted-switch probability of i.i.d. uniform symbols (σ → 0)


def dominant_outputs(net: Network, xi: np.ndarray, sigmas, warmup: int, chunk: int = 2000) -> np.ndarray:
    """o_t for one trajectory per σ from h_0 = 0 with inputs σ ξ_t (same ξ), shape (steps, n_sigma);
    simulated in blocks of ``chunk`` steps so memory does not grow with the run length."""
    sig = np.asarray(sigmas, dtype=np.float64)
    h = np.zeros((len(sig), net.hidden))
    out = []
    for start in range(0, len(xi), chunk):
        x = sig[None, :, None] * xi[start:start + chunk, None, :]
        states = net.run(h, x)
        h = states[-1]
        out.append(net.dominant(states))
    return np.concatenate(out)[warmup:]


def emission_row(rnn: np.ndarray, hmm_set: np.ndarray, hmm: HMM, sinkhorn: bool, sinkhorn_n: int = 0) -> dict:
    """Emission-match columns of one RNN symbol set (N, T) against an HMM set of the same shape
    (S_ε on the first ``sinkhorn_n`` sequences of each set when > 0)."""
    length = rnn.shape[1]
    k = sinkhorn_n if sinkhorn_n > 0 else len(rnn)
    m = evaluate.matched_distance(rnn, hmm_set, **evaluate.MATCH_DEFAULTS)
    p, empty = evaluate.transition_matrix(rnn, hmm.n_outputs)
    f = evaluate.frequencies(rnn, hmm.n_outputs).mean(axis=0)
    vol = evaluate.volatility(rnn)
    return {
        "euclid_rnn": m.mean, "euclid_rnn_std": m.std, "match_converged": m.converged,
        "sinkhorn_div": evaluate.heldout_sinkhorn(rnn[:k], hmm_set[:k], hmm.n_outputs) if sinkhorn else np.nan,
        "transmat_sse": float(((hmm.output_transition(length) - p) ** 2).sum()), "transmat_empty_rows": int(empty.sum()),
        "freq_l1": float(np.abs(f - hmm.output_marginal(length)).sum()),
        "p_sw_emit": float(vol.mean() / max(length - 1, 1)), "vol_mean": float(vol.mean()),
        **{f"freq_O{k + 1}": float(f[k]) for k in range(len(f))},
    }


def sweep(net: Network, model, hmm: HMM, length: int, p: dict, xi: np.ndarray, base_seed: int, parts: tuple,
          hmm_sets: tuple[np.ndarray, np.ndarray, np.ndarray]) -> pd.DataFrame:
    """The whole §4.3 table.  ``hmm_sets`` = (A, A2, A3): A is matched against, A3 → A2 is the baseline."""
    sigmas = [float(s) for s in p["sigmas"]]
    o = dominant_outputs(net, xi, sigmas, p["warmup"], p["chunk"])
    a, a2, a3 = hmm_sets
    base = evaluate.matched_distance(a3, a2, **evaluate.MATCH_DEFAULTS)
    rows = []
    for k, s in enumerate(sigmas):
        st = switch_stats(o[:, k])
        rnn = evaluate.sample_rnn(model, p["n_sequences"], length, base_seed, parts, sigma=s)
        rows.append({"sigma": s, "p_sw_dom": st.p_sw, "tr_dom": st.tr, "cv_dwell": st.cv_dwell,
                     "n_switches_dom": st.n_switches, **emission_row(rnn, a, hmm, p["sinkhorn_divergence"], p["sinkhorn_n"]),
                     "euclid_base": base.mean, "euclid_base_std": base.std,
                     "p_y": hmm.emitted_switch_prob(length), "p_dom_hmm": hmm.dominant_switch_prob(),
                     "vol_hmm": hmm.expected_volatility(length), "T": length,
                     "N": p["n_sequences"]})
    return pd.DataFrame(rows)


def noise_sweep(ctx: AnalysisContext) -> dict[str, pd.DataFrame]:
    from ..hmm import load_hmm_file

    p = ctx.params
    model = ctx.model()
    net = ctx.network()
    hmm, data = load_hmm_file(ctx.hmm_file)
    length = int(data["train"].shape[1])
    xi = ctx.rng("xi").standard_normal((p["warmup"] + p["dominant_steps"], net.dim))
    n = p["n_sequences"]
    sets = tuple(hmm.sample(n, length, ctx.rng(f"hmm_{name}"))[1] for name in ("A", "A2", "A3"))
    s = ctx.spec
    parts = (s.hmm, s.hidden, s.dim, s.seed, 0, "analysis:noise_sweep")
    return {"noise_sweep.csv": sweep(net, model, hmm, length, p, xi, ctx.base_seed, parts, sets)}


ANALYSIS = Analysis(name="noise_sweep", run=noise_sweep, defaults=DEFAULTS, needs=("hmm",), mem_mb=6000,
                    runtime_min=60)
