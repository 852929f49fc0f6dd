"""verify_trace: symbolic traces of every format and algorithm are valid and solved as their
trees are; tampered traces are rejected with the right first error; garbage never raises."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trace_helpers import (
    ALGORITHMS,
    countdown_problems,
    maze_problems,
    published_searchformer,
    published_sos_bfs,
    search_tree,
)

from metacot_lab.envs import Countdown, CountdownConfig, Maze, generate_countdown
from metacot_lab.search import dfs
from metacot_lab.traces import (
    ERROR_KINDS,
    FORMATS,
    TraceVerdict,
    final_answer,
    tree_from_trace,
    verify_trace,
)
from metacot_lab.traces.sos import END_OF_TEXT
from metacot_lab.traces.verify import _solvable

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAIRS = [(name, env) for name, f in FORMATS.items() for env in f.envs]
CD = Countdown((4, 9, 3), 24)
MAZE = Maze.from_grid(["S.#", "...", "#.G"])


def _kind(verdict: TraceVerdict) -> str:
    assert verdict.first_error is not None
    kind = verdict.first_error.split(":")[0]
    assert kind in ERROR_KINDS
    return kind


@pytest.mark.parametrize("name, env", PAIRS)
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@FAST
@given(data=st.data())
def test_symbolic_traces_are_valid_and_solved_as_their_trees(name, env, algorithm, data):
    problem = data.draw(countdown_problems if env == "countdown" else maze_problems)
    tree = search_tree(algorithm, problem)
    f = FORMATS[name]
    text = f.linearize(tree)
    v = verify_trace(problem, text, name)
    assert v.valid and v.first_error is None and v.error_pos is None, v
    assert v.solved == tree.solved
    written = sum(s.kind == "generate" for s in f.expected_steps(tree))
    assert v.nodes_explored == 1 + written - (name == "searchformer")
    if env == "maze":
        shortest = problem.shortest_path_length()
        assert v.optimal == (tree.solved and len(tree.solution_path()) - 1 == shortest)
    else:
        assert v.optimal is None
    assert verify_trace(problem, f.completion(tree), f) == v  # the completion alone


def test_published_traces_verify():
    for k, p in enumerate(generate_countdown(10, CountdownConfig(num_numbers=4), seed=3)):
        text = published_sos_bfs(p.target, list(p.numbers), beam=1 + k % 5, seed=k)
        v = verify_trace(p, text, "sos")
        assert v.valid and v.solved == ("Goal Reached" in text), (v, text[:300])
        assert v.nodes_explored == 1 + text.count("Exploring Operation")
    steps = [("create", 0, 0, 0, 2), ("close", 0, 0, 0, 2), ("create", 1, 0, 1, 3),
             ("close", 1, 0, 1, 3), ("create", 1, 1, 2, 2), ("create", 2, 0, 2, 4),
             ("close", 1, 1, 2, 2), ("create", 1, 2, 3, 1), ("create", 2, 1, 3, 3),
             ("close", 1, 2, 3, 1), ("create", 0, 2, 4, 0), ("create", 2, 2, 4, 2),
             ("close", 0, 2, 4, 0)] + [("plan", x, y, 0, 0) for x, y in
                                       [(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)]]
    maze = Maze(3, frozenset({(0, 1)}), (0, 0), (0, 2))
    v = verify_trace(maze, published_searchformer((0, 0), (0, 2), [(0, 1)], steps), "searchformer")
    assert v == TraceVerdict(True, True, True, 8, None, None)  # 8 cells created


# --- tampered traces ---------------------------------------------------------------------
GOOD_CD = "9*3=27 -> 4 27\nat\n27-4=23 != 24\n27+4=31 != 24\nback 4 9 3\n9-3=6 -> 4 6\nat\n" \
    "4*6=24 == 24 goal\n"


def test_a_hand_written_countdown_trace_is_valid():
    v = verify_trace(CD, GOOD_CD, "metacot")
    assert v == TraceVerdict(True, True, None, 6, None, None)


@pytest.mark.parametrize("old, new, kind", [
    ("27-4=23", "27-4=22", "arithmetic"),  # wrong arithmetic
    ("9*3=27 -> 4 27", "9*9=81 -> 4 3 81", "unavailable"),  # 9 used twice
    ("9*3=27 -> 4 27", "9*3=27 -> 4 28", "state"),  # a state its step does not lead to
    ("27-4=23 != 24", "27-4=23 == 24 goal", "goal"),  # false goal claim
    ("27-4=23 != 24", "27-4=23 != 23", "target"),  # compares with the wrong target
    ("back 4 9 3", "back 23", "unknown"),  # back to a leaf, never expanded
    ("back 4 9 3", "back 5 9 3", "unknown"),  # teleporting to a state never reached
    ("9-3=6 -> 4 6\nat", "9-3=6 -> 4 6\nat 4 7", "unknown"),
    ("4*6=24 == 24 goal", "4+6=10 != 24\n4*6=24 != 24", "dead_end"),  # false dead end
    ("4*6=24 == 24 goal", "4*6=24 == 24 goal\n", None),  # the untouched trace
])
def test_tampered_countdown_traces_fail_with_the_right_error(old, new, kind):
    assert old in GOOD_CD
    text = GOOD_CD.replace(old, new, 1)
    v = verify_trace(CD, text, "metacot")
    if kind is None:
        assert v.valid and v.solved
        return
    assert not v.valid and not v.solved and _kind(v) == kind, v
    line = text[v.error_pos:].split("\n")[0]
    assert any(line.startswith(x) for x in new.split("\n") if x), (line, v)  # tampered line


def test_false_dead_end_before_more_numbers_is_caught():
    v = verify_trace(CD, "9*3=27 != 24\n", "metacot")  # no "->" says one number is left
    assert _kind(v) == "state"
    assert not _solvable((4, 27), 24) and _solvable((4, 9, 3), 24) and _solvable((24,), 24)


def test_tampered_sos_traces():
    tree = dfs.search(Countdown((42, 61, 66), 47), threshold=47)
    text = FORMATS["sos"].linearize(tree)
    cases = [
        ("Operations: ['61-42=19']", "Operations: ['61-42=18']", "state"),
        ("Exploring Operation: 61-24=37", "Exploring Operation: 61-24=38", "arithmetic"),
        ("Resulting Numbers: [66, 19]", "Resulting Numbers: [66, 20]", "state"),
        ("37,47 unequal", "37,46 unequal", "target"),
        ("Current State: 47:[42, 61, 66], Operations: []\nExploring",
         "Current State: 46:[42, 61, 66], Operations: []\nExploring", "problem"),
        ("85,47 unequal: No Solution", "85,47 equal: Goal Reached", "goal"),
    ]
    for old, new, kind in cases:
        assert old in text
        v = verify_trace(tree.problem, text.replace(old, new, 1), "sos")
        assert not v.valid and _kind(v) == kind, (old, v)


GOOD_MAZE = "0,1 g 1 h 3\nat\n1,1 g 2 h 2\nat\n1,2 g 3 h 1\nat\n2,2 g 4 h 0 goal\n"


@pytest.mark.parametrize("old, new, kind", [
    ("1,1 g 2 h 2", "2,0 g 2 h 2", "wall"),  # into a wall (from (0, 1): also not adjacent)
    ("0,1 g 1 h 3", "0,2 g 1 h 2", "wall"),  # wall crossing
    ("1,2 g 3 h 1", "2,1 g 3 h 2", "cost"),  # adjacent and open, but h is 1
    ("1,1 g 2 h 2", "1,2 g 2 h 1", "adjacent"),  # a jump of two cells
    ("1,2 g 3 h 1", "1,2 g 5 h 1", "cost"),
    ("at\n1,2", "at 2,1\n1,2", "unknown"),  # teleporting to a cell never reached
    ("2,2 g 4 h 0 goal", "2,2 g 4 h 0\n1,2 goal", "goal"),  # false goal claim
    ("2,2 g 4 h 0 goal", "1,2 dead", "dead_end"),  # (2, 2) not yet explored
])
def test_tampered_maze_traces_fail_with_the_right_error(old, new, kind):
    assert verify_trace(MAZE, GOOD_MAZE, "metacot") == TraceVerdict(True, True, True, 5, None,
                                                                    None)
    assert old in GOOD_MAZE
    v = verify_trace(MAZE, GOOD_MAZE.replace(old, new, 1), "metacot")
    assert not v.valid and _kind(v) == kind, v


GOOD_WALLS = ("0,1 g 1 h 3\nat\n0,2 wall\n1,1 g 2 h 2\nat\n1,2 g 3 h 1\nat\n0,2 wall\n"
              "2,2 g 4 h 0 goal\n")


@pytest.mark.parametrize("new", [
    "at\n1,1 wall",  # an open cell
    "at\n2,0 wall",  # a wall, but not next to (0, 1)
    "at\n0,3 wall",  # off the grid
])
def test_false_wall_claims_fail_as_blocked(new):
    assert verify_trace(MAZE, GOOD_WALLS, "metacot_walls") == TraceVerdict(True, True, True, 5,
                                                                         None, None)
    v = verify_trace(MAZE, GOOD_WALLS.replace("at\n0,2 wall", new, 1), "metacot_walls")
    assert not v.valid and _kind(v) == "blocked", v
    assert v.error_pos == GOOD_WALLS.index("at\n0,2 wall") + 3


def test_tampered_searchformer_traces():
    tree = dfs.search(MAZE)
    text = FORMATS["searchformer"].linearize(tree)
    cases = [
        ("plan 1 1", "plan 2 1", "answer"),  # a plan that jumps
        ("create 1 1 c2 c2", "create 1 1 c3 c2", "cost"),
        ("create 0 1 c1 c3", "create 2 0 c1 c3", "wall"),
        ("wall 2 0", "wall 2 1", "problem"),
    ]
    for old, new, kind in cases:
        assert old in text
        v = verify_trace(MAZE, text.replace(old, new, 1), "searchformer")
        assert not v.valid and _kind(v) == kind, (old, v)
    longer = text.replace("plan 0 0", "plan 0 0 plan 0 1 plan 0 0")  # legal, not optimal
    v = verify_trace(MAZE, longer, "searchformer")
    assert v.valid and v.solved and v.optimal is False


def test_path_formats_check_backtracking():
    good = "9*3=27 -> 4 27\n27-4=23 != 24\n[BACK]\n[BACK]\n9-3=6 -> 4 6\n4*6=24 == 24 goal\n"
    assert verify_trace(CD, good, "backtrack") == TraceVerdict(True, True, None, 5, None, None)
    v = verify_trace(CD, good.replace("[BACK]\n[BACK]\n", "[BACK]\n"), "backtrack")
    assert _kind(v) == "unavailable"  # still at 4 27: 9-3 is not possible there
    v = verify_trace(CD, good.replace("[BACK]\n[BACK]\n", "[BACK]\n[BACK]\n[BACK]\n"),
                     "backtrack")
    assert _kind(v) == "parse"  # nothing left to undo
    v = verify_trace(CD, "9*3=27 -> 4 27\n27-4=23 -> 23\n", "solution")
    assert v.valid and not v.solved  # legal steps, no goal: not solved


def test_wrong_answer_and_wrong_problem():
    assert _kind(verify_trace(Countdown((4, 9, 3), 25), GOOD_CD, "metacot")) == "target"
    other = "target 25 nums 4 9 3\n" + GOOD_CD
    v = verify_trace(CD, other, "metacot")
    assert _kind(v) == "problem" and v.error_pos == 0


# --- garbage ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, env", PAIRS)
@settings(max_examples=60, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.sampled_from(
    ["", "\n", "at", "[BACK]", "plan 0 0", "24,24 equal: Goal Reached", "bos eos eos",
     "9*3=27 == 24 goal", "0,0 goal", "Moving to Node #0", END_OF_TEXT])))
def test_garbage_is_invalid_and_never_raises(name, env, text):
    problem = CD if env == "countdown" else MAZE
    v = verify_trace(problem, text, name)
    assert isinstance(v, TraceVerdict) and not v.solved
    words = (text.replace(END_OF_TEXT, " ") if name == "sos" else text).split()
    if set(words) - {"bos", "eos"}:  # not blank (a blank trace, end markers aside, is legal)
        assert not v.valid
    if not v.valid:
        _kind(v)
        assert v.error_pos is None or 0 <= v.error_pos <= len(text)


def _traces_of_every_format(env: str) -> list[str]:
    """Whole traces and completions of ``env``'s problems in every format that writes it."""
    problem = Countdown((4, 9, 3, 2), 24) if env == "countdown" else \
        Maze.from_grid(["S.#..", "..#..", "....#", "##.#.", "....G"])
    tree = search_tree("dfs" if env == "countdown" else "astar", problem)
    return [text for f in FORMATS.values() if env in f.envs
            for text in (f.linearize(tree), f.completion(tree))]


FOREIGN = {env: _traces_of_every_format(env) for env in ("countdown", "maze")}


@pytest.mark.parametrize("name, env", PAIRS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_texts_of_every_format_and_environment_never_raise(name, env, data):
    """Every parser, verifier, tree reader and answer reader of format ``name`` on a problem
    of ``env``, fed traces written for either environment in any format, cut, spliced and
    mutated: a verdict, never an exception (the maze formats once raised on a Countdown
    prompt)."""
    problem = CD if env == "countdown" else MAZE
    source = data.draw(st.sampled_from(FOREIGN["maze" if env == "countdown" else "countdown"]
                                       + FOREIGN[env]))
    cut = data.draw(st.integers(0, len(source)))
    noise = data.draw(st.text(alphabet="0123456789 ,-=+*/\n#goalt", max_size=12))
    at = data.draw(st.integers(0, cut))
    text = source[:at] + noise + source[at:cut]
    fmt = FORMATS[name]
    fmt.parse(text)
    v = verify_trace(problem, text, name)
    assert isinstance(v, TraceVerdict)
    assert v.valid or _kind(v)
    tree_from_trace(problem, text, name)
    answer, right = final_answer(problem, text, name)
    assert right in (True, False)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="format must be one of"):
        verify_trace(CD, GOOD_CD, "nope")
    with pytest.raises(ValueError, match="problem kind for format 'searchformer'"):
        verify_trace(CD, GOOD_CD, "searchformer")
    v = verify_trace(CD, None, "metacot")
    assert not v.valid and _kind(v) == "parse"


# --- regressions: defects found by fuzzing -----------------------------------------------
OPEN5 = Maze(5, frozenset(), (0, 0), (4, 4))


@pytest.mark.parametrize("name", [n for n, f in FORMATS.items() if "maze" in f.envs])
def test_a_countdown_prompt_in_a_maze_trace_is_another_problem(name):
    for text in ("target 24 nums 4 9 3 2\n", "target 24 nums 4 9 3 2\n9*3=27 -> 4 2 27\n"):
        v = verify_trace(OPEN5, text, name)  # raised ValueError in three maze formats
        assert not v.valid and _kind(v) in ("problem", "parse"), v
        tree_from_trace(OPEN5, text, name)
        assert final_answer(OPEN5, text, name) == (None, False)


@pytest.mark.parametrize("name", ["solution", "backtrack"])
def test_a_looped_maze_path_is_judged_as_written(name):
    maze = Maze.from_grid(["S.#..", "..#..", "....#", "##.#.", "....G"])
    text = ("0,1 g 1 h 7\n0,0 g 2 h 8\n0,1 g 3 h 7\n0,2 g 4 h 6\n1,2 g 5 h 5\n2,2 g 6 h 4\n"
            "2,3 g 7 h 3\n2,4 g 8 h 2\n3,4 g 9 h 1\n4,4 g 10 h 0 goal\n")
    v = verify_trace(maze, text, name)
    assert v.valid and v.solved and v.optimal is False  # the written plan has 10 moves, not 8
    answer, right = final_answer(maze, text, name)
    assert len(answer) == 11 and answer[1:4] == [(0, 1), (0, 0), (0, 1)] and right
    straight = text.replace("0,0 g 2 h 8\n0,1 g 3 h 7\n0,2 g 4", "0,2 g 2").replace(
        "g 5 h 5", "g 3 h 5").replace("g 6 h 4", "g 4 h 4").replace("g 7 h 3", "g 5 h 3")
    straight = straight.replace("g 8 h 2", "g 6 h 2").replace("g 9 h 1", "g 7 h 1").replace(
        "g 10 h 0", "g 8 h 0")
    assert verify_trace(maze, straight, name).optimal is True


def test_plan_tokens_alone_are_no_solved_search():
    tree = dfs.search(MAZE)
    full = FORMATS["searchformer"].completion(tree)
    plan_only = "bos " + full[full.index("plan"):]
    assert verify_trace(MAZE, full, "searchformer").solved
    v = verify_trace(MAZE, plan_only, "searchformer")
    assert not v.solved and not v.valid and _kind(v) == "answer", v
    assert final_answer(MAZE, plan_only, "searchformer")[1]  # the plan itself is right


@pytest.mark.parametrize("text, name, problem", [
    ("\u0669*3=27 -> 4 27\n", "metacot", CD),  # Arabic-Indic nine
    ("9*3=\uff12\uff17 -> 4 27\n", "solution", CD),  # fullwidth 27
    ("Exploring Operation: 9*3=\u0662\u0667, Resulting Numbers: [4, 27]\n", "sos", CD),
    ("\u0660,1 g 1 h 3\n", "metacot", MAZE),
    ("bos create \u0660 0 c0 c4 eos", "searchformer", MAZE),
])
def test_digits_are_ascii_in_every_format(text, name, problem):
    v = verify_trace(problem, text, name)
    assert not v.valid and _kind(v) == "parse", v
    assert verify_trace(problem, text.translate(_ASCII_DIGITS), name).first_error != \
        v.first_error  # the same text in ASCII digits reads on


_ASCII_DIGITS = {ord(c): str(i % 10) for i, c in enumerate(
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")}

