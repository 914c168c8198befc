"""Every document or source file the repository cites is in the repository: a `*.md` name, or a path
under one of the top-level folders (`docs/method.md`, `src/rnnhmm/floor.py`, ...)."""

import re
import subprocess
from pathlib import Path

from conftest import REPO

TEXT_SUFFIXES = {".py", ".md", ".smk", ".yaml", ".yml", ".rst", ".sh", ".toml", ".txt", ".cfg", ""}
FOLDERS = ("docs", "src", "tests", "benchmarks", "workflow", "envs", "profiles")
MD_RE = re.compile(r"(?<![\w/.-])([\w./-]*\w\.md)\b")
PATH_RE = re.compile(r"(?<![\w/.-])((?:" + "|".join(FOLDERS) + r")/[\w./-]*\w\.(?:py|md|smk|yaml|yml|sh|rst|json|toml))\b")


def tracked_files(root: Path) -> list[str]:
    res = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True)
    if res.returncode == 0 and res.stdout.strip():
        return res.stdout.splitlines()
    return [p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and not {".git", "results", ".snakemake"} & set(p.relative_to(root).parts)]


def resolves(ref: str, citing: str, root: Path, known: set[str]) -> bool:
    """``ref`` names a tracked file, from the repository root or from the citing file's folder."""
    beside = (root / Path(citing).parent / ref).resolve()
    inside = beside.is_relative_to(root.resolve()) and beside.relative_to(root.resolve()).as_posix() in known
    return ref in known or inside


def missing_references(root: Path) -> list[str]:
    """'file:line: reference' for each cited document or path that is not a file of ``root``."""
    files = tracked_files(root)
    known = set(files)
    names = {Path(f).name for f in files}
    out = []
    for rel in files:
        path = root / rel
        if Path(rel).suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if "http://" in line or "https://" in line:
                line = re.sub(r"https?://\S+", "", line)
            for m in PATH_RE.finditer(line):
                if not resolves(m.group(1), rel, root, known):
                    out.append(f"{rel}:{n}: {m.group(1)}")
            for m in MD_RE.finditer(line):
                ref = m.group(1)
                if not (resolves(ref, rel, root, known) if "/" in ref else ref in names):
                    out.append(f"{rel}:{n}: {ref}")
    return sorted(set(out))


def test_every_cited_document_is_in_the_repository():
    missing = missing_references(REPO)
    assert not missing, "references to files that are not in the repository:\n" + "\n".join(missing[:40])


def test_the_check_finds_a_reference_to_a_missing_document(tmp_path):
    gone = "SCIENCE" + ".md"  # spelled apart so that this file does not cite it
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "method.md").write_text("# Method\n")
    (tmp_path / "README.md").write_text("See docs/method.md and [claims](docs/claims.md).\n")
    (tmp_path / "mod.py").write_text(f'"""The loss ({gone} §1.3); code in src/rnnhmm/floor.py."""\n')
    assert missing_references(tmp_path) == ["README.md:1: docs/claims.md", f"mod.py:1: {gone}",
                                            "mod.py:1: src/rnnhmm/floor.py"]
