"""benchmarks/trace_formats.py runs end to end (figures are printed, not asserted)."""

from __future__ import annotations

import re

import pytest
from bench_helpers import load_benchmark

from metacot_lab.traces import formats_for

bench = load_benchmark("trace_formats")

LENGTH = re.compile(r"^(\w+): mean [\d.]+ median [\d.]+ p95 [\d.]+ max [\d.]+ tokens$")
RATE = re.compile(r"^(verify_\w+): ([\d.]+) traces/s$")


def test_trace_benchmark_prints_one_measurement_per_line(capsys):
    results = bench.main(["--problems", "4", "--seconds", "0.001", "--seed", "2"])
    lines = capsys.readouterr().out.splitlines()
    lengths = [m[1] for line in lines if (m := LENGTH.match(line))]
    rates = [m[1] for line in lines if (m := RATE.match(line))]
    assert len(lengths) + len(rates) == len(lines)
    formats = len(formats_for("countdown")) + len(formats_for("maze"))  # 4 + 5
    assert len(lengths) == formats * 3 and len(rates) == 4  # each format x 3 counts
    assert all(results[r] > 0 for r in rates)
    assert results["countdown4_dfs_metacot_pieces_mean"] < results["countdown4_dfs_sos_pieces_mean"]


@pytest.mark.parametrize("argv", [["--problems", "0"], ["--seconds", "0"], ["--seed", "-1"]])
def test_trace_benchmark_rejects_bad_options(argv):
    with pytest.raises(ValueError, match=argv[0].lstrip("-")):
        bench.main(argv)
