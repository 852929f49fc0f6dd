"""Plots of an RL run's record (``metacot rl``'s ``results.json``, read by
:func:`metacot_lab.result_tables.read_rl_record`): training curves, search behaviour of the
sampled traces against RL steps, and pass@k before and after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..validation import check_choice, check_int
from .style import new_axes

TRAINING_PANELS = {  # curve key: panel title
    "reward": "mean reward of the sampled completions",
    "frac_reward_zero_std": "share of groups with one reward (no signal)",
    "kl": "KL to the starting model (per token)",
    "entropy": "entropy of the policy (per token)",
}
BEHAVIOUR_PANELS = {  # column: panel title
    "completion_tokens": "tokens per sampled trace",
    "nodes": "nodes explored per trace",
    "backtracks": "backtracks per trace",
    "false_goal": "share of traces claiming a false goal",
}
PASS_METRICS = ("pass_at_k", "answer_pass_at_k", "maj_at_k")


def _steps_frame(rows: Sequence[Mapping[str, Any]], name: str) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    if frame.empty or "step" not in frame:
        raise ValueError(f"record[{name!r}] must be a non-empty list of rows with a 'step'")
    return frame.sort_values("step")


def plot_rl_training(record: Mapping[str, Any], window: int = 5,
                     title: str | None = None) -> Figure:
    """Five panels against RL steps: the four curves of ``TRAINING_PANELS`` (thin: every
    step, thick: rolling mean over ``window`` steps) and the greedy validation solve rate,
    the number RL should raise."""
    check_int("window", window, 1, 10_000)
    curves = _steps_frame(record["curves"], "curves")
    validation = _steps_frame(record["validation"], "validation")
    fig = Figure(figsize=(15.0, 3.4), layout="constrained")
    axes = fig.subplots(1, 5)
    for ax, (key, label) in zip(axes, TRAINING_PANELS.items(), strict=False):
        if key in curves:
            _smoothed(ax, curves["step"], curves[key], window)
        ax.set_title(label, fontsize=9)
    ax = axes[-1]
    ax.plot(validation["step"], validation["solve_rate"], marker="o", ms=4, lw=1.8,
            label="solved")
    if "answer_rate" in validation:
        ax.plot(validation["step"], validation["answer_rate"], marker="s", ms=3, lw=1.2,
                ls="--", label="right answer")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("greedy validation solve rate", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    for ax in axes:
        ax.set_xlabel("RL step")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_search_behaviour(record: Mapping[str, Any], window: int = 10,
                          title: str | None = None) -> Figure:
    """What the sampled traces do as RL goes on, one panel per ``BEHAVIOUR_PANELS`` entry:
    tokens, nodes explored, backtracks and false goal claims per trace (thin: every step,
    thick: rolling mean over ``window`` steps). Does RL shorten the search or lengthen it?"""
    check_int("window", window, 1, 10_000)
    behaviour = _steps_frame(record["behaviour"], "behaviour")
    curves = _steps_frame(record["curves"], "curves")
    if "completion_tokens" in curves:
        behaviour = behaviour.merge(curves[["step", "completion_tokens"]], on="step",
                                    how="left")
    fig = Figure(figsize=(13.0, 3.3), layout="constrained")
    for ax, (key, label) in zip(fig.subplots(1, len(BEHAVIOUR_PANELS)),
                                BEHAVIOUR_PANELS.items(), strict=True):
        if key in behaviour:
            _smoothed(ax, behaviour["step"], behaviour[key], window)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("RL step")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_pass_at_k(curves: Mapping[str, pd.DataFrame], metric: str = "pass_at_k",
                   ax: Axes | None = None, title: str | None = None) -> Figure:
    """``metric`` against the number of samples k (log axis), one line per named curve of
    :meth:`~metacot_lab.evaluate.EvalReport.sampling_curve`: before vs after RL shows
    whether RL sharpens (pass@1 up) and whether it loses coverage at large k."""
    check_choice("metric", metric, PASS_METRICS)
    if not curves:
        raise ValueError("curves must hold at least one named sampling curve")
    fig, ax = new_axes(ax, (6.0, 4.0))
    for name, df in curves.items():
        missing = {"k", metric} - set(getattr(df, "columns", ()))
        if missing:
            raise ValueError(f"curves[{name!r}] lacks columns {sorted(missing)}")
        ax.plot(df["k"], df[metric], marker="o", ms=4, lw=1.8, label=name)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("samples per problem k")
    ax.set_ylabel(metric.replace("_at_k", "@k").replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _smoothed(ax: Axes, x: pd.Series, y: pd.Series, window: int) -> None:
    (line,) = ax.plot(x, y, lw=0.8, alpha=0.35)
    ax.plot(x, y.rolling(window, min_periods=1).mean(), lw=2.0, color=line.get_color())
