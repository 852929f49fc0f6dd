"""Search algorithms: optimality (A*, BFS), completeness (BFS, DFS, wide beams, MCTS),
solutions the env verifiers accept (and tampered ones they reject), event-log shapes
(SoS DFS, Searchformer A*, greedy beam, standard UCT replayed), JSON round trips,
determinism, budgets, rollout values and bad arguments."""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import countdown_solvable

from metacot_lab.envs import (
    Countdown,
    CountdownConfig,
    Maze,
    MazeConfig,
    generate_countdown,
    generate_mazes,
    verify_plan,
)
from metacot_lab.envs.countdown import HEURISTICS, Step, parse_step
from metacot_lab.search import (
    ALGORITHMS,
    SearchTree,
    astar,
    beam,
    bfs,
    dfs,
    label_values,
    mcts,
    rollout_value,
    run_search,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = {"bfs": {}, "dfs": {}, "astar": {}, "beam": {"width": 10},
         "mcts": {"budget": 300, "rollouts": 4}}  # fast settings per algorithm


# --- independent oracles (written from the rules, not from the package) -------------------
def steps_reach_target(p: Countdown, steps: list[Step]) -> bool:
    """Replay ``a op b = r`` steps on the multiset of numbers with exact integer rules."""
    pool = Counter(p.numbers)
    for s in steps:
        a, b, r = s.a, s.b, s.result
        legal = {"+": r == a + b, "*": r == a * b, "-": r == a - b >= 0,
                 "/": b != 0 and a == r * b}[s.op]
        pool[a] -= 1
        pool[b] -= 1
        if not legal or pool[a] < 0 or pool[b] < 0:
            return False
        pool[r] += 1
    return +pool == Counter([p.target])


def grid_distances(rows: list[str], source: tuple[int, int]) -> dict[tuple[int, int], int]:
    """Shortest moves from ``source`` to every open cell, read straight from the grid text."""
    n = len(rows)
    dist = {source: 0}
    queue = deque([source])
    while queue:
        x, y = queue.popleft()
        for nx, ny in ((x, y - 1), (x, y + 1), (x - 1, y), (x + 1, y)):
            if 0 <= nx < n and 0 <= ny < n and rows[ny][nx] != "#" and (nx, ny) not in dist:
                dist[(nx, ny)] = dist[(x, y)] + 1
                queue.append((nx, ny))
    return dist


def plan_oracle(m: Maze, plan: list[tuple[int, int]]) -> tuple[bool, bool, bool]:
    """``(valid, reaches_goal, optimal)`` of a plan of cells, from the grid text."""
    rows = m.grid()
    n = len(rows)
    is_open = all(0 <= x < n and 0 <= y < n and rows[y][x] != "#" for x, y in plan)
    pairs = zip(plan, plan[1:], strict=False)
    steps = all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in pairs)
    valid = bool(plan) and plan[0] == m.start and is_open and steps
    reaches = valid and plan[-1] == m.goal
    shortest = grid_distances(rows, m.start).get(m.goal)
    return valid, reaches, reaches and len(plan) - 1 == shortest


def events_of(tree: SearchTree) -> list[tuple[str, int]]:
    return [(e.kind, e.node) for e in tree.events]


# --- shared inputs (built once) -----------------------------------------------------------
@cache
def mazes() -> list[Maze]:
    """240 mazes of sizes 5..20."""
    return [m for n in range(5, 21) for m in generate_mazes(15, MazeConfig(n=n), seed=n)]


@cache
def countdowns() -> list[Countdown]:
    """300 generated (hence solvable) Countdown-3 and Countdown-4 problems."""
    return (generate_countdown(150, CountdownConfig(num_numbers=3), seed=1)
            + generate_countdown(150, CountdownConfig(num_numbers=4), seed=2))


@cache
def solved_countdown(k: int) -> SearchTree:
    return dfs.search(countdowns()[k])


@cache
def solved_maze(k: int) -> SearchTree:
    return astar.search(mazes()[k])


# --- optimality -----------------------------------------------------------------------
def test_astar_and_bfs_plans_are_shortest_on_240_mazes():
    for m in mazes():
        shortest = m.shortest_path_length()
        assert shortest == grid_distances(m.grid(), m.start)[m.goal]
        a, b = astar.search(m), bfs.search(m)
        assert a.solved and b.solved
        assert len(a.solution_path()) - 1 == len(b.solution_path()) - 1 == shortest
        for t in (a, b):
            assert verify_plan(m, t.solution_states()).optimal
            assert plan_oracle(m, t.solution_states()) == (True, True, True)
        assert not a.budget_exhausted and not b.budget_exhausted


def test_astar_closes_each_cell_once_at_its_true_distance():
    """Manhattan distance is consistent: a closed cell's g is already optimal."""
    for m in mazes()[::4]:
        t = astar.search(m)
        dist = grid_distances(m.grid(), m.start)
        closed = [t.node(n)["state"] for k, n in events_of(t) if k == "expand"]
        assert len(closed) == len(set(closed))
        for kind, n in events_of(t):
            attrs = t.node(n)
            if kind in ("expand", "goal"):
                assert attrs["g"] == dist[attrs["state"]]
            if kind == "prune":  # a stale entry: the cell was reached more cheaply
                assert attrs["g"] > dist[attrs["state"]]
            assert attrs["h"] == m.heuristic(attrs["state"])


def test_astar_random_tie_break_is_optimal_and_deterministic_per_seed():
    differ = 0
    for k, m in enumerate(mazes()[::2]):
        t = astar.search(m, tie_break="random", seed=k)
        assert len(t.solution_path()) - 1 == m.shortest_path_length()
        assert t.to_json() == astar.search(m, tie_break="random", seed=k).to_json()
        other = astar.search(m, tie_break="random", seed=k + 1000)
        differ += events_of(other) != events_of(t)
    assert differ > 0  # the seed really changes the order of equal-(f, h) nodes


def test_astar_writes_searchformers_published_trace():
    """The create/close steps of the published Searchformer example (3x3, a wall at 0,1)."""
    m = Maze(3, frozenset({(0, 1)}), (0, 0), (0, 2))
    t = astar.search(m)
    steps = [("create", 0, 0, 0, 2), ("close", 0, 0, 0, 2), ("create", 1, 0, 1, 3),
             ("close", 1, 0, 1, 3), ("create", 1, 1, 2, 2), ("create", 2, 0, 2, 4),
             ("close", 1, 1, 2, 2), ("create", 1, 2, 3, 1), ("create", 2, 1, 3, 3),
             ("close", 1, 2, 3, 1), ("create", 0, 2, 4, 0), ("create", 2, 2, 4, 2),
             ("close", 0, 2, 4, 0)]
    token = {"generate": "create", "expand": "close", "goal": "close"}
    got = [(token[e.kind], *t.node(e.node)["state"], t.node(e.node)["g"], t.node(e.node)["h"])
           for e in t.events if e.kind in token]
    assert got == steps
    assert [e.kind for e in t.events][-1] == "goal"
    assert t.solution_states() == [(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)]


def test_greedy_best_first_search_solves_mazes():
    for m in mazes()[::8]:
        t = astar.search(m, weight_g=0.0)
        assert t.solved and t.params["weight_g"] == 0.0
        assert plan_oracle(m, t.solution_states())[:2] == (True, True)


# --- completeness on Countdown ----------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["dfs", "bfs"])
def test_dfs_and_bfs_solve_every_generated_countdown_problem(algorithm):
    for p in countdowns():
        t = run_search(algorithm, p)  # full budget, DFS without threshold
        assert t.solved and not t.budget_exhausted, p
        steps = t.describe_solution()
        assert len(steps) == len(p.numbers) - 1
        assert p.verify(steps) and p.verify(", ".join(steps))
        assert steps_reach_target(p, [parse_step(s) for s in steps])


@FAST
@given(st.lists(st.integers(1, 30), min_size=3, max_size=4), st.integers(1, 80))
def test_complete_searches_solve_exactly_the_solvable_problems(numbers, target):
    p = Countdown(tuple(numbers), target)
    solvable = countdown_solvable(tuple(sorted(numbers)), target)
    for t in (bfs.search(p), dfs.search(p), astar.search(p), beam.search(p, width=10**6)):
        assert t.solved == solvable and not t.budget_exhausted, t
        if solvable:
            assert steps_reach_target(p, [parse_step(s) for s in t.describe_solution()])


def test_bfs_goal_tests_at_generation_and_marks_dead_ends():
    p = Countdown((4, 9, 3), 24)
    t = bfs.search(p)
    assert t.describe_solution() == ["9-3=6", "4*6=24"]
    kinds = [e.kind for e in t.events]
    assert kinds[:2] == ["generate", "expand"] and kinds[-2:] == ["generate", "goal"]
    for node, attrs in t.graph.nodes(data=True):
        if len(attrs["state"]) == 1 and node != t.goal_node:
            assert attrs["status"] == "dead_end"
    expanded = [t.node(n)["depth"] for k, n in events_of(t) if k == "expand"]
    assert expanded == sorted(expanded)  # FIFO: layer by layer
    assert kinds.count("close") == len(expanded) - 1  # all but the one that found the goal


# --- the verifiers accept found solutions and reject tampered ones ------------------------
@FAST
@given(data=st.data())
def test_countdown_verifier_rejects_tampered_solutions(data):
    k = data.draw(st.integers(0, len(countdowns()) - 1), label="problem")
    p, t = countdowns()[k], solved_countdown(k)
    steps = [parse_step(s) for s in t.describe_solution()]
    assert p.verify(steps) and steps_reach_target(p, steps)
    i = data.draw(st.integers(0, len(steps) - 1), label="step")
    a, op, b, r = steps[i]
    how = data.draw(st.sampled_from(["number", "operator", "result", "drop"]))
    delta = data.draw(st.integers(1, 9))
    if how == "result":
        changed = Step(a, op, b, r + delta)
    elif how == "operator":
        changed = Step(a, data.draw(st.sampled_from([o for o in "+-*/" if o != op])), b, r)
    elif how == "number":
        changed = Step(a + delta, op, b, r) if data.draw(st.booleans()) else Step(a, op, b + delta,
                                                                                  r)
    tampered = steps[:i] + steps[i + 1:] if how == "drop" else [*steps[:i], changed,
                                                               *steps[i + 1:]]
    assert p.verify(tampered) == steps_reach_target(p, tampered)
    if how in ("result", "drop"):  # wrong arithmetic / numbers left over: always wrong
        assert not p.verify(tampered)
        assert not p.verify(", ".join(map(str, tampered)))


@FAST
@given(data=st.data())
def test_maze_verifier_judges_tampered_plans(data):
    k = data.draw(st.integers(0, len(mazes()) - 1), label="maze")
    m, t = mazes()[k], solved_maze(k)
    plan = t.solution_states()
    assert verify_plan(m, plan).optimal and m.verify(plan)
    how = data.draw(st.sampled_from(["move", "jump", "drop", "detour", "truncate"]))
    i = data.draw(st.integers(1, len(plan) - 2), label="cell")
    x, y = plan[i]
    if how == "move":  # to any cell next to the old one (may even stay a shortest plan)
        dx, dy = data.draw(st.sampled_from([(0, -1), (0, 1), (-1, 0), (1, 0)]))
        tampered = [*plan[:i], (x + dx, y + dy), *plan[i + 1:]]
    elif how == "jump":  # two cells away: never adjacent to both neighbours
        tampered = [*plan[:i], (x + 2, y), *plan[i + 1:]]
    elif how == "drop":
        tampered = plan[:i] + plan[i + 1:]
    elif how == "detour":  # step to an open neighbour and back: valid, one loop too long
        nxt = data.draw(st.sampled_from([c for _, c in m.successors(plan[i])]))
        tampered = [*plan[:i + 1], nxt, plan[i], *plan[i + 1:]]
    else:
        tampered = plan[:i + 1]
    v = verify_plan(m, tampered)
    assert (v.valid, v.reaches_goal, v.optimal) == plan_oracle(m, tampered)
    assert m.verify(tampered) == v.reaches_goal
    if how in ("jump", "drop"):
        assert not v.valid and v.error
    elif how == "detour":
        assert v.valid and v.reaches_goal and not v.optimal
    elif how == "truncate":
        assert v.valid and not v.reaches_goal and not v.optimal


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithms_maze_plans_are_judged_correctly(algorithm):
    for m in mazes()[::12]:
        t = run_search(algorithm, m, budget=m.n * m.n * 4)
        assert t.solved, (algorithm, m.grid())
        v = verify_plan(m, t.solution_states())
        assert (v.valid, v.reaches_goal, v.optimal) == plan_oracle(m, t.solution_states())
        assert v.reaches_goal and v.moves == len(t.solution_path()) - 1


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_dead_ends_are_marked_and_true(algorithm):
    """An expanded node left without children is a dead end, and every dead end is one:
    Countdown numbers that cannot reach the target, a maze cell whose every neighbour the
    search had already reached."""
    for p in countdowns()[::30] + mazes()[::20]:
        t = run_search(algorithm, p, **SMALL[algorithm])
        expanded = {n for k, n in events_of(t) if k == "expand"}
        final = t.goal_node is not None and t.node(t.goal_node)["parent"]
        for n in expanded:
            if not t.children(n) and n != final:
                assert t.node(n)["status"] == "dead_end", (algorithm, p)
        states = {s for _, s in t.graph.nodes(data="state")}
        for _, attrs in t.graph.nodes(data=True):
            if attrs["status"] != "dead_end":
                continue
            if p.kind == "countdown":
                assert not countdown_solvable(tuple(sorted(attrs["state"])), p.target)
            else:
                assert all(c in states for _, c in p.successors(attrs["state"]))


# --- DFS event log on the worked example ------------------------------------------------
def test_dfs_event_log_on_the_worked_example():
    p = Countdown((4, 9, 3), 24)
    t = dfs.search(p, threshold=24)
    nodes = t.graph.nodes

    def said(n: int) -> str:
        parent = nodes[n]["parent"]
        return "root" if parent is None else p.describe_action(nodes[parent]["state"],
                                                               nodes[n]["action"])

    log = [(e.kind, said(e.node)) for e in t.events]
    # children of [4, 9, 3] by mean |x - 24|: [4, 27] (11.5) first; then under 27:
    # 27-4=23 (1), 4+27=31 (7); 4*27=108 (84 > 24) is pruned
    assert log[:12] == [
        ("generate", "root"), ("expand", "root"), ("generate", "9*3=27"),
        ("expand", "9*3=27"), ("prune", "4*27=108"), ("generate", "27-4=23"),
        ("dead_end", "27-4=23"), ("backtrack", "9*3=27"), ("generate", "4+27=31"),
        ("dead_end", "4+27=31"), ("close", "9*3=27"), ("backtrack", "root"),
    ]
    assert log[-4:] == [("generate", "9-3=6"), ("expand", "9-3=6"), ("generate", "4*6=24"),
                        ("goal", "4*6=24")]
    assert t.describe_solution() == ["9-3=6", "4*6=24"]
    for (kind, n), nxt in zip(events_of(t), events_of(t)[1:], strict=False):
        if kind == "dead_end" and len(nodes[n]["state"]) == 1:  # a leaf: back to its parent
            assert nxt in (("backtrack", nodes[n]["parent"]), ("close", nodes[n]["parent"]))
        if kind == "close":  # a finished subtree: back to its parent
            assert nxt == ("backtrack", nodes[n]["parent"])
    assert all(nodes[n]["h"] > 24 for k, n in events_of(t) if k == "prune")
    assert t.stats()["expanded"] == 9


# --- beam search --------------------------------------------------------------------------
def greedy_oracle(problem, budget: int = 10_000) -> tuple[list, bool]:
    """States a width-1 beam expands (the first lowest-h live child each time) and whether
    it reaches a goal."""
    state, closed, expanded = problem.initial_state(), set(), []
    while len(expanded) < budget:
        expanded.append(state)
        closed.add(state)
        live = []
        for _, child in problem.successors(state):
            if problem.has_cycles and child in closed:
                continue
            if problem.is_goal(child):
                return expanded, True
            if problem.successors(child):
                live.append(child)
        if not live:
            return expanded, False
        state = min(live, key=problem.heuristic)  # min keeps the first of equal values
    return expanded, False


def test_beam_width_one_is_greedy():
    problems = countdowns()[::5] + mazes()[::6]
    for p in problems:
        t = beam.search(p, width=1)
        expanded = [t.node(n)["state"] for k, n in events_of(t) if k == "expand"]
        assert (expanded, t.solved) == greedy_oracle(p), p
        depths = Counter(t.node(n)["depth"] for k, n in events_of(t) if k == "expand")
        assert set(depths.values()) == {1}


def test_wide_beams_find_solutions_and_keep_width():
    for p in countdowns()[::3]:
        t = beam.search(p, width=10**6)
        assert t.solved and p.verify(t.describe_solution())
    for m in mazes()[::6]:
        t = beam.search(m, width=10**6)  # as wide as any layer: breadth-first
        assert len(t.solution_path()) - 1 == m.shortest_path_length()
    for p in countdowns()[::10]:
        for width in (2, 5):
            for score in ("h", "f"):
                t = beam.search(p, width=width, score=score)
                per_layer = Counter(t.node(n)["depth"] for k, n in events_of(t) if k == "expand")
                assert max(per_layer.values()) <= width
                pruned = [n for k, n in events_of(t) if k == "prune"]
                assert all(t.node(n)["status"] == "pruned" for n in pruned)


# --- MCTS -------------------------------------------------------------------------------
def replay_mcts(t: SearchTree) -> None:
    """Rebuild visit counts, values and every UCT choice from the event log alone, and check
    them against the tree (standard UCT: W/N + c sqrt(ln N_parent / N); unvisited first)."""
    c = t.params["c"]
    visits: Counter = Counter()
    total: Counter = Counter()
    kids: dict[int, list[int]] = {}
    exhausted: set[int] = set()
    nodes = t.graph.nodes
    for kind, n, value in t.events:
        if kind == "generate" and n != t.root:
            kids.setdefault(nodes[n]["parent"], []).append(n)
        elif kind == "select":  # every choice on the way down was the UCT argmax
            path = t.path_to(n)
            for parent, child in zip(path, path[1:], strict=False):
                live = [k for k in kids[parent] if k not in exhausted]
                assert all(visits[k] > 0 for k in live)
                score = {k: total[k] / visits[k] + c * math.sqrt(math.log(visits[parent])
                                                                 / visits[k]) for k in live}
                assert child == max(live, key=score.__getitem__)
            live = [k for k in kids.get(n, []) if k not in exhausted]
            assert n not in kids or any(visits[k] == 0 for k in live)  # where selection stops
        elif kind == "dead_end":
            exhausted.add(n)
        elif kind == "backup":
            for m in t.path_to(n):
                visits[m] += 1
                total[m] += value
            for parent in reversed(t.path_to(n)[:-1]):
                if not all(k in exhausted for k in kids[parent]):
                    break
                exhausted.add(parent)
    assert nodes[t.root]["visits"] == sum(e.kind == "backup" for e in t.events)
    for n, attrs in t.graph.nodes(data=True):
        assert attrs["visits"] == visits[n]
        assert attrs["value"] == (pytest.approx(total[n] / visits[n]) if visits[n] else 0.0)
        if n in kids:  # a node's visits: its own evaluation plus its children's
            assert attrs["visits"] == 1 + sum(visits[k] for k in kids[n]) - (n == t.root)


@pytest.mark.parametrize("value", ["rollout", "heuristic"])
def test_mcts_solves_easy_countdown_and_mazes(value):
    easy = generate_countdown(30, CountdownConfig(num_numbers=3), seed=7)
    for k, p in enumerate(easy):
        t = mcts.search(p, budget=80, value=value, rollouts=4, seed=k)  # <= 61 nodes in all
        assert t.solved and not t.budget_exhausted and p.verify(t.describe_solution())
        assert t.events[-1].kind == "goal"
    for k, m in enumerate(generate_mazes(12, MazeConfig(n=6), seed=7)):
        t = mcts.search(m, budget=m.n * m.n, value=value, rollouts=4, seed=k)
        assert t.solved and plan_oracle(m, t.solution_states())[:2] == (True, True)
        states = [s for _, s in t.graph.nodes(data="state")]
        assert len(states) == len(set(states))  # a cell is created once


def test_mcts_visit_counts_values_and_uct_choices_replay():
    problems = countdowns()[:150:15] + countdowns()[150::15] + mazes()[:60:10]
    for k, p in enumerate(problems):
        for value in ("rollout", "heuristic"):
            t = mcts.search(p, budget=120, value=value, rollouts=3, c=[0.5, 1.4][k % 2],
                            seed=k)
            replay_mcts(t)


def test_mcts_exhausts_an_unsolvable_problem_and_stops():
    p = Countdown((1, 1, 1), 50)
    t = mcts.search(p, budget=10_000, seed=3)
    assert not t.solved and not t.budget_exhausted
    assert t.stats()["generated"] == len(bfs.search(p).graph)  # the whole tree, every node
    assert all(attrs["visits"] == 1 for n, attrs in t.graph.nodes(data=True)
               if attrs["status"] == "dead_end")
    replay_mcts(t)


def test_mcts_docstring_states_the_standard_uct_rule():
    assert "W/N + c * sqrt(ln(N_parent) / N)" in mcts.__doc__
    assert "upside down" in mcts.__doc__ and "standard" in mcts.__doc__


# --- rollouts ---------------------------------------------------------------------------
def test_rollout_values_of_goals_dead_ends_and_a_known_fraction():
    p = Countdown((4, 6), 24)  # 4+6, 4*6, 6-4 (6/4 is not exact): one move in three wins
    rng = random.Random(0)
    assert rollout_value(p, (24,), 5, rng, 10) == 1.0
    assert rollout_value(p, (23,), 5, rng, 10) == 0.0
    assert rollout_value(p, (4, 6), 3000, rng, 10) == pytest.approx(1 / 3, abs=0.04)
    assert rollout_value(p, (4, 6), 50, rng, 0) == 0.0  # no step allowed
    a = rollout_value(p, (4, 6), 40, random.Random(5), 10)
    assert a == rollout_value(p, (4, 6), 40, random.Random(5), 10)


def test_maze_rollouts_do_not_step_straight_back():
    corridor = Maze.from_grid(["S....", "####.", "####.", "####.", "####G"])
    assert rollout_value(corridor, corridor.start, 50, random.Random(1), 8) == 1.0
    assert rollout_value(corridor, corridor.start, 50, random.Random(1), 7) == 0.0
    # entered from the goal's side: walk away to the start (6 moves), turn back there (the
    # only move), walk to the goal (8 moves): exactly 14 moves, every time
    assert rollout_value(corridor, (4, 2), 20, random.Random(1), 14, previous=(4, 3)) == 1.0
    assert rollout_value(corridor, (4, 2), 20, random.Random(1), 13, previous=(4, 3)) == 0.0


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_label_values_sets_mc_value_on_every_node(algorithm):
    p = Countdown((4, 9, 3), 24)
    t = run_search(algorithm, p, **SMALL[algorithm])
    label_values(t, k=8, seed=3)
    values = dict(t.graph.nodes(data="mc_value"))
    assert len(values) == len(t) and all(0.0 <= v <= 1.0 for v in values.values())
    assert values[t.goal_node] == 1.0
    for n, attrs in t.graph.nodes(data=True):
        if len(attrs["state"]) == 1 and attrs["state"][0] != 24:
            assert values[n] == 0.0
    again = run_search(algorithm, p, **SMALL[algorithm])
    label_values(again, k=8, seed=3)
    assert again.to_json() == t.to_json()
    assert dict(SearchTree.from_json(t.to_json()).graph.nodes(data="mc_value")) == values


# --- JSON round trip, determinism, budgets -------------------------------------------------
def _problems():
    return [Countdown((4, 9, 3), 24), countdowns()[200], mazes()[20], mazes()[100]]


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_json_round_trip_is_lossless(algorithm):
    for p in _problems():
        t = run_search(algorithm, p, seed=2, **SMALL[algorithm])
        back = SearchTree.from_json(t.to_json())
        assert back.to_dict() == t.to_dict()
        assert dict(back.graph.nodes(data=True)) == dict(t.graph.nodes(data=True))
        assert sorted(back.graph.edges) == sorted(t.graph.edges)
        assert back.events == t.events and back.stats() == t.stats()
        assert back.solution_states() == t.solution_states()
        assert back.to_json() == t.to_json()


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_is_deterministic(algorithm):
    for p in _problems():
        for seed in (0, 11):
            first = run_search(algorithm, p, seed=seed, **SMALL[algorithm]).to_json()
            assert first == run_search(algorithm, p, seed=seed, **SMALL[algorithm]).to_json()


def test_mcts_seed_changes_the_search():
    p = countdowns()[250]
    trees = {mcts.search(p, budget=100, seed=s).to_json() for s in range(4)}
    assert len(trees) > 1


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_budget_exhaustion_is_recorded(algorithm):
    p = Countdown((7, 11, 13, 17), 99)  # unsolvable: no search ends early with a goal
    assert not countdown_solvable(tuple(sorted(p.numbers)), p.target)
    t = run_search(algorithm, p, budget=3)
    assert t.budget_exhausted and not t.solved
    if algorithm == "mcts":
        assert sum(e.kind == "backup" for e in t.events) == 3
    else:
        assert sum(e.kind == "expand" for e in t.events) == 3
    m = mazes()[-1]  # 20x20: the goal is far more than 3 expansions away
    t = run_search(algorithm, m, budget=3)
    assert t.budget_exhausted and not t.solved
    full = run_search(algorithm, Countdown((4, 9, 3), 24), **SMALL[algorithm])
    assert full.solved and not full.budget_exhausted


@pytest.mark.parametrize("algorithm", ["bfs", "dfs", "astar"])
def test_an_exhausted_search_space_is_not_a_spent_budget(algorithm):
    t = run_search(algorithm, Countdown((7, 11, 13, 17), 99))
    assert not t.solved and not t.budget_exhausted


def test_registry_and_run_search():
    assert set(ALGORITHMS) == {"bfs", "dfs", "astar", "beam", "mcts"}
    p = Countdown((4, 9, 3), 24)
    for name, fn in ALGORITHMS.items():
        t = run_search(name, p, **SMALL[name])
        assert t.algorithm == name and t.to_json() == fn(p, **SMALL[name]).to_json()
    with pytest.raises(ValueError, match=r"name must be one of \['astar', 'beam', 'bfs'"):
        run_search("dijkstra", p)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_run_search_names_an_argument_it_does_not_take(name):
    with pytest.raises(ValueError, match=rf"arguments of {name} must be among \[.*'budget'"):
        run_search(name, Countdown((4, 9, 3), 24), bogus=1)


def test_heuristics_are_chosen_by_name():
    p, maze = Countdown((4, 9, 3), 24), Maze.from_grid(["S.#", "...", "#.G"])
    by_name = run_search("astar", p, heuristic="mult", budget=200)
    by_function = run_search("astar", p, budget=200,
                             heuristic=lambda s: HEURISTICS["mult"](s, 24))
    assert by_name.to_json() == by_function.to_json()
    assert by_name.to_json() != run_search("astar", p, heuristic="sum", budget=200).to_json()
    zero = run_search("astar", maze, heuristic="zero")
    assert zero.solved and all(zero.node(n)["h"] == 0 for n in zero.graph)
    assert run_search("astar", maze, heuristic="manhattan").to_json() == \
        run_search("astar", maze).to_json()
    for problem, names in ((p, "'problem', 'zero', 'sum', 'mult'"),
                           (maze, "'problem', 'zero', 'manhattan'")):
        for algorithm in ("astar", "beam", "dfs"):
            with pytest.raises(ValueError, match=f"heuristic must be a function or one of "
                                                 f"\\[{names}\\], got 'nope'"):
                run_search(algorithm, problem, heuristic="nope")
        with pytest.raises(ValueError, match="heuristic must be a function"):
            run_search("astar", problem, heuristic=3)


# --- bad arguments ------------------------------------------------------------------------
P = Countdown((4, 9, 3), 24)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("kwargs, field", [
    ({"budget": 0}, "budget"), ({"budget": -5}, "budget"), ({"budget": 1.5}, "budget"),
    ({"seed": -1}, "seed"), ({"seed": True}, "seed"),
])
def test_bad_common_arguments_name_the_field(algorithm, kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field} must"):
        run_search(algorithm, P, **kwargs)


@pytest.mark.parametrize("fn, kwargs, field", [
    (beam.search, {"width": 0}, "width"),
    (beam.search, {"score": "g"}, "score"),
    (astar.search, {"tie_break": "coin"}, "tie_break"),
    (astar.search, {"weight_g": -1.0}, "weight_g"),
    (astar.search, {"weight_g": float("nan")}, "weight_g"),
    (mcts.search, {"c": -0.1}, "c"),
    (mcts.search, {"value": "oracle"}, "value"),
    (mcts.search, {"rollouts": 0}, "rollouts"),
    (mcts.search, {"max_rollout_depth": -1}, "max_rollout_depth"),
])
def test_bad_algorithm_arguments_name_the_field(fn, kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field} must"):
        fn(P, **kwargs)


def test_bad_problem_and_rollout_arguments():
    with pytest.raises(ValueError, match="^problem must"):
        bfs.search("4 9 3 -> 24")
    with pytest.raises(ValueError, match="^k must"):
        rollout_value(P, P.numbers, 0, random.Random(0), 5)
    with pytest.raises(ValueError, match="^max_depth must"):
        rollout_value(P, P.numbers, 3, random.Random(0), -1)
    with pytest.raises(ValueError, match="^rng must"):
        rollout_value(P, P.numbers, 3, 0, 5)
    t = bfs.search(P)
    with pytest.raises(ValueError, match="^seed must"):
        label_values(t, seed=-1)
    with pytest.raises(ValueError, match="^k must"):
        label_values(t, k=0)
