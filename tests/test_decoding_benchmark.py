"""benchmarks/decoding.py runs end to end (figures are printed, not asserted: no timings)."""

from __future__ import annotations

import pytest
from bench_helpers import load_benchmark

decoding = load_benchmark("decoding")


def test_decoding_benchmark_times_both_caches_on_the_same_tokens(capsys):
    figures = decoding.main(["--checkpoint", "maze5-metacot", "--prompts", "3",
                             "--max-new-tokens", "24"])
    name = "decode_maze5-metacot"
    assert set(figures) == {f"{name}_dynamic", f"{name}_dynamic_seconds", f"{name}_static",
                            f"{name}_static_seconds", f"{name}_same_tokens"}
    assert figures[f"{name}_same_tokens"] == 1
    assert figures[f"{name}_static"] > 0
    assert len(capsys.readouterr().out.splitlines()) >= len(figures)


@pytest.mark.parametrize("argv", [["--checkpoint", "gpt2"], ["--prompts", "0"],
                                  ["--max-new-tokens", "0"], ["--seed", "-1"]])
def test_decoding_benchmark_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-").replace("-", "_")):
        decoding.main(argv)
