"""Printed figures round-trip through FigureLog.save and read_figures."""

from __future__ import annotations

import pytest

from metacot_lab.checkpoints import RESULTS_DIR
from metacot_lab.results import FigureLog, read_figures


def test_saved_figures_read_back_by_name(tmp_path, capsys):
    log = FigureLog()
    log.emit("cd4_metacot_test_solve_rate", 0.6137, 3)
    log.emit("cd4_metacot_train_tokens", 50023083, 0)
    path = log.save(tmp_path / "figures.txt")
    assert capsys.readouterr().out.splitlines() == path.read_text().splitlines()
    path.write_text("# how these were made\n\n" + path.read_text())
    assert read_figures(path) == {"cd4_metacot_test_solve_rate": 0.614,
                                  "cd4_metacot_train_tokens": 50023083.0}


@pytest.mark.parametrize("line", ["solve_rate 0.5", "solve_rate: high", "a b: 1", ": 1"])
def test_a_line_that_is_not_a_figure_names_the_file_and_line(tmp_path, line):
    path = tmp_path / "figures.txt"
    path.write_text(f"ok: 1\n{line}\n")
    with pytest.raises(ValueError, match="line 2"):
        read_figures(path)


def test_shipped_gpu_figures_compare_both_formats_at_equal_tokens():
    figures = read_figures(RESULTS_DIR / "gpu" / "countdown4-h200.txt")
    tokens = {f: figures[f"countdown4_{f}_train_tokens"] for f in ("solution", "metacot")}
    assert abs(tokens["solution"] - tokens["metacot"]) < 0.001 * tokens["solution"]
    for fmt in ("solution", "metacot"):
        for split in ("test", "test_heldout_targets"):
            assert 0.0 <= figures[f"countdown4_{fmt}_{split}_solve_rate"] <= 1.0
