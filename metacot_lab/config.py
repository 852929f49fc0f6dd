"""Run-wide settings: quick mode, seeding, device choice and data paths."""

from __future__ import annotations

import os
import random
from pathlib import Path

from .validation import check_choice, check_int

QUICK: bool = os.environ.get("METACOT_QUICK", "0").strip().lower() in {"1", "true", "yes"}
"""True when ``METACOT_QUICK`` is set: notebooks and scripts shrink sizes and steps only."""

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
DATA_DIR: Path = REPO_ROOT / "data"
MAX_SEED = 2**64 - 1  # the largest seed torch.manual_seed accepts


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (when installed) with ``seed``."""
    check_int("seed", seed, 0, MAX_SEED)
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # numpy is optional for the symbolic parts
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # torch is only needed from notebook 04 on
        pass


def get_device(prefer: str | None = None) -> str:
    """Return ``"cuda"`` or ``"mps"`` when present, else ``"cpu"``; ``prefer`` forces one."""
    if prefer is not None:
        return check_choice("prefer", prefer, ("cpu", "cuda", "mps"))
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
