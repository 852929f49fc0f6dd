"""Run-wide settings: quick mode, seeding, device choice and data paths."""

from __future__ import annotations

import os
import platform
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


DEVICES = ("cpu", "cuda", "mps")  # the devices get_device and the models accept


def get_device(prefer: str | None = None) -> str:
    """Return ``"cuda"`` or ``"mps"`` when present, else ``"cpu"``; ``prefer`` forces one."""
    if prefer is not None:
        return check_choice("prefer", prefer, DEVICES)
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


def bf16_is_fast(device: str | None = None) -> bool:
    """Whether bf16 (autocast) runs natively on ``device`` (default :func:`get_device`): a
    CUDA GPU that supports it, or a CPU with AVX512-BF16 or AMX. Elsewhere, on AVX2-only
    CPUs among them, PyTorch emulates bf16 and CPU autocast trains about ten times slower
    than float32 (measured on a 2-core AVX2 AMD EPYC: 490 vs 5,950 tokens/s for the 1m
    model), so a notebook should ask for bf16 only where this is True."""
    device = get_device() if device is None else check_choice("device", device, DEVICES)
    import torch

    if device == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device == "cpu":
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False


def describe_hardware() -> str:
    """The machine a run uses, in words (for result cards): the GPU, or CPU model and cores."""
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} GPU, torch {torch.__version__}"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    cpu = next((line.split(":", 1)[1].strip() for line in lines
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    versions = f", torch {torch.__version__}" if torch is not None else ""
    return f"{cpu}, {os.cpu_count()} cores, no GPU{versions}"
