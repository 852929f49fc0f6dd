"""A small decoding loop for Llama-style models: static KV buffers, finished rows dropped.

``model.generate`` is general; at the course's sizes its generality is the cost. A 5M
Llama's forward pass for one new token is ~10 MFLOP, so on a CPU a decoding step of
``generate`` is mostly its own bookkeeping (masks, cache objects, logits processors,
stopping criteria), and a row that has written ``<eos>`` keeps being computed until the
longest row of its batch ends. This loop does the same arithmetic with less around it:

* the prompt is run once through the model's own forward (as ``generate`` does);
* every layer's keys and values go into buffers allocated once for the prompt plus
  ``max_new_tokens``, and each step attends only over the positions written so far;
* each step calls the model's own modules (norms, projections, rotary embedding, MLP), so
  a LoRA-wrapped projection decodes with its adapter;
* a row that has written ``<eos>`` leaves the batch: the last active row moves into its
  place in the buffers, so later steps compute only rows still writing.

Greedy decoding gives ``generate``'s tokens (``benchmarks/decoding.py`` checks it on a
shipped model; the tests on small random ones). Sampling draws from the same distribution
(logits divided by the temperature, top-p as ``transformers`` filters it, no top-k) but not
the same random numbers, since finished rows stop drawing; it is deterministic by the
``generator`` for the same prompts, batch size and hardware.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers.models.llama.modeling_llama import LlamaForCausalLM, rotate_half


def supports(model: Any) -> bool:
    """Whether :func:`decode` can run ``model``: a ``transformers`` Llama (or a ``peft``
    model around one) with the default rotary embedding."""
    base = _base(model)
    if not isinstance(base, LlamaForCausalLM):
        return False
    rope = getattr(base.config, "rope_parameters", None) or {}
    return rope.get("rope_type", "default") == "default"


@torch.inference_mode()
def decode(
    model: Any,
    prompts: list[list[int]],
    *,
    max_new_tokens: int,
    eos_id: int,
    pad_id: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
) -> list[list[int]]:
    """The tokens generated after each prompt of token ids (one batch): up to and with the
    first ``eos_id``, or ``max_new_tokens`` of them. Greedy when ``temperature`` is 0."""
    lm = _base(model)
    core, config = lm.model, lm.config
    device = lm.device
    rows, width = len(prompts), max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                        device=device)
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)  # as generate numbers them
    prefill = lm(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    cache = KVBuffers(prefill.past_key_values, rows, width + max_new_tokens, mask)
    logits = prefill.logits[:, -1, :].float()
    order = list(range(rows))  # order[slot]: the prompt whose row sits in buffer slot
    position = positions[:, -1] + 1
    out: list[list[int]] = [[] for _ in prompts]
    for step in range(max_new_tokens):
        tokens = _next_tokens(logits, temperature, top_p, generator)
        finished = []
        for slot, token in enumerate(tokens.tolist()):
            out[order[slot]].append(token)
            if token == eos_id:
                finished.append(slot)
        if step == max_new_tokens - 1 or len(finished) == len(order):
            break
        for slot in reversed(finished):  # highest first: a moved row is never a finished one
            last = len(order) - 1
            if slot != last:
                cache.move(last, slot)
                order[slot] = order[last]
                tokens[slot], position[slot] = tokens[last], position[last]
            order.pop()
        active = len(order)
        logits = _step(lm, core, config, cache, tokens[:active], position[:active])
        position = position + 1
    return out


class KVBuffers:
    """Keys and values of every layer in buffers of ``[rows, heads, length, head_dim]``,
    filled from a prompt's cache; ``length`` counts positions written, ``attend`` masks the
    prompt's padding."""

    def __init__(self, cache: Any, rows: int, capacity: int, mask: torch.Tensor) -> None:
        first = cache.layers[0].keys
        shape = (rows, first.shape[1], capacity, first.shape[3])
        self.keys = [first.new_zeros(shape) for _ in cache.layers]
        self.values = [first.new_zeros(shape) for _ in cache.layers]
        width = first.shape[2]
        for layer, k, v in zip(cache.layers, self.keys, self.values, strict=True):
            k[:, :, :width] = layer.keys
            v[:, :, :width] = layer.values
        self.attend = torch.ones(rows, 1, 1, capacity, dtype=torch.bool, device=mask.device)
        self.attend[:, 0, 0, :width] = mask.bool()
        self.length = width

    def move(self, source: int, target: int) -> None:
        """Copy row ``source``'s positions so far into row ``target``."""
        n = self.length
        for buffer in (*self.keys, *self.values):
            buffer[target, :, :n] = buffer[source, :, :n]
        self.attend[target] = self.attend[source]


def _step(lm: Any, core: Any, config: Any, cache: KVBuffers, tokens: torch.Tensor,
          position: torch.Tensor) -> torch.Tensor:
    """One new token per active row through every layer; returns the next logits."""
    active, at = tokens.shape[0], cache.length
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    hidden = core.embed_tokens(tokens[:, None])
    cos, sin = core.rotary_emb(hidden, position[:, None])
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    attend = cache.attend[:active, :, :, :at + 1]
    for layer, keys, values in zip(core.layers, cache.keys, cache.values, strict=True):
        attn = layer.self_attn
        x = layer.input_layernorm(hidden)
        q = attn.q_proj(x).view(active, 1, heads, -1).transpose(1, 2)
        k = attn.k_proj(x).view(active, 1, kv_heads, -1).transpose(1, 2)
        v = attn.v_proj(x).view(active, 1, kv_heads, -1).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        keys[:active, :, at:at + 1] = k * cos + rotate_half(k) * sin
        values[:active, :, at:at + 1] = v
        a = F.scaled_dot_product_attention(
            q, keys[:active, :, :at + 1], values[:active, :, :at + 1], attn_mask=attend,
            scale=attn.scaling, enable_gqa=heads != kv_heads)
        hidden = hidden + attn.o_proj(a.transpose(1, 2).reshape(active, 1, -1))
        hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
    cache.length = at + 1
    return lm.lm_head(core.norm(hidden)[:, -1, :]).float()


def _next_tokens(logits: torch.Tensor, temperature: float, top_p: float,
                 generator: torch.Generator | None) -> torch.Tensor:
    """Greedy (``temperature`` 0) or sampled next tokens, filtered as ``transformers``'
    temperature and top-p warpers filter them."""
    if temperature == 0:
        return logits.argmax(-1)
    scores = logits / temperature
    if top_p < 1.0:
        ordered, index = torch.sort(scores, descending=False)
        cumulative = ordered.softmax(-1).cumsum(-1)
        drop = cumulative <= 1 - top_p
        drop[:, -1] = False  # always keep the most likely token
        scores = scores.masked_fill(drop.scatter(1, index, drop), float("-inf"))
    return torch.multinomial(scores.softmax(-1), 1, generator=generator).squeeze(1)


def _base(model: Any) -> Any:
    """The causal LM under a ``peft`` wrapper (the model itself otherwise)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model
