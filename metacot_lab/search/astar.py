"""A* / best-first search (f = weight_g * g + h), recorded as Searchformer records A*.

The open list is a heap ordered by ``(f, h, tie)``: ``tie`` is the insertion counter
(``tie_break="deterministic"``) or a draw from ``random.Random(seed)`` (``"random"``).
The events follow Searchformer's A* so that its token grammar can be written from them:

* the root is generated (``create``);
* a node is popped; an entry whose state has since been reached with a lower ``g`` is
  stale: it is logged ``prune`` and skipped;
* a popped goal is logged ``goal`` and the search stops (the goal test happens on
  popping, so with ``weight_g=1`` and an admissible heuristic the plan is optimal);
* otherwise the node is logged ``expand`` (Searchformer's ``close``), each successor that
  is not closed and improves on the best known ``g`` of its state becomes a node
  (``generate``, Searchformer's ``create``), and the node is logged ``close``.

A generated child with no legal action that is not a goal is a dead end and is not queued;
an expanded node that yields no new child is a dead end too. On problems with cycles
(mazes) expanded states are closed (graph search); Countdown is searched as a tree.
``weight_g=0`` is greedy best-first search.
"""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any

from ..envs.base import SearchProblem
from ..validation import check_choice, check_float
from .common import Heuristic, check_search_args, resolve_heuristic
from .tree import SearchTree

TIE_BREAKS: tuple[str, ...] = ("deterministic", "random")


def search(
    problem: SearchProblem,
    *,
    budget: int = 100_000,
    weight_g: float = 1.0,
    tie_break: str = "deterministic",
    heuristic: Heuristic | None = None,
    seed: int = 0,
) -> SearchTree:
    """Run A* for at most ``budget`` expansions and return the whole recorded tree.

    ``weight_g`` scales the path cost in ``f`` (1: A*, 0: greedy best-first). Equal ``f``
    prefer the lower ``h``, then ``tie_break`` decides (see the module docstring).
    """
    check_search_args(problem, budget, seed)
    weight_g = check_float("weight_g", weight_g, 0.0, 1e6)
    check_choice("tie_break", tie_break, TIE_BREAKS)
    h = resolve_heuristic(problem, heuristic)
    tree = SearchTree(problem, "astar", {
        "budget": budget, "weight_g": weight_g, "tie_break": tie_break, "seed": seed,
    })
    tie = random.Random(seed).random if tie_break == "random" else itertools.count().__next__
    successors, is_goal, cycles = problem.successors, problem.is_goal, problem.has_cycles
    add_node, log = tree.add_node, tree.log
    push, pop = heapq.heappush, heapq.heappop

    start = problem.initial_state()
    h0 = h(start)
    root = add_node(start, h=h0)
    log("generate", root)
    # heap entries: (f, h, tie, node, state, g)
    heap: list[tuple[float, float, Any, int, Any, float]] = [(h0, h0, tie(), root, start, 0.0)]
    best_g: dict[Any, float] = {start: 0.0}  # problems with cycles only
    closed: set[Any] = set()
    expansions = 0
    while heap:
        _, _, _, node, state, g = pop(heap)
        if cycles and g > best_g[state]:
            log("prune", node)  # stale: the state was reached more cheaply later
            continue
        if is_goal(state):
            log("goal", node)
            return tree
        if expansions >= budget:
            tree.budget_exhausted = True
            return tree
        log("expand", node)
        expansions += 1
        if cycles:
            closed.add(state)
        g1 = g + 1.0
        new = 0
        for action, child_state in successors(state):
            if cycles:
                if child_state in closed or best_g.get(child_state, g1 + 1.0) <= g1:
                    continue
                best_g[child_state] = g1
            hc = h(child_state)
            child = add_node(child_state, node, action, g1, hc)
            log("generate", child)
            new += 1
            if not successors(child_state) and not is_goal(child_state):
                log("dead_end", child)
                continue
            push(heap, (weight_g * g1 + hc, hc, tie(), child, child_state, g1))
        if new == 0:
            log("dead_end", node)
        log("close", node)
    return tree
