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


def heuristics(problem: SearchProblem) -> dict[str, Heuristic]:
    """The heuristics of ``problem`` by name: ``"problem"`` (its own), ``"zero"`` (none: A*
    becomes uniform-cost search), and Countdown's two Stream of Search heuristics ``"sum"``
    and ``"mult"`` or the maze's ``"manhattan"``."""
    named: dict[str, Heuristic] = {"problem": problem.heuristic, "zero": lambda state: 0.0}
    if getattr(problem, "kind", None) == "countdown":
        from ..envs.countdown import HEURISTICS

        target = problem.target
        for name, fn in HEURISTICS.items():
            named[name] = lambda state, fn=fn: fn(state, target)
    elif getattr(problem, "kind", None) == "maze":
        named["manhattan"] = problem.heuristic
    return named


def resolve_heuristic(problem: SearchProblem,
                      heuristic: Heuristic | str | None) -> Heuristic:
    """``heuristic`` if it is a function, the one of :func:`heuristics` it names, else
    (``None``) the problem's own."""
    if heuristic is None:
        return problem.heuristic
    if isinstance(heuristic, str):
        named = heuristics(problem)
        if heuristic not in named:
            raise ValueError(f"heuristic must be a function or one of {list(named)}, got "
                             f"{heuristic!r}")
        return named[heuristic]
    if not callable(heuristic):
        raise ValueError(f"heuristic must be a function or one of "
                         f"{list(heuristics(problem))}, got {heuristic!r}")
    return heuristic


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
