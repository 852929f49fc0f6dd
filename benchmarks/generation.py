"""Generation throughput: problems (or mazes) per second, generation plus a recorded search.

Prints one figure per line, ``name: value unit (ratio to the published generator)``::

    .venv/bin/python benchmarks/generation.py [--seconds 5] [--seed 0]

Each measurement runs whole batches, single process, until ``--seconds`` of wall time
(``time.perf_counter``) have passed; inputs are fixed by ``--seed``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from metacot_lab.envs import CountdownConfig, MazeConfig, generate_countdown, generate_mazes
from metacot_lab.search import dfs
from metacot_lab.validation import check_float, check_int

# Reference points from issue 2, measured on the same kind of 2-core CPU:
SOS_GENERATOR = 170.0  # Stream of Search generator, Countdown-4 problems/s (rejection + DFS)
SOS_SEARCH_ONLY = 2_100.0  # its DFS trace alone, problems/s
SEARCHFORMER_10 = 135.0  # Searchformer generator, 10x10 mazes/s (generation + A* trace)
SEARCHFORMER_30 = 4.0  # Searchformer generator, 30x30 mazes/s
BATCH = 32  # problems generated per call; timing is checked between batches

COUNTDOWN4 = CountdownConfig(num_numbers=4)


def rate(run_batch: Callable[[int], int], seconds: float) -> float:
    """Items per second of ``run_batch(k)`` (returns items done) over ``seconds`` of wall time."""
    done, k = 0, 0
    start = time.perf_counter()
    while True:
        done += run_batch(k)
        k += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def countdown_rate(seed: int, seconds: float, threshold: str, generate: bool = True) -> float:
    """Countdown-4 problems/s: generation (if ``generate``) plus a DFS tree per problem.

    ``threshold="target"`` prunes as Stream of Search does; ``"none"`` is complete DFS.
    """
    fixed = generate_countdown(BATCH, COUNTDOWN4, seed=seed)

    def run_batch(k: int) -> int:
        problems = generate_countdown(BATCH, COUNTDOWN4, seed=seed + k) if generate else fixed
        for p in problems:
            dfs.search(p, threshold=p.target if threshold == "target" else None)
        return len(problems)

    return rate(run_batch, seconds)


def maze_rate(n: int, seed: int, seconds: float) -> float:
    """``n x n`` mazes/s: generation plus an A* tree (deterministic tie-breaking) per maze."""
    from metacot_lab.search import astar

    config = MazeConfig(n=n)

    def run_batch(k: int) -> int:
        mazes = generate_mazes(BATCH, config, seed=seed + k)
        for m in mazes:
            astar.search(m, budget=n * n, tie_break="deterministic", seed=0)
        return len(mazes)

    return rate(run_batch, seconds)


def _line(name: str, value: float, unit: str, reference: float, what: str) -> str:
    return f"{name}: {value:.1f} {unit} ({value / reference:.1f}x {what} {reference:g}/s)"


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run every measurement, print one line each, and return the figures by name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="wall time per figure")
    parser.add_argument("--seed", type=int, default=0, help="fixes every generated input")
    args = parser.parse_args(argv)
    seconds = check_float("seconds", args.seconds, 1e-6, 3600.0)
    seed = check_int("seed", args.seed, 0)
    rows = [
        ("countdown4_generate_dfs_sos", "problems/s", SOS_GENERATOR, "SoS generator",
         lambda: countdown_rate(seed, seconds, "target")),
        ("countdown4_generate_dfs_complete", "problems/s", SOS_GENERATOR, "SoS generator",
         lambda: countdown_rate(seed, seconds, "none")),
        ("countdown4_dfs_sos_search_only", "problems/s", SOS_SEARCH_ONLY, "SoS search alone",
         lambda: countdown_rate(seed, seconds, "target", generate=False)),
        ("maze10_generate_astar", "mazes/s", SEARCHFORMER_10, "Searchformer generator",
         lambda: maze_rate(10, seed, seconds)),
        ("maze30_generate_astar", "mazes/s", SEARCHFORMER_30, "Searchformer generator",
         lambda: maze_rate(30, seed, seconds)),
    ]
    results = {}
    for name, unit, reference, what, measure in rows:
        results[name] = measure()
        print(_line(name, results[name], unit, reference, what), flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
