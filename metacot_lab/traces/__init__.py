"""Search trees as text: one module per trace format, a registry, and the trace verifier.

Every format turns a :class:`~metacot_lab.search.tree.SearchTree` into
``prompt(problem) + completion(tree)`` and reads such text back (never raising). Formats:

========== =========================== ==================================================
name       environments                what it writes
========== =========================== ==================================================
sos        countdown                   Stream of Search text (the published format)
========== =========================== ==================================================
"""

from __future__ import annotations

from .base import FormatBase, ParsedTrace, TraceFormat, TraceStep, TraceVerdict
from .sos import FORMAT as SOS

FORMATS: dict[str, TraceFormat] = {f.name: f for f in (SOS,)}
"""Every trace format by name."""


def get_format(name: str | TraceFormat) -> TraceFormat:
    """The format called ``name`` (a format object passes through); ``ValueError`` otherwise."""
    if isinstance(name, TraceFormat) and not isinstance(name, str):
        return name
    if not isinstance(name, str) or name not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {name!r}")
    return FORMATS[name]


def formats_for(kind: str) -> list[str]:
    """Names of the formats that can write problems of ``kind`` ("countdown", "maze")."""
    return [name for name, f in FORMATS.items() if kind in f.envs]


__all__ = [
    "FORMATS",
    "FormatBase",
    "ParsedTrace",
    "TraceFormat",
    "TraceStep",
    "TraceVerdict",
    "formats_for",
    "get_format",
]
