"""The compact decoding loop: generate's greedy tokens, rows leaving the batch, LoRA,
sampling from the right distribution, and the models it refuses."""

from __future__ import annotations

import pytest
import torch
from lm_helpers import char_tokenizer
from peft import LoraConfig, get_peft_model
from transformers import GPT2Config, GPT2LMHeadModel

from metacot_lab import decoding
from metacot_lab.inference import generate, resolve_cache
from metacot_lab.models import ModelSize, build_model

TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)
PROMPTS = ["1+2=", "target 62 nums 47 90 56 75\n", "a", "maze 5 start 2,4 goal 0,1\n",
           "xy", "0123456789"]


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    return build_model(TINY, tok, seed=3)


def eos_bias(model, tok, strength):
    """A hook that raises the <eos> logit, so rows end at different steps."""
    bias = torch.zeros(len(tok))
    bias[tok.eos_token_id] = strength
    return model.lm_head.register_forward_hook(lambda mod, inp, out: out + bias)


@pytest.mark.parametrize("strength", [0.0, 0.6, 0.65])
def test_greedy_decoding_gives_generates_tokens(model, tok, strength):
    hook = eos_bias(model, tok, strength)
    try:
        kwargs = {"max_new_tokens": 24, "batch_size": len(PROMPTS)}
        compact = generate(model, tok, PROMPTS, cache="compact", **kwargs)
        dynamic = generate(model, tok, PROMPTS, cache="dynamic", **kwargs)
    finally:
        hook.remove()
    assert compact == dynamic
    lengths = {g.tokens for gs in compact for g in gs}
    if strength:  # rows ended at different steps: the batch shrank while others went on
        assert len(lengths) > 2 and any(g.finished for gs in compact for g in gs)


def test_a_lora_model_decodes_with_its_adapter(model, tok):
    lora = get_peft_model(build_model(TINY, tok, seed=3),
                          LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj",
                                                                        "down_proj"]))
    with torch.no_grad():  # a non-zero adapter, so that it changes the tokens
        for name, param in lora.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5, generator=torch.Generator().manual_seed(len(name)))
    kwargs = {"max_new_tokens": 16, "batch_size": 3}
    compact = generate(lora, tok, PROMPTS, cache="compact", **kwargs)
    assert compact == generate(lora, tok, PROMPTS, cache="dynamic", **kwargs)
    assert compact != generate(model, tok, PROMPTS, cache="compact", **kwargs)


def test_sampling_is_deterministic_by_seed_and_leaves_the_global_state(model, tok):
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    kwargs = {"max_new_tokens": 12, "n": 3, "temperature": 1.0, "cache": "compact"}
    a = generate(model, tok, PROMPTS, seed=5, **kwargs)
    assert torch.equal(torch.rand(2), expected)
    assert a == generate(model, tok, PROMPTS, seed=5, **kwargs)
    assert a != generate(model, tok, PROMPTS, seed=6, **kwargs)


@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.5, 1.0), (1.0, 0.6)])
def test_samples_follow_the_models_distribution(model, tok, temperature, top_p):
    prompt = tok("1+2=")["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([prompt])).logits[0, -1] / temperature
    probs = logits.softmax(-1)
    ordered, index = probs.sort(descending=True)
    keep = torch.zeros_like(probs, dtype=torch.bool)  # the nucleus: smallest set >= top_p
    keep[index[: int((ordered.cumsum(0) < top_p).sum()) + 1]] = True
    target = torch.where(keep, probs, 0) / probs[keep].sum()
    draws = 4000
    out = decoding.decode(model, [prompt] * draws, max_new_tokens=1, eos_id=tok.eos_token_id,
                          pad_id=tok.pad_token_id, temperature=temperature, top_p=top_p,
                          generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(torch.tensor([o[0] for o in out]), minlength=len(tok)).float()
    assert counts[~keep].sum() == 0  # nothing outside the nucleus
    assert (counts / draws - target).abs().max() < 4 * (target * (1 - target) / draws).sqrt().max()


def test_auto_takes_the_compact_loop_where_it_can(model, tok):
    assert decoding.supports(model)
    assert resolve_cache(model, "auto", 8) == "compact"
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=16, n_layer=1,
                                      n_head=2))
    assert not decoding.supports(gpt2)
    assert resolve_cache(gpt2, "auto", 8) == "dynamic"
    assert resolve_cache(gpt2, "auto", 512) == "static"
    assert resolve_cache(gpt2, "dynamic", 8) == "dynamic"
    with pytest.raises(ValueError, match="cache 'compact' runs Llama-style models only"):
        generate(gpt2, tok, PROMPTS[:1], max_new_tokens=2, cache="compact")
