"""Decoding speed of a shipped checkpoint: the compact loop against ``model.generate``.

Prints one figure per line: ``decode_<checkpoint>_<cache>`` is tokens generated (``<eos>``
included) per second of wall time, ``..._seconds`` the wall time of the batch, for each of
``--caches`` (default: the course's ``compact`` loop, then ``generate`` with the static and
the dynamic cache)::

    .venv/bin/python benchmarks/decoding.py [--checkpoint countdown4-metacot] [--prompts 64]
        [--max-new-tokens 1024] [--caches compact,static,dynamic] [--seed 0]

The prompts are the first ``--prompts`` test problems of the checkpoint's task (its card's
environment, size, number range and seed), generated greedily in one batch, so every cache
should produce the same tokens; ``..._<cache>_same_tokens`` (1 or 0) says whether a cache
wrote exactly the first one's texts. Long search traces are where the caches differ (see
:mod:`metacot_lab.inference`). Timings are wall time and share the CPU with whatever else
runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from metacot_lab.checkpoints import available_checkpoints, load_checkpoint, read_card
from metacot_lab.data import TRACE_ALGORITHM, build_dataset, env_kwargs_for
from metacot_lab.inference import CACHES, generate
from metacot_lab.results import FigureLog
from metacot_lab.validation import check_choice, check_int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line (``ValueError`` naming the bad option)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="countdown4-metacot")
    p.add_argument("--prompts", type=int, default=64, help="prompts in the one batch")
    p.add_argument("--max-new-tokens", type=int, default=1024)
    p.add_argument("--caches", default="compact,static,dynamic",
                   help="caches to time, comma-separated; the first is the reference")
    p.add_argument("--seed", type=int, default=0)
    ns = p.parse_args(argv)
    ns.caches = [c for c in ns.caches.split(",") if c]
    if not ns.caches:
        raise ValueError("caches must name at least one cache")
    for cache in ns.caches:
        check_choice("caches", cache, [c for c in CACHES if c != "auto"])
    check_choice("checkpoint", ns.checkpoint, available_checkpoints())
    check_int("prompts", ns.prompts, 1, 4096)
    check_int("max_new_tokens", ns.max_new_tokens, 1, 1 << 16)
    check_int("seed", ns.seed, 0)
    return ns


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Time each cache, print one figure per line, and return the figures by name."""
    ns = parse_args(argv)
    card = read_card(ns.checkpoint)
    env = card["env"]
    kwargs = env_kwargs_for(env, card["size"], tuple(card.get("number_range") or (1, 15)))
    data = build_dataset(env, TRACE_ALGORITHM[env], card["format"], 0, 0, ns.prompts, 0,
                         seed=card["seed"], env_kwargs=kwargs)
    prompts = list(data["test"]["prompt"])
    model, tokenizer = load_checkpoint(ns.checkpoint)
    log, texts = FigureLog(), {}
    for cache in ns.caches:
        start = time.perf_counter()
        gens = generate(model, tokenizer, prompts, max_new_tokens=ns.max_new_tokens,
                        batch_size=len(prompts), seed=ns.seed, cache=cache)
        seconds = time.perf_counter() - start
        tokens = sum(g.tokens for gs in gens for g in gs)
        texts[cache] = [g.text for gs in gens for g in gs]
        log.emit(f"decode_{ns.checkpoint}_{cache}", tokens / seconds, 0)
        log.emit(f"decode_{ns.checkpoint}_{cache}_seconds", seconds, 1)
    first = ns.caches[0]
    for cache in ns.caches[1:]:
        log.emit(f"decode_{ns.checkpoint}_{cache}_same_tokens", int(texts[cache] == texts[first]),
                 0)
    return log.figures


if __name__ == "__main__":
    main(sys.argv[1:])
