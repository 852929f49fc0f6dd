"""Shipped experiment results as tidy tables, and what went wrong in generated traces.

``data/results/<task>-<format>.json`` is the record (:mod:`metacot_lab.results`) that
``benchmarks/sft_experiment.py`` writes for one format of one task, copied under the name of
its checkpoint by :func:`~metacot_lab.checkpoints.export_run` (``countdown4-metacot.json``
goes with ``data/checkpoints/countdown4-metacot``). Its keys: ``args`` (the command line:
``env``, ``size``, ``format``, ``seed``, ...), ``command``, ``hardware``, ``date``,
``parameters``, ``train`` (``steps``, ``tokens_seen``, ``wall_seconds``, ``loss_history``),
``summary_by_split``, ``summary_by_split_difficulty``
and ``problems`` (one row per evaluated problem). A *task* is an environment and its size,
``"countdown4"`` or ``"maze10"``::

    results = load_results()                  # {"countdown4-metacot": {...}, ...}
    summary_table(results)                    # one row per run and split
    problems_table(results)                   # one row per run and problem
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .checkpoints import RESULTS_DIR
from .data import HELDOUT_SPLIT
from .traces import ERROR_KINDS
from .validation import check_int

RESULT_KEYS: tuple[str, ...] = ("args", "train", "summary_by_split", "problems")
"""Keys every results file must have (:func:`read_results` refuses a file without them)."""
SAMPLING_DIR: Path = RESULTS_DIR / "sampling"
RL_DIR: Path = RESULTS_DIR / "rl"
RL_KEYS: tuple[str, ...] = ("checkpoint", "config", "train", "before", "after", "curves",
                            "validation", "behaviour")
"""Keys every RL record (``metacot rl``'s ``results.json``) must have."""
SAMPLING_KEYS: tuple[str, ...] = ("args", "format", "split", "curve")
SAMPLING_LABELS = ("run", "task", "format", "split", "samples", "temperature")
SAMPLING_COLUMNS = ("k", "tokens", "pass_at_k", "answer_pass_at_k", "maj_at_k")
NUMERIC = ("solve_rate", "valid_rate", "optimal_rate", "tokens")
OUTCOMES: tuple[str, ...] = ("solved", *ERROR_KINDS, "cut off", "no answer")
"""What became of a generated trace (:func:`outcome`), in the order tables list them."""


def available_results(root: str | os.PathLike = RESULTS_DIR) -> list[str]:
    """Names of the results files under ``root`` (without ``.json``), sorted."""
    root = Path(root)
    return sorted(p.stem for p in root.glob("*.json")) if root.is_dir() else []


def read_results(name: str, root: str | os.PathLike = RESULTS_DIR) -> dict[str, Any]:
    """The results of run ``name`` (a name under ``root`` or a path to a JSON file)."""
    return _read_record(name, root, RESULT_KEYS, "a results file")


def read_rl_record(name: str, root: str | os.PathLike = RL_DIR) -> dict[str, Any]:
    """The record of RL run ``name`` (a name under ``root``, ``countdown3-metacot-solved``,
    or a path to a ``results.json`` that ``metacot rl`` wrote)."""
    return _read_record(name, root, RL_KEYS, "an RL record")


def _read_record(name: str, root: str | os.PathLike, keys: Sequence[str],
                 what: str) -> dict[str, Any]:
    """The JSON record ``name`` (under ``root``, or a path), which must hold ``keys``."""
    path = Path(name)
    if not path.is_file():
        path = Path(root) / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"name must be {what} in {Path(root)} or a path to one; got "
                         f"{str(name)!r}; available: {available_results(root)}")
    record = json.loads(path.read_text())
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"{what} {str(name)!r} lacks the keys {missing}; need {tuple(keys)}")
    return record


def rl_scores(record: Mapping[str, Any]) -> pd.DataFrame:
    """Greedy scores before and after RL: one row per stage and split (columns
    ``solve_rate``, ``answer_rate``, ``tokens``, ...)."""
    rows = [{"stage": stage, **row} for stage in ("before", "after")
            for row in record[stage]["greedy"]]
    return pd.DataFrame(rows).set_index(["stage", "split"])


def rl_sampling_curves(record: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The sampling curves (pass@k, maj@k by k) before and after RL, by stage."""
    return {stage: pd.DataFrame(record[stage]["sampling_curve"])
            for stage in ("before", "after")}


def load_results(
    root: str | os.PathLike = RESULTS_DIR,
    names: Sequence[str] | None = None,
    include_finetuned: bool = False,
) -> dict[str, dict[str, Any]]:
    """Every results file under ``root`` (or only ``names``), by name, sorted by task and
    format (``maze5`` before ``maze10``). Runs fine-tuned from another checkpoint (their
    record names a ``base``, as LoRA runs do) are left out unless ``include_finetuned``."""
    names = available_results(root) if names is None else list(names)
    loaded = {name: read_results(name, root) for name in names}
    loaded = {k: v for k, v in loaded.items() if include_finetuned or v.get("base") is None}
    return dict(sorted(loaded.items(), key=lambda item: _order(item[1]["args"])))


def load_sampling_curves(root: str | os.PathLike = SAMPLING_DIR) -> pd.DataFrame:
    """The accuracy-vs-inference-tokens curves that ``benchmarks/sampling_experiment.py``
    wrote under ``root`` (``<checkpoint>-k<samples>.json``): one row per record and k, with
    ``run``, ``task``, ``format``, ``split``, ``samples``, ``temperature`` and the curve's
    ``k``, ``tokens``, ``pass_at_k``, ``answer_pass_at_k``, ``maj_at_k``; sorted by task,
    format and k. No records: an empty table with these columns."""
    rows = []
    for path in sorted(Path(root).glob("*.json")) if Path(root).is_dir() else []:
        record = json.loads(path.read_text())
        missing = [k for k in SAMPLING_KEYS if k not in record]
        if missing:
            raise ValueError(f"{path}: a sampling record needs the keys {SAMPLING_KEYS}, "
                             f"lacks {missing}")
        args = record["args"]
        labels = {"run": path.stem, "task": task_name(args), "format": record["format"],
                  "split": record["split"], "samples": args.get("samples"),
                  "temperature": args.get("temperature")}
        rows += [{**labels, **{k: point[k] for k in SAMPLING_COLUMNS},
                  "env": args["env"], "size": int(args["size"])} for point in record["curve"]]
    df = pd.DataFrame(rows, columns=[*SAMPLING_LABELS, *SAMPLING_COLUMNS, "env", "size"])
    df = df.sort_values(["env", "size", "format", "k"], kind="stable")
    return df.drop(columns=["env", "size"]).reset_index(drop=True)


def task_name(args: Mapping[str, Any]) -> str:
    """The task of a run: environment and size, ``"countdown4"`` or ``"maze10"``."""
    return f"{args['env']}{args['size']}"


def summary_table(results: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run and evaluated split: ``run``, ``task``, ``env``, ``format``,
    ``split``, ``heldout`` (the environment's held-out split), the scores of
    ``summary_by_split``, the training run (``train_tokens``, ``train_seconds``,
    ``parameters``, ``seed``) and where it ran (``hardware``, ``date``; ``None`` when not
    recorded)."""
    rows = []
    for name, res in results.items():
        args = res["args"]
        for summary in res["summary_by_split"]:
            rows.append({**_labels(name, args, summary["split"]), **summary,
                         "train_tokens": res["train"].get("tokens_seen"),
                         "train_seconds": res["train"].get("wall_seconds"),
                         "parameters": res.get("parameters"), "seed": args.get("seed"),
                         "hardware": res.get("hardware"), "date": res.get("date")})
    return _frame(rows)


def problems_table(results: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run and evaluated problem (``problems`` of each file) with the run's
    labels (``run``, ``task``, ``env``, ``format``, ``heldout``)."""
    rows = [{**row, **_labels(name, res["args"], row["split"])}
            for name, res in results.items() for row in res["problems"]]
    return _frame(rows)


def difficulty_bins(difficulty: Sequence[float] | pd.Series, bins: int) -> pd.Series:
    """Difficulties grouped into at most ``bins`` bins holding about as many problems each,
    as an ordered categorical labelled ``"lo-hi"`` (or ``"d"`` for a single value)."""
    check_int("bins", bins, 1, 1000)
    values = pd.Series(difficulty, dtype=float)
    if values.empty or values.isna().any():
        raise ValueError("difficulty must be a non-empty sequence of numbers")
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    index = np.searchsorted(edges, values, side="right") - 1
    index = np.clip(index, 0, max(len(edges) - 2, 0))
    labels = []
    for i in range(max(len(edges) - 1, 1)):
        inside = values[index == i]
        lo, hi = (inside.min(), inside.max()) if len(inside) else (edges[i], edges[i])
        labels.append(f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}")
    return pd.Series(pd.Categorical.from_codes(index, _unique(labels), ordered=True),
                     index=values.index)


def error_kind(first_error: str | None) -> str | None:
    """The kind of a verdict's ``first_error`` (one of ``ERROR_KINDS``), ``None`` for none."""
    if first_error is None:
        return None
    kind = str(first_error).split(":", 1)[0].strip()
    if kind not in ERROR_KINDS:
        raise ValueError(f"first_error must start with one of {ERROR_KINDS}, "
                         f"got {first_error!r}")
    return kind


def outcome(solved: bool, first_error: str | None, finished: bool | None = True) -> str:
    """What became of one generated trace (one of :data:`OUTCOMES`): ``"solved"``, the kind
    of its first error, ``"cut off"`` (stopped by the token limit, with no error but the
    unreadable last line that a cut leaves) or ``"no answer"`` (legal, but never solved)."""
    if solved:
        return "solved"
    kind = error_kind(first_error)
    if finished is False and kind in (None, "parse"):
        return "cut off"
    return kind or "no answer"


def outcome_counts(samples: pd.DataFrame) -> pd.Series:
    """How many samples (rows of ``EvalReport.samples``: ``solved``, ``first_error``,
    ``finished``) ended in each outcome, over :data:`OUTCOMES` that occur, in that order."""
    missing = {"solved", "first_error"} - set(samples.columns)
    if missing:
        raise ValueError(f"samples lack columns {sorted(missing)}")
    finished = samples["finished"] if "finished" in samples else [True] * len(samples)
    kinds = [outcome(bool(s), e if isinstance(e, str) else None, f)
             for s, e, f in zip(samples["solved"], samples["first_error"], finished,
                                strict=True)]
    counts = pd.Series(kinds, dtype=object).value_counts()
    return pd.Series({k: int(counts[k]) for k in OUTCOMES if k in counts}, dtype=int,
                     name="samples")


def _labels(name: str, args: Mapping[str, Any], split: str) -> dict[str, Any]:
    return {"run": name, "task": task_name(args), "env": args["env"],
            "format": args.get("format", name.rsplit("-", 1)[-1]),
            "heldout": split == HELDOUT_SPLIT.get(args["env"])}


def _order(args: Mapping[str, Any]) -> tuple[str, int, str]:
    return args["env"], int(args["size"]), str(args.get("format", ""))


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    for col in NUMERIC:  # JSON null -> NaN, so that optimal_rate is a float column
        if col in df:
            df[col] = pd.to_numeric(df[col]).astype(float)
    first = ["run", "task", "env", "format", "split", "heldout"]
    return df[first + [c for c in df.columns if c not in first]]


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
