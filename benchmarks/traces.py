"""Trace lengths in tokens of the course tokenizer, and dataset build throughput.

Prints one figure per line, ``name: value unit``::

    .venv/bin/python benchmarks/traces.py [--problems 300] [--rows 2000] [--seed 0]

Lengths are the ``trace_tokens`` column of :func:`metacot_lab.data.build_dataset` (prompt +
completion + ``<eos>``: the training sequence) for every format on Countdown-4 with DFS as
Stream of Search runs it (threshold = target) and on 10x10 mazes with A*, over the first
``--problems`` train problems, every search counted, solved or not (as the Stream of Search
paper counts its traces); ``*_solved_over_ctx*`` counts the solved ones only (the default
training data). ``over_4096`` is the share longer than a 4,096-token context, ``over_ctx``
the share longer than our models' context (``MODEL_SIZES[...].max_positions``, 2,048: the
longest sequence the tiny Llamas are built for, a budget that keeps attention cheap on a
CPU). ``*_solved`` is the share of searches that reached the goal.

Verification time is linear in the text: ``verify_<format>_ms_per_kb_<size>`` is the time
:func:`~metacot_lab.traces.verify_trace` takes per KB of a legal maze walk of ``--verify-sizes``
bytes (default 10 KB and 1 MB) in the ``solution``, ``metacot`` and ``searchformer`` formats
(a 64x64 open maze walked a row at a time, then back and forth between two cells with the cost
growing: the texts a model stuck in a loop writes), and ``verify_<format>_ratio`` the largest
size's time per KB over the smallest's (1 is linear).

Throughput is rows/s of ``build_dataset`` (generation, search, trace, verification,
tokenization) for ``--rows`` Meta-CoT train rows, with ``num_proc`` 1 and 2, wall time
(``num_proc`` 2 only pays when the machine has two idle cores and builds are large enough to
amortize the worker pool).
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from collections.abc import Iterator, Sequence

from metacot_lab.data import build_dataset
from metacot_lab.envs import Maze
from metacot_lab.models import MODEL_SIZES
from metacot_lab.traces import formats_for, get_format, verify_trace
from metacot_lab.traces.tokenizer import build_tokenizer
from metacot_lab.validation import check_int

CONTEXT = MODEL_SIZES["5m"].max_positions
SETTINGS = {  # name: (env, algorithm, env_kwargs)
    "countdown4_dfs": ("countdown", "dfs", {"num_numbers": 4}),
    "maze10_astar": ("maze", "astar", {"n": 10}),
}


def percentile(values: Sequence[int], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)])


def length_figures(name: str, lengths: Sequence[int]) -> list[tuple[str, float, str]]:
    """Mean, median, p95 and the shares over 4,096 and over our context."""
    if not lengths:
        return []
    return [
        (f"{name}_mean", statistics.mean(lengths), "tokens"),
        (f"{name}_median", float(statistics.median(lengths)), "tokens"),
        (f"{name}_p95", percentile(lengths, 95), "tokens"),
        (f"{name}_over_4096", 100 * sum(n > 4096 for n in lengths) / len(lengths), "%"),
        (f"{name}_over_ctx{CONTEXT}", 100 * sum(n > CONTEXT for n in lengths) / len(lengths),
         "%"),
    ]


def lengths(problems: int, seed: int) -> Iterator[tuple[str, float, str]]:
    """Token-length figures of every format on both settings."""
    for setting, (env, algorithm, env_kwargs) in SETTINGS.items():
        for fmt in formats_for(env):
            rows = build_dataset(env, algorithm, fmt, problems, 0, 0, 0, seed=seed,
                                 env_kwargs=env_kwargs, keep_unsolved=True)["train"]
            tokens, solved = rows["trace_tokens"], rows["solved"]
            if fmt == formats_for(env)[0]:
                yield f"{setting}_solved", 100 * sum(solved) / len(solved), "%"
            yield from length_figures(f"{setting}_{fmt}", tokens)
            kept = [t for t, s in zip(tokens, solved, strict=True) if s]
            if kept:
                yield (f"{setting}_{fmt}_solved_over_ctx{CONTEXT}",
                       100 * sum(n > CONTEXT for n in kept) / len(kept), "%")


WALK_FORMATS = ("solution", "metacot", "searchformer")
WALK_MAZE = Maze(64, frozenset(), (0, 0), (0, 63))  # the walk never reaches the goal


def long_walk(n_bytes: int, format: str) -> str:
    """A legal trace of at least ``n_bytes`` on :data:`WALK_MAZE` in ``format``: every cell
    but the goal a row at a time, then back and forth between the last two, ``g`` growing."""
    n = WALK_MAZE.n
    rows = [[(x, y) for x in (range(n) if y % 2 == 0 else range(n - 1, -1, -1))]
            for y in range(n)]
    cells = [c for row in rows for c in row][1:-1]
    parts, size, g = [get_format(format).prompt(WALK_MAZE)], 0, 0
    parts.append("bos " if format == "searchformer" else "")
    while size < n_bytes:
        cell = cells[g] if g < len(cells) else cells[-2 + (g - len(cells)) % 2]
        g += 1
        x, y, h = cell[0], cell[1], int(WALK_MAZE.heuristic(cell))
        if format == "searchformer":
            line = f"create {x} {y} c{g} c{h} close {x} {y} c{g} c{h} "
        else:
            line = f"{x},{y} g {g} h {h}\n" + ("at\n" if format == "metacot" else "")
        parts.append(line)
        size += len(line)
    return "".join(parts) + ("eos" if format == "searchformer" else "")


def verify_speed(sizes: Sequence[int]) -> Iterator[tuple[str, float, str]]:
    """Milliseconds per KB to verify :func:`long_walk` texts of each size, and the ratio of
    the largest size's to the smallest's."""
    for fmt in WALK_FORMATS:
        per_kb = []
        for size in sizes:
            text = long_walk(size, fmt)
            start = time.perf_counter()
            verdict = verify_trace(WALK_MAZE, text, fmt)
            per_kb.append((time.perf_counter() - start) * 1000 / (len(text) / 1000))
            if not verdict.valid:
                raise RuntimeError(f"the {fmt} walk must be legal: {verdict.first_error}")
            yield f"verify_{fmt}_ms_per_kb_{_size_name(size)}", per_kb[-1], "ms/KB"
        yield f"verify_{fmt}_ratio", per_kb[-1] / per_kb[0], "x"


def _size_name(size: int) -> str:
    return f"{size // 1_000_000}mb" if size % 1_000_000 == 0 else f"{size // 1000}kb" \
        if size % 1000 == 0 else f"{size}b"


def throughput(rows: int, seed: int) -> Iterator[tuple[str, float, str]]:
    """Rows/s of building ``rows`` Meta-CoT train rows, ``num_proc`` 1 and 2."""
    for setting, (env, algorithm, env_kwargs) in SETTINGS.items():
        for num_proc in (1, 2):
            start = time.perf_counter()
            build_dataset(env, algorithm, "metacot", rows, 0, 0, 0, seed=seed,
                          env_kwargs=env_kwargs, num_proc=num_proc)
            rate = rows / (time.perf_counter() - start)
            yield f"{setting}_metacot_build_num_proc{num_proc}", rate, "rows/s"


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Measure, print one line per figure, and return the figures by name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=300, help="traces per format")
    parser.add_argument("--rows", type=int, default=2000, help="rows per throughput build")
    parser.add_argument("--seed", type=int, default=0, help="fixes every generated input")
    parser.add_argument("--verify-sizes", default="10000,1000000",
                        help="bytes of the verified walks, comma-separated, smallest first")
    args = parser.parse_args(argv)
    try:
        sizes = [int(x) for x in args.verify_sizes.split(",")]
    except ValueError:
        raise ValueError(f"verify_sizes must be comma-separated integers, got "
                         f"{args.verify_sizes!r}") from None
    for size in sizes:
        check_int("verify_sizes", size, 100, 100_000_000)
    problems = check_int("problems", args.problems, 1, 1_000_000)
    rows = check_int("rows", args.rows, 1, 1_000_000)
    seed = check_int("seed", args.seed, 0)
    import datasets

    datasets.disable_progress_bars()  # one figure per line
    results: dict[str, float] = {}
    figures = itertools.chain([("vocab_size", float(len(build_tokenizer())), "tokens")],
                              lengths(problems, seed), verify_speed(sizes),
                              throughput(rows, seed))
    for name, value, unit in figures:
        results[name] = value
        print(f"{name}: {value:.{3 if unit == 'ms/KB' else 1}f} {unit}", flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
