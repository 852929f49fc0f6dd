"""Beam search: the search advances layer by layer, keeping the ``width`` best nodes.

Each node of the current beam is expanded and its children generated (goal-tested when
generated: the first goal stops the search); a child with no legal action that is not a
goal is a dead end, and so is an expanded node that yields no new child. The remaining
children of the whole layer are ranked by ``h`` (``score="h"``) or ``g + h``
(``score="f"``), equal scores keeping generation order; the best ``width`` form the next
beam and the others are pruned. Width 1 is greedy search; a width at least the size of a
layer is breadth-first search.

On problems with cycles (mazes) a child is skipped when its state was already in a beam
(expanded) or was generated earlier in the same layer; a state pruned in one layer may
be generated again later.
"""

from __future__ import annotations

from typing import Any

from ..envs.base import SearchProblem
from ..validation import check_choice, check_int
from .common import Heuristic, check_search_args, resolve_heuristic, start_search
from .tree import SearchTree

SCORES: tuple[str, ...] = ("h", "f")


def search(
    problem: SearchProblem,
    *,
    budget: int = 100_000,
    width: int = 3,
    score: str = "h",
    heuristic: Heuristic | None = None,
    seed: int = 0,
) -> SearchTree:
    """Run beam search of ``width`` for at most ``budget`` expansions; return the tree.

    Beam search is deterministic; ``seed`` is accepted for a uniform interface and recorded.
    """
    check_search_args(problem, budget, seed)
    check_int("width", width, 1, 1_000_000)
    check_choice("score", score, SCORES)
    h = resolve_heuristic(problem, heuristic)
    tree = SearchTree(problem, "beam", {
        "budget": budget, "width": width, "score": score, "seed": seed,
    })
    start = problem.initial_state()
    root, solved = start_search(tree, start, h)
    if solved:
        return tree
    nodes = tree.graph.nodes
    closed = {start}  # states placed in a beam (problems with cycles only)
    beam: list[tuple[int, list[tuple[Any, Any]]]] = [(root, problem.successors(start))]
    expansions = 0
    while beam:
        layer_seen: set[Any] = set()
        candidates: list[tuple[float, int, list[tuple[Any, Any]]]] = []
        for node, successors in beam:
            if expansions >= budget:
                tree.budget_exhausted = True
                return tree
            tree.log("expand", node)
            expansions += 1
            g = nodes[node]["g"] + 1
            new = 0
            for action, state in successors:
                if problem.has_cycles:
                    if state in closed or state in layer_seen:
                        continue
                    layer_seen.add(state)
                hc = h(state)
                child = tree.add_node(state, node, action, g, hc)
                tree.log("generate", child)
                new += 1
                if problem.is_goal(state):
                    tree.log("goal", child)
                    return tree
                below = problem.successors(state)
                if below:
                    candidates.append((hc if score == "h" else g + hc, child, below))
                else:
                    tree.log("dead_end", child)
            if new == 0:
                tree.log("dead_end", node)
            tree.log("close", node)
        candidates.sort(key=lambda c: c[0])  # stable: equal scores keep generation order
        for child in sorted(c[1] for c in candidates[width:]):  # in generation order
            tree.log("prune", child)
        beam = [(child, below) for _, child, below in candidates[:width]]
        if problem.has_cycles:
            closed.update(nodes[child]["state"] for child, _ in beam)
    return tree
