"""Symbolic search that records whole trees: BFS, DFS, A*, beam search and MCTS.

Every algorithm is ``search(problem, *, budget, seed, ...) -> SearchTree``;
:data:`ALGORITHMS` maps names to them and :func:`run_search` runs one by name.
"""

from __future__ import annotations

import inspect
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


def search_arguments(name: str) -> list[str]:
    """The keyword arguments algorithm ``name`` takes (besides ``problem``)."""
    if name not in ALGORITHMS:
        raise ValueError(f"name must be one of {sorted(ALGORITHMS)}, got {name!r}")
    return [p for p in inspect.signature(ALGORITHMS[name]).parameters if p != "problem"]


def check_search_kwargs(name: str, kwargs: Any, exclude: tuple[str, ...] = (),
                        field: str = "arguments") -> dict:
    """``kwargs`` as a dict, or a ``ValueError`` naming a key algorithm ``name`` does not take
    (and the keys it does, less ``exclude``); ``field`` is what the message calls them."""
    if not isinstance(kwargs, dict):
        raise ValueError(f"{field} must be a dict, got {kwargs!r}")
    allowed = [p for p in search_arguments(name) if p not in exclude]
    for key in kwargs:
        if key not in allowed:
            raise ValueError(f"{field} of {name} must be among {allowed}, got {key!r}")
    return dict(kwargs)


def run_search(name: str, problem: SearchProblem, **kwargs: Any) -> SearchTree:
    """Run the algorithm called ``name`` (a key of :data:`ALGORITHMS`) on ``problem``; an
    argument it does not take is a ``ValueError`` naming the ones it does."""
    kwargs = check_search_kwargs(name, kwargs)
    return ALGORITHMS[name](problem, **kwargs)


__all__ = [
    "ALGORITHMS",
    "Event",
    "SearchTree",
    "astar",
    "beam",
    "bfs",
    "check_search_kwargs",
    "dfs",
    "label_values",
    "mcts",
    "rollout_value",
    "rollouts",
    "run_search",
    "search_arguments",
]
