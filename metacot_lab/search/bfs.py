"""Breadth-first search: nodes are expanded in the order they were generated (FIFO).

A child is goal-tested when it is generated, so the first goal found is a shortest
solution on unit-cost problems. A generated child with no legal action that is not a goal
is a dead end and is never queued; an expanded node that yields no new child (every
neighbour already seen, on problems with cycles) is a dead end too.

On problems with cycles (mazes) a state is generated at most once (graph search).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..envs.base import SearchProblem
from .common import Heuristic, check_search_args, resolve_heuristic, start_search
from .tree import SearchTree


def search(
    problem: SearchProblem,
    *,
    budget: int = 100_000,
    heuristic: Heuristic | None = None,
    seed: int = 0,
) -> SearchTree:
    """Run BFS for at most ``budget`` expansions and return the whole recorded tree.

    ``heuristic`` only fills the nodes' ``h`` (BFS does not use it). BFS is deterministic;
    ``seed`` is accepted for a uniform interface and recorded.
    """
    check_search_args(problem, budget, seed)
    h = resolve_heuristic(problem, heuristic)
    tree = SearchTree(problem, "bfs", {"budget": budget, "seed": seed})
    start = problem.initial_state()
    root, solved = start_search(tree, start, h)
    if solved:
        return tree
    seen = {start}
    queue: deque[tuple[int, list[tuple[Any, Any]]]] = deque([(root, problem.successors(start))])
    nodes = tree.graph.nodes
    expansions = 0
    while queue:
        if expansions >= budget:
            tree.budget_exhausted = True
            return tree
        node, successors = queue.popleft()
        tree.log("expand", node)
        expansions += 1
        g = nodes[node]["g"] + 1
        new = 0
        for action, state in successors:
            if problem.has_cycles:
                if state in seen:
                    continue
                seen.add(state)
            child = tree.add_node(state, node, action, g, h(state))
            tree.log("generate", child)
            new += 1
            if problem.is_goal(state):
                tree.log("goal", child)
                return tree
            below = problem.successors(state)
            if below:
                queue.append((child, below))
            else:
                tree.log("dead_end", child)
        if new == 0:
            tree.log("dead_end", node)
        tree.log("close", node)
    return tree
