"""Draw a maze: walls, start, goal, the cells a search expanded (coloured by when) and a plan.

A tree rebuilt from a model's trace (:func:`~metacot_lab.traces.tree_from_trace`) may name
cells off the grid or break the rules: cells outside the grid are left out, and the cells of
nodes with an ``error`` are framed in :data:`~metacot_lab.viz.style.INVALID_COLOR`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke

from ..envs.maze import Maze
from ..search.tree import SearchTree
from ..validation import check_int
from .style import (
    CURRENT_COLOR,
    INVALID_COLOR,
    OPEN_COLOR,
    SOLUTION_COLOR,
    START_COLOR,
    WALL_COLOR,
    algorithm_title,
    new_axes,
)
from .tree import check_tree, check_upto_event


def expansion_order(tree: SearchTree, upto_event: int | None = None) -> dict[Any, int]:
    """State -> rank (0 = first) of its first ``expand`` event among the first events."""
    events = tree.events if upto_event is None else tree.events[:upto_event]
    order: dict[Any, int] = {}
    for kind, node, _ in events:
        if kind == "expand":
            order.setdefault(tree.graph.nodes[node]["state"], len(order))
    return order


def draw_maze(
    maze: Maze,
    tree: SearchTree | None = None,
    plan: Sequence[Sequence[int]] | None = None,
    ax: Axes | None = None,
    upto_event: int | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw ``maze``; with a ``tree``, colour the cells it expanded by expansion order (up to
    ``upto_event`` events) and mark the frontier; draw ``plan`` (cells from the start; by
    default the tree's solution, or the path to the current node while stepping)."""
    if not isinstance(maze, Maze):
        raise ValueError(f"maze must be a Maze, got {type(maze).__name__}")
    if tree is not None:
        check_tree(tree)
        if getattr(tree.problem, "kind", None) != "maze" or tree.problem.key() != maze.key():
            raise ValueError("tree must be a search of this maze (tree.problem != maze)")
    if tree is None and upto_event is not None:
        raise ValueError("upto_event needs a tree")
    if cmap not in colormaps:
        raise ValueError(f"cmap must be a matplotlib colormap name, got {cmap!r}")
    cells = None if plan is None else _check_plan(maze, plan)
    n = maze.n
    fig, ax = new_axes(ax, (6.2 if tree is not None and colorbar else 5.2, 5.2))
    walls = np.zeros((n, n))
    for x, y in maze.walls:
        walls[y, x] = 1.0
    ax.imshow(walls, cmap=ListedColormap([OPEN_COLOR, WALL_COLOR]), vmin=0, vmax=1,
              interpolation="nearest")
    handles = []
    plan_style = {"ls": "-", "label": "plan"}
    if tree is not None:
        upto_event = check_upto_event(tree, upto_event)
        order = expansion_order(tree, upto_event)
        total = len(order) if upto_event is None else len(expansion_order(tree))  # fixed scale
        if order:
            ranks = np.full((n, n), np.nan)
            for (x, y), rank in order.items():
                if 0 <= x < n and 0 <= y < n:
                    ranks[y, x] = rank
            image = ax.imshow(np.ma.masked_invalid(ranks), cmap=cmap, interpolation="nearest",
                              vmin=0, vmax=max(total - 1, 1), gid="expansions")
            if colorbar:
                fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label="expansion order")
        statuses = tree.statuses_at(upto_event)
        size = max(8.0, 1500.0 / n**1.5)
        for status, marker, label in (("generated", "o", "generated, not expanded"),
                                      ("dead_end", "x", "dead end")):
            marked = {tree.graph.nodes[v]["state"] for v, s in statuses.items() if s == status}
            if status == "generated":  # expanded cells are already coloured
                marked -= order.keys()
            marked = sorted(marked)
            if marked:
                colors = ({"facecolors": "white", "edgecolors": "#333333"} if marker == "o"
                          else {"c": "#222222"})
                ax.scatter([c[0] for c in marked], [c[1] for c in marked], s=size,
                           marker=marker, linewidths=0.9, zorder=3, gid=status, **colors)
                handles.append(Line2D([], [], ls="", marker=marker, mfc="white",
                                      mec="#333333", label=label))
        invalid = sorted({tree.graph.nodes[v]["state"] for v in statuses
                          if tree.graph.nodes[v].get("error")})
        if invalid:
            ax.scatter([c[0] for c in invalid], [c[1] for c in invalid], s=size * 2.2,
                       marker="s", facecolors="none", edgecolors=INVALID_COLOR,
                       linewidths=1.8, zorder=3, gid="invalid")
            handles.append(Line2D([], [], ls="", marker="s", mfc="none", mec=INVALID_COLOR,
                                  mew=1.8, label="invalid step"))
        if cells is None:
            cells, plan_style = _tree_plan(tree, statuses, upto_event)
    if cells:
        ax.plot([c[0] for c in cells], [c[1] for c in cells], color=plan_style.get(
            "color", SOLUTION_COLOR), lw=2.6, ls=plan_style["ls"], solid_capstyle="round",
            zorder=4, gid="plan", path_effects=[withStroke(linewidth=4.6, foreground="white")])
        handles.append(Line2D([], [], color=plan_style.get("color", SOLUTION_COLOR), lw=2.6,
                              ls=plan_style["ls"], label=plan_style["label"]))
    marker_size = max(60.0, 2400.0 / n)
    ax.scatter(*maze.start, s=marker_size, marker="o", c=START_COLOR, edgecolors="white",
               linewidths=1.2, zorder=5, gid="start")
    ax.scatter(*maze.goal, s=marker_size * 1.8, marker="*", c="#ffd21f", edgecolors="black",
               linewidths=0.8, zorder=5, gid="goal")
    handles[:0] = [
        Line2D([], [], ls="", marker="o", mfc=START_COLOR, mec="white", ms=9, label="start"),
        Line2D([], [], ls="", marker="*", mfc="#ffd21f", mec="black", ms=13, label="goal"),
    ]
    _grid(ax, n)
    ax.set_xlim(-0.5, n - 0.5)  # the grid, whatever cells a model's trace named
    ax.set_ylim(n - 0.5, -0.5)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.04),
              ncol=min(len(handles), 3), frameon=False, fontsize=8)
    ax.set_title(title if title is not None else _title(maze, tree, upto_event), fontsize=10)
    return fig


def _check_plan(maze: Maze, plan: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """The plan as cells inside the grid (a plan may cross walls: it is drawn, not judged)."""
    if isinstance(plan, str | bytes) or not isinstance(plan, Sequence):
        raise ValueError(f"plan must be a sequence of (x, y) cells, got {plan!r}")
    cells = []
    for i, cell in enumerate(plan):
        if isinstance(cell, str | bytes) or not isinstance(cell, Sequence) or len(cell) != 2:
            raise ValueError(f"plan[{i}] must be a cell (x, y), got {cell!r}")
        cells.append((check_int(f"plan[{i}].x", cell[0], 0, maze.n - 1),
                      check_int(f"plan[{i}].y", cell[1], 0, maze.n - 1)))
    return cells


def _tree_plan(
    tree: SearchTree, statuses: dict[int, str], upto_event: int | None
) -> tuple[list, dict]:
    """The solution once the goal is reached; while stepping, the path to the current node."""
    if statuses.get(tree.goal_node) == "goal":
        return tree.solution_states(), {"ls": "-", "label": "plan"}
    if upto_event:
        path = tree.path_to(tree.events[upto_event - 1].node)
        states = [tree.graph.nodes[v]["state"] for v in path]
        return states, {"ls": "--", "label": "path to current node", "color": CURRENT_COLOR}
    return [], {}


def _grid(ax: Axes, n: int) -> None:
    step = 1 if n <= 12 else 5
    ax.set_xticks(range(0, n, step))
    ax.set_yticks(range(0, n, step))
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="#d0d0d0", lw=0.4)
    ax.tick_params(which="both", length=0, labelsize=7)
    ax.xaxis.tick_top()  # x on top, as the rows count down from y=0: the legend goes below
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("x", fontsize=8)
    ax.set_ylabel("y", fontsize=8)


def _title(maze: Maze, tree: SearchTree | None, upto_event: int | None) -> str:
    if tree is None:
        return f"{maze.n}×{maze.n} maze · shortest plan {maze.shortest_path_length()} moves"
    expanded = len(expansion_order(tree, upto_event))
    head = f"{algorithm_title(tree.algorithm)} · {expanded} cells expanded"
    if upto_event is not None:
        return f"{head}\nafter event {upto_event}/{len(tree.events)}"
    result = (f"plan {tree.stats()['solution_length']} moves (shortest "
              f"{maze.shortest_path_length()})" if tree.solved else "no plan found")
    return f"{head}\n{result}"
