"""Depth-first search as Stream of Search runs it on Countdown.

At each node the children are sorted by heuristic (ties keep generation order), children
whose heuristic exceeds ``threshold`` are pruned, and the rest are tried in order; a leaf
that is not a goal is a dead end, after which the search backtracks to the parent and
tries its next child. Children are created lazily, when the search tries them, so the tree
holds exactly what the search looked at (plus the pruned children, marked ``pruned``).

On problems with cycles (mazes) states already visited are skipped (graph search).
"""

from __future__ import annotations

from typing import Any

from ..envs.base import SearchProblem
from .common import Heuristic, check_search_args, resolve_heuristic, start_search
from .tree import SearchTree


def search(
    problem: SearchProblem,
    *,
    budget: int = 100_000,
    threshold: float | None = None,
    heuristic: Heuristic | None = None,
    seed: int = 0,
) -> SearchTree:
    """Run DFS for at most ``budget`` expansions and return the whole recorded tree.

    ``threshold``: prune children whose heuristic is above it (Stream of Search uses the
    target; ``None`` keeps every child, which makes the search complete). DFS is
    deterministic; ``seed`` is accepted for a uniform interface and recorded.
    """
    check_search_args(problem, budget, seed)
    h = resolve_heuristic(problem, heuristic)
    tree = SearchTree(problem, "dfs", {"budget": budget, "threshold": threshold, "seed": seed})
    start = problem.initial_state()
    root, solved = start_search(tree, start, h)
    if solved:
        return tree
    visited = {start}

    def expand(node: int, successors: list[tuple[Any, Any]]) -> list[tuple[Any, Any, float]]:
        tree.log("expand", node)
        g = tree.graph.nodes[node]["g"]
        scored = [
            (h(child), action, child)
            for action, child in successors
            if not (problem.has_cycles and child in visited)
        ]
        scored.sort(key=lambda t: t[0])  # stable: equal heuristics keep generation order
        kept = []
        for hc, action, child in scored:
            if threshold is not None and hc > threshold:
                tree.log("prune", tree.add_node(child, node, action, g + 1, hc))
            else:
                kept.append((action, child, hc))
        return kept

    stack: list[tuple[int, list[tuple[Any, Any, float]], int]] = [
        (root, expand(root, problem.successors(start)), 0)
    ]
    expansions = 1
    while stack:
        node, kept, i = stack[-1]
        if i == len(kept):  # every child tried: the subtree is exhausted
            stack.pop()
            if i == 0:  # nothing was left to try below this node
                tree.log("dead_end", node)
            tree.log("close", node)
            if stack and stack[-1][2] < len(stack[-1][1]):
                tree.log("backtrack", stack[-1][0])
            continue
        stack[-1] = (node, kept, i + 1)
        action, state, hc = kept[i]
        if problem.has_cycles and state in visited:  # reached meanwhile by another branch
            continue
        visited.add(state)
        child = tree.add_node(state, node, action, tree.graph.nodes[node]["g"] + 1, hc)
        tree.log("generate", child)
        if problem.is_goal(state):
            tree.log("goal", child)
            return tree
        successors = problem.successors(state)
        if not successors:  # a leaf that is not the goal
            tree.log("dead_end", child)
            if i + 1 < len(kept):
                tree.log("backtrack", node)
            continue
        if expansions >= budget:
            tree.budget_exhausted = True
            return tree
        stack.append((child, expand(child, successors), 0))
        expansions += 1
    return tree
