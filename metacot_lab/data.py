"""Datasets of search traces: any environment x search algorithm x trace format.

:func:`build_dataset` generates problems, runs the search on each, writes the tree in a
trace format and returns a :class:`datasets.DatasetDict` with the splits

====================== =====================================================================
train, val, test       problems of the environment's hash split (disjoint by construction)
test_heldout_targets   Countdown: problems whose targets never occur in the other splits
test_larger            mazes: unseen mazes of a larger size (``larger_n``, default ``n + 2``)
====================== =====================================================================

and the columns (``prompt`` and ``completion`` are what ``trl`` trainers read):

================ ==========================================================================
prompt           the problem statement in the format (``FORMATS[format].prompt``)
completion       the trace a model learns to write (``FORMATS[format].completion``)
problem          the problem as JSON (``problem.to_dict()``; ``envs.problem_from_dict``)
size             Countdown: how many numbers; mazes: the side ``n``
difficulty       Countdown: expansions a complete DFS (heuristic order, no pruning) needs
                 to solve the problem - the effort of search, whatever ``algorithm`` wrote
                 the trace; mazes: moves in an optimal plan
algorithm        the search algorithm that wrote the trace
format           the trace format
trace_tokens     tokens of ``prompt + completion`` with the course tokenizer, plus one for
                 the ``<eos>`` training appends: the length of the training sequence
solved           the trace solves the problem (:func:`~metacot_lab.traces.verify_trace`)
optimal          mazes: the trace's plan is a shortest one; Countdown: null (undefined)
nodes_explored   nodes the search expanded (``tree.stats()["expanded"]``)
================ ==========================================================================

Unsolved searches (a pruned or budget-limited search can miss the goal) are dropped by
default (``keep_unsolved=False``): training data should show searches that succeed; the
generator then takes further problems of the split until each split has its size. With
``keep_unsolved=True`` every problem is kept (solution-only and backtrack traces of an
unsolved search are empty).

``max_tokens`` (default ``None``: no limit) drops rows whose ``trace_tokens`` exceed it, the
way unsolved ones are dropped (further problems fill the split), so that no row of the
dataset is longer than the model's context: pass the context length you train with.

Everything is deterministic: problems come from the generators with ``seed``; the search on
the ``i``-th problem of a split gets its own seed drawn from ``(seed, split, i)``, so rows do
not depend on ``num_proc`` (``Dataset.map`` over problem indices, with a progress bar).
Countdown DFS defaults to Stream of Search's pruning (``threshold`` = the target); pass
``search_kwargs={"threshold": None}`` for a complete DFS.

Command line (also ``metacot data build ...``)::

    python -m metacot_lab.data build --env countdown --size 4 --algorithm dfs \\
        --format metacot --n-train 10000 --n-val 500 --n-test 500 --out data/cd4_dfs_metacot
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict, Features, Value, concatenate_datasets

from .config import MAX_SEED
from .envs import (
    CountdownConfig,
    MazeConfig,
    generate_countdown,
    generate_mazes,
    problem_from_dict,
    shortest_path_length,
)
from .envs.maze import MAX_N
from .search import ALGORITHMS, check_search_kwargs, dfs, run_search
from .traces import FORMATS, formats_for, get_format, verify_trace
from .traces.tokenizer import build_tokenizer
from .validation import check_choice, check_int

ENVS: tuple[str, ...] = ("countdown", "maze")
HELDOUT_SPLIT: dict[str, str] = {"countdown": "test_heldout_targets", "maze": "test_larger"}
"""The held-out split of each environment."""
TRACE_ALGORITHM: dict[str, str] = {"countdown": "dfs", "maze": "astar"}
"""The search whose traces the experiments train on: Stream of Search's DFS for Countdown
(threshold = target, :func:`trace_row`'s default), A* for mazes."""
FEATURES = Features({
    "prompt": Value("string"),
    "completion": Value("string"),
    "problem": Value("string"),
    "size": Value("int32"),
    "difficulty": Value("int32"),
    "algorithm": Value("string"),
    "format": Value("string"),
    "trace_tokens": Value("int32"),
    "solved": Value("bool"),
    "optimal": Value("bool"),
    "nodes_explored": Value("int32"),
})
"""The columns of every split, in order."""
MAX_ROWS = 10_000_000
MAX_TOKENS = 10_000_000
Generator = Callable[[int, int], list]  # (count, seed) -> the first count problems of a split
_MIN_SOLVE_RATE = 0.05  # the solve rate assumed when too few searches succeed to estimate it


def build_dataset(
    env: str,
    algorithm: str,
    format: str,
    n_train: int,
    n_val: int,
    n_test: int,
    n_heldout: int | None = None,
    *,
    seed: int = 0,
    num_proc: int = 1,
    search_kwargs: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    keep_unsolved: bool = False,
    larger_n: int | None = None,
    max_tokens: int | None = None,
) -> DatasetDict:
    """Traces of ``algorithm`` on ``env`` problems written in ``format`` (see the module
    docstring). ``n_heldout`` (default ``n_test``) sizes the held-out split; ``env_kwargs``
    go to :class:`~metacot_lab.envs.CountdownConfig` / :class:`~metacot_lab.envs.MazeConfig`,
    ``search_kwargs`` to the search (all but ``seed``); ``max_tokens`` drops rows whose
    ``trace_tokens`` exceed it (``None``: keep every length)."""
    check_choice("env", env, ENVS)
    check_choice("algorithm", algorithm, tuple(ALGORITHMS))
    check_choice("format", format, tuple(FORMATS))
    if env not in get_format(format).envs:
        raise ValueError(
            f"format {format!r} does not write {env} traces; format must be one of "
            f"{formats_for(env)} for env {env!r}"
        )
    sizes = {"train": n_train, "val": n_val, "test": n_test,
             HELDOUT_SPLIT[env]: n_test if n_heldout is None else n_heldout}
    for name, n in zip(("n_train", "n_val", "n_test", "n_heldout"), sizes.values(),
                       strict=True):
        check_int(name, n, 0, MAX_ROWS)
    check_int("seed", seed, 0, MAX_SEED)
    check_int("num_proc", num_proc, 1, 256)
    if not isinstance(keep_unsolved, bool):
        raise ValueError(f"keep_unsolved must be True or False, got {keep_unsolved!r}")
    if max_tokens is not None:
        check_int("max_tokens", max_tokens, 1, MAX_TOKENS)
    generators = _generators(env, env_kwargs, larger_n)
    search_kwargs = _check_search_kwargs(algorithm, search_kwargs, generators)
    args = {"env": env, "algorithm": algorithm, "format": format,
            "search_kwargs": search_kwargs, "max_tokens": max_tokens}
    return DatasetDict({
        split: _build_split(split, generators[split], n, seed, num_proc, keep_unsolved, args)
        for split, n in sizes.items()
    })


def trace_row(
    problem: Any, algorithm: str, format: str, search_kwargs: dict[str, Any], search_seed: int,
    tokenizer: Any = None,
) -> dict[str, Any]:
    """One row: search ``problem``, write the trace, measure it (see the module docstring)."""
    kwargs = dict(search_kwargs)
    if problem.kind == "countdown" and algorithm == "dfs" and "threshold" not in kwargs:
        kwargs["threshold"] = problem.target  # Stream of Search's pruning
    tree = ALGORITHMS[algorithm](problem, seed=search_seed, **kwargs)
    fmt = get_format(format)
    prompt, completion = fmt.prompt(problem), fmt.completion(tree)
    verdict = verify_trace(problem, prompt + completion, fmt)
    if verdict.solved != tree.solved:
        raise RuntimeError(
            f"the {format} trace of {problem!r} by {algorithm} does not verify as the search "
            f"ended (search solved: {tree.solved}; verifier: {verdict})"
        )
    tokenizer = _tokenizer() if tokenizer is None else tokenizer
    return {
        "prompt": prompt,
        "completion": completion,
        "problem": json.dumps(problem.to_dict()),
        "size": len(problem.numbers) if problem.kind == "countdown" else problem.n,
        "difficulty": difficulty(problem),
        "algorithm": algorithm,
        "format": format,
        "trace_tokens": len(tokenizer(prompt + completion)["input_ids"]) + 1,
        "solved": verdict.solved,
        "optimal": verdict.optimal,
        "nodes_explored": tree.stats()["expanded"],
    }


def env_kwargs_for(env: str, size: int, number_range: Sequence[int] | None = None) -> dict:
    """``build_dataset``'s ``env_kwargs`` for Countdown with ``size`` numbers (drawn from
    ``number_range``, default the config's) or an ``size`` x ``size`` maze."""
    check_choice("env", env, ENVS)
    if env == "maze":
        return {"n": size}
    kwargs: dict[str, Any] = {"num_numbers": size}
    if number_range is not None:
        kwargs["number_range"] = tuple(number_range)
    return kwargs


def difficulty(problem: Any) -> int:
    """Countdown: expansions of a complete DFS (heuristic order, no pruning) until it solves
    ``problem`` (all of the tree if it cannot); mazes: moves in an optimal plan (-1 if none)."""
    if problem.kind == "countdown":
        return dfs.search(problem, threshold=None, budget=10_000_000).stats()["expanded"]
    moves = shortest_path_length(problem)
    return -1 if moves is None else moves


def search_seed(seed: int, split: str, index: int) -> int:
    """The search seed of the ``index``-th problem of ``split`` (independent of ``num_proc``)."""
    return random.Random(f"metacot-data:{seed}:{split}:{index}").randrange(2**32)


def save_dataset(dataset: DatasetDict, out: str | Path, build_args: dict | None = None) -> Path:
    """Write each split to ``out/<split>.parquet`` (and ``build_args`` to ``out/build.json``);
    the same dataset gives the same bytes."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for split, ds in dataset.items():
        ds.to_parquet(str(out / f"{split}.parquet"))
    if build_args is not None:
        (out / "build.json").write_text(json.dumps(build_args, indent=2, sort_keys=True) + "\n")
    return out


def load_dataset_dir(path: str | Path) -> DatasetDict:
    """Read a folder written by :func:`save_dataset` (in memory, no cache files)."""
    import pyarrow.parquet as pq

    path = Path(path)
    files = sorted(path.glob("*.parquet"))
    if not files:
        raise ValueError(f"path must be a folder of <split>.parquet files, got {str(path)!r}")
    order = {name: i for i, name in enumerate(("train", "val", "test", *HELDOUT_SPLIT.values()))}
    files.sort(key=lambda f: (order.get(f.stem, len(order)), f.stem))
    return DatasetDict({f.stem: Dataset(pq.read_table(f)) for f in files})


# --- internals --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    return build_tokenizer()


def _check_search_kwargs(algorithm: str, search_kwargs: Any,
                         generators: dict[str, Generator]) -> dict[str, Any]:
    """The search arguments, checked by name and then by value: the search runs once on a
    problem here, so a bad value fails now and not inside ``Dataset.map``."""
    if search_kwargs is None:
        return {}
    kwargs = check_search_kwargs(algorithm, search_kwargs, exclude=("seed",),
                                 field="search_kwargs")
    run_search(algorithm, next(iter(generators.values()))(1, 0)[0], **kwargs)
    return kwargs


def _config(cls: type, kwargs: dict[str, Any]) -> Any:
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"env_kwargs must be fields of {cls.__name__}: {e}") from None


def _generators(env: str, env_kwargs: Any, larger_n: Any) -> dict[str, Generator]:
    """For each split, ``(count, seed) -> the first count problems`` (prefix-stable)."""
    if env_kwargs is not None and not isinstance(env_kwargs, dict):
        raise ValueError(f"env_kwargs must be a dict, got {env_kwargs!r}")
    kwargs = dict(env_kwargs or {})
    if env == "countdown":
        if larger_n is not None:
            raise ValueError("larger_n applies to env 'maze' only, got larger_n for countdown")
        config = _config(CountdownConfig, kwargs)

        def countdown(split: str) -> Generator:
            return lambda count, seed: generate_countdown(count, config, split, seed)

        return {s: countdown(s) for s in ("train", "val", "test")} | {
            HELDOUT_SPLIT[env]: countdown("heldout_targets")}
    config = _config(MazeConfig, kwargs)
    larger_n = config.n + 2 if larger_n is None else larger_n
    check_int("larger_n", larger_n, config.n + 1, MAX_N)
    larger = _config(MazeConfig, {**kwargs, "n": larger_n})

    def maze(split: str, cfg: MazeConfig) -> Generator:
        return lambda count, seed: generate_mazes(count, cfg, split, seed)

    return {s: maze(s, config) for s in ("train", "val", "test")} | {
        HELDOUT_SPLIT[env]: maze("test", larger)}


def _build_split(
    split: str, generate: Generator, n: int, seed: int, num_proc: int,
    keep_unsolved: bool, args: dict[str, Any],
) -> Dataset:
    """``n`` rows of ``split``: the first ``n`` problems, or the first ``n`` kept ones
    (solved, and with ``max_tokens`` short enough), taking further problems in rounds until
    there are enough."""
    max_tokens = args["max_tokens"]
    drops = not keep_unsolved or max_tokens is not None
    rows: list[Dataset] = []
    kept, done, limit = 0, 0, 20 * n + 100
    while kept < n:
        if done >= limit:
            within = "" if max_tokens is None else f" within max_tokens={max_tokens}"
            raise ValueError(
                f"only {kept} of {done} {split} problems were solved by {args['algorithm']} "
                f"with search_kwargs={args['search_kwargs']}{within}; raise the budget "
                "or max_tokens, or pass keep_unsolved=True"
            )
        want = n - kept
        if done == 0 or not drops:
            count = done + want
        else:  # take enough further problems for the solve rate seen so far, and a margin
            rate = max(kept / done, _MIN_SOLVE_RATE)
            count = min(done + math.ceil(want / rate * 1.2), limit)
        part = _rows(generate(count, seed)[done:], split, done, seed, num_proc, args)
        if not keep_unsolved:
            part = part.filter(lambda solved: solved, input_columns="solved")
        if max_tokens is not None:
            part = part.filter(lambda tokens: tokens <= max_tokens,
                               input_columns="trace_tokens")
        rows.append(part)
        kept, done = kept + len(part), count
    if not rows:
        return Dataset.from_dict({k: [] for k in FEATURES}, features=FEATURES)
    ds = concatenate_datasets(rows) if len(rows) > 1 else rows[0]
    return ds.select(range(n)).flatten_indices()


def _rows(problems: Sequence[Any], split: str, start: int, seed: int, num_proc: int,
          args: dict[str, Any]) -> Dataset:
    indices = range(start, start + len(problems))
    table = Dataset.from_dict({
        "problem": [json.dumps(p.to_dict()) for p in problems],
        "search_seed": [search_seed(seed, split, i) for i in indices],
    })
    return table.map(
        _map_row,
        fn_kwargs={"algorithm": args["algorithm"], "format": args["format"],
                   "search_kwargs": args["search_kwargs"]},
        remove_columns=table.column_names,
        features=FEATURES,
        num_proc=num_proc if num_proc > 1 and len(problems) >= 2 * num_proc else None,
        desc=f"{split} {args['env']} {args['algorithm']} {args['format']}",
    )


def _map_row(example: dict[str, Any], algorithm: str, format: str,
             search_kwargs: dict[str, Any]) -> dict[str, Any]:
    problem = problem_from_dict(json.loads(example["problem"]))
    return trace_row(problem, algorithm, format, search_kwargs, example["search_seed"])


# --- command line -----------------------------------------------------------------------
def _json_dict(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not JSON: {e}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}")
    return value


def parser(prog: str = "python -m metacot_lab.data") -> argparse.ArgumentParser:
    """The command-line parser (``build``)."""
    p = argparse.ArgumentParser(prog=prog, description="Build datasets of search traces.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a dataset and write <out>/<split>.parquet")
    b.add_argument("--env", required=True, choices=ENVS)
    b.add_argument("--algorithm", required=True, choices=sorted(ALGORITHMS))
    b.add_argument("--format", required=True, choices=sorted(FORMATS))
    b.add_argument("--size", type=int, help="Countdown: how many numbers; maze: side n")
    b.add_argument("--n-train", type=int, required=True)
    b.add_argument("--n-val", type=int, default=0)
    b.add_argument("--n-test", type=int, default=0)
    b.add_argument("--n-heldout", type=int, help="held-out split size (default: --n-test)")
    b.add_argument("--larger-n", type=int, help="maze side of test_larger (default: n + 2)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--num-proc", type=int, default=1)
    b.add_argument("--env-kwargs", type=_json_dict, default={}, help="JSON, e.g. "
                   '\'{"number_range": [1, 15]}\'')
    b.add_argument("--search-kwargs", type=_json_dict, default={}, help="JSON, e.g. "
                   '\'{"budget": 500}\'')
    b.add_argument("--keep-unsolved", action="store_true",
                   help="keep searches that did not reach the goal")
    b.add_argument("--max-tokens", type=int,
                   help="drop rows longer than this many tokens (the model context)")
    b.add_argument("--out", required=True, help="output folder")
    return p


def main(argv: Sequence[str] | None = None, prog: str = "python -m metacot_lab.data") -> int:
    """Run the command line; returns the exit status (a bad value exits with 2)."""
    cli = parser(prog)
    ns = cli.parse_args(argv)
    env_kwargs = dict(ns.env_kwargs)
    if ns.size is not None:
        env_kwargs["num_numbers" if ns.env == "countdown" else "n"] = ns.size
    build_args = {
        "env": ns.env, "algorithm": ns.algorithm, "format": ns.format,
        "n_train": ns.n_train, "n_val": ns.n_val, "n_test": ns.n_test,
        "n_heldout": ns.n_heldout, "seed": ns.seed, "search_kwargs": ns.search_kwargs,
        "env_kwargs": env_kwargs, "keep_unsolved": ns.keep_unsolved, "larger_n": ns.larger_n,
    }
    if ns.max_tokens is not None:  # absent when unset: build.json of older builds unchanged
        build_args["max_tokens"] = ns.max_tokens
    try:
        dataset = build_dataset(**build_args, num_proc=ns.num_proc)
    except ValueError as err:
        cli.error(str(err))  # a usage error: the message, exit status 2, no traceback
    out = save_dataset(dataset, ns.out, build_args)
    for split, ds in dataset.items():
        print(f"{split}: {len(ds)} rows -> {out / (split + '.parquet')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
