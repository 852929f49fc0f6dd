"""Solution-only traces: the path to the goal and nothing else (the chain-of-thought baseline).

Written in the compact grammar of :mod:`metacot_lab.traces.metacot`, one explore line per
step of the path and the goal verdict on the last, so a model trained on these and one
trained on Meta-CoT traces differ only in the search (dead ends, backtracking)::

    target 47 nums 42 61 66
    61-42=19 -> 66 19
    66-19=47 == 47 goal

Every explore line with numbers (or a cell) left moves into that node. A tree without a
goal has an empty completion.

``solution_map`` (mazes) is the same trace under the map prompt of ``metacot_map``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..search.tree import SearchTree
from .base import TraceStep
from .metacot import CompactFormat, MapPrompt, explore_line, verdict


def path_lines(tree: SearchTree, nodes: Sequence[int]) -> Iterator[tuple[str, list[TraceStep]]]:
    """Explore lines for ``nodes`` (each a child of the one before, the first a child of the
    node the reader is at), as the path formats write and read them: every line moves into
    its node, the goal gets its verdict, a last Countdown number that is not the goal its
    dead-end verdict."""
    for n in nodes:
        line, step = explore_line(tree, n)
        steps = [step]
        state = tree.node(n)["state"]
        last_number = tree.problem.kind == "countdown" and len(state) == 1
        kind = "goal" if tree.problem.is_goal(state) else ("dead_end" if last_number else None)
        if kind is None:
            steps.append(TraceStep("expand", step.state))
        else:
            text, vstep = verdict(tree, n, kind, alone=False)
            line = f"{line} {text}"
            steps.append(vstep)
        yield line, steps


class SolutionFormat(CompactFormat):
    """The solution path alone (Countdown and mazes): one explore line per step of it."""

    name = "solution"
    parse_mode = "path"

    def _lines(self, tree: SearchTree) -> Iterator[tuple[str, list[TraceStep]]]:
        self.check_problem(tree.problem)
        return path_lines(tree, tree.solution_path()[1:])


class SolutionMapFormat(MapPrompt, SolutionFormat):
    """Solution-only traces for mazes under the map prompt of
    :func:`~metacot_lab.traces.metacot.map_prompt`."""

    name = "solution_map"


FORMAT = SolutionFormat()
MAP_FORMAT = SolutionMapFormat()
prompt, completion, linearize, parse, expected_steps = FORMAT.functions()

__all__ = [
    "FORMAT",
    "MAP_FORMAT",
    "SolutionFormat",
    "SolutionMapFormat",
    "completion",
    "expected_steps",
    "linearize",
    "parse",
    "path_lines",
    "prompt",
]
