"""Grouped bar charts: bar heights are the table's values, gaps say n/a, outcome shares."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from metacot_lab.viz.bars import plot_grouped_bars, plot_outcomes


def heights(fig):
    """Bar heights per legend label."""
    ax = fig.axes[0]
    return {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}


def test_grouped_bars_show_each_value_and_mark_gaps():
    table = pd.DataFrame({"task": ["countdown4", "countdown4", "maze10"],
                          "format": ["solution", "metacot", "metacot"],
                          "solve_rate": [0.25, 0.75, 0.5]})
    fig = plot_grouped_bars(table, "task", "format", "solve_rate", title="held-out")
    assert isinstance(fig, Figure)
    bars = heights(fig)
    assert bars["metacot"] == [0.75, 0.5] and bars["solution"][0] == 0.25
    assert pd.isna(bars["solution"][1])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n/a" in texts and "75%" in texts
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["countdown4", "maze10"]
    ordered = plot_grouped_bars(table, "task", "format", "solve_rate",
                                hue_order=["metacot", "solution"])
    assert [c.get_label() for c in ordered.axes[0].containers] == ["metacot", "solution"]


def test_grouped_bars_reject_bad_tables():
    with pytest.raises(ValueError, match="non-empty"):
        plot_grouped_bars(pd.DataFrame(), "a", "b", "c")
    with pytest.raises(ValueError, match="lacks columns"):
        plot_grouped_bars(pd.DataFrame({"a": [1]}), "a", "b", "c")
    twice = pd.DataFrame({"a": [1, 1], "b": [2, 2], "c": [0.1, 0.2]})
    with pytest.raises(ValueError, match="one row per"):
        plot_grouped_bars(twice, "a", "b", "c")


def test_outcomes_are_shares_in_outcome_order():
    fig = plot_outcomes({"metacot": pd.Series({"solved": 3, "arithmetic": 1}),
                         "solution": pd.Series({"answer": 2, "solved": 2})})
    bars = heights(fig)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["solved", "arithmetic", "answer"]
    assert bars["metacot"] == [0.75, 0.25, 0.0] and bars["solution"] == [0.5, 0.0, 0.5]
    with pytest.raises(ValueError, match="at least one"):
        plot_outcomes({})
    with pytest.raises(ValueError, match="at least one trace"):
        plot_outcomes({"m": pd.Series({"solved": 0})})
