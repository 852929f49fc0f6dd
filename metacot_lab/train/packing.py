"""Packing tokenized examples into rows without cutting any of them.

``trl``'s fast ``"wrapped"`` packing concatenates every example and cuts the stream into rows
of ``max_length`` tokens: the labels stay right, but an example cut at a row boundary has its
tail trained without its prompt (for search traces: without the problem it searches). Its
document-aware ``"bfd"`` packing is ~10x slower on a CPU. :func:`pack_whole_examples` puts
whole examples into rows (best fit, longest first), so every completion token still sees its
own prompt; the rest of a row is padding, a few percent when rows hold several examples.
Each row also records its examples' lengths (``seq_lengths``, as ``trl``'s packing does):
``trl``'s collator then restarts the position ids at every example, and ``transformers``
masks attention between examples of a row, so each example is trained exactly as it is
generated, alone and from position 0.
"""

from __future__ import annotations

import bisect

from datasets import Dataset

from ..validation import check_int


def pack_rows(lengths: list[int], max_length: int) -> list[list[int]]:
    """Indices of examples per row: best-fit decreasing, each row's total ``<= max_length``;
    rows come out in a deterministic order (by their first example's index)."""
    check_int("max_length", max_length, 1)
    if any(n > max_length for n in lengths):
        raise ValueError(f"every example must be at most max_length={max_length} tokens, "
                         f"got {max(lengths)}")
    rows: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (space left, row index), sorted
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        k = bisect.bisect_left(free, (lengths[i], -1))
        if k == len(free):
            rows.append([i])
            space, row = max_length - lengths[i], len(rows) - 1
        else:
            space, row = free.pop(k)
            rows[row].append(i)
            space -= lengths[i]
        bisect.insort(free, (space, row))
    return sorted((sorted(r) for r in rows), key=lambda r: r[0])


def pack_whole_examples(dataset: Dataset, max_length: int) -> Dataset:
    """Rows of ``input_ids``, ``labels`` and ``seq_lengths`` (the lengths of the row's
    examples, in order) made of whole examples of ``dataset`` (which has ``input_ids`` and
    ``labels``, every example at most ``max_length`` tokens)."""
    ids, labels = list(dataset["input_ids"]), list(dataset["labels"])
    rows = pack_rows([len(x) for x in ids], max_length)
    return Dataset.from_dict({
        "input_ids": [[t for i in row for t in ids[i]] for row in rows],
        "labels": [[t for i in row for t in labels[i]] for row in rows],
        "seq_lengths": [[len(ids[i]) for i in row] for row in rows],
    })
