"""Colours, marker styles and figure creation shared by the drawing functions.

Drawing functions never touch pyplot's global state: without an ``ax`` they build a bare
:class:`matplotlib.figure.Figure` (rendered by the Agg canvas on save or display), so they
work headless, leak no figures and never switch the user's backend.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

# Node styles by SearchTree status: face colour, edge colour, hatch, marker, legend text.
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "expanded": {"face": "#9ecae1", "edge": "#2b6ca3", "hatch": None, "marker": "o",
                 "label": "expanded"},
    "generated": {"face": "#ffffff", "edge": "#2b6ca3", "hatch": None, "marker": "o",
                  "label": "generated only"},
    "dead_end": {"face": "#a8a8a8", "edge": "#6b6b6b", "hatch": None, "marker": "X",
                 "label": "dead end"},
    "pruned": {"face": "#ececec", "edge": "#9a9a9a", "hatch": "////", "marker": "o",
               "label": "pruned"},
    "goal": {"face": "#ffd21f", "edge": "#8a6d00", "hatch": None, "marker": "*",
             "label": "goal"},
}
SOLUTION_COLOR = "#d62728"  # the solution path, in trees and mazes
CURRENT_COLOR = "#ff7f0e"  # the node the step-through is at
INVALID_COLOR = "#c51b7d"  # a node or cell whose step broke the rules (tree_from_trace)
EDGE_COLOR = "#9a9a9a"
WALL_COLOR = "#2f3440"
OPEN_COLOR = "#f6f6f2"
START_COLOR = "#1a9850"


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a fresh pyplot-free figure of ``figsize`` inches."""
    if ax is not None:
        if not isinstance(ax, Axes):
            raise ValueError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def axes_size_inches(ax: Axes) -> tuple[float, float]:
    """Width and height of ``ax`` in inches (its share of the figure)."""
    box = ax.get_position()
    return box.width * ax.figure.get_figwidth(), box.height * ax.figure.get_figheight()


ALGORITHM_TITLES = {
    "astar": "A*", "bfs": "BFS", "dfs": "DFS", "beam": "Beam", "mcts": "MCTS",
    "trace": "Trace",  # a tree rebuilt from a trace (tree_from_trace)
}


def algorithm_title(name: str) -> str:
    """How figures name an algorithm: ``"astar"`` -> ``"A*"``, unknown names upper-cased."""
    return ALGORITHM_TITLES.get(name, name.upper())


def problem_title(problem: Any) -> str:
    """A one-line name for a problem, e.g. ``"Countdown: 24 from [4, 9, 3, 2]"``."""
    kind = getattr(problem, "kind", None)
    if kind == "countdown":
        return f"Countdown: {problem.target} from {list(problem.numbers)}"
    if kind == "maze":
        return f"{problem.n}×{problem.n} maze"
    return type(problem).__name__


def state_text(state: Any) -> str:
    """A compact state label: ``(4, 9, 3)`` -> ``"4,9,3"`` (Countdown), ``(2, 5)`` -> ``"2,5"``."""
    if isinstance(state, tuple):
        return ",".join(str(v) for v in state)
    return str(state)


def number_text(value: float) -> str:
    """``3.0`` -> ``"3"``, ``6.333`` -> ``"6.3"``, ``0.4567`` -> ``"0.46"``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"
