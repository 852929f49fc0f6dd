"""Training and generation throughput of the tiny Llamas with our trainer, on this machine.

Prints one figure per line, ``name: value tokens/s (ratio to STACK.md's reference)``::

    .venv/bin/python benchmarks/training.py [--sizes 1m,5m] [--steps 10] [--rows 400] [--seed 0]

Data: Countdown-3 (numbers 1-15, as STACK.md measured) DFS traces in the compact Meta-CoT
format with the course tokenizer, ``--rows`` train rows. Each ``sft_*`` figure is one
:func:`~metacot_lab.train.train_sft` run of ``--steps`` optimizer steps, about 8k sequence
tokens per step, counted without padding over the trainer's loop (its first step
included):

* ``padded``: a batch of 32 examples padded to the longest (no packing);
* ``whole``: ``packing="whole"``, 8 rows of 1,024 tokens made of whole examples;
* ``wrapped``: ``packing="wrapped"``, 32 rows of 256 tokens cut from the stream of examples
  (STACK.md's plain-loop setting);
* ``fp32`` or ``bf16`` (CPU autocast).

``generate_*`` is :func:`~metacot_lab.inference.generate` sampling 128 new tokens for 64
prompts in one batch with the KV cache (an untrained model: rows end at random ``<eos>``).
Timings are wall time and share the CPU with whatever else runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from metacot_lab.data import build_dataset
from metacot_lab.inference import generate
from metacot_lab.models import build_model
from metacot_lab.traces.tokenizer import build_tokenizer
from metacot_lab.train import SFTRunConfig, train_sft
from metacot_lab.validation import check_choice, check_int

# STACK.md's references (2-core CPU, plain training loop, packed 32x256, bf16 autocast; and
# batch-64 generation of 128 tokens): tokens/s of a 1.06M and a 4.21M model.
REFERENCE = {
    "1m": {"sft": 17_000.0, "generate": 9_000.0, "what": "1.06M"},
    "5m": {"sft": 7_500.0, "generate": 4_000.0, "what": "4.21M"},
}
SETTINGS = {  # name: (packing, max_length, batch_size)
    "padded": (None, 1024, 32),
    "whole": ("whole", 1024, 8),
    "wrapped": ("wrapped", 256, 32),
}
RUNS = [("padded", "fp32"), ("whole", "fp32"), ("whole", "bf16"), ("wrapped", "bf16")]


def countdown3_traces(rows: int, seed: int):
    """``rows`` Meta-CoT DFS traces of Countdown-3 problems with numbers 1-15."""
    return build_dataset("countdown", "dfs", "metacot", rows, 0, 0, 0, seed=seed,
                         env_kwargs={"num_numbers": 3, "number_range": (1, 15)})["train"]


def sft_rate(size: str, setting: str, dtype: str, data, tokenizer, steps: int,
             seed: int) -> float:
    """Tokens/s of one training run."""
    packing, max_length, batch_size = SETTINGS[setting]
    model = build_model(size, tokenizer, seed=seed)
    result = train_sft(model, tokenizer, data, SFTRunConfig(
        seed=seed, batch_size=batch_size, max_length=max_length, max_steps=steps,
        packing=packing, bf16=dtype == "bf16", progress=False, logging_steps=steps))
    return result.tokens_per_second


def generate_rate(size: str, data, tokenizer, seed: int) -> float:
    """Tokens/s of sampling 128 tokens for 64 prompts in one batch."""
    model = build_model(size, tokenizer, seed=seed)
    prompts = list(data["prompt"][:64])
    generate(model, tokenizer, prompts[:4], max_new_tokens=4)  # warm-up
    start = time.perf_counter()
    gens = generate(model, tokenizer, prompts, max_new_tokens=128, temperature=1.0,
                    batch_size=64, seed=seed)
    elapsed = time.perf_counter() - start
    return sum(g.tokens for gs in gens for g in gs) / elapsed


def _line(name: str, value: float, reference: float, what: str) -> str:
    return f"{name}: {value:.0f} tokens/s ({value / reference:.2f}x STACK.md {what} " \
           f"{reference:,.0f}/s)"


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Run every measurement, print one line each, and return the figures by name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,5m", help="model sizes, comma-separated")
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps per run")
    parser.add_argument("--rows", type=int, default=400, help="training traces")
    parser.add_argument("--seed", type=int, default=0, help="fixes data and models")
    args = parser.parse_args(argv)
    sizes = [check_choice("sizes", s, tuple(REFERENCE)) for s in args.sizes.split(",")]
    steps = check_int("steps", args.steps, 1, 100_000)
    rows = check_int("rows", args.rows, 64, 1_000_000)
    seed = check_int("seed", args.seed, 0)
    tokenizer = build_tokenizer()
    data = countdown3_traces(rows, seed)
    results = {}
    for size in sizes:
        ref = REFERENCE[size]
        what = f"{ref['what']} model"
        for setting, dtype in RUNS:
            name = f"sft_{size}_{setting}_{dtype}"
            results[name] = sft_rate(size, setting, dtype, data, tokenizer, steps, seed)
            print(_line(name, results[name], ref["sft"], f"{what} training"), flush=True)
        name = f"generate_{size}"
        results[name] = generate_rate(size, data, tokenizer, seed)
        print(_line(name, results[name], ref["generate"], f"{what} generation"), flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
