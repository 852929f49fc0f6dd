"""In-context search or more samples? Accuracy against inference tokens per problem.

Meta-CoT's claim at inference time: a model that searches in its context spends its tokens
better than one that writes short answers and is sampled many times. This script measures
it on trained checkpoints (``--models``: e.g. the shipped solution-only and search models
of one task). Each draws ``--samples`` completions per problem of one evaluated split
(default the held-out one) at ``--temperature``, and every completion is checked by the
trace verifier. For k = 1, 2, 4, ... up to the samples drawn it prints, per model::

    <model>_k<k>_tokens             mean tokens generated per problem by k samples
    <model>_k<k>_pass               a legal trace among the k (unbiased pass@k)
    <model>_k<k>_answer_pass        a right final answer among the k: best-of-k when the
                                    environment's exact verifier picks the answer
    <model>_k<k>_maj                the most frequent of the first k answers is right (no
                                    verifier needed)

(``<model>`` is the checkpoint's name with ``-`` written ``_``), then
``<model>_sample_seconds``. The problems are those the checkpoints were scored on (their
cards' environment, numbers, seed and ``n_eval``; ``--n-problems`` keeps the first ones),
so every model sees the same problems. ``--cache`` picks the KV cache (the static one
that ``auto`` takes for long limits is slower for short answers). The shipped curves were
made one model at a time, e.g. for Countdown-4 (mazes add ``--split test``)::

    .venv/bin/python benchmarks/sampling_experiment.py --models countdown4-solution \
        --samples 64 --cache dynamic --out runs/sampling/countdown4-solution \
        --results-dir data/results/sampling
    .venv/bin/python benchmarks/sampling_experiment.py --models countdown4-metacot \
        --samples 8 --out runs/sampling/countdown4-metacot --results-dir data/results/sampling

Under ``--out`` go ``<checkpoint>.json`` per model (``args``, ``command``, ``hardware``,
``date``, ``checkpoint``, ``format``, ``split``, ``curve``: the rows printed,
``problems``: one row per problem, ``generations_sha256``: a digest of every generated
text, equal for equal seeds) and ``sampling_curve.png``; ``--results-dir`` receives
copies named ``<checkpoint>-k<samples>.json``. Timings are wall time and share the CPU with
whatever else runs.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from metacot_lab.checkpoints import checkpoint_path, load_checkpoint, read_card
from metacot_lab.config import describe_hardware
from metacot_lab.data import HELDOUT_SPLIT, TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.evaluate import evaluate_dataset
from metacot_lab.inference import CACHES, GENERATION_BATCH
from metacot_lab.results import FigureLog, table_records, write_record
from metacot_lab.validation import check_choice, check_float, check_int
from metacot_lab.viz.results import plot_sampling_curves

SCRIPT = "python benchmarks/sampling_experiment.py"
SHARED = ("env", "size", "number_range", "seed", "n_eval")  # card fields all models share
SPLITS = ("test", "heldout")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse and check the command line (``ValueError`` naming the bad option)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", required=True,
                   help="checkpoints (names or folders), comma-separated")
    p.add_argument("--samples", required=True,
                   help="samples per problem: one number for every model or one per model")
    p.add_argument("--split", default="heldout", help="test or heldout (the held-out split)")
    p.add_argument("--n-problems", type=int, help="first problems of the split (default all)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int,
                   help="generation limit (default: the one the checkpoints were scored with)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling")
    p.add_argument("--eval-batch-size", type=int, default=GENERATION_BATCH,
                   help="sequences per generation batch (larger on a GPU)")
    p.add_argument("--cache", default="auto",
                   help=f"KV cache, one of {CACHES} (dynamic: faster for short answers)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--results-dir", help="copy the records here")
    ns = p.parse_args(argv)
    ns.models = [m for m in ns.models.split(",") if m]
    if not ns.models:
        raise ValueError("models must name at least one checkpoint")
    ns.cards = {}
    for model in ns.models:
        try:
            ns.cards[model] = read_card(model)
        except ValueError as err:
            raise ValueError(f"models: {err}") from None
    first = ns.cards[ns.models[0]]
    for model, card in ns.cards.items():
        differ = {k: (first.get(k), card.get(k)) for k in SHARED if first.get(k) != card.get(k)}
        if differ:
            raise ValueError(f"models must share {SHARED} to be scored on the same problems; "
                             f"{model} differs from {ns.models[0]} in {differ}")
    ns.samples = _samples(ns.samples, len(ns.models))
    check_choice("split", ns.split, SPLITS)
    ns.env, ns.size, ns.data_seed = first["env"], first["size"], first["seed"]
    ns.split_name = HELDOUT_SPLIT[ns.env] if ns.split == "heldout" else "test"
    ns.n_eval = check_int("n_eval (in the cards)", first.get("n_eval"), 1, 1_000_000)
    ns.n_problems = ns.n_eval if ns.n_problems is None else ns.n_problems
    check_int("n_problems", ns.n_problems, 1, ns.n_eval)
    check_float("temperature", ns.temperature, 1e-3, 10.0)
    check_float("top_p", ns.top_p, 1e-3, 1.0)
    limits = {card.get("max_new_tokens") for card in ns.cards.values()}
    if ns.max_new_tokens is None:
        ns.max_new_tokens = max((x for x in limits if x is not None), default=1024)
    check_int("max_new_tokens", ns.max_new_tokens, 1, 1 << 16)
    check_int("seed", ns.seed, 0)
    check_int("eval_batch_size", ns.eval_batch_size, 1, 1 << 16)
    check_choice("cache", ns.cache, CACHES)
    return ns


def _samples(text: str, models: int) -> list[int]:
    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"samples must be comma-separated integers, got {text!r}") from None
    if len(values) == 1:
        values *= models
    if len(values) != models:
        raise ValueError(f"samples must give one number or one per model ({models}), "
                         f"got {text!r}")
    return [check_int("samples", v, 1, 4096) for v in values]


def powers_of_two(n: int) -> list[int]:
    """1, 2, 4, ... up to ``n``, and ``n`` itself."""
    ks = [1 << i for i in range(n.bit_length()) if 1 << i <= n]
    return ks if ks[-1] == n else [*ks, n]


def texts_digest(texts: Sequence[str]) -> str:
    """SHA-256 of the generated texts in order: equal digests, equal generations."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


def sample_model(ns: argparse.Namespace, name: str, samples: int, log: FigureLog,
                 ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Draw and score ``samples`` completions per problem with one checkpoint; print its
    curve. Returns its record and its curve."""
    card, checkpoint = ns.cards[name], checkpoint_path(name).name
    model, tokenizer = load_checkpoint(name)
    data = build_dataset(ns.env, TRACE_ALGORITHM[ns.env], card["format"], 0, 0, ns.n_eval,
                         ns.n_eval, seed=ns.data_seed,
                         env_kwargs=env_kwargs_for(ns.env, ns.size, card.get("number_range")))
    start = time.perf_counter()
    report = evaluate_dataset(model.eval(), tokenizer, data, splits=[ns.split_name],
                              limit=ns.n_problems, n=samples, ks=powers_of_two(samples),
                              temperature=ns.temperature, top_p=ns.top_p,
                              max_new_tokens=ns.max_new_tokens, seed=ns.seed,
                              batch_size=ns.eval_batch_size, cache=ns.cache, progress=True)
    seconds = time.perf_counter() - start
    curve = report.sampling_curve()
    tag = checkpoint.replace("-", "_")
    for row in curve.itertuples():
        log.emit(f"{tag}_k{row.k}_tokens", row.tokens, 1)
        log.emit(f"{tag}_k{row.k}_pass", row.pass_at_k, 3)
        log.emit(f"{tag}_k{row.k}_answer_pass", row.answer_pass_at_k, 3)
        log.emit(f"{tag}_k{row.k}_maj", row.maj_at_k, 3)
    log.emit(f"{tag}_sample_seconds", seconds, 1)
    args = {k: v for k, v in vars(ns).items() if k not in ("cards", "out", "argv")}
    record = {
        "args": args | {"samples": samples}, "command": f"{SCRIPT} {' '.join(ns.argv)}",
        "hardware": describe_hardware(), "date": date.today().isoformat(),
        "checkpoint": checkpoint, "format": card["format"],
        "split": ns.split_name, "sample_seconds": seconds,
        "generations_sha256": texts_digest(report.samples["text"]),
        "curve": table_records(curve, index=False),
        "problems": table_records(report.problems, index=False),
    }
    return record, curve


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run the experiment, print one figure per line, and return the figures by name."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ns = parse_args(argv)
    ns.argv = argv
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    log = FigureLog()
    print(f"{ns.env}{ns.size}, split {ns.split_name}, {ns.n_problems} problems, temperature "
          f"{ns.temperature}, samples {dict(zip(ns.models, ns.samples, strict=True))}",
          flush=True)
    curves = {}
    for name, samples in zip(ns.models, ns.samples, strict=True):
        record, curves[name] = sample_model(ns, name, samples, log)
        path = write_record(record, out / f"{record['checkpoint']}.json")
        if ns.results_dir is not None:
            target = Path(ns.results_dir) / f"{record['checkpoint']}-k{samples}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    fig = plot_sampling_curves(curves, title=f"{ns.env}{ns.size}, {ns.split_name}")
    fig.savefig(out / "sampling_curve.png", dpi=100)
    log.save(out / "figures.txt")
    return log.figures


if __name__ == "__main__":
    main(sys.argv[1:])
