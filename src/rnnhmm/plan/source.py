"""A module's top-level declarations read from its source, without running it: how the planning layer
sees the analysis and figure modules (rnnhmm.plan.analyses, rnnhmm.plan.figures)."""

from __future__ import annotations

import ast
from pathlib import Path


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def top_level(tree: ast.Module, name: str) -> ast.expr | None:
    """The value assigned to ``name`` at the module's top level, or None."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    return None


def literal(value: ast.expr, where: str):
    """``value`` evaluated as a literal; RuntimeError naming ``where`` when it is not one."""
    try:
        return ast.literal_eval(value)
    except ValueError:
        raise RuntimeError(f"{where} must be a literal (numbers, strings, lists, dicts), as the workflow reads it "
                           f"without importing the module; got {ast.unparse(value)[:80]}") from None
