"""Independent oracles for the tests, written from the rules, not from the package."""

from __future__ import annotations

import itertools
from functools import cache


@cache
def countdown_solvable(numbers: tuple[int, ...], target: int) -> bool:
    """Exhaustive search over every way of combining ``numbers`` under Countdown rules."""
    if len(numbers) == 1:
        return numbers[0] == target
    for i, j in itertools.combinations(range(len(numbers)), 2):
        a, b = sorted((numbers[i], numbers[j]))
        rest = [x for k, x in enumerate(numbers) if k not in (i, j)]
        results = {a + b, a * b, b - a} | ({b // a} if a and b % a == 0 else set())
        if any(countdown_solvable(tuple(sorted([*rest, r])), target) for r in results):
            return True
    return False
