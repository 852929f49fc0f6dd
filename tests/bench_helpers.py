"""Load a script of benchmarks/ as a module, so tests can call its functions."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from metacot_lab.config import REPO_ROOT


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as the module ``benchmarks_<name>``."""
    path = REPO_ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
