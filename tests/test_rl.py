"""GRPO: run config checks, a short run from the shipped Countdown-3 search model (curves,
validation, search behaviour, determinism), the trace statistics, and ``metacot rl``."""

from __future__ import annotations

import json

import pytest
import torch

from metacot_lab.checkpoints import cards_markdown, load_checkpoint, read_card
from metacot_lab.checkpoints import main as checkpoint_main
from metacot_lab.cli import main as cli_main
from metacot_lab.data import TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.envs import Countdown
from metacot_lab.result_tables import read_rl_record, rl_sampling_curves, rl_scores
from metacot_lab.train.rl import (
    CURVE_KEYS,
    RLRunConfig,
    TraceStats,
    build_grpo_trainer,
    train_grpo,
)

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
    ("mask_truncated_completions", "yes"), ("save_steps", 5), ("bf16", "auto"),
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


TINY_RUN = ["--checkpoint", CHECKPOINT, "--max-steps", "1", "--prompts-per-step", "1",
            "--num-generations", "2", "--n-train", "4", "--n-val", "2", "--n-eval", "3",
            "--n-sample", "2", "--samples", "4", "--max-new-tokens", "64",
            "--train-max-new-tokens", "24", "--eval-steps", "1", "--no-progress"]


def test_metacot_rl_writes_a_record_before_and_after(tmp_path, capsys):
    out = tmp_path / "rl"
    assert cli_main(["rl", *TINY_RUN, "--out", str(out)]) == 0
    record = read_rl_record(str(out / "results.json"))
    assert record["checkpoint"] == CHECKPOINT and record["train"]["steps"] == 1
    assert record["config"]["max_completion_length"] == 24  # RL samples are cut at 24
    assert all(row["completion_tokens"] <= 24 for row in record["curves"])
    assert max(row["tokens"] for row in record["validation"]) > 24  # validation: 64
    scores = rl_scores(record)
    assert list(scores.index.get_level_values("stage").unique()) == ["before", "after"]
    assert set(rl_sampling_curves(record)) == {"before", "after"}
    for stage in ("before", "after"):
        splits = [row["split"] for row in record[stage]["greedy"]]
        assert splits == sorted(["test", "test_heldout_targets"])
        assert [row["k"] for row in record[stage]["sampling_curve"]] == [1, 2, 4]
    assert record["curves"] and record["validation"] and record["behaviour"]
    assert (out / "model" / "config.json").is_file()
    figures = (out / "figures.txt").read_text()
    assert "rl_countdown3-metacot_solved_after_test_solve_rate" in figures
    # shipping it: the stored weights scored again, the record copied under results/rl
    assert checkpoint_main(["export", str(out), "tiny-rl", "--root", str(tmp_path / "ck"),
                            "--results-dir", str(tmp_path / "res")]) == 0
    card = read_card("tiny-rl", tmp_path / "ck")
    assert card["rl_from"] == CHECKPOINT and card["reward"] == "solved" and card["rl_steps"] == 1
    assert set(card["scores"]) == {"test", "test_heldout_targets"}
    assert card["scores"]["test"]["problems"] == 3
    assert read_rl_record("tiny-rl", tmp_path / "res" / "rl")["train"]["steps"] == 1
    assert "GRPO from `countdown3-metacot`" in cards_markdown(tmp_path / "ck")
    load_checkpoint("tiny-rl", root=tmp_path / "ck")

    # a second run may reuse the deterministic 'before' scores of the same settings...
    again = tmp_path / "again"
    assert cli_main(["rl", *TINY_RUN, "--out", str(again), "--lr", "1e-5",
                     "--before-from", str(out / "results.json")]) == 0
    second = read_rl_record(str(again / "results.json"))
    assert second["before"] == record["before"]
    assert second["before_from"] == str(out / "results.json")
    # ...and only those: other problems are a usage error before anything runs
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        cli_main(["rl", *TINY_RUN, "--out", str(tmp_path / "x"), "--n-eval", "4",
                  "--before-from", str(out / "results.json")])
    assert exit_.value.code == 2 and "n_eval" in capsys.readouterr().err


def test_trl_loss_is_the_clipped_group_objective_with_the_kl_term(data):
    """trl's loss on a hand-built batch equals the GRPO formula written out: at the start
    the ratio is 1 and the KL is 0, so the loss is -sum(A_i |o_i|) / sum |o_i|."""
    model, tok = load_checkpoint(CHECKPOINT)
    trainer, _ = build_grpo_trainer(model, tok, data["train"], RLRunConfig(
        **(SHORT | {"bf16": False, "num_generations": 3, "prompts_per_step": 1})))
    prompt = tok(data["train"][0]["prompt"])["input_ids"]
    completions = [tok("9-4=5 -> 3 5\n")["input_ids"], tok("at\n")["input_ids"],
                   tok("4*6=24 == 24 goal\n")["input_ids"] + [tok.eos_token_id]]
    width = max(map(len, completions))
    mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in completions])
    advantages = torch.tensor([0.5, -1.0, 1.5])
    batch = {
        "prompt_ids": torch.tensor([prompt] * 3), "prompt_mask": torch.ones(3, len(prompt),
                                                                             dtype=torch.long),
        "completion_ids": torch.tensor([c + [tok.pad_token_id] * (width - len(c))
                                        for c in completions]),
        "completion_mask": mask, "advantages": advantages, "num_items_in_batch": mask.sum(),
    }
    with torch.no_grad():
        logits = model(torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1)).logits
        logps = logits[:, len(prompt) - 1:-1].log_softmax(-1).gather(
            -1, batch["completion_ids"][..., None])[..., 0]
    batch["ref_per_token_logps"] = logps
    loss = trainer.compute_loss(trainer.model, batch)
    lengths = mask.sum(1).float()
    assert loss.item() == pytest.approx(-(advantages * lengths).sum().item()
                                        / lengths.sum().item(), abs=1e-5)
    # a small step down trl's gradient raises the advantage-weighted log-probability
    loss.backward()
    step = {n: -1e-3 * p.grad for n, p in trainer.model.named_parameters() if p.grad is not None}
    with torch.no_grad():
        for name, p in trainer.model.named_parameters():
            p.add_(step.get(name, 0))
        moved = trainer.model(torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1))
        after = moved.logits[:, len(prompt) - 1:-1].log_softmax(-1).gather(
            -1, batch["completion_ids"][..., None])[..., 0]
    change = ((after - logps) * mask).sum(1)
    assert (advantages * change).sum() > 0
