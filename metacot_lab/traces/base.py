"""What every trace format provides, and the structures parsing and verification return.

A trace format turns a :class:`~metacot_lab.search.tree.SearchTree` into text and reads
such text back. The text of a whole example is ``prompt(problem) + completion(tree)``:
the prompt states the problem, the completion is what a model learns to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..search.tree import SearchTree


@dataclass(frozen=True)
class TraceStep:
    """One step read from a trace: an event ``kind`` (as in the SearchTree event log)
    about ``state``, with the action that led there and any value the format writes."""

    kind: str
    state: Any = None
    action: Any = None
    value: float | None = None


@dataclass
class ParsedTrace:
    """What :meth:`TraceFormat.parse` could read. Parsing never raises: when the text stops
    making sense, ``error`` says why and ``error_pos`` is the character offset."""

    problem: Any = None  # the problem recovered from the prompt, None if unreadable
    steps: list[TraceStep] = field(default_factory=list)
    answer: Any = None  # the final answer the trace claims (Countdown steps, maze plan cells)
    error: str | None = None
    error_pos: int | None = None

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
