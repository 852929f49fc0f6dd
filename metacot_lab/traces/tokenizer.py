"""The course tokenizer: a small word-level vocabulary built for the trace formats.

How text becomes tokens (a ``tokenizers`` ``WordLevel`` model behind a ``Split``
pre-tokenizer; no merges, no normalizer):

* **Numbers are split into single digits**, and a digit is always one of the same ten
  tokens ``0``-``9`` wherever it stands: ``47`` in ``61-14=47``, in ``-> 47 19`` and in
  SoS's ``[47, 19]`` is the same two tokens ``4 7``. Ten digit tokens cover every number,
  so the vocabulary stays small and does not grow with the numbers a problem uses, and
  column-wise arithmetic learned on small numbers carries over to larger ones and to
  numbers never seen in training (a whole-number vocabulary would give every value its own
  token and the model nothing to generalise from). Digits are never merged with the space
  before them for the same reason.
* **Words and symbol runs of the formats are one token each**: every maximal run of
  letters (``Exploring``, ``goal``, ``create``, ``g``) and every maximal run of punctuation
  (``->``, ``!=``, ``:[``) that any format writes for any search algorithm on any
  environment. They are read from the formats themselves (:func:`format_pieces` writes
  small traces of every format x algorithm x environment and collects them), so a new
  format or keyword is covered without editing this file.
* **A single space before a word or symbol run belongs to it** (`` goal``, `` ->``), as
  GPT-2's tokenizer does: traces are 15-40% shorter than with a token per space. Any other
  space, newlines and tabs are tokens of their own.
* **Every printable ASCII character is a token**, so any ASCII text, model garbage included,
  tokenizes without ``<unk>`` (an unknown word falls back to one token per letter); only
  characters outside printable ASCII become ``<unk>``.

Decoding concatenates the tokens (a ``Fuse`` decoder, no clean-up of spaces), so
``decode(encode(text)) == text`` for any printable ASCII text. Special tokens: ``<pad>``
(0), ``<bos>`` (1), ``<eos>`` (2), ``<unk>`` (3); ``pad != eos`` so padding never hides the
end of a trace. The literal string ``"<eos>"`` in text becomes the ``<eos>`` token (``trl``
appends it to completions as a string). Nothing is added automatically: ``tokenizer(text)``
gives exactly the tokens of ``text`` (no ``<bos>``), so a prompt's tokens are always a prefix
of its prompt-plus-completion tokens (every prompt ends with a newline, which never merges).

The vocabulary order is fixed (specials, printable ASCII by code point, then the format
pieces sorted, then their space-prefixed forms sorted): the same formats give the same
ids and the same saved bytes on every build.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from functools import lru_cache

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<bos>", "<eos>", "<unk>")
"""Special tokens, with ids 0-3 in this order."""
ASCII_CHARS: tuple[str, ...] = tuple(sorted(set(string.printable)))
"""Every printable ASCII character (letters, digits, punctuation, whitespace): the fallback."""

_PIECE = re.compile(r"[A-Za-z]+|[^\sA-Za-z0-9]+")  # a word or a run of symbols


def pieces_of(text: str) -> set[str]:
    """The words (letter runs) and symbol runs of ``text``: what becomes a single token."""
    return set(_PIECE.findall(text))


@lru_cache(maxsize=1)
def format_pieces() -> tuple[str, ...]:
    """Every word and symbol run the trace formats write, sorted.

    Writes traces of small Countdown problems (3 and 4 numbers) and 5x5 mazes with every
    algorithm of :data:`metacot_lab.search.ALGORITHMS` and every format of
    :data:`metacot_lab.traces.FORMATS` for the environment, both solved and cut short by
    a budget of one expansion (unsolved traces), and collects their pieces.
    """
    from ..envs import CountdownConfig, MazeConfig, generate_countdown, generate_mazes
    from ..search import ALGORITHMS
    from .registry import FORMATS

    problems = [
        *generate_countdown(2, CountdownConfig(num_numbers=3), seed=0),
        *generate_countdown(2, CountdownConfig(num_numbers=4), seed=0),
        *generate_mazes(2, MazeConfig(n=5), seed=0),
    ]
    found: set[str] = set()
    for problem in problems:
        formats = [f for f in FORMATS.values() if problem.kind in f.envs]
        for search in ALGORITHMS.values():
            for budget in (1, 200):
                tree = search(problem, budget=budget, seed=0)
                for fmt in formats:
                    found |= pieces_of(fmt.linearize(tree))
    return tuple(sorted(found))


def build_tokenizer(extra_words: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """The course tokenizer (see the module docstring); ``extra_words`` adds more pieces
    that become single tokens (each a run of letters or of symbols, no digits or spaces)."""
    extra = _check_extra_words(extra_words)
    pieces = sorted(set(format_pieces()) | set(extra))
    words = [p for p in pieces if p not in ASCII_CHARS]
    vocab_list = [*SPECIAL_TOKENS, *ASCII_CHARS, *words, *(" " + p for p in pieces)]
    vocab = {tok: i for i, tok in enumerate(vocab_list)}
    longest_first = sorted(pieces, key=lambda p: (-len(p), p))
    alternation = "|".join(_escape(p) for p in longest_first)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(
        Regex(f" ?(?:{alternation})|[0-9]|[\\s\\S]"), behavior="isolated"
    )
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        clean_up_tokenization_spaces=False,  # the clean-up would turn " !=" into "!="
    )


def _escape(piece: str) -> str:
    """``piece`` as a literal in the regex syntax of ``tokenizers`` (Oniguruma)."""
    return "".join(c if c.isalnum() else "\\" + c for c in piece)


def _check_extra_words(extra_words: Iterable[str]) -> list[str]:
    if isinstance(extra_words, str):
        raise ValueError(f"extra_words must be a list of words, got the string {extra_words!r}")
    words = list(extra_words)
    for w in words:
        if not (isinstance(w, str) and _PIECE.fullmatch(w) and set(w) <= set(ASCII_CHARS)):
            raise ValueError(
                "extra_words must hold runs of ASCII letters or of ASCII symbols (no digits, "
                f"spaces or mixtures), got {w!r}"
            )
    return words
