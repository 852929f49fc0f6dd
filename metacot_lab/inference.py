"""Batched generation with the KV cache: greedy or sampled, ``n`` samples per prompt.

Prompts are left-padded (so every row's next token sits at the same position), sorted by
length into batches to waste little padding, and generated with ``model.generate`` until
``<eos>`` or ``max_new_tokens``. Sampling is deterministic by ``seed`` for the same prompts,
batch size and hardware, and leaves the global random state alone.

The KV cache is ``transformers``' dynamic cache, which grows by concatenation at every
step, or its static cache, allocated once for the prompt plus ``max_new_tokens``. On a CPU
the concatenation dominates long generations: the shipped 5M Countdown-4 search model
generating 64 traces of up to 1,024 tokens took 145 s with the dynamic cache and 44 s with
the static one, with the same greedy tokens (2-core AMD EPYC); for short answers the static
cache is slower (0.8 s and 2.5 s for 64 solutions under the same limit), since every step
attends over the whole allocation. ``cache="auto"`` takes the static cache from
:data:`STATIC_CACHE_FROM` new tokens on (``benchmarks/decoding.py`` measures both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from .config import MAX_SEED
from .validation import check_choice, check_float, check_int

GENERATION_BATCH = 64  # default sequences per forward pass of generate (a GPU takes more)
STATIC_CACHE_FROM = 256  # cache="auto" uses the static KV cache from this max_new_tokens on
CACHES = ("auto", "dynamic", "static")


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
    ``"dynamic"``, ``"static"`` or ``"auto"`` (see the module docstring)."""
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
    static = cache == "static" or (cache == "auto" and max_new_tokens >= STATIC_CACHE_FROM)
    # no torch.compile behind our back (transformers compiles static-cache decoding on a GPU)
    caching = {"cache_implementation": "static", "disable_compile": True} if static else {}
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        if temperature > 0 else {"do_sample": False, "temperature": None, "top_p": None,
                                 "top_k": None}
    )
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    check_context(model, max((len(x) for x in encoded), default=0), max_new_tokens)
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
                out = _generate_batch(model, tokenizer, [encoded[i] for i in rows],
                                      max_new_tokens, n, sampling | caching)
                for j, i in enumerate(rows):
                    results[i] = out[j * n:(j + 1) * n]
    finally:
        model.train(was_training)
    return results


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


def _generate_batch(
    model: Any, tokenizer: PreTrainedTokenizerBase, ids: list[list[int]], max_new_tokens: int,
    n: int, sampling: dict[str, Any],
) -> list[Generation]:
    width = max(len(x) for x in ids)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=model.device)
    mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=model.device)
    out = model.generate(
        input_ids=input_ids,
        attention_mask=mask,
        max_new_tokens=max_new_tokens,
        num_return_sequences=n,
        eos_token_id=eos,
        pad_token_id=pad,
        use_cache=True,
        **sampling,
    )
    gens = []
    for row in out[:, width:].tolist():
        finished = eos in row
        row = row[:row.index(eos) + 1] if finished else row
        text = tokenizer.decode(row, skip_special_tokens=True)
        gens.append(Generation(text=text, tokens=len(row), finished=finished))
    return gens
