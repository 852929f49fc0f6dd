"""Issue 4's experiment: the same tiny Llama trained on solution-only traces and on search
traces at equal training compute, evaluated greedily on the test and held-out splits.

Equal training compute means the same number of sequence tokens (prompt + completion,
without padding) through the model for every format (``--train-tokens``); shorter formats
therefore see more epochs. Prints one figure per line, ``<env><size>_<format>_<split>_<metric>:
value`` (solve, valid and, for mazes, optimal rate; tokens generated per problem) and
``<env><size>_<format>_train_seconds`` / ``_train_tokens``::

    .venv/bin/python benchmarks/sft_experiment.py --env countdown --size 3 --number-range 1,15 \\
        --formats solution,metacot --model-size 5m --train-tokens 3000000 --n-train 20000 \\
        --n-eval 100 --max-new-tokens 1024 --seed 0 --bf16 --out runs/cd3

Data: Countdown traces come from DFS with Stream of Search's target threshold, mazes from A*;
no training row is longer than the training context (``--max-length``). The evaluated
splits are not filtered by length, so every format is scored on the same problems (the
share whose reference trace would not fit the context is printed). Under ``--out`` go, per format,
``<format>/results.json`` (arguments, training run, summaries by split and by split and
difficulty, per-problem rows) and the checkpoint ``<format>/model`` (:func:`save_model`),
plus ``accuracy_vs_difficulty.png`` and ``figures.txt`` (the printed lines). The test
splits are only reported, never used to choose anything. Timings are wall time and share the
CPU with whatever else runs.

On a GPU the same command runs unchanged; ``--num-proc`` builds the traces in several
processes, ``--eval-batch-size`` generates more problems at once, and ``--max-train-seconds``
caps a run whose speed is unknown (``<tag>_train_stopped_by_time: 1`` says it hit the cap).
``--batch-rows`` (default 8) sets the packed rows per optimizer step: halve it when doubling
``--max-length`` to keep the tokens per step. ``--max-new-tokens`` must leave the longest
evaluated prompt room within the model's positions; that is checked before training.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from metacot_lab.data import HELDOUT_SPLIT, TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.evaluate import EvalReport, evaluate_dataset
from metacot_lab.inference import GENERATION_BATCH, check_context
from metacot_lab.models import MODEL_SIZES, build_model, save_model
from metacot_lab.results import FigureLog, run_record, write_record
from metacot_lab.traces import formats_for
from metacot_lab.traces.tokenizer import build_tokenizer
from metacot_lab.train import SFTRunConfig, train_sft
from metacot_lab.validation import check_choice, check_float, check_int, check_int_range
from metacot_lab.viz.results import plot_accuracy_vs_difficulty, plot_tokens_vs_difficulty

BATCH_ROWS = 8  # default packed rows of --max-length tokens per optimizer step


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line (``ValueError`` naming the bad option)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="countdown", help="countdown or maze")
    p.add_argument("--size", type=int, default=3, help="Countdown: numbers; maze: side n")
    p.add_argument("--number-range", default="1,15", help="Countdown input numbers, lo,hi")
    p.add_argument("--formats", default="solution,metacot", help="trace formats, comma-separated")
    p.add_argument("--model-size", default="5m", help=f"one of {sorted(MODEL_SIZES)}")
    p.add_argument("--train-tokens", type=int, default=3_000_000,
                   help="sequence tokens seen in training, the same for every format")
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-eval", type=int, default=100, help="problems per evaluated split")
    p.add_argument("--max-new-tokens", type=int, default=1024)
    p.add_argument("--max-length", type=int, default=1024,
                   help="training context (packed row length); longer traces are dropped")
    p.add_argument("--batch-rows", type=int, default=BATCH_ROWS,
                   help="packed rows per optimizer step: halve it when doubling --max-length "
                        "to keep the tokens per step")
    p.add_argument("--seed", type=int, default=0, help="fixes data, model, training, eval")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast in training")
    p.add_argument("--max-train-seconds", type=float, default=None,
                   help="safety cap: stop a format's training at this wall time (the record "
                        "then shows fewer tokens seen than --train-tokens)")
    p.add_argument("--num-proc", type=int, default=1,
                   help="processes building the traces (the data do not depend on it)")
    p.add_argument("--eval-batch-size", type=int, default=GENERATION_BATCH,
                   help="sequences per generation batch in evaluation (larger on a GPU)")
    ns = p.parse_args(argv)
    check_choice("env", ns.env, tuple(TRACE_ALGORITHM))
    check_int("size", ns.size, *((3, 6) if ns.env == "countdown" else (3, 30)))
    try:
        ns.number_range = tuple(int(x) for x in ns.number_range.split(","))
    except ValueError:
        raise ValueError(f"number_range must be lo,hi, got {ns.number_range!r}") from None
    ns.number_range = check_int_range("number_range", ns.number_range, 1, 1000)
    ns.formats = [check_choice("formats", f, tuple(formats_for(ns.env)))
                  for f in ns.formats.split(",")]
    check_choice("model_size", ns.model_size, tuple(MODEL_SIZES))
    check_int("train_tokens", ns.train_tokens, 1, 1 << 40)
    check_int("n_train", ns.n_train, 1, 10_000_000)
    check_int("n_eval", ns.n_eval, 1, 1_000_000)
    check_int("max_new_tokens", ns.max_new_tokens, 1, 1 << 16)
    check_int("max_length", ns.max_length, 16, MODEL_SIZES[ns.model_size].max_positions)
    check_int("batch_rows", ns.batch_rows, 1, 4096)
    check_int("seed", ns.seed, 0)
    if ns.max_train_seconds is not None:
        check_float("max_train_seconds", ns.max_train_seconds, 1.0, 1e7)
    check_int("num_proc", ns.num_proc, 1, 256)
    check_int("eval_batch_size", ns.eval_batch_size, 1, 1 << 16)
    return ns


def run_format(ns: argparse.Namespace, fmt: str, tokenizer: Any, out: Path,
               log: FigureLog) -> EvalReport:
    """Build the data, train and evaluate one format; save its results and checkpoint."""
    tag = f"{ns.env}{ns.size}_{fmt}"
    env_kwargs = env_kwargs_for(ns.env, ns.size, ns.number_range)
    heldout = HELDOUT_SPLIT[ns.env]
    start = time.perf_counter()
    train = build_dataset(ns.env, TRACE_ALGORITHM[ns.env], fmt, ns.n_train, 0, 0, 0, seed=ns.seed,
                          num_proc=ns.num_proc, env_kwargs=env_kwargs,
                          max_tokens=ns.max_length)["train"]
    # every format is scored on the same problems: no length filter on the evaluated splits
    data = build_dataset(ns.env, TRACE_ALGORITHM[ns.env], fmt, 0, 0, ns.n_eval, ns.n_eval,
                         seed=ns.seed, num_proc=ns.num_proc, env_kwargs=env_kwargs)
    log.emit(f"{tag}_data_seconds", time.perf_counter() - start, 1)
    log.emit(f"{tag}_train_max_trace_tokens", max(train["trace_tokens"]), 0)
    for split in ("test", heldout):
        over = sum(n > ns.max_length for n in data[split]["trace_tokens"]) / len(data[split])
        log.emit(f"{tag}_{split}_reference_over_context", over, 3)
    model = build_model(ns.model_size, tokenizer, seed=ns.seed)
    # fail now, not after training, if the longest evaluated prompt leaves too little room
    check_context(model, max(len(tokenizer(p)["input_ids"]) for s in ("test", heldout)
                             for p in data[s]["prompt"]), ns.max_new_tokens)
    result = train_sft(model, tokenizer, train, SFTRunConfig(
        seed=ns.seed, batch_size=ns.batch_rows, max_length=ns.max_length,
        max_tokens=ns.train_tokens, max_seconds=ns.max_train_seconds, packing="whole",
        bf16=ns.bf16, progress=False, logging_steps=25))
    log.emit(f"{tag}_train_seconds", result.wall_seconds, 1)
    log.emit(f"{tag}_train_tokens", result.tokens_seen, 0)
    log.emit(f"{tag}_train_steps", result.steps, 0)
    log.emit(f"{tag}_train_stopped_by_time", int(result.stopped_by_time), 0)
    log.emit(f"{tag}_final_loss", result.final_loss or float("nan"), 4)
    model = result.model.eval()
    report = evaluate_model(ns, tag, model, tokenizer, data, log)
    fdir = out / fmt
    save_model(model, fdir / "model", tokenizer)
    write_record(run_record(
        {k: v for k, v in vars(ns).items() if k != "out"} | {"format": fmt},
        "python benchmarks/sft_experiment.py " + " ".join(sys.argv[1:]), model, result, report,
        equal_compute="same sequence tokens seen (train_tokens) for every format",
    ), fdir / "results.json")
    return report


def evaluate_model(ns: argparse.Namespace, name: str, model: Any, tokenizer: Any, data: Any,
                   log: FigureLog) -> EvalReport:
    """Greedy evaluation on the test and held-out splits; prints ``<name>_<split>_*``."""
    heldout = HELDOUT_SPLIT[ns.env]
    start = time.perf_counter()
    report = evaluate_dataset(model.eval(), tokenizer, data, splits=["test", heldout],
                              max_new_tokens=ns.max_new_tokens, batch_size=ns.eval_batch_size,
                              seed=ns.seed)
    log.emit(f"{name}_eval_seconds", time.perf_counter() - start, 1)
    summary = report.summary(by="split")
    metrics = ["solve_rate", "valid_rate", "answer_rate"]
    metrics += ["optimal_rate"] if ns.env == "maze" else []
    for split in ("test", heldout):
        for metric in metrics:
            log.emit(f"{name}_{split}_{metric}", summary.loc[split, metric], 3)
        log.emit(f"{name}_{split}_tokens_per_problem", summary.loc[split, "tokens"], 1)
    return report


def plot_results(reports: dict[str, EvalReport], splits: Sequence[str], title: str) -> Figure:
    """Accuracy (top) and tokens generated (bottom) against difficulty, one column a split."""
    fig = Figure(figsize=(6.0 * len(splits), 8.0), layout="constrained")
    axes = fig.subplots(2, len(splits), squeeze=False)
    for col, split in enumerate(splits):
        per_split = {fmt: r.problems[r.problems["split"] == split] for fmt, r in reports.items()}
        plot_accuracy_vs_difficulty(per_split, ax=axes[0][col], title=f"{title} {split}")
        plot_tokens_vs_difficulty(per_split, ax=axes[1][col], title=f"{title} {split}")
    return fig


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the experiment, print one figure per line, and return the figures by name."""
    ns = parse_args(argv)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    log = FigureLog()
    print(f"equal training compute: every format sees {ns.train_tokens} sequence tokens "
          f"(prompt + completion) in training; model {ns.model_size}, seed {ns.seed}",
          flush=True)
    tokenizer = build_tokenizer()
    reports = {fmt: run_format(ns, fmt, tokenizer, out, log) for fmt in ns.formats}
    fig = plot_results(reports, ["test", HELDOUT_SPLIT[ns.env]], f"{ns.env}{ns.size}")
    fig.savefig(out / "accuracy_vs_difficulty.png", dpi=100)
    log.save(out / "figures.txt")
    return log.figures


if __name__ == "__main__":
    main(sys.argv[1:])
