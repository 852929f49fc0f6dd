"""Searchformer (Lehnert et al., 2024): the published token grammar for A* on mazes.

As ``SimpleMazeTokenizer`` and ``DictTokenizer`` in facebookresearch/searchformer write it,
tokens separated by spaces::

    bos start 0 0 goal 0 2 wall 0 1 eos                   the prompt (walls in row order)
    bos create 0 0 c0 c2 close 0 0 c0 c2 create 1 0 c1 c3 ... close 0 2 c4 c0
        plan 0 0 plan 1 0 plan 1 1 plan 1 2 plan 0 2 eos  the reasoning trace and the plan

``create x y cG cH`` is a ``generate`` event (``G`` the cost from the start, ``H`` the
heuristic), ``close x y cG cH`` an ``expand`` (A* pops the node), and the last ``close``,
right before the plan, the ``goal``. Other algorithms' trees write the same way; a
``backtrack`` (DFS) closes the node it returns to again, which reads back as a backtrack
because that cell was closed before. Cells are ``x`` (column) and ``y`` (row) as in
:class:`~metacot_lab.envs.maze.Maze` (Searchformer names the row direction "up" where we say
"D"; coordinates are the same). The parser also reads the published sequences without
``bos``/``eos`` and a prompt alone; the prompt does not state the maze size, so the problem
it recovers has the smallest size holding every cell it names.
"""

from __future__ import annotations

import re
from typing import Any

from ..envs.maze import Maze
from ..search.tree import SearchTree
from .base import FormatBase, ParsedTrace, TraceStep
from .common import fail

_TOKEN = re.compile(r"\S+")
_INT = re.compile(r"[0-9]{1,3}")
_COST = re.compile(r"c([0-9]{1,7})")


def _cell_tokens(word: str, cell: Any) -> str:
    return f"{word} {cell[0]} {cell[1]}"


def _costed(word: str, attrs: dict[str, Any]) -> str:
    x, y = attrs["state"]
    return f"{word} {x} {y} c{int(attrs['g'])} c{int(attrs['h'])}"


def _step(kind: str, attrs: dict[str, Any]) -> TraceStep:
    return TraceStep(kind, tuple(attrs["state"]), g=float(int(attrs["g"])),
                     h=float(int(attrs["h"])))


class SearchformerFormat(FormatBase):
    """Searchformer's maze token sequences (A* traces; other algorithms write the same way)."""

    name = "searchformer"
    envs = ("maze",)

    def prompt(self, problem: Maze) -> str:
        """``bos start x y goal x y wall x y ... eos`` (walls sorted by row, then column)."""
        self.check_problem(problem)
        walls = sorted(problem.walls, key=lambda c: (c[1], c[0]))
        tokens = ["bos", _cell_tokens("start", problem.start), _cell_tokens("goal", problem.goal)]
        tokens += [_cell_tokens("wall", w) for w in walls]
        return " ".join([*tokens, "eos"]) + "\n"

    def completion(self, tree: SearchTree) -> str:
        """``bos`` + create/close steps + the plan + ``eos``."""
        self.check_problem(tree.problem)
        nodes = tree.graph.nodes
        tokens = ["bos"]
        for e in tree.events:
            if e.kind == "generate":
                tokens.append(_costed("create", nodes[e.node]))
            elif e.kind in ("expand", "backtrack", "goal"):
                tokens.append(_costed("close", nodes[e.node]))
            if e.kind == "goal":
                break
        tokens += [_cell_tokens("plan", c) for c in tree.solution_states()]
        return " ".join([*tokens, "eos"]) + "\n"

    def expected_steps(self, tree: SearchTree) -> list[TraceStep]:
        """generate (create), expand / backtrack / goal (close)."""
        self.check_problem(tree.problem)
        nodes = tree.graph.nodes
        steps: list[TraceStep] = []
        for e in tree.events:
            if e.kind in ("generate", "expand", "backtrack", "goal"):
                steps.append(_step(e.kind, nodes[e.node]))
            if e.kind == "goal":
                break
        return steps

    def parse(self, text: str) -> ParsedTrace:
        """Read a Searchformer token sequence (ours or the published one); never raises."""
        parsed = ParsedTrace()
        if not isinstance(text, str):
            return fail(parsed, "trace must be text", 0)
        tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
        i = _skip(tokens, 0, "bos")
        if i < len(tokens) and tokens[i][1] == "start":
            i, error = self._prompt(tokens, i, parsed)
            if error is not None:
                return fail(parsed, error, tokens[min(i, len(tokens) - 1)][0])
            i = _skip(tokens, _skip(tokens, i, "eos"), "bos")
        closed: set[tuple[int, int]] = set()
        steps = parsed.steps
        plan: list[tuple[int, int]] = []
        while i < len(tokens):
            pos, word = tokens[i]
            if word == "eos":
                if i + 1 < len(tokens):
                    return fail(parsed, "text after eos", tokens[i + 1][0])
                break
            if word in ("create", "close") and not plan:
                values = _numbers(tokens, i + 1, 2, 2)
                if values is None:
                    return fail(parsed, f"'{word}' must be followed by x y cG cH", pos)
                x, y, g, h = values
                cell = (x, y)
                if word == "create":
                    steps.append(TraceStep("generate", cell, g=g, h=h, pos=pos))
                else:
                    kind = "backtrack" if cell in closed else "expand"
                    closed.add(cell)
                    steps.append(TraceStep(kind, cell, g=g, h=h, pos=pos))
                i += 5
            elif word == "plan":
                values = _numbers(tokens, i + 1, 2, 0)
                if values is None:
                    return fail(parsed, "'plan' must be followed by x y", pos)
                if not plan and steps and steps[-1].kind in ("expand", "backtrack"):
                    last = steps[-1]  # the node closed right before the plan: the goal
                    steps[-1] = TraceStep("goal", last.state, g=last.g, h=last.h, pos=last.pos)
                plan.append((values[0], values[1]))
                i += 3
            else:
                return fail(parsed, f"unexpected token {word[:20]!r}", pos)
        if plan:
            parsed.answer = plan
        return parsed

    @staticmethod
    def _prompt(
        tokens: list[tuple[int, str]], i: int, parsed: ParsedTrace
    ) -> tuple[int, str | None]:
        """Read ``start x y goal x y (wall x y)*`` from token ``i``; set ``parsed.problem``."""
        cells: dict[str, list[tuple[int, int]]] = {"start": [], "goal": [], "wall": []}
        while i < len(tokens) and tokens[i][1] in cells:
            values = _numbers(tokens, i + 1, 2, 0)
            if values is None:
                return i, f"'{tokens[i][1]}' must be followed by x y"
            cells[tokens[i][1]].append((values[0], values[1]))
            i += 3
        if len(cells["start"]) != 1 or len(cells["goal"]) != 1:
            return i, "the prompt must name one start and one goal"
        every = cells["start"] + cells["goal"] + cells["wall"]
        n = max(2, 1 + max(max(c) for c in every))
        try:
            parsed.problem = Maze(n, frozenset(cells["wall"]), cells["start"][0], cells["goal"][0])
        except ValueError:
            return i, "the prompt does not state a legal maze"
        return i, None


def _skip(tokens: list[tuple[int, str]], i: int, word: str) -> int:
    return i + 1 if i < len(tokens) and tokens[i][1] == word else i


def _numbers(tokens: list[tuple[int, str]], i: int, plain: int, costs: int) -> list[Any] | None:
    """``plain`` integers then ``costs`` ``cN`` tokens from token ``i``, or ``None``."""
    if i + plain + costs > len(tokens):
        return None
    out: list[Any] = []
    for k in range(plain + costs):
        word = tokens[i + k][1]
        m = _INT.fullmatch(word) if k < plain else _COST.fullmatch(word)
        if m is None:
            return None
        out.append(int(word) if k < plain else float(m[1]))
    return out


FORMAT = SearchformerFormat()
prompt, completion, linearize, parse, expected_steps = FORMAT.functions()

__all__ = [
    "FORMAT",
    "SearchformerFormat",
    "completion",
    "expected_steps",
    "linearize",
    "parse",
    "prompt",
]
