"""Every on-disk format in one place.

All writers are atomic (write to a temporary file in the same folder, fsync, rename), so a killed
job never leaves a half-written file that a later run would take as complete.  Every result file
gets a provenance sidecar ``<file>.meta.json`` (config slice, package versions, git commit, wall
time) unless the format embeds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError

MODEL_FORMAT = "rnnhmm-model/1"
STATE_FORMAT = "rnnhmm-train-state/1"
HMM_FORMAT = "rnnhmm-hmm/1"


class ResultFileError(UserError, RuntimeError):
    """A result or checkpoint file is missing, truncated, corrupted or of the wrong format."""


# ---------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are ordinary files
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
        if not path.name.endswith(SIDECAR_SUFFIX):
            # a sidecar written for the previous content would now fail verification: drop it
            sidecar_path(path).unlink(missing_ok=True)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    if not str(path).endswith(SIDECAR_SUFFIX):
        verify(path)
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ResultFileError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultFileError(f"{path}: not valid JSON ({err}); the file is truncated or corrupted") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_table(path: str | os.PathLike, df) -> None:
    """Write a pandas DataFrame as CSV or parquet, chosen by the file ending."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":
            df.to_csv(tmp, index=False, float_format="%.10g")
        elif path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            raise ValueError(f"{path}: unknown table format (use .csv or .parquet)")


def read_table(path: str | os.PathLike):
    import pandas as pd

    path = Path(path)
    verify(path)
    try:
        if path.suffix == ".csv":
            return pd.read_csv(path)
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
    except FileNotFoundError:
        raise ResultFileError(f"{path}: file not found") from None
    except Exception as err:  # pandas/pyarrow raise many types for damaged files
        raise ResultFileError(f"{path}: cannot be read as a table ({type(err).__name__}: {err})") from None
    raise ValueError(f"{path}: unknown table format (use .csv or .parquet)")


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    verify(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ResultFileError(f"{path}: file not found") from None
    except Exception as err:
        raise ResultFileError(f"{path}: cannot be read as .npz ({type(err).__name__}: {err}); truncated or corrupted") from None


# ---------------------------------------------------------------------- torch files
DIGEST_KEY = "content_sha256"


def content_digest(obj: Any) -> str:
    """SHA-256 of a checkpoint's content (tensors by dtype, shape and bytes; plain values by repr),
    independent of the file's zip layout.  Stored in the checkpoint, it detects flipped bytes that
    ``torch.load`` would read without complaint."""
    import torch

    h = hashlib.sha256()

    def walk(x: Any) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(x, dict):
            keys = sorted((k for k in x if k != DIGEST_KEY), key=repr)
            h.update(f"D{len(keys)}".encode())
            for k in keys:
                h.update(repr(k).encode())
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            h.update(f"L{len(x)}".encode())
            for v in x:
                walk(v)
        else:
            h.update(f"V{x!r}".encode())

    walk(obj)
    return h.hexdigest()


def save_torch(path: str | os.PathLike, obj: dict) -> None:
    """Save a checkpoint dict atomically, with its content digest embedded (``content_sha256``).

    Written through a file handle so the zip's internal folder name is the fixed 'archive' and not
    the random temporary name: the same content gives the same bytes."""
    import torch

    obj = {**obj, DIGEST_KEY: content_digest(obj)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)


def load_torch(path: str | os.PathLike, expected_format: str | None = None) -> dict:
    """Load a checkpoint safely (``weights_only=True``: tensors and plain containers only, so a file
    from elsewhere cannot execute code), check its format tag and its embedded content digest."""
    import torch

    path = Path(path)
    if not path.exists():
        raise ResultFileError(f"{path}: file not found")
    verify(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ResultFileError(
            f"{path}: cannot be loaded as a checkpoint ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "the file is truncated, corrupted, or not a plain-tensor checkpoint"
        ) from None
    if expected_format is not None and (not isinstance(obj, dict) or obj.get("format") != expected_format):
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise ResultFileError(f"{path}: expected format '{expected_format}', found '{found}'")
    if isinstance(obj, dict) and DIGEST_KEY in obj and content_digest(obj) != obj[DIGEST_KEY]:
        raise ResultFileError(f"{path}: content does not match its embedded SHA-256 ({DIGEST_KEY}); "
                              "the file is corrupted — delete it and rerun")
    return obj


def load_model(path: str | os.PathLike, which: str = "best"):
    """Load a trained NoiseRNN from model.pt (``which`` = 'best' or 'final'); its number of outputs K is
    the number of rows of the stored readout A."""
    from .model import NoiseRNN

    obj = load_torch(path, MODEL_FORMAT)
    if which not in ("best", "final"):
        raise ValueError(f"which must be 'best' or 'final', got '{which}'")
    try:
        model = NoiseRNN(int(obj["hidden"]), int(obj["dim"]), int(obj[which]["A"].shape[0]))
        model.load_state_dict(obj[which])
    except (KeyError, RuntimeError, ValueError, AttributeError, IndexError) as err:
        raise ResultFileError(f"{path}: weights '{which}' do not fit a NoiseRNN({obj['hidden']}, {obj['dim']}): {err}") from None
    return model


# ---------------------------------------------------------------------- provenance
def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        )
        commit = out.stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("rnnhmm", "torch", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "geomloss", "snakemake"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(config: dict | None = None, started: float | None = None, **extra: Any) -> dict:
    """The provenance record of a result: config slice, versions, git commit, wall time."""
    rec = {
        "config": config or {},
        "versions": package_versions(),
        "git_commit": git_commit(),
        "host": platform.node(),
    }
    if started is not None:
        rec["wall_time_s"] = round(time.time() - started, 3)
    rec.update(extra)
    return rec


SIDECAR_SUFFIX = ".meta.json"


def sidecar_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def verify(path: str | os.PathLike) -> None:
    """Check a result file against the SHA-256 in its provenance sidecar, when it has one.

    Raises ResultFileError naming the file when the hash differs (truncated, corrupted or changed
    after it was written) or the sidecar itself is unreadable."""
    path = Path(path)
    side = sidecar_path(path)
    if not side.exists() or not path.exists():
        return
    rec = read_json(side)
    expected = rec.get("sha256") if isinstance(rec, dict) else None
    if expected is None:
        return
    if file_sha256(path) != expected:
        raise ResultFileError(f"{path}: SHA-256 does not match its provenance sidecar {side.name}; the file is "
                              "truncated, corrupted or was changed after it was written — delete it and rerun")


def files_sha256(paths: list[str]) -> dict[str, str | None]:
    """path -> SHA-256 of each file (None where it does not exist): what a result was made from."""
    return {str(p): (file_sha256(p) if Path(p).is_file() else None) for p in paths}


def write_sidecar(path: str | os.PathLike, record: dict) -> None:
    """Write the provenance sidecar of a result file, including the file's SHA-256."""
    rec = dict(record)
    rec["file"] = Path(path).name
    rec["sha256"] = file_sha256(path)
    write_json(sidecar_path(path), rec)


def write_results(out_dir: str | os.PathLike, results: dict, record: dict) -> list[Path]:
    """Write a stage's results by file ending (.csv/.parquet tables, .json dicts, .npz arrays), each with
    its provenance sidecar; the written paths."""
    import pandas as pd

    written = []
    for fname, obj in results.items():
        path = Path(out_dir) / fname
        if path.suffix in (".csv", ".parquet"):
            if not isinstance(obj, pd.DataFrame):
                raise TypeError(f"{fname}: a table file needs a DataFrame, got {type(obj).__name__}")
            write_table(path, obj)
        elif path.suffix == ".json":
            write_json(path, obj)
        elif path.suffix == ".npz":
            write_npz(path, **obj)
        else:
            raise ValueError(f"{fname}: unknown result format (use .csv, .parquet, .json or .npz)")
        write_sidecar(path, record)
        written.append(path)
    return written
