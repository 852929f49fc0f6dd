"""GRPO: run config checks, a short run from the shipped Countdown-3 search model (curves,
validation, search behaviour, determinism), the trace statistics, and ``metacot rl``."""

from __future__ import annotations

import json

import pytest
import torch

from metacot_lab.checkpoints import load_checkpoint
from metacot_lab.cli import main as cli_main
from metacot_lab.data import TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.envs import Countdown
from metacot_lab.train.rl import CURVE_KEYS, RLRunConfig, TraceStats, train_grpo

CHECKPOINT = "countdown3-metacot"
SHORT = {"max_steps": 2, "prompts_per_step": 2, "num_generations": 4,
         "max_completion_length": 96, "eval_steps": 1, "progress": False}


@pytest.fixture(scope="module")
def data():
    return build_dataset("countdown", TRACE_ALGORITHM["countdown"], "metacot", 8, 3, 0, 0,
                         env_kwargs=env_kwargs_for("countdown", 3, (1, 20)))


def run(data, **kw):
    model, tok = load_checkpoint(CHECKPOINT)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_grpo(model.train(), tok, data["train"], RLRunConfig(**(SHORT | kw)),
                        validation=data["val"])
    return result, start


@pytest.fixture(scope="module")
def short_run(data):
    return run(data)


@pytest.mark.parametrize(("field", "value"), [
    ("reward", "accuracy"), ("beta", -0.1), ("num_generations", 1), ("loss_type", "ppo"),
    ("max_steps", 0), ("temperature", 0.0), ("learning_rate", 2.0), ("max_seconds", 0.0),
    ("mask_truncated_completions", "yes"), ("save_steps", 5),
])
def test_bad_config_fields_are_value_errors(field, value):
    with pytest.raises(ValueError, match=field if field != "save_steps" else "output_dir"):
        RLRunConfig(**{field: value}).check()


@pytest.mark.parametrize(("columns", "message"), [
    (["prompt", "problem"], "format"), (["prompt", "format"], "problem"),
])
def test_datasets_without_the_reward_columns_are_value_errors(data, columns, message):
    model, tok = load_checkpoint(CHECKPOINT)
    with pytest.raises(ValueError, match=message):
        train_grpo(model, tok, data["train"].select_columns(columns), RLRunConfig(**SHORT))


def test_a_short_run_records_its_curves_validation_and_search_behaviour(short_run):
    result, start = short_run
    assert result.steps == 2 and not result.stopped_by_time
    assert [row["step"] for row in result.curves] == [1, 2]
    for row in result.curves:
        assert set(CURVE_KEYS) - {"kl"} <= set(row)
        assert 0.0 <= row["reward"] <= 1.0 and 0.0 <= row["frac_reward_zero_std"] <= 1.0
        assert 0 < row["completion_tokens"] <= SHORT["max_completion_length"]
    assert [row["step"] for row in result.validation] == [0, 1, 2]
    assert all(0.0 <= row["solve_rate"] <= 1.0 for row in result.validation)
    assert len(result.behaviour) == 2  # one generation batch per step
    for row in result.behaviour:
        assert row["solved"] == row["reward"]  # the reward is "solved"
        assert row["nodes"] > 0 and 0.0 <= row["false_goal"] <= 1.0


def test_the_run_moves_the_weights_and_leaves_a_plain_model(short_run):
    result, start = short_run
    changed = [k for k, v in result.model.state_dict().items()
               if not torch.equal(v, start[k])]
    assert changed, "two GRPO steps changed no weight"
    assert not any("forward" in vars(m) for m in result.model.modules())  # trl's wrappers gone


def test_the_same_seed_gives_the_same_weights(data):
    (a, _), (b, _) = run(data, max_steps=1), run(data, max_steps=1)
    for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values(),
                            strict=True):
        assert torch.equal(x, y), name


def test_trace_stats_count_false_goal_claims_and_backtracks():
    stats = TraceStats("format_credit")
    problem = json.dumps(Countdown((4, 9, 3), 24).to_dict())
    hack = "4+9=13 -> 3 13\nat\n3+13=16 == 24 goal\n"  # a false goal claim
    true = "9-4=5 -> 3 5\nat\n3+5=8 != 24\nback 4 9 3\n9*3=27 -> 4 27\nat\n27-4=23 != 24\n" \
           "back 4 9 3\n9-3=6 -> 4 6\nat\n4*6=24 == 24 goal\n"
    scores = stats([hack, true], problem=[problem] * 2, format=["metacot"] * 2)
    assert scores == [1.0, 1.0]  # format credit pays both
    (row,) = stats.calls
    assert row["solved"] == 0.5 and row["false_goal"] == 0.5 and row["backtracks"] == 1.0


@pytest.mark.parametrize("argv", [
    ["--checkpoint", "nope", "--out", "x"],
    ["--checkpoint", CHECKPOINT, "--out", "x", "--samples", "0"],
    ["--checkpoint", CHECKPOINT, "--out", "x", "--beta", "-1"],
])
def test_cli_bad_values_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["rl", *argv])
    assert exit_.value.code == 2
    assert "error" in capsys.readouterr().err


def test_metacot_rl_writes_a_record_before_and_after(tmp_path):
    out = tmp_path / "rl"
    assert cli_main(["rl", "--checkpoint", CHECKPOINT, "--out", str(out), "--max-steps", "1",
                     "--prompts-per-step", "1", "--num-generations", "2", "--n-train", "4",
                     "--n-val", "2", "--n-eval", "3", "--n-sample", "2", "--samples", "4",
                     "--max-new-tokens", "64", "--eval-steps", "1", "--no-progress"]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["checkpoint"] == CHECKPOINT and record["train"]["steps"] == 1
    for stage in ("before", "after"):
        splits = [row["split"] for row in record[stage]["greedy"]]
        assert splits == sorted(["test", "test_heldout_targets"])
        assert [row["k"] for row in record[stage]["sampling_curve"]] == [1, 2, 4]
    assert record["curves"] and record["validation"] and record["behaviour"]
    assert (out / "model" / "config.json").is_file()
    figures = (out / "figures.txt").read_text()
    assert "rl_countdown3-metacot_solved_after_test_solve_rate" in figures
