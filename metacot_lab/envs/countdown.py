"""Countdown: combine numbers with + - * / to reach a target (Game of 24 is a preset).

Rules follow Stream of Search (Gandhi et al., 2024): an action takes two of the available
numbers and replaces them by their sum, product, difference (larger minus smaller) or exact
quotient (larger over smaller), so every intermediate number is a non-negative integer. The
problem is solved when a single number is left and it equals the target. Arithmetic is exact
integer arithmetic; nothing is ever passed to ``eval``.

A state is the tuple of remaining numbers, in the order Stream of Search keeps them (unused
numbers in place, the new result appended). An action is ``(i, j, op)``: positions ``i < j``
in the state and an operator from :data:`OPS`.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from ..validation import check_choice, check_float, check_int, check_int_range
from .base import as_int_tuple, collect_distinct, split_of

OPS: tuple[str, ...] = ("+", "*", "-", "/")
"""Operators in the order Stream of Search tries them for each pair of numbers."""

MAX_NUMBER = 10_000
MAX_TARGET = 1_000_000
MAX_VALUE = MAX_NUMBER**6
"""No legal step on at most six numbers <= MAX_NUMBER can produce a larger number."""
CountdownState = tuple[int, ...]
CountdownAction = tuple[int, int, str]


class Step(NamedTuple):
    """One arithmetic step ``a op b = result`` as written in an answer."""

    a: int
    op: str
    b: int
    result: int

    def __str__(self) -> str:
        return f"{self.a}{self.op}{self.b}={self.result}"


def combine(a: int, b: int, op: str) -> int | None:
    """The result of ``a op b`` under Countdown rules, or ``None`` when not allowed."""
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    lo, hi = (a, b) if a <= b else (b, a)
    if op == "-":
        return hi - lo
    if op == "/":
        return hi // lo if lo != 0 and hi % lo == 0 else None
    return None


def sum_heuristic(numbers: Sequence[int], target: int) -> float:
    """Mean distance of the numbers to the target (Stream of Search's ``sum_heuristic``)."""
    if len(numbers) == 1:
        return float(abs(numbers[0] - target))
    return sum(abs(x - target) for x in numbers) / len(numbers)


def mult_heuristic(numbers: Sequence[int], target: int) -> float:
    """Summed distance of each number to its nearest factor of the target (SoS's ``mult``)."""
    factors = [f for f in range(2, target + 1) if target % f == 0] or [max(target, 1)]
    return float(sum(min(abs(x - f) for f in factors) for x in numbers))


HEURISTICS: dict[str, Callable[[Sequence[int], int], float]] = {
    "sum": sum_heuristic,
    "mult": mult_heuristic,
}


@dataclass(frozen=True)
class Countdown:
    """One Countdown problem: reach ``target`` using every number in ``numbers`` once."""

    numbers: tuple[int, ...]
    target: int
    heuristic_name: str = "sum"  # "sum" or "mult", the two Stream of Search heuristics
    kind: ClassVar[str] = "countdown"
    has_cycles: ClassVar[bool] = False  # search a tree, as Stream of Search does

    def __post_init__(self) -> None:
        numbers = as_int_tuple(self.numbers, "numbers")
        check_int("len(numbers)", len(numbers), 2, 6)
        for x in numbers:
            check_int("numbers[i]", x, 0, MAX_NUMBER)
        object.__setattr__(self, "numbers", numbers)
        check_int("target", self.target, 0, MAX_TARGET)
        check_choice("heuristic_name", self.heuristic_name, HEURISTICS)

    # --- the SearchProblem protocol -------------------------------------------------
    def initial_state(self) -> CountdownState:
        """The numbers as given."""
        return self.numbers

    def actions(self, state: CountdownState) -> list[CountdownAction]:
        """Every legal ``(i, j, op)``, pairs in ``combinations`` order, ops in :data:`OPS`."""
        return [action for action, _ in self.successors(state)]

    def successors(self, state: CountdownState) -> list[tuple[CountdownAction, CountdownState]]:
        """``(action, next_state)`` pairs in the order :meth:`actions` lists them."""
        out = []
        n = len(state)
        for i in range(n):
            a = state[i]
            for j in range(i + 1, n):
                b = state[j]
                rest = state[:i] + state[i + 1 : j] + state[j + 1 :]
                lo, hi = (a, b) if a <= b else (b, a)
                out.append(((i, j, "+"), (*rest, a + b)))
                out.append(((i, j, "*"), (*rest, a * b)))
                out.append(((i, j, "-"), (*rest, hi - lo)))
                if lo != 0 and hi % lo == 0:
                    out.append(((i, j, "/"), (*rest, hi // lo)))
        return out

    def step(self, state: CountdownState, action: CountdownAction) -> CountdownState:
        """Replace the two chosen numbers by their combination (appended at the end)."""
        if isinstance(action, str | bytes) or not isinstance(action, Sequence) or len(action) != 3:
            raise ValueError(f"action must be a triple (i, j, op), got {action!r}")
        i, j, op = action
        if not (_is_int(i) and _is_int(j) and 0 <= i < j < len(state)):
            raise ValueError(
                f"action positions must satisfy 0 <= i < j < {len(state)}, got {action!r}"
            )
        check_choice("action op", op, OPS)
        result = combine(state[i], state[j], op)
        if result is None:
            raise ValueError(f"action op '/' needs an exact division, got {action!r}")
        return (*state[:i], *state[i + 1 : j], *state[j + 1 :], result)

    def is_goal(self, state: CountdownState) -> bool:
        """One number left and it equals the target."""
        return len(state) == 1 and state[0] == self.target

    def heuristic(self, state: CountdownState) -> float:
        """The chosen Stream of Search heuristic of the remaining numbers."""
        return HEURISTICS[self.heuristic_name](state, self.target)

    def describe_action(self, state: CountdownState, action: CountdownAction) -> str:
        """The action as Stream of Search writes it, e.g. ``"9*3=27"`` or ``"9-3=6"``."""
        return str(self.action_step(state, action))

    def describe_state(self, state: CountdownState) -> str:
        """The state as Stream of Search writes it, e.g. ``"24:[4, 9, 3]"``."""
        return f"{self.target}:{list(state)}"

    def action_step(self, state: CountdownState, action: CountdownAction) -> Step:
        """The :class:`Step` an action performs (operand order as Stream of Search prints)."""
        i, j, op = action
        a, b = state[i], state[j]
        result = combine(a, b, op)
        if result is None:
            raise ValueError(f"action {action} is not legal in state {state}")
        if op in "-/" and a < b:
            a, b = b, a
        return Step(a, op, b, result)

    def verify(self, answer: Any) -> bool:
        """True iff ``answer`` (steps, or text such as ``"9*3=27, 27-4=23"``) reaches the
        target using every number exactly once. Never raises."""
        steps = parse_steps(answer) if isinstance(answer, str) else _coerce_steps(answer)
        if steps is None:
            return False
        remaining = apply_steps(self.numbers, steps)
        return remaining is not None and len(remaining) == 1 and remaining[0] == self.target

    # --- identity and serialisation ----------------------------------------------------
    def key(self) -> str:
        """Canonical identity: the multiset of numbers and the target."""
        return f"countdown:{sorted(self.numbers)}:{self.target}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; :func:`metacot_lab.envs.problem_from_dict` rebuilds it."""
        return {
            "kind": self.kind,
            "numbers": list(self.numbers),
            "target": self.target,
            "heuristic_name": self.heuristic_name,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Countdown:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict) or "numbers" not in d or "target" not in d:
            raise ValueError(f"countdown dict must have 'numbers' and 'target', got {d!r}")
        return cls(d["numbers"], d["target"], d.get("heuristic_name", "sum"))


_NUM = rf"([0-9]{{1,{len(str(MAX_VALUE))}}})"  # ASCII digits, enough for any legal value
_STEP_RE = re.compile(rf"^\s*{_NUM}\s*([-+*/])\s*{_NUM}\s*=\s*{_NUM}\s*$")


def parse_step(text: str) -> Step | None:
    """Read ``"a op b = r"`` (non-negative integers); ``None`` if it is not of that form."""
    if not isinstance(text, str):
        return None
    m = _STEP_RE.match(text)
    if m is None:
        return None
    return Step(int(m[1]), m[2], int(m[3]), int(m[4]))


def parse_steps(text: str) -> list[Step] | None:
    """Read steps separated by commas, semicolons or new lines; ``None`` on any bad step."""
    if not isinstance(text, str):
        return None
    parts = [p for p in re.split(r"[,;\n]", text) if p.strip()]
    steps = [parse_step(p) for p in parts]
    return None if not steps or any(s is None for s in steps) else steps  # type: ignore[return-value]


def _coerce_steps(answer: Any) -> list[Step] | None:
    """Steps from a sequence of strings or ``(a, op, b[, result])`` tuples; ``None`` if bad."""
    if isinstance(answer, str | bytes) or not isinstance(answer, Sequence) or not answer:
        return None
    steps = []
    for item in answer:
        if isinstance(item, str):
            step = parse_step(item)
        elif isinstance(item, Sequence) and len(item) in (3, 4):
            a, op, b = item[0], item[1], item[2]
            if not (_is_value(a) and _is_value(b) and isinstance(op, str) and op in OPS):
                return None
            result = combine(a, b, op)
            if len(item) == 4:
                if not _is_value(item[3]):
                    return None
                result = item[3]
            step = None if result is None else Step(a, op, b, result)
        else:
            step = None
        if step is None:
            return None
        steps.append(step)
    return steps


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_value(x: Any) -> bool:
    """An int that a legal step could use or produce (bounds the work on huge inputs)."""
    return _is_int(x) and 0 <= x <= MAX_VALUE


def apply_steps(numbers: Sequence[int], steps: Sequence[Step]) -> list[int] | None:
    """The numbers left after ``steps``, or ``None`` if any step is illegal or miscomputed.

    A step is legal when both operands are available (as a multiset), the operator is one
    of :data:`OPS`, and the written result equals the exact result, which must be a
    non-negative integer (so ``3-9`` and ``7/2`` are illegal whatever is written).
    """
    pool = list(numbers)
    for s in steps:
        if s.op not in OPS or s.a < 0 or s.b < 0:
            return None
        if s.op == "-":
            exact = s.a - s.b
        elif s.op == "/":
            exact = s.a // s.b if s.b != 0 and s.a % s.b == 0 else None
        else:
            exact = combine(s.a, s.b, s.op)
        if exact is None or exact < 0 or exact != s.result:
            return None
        for operand in (s.a, s.b):
            if operand not in pool:
                return None
            pool.remove(operand)
        pool.append(s.result)
    return pool


# --- generation ---------------------------------------------------------------------------
COUNTDOWN_SPLITS: tuple[str, ...] = ("train", "val", "test", "heldout_targets")
"""``train``/``val``/``test`` use the non-held-out targets and are disjoint by problem;
``heldout_targets`` uses only the fixed held-out targets that never appear in the others."""


@dataclass(frozen=True)
class CountdownConfig:
    """How problems are generated (defaults: Stream of Search's Countdown-4)."""

    num_numbers: int = 4  # Stream of Search trains on 4; the course uses 3-6
    number_range: tuple[int, int] = (1, 99)  # inclusive; SoS draws inputs from 1-99
    target_range: tuple[int, int] = (10, 100)  # inclusive; SoS targets are 10-100
    heldout_target_fraction: float = 0.1  # SoS holds out 10% of targets from training

    def __post_init__(self) -> None:
        check_int("num_numbers", self.num_numbers, 3, 6)
        object.__setattr__(
            self, "number_range", check_int_range("number_range", self.number_range, 1, MAX_NUMBER)
        )
        object.__setattr__(
            self, "target_range", check_int_range("target_range", self.target_range, 0, MAX_TARGET)
        )
        check_float("heldout_target_fraction", self.heldout_target_fraction, 0.0, 0.5)


GAME_OF_24 = CountdownConfig(
    num_numbers=4, number_range=(1, 13), target_range=(24, 24), heldout_target_fraction=0.0
)
"""Game of 24: four card values 1-13, target 24 (integer-only intermediate results)."""


def heldout_targets(config: CountdownConfig) -> frozenset[int]:
    """The fixed set of held-out targets of ``config``'s target range (independent of seeds)."""
    lo, hi = config.target_range
    k = math.floor(config.heldout_target_fraction * (hi - lo + 1) + 1e-9)  # SoS: len // 10
    rng = random.Random(f"metacot-heldout-targets:{lo}:{hi}")
    return frozenset(rng.sample(range(lo, hi + 1), k))


def sample_solvable(
    rng: random.Random, config: CountdownConfig, max_tries: int = 50_000
) -> Countdown:
    """One solvable problem: draw numbers, combine them at random, keep in-range targets.

    Building the target forwards from a random legal solution guarantees solvability
    without a search (the published generator rejection-samples instead).
    """
    lo, hi = config.number_range
    tlo, thi = config.target_range
    for _ in range(max_tries):
        numbers = tuple(rng.randint(lo, hi) for _ in range(config.num_numbers))
        for _ in range(8):
            pool = list(numbers)
            while len(pool) > 1:
                i, j = sorted(rng.sample(range(len(pool)), 2))
                a, b = pool[i], pool[j]
                del pool[j], pool[i]
                lo_ab, hi_ab = (a, b) if a <= b else (b, a)
                choices = [a + b, a * b, hi_ab - lo_ab]
                if lo_ab != 0 and hi_ab % lo_ab == 0:
                    choices.append(hi_ab // lo_ab)
                pool.append(rng.choice(choices))
            if tlo <= pool[0] <= thi:
                return Countdown(numbers, pool[0])
    raise ValueError(
        f"target_range={config.target_range} is (almost) never reached from "
        f"{config.num_numbers} numbers in number_range={config.number_range}; widen the ranges"
    )


def generate_countdown(
    count: int,
    config: CountdownConfig = CountdownConfig(),  # noqa: B008 - frozen, safe as a default
    split: str = "train",
    seed: int = 0,
) -> list[Countdown]:
    """``count`` distinct solvable problems of ``split``, the same for the same ``seed``."""
    check_int("count", count, 0, 10_000_000)
    check_choice("split", split, COUNTDOWN_SPLITS)
    check_int("seed", seed, 0)
    held = heldout_targets(config)
    if split == "heldout_targets" and not held:
        raise ValueError(
            "split 'heldout_targets' needs heldout_target_fraction > 0 in the config, got "
            f"{config.heldout_target_fraction} over target_range {config.target_range}"
        )
    rng = random.Random(f"countdown:{seed}:{split}")

    def accept(p: Countdown) -> bool:
        if split == "heldout_targets":
            return p.target in held
        return p.target not in held and split_of(p.key()) == split

    return collect_distinct(
        lambda: sample_solvable(rng, config), accept, count, 200 * count + 10_000,
        f"problems than the split '{split}' of this config yields",
        "lower count or widen the ranges",
    )


def game_of_24(count: int, split: str = "train", seed: int = 0) -> list[Countdown]:
    """``count`` distinct Game of 24 problems (integer-only variant)."""
    return generate_countdown(count, GAME_OF_24, split=split, seed=seed)
