"""Run a Python module with the imports of the repository's code restricted to one conda env file.

    python tests/envguard.py envs/figures.yaml -m rnnhmm.cli figure ...

Every import made *by a file of the repository's package* (``src/rnnhmm``) must be the standard
library, the package itself, or a package the env file lists (conda names mapped to import names:
``pytorch`` -> ``torch``, ...).  Anything else raises ModuleNotFoundError naming the env file, as the
real env would, and is appended to the file named by ``$ENVGUARD_LOG``.  Imports made by the
libraries themselves are not policed: conda installs a package's own dependencies with it.
"""

from __future__ import annotations

import importlib.abc
import os
import runpy
import sys
from pathlib import Path

import yaml

# conda-forge (or pip) package name -> the top-level modules it provides, where they differ
IMPORT_NAMES = {"pytorch": ["torch"], "pyyaml": ["yaml"], "matplotlib-base": ["matplotlib", "mpl_toolkits"],
                "python": []}
PACKAGE_DIR = (Path(__file__).resolve().parent.parent / "src" / "rnnhmm").as_posix()


def env_modules(env_file: str | os.PathLike) -> set[str]:
    """The top-level module names an env file provides."""
    env = yaml.safe_load(Path(env_file).read_text())
    names = []
    for dep in env["dependencies"]:
        specs = dep["pip"] if isinstance(dep, dict) else [dep]
        for spec in specs:
            names.append(spec.split("=")[0].strip())
    mods = set()
    for n in names:
        mods.update(IMPORT_NAMES.get(n, [n.replace("-", "_")]))
    return mods


class EnvGuard(importlib.abc.MetaPathFinder):
    def __init__(self, env_file: str, allowed: set[str], log: str | None):
        self.env_file, self.allowed, self.log = env_file, allowed, log

    @staticmethod
    def _importer() -> str:
        """The file of the nearest frame outside the import machinery (the code doing the import)."""
        f = sys._getframe(2)
        while f is not None:
            name = f.f_code.co_filename
            if not (name.startswith("<frozen importlib") or "importlib" in Path(name).parts):
                return name
            f = f.f_back
        return ""

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if top in self.allowed or top == "rnnhmm" or top in sys.stdlib_module_names:
            return None
        importer = self._importer()
        if not Path(importer).resolve().as_posix().startswith(PACKAGE_DIR):
            return None
        msg = f"envguard: {Path(importer).name} imports '{top}', which {self.env_file} does not provide"
        if self.log:
            with open(self.log, "a", encoding="utf-8") as fh:
                fh.write(msg + "\n")
        raise ModuleNotFoundError(msg, name=fullname)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "-m":
        sys.exit("usage: envguard.py ENV_FILE -m MODULE [ARGS ...]")
    env_file, module = argv[0], argv[2]
    sys.meta_path.insert(0, EnvGuard(env_file, env_modules(env_file), os.environ.get("ENVGUARD_LOG")))
    sys.argv = [module, *argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
