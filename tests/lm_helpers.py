"""Shared by the model, training, inference and evaluation tests: a character-level
tokenizer made with ``tokenizers`` (independent of the course tokenizer) and tiny data."""

from __future__ import annotations

import string

from datasets import Dataset
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]


def char_tokenizer() -> PreTrainedTokenizerFast:
    """One token per printable ASCII character, plus <pad> <bos> <eos> <unk>."""
    chars = sorted(set(string.printable) - set("\r\x0b\x0c"))
    vocab = {tok: i for i, tok in enumerate(SPECIALS + chars)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
        unk_token="<unk>",
    )


def addition_dataset(count: int = 32, seed: int = 0) -> Dataset:
    """Prompt/completion pairs ``"a+b="`` -> ``"c\\n"`` with one-digit numbers."""
    import random

    rng = random.Random(seed)
    pairs = [(rng.randint(0, 9), rng.randint(0, 9)) for _ in range(count)]
    return Dataset.from_dict({
        "prompt": [f"{a}+{b}=" for a, b in pairs],
        "completion": [f"{a + b}\n" for a, b in pairs],
    })
