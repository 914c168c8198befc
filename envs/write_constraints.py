"""Write envs/constraints.txt: the exact versions of rnnhmm[test] and everything it pulls in, as
installed in the running Python (the set the test suite ran with).

pyproject.toml states ranges (what the project admits); this file pins the tested set, and the
README's install command applies it with ``-c envs/constraints.txt``.  Run it after changing a
dependency, from an environment in which the suite passed:

    python envs/write_constraints.py            # rewrite envs/constraints.txt
    python envs/write_constraints.py --check    # exit 1 if the file differs from this environment

Local build labels are dropped (``torch 2.13.0+cpu`` is written ``torch==2.13.0``), so the same
line admits the CPU and the CUDA wheel of that release.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent
OUT = HERE / "constraints.txt"
ROOT = ("rnnhmm", ("test",))


def closure(name: str, extras: tuple[str, ...] = ()) -> dict[str, str]:
    """canonical name -> installed version (without a local label) for ``name[extras]`` and every
    requirement reachable from it whose marker holds here."""
    found: dict[str, str] = {}
    todo = [(name, tuple(extras))]
    done: set[tuple[str, tuple[str, ...]]] = set()
    env = default_environment()
    while todo:
        dist_name, wanted = todo.pop()
        key = (canonicalize_name(dist_name), tuple(sorted(wanted)))
        if key in done:
            continue
        done.add(key)
        try:
            dist = distribution(dist_name)
        except PackageNotFoundError:
            sys.exit(f"write_constraints: {dist_name} is required but not installed; install the project first")
        found[key[0]] = dist.version.split("+")[0]
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not any(
                    req.marker.evaluate({**env, "extra": extra}) for extra in ("", *wanted)):
                continue
            todo.append((req.name, tuple(req.extras)))
    return found


def render() -> str:
    pins = closure(*ROOT)
    pins.pop(canonicalize_name(ROOT[0]))
    py = ".".join(map(str, sys.version_info[:3]))
    head = [f"# the tested set: rnnhmm[test] and all it pulls in, as installed under Python {py}",
            "# written by `python envs/write_constraints.py`; do not edit by hand"]
    return "\n".join(head + [f"{name}=={ver}" for name, ver in sorted(pins.items())]) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        if OUT.exists() and OUT.read_text() == text:
            return 0
        print(f"{OUT.name} differs from this environment: run python envs/write_constraints.py", file=sys.stderr)
        return 1
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
