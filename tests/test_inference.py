"""Batched generation: left padding, greedy and sampling, EOS, token counts, seeds."""

from __future__ import annotations

import pytest
import torch
from lm_helpers import char_tokenizer

from metacot_lab.inference import Generation, generate
from metacot_lab.models import ModelSize, build_model

TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)
PROMPTS = ["1+2=", "target 62 nums 47 90 56 75\n", "a", "maze 5 start 2,4 goal 0,1\n"]


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    return build_model(TINY, tok, seed=3)


def test_batched_greedy_equals_one_prompt_at_a_time(model, tok):
    batched = generate(model, tok, PROMPTS, max_new_tokens=10, batch_size=4)
    alone = [generate(model, tok, [p], max_new_tokens=10)[0] for p in PROMPTS]
    assert batched == alone
    assert [len(g) for g in batched] == [1] * len(PROMPTS)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_static_cache_generates_what_the_dynamic_cache_does(model, tok, temperature):
    kwargs = {"max_new_tokens": 12, "temperature": temperature, "n": 1 + (temperature > 0),
              "seed": 5, "batch_size": 4}
    dynamic = generate(model, tok, PROMPTS, cache="dynamic", **kwargs)
    assert generate(model, tok, PROMPTS, cache="static", **kwargs) == dynamic
    assert max(g.tokens for gs in dynamic for g in gs) > 1  # something was generated


def test_greedy_follows_the_argmax(model, tok):
    (gen,), = generate(model, tok, ["1+2="], max_new_tokens=6)
    ids = tok("1+2=")["input_ids"]
    with torch.no_grad():
        for _ in range(6):
            ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
    expected = ids[len(tok("1+2=")["input_ids"]):]
    assert gen.tokens == 6 and not gen.finished
    assert gen.text == tok.decode(expected, skip_special_tokens=True)


def test_sampling_is_deterministic_by_seed(model, tok):
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    a = generate(model, tok, PROMPTS, max_new_tokens=12, n=3, temperature=1.0, seed=5)
    after = torch.rand(2)
    b = generate(model, tok, PROMPTS, max_new_tokens=12, n=3, temperature=1.0, seed=5)
    c = generate(model, tok, PROMPTS, max_new_tokens=12, n=3, temperature=1.0, seed=6)
    assert torch.equal(after, expected)  # the global random state is left alone
    assert a == b and a != c
    assert all(len(g) == 3 for g in a)
    assert len({g.text for g in a[1]}) > 1  # a random model's samples differ


def test_stops_at_eos_and_strips_special_tokens(tok):
    model = build_model(TINY, tok, seed=0)
    bias = torch.zeros(len(tok))
    bias[tok.eos_token_id] = 1e4
    hook = model.lm_head.register_forward_hook(lambda mod, inp, out: out + bias)
    try:
        gens = generate(model, tok, PROMPTS, max_new_tokens=20, n=2, temperature=0.7)
    finally:
        hook.remove()
    assert all(g == Generation(text="", tokens=1, finished=True) for gs in gens for g in gs)


def test_token_counts_and_the_training_mode_are_kept(model, tok):
    model.train()
    gens = generate(model, tok, PROMPTS, max_new_tokens=7, n=2, temperature=2.0, top_p=0.9)
    assert model.training
    model.eval()
    for g in (g for gs in gens for g in gs):
        assert 1 <= g.tokens <= 7 and (g.finished or g.tokens == 7)


@pytest.mark.parametrize("kwargs", [
    {"prompts": "1+2="},
    {"n": 2},  # greedy samples would all be the same
    {"max_new_tokens": 0},
    {"temperature": -1.0},
    {"top_p": 0.0},
    {"seed": -1},
    {"cache": "paged"},
])
def test_bad_arguments_raise_value_error(model, tok, kwargs):
    kwargs = {"prompts": PROMPTS, **kwargs}
    with pytest.raises(ValueError):
        generate(model, tok, kwargs.pop("prompts"), **kwargs)


def test_generation_may_not_run_past_the_models_positions(tok):
    model = build_model(ModelSize(hidden=32, layers=2, heads=2, intermediate=64,
                                  max_positions=32), tok, seed=0)
    longest = max(len(tok(p)["input_ids"]) for p in PROMPTS)
    gens = generate(model, tok, PROMPTS, max_new_tokens=32 - longest)
    assert max(g.tokens for gs in gens for g in gs) <= 32 - longest
    with pytest.raises(ValueError, match=f"max_new_tokens must be at most {32 - longest}"):
        generate(model, tok, PROMPTS, max_new_tokens=33 - longest)
