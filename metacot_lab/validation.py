"""Argument checks that raise a ``ValueError`` naming the field and its allowed range."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` if it is an int in ``[lo, hi]``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer in {_range(lo, hi)}, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be in {_range(lo, hi)}, got {value}")
    return value


def check_float(name: str, value: Any, lo: float, hi: float) -> float:
    """Return ``value`` as float if it is a finite number in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return float(value)


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_int_range(
    name: str, value: Any, lo: int, hi: int
) -> tuple[int, int]:
    """Return ``value`` as ``(low, high)`` with ``lo <= low <= high <= hi``."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a pair (low, high) within [{lo}, {hi}], got {value!r}"
        ) from None
    check_int(f"{name}[0]", low, lo, hi)
    check_int(f"{name}[1]", high, lo, hi)
    if low > high:
        raise ValueError(f"{name} must have low <= high within [{lo}, {hi}], got {value!r}")
    return int(low), int(high)


def _range(lo: int | None, hi: int | None) -> str:
    return f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
