"""Argument handling shared by the search algorithms."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..envs.base import SearchProblem
from ..validation import check_int

if TYPE_CHECKING:
    from .tree import SearchTree

Heuristic = Callable[[Any], float]
MAX_BUDGET = 10_000_000


def check_search_args(problem: Any, budget: int, seed: int) -> None:
    """Raise ``ValueError`` unless ``problem`` is a SearchProblem and budget/seed are sane."""
    if not isinstance(problem, SearchProblem):
        raise ValueError(f"problem must implement SearchProblem, got {type(problem).__name__}")
    check_int("budget", budget, 1, MAX_BUDGET)
    check_int("seed", seed, 0)


def resolve_heuristic(problem: SearchProblem, heuristic: Heuristic | None) -> Heuristic:
    """``heuristic`` if given, else the problem's own."""
    return problem.heuristic if heuristic is None else heuristic


def is_dead_end(problem: SearchProblem, state: Any) -> bool:
    """A state that is not a goal and has no legal action."""
    return not problem.is_goal(state) and not problem.successors(state)


def start_search(tree: SearchTree, start: Any, h: Heuristic) -> tuple[int, bool]:
    """Add the root (state ``start``) to ``tree`` and log its ``generate`` (and ``goal`` if
    it is one). Returns ``(root, whether start is a goal)``."""
    root = tree.add_node(start, h=h(start))
    tree.log("generate", root)
    solved = tree.problem.is_goal(start)
    if solved:
        tree.log("goal", root)
    return root, solved
