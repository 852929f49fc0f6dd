"""benchmarks/sft_experiment.py runs end to end at tiny sizes (figures are printed and saved,
not asserted: a few training steps learn nothing)."""

from __future__ import annotations

import json
import re

import pytest
from bench_helpers import load_benchmark

from metacot_lab.checkpoints import export_run, load_checkpoint
from metacot_lab.data import TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.evaluate import evaluate_dataset

LINE = re.compile(r"^(\w+): (-?\d+(\.\d+)?|nan)$")
TINY = ["--model-size", "1m", "--train-tokens", "2000", "--n-train", "16", "--n-eval", "3",
        "--max-new-tokens", "8", "--max-length", "512"]


experiment = load_benchmark("sft_experiment")


@pytest.mark.parametrize(("env", "size", "heldout", "metrics"), [
    ("countdown", "3", "test_heldout_targets", ("solve_rate", "valid_rate", "answer_rate")),
    ("maze", "5", "test_larger", ("solve_rate", "valid_rate", "answer_rate", "optimal_rate")),
])
def test_experiment_prints_figures_and_saves_results(tmp_path, capsys, env, size, heldout,
                                                     metrics):
    out = tmp_path / "run"
    figures = experiment.main(["--env", env, "--size", size, "--formats", "solution,metacot",
                               *TINY, "--out", str(out)])
    stdout = capsys.readouterr().out
    assert "equal training compute" in stdout
    printed = dict(m.group(0).split(": ") for x in stdout.splitlines() if (m := LINE.match(x)))
    for fmt in ("solution", "metacot"):
        tag = f"{env}{size}_{fmt}"
        expected = [f"{tag}_{s}_{m}" for s in ("test", heldout)
                    for m in (*metrics, "tokens_per_problem")]
        expected += [f"{tag}_train_seconds", f"{tag}_train_tokens"]
        for name in expected:
            assert name in printed and name in figures, name
        assert figures[f"{tag}_train_tokens"] > 0
        results = json.loads((out / fmt / "results.json").read_text())
        assert results["args"]["format"] == fmt
        assert {r["split"] for r in results["summary_by_split"]} == {"test", heldout}
        assert len(results["problems"]) == 6
        assert (out / fmt / "model" / "config.json").is_file()
        assert (out / fmt / "model" / "model.safetensors").is_file()
    assert (out / "accuracy_vs_difficulty.png").stat().st_size > 0
    assert (out / "figures.txt").read_text().splitlines() == [
        x for x in stdout.splitlines() if LINE.match(x)]
    _check_export(out / "metacot", tmp_path, heldout)


@pytest.mark.parametrize("argv", [["--env", "chess"], ["--formats", "sos", "--env", "maze"],
                                  ["--model-size", "7b"], ["--train-tokens", "0"],
                                  ["--number-range", "9,2"], ["--seed", "-1"],
                                  ["--num-proc", "0"], ["--eval-batch-size", "0"],
                                  ["--batch-rows", "0"], ["--max-train-seconds", "0"]])
def test_experiment_rejects_bad_options(tmp_path, argv):
    name = argv[0].lstrip("-").replace("-", "_")
    with pytest.raises(ValueError, match=name):
        experiment.main([*argv, "--out", str(tmp_path)])


def test_train_seconds_cap_stops_a_run_before_its_token_budget(tmp_path):
    """A token budget far beyond a second of training, capped at one second: the run stops
    early and says so (the cap is what a GPU run of unknown speed is given)."""
    argv = ["--formats", "solution", *TINY, "--train-tokens", "100000000",
            "--max-train-seconds", "1", "--num-proc", "2", "--eval-batch-size", "2"]
    figures = experiment.main([*argv, "--out", str(tmp_path)])
    assert figures["countdown3_solution_train_stopped_by_time"] == 1
    assert 0 < figures["countdown3_solution_train_tokens"] < 100_000_000
    args = json.loads((tmp_path / "solution" / "results.json").read_text())["args"]
    assert args["max_train_seconds"] == 1 and args["num_proc"] == 2


def test_a_generation_budget_past_the_models_positions_fails_before_training(tmp_path):
    argv = ["--formats", "solution", *TINY, "--max-new-tokens", "2040"]
    with pytest.raises(ValueError, match="max_new_tokens must be at most"):
        experiment.main([*argv, "--out", str(tmp_path)])
    assert not (tmp_path / "solution").exists()


def _check_export(run_dir, tmp_path, heldout):
    """The run ships as a checkpoint whose card holds the scores of the stored weights."""
    card = export_run(run_dir, "tiny-metacot", tmp_path / "ck", tmp_path / "res")
    assert card["stored_dtype"] == "float16" and card["heldout_split"] == heldout
    assert set(card["scores"]) == {"test", heldout} == set(card["scores_before_rounding"])
    assert card["command"].startswith("python benchmarks/sft_experiment.py")
    assert (tmp_path / "res" / "tiny-metacot.json").read_text() == (
        run_dir / "results.json").read_text()
    args = json.loads((run_dir / "results.json").read_text())["args"]
    model, tok = load_checkpoint("tiny-metacot", root=tmp_path / "ck")
    data = build_dataset(args["env"], TRACE_ALGORITHM[args["env"]], "metacot", 0, 0,
                         args["n_eval"], args["n_eval"], seed=args["seed"],
                         env_kwargs=env_kwargs_for(args["env"], args["size"],
                                                   args["number_range"]))
    summary = evaluate_dataset(model, tok, data, splits=["test", heldout],
                               max_new_tokens=args["max_new_tokens"]).summary(by="split")
    for split, scores in card["scores"].items():
        assert scores["solve_rate"] == summary.loc[split, "solve_rate"]
        assert scores["tokens"] == summary.loc[split, "tokens"]
    with pytest.raises(ValueError, match="run_dir"):
        export_run(tmp_path, "x", tmp_path / "ck", tmp_path / "res")
