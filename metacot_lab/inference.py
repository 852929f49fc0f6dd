"""Batched generation with the KV cache: greedy or sampled, ``n`` samples per prompt.

Prompts are left-padded (so every row's next token sits at the same position), sorted by
length into batches to waste little padding, and generated with ``model.generate`` until
``<eos>`` or ``max_new_tokens``. Sampling is deterministic by ``seed`` for the same prompts,
batch size and hardware, and leaves the global random state alone.

The KV cache is kept one of three ways (``cache``). ``"compact"`` is the course's own
decoding loop (:mod:`metacot_lab.decoding`): buffers allocated once, attended only up to the
positions written, and rows that have finished leave the batch; it runs Llama-style models
(the course's, or LoRA on them). ``"dynamic"`` and ``"static"`` are ``model.generate`` with
``transformers``' dynamic cache (grows by concatenation at every step) or its static one
(allocated once, every step attends over the whole allocation). Greedy decoding gives the
same tokens all three ways. Measured on the shipped 5M Countdown-4 search model, 64 traces
of up to 1,024 tokens on a 2-core AVX2 AMD EPYC: dynamic 232 s, static 63 s, compact 29 s
(``benchmarks/decoding.py``). ``cache="auto"`` takes ``"compact"`` where the model allows it,
else the static cache from :data:`STATIC_CACHE_FROM` new tokens on (for short answers the
static cache is slower than the dynamic one, since it attends over its whole allocation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from . import decoding
from .config import MAX_SEED
from .validation import check_choice, check_float, check_int

GENERATION_BATCH = 64  # default sequences per forward pass of generate (a GPU takes more)
STATIC_CACHE_FROM = 256  # cache="auto" without the compact loop: static from this many new tokens
CACHES = ("auto", "compact", "dynamic", "static")


@dataclass(frozen=True)
class Generation:
    """One sampled completion."""

    text: str  # decoded, special tokens stripped
    tokens: int  # tokens generated, the <eos> included when reached
    finished: bool  # stopped at <eos> (False: cut at max_new_tokens)


def generate(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 256,
    n: int = 1,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int = 0,
    batch_size: int = GENERATION_BATCH,
    progress: bool = False,
    cache: str = "auto",
) -> list[list[Generation]]:
    """``n`` completions of each prompt (greedy when ``temperature`` is 0), in prompt order;
    ``batch_size`` counts sequences (prompts times ``n``) per forward pass; ``cache`` is
    one of :data:`CACHES` (see the module docstring)."""
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise ValueError("prompts must be a sequence of strings")
    check_int("max_new_tokens", max_new_tokens, 1, 1 << 20)
    check_int("n", n, 1, 1 << 16)
    check_float("temperature", temperature, 0.0, 100.0)
    check_float("top_p", top_p, 1e-6, 1.0)
    check_int("seed", seed, 0, MAX_SEED)
    check_int("batch_size", batch_size, 1, 1 << 20)
    check_choice("cache", cache, CACHES)
    if n > 1 and temperature == 0:
        raise ValueError("n > 1 samples need temperature > 0 (greedy decoding repeats itself)")
    if tokenizer.eos_token_id is None or tokenizer.pad_token_id is None:
        raise ValueError("tokenizer must define eos_token and pad_token")
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    check_context(model, max((len(x) for x in encoded), default=0), max_new_tokens)
    decoder = _decoder(model, tokenizer, cache, max_new_tokens, temperature, top_p, seed)
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    per_batch = max(1, batch_size // n)
    results: list[list[Generation]] = [[] for _ in prompts]
    device = model.device
    was_training = model.training
    model.eval()
    rng_devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=rng_devices), torch.inference_mode():
            torch.manual_seed(seed)
            batches = range(0, len(order), per_batch)
            for start in tqdm(batches, desc="generate", disable=not progress):
                rows = order[start:start + per_batch]
                out = decoder([encoded[i] for i in rows for _ in range(n)])
                for j, i in enumerate(rows):
                    results[i] = [_generation(tokenizer, ids) for ids in out[j * n:(j + 1) * n]]
    finally:
        model.train(was_training)
    return results


def resolve_cache(model: Any, cache: str, max_new_tokens: int) -> str:
    """The cache ``cache="auto"`` stands for with ``model`` (any other choice is itself):
    ``"compact"`` where :mod:`metacot_lab.decoding` runs the model, else ``"static"`` from
    :data:`STATIC_CACHE_FROM` new tokens on, else ``"dynamic"``."""
    check_choice("cache", cache, CACHES)
    if cache != "auto":
        return cache
    if decoding.supports(model):
        return "compact"
    return "static" if max_new_tokens >= STATIC_CACHE_FROM else "dynamic"


Decoder = Callable[[list[list[int]]], list[list[int]]]


def _decoder(model: Any, tokenizer: PreTrainedTokenizerBase, cache: str, max_new_tokens: int,
             temperature: float, top_p: float, seed: int) -> Decoder:
    """A function from a batch of prompt ids to the ids generated after each."""
    cache = resolve_cache(model, cache, max_new_tokens)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    if cache == "compact":
        if not decoding.supports(model):
            raise ValueError(f"cache 'compact' runs Llama-style models only, got "
                             f"{type(model).__name__}; use cache='static' or 'dynamic'")
        generator = torch.Generator(device=model.device).manual_seed(seed)
        return partial(decoding.decode, model, max_new_tokens=max_new_tokens, eos_id=eos,
                       pad_id=pad, temperature=temperature, top_p=top_p, generator=generator)
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        if temperature > 0 else {"do_sample": False, "temperature": None, "top_p": None,
                                 "top_k": None}
    )
    # no torch.compile behind our back (transformers compiles static-cache decoding on a GPU)
    caching = {"cache_implementation": "static", "disable_compile": True} \
        if cache == "static" else {}
    return partial(_generate_batch, model, pad, eos, max_new_tokens, sampling | caching)


def check_context(model: Any, prompt_tokens: int, max_new_tokens: int) -> None:
    """A ``ValueError`` when a prompt of ``prompt_tokens`` plus ``max_new_tokens`` would run
    past the model's positions (``config.max_position_embeddings``, where the model has one): past
    them lie positions the model was never trained on."""
    positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(positions, int) and prompt_tokens + max_new_tokens > positions:
        raise ValueError(
            f"max_new_tokens must be at most {positions - prompt_tokens} here: the model has "
            f"{positions} positions and the longest prompt takes {prompt_tokens}; got "
            f"{max_new_tokens}"
        )


def _generate_batch(model: Any, pad: int, eos: int, max_new_tokens: int,
                    options: dict[str, Any], ids: list[list[int]]) -> list[list[int]]:
    """``model.generate`` on one batch; the ids after each prompt, cut after ``eos``."""
    width = max(len(x) for x in ids)
    input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=model.device)
    mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=model.device)
    out = model.generate(input_ids=input_ids, attention_mask=mask,
                         max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=pad,
                         use_cache=True, **options)
    rows = out[:, width:].tolist()
    return [row[:row.index(eos) + 1] if eos in row else row for row in rows]


def _generation(tokenizer: PreTrainedTokenizerBase, ids: list[int]) -> Generation:
    finished = bool(ids) and ids[-1] == tokenizer.eos_token_id
    return Generation(text=tokenizer.decode(ids, skip_special_tokens=True), tokens=len(ids),
                      finished=finished)
