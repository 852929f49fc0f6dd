"""Grouped bar charts: one group of bars per category, one bar per model in each group.

``plot_grouped_bars(table, x="task", hue="format", y="solve_rate")`` draws a tidy table
(one row per bar) as a solution-only vs search-trace comparison; :func:`plot_outcomes`
draws what became of generated traces (``metacot_lab.result_tables.outcome_counts``) as
shares per model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..result_tables import OUTCOMES
from .style import new_axes


def plot_grouped_bars(
    table: pd.DataFrame,
    x: str,
    hue: str,
    y: str,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    percent: bool = True,
    hue_order: Sequence[Any] | None = None,
) -> Figure:
    """Bars of ``y`` per value of ``x`` (groups, in order of first appearance) and ``hue``
    (one colour each, in ``hue_order`` or order of appearance), labelled with their values
    (as percentages when ``percent``, with the y axis from 0 to 1); a missing or NaN value
    leaves a gap marked "n/a"."""
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("table must be a non-empty pandas DataFrame")
    missing = {x, hue, y} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks columns {sorted(missing)}")
    if table.duplicated([x, hue]).any():
        raise ValueError(f"table must hold one row per ({x}, {hue}) pair")
    groups = list(dict.fromkeys(table[x]))
    hues = list(dict.fromkeys(table[hue] if hue_order is None else hue_order))
    values = table.set_index([x, hue])[y]
    fig, ax = new_axes(ax, (max(4.0, 1.2 + 0.5 * len(groups) * len(hues)), 3.6))
    width = 0.8 / len(hues)
    for j, name in enumerate(hues):
        pos = np.arange(len(groups)) - 0.4 + width * (j + 0.5)
        heights = [float(values.get((g, name), np.nan)) for g in groups]
        ax.bar(pos, heights, width, label=str(name), color=f"C{j}")
        for p, h in zip(pos, heights, strict=True):
            text = "n/a" if np.isnan(h) else f"{h:.0%}" if percent else f"{h:,.3g}"
            ax.annotate(text, (p, 0.0 if np.isnan(h) else h), ha="center", va="bottom",
                        fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(np.arange(len(groups)), [str(g) for g in groups])
    if percent:
        ax.set_ylim(0.0, 1.1)
    ax.set_ylabel(ylabel or y.replace("_", " "))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_outcomes(
    counts: Mapping[str, pd.Series], ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Share of generated traces per outcome (``"solved"``, an error kind, ...) for each
    named model; ``counts[name]`` maps outcome -> number of traces."""
    if not counts:
        raise ValueError("counts must hold at least one named model")
    series = {name: pd.Series(c, dtype=float) for name, c in counts.items()}
    for name, c in series.items():
        if c.sum() <= 0:
            raise ValueError(f"counts[{name!r}] must count at least one trace")
    seen = {k for c in series.values() for k in c.index}
    order = [k for k in OUTCOMES if k in seen] + sorted(seen - set(OUTCOMES))
    table = pd.DataFrame([{"outcome": k, "model": name, "share": c.get(k, 0.0) / c.sum()}
                          for k in order for name, c in series.items()])
    return plot_grouped_bars(table, "outcome", "model", "share", ax=ax, title=title,
                             ylabel="share of generated traces")
