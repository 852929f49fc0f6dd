"""Monte-Carlo tree search with the standard UCT rule.

A child's score is ``W/N + c * sqrt(ln(N_parent) / N)`` (mean value plus exploration
bonus), the form of Kocsis & Szepesvari (2006). The Meta Chain-of-Thought paper prints the
fraction upside down (``ln(N)`` of the child over the parent's count); we use the standard
form. Unvisited children come first.

One iteration (``budget`` is the number of iterations):

1. *select*: from the root, follow the best-scoring child while the node is expanded and
   every (not exhausted) child has been visited; the node where this stops is logged
   ``select``;
2. *expand*: a node that has no children yet is expanded once (``expand``) and all of
   its children are created (``generate``);
3. *evaluate* an unvisited child drawn at random: a goal is logged ``goal`` and the search
   stops; a dead end (no legal action left) has value 0 and is logged ``dead_end``; any
   other state gets the fraction of ``rollouts`` random rollouts that reach a goal
   (``value="rollout"``) or ``1 / (1 + h)`` (``value="heuristic"``);
4. *backup*: the value is added along the path (node attributes ``visits`` and ``value``,
   the mean) and logged ``backup`` on the evaluated node.

On problems with cycles (mazes) a state is created at most once in the whole tree (so
no path revisits a cell and every cell is expanded at most once, as in the other
algorithms' trees); a node whose every neighbour was reached elsewhere by the time it is
expanded is a dead end. A subtree whose leaves are all dead ends is exhausted and never
selected again; when the root is exhausted the search stops unsolved
(``budget_exhausted`` stays False).
"""

from __future__ import annotations

import math
import random
from typing import Any

from ..envs.base import SearchProblem
from ..validation import check_choice, check_float, check_int
from .common import Heuristic, check_search_args, resolve_heuristic
from .rollouts import MAX_DEPTH, MAX_ROLLOUTS, rollout_value
from .tree import SearchTree

VALUES: tuple[str, ...] = ("rollout", "heuristic")


def search(
    problem: SearchProblem,
    *,
    budget: int = 1_000,
    c: float = 1.4,
    value: str = "rollout",
    rollouts: int = 8,
    max_rollout_depth: int = 64,
    heuristic: Heuristic | None = None,
    seed: int = 0,
) -> SearchTree:
    """Run MCTS for at most ``budget`` iterations and return the whole recorded tree.

    ``c`` weighs exploration; ``value`` picks how a new node is valued (``rollouts``
    random rollouts of at most ``max_rollout_depth`` steps, or the heuristic). All random
    choices come from ``random.Random(seed)``.
    """
    check_search_args(problem, budget, seed)
    c = check_float("c", c, 0.0, 1e6)
    check_choice("value", value, VALUES)
    check_int("rollouts", rollouts, 1, MAX_ROLLOUTS)
    check_int("max_rollout_depth", max_rollout_depth, 0, MAX_DEPTH)
    h = resolve_heuristic(problem, heuristic)
    tree = SearchTree(problem, "mcts", {
        "budget": budget, "c": c, "value": value, "rollouts": rollouts,
        "max_rollout_depth": max_rollout_depth, "seed": seed,
    })
    rng = random.Random(seed)
    nodes = tree.graph.nodes
    cycles = problem.has_cycles

    def moves(state: Any) -> list[tuple[Any, Any]]:
        """Legal ``(action, state)`` pairs, without states already in the tree (cycles)."""
        out = problem.successors(state)
        return [(a, s) for a, s in out if s not in seen] if cycles else out

    start = problem.initial_state()
    root = tree.add_node(start, h=h(start), visits=0, value=0.0)
    tree.log("generate", root)
    seen = {start}  # problems with cycles only
    if problem.is_goal(start):
        tree.log("goal", root)
        return tree
    if not moves(start):
        tree.log("dead_end", root)
        return tree
    children: dict[int, list[int]] = {}  # expanded nodes
    total: dict[int, float] = {}  # W: sum of backed-up values
    exhausted: set[int] = set()

    def best_child(parent: int, live: list[int]) -> int:
        """The child of highest UCT score (the first one on ties)."""
        log_n = math.log(nodes[parent]["visits"])

        def uct(child: int) -> float:
            n = nodes[child]["visits"]
            return total[child] / n + c * math.sqrt(log_n / n)

        return max(live, key=uct)

    def evaluate(node: int, parent: int) -> float:
        """The value of a new node that is not a goal (0 at a dead end)."""
        state = nodes[node]["state"]
        if not moves(state):
            tree.log("dead_end", node)
            exhausted.add(node)
            return 0.0
        if value == "heuristic":
            return 1.0 / (1.0 + nodes[node]["h"])
        return rollout_value(problem, state, rollouts, rng, max_rollout_depth,
                             nodes[parent]["state"])

    iterations = 0
    while root not in exhausted:
        if iterations >= budget:
            tree.budget_exhausted = True
            break
        iterations += 1
        path, node = [root], root
        while node in children:  # select
            live = [k for k in children[node] if k not in exhausted]
            unvisited = [k for k in live if nodes[k]["visits"] == 0]
            if unvisited:
                break
            node = best_child(node, live)
            path.append(node)
        tree.log("select", node)
        if node not in children:  # expand: every child at once
            tree.log("expand", node)
            g = nodes[node]["g"] + 1
            children[node] = unvisited = []
            for action, state in moves(nodes[node]["state"]):
                child = tree.add_node(state, node, action, g, h(state), visits=0, value=0.0)
                tree.log("generate", child)
                unvisited.append(child)
                if cycles:
                    seen.add(state)
        if unvisited:  # evaluate a new child
            child = rng.choice(unvisited)
            path.append(child)
            if problem.is_goal(nodes[child]["state"]):
                tree.log("goal", child)
                return tree
            v = evaluate(child, node)
        else:  # (cycles) every neighbour was reached elsewhere before the expansion
            v = 0.0
            tree.log("dead_end", node)
            exhausted.add(node)
        for n in path:  # backup
            total[n] = total.get(n, 0.0) + v
            nodes[n]["visits"] += 1
            nodes[n]["value"] = total[n] / nodes[n]["visits"]
        tree.log("backup", path[-1], v)
        for n in reversed(path[:-1]):
            if not all(k in exhausted for k in children[n]):
                break
            exhausted.add(n)
    return tree
