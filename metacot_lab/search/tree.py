"""``SearchTree``: a whole recorded search, as a ``networkx.DiGraph`` plus an ordered event log.

Every node the search created is a graph node (so dead ends, pruned and never-expanded
nodes are kept, not only the solution path). Node attributes:

========== ===================================================================
state      the environment state (hashable: tuples, ints, strings)
action     the action from the parent (``None`` at the root)
parent     the parent node id (``None`` at the root)
depth      edges from the root
g          path cost from the root
h          heuristic estimate to a goal
status     one of :data:`STATUSES`
visits     MCTS visit count (MCTS only)
value      MCTS mean value / rollout value where an algorithm sets one
========== ===================================================================

The event log is the search in time order; later stages linearize it into text. Its kinds:

=========== ===================================================================
generate    a child is created and evaluated (goal test, heuristic)
expand      a node is chosen and its children are about to be generated
close       a node is finished (DFS: subtree exhausted; BFS/A*/beam: children generated)
backtrack   the search returns to an earlier node to try its next child (DFS)
dead_end    a node is found to lead nowhere (a leaf that is not a goal)
prune       a generated node is discarded (heuristic threshold, beam width, stale duplicate)
goal        a goal node is reached; the search stops
select      MCTS: a leaf is chosen by the UCT rule
backup      MCTS: a value is propagated from a node to the root (``value`` set)
=========== ===================================================================
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

import networkx as nx

STATUSES: tuple[str, ...] = ("generated", "expanded", "pruned", "dead_end", "goal")
EVENT_KINDS: tuple[str, ...] = (
    "generate", "expand", "close", "backtrack", "dead_end", "prune", "goal", "select", "backup",
)
_STATUS_OF_EVENT = {"expand": "expanded", "dead_end": "dead_end", "prune": "pruned", "goal": "goal"}
_FORMAT_VERSION = 1


class Event(NamedTuple):
    """One step of a search: what happened (``kind``) to which ``node``."""

    kind: str
    node: int
    value: float | None = None


class SearchTree:
    """A recorded search of ``problem`` by ``algorithm`` (see the module docstring)."""

    def __init__(self, problem: Any, algorithm: str, params: dict[str, Any] | None = None):
        self.problem = problem
        self.algorithm = algorithm
        self.params: dict[str, Any] = dict(params or {})
        self.graph: nx.DiGraph = nx.DiGraph()
        self.events: list[Event] = []
        self.goal_node: int | None = None
        self.budget_exhausted = False

    # --- building (used by the search algorithms) -------------------------------------
    def add_node(
        self,
        state: Any,
        parent: int | None = None,
        action: Any = None,
        g: float = 0.0,
        h: float = 0.0,
        **attrs: Any,
    ) -> int:
        """Create a node (status ``generated``) under ``parent`` and return its id."""
        node = len(self.graph)
        depth = 0 if parent is None else self.graph.nodes[parent]["depth"] + 1
        self.graph.add_node(
            node, state=state, action=action, parent=parent, depth=depth, g=g, h=h,
            status="generated", **attrs,
        )
        if parent is not None:
            self.graph.add_edge(parent, node)
        return node

    def log(self, kind: str, node: int, value: float | None = None) -> None:
        """Append an event; ``expand``/``dead_end``/``prune``/``goal`` also set the status."""
        self.events.append(Event(kind, node, value))
        status = _STATUS_OF_EVENT.get(kind)
        if status is not None:
            self.graph.nodes[node]["status"] = status
            if kind == "goal":
                self.goal_node = node

    # --- reading ----------------------------------------------------------------------
    @property
    def root(self) -> int:
        """The root node id (always 0)."""
        return 0

    @property
    def solved(self) -> bool:
        """Whether the search reached a goal."""
        return self.goal_node is not None

    def node(self, node: int) -> dict[str, Any]:
        """The attribute dict of ``node``."""
        return self.graph.nodes[node]

    def path_to(self, node: int) -> list[int]:
        """Node ids from the root to ``node``."""
        path = [node]
        while (parent := self.graph.nodes[path[-1]]["parent"]) is not None:
            path.append(parent)
        return path[::-1]

    def solution_path(self) -> list[int]:
        """Node ids from the root to the goal; empty when unsolved."""
        return [] if self.goal_node is None else self.path_to(self.goal_node)

    def solution_states(self) -> list[Any]:
        """States along the solution path (root first)."""
        return [self.graph.nodes[n]["state"] for n in self.solution_path()]

    def solution_actions(self) -> list[Any]:
        """Actions along the solution path."""
        return [self.graph.nodes[n]["action"] for n in self.solution_path()[1:]]

    def describe_solution(self) -> list[str]:
        """The solution's actions as the problem writes them (e.g. ``["9*3=27", ...]``)."""
        path = self.solution_path()
        nodes = self.graph.nodes
        return [
            self.problem.describe_action(nodes[p]["state"], nodes[c]["action"])
            for p, c in zip(path, path[1:], strict=False)
        ]

    def children(self, node: int) -> list[int]:
        """Children of ``node`` in creation order."""
        return sorted(self.graph.successors(node))

    def iter_events(self, kinds: tuple[str, ...] | None = None) -> Iterator[Event]:
        """Events in order, optionally only those of ``kinds``."""
        return (e for e in self.events if kinds is None or e.kind in kinds)

    def statuses_at(self, upto_event: int | None = None) -> dict[int, str]:
        """Status of every node that exists after the first ``upto_event`` events.

        A node exists once an event names it (or one of its descendants); ``None`` means
        the finished search (every node, with its final status).
        """
        if upto_event is None:
            return dict(self.graph.nodes(data="status"))
        statuses: dict[int, str] = {}
        for kind, node, _ in self.events[:upto_event]:
            n = node
            while n is not None and n not in statuses:  # the node and any unseen ancestors
                statuses[n] = "generated"
                n = self.graph.nodes[n]["parent"]
            status = _STATUS_OF_EVENT.get(kind)
            if status is not None:
                statuses[node] = status
        return statuses

    def stats(self) -> dict[str, Any]:
        """Counts that describe the search: expanded, generated, depth, solved, ..."""
        status = Counter(s for _, s in self.graph.nodes(data="status"))
        return {
            "algorithm": self.algorithm,
            "solved": self.solved,
            "expanded": sum(1 for e in self.events if e.kind == "expand"),
            "generated": len(self.graph),
            "pruned": status["pruned"],
            "dead_ends": status["dead_end"],
            "depth": max((d for _, d in self.graph.nodes(data="depth")), default=0),
            "solution_length": max(len(self.solution_path()) - 1, 0) if self.solved else None,
            "events": len(self.events),
            "budget_exhausted": self.budget_exhausted,
        }

    # --- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict holding everything (problem, nodes, edges, events, params)."""
        nodes = []
        for n, attrs in self.graph.nodes(data=True):
            d = {"id": n}
            for k, v in attrs.items():
                d[k] = _encode(v)
            nodes.append(d)
        return {
            "format_version": _FORMAT_VERSION,
            "algorithm": self.algorithm,
            "params": _encode(self.params),
            "problem": self.problem.to_dict(),
            "nodes": nodes,
            "events": [[e.kind, e.node, e.value] for e in self.events],
            "goal_node": self.goal_node,
            "budget_exhausted": self.budget_exhausted,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchTree:
        """Inverse of :meth:`to_dict`."""
        from ..envs import problem_from_dict  # envs do not import search: no cycle at import

        version = d.get("format_version")
        if version != _FORMAT_VERSION:
            raise ValueError(f"format_version must be {_FORMAT_VERSION}, got {version!r}")
        tree = cls(problem_from_dict(d["problem"]), d["algorithm"], _decode(d["params"]))
        for nd in d["nodes"]:
            attrs = {k: _decode(v) for k, v in nd.items() if k != "id"}
            tree.graph.add_node(nd["id"], **attrs)
            if attrs["parent"] is not None:
                tree.graph.add_edge(attrs["parent"], nd["id"])
        tree.events = [Event(k, n, v) for k, n, v in d["events"]]
        tree.goal_node = d["goal_node"]
        tree.budget_exhausted = d["budget_exhausted"]
        return tree

    def to_json(self, **kwargs: Any) -> str:
        """The tree as JSON text (``json.dumps`` keyword arguments pass through)."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> SearchTree:
        """Rebuild a tree written by :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def __len__(self) -> int:
        return len(self.graph)

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"SearchTree({self.algorithm}, solved={s['solved']}, expanded={s['expanded']}, "
            f"generated={s['generated']}, depth={s['depth']})"
        )


def _encode(value: Any) -> Any:
    """Tuples become ``{"__tuple__": [...]}`` so that decoding restores them exactly."""
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
