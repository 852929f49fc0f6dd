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
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from .config import DATA_DIR
from .models import load_model, load_tokenizer, save_model

CHECKPOINT_DIR: Path = DATA_DIR / "checkpoints"
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
    checkpoint comes back as a ``peft.PeftModel`` on its base checkpoint."""
    path = checkpoint_path(name, root)
    if (path / "adapter_config.json").is_file():
        from peft import PeftModel

        base_name = read_card(path)["base"]
        base, tokenizer = load_checkpoint(base_name, device, root)
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
    evaluate the model that :func:`load_checkpoint` returns, not the one trained."""
    missing = [f for f in CARD_FIELDS if f not in card]
    is_adapter = hasattr(model, "peft_config")
    if is_adapter and "base" not in card:
        missing.append("base")
    if missing:
        raise ValueError(f"card is missing the fields {missing}; a card needs {CARD_FIELDS}")
    if dtype not in STORED_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(STORED_DTYPES)}, got {dtype!r}")
    stored = model if is_adapter else copy.deepcopy(model).to(STORED_DTYPES[dtype])
    path = save_model(stored, path, tokenizer)
    card = dict(card, stored_dtype="float32" if is_adapter else dtype)
    (path / CARD).write_text(json.dumps(card, indent=1, sort_keys=True, default=str) + "\n")
    (path / CARD).chmod(0o644)
    return path
