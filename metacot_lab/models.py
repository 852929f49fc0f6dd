"""Tiny Llama-style causal language models built from a config, and any hub model by name.

The course trains its models from scratch on search traces, so a model is a
``transformers`` :class:`~transformers.LlamaConfig` sized by name (:data:`MODEL_SIZES`) with
the vocabulary and special tokens of our small tokenizer. Everything runs offline; users
with internet and a GPU can load any causal LM from the Hugging Face hub by name instead
(:func:`load_hub_model`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from .config import DEVICES, MAX_SEED
from .validation import check_choice, check_int

hf_logging.disable_progress_bar()  # "Loading weights" bars on every save/load clutter notebooks


@dataclass(frozen=True)
class ModelSize:
    """The shape of a tiny Llama. Parameters per layer are about
    ``4 * hidden**2`` (attention) ``+ 3 * hidden * intermediate`` (SwiGLU MLP)."""

    hidden: int  # width of the residual stream
    layers: int  # transformer blocks: depth bounds how many sequential steps fit in a pass
    heads: int  # attention heads; head_dim = hidden // heads
    intermediate: int  # SwiGLU MLP width
    max_positions: int = 2048  # RoPE context; no parameters, only the longest trace matters


MODEL_SIZES: dict[str, ModelSize] = {
    # 1.05M parameters: STACK.md's 17k tokens/s plain-loop reference model. head_dim 32 and
    # an MLP 4x wide as in GPT-2; trains in minutes, learns formats, rarely search.
    "1m": ModelSize(hidden=128, layers=4, heads=4, intermediate=512),
    # 5.25M parameters: STACK.md's 4.2M model (58% on Countdown-3) with a fifth layer, since
    # depth is what checking arithmetic and goals inside one forward pass needs.
    "5m": ModelSize(hidden=256, layers=5, heads=4, intermediate=1024),
    # 18.9M parameters: head_dim 64 as in most Llamas; for GPUs or long CPU runs.
    "20m": ModelSize(hidden=384, layers=8, heads=6, intermediate=1536),
}
"""Named model sizes. Counts above are without embeddings, which add vocabulary x hidden
(tied input/output): 8k-25k parameters for a 64-token vocabulary."""


def model_config(size: str | ModelSize, tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    """A :class:`LlamaConfig` of ``size`` with ``tokenizer``'s vocabulary and special tokens."""
    spec = _size(size)
    for name in ("pad_token_id", "eos_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise ValueError(f"tokenizer must define {name} (a <pad> and an <eos> token)")
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,  # plain multi-head attention: no GQA at this size
        intermediate_size=spec.intermediate,
        max_position_embeddings=spec.max_positions,
        tie_word_embeddings=True,  # input and output embeddings shared, as in GPT-2
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_model(
    size: str | ModelSize, tokenizer: PreTrainedTokenizerBase, seed: int = 0
) -> LlamaForCausalLM:
    """A freshly initialized tiny Llama; the same ``seed`` gives the same weights, and the
    global random state is left as it was."""
    check_int("seed", seed, 0, MAX_SEED)
    config = model_config(size, tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id = tokenizer.bos_token_id, tokenizer.eos_token_id
    gen.pad_token_id = tokenizer.pad_token_id
    return model


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """The number of (distinct) parameters of ``model``; tied weights count once."""
    params = {id(p): p for p in model.parameters() if p.requires_grad or not trainable_only}
    return sum(p.numel() for p in params.values())


def save_model(
    model: Any, path: str | os.PathLike, tokenizer: PreTrainedTokenizerBase | None = None
) -> Path:
    """Save ``model`` (and ``tokenizer``) with ``save_pretrained``; files get mode 0644.
    A ``peft`` model's adapter config lists its set-valued fields sorted, so equal models
    give equal bytes."""
    path = Path(path)
    with _sets_sorted(getattr(model, "peft_config", {}).values()):
        model.save_pretrained(path)
    if tokenizer is not None:
        tokenizer.save_pretrained(path)
    for file in path.rglob("*"):
        if file.is_file():
            file.chmod(0o644)  # safetensors are written 0600; shipped checkpoints must be readable
    return path


@contextmanager
def _sets_sorted(configs: Any) -> Iterator[None]:
    """Give the set-valued fields of ``peft`` configs (``target_modules``) as sorted lists
    while inside: ``peft`` writes a set as ``list(set)``, whose order changes with the
    process's string-hash seed. The sets are put back on leaving."""
    swapped = [(c, k, v) for c in configs for k, v in vars(c).items() if isinstance(v, set)]
    for config, key, value in swapped:
        setattr(config, key, sorted(value))
    try:
        yield
    finally:
        for config, key, value in swapped:
            setattr(config, key, value)


def load_model(path: str | os.PathLike, device: str | None = None) -> Any:
    """Load a model saved by :func:`save_model` (float32, eval mode) onto ``device``."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise ValueError(f"path must be a folder written by save_model, got {str(path)!r}")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    if device is not None:
        model.to(check_choice("device", device, DEVICES))
    return model.eval()


def load_tokenizer(path: str | os.PathLike) -> PreTrainedTokenizerBase:
    """Load the tokenizer saved next to a model by :func:`save_model`."""
    return AutoTokenizer.from_pretrained(Path(path))


def load_hub_model(name: str, dtype: Any = "auto", **kwargs: Any) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` of any causal LM on the Hugging Face hub by ``name``.

    A cached model loads without network. Otherwise the hub must be reachable: with
    ``HF_HUB_OFFLINE=1`` or no connection this raises ``RuntimeError`` at once instead of
    retrying for a minute.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a hub model id such as 'gpt2', got {name!r}")
    try:
        return _load_hub(name, dtype, local_files_only=True, **kwargs)
    except OSError:
        pass  # not cached: download below if we can
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        reason = "HF_HUB_OFFLINE=1 is set"
    elif not _reachable(constants.ENDPOINT):
        reason = f"{constants.ENDPOINT} cannot be reached"
    else:
        return _load_hub(name, dtype, **kwargs)
    raise RuntimeError(
        f"hub model {name!r} is not in the local cache and {reason}: loading it needs internet "
        "(or download it once elsewhere into the Hugging Face cache). Offline, use "
        "build_model(size, tokenizer) or load_model(path) instead."
    )


def _load_hub(name: str, dtype: Any, **kwargs: Any) -> tuple[Any, Any]:
    tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype, **kwargs)
    if tokenizer.pad_token is None:  # most causal LMs have none; batching needs one
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _reachable(url: str, timeout: float = 3.0) -> bool:
    parts = urlparse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _size(size: str | ModelSize) -> ModelSize:
    if isinstance(size, ModelSize):
        spec = size
    else:
        spec = MODEL_SIZES[check_choice("size", size, tuple(MODEL_SIZES))]
    check_int("hidden", spec.hidden, 8, 65_536)
    check_int("layers", spec.layers, 1, 1_000)
    check_int("heads", spec.heads, 1, spec.hidden)
    check_int("intermediate", spec.intermediate, 1, 1_000_000)
    check_int("max_positions", spec.max_positions, 16, 1_000_000)
    if spec.hidden % spec.heads:
        raise ValueError(f"heads must divide hidden={spec.hidden}, got heads={spec.heads}")
    return spec
