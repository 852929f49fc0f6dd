"""Pure drawing functions (each returns a matplotlib Figure and accepts an optional ``ax``)
and a step-through widget that falls back to a static figure without a notebook front end.

Without an ``ax`` the functions build a figure outside pyplot (nothing to close, no backend
switched); Jupyter displays it once the inline backend is on (``%matplotlib inline``, as
the course notebooks do, or any earlier pyplot figure)."""

from .curves import plot_mean_spread
from .maze import draw_maze, expansion_order
from .rl import plot_pass_at_k, plot_rl_training, plot_search_behaviour
from .trace_view import HighlightedTrace, highlight_trace
from .tree import TreeView, draw_tree, node_label, select_nodes, tree_layout, visits_at
from .widgets import describe_event, has_front_end, render_frame, step_through

__all__ = [
    "HighlightedTrace",
    "TreeView",
    "describe_event",
    "draw_maze",
    "draw_tree",
    "expansion_order",
    "has_front_end",
    "highlight_trace",
    "node_label",
    "plot_mean_spread",
    "plot_pass_at_k",
    "plot_rl_training",
    "plot_search_behaviour",
    "render_frame",
    "select_nodes",
    "step_through",
    "tree_layout",
    "visits_at",
]
