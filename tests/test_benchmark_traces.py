"""benchmarks/traces.py runs end to end with tiny sizes (figures are printed, not asserted)."""

from __future__ import annotations

import re

import pytest
from bench_helpers import load_benchmark

from metacot_lab.traces import formats_for

traces = load_benchmark("traces")
LINE = re.compile(r"^(\w+): (\d+\.\d) (tokens|%|rows/s)$")


def test_prints_one_figure_per_line(capsys):
    results = traces.main(["--problems", "4", "--rows", "4", "--seed", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(results)
    for line in lines:
        m = LINE.match(line)
        assert m, line
        assert m[2] == f"{results[m[1]]:.1f}"
    ctx = traces.CONTEXT
    for setting, env in (("countdown4_dfs", "countdown"), ("maze10_astar", "maze")):
        for fmt in formats_for(env):
            for stat in ("mean", "median", "p95", "over_4096", f"over_ctx{ctx}"):
                assert f"{setting}_{fmt}_{stat}" in results
        for num_proc in (1, 2):
            assert results[f"{setting}_metacot_build_num_proc{num_proc}"] > 0
    assert 0 < results["vocab_size"] < 300
    assert results["countdown4_dfs_solution_p95"] < results["countdown4_dfs_sos_p95"]


def test_percentile_is_nearest_rank():
    assert traces.percentile(list(range(1, 101)), 95) == 95
    assert traces.percentile([7], 95) == 7
    assert traces.percentile([3, 1, 2], 50) == 2


@pytest.mark.parametrize("argv", [["--problems", "0"], ["--rows", "-1"], ["--seed", "-1"]])
def test_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-")):
        traces.main(argv)
