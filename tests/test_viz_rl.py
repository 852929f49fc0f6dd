"""Plots of RL records: the panels they draw, and bad records named in the error."""

from __future__ import annotations

import pandas as pd
import pytest

from metacot_lab.result_tables import read_rl_record
from metacot_lab.viz import plot_pass_at_k, plot_rl_training, plot_search_behaviour


def record(steps: int = 12) -> dict:
    curves = [{"step": s, "reward": s / steps, "frac_reward_zero_std": 0.5, "kl": 1e-3 * s,
               "entropy": 0.05, "completion_tokens": 200.0 - s} for s in range(1, steps + 1)]
    behaviour = [{"step": s, "reward": s / steps, "solved": s / steps, "nodes": 9.0 - s / 4,
                  "backtracks": 2.0, "false_goal": 0.1} for s in range(1, steps + 1)]
    validation = [{"step": s, "solve_rate": 0.4 + s / 100, "answer_rate": 0.5,
                   "tokens": 190.0} for s in (0, 5, 10, steps)]
    return {"curves": curves, "behaviour": behaviour, "validation": validation}


def test_training_plot_draws_the_four_curves_and_the_validation_rate():
    fig = plot_rl_training(record(), title="t")
    axes = fig.axes
    assert len(axes) == 5
    assert [len(ax.lines) for ax in axes[:4]] == [2, 2, 2, 2]  # every step and smoothed
    solved = axes[4].lines[0]
    assert list(solved.get_xdata()) == [0, 5, 10, 12]
    assert solved.get_ydata()[-1] == pytest.approx(0.52)


def test_behaviour_plot_joins_the_completion_tokens_of_the_curves():
    fig = plot_search_behaviour(record(), window=3)
    tokens = fig.axes[0].lines[0]
    assert list(tokens.get_ydata())[:2] == [199.0, 198.0]
    smoothed = fig.axes[1].lines[1].get_ydata()  # nodes, rolling mean over 3 steps
    assert smoothed[2] == pytest.approx((8.75 + 8.5 + 8.25) / 3)


def test_pass_at_k_puts_k_on_a_log_axis_one_line_per_curve():
    curve = pd.DataFrame({"k": [1, 2, 4], "pass_at_k": [0.4, 0.5, 0.6]})
    fig = plot_pass_at_k({"before": curve, "after": curve.assign(pass_at_k=[0.5, 0.55, 0.6])})
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    assert list(ax.lines[1].get_ydata()) == [0.5, 0.55, 0.6]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: plot_rl_training({**record(), "curves": []}), "curves"),
    (lambda: plot_search_behaviour(record(), window=0), "window"),
    (lambda: plot_pass_at_k({}), "curves"),
    (lambda: plot_pass_at_k({"a": pd.DataFrame({"k": [1]})}), "pass_at_k"),
    (lambda: plot_pass_at_k({"a": pd.DataFrame({"k": [1]})}, metric="f1"), "metric"),
])
def test_bad_records_and_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_read_rl_record_names_the_missing_keys(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"checkpoint": "x"}')
    with pytest.raises(ValueError, match="lacks the keys"):
        read_rl_record(str(path))
    with pytest.raises(ValueError, match="available"):
        read_rl_record("no-such-run", root=tmp_path)
