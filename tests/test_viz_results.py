"""Result plots: one line per model, the means per difficulty, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from metacot_lab.viz.results import (
    plot_accuracy_vs_difficulty,
    plot_sampling_curves,
    plot_tokens_vs_difficulty,
    plot_training_comparison,
)


def table(rates, tokens):
    return pd.DataFrame({"difficulty": [1, 1, 2, 2], "solve_rate": rates, "tokens": tokens})


def means(fig):
    """The plotted y values of each named error-bar line."""
    return {c.get_label(): list(c.lines[0].get_ydata()) for c in fig.axes[0].containers}


def test_accuracy_and_tokens_lines_show_the_means():
    results = {"search": table([1, 0, 1, 1], [10, 20, 30, 50]),
               "solution": table([0, 0, 1, 0], [5, 5, 6, 6])}
    fig = plot_accuracy_vs_difficulty(results, title="held-out")
    assert isinstance(fig, Figure)
    assert means(fig) == {"search": [0.5, 1.0], "solution": [0.0, 0.5]}
    assert means(plot_tokens_vs_difficulty(results))["search"] == [15, 40]


def test_bad_results_raise_value_error():
    with pytest.raises(ValueError):
        plot_accuracy_vs_difficulty({})
    with pytest.raises(ValueError, match="lacks columns"):
        plot_accuracy_vs_difficulty({"a": pd.DataFrame({"difficulty": [1]})})
    with pytest.raises(ValueError, match="EvalReport or a DataFrame"):
        plot_tokens_vs_difficulty({"a": [1, 2]})


def test_training_comparison_draws_a_bar_per_model_and_marks_missing_values():
    runs = {"base": {"solve_rate": 0.1},
            "lora": {"solve_rate": 0.4, "trainable_parameters": 2_000, "train_seconds": 30},
            "full": {"solve_rate": 0.6, "trainable_parameters": 50_000, "train_seconds": 40}}
    fig = plot_training_comparison(runs, split="held-out")
    rates, params, seconds = fig.axes
    assert [p.get_height() for p in rates.patches] == [0.1, 0.4, 0.6]
    assert params.get_yscale() == "log"
    assert [t.get_text() for t in seconds.texts] == ["n/a", "30", "40"]
    assert "held-out" in rates.get_title()


@pytest.mark.parametrize("runs", [{}, {"lora": {"train_seconds": 3}}, {"lora": 0.5}])
def test_training_comparison_needs_solve_rates(runs):
    with pytest.raises(ValueError, match="runs"):
        plot_training_comparison(runs)


def curve(tokens, rates):
    return pd.DataFrame({"k": [1, 2, 4], "tokens": tokens, "answer_pass_at_k": rates,
                         "maj_at_k": rates[::-1], "pass_at_k": rates})


def test_sampling_curves_draw_a_line_per_model_in_each_panel():
    curves = {"solution": curve([40, 80, 160], [0.2, 0.3, 0.4]),
              "metacot": curve([600, 1200, 2400], [0.3, 0.4, 0.5])}
    fig = plot_sampling_curves(curves, title="countdown4")
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("answer_pass_at_k", "maj_at_k"), strict=True):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"solution", "metacot"}
        assert list(lines["metacot"].get_xdata()) == [600, 1200, 2400]
        assert list(lines["solution"].get_ydata()) == curves["solution"][metric].tolist()
        assert ax.get_xscale() == "log"
    one = plot_sampling_curves(curves, metrics=["pass_at_k"])
    assert len(one.axes) == 1


def test_sampling_curves_reject_bad_input():
    with pytest.raises(ValueError, match="curves"):
        plot_sampling_curves({})
    with pytest.raises(ValueError, match="metrics"):
        plot_sampling_curves({"a": curve([1, 2, 4], [0, 0, 0])}, metrics=["accuracy"])
    with pytest.raises(ValueError, match="lacks columns"):
        plot_sampling_curves({"a": pd.DataFrame({"k": [1], "tokens": [3]})})
