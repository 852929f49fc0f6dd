"""Shipped checkpoints: export in float16, cards, loading (adapters on their base)."""

from __future__ import annotations

import json

import pytest
import torch
from lm_helpers import char_tokenizer
from peft import get_peft_model

from metacot_lab.checkpoints import (
    CARD_FIELDS,
    available_checkpoints,
    cards_markdown,
    export_checkpoint,
    load_checkpoint,
    read_card,
    stored_copy,
)
from metacot_lab.models import ModelSize, build_model
from metacot_lab.train import LoraSettings

TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)
CARD = {f: "x" for f in CARD_FIELDS} | {"scores": {"test": {"solve_rate": 0.5}}, "seed": 0}


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


def logits(model, tok):
    ids = torch.tensor([tok("12+34=")["input_ids"]])
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_export_stores_float16_and_loads_float32(tok, tmp_path):
    model = build_model(TINY, tok, seed=0).eval()
    export_checkpoint(model, tok, tmp_path / "tiny", CARD)
    assert available_checkpoints(tmp_path) == ["tiny"]
    back, back_tok = load_checkpoint("tiny", root=tmp_path)
    assert next(back.parameters()).dtype == torch.float32
    assert next(model.parameters()).dtype == torch.float32  # the exported model is untouched
    assert back_tok("12+34=")["input_ids"] == tok("12+34=")["input_ids"]
    a, b = logits(model, tok), logits(back, tok)
    assert not torch.equal(a, b) and torch.allclose(a, b, atol=1e-2)  # rounded to float16
    card = read_card(tmp_path / "tiny")
    assert card["stored_dtype"] == "float16" and card["scores"] == CARD["scores"]
    assert json.loads((tmp_path / "tiny" / "card.json").read_text()) == card


def test_stored_copy_is_the_model_that_loads_back(tok, tmp_path):
    model = build_model(TINY, tok, seed=0).eval()
    export_checkpoint(model, tok, tmp_path / "tiny", CARD)
    back, _ = load_checkpoint("tiny", root=tmp_path)
    ids = torch.tensor([tok("12+34=" * 40)["input_ids"]])  # far positions: RoPE matters
    with torch.no_grad():
        assert torch.equal(stored_copy(model)(input_ids=ids).logits, back(input_ids=ids).logits)
    assert next(model.parameters()).dtype == torch.float32


def test_adapter_loads_on_its_base(tok, tmp_path):
    base = build_model(TINY, tok, seed=0).eval()
    export_checkpoint(base, tok, tmp_path / "base", CARD, dtype="float32")
    loaded, _ = load_checkpoint("base", root=tmp_path)  # as lora_experiment loads its base
    lora = get_peft_model(loaded, LoraSettings(r=2).to_peft())
    local = lora.get_base_model().name_or_path
    for name, p in lora.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.1)  # a trained adapter changes the outputs
    with pytest.raises(ValueError, match="base"):
        export_checkpoint(lora, tok, tmp_path / "adapter", CARD)
    export_checkpoint(lora, tok, tmp_path / "adapter", CARD | {"base": "base"})
    assert not (tmp_path / "adapter" / "model.safetensors").exists()
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "base"  # the checkpoint, not a local path
    assert lora.peft_config["default"].base_model_name_or_path == local == str(
        tmp_path / "base")  # the caller's model keeps its own names
    assert lora.get_base_model().config._name_or_path == local
    readme = (tmp_path / "adapter" / "README.md").read_text()
    assert "base_model: base\n" in readme and str(tmp_path) not in readme
    back, _ = load_checkpoint("adapter", root=tmp_path)
    assert hasattr(back, "peft_config")
    assert torch.allclose(logits(lora.eval(), tok), logits(back, tok), atol=1e-5)
    assert not torch.allclose(logits(base, tok), logits(back, tok), atol=1e-3)


@pytest.mark.parametrize("card, match", [
    ({"seed": 0}, "missing the fields"),
    (CARD, "dtype"),
])
def test_bad_export_arguments(tok, tmp_path, card, match):
    model = build_model(TINY, tok)
    with pytest.raises(ValueError, match=match):
        export_checkpoint(model, tok, tmp_path / "m", card, dtype="float8")


def test_unknown_name_lists_what_exists(tmp_path):
    with pytest.raises(ValueError, match=r"available: \[\]"):
        load_checkpoint("nope", root=tmp_path)


def test_shipped_checkpoints_have_complete_cards():
    for name in available_checkpoints():
        card = read_card(name)
        assert set(CARD_FIELDS) <= set(card), name
        assert 0.0 <= card["scores"][card["heldout_split"]]["solve_rate"] <= 1.0


def test_cards_markdown_has_a_line_per_checkpoint(tok, tmp_path):
    model = build_model(TINY, tok)
    scores = {"test": {"solve_rate": 0.25, "optimal_rate": 0.2, "tokens": 12.0},
              "held": {"solve_rate": 0.125, "optimal_rate": None, "tokens": 30.0}}
    card = CARD | {"heldout_split": "held", "scores": scores, "train_seconds": 90,
                   "tokens_seen": 2_500_000, "command": "python run.py --seed 0"}
    for name in ("b-model", "a-model"):
        export_checkpoint(model, tok, tmp_path / name, card)
    lines = cards_markdown(tmp_path).splitlines()
    assert [x.split("`")[1] for x in lines[::2]] == ["a-model", "b-model"]
    assert "held solved 12.5%, 30 tokens/problem; test solved 25.0%, optimal 20.0%" in lines[0]
    assert "1.5 min training on 2.5M tokens" in lines[0]
    assert lines[1] == "  `python run.py --seed 0`"


def test_a_chain_of_bases_that_loops_is_a_value_error(tok, tmp_path):
    lora = get_peft_model(build_model(TINY, tok, seed=0), LoraSettings(r=2).to_peft())
    export_checkpoint(lora, tok, tmp_path / "a", CARD | {"base": "b"})
    export_checkpoint(lora, tok, tmp_path / "b", CARD | {"base": "a"})
    export_checkpoint(lora, tok, tmp_path / "self", CARD | {"base": "self"})
    with pytest.raises(ValueError, match="must not lead back to itself: a -> b -> a"):
        load_checkpoint("a", root=tmp_path)
    with pytest.raises(ValueError, match="self -> self"):
        load_checkpoint("self", root=tmp_path)


def test_the_command_line_reports_bad_values_as_usage_errors(tmp_path, capsys):
    from metacot_lab.checkpoints import main

    with pytest.raises(SystemExit) as exit_:
        main(["export", str(tmp_path / "missing"), "x", "--root", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:") and "run_dir must hold results.json" in err
