"""Shared by the trace tests: search trees of every algorithm, and the published generators'
text re-derived from their papers' code (our own transcription of the algorithms, used as
independent oracles for byte compatibility)."""

from __future__ import annotations

import heapq
import itertools
import random

from hypothesis import strategies as st

from metacot_lab.envs import Countdown, MazeConfig, generate_mazes
from metacot_lab.search import ALGORITHMS


def search_tree(name: str, problem, seed: int = 0):
    """A tree of ``problem`` by algorithm ``name`` with small, fast settings."""
    kwargs = {"seed": seed, "budget": 400}
    if name == "dfs" and problem.kind == "countdown":
        kwargs["threshold"] = problem.target  # as Stream of Search runs it
    return ALGORITHMS[name](problem, **kwargs)


countdown_problems = st.builds(
    lambda nums, target: Countdown(tuple(nums), target),
    st.lists(st.integers(1, 25), min_size=3, max_size=4),
    st.integers(1, 60),
)
maze_problems = st.builds(
    lambda n, seed: generate_mazes(1, MazeConfig(n=n), seed=seed)[0],
    st.integers(4, 7),
    st.integers(0, 10_000),
)


# --- Stream of Search: the published generators' text ----------------------------------
def _sos_moves(a: int, b: int) -> list[tuple[int, str]]:
    """Results and operation strings for a pair, in the published order (+, *, -, /)."""
    lo, hi = min(a, b), max(a, b)
    big, small = (b, a) if a <= b else (a, b)
    out = [(a + b, f"{a}+{b}={a + b}"), (a * b, f"{a}*{b}={a * b}"),
           (hi - lo, f"{big}-{small}={hi - lo}")]
    if small != 0 and big % small == 0:
        out.append((big // small, f"{big}/{small}={big // small}"))
    return out


def _sos_children(nums: list[int], ops: list[str], target: int, h) -> list:
    children = []
    for i, j in itertools.combinations(range(len(nums)), 2):
        for result, op in _sos_moves(nums[i], nums[j]):
            rest = [nums[k] for k in range(len(nums)) if k not in (i, j)]
            new = [*rest, result]
            children.append((h(new, target), new, [*ops, op]))
    return children


def sos_sum_heuristic(nums: list[int], target: int) -> float:
    if len(nums) == 1:
        return abs(nums[0] - target)
    return sum(abs(x - target) for x in nums) / len(nums)


def sos_mult_heuristic(nums: list[int], target: int) -> float:
    factors = [i for i in range(2, target + 1) if target % i == 0]
    return sum(min(abs(x - f) for f in factors) for x in nums)


def published_sos_dfs(target: int, nums: list[int], h=sos_sum_heuristic) -> str:
    """The text ``countdown_dfs.dfs(target, nums, h, threshold=target)`` writes."""
    out: list[str] = []

    def state(n, ops):
        return f"Current State: {target}:{n}, Operations: {ops}\n"

    def visit(node_id: str, n: list[int], ops: list[str]) -> bool:
        out.append(state(n, ops))
        kids = [c for c in _sos_children(n, ops, target, h) if c[0] <= target]
        kids.sort(key=lambda c: c[0])  # stable, as the published tuple sort is on ties
        for k, (_, new, new_ops) in enumerate(kids):
            kid_id = f"{node_id},{k}"
            out.append(f"Exploring Operation: {new_ops[-1]}, Resulting Numbers: {new}\n")
            if len(new) == 1 and new[0] == target:
                out.append(f"{new[0]},{target} equal: Goal Reached\n")
                return True
            if len(new) == 1:
                out.append(f"{new[0]},{target} unequal: No Solution\n")
            else:
                out.append(f"Generated Node #{kid_id}: {target}:{new} Operation: {new_ops[-1]}\n")
                out.append(f"Moving to Node #{kid_id}\n")
                if visit(kid_id, new, new_ops):
                    return True
            if k < len(kids) - 1:
                out.append(f"Moving to Node #{node_id}\n")
                out.append(state(n, ops))
        return False

    visit("0", list(nums), [])
    return "".join(out)


def published_sos_bfs(target: int, nums: list[int], beam: int, seed: int) -> str:
    """Text in the shape ``countdown_bfs.bfs`` writes (beam of ``beam`` per expansion,
    shuffled kept children, one frontier heap; ties broken by insertion order)."""
    rng = random.Random(seed)
    count = itertools.count()
    heap = [(sos_sum_heuristic(nums, target), next(count), "0", list(nums), [])]
    out: list[str] = []
    while heap:
        current = [heapq.heappop(heap) for _ in range(min(beam, len(heap)))]
        for idx, (_, _, node_id, n, ops) in enumerate(current):
            out.append(f"Current State: {target}:{n}, Operations: {ops}\n")
            kids = sorted(_sos_children(n, ops, target, sos_sum_heuristic), key=lambda c: c[0])
            kept = kids[:beam]
            rng.shuffle(kept)
            k = 0
            for h, new, new_ops in kept:
                kid_id = f"{node_id},{k}"
                out.append(f"Exploring Operation: {new_ops[-1]}, Resulting Numbers: {new}\n")
                if len(new) == 1 and new[0] == target:
                    out.append(f"{new[0]},{target} equal: Goal Reached\n")
                    return "".join(out)
                if len(new) == 1:  # leaves keep the id of the next sibling (as published)
                    out.append(f"{new[0]},{target} unequal: No Solution\n")
                else:
                    out.append(f"Generated Node #{kid_id}: {target}:{new} "
                               f"Operation: {new_ops[-1]}\n")
                    k += 1
                heapq.heappush(heap, (h, next(count), kid_id, new, new_ops))
            if idx < len(current) - 1:
                out.append(f"Moving to Node #{current[idx + 1][2]}\n")
        if heap:
            out.append(f"Moving to Node #{heap[0][2]}\n")
    return "".join(out) + "No solution found."


# --- Searchformer: the published token sequence of a recorded A* trace -----------------
def published_searchformer(start, goal, walls, steps) -> str:
    """Tokens as ``SimpleMazeTokenizer`` + ``DictTokenizer`` write a trace: ``steps`` are
    ``(action, x, y, cost_from_start, heuristic)`` as in Searchformer's JSON traces."""
    prompt = ["bos", "start", *map(str, start), "goal", *map(str, goal)]
    for w in walls:
        prompt += ["wall", *map(str, w)]
    trace = ["bos"]
    for action, x, y, g, h in steps:
        if action == "plan":
            trace += ["plan", str(x), str(y)]
        else:
            trace += [action, str(x), str(y), f"c{g}", f"c{h}"]
    return " ".join([*prompt, "eos"]) + "\n" + " ".join([*trace, "eos"]) + "\n"
