"""Tests of metacot_lab.viz: trees, mazes, curves and the step-through widget."""

from __future__ import annotations

import io
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import metacot_lab.search as search_pkg
from metacot_lab.envs import (
    Countdown,
    CountdownConfig,
    MazeConfig,
    generate_countdown,
    generate_mazes,
)
from metacot_lab.search import dfs
from metacot_lab.viz import (
    describe_event,
    draw_maze,
    draw_tree,
    has_front_end,
    plot_mean_spread,
    render_frame,
    select_nodes,
    step_through,
    tree_layout,
    visits_at,
)
from metacot_lab.viz import widgets as widgets_mod

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def _algorithms() -> dict:
    """Every search algorithm the package has (DFS until the others land)."""
    algorithms = getattr(search_pkg, "ALGORITHMS", None) or {"dfs": dfs.search}
    return {name: getattr(a, "search", a) for name, a in algorithms.items()}


ALGORITHMS = _algorithms()
MAZE = generate_mazes(1, MazeConfig(n=8), seed=1)[0]
COUNTDOWN = Countdown((4, 9, 3, 2), 24)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def big_tree():
    """A DFS tree of about two thousand nodes (Countdown with five numbers)."""
    problem = generate_countdown(5, CountdownConfig(num_numbers=5))[3]
    tree = dfs.search(problem)
    assert len(tree) > 1000
    return tree


def _drawn_nodes(fig: Figure) -> int:
    return sum(
        len(c.get_offsets())
        for ax in fig.axes
        for c in ax.collections
        if (c.get_gid() or "").startswith("nodes:")
    )


def _artist(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    return found[0] if found else None


def _render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


def _nodes_named_by(tree, k: int) -> set[int]:
    """Nodes named by the first k events, with their ancestors (independent of statuses_at)."""
    nodes: set[int] = set()
    for e in tree.events[:k]:
        nodes.update(tree.path_to(e.node))
    return nodes


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
@pytest.mark.parametrize("problem", [MAZE, COUNTDOWN], ids=["maze", "countdown"])
def test_every_algorithm_draws_on_both_envs(name, problem):
    tree = ALGORITHMS[name](problem, budget=2_000, seed=0)
    fig = draw_tree(tree)
    assert isinstance(fig, Figure)
    assert _drawn_nodes(fig) == len(select_nodes(tree).nodes)
    assert _render(fig).startswith(b"\x89PNG")
    if problem is MAZE:
        maze_fig = draw_maze(MAZE, tree)
        assert _render(maze_fig).startswith(b"\x89PNG")
        frame = render_frame(tree, len(tree.events) // 2)
        assert len(frame.axes) >= 2  # tree and maze side by side (plus the colorbar)


def test_big_tree_respects_max_nodes(big_tree):
    fig = draw_tree(big_tree, max_nodes=120)
    view = select_nodes(big_tree, max_nodes=120)
    assert _drawn_nodes(fig) == len(view.nodes) <= 120
    assert view.total == len(big_tree)
    assert f"showing {len(view.nodes)} of {len(big_tree)} nodes" in fig.axes[0].get_title()
    assert set(big_tree.solution_path()) <= set(view.nodes)
    assert sum(view.hidden.values()) == len(big_tree) - len(view.nodes)
    notes = [t for t in fig.axes[0].texts if t.get_gid() == "more"]
    assert sorted(int(t.get_text()[1:]) for t in notes) == sorted(view.hidden.values())
    for n in view.nodes:  # a connected drawing: every shown node's parent is shown
        parent = big_tree.node(n)["parent"]
        assert parent is None or parent in view.nodes


def test_summary_prefers_expanded_nodes(big_tree):
    view = select_nodes(big_tree, max_nodes=60)
    first_expanded = [e.node for e in big_tree.events if e.kind == "expand"][:20]
    assert set(first_expanded) <= set(view.nodes)


def test_small_tree_is_drawn_whole():
    tree = dfs.search(COUNTDOWN, threshold=24)
    view = select_nodes(tree)
    assert view.nodes == tuple(range(len(tree))) and not view.hidden
    assert "showing" not in draw_tree(tree).axes[0].get_title()


@pytest.mark.parametrize("problem", [MAZE, COUNTDOWN], ids=["maze", "countdown"])
def test_solution_edges_highlighted(problem):
    tree = dfs.search(problem)
    fig = draw_tree(tree, orient="down")
    ax = fig.axes[0]
    pos = tree_layout(tree)
    path = tree.solution_path()
    expected = {(pos[a], pos[b]) for a, b in zip(path, path[1:], strict=False)}
    segments = {tuple(map(tuple, s)) for s in _artist(ax, "solution_edges").get_segments()}
    assert segments == expected and len(segments) == len(path) - 1
    plain = _artist(ax, "edges")
    if plain is not None:
        assert not segments & {tuple(map(tuple, s)) for s in plain.get_segments()}
    assert tuple(_artist(ax, "nodes:goal").get_offsets()[0]) == pos[tree.goal_node]


def test_unsolved_tree_has_no_solution_edges():
    tree = dfs.search(Countdown((2, 3, 5), 99))  # no way to reach 99
    assert not tree.solved
    ax = draw_tree(tree).axes[0]
    assert _artist(ax, "solution_edges") is None and "not solved" in ax.get_title()


@pytest.mark.parametrize("problem", [MAZE, COUNTDOWN], ids=["maze", "countdown"])
def test_upto_event_draws_only_nodes_that_existed(problem):
    tree = dfs.search(problem, threshold=24 if problem is COUNTDOWN else None)
    n_events = len(tree.events)
    for k in (1, 2, n_events // 3, n_events // 2, n_events - 1):
        expected = _nodes_named_by(tree, k)
        view = select_nodes(tree, upto_event=k)
        assert set(view.nodes) == expected
        assert _drawn_nodes(draw_tree(tree, upto_event=k)) == len(expected)
        assert view.current == tree.events[k - 1].node
        expanded_later = {e.node for e in tree.events[k:] if e.kind == "expand"}
        expanded_by_k = {e.node for e in tree.events[:k] if e.kind == "expand"}
        for n in expanded_later - expanded_by_k:
            assert view.statuses.get(n, "generated") == "generated"
        assert not view.solution  # the goal event is the last one
    assert select_nodes(tree, upto_event=0).nodes == ()  # nothing exists before event 1
    assert tree.statuses_at(n_events) == tree.statuses_at()
    assert select_nodes(tree, upto_event=n_events).solution == tuple(tree.solution_path())


def test_tree_layout_root_on_top_parents_over_children(big_tree):
    pos = tree_layout(big_tree)
    assert len(set(pos.values())) == len(pos)  # no two nodes drawn on the same spot
    for n, (x, y) in pos.items():
        assert y == -big_tree.node(n)["depth"]
        kids = big_tree.children(n)
        if kids:
            assert x == (pos[kids[0]][0] + pos[kids[-1]][0]) / 2
            assert [pos[c][0] for c in kids] == sorted(pos[c][0] for c in kids)
    right = tree_layout(big_tree, orient="right")
    assert all(right[n] == (-pos[n][1], -pos[n][0]) for n in pos)


def test_labels_show_state_and_values():
    tree = dfs.search(COUNTDOWN, threshold=24)
    texts = [t.get_text() for t in draw_tree(tree, label="all").axes[0].texts]
    assert "4,9,3,2  h=19.5" in texts
    assert "24  h=0" in texts
    assert not [t for t in draw_tree(tree, label="none").axes[0].texts]
    maze_texts = [t.get_text() for t in draw_tree(dfs.search(MAZE), label="path").axes[0].texts]
    x, y = MAZE.start
    assert f"{x},{y}\nh={int(MAZE.heuristic(MAZE.start))}" in maze_texts


def test_draw_into_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    tree = dfs.search(MAZE)
    assert draw_tree(tree, ax=a) is fig
    assert draw_maze(MAZE, tree, ax=b) is fig
    assert a.get_title().startswith("DFS")


def test_maze_colours_expansions_and_draws_plan():
    tree = dfs.search(MAZE)
    ax = draw_maze(MAZE, tree).axes[0]
    ranks = next(im for im in ax.images if im.get_gid() == "expansions").get_array()
    expanded = {tree.node(e.node)["state"] for e in tree.events if e.kind == "expand"}
    assert int(ranks.count()) == len(expanded)
    first = tree.node(next(e.node for e in tree.events if e.kind == "expand"))["state"]
    assert ranks[first[1], first[0]] == 0
    line = next(a for a in ax.lines if a.get_gid() == "plan")
    assert list(zip(line.get_xdata(), line.get_ydata(), strict=True)) == tree.solution_states()
    plan = [MAZE.start]
    own = next(a for a in draw_maze(MAZE, plan=plan).axes[0].lines if a.get_gid() == "plan")
    assert list(zip(own.get_xdata(), own.get_ydata(), strict=True)) == plan


def test_maze_upto_event_colours_only_earlier_expansions():
    tree = dfs.search(MAZE)
    k = len(tree.events) // 2
    ax = draw_maze(MAZE, tree, upto_event=k).axes[0]
    ranks = next(im for im in ax.images if im.get_gid() == "expansions").get_array()
    expanded = {tree.node(e.node)["state"] for e in tree.events[:k] if e.kind == "expand"}
    assert int(ranks.count()) == len(expanded)
    line = next(a for a in ax.lines if a.get_gid() == "plan")  # the path to the current node
    current = tree.events[k - 1].node
    assert len(line.get_xdata()) == len(tree.path_to(current))


def test_describe_event():
    tree = dfs.search(COUNTDOWN, threshold=24)
    assert describe_event(tree, 0).startswith("event 0/")
    assert describe_event(tree, 3) == (
        f"event 3/{len(tree.events)}: generate node 1 (4, 2, 27) by 9*3=27"
    )
    k = next(i for i, e in enumerate(tree.events, 1) if e.kind == "expand" and e.node == 1)
    assert describe_event(tree, k) == f"event {k}/{len(tree.events)}: expand node 1 (4, 2, 27)"


def test_step_through_is_a_static_figure_outside_a_kernel(monkeypatch):
    tree = dfs.search(MAZE)
    assert not has_front_end()  # pytest is not a Jupyter kernel
    fig = step_through(tree, start=5)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == describe_event(tree, 5)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # ipywidgets not importable
    assert not has_front_end()
    assert isinstance(step_through(dfs.search(COUNTDOWN)), Figure)


def test_step_through_widget_redraws_on_slider(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(widgets_mod, "has_front_end", lambda: True)
    tree = dfs.search(MAZE)
    box = step_through(tree, start=3)
    (controls, caption, image) = box.children
    slider = controls.children[1]
    assert caption.value == describe_event(tree, 3)
    first = image.value
    slider.value = len(tree.events)
    assert caption.value == describe_event(tree, len(tree.events))
    assert bytes(image.value) != bytes(first) and bytes(image.value).startswith(b"\x89PNG")


def test_plot_mean_spread():
    fig = plot_mean_spread([1, 2, 3], {"bfs": [[1, 3], [2, 4], [5]], "a*": [[1], [1], [2]]},
                           xlabel="n", ylabel="expanded", logy=True)
    ax = fig.axes[0]
    assert np.allclose(ax.lines[0].get_ydata(), [2, 3, 5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["bfs", "a*"]


@pytest.mark.parametrize(
    "call",
    [
        lambda t: draw_tree("not a tree"),
        lambda t: draw_tree(t, max_nodes=0),
        lambda t: draw_tree(t, label="some"),
        lambda t: draw_tree(t, orient="up"),
        lambda t: draw_tree(t, upto_event=-1),
        lambda t: draw_tree(t, upto_event=len(t.events) + 1),
        lambda t: draw_tree(t, ax="axes"),
        lambda t: tree_layout(t, nodes=[1, 2]),
        lambda t: draw_maze("maze"),
        lambda t: draw_maze(generate_mazes(2, MazeConfig(n=8), seed=1)[1], t),
        lambda t: draw_maze(MAZE, upto_event=3),
        lambda t: draw_maze(MAZE, plan=[(0, 0), (MAZE.n, 0)]),
        lambda t: draw_maze(MAZE, plan="RRD"),
        lambda t: draw_maze(MAZE, t, cmap="no-such-map"),
        lambda t: step_through(t, kind="film"),
        lambda t: step_through(dfs.search(COUNTDOWN), kind="maze"),
        lambda t: step_through(t, start=len(t.events) + 1),
        lambda t: describe_event(t, len(t.events) + 1),
        lambda t: plot_mean_spread([1, 2], {"x": [[1]]}),
        lambda t: plot_mean_spread([1], {}),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call(dfs.search(MAZE))


@pytest.mark.skipif("mcts" not in ALGORITHMS, reason="MCTS not in metacot_lab.search yet")
@pytest.mark.parametrize("problem", [MAZE, COUNTDOWN], ids=["maze", "countdown"])
def test_mcts_labels_show_visits_as_they_were(problem):
    tree = ALGORITHMS["mcts"](problem, budget=200, seed=1)
    final = visits_at(tree)
    for n in tree.graph:
        visits, value = final.get(n, (0, 0.0))
        assert visits == tree.node(n)["visits"]
        assert value == pytest.approx(tree.node(n)["value"])
    k = len(tree.events) // 2
    backups = sum(e.kind == "backup" for e in tree.events[:k])
    assert visits_at(tree, k).get(tree.root, (0, 0.0))[0] == backups
    texts = [t.get_text() for t in draw_tree(tree, upto_event=k, label="path").axes[0].texts]
    assert any(f"N={backups}" in t for t in texts)  # the root's label, as of event k
