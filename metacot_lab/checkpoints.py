"""Trained checkpoints shipped in ``data/checkpoints/``: export, describe and load them.

A checkpoint is a folder written by :func:`export_checkpoint`: the model as
``save_pretrained`` writes it (weights stored in float16 to halve the size; loaded back as
float32) or, for a LoRA run, only the adapter, plus the tokenizer and ``card.json``. The card
says how the model was made and how it scores: ``command``, ``seed``, ``train_seconds``,
``hardware``, ``date``, ``env``, ``format``, ``heldout_split`` and ``scores`` (per split:
``solve_rate``, ``valid_rate``, ``optimal_rate``, ``tokens``) measured on the stored
weights; an adapter's card names its ``base`` checkpoint. Notebooks load these instead of
training in quick mode::

    model, tokenizer = load_checkpoint("countdown4-metacot")
    read_card("countdown4-metacot")["scores"]["test_heldout_targets"]["solve_rate"]

A run of ``benchmarks/sft_experiment.py`` becomes a shipped checkpoint with
``metacot checkpoint export runs/cd4/metacot countdown4-metacot`` (:func:`export_run`),
which scores the stored weights again and copies the run's ``results.json`` to
``data/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from .config import DATA_DIR
from .models import load_model, load_tokenizer, save_model

CHECKPOINT_DIR: Path = DATA_DIR / "checkpoints"
RESULTS_DIR: Path = DATA_DIR / "results"
CARD = "card.json"
CARD_FIELDS: tuple[str, ...] = (
    "command", "seed", "train_seconds", "hardware", "date", "env", "format",
    "heldout_split", "scores",
)
"""Fields every card must have (:func:`export_checkpoint` refuses a card without them)."""
STORED_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                 "float32": torch.float32}


def available_checkpoints(root: str | os.PathLike = CHECKPOINT_DIR) -> list[str]:
    """Names of the checkpoints under ``root`` (folders holding a card), sorted."""
    root = Path(root)
    return sorted(p.parent.name for p in root.glob(f"*/{CARD}")) if root.is_dir() else []


def checkpoint_path(name: str | os.PathLike, root: str | os.PathLike = CHECKPOINT_DIR) -> Path:
    """The folder of checkpoint ``name`` (a name under ``root``, or a path to a folder)."""
    path = Path(name)
    if not (path / CARD).is_file():
        path = Path(root) / str(name)
    if not (path / CARD).is_file():
        raise ValueError(f"name must be a checkpoint in {Path(root)} or a folder with a "
                         f"{CARD}; got {str(name)!r}; available: {available_checkpoints(root)}")
    return path


def read_card(name: str | os.PathLike, root: str | os.PathLike = CHECKPOINT_DIR) -> dict:
    """The card of checkpoint ``name`` (see the module docstring)."""
    return json.loads((checkpoint_path(name, root) / CARD).read_text())


def load_checkpoint(
    name: str | os.PathLike, device: str | None = None, root: str | os.PathLike = CHECKPOINT_DIR
) -> tuple[Any, PreTrainedTokenizerBase]:
    """``(model, tokenizer)`` of checkpoint ``name``, float32, in eval mode. An adapter
    checkpoint comes back as a ``peft.PeftModel`` on its base checkpoint (a chain of bases
    that returns to a checkpoint already in it is a ``ValueError``)."""
    return _load(name, device, root, ())


def _load(name: str | os.PathLike, device: str | None, root: str | os.PathLike,
          chain: tuple[Path, ...]) -> tuple[Any, PreTrainedTokenizerBase]:
    path = checkpoint_path(name, root)
    if path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, path.resolve()))
        raise ValueError(f"base of checkpoint {chain[-1].name!r} must not lead back to "
                         f"itself: {names}")
    if (path / "adapter_config.json").is_file():
        from peft import PeftModel

        card = read_card(path)
        if "base" not in card:
            raise ValueError(f"card of adapter checkpoint {path.name!r} must name its base")
        base, tokenizer = _load(card["base"], device, root, (*chain, path.resolve()))
        model = PeftModel.from_pretrained(base, path)
        return model.eval(), tokenizer
    return load_model(path, device), load_tokenizer(path)


def export_checkpoint(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    path: str | os.PathLike,
    card: dict[str, Any],
    dtype: str = "float16",
) -> Path:
    """Write ``model`` (weights stored as ``dtype``; a ``peft`` model: its adapter only),
    ``tokenizer`` and ``card`` to ``path``. ``card`` must hold :data:`CARD_FIELDS` (an
    adapter's card also ``base``) and its scores must be those of the stored weights:
    evaluate the model that :func:`load_checkpoint` returns, not the one trained. An
    adapter's ``adapter_config.json`` (and ``peft``'s ``README.md``) name its base by the
    card's ``base`` (not by a local path), which :func:`load_checkpoint` looks up in the
    same folder."""
    missing = [f for f in CARD_FIELDS if f not in card]
    is_adapter = hasattr(model, "peft_config")
    if is_adapter and "base" not in card:
        missing.append("base")
    if missing:
        raise ValueError(f"card is missing the fields {missing}; a card needs {CARD_FIELDS}")
    if dtype not in STORED_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(STORED_DTYPES)}, got {dtype!r}")
    if is_adapter:
        with _base_named(model, card["base"]):
            path = save_model(model, path, tokenizer)
    else:
        path = save_model(copy.deepcopy(model).to(STORED_DTYPES[dtype]), path, tokenizer)
    card = dict(card, stored_dtype="float32" if is_adapter else dtype)
    (path / CARD).write_text(json.dumps(card, indent=1, sort_keys=True, default=str) + "\n")
    (path / CARD).chmod(0o644)
    return path


@contextmanager
def _base_named(model: Any, name: str) -> Iterator[None]:
    """Name a ``peft`` model's base ``name`` (the base checkpoint, not the local folder it
    was loaded from) in its adapter configs and in what ``peft``'s README.md reads (its
    base_model and tags), and give the caller's names back on leaving."""
    configs = list(model.peft_config.values())
    base = model.get_base_model()
    before = [c.base_model_name_or_path for c in configs], base.name_or_path
    for config in configs:
        config.base_model_name_or_path = name
    base.name_or_path = base.config._name_or_path = name
    try:
        yield
    finally:
        for config, old in zip(configs, before[0], strict=True):
            config.base_model_name_or_path = old
        base.name_or_path = base.config._name_or_path = before[1]


def stored_copy(model: Any, dtype: str = "float16") -> Any:
    """A float32 copy of ``model`` with its weights rounded to ``dtype``: exactly the model
    :func:`load_checkpoint` returns after :func:`export_checkpoint` stored it as ``dtype``.
    Only parameters are rounded: buffers that are not stored (RoPE's frequencies) are
    computed again in float32 on loading."""
    if dtype not in STORED_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(STORED_DTYPES)}, got {dtype!r}")
    stored = copy.deepcopy(model).to(torch.float32).eval()
    with torch.no_grad():
        for param in stored.parameters():
            param.copy_(param.to(STORED_DTYPES[dtype]))
    return stored


def export_run(
    run_dir: str | os.PathLike,
    name: str,
    root: str | os.PathLike = CHECKPOINT_DIR,
    results_dir: str | os.PathLike = RESULTS_DIR,
    dtype: str = "float16",
) -> dict[str, Any]:
    """Ship one format's run of ``benchmarks/sft_experiment.py`` (``run_dir`` holds
    ``results.json`` and ``model/``) as checkpoint ``name``: the weights stored as ``dtype``
    are evaluated again on the run's test and held-out problems (same settings, greedy, the
    run's generation batch size), the card records those scores next to the run's own, and
    ``results.json`` is copied to ``results_dir/<name>.json``. Returns the card. A run of
    ``metacot rl`` is shipped by :func:`metacot_lab.rl_experiment.export_rl_run`, its
    record copied to ``results_dir/rl/<name>.json``."""
    from .data import HELDOUT_SPLIT, TRACE_ALGORITHM, build_dataset, env_kwargs_for
    from .evaluate import evaluate_dataset
    from .inference import GENERATION_BATCH

    run_dir = Path(run_dir)
    if not (run_dir / "results.json").is_file() or not (run_dir / "model").is_dir():
        raise ValueError(f"run_dir must hold results.json and model/, got {str(run_dir)!r}")
    if not name or Path(name).name != name:
        raise ValueError(f"name must be a plain folder name, got {name!r}")
    results = json.loads((run_dir / "results.json").read_text())
    if "args" not in results and "before" in results:  # an RL record
        from .rl_experiment import export_rl_run

        return export_rl_run(run_dir, name, root, Path(results_dir) / "rl", dtype)
    args = results["args"]
    env, fmt, seed = args["env"], args["format"], args["seed"]
    heldout = HELDOUT_SPLIT[env]
    model = stored_copy(load_model(run_dir / "model"), dtype)
    tokenizer = load_tokenizer(run_dir / "model")
    data = build_dataset(env, TRACE_ALGORITHM[env], fmt, 0, 0, args["n_eval"], args["n_eval"],
                         seed=seed, num_proc=args.get("num_proc", 1),
                         env_kwargs=env_kwargs_for(env, args["size"], args.get("number_range")))
    report = evaluate_dataset(model, tokenizer, data, splits=["test", heldout],
                              max_new_tokens=args["max_new_tokens"],
                              batch_size=args.get("eval_batch_size", GENERATION_BATCH),
                              seed=seed)
    card = {
        "command": results["command"], "seed": seed, "hardware": results["hardware"],
        "date": results["date"], "train_seconds": results["train"]["wall_seconds"],
        "tokens_seen": results["train"]["tokens_seen"], "parameters": results["parameters"],
        "env": env, "size": args["size"], "number_range": args.get("number_range"),
        "format": fmt, "model_size": args["model_size"], "heldout_split": heldout,
        "n_eval": args["n_eval"], "max_new_tokens": args["max_new_tokens"],
        "scores": score_fields(report.summary(by="split")),
        "scores_before_rounding": {r["split"]: _pick(r) for r in results["summary_by_split"]},
    }
    export_checkpoint(model, tokenizer, Path(root) / name, card, dtype)
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "results.json", Path(results_dir) / f"{name}.json")
    return read_card(Path(root) / name)


def cards_markdown(root: str | os.PathLike = CHECKPOINT_DIR) -> str:
    """One markdown entry per checkpoint under ``root``, from its card: how it was made
    (command, seed, training time and tokens, hardware, date) and its held-out and test
    scores (solve rate, valid-trace rate, % optimal for mazes, tokens generated)."""
    entries = []
    for name in available_checkpoints(root):
        card = read_card(name, root)
        scores = [_score_text(split, card["scores"].get(split, {}))
                  for split in (card["heldout_split"], "test")]
        made = (f"seed {card['seed']}, {card['train_seconds'] / 60:.1f} min training"
                + (f" on {card['tokens_seen'] / 1e6:.1f}M tokens" if "tokens_seen" in card
                   else "") + f", {card['hardware']}, {card['date']}")
        base = f" (LoRA adapter on `{card['base']}`)" if "base" in card else ""
        if "rl_from" in card:
            base = (f" (GRPO from `{card['rl_from']}`, reward `{card['reward']}`, "
                    f"{card['rl_steps']} steps)")
        entries.append(f"* **`{name}`**{base}: {'; '.join(scores)}. {made}.\n"
                       f"  `{card['command']}`")
    return "\n".join(entries) + "\n"


def _score_text(split: str, scores: dict[str, Any]) -> str:
    parts = [f"{split} solved {scores.get('solve_rate', float('nan')):.1%}"]
    if scores.get("optimal_rate") is not None:
        parts.append(f"optimal {scores['optimal_rate']:.1%}")
    if scores.get("tokens") is not None:
        parts.append(f"{scores['tokens']:.0f} tokens/problem")
    return ", ".join(parts)


SCORE_FIELDS = ("solve_rate", "valid_rate", "optimal_rate", "tokens", "problems")


def _pick(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v is None or v != v else v) for k, v in row.items() if k in SCORE_FIELDS}


def score_fields(summary: Any) -> dict[str, dict[str, Any]]:
    """A card's ``scores``: the :data:`SCORE_FIELDS` of each split's row of
    ``EvalReport.summary(by="split")``, NaN written as ``None``."""
    return {split: _pick(row) for split, row in summary.to_dict(orient="index").items()}


def main(argv: Sequence[str] | None = None, prog: str = "metacot checkpoint") -> int:
    """``metacot checkpoint export RUN_DIR NAME`` (:func:`export_run`) and
    ``metacot checkpoint cards`` (:func:`cards_markdown`)."""
    parser = argparse.ArgumentParser(prog=prog, description="ship trained checkpoints")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="a sft_experiment or metacot rl run folder -> "
                            "data/checkpoints")
    export.add_argument("run_dir", help="e.g. runs/cd4/metacot (results.json and model/)")
    export.add_argument("name", help="checkpoint name, e.g. countdown4-metacot")
    export.add_argument("--root", default=str(CHECKPOINT_DIR))
    export.add_argument("--results-dir", default=str(RESULTS_DIR))
    export.add_argument("--dtype", default="float16", choices=sorted(STORED_DTYPES))
    table = sub.add_parser("cards", help="print every card as markdown (for READMEs)")
    table.add_argument("--root", default=str(CHECKPOINT_DIR))
    ns = parser.parse_args(argv)
    if ns.command == "cards":
        print(cards_markdown(ns.root), end="")
        return 0
    try:
        card = export_run(ns.run_dir, ns.name, ns.root, ns.results_dir, ns.dtype)
    except ValueError as err:
        parser.error(str(err))  # a usage error: the message, exit status 2, no traceback
    print(json.dumps(card["scores"], indent=1))
    return 0
