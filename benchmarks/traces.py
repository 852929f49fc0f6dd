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
from metacot_lab.models import MODEL_SIZES
from metacot_lab.traces import formats_for
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
    args = parser.parse_args(argv)
    problems = check_int("problems", args.problems, 1, 1_000_000)
    rows = check_int("rows", args.rows, 1, 1_000_000)
    seed = check_int("seed", args.seed, 0)
    import datasets

    datasets.disable_progress_bars()  # one figure per line
    results: dict[str, float] = {}
    figures = itertools.chain([("vocab_size", float(len(build_tokenizer())), "tokens")],
                              lengths(problems, seed), throughput(rows, seed))
    for name, value, unit in figures:
        results[name] = value
        print(f"{name}: {value:.1f} {unit}", flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
