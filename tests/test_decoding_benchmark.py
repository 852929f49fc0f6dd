"""benchmarks/decoding.py runs end to end (figures are printed, not asserted: no timings)."""

from __future__ import annotations

import pytest
from bench_helpers import load_benchmark

decoding = load_benchmark("decoding")


def test_decoding_benchmark_times_every_cache_on_the_same_tokens(capsys):
    figures = decoding.main(["--checkpoint", "maze5-metacot", "--prompts", "3",
                             "--max-new-tokens", "24"])
    name = "decode_maze5-metacot"
    caches = ("compact", "static", "dynamic")
    assert set(figures) == {f"{name}_{c}{s}" for c in caches for s in ("", "_seconds")} | {
        f"{name}_static_same_tokens", f"{name}_dynamic_same_tokens"}
    assert figures[f"{name}_static_same_tokens"] == figures[f"{name}_dynamic_same_tokens"] == 1
    assert all(figures[f"{name}_{c}"] > 0 for c in caches)
    assert len(capsys.readouterr().out.splitlines()) >= len(figures)


@pytest.mark.parametrize("argv", [["--checkpoint", "gpt2"], ["--prompts", "0"],
                                  ["--max-new-tokens", "0"], ["--seed", "-1"],
                                  ["--caches", "auto"], ["--caches", ","]])
def test_decoding_benchmark_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-").replace("-", "_")):
        decoding.main(argv)
