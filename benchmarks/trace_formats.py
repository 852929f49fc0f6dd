"""Trace lengths per format and ``verify_trace`` throughput.

Prints one measurement per line::

    .venv/bin/python benchmarks/trace_formats.py [--problems 300] [--seconds 3] [--seed 0]

Lengths (``name: mean M median D p95 P max X tokens``) are measured on Countdown-4 DFS traces
(threshold = target, as Stream of Search) and 10x10 A* traces, whole texts (prompt and
completion: the context an example fills), with two rough counters from
:mod:`metacot_lab.traces.lengths`: ``pieces`` (words, single digits, punctuation) and
``gpt2pre`` (GPT-2 pre-tokens, a lower bound on GPT-2 BPE tokens; the real GPT-2 vocabulary
is not available offline); ``completion_pieces`` counts what a model writes. Throughput
(``name: value traces/s``) verifies the same traces in a loop for ``--seconds`` of wall time,
single process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from metacot_lab.envs import CountdownConfig, MazeConfig, generate_countdown, generate_mazes
from metacot_lab.search import dfs
from metacot_lab.traces import FORMATS, formats_for, verify_trace
from metacot_lab.traces.lengths import count_gpt2_pretokens, count_pieces, summarize
from metacot_lab.validation import check_float, check_int

COUNTERS = {"pieces": count_pieces, "gpt2pre": count_gpt2_pretokens}


def trees(problems: int, seed: int) -> dict[str, list]:
    """Countdown-4 DFS trees and 10x10 A* trees of ``problems`` problems each."""
    from metacot_lab.search import astar

    countdown = generate_countdown(problems, CountdownConfig(num_numbers=4), seed=seed)
    mazes = generate_mazes(problems, MazeConfig(n=10), seed=seed)
    return {
        "countdown4_dfs": [dfs.search(p, threshold=p.target) for p in countdown],
        "maze10_astar": [astar.search(m, seed=seed) for m in mazes],
    }


def throughput(texts: list[tuple[object, str]], fmt: str, seconds: float) -> float:
    """Traces verified per second over ``seconds`` of wall time."""
    done = 0
    start = time.perf_counter()
    while True:
        for problem, text in texts:
            verify_trace(problem, text, fmt)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Print every measurement, one per line, and return them by name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=300, help="problems per environment")
    parser.add_argument("--seconds", type=float, default=3.0, help="wall time per throughput")
    parser.add_argument("--seed", type=int, default=0, help="fixes every generated input")
    args = parser.parse_args(argv)
    problems = check_int("problems", args.problems, 1, 100_000)
    seconds = check_float("seconds", args.seconds, 1e-6, 3600.0)
    seed = check_int("seed", args.seed, 0)
    results: dict[str, float] = {}
    for setting, forest in trees(problems, seed).items():
        env = forest[0].problem.kind
        for name in formats_for(env):
            f = FORMATS[name]
            texts = {"pieces": [f.linearize(t) for t in forest]}
            texts["gpt2pre"] = texts["pieces"]
            texts["completion_pieces"] = [f.completion(t) for t in forest]
            for counter, corpus in texts.items():
                count = COUNTERS[counter.removeprefix("completion_")]
                stats = summarize(count(x) for x in corpus)
                key = f"{setting}_{name}_{counter}"
                results.update({f"{key}_{k}": v for k, v in stats.items()})
                print(f"{key}: " + " ".join(f"{k} {v:.1f}" for k, v in stats.items())
                      + " tokens", flush=True)
    forest = trees(min(problems, 100), seed + 1)
    for setting, name in [("countdown4_dfs", "sos"), ("countdown4_dfs", "metacot"),
                          ("maze10_astar", "searchformer"), ("maze10_astar", "metacot")]:
        texts = [(t.problem, FORMATS[name].linearize(t)) for t in forest[setting]]
        key = f"verify_{setting}_{name}"
        results[key] = throughput(texts, name, seconds)
        print(f"{key}: {results[key]:.1f} traces/s", flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
