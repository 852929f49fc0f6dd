"""The registry of trace formats by name."""

from __future__ import annotations

from .backtrack import FORMAT as BACKTRACK
from .base import TraceFormat
from .metacot import FORMAT as METACOT
from .metacot import MAP_FORMAT as METACOT_MAP
from .metacot import WALLS_FORMAT as METACOT_WALLS
from .searchformer import FORMAT as SEARCHFORMER
from .solution import FORMAT as SOLUTION
from .solution import MAP_FORMAT as SOLUTION_MAP
from .sos import FORMAT as SOS

FORMATS: dict[str, TraceFormat] = {
    f.name: f for f in (SOS, SEARCHFORMER, SOLUTION, METACOT, METACOT_WALLS, BACKTRACK,
                        SOLUTION_MAP, METACOT_MAP)
}
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
