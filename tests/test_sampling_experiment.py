"""benchmarks/sampling_experiment.py runs end to end on tiny checkpoints (the figures are
plumbing, not learning: untrained models solve nothing), is deterministic by seed, and
checks its options."""

from __future__ import annotations

import json
import re

import pytest
from bench_helpers import load_benchmark

from metacot_lab.checkpoints import CARD_FIELDS, export_checkpoint
from metacot_lab.models import ModelSize, build_model
from metacot_lab.traces.tokenizer import build_tokenizer

LINE = re.compile(r"^(\w+): (-?\d+(\.\d+)?|nan)$")
TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)
CARD = {f: "x" for f in CARD_FIELDS} | {
    "seed": 0, "env": "countdown", "size": 3, "number_range": [1, 20], "format": "solution",
    "heldout_split": "test_heldout_targets", "n_eval": 4, "max_new_tokens": 6}

experiment = load_benchmark("sampling_experiment")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Tiny solution and metacot checkpoints of one task, and one of another seed."""
    root = tmp_path_factory.mktemp("checkpoints")
    tok = build_tokenizer()
    for name, seed, card in (("tiny-solution", 0, CARD),
                             ("tiny-metacot", 1, CARD | {"format": "metacot"}),
                             ("tiny-other-seed", 2, CARD | {"seed": 1})):
        export_checkpoint(build_model(TINY, tok, seed=seed), tok, root / name, card)
    return root


def models(root, *names):
    return ",".join(str(root / n) for n in names)


def test_sampling_experiment_end_to_end(root, tmp_path, capsys):
    out, results = tmp_path / "run", tmp_path / "results"
    argv = ["--models", models(root, "tiny-solution", "tiny-metacot"), "--samples", "3,2",
            "--n-problems", "3", "--out", str(out), "--results-dir", str(results)]
    figures = experiment.main(argv)
    stdout = capsys.readouterr().out
    printed = {m[1]: float(m[2]) for x in stdout.splitlines() if (m := LINE.match(x))}
    assert printed == pytest.approx(figures, abs=0.051, nan_ok=True)
    for tag, ks in (("tiny_solution", (1, 2, 3)), ("tiny_metacot", (1, 2))):
        names = {f"{tag}_k{k}_{m}" for k in ks for m in ("tokens", "pass", "answer_pass", "maj")}
        assert names | {f"{tag}_sample_seconds"} == {n for n in figures if n.startswith(tag)}
        per_sample = figures[f"{tag}_k1_tokens"]
        assert 1 <= per_sample <= 6  # at most max_new_tokens from the cards
        for k in ks:
            assert figures[f"{tag}_k{k}_tokens"] == pytest.approx(k * per_sample)
    for name, samples in (("tiny-solution", 3), ("tiny-metacot", 2)):
        record = json.loads((out / f"{name}.json").read_text())
        assert record["checkpoint"] == name and record["split"] == "test_heldout_targets"
        assert record["args"]["samples"] == samples and record["args"]["temperature"] == 1.0
        assert len(record["problems"]) == 3 and all(p["n"] == samples
                                                    for p in record["problems"])
        tag = name.replace("-", "_")
        for row in record["curve"]:  # the printed curve is the record's, and the problems'
            mean_pass = sum(p[f"pass@{row['k']}"] for p in record["problems"]) / 3
            assert row["pass_at_k"] == pytest.approx(mean_pass)
            assert figures[f"{tag}_k{row['k']}_maj"] == row["maj_at_k"]
        assert json.loads((results / f"{name}-k{samples}.json").read_text()) == record
    assert (out / "sampling_curve.png").stat().st_size > 0
    assert (out / "figures.txt").read_text().splitlines() == [
        x for x in stdout.splitlines() if LINE.match(x)]


def test_sampling_experiment_is_deterministic_by_seed(root, tmp_path):
    def run(folder, seed):
        experiment.main(["--models", models(root, "tiny-metacot"), "--samples", "2",
                         "--n-problems", "2", "--split", "test", "--seed", str(seed),
                         "--out", str(tmp_path / folder)])
        return json.loads((tmp_path / folder / "tiny-metacot.json").read_text())

    first = run("a", 3)
    assert first["split"] == "test"
    assert run("b", 3)["generations_sha256"] == first["generations_sha256"]
    assert run("c", 4)["generations_sha256"] != first["generations_sha256"]


def test_powers_of_two_end_at_the_samples_drawn():
    assert experiment.powers_of_two(1) == [1]
    assert experiment.powers_of_two(8) == [1, 2, 4, 8]
    assert experiment.powers_of_two(12) == [1, 2, 4, 8, 12]


@pytest.mark.parametrize(("argv", "name"), [
    (["--samples", "2,2,2"], "samples"),
    (["--samples", "two"], "samples"),
    (["--samples", "0"], "samples"),
    (["--split", "val"], "split"),
    (["--n-problems", "5"], "n_problems"),
    (["--temperature", "0"], "temperature"),
    (["--top-p", "1.5"], "top_p"),
    (["--max-new-tokens", "0"], "max_new_tokens"),
    (["--eval-batch-size", "0"], "eval_batch_size"),
    (["--cache", "paged"], "cache"),
])
def test_sampling_experiment_rejects_bad_options(root, tmp_path, argv, name):
    argv = ["--models", models(root, "tiny-solution", "tiny-metacot"), "--samples", "2",
            *argv, "--out", str(tmp_path)]
    with pytest.raises(ValueError, match=name):
        experiment.main(argv)


def test_sampling_experiment_rejects_models_of_other_problems(root, tmp_path):
    with pytest.raises(ValueError, match="models"):
        experiment.main(["--models", "no-such-checkpoint", "--samples", "2",
                         "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="share"):  # another seed draws other problems
        experiment.main(["--models", models(root, "tiny-solution", "tiny-other-seed"),
                         "--samples", "2", "--out", str(tmp_path)])
