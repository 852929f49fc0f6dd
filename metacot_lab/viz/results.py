"""Plots of evaluation results: a metric against difficulty, one line per model.

They take the per-problem tables of :func:`metacot_lab.evaluate.evaluate` (an ``EvalReport``
or its ``problems`` DataFrame: columns ``difficulty`` and the metric), so comparing a
search-trace model with a solution-only one is ``plot_accuracy_vs_difficulty({"search":
a, "solution": b})``. Error bars are one standard error of the mean over problems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..validation import check_choice
from .style import new_axes


def plot_metric_vs_difficulty(
    results: Mapping[str, Any],
    metric: str,
    ax: Axes | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Figure:
    """Mean of ``metric`` per difficulty for each named result, with standard errors."""
    if not results:
        raise ValueError("results must hold at least one named evaluation")
    tables = {name: _problems(name, r, metric) for name, r in results.items()}
    fig, ax = new_axes(ax, (6.0, 4.0))
    for name, df in tables.items():
        groups = df.groupby("difficulty", sort=True)[metric]
        mean, count = groups.mean(), groups.count()
        sem = (groups.std(ddof=1) / np.sqrt(count)).fillna(0.0)
        ax.errorbar([str(x) for x in mean.index], mean.to_numpy(), yerr=sem.to_numpy(),
                    marker="o", ms=4, lw=1.8, capsize=3, label=name)
    ax.set_xlabel("difficulty")
    ax.set_ylabel(ylabel or metric)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_accuracy_vs_difficulty(
    results: Mapping[str, Any], ax: Axes | None = None, metric: str = "solve_rate",
    title: str | None = None,
) -> Figure:
    """Share of problems solved (or another rate such as ``"pass@8"``) per difficulty."""
    fig, ax = new_axes(ax, (6.0, 4.0))
    plot_metric_vs_difficulty(results, metric, ax=ax, title=title,
                              ylabel=metric.replace("_", " "))
    ax.set_ylim(-0.03, 1.03)
    return fig


def plot_tokens_vs_difficulty(
    results: Mapping[str, Any], ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Tokens generated per problem against difficulty."""
    return plot_metric_vs_difficulty(results, "tokens", ax=ax, title=title,
                                     ylabel="tokens generated per problem")


def _problems(name: str, result: Any, metric: str) -> pd.DataFrame:
    df = getattr(result, "problems", result)
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"results[{name!r}] must be an EvalReport or a DataFrame, "
                         f"got {type(result).__name__}")
    missing = {"difficulty", metric} - set(df.columns)
    if missing:
        raise ValueError(f"results[{name!r}] lacks columns {sorted(missing)}")
    return df


def plot_training_comparison(
    runs: Mapping[str, Mapping[str, Any]], split: str = "held-out"
) -> Figure:
    """Bars per named model: solve rate on ``split``, trainable parameters (log scale) and
    training seconds. Each run maps ``solve_rate`` and optionally ``trainable_parameters``
    and ``train_seconds`` (``None`` or missing: no bar, e.g. for a model not trained here)."""
    if not runs:
        raise ValueError("runs must hold at least one named model")
    for name, run in runs.items():
        if not isinstance(run, Mapping) or run.get("solve_rate") is None:
            raise ValueError(f"runs[{name!r}] must be a mapping with a solve_rate")
    fig = Figure(figsize=(12.0, 3.6), layout="constrained")
    panels = [("solve_rate", f"solve rate ({split})"),
              ("trainable_parameters", "trainable parameters"),
              ("train_seconds", "training seconds")]
    names = list(runs)
    colors = [f"C{i}" for i in range(len(names))]
    for ax, (key, label) in zip(fig.subplots(1, 3), panels, strict=True):
        values = [runs[n].get(key) for n in names]
        heights = [np.nan if v is None else float(v) for v in values]
        ax.bar(range(len(names)), heights, color=colors)
        for i, v in enumerate(values):
            if v is None:  # at the foot of the axes: works on a log scale too
                ax.annotate("n/a", (i, 0.02), xycoords=("data", "axes fraction"),
                            ha="center", fontsize=8, color="0.4")
                continue
            text = f"{v:.0%}" if key == "solve_rate" else f"{v:,.0f}"
            ax.annotate(text, (i, float(v)), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")
        if key == "solve_rate":
            ax.set_ylim(0.0, 1.1)
        elif key == "trainable_parameters" and any(v for v in values if v):
            ax.set_yscale("log")
            ax.set_ylim(top=ax.get_ylim()[1] * 3)  # room for the labels
        else:
            ax.set_ylim(top=ax.get_ylim()[1] * 1.1)
        ax.set_title(label, fontsize=10)
        # "lora (metacot)" -> two lines, so that long names do not run into each other
        ax.set_xticks(range(len(names)), [n.replace(" (", "\n(") for n in names], fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    return fig


SAMPLING_PANELS = {
    "answer_pass_at_k": "right answer among k (verifier picks)",
    "maj_at_k": "majority of k answers right (no verifier)",
    "pass_at_k": "legal trace among k",
}


def plot_sampling_curves(
    curves: Mapping[str, pd.DataFrame],
    metrics: Sequence[str] = ("answer_pass_at_k", "maj_at_k"),
    title: str | None = None,
) -> Figure:
    """Accuracy against tokens generated per problem (log scale), one panel per metric of
    :meth:`~metacot_lab.evaluate.EvalReport.sampling_curve` and one line per named model,
    each point labelled with its number of samples k."""
    if not curves:
        raise ValueError("curves must hold at least one named sampling curve")
    for metric in metrics:
        check_choice("metrics", metric, tuple(SAMPLING_PANELS))
    for name, df in curves.items():
        missing = {"k", "tokens", *metrics} - set(getattr(df, "columns", ()))
        if missing:
            raise ValueError(f"curves[{name!r}] lacks columns {sorted(missing)}")
    fig = Figure(figsize=(6.0 * len(metrics), 4.2), layout="constrained")
    for ax, metric in zip(fig.subplots(1, len(metrics), squeeze=False)[0], metrics,
                          strict=True):
        for name, df in curves.items():
            ax.plot(df["tokens"], df[metric], marker="o", ms=4, lw=1.8, label=name)
            for k, x, y in zip(df["k"], df["tokens"], df[metric], strict=True):
                ax.annotate(f"k={k}", (x, y), xytext=(3, -10), textcoords="offset points",
                            fontsize=7, color="0.35")
        ax.set_xscale("log", base=2)
        ax.margins(x=0.08)  # room for the last point's label
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("tokens generated per problem")
        ax.set_ylabel(metric.replace("_at_k", "@k").replace("_", " "))
        ax.set_title(SAMPLING_PANELS[metric], fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
