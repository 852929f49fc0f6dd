"""Grid mazes as in Searchformer (Lehnert et al., 2024).

An ``n x n`` grid (2 <= n <= 64) with 30-50% of the cells walls, a start and a goal whose
shortest plan is at least ``n`` moves long. Cells are ``(x, y)`` with ``x`` the column and
``y`` the row, ``(0, 0)`` top left, the order Searchformer's ``start x y`` tokens use. A state
is a cell; an action is one of ``"U" "D" "L" "R"``; every move costs 1.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, NamedTuple

from ..validation import check_choice, check_float, check_int
from .base import collect_distinct, split_of

Cell = tuple[int, int]
MOVES: dict[str, Cell] = {"U": (0, -1), "D": (0, 1), "L": (-1, 0), "R": (1, 0)}
"""Actions and their (dx, dy), in the fixed order successors are generated."""
MIN_N, MAX_N = 2, 64
WALL_RATIO: tuple[float, float] = (0.3, 0.5)
"""Allowed wall ratios (Searchformer)."""


class PlanVerdict(NamedTuple):
    """The result of :func:`verify_plan`."""

    valid: bool  # starts at start, stays on open cells, moves one step at a time
    reaches_goal: bool  # valid and ends on the goal
    optimal: bool  # reaches the goal in the fewest possible moves
    moves: int | None  # number of moves in the plan, None when it could not be read
    error: str | None  # the first problem found, None when the plan reaches the goal


@dataclass(frozen=True)
class Maze:
    """One maze: size, wall cells, start and goal."""

    n: int
    walls: frozenset[Cell]
    start: Cell
    goal: Cell
    kind: ClassVar[str] = "maze"
    has_cycles: ClassVar[bool] = True  # cells are reached by many paths: search deduplicates
    _open: tuple[bool, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int("n", self.n, MIN_N, MAX_N)
        if isinstance(self.walls, str | bytes) or not isinstance(self.walls, Iterable):
            raise ValueError(f"walls must be a collection of (x, y) cells, got {self.walls!r}")
        walls = frozenset(self._check_cell("walls[i]", c) for c in self.walls)
        object.__setattr__(self, "walls", walls)
        for name in ("start", "goal"):
            cell = self._check_cell(name, getattr(self, name))
            if cell in walls:
                raise ValueError(f"{name} must be an open cell, got wall cell {cell}")
            object.__setattr__(self, name, cell)
        if self.start == self.goal:
            raise ValueError(f"goal must differ from start, got both {self.start}")
        n = self.n
        object.__setattr__(
            self, "_open", tuple((i % n, i // n) not in walls for i in range(n * n))
        )

    def _check_cell(self, name: str, cell: Any) -> Cell:
        try:
            x, y = cell
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a cell (x, y), got {cell!r}") from None
        check_int(f"{name}.x", x, 0, self.n - 1)
        check_int(f"{name}.y", y, 0, self.n - 1)
        return (x, y)

    # --- the SearchProblem protocol -------------------------------------------------
    def initial_state(self) -> Cell:
        """The start cell."""
        return self.start

    def is_open(self, cell: Cell) -> bool:
        """Whether ``cell`` is inside the grid and not a wall."""
        x, y = cell
        return 0 <= x < self.n and 0 <= y < self.n and self._open[y * self.n + x]

    def successors(self, state: Cell) -> list[tuple[str, Cell]]:
        """``(action, next_cell)`` for every move onto an open cell, in :data:`MOVES` order."""
        return self._neighbours[state[1] * self.n + state[0]]

    def blocked(self, state: Cell) -> list[Cell]:
        """The wall cells next to ``state`` (walls lie inside the grid), in :data:`MOVES`
        order."""
        near = ((state[0] + dx, state[1] + dy) for dx, dy in MOVES.values())
        return [c for c in near if c in self.walls]

    def actions(self, state: Cell) -> list[str]:
        """Moves onto open neighbouring cells."""
        return [a for a, _ in self.successors(state)]

    def step(self, state: Cell, action: str) -> Cell:
        """The cell reached by ``action``; a ``ValueError`` if it is a wall or off the grid."""
        check_choice("action", action, MOVES)
        dx, dy = MOVES[action]
        nxt = (state[0] + dx, state[1] + dy)
        if not self.is_open(nxt):
            raise ValueError(f"action {action!r} from {state} leads to a wall or off the grid")
        return nxt

    def is_goal(self, state: Cell) -> bool:
        """Whether ``state`` is the goal cell."""
        return state == self.goal

    def heuristic(self, state: Cell) -> float:
        """Manhattan distance to the goal (admissible and consistent)."""
        return float(abs(state[0] - self.goal[0]) + abs(state[1] - self.goal[1]))

    def describe_action(self, state: Cell, action: str) -> str:
        """The move letter, e.g. ``"R"``."""
        return action

    def describe_state(self, state: Cell) -> str:
        """The cell as ``"x y"``."""
        return f"{state[0]} {state[1]}"

    def verify(self, answer: Any) -> bool:
        """True iff ``answer`` is a plan (cells from start) that reaches the goal."""
        return verify_plan(self, answer).reaches_goal

    # --- derived facts ------------------------------------------------------------------
    @cached_property
    def _neighbours(self) -> list[list[tuple[str, Cell]]]:
        n, is_open = self.n, self._open
        table = []
        for i in range(n * n):
            x, y = i % n, i // n
            row = []
            for a, (dx, dy) in MOVES.items():
                nx_, ny_ = x + dx, y + dy
                if 0 <= nx_ < n and 0 <= ny_ < n and is_open[ny_ * n + nx_]:
                    row.append((a, (nx_, ny_)))
            table.append(row)
        return table

    def distances_from(self, cell: Cell) -> dict[Cell, int]:
        """Shortest number of moves from ``cell`` to every reachable open cell (BFS)."""
        dist = {cell: 0}
        queue = deque([cell])
        while queue:
            c = queue.popleft()
            d = dist[c] + 1
            for _, nxt in self.successors(c):
                if nxt not in dist:
                    dist[nxt] = d
                    queue.append(nxt)
        return dist

    @cached_property
    def distances_to_goal(self) -> dict[Cell, int]:
        """Exact remaining moves to the goal from every cell that can reach it."""
        return self.distances_from(self.goal)

    def shortest_path_length(self) -> int | None:
        """Moves in an optimal plan, or ``None`` if the goal cannot be reached."""
        return self.distances_to_goal.get(self.start)

    # --- identity and serialisation ----------------------------------------------------
    def grid(self) -> list[str]:
        """Rows as text: ``#`` wall, ``.`` open, ``S`` start, ``G`` goal."""
        rows = []
        for y in range(self.n):
            row = []
            for x in range(self.n):
                c = (x, y)
                mark = "S" if c == self.start else "G" if c == self.goal else None
                row.append(mark or ("#" if c in self.walls else "."))
            rows.append("".join(row))
        return rows

    def key(self) -> str:
        """Canonical identity: the grid text."""
        return "maze:" + "/".join(self.grid())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; :func:`metacot_lab.envs.problem_from_dict` rebuilds it."""
        return {"kind": self.kind, "n": self.n, "grid": self.grid()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Maze:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict) or "grid" not in d:
            raise ValueError(f"maze dict must have a 'grid', got {d!r}")
        return cls.from_grid(d["grid"])

    @classmethod
    def from_grid(cls, rows: Sequence[str]) -> Maze:
        """Build from rows of ``# . S G`` characters (exactly one ``S`` and one ``G``)."""
        if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
            raise ValueError(f"grid must be a sequence of row strings, got {rows!r}")
        n = len(rows)
        walls: set[Cell] = set()
        marks: dict[str, list[Cell]] = {"S": [], "G": []}
        for y, row in enumerate(rows):
            if not isinstance(row, str) or len(row) != n:
                raise ValueError(f"grid rows must be strings of length n={n}, row {y} is {row!r}")
            for x, ch in enumerate(row):
                check_choice(f"grid[{y}][{x}]", ch, "#.SG")
                if ch == "#":
                    walls.add((x, y))
                elif ch in marks:
                    marks[ch].append((x, y))
        if len(marks["S"]) != 1 or len(marks["G"]) != 1:
            raise ValueError(
                f"grid must contain exactly one start 'S' and one goal 'G', got "
                f"{len(marks['S'])} and {len(marks['G'])}"
            )
        return cls(n, frozenset(walls), marks["S"][0], marks["G"][0])


def verify_plan(maze: Maze, plan: Any) -> PlanVerdict:
    """Check a plan given as a sequence of cells ``[(x, y), ...]`` beginning at the start.

    Never raises: anything unreadable is an invalid plan with the reason in ``error``.
    """

    def bad(moves: int | None, error: str) -> PlanVerdict:
        return PlanVerdict(False, False, False, moves, error)

    try:
        empty = len(plan) == 0 if isinstance(plan, Sequence) else True
    except OverflowError:  # a huge lazy sequence (range(2**63)): its items decide
        empty = False
    if isinstance(plan, str | bytes) or empty:
        return bad(None, "plan must be a non-empty sequence of (x, y) cells")
    cells: list[Cell] = []
    for i, c in enumerate(plan):
        if (
            not isinstance(c, Sequence)
            or len(c) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in c)
        ):
            return bad(None, f"plan[{i}] is not an (x, y) cell: {c!r}")
        cells.append((c[0], c[1]))
    moves = len(cells) - 1
    if cells[0] != maze.start:
        return bad(moves, f"plan must begin at the start {maze.start}, begins at {cells[0]}")
    for i, (a, b) in enumerate(zip(cells, cells[1:], strict=False), start=1):
        if not maze.is_open(b):
            return bad(moves, f"plan[{i}] {b} is a wall or off the grid")
        if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
            return bad(moves, f"plan[{i}] {b} is not adjacent to plan[{i - 1}] {a}")
    if cells[-1] != maze.goal:
        return PlanVerdict(True, False, False, moves, f"plan ends at {cells[-1]}, not the goal")
    return PlanVerdict(True, True, moves == maze.shortest_path_length(), moves, None)


def shortest_path_length(maze: Maze) -> int | None:
    """Moves in an optimal plan of ``maze`` (``None`` if unsolvable)."""
    return maze.shortest_path_length()


# --- generation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MazeConfig:
    """How mazes are generated (defaults follow Searchformer)."""

    n: int = 10
    wall_ratio: tuple[float, float] | float = (0.3, 0.5)  # drawn per maze; a number fixes it
    min_plan_length: int | None = None  # None means n: optimal plans are at least n moves

    def __post_init__(self) -> None:
        check_int("n", self.n, MIN_N, MAX_N)
        ratio = self.wall_ratio
        if isinstance(ratio, int | float) and not isinstance(ratio, bool):
            ratio = (check_float("wall_ratio", ratio, *WALL_RATIO), ratio)  # one fixed ratio
        try:
            lo, hi = ratio
        except (TypeError, ValueError):
            raise ValueError(
                f"wall_ratio must be a number or a pair (low, high) within {list(WALL_RATIO)}, "
                f"got {self.wall_ratio!r}"
            ) from None
        lo = check_float("wall_ratio[0]", lo, *WALL_RATIO)
        hi = check_float("wall_ratio[1]", hi, lo, WALL_RATIO[1])
        object.__setattr__(self, "wall_ratio", (lo, hi))
        longest = self.n * self.n - self.wall_count_range[0] - 1  # open cells visited once
        check_int("min_plan_length (n when None)", self.plan_length_floor, 1, longest)

    @property
    def plan_length_floor(self) -> int:
        """The minimum optimal plan length a generated maze must have."""
        return self.n if self.min_plan_length is None else self.min_plan_length

    @property
    def wall_count_range(self) -> tuple[int, int]:
        """Fewest and most wall cells: ``wall_ratio * n * n`` rounded, kept within 30-50%."""
        cells = self.n * self.n
        fewest = math.ceil(WALL_RATIO[0] * cells - 1e-9)
        most = math.floor(WALL_RATIO[1] * cells + 1e-9)
        lo, hi = (min(max(round(r * cells), fewest), most) for r in self.wall_ratio)
        return lo, hi


def sample_maze(rng: random.Random, config: MazeConfig, max_tries: int = 10_000) -> Maze:
    """One maze: random walls, a random open start, a goal at least the floor away."""
    n, cells = config.n, config.n * config.n
    floor = config.plan_length_floor
    fewest, most = config.wall_count_range
    for _ in range(max_tries):
        n_walls = rng.randint(fewest, most)  # a whole number of walls, ratio in [0.3, 0.5]
        wall_idx = set(rng.sample(range(cells), n_walls))
        free = [i for i in range(cells) if i not in wall_idx]
        start = rng.choice(free)
        dist = _bfs_flat(n, wall_idx, start)
        far = [i for i in free if dist[i] >= floor]
        if far:
            goal = rng.choice(far)
            walls = frozenset((i % n, i // n) for i in wall_idx)
            return Maze(n, walls, (start % n, start // n), (goal % n, goal // n))
    raise ValueError(
        f"no maze with min_plan_length={floor} found in {max_tries} tries for n={n} and "
        f"wall_ratio={config.wall_ratio}; lower min_plan_length or the wall ratio"
    )


def _bfs_flat(n: int, walls: set[int], start: int) -> list[int]:
    """Distances (moves) from flat cell ``start``; -1 where unreachable or a wall."""
    dist = [-1] * (n * n)
    dist[start] = 0
    queue = deque([start])
    while queue:
        i = queue.popleft()
        d = dist[i] + 1
        x = i % n
        for j, ok in ((i - n, i >= n), (i + n, i < n * n - n), (i - 1, x > 0), (i + 1, x < n - 1)):
            if ok and dist[j] < 0 and j not in walls:
                dist[j] = d
                queue.append(j)
    return dist


MAZE_SPLITS: tuple[str, ...] = ("train", "val", "test")


def generate_mazes(
    count: int,
    config: MazeConfig = MazeConfig(),  # noqa: B008 - frozen, safe as a default
    split: str = "train",
    seed: int = 0,
) -> list[Maze]:
    """``count`` distinct mazes of ``split`` (disjoint across splits), the same per ``seed``."""
    check_int("count", count, 0, 10_000_000)
    check_choice("split", split, MAZE_SPLITS)
    check_int("seed", seed, 0)
    rng = random.Random(f"maze:{seed}:{split}:{config.n}")
    return collect_distinct(
        lambda: sample_maze(rng, config), lambda maze: split_of(maze.key()) == split, count,
        100 * count + 1_000, f"mazes than split '{split}' yields for n={config.n}",
        "lower count",
    )
