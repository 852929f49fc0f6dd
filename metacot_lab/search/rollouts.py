"""Monte-Carlo value estimates: the fraction of random rollouts from a state that succeed.

A rollout takes uniformly random legal actions until it reaches a goal (success), a dead
end (no legal action) or ``max_depth`` steps (failure). On problems with cycles (mazes) a
rollout does not step straight back to the state it just left unless that is the only
move. Used by MCTS (leaf values) and for process-reward labels (:func:`label_values`).
"""

from __future__ import annotations

import random
from typing import Any

from ..envs.base import SearchProblem
from ..validation import check_int
from .tree import SearchTree

MAX_ROLLOUTS = 100_000
MAX_DEPTH = 1_000_000


def check_rollout_args(k: int, max_depth: int) -> None:
    """Raise ``ValueError`` unless ``k`` (rollouts) and ``max_depth`` are sane."""
    check_int("k", k, 1, MAX_ROLLOUTS)
    check_int("max_depth", max_depth, 0, MAX_DEPTH)


def rollout(
    problem: SearchProblem, state: Any, rng: random.Random, max_depth: int,
    previous: Any = None,
) -> bool:
    """One random rollout from ``state`` (entered from ``previous``); True if it reaches a goal."""
    is_goal, successors, cycles = problem.is_goal, problem.successors, problem.has_cycles
    for _ in range(max_depth):
        if is_goal(state):
            return True
        moves = successors(state)
        if not moves:
            return False
        if cycles and len(moves) > 1:
            onward = [s for _, s in moves if s != previous]
            previous, state = state, rng.choice(onward)
        else:
            previous, state = state, rng.choice(moves)[1]
    return is_goal(state)


def rollout_value(
    problem: SearchProblem, state: Any, k: int, rng: random.Random, max_depth: int,
    previous: Any = None,
) -> float:
    """The fraction of ``k`` random rollouts from ``state`` that reach a goal.

    ``previous`` is the state ``state`` was entered from (mazes: not stepped back to first).
    """
    check_rollout_args(k, max_depth)
    if not isinstance(rng, random.Random):
        raise ValueError(f"rng must be a random.Random, got {type(rng).__name__}")
    return sum(rollout(problem, state, rng, max_depth, previous) for _ in range(k)) / k


def label_values(tree: SearchTree, *, k: int = 16, seed: int = 0, max_depth: int = 64) -> None:
    """Set node attribute ``mc_value`` (:func:`rollout_value`) on every node of ``tree``.

    Each node draws from its own generator seeded by ``(seed, node id)``, so labels do not
    depend on the order in which nodes are labelled.
    """
    check_rollout_args(k, max_depth)
    check_int("seed", seed, 0)
    nodes = tree.graph.nodes
    for node, attrs in nodes(data=True):
        parent = attrs["parent"]
        previous = None if parent is None else nodes[parent]["state"]
        rng = random.Random(f"mc_value:{seed}:{node}")
        attrs["mc_value"] = rollout_value(tree.problem, attrs["state"], k, rng, max_depth,
                                          previous)
