"""``verify_trace``: is a trace a legal search, and does it solve the problem?

The one function later rewards and evaluation call. It parses the text with the format,
then replays every step with the environment's own rules (exact integer arithmetic through
:func:`~metacot_lab.envs.countdown.apply_steps`, maze cells through ``is_open`` and
adjacency; nothing is ever evaluated), and finally checks the answer with the environment's
verifier (``problem.verify`` / :func:`~metacot_lab.envs.maze.verify_plan`).

A replay keeps the states the trace has reached (Countdown numbers compared as a multiset,
maze cells) and the node it is at. A step is legal when:

* ``generate``: the stated step is correct arithmetic on numbers the current node has
  (mazes: the cell is open and next to the current cell) and the state written for the
  child is the one it leads to; stated costs are right (``g`` one more than the parent's,
  ``h`` the problem's heuristic);
* ``expand`` / ``backtrack``: the state was reached before (a backtrack returns to an
  expanded node); a restated path (SoS ``Operations``) leads to it;
* ``wall`` (mazes): the cell is a wall inside the grid, next to the current cell;
* ``goal``: the state was reached and is a goal; ``dead_end``: the state was reached and
  no goal can be reached from it (Countdown: by any further steps; mazes: every open
  neighbour was already reached);
* a final answer (Countdown steps, a maze plan) follows a goal the trace reached: a
  Searchformer completion of plan tokens alone is not a solved search;
* any restated target or goal is the problem's.

``first_error`` starts with one of :data:`ERROR_KINDS`, then says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..envs.countdown import Countdown, Step, apply_steps, combine
from ..envs.maze import MOVES, Maze, verify_plan
from .base import ParsedTrace, TraceFormat, TraceStep, TraceVerdict
from .registry import get_format

ERROR_KINDS: tuple[str, ...] = (
    "parse",  # the text stops following the format's grammar
    "problem",  # the prompt states another problem
    "arithmetic",  # a Countdown step is not correct arithmetic
    "unavailable",  # a step uses a number the current state does not have
    "state",  # a written state is not the one the steps lead to
    "unknown",  # a step refers to a state the trace never reached (or never expanded)
    "target",  # a restated target or goal is not the problem's
    "cost",  # a stated g or h is wrong
    "wall",  # a maze step enters a wall or leaves the grid
    "adjacent",  # a maze step jumps to a cell that is not next to the current one
    "blocked",  # a cell claimed a wall is open, off the grid or not next to the current one
    "goal",  # a goal claim is false
    "dead_end",  # a dead-end claim is false
    "answer",  # the final answer is rejected by the environment's verifier
)


def verify_trace(problem: Any, text: Any, format: str | TraceFormat) -> TraceVerdict:
    """Check ``text`` (a whole trace, or the completion alone) as a search on ``problem``
    written in ``format``; never raises on any text (a wrong ``problem`` or ``format``
    argument is a ``ValueError``)."""
    fmt = get_format(format)
    fmt.check_problem(problem)
    if not isinstance(text, str):
        return TraceVerdict(False, False, _optimal_default(problem), 0,
                            "parse: trace must be text", 0)
    parsed, offset, same = read_trace(problem, text, fmt)
    verdict = new_replay(problem).run(parsed, same)
    if verdict.error_pos is not None:
        verdict = TraceVerdict(verdict.valid, verdict.solved, verdict.optimal,
                               verdict.nodes_explored, verdict.first_error,
                               max(verdict.error_pos - offset, 0))
    return verdict


def final_answer(problem: Any, text: Any, format: str | TraceFormat) -> tuple[Any, bool]:
    """``(answer, right)``: the final answer or plan that ``text`` claims for ``problem``
    (``None`` when it claims none), read as :func:`verify_trace` reads the text, and whether
    the environment's verifier accepts that answer, whatever the trace before it. Never
    raises on any text."""
    fmt = get_format(format)
    fmt.check_problem(problem)
    if not isinstance(text, str):
        return None, False
    answer = read_trace(problem, text, fmt)[0].answer
    if answer is None or (isinstance(answer, list | tuple) and not answer):
        return None, False
    return answer, bool(problem.verify(answer))


def read_trace(problem: Any, text: str, fmt: TraceFormat) -> tuple[ParsedTrace, int, bool]:
    """``(parsed, offset, same_problem)``: ``text`` parsed by ``fmt`` (a completion alone is
    read after the prompt of ``problem``, and ``offset`` is that prompt's length), and
    whether the text states ``problem``. Shared by :func:`verify_trace` and
    :func:`~metacot_lab.traces.to_tree.tree_from_trace`."""
    prompt = fmt.prompt(problem)
    offset = 0
    parsed = fmt.parse(text)
    if parsed.problem is None and not text.startswith(prompt.rstrip("\n")):
        offset = len(prompt)  # the completion alone: read it after its prompt
        parsed = fmt.parse(prompt + text)
    stated = parsed.problem
    # a prompt of another environment is another problem (and has no prompt in this format)
    same = stated is not None and stated.kind in fmt.envs and fmt.prompt(stated) == prompt
    return parsed, offset, same


def new_replay(problem: Any) -> _Replay:
    """A fresh replay of ``problem`` with its environment's rules (at the root)."""
    return (_CountdownReplay if problem.kind == "countdown" else _MazeReplay)(problem)


def _optimal_default(problem: Any) -> bool | None:
    return None if problem.kind == "countdown" else False


@dataclass
class _Node:
    state: Any  # as first reached (Countdown: numbers in the order the step left them)
    parent: Any  # key of the parent node, None at the root
    move: Any  # Countdown: the Step from the parent; maze: the cell itself
    gs: set[float]  # costs from the start it was reached with (one state, several nodes)
    g_min: float  # the least of them


def _cost(value: float) -> float:
    """A cost as compared: rounded to the 6 decimals a trace can write, so that set
    membership (constant time, however many costs a state collects) is equality."""
    return round(value, 6)


class _Replay:
    """Replays parsed steps on a problem; subclasses supply the environment's rules."""

    def __init__(self, problem: Any):
        self.problem = problem
        root = problem.initial_state()
        self.root = self.key(root)
        self.nodes: dict[Any, _Node] = {self.root: _Node(root, None, None, {0.0}, 0.0)}
        self.expanded = {self.root}
        self.focus = self.root
        self.focus_gs = {0.0}  # the costs the current node may have
        self.explored = 1  # the root
        self.goal: Any = None
        self.goal_pos: int | None = None
        self.started = False
        self.made: Any = None  # the state the latest generate step led to

    # --- environment rules (overridden) ----------------------------------------------
    def key(self, state: Any) -> Any:
        raise NotImplementedError

    def child(self, step: TraceStep) -> tuple[Any, str | None]:
        """The state ``step`` generates from the current node, or an error."""
        raise NotImplementedError

    def dead_end_error(self, key: Any) -> str | None:
        raise NotImplementedError

    def target_error(self, step: TraceStep) -> str | None:
        return None

    def wall_error(self, step: TraceStep) -> str | None:
        """An error unless ``step`` names a wall next to the current node."""
        return "blocked: this environment has no walls"

    def path_error(self, step: TraceStep, key: Any) -> str | None:
        return None

    def answer_check(self, parsed: ParsedTrace) -> tuple[bool, bool | None, str | None]:
        """``(solved, optimal, error)`` of the trace's final answer."""
        raise NotImplementedError

    # --- the replay ------------------------------------------------------------------
    def run(self, parsed: ParsedTrace, same_problem: bool) -> TraceVerdict:
        if not same_problem:
            if parsed.error is not None:
                return self.verdict(f"parse: {parsed.error}", parsed.error_pos)
            return self.verdict("problem: the trace states another problem", 0)
        for step in parsed.steps:
            error = self.step(step)
            if error is not None:
                return self.verdict(error, step.pos)
        if parsed.error is not None:
            return self.verdict(f"parse: {parsed.error}", parsed.error_pos)
        if parsed.answer is not None and self.goal is None:  # e.g. Searchformer plan tokens
            return self.verdict("answer: the answer follows no search that reached the goal",
                                0)  # alone: a search format's solution must show its search
        solved, optimal, error = self.answer_check(parsed)
        if error is not None:
            return self.verdict(error, self.goal_pos)
        return TraceVerdict(True, solved, optimal, self.explored, None, None)

    def verdict(self, error: str, pos: int | None) -> TraceVerdict:
        return TraceVerdict(False, False, _optimal_default(self.problem), self.explored, error,
                            pos)

    def step(self, step: TraceStep) -> str | None:
        error = self.target_error(step)
        if error is not None:
            return error
        if step.kind == "wall":
            return self.wall_error(step)
        first, self.started = not self.started, True
        if step.kind == "generate":
            if first and step.state is not None and self.key(step.state) == self.root:
                return self.cost_error(step, self.root, {0.0})  # the root, created (A*)
            key, error = self.child(step)
            if error is not None:
                return error
            error = self.cost_error(step, key, self.focus_gs, 1.0)
            if error is not None:
                return error
            gs = self.child_costs(step)
            low = min(gs)
            known = self.nodes.get(key)
            if known is None:
                state = step.state if step.state is not None else self.made
                self.nodes[key] = _Node(state, self.focus, self.move_of(step, key), gs, low)
            else:
                if low < known.g_min:  # a cheaper way here (A* reopens the node)
                    known.parent, known.move = self.focus, self.move_of(step, key)
                    known.g_min = low
                known.gs |= gs
            self.explored += 1
            return None
        if step.kind in ("expand", "backtrack", "goal", "dead_end"):
            if step.state is None:
                return f"unknown: {step.kind} names no state"
            key = self.key(step.state)
            if key not in self.nodes:
                return f"unknown: {step.kind} of {self.show(step.state)}, a state never reached"
            if step.kind == "backtrack" and key not in self.expanded:
                return f"unknown: backtrack to {self.show(step.state)}, a state never expanded"
            error = self.path_error(step, key) or self.cost_error(step, key, self.nodes[key].gs)
            if error is not None:
                return error
            if step.kind == "goal":
                if not self.problem.is_goal(self.nodes[key].state):
                    return f"goal: {self.show(step.state)} is not a goal"
                if self.goal is None:
                    self.goal, self.goal_pos = key, step.pos
            elif step.kind == "dead_end":
                return self.dead_end_error(key)
            else:
                self.focus = key
                self.focus_gs = self.nodes[key].gs if step.g is None else {_cost(step.g)}
                self.expanded.add(key)
        return None

    def child_costs(self, step: TraceStep) -> set[float]:
        """The costs a node generated by ``step`` may have: the one written, else one more
        than each of the current node's (a Countdown state has one depth, so one cost)."""
        if step.g is not None:
            return {_cost(step.g)}
        return {_cost(g + 1) for g in self.focus_gs}

    def assume(self, step: TraceStep) -> None:
        """Take an illegal ``step`` at its word (after :meth:`step` rejected it), so that the
        replay reads on from what the trace claims: a written state becomes a node under the
        current one, ``expand``/``backtrack`` move there. Used by ``tree_from_trace``."""
        if step.state is None or step.kind == "wall":
            return  # a wall is no node
        key = self.key(step.state)
        known = self.nodes.get(key)
        if known is None:
            gs = self.child_costs(step)
            self.nodes[key] = _Node(step.state, self.focus, self.move_of(step, key), gs,
                                    min(gs))
            self.explored += step.kind == "generate"
        if step.kind in ("expand", "backtrack"):
            self.focus = key
            self.focus_gs = self.nodes[key].gs if step.g is None else {_cost(step.g)}
            self.expanded.add(key)

    def cost_error(self, step: TraceStep, key: Any, gs: set[float],
                   offset: float = 0.0) -> str | None:
        """An error if ``step`` states a cost other than ``offset`` more than one of ``gs``
        (or a wrong h)."""
        return None

    def move_of(self, step: TraceStep, key: Any) -> Any:
        return step.action

    def show(self, state: Any) -> str:
        return str(list(state))

    def goal_path(self) -> list[_Node]:
        """Nodes from the root's child to the first goal claimed (by first parents)."""
        out, key = [], self.goal
        while key is not None and key != self.root and len(out) <= len(self.nodes):
            node = self.nodes[key]
            out.append(node)
            key = node.parent
        return out[::-1]


class _CountdownReplay(_Replay):
    problem: Countdown

    def key(self, state: Any) -> Any:
        return tuple(sorted(state))

    def target_error(self, step: TraceStep) -> str | None:
        if step.target is not None and step.target != self.problem.target:
            return f"target: compares with {step.target}, the target is {self.problem.target}"
        return None

    def child(self, step: TraceStep) -> tuple[Any, str | None]:
        s = step.action
        if not isinstance(s, Step):
            return None, "state: the step names no operation"
        if apply_steps((s.a, s.b), (s,)) is None:
            return None, f"arithmetic: {s} is wrong"
        here = self.nodes[self.focus].state
        left = apply_steps(here, (s,))
        if left is None:
            return None, f"unavailable: {s} uses a number {list(here)} does not have"
        self.made = tuple(left)
        key = self.key(left)
        if step.state is not None and self.key(step.state) != key:
            return None, (f"state: {s} on {list(here)} leaves {sorted(left)}, the trace says "
                          f"{list(step.state)}")
        return key, None

    def path_error(self, step: TraceStep, key: Any) -> str | None:
        if step.path is None:
            return None
        left = apply_steps(self.problem.numbers, step.path)
        if left is None or self.key(left) != key:
            ops = ", ".join(str(s) for s in step.path)
            return f"state: the operations [{ops}] do not lead to {list(step.state)}"
        return None

    def dead_end_error(self, key: Any) -> str | None:
        if _solvable(key, self.problem.target):
            return f"dead_end: {list(key)} can still reach {self.problem.target}"
        return None

    def answer_check(self, parsed: ParsedTrace) -> tuple[bool, bool | None, str | None]:
        answer = parsed.answer
        if answer is None and self.goal is not None:
            answer = [n.move for n in self.goal_path()]
        if answer is None:
            return False, None, None
        if not self.problem.verify(answer):
            shown = ", ".join(str(s) for s in answer)
            return False, None, f"answer: [{shown}] does not reach {self.problem.target}"
        return True, None, None


class _MazeReplay(_Replay):
    problem: Maze

    def key(self, state: Any) -> Any:
        return (state[0], state[1])

    def show(self, state: Any) -> str:
        return f"({state[0]}, {state[1]})"

    def child(self, step: TraceStep) -> tuple[Any, str | None]:
        if step.state is None:
            return None, "state: the step names no cell"
        here, cell = self.focus, self.key(step.state)
        self.made = cell
        if not self.problem.is_open(cell):
            return None, f"wall: {self.show(cell)} is a wall or off the grid"
        if abs(cell[0] - here[0]) + abs(cell[1] - here[1]) != 1:
            return None, f"adjacent: {self.show(cell)} is not next to {self.show(here)}"
        if step.action is not None:
            delta = MOVES.get(step.action) if isinstance(step.action, str) else None
            if delta != (cell[0] - here[0], cell[1] - here[1]):
                return None, f"state: move {step.action!r} from {self.show(here)} does not reach "\
                    f"{self.show(cell)}"
        return cell, None

    def wall_error(self, step: TraceStep) -> str | None:
        if step.state is None:
            return "blocked: the wall names no cell"
        cell = self.key(step.state)
        if cell not in self.problem.blocked(self.focus):
            return f"blocked: {self.show(cell)} is not a wall next to {self.show(self.focus)}"
        return None

    def cost_error(self, step: TraceStep, key: Any, gs: set[float],
                   offset: float = 0.0) -> str | None:
        if step.g is not None and _cost(step.g - offset) not in gs:
            costs = sorted(gs)
            shown = " or ".join(f"{g + offset:g}" for g in costs[:3])
            shown += " or ..." if len(costs) > 3 else ""
            return f"cost: g of {self.show(key)} is {shown}, the trace says {step.g:g}"
        h = self.problem.heuristic(key)
        if step.h is not None and abs(step.h - h) > 1e-6:
            return f"cost: h of {self.show(key)} is {h:g}, the trace says {step.h:g}"
        return None

    def move_of(self, step: TraceStep, key: Any) -> Any:
        return key

    def dead_end_error(self, key: Any) -> str | None:
        for _, cell in self.problem.successors(key):
            if cell not in self.nodes:
                return f"dead_end: {self.show(key)} has an open neighbour {self.show(cell)} " \
                    "not yet explored"
        return None

    def answer_check(self, parsed: ParsedTrace) -> tuple[bool, bool | None, str | None]:
        plan = parsed.answer
        if plan is None and self.goal is not None:
            plan = [self.problem.start, *(n.move for n in self.goal_path())]
        if plan is None:
            return False, False, None
        pv = verify_plan(self.problem, plan)
        if not pv.reaches_goal:
            return False, False, f"answer: {pv.error}"
        return True, pv.optimal, None


@lru_cache(maxsize=200_000)
def _solvable(numbers: tuple[int, ...], target: int) -> bool:
    """Whether some sequence of legal steps turns ``numbers`` into exactly ``target``."""
    if len(numbers) == 1:
        return numbers[0] == target
    n = len(numbers)
    for i in range(n):
        for j in range(i + 1, n):
            rest = numbers[:i] + numbers[i + 1 : j] + numbers[j + 1 :]
            for op in ("+", "*", "-", "/"):
                r = combine(numbers[i], numbers[j], op)
                if r is not None and _solvable(tuple(sorted((*rest, r))), target):
                    return True
    return False
