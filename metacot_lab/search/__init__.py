"""Symbolic search that records whole trees: BFS, DFS, A*, beam search and MCTS.

Every algorithm is ``search(problem, *, budget, seed, ...) -> SearchTree``;
:data:`ALGORITHMS` maps names to them and :func:`run_search` runs one by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..envs.base import SearchProblem
from . import astar, beam, bfs, dfs, mcts, rollouts
from .rollouts import label_values, rollout_value
from .tree import Event, SearchTree

ALGORITHMS: dict[str, Callable[..., SearchTree]] = {
    "bfs": bfs.search,
    "dfs": dfs.search,
    "astar": astar.search,
    "beam": beam.search,
    "mcts": mcts.search,
}


def run_search(name: str, problem: SearchProblem, **kwargs: Any) -> SearchTree:
    """Run the algorithm called ``name`` (a key of :data:`ALGORITHMS`) on ``problem``."""
    if name not in ALGORITHMS:
        raise ValueError(f"name must be one of {sorted(ALGORITHMS)}, got {name!r}")
    return ALGORITHMS[name](problem, **kwargs)


__all__ = [
    "ALGORITHMS",
    "Event",
    "SearchTree",
    "astar",
    "beam",
    "bfs",
    "dfs",
    "label_values",
    "mcts",
    "rollout_value",
    "rollouts",
    "run_search",
]
