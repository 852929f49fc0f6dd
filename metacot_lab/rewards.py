"""Outcome rewards for RL with verifiable rewards, built only on the environments' verifiers.

Every reward has the signature ``trl``'s ``GRPOTrainer`` calls: the completions as
``completions`` and every other dataset column as a keyword argument, of which a reward
reads ``problem`` (the problem, as the JSON that :mod:`metacot_lab.data` stores, a dict or
the problem itself) and ``format`` (the trace format's name). It returns one float per
completion and never raises on any text: what cannot be read scores 0. Nothing is ever
evaluated; every check is :func:`~metacot_lab.traces.verify_trace` (a replay with the
environment's rules) or the environment's own verifier of a final answer.

================ ============================================================================
``solved``       1 when the trace is a legal search and its answer is right, else 0: the
                 reward of the course's RL runs (and the "solved" of every evaluation)
``right_answer`` 1 when the final answer or plan is right, whatever the trace before it
                 (the reward of papers that check only the answer)
``legal_trace``  1 when every step of the trace is legal, solved or not
``format_credit`` a deliberately naive shaped reward, kept for the reward-hacking lesson:
                 0.5 for text the format can read to its end and 0.5 more for claiming the
                 goal, whether the claim is true or not
================ ============================================================================

A completion earns ``solved`` or ``right_answer`` only when it *ends* at its answer: text
after the goal (junk, a second answer) scores 0 in every format. The compact formats'
parsers already reject such text; Stream of Search's published checker stops reading at the
first goal claim, and :func:`~metacot_lab.traces.verify_trace` keeps that rule for SoS (so
its evaluations match the paper's), but the rewards do not: a policy must not learn that
anything goes after a lucky goal line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from .envs import problem_from_dict
from .traces import final_answer, get_format, verify_trace
from .traces.sos import END_OF_TEXT
from .traces.verify import read_trace
from .validation import check_choice

Reward = Callable[..., list[float]]


def solved(completions: Sequence[Any], problem: Sequence[Any], format: Sequence[str],
           **_: Any) -> list[float]:
    """1.0 for a legal search trace that ends at an answer the environment accepts, else
    0.0."""
    return [float(_ends_at_answer(p, text, f) and verify_trace(p, text, f).solved)
            for text, p, f in _rows(completions, problem, format)]


def right_answer(completions: Sequence[Any], problem: Sequence[Any], format: Sequence[str],
                 **_: Any) -> list[float]:
    """1.0 when the text ends at a right final answer (Countdown steps, a maze plan),
    whatever the trace before it, else 0.0."""
    return [float(_ends_at_answer(p, text, f) and final_answer(p, text, f)[1])
            for text, p, f in _rows(completions, problem, format)]


def legal_trace(completions: Sequence[Any], problem: Sequence[Any], format: Sequence[str],
                **_: Any) -> list[float]:
    """1.0 when every step of the trace is legal (the search need not reach the goal)."""
    return [float(verify_trace(p, text, f).valid)
            for text, p, f in _rows(completions, problem, format)]


def format_credit(completions: Sequence[Any], problem: Sequence[Any], format: Sequence[str],
                  **_: Any) -> list[float]:
    """Naive shaped reward: 0.5 when the format reads the text to its end without error,
    plus 0.5 when the text claims the goal, true or not. It pays for looking like a
    search, not for searching; see the module docstring."""
    scores = []
    for text, p, f in _rows(completions, problem, format):
        if not isinstance(text, str):
            scores.append(0.0)
            continue
        parsed = read_trace(p, text, get_format(f))[0]
        readable = parsed.ok and bool(parsed.steps)
        claims = any(step.kind == "goal" for step in parsed.steps)
        scores.append(0.5 * readable + 0.5 * claims)
    return scores


REWARDS: dict[str, Reward] = {
    "solved": solved,
    "right_answer": right_answer,
    "legal_trace": legal_trace,
    "format_credit": format_credit,
}
"""The rewards by name (``train_grpo(reward=...)``, ``metacot rl --reward``)."""


def get_reward(name: str | Reward) -> Reward:
    """The reward called ``name`` (a callable is returned as it is)."""
    if callable(name):
        return name
    return REWARDS[check_choice("reward", name, tuple(REWARDS))]


def _ends_at_answer(problem: Any, text: Any, format: str) -> bool:
    """Whether ``text`` reads to its end with nothing after its goal claim (see the module
    docstring)."""
    if not isinstance(text, str):
        return False
    parsed = read_trace(problem, text, get_format(format))[0]
    return parsed.ok and not parsed.unread.replace(END_OF_TEXT, "").strip()


def _rows(completions: Sequence[Any], problem: Sequence[Any],
          format: Sequence[str]) -> list[tuple[Any, Any, str]]:
    """``(completion, problem, format)`` per completion; the problems decoded, each format
    checked against its problem (a ``ValueError``: these are the caller's data, not model
    text)."""
    if isinstance(problem, str | dict) or isinstance(format, str):
        raise ValueError("problem and format must be one entry per completion (dataset "
                         "columns), not a single value")
    if not len(completions) == len(problem) == len(format):
        raise ValueError(f"completions, problem and format must have the same length, got "
                         f"{len(completions)}, {len(problem)} and {len(format)}")
    rows = []
    for text, p, f in zip(completions, problem, format, strict=True):
        p = _problem(p) if isinstance(p, str) else problem_from_dict(p) \
            if isinstance(p, dict) else p
        get_format(f).check_problem(p)
        rows.append((text, p, f))
    return rows


@lru_cache(maxsize=4096)
def _problem(text: str) -> Any:
    """A problem from its JSON (cached: a GRPO batch repeats each prompt's problem)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"problem must be the JSON of a problem, got {text[:60]!r}") from None
    return problem_from_dict(data)
