"""Draw a :class:`~metacot_lab.search.tree.SearchTree` as a layered tree, root on top.

Layout: one layer per depth; leaves take consecutive slots in depth-first order (children
in creation order) and a parent sits centred over its children, so no edges cross and the
order of the drawing is the order the search tried things in. Nodes with an ``error``
(an illegal step of a trace, see :func:`~metacot_lab.traces.tree_from_trace`) are framed
by a square in :data:`~metacot_lab.viz.style.INVALID_COLOR`. Trees larger than
``max_nodes`` are summarised: the solution path, then the expanded nodes in event order,
then the other nodes in event order are kept, and a ``+k`` note under a parent counts the
nodes hidden below it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..search.tree import SearchTree
from ..validation import check_choice, check_int
from .style import (
    CURRENT_COLOR,
    EDGE_COLOR,
    INVALID_COLOR,
    SOLUTION_COLOR,
    STATUS_STYLE,
    algorithm_title,
    axes_size_inches,
    new_axes,
    number_text,
    problem_title,
    state_text,
)

LABEL_MODES: tuple[str, ...] = ("auto", "all", "path", "none")
MAX_NODES_LIMIT = 20_000  # drawing more than this is unreadable and slow
MAX_FIG_WIDTH = 30.0  # inches; a wider tree gets narrower slots and loses its labels
MAX_FIG_HEIGHT = 30.0
LABEL_FONT = 7.0  # points
_CHAR_WIDTH = 0.62  # average glyph width of the label font, in font sizes


@dataclass(frozen=True)
class TreeView:
    """The part of a tree a drawing shows (what :func:`select_nodes` returns)."""

    nodes: tuple[int, ...]  # nodes shown, in id order; every shown node's parent is shown
    statuses: dict[int, str]  # status of each shown node at that moment of the search
    hidden: dict[int, int]  # shown node -> number of its descendants that are not shown
    total: int  # nodes that existed at that moment
    solution: tuple[int, ...]  # root-to-goal path, empty if no goal was reached by then
    current: int | None  # the node named by the last event drawn (None: whole search)
    invalid: tuple[int, ...] = ()  # shown nodes with an ``error`` (illegal trace steps)


def check_upto_event(tree: SearchTree, upto_event: int | None) -> int | None:
    """``upto_event`` if it is ``None`` or in ``[0, len(tree.events)]``."""
    if upto_event is None:
        return None
    return check_int("upto_event", upto_event, 0, len(tree.events))


def check_tree(tree: object) -> SearchTree:
    """``tree`` if it is a SearchTree, else a ``ValueError``."""
    if not isinstance(tree, SearchTree):
        raise ValueError(f"tree must be a SearchTree, got {type(tree).__name__}")
    return tree


def select_nodes(
    tree: SearchTree, max_nodes: int = 300, upto_event: int | None = None
) -> TreeView:
    """Choose at most ``max_nodes`` nodes to draw (the solution path is always kept whole)."""
    check_tree(tree)
    check_int("max_nodes", max_nodes, 1, MAX_NODES_LIMIT)
    upto_event = check_upto_event(tree, upto_event)
    statuses = tree.statuses_at(upto_event)
    goal = tree.goal_node
    solution = tuple(tree.path_to(goal)) if statuses.get(goal) == "goal" else ()
    events = tree.events if upto_event is None else tree.events[:upto_event]
    current = events[-1].node if upto_event and events else None
    if len(statuses) <= max_nodes:
        keep = set(statuses)
    else:
        keep = _summarise(tree, events, solution, current, max_nodes)
    hidden: Counter[int] = Counter()
    anchor: dict[int, int] = {}  # hidden node -> its nearest shown ancestor
    for n in sorted(statuses):  # ids grow with creation: parents come first
        if n in keep:
            continue
        parent = tree.graph.nodes[n]["parent"]
        anchor[n] = parent if parent in keep else anchor[parent]
        hidden[anchor[n]] += 1
    return TreeView(
        nodes=tuple(sorted(keep)),
        statuses={n: statuses[n] for n in keep},
        hidden=dict(hidden),
        total=len(statuses),
        solution=solution,
        current=current,
        invalid=tuple(n for n in sorted(keep) if tree.graph.nodes[n].get("error")),
    )


def _summarise(
    tree: SearchTree, events: list, solution: tuple[int, ...], current: int | None, limit: int
) -> set[int]:
    """Root, solution path and current node, then nodes with an error, then expanded nodes,
    then the rest (event order)."""
    keep = {tree.root, *solution}
    parent = tree.graph.nodes

    def add_chain(node: int) -> None:
        chain = []
        while node not in keep:
            chain.append(node)
            node = parent[node]["parent"]
        if len(keep) + len(chain) <= limit:
            keep.update(chain)

    if current is not None:
        add_chain(current)
    for node in sorted({n for _, n, _ in events if parent[n].get("error")}):
        add_chain(node)
    for pass_kinds in (("expand",), None):
        for kind, node, _ in events:
            if len(keep) >= limit:
                return keep
            if pass_kinds is None or kind in pass_kinds:
                add_chain(node)
    return keep


def tree_layout(
    tree: SearchTree, nodes: Iterable[int] | None = None, orient: str = "down"
) -> dict[int, tuple[float, float]]:
    """Positions of ``nodes`` (default: all), leaves one slot apart: ``(slot, -depth)`` with
    the root on top (``orient="down"``) or ``(depth, -slot)`` with the root left ("right")."""
    check_tree(tree)
    check_choice("orient", orient, ("down", "right"))
    keep = set(tree.graph) if nodes is None else set(nodes)
    return {n: _xy(sd, orient) for n, sd in _slot_layout(tree, keep, ()).items()}


def _xy(slot_depth: tuple[float, float], orient: str) -> tuple[float, float]:
    slot, depth = slot_depth
    return (depth, -slot) if orient == "right" else (slot, -depth)


def _slot_layout(
    tree: SearchTree, keep: set[int], notes: Iterable[int]
) -> dict[Hashable, tuple[float, float]]:
    """``(slot, depth)`` of ``keep``; each of ``notes`` gets a last child ``("more", node)``."""
    if tree.root not in keep:
        raise ValueError("nodes must include the root (node 0)")
    notes = set(notes)
    nodes = tree.graph.nodes
    pos: dict[Hashable, tuple[float, float]] = {}
    slot = 0
    stack: list[tuple[Hashable, bool]] = [(tree.root, False)]
    while stack:  # iterative post-order: maze trees can be thousands of levels deep
        key, done = stack.pop()
        if isinstance(key, tuple):  # a "+k more" note: a leaf one layer below its parent
            pos[key] = (float(slot), nodes[key[1]]["depth"] + 1.0)
            slot += 1
            continue
        kids: list[Hashable] = [c for c in tree.children(key) if c in keep]
        if key in notes and kids:  # a note under a drawn leaf shares the leaf's slot
            kids.append(("more", key))
        if not done:
            stack.append((key, True))
            stack.extend((k, False) for k in reversed(kids))
        elif kids:
            pos[key] = ((pos[kids[0]][0] + pos[kids[-1]][0]) / 2, float(nodes[key]["depth"]))
        else:
            pos[key] = (float(slot), float(nodes[key]["depth"]))
            if key in notes:  # beside the leaf, short of the next layer
                pos[("more", key)] = (float(slot), nodes[key]["depth"] + 0.6)
            slot += 1
    missing = keep - pos.keys()
    if missing:
        raise ValueError(f"nodes must be closed under parents; orphans: {sorted(missing)[:5]}")
    return pos


def visits_at(tree: SearchTree, upto_event: int | None = None) -> dict[int, tuple[int, float]]:
    """MCTS ``(visits, mean value)`` of each node after the first ``upto_event`` events,
    rebuilt from the ``backup`` events (each adds its value to the path from the root)."""
    events = tree.events if upto_event is None else tree.events[:upto_event]
    visits: Counter[int] = Counter()
    totals: Counter[int] = Counter()
    for kind, node, value in events:
        if kind == "backup":
            for n in tree.path_to(node):
                visits[n] += 1
                totals[n] += value or 0.0
    return {n: (k, totals[n] / k) for n, k in visits.items()}


def node_label(
    tree: SearchTree, node: int, sep: str = "\n",
    visits: dict[int, tuple[int, float]] | None = None,
) -> str:
    """The node's state, ``sep``, then its values: ``h``, or MCTS visits and mean value
    (from ``visits``, see :func:`visits_at`, else the node's final attributes)."""
    attrs = tree.graph.nodes[node]
    if attrs.get("visits") is not None:
        n, value = (attrs["visits"], attrs.get("value")) if visits is None else visits.get(
            node, (0, None))
        values = f"N={n}" + ("" if value is None else f" V={number_text(value)}")
    else:
        values = f"h={number_text(attrs['h'])}"
    return f"{state_text(attrs['state'])}{sep}{values}"


def draw_tree(
    tree: SearchTree,
    ax: Axes | None = None,
    max_nodes: int = 300,
    label: str = "auto",
    upto_event: int | None = None,
    orient: str = "auto",
    title: str | None = None,
    legend: bool = True,
) -> Figure:
    """Draw ``tree`` (as it was after ``upto_event`` events; default: finished) and return
    the figure.

    ``label``: "auto" labels every node when the labels fit, else only the root and the
    solution path; "all", "path" or "none" force a choice. ``orient``: "down" (root on
    top), "right" (root on the left, for bushy shallow trees such as Countdown's) or
    "auto" (right when the tree is more than twice as wide as it is deep).
    """
    view = select_nodes(tree, max_nodes, upto_event)
    check_choice("label", label, LABEL_MODES)
    check_choice("orient", orient, ("auto", "down", "right"))
    raw = _slot_layout(tree, set(view.nodes), view.hidden)
    slots = 1 + max(s for s, _ in raw.values())
    layers = 1 + max(d for _, d in raw.values())
    if orient == "auto":
        orient = "right" if slots > 2 * layers else "down"
    right = orient == "right"
    visits = None if upto_event is None else visits_at(tree, upto_event)
    labels = {n: node_label(tree, n, "  " if right else "\n", visits) for n in view.nodes}
    chars = max(len(line) for text in labels.values() for line in text.split("\n"))
    label_in = chars * LABEL_FONT * _CHAR_WIDTH / 72 + 0.1
    # room a label needs: (along the slots, along the layers), in inches
    need = (0.19, label_in + 0.45) if right else (label_in, 0.62)
    if ax is None:
        slot_in = min(max(need[0], 0.12), (MAX_FIG_HEIGHT if right else MAX_FIG_WIDTH) / slots)
        layer_in = min(need[1], (MAX_FIG_WIDTH if right else MAX_FIG_HEIGHT) / layers)
        if slot_in < need[0]:
            layer_in = min(layer_in, 0.5 if not right else 1.0)
        size = (layers * layer_in + 0.4, slots * slot_in + 1.6) if right else (
            slots * slot_in + 0.4, layers * layer_in + 1.6)
        fig, ax = new_axes(None, (max(size[0], 6.0), max(size[1], 3.0)))
    else:
        fig, ax = new_axes(ax, (0, 0))
        w, h = axes_size_inches(ax)
        slot_in, layer_in = (h / (slots + 0.4), w / (layers + 0.4)) if right else (
            w / (slots + 0.4), h / (layers + 0.4))
    fits = slot_in >= need[0] - 1e-9 and layer_in >= need[1] - 1e-9
    shown = {
        "all": set(view.nodes),
        "none": set(),
        "path": {tree.root, *view.solution},
        "auto": set(view.nodes) if fits else {tree.root, *view.solution},
    }[label]
    diameter = 72 * min(0.7 * slot_in, 0.35 * layer_in, 0.24)  # points
    pos = {key: _xy(sd, orient) for key, sd in raw.items()}
    _draw_edges(ax, tree, view, pos)
    _draw_nodes(ax, view, pos, diameter)
    for n in sorted(shown):
        gap = diameter * (0.95 if view.statuses[n] == "goal" else 0.5) + 1.5
        ax.annotate(
            labels[n], pos[n], xytext=(gap, 0) if right else (0, -gap),
            textcoords="offset points", ha="left" if right else "center",
            va="center" if right else "top", fontsize=LABEL_FONT, linespacing=1.0, zorder=6,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    for parent, k in view.hidden.items():
        ax.text(
            *pos[("more", parent)], f"+{k}", ha="center", va="center", fontsize=LABEL_FONT,
            color="#666666", style="italic", gid="more", zorder=5,
        )
    lo, hi = (-0.4, slots - 0.6)
    if right:
        ax.set_xlim(-0.3, layers - 0.2)
        ax.set_ylim(-hi - 0.2, -lo)
    else:
        ax.set_xlim(lo - 0.2, hi + 0.2)
        ax.set_ylim(-layers + 0.45, 0.4)
    ax.set_axis_off()
    ax.set_title(title if title is not None else _title(tree, view, upto_event), fontsize=10)
    if legend:
        handles = _legend_handles(view)
        ax.legend(
            handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False,
            ncol=min(len(handles), 4), fontsize=8, handletextpad=0.4, columnspacing=1.2,
        )
    return fig


def _draw_edges(ax: Axes, tree: SearchTree, view: TreeView, pos: dict) -> None:
    on_path = set(zip(view.solution, view.solution[1:], strict=False))
    plain, pruned, path = [], [], []
    for n in view.nodes:
        parent = tree.graph.nodes[n]["parent"]
        if parent is None:
            continue
        segment = (pos[parent], pos[n])
        if (parent, n) in on_path:
            path.append(segment)
        elif view.statuses[n] == "pruned":
            pruned.append(segment)
        else:
            plain.append(segment)
    notes = [(pos[p], pos[("more", p)]) for p in view.hidden]
    for segments, style in (
        (plain, {"colors": EDGE_COLOR, "linewidths": 0.9, "gid": "edges"}),
        (pruned, {"colors": EDGE_COLOR, "linewidths": 0.8, "linestyles": "--",
                  "gid": "pruned_edges"}),
        (notes, {"colors": "#c4c4c4", "linewidths": 0.8, "linestyles": ":",
                 "gid": "more_edges"}),
        (path, {"colors": SOLUTION_COLOR, "linewidths": 2.6, "gid": "solution_edges",
                "zorder": 2}),
    ):
        if segments:
            ax.add_collection(LineCollection(segments, zorder=style.pop("zorder", 1), **style))


def _draw_nodes(ax: Axes, view: TreeView, pos: dict, diameter: float) -> None:
    for status, style in STATUS_STYLE.items():
        nodes = [n for n in view.nodes if view.statuses[n] == status]
        if not nodes:
            continue
        size = (diameter * (1.9 if status == "goal" else 1.0)) ** 2
        ax.scatter(
            [pos[n][0] for n in nodes], [pos[n][1] for n in nodes], s=size,
            marker=style["marker"], c=style["face"], edgecolors=style["edge"],
            hatch=style["hatch"], linewidths=0.8, zorder=3, gid=f"nodes:{status}",
        )
    ring = [n for n in view.solution if view.statuses[n] != "goal"]
    if ring:
        ax.scatter(
            [pos[n][0] for n in ring], [pos[n][1] for n in ring], s=diameter**2, marker="o",
            facecolors="none", edgecolors=SOLUTION_COLOR, linewidths=1.8, zorder=4,
            gid="solution_nodes",
        )
    if view.invalid:
        ax.scatter([pos[n][0] for n in view.invalid], [pos[n][1] for n in view.invalid],
                   s=(1.6 * diameter) ** 2, marker="s", facecolors="none",
                   edgecolors=INVALID_COLOR, linewidths=2.0, zorder=4, gid="invalid")
    if view.current is not None:
        x, y = pos[view.current]
        ax.scatter([x], [y], s=(1.7 * diameter) ** 2, marker="o", facecolors="none",
                   edgecolors=CURRENT_COLOR, linewidths=2.2, zorder=5, gid="current")


def _legend_handles(view: TreeView) -> list:
    present = set(view.statuses.values())
    handles: list = []
    for status, s in STATUS_STYLE.items():
        if status not in present:
            continue
        if s["hatch"]:
            handles.append(Patch(fc=s["face"], ec=s["edge"], hatch=s["hatch"], label=s["label"]))
        else:
            handles.append(Line2D([], [], ls="", marker=s["marker"], mfc=s["face"],
                                  mec=s["edge"], ms=12 if status == "goal" else 8,
                                  label=s["label"]))
    if view.solution:
        handles.append(Line2D([], [], color=SOLUTION_COLOR, lw=2.6, label="solution path"))
    if view.invalid:
        handles.append(Line2D([], [], ls="", marker="s", mfc="none", mec=INVALID_COLOR,
                              mew=2.0, ms=10, label="invalid step"))
    if view.current is not None:
        handles.append(Line2D([], [], ls="", marker="o", mfc="none", mec=CURRENT_COLOR,
                              mew=2.2, ms=10, label="current event"))
    if view.hidden:
        handles.append(Line2D([], [], color="#c4c4c4", ls=":", label="+k: nodes not shown"))
    return handles


def _title(tree: SearchTree, view: TreeView, upto_event: int | None) -> str:
    stats = tree.stats()
    head = f"{algorithm_title(tree.algorithm)} · {problem_title(tree.problem)}"
    if upto_event is None:
        result = (
            f"solved in {stats['solution_length']} steps" if tree.solved else "not solved"
        )
        facts = [f"{stats['expanded']} expanded", f"{stats['generated']} nodes", result]
    else:
        facts = [f"after event {upto_event}/{len(tree.events)}"]
    if len(view.nodes) < view.total:
        facts.append(f"showing {len(view.nodes)} of {view.total} nodes")
    return head + "\n" + " · ".join(facts)
