"""benchmarks/training.py runs end to end (figures are printed, not asserted: no timings)."""

from __future__ import annotations

import re

import pytest
from bench_helpers import load_benchmark

LINE = re.compile(r"^(\w+): (\d+) tokens/s \((\d+\.\d\d)x STACK\.md [\w. ]+ [\d,]+/s\)$")


training = load_benchmark("training")


def test_training_benchmark_prints_one_figure_per_line(capsys):
    results = training.main(["--sizes", "1m", "--steps", "1", "--rows", "64"])
    lines = [x for x in capsys.readouterr().out.splitlines() if LINE.match(x)]
    assert len(lines) == len(results) == 5
    assert set(results) == {"sft_1m_padded_fp32", "sft_1m_whole_fp32", "sft_1m_whole_bf16",
                            "sft_1m_wrapped_bf16", "generate_1m"}
    assert all(v > 0 for v in results.values())


@pytest.mark.parametrize("argv", [["--sizes", "7b"], ["--steps", "0"], ["--rows", "10"],
                                  ["--seed", "-1"]])
def test_training_benchmark_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-")):
        training.main(argv)
