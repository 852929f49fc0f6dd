"""The short teaching versions written inline in notebooks agree with the package.

Only a notebook's definition cells (imports, ``def`` and ``class`` statements) are run,
as in rasbt's ``import_definitions_from_notebook``: nothing else in the notebook executes.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from metacot_lab.envs import (
    Countdown,
    CountdownConfig,
    MazeConfig,
    game_of_24,
    generate_countdown,
    generate_mazes,
)
from metacot_lab.search import bfs, dfs

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def definitions_from_notebook(name: str) -> dict[str, Any]:
    """Execute only the definition cells of ``notebooks/name`` and return their namespace."""
    cells = json.loads((NOTEBOOKS / name).read_text())["cells"]
    namespace: dict[str, Any] = {}
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "%" in source:  # magics are not Python
            continue
        body = ast.parse(source).body
        if body and all(isinstance(s, _DEFINITIONS) for s in body) and any(
            isinstance(s, ast.FunctionDef | ast.ClassDef) for s in body
        ):
            exec(compile(source, name, "exec"), namespace)  # noqa: S102 - our own notebook
    return namespace


def test_definition_cells_only():
    ns = definitions_from_notebook("01_search_on_mazes.ipynb")
    assert "bfs_teaching" in ns
    assert "maze" not in ns and "trees" not in ns  # the notebook's other cells did not run


@pytest.mark.parametrize("n", [5, 10, 16])
def test_notebook_01_bfs_matches_package(n):
    bfs_teaching = definitions_from_notebook("01_search_on_mazes.ipynb")["bfs_teaching"]
    for maze in generate_mazes(8, MazeConfig(n=n), seed=11):
        plan, expanded = bfs_teaching(maze)
        tree = bfs.search(maze)
        assert plan == tree.solution_states()
        assert expanded == [tree.node(e.node)["state"] for e in tree.iter_events(("expand",))]


def test_notebook_02_solver_matches_package():
    solve_teaching = definitions_from_notebook("02_search_on_countdown.ipynb")["solve_teaching"]
    problems = game_of_24(30, seed=5) + generate_countdown(20, CountdownConfig(num_numbers=3))
    problems += [Countdown((2, 3, 5), 99), Countdown((1, 1, 1), 50)]  # no answer exists
    for p in problems:
        steps = solve_teaching(p)
        assert (steps is not None) == dfs.search(p).solved
        assert steps is None or p.verify(steps)
    assert sum(solve_teaching(p) is None for p in problems) == 2


def test_notebook_05_lora_layer_matches_peft():
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    lora_teaching = definitions_from_notebook("05_lora_teaches_search.ipynb")["LoRALinear"]
    torch.manual_seed(0)
    layer = torch.nn.Linear(12, 10)
    ours = lora_teaching(copy.deepcopy(layer), r=4, alpha=8)
    x = torch.randn(3, 12)
    with torch.no_grad():
        assert torch.equal(ours(x), layer(x))  # B starts at zero: the base layer exactly
    assert [n for n, p in ours.named_parameters() if p.requires_grad] == ["A", "B"]

    holder = torch.nn.Sequential()
    holder.add_module("proj", copy.deepcopy(layer))
    wrapped = get_peft_model(holder, LoraConfig(r=4, lora_alpha=8, target_modules=["proj"]))
    theirs = wrapped.base_model.model.proj
    torch.nn.init.normal_(theirs.lora_B["default"].weight)  # as if trained
    with torch.no_grad():
        ours.A.copy_(theirs.lora_A["default"].weight)
        ours.B.copy_(theirs.lora_B["default"].weight)
        assert not torch.allclose(ours(x), layer(x))
        assert torch.allclose(ours(x), theirs(x), atol=1e-6)
