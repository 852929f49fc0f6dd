"""``tree_from_trace``: the search tree a trace describes, rebuilt from its text.

The inverse of linearizing: a trace (one a model wrote, or ``linearize(tree)``) is parsed
with its format and replayed on the problem with the rules of :func:`verify_trace` (the
same replay), and every step read becomes part of a
:class:`~metacot_lab.search.tree.SearchTree` that ``draw_tree`` and ``draw_maze`` render:

* ``generate``: a new node under the node the trace is at, with the state as written;
  ``action`` is the environment's action when the written move is one (Countdown: a legal
  operation on the parent's numbers leaving the written numbers, of two equal numbers the
  first; mazes: one step U/D/L/R), else ``None``; ``g``/``h`` as written, else one more
  than the parent's / the heuristic;
* ``expand``, ``backtrack``, ``goal``, ``dead_end``: an event on the node the trace names:
  among the nodes holding that state, the one whose restated path (SoS) or cost
  (Searchformer) matches, for a backtrack the nearest ancestor, else the latest created;
  ``expand``/``backtrack`` move the trace there.

Events are the steps in the order read; when the trace does not begin at the root (the
compact formats' prompt puts the search there), an ``expand`` of the root comes first.

**Mistakes are drawn, not dropped.** Each step is checked by the replay of
:func:`~metacot_lab.traces.verify.verify_trace`; an illegal step (wrong arithmetic, a
jump through a wall, a false goal or dead-end claim, a state never reached, ...) still
becomes its node or event, and the node gets ``error``: the replay's message (it starts
with one of :data:`~metacot_lab.traces.verify.ERROR_KINDS`); every other node has
``error=None``. The replay then takes the step at its word and reads on, so one mistake
does not make every later step "unknown". A state named before it was reached becomes a
child (``action=None``) of the node the trace is at. ``goal_node`` is the goal the trace
*claims*: whether the trace is right is :func:`verify_trace`'s verdict (which also checks
the final answer).

It never raises on any text: reading stops where the format's parser stops, and
``tree.params["stopped"]`` says why (``None`` when the whole text was read). A trace whose
prompt states another problem gives the root alone. ``tree.algorithm`` is ``"trace"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..envs.maze import MOVES
from ..search.tree import SearchTree
from .base import TraceFormat, TraceStep
from .registry import get_format
from .verify import new_replay, read_trace

_MOVE_OF_DELTA = {delta: move for move, delta in MOVES.items()}
_MAX_NUMBERS = 6  # Countdown problems hold at most this many numbers: no action beyond it


def tree_from_trace(problem: Any, text: Any, format: str | TraceFormat) -> SearchTree:
    """The :class:`SearchTree` that ``text`` (a whole trace, or the completion alone) in
    ``format`` describes as a search on ``problem``; illegal steps are kept and their nodes
    carry an ``error`` (see the module docstring). Never raises on any text (a wrong
    ``problem`` or ``format`` argument is a ``ValueError``)."""
    fmt = get_format(format)
    fmt.check_problem(problem)
    tree = SearchTree(problem, "trace", {"format": fmt.name, "stopped": None})
    root = problem.initial_state()
    tree.add_node(root, h=float(problem.heuristic(root)), error=None)
    if not isinstance(text, str):
        tree.params["stopped"] = "parse: trace must be text"
        return tree
    parsed, _, same = read_trace(problem, text, fmt)
    if not same:
        tree.params["stopped"] = "problem: the trace states another problem"
        return tree
    if parsed.error is not None:
        tree.params["stopped"] = f"parse: {parsed.error}"
    _Builder(tree).run(parsed.steps)
    return tree


class _Builder:
    """Adds the parsed steps to ``tree`` while the verifier's replay judges each one."""

    def __init__(self, tree: SearchTree):
        self.tree = tree
        self.problem = tree.problem
        self.replay = new_replay(tree.problem)
        self.key = self.replay.key
        self.by_key: dict[Any, list[int]] = {self.key(tree.node(0)["state"]): [0]}
        self.paths: dict[int, tuple[Any, ...]] = {0: ()}  # written actions from the root
        self.focus = 0

    def run(self, steps: Sequence[TraceStep]) -> None:
        for i, step in enumerate(steps):
            at_root = (step.kind in ("generate", "expand") and step.state is not None
                       and self.key(step.state) == self.replay.root)
            if i == 0 and not at_root:
                self.tree.log("expand", self.tree.root)  # the prompt puts the search there
            error = self.replay.step(step)
            if error is not None:
                self.replay.assume(step)
            if step.state is None:
                continue  # a step that names no state has no node to draw
            if step.kind == "generate":
                node = 0 if i == 0 and at_root else self._add(step, error)
                self.tree.log("generate", node)
            elif step.kind in ("expand", "backtrack", "goal", "dead_end"):
                node = self._named(step)
                if node is None:
                    node = self._add(step, error)
                self.tree.log(step.kind, node)
                if step.kind in ("expand", "backtrack"):
                    self.focus = node
            else:
                continue
            attrs = self.tree.node(node)
            if attrs["error"] is None:
                attrs["error"] = error

    def _add(self, step: TraceStep, error: str | None) -> int:
        """A new node for ``step``'s state under the node the trace is at."""
        parent = self.tree.node(self.focus)
        state = tuple(step.state)
        g = float(step.g) if step.g is not None else parent["g"] + 1.0
        if step.h is not None:
            h = float(step.h)
        else:
            h = float(self.problem.heuristic(state)) if state else 0.0
        action = self._action(parent["state"], step) if step.kind == "generate" else None
        node = self.tree.add_node(state, self.focus, action, g, h, error=error)
        self.by_key.setdefault(self.key(state), []).append(node)
        if self.problem.kind == "countdown":
            self.paths[node] = (*self.paths[self.focus], step.action)
        return node

    def _action(self, here: Any, step: TraceStep) -> Any:
        """The environment's action from ``here`` that the written step is, or ``None``."""
        if self.problem.kind == "maze":
            delta = (step.state[0] - here[0], step.state[1] - here[1])
            return _MOVE_OF_DELTA.get(delta)
        if len(here) > _MAX_NUMBERS:
            return None
        found = None
        for action, child in self.problem.successors(here):
            if (self.problem.action_step(here, action) == step.action
                    and self.key(child) == self.key(step.state)):
                if tuple(child) == tuple(step.state):
                    return action  # the written order of the numbers, too
                found = found or action
        return found

    def _named(self, step: TraceStep) -> int | None:
        """The node a step that names a state refers to (see the module docstring)."""
        nodes = self.by_key.get(self.key(step.state), [])
        if step.path is not None:
            nodes = [n for n in nodes if self.paths.get(n) == tuple(step.path)] or nodes
        if step.g is not None:
            nodes = [n for n in nodes if self.tree.node(n)["g"] == step.g] or nodes
        if step.kind == "backtrack":
            for n in reversed(self.tree.path_to(self.focus)):
                if n in nodes:
                    return n
        return nodes[-1] if nodes else None


__all__ = ["tree_from_trace"]
