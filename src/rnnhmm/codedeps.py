"""The source files a module runs: itself and, transitively, every rnnhmm module it imports.

The workflow lists them as rule inputs, so editing any code a job runs (not only the module it
names) reruns that job.  Imports are read with ``ast`` from the files, nothing is executed.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name


def _module_file(dotted: str) -> Path | None:
    """rnnhmm.a.b -> .../rnnhmm/a/b.py or .../rnnhmm/a/b/__init__.py."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _dotted(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[Path]:
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = list(ast.walk(tree))  # imports inside functions count too: the function may run
    here = _dotted(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found: set[Path] = set()
    for node in nodes:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for name in names:
            # a module and every package on its way (their __init__ runs too)
            bits = name.split(".")
            for i in range(1, len(bits) + 1):
                f = _module_file(".".join(bits[:i]))
                if f is not None:
                    found.add(f)
    return found


@cache
def dependencies(relative: str) -> tuple[str, ...]:
    """Sorted paths (relative to the package folder) of ``relative`` and everything it imports."""
    start = (PACKAGE_DIR / relative).resolve()
    if not start.is_file():
        raise FileNotFoundError(f"no module {relative} in {PACKAGE_DIR}")
    seen: set[Path] = set()
    todo = [start]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(_imports(f) - seen)
    return tuple(sorted(str(p.relative_to(PACKAGE_DIR)) for p in seen))
