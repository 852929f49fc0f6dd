"""What every trace format provides, and the structures parsing and verification return.

A trace format turns a :class:`~metacot_lab.search.tree.SearchTree` into text and reads
such text back. The text of a whole example is ``prompt(problem) + completion(tree)``:
the prompt states the problem, the completion is what a model learns to write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..search.tree import SearchTree
from ..validation import check_choice


@dataclass(frozen=True)
class TraceStep:
    """One step read from a trace: an event ``kind`` (as in the SearchTree event log)
    about ``state``, with the action that led there and any value the format writes.

    Fields a format does not write stay ``None``. ``pos`` (the character offset of the
    step in the text) is not part of equality, so parsed steps compare equal to the
    steps a format expects from a tree (:meth:`TraceFormat.expected_steps`).
    """

    kind: str
    state: Any = None  # Countdown: numbers as written; maze: (x, y)
    action: Any = None  # Countdown: a Step "a op b = r"; maze: a move letter
    value: float | None = None
    g: float | None = None  # cost from the start the step states (Searchformer cG)
    h: float | None = None  # heuristic the step states (Searchformer cH)
    path: tuple[Any, ...] | None = None  # actions from the root the step restates (SoS)
    target: Any = None  # what a verification step compares against (the target, goal)
    pos: int | None = field(default=None, compare=False)


@dataclass
class ParsedTrace:
    """What :meth:`TraceFormat.parse` could read. Parsing never raises: when the text stops
    making sense, ``error`` says why and ``error_pos`` is the character offset."""

    problem: Any = None  # the problem recovered from the prompt, None if unreadable
    steps: list[TraceStep] = field(default_factory=list)
    answer: Any = None  # the final answer the trace claims (Countdown steps, maze plan cells)
    error: str | None = None
    error_pos: int | None = None
    unread: str = ""  # text after a goal claim that a format stopping there left unread

    @property
    def ok(self) -> bool:
        """Whether the whole text was read without error."""
        return self.error is None


@dataclass(frozen=True)
class TraceVerdict:
    """The result of :func:`metacot_lab.traces.verify_trace`."""

    valid: bool  # every step legal and consistent, every goal claim true
    solved: bool  # valid and the final answer passes the environment's verifier
    optimal: bool | None  # solved with a shortest plan (mazes); None where undefined
    nodes_explored: int  # states the trace visited
    first_error: str | None  # the first problem found, None when valid
    error_pos: int | None = None  # character offset of first_error where known


@runtime_checkable
class TraceFormat(Protocol):
    """A way of writing search as text."""

    name: str
    envs: tuple[str, ...]  # problem kinds the format supports ("countdown", "maze")

    def prompt(self, problem: Any) -> str:
        """The problem statement that precedes the trace."""

    def completion(self, tree: SearchTree) -> str:
        """The trace a model should write after the prompt."""

    def linearize(self, tree: SearchTree) -> str:
        """``prompt(tree.problem) + completion(tree)``."""

    def parse(self, text: str) -> ParsedTrace:
        """Read a trace (with or without its prompt); never raises."""

    def expected_steps(self, tree: SearchTree) -> list[TraceStep]:
        """The steps :meth:`parse` reads back from ``linearize(tree)``."""


class FormatBase:
    """Shared plumbing: ``linearize`` and the check that a problem suits the format."""

    name: str = ""
    envs: tuple[str, ...] = ()

    def check_problem(self, problem: Any) -> None:
        """Raise ``ValueError`` unless ``problem`` is of a kind this format writes."""
        check_choice(f"problem kind for format {self.name!r}", getattr(problem, "kind", None),
                     self.envs)

    def prompt(self, problem: Any) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def completion(self, tree: SearchTree) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def linearize(self, tree: SearchTree) -> str:
        """``prompt(tree.problem) + completion(tree)``."""
        return self.prompt(tree.problem) + self.completion(tree)

    def functions(self) -> tuple[Callable[..., Any], ...]:
        """``(prompt, completion, linearize, parse, expected_steps)`` bound to this format: the
        module-level functions of each format module."""
        return self.prompt, self.completion, self.linearize, self.parse, self.expected_steps

    def parse(self, text: str) -> ParsedTrace:  # pragma: no cover - overridden
        raise NotImplementedError

    def expected_steps(self, tree: SearchTree) -> list[TraceStep]:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<trace format {self.name!r} for {', '.join(self.envs)}>"


class LineFormat(FormatBase):
    """A format written one line per group of steps: :meth:`_lines` yields ``(line, steps)``
    and the completion and expected steps both derive from it."""

    def completion(self, tree: SearchTree) -> str:
        """The lines of :meth:`_lines`, each ended by ``\\n``."""
        return "".join(line + "\n" for line, _ in self._lines(tree))

    def expected_steps(self, tree: SearchTree) -> list[TraceStep]:
        """The steps of :meth:`_lines`, in order."""
        return [s for _, steps in self._lines(tree) for s in steps]

    def _lines(self, tree: SearchTree) -> Iterator[tuple[str, list[TraceStep]]]:
        """``(line, steps the line stands for)`` for each line of the completion."""
        raise NotImplementedError  # pragma: no cover - overridden
