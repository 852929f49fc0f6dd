"""``metacot rl``: a GRPO experiment end to end from a shipped checkpoint.

The checkpoint's card names its environment, size, number range, format and seed; the
experiment rebuilds the same splits (``build_dataset`` with that seed: the test and held-out
problems of the card's scores), then

1. scores the starting model: greedy on the test and held-out splits (``--n-eval`` each),
   and ``--samples`` samples at temperature 1 on the first ``--n-sample`` held-out problems
   (pass@k and maj@k for k = 1, 2, 4, ... ``--samples``);
2. trains with :func:`~metacot_lab.train.rl.train_grpo` on training-split prompts
   (greedy validation solve rate on the val split every ``--eval-steps``);
3. scores the trained model the same way, and writes ``results.json`` (before/after,
   curves, search behaviour, hardware, command), ``figures.txt`` and ``model/`` under
   ``--out``. Test splits are only reported, never used to choose anything::

    metacot rl --checkpoint countdown3-metacot --max-seconds 1800 --out runs/rl-cd3
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .checkpoints import (
    CHECKPOINT_DIR,
    export_checkpoint,
    load_checkpoint,
    read_card,
    score_fields,
    stored_copy,
)
from .config import describe_hardware
from .data import HELDOUT_SPLIT, TRACE_ALGORITHM, build_dataset, env_kwargs_for
from .evaluate import evaluate_dataset
from .models import count_parameters, load_model, load_tokenizer, save_model
from .result_tables import RL_DIR, RL_KEYS
from .results import FigureLog, table_records, write_record
from .rewards import REWARDS
from .train.rl import LOSS_TYPES, RLRunConfig, train_grpo
from .validation import check_int


def parser(prog: str = "metacot rl") -> argparse.ArgumentParser:
    """The command line of :func:`main`."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a shipped checkpoint's name or path")
    p.add_argument("--reward", default="solved", choices=sorted(REWARDS))
    p.add_argument("--out", required=True, help="folder for results.json and the model")
    p.add_argument("--max-steps", type=int, default=200)
    p.add_argument("--max-seconds", type=float, default=None, help="wall-time budget")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default RL_LR)")
    p.add_argument("--beta", type=float, default=RLRunConfig.beta, help="KL to the start")
    p.add_argument("--num-generations", type=int, default=RLRunConfig.num_generations)
    p.add_argument("--prompts-per-step", type=int, default=RLRunConfig.prompts_per_step)
    p.add_argument("--temperature", type=float, default=RLRunConfig.temperature)
    p.add_argument("--loss-type", default=RLRunConfig.loss_type, choices=LOSS_TYPES)
    p.add_argument("--max-new-tokens", type=int, default=None,
                   help="completion budget when scoring (default: the card's)")
    p.add_argument("--train-max-new-tokens", type=int, default=None,
                   help="completion budget of the RL samples (default: --max-new-tokens)")
    p.add_argument("--bf16", choices=("auto", "on", "off"), default="auto",
                   help="bf16 autocast for training (auto: where the hardware runs it fast)")
    p.add_argument("--n-train", type=int, default=2000, help="training prompts")
    p.add_argument("--n-val", type=int, default=50, help="validation problems (greedy)")
    p.add_argument("--n-eval", type=int, default=None, help="test and held-out problems "
                   "(default: the card's)")
    p.add_argument("--n-sample", type=int, default=50, help="held-out problems sampled")
    p.add_argument("--samples", type=int, default=16, help="samples per problem (pass@k)")
    p.add_argument("--eval-steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=None, help="default: the card's")
    p.add_argument("--before-from", default=None, help="an earlier results.json of the same "
                   "checkpoint, seed and evaluation settings: reuse its 'before' scores "
                   "(deterministic) instead of scoring the start again")
    p.add_argument("--no-progress", action="store_true")
    return p


def plan(ns: argparse.Namespace) -> dict[str, Any]:
    """The checked settings of an experiment: its card, seed, sizes and run config (a
    ``ValueError`` names the first bad option, before anything runs)."""
    card = read_card(ns.checkpoint)
    env, size, fmt = card["env"], card["size"], card["format"]
    seed = card.get("seed", 0) if ns.seed is None else ns.seed
    n_eval = ns.n_eval or card.get("n_eval", 200)
    max_new = ns.max_new_tokens or card.get("max_new_tokens", 512)
    train_new = ns.train_max_new_tokens or max_new
    for name in ("n_train", "n_val", "n_sample", "samples", "eval_steps"):
        check_int(name, getattr(ns, name), 1, 1 << 24)
    check_int("n_eval", n_eval, 1, 1 << 24)
    heldout = HELDOUT_SPLIT[env]
    config = RLRunConfig(reward=ns.reward, seed=seed, learning_rate=ns.lr, beta=ns.beta,
                         num_generations=ns.num_generations,
                         prompts_per_step=ns.prompts_per_step, max_completion_length=train_new,
                         temperature=ns.temperature, loss_type=ns.loss_type,
                         max_steps=ns.max_steps, max_seconds=ns.max_seconds,
                         eval_steps=ns.eval_steps, progress=not ns.no_progress,
                         bf16={"auto": None, "on": True, "off": False}[ns.bf16])
    config.check()
    return {"card": card, "env": env, "size": size, "format": fmt, "seed": seed,
            "n_eval": n_eval, "max_new": max_new, "heldout": heldout, "config": config}


def run(ns: argparse.Namespace, command: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The experiment of the module docstring, with :func:`plan`'s ``settings``; returns
    its record."""
    card, env, size, fmt = (settings[k] for k in ("card", "env", "size", "format"))
    seed, n_eval, max_new = settings["seed"], settings["n_eval"], settings["max_new"]
    heldout, config = settings["heldout"], settings["config"]
    out = Path(ns.out)
    log = FigureLog()
    data = build_dataset(env, TRACE_ALGORITHM[env], fmt, ns.n_train, ns.n_val, n_eval, n_eval,
                         seed=seed, env_kwargs=env_kwargs_for(env, size, card.get("number_range")))
    model, tokenizer = load_checkpoint(ns.checkpoint)
    tag = f"rl_{Path(str(ns.checkpoint)).name}_{ns.reward}"

    def score(stage: str, model: Any) -> dict[str, Any]:
        greedy = evaluate_dataset(model, tokenizer, data, splits=["test", heldout], limit=n_eval,
                                  max_new_tokens=max_new, progress=config.progress)
        ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= ns.samples]
        sampled = evaluate_dataset(model, tokenizer, data, splits=[heldout], limit=ns.n_sample,
                                   n=ns.samples, ks=ks, temperature=1.0, seed=seed,
                                   max_new_tokens=max_new, progress=config.progress)
        summary = greedy.summary(by="split")
        curve = sampled.sampling_curve()
        return {"greedy": table_records(summary),
                "greedy_by_difficulty": table_records(greedy.summary(by=("split", "difficulty"))),
                "sampling_curve": table_records(curve, index=False),
                "sampled_split": heldout, "sampled_problems": ns.n_sample}

    def emit(stage: str, scores: dict[str, Any]) -> None:
        greedy = {row["split"]: row for row in scores["greedy"]}
        for split in ("test", heldout):
            log.emit(f"{tag}_{stage}_{split}_solve_rate", greedy[split]["solve_rate"], 3)
            log.emit(f"{tag}_{stage}_{split}_answer_rate", greedy[split]["answer_rate"], 3)
            log.emit(f"{tag}_{stage}_{split}_tokens", greedy[split]["tokens"], 1)
        for row in scores["sampling_curve"]:
            log.emit(f"{tag}_{stage}_{heldout}_pass@{row['k']}", row["pass_at_k"], 3)

    before = (reused_before(ns.before_from, settings, ns) if ns.before_from
              else score("before", model))
    emit("before", before)
    model.train()
    start = time.perf_counter()
    result = train_grpo(model, tokenizer, data["train"], config, validation=data["val"],
                        validation_max_new_tokens=max_new)
    log.emit(f"{tag}_train_seconds", time.perf_counter() - start, 0)
    log.emit(f"{tag}_train_steps", result.steps, 0)
    trained = result.model.eval()
    after = score("after", trained)
    emit("after", after)
    save_model(trained, out / "model", tokenizer)
    record = {
        "command": command, "hardware": describe_hardware(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()), "checkpoint": str(ns.checkpoint),
        "env": env, "size": size, "format": fmt, "heldout_split": heldout, "seed": seed,
        "config": {k: v for k, v in vars(config).items() if k != "lora"},
        "n_train": ns.n_train, "n_val": ns.n_val, "n_eval": n_eval, "max_new_tokens": max_new,
        "parameters": count_parameters(trained),
        "train": {"steps": result.steps, "wall_seconds": result.wall_seconds,
                  "stopped_by_time": result.stopped_by_time},
        "before_from": ns.before_from, "before": before, "after": after,
        "curves": result.curves, "validation": result.validation,
        "behaviour": result.behaviour,
    }
    write_record(record, out / "results.json")
    log.save(out / "figures.txt")
    return record


EVAL_SETTINGS = ("checkpoint", "seed", "n_eval", "max_new_tokens")


def reused_before(path: str | Path, settings: dict[str, Any],
                  ns: argparse.Namespace) -> dict[str, Any]:
    """The ``before`` scores of the record at ``path``, which must have scored the same
    checkpoint, seed, problems and samples (a ``ValueError`` names the first difference)."""
    record = json.loads(Path(path).read_text())
    card = settings["card"]
    mine = {"checkpoint": str(ns.checkpoint), "seed": settings["seed"],
            "n_eval": settings["n_eval"], "max_new_tokens": settings["max_new"]}
    theirs = {k: record.get(k) for k in EVAL_SETTINGS}
    if theirs["max_new_tokens"] is None:  # records before the field: the card's budget
        theirs["max_new_tokens"] = card.get("max_new_tokens", 512)
    theirs["samples"] = max(row["k"] for row in record["before"]["sampling_curve"])
    mine["samples"] = ns.samples
    theirs["n_sample"], mine["n_sample"] = record["before"]["sampled_problems"], ns.n_sample
    for key, value in mine.items():
        if theirs[key] != value:
            raise ValueError(f"before_from {str(path)!r} scored {key}={theirs[key]!r}, "
                             f"this run {value!r}")
    return record["before"]


def export_rl_run(
    run_dir: str | Path,
    name: str,
    root: str | Path = CHECKPOINT_DIR,
    results_dir: str | Path = RL_DIR,
    dtype: str = "float16",
) -> dict[str, Any]:
    """Ship the trained model of a ``metacot rl`` run (``run_dir`` holds ``results.json``
    and ``model/``) as checkpoint ``name``: the weights stored as ``dtype`` are scored
    greedily again on the run's test and held-out problems, the card keeps the starting
    checkpoint's description and name (``rl_from``) with the RL run's (its
    ``train_seconds`` are the RL run's), and ``results.json`` is copied to
    ``results_dir/<name>.json``."""
    run_dir = Path(run_dir)
    record = json.loads((run_dir / "results.json").read_text())
    missing = [k for k in RL_KEYS if k not in record]
    if missing or not (run_dir / "model").is_dir():
        raise ValueError(f"run_dir must hold an RL record (results.json with {list(RL_KEYS)}) "
                         f"and model/, got {str(run_dir)!r}")
    start = read_card(record["checkpoint"])
    env, fmt, seed, n_eval = record["env"], record["format"], record["seed"], record["n_eval"]
    max_new = record.get("max_new_tokens", start.get("max_new_tokens", 512))
    model = stored_copy(load_model(run_dir / "model"), dtype)
    tokenizer = load_tokenizer(run_dir / "model")
    data = build_dataset(env, TRACE_ALGORITHM[env], fmt, 0, 0, n_eval, n_eval, seed=seed,
                         env_kwargs=env_kwargs_for(env, record["size"],
                                                   start.get("number_range")))
    report = evaluate_dataset(model, tokenizer, data, splits=["test", record["heldout_split"]],
                              max_new_tokens=max_new, seed=seed)
    card = {
        **{k: start[k] for k in ("size", "number_range", "model_size") if k in start},
        "command": record["command"], "seed": seed, "hardware": record["hardware"],
        "date": record["date"], "train_seconds": record["train"]["wall_seconds"],
        "parameters": record["parameters"], "env": env, "format": fmt,
        "heldout_split": record["heldout_split"], "n_eval": n_eval, "max_new_tokens": max_new,
        "rl_from": record["checkpoint"], "reward": record["config"]["reward"],
        "rl_steps": record["train"]["steps"],
        "scores": score_fields(report.summary(by="split")),
    }
    export_checkpoint(model, tokenizer, Path(root) / name, card, dtype)
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "results.json", Path(results_dir) / f"{name}.json")
    return read_card(Path(root) / name)


def main(argv: Sequence[str] | None = None, prog: str = "metacot rl") -> int:
    """Run the experiment; bad values are usage errors (exit status 2)."""
    p = parser(prog)
    args = list(sys.argv[1:] if argv is None else argv)
    ns = p.parse_args(args)
    try:
        settings = plan(ns)
        if ns.before_from:
            reused_before(ns.before_from, settings, ns)
    except (ValueError, FileNotFoundError, KeyError) as error:
        p.error(str(error))
    run(ns, f"{prog} " + shlex.join(args), settings)
    return 0
