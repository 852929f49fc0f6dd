"""Step through a search event by event: a slider (and Play button) that redraws the tree,
and the maze beside it for mazes. Without a notebook front end (no ipywidgets, or not inside
a Jupyter kernel) :func:`step_through` returns one static figure instead."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..search.tree import SearchTree
from ..validation import check_choice, check_int
from .maze import draw_maze
from .tree import MAX_NODES_LIMIT, check_tree, check_upto_event, draw_tree

KINDS: tuple[str, ...] = ("auto", "tree", "maze", "both")


def describe_event(tree: SearchTree, k: int) -> str:
    """The ``k``-th event (1-based) in words, e.g. ``"event 12/80: expand node 5 (4, 27)"``."""
    check_tree(tree)
    k = check_int("k", k, 0, len(tree.events))
    if k == 0:
        return f"event 0/{len(tree.events)}: before the search starts"
    kind, node, value = tree.events[k - 1]
    attrs = tree.graph.nodes[node]
    text = f"event {k}/{len(tree.events)}: {kind} node {node} {attrs['state']}"
    if attrs["action"] is not None and kind == "generate":
        parent_state = tree.graph.nodes[attrs["parent"]]["state"]
        text += f" by {tree.problem.describe_action(parent_state, attrs['action'])}"
    if value is not None:
        text += f", value {value:.3g}"
    return text


def has_front_end() -> bool:
    """True inside a Jupyter kernel (a ZMQInteractiveShell) with ipywidgets importable."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def render_frame(
    tree: SearchTree, k: int | None = None, kind: str = "auto", max_nodes: int = 150
) -> Figure:
    """One frame: the tree (and/or maze) after the first ``k`` events (default: all)."""
    check_tree(tree)
    kind = _resolve_kind(tree, kind)
    k = len(tree.events) if k is None else check_upto_event(tree, k)
    check_int("max_nodes", max_nodes, 1, MAX_NODES_LIMIT)
    if kind == "both":
        fig = Figure(figsize=(13, 6.5), layout="constrained")
        tree_ax, maze_ax = fig.subplots(1, 2, width_ratios=[1.5, 1])
        draw_tree(tree, ax=tree_ax, max_nodes=max_nodes, upto_event=k)
        draw_maze(tree.problem, tree, ax=maze_ax, upto_event=k)
    elif kind == "maze":
        fig = draw_maze(tree.problem, tree, upto_event=k)
    else:
        fig = draw_tree(tree, max_nodes=max_nodes, upto_event=k)
    fig.suptitle(describe_event(tree, k), fontsize=11, x=0.02, ha="left")
    return fig


def step_through(
    tree: SearchTree, kind: str = "auto", start: int | None = None, max_nodes: int = 150
) -> Any:
    """An ipywidgets box to step through ``tree``'s events; outside a notebook front end, the
    static :func:`render_frame` at ``start`` (default: the end) instead.

    ``kind``: "tree", "maze", "both" (tree and maze side by side), or "auto" (both for a
    maze, the tree otherwise).
    """
    check_tree(tree)
    _resolve_kind(tree, kind)
    start = len(tree.events) if start is None else check_upto_event(tree, start)
    check_int("max_nodes", max_nodes, 1, MAX_NODES_LIMIT)
    if not has_front_end():
        return render_frame(tree, start, kind, max_nodes)
    import ipywidgets as widgets

    n = len(tree.events)
    slider = widgets.IntSlider(value=start, min=0, max=n, description="event",
                               continuous_update=False, layout={"width": "60%"})
    play = widgets.Play(value=start, min=0, max=n, interval=500, description="play")
    widgets.jslink((play, "value"), (slider, "value"))
    caption = widgets.Label()
    image = widgets.Image(format="png")

    def redraw(_: Any = None) -> None:
        fig = render_frame(tree, slider.value, kind, max_nodes)
        buffer = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buffer)
        image.value = buffer.getvalue()
        caption.value = describe_event(tree, slider.value)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([play, slider]), caption, image])


def _resolve_kind(tree: SearchTree, kind: str) -> str:
    check_choice("kind", kind, KINDS)
    is_maze = getattr(tree.problem, "kind", None) == "maze"
    if kind == "auto":
        return "both" if is_maze else "tree"
    if kind in ("maze", "both") and not is_maze:
        raise ValueError(f"kind={kind!r} needs a maze search, got a {tree.problem.kind} search")
    return kind
