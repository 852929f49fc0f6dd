"""The small protocol every environment implements, and split assignment shared by generators.

A *problem* is one puzzle instance (a Countdown numbers/target pair, one maze). Search
algorithms only talk to it through :class:`SearchProblem`; trace formats and rewards only
judge answers through :meth:`SearchProblem.verify`, the single source of truth for
"is this correct".

States and actions are hashable values built from tuples, ints and strings so that a
:class:`~metacot_lab.search.tree.SearchTree` can store them and write them to JSON.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

State = Hashable
Action = Hashable

SPLITS: tuple[str, ...] = ("train", "val", "test")
"""Problem splits. A problem's split is a fixed function of its canonical key, so a val or
test problem can never appear in train, whatever the sizes or seeds."""

_SPLIT_BUCKETS = {"train": range(0, 90), "val": range(90, 95), "test": range(95, 100)}


@runtime_checkable
class SearchProblem(Protocol):
    """What search needs from a problem, and how a final answer is checked."""

    kind: ClassVar[str]
    has_cycles: ClassVar[bool]  # True when one state can be reached by several paths (mazes)

    def successors(self, state: State) -> list[tuple[Action, State]]:
        """``(action, next_state)`` for every legal action, in :meth:`actions` order."""

    def initial_state(self) -> State:
        """The start state."""

    def actions(self, state: State) -> list[Action]:
        """Legal actions in ``state``, in a fixed order."""

    def step(self, state: State, action: Action) -> State:
        """The state reached by taking ``action`` in ``state`` (the action must be legal)."""

    def is_goal(self, state: State) -> bool:
        """Whether ``state`` solves the problem."""

    def heuristic(self, state: State) -> float:
        """An estimate of the distance from ``state`` to a goal (lower is better)."""

    def describe_action(self, state: State, action: Action) -> str:
        """A short human-readable form of ``action`` taken in ``state``."""

    def verify(self, answer: Any) -> bool:
        """Whether ``answer`` is a correct final answer; never raises on garbage."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description from which the problem can be rebuilt."""


def verify(problem: SearchProblem, answer: Any) -> bool:
    """Check a final ``answer`` to ``problem`` with the environment's exact verifier."""
    return problem.verify(answer)


def split_of(key: str) -> str:
    """The split ("train", "val" or "test") a problem with canonical ``key`` belongs to."""
    bucket = zlib.crc32(key.encode()) % 100
    for split, buckets in _SPLIT_BUCKETS.items():
        if bucket in buckets:
            return split
    raise AssertionError("unreachable: buckets cover 0..99")


P = TypeVar("P", bound=SearchProblem)


def collect_distinct(
    sample: Callable[[], P], accept: Callable[[P], bool], count: int, max_attempts: int,
    what: str, hint: str,
) -> list[P]:
    """``count`` problems of distinct ``key()`` drawn by ``sample`` and passing ``accept``, in
    the order drawn. More than ``max_attempts`` draws raise ``ValueError``: "count=... is
    more distinct {what} (got ...); {hint}"."""
    seen: set[str] = set()
    out: list[P] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > max_attempts:
            raise ValueError(f"count={count} is more distinct {what} (got {len(out)}); {hint}")
        p = sample()
        key = p.key()
        if key in seen or not accept(p):
            continue
        seen.add(key)
        out.append(p)
    return out


def as_int_tuple(values: Sequence[Any], name: str) -> tuple[int, ...]:
    """``values`` as a tuple of ints, or a ``ValueError`` naming ``name``."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a sequence of integers, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name} must contain integers only, got {v!r}")
        out.append(int(v))
    return tuple(out)
