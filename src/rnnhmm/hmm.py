"""Hidden Markov models: families, validation, exact statistics and vectorised sampling.

An HMM has a latent chain s_t in {0..M-1} with start distribution ``start``, transition matrix
``transition[i, j] = P(s_{t+1}=j | s_t=i)`` and emission matrix ``emission[i, k] = P(y_t=k | s_t=i)``
over K output symbols (docs/method.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UserError

ROW_SUM_TOL = 1e-6


class HMMSpecError(UserError, ValueError):
    """An HMM specification or matrix is invalid."""


def _check_stochastic(name: str, what: str, matrix: np.ndarray, shape: tuple[int, ...] | None = None) -> None:
    if shape is not None and matrix.shape != shape:
        raise HMMSpecError(f"{name}: {what} must have shape {shape}, got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise HMMSpecError(f"{name}: {what} contains NaN or Inf")
    if np.any(matrix < 0):
        raise HMMSpecError(f"{name}: {what} has negative entries (probabilities must be >= 0)")
    sums = matrix.sum(axis=-1)
    bad = np.flatnonzero(np.abs(np.atleast_1d(sums) - 1.0) > ROW_SUM_TOL)
    if bad.size:
        raise HMMSpecError(
            f"{name}: {what} rows must sum to 1; row(s) {bad.tolist()} sum to {np.atleast_1d(sums)[bad].round(6).tolist()}"
        )


@dataclass(frozen=True)
class HMM:
    name: str
    transition: np.ndarray
    emission: np.ndarray
    start: np.ndarray = field(default=None)  # uniform when not given

    def __post_init__(self) -> None:
        t = np.asarray(self.transition, dtype=np.float64)
        e = np.asarray(self.emission, dtype=np.float64)
        if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] < 1:
            raise HMMSpecError(f"{self.name}: transition matrix must be square (M x M), got shape {t.shape}")
        m = t.shape[0]
        if e.ndim != 2 or e.shape[0] != m or e.shape[1] < 1:
            raise HMMSpecError(f"{self.name}: emission matrix must have shape ({m}, K), got {e.shape}")
        start = np.full(m, 1.0 / m) if self.start is None else np.asarray(self.start, dtype=np.float64)
        _check_stochastic(self.name, "transition matrix", t, (m, m))
        _check_stochastic(self.name, "emission matrix", e, (m, e.shape[1]))
        _check_stochastic(self.name, "start distribution", start, (m,))
        object.__setattr__(self, "transition", t)
        object.__setattr__(self, "emission", e)
        object.__setattr__(self, "start", start)

    @property
    def n_states(self) -> int:
        return self.transition.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.emission.shape[1]

    # ---------------------------------------------------------------- sampling
    def sample(self, n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` sequences of ``length`` steps: (states, outputs), each (n, length) int8.

        All sequences advance together (one vectorised inverse-CDF draw per time step), which is
        equivalent in distribution to sampling each sequence on its own.
        """
        if n < 1 or length < 1:
            raise HMMSpecError(f"{self.name}: need n >= 1 and length >= 1, got n={n}, length={length}")
        m = self.n_states
        cum_t = np.cumsum(self.transition, axis=1)
        cum_t[:, -1] = 1.0
        cum_e = np.cumsum(self.emission, axis=1)
        cum_e[:, -1] = 1.0
        cum_s = np.cumsum(self.start)
        cum_s[-1] = 1.0
        u_state = rng.random((length, n))
        u_out = rng.random((n, length))
        states = np.empty((length, n), dtype=np.int8)
        s = np.searchsorted(cum_s, u_state[0], side="right").clip(max=m - 1)
        states[0] = s
        # row-wise inverse CDF: the next state is the number of cumulative entries of row s that u
        # exceeds (the last entry is 1 > u); one gather per column instead of an (n, m) gather per step
        cols_t = [np.ascontiguousarray(cum_t[:, k]) for k in range(m - 1)]
        for t in range(1, length):
            u = u_state[t]
            nxt = np.zeros(n, dtype=np.int8)
            for col in cols_t:
                nxt += u >= col[s]
            s = nxt
            states[t] = s
        states = np.ascontiguousarray(states.T)
        outputs = np.zeros((n, length), dtype=np.int8)
        for k in range(self.n_outputs - 1):
            outputs += u_out >= np.ascontiguousarray(cum_e[:, k])[states]
        return states, outputs

    # ---------------------------------------------------------------- exact statistics
    # With ``length`` the statistics are those of sequences of that many steps that start from
    # ``start`` (the time average over t of the marginals pi_t = start T^t); without it, or when the
    # start distribution is invariant (then the two agree), those of the stationary chain.
    def stationary(self) -> np.ndarray:
        """Stationary distribution of the latent chain (the start distribution when it is invariant)."""
        if np.allclose(self.start @ self.transition, self.start, atol=1e-12):
            return self.start.copy()
        vals, vecs = np.linalg.eig(self.transition.T)
        k = int(np.argmin(np.abs(vals - 1.0)))
        v = np.real(vecs[:, k])
        return v / v.sum()

    def start_is_stationary(self) -> bool:
        return bool(np.allclose(self.start @ self.transition, self.start, atol=1e-12))

    def state_marginals(self, length: int) -> np.ndarray:
        """pi_t = start T^t for t = 0..length-1, shape (length, M): the state distribution at each step."""
        if length < 1:
            raise HMMSpecError(f"{self.name}: need length >= 1, got {length}")
        out = np.empty((length, self.n_states))
        out[0] = self.start
        for t in range(1, length):
            out[t] = out[t - 1] @ self.transition
        return out

    def _finite(self, length: int | None) -> bool:
        return length is not None and not self.start_is_stationary()

    def output_marginal(self, length: int | None = None) -> np.ndarray:
        """mu = pi E (stationary), or the mean over the ``length`` steps of pi_t E."""
        if self._finite(length):
            return self.state_marginals(length).mean(axis=0) @ self.emission
        return self.stationary() @ self.emission

    def output_joint(self, length: int | None = None) -> np.ndarray:
        """J[k, l] = P(y_t = k, y_{t+1} = l) = E^T diag(pi) T E (stationary), or its mean over the
        length - 1 step pairs of a sequence of ``length`` steps (pi_t for t = 0..length-2)."""
        if self._finite(length):
            if length < 2:
                raise HMMSpecError(f"{self.name}: a joint of consecutive outputs needs length >= 2, got {length}")
            pi = self.state_marginals(length - 1).mean(axis=0)
        else:
            pi = self.stationary()
        return self.emission.T @ np.diag(pi) @ self.transition @ self.emission

    def output_transition(self, length: int | None = None) -> np.ndarray:
        """P_out[k, l] = P(y_{t+1} = l | y_t = k); a symbol never emitted gets a zero row."""
        joint = self.output_joint(length)
        rows = joint.sum(axis=1, keepdims=True)
        return np.divide(joint, rows, out=np.zeros_like(joint), where=rows > 0)

    def emitted_switch_prob(self, length: int | None = None) -> float:
        """p_y = P(y_{t+1} != y_t) = 1 - tr J."""
        return float(1.0 - np.trace(self.output_joint(length)))

    def expected_volatility(self, length: int) -> float:
        """Expected number of emitted switches in a sequence of ``length`` steps from ``start``."""
        return (length - 1) * self.emitted_switch_prob(length)

    def latent_switch_prob(self) -> float:
        pi = self.stationary()
        return float(1.0 - np.sum(pi * np.diag(self.transition)))

    def dominant_outputs(self) -> list[int]:
        """The symbols some latent state makes most likely (the argmax of its emission row; ties go to
        the lower index), in index order: O1 and O3 of the paper's linear chains, every symbol of
        fully3 and cyclic4."""
        return sorted({int(k) for k in np.argmax(self.emission, axis=1)})

    def rare_outputs(self) -> list[int]:
        """The symbols no latent state makes most likely (O2 of the linear chains), in index order."""
        dominant = set(self.dominant_outputs())
        return [k for k in range(self.n_outputs) if k not in dominant]

    def dominant_switch_prob(self) -> float:
        """P(d(s_{t+1}) != d(s_t)) in the stationary chain, d(i) = argmax_k B_ik: how often the symbol
        the latent state makes most likely changes (the HMM's counterpart of the RNN's dominant
        output; equal to the latent switch probability when every state has its own argmax)."""
        pi = self.stationary()
        d = np.argmax(self.emission, axis=1)
        differs = d[:, None] != d[None, :]
        return float(np.sum(pi[:, None] * self.transition * differs))


def output_name(k: int) -> str:
    """The name of symbol ``k`` (0-based) in tables and figures: O1, O2, ..."""
    return f"O{int(k) + 1}"


def pair_name(a: int, b: int) -> str:
    """The name of the unordered output pair {a, b}: 'O1O3' for {0, 2} (the lower symbol first)."""
    a, b = sorted((int(a), int(b)))
    return output_name(a) + output_name(b)


def output_pairs(n_outputs: int) -> dict[str, tuple[int, int]]:
    """Every pair of the ``n_outputs`` symbols, by name, neighbours first (ordered by separation b - a,
    then by a): O1O2, O2O3, O1O3 for three symbols."""
    pairs = sorted(((a, b) for a in range(n_outputs) for b in range(a + 1, n_outputs)), key=lambda p: (p[1] - p[0], p[0]))
    return {pair_name(a, b): (a, b) for a, b in pairs}


# ---------------------------------------------------------------------- families (docs/method.md §2)
def transitions_target_prob(n_states: int, target: float = 0.05) -> np.ndarray:
    """Linear chain whose end-to-end crossing in M-1 steps has probability ``target``."""
    m = n_states
    if m < 2:
        raise HMMSpecError(f"target_prob transitions need n_states >= 2, got {m}")
    if not 0 < target < 1:
        raise HMMSpecError(f"target_prob transitions need 0 < target < 1, got {target}")
    q = target ** (1.0 / (m - 1))
    t = np.zeros((m, m))
    for i in range(m):
        if i in (0, m - 1):
            t[i, i] = 1 - q
            t[i, 1 if i == 0 else m - 2] = q
        else:
            t[i, i] = 1 - 2 * q
            t[i, i - 1] = t[i, i + 1] = q
    if np.any(t < 0):
        raise HMMSpecError(f"target_prob transitions with n_states={m}, target={target} give q={q:.4f} > 0.5")
    return t


def transitions_stay_prob(n_states: int, stay: float) -> np.ndarray:
    """Linear chain: ends stay with ``stay``; interior states stay and split the rest between neighbours."""
    m = n_states
    if m < 2:
        raise HMMSpecError(f"stay_prob transitions need n_states >= 2, got {m}")
    t = np.zeros((m, m))
    for i in range(m):
        t[i, i] = stay
        if i == 0:
            t[i, 1] = 1 - stay
        elif i == m - 1:
            t[i, m - 2] = 1 - stay
        else:
            t[i, i - 1] = t[i, i + 1] = (1 - stay) / 2
    return t


def transitions_fully(n_states: int, stay: float) -> np.ndarray:
    """Fully connected: ``stay`` on the diagonal, the rest spread evenly."""
    m = n_states
    if m < 2:
        raise HMMSpecError(f"fully transitions need n_states >= 2, got {m}")
    t = np.full((m, m), (1 - stay) / (m - 1))
    np.fill_diagonal(t, stay)
    return t


def emissions_linear(n_states: int, n_outputs: int = 3, rare: float = 0.01) -> np.ndarray:
    """E_i = [(1-rare)(1-a_i), rare, (1-rare) a_i] with a_i = i/(M-1); the middle symbol is rare."""
    if n_outputs != 3:
        raise HMMSpecError(f"linear emissions are defined for 3 outputs, got {n_outputs}")
    a = np.linspace(0.0, 1.0, n_states)
    return np.stack([(1 - rare) * (1 - a), np.full(n_states, rare), (1 - rare) * a], axis=1)


def emissions_gaussian(n_states: int, n_outputs: int = 3) -> np.ndarray:
    centres = np.linspace(0, n_outputs - 1, n_states)
    k = np.arange(n_outputs)
    e = np.exp(-0.2 * (np.abs(k[None, :] - centres[:, None]) / (0.1 * (n_outputs - 1))) ** 2)
    return e / e.sum(axis=1, keepdims=True)


def emissions_triangular(n_states: int, n_outputs: int = 3, diag: float = 0.98) -> np.ndarray:
    if n_states != n_outputs:
        raise HMMSpecError(f"triangular emissions need n_states == n_outputs, got {n_states} and {n_outputs}")
    e = np.full((n_states, n_outputs), (1 - diag) / (n_outputs - 1))
    np.fill_diagonal(e, diag)
    return e


TRANSITION_KINDS = ("target_prob", "stay_prob", "fully", "custom")
EMISSION_KINDS = ("linear", "gaussian", "triangular", "custom")


def build_hmm(name: str, spec: dict) -> HMM:
    """Build an HMM from its configuration entry (see config.yaml, ``hmms:``): a family or custom
    matrices (``transitions``, ``emissions``, optional ``start``, uniform when absent), or ``file``, an
    HMM file in the documented format (:func:`read_hmm_spec`)."""
    if "file" in spec:  # a config entry; the rules' slices carry the file's matrices (config.hmm_spec)
        return read_hmm_spec(spec["file"], name)
    tr = spec.get("transitions", {})
    em = spec.get("emissions", {})
    kind = tr.get("kind")
    if kind == "custom":
        trans = np.asarray(tr.get("matrix"), dtype=np.float64)
        m = trans.shape[0] if trans.ndim == 2 else 0
    else:
        m = int(tr.get("n_states", 0))
        if kind == "target_prob":
            trans = transitions_target_prob(m, float(tr.get("target", 0.05)))
        elif kind == "stay_prob":
            trans = transitions_stay_prob(m, float(tr["stay"]))
        elif kind == "fully":
            trans = transitions_fully(m, float(tr["stay"]))
        else:
            raise HMMSpecError(f"hmms.{name}.transitions.kind: unknown '{kind}', allowed: {', '.join(TRANSITION_KINDS)}")
    ekind = em.get("kind")
    n_out = int(em.get("n_outputs", 3))
    if ekind == "custom":
        emis = np.asarray(em.get("matrix"), dtype=np.float64)
    elif ekind == "linear":
        emis = emissions_linear(m, n_out)
    elif ekind == "gaussian":
        emis = emissions_gaussian(m, n_out)
    elif ekind == "triangular":
        emis = emissions_triangular(m, n_out)
    else:
        raise HMMSpecError(f"hmms.{name}.emissions.kind: unknown '{ekind}', allowed: {', '.join(EMISSION_KINDS)}")
    start = spec.get("start")
    try:
        return HMM(name=name, transition=trans, emission=emis,
                   start=None if start is None else np.asarray(start, dtype=np.float64))
    except HMMSpecError as err:
        raise HMMSpecError(f"hmms.{name}: {err}") from None


# ---------------------------------------------------------------------- HMM files of the user's own models
# docs/own-hmm.md: a .json object or an .npz archive with the arrays `start` (M), `transition` (M x M)
# and `emission` (M x K), M >= 2 states and K >= 2 symbols; optional `symbols` (K names) and `source`
# (where the numbers come from).  An .npz is read without pickle, so a model file cannot run code.
SPEC_FILE_KEYS = ("start", "transition", "emission")
SPEC_FILE_OPTIONAL = ("symbols", "source", "name")
SPEC_SUFFIXES = (".json", ".npz")
MIN_STATES = MIN_OUTPUTS = 2


def read_hmm_spec(path, name: str | None = None) -> HMM:
    """The HMM of an HMM file in the documented format (``SPEC_FILE_KEYS``); any problem is one
    ``HMMSpecError`` line that names the file and what is wrong."""
    import json
    import zipfile
    from pathlib import Path

    path = Path(path)
    where = str(path)
    if path.suffix not in SPEC_SUFFIXES:
        raise HMMSpecError(f"{where}: an HMM file must end in {' or '.join(SPEC_SUFFIXES)}, got '{path.suffix}'")
    if not path.is_file():
        raise HMMSpecError(f"{where}: no such HMM file")
    try:
        if path.suffix == ".json":
            raw = json.loads(path.read_text())
            if not isinstance(raw, dict):
                raise HMMSpecError(f"{where}: must hold a JSON object with {', '.join(SPEC_FILE_KEYS)}")
        else:
            if not zipfile.is_zipfile(path):  # np.load would take it for a pickle and refuse it as one
                raise HMMSpecError(f"{where}: not a readable .npz archive (not a zip file); save it with numpy.savez")
            with np.load(path, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
    except HMMSpecError:
        raise
    except json.JSONDecodeError as err:
        raise HMMSpecError(f"{where}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except ValueError as err:  # an object array needs pickle, which is refused
        raise HMMSpecError(f"{where}: cannot read the arrays without pickle ({err}); store plain numeric arrays") from None
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise HMMSpecError(f"{where}: not a readable .npz archive ({err})") from None
    missing = [k for k in SPEC_FILE_KEYS if k not in raw]
    if missing:
        raise HMMSpecError(f"{where}: missing {', '.join(missing)}; an HMM file holds {', '.join(SPEC_FILE_KEYS)}")
    unknown = sorted(set(raw) - set(SPEC_FILE_KEYS) - set(SPEC_FILE_OPTIONAL))
    if unknown:
        raise HMMSpecError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                           f"{', '.join(SPEC_FILE_KEYS + SPEC_FILE_OPTIONAL)}")
    arrays = {}
    for k in SPEC_FILE_KEYS:
        try:
            arrays[k] = np.asarray(raw[k], dtype=np.float64)
        except (TypeError, ValueError):
            raise HMMSpecError(f"{where}: {k} must be numbers (a {'vector' if k == 'start' else 'matrix'} of "
                               "probabilities); ragged rows or text are not") from None
    t, e, s = arrays["transition"], arrays["emission"], arrays["start"]
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise HMMSpecError(f"{where}: transition must be a square M x M matrix, got shape {t.shape}")
    m = t.shape[0]
    if m < MIN_STATES:
        raise HMMSpecError(f"{where}: needs at least {MIN_STATES} states, got {m}")
    if e.ndim != 2 or e.shape[0] != m:
        raise HMMSpecError(f"{where}: emission must have shape ({m}, K), one row per state, got {e.shape}")
    if e.shape[1] < MIN_OUTPUTS:
        raise HMMSpecError(f"{where}: needs at least {MIN_OUTPUTS} output symbols, got {e.shape[1]}")
    if s.shape != (m,):
        raise HMMSpecError(f"{where}: start must have {m} entries, one per state, got shape {s.shape}")
    if "symbols" in raw:
        symbols = np.asarray(raw["symbols"])
        if symbols.shape != (e.shape[1],):
            raise HMMSpecError(f"{where}: symbols must name the {e.shape[1]} output symbols, got shape {symbols.shape}")
    try:
        return HMM(name=name or path.stem, transition=t, emission=e, start=s)
    except HMMSpecError as err:
        msg = str(err).split(": ", 1)[-1]
        raise HMMSpecError(f"{where}: {msg}") from None


def write_hmm_spec(path, start, transition, emission, **optional) -> None:
    """Write an HMM file in the documented format (.json or .npz by the suffix), checked by reading
    it back; ``optional`` takes ``symbols`` and ``source``."""
    import json
    from pathlib import Path

    path = Path(path)
    bad = sorted(set(optional) - set(SPEC_FILE_OPTIONAL))
    if bad:
        raise HMMSpecError(f"{path}: unknown key(s) {', '.join(bad)}; allowed: {', '.join(SPEC_FILE_OPTIONAL)}")
    data = {"start": np.asarray(start, dtype=np.float64), "transition": np.asarray(transition, dtype=np.float64),
            "emission": np.asarray(emission, dtype=np.float64)}
    if path.suffix == ".json":
        text = json.dumps({**{k: v.tolist() for k, v in data.items()},
                           **{k: (list(v) if k == "symbols" else v) for k, v in optional.items()}}, indent=1)
        path.write_text(text + "\n")
    elif path.suffix == ".npz":
        np.savez(path, **data, **{k: np.asarray(v, dtype=str) for k, v in optional.items()})
    else:
        raise HMMSpecError(f"{path}: an HMM file must end in {' or '.join(SPEC_SUFFIXES)}, got '{path.suffix}'")
    read_hmm_spec(path)


def load_hmm_file(path):
    """The HMM and its data splits (a dict of arrays: train, val, test, *_states) from an HMM file
    written by `rnnhmm hmm` (io.HMM_FORMAT)."""
    from . import io

    data = io.read_npz(path)
    if str(data.get("format", "")) != io.HMM_FORMAT:
        raise io.ResultFileError(f"{path}: not an rnnhmm HMM file (format tag {data.get('format')!r})")
    return HMM(str(data["name"]), data["transition"], data["emission"], data["start"]), data
