"""The trace viewer: pieces join back to the trace, roles follow the parsed steps, garbage
and tampered text never raise, HTML renders without a front end."""

from __future__ import annotations

import pytest

from metacot_lab.envs import CountdownConfig, MazeConfig, generate_countdown, generate_mazes
from metacot_lab.search import astar, dfs
from metacot_lab.traces import FORMATS, formats_for
from metacot_lab.viz.trace_view import ROLES, highlight_trace


def _countdown_tree():
    problems = generate_countdown(5, CountdownConfig(num_numbers=4), "val", 0)
    return dfs.search(problems[3], threshold=problems[3].target, seed=0)


def _maze_tree():
    return astar.search(generate_mazes(1, MazeConfig(n=10), "val", 0)[0], seed=0)


@pytest.mark.parametrize(("env", "make"), [("countdown", _countdown_tree), ("maze", _maze_tree)])
def test_pieces_join_back_and_roles_match_the_steps(env, make):
    tree = make()
    for name in formats_for(env):
        text = FORMATS[name].linearize(tree)
        view = highlight_trace(text, name)
        assert view.text == text and view.error is None
        assert {role for role, _ in view.segments} <= set(ROLES)
        counts = view.counts()
        assert counts.get("goal") == 1  # the tree is solved: one goal claim
        kinds = [s.kind for s in FORMATS[name].parse(text).steps]
        if "backtrack" in kinds:
            assert counts.get("backtrack", 0) >= 1
        else:
            assert "backtrack" not in counts


def test_metacot_marks_backtracking_and_verification_lines():
    view = highlight_trace(FORMATS["metacot"].linearize(_countdown_tree()), "metacot")
    by_role = {}
    for role, piece in view.segments:
        by_role.setdefault(role, []).append(piece.strip())
    assert all(p.startswith("back ") for p in by_role["backtrack"])
    assert all(" != " in p for p in by_role["verify"])
    assert by_role["goal"][0].endswith("goal")
    assert by_role["prompt"][0].startswith("target ")


def test_garbage_is_an_error_piece_not_an_exception():
    text = FORMATS["metacot"].linearize(_countdown_tree())
    broken = text[:60] + "@@ nonsense ((\n" + text[60:]
    view = highlight_trace(broken, "metacot")
    assert view.error is not None and view.segments[-1][0] == "error"
    assert view.text == broken
    assert highlight_trace("", "sos").segments == ()
    assert highlight_trace("complete garbage", "searchformer").text == "complete garbage"


def test_html_renders_headless_and_escapes():
    view = highlight_trace("target 5 nums 1 <b>\n", "metacot")
    page = view._repr_html_()
    assert "<b>\n" not in page and "&lt;b&gt;" in page
    long = highlight_trace(FORMATS["sos"].linearize(_countdown_tree()), "sos")
    assert len(long.html(max_chars=200)) < len(long.html())
    assert "[" in str(long)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="text"):
        highlight_trace(None, "metacot")
    with pytest.raises(ValueError, match="format"):
        highlight_trace("x", "yaml")
