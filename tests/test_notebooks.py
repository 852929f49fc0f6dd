"""Every notebook follows the template in STYLE.md (structure only; nbmake runs them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
BADGE_URL = "https://colab.research.google.com/github/metacot-lab/metacot_lab/blob/main/notebooks/"
MAX_LINE = 88


def _cells(path: Path) -> list[tuple[str, str, dict]]:
    cells = json.loads(path.read_text())["cells"]
    return [(c["cell_type"], "".join(c["source"]), c) for c in cells]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_template(path):
    cells = _cells(path)
    number = path.name[:2]
    kind, first, _ = cells[0]
    assert kind == "markdown" and first.startswith(f"# {number} · ")
    assert f"({BADGE_URL}{path.name})" in first  # the badge opens this very notebook
    setup = cells[1][1]
    assert cells[1][0] == "code" and '"google.colab" in sys.modules' in setup
    assert "from metacot_lab.config import QUICK" in setup and "seed_everything(" in setup
    assert "__version__" in cells[2][1]  # the version-print cell
    headings = [s for k, s, _ in cells if k == "markdown"]
    text = "\n".join(headings)
    for heading in ("## What you will learn", "## Prerequisites", "## Summary", "## Exercises"):
        assert heading in text, heading
    assert re.search(rf"^## {int(number)}\.1 ", text, re.M), "numbered sections N.1, N.2, ..."
    ids = [c.get("id") for _, _, c in cells]  # nbformat 4.5: every cell has a unique id
    assert None not in ids and len(set(ids)) == len(ids), "cell ids"
    code = [(s, c) for k, s, c in cells if k == "code"]
    assert any(re.search(r"\bif QUICK else\b", s) for s, _ in code), "a parameters cell"
    assert any("assert " in s for s, _ in code), "self-check asserts"
    for source, cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "strip outputs"
        for line in source.splitlines():
            assert len(line) <= MAX_LINE, line
        assert not re.search(r"['\"](/home|/work|/tmp|/Users|[A-Z]:\\)", source), source
