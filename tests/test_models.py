"""Tiny Llama models: sizes, determinism, save/load, the offline hub error."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import torch
from lm_helpers import char_tokenizer

from metacot_lab import models
from metacot_lab.models import (
    MODEL_SIZES,
    ModelSize,
    build_model,
    count_parameters,
    load_hub_model,
    load_model,
    load_tokenizer,
    save_model,
)

TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


@pytest.mark.parametrize(("size", "lo", "hi"), [
    ("1m", 0.9e6, 1.3e6), ("5m", 4.5e6, 6.5e6), ("20m", 15e6, 25e6),
])
def test_named_sizes_have_about_their_parameter_count(tok, size, lo, hi):
    model = build_model(size, tok, seed=0)
    spec = MODEL_SIZES[size]
    body = spec.layers * (4 * spec.hidden**2 + 3 * spec.hidden * spec.intermediate
                          + 2 * spec.hidden) + spec.hidden
    assert count_parameters(model) == body + len(tok) * spec.hidden  # embeddings tied
    assert lo <= count_parameters(model) <= hi


def test_config_uses_the_tokenizer(tok):
    model = build_model(TINY, tok, seed=0)
    cfg = model.config
    assert cfg.vocab_size == len(tok)
    assert (cfg.pad_token_id, cfg.bos_token_id, cfg.eos_token_id) == (
        tok.pad_token_id, tok.bos_token_id, tok.eos_token_id)
    assert model.generation_config.eos_token_id == tok.eos_token_id


def test_build_is_deterministic_by_seed_and_keeps_global_rng(tok):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = build_model(TINY, tok, seed=7)
    after = torch.rand(3)
    b = build_model(TINY, tok, seed=7)
    c = build_model(TINY, tok, seed=8)
    assert torch.equal(after, expected)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_save_and_load_round_trip(tok, tmp_path):
    model = build_model(TINY, tok, seed=1)
    path = save_model(model, tmp_path / "ckpt", tok)
    for f in path.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f.name
    loaded, tok2 = load_model(path), load_tokenizer(path)
    ids = torch.tensor([tok("target 7 nums 1 2\n")["input_ids"]])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, loaded(ids).logits)
    assert tok2("a+b=")["input_ids"] == tok("a+b=")["input_ids"]
    assert not loaded.training


SAVE_ADAPTER = """
import sys
from peft import get_peft_model
from metacot_lab.models import ModelSize, build_model, save_model
from metacot_lab.train.sft import LoraSettings
from metacot_lab.traces.tokenizer import build_tokenizer
tok = build_tokenizer()
model = build_model(ModelSize(hidden=32, layers=2, heads=2, intermediate=64), tok, seed=0)
peft_model = get_peft_model(model, LoraSettings().to_peft())
save_model(peft_model, sys.argv[1])
assert isinstance(peft_model.peft_config["default"].target_modules, set)  # given back
"""


def test_saved_adapter_config_has_the_same_bytes_under_any_hash_seed(tmp_path):
    # peft writes target_modules as list(set): without sorting, hash seeds 1 and 2 order
    # the seven module names differently
    configs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        subprocess.run([sys.executable, "-c", SAVE_ADAPTER, str(out)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
        configs.append((out / "adapter_config.json").read_bytes())
    assert configs[0] == configs[1]
    modules = json.loads(configs[0])["target_modules"]
    assert modules == sorted(modules) and len(modules) == 7


def test_hub_model_offline_raises_without_touching_the_network(monkeypatch):
    def no_probe(url, timeout=3.0):
        raise AssertionError("offline mode must not probe the network")

    monkeypatch.setattr(models, "_reachable", no_probe)
    with pytest.raises(RuntimeError, match="internet"):
        load_hub_model("metacot-lab/no-such-model")


def test_hub_model_unreachable_raises_without_downloading(monkeypatch):
    from huggingface_hub import constants

    calls = []
    real = models._load_hub

    def spy(name, dtype, **kwargs):
        calls.append(kwargs)
        return real(name, dtype, **kwargs)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(models, "_reachable", lambda url, timeout=3.0: False)
    monkeypatch.setattr(models, "_load_hub", spy)
    with pytest.raises(RuntimeError, match="cannot be reached"):
        load_hub_model("metacot-lab/no-such-model")
    assert calls == [{"local_files_only": True}]  # the cache only, no download attempt


@pytest.mark.parametrize("call", [
    lambda t: build_model("7b", t),
    lambda t: build_model(TINY, t, seed=-1),
    lambda t: build_model(ModelSize(hidden=30, layers=1, heads=4, intermediate=8), t),
    lambda t: load_model("/nonexistent/checkpoint"),
    lambda t: load_hub_model(""),
])
def test_bad_arguments_raise_value_error(tok, call):
    with pytest.raises(ValueError):
        call(tok)


def test_tokenizer_without_pad_is_rejected(tok):
    bare = char_tokenizer()
    bare.pad_token = None
    with pytest.raises(ValueError, match="pad_token_id"):
        build_model(TINY, bare)


def test_models_take_the_course_tokenizer(tmp_path):
    from metacot_lab.traces.tokenizer import build_tokenizer

    course = build_tokenizer()
    model = build_model("1m", course, seed=0)
    assert model.config.vocab_size == len(course)
    assert model.get_input_embeddings().weight.shape[0] == len(course)
    assert model.config.eos_token_id == course.convert_tokens_to_ids("<eos>")
    path = save_model(model, tmp_path / "m", course)
    assert load_tokenizer(path).get_vocab() == course.get_vocab()
