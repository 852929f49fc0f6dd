"""Environments: generators (determinism, splits, solvability, maze constraints), rules,
argument checking, verifiers (accept every documented form, reject illegal answers, never
raise on garbage) and serialisation."""

from __future__ import annotations

import itertools
import json
from collections import deque

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import countdown_solvable

from metacot_lab.envs import (
    COUNTDOWN_SPLITS,
    GAME_OF_24,
    SPLITS,
    Countdown,
    CountdownConfig,
    Maze,
    MazeConfig,
    SearchProblem,
    game_of_24,
    generate_countdown,
    generate_mazes,
    heldout_targets,
    problem_from_dict,
    shortest_path_length,
    split_of,
    verify,
    verify_plan,
)
from metacot_lab.envs.countdown import Step, apply_steps, parse_step, parse_steps
from metacot_lab.search import dfs

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- independent oracles (written from the rules, not from the package) -------------------
def solvable(p: Countdown) -> bool:
    """Exhaustive search over every way of combining the numbers under Countdown rules."""
    return countdown_solvable(tuple(sorted(p.numbers)), p.target)


def bfs_length(rows: list[str]) -> int | None:
    """Shortest plan length read straight from the grid text."""
    n = len(rows)
    start = next((x, y) for y in range(n) for x in range(n) if rows[y][x] == "S")
    dist = {start: 0}
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        if rows[y][x] == "G":
            return dist[(x, y)]
        for nx, ny in ((x, y - 1), (x, y + 1), (x - 1, y), (x + 1, y)):
            if 0 <= nx < n and 0 <= ny < n and rows[ny][nx] != "#" and (nx, ny) not in dist:
                dist[(nx, ny)] = dist[(x, y)] + 1
                queue.append((nx, ny))
    return None


# --- protocol -------------------------------------------------------------------------
def test_both_envs_implement_the_protocol():
    maze = Maze.from_grid(["S.", ".G"])
    assert isinstance(Countdown((1, 2), 3), SearchProblem)
    assert isinstance(maze, SearchProblem)
    assert verify(Countdown((1, 2), 3), "1+2=3")
    assert not verify(Countdown((1, 2), 3), "1*2=2")


# --- Countdown rules --------------------------------------------------------------------
def test_countdown_successors_follow_stream_of_search_order():
    p = Countdown((4, 9, 3), 24)
    succ = p.successors(p.initial_state())
    # pairs in combinations order; per pair + * - (larger minus smaller) / (exact only)
    assert succ[:3] == [((0, 1, "+"), (3, 13)), ((0, 1, "*"), (3, 36)), ((0, 1, "-"), (3, 5))]
    assert ((1, 2, "/"), (4, 3)) in succ
    assert all(a[2] != "/" for a, _ in succ[:3])  # 9/4 is not exact
    assert p.actions(p.initial_state()) == [a for a, _ in succ]
    for action, nxt in succ:
        assert p.step(p.initial_state(), action) == nxt
    assert p.describe_action((4, 9, 3), (0, 1, "-")) == "9-4=5"
    assert p.describe_action((4, 9, 3), (1, 2, "/")) == "9/3=3"
    assert p.describe_state((4, 9, 3)) == "24:[4, 9, 3]"


def test_countdown_goal_and_heuristic():
    p = Countdown((4, 9, 3), 24)
    assert p.is_goal((24,)) and not p.is_goal((24, 0)) and not p.is_goal((23,))
    assert p.heuristic((24,)) == 0.0
    assert p.heuristic((20, 30)) == 5.0  # SoS sum heuristic: mean distance to the target


@pytest.mark.parametrize("num_numbers", [3, 4, 5])
def test_every_generated_countdown_problem_is_solvable(num_numbers):
    config = CountdownConfig(num_numbers=num_numbers)
    problems = generate_countdown(60, config, seed=1)
    assert len(problems) == 60
    lo, hi = config.number_range
    for p in problems:
        assert len(p.numbers) == num_numbers
        assert all(lo <= x <= hi for x in p.numbers)
        assert config.target_range[0] <= p.target <= config.target_range[1]
        assert solvable(p), p


def test_six_number_problems_are_solvable_and_dfs_finds_them():
    for p in generate_countdown(3, CountdownConfig(num_numbers=6), seed=2):
        assert solvable(p)
    for p in generate_countdown(30, seed=3):
        tree = dfs.search(p, threshold=None)
        assert tree.solved
        assert p.verify(", ".join(tree.describe_solution()))
        states, actions = tree.solution_states(), tree.solution_actions()
        assert p.verify([p.action_step(s, a) for s, a in zip(states, actions, strict=False)])


def test_countdown_generation_is_deterministic_by_seed():
    a = generate_countdown(40, seed=7)
    b = generate_countdown(40, seed=7)
    c = generate_countdown(40, seed=8)
    assert json.dumps([p.to_dict() for p in a]) == json.dumps([p.to_dict() for p in b])
    assert a != c
    assert len({p.key() for p in a}) == 40  # distinct problems


def test_countdown_splits_are_disjoint_and_heldout_targets_are_fixed():
    config = CountdownConfig()
    held = heldout_targets(config)
    lo, hi = config.target_range
    assert len(held) == (hi - lo + 1) // 10  # a fixed 10% of the targets, as in SoS
    assert held <= set(range(lo, hi + 1))
    assert held == heldout_targets(CountdownConfig())  # independent of anything but config
    by_split = {s: generate_countdown(n, config, s, seed=5) for s, n in
                [("train", 400), ("val", 60), ("test", 60), ("heldout_targets", 60)]}
    keys = {s: {p.key() for p in ps} for s, ps in by_split.items()}
    for s1, s2 in itertools.combinations(COUNTDOWN_SPLITS, 2):
        assert not keys[s1] & keys[s2], (s1, s2)
    for s in SPLITS:
        assert all(p.target not in held for p in by_split[s])
        assert all(split_of(p.key()) == s for p in by_split[s])
    assert all(p.target in held for p in by_split["heldout_targets"])
    # a different seed draws other problems but never crosses the split boundaries
    other_val = {p.key() for p in generate_countdown(60, config, "val", seed=6)}
    assert not other_val & keys["train"]


def test_heldout_fraction_rounds_down_like_sos():
    assert len(heldout_targets(CountdownConfig(target_range=(10, 29)))) == 2
    assert len(heldout_targets(CountdownConfig(target_range=(1, 19)))) == 1
    assert heldout_targets(GAME_OF_24) == frozenset()


def test_game_of_24_preset():
    assert GAME_OF_24.num_numbers == 4
    assert GAME_OF_24.target_range == (24, 24)
    assert GAME_OF_24.number_range == (1, 13)
    problems = game_of_24(30, seed=0)
    assert problems == game_of_24(30, seed=0)
    for p in problems:
        assert p.target == 24 and len(p.numbers) == 4
        assert all(1 <= x <= 13 for x in p.numbers)
        assert solvable(p)


# --- Countdown verifier ---------------------------------------------------------------
P = Countdown((4, 9, 3), 24)


@pytest.mark.parametrize(
    "answer",
    [
        "9-3=6, 4*6=24",
        "9 - 3 = 6; 4 * 6 = 24",
        "9-3=6\n6*4=24\n",
        ["9-3=6", "4*6=24"],
        [(9, "-", 3), (4, "*", 6)],
        [(9, "-", 3, 6), (6, "*", 4, 24)],
        ((9, "-", 3, 6), "4*6=24"),
        [Step(9, "-", 3, 6), Step(4, "*", 6, 24)],
    ],
)
def test_verify_accepts_correct_answers_in_every_form(answer):
    assert P.verify(answer) is True


@pytest.mark.parametrize(
    "answer, why",
    [
        ("3-9=-6, 4*6=24", "negative result"),
        ("3-9=6, 4*6=24", "subtraction written smaller minus larger"),
        ([(3, "-", 9), (4, "*", 6)], "smaller minus larger as a tuple"),
        (Countdown((4, 7, 2), 14), "not an answer"),
        ("9-3=6, 6*4=24, 4+0=4", "number not available"),
        ("9-3=6, 6*6=36", "number reused"),
        ("9*4=36", "numbers left unused"),
        ("9-3=7, 4*7=28", "wrong arithmetic"),
        ("9-3=6, 4+6=10", "final number is not the target"),
        ("9+3=12, 4*12=48", "final number is not the target"),
        ("9-3=6, 4*6=24, 24-0=24", "number not available"),
        ("9/2=4", "inexact division"),
        ("", "empty"),
        ([], "no steps"),
        ("9-3=6, 4x6=24", "unknown operator"),
        ("9-3=6, 4^6=24", "unknown operator"),
        ([(9, "-", 3), (4, "**", 6)], "unknown operator in a tuple"),
        ([(9.0, "-", 3), (4, "*", 6)], "float operand"),
        ([(True, "*", 3)], "bool operand"),
        ("٩-٣=٦, ٤*٦=٢٤", "non-ASCII digits"),
    ],
)
def test_verify_rejects_illegal_answers(answer, why):
    assert P.verify(answer) is False, why


def test_verify_division_and_unused_numbers():
    p = Countdown((8, 2, 6), 10)
    assert p.verify("8/2=4, 4+6=10")
    assert not p.verify("2/8=4, 4+6=10")  # written the wrong way round
    assert not Countdown((7, 2, 6), 9).verify("7/2=3, 3+6=9")
    assert not p.verify("8+2=10")  # 6 unused


def test_apply_steps_and_parsers():
    assert apply_steps((4, 9, 3), [Step(9, "-", 3, 6)]) == [4, 6]
    assert apply_steps((4, 9, 3), [Step(9, "-", 4, 5)]) == [3, 5]
    assert apply_steps((4, 9, 3), [Step(9, "-", 4, 6)]) is None  # miscomputed
    assert apply_steps((4, 9, 3), [Step(9, "-", 5, 4)]) is None  # 5 not available
    assert apply_steps((3, 9), [Step(3, "-", 9, -6)]) is None  # negative result
    assert apply_steps((2, 7), [Step(7, "/", 2, 3)]) is None  # inexact division
    assert apply_steps((3, 9), [Step(3, "/", 9, 0)]) is None  # 3/9 is not 0
    assert parse_step("12 * 3 = 36") == Step(12, "*", 3, 36)
    assert parse_step("12 * -3 = -36") is None
    assert parse_steps("1+1=2,, ;") == [Step(1, "+", 1, 2)]
    assert parse_steps("1+1=2, hello") is None
    # the largest legal value (six numbers of 10,000 multiplied) still parses
    big = "10000*10000=100000000"
    steps = parse_steps(f"{big}, {big}, {big}, 100000000*100000000=10000000000000000, "
                        f"10000000000000000*100000000={10**24}")
    assert apply_steps((10_000,) * 6, steps) == [10**24]
    assert parse_step(f"{10**25}+1={10**25 + 1}") is None  # more digits than any legal value


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary()
    | st.integers(min_value=10**30, max_value=10**60) | st.sampled_from(["+", "-", "*", "/"]),
    lambda children: st.lists(children, max_size=5) | st.tuples(children, children, children)
    | st.tuples(children, children, children, children)
    | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=20,
)


@FAST
@given(answer=JUNK | st.from_type(object) | st.from_type(type))
def test_countdown_verify_never_raises_on_junk(answer):
    assert P.verify(answer) in (True, False)


@FAST
@given(text=st.text(alphabet="0123456789+-*/=, ;\n x", max_size=60))
def test_countdown_verify_never_raises_on_step_like_text(text):
    assert P.verify(text) in (True, False)


@FAST
@given(a=st.integers(0, 50), b=st.integers(0, 50), op=st.sampled_from("+-*/"),
       r=st.integers(-100, 3000))
def test_verify_accepts_a_step_iff_it_is_exact_and_non_negative(a, b, op, r):
    p = Countdown((a, b), r if r >= 0 else 0)
    exact = {"+": a + b, "*": a * b, "-": a - b,
             "/": a // b if b and a % b == 0 else None}[op]
    expected = exact is not None and exact >= 0 and exact == r
    assert p.verify(f"{a}{op}{b}={r}") is expected


# --- Maze -------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [3, 4, 7, 10, 16])
def test_generated_mazes_meet_the_constraints(n):
    mazes = generate_mazes(15, MazeConfig(n=n), seed=0)
    assert len(mazes) == 15
    for m in mazes:
        assert m.n == n
        assert 0.3 <= len(m.walls) / (n * n) <= 0.5
        assert m.start not in m.walls and m.goal not in m.walls and m.start != m.goal
        assert m.shortest_path_length() >= n
        assert bfs_length(m.grid()) == m.shortest_path_length() == shortest_path_length(m)


@FAST
@given(n=st.integers(3, 12), seed=st.integers(0, 10**6),
       ratio=st.floats(0.3, 0.5))
def test_maze_constraints_hold_for_any_seed(n, seed, ratio):
    (m,) = generate_mazes(1, MazeConfig(n=n, wall_ratio=ratio), seed=seed)
    assert abs(len(m.walls) - ratio * n * n) <= 1
    assert 0.3 <= len(m.walls) / (n * n) <= 0.5
    assert m.shortest_path_length() >= n


def test_maze_largest_size_and_n_two():
    (m,) = generate_mazes(1, MazeConfig(n=64), seed=0)
    assert m.n == 64 and m.shortest_path_length() >= 64
    # n = 2 admits walls at a ratio in [0.3, 0.5] only with plans of one move
    (tiny,) = generate_mazes(1, MazeConfig(n=2, min_plan_length=1), seed=0)
    assert len(tiny.walls) == 2 and tiny.shortest_path_length() == 1


def test_maze_generation_is_deterministic_and_splits_are_disjoint():
    a = generate_mazes(20, MazeConfig(n=6), seed=3)
    assert json.dumps([m.to_dict() for m in a]) == json.dumps(
        [m.to_dict() for m in generate_mazes(20, MazeConfig(n=6), seed=3)]
    )
    assert a != generate_mazes(20, MazeConfig(n=6), seed=4)
    keys = {s: {m.key() for m in generate_mazes(20, MazeConfig(n=6), s, seed=3)} for s in SPLITS}
    for s1, s2 in itertools.combinations(SPLITS, 2):
        assert not keys[s1] & keys[s2]
    assert all(split_of(k) == s for s in SPLITS for k in keys[s])


MAZE = Maze.from_grid(
    [
        "S..#",
        "#.#.",
        "...G",
        ".#..",
    ]
)


def test_maze_actions_and_step():
    assert MAZE.start == (0, 0) and MAZE.goal == (3, 2)  # (x=column, y=row)
    assert MAZE.actions((1, 0)) == ["D", "L", "R"]
    assert MAZE.step((1, 0), "D") == (1, 1)
    assert MAZE.successors((0, 2)) == [("D", (0, 3)), ("R", (1, 2))]
    assert MAZE.blocked((0, 2)) == [(0, 1)] and MAZE.blocked((1, 0)) == []  # grid edge: none
    assert MAZE.heuristic((0, 0)) == 5.0
    assert MAZE.shortest_path_length() == 5
    with pytest.raises(ValueError, match="action"):
        MAZE.step((0, 0), "D")  # wall
    with pytest.raises(ValueError, match="action"):
        MAZE.step((0, 0), "X")


@pytest.mark.parametrize(
    "plan, verdict",
    [
        ([(0, 0), (1, 0), (1, 1), (1, 2), (2, 2), (3, 2)], (True, True, True, 5)),
        ([(0, 0), (1, 0), (1, 1), (1, 2), (0, 2), (1, 2), (2, 2), (3, 2)], (True, True, False, 7)),
        ([(0, 0), (1, 0), (1, 1)], (True, False, False, 2)),
        ([(0, 0)], (True, False, False, 0)),
        ([(1, 0), (1, 1), (1, 2), (2, 2), (3, 2)], (False, False, False, 4)),  # not at start
        ([(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (3, 2)], (False, False, False, 5)),  # wall
        ([(0, 0), (1, 1), (1, 2), (2, 2), (3, 2)], (False, False, False, 4)),  # diagonal
        ([(0, 0), (1, 0), (1, 1), (1, 2), (2, 2), (4, 2), (3, 2)], (False, False, False, 6)),
        ([(0, 0), (0, -1)], (False, False, False, 1)),  # off the grid
        ([(0, 0), (1, 0), (1, 0), (1, 1)], (False, False, False, 3)),  # standing still
    ],
)
def test_verify_plan_verdicts(plan, verdict):
    v = verify_plan(MAZE, plan)
    assert (v.valid, v.reaches_goal, v.optimal, v.moves) == verdict
    assert (v.error is None) == v.reaches_goal
    assert MAZE.verify(plan) is v.reaches_goal


@pytest.mark.parametrize("plan", [None, "", "S..G", [], [(0,)], [("0", "0")], [(0.0, 0.0)],
                                  [(True, False)], 17, {(0, 0): 1}, [[0, 0], None]])
def test_verify_plan_reports_unreadable_plans(plan):
    v = verify_plan(MAZE, plan)
    assert not v.valid and not v.reaches_goal and not v.optimal and v.error


@FAST
@given(plan=JUNK | st.from_type(object)
       | st.lists(st.tuples(st.integers(-3, 6), st.integers(-3, 6)), max_size=12)
       | st.lists(st.tuples(st.integers(), st.integers()), max_size=4))
def test_verify_plan_never_raises(plan):
    v = verify_plan(MAZE, plan)
    assert v.reaches_goal in (True, False)
    assert not v.reaches_goal or v.valid


def test_unsolvable_hand_made_maze():
    m = Maze.from_grid(["S#", "#G"])
    assert m.shortest_path_length() is None
    assert not verify_plan(m, [(0, 0), (1, 1)]).valid


# --- bad input --------------------------------------------------------------------------
BAD_INPUTS = [
    (lambda: Maze.from_grid(["S" + "." * 64] + ["." * 65] * 63 + ["G" + "." * 64]), "n"),
    (lambda: Maze(0, frozenset(), (0, 0), (1, 1)), "n"),
    (lambda: Maze(65, frozenset(), (0, 0), (1, 1)), "n"),
    (lambda: Maze(3, frozenset({(0, 0)}), (0, 0), (1, 1)), "start"),
    (lambda: Maze(3, frozenset(), (0, 0), (3, 1)), "goal"),
    (lambda: Maze(3, frozenset(), (1, 1), (1, 1)), "goal"),
    (lambda: Maze(3, frozenset({(5, 5)}), (0, 0), (1, 1)), "walls"),
    (lambda: Maze(3, [7], (0, 0), (1, 1)), "walls"),
    (lambda: Maze(3, 7, (0, 0), (1, 1)), "walls"),
    (lambda: Maze.from_grid(["S.", ".X"]), "grid"),
    (lambda: Maze.from_grid(["S..", "..G"]), "grid"),
    (lambda: Maze.from_grid(["SS", ".G"]), "grid"),
    (lambda: Maze.from_grid(["..", ".G"]), "grid"),
    (lambda: Maze.from_grid("S.G"), "grid"),
    (lambda: MazeConfig(n=0), "n"),
    (lambda: MazeConfig(n=65), "n"),
    (lambda: MazeConfig(n=2), "min_plan_length"),
    (lambda: MazeConfig(wall_ratio=0.9), "wall_ratio"),
    (lambda: MazeConfig(wall_ratio=(0.2, 0.4)), "wall_ratio"),
    (lambda: MazeConfig(wall_ratio=(0.45, 0.35)), "wall_ratio"),
    (lambda: MazeConfig(wall_ratio="high"), "wall_ratio"),
    (lambda: MazeConfig(n=10, min_plan_length=0), "min_plan_length"),
    (lambda: MazeConfig(n=10, min_plan_length=100), "min_plan_length"),
    (lambda: generate_mazes(-1), "count"),
    (lambda: generate_mazes(1, split="heldout_targets"), "split"),
    (lambda: generate_mazes(1, seed=-1), "seed"),
    (lambda: Countdown((), 10), "numbers"),
    (lambda: Countdown((1, 2, 3, 4, 5, 6, 7), 10), "numbers"),
    (lambda: Countdown((1, -2, 3), 10), "numbers"),
    (lambda: Countdown((1, 2.5, 3), 10), "numbers"),
    (lambda: Countdown("123", 10), "numbers"),
    (lambda: Countdown((1, 2, 3), -1), "target"),
    (lambda: Countdown((1, 2, 3), 10**7), "target"),
    (lambda: Countdown((1, 2, 3), 10, "avg"), "heuristic_name"),
    (lambda: P.step((4, 9, 3), (0, 1, "^")), "op"),
    (lambda: P.step((4, 9, 3), (0, 1, "/")), "op"),
    (lambda: P.step((4, 9, 3), (1, 0, "+")), "positions"),
    (lambda: P.step((4, 9, 3), (0, 3, "+")), "positions"),
    (lambda: P.step((4, 9, 3), "0+1"), "action"),
    (lambda: CountdownConfig(num_numbers=2), "num_numbers"),
    (lambda: CountdownConfig(num_numbers=7), "num_numbers"),
    (lambda: CountdownConfig(number_range=(0, 99)), "number_range"),
    (lambda: CountdownConfig(number_range=(50, 10)), "number_range"),
    (lambda: CountdownConfig(number_range=5), "number_range"),
    (lambda: CountdownConfig(target_range=(10, 10**7)), "target_range"),
    (lambda: CountdownConfig(heldout_target_fraction=0.9), "heldout_target_fraction"),
    (lambda: generate_countdown(-1), "count"),
    (lambda: generate_countdown(1, split="validation"), "split"),
    (lambda: generate_countdown(1, seed=-3), "seed"),
    (lambda: generate_countdown(1, seed=1.5), "seed"),
    (lambda: generate_countdown(1, CountdownConfig(heldout_target_fraction=0.0),
                                "heldout_targets"), "heldout_target_fraction"),
    (lambda: game_of_24(1, split="heldout_targets"), "heldout_target_fraction"),
    (lambda: generate_countdown(1, CountdownConfig(3, (1, 1), (500, 600))), "target_range"),
    (lambda: generate_countdown(10, CountdownConfig(3, (1, 1), (3, 3))), "count"),
    (lambda: problem_from_dict({"kind": "sudoku"}), "kind"),
    (lambda: problem_from_dict({}), "kind"),
    (lambda: problem_from_dict(["countdown"]), "kind"),
    (lambda: problem_from_dict({"kind": "countdown", "numbers": [1, 2]}), "target"),
    (lambda: problem_from_dict({"kind": "maze"}), "grid"),
    (lambda: problem_from_dict({"kind": "maze", "grid": [1, 2]}), "grid"),
]


@pytest.mark.parametrize("make, field", BAD_INPUTS)
def test_bad_input_raises_value_error_naming_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


# --- serialisation ----------------------------------------------------------------------
def test_round_trips_through_json():
    problems = [*generate_countdown(5, seed=0), Countdown((4, 9, 3), 24, "mult"),
                *generate_mazes(5, MazeConfig(n=8), seed=0), MAZE]
    for p in problems:
        d = json.loads(json.dumps(p.to_dict()))
        q = problem_from_dict(d)
        assert q == p and type(q) is type(p) and q.to_dict() == p.to_dict()
        assert q.key() == p.key()
    assert Maze.from_dict(MAZE.to_dict()).grid() == MAZE.grid()
