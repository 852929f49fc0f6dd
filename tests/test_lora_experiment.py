"""benchmarks/lora_experiment.py runs end to end on a tiny base checkpoint (figures are
printed and saved, not asserted: a few training steps learn nothing), exports a LoRA
adapter whose card holds the scores of the reloaded adapter, and checks its options."""

from __future__ import annotations

import json
import re

import pytest
import torch
from bench_helpers import load_benchmark

from metacot_lab.checkpoints import CARD_FIELDS, export_checkpoint, load_checkpoint, read_card
from metacot_lab.data import build_dataset, env_kwargs_for
from metacot_lab.evaluate import evaluate_dataset
from metacot_lab.models import ModelSize, build_model
from metacot_lab.traces.tokenizer import build_tokenizer

LINE = re.compile(r"^(\w+): (-?\d+(\.\d+)?|nan)$")
TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)
HELDOUT = "test_heldout_targets"
SCORES = {s: {"solve_rate": 0.25, "valid_rate": 0.5, "optimal_rate": None, "tokens": 9.0}
          for s in ("test", HELDOUT)}
CARD = {f: "x" for f in CARD_FIELDS} | {
    "seed": 0, "train_seconds": 12.5, "env": "countdown", "size": 3, "number_range": [1, 20],
    "format": "solution", "heldout_split": HELDOUT, "scores": SCORES, "n_eval": 3,
    "max_new_tokens": 8}
RUN = ["--train-tokens", "3000", "--n-train", "16", "--max-length", "512", "--bf16"]


experiment = load_benchmark("lora_experiment")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A folder with a tiny solution-only base and a tiny 'from scratch' metacot model."""
    root = tmp_path_factory.mktemp("checkpoints")
    tok = build_tokenizer()
    export_checkpoint(build_model(TINY, tok, seed=0), tok, root / "tiny-solution", CARD)
    export_checkpoint(build_model(TINY, tok, seed=1), tok, root / "tiny-metacot",
                      CARD | {"format": "metacot"})
    return root


def test_lora_experiment_end_to_end(root, tmp_path, capsys):
    out, results = tmp_path / "run", tmp_path / "results"
    figures = experiment.main(["--base", str(root / "tiny-solution"), *RUN,
                               "--scratch", str(root / "tiny-metacot"), "--out", str(out),
                               "--export-dir", str(root), "--results-dir", str(results)])
    stdout = capsys.readouterr().out
    printed = {m[1]: float(m[2]) for x in stdout.splitlines() if (m := LINE.match(x))}
    assert set(printed) == set(figures)  # printed rounded to at least one decimal
    assert printed == pytest.approx(figures, abs=0.051, nan_ok=True)
    for name in ("base", "lora", "full", "scratch"):
        for split in ("test", HELDOUT):
            assert 0.0 <= figures[f"{name}_{split}_solve_rate"] <= 1.0
    assert figures[f"scratch_{HELDOUT}_solve_rate"] == 0.25  # read from its card
    assert figures["scratch_train_seconds"] == 12.5
    # equal tokens seen; LoRA trains a small share of the parameters, full all of them
    assert figures["lora_train_tokens"] == figures["full_train_tokens"] > 0
    assert figures["full_trainable_parameters"] == figures["base_parameters"]
    # rank 8 on every linear layer: 8 * (in + out) per layer, q k v o and gate up down
    lora = 8 * TINY.layers * (4 * 2 * TINY.hidden + 3 * (TINY.hidden + TINY.intermediate))
    assert figures["lora_trainable_parameters"] == lora < figures["full_trainable_parameters"]
    for method in ("lora", "full"):
        record = json.loads((out / method / "results.json").read_text())
        assert {"args", "command", "hardware", "date", "parameters", "train",
                "summary_by_split", "summary_by_split_difficulty", "problems"} <= set(record)
        assert record["method"] == method and record["base"] == "tiny-solution"
        assert record["trainable_parameters"] == figures[f"{method}_trainable_parameters"]
        assert len(record["problems"]) == 6
        assert {r["split"] for r in record["base_summary_by_split"]} == {"test", HELDOUT}
        shipped = results / f"countdown3-{method}-metacot.json"
        assert json.loads(shipped.read_text()) == record
        assert figures[f"{method}_reload_max_logit_difference"] <= 1e-5
    for png in ("comparison.png", "accuracy_vs_difficulty.png"):
        assert (out / png).stat().st_size > 0
    assert (out / "figures.txt").read_text().splitlines() == [
        x for x in stdout.splitlines() if LINE.match(x)]
    _check_adapter(root, figures)


def _check_adapter(root, figures):
    """The adapter loads on its base and changes it; its card's scores are the reloaded
    adapter's own (the script checked that its logits are the trained model's)."""
    name = "tiny-solution-lora-metacot"
    assert (root / name / "adapter_config.json").is_file()
    assert not (root / name / "model.safetensors").exists()
    assert (root / "tiny-solution-full-metacot" / "model.safetensors").is_file()
    card = read_card(name, root=root)
    assert card["base"] == "tiny-solution" and card["method"] == "lora"
    model, tok = load_checkpoint(name, root=root)
    base, _ = load_checkpoint("tiny-solution", root=root)
    batch = tok(["12 5 3 -> 20\n"], return_tensors="pt")
    with torch.no_grad():  # the trained adapter changes the base's outputs
        assert not torch.equal(model(**batch).logits, base(**batch).logits)
    data = build_dataset("countdown", "dfs", "metacot", 0, 0, 3, 3, seed=0,
                         env_kwargs=env_kwargs_for("countdown", 3, (1, 20)))
    summary = evaluate_dataset(model, tok, data, splits=["test", HELDOUT],
                               max_new_tokens=8).summary(by="split")
    for split, scores in card["scores"].items():
        assert scores["solve_rate"] == summary.loc[split, "solve_rate"]
        assert scores["tokens"] == summary.loc[split, "tokens"]
        assert scores["solve_rate"] == figures[f"lora_{split}_solve_rate"]


@pytest.mark.parametrize(("argv", "name"), [
    (["--format", "searchformer"], "format"),
    (["--methods", "lora,qlora"], "methods"),
    (["--train-tokens", "0"], "train_tokens"),
    (["--lora-r", "0"], "lora_r"),
    (["--full-lr", "2"], "full_lr"),
    (["--number-range", "1,99"], "number_range"),
    (["--n-eval", "7"], "n_eval"),
    (["--max-length", "4096"], "max_length"),
    (["--eval-batch-size", "0"], "eval_batch_size"),
])
def test_lora_experiment_rejects_bad_options(root, tmp_path, argv, name):
    with pytest.raises(ValueError, match=name):
        experiment.main(["--base", str(root / "tiny-solution"), *argv, "--out", str(tmp_path)])


def test_lora_experiment_rejects_bad_checkpoints(root, tmp_path):
    base = ["--base", str(root / "tiny-solution"), "--out", str(tmp_path)]
    with pytest.raises(ValueError, match="base"):
        experiment.main(["--base", "no-such-checkpoint", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="scratch"):  # a solution model is no search model
        experiment.main([*base, "--scratch", str(root / "tiny-solution")])
    with pytest.raises(ValueError, match="export_dir"):  # the adapter's base must be there
        experiment.main([*base, "--export-dir", str(tmp_path)])
