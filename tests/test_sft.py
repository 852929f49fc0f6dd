"""SFT with trl: completion-only masks, learning, LoRA, budgets, determinism, resuming."""

from __future__ import annotations

import copy
import math
import shutil

import pytest
import torch
from lm_helpers import addition_dataset, char_tokenizer

from metacot_lab.models import ModelSize, build_model, count_parameters
from metacot_lab.train import LoraSettings, SFTRunConfig, build_trainer, train_sft

TINY = ModelSize(hidden=32, layers=2, heads=2, intermediate=64)


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


@pytest.fixture(scope="module")
def data():
    return addition_dataset(64, seed=0)


def run(tok, data, seed=0, **kw):
    kw = {"batch_size": 8, "max_steps": 12, "logging_steps": 1, "progress": False,
          "learning_rate": 5e-3, **kw}
    model = build_model(TINY, tok, seed=seed)
    return train_sft(model, tok, data, SFTRunConfig(seed=seed, **kw))


def test_collated_batch_masks_the_prompt_and_padding(tok, data):
    trainer, _ = build_trainer(build_model(TINY, tok), tok, data,
                               SFTRunConfig(batch_size=16, max_steps=1, progress=False))
    batch = next(iter(trainer.get_train_dataloader()))
    targets = {p: c for p, c in zip(data["prompt"], data["completion"], strict=True)}
    real = batch["input_ids"] != tok.pad_token_id
    assert not real.all()  # padded on the right
    for ids, labels, keep in zip(batch["input_ids"], batch["labels"], real, strict=True):
        ids, labels = ids[keep].tolist(), labels[keep].tolist()
        prompt = tok.decode([i for i, lab in zip(ids, labels, strict=True) if lab == -100])
        supervised = [lab for lab in labels if lab != -100]
        assert supervised == ids[len(ids) - len(supervised):]  # one block at the end
        assert tok.decode(supervised) == targets[prompt] + tok.eos_token
    assert (batch["labels"][~real] == -100).all()


def test_wrapped_packing_keeps_every_label(tok, data):
    cfg = {"batch_size": 4, "max_steps": 1, "max_length": 24, "progress": False}
    plain, _ = build_trainer(build_model(TINY, tok), tok, data, SFTRunConfig(**cfg))
    packed, _ = build_trainer(build_model(TINY, tok), tok, data,
                              SFTRunConfig(packing="wrapped", **cfg))
    flat = [x for row in plain.train_dataset["labels"] for x in row]
    assert [x for row in packed.train_dataset["labels"] for x in row] == flat
    assert {len(row) for row in packed.train_dataset["input_ids"][:-1]} == {24}
    assert -100 in flat and any(x != -100 for x in flat)


def test_training_lowers_the_loss(tok, data):
    result = run(tok, data, max_steps=30)
    losses = [loss for _, loss in result.loss_history]
    assert len(losses) == 30 and result.steps == 30
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    assert result.budget == "max_steps" and not result.stopped_by_time
    assert result.tokens_seen == result.tokens_this_run > 0 and result.tokens_per_second > 0


def test_same_seed_same_losses(tok, data):
    a, b, c = run(tok, data), run(tok, data), run(tok, data, seed=1)
    assert a.loss_history == b.loss_history
    assert a.loss_history != c.loss_history


def test_lora_trains_few_parameters_and_leaves_the_base_alone(tok, data):
    model = build_model(TINY, tok, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    total = count_parameters(model)
    result = train_sft(model, tok, data, SFTRunConfig(
        lora=LoraSettings(r=2, alpha=4), batch_size=8, max_steps=30, logging_steps=1,
        progress=False))
    assert result.trainable_parameters < 0.25 * total
    assert result.trainable_parameters == count_parameters(result.model, trainable_only=True)
    state = result.model.get_base_model().state_dict()
    base = {k.replace(".base_layer", ""): v for k, v in state.items() if "lora_" not in k}
    assert base.keys() == before.keys()
    assert all(torch.equal(base[k], before[k]) for k in before)
    lora_b = [v for k, v in state.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b)  # B starts at zero
    losses = [loss for _, loss in result.loss_history]
    assert sum(losses[-5:]) < sum(losses[:5])


@pytest.mark.parametrize("lora", [None, LoraSettings(r=2)])
def test_trained_model_runs_its_own_forward_in_float32(tok, data, lora):
    """Training wraps forward (trl's fused loss calls the model it was made for; accelerate
    autocasts to bf16): the returned model runs its own forward, so a copy runs the copy's
    weights, and bf16 training gives float32 inference, as after loading."""
    model = run(tok, data, max_steps=2, bf16=True, lora=lora).model.eval()
    ids = torch.tensor([tok("12+34=")["input_ids"]])
    clone = copy.deepcopy(model)
    with torch.no_grad():
        for p in clone.parameters():
            p.mul_(0.5)
        assert not torch.allclose(clone(input_ids=ids).logits, model(input_ids=ids).logits)
        plain = type(model).forward(model, input_ids=ids).logits
        assert torch.equal(model(input_ids=ids).logits, plain)
    assert not any("forward" in vars(m) for m in model.modules())


def test_max_tokens_becomes_steps(tok, data):
    result = run(tok, data, max_steps=None, max_tokens=500)
    lengths = [len(tok(p + c)["input_ids"]) + 1 for p, c in
               zip(data["prompt"], data["completion"], strict=True)]
    per_step = 8 * sum(lengths) / len(lengths)
    assert result.budget == "max_tokens" and result.budget_value == 500
    assert result.steps == math.ceil(500 / per_step)
    assert abs(result.tokens_seen - 500) < per_step + max(lengths) * 8


def test_max_tokens_counts_the_partial_last_batch(tok, data):
    """60 rows in batches of 16: epochs of 3 full batches and one of 12 rows. Ten epochs'
    worth of tokens is 40 steps, not the 38 that full mean-length batches would give."""
    rows = data.select(range(60))
    lengths = [len(tok(p + c)["input_ids"]) + 1 for p, c in
               zip(rows["prompt"], rows["completion"], strict=True)]
    result = run(tok, rows, max_steps=None, max_tokens=10 * sum(lengths), batch_size=16)
    assert result.steps == 40
    assert result.tokens_seen == 10 * sum(lengths)


def test_max_seconds_stops_the_run(tok, data):
    result = run(tok, data, max_steps=10_000, max_seconds=0.001)
    assert result.budget == "max_seconds" and result.stopped_by_time
    assert result.steps == 1


def test_resume_from_checkpoint_continues_the_same_run(tok, data, tmp_path):
    full = run(tok, data, max_steps=6, save_steps=3, output_dir=str(tmp_path))
    assert (tmp_path / "checkpoint-3").is_dir() and (tmp_path / "checkpoint-6").is_dir()
    shutil.rmtree(tmp_path / "checkpoint-6")
    resumed = run(tok, data, max_steps=6, save_steps=3, output_dir=str(tmp_path),
                  resume_from_checkpoint=True)
    assert resumed.steps == 6
    later = [(s, loss) for s, loss in full.loss_history if s > 3]
    assert [s for s, _ in resumed.loss_history if s > 3] == [s for s, _ in later]
    assert [loss for s, loss in resumed.loss_history if s > 3] == pytest.approx(
        [loss for _, loss in later], rel=1e-5)
    assert resumed.tokens_seen == full.tokens_seen


@pytest.mark.parametrize("bad", [
    {"max_steps": 5, "max_tokens": 100},
    {"learning_rate": -1.0},
    {"batch_size": 0},
    {"save_steps": 10},  # without output_dir
    {"lr_scheduler": "cyclic"},
    {"lora": LoraSettings(r=0)},
    {"packing": "yes"},
    {"packing": True},
])
def test_bad_config_raises_value_error(tok, data, bad):
    with pytest.raises(ValueError):
        train_sft(build_model(TINY, tok), tok, data, SFTRunConfig(**bad))


def test_dataset_needs_prompt_and_completion(tok):
    from datasets import Dataset

    with pytest.raises(ValueError, match="prompt and completion"):
        train_sft(build_model(TINY, tok), tok, Dataset.from_dict({"text": ["a"]}),
                  SFTRunConfig(max_steps=1))


def test_whole_packing_keeps_examples_whole(tok, data):
    cfg = {"batch_size": 4, "max_steps": 1, "max_length": 40, "progress": False}
    plain, _ = build_trainer(build_model(TINY, tok), tok, data, SFTRunConfig(**cfg))
    packed, _ = build_trainer(build_model(TINY, tok), tok, data,
                              SFTRunConfig(packing="whole", **cfg))
    examples = list(zip(plain.train_dataset["input_ids"], plain.train_dataset["labels"],
                        strict=True))
    rows = list(zip(packed.train_dataset["input_ids"], packed.train_dataset["labels"],
                    strict=True))
    assert all(len(ids) <= 40 for ids, _ in rows) and len(rows) < len(examples) / 3
    rebuilt = []
    for ids, labels in rows:  # split each row back into examples at their prompts' starts
        starts = [i for i in range(len(ids)) if labels[i] == -100
                  and (i == 0 or labels[i - 1] != -100)]
        for a, b in zip(starts, [*starts[1:], len(ids)], strict=True):
            rebuilt.append((ids[a:b], labels[a:b]))
    assert sorted(rebuilt) == sorted(examples)


def test_packed_examples_are_computed_as_if_alone(tok, data):
    cfg = {"batch_size": 2, "max_steps": 1, "max_length": 40, "progress": False}
    trainer, _ = build_trainer(build_model(TINY, tok), tok, data,
                               SFTRunConfig(packing="whole", **cfg))
    rows = [trainer.train_dataset[i] for i in range(4)]
    assert all(len(row["seq_lengths"]) > 1 for row in rows)  # rows hold several examples
    batch = trainer.data_collator(rows)
    model = trainer.model.eval()
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits
    for r, row in enumerate(rows):
        a = 0
        for n in row["seq_lengths"]:
            assert batch["position_ids"][r, a:a + n].tolist() == list(range(n))  # restart
            with torch.no_grad():
                alone = model(input_ids=batch["input_ids"][r:r + 1, a:a + n]).logits[0]
            assert torch.allclose(packed[r, a:a + n], alone, atol=1e-5)
            a += n


def test_dropping_the_attention_mask_changes_no_loss(tok, data):
    trainer, _ = build_trainer(build_model(TINY, tok), tok, data,
                               SFTRunConfig(batch_size=16, max_steps=1, progress=False))
    batch = next(iter(trainer.get_train_dataloader()))
    assert "attention_mask" not in batch
    masked = trainer.data_collator.collator([trainer.train_dataset[i] for i in range(16)])
    assert (masked["attention_mask"] == 0).any()  # the batch has padding
    model = trainer.model.eval()
    with torch.no_grad():
        a = model(input_ids=masked["input_ids"], attention_mask=masked["attention_mask"],
                  labels=masked["labels"]).loss
        b = model(input_ids=masked["input_ids"], labels=masked["labels"],
                  position_ids=torch.arange(masked["input_ids"].shape[1]).repeat(16, 1)).loss
    assert torch.allclose(a, b, atol=1e-6)


def test_long_examples_warn(tok, data):
    with pytest.warns(UserWarning, match="longer than max_length=5"):
        build_trainer(build_model(TINY, tok), tok, data,
                      SFTRunConfig(max_length=5, max_steps=1, progress=False))


def test_pack_rows_places_every_example_once_within_the_limit():
    import random

    from metacot_lab.train.packing import pack_rows

    rng = random.Random(0)
    lengths = [rng.randint(1, 50) for _ in range(300)]
    rows = pack_rows(lengths, 64)
    assert sorted(i for row in rows for i in row) == list(range(300))
    assert all(sum(lengths[i] for i in row) <= 64 for row in rows)
    assert len(rows) <= 1.15 * sum(lengths) / 64 + 1  # best fit wastes little
    assert pack_rows(lengths, 64) == rows
    with pytest.raises(ValueError, match="max_length=10"):
        pack_rows([11], 10)


DDP_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
out_dir = {out!r}
import torch.distributed as dist
from lm_helpers import addition_dataset, char_tokenizer
from metacot_lab.models import ModelSize, build_model
from metacot_lab.train import SFTRunConfig, train_sft

tok = char_tokenizer()
out = {{}}
for name, kw in [("steps", {{}}), ("seconds", {{"max_seconds": 0.3, "max_steps": 10_000}})]:
    if name == "seconds" and dist.get_rank() == 1:
        kw["max_seconds"] = 1e6  # only rank 0 runs out of time: both must stop together
    model = build_model(ModelSize(32, 2, 2, 64), tok, seed=0)
    r = train_sft(model, tok, addition_dataset(64), SFTRunConfig(
        batch_size=4, logging_steps=1, progress=False, **{{"max_steps": 4, **kw}}))
    out[name] = [r.steps, r.tokens_seen, r.loss_history, r.budget]
with open(f"{{out_dir}}/rank{{dist.get_rank()}}.json", "w") as f:
    json.dump(out, f)
dist.barrier()  # both ranks done before either tears its process group down
dist.destroy_process_group()
"""


def test_runs_unchanged_as_two_processes_under_torchrun(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT.format(tests=str(Path(__file__).parent), out=str(tmp_path)))
    torchrun = Path(sys.executable).parent / "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", str(script)],
                          capture_output=True, text=True, env=env, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if "warn" not in line.lower()]
    assert proc.returncode == 0, "\n".join(errors)[-4000:]
    rank0, rank1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert rank0["steps"] == rank1["steps"]  # one model trained by two processes (DDP)
    steps, tokens, _, budget = rank0["steps"]
    assert steps == 4 and budget == "max_steps"
    single = run(char_tokenizer(), addition_dataset(64), max_steps=4, batch_size=4,
                 learning_rate=None)
    assert tokens > single.tokens_seen  # both processes' batches are counted
    assert rank0["seconds"][0] == rank1["seconds"][0] < 10_000
    assert rank0["seconds"][3] == rank1["seconds"][3] == "max_seconds"


def test_course_tokenizer_labels_are_the_completions_of_shipped_data():
    from metacot_lab.config import DATA_DIR
    from metacot_lab.data import load_dataset_dir
    from metacot_lab.traces.tokenizer import build_tokenizer

    course = build_tokenizer()
    data = load_dataset_dir(DATA_DIR / "countdown4_dfs_metacot")["train"].select(range(8))
    trainer, _ = build_trainer(build_model(TINY, course), course, data,
                               SFTRunConfig(batch_size=8, max_length=4096, max_steps=1,
                                            progress=False))
    batch = next(iter(trainer.get_train_dataloader()))
    completions = sorted(c + "<eos>" for c in data["completion"])
    labels = [[t for t in row if t != -100] for row in batch["labels"].tolist()]
    assert sorted(course.decode(row) for row in labels) == completions
    real = (batch["input_ids"] != course.pad_token_id).sum(1).tolist()
    assert sorted(real) == sorted(data["trace_tokens"])
