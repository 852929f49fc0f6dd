"""Issue 4's LoRA experiment: can LoRA teach a model trained on solutions only to search?

Starts from a checkpoint trained on solution-only traces (``--base``, a "CoT model" made by
benchmarks/sft_experiment.py) and fine-tunes two fresh copies of it on search traces
(``--format``, default compact Meta-CoT) at equal training compute, the same sequence tokens
seen (``--train-tokens``): (a) LoRA adapters on every linear layer (``peft``; the base weights
stay frozen) and (b) full fine-tuning, at train_sft's default learning rates (``LORA_LR``
2e-3, ``FULL_LR`` 1e-3) unless ``--lora-lr`` / ``--full-lr`` say otherwise. The base itself
(the "before" number, in its own format), the LoRA model and the fully fine-tuned model are
evaluated greedily on the same test and held-out problems. Environment, numbers, seed,
problem count and generation length come from the base's card (options only fill in what
the card does not record). The shipped LoRA results are made with::

    .venv/bin/python benchmarks/lora_experiment.py --base countdown4-solution --format metacot \\
        --train-tokens 2000000 --n-train 20000 --bf16 --scratch countdown4-metacot \\
        --out runs/lora --export-dir data/checkpoints --results-dir data/results

Prints one figure per line: ``<name>_<split>_<metric>: value`` (solve and valid rate, and for
mazes optimal rate; tokens generated per problem) for ``base``, ``lora``, ``full`` and
``scratch`` (a model trained from scratch on search traces, ``--scratch``, read from its
card), and ``<name>_trainable_parameters`` / ``_train_seconds`` / ``_train_tokens``.

Under ``--out`` go ``<method>/results.json`` (sft_experiment's record plus ``base``,
``method``, ``trainable_parameters`` and ``base_summary_by_split``), ``comparison.png``
(held-out solve rate, trainable parameters, training time), ``accuracy_vs_difficulty.png``
and ``figures.txt``. ``--results-dir`` receives copies named
``<env><size>-<method>-<format>.json`` (``countdown4-lora-metacot.json``), ``--export-dir``
the checkpoints ``<base>-<method>-<format>`` (``countdown4-solution-lora-metacot`` holds only
the adapter; :func:`load_checkpoint` puts it on its base, so the base must be in the same
folder). Every model is scored as stored: the fully fine-tuned weights rounded to float16
(:func:`stored_copy`), the adapter in float32; after an export the checkpoint is loaded back
and its logits are checked against the scored model's. Timings are wall time and share the
CPU with whatever else runs.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from metacot_lab.checkpoints import (
    SCORE_FIELDS,
    checkpoint_path,
    export_checkpoint,
    load_checkpoint,
    read_card,
    stored_copy,
)
from metacot_lab.data import HELDOUT_SPLIT, TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.evaluate import EvalReport
from metacot_lab.inference import GENERATION_BATCH
from metacot_lab.models import count_parameters
from metacot_lab.results import FigureLog, run_record, split_summary, table_records, write_record
from metacot_lab.traces import formats_for
from metacot_lab.train import FULL_LR, LORA_LR, LoraSettings, SFTRunConfig, train_sft
from metacot_lab.validation import check_choice, check_float, check_int, check_int_range
from metacot_lab.viz.results import plot_training_comparison

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling sft_experiment.py
from sft_experiment import BATCH_ROWS, evaluate_model, plot_results  # noqa: E402

METHODS = ("lora", "full")
SCRIPT = "python benchmarks/lora_experiment.py"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line (``ValueError`` naming the bad option); fills the
    environment settings from the base's card."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True,
                   help="checkpoint trained on solution-only traces (name or folder)")
    p.add_argument("--format", default="metacot", help="trace format to fine-tune on")
    p.add_argument("--methods", default="lora,full", help="lora and/or full, comma-separated")
    p.add_argument("--train-tokens", type=int, default=4_000_000,
                   help="sequence tokens seen in training, the same for every method")
    p.add_argument("--n-train", type=int, default=8_000)
    p.add_argument("--max-length", type=int, default=1024,
                   help="training context (packed row length); longer traces are dropped")
    p.add_argument("--lora-r", type=int, default=8, help="LoRA rank")
    p.add_argument("--lora-alpha", type=int, default=16, help="LoRA scale is alpha / r")
    p.add_argument("--lora-lr", type=float, default=LORA_LR, help="LoRA learning rate")
    p.add_argument("--full-lr", type=float, default=FULL_LR,
                   help="full fine-tuning learning rate")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast in training")
    p.add_argument("--scratch", help="checkpoint trained from scratch on --format (its card)")
    p.add_argument("--eval-batch-size", type=int, default=GENERATION_BATCH,
                   help="sequences per generation batch in evaluation (larger on a GPU)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--export-dir", help="write checkpoints here (it must hold the base)")
    p.add_argument("--results-dir", help="copy the results JSON files here")
    card_options = p.add_argument_group("settings the base's card records (used if it does not)")
    card_options.add_argument("--number-range", help="Countdown input numbers, lo,hi")
    card_options.add_argument("--n-eval", type=int, help="problems per evaluated split")
    card_options.add_argument("--max-new-tokens", type=int)
    card_options.add_argument("--seed", type=int, help="fixes data, training and eval")
    ns = p.parse_args(argv)
    try:
        ns.base_card = read_card(ns.base)
    except ValueError as err:
        raise ValueError(f"base: {err}") from None
    ns.base_name = checkpoint_path(ns.base).name
    card = ns.base_card
    ns.env, ns.size = card["env"], card["size"]
    check_choice("format", ns.format, tuple(formats_for(ns.env)))
    ns.methods = [check_choice("methods", m, METHODS) for m in ns.methods.split(",")]
    check_int("train_tokens", ns.train_tokens, 1, 1 << 40)
    check_int("n_train", ns.n_train, 1, 10_000_000)
    check_int("lora_r", ns.lora_r, 1, 4096)
    check_int("lora_alpha", ns.lora_alpha, 1, 1_000_000)
    check_float("lora_lr", ns.lora_lr, 1e-7, 1.0)
    check_float("full_lr", ns.full_lr, 1e-7, 1.0)
    check_int("max_length", ns.max_length, 16, 1 << 20)  # and the base's context: main()
    check_int("eval_batch_size", ns.eval_batch_size, 1, 1 << 16)
    _from_card(ns, "n_eval", 100, 1, 1_000_000)
    _from_card(ns, "max_new_tokens", 1024, 1, 1 << 16)
    _from_card(ns, "seed", 0, 0, None)
    _number_range(ns)
    if ns.scratch is not None:
        try:
            ns.scratch_card = read_card(ns.scratch)
        except ValueError as err:
            raise ValueError(f"scratch: {err}") from None
        where = {k: ns.scratch_card.get(k) for k in ("env", "size", "format")}
        if where != {"env": ns.env, "size": ns.size, "format": ns.format}:
            raise ValueError(f"scratch must be a {ns.format} model of {ns.env}{ns.size}, "
                             f"got {where}")
    if ns.export_dir is not None:
        there = Path(ns.export_dir) / ns.base_name
        if not (there / "card.json").is_file() or (
                there.resolve() != checkpoint_path(ns.base).resolve()):
            raise ValueError(f"export_dir must hold the base checkpoint {ns.base_name!r} (an "
                             f"adapter loads on its base from the same folder), got "
                             f"{ns.export_dir!r}")
    return ns


def _from_card(ns: argparse.Namespace, name: str, default: int, lo: int, hi: int | None) -> None:
    """``ns.<name>``: the card's value; the option only where the card has none."""
    given, recorded = getattr(ns, name), ns.base_card.get(name)
    if given is not None and recorded is not None and given != recorded:
        raise ValueError(f"{name}: the base's card records {recorded}, got {given}")
    value = recorded if recorded is not None else given if given is not None else default
    setattr(ns, name, check_int(name, value, lo, hi))


def _number_range(ns: argparse.Namespace) -> None:
    recorded = ns.base_card.get("number_range")
    if ns.number_range is not None:
        try:
            given = tuple(int(x) for x in ns.number_range.split(","))
        except ValueError:
            raise ValueError(f"number_range must be lo,hi, got {ns.number_range!r}") from None
        given = check_int_range("number_range", given, 1, 1000)
        if recorded is not None and tuple(recorded) != given:
            raise ValueError(f"number_range: the base's card records {recorded}, got {given}")
        ns.number_range = given
    elif recorded is not None:
        ns.number_range = tuple(recorded)
    elif ns.env == "countdown":
        raise ValueError("number_range: the base's card does not record it; pass "
                         "--number-range lo,hi as the base was trained")


def eval_data(ns: argparse.Namespace, fmt: str) -> Any:
    """The evaluated splits in ``fmt`` (not length-filtered: the same problems for all)."""
    return build_dataset(ns.env, TRACE_ALGORITHM[ns.env], fmt, 0, 0, ns.n_eval, ns.n_eval,
                         seed=ns.seed, env_kwargs=env_kwargs_for(ns.env, ns.size,
                                                                 ns.number_range))


def run_method(ns: argparse.Namespace, method: str, base: Any, tokenizer: Any, train: Any,
               data: Any, base_report: EvalReport, log: FigureLog) -> tuple[dict, EvalReport]:
    """Fine-tune a fresh copy of ``base`` with ``method``, score it as stored, save its
    record (and checkpoint). Returns the record and the evaluation."""
    lora = LoraSettings(r=ns.lora_r, alpha=ns.lora_alpha) if method == "lora" else None
    result = train_sft(copy.deepcopy(base), tokenizer, train, SFTRunConfig(
        seed=ns.seed, batch_size=BATCH_ROWS, max_length=ns.max_length,
        max_tokens=ns.train_tokens, packing="whole", bf16=ns.bf16, progress=False,
        logging_steps=25, lora=lora, learning_rate=ns.lora_lr if lora else ns.full_lr))
    log.emit(f"{method}_trainable_parameters", result.trainable_parameters, 0)
    log.emit(f"{method}_train_seconds", result.wall_seconds, 1)
    log.emit(f"{method}_train_tokens", result.tokens_seen, 0)
    log.emit(f"{method}_train_steps", result.steps, 0)
    log.emit(f"{method}_final_loss", result.final_loss or float("nan"), 4)
    # scored as stored: an adapter is saved in float32, full weights in float16
    model = result.model.eval() if method == "lora" else stored_copy(result.model)
    report = evaluate_model(ns, method, model, tokenizer, data, log)
    args = {k: v for k, v in vars(ns).items()
            if k not in ("out", "argv", "base_card", "scratch_card", "methods")}
    record = run_record(
        args | {"method": method}, f"{SCRIPT} {' '.join(ns.argv)}", model, result, report,
        equal_compute="same sequence tokens seen (train_tokens) for every method",
        base=ns.base_name, method=method, trainable_parameters=result.trainable_parameters,
        base_summary_by_split=table_records(base_report.summary(by="split")))
    path = write_record(record, Path(ns.out) / method / "results.json")
    if ns.results_dir is not None:
        target = Path(ns.results_dir) / f"{ns.env}{ns.size}-{method}-{ns.format}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    if ns.export_dir is not None:
        export(ns, method, model, tokenizer, record, data, log)
    return record, report


def export(ns: argparse.Namespace, method: str, model: Any, tokenizer: Any, record: dict,
           data: Any, log: FigureLog) -> Path:
    """Write the checkpoint ``<base>-<method>-<format>`` and check that it loads back with
    the logits of the scored model (so the card's scores are those of the stored weights)."""
    name = f"{ns.base_name}-{method}-{ns.format}"
    heldout = HELDOUT_SPLIT[ns.env]
    scores = {split: {k: split_summary(record, split).get(k) for k in SCORE_FIELDS}
              for split in ("test", heldout)}
    base = ns.base_card
    card = {
        "command": record["command"], "seed": ns.seed, "hardware": record["hardware"],
        "date": record["date"], "train_seconds": record["train"]["wall_seconds"],
        "tokens_seen": record["train"]["tokens_seen"], "parameters": record["parameters"],
        "trainable_parameters": record["trainable_parameters"], "method": method,
        "base": ns.base_name, "env": ns.env, "size": ns.size, "number_range": ns.number_range,
        "format": ns.format, "model_size": base.get("model_size"), "heldout_split": heldout,
        "n_eval": ns.n_eval, "max_new_tokens": ns.max_new_tokens, "scores": scores,
    }
    path = export_checkpoint(model, tokenizer, Path(ns.export_dir) / name, card)
    back, _ = load_checkpoint(name, root=ns.export_dir)
    prompts = list(data["test"]["prompt"][:8])
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        diff = (model(**batch).logits - back(**batch).logits).abs().max().item()
    log.emit(f"{method}_reload_max_logit_difference", diff, 7)
    if diff > 1e-5:
        raise RuntimeError(f"checkpoint {name} does not reproduce the scored model "
                           f"(logits differ by {diff})")
    return path


def comparison(ns: argparse.Namespace, base_report: EvalReport, records: dict[str, dict],
               log: FigureLog) -> dict[str, dict[str, Any]]:
    """Held-out solve rate, trainable parameters and training seconds per model (the
    ``--scratch`` model's from its card); prints the scratch model's figures."""
    heldout = HELDOUT_SPLIT[ns.env]
    runs = {f"base ({ns.base_card['format']})": {
        "solve_rate": base_report.summary(by="split").loc[heldout, "solve_rate"]}}
    for method, record in records.items():
        runs[f"{method} ({ns.format})"] = {
            "solve_rate": split_summary(record, heldout)["solve_rate"],
            "trainable_parameters": record["trainable_parameters"],
            "train_seconds": record["train"]["wall_seconds"]}
    if ns.scratch is not None:
        card = ns.scratch_card
        params = count_parameters(load_checkpoint(ns.scratch)[0])
        for split in ("test", heldout):
            log.emit(f"scratch_{split}_solve_rate", card["scores"][split]["solve_rate"], 3)
        log.emit("scratch_trainable_parameters", params, 0)
        log.emit("scratch_train_seconds", card["train_seconds"], 1)
        runs[f"scratch ({ns.format})"] = {
            "solve_rate": card["scores"][heldout]["solve_rate"],
            "trainable_parameters": params, "train_seconds": card["train_seconds"]}
    return runs


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the experiment, print one figure per line, and return the figures by name."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ns = parse_args(argv)
    ns.argv = argv
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    log = FigureLog()
    print(f"base {ns.base_name} ({ns.base_card['format']}, {ns.env}{ns.size}, numbers "
          f"{ns.number_range}); fine-tuning on {ns.format} with {', '.join(ns.methods)}, "
          f"{ns.train_tokens} sequence tokens each; seed {ns.seed}", flush=True)
    base, tokenizer = load_checkpoint(ns.base)
    check_int("max_length", ns.max_length, 16, base.config.max_position_embeddings)
    log.emit("base_parameters", count_parameters(base), 0)
    start = time.perf_counter()
    train = build_dataset(ns.env, TRACE_ALGORITHM[ns.env], ns.format, ns.n_train, 0, 0, 0,
                          seed=ns.seed, env_kwargs=env_kwargs_for(ns.env, ns.size,
                                                                  ns.number_range),
                          max_tokens=ns.max_length)["train"]
    data = eval_data(ns, ns.format)
    base_data = eval_data(ns, ns.base_card["format"])
    log.emit("data_seconds", time.perf_counter() - start, 1)
    base_report = evaluate_model(ns, "base", base, tokenizer, base_data, log)
    records, reports = {}, {"base": base_report}
    for method in ns.methods:
        records[method], reports[method] = run_method(ns, method, base, tokenizer, train, data,
                                                       base_report, log)
    runs = comparison(ns, base_report, records, log)
    heldout = HELDOUT_SPLIT[ns.env]
    fig = plot_training_comparison(runs, split=heldout)
    fig.suptitle(f"{ns.env}{ns.size}: from {ns.base_name} to {ns.format}", fontsize=11)
    fig.savefig(out / "comparison.png", dpi=100)
    plot_results(reports, ["test", heldout], f"{ns.env}{ns.size}").savefig(
        out / "accuracy_vs_difficulty.png", dpi=100)
    log.save(out / "figures.txt")
    return log.figures


if __name__ == "__main__":
    main(sys.argv[1:])
