"""benchmarks/traces.py runs end to end with tiny sizes (figures are printed, not asserted)."""

from __future__ import annotations

import re

import pytest
from bench_helpers import load_benchmark

from metacot_lab.traces import formats_for

traces = load_benchmark("traces")
LINE = re.compile(r"^(\w+): (\d+\.\d+) (tokens|%|rows/s|ms/KB|x)$")


def test_prints_one_figure_per_line(capsys):
    results = traces.main(["--problems", "4", "--rows", "4", "--seed", "2",
                           "--verify-sizes", "1000,4000"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(results)
    for line in lines:
        m = LINE.match(line)
        assert m, line
        digits = len(m[2].split(".")[1])
        assert m[2] == f"{results[m[1]]:.{digits}f}"
    ctx = traces.CONTEXT
    for setting, env in (("countdown4_dfs", "countdown"), ("maze10_astar", "maze")):
        for fmt in formats_for(env):
            for stat in ("mean", "median", "p95", "over_4096", f"over_ctx{ctx}"):
                assert f"{setting}_{fmt}_{stat}" in results
        for num_proc in (1, 2):
            assert results[f"{setting}_metacot_build_num_proc{num_proc}"] > 0
    assert 0 < results["vocab_size"] < 300
    for fmt in traces.WALK_FORMATS:
        assert {f"verify_{fmt}_ms_per_kb_1kb", f"verify_{fmt}_ms_per_kb_4kb",
                f"verify_{fmt}_ratio"} <= set(results)
    assert results["countdown4_dfs_solution_p95"] < results["countdown4_dfs_sos_p95"]


def test_percentile_is_nearest_rank():
    assert traces.percentile(list(range(1, 101)), 95) == 95
    assert traces.percentile([7], 95) == 7
    assert traces.percentile([3, 1, 2], 50) == 2


@pytest.mark.parametrize("format", ["solution", "metacot", "searchformer"])
def test_long_walks_are_legal_and_long_enough(format):
    text = traces.long_walk(30_000, format)  # past the 4,094 distinct cells: back and forth
    assert len(text) >= 30_000
    verdict = traces.verify_trace(traces.WALK_MAZE, text, format)
    assert verdict.valid and not verdict.solved


@pytest.mark.parametrize("argv", [["--problems", "0"], ["--rows", "-1"], ["--seed", "-1"],
                                  ["--verify-sizes", "10"], ["--verify-sizes", "1k"]])
def test_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-").replace("-", "[-_]")):
        traces.main(argv)
