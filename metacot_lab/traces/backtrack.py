"""Backtracking traces (the seed paper's Eq. 8): a solution path with an explicit ``[BACK]``
after wrong steps, for the backtracking lessons.

A wrong branch is taken from the tree itself: a child the search tried at some node of the
solution path, off that path (and, with ``max_wrong`` > 1, tried descendants of it). The
trace walks the path to that node, takes the wrong steps, writes one ``[BACK]`` per wrong
step (each undoes one step) and continues along the solution::

    target 47 nums 42 61 66
    66-42=24 -> 61 24              a wrong step (a branch the search tried and left)
    61-24=37 != 47                 ... down to a last number that misses the target
    [BACK]
    [BACK]
    61-42=19 -> 66 19              the correct continuation
    66-19=47 == 47 goal

Lines are the compact grammar of :mod:`metacot_lab.traces.metacot`. The wrong branch is
chosen with ``random.Random`` seeded by the format's ``seed`` and the problem, so the same
tree gives the same text. A tree whose solution path has no tried side branch gives the
plain solution; a tree without a goal an empty completion.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ..search.tree import SearchTree
from ..validation import check_int
from .base import TraceStep
from .metacot import CompactFormat
from .solution import path_lines

BACK = "[BACK]"


class BacktrackFormat(CompactFormat):
    """Solution paths with a wrong branch and ``[BACK]`` (Countdown and mazes): the path to
    the wrong branch, the wrong steps, one ``[BACK]`` each, the rest of the path."""

    name = "backtrack"
    parse_mode = "path"

    def __init__(self, seed: int = 0, max_wrong: int = 2):
        self.seed = check_int("seed", seed, 0)
        self.max_wrong = check_int("max_wrong", max_wrong, 1, 64)  # wrong steps per detour

    def detour(self, tree: SearchTree) -> tuple[int, list[int]]:
        """``(i, wrong)``: the wrong nodes, entered from the ``i``-th node of the solution
        path; ``wrong`` is empty when the path has no tried side branch."""
        path = tree.solution_path()
        tried = {e.node for e in tree.events if e.kind == "generate"}
        on_path = set(path)

        def side(node: int) -> list[int]:
            return [c for c in tree.children(node)
                    if c in tried and c not in on_path and not tree.problem.is_goal(
                        tree.node(c)["state"])]

        starts = [(i, c) for i, p in enumerate(path[:-1]) for c in side(p)]
        if not starts:
            return 0, []
        rng = random.Random(f"backtrack:{self.seed}:{tree.problem.key()}")
        i, node = starts[rng.randrange(len(starts))]
        wrong = [node]
        depth = rng.randint(1, self.max_wrong)
        while len(wrong) < depth and (deeper := side(wrong[-1])):
            wrong.append(deeper[rng.randrange(len(deeper))])
        return i, wrong

    def _lines(self, tree: SearchTree) -> Iterator[tuple[str, list[TraceStep]]]:
        self.check_problem(tree.problem)
        path = tree.solution_path()
        i, wrong = self.detour(tree)
        yield from path_lines(tree, path[1 : i + 1])
        if wrong:
            yield from path_lines(tree, wrong)
            for k in range(len(wrong) - 1, -1, -1):
                back_to = path[i] if k == 0 else wrong[k - 1]
                yield BACK, [TraceStep("backtrack", tuple(tree.node(back_to)["state"]))]
        yield from path_lines(tree, path[i + 1 :])


FORMAT = BacktrackFormat()
prompt, completion, linearize, parse, expected_steps = FORMAT.functions()

__all__ = [
    "BACK",
    "FORMAT",
    "BacktrackFormat",
    "completion",
    "expected_steps",
    "linearize",
    "parse",
    "prompt",
]
