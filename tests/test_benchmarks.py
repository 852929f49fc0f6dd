"""The benchmark scripts run end to end (figures are printed, not asserted: no timing checks)."""

from __future__ import annotations

import re

import pytest
from bench_helpers import load_benchmark

generation = load_benchmark("generation")
LINE = re.compile(r"^(\w+): (\d+\.\d) (problems|mazes)/s \((\d+\.\d)x [\w ]+ [\d,.]+/s\)$")


@pytest.mark.parametrize("threshold, generate", [("target", True), ("none", True),
                                                  ("target", False)])
def test_countdown_figures_are_positive(threshold, generate):
    assert generation.countdown_rate(1, 0.001, threshold, generate) > 0


def test_generation_benchmark_prints_one_figure_per_line(capsys):
    pytest.importorskip("metacot_lab.search.astar", reason="A* is written by another helper")
    results = generation.main(["--seconds", "0.001", "--seed", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(results) == 5
    for line in lines:
        m = LINE.match(line)
        assert m, line
        assert results[m[1]] > 0
    assert {"countdown4_generate_dfs_sos", "maze10_generate_astar", "maze30_generate_astar"} <= set(
        results
    )


@pytest.mark.parametrize("argv", [["--seconds", "0"], ["--seconds", "-1"], ["--seed", "-1"]])
def test_generation_benchmark_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-")):
        generation.main(argv)
