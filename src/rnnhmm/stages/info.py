"""`rnnhmm info <file>`: print the provenance of a result file (its sidecar; for a model or checkpoint
also the training summary meta.json) and check the file against the SHA-256 recorded there."""

from __future__ import annotations

import json
from pathlib import Path

HELP = "print the provenance of a result file"
REQUIRED = ()


def add_arguments(s) -> None:
    s.add_argument("file", help="a result file: a table, figure, model.pt, checkpoint or meta.json")


def run(args) -> None:
    from .. import io

    path = Path(args.file)
    if not path.exists():
        raise io.ResultFileError(f"{path}: file not found")
    side = io.sidecar_path(path)
    rec = io.read_json(side) if side.exists() else {}
    if path.suffix == ".pt":
        io.load_torch(path)  # format and embedded content digest
        for meta in (path.parent / "meta.json", path.parent.parent / "meta.json"):
            if meta.exists():
                rec = {**io.read_json(meta), **rec} if rec else io.read_json(meta)
                break
    elif path.name == "meta.json":
        rec = io.read_json(path)
    if not rec:
        raise io.ResultFileError(f"{path}: no provenance found (expected {side})")
    if "sha256" in rec:
        rec["sha256_matches"] = io.file_sha256(path) == rec["sha256"]
    print(json.dumps(rec, indent=2, sort_keys=True, default=str))
    if rec.get("sha256_matches") is False:
        raise io.ResultFileError(f"{path}: SHA-256 does not match its provenance sidecar {side.name}; the file is "
                                 "truncated, corrupted or was changed after it was written — delete it and rerun")
