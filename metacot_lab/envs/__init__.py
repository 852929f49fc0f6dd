"""Environments: Countdown (Game of 24 as a preset) and grid mazes, with exact verifiers."""

from __future__ import annotations

from typing import Any

from .base import SPLITS, SearchProblem, split_of, verify
from .countdown import (
    COUNTDOWN_SPLITS,
    GAME_OF_24,
    Countdown,
    CountdownConfig,
    game_of_24,
    generate_countdown,
    heldout_targets,
)
from .maze import Maze, MazeConfig, PlanVerdict, generate_mazes, shortest_path_length, verify_plan

_KINDS = {Countdown.kind: Countdown, Maze.kind: Maze}


def problem_from_dict(d: dict[str, Any]) -> SearchProblem:
    """Rebuild a problem from its ``to_dict()`` form."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}")
    return _KINDS[kind].from_dict(d)


__all__ = [
    "COUNTDOWN_SPLITS",
    "GAME_OF_24",
    "SPLITS",
    "Countdown",
    "CountdownConfig",
    "Maze",
    "MazeConfig",
    "PlanVerdict",
    "SearchProblem",
    "game_of_24",
    "generate_countdown",
    "generate_mazes",
    "heldout_targets",
    "problem_from_dict",
    "shortest_path_length",
    "split_of",
    "verify",
    "verify_plan",
]
