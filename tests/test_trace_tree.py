"""tree_from_trace: linearize(tree) read back gives the same nodes, edges and events (DFS
Countdown, A* mazes, every format that writes them); a readable prefix gives a prefix of the
tree; illegal steps are kept and marked with the verifier's message; garbage never raises."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trace_helpers import countdown_problems, maze_problems, search_tree

from metacot_lab.envs import Countdown, Maze
from metacot_lab.search import SearchTree
from metacot_lab.traces import FORMATS, formats_for, tree_from_trace, verify_trace
from metacot_lab.viz import draw_maze, draw_tree

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CASES = [("dfs", "countdown", name) for name in formats_for("countdown")] + [
    ("astar", "maze", name) for name in formats_for("maze")]
CD = Countdown((4, 9, 3), 24)
GOOD_CD = "9*3=27 -> 4 27\nat\n27-4=23 != 24\n27+4=31 != 24\nback 4 9 3\n9-3=6 -> 4 6\nat\n" \
    "4*6=24 == 24 goal\n"
MAZE = Maze.from_grid(["S.#", "...", "#.G"])
GOOD_MAZE = "0,1 g 1 h 3\nat\n1,1 g 2 h 2\nat\n1,2 g 3 h 1\nat\n2,2 g 4 h 0 goal\n"


def written_nodes(tree: SearchTree, name: str) -> list[int]:
    """The nodes of ``tree`` that format ``name`` writes (the root always)."""
    if name in ("solution", "solution_map"):
        return tree.solution_path() or [tree.root]
    if name == "backtrack":
        path = tree.solution_path()
        i, wrong = FORMATS[name].detour(tree)
        return path[: i + 1] + wrong + path[i + 1 :] if path else [tree.root]
    return [tree.root] + [e.node for e in tree.events if e.kind == "generate" and e.node]


def signature(tree: SearchTree, node: int) -> tuple:
    """A node by what leads to it: the (state, action) pairs from the root; a Countdown
    action as its step (which of two equal numbers a step took is not in the text)."""
    out, parent = [], None
    for n in tree.path_to(node):
        state, action = tuple(tree.node(n)["state"]), tree.node(n)["action"]
        if parent is not None and tree.problem.kind == "countdown":
            action = tree.problem.describe_action(parent, action)
        out.append((state, action))
        parent = state
    return tuple(out)


def errors(tree: SearchTree) -> dict[int, str]:
    return {n: e for n, e in tree.graph.nodes(data="error") if e}


@pytest.mark.parametrize("algorithm, env, name", CASES)
@FAST
@given(data=st.data())
def test_linearized_trees_read_back_as_the_same_tree(algorithm, env, name, data):
    problem = data.draw(countdown_problems if env == "countdown" else maze_problems)
    tree = search_tree(algorithm, problem)
    fmt = FORMATS[name]
    back = tree_from_trace(problem, fmt.linearize(tree), name)
    assert back.algorithm == "trace" and back.params == {"format": name, "stopped": None}
    assert errors(back) == {}
    assert Counter(signature(back, n) for n in back.graph) == Counter(
        signature(tree, n) for n in written_nodes(tree, name))
    expected = [(s.kind, tuple(s.state)) for s in fmt.expected_steps(tree)
                if s.kind != "wall"]  # a wall is no node of the tree
    root = tuple(problem.initial_state())
    if expected and expected[0] not in (("expand", root), ("generate", root)):
        expected.insert(0, ("expand", root))  # the prompt puts the search at the root
    assert [(e.kind, tuple(back.node(e.node)["state"])) for e in back.events] == expected
    assert back.solved == tree.solved
    assert back.solution_states() == tree.solution_states()
    again = tree_from_trace(problem, fmt.completion(tree), name)  # the completion alone
    assert again.to_dict() == back.to_dict()


@pytest.mark.parametrize("problem, text", [(CD, GOOD_CD), (MAZE, GOOD_MAZE)])
def test_a_readable_prefix_gives_a_prefix_of_the_tree(problem, text):
    whole = tree_from_trace(problem, text, "metacot")
    lines = text.splitlines(keepends=True)
    for k in range(len(lines) + 1):
        part = tree_from_trace(problem, "".join(lines[:k]) + "gar bage\n", "metacot")
        assert part.params["stopped"] in ("parse: unreadable line", "parse: text after the goal")
        events = [(e.kind, e.node) for e in part.events]
        assert events == [(e.kind, e.node) for e in whole.events][: len(events)]
        assert all(part.node(n)["state"] == whole.node(n)["state"] for n in part.graph)
        assert len(part) <= len(whole)
    assert len(events) == len(whole.events)


@pytest.mark.parametrize("problem, good, old, new, bad_state", [
    (CD, GOOD_CD, "27-4=23 != 24", "27-4=22 != 24", (22,)),  # wrong arithmetic
    (CD, GOOD_CD, "9*3=27 -> 4 27", "9*3=28 -> 4 28", (4, 28)),  # ... early on the path
    (CD, GOOD_CD, "9*3=27 -> 4 27", "9*3=27 -> 4 28", (4, 28)),  # a state it does not leave
    (CD, GOOD_CD, "27-4=23 != 24", "27-4=23 == 24 goal", (23,)),  # a false goal claim
    (CD, GOOD_CD, "back 4 9 3", "back 5 9 3", (5, 9, 3)),  # a state never reached
    (MAZE, GOOD_MAZE, "1,1 g 2 h 2", "2,0 g 2 h 2", (2, 0)),  # into a wall
    (MAZE, GOOD_MAZE, "1,2 g 3 h 1", "1,2 g 5 h 1", (1, 2)),  # a wrong cost
])
def test_an_illegal_step_is_kept_and_marked(problem, good, old, new, bad_state):
    assert old in good
    text = good.replace(old, new, 1)
    tree = tree_from_trace(problem, text, "metacot")
    marked = errors(tree)
    first = next(e.node for e in tree.events if e.node in marked)
    assert tree.node(first)["state"] == bad_state
    assert marked[first] == verify_trace(problem, text, "metacot").first_error
    clean = tree_from_trace(problem, good, "metacot")
    assert errors(clean) == {}


def test_wrong_arithmetic_is_marked_once_and_drawn():
    text = "target 24 nums 4 9 3\n9*3=28 -> 4 28\nat\n28-4=24 == 24 goal\n"
    tree = tree_from_trace(CD, text, "metacot")
    assert errors(tree) == {1: "arithmetic: 9*3=28 is wrong"}  # no cascade to (24,)
    assert tree.node(1)["action"] is None and tree.node(2)["action"] == (0, 1, "-")
    assert tree.solved and tree.solution_states() == [(4, 9, 3), (4, 28), (24,)]  # claimed
    assert not verify_trace(CD, text, "metacot").valid
    ax = draw_tree(tree).axes[0]
    ring = next(c for c in ax.collections if c.get_gid() == "invalid")
    assert len(ring.get_offsets()) == 1
    assert "invalid step" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any(c.get_gid() == "invalid" for c in draw_tree(
        tree_from_trace(CD, GOOD_CD, "metacot")).axes[0].collections)


def test_sos_wrong_arithmetic_and_maze_wall_are_drawn():
    from metacot_lab.search import dfs

    sos = FORMATS["sos"].linearize(dfs.search(Countdown((42, 61, 66), 47), threshold=47))
    bad = sos.replace("Exploring Operation: 61-24=37", "Exploring Operation: 61-24=38", 1)
    tree = tree_from_trace(Countdown((42, 61, 66), 47), bad, "sos")
    assert list(errors(tree).values()) == ["arithmetic: 61-24=38 is wrong"]
    maze = tree_from_trace(MAZE, GOOD_MAZE.replace("1,1 g 2 h 2", "2,0 g 2 h 2"), "metacot")
    # into the wall at (2, 0); from there, (1, 2) is not adjacent either
    assert [e.split(":")[0] for e in errors(maze).values()] == ["wall", "adjacent"]
    ax = draw_maze(MAZE, tree=maze).axes[0]
    cells = next(c for c in ax.collections if c.get_gid() == "invalid").get_offsets()
    assert sorted(map(tuple, cells.tolist())) == [(1.0, 2.0), (2.0, 0.0)]


def test_off_grid_cells_and_other_problems():
    text = "0,1 g 1 h 3\nat 50,60\n51,60 g 2 h 9 goal\n"
    tree = tree_from_trace(MAZE, text, "metacot")
    assert len(tree) == 4 and set(errors(tree)) == {2, 3}
    ax = draw_maze(MAZE, tree=tree).axes[0]
    assert ax.get_xlim() == (-0.5, 2.5)  # the grid, not the cells the trace made up
    other = tree_from_trace(CD, "target 25 nums 4 9 3\n" + GOOD_CD, "metacot")
    assert len(other) == 1 and other.params["stopped"].startswith("problem:")
    assert tree_from_trace(CD, None, "metacot").params["stopped"].startswith("parse:")
    with pytest.raises(ValueError, match="problem kind for format 'searchformer'"):
        tree_from_trace(CD, GOOD_CD, "searchformer")


@pytest.mark.parametrize("name, env", [(n, e) for n, f in FORMATS.items() for e in f.envs])
@settings(max_examples=60, deadline=None)
@given(text=st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(
        ["at", "back 4 9 3", "[BACK]", "9*3=27 -> 4 27", "27-4=23 != 24", "24 == 24 goal",
         "0,1 g 1 h 3", "9,9 g 1 h 1", "1,1 goal", "0,0 dead", "at 7,7", "create 0 1 c1 c3",
         "close 0 1 c1 c3", "plan 0 0", "Exploring Operation: 9*3=27, Resulting Numbers: "
         "[4, 27]", "Moving to Node #0,0", "Current State: 24:[4, 27], Operations: []",
         "27,24 unequal: No Solution", "x"]), max_size=12).map("\n".join)))
def test_garbage_never_raises(name, env, text):
    problem = CD if env == "countdown" else MAZE
    tree = tree_from_trace(problem, text, name)
    assert isinstance(tree, SearchTree) and tree.node(0)["state"] == problem.initial_state()
    assert all(tree.node(e.node) is not None for e in tree.events)
    SearchTree.from_json(tree.to_json())
