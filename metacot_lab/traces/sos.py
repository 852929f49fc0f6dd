"""Stream of Search (Gandhi et al., 2024): the published text format for Countdown.

Byte-compatible with the published generator (``src/countdown_dfs.py`` of
kanishkg/stream-of-search). Each event of a tree becomes the lines SoS writes for it::

    Current State: 24:[4, 9, 3], Operations: []             expand the root (the prompt)
    Exploring Operation: 9*3=27, Resulting Numbers: [4, 27]  generate a child
    Generated Node #0,0: 24:[4, 27] Operation: 9*3=27        ... that has numbers to combine
    Moving to Node #0,0                                      expand it (first visit) or
    Current State: 24:[4, 27], Operations: ['9*3=27']        backtrack to it (a later visit)
    27,24 unequal: No Solution                               a leaf that misses the target
    24,24 equal: Goal Reached                                a leaf that hits it

``prune``, ``close`` and the dead end of a node whose children were all pruned write nothing,
as in SoS. Node ids are the parent's id plus the child's position among the children the
search tried. The parser also reads the published BFS variant (``countdown_bfs.py``: several
``Generated Node`` lines before the search moves on, a final ``No solution found.``), and, like
the published parser, stops reading at the first goal claim.
"""

from __future__ import annotations

import re
from typing import Any

from ..envs.countdown import Countdown, Step
from ..search.tree import SearchTree
from .base import FormatBase, ParsedTrace, TraceStep
from .common import (
    NUM,
    STEP,
    fail,
    iter_lines,
    node_step,
    path_steps,
    sibling_index,
    step_from_match,
)

END_OF_TEXT = "<|endoftext|>"  # the published generator's end marker; parse ignores it
_NUMS = rf"\[((?:{NUM}(?:, {NUM})*)?)\]"
_IDS = rf"{NUM}(?:,{NUM})*"
_CURRENT = re.compile(rf"Current State: ({NUM}):{_NUMS}, Operations: \[(.*)\]")
_OPERATIONS = re.compile(rf"'{STEP}'(?:, |$)")
_EXPLORING = re.compile(rf"Exploring Operation: {STEP}, Resulting Numbers: {_NUMS}")
_GENERATED = re.compile(rf"Generated Node #({_IDS}): ({NUM}):{_NUMS} Operation: {STEP}")
_MOVING = re.compile(rf"Moving to Node #({_IDS})")
_GOAL = re.compile(rf"({NUM}),({NUM}) equal: Goal Reached")
_DEAD = re.compile(rf"({NUM}),({NUM}) unequal: No Solution")
_NO_SOLUTION = "No solution found."


def _nums(numbers: Any) -> str:
    return "[" + ", ".join(str(x) for x in numbers) + "]"


def _ops(steps: tuple[Step, ...] | list[Step]) -> str:
    return "[" + ", ".join(f"'{s}'" for s in steps) + "]"


def _current(target: int, numbers: Any, steps: tuple[Step, ...]) -> str:
    return f"Current State: {target}:{_nums(numbers)}, Operations: {_ops(steps)}\n"


def _read_nums(group: str) -> tuple[int, ...]:
    return tuple(int(x) for x in group.split(", ")) if group else ()


def _read_ops(group: str) -> tuple[Step, ...] | None:
    """The operations of a ``Current State`` line, ``None`` if not a list of steps."""
    steps, end = [], 0
    for m in _OPERATIONS.finditer(group):
        if m.start() != end:
            return None
        steps.append(Step(int(m[1]), m[2], int(m[3]), int(m[4])))
        end = m.end()
    return tuple(steps) if end == len(group) else None


class SosFormat(FormatBase):
    """Stream of Search text (Countdown)."""

    name = "sos"
    envs = ("countdown",)

    def prompt(self, problem: Countdown) -> str:
        """The root's ``Current State`` line (the published evaluation prompt, plus ``\\n``)."""
        self.check_problem(problem)
        return _current(problem.target, problem.numbers, ())

    def completion(self, tree: SearchTree) -> str:
        """Every event after the root's expansion, written as SoS writes it."""
        self.check_problem(tree.problem)
        target = tree.problem.target
        nodes = tree.graph.nodes
        index = sibling_index(tree)
        ids = {tree.root: "0"}
        out: list[str] = []
        for e in tree.events:
            n = e.node
            state = nodes[n]["state"]
            if e.kind == "generate" and n != tree.root:
                ids[n] = f"{ids[nodes[n]['parent']]},{index[n]}"
                step = node_step(tree, n)
                out.append(f"Exploring Operation: {step}, Resulting Numbers: {_nums(state)}\n")
                if len(state) > 1:
                    out.append(f"Generated Node #{ids[n]}: {target}:{_nums(state)} "
                               f"Operation: {step}\n")
            elif e.kind == "goal":
                out.append(f"{state[0]},{target} equal: Goal Reached\n")
            elif e.kind == "dead_end" and len(state) == 1:
                out.append(f"{state[0]},{target} unequal: No Solution\n")
            elif e.kind == "backtrack" or (e.kind == "expand" and n != tree.root):
                out.append(f"Moving to Node #{ids[n]}\n")
                out.append(_current(target, state, path_steps(tree, n)))
        return "".join(out)

    def expected_steps(self, tree: SearchTree) -> list[TraceStep]:
        """expand / backtrack (with the path), generate, goal and leaf dead ends."""
        self.check_problem(tree.problem)
        target = tree.problem.target
        nodes = tree.graph.nodes
        steps: list[TraceStep] = []
        for e in tree.events:
            n = e.node
            state = tuple(nodes[n]["state"])
            if e.kind == "generate" and n != tree.root:
                steps.append(TraceStep("generate", state, node_step(tree, n),
                                       target=target if len(state) > 1 else None))
            elif e.kind == "goal" or (e.kind == "dead_end" and len(state) == 1):
                steps.append(TraceStep(e.kind, state, target=target))
            elif e.kind in ("expand", "backtrack"):
                steps.append(TraceStep(e.kind, state, path=path_steps(tree, n), target=target))
            if e.kind == "goal":
                break
        return steps

    def parse(self, text: str) -> ParsedTrace:
        """Read SoS text (ours or the published generator's); never raises."""
        parsed = ParsedTrace()
        if not isinstance(text, str):
            return fail(parsed, "trace must be text", 0)
        steps = parsed.steps
        visited: set[tuple[str | None, tuple[Step, ...]]] = set()  # (node id, operations)
        moving: str | None = None  # the id of a "Moving to Node" awaiting its state line
        focus_path: tuple[Step, ...] = ()
        reached: dict[tuple[int, ...], tuple[Step, ...]] = {}  # numbers -> operations there
        first = True
        for pos, raw in iter_lines(text):
            line = raw.replace(END_OF_TEXT, "")
            if not line.strip():
                continue
            if first and not line.startswith("Current State:"):
                visited.add(("0", ()))  # the completion alone: the search starts at the root
            first_line, first = first, False
            if moving is not None and not line.startswith("Current State:"):
                return fail(parsed, "expected 'Current State' after 'Moving to Node'", pos)
            if m := _CURRENT.fullmatch(line):
                path = _read_ops(m[3])
                if path is None:
                    return fail(parsed, "unreadable operations list", pos)
                target, state = int(m[1]), _read_nums(m[2])
                if first_line:  # the root (a later "Moving to Node #0" returns to it)
                    parsed.problem = _problem(state, target) if not path else None
                    moving = "0"
                # a node is its id and its operations: the published BFS gives several
                # leaves one id, and equal numbers give several nodes the same operations
                kind = "backtrack" if (moving, path) in visited else "expand"
                visited.add((moving, path))
                steps.append(TraceStep(kind, state, path=path, target=target, pos=pos))
                focus_path, moving = path, None
            elif m := _EXPLORING.fullmatch(line):
                step, state = step_from_match(m), _read_nums(m[5])
                steps.append(TraceStep("generate", state, step, pos=pos))
                reached[state] = (*focus_path, step)
            elif m := _GENERATED.fullmatch(line):
                prev = steps[-1] if steps else None
                restated = (step_from_match(m, 4), _read_nums(m[3]))
                if (prev is None or prev.kind != "generate" or prev.target is not None
                        or (prev.action, prev.state) != restated):
                    return fail(parsed, "'Generated Node' does not restate the operation "
                                "just explored", pos)
                steps[-1] = TraceStep("generate", prev.state, prev.action, target=int(m[2]),
                                      pos=prev.pos)
            elif m := _MOVING.fullmatch(line):
                moving = m[1]
            elif m := _DEAD.fullmatch(line):
                steps.append(TraceStep("dead_end", (int(m[1]),), target=int(m[2]), pos=pos))
            elif m := _GOAL.match(line):  # a prefix match: reading stops here anyway
                state = (int(m[1]),)
                steps.append(TraceStep("goal", state, target=int(m[2]), pos=pos))
                if state in reached:  # the operations that led to the number claimed
                    parsed.answer = list(reached[state])
                parsed.unread = line[m.end():] + text[pos + len(raw) + 1:]
                return parsed
            elif line.strip() == _NO_SOLUTION:
                return parsed
            else:
                return fail(parsed, "unreadable line", pos)
        if moving is not None:
            return fail(parsed, "trace ends after 'Moving to Node'", len(text))
        return parsed


def _problem(numbers: tuple[int, ...], target: int) -> Countdown | None:
    """The problem a root state line describes, ``None`` if it is not a legal one."""
    try:
        return Countdown(numbers, target)
    except ValueError:
        return None


FORMAT = SosFormat()
prompt, completion, linearize, parse, expected_steps = FORMAT.functions()

__all__ = ["FORMAT", "SosFormat", "completion", "expected_steps", "linearize", "parse", "prompt"]
