"""Rough trace lengths in tokens, for comparing formats without a trained tokenizer.

Two proxies (the course's own tokenizer, ``metacot_lab.traces.tokenizer``, gives the exact
count for the models trained here):

* :func:`count_pieces` - words, single digits and single punctuation marks: what a small
  vocabulary that spells numbers digit by digit sees (whitespace is free).
* :func:`count_gpt2_pretokens` - GPT-2's byte-level pre-tokenization (``tokenizers``'
  ``ByteLevel``, offline). Byte-pair merges never cross these pieces, so this is a lower
  bound on GPT-2 BPE tokens; it is close for these texts (common words, small numbers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import numpy as np

_PIECE = re.compile(r"[^\W\d_]+|\d|[^\w\s]|_")


def count_pieces(text: str) -> int:
    """Words, digits (one each) and punctuation marks (one each) in ``text``."""
    return len(_PIECE.findall(text))


@cache
def _byte_level():
    from tokenizers import pre_tokenizers

    return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)


def count_gpt2_pretokens(text: str) -> int:
    """GPT-2 pre-tokens in ``text`` (a lower bound on its GPT-2 BPE token count)."""
    return len(_byte_level().pre_tokenize_str(text))


def summarize(lengths: Iterable[int]) -> dict[str, float]:
    """mean, median, 95th percentile and max of ``lengths``."""
    a = np.asarray(list(lengths), dtype=float)
    if a.size == 0:
        raise ValueError("lengths must not be empty")
    return {
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "p95": float(np.percentile(a, 95)),
        "max": float(a.max()),
    }
