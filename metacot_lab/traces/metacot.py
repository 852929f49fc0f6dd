"""Compact Meta-CoT: our own trace format, short enough for small models and contexts.

One line per step of the search; numbers are plain decimals set apart by spaces or
punctuation (never glued to a word), so a vocabulary of digits, a few operators and a dozen
words covers every trace. Every verification restates what it compares. Countdown::

    target 47 nums 42 61 66        the prompt
    66-42=24 -> 61 24              explore: a step and the numbers it leaves
    at                             expand the node just explored (else: at 61 24)
    61-24=37 != 47                 explore a last step and verify it: not the target
    61+24=85 != 47
    back 42 61 66                  backtrack, restating the numbers returned to
    61-42=19 -> 66 19
    at
    66-19=47 == 47 goal            verify: the target is reached

Mazes (cells are ``x,y``; ``g`` moves from the start, ``h`` the Manhattan distance to the
goal, which is 0 exactly at the goal)::

    maze 5 start 0,0 goal 2,2 walls 1,0 1,1
    0,1 g 1 h 3                    explore a cell
    at                             expand it (else: at 0,1)
    0,2 g 2 h 2
    3,1 dead                       a cell with no unexplored open neighbour
    1,0 wall                       metacot_walls only: a wall next to the expanded cell
    back 0,1                       backtrack
    2,2 g 4 h 0 goal               the goal

What a tree's events become: ``generate`` an explore line (followed on the same line by the
node's ``goal``/``dead_end`` verdict when that is the next event); ``expand`` an ``at`` line
(the root's first expansion is the prompt itself); ``backtrack`` a ``back`` line, left out
when the search is already at that node (DFS returning from a leaf it only explored);
``goal`` and ``dead_end`` a verdict. Countdown writes only the dead ends it can state as a
comparison (a last number that is not the target); ``prune``, ``close``, ``select`` and
``backup`` write nothing. The final answer is the path to the goal.

``metacot_map`` (mazes only) is the same trace under another prompt: every cell of the grid
in reading order, each followed by its mark, ``#`` a wall and ``-`` open
(``maze 3 start 0,0 goal 2,2 walls 0,0 - 1,0 # 2,0 - 0,1 - ...``), so that checking a cell
is finding it in the prompt and reading the mark after it, where the wall list makes the
model notice that a cell is absent.

``metacot_walls`` (mazes only) is the same trace with a ``wall`` line after every expansion
(the root's included) for each wall next to the expanded cell: the check that a move stays
off the walls, which the plain trace leaves to the model's reading of the prompt, becomes a
written step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..envs.countdown import Countdown
from ..envs.maze import Cell, Maze
from ..search.tree import SearchTree
from .base import LineFormat, ParsedTrace, TraceStep
from .common import NUM, STEP, fail, iter_lines, node_step, step_from_match

_NUMS = rf"{NUM}(?: {NUM})*"
_CELL = r"([0-9]{1,3}),([0-9]{1,3})"
_COST = r"[0-9]{1,9}(?:\.[0-9]{1,6})?"

CD_PROMPT = re.compile(rf"target ({NUM}) nums ({_NUMS})")
CD_EXPLORE = re.compile(rf"{STEP}(?: -> ({_NUMS})| != ({NUM})| == ({NUM}) goal)?")
CD_VERDICT = re.compile(rf"({NUM}) (?:!= ({NUM})|== ({NUM}) goal)")
CD_AT = re.compile(rf"(at|back)(?: ({_NUMS}))?")
MZ_PROMPT = re.compile(
    rf"maze ([0-9]{{1,2}}) start {_CELL} goal {_CELL} walls((?: [0-9]{{1,3}},[0-9]{{1,3}})*)"
)
MZ_MAP = re.compile(
    rf"maze ([0-9]{{1,2}}) start {_CELL} goal {_CELL} walls((?: [0-9]{{1,3}},[0-9]{{1,3}} [#-])+)"
)
MZ_EXPLORE = re.compile(rf"{_CELL} g ({_COST}) h ({_COST})( goal)?")
MZ_VERDICT = re.compile(rf"{_CELL} (goal|dead|wall)")
MZ_AT = re.compile(rf"(at|back)(?: {_CELL})?")
_WALL = re.compile(r"([0-9]{1,3}),([0-9]{1,3})")
_MAP_CELL = re.compile(r"([0-9]{1,3}),([0-9]{1,3}) ([#-])")


def cost_text(value: float) -> str:
    """A cost as written: an integer when integral, else at most 6 decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0")


def nums_text(state: Any) -> str:
    """Countdown numbers as written: ``"61 24"``."""
    return " ".join(str(x) for x in state)


def cell_text(cell: Any) -> str:
    """A maze cell as written: ``"3,4"``."""
    return f"{cell[0]},{cell[1]}"


def state_text(kind: str, state: Any) -> str:
    """A state as the compact formats write it."""
    return nums_text(state) if kind == "countdown" else cell_text(state)


def compact_prompt(problem: Any) -> str:
    """The prompt of the compact formats (Meta-CoT, solution-only, backtrack)."""
    if problem.kind == "countdown":
        return f"target {problem.target} nums {nums_text(problem.numbers)}\n"
    walls = " ".join(cell_text(c) for c in sorted(problem.walls, key=lambda c: (c[1], c[0])))
    return (f"maze {problem.n} start {cell_text(problem.start)} goal {cell_text(problem.goal)} "
            f"walls{' ' if walls else ''}{walls}\n")


def map_prompt(problem: Maze) -> str:
    """The prompt of the ``_map`` formats: every cell of the grid in reading order (row by
    row), each followed by ``#`` (a wall) or ``-`` (open), so every cell a search can name
    appears in the prompt with its answer next to it."""
    cells = " ".join(
        f"{x},{y} {'#' if (x, y) in problem.walls else '-'}"
        for y in range(problem.n) for x in range(problem.n)
    )
    return (f"maze {problem.n} start {cell_text(problem.start)} goal {cell_text(problem.goal)} "
            f"walls {cells}\n")


def read_compact_prompt(line: str) -> tuple[str, Any] | None:
    """``(kind, problem or None)`` if ``line`` is a compact prompt, else ``None``."""
    if m := CD_PROMPT.fullmatch(line):
        try:
            return "countdown", Countdown(tuple(int(x) for x in m[2].split()), int(m[1]))
        except ValueError:
            return "countdown", None
    if m := MZ_PROMPT.fullmatch(line):
        walls = [(int(a), int(b)) for a, b in _WALL.findall(m[6])]
        try:
            return "maze", Maze(int(m[1]), frozenset(walls), (int(m[2]), int(m[3])),
                                (int(m[4]), int(m[5])))
        except ValueError:
            return "maze", None
    if m := MZ_MAP.fullmatch(line):
        return "maze", _read_map(int(m[1]), (int(m[2]), int(m[3])), (int(m[4]), int(m[5])),
                                 _MAP_CELL.findall(m[6]))
    return None


def _read_map(n: int, start: Cell, goal: Cell,
              cells: list[tuple[str, str, str]]) -> Maze | None:
    """The maze of a map prompt, or ``None`` unless it lists every cell once, in order."""
    listed = [(int(x), int(y)) for x, y, _ in cells]
    if listed != [(x, y) for y in range(n) for x in range(n)]:
        return None
    walls = frozenset(c for c, (_, _, mark) in zip(listed, cells, strict=True) if mark == "#")
    try:
        return Maze(n, walls, start, goal)
    except ValueError:
        return None


def explore_line(tree: SearchTree, node: int) -> tuple[str, TraceStep]:
    """The explore line of ``node`` (without a verdict) and the step it stands for."""
    attrs = tree.graph.nodes[node]
    state = attrs["state"]
    if tree.problem.kind == "countdown":
        step = node_step(tree, node)
        if len(state) == 1:  # a last number: no "->", the verdict says what it is
            return str(step), TraceStep("generate", tuple(state), step)
        return f"{step} -> {nums_text(state)}", TraceStep("generate", tuple(state), step)
    g, h = attrs["g"], attrs["h"]
    return (f"{cell_text(state)} g {cost_text(g)} h {cost_text(h)}",
            TraceStep("generate", tuple(state), g=float(g), h=float(h)))


def writes_verdict(tree: SearchTree, node: int, kind: str) -> bool:
    """Whether the compact formats write ``kind`` ("goal"/"dead_end") of ``node``."""
    return kind == "goal" or tree.problem.kind == "maze" or len(tree.node(node)["state"]) == 1


def joins_explore(tree: SearchTree, node: int, kind: str) -> bool:
    """Whether a verdict right after ``node``'s explore line goes on that line (maze dead
    ends always stand alone)."""
    return writes_verdict(tree, node, kind) and (kind == "goal" or tree.problem.kind != "maze")


def verdict(tree: SearchTree, node: int, kind: str, *, alone: bool) -> tuple[str, TraceStep]:
    """A goal or dead-end verdict: after an explore line, or ``alone`` on its own line."""
    problem = tree.problem
    state = tuple(tree.node(node)["state"])
    if problem.kind == "countdown":
        t = problem.target
        text = f"!= {t}" if kind == "dead_end" else f"== {t} goal"
        return (f"{state[0]} {text}" if alone else text), TraceStep(kind, state, target=t)
    word = "goal" if kind == "goal" else "dead"
    return (f"{cell_text(state)} {word}" if alone else word), TraceStep(kind, state)


class CompactFormat(LineFormat):
    """The compact formats (Meta-CoT, solution-only, backtrack): the compact prompt, one
    line per step written by :meth:`_lines`, read back by :func:`parse_compact` in
    ``parse_mode``."""

    envs = ("countdown", "maze")
    parse_mode = "search"

    def prompt(self, problem: Any) -> str:
        """``target T nums a b c`` or ``maze n start x,y goal x,y walls x,y ...``."""
        self.check_problem(problem)
        return compact_prompt(problem)

    def parse(self, text: str) -> ParsedTrace:
        """Read a trace of this format; never raises."""
        return parse_compact(text, self.parse_mode)


class MetaCotFormat(CompactFormat):
    """Compact Meta-CoT traces (Countdown and mazes, any search algorithm): one line per
    written event (see the module docstring)."""

    name = "metacot"

    def _lines(self, tree: SearchTree) -> Iterator[tuple[str, list[TraceStep]]]:
        self.check_problem(tree.problem)
        kind = tree.problem.kind
        nodes = tree.graph.nodes
        events = tree.events
        focus, last_explored, root_expanded = tree.root, None, False
        i = 0
        while i < len(events):
            e = events[i]
            n = e.node
            i += 1
            if e.kind == "generate" and n != tree.root:
                line, step = explore_line(tree, n)
                steps = [step]
                nxt = events[i] if i < len(events) else None
                if (nxt is not None and nxt.node == n and nxt.kind in ("goal", "dead_end")
                        and joins_explore(tree, n, nxt.kind)):
                    text, vstep = verdict(tree, n, nxt.kind, alone=False)
                    line, i = f"{line} {text}", i + 1
                    steps.append(vstep)
                last_explored = n
                yield line, steps
            elif e.kind == "expand":
                state = tuple(nodes[n]["state"])
                if n == tree.root and not root_expanded:
                    line = None  # the prompt puts the search at the root
                elif n == last_explored:
                    line = "at"
                else:
                    line = f"at {state_text(kind, state)}"
                yield from self._expansion(tree, state, line)
                root_expanded = root_expanded or n == tree.root
                focus = n
            elif e.kind == "backtrack" and n != focus:
                state = tuple(nodes[n]["state"])
                yield f"back {state_text(kind, state)}", [TraceStep("backtrack", state)]
                focus = n
            elif e.kind in ("goal", "dead_end") and writes_verdict(tree, n, e.kind):
                text, vstep = verdict(tree, n, e.kind, alone=True)
                yield text, [vstep]

    def _expansion(self, tree: SearchTree, state: Any,
                   line: str | None) -> Iterator[tuple[str, list[TraceStep]]]:
        """The lines of an expansion of ``state``: its ``line`` (``None`` where the prompt
        stands for it)."""
        if line is not None:
            yield line, [TraceStep("expand", state)]


class MapPrompt(CompactFormat):
    """Mazes prompted by :func:`map_prompt` (every cell with its wall mark) instead of the
    wall list; the trace is the base format's. Mix in before a compact format."""

    envs = ("maze",)

    def prompt(self, problem: Any) -> str:
        """``maze n start x,y goal x,y walls 0,0 - 1,0 # ...``: every cell, row by row."""
        self.check_problem(problem)
        return map_prompt(problem)


class MetaCotMapFormat(MapPrompt, MetaCotFormat):
    """Compact Meta-CoT for mazes under the map prompt."""

    name = "metacot_map"


class MetaCotWallsFormat(MetaCotFormat):
    """Compact Meta-CoT for mazes that also writes, after every expansion, each wall next
    to the expanded cell (``x,y wall``, in the order of the moves U D L R): the wall check a
    plain trace leaves unwritten becomes a step the model is trained to take."""

    name = "metacot_walls"
    envs = ("maze",)

    def _expansion(self, tree: SearchTree, state: Any,
                   line: str | None) -> Iterator[tuple[str, list[TraceStep]]]:
        yield from super()._expansion(tree, state, line)
        for cell in tree.problem.blocked(state):
            yield f"{cell_text(cell)} wall", [TraceStep("wall", cell)]


def parse_compact(text: str, mode: str) -> ParsedTrace:
    """Read a trace in the compact grammar. ``mode``: ``"search"`` (Meta-CoT: ``at`` moves
    the search into a node), ``"path"`` (solution-only and backtrack: every explore line
    with numbers left moves into its node, ``[BACK]`` undoes one move). Never raises."""
    parsed = ParsedTrace()
    if not isinstance(text, str):
        return fail(parsed, "trace must be text", 0)
    reader = _Reader(parsed, mode)
    for pos, line in iter_lines(text):
        line = line.strip()
        if not line:
            continue
        if reader.done:
            return fail(parsed, "text after the goal", pos)
        error = reader.read(line, pos)
        if error is not None:
            return fail(parsed, error, pos)
    return parsed


Path = tuple[Any, "Path"] | tuple[()]
"""A path from the root as a linked list: ``(last item, path before it)``, ``()`` empty."""


def unlink(path: Path | None) -> list[Any]:
    """The items of a linked :data:`Path`, first to last."""
    items = []
    while path:
        item, path = path
        items.append(item)
    return items[::-1]


class _Reader:
    """Line-by-line reading state of :func:`parse_compact`."""

    def __init__(self, parsed: ParsedTrace, mode: str):
        self.parsed = parsed
        self.mode = mode
        self.kind: str | None = None
        self.started = False  # a prompt or a first step was read
        self.done = False
        self.root: Any = None
        self.focus: Any = None  # the written state the search is at (None: unknown)
        self.last: Any = None  # the state of the latest explore line
        # a path is a linked list (item, path to the parent), () at the root, so extending
        # one is constant time and memory however deep the trace goes
        self.paths: dict[Any, Path] = {}  # written state -> its (cheapest) path from the root
        self.stack: list[Any] = []  # path mode: states moved into, root first
        self.stack_paths: list[Path] = []  # path mode: the written path to each of them
        self.child_path: Path | None = None  # the path of the latest explore line
        self.costs: dict[Any, float] = {}  # maze cell -> the g its recorded path has

    def read(self, line: str, pos: int) -> str | None:
        if not self.started:
            self.started = True
            prompt = read_compact_prompt(line)
            if prompt is not None:
                self.kind, problem = prompt
                if problem is None:
                    return "the prompt does not state a legal problem"
                self.parsed.problem = problem
                self.root = problem.initial_state()
                self.focus, self.paths[self.root], self.stack = self.root, (), [self.root]
                self.stack_paths = [()]
                self.costs[self.root] = 0.0
                return None
            self.stack, self.stack_paths = [None], [None]
        if self.kind is None:  # no prompt: the first step tells the environment
            countdown = (CD_EXPLORE, CD_VERDICT, CD_AT)
            self.kind = "countdown" if any(r.fullmatch(line) for r in countdown) else "maze"
        if line == "[BACK]" and self.mode == "path":
            if len(self.stack) < 2:
                return "[BACK] with no step to undo"
            self.stack.pop()
            self.stack_paths.pop()
            self._add(TraceStep("backtrack", self.stack[-1]), pos)
            self.focus = self.stack[-1]
            return None
        if self.kind == "countdown":
            return self._countdown(line, pos)
        return self._maze(line, pos)

    def _add(self, step: TraceStep, pos: int) -> None:
        self.parsed.steps.append(TraceStep(step.kind, step.state, step.action, step.value,
                                           step.g, step.h, step.path, step.target, pos))

    def _explored(self, state: Any, action: Any, item: Any, pos: int, judged: bool,
                  **costs: float) -> None:
        """An explore line: record the step and the node's path (``item`` extends it); in
        path mode, move into the node unless the line ends with a verdict (``judged``)."""
        self._add(TraceStep("generate", state, action, **costs), pos)
        # path mode: the plan is the sequence written; search mode: the path to the node
        parent_path = self.stack_paths[-1] if self.mode == "path" else self.paths.get(self.focus)
        self.child_path = None if parent_path is None else (item, parent_path)
        self.last = state
        g = costs.get("g")
        cheaper = g is not None and g < self.costs.get(state, float("inf"))
        if state is not None and self.child_path is not None and (
                state not in self.paths or cheaper):  # a cell's path: its cheapest written
            self.paths[state] = self.child_path
            if g is not None:
                self.costs[state] = g
        if self.mode == "path":
            self.stack.append(state)  # a step with a verdict is undone by [BACK] too
            self.stack_paths.append(self.child_path)
            if not judged:
                self._add(TraceStep("expand", state), pos)
                self.focus = state

    def _verdict(self, kind: str, state: Any, pos: int, target: Any = None,
                 explored: bool = False) -> None:
        self._add(TraceStep(kind, state, target=target), pos)
        if kind != "goal":
            return
        self.done = True
        if explored:
            path = self.child_path
        elif self.mode == "path":  # the goal must be where the written path stands
            path = self.stack_paths[-1] if self.stack[-1] == state else None
        else:
            path = self.paths.get(state)
        if path is not None:
            items = unlink(path)
            self.parsed.answer = items if self.kind == "countdown" else [self.root, *items]

    def _move(self, word: str, state: Any, pos: int) -> str | None:
        if word == "at" and state is None:
            if self.last is None:
                return "'at' with no explored node to expand"
            state = self.last
        if self.mode == "path":
            return f"'{word}' is not part of this format"
        self._add(TraceStep("expand" if word == "at" else "backtrack", state), pos)
        self.focus = state
        return None

    def _countdown(self, line: str, pos: int) -> str | None:
        if m := CD_EXPLORE.fullmatch(line):
            step = step_from_match(m)  # no "->": the step leaves its result alone
            state = tuple(int(x) for x in m[5].split()) if m[5] else (step.result,)
            judged = m[6] is not None or m[7] is not None
            self._explored(state, step, step, pos, judged)
            if judged:
                kind = "dead_end" if m[6] is not None else "goal"
                self._verdict(kind, (step.result,), pos, int(m[6] or m[7]), explored=True)
            return None
        if m := CD_VERDICT.fullmatch(line):
            kind = "dead_end" if m[2] is not None else "goal"
            self._verdict(kind, (int(m[1]),), pos, int(m[2] or m[3]))
            return None
        if (m := CD_AT.fullmatch(line)) and (m[2] is not None or m[1] == "at"):
            state = tuple(int(x) for x in m[2].split()) if m[2] else None
            return self._move(m[1], state, pos)
        return "unreadable line"

    def _maze(self, line: str, pos: int) -> str | None:
        if m := MZ_EXPLORE.fullmatch(line):
            cell = (int(m[1]), int(m[2]))
            self._explored(cell, None, cell, pos, bool(m[5]), g=float(m[3]), h=float(m[4]))
            if m[5]:
                self._verdict("goal", cell, pos, explored=True)
            return None
        if m := MZ_VERDICT.fullmatch(line):
            cell = (int(m[1]), int(m[2]))
            if m[3] == "wall":
                self._add(TraceStep("wall", cell), pos)
            else:
                self._verdict("goal" if m[3] == "goal" else "dead_end", cell, pos)
            return None
        if (m := MZ_AT.fullmatch(line)) and (m[2] is not None or m[1] == "at"):
            cell = (int(m[2]), int(m[3])) if m[2] is not None else None
            return self._move(m[1], cell, pos)
        return "unreadable line"


FORMAT = MetaCotFormat()
WALLS_FORMAT = MetaCotWallsFormat()
MAP_FORMAT = MetaCotMapFormat()
prompt, completion, linearize, parse, expected_steps = FORMAT.functions()

__all__ = [
    "FORMAT",
    "MAP_FORMAT",
    "WALLS_FORMAT",
    "CompactFormat",
    "MapPrompt",
    "MetaCotFormat",
    "MetaCotMapFormat",
    "MetaCotWallsFormat",
    "completion",
    "compact_prompt",
    "expected_steps",
    "linearize",
    "map_prompt",
    "parse",
    "parse_compact",
    "prompt",
    "read_compact_prompt",
]
