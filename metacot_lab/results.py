"""Experiment records: the figures a benchmark prints and the ``results.json`` it writes.

A benchmark prints one figure per line (``name: value``) through a :class:`FigureLog` and
saves each trained run as a record (:func:`run_record`, :func:`write_record`) with the keys
``args``, ``command``, ``hardware``, ``date``, any extra fields, ``parameters``, ``train``
(``budget``, ``budget_value``, ``steps``, ``tokens_seen``, ``wall_seconds``,
``loss_history``), ``summary_by_split``, ``summary_by_split_difficulty`` and ``problems``.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from .config import describe_hardware
from .models import count_parameters


class FigureLog:
    """Figures printed one per line, ``name: value``, and kept by name."""

    def __init__(self) -> None:
        self.figures: dict[str, float] = {}
        self.lines: list[str] = []

    def emit(self, name: str, value: float, digits: int) -> None:
        """Print ``name: value`` with ``digits`` decimals and keep it."""
        self.figures[name] = float(value)
        line = f"{name}: {value:.{digits}f}"
        self.lines.append(line)
        print(line, flush=True)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the printed lines to ``path``."""
        path = Path(path)
        path.write_text("\n".join(self.lines) + "\n")
        return path


def read_figures(path: str | os.PathLike) -> dict[str, float]:
    """The figures of a file :meth:`FigureLog.save` wrote, by name; lines starting with
    ``#`` (a header saying how they were made) and blank lines are skipped. A line that is
    not ``name: number`` raises ``ValueError`` naming the file and line."""
    figures = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition(": ")  # no ": " leaves value "", not a number
        try:
            figure = float(value)
        except ValueError:
            figure = None
        if figure is None or not name.isidentifier():
            raise ValueError(f"{path}: line {number} must be 'name: number', got {line!r}")
        figures[name] = figure
    return figures


def table_records(df: Any, index: bool = True) -> list[dict[str, Any]]:
    """A DataFrame as a list of row dicts (its index as columns unless ``index=False``),
    NaN written as ``None``."""
    table = df.reset_index() if index else df
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


def run_record(args: dict[str, Any], command: str, model: Any, result: Any, report: Any,
               **extra: Any) -> dict[str, Any]:
    """The record of one trained and evaluated run: its arguments and command, the
    hardware and date, ``extra`` fields, the training run (an ``SFTResult``) and the
    evaluation (an ``EvalReport``: summaries by split, by split and difficulty, problems)."""
    return {
        "args": dict(args),
        "command": command,
        "hardware": describe_hardware(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        **extra,
        "parameters": count_parameters(model),
        "train": {"budget": result.budget, "budget_value": result.budget_value,
                  "steps": result.steps, "tokens_seen": result.tokens_seen,
                  "wall_seconds": result.wall_seconds, "loss_history": result.loss_history},
        "summary_by_split": table_records(report.summary(by="split")),
        "summary_by_split_difficulty": table_records(report.summary(by=("split", "difficulty"))),
        "problems": table_records(report.problems, index=False),
    }


def write_record(record: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``record`` as indented JSON to ``path`` (folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return path


def split_summary(record: dict[str, Any], split: str) -> dict[str, Any]:
    """The ``summary_by_split`` row of ``split`` in a record."""
    for row in record["summary_by_split"]:
        if row["split"] == split:
            return row
    raise ValueError(f"split must be one of {[r['split'] for r in record['summary_by_split']]}, "
                     f"got {split!r}")
