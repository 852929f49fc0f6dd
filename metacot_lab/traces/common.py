"""Small helpers the trace formats share: reading text line by line with offsets, bounded
number patterns, and reading a tree's nodes as Countdown steps."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..envs.countdown import MAX_VALUE, Step
from ..search.tree import SearchTree
from .base import ParsedTrace

NUM = rf"[0-9]{{1,{len(str(MAX_VALUE))}}}"
"""A non-negative integer with at most as many digits as any legal value: parsers never
build huge ints from garbage (and never hit Python's int-from-str digit limit). Digits are
ASCII in every trace format, as in :func:`~metacot_lab.envs.countdown.parse_step`: ``\\d``
would also read Arabic-Indic or fullwidth digits, which no format writes."""
STEP = rf"({NUM})([-+*/])({NUM})=({NUM})"
"""``a op b = r`` with no spaces, as every format writes a Countdown step (4 groups)."""


def step_from_match(m: re.Match[str], first: int = 1) -> Step:
    """The :class:`Step` held by groups ``first .. first+3`` of a match of :data:`STEP`."""
    return Step(int(m[first]), m[first + 1], int(m[first + 2]), int(m[first + 3]))


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, line)`` for each line of ``text`` (``\\r`` at a line end is dropped)."""
    pos = 0
    for line in text.split("\n"):
        yield pos, line.rstrip("\r")
        pos += len(line) + 1


def fail(parsed: ParsedTrace, error: str, pos: int) -> ParsedTrace:
    """Record the first parse error on ``parsed`` and return it."""
    if parsed.error is None:
        parsed.error, parsed.error_pos = error, pos
    return parsed


def node_step(tree: SearchTree, node: int) -> Step:
    """The Countdown step that created ``node`` (from its parent's state and its action)."""
    nodes = tree.graph.nodes
    parent = nodes[node]["parent"]
    return tree.problem.action_step(nodes[parent]["state"], nodes[node]["action"])


def path_steps(tree: SearchTree, node: int) -> tuple[Step, ...]:
    """The Countdown steps from the root to ``node``."""
    return tuple(node_step(tree, n) for n in tree.path_to(node)[1:])


def sibling_index(tree: SearchTree) -> dict[int, int]:
    """For every node with a ``generate`` event (but the root): its position among its
    parent's generated children, in the order they were generated."""
    seen: dict[int, int] = {}
    index: dict[int, int] = {}
    nodes = tree.graph.nodes
    for e in tree.events:
        if e.kind == "generate" and e.node != tree.root and e.node not in index:
            parent = nodes[e.node]["parent"]
            index[e.node] = seen.get(parent, 0)
            seen[parent] = index[e.node] + 1
    return index

