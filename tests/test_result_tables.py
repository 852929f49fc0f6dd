"""Shipped results as tables: loading, labels, difficulty bins and trace outcomes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metacot_lab.data import HELDOUT_SPLIT
from metacot_lab.envs import Countdown
from metacot_lab.result_tables import (
    OUTCOMES,
    RESULTS_DIR,
    available_results,
    difficulty_bins,
    error_kind,
    load_results,
    outcome,
    outcome_counts,
    problems_table,
    read_results,
    summary_table,
)
from metacot_lab.traces import ERROR_KINDS, verify_trace


def record(env, size, fmt, rates, **extra):
    """A results.json as benchmarks/sft_experiment.py writes it, two problems per split."""
    heldout = "test_heldout_targets" if env == "countdown" else "test_larger"
    optimal = None if env == "countdown" else 0.5
    pairs = list(enumerate(zip((2, 5), rates, strict=True)))
    problems = [{"problem": i, "split": s, "difficulty": d, "n": 1, "solved": bool(r),
                 "solve_rate": r, "valid_rate": 1.0, "optimal_rate": optimal, "tokens": 10.0}
                for s in ("test", heldout) for i, (d, r) in pairs]
    summary = [{"split": s, "problems": 2, "solve_rate": float(np.mean(rates)),
                "valid_rate": 1.0, "optimal_rate": optimal, "tokens": 10.0}
               for s in ("test", heldout)]
    return {"args": {"env": env, "size": size, "format": fmt, "seed": 0},
            "train": {"tokens_seen": 1000, "wall_seconds": 2.0}, "parameters": 7,
            "hardware": "2-core CPU",
            "summary_by_split": summary, "problems": problems, **extra}


@pytest.fixture
def root(tmp_path):
    runs = {"maze10-metacot": record("maze", 10, "metacot", [1, 1]),
            "maze5-solution": record("maze", 5, "solution", [1, 0]),
            "countdown4-metacot": record("countdown", 4, "metacot", [1, 0]),
            "countdown4-solution": record("countdown", 4, "solution", [0, 0]),
            "countdown4-lora-metacot": record("countdown", 4, "metacot", [1, 1],
                                              base="countdown4-solution")}
    for name, rec in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(rec))
    return tmp_path


def test_load_results_orders_tasks_and_leaves_out_finetuned_runs(root):
    assert len(available_results(root)) == 5
    results = load_results(root)
    assert list(results) == ["countdown4-metacot", "countdown4-solution", "maze5-solution",
                             "maze10-metacot"]
    assert "countdown4-lora-metacot" in load_results(root, include_finetuned=True)
    assert available_results(root / "missing") == [] and load_results(root / "missing") == {}


def test_read_results_errors_name_the_problem(root):
    with pytest.raises(ValueError, match="available: .*countdown4-metacot"):
        read_results("countdown9-metacot", root)
    (root / "broken.json").write_text(json.dumps({"args": {}}))
    with pytest.raises(ValueError, match="lacks the keys"):
        read_results("broken", root)


def test_summary_and_problem_tables_label_every_row(root):
    results = load_results(root)
    summary = summary_table(results)
    assert len(summary) == 8
    row = summary.set_index(["run", "split"]).loc[("maze10-metacot", "test_larger")]
    assert row["task"] == "maze10" and row["format"] == "metacot" and bool(row["heldout"])
    assert row["train_tokens"] == 1000 and row["optimal_rate"] == 0.5
    assert row["hardware"] == "2-core CPU" and summary["date"].isna().all()
    cd = summary[summary["env"] == "countdown"]
    assert cd["optimal_rate"].isna().all() and cd["optimal_rate"].dtype == float
    assert set(summary[summary["heldout"]]["split"]) == {"test_heldout_targets", "test_larger"}
    problems = problems_table(results)
    assert len(problems) == 16
    solved = problems.groupby("run")["solved"].mean()
    assert solved["maze10-metacot"] == 1.0 and solved["countdown4-solution"] == 0.0
    assert summary_table({}).empty


@pytest.mark.parametrize("folder", ["", "superseded", "ablations", "seeds"])
def test_every_shipped_record_summarises_its_own_problems(folder):
    """The records the README quotes (data/results and its folders) read back, and each
    split's summary is the mean of that split's per-problem rows."""
    names = available_results(RESULTS_DIR / folder)
    assert names
    for name in names:
        res = read_results(name, RESULTS_DIR / folder)
        problems = pd.DataFrame(res["problems"])
        for summary in res["summary_by_split"]:
            rows = problems[problems["split"] == summary["split"]]
            assert len(rows) == summary["problems"], name
            for metric in ("solve_rate", "valid_rate", "answer_rate", "tokens"):
                assert rows[metric].mean() == pytest.approx(summary[metric]), (name, metric)


@pytest.mark.parametrize("folder", ["", "ablations", "seeds"])
def test_the_readme_quotes_every_record_with_its_own_scores(folder):
    """Each record has a README results row with its test and held-out solve rates and its
    held-out valid-trace rate, as the record has them (bold and maze "(optimal x%)" aside;
    the superseded records are left out: some rows quote their checkpoints' cards)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    rows = [re.sub(r"\*\*| \(optimal \d+%\)", "", line)
            for line in readme.splitlines() if line.startswith("|")]
    for name in available_results(RESULTS_DIR / folder):
        res = read_results(name, RESULTS_DIR / folder)
        split = {s["split"]: s for s in res["summary_by_split"]}
        held = split[HELDOUT_SPLIT[res["args"]["env"]]]
        cells = (f"| {split['test']['solve_rate']:.1%} | {held['solve_rate']:.1%} "
                 f"| {held['valid_rate']:.1%} |")
        assert any(cells in row for row in rows), (name, cells)


def test_difficulty_bins_hold_ordered_ranges():
    values = pd.Series([1, 1, 2, 3, 5, 8, 13, 21, 34, 55], index=range(10, 20))
    bins = difficulty_bins(values, 3)
    assert list(bins.index) == list(values.index)
    assert bins.cat.ordered and len(bins.cat.categories) == 3
    assert list(bins.cat.categories) == ["1-2", "3-8", "13-55"]  # left-closed bins
    lows = [values[bins == c].min() for c in bins.cat.categories]
    highs = [values[bins == c].max() for c in bins.cat.categories]
    assert all(h < lo for h, lo in zip(highs[:-1], lows[1:], strict=True))
    assert list(difficulty_bins([4, 4, 4], 5).cat.categories) == ["4"]
    with pytest.raises(ValueError, match="bins"):
        difficulty_bins(values, 0)
    with pytest.raises(ValueError, match="difficulty"):
        difficulty_bins([], 2)


def test_error_kinds_and_outcomes_of_real_verdicts():
    problem = Countdown(numbers=(3, 5, 2), target=16)
    good = "5*3=15 -> 2 15\nat\n2+15=17 != 16\nback 3 5 2\n5*2=10 -> 3 10\n"
    bad = verify_trace(problem, "5*3=14 -> 2 14\n", "metacot")
    assert error_kind(bad.first_error) == "arithmetic" and error_kind(None) is None
    assert set(ERROR_KINDS) < set(OUTCOMES)
    with pytest.raises(ValueError, match="first_error"):
        error_kind("banana: nothing")
    unfinished = verify_trace(problem, good + "3+1", "metacot")
    assert error_kind(unfinished.first_error) == "parse"
    assert outcome(False, unfinished.first_error, finished=False) == "cut off"
    assert outcome(False, unfinished.first_error, finished=True) == "parse"
    assert outcome(False, bad.first_error, finished=False) == "arithmetic"
    assert outcome(False, None, finished=True) == "no answer"
    assert outcome(True, None) == "solved"
    samples = pd.DataFrame({"solved": [True, False, False, False, True],
                            "first_error": [None, bad.first_error, None, "parse: x", None],
                            "finished": [True, True, True, False, True]})
    counts = outcome_counts(samples)
    assert counts.to_dict() == {"solved": 2, "arithmetic": 1, "cut off": 1, "no answer": 1}
    assert list(counts.index) == [k for k in OUTCOMES if k in counts.index]
    with pytest.raises(ValueError, match="lack columns"):
        outcome_counts(pd.DataFrame({"solved": [True]}))


@pytest.mark.parametrize("folder", ["", "seeds"])
def test_the_readme_scores_every_run_by_trace_and_by_answer(folder):
    """The README's "Scored by the answer alone" table has a row per record of the main
    experiment (fine-tuning records aside) with its test and held-out solve rates and
    right-answer rates, as the record has them."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme.split("**Scored by the answer alone.**")[1].split("\n\n")[1]
    rows = table.splitlines()
    for name, res in load_results(RESULTS_DIR / folder).items():
        split = {s["split"]: s for s in res["summary_by_split"]}
        test, held = split["test"], split[HELDOUT_SPLIT[res["args"]["env"]]]
        cells = (f"| {res['args']['seed']} | {res['args']['format']} "
                 f"| {test['solve_rate']:.1%} | {test['answer_rate']:.1%} "
                 f"| {held['solve_rate']:.1%} | {held['answer_rate']:.1%} |")
        assert any(cells in row for row in rows), (name, cells)


def sampling_record(env, size, fmt, samples, rates):
    """A record as benchmarks/sampling_experiment.py writes it (only the keys read)."""
    curve = [{"k": k, "tokens": 10.0 * k, "pass_at_k": r, "answer_pass_at_k": r,
              "maj_at_k": rates[0]} for k, r in zip((1, 2, 4), rates, strict=False)]
    return {"args": {"env": env, "size": size, "samples": samples, "temperature": 1.0},
            "format": fmt, "split": "test", "curve": curve}


def test_load_sampling_curves_is_tidy_and_ordered(tmp_path):
    from metacot_lab.result_tables import SAMPLING_COLUMNS, load_sampling_curves

    assert load_sampling_curves(tmp_path / "none").empty
    for name, record in {
        "maze10-solution-k4": sampling_record("maze", 10, "solution", 4, [0.1, 0.2, 0.3]),
        "maze5-metacot-k2": sampling_record("maze", 5, "metacot", 2, [0.5, 0.6]),
        "countdown4-solution-k4": sampling_record("countdown", 4, "solution", 4,
                                                  [0.2, 0.3, 0.4]),
    }.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    df = load_sampling_curves(tmp_path)
    assert df["run"].tolist() == ["countdown4-solution-k4"] * 3 + ["maze5-metacot-k2"] * 2 + [
        "maze10-solution-k4"] * 3  # maze5 before maze10
    assert df["task"].tolist()[3:5] == ["maze5", "maze5"]
    assert df["k"].tolist() == [1, 2, 4, 1, 2, 1, 2, 4]
    assert df["answer_pass_at_k"].tolist()[:3] == [0.2, 0.3, 0.4]
    assert set(SAMPLING_COLUMNS) <= set(df.columns) and (df["samples"] > 0).all()
    (tmp_path / "broken.json").write_text(json.dumps({"args": {}, "format": "x"}))
    with pytest.raises(ValueError, match="broken.json.*curve"):
        load_sampling_curves(tmp_path)


def test_shipped_sampling_curves_pair_the_formats_of_a_task():
    """Every shipped sampling record has its partner format on the same task and split."""
    from metacot_lab.result_tables import load_sampling_curves

    df = load_sampling_curves()
    assert {"countdown4", "maze5"} <= set(df["task"])
    for (task, split), group in df.groupby(["task", "split"]):
        assert set(group["format"]) == {"solution", "metacot"}, (task, split)
        rising = group.groupby("format")["tokens"].apply(lambda t: t.is_monotonic_increasing)
        assert rising.all(), (task, split)


def test_shipped_sampling_curves_agree_with_their_problem_rows():
    """Each shipped curve's pass@k and maj@k are the means of its per-problem rows, and its
    tokens are k times the problems' mean tokens per sample."""
    from metacot_lab.result_tables import SAMPLING_DIR

    paths = sorted(SAMPLING_DIR.glob("*.json"))
    assert paths
    for path in paths:
        record = json.loads(path.read_text())
        problems = pd.DataFrame(record["problems"])
        assert (problems["n"] == record["args"]["samples"]).all(), path.name
        for point in record["curve"]:
            k = point["k"]
            assert point["pass_at_k"] == pytest.approx(problems[f"pass@{k}"].mean())
            assert point["maj_at_k"] == pytest.approx(problems[f"maj@{k}"].mean())
            assert point["tokens"] == pytest.approx(k * problems["tokens"].mean())
