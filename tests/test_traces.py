"""Trace formats: the registry, byte compatibility with the published Stream of Search and
Searchformer generators, round trips over random problems and every search algorithm, and
parsers that never raise."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trace_helpers import (
    ALGORITHMS,
    countdown_problems,
    maze_problems,
    published_searchformer,
    published_sos_bfs,
    published_sos_dfs,
    search_tree,
    sos_mult_heuristic,
    sos_sum_heuristic,
)

from metacot_lab.envs import Countdown, CountdownConfig, Maze, generate_countdown
from metacot_lab.envs.countdown import Step
from metacot_lab.search import dfs
from metacot_lab.traces import (
    FORMATS,
    ParsedTrace,
    TraceFormat,
    backtrack,
    formats_for,
    get_format,
    metacot,
    searchformer,
    solution,
    sos,
    verify_trace,
)
from metacot_lab.traces.lengths import count_gpt2_pretokens, count_pieces, summarize

FAST = settings(max_examples=20, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PAIRS = [(name, env) for name, f in FORMATS.items() for env in f.envs]

# Published by the Stream of Search authors: the example trajectory in the `__main__` block of
# kanishkg/stream-of-search src/countdown_utils.py (commit d17cce8). As published it ends
# with the goal line written twice and no final newline; the generator itself ends every
# line, the goal line included, with "\n".
PUBLISHED_SOS = """Current State: 47:[42, 61, 66], Operations: []
Exploring Operation: 66-42=24, Resulting Numbers: [61, 24]
Generated Node #0,0: 47:[61, 24] Operation: 66-42=24
Moving to Node #0,0
Current State: 47:[61, 24], Operations: ['66-42=24']
Exploring Operation: 61-24=37, Resulting Numbers: [37]
37,47 unequal: No Solution
Moving to Node #0,0
Current State: 47:[61, 24], Operations: ['66-42=24']
Exploring Operation: 61+24=85, Resulting Numbers: [85]
85,47 unequal: No Solution
Moving to Node #0
Current State: 47:[42, 61, 66], Operations: []
Exploring Operation: 61-42=19, Resulting Numbers: [66, 19]
Generated Node #0,1: 47:[66, 19] Operation: 61-42=19
Moving to Node #0,1
Current State: 47:[66, 19], Operations: ['61-42=19']
Exploring Operation: 66-19=47, Resulting Numbers: [47]
47,47 equal: Goal Reached47,47 equal: Goal Reached"""

# Searchformer's A* traces of its unit tests (facebookresearch/searchformer
# test/trace_maze_short.json and test/trace_maze_walls.json: 3x3 mazes, start (0, 0), goal
# (0, 2)), as (action, x, y, cost_from_start, heuristic).
SEARCHFORMER_SHORT = (
    [(0, 1)],
    [("create", 0, 0, 0, 2), ("close", 0, 0, 0, 2), ("create", 1, 0, 1, 3),
     ("close", 1, 0, 1, 3), ("create", 1, 1, 2, 2), ("create", 2, 0, 2, 4),
     ("close", 1, 1, 2, 2), ("create", 1, 2, 3, 1), ("create", 2, 1, 3, 3),
     ("close", 1, 2, 3, 1), ("create", 0, 2, 4, 0), ("create", 2, 2, 4, 2),
     ("close", 0, 2, 4, 0), ("plan", 0, 0, 0, 2), ("plan", 1, 0, 1, 3), ("plan", 1, 1, 2, 2),
     ("plan", 1, 2, 3, 1), ("plan", 0, 2, 4, 0)],
)
SEARCHFORMER_WALLS = (
    [(0, 1), (1, 1)],
    [("create", 0, 0, 0, 2), ("close", 0, 0, 0, 2), ("create", 1, 0, 1, 3),
     ("close", 1, 0, 1, 3), ("create", 2, 0, 2, 4), ("close", 2, 0, 2, 4),
     ("create", 2, 1, 3, 3), ("close", 2, 1, 3, 3), ("create", 2, 2, 4, 2),
     ("close", 2, 2, 4, 2), ("create", 1, 2, 5, 1), ("close", 1, 2, 5, 1),
     ("create", 0, 2, 6, 0), ("close", 0, 2, 6, 0)]
    + [("plan", x, y, 0, 0) for x, y in [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2)]],
)


def _problem(env: str, data) -> object:
    return data.draw(countdown_problems if env == "countdown" else maze_problems)


# --- registry ----------------------------------------------------------------------------
def test_registry_names_every_format_and_rejects_others():
    assert set(FORMATS) == {"sos", "searchformer", "solution", "metacot", "metacot_walls",
                            "backtrack", "solution_map", "metacot_map"}
    for name, f in FORMATS.items():
        assert isinstance(f, TraceFormat) and f.name == name and get_format(name) is f
        assert get_format(f) is f
    assert formats_for("countdown") == ["sos", "solution", "metacot", "backtrack"]
    assert formats_for("maze") == ["searchformer", "solution", "metacot", "metacot_walls",
                                   "backtrack", "solution_map", "metacot_map"]
    for bad in ("SoS", "", None, 3, ["sos"]):
        with pytest.raises(ValueError, match=r"format must be one of \['backtrack', 'metacot'"):
            get_format(bad)


def test_formats_reject_problems_of_other_environments():
    maze = Maze.from_grid(["S.", ".G"])
    with pytest.raises(ValueError, match="problem kind for format 'sos'.*'countdown'"):
        sos.prompt(maze)
    with pytest.raises(ValueError, match="searchformer"):
        searchformer.prompt(Countdown((1, 2), 3))


def test_module_functions_are_the_format_objects():
    for module in (sos, searchformer, solution, metacot, backtrack):
        f = module.FORMAT
        assert module.parse == f.parse and module.linearize == f.linearize
        assert module.expected_steps == f.expected_steps and module.prompt == f.prompt


# --- Stream of Search: byte compatibility --------------------------------------------------
def test_sos_reproduces_the_published_trace():
    tree = dfs.search(Countdown((42, 61, 66), 47), threshold=47)
    first_goal = PUBLISHED_SOS.index("Goal Reached") + len("Goal Reached")
    assert sos.linearize(tree) == PUBLISHED_SOS[:first_goal] + "\n"
    parsed = sos.parse(PUBLISHED_SOS)  # as published: reading stops at the first goal
    assert parsed.ok and parsed.steps == sos.expected_steps(tree)
    assert parsed.problem == Countdown((42, 61, 66), 47)
    assert parsed.answer == [Step(61, "-", 42, 19), Step(66, "-", 19, 47)]


@pytest.mark.parametrize("numbers", [3, 4])
@pytest.mark.parametrize("heuristic", ["sum", "mult"])
def test_sos_matches_the_published_dfs_on_random_problems(numbers, heuristic):
    problems = generate_countdown(30, CountdownConfig(num_numbers=numbers), seed=11)
    problems += [Countdown((3, 3, 5, 7), 11), Countdown((2, 2, 2, 2), 16)]  # equal numbers
    h = {"sum": sos_sum_heuristic, "mult": sos_mult_heuristic}[heuristic]
    for p in problems:
        p = Countdown(p.numbers, p.target, heuristic)
        tree = dfs.search(p, threshold=p.target)
        assert sos.linearize(tree) == published_sos_dfs(p.target, list(p.numbers), h), p


def test_sos_reads_the_published_bfs_variant():
    problems = generate_countdown(12, CountdownConfig(num_numbers=4), seed=5)
    for k, p in enumerate(problems):
        text = published_sos_bfs(p.target, list(p.numbers), beam=1 + k % 5, seed=k)
        parsed = sos.parse(text)
        assert parsed.ok, (parsed.error, text[parsed.error_pos or 0:][:200])
        kinds = [s.kind for s in parsed.steps]
        assert kinds.count("generate") == text.count("Exploring Operation")
        assert kinds.count("dead_end") == text.count("unequal: No Solution")
        assert kinds.count("expand") + kinds.count("backtrack") == text.count("Current State")
        assert ("goal" in kinds) == ("Goal Reached" in text)


# --- Searchformer: the published token grammar ---------------------------------------------
@pytest.mark.parametrize("walls, steps", [SEARCHFORMER_SHORT, SEARCHFORMER_WALLS])
def test_searchformer_reads_published_traces(walls, steps):
    text = published_searchformer((0, 0), (0, 2), walls, steps)
    parsed = searchformer.parse(text)
    assert parsed.ok
    maze = Maze(3, frozenset(walls), (0, 0), (0, 2))
    assert parsed.problem == maze and searchformer.prompt(maze) == text.splitlines()[0] + "\n"
    plan = [(x, y) for a, x, y, _, _ in steps if a == "plan"]
    assert parsed.answer == plan
    reasoning = [s for s in steps if s[0] != "plan"]
    assert [(s.state, s.g, s.h) for s in parsed.steps] == [
        ((x, y), float(g), float(h)) for _, x, y, g, h in reasoning]
    kinds = [s.kind for s in parsed.steps]
    assert kinds == [{"create": "generate", "close": "expand"}[a] for a, *_ in reasoning[:-1]] \
        + ["goal"]
    bare = " ".join(w for w in text.split() if w not in ("bos", "eos"))  # no section tokens
    assert searchformer.parse(bare).steps == parsed.steps


def test_searchformer_writes_the_published_grammar():
    maze = Maze.from_grid(["S.#", "...", "#.G"])
    tree = dfs.search(maze)
    prompt, completion = searchformer.linearize(tree).splitlines()
    assert prompt == "bos start 0 0 goal 2 2 wall 2 0 wall 0 2 eos"
    assert re.fullmatch(r"bos( (create|close) \d \d c\d+ c\d+)+( plan \d \d)+ eos", completion)
    assert completion.startswith("bos create 0 0 c0 c4 close 0 0 c0 c4 create 0 1 c1 c3 ")
    # DFS tries D before R on equal heuristics: down to (0, 1), right along row 1, down
    assert completion.endswith("close 2 2 c4 c0 plan 0 0 plan 0 1 plan 1 1 plan 1 2 plan 2 2 eos")


# --- the compact formats ----------------------------------------------------------------------
def test_compact_formats_on_the_published_example():
    tree = dfs.search(Countdown((42, 61, 66), 47), threshold=47)
    assert metacot.linearize(tree) == (
        "target 47 nums 42 61 66\n66-42=24 -> 61 24\nat\n61-24=37 != 47\n61+24=85 != 47\n"
        "back 42 61 66\n61-42=19 -> 66 19\nat\n66-19=47 == 47 goal\n")
    assert solution.completion(tree) == "61-42=19 -> 66 19\n66-19=47 == 47 goal\n"
    text = backtrack.completion(tree)
    assert "[BACK]" in text and text.endswith("61-42=19 -> 66 19\n66-19=47 == 47 goal\n")
    wrong = text[: text.index("[BACK]")]
    assert wrong.startswith("66-42=24 -> 61 24\n")  # the branch the search tried first
    assert text.count("[BACK]") == wrong.count("\n")  # one [BACK] undoes one wrong step
    for f in (metacot, solution, backtrack):
        assert f.parse(f.linearize(tree)).answer == [Step(61, "-", 42, 19), Step(66, "-", 19, 47)]


def test_maze_compact_text():
    maze = Maze.from_grid(["S.#", "...", "#.G"])
    tree = dfs.search(maze)
    assert metacot.prompt(maze) == "maze 3 start 0,0 goal 2,2 walls 2,0 0,2\n"
    assert solution.completion(tree) == ("0,1 g 1 h 3\n1,1 g 2 h 2\n1,2 g 3 h 1\n"
                                         "2,2 g 4 h 0 goal\n")
    assert metacot.parse(metacot.linearize(tree)).answer == [(0, 0), (0, 1), (1, 1), (1, 2),
                                                               (2, 2)]


def test_backtrack_is_deterministic_by_seed():
    problems = generate_countdown(30, CountdownConfig(num_numbers=4), seed=2)
    trees = [dfs.search(p, threshold=p.target) for p in problems]
    trees = [t for t in trees if t.solved]
    a = [backtrack.BacktrackFormat(seed=1).completion(t) for t in trees]
    assert a == [backtrack.BacktrackFormat(seed=1).completion(t) for t in trees]
    assert a != [backtrack.BacktrackFormat(seed=2).completion(t) for t in trees]
    assert sum("[BACK]" in x for x in a) >= len(a) // 2
    with pytest.raises(ValueError, match="max_wrong"):
        backtrack.BacktrackFormat(max_wrong=0)


def test_metacot_is_a_quarter_of_sos_on_countdown4_dfs():
    problems = generate_countdown(150, CountdownConfig(num_numbers=4), seed=0)
    trees = [dfs.search(p, threshold=p.target) for p in problems]
    for count in (count_pieces, count_gpt2_pretokens):
        short = summarize(count(metacot.linearize(t)) for t in trees)
        long = summarize(count(sos.linearize(t)) for t in trees)
        assert short["mean"] <= long["mean"] / 4
        assert short["max"] <= long["max"] / 4


# --- round trips over random problems and every algorithm ------------------------------
@pytest.mark.parametrize("name, env", PAIRS)
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@FAST
@given(data=st.data(), seed=st.integers(0, 3))
def test_parse_reads_back_what_linearize_writes(name, env, algorithm, data, seed):
    f = FORMATS[name]
    tree = search_tree(algorithm, _problem(env, data), seed)
    text = f.linearize(tree)
    assert text == f.prompt(tree.problem) + f.completion(tree)
    parsed = f.parse(text)
    assert parsed.ok, (parsed.error, text[parsed.error_pos:][:200])
    assert parsed.steps == f.expected_steps(tree)
    assert f.prompt(parsed.problem) == f.prompt(tree.problem)
    alone = f.parse(f.completion(tree))  # without the prompt: the root's state is unknown
    assert alone.ok and alone.problem is None
    tail = parsed.steps[len(parsed.steps) - len(alone.steps):]
    assert len(alone.steps) == len(tail)
    assert all(a == b or (a.kind == b.kind and a.state is None)
               for a, b in zip(alone.steps, tail, strict=True))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@FAST
@given(problem=maze_problems)
def test_metacot_walls_is_metacot_plus_the_walls_of_every_expansion(algorithm, problem):
    tree = search_tree(algorithm, problem)
    text = FORMATS["metacot_walls"].linearize(tree)
    lines = text.splitlines()
    assert [x for x in lines if not x.endswith(" wall")] == \
        FORMATS["metacot"].linearize(tree).splitlines()
    expanded = [tree.node(e.node)["state"] for e in tree.events if e.kind == "expand"]
    assert sum(x.endswith(" wall") for x in lines) == \
        sum(len(problem.blocked(c)) for c in expanded)
    verdict = verify_trace(problem, text, "metacot_walls")  # each next to the cell at hand
    assert verdict.valid and verdict.solved == tree.solved, verdict.first_error


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@FAST
@given(problem=maze_problems)
def test_map_formats_are_their_base_formats_under_a_prompt_marking_every_cell(algorithm,
                                                                              problem):
    tree = search_tree(algorithm, problem)
    for name, base in (("metacot_map", "metacot"), ("solution_map", "solution")):
        f = FORMATS[name]
        assert f.completion(tree) == FORMATS[base].completion(tree)
        header, cells = f.prompt(problem).split(" walls ")
        assert header == FORMATS[base].prompt(problem).split(" walls")[0]
        marks = re.findall(r"(\d+),(\d+) ([#-])", cells)
        assert [(int(x), int(y)) for x, y, _ in marks] == \
            [(x, y) for y in range(problem.n) for x in range(problem.n)]  # reading order
        assert {(int(x), int(y)) for x, y, m in marks if m == "#"} == problem.walls
        assert len(marks) == cells.count(",")  # nothing else in the prompt
        text = f.linearize(tree)
        assert f.parse(text).problem == problem
        verdict = verify_trace(problem, text, name)
        assert verdict == verify_trace(problem, FORMATS[base].linearize(tree), base)


def test_map_prompt_must_list_every_cell_once_in_reading_order():
    maze = Maze(2, frozenset({(1, 0)}), (0, 0), (1, 1))
    good = "maze 2 start 0,0 goal 1,1 walls 0,0 - 1,0 # 0,1 - 1,1 -\n"
    assert metacot.MAP_FORMAT.prompt(maze) == good
    trace = "0,1 g 1 h 1\nat\n1,1 g 2 h 0 goal\n"
    assert verify_trace(maze, good + trace, "metacot_map").solved
    for bad in ("walls 0,0 - 1,0 # 0,1 -",  # a cell missing
                "walls 1,0 # 0,0 - 0,1 - 1,1 -",  # out of order
                "walls 0,0 - 1,0 # 0,1 - 1,1 - 1,1 -",  # a cell twice
                "walls 0,0 # 1,0 # 0,1 - 1,1 -"):  # the start is a wall
        parsed = metacot.MAP_FORMAT.parse(good.replace(good[good.index("walls"):-1], bad) + trace)
        assert parsed.problem is None and not parsed.ok
        assert parsed.error == "the prompt does not state a legal problem", bad


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@FAST
@given(data=st.data(), env=st.sampled_from(["countdown", "maze"]))
def test_expected_steps_follow_the_event_log(algorithm, data, env):
    tree = search_tree(algorithm, _problem(env, data))
    goal = [e.kind for e in tree.events].index("goal") + 1 if tree.solved else None
    written = {"generate", "expand", "backtrack", "goal", "dead_end"}
    for name in formats_for(env):
        kinds = [s.kind for s in FORMATS[name].expected_steps(tree)
                 if s.kind != "wall"]  # a wall is no event (its own test is above)
        if name in ("metacot", "metacot_walls", "metacot_map", "sos", "searchformer"):
            events = [e for e in tree.events[:goal] if e.kind in written and (
                name == "searchformer" or (e.kind, e.node) != ("generate", tree.root))]
            it = iter(e.kind for e in events)
            assert all(k in it for k in kinds), name
            assert kinds.count("generate") == sum(e.kind == "generate" for e in events)
            assert kinds.count("goal") == tree.solved
        else:  # the path formats: one generate per step of the path (and of the detour)
            steps = max(len(tree.solution_path()) - 1, 0)
            assert kinds.count("goal") == tree.solved
            assert kinds.count("generate") >= steps
            assert kinds.count("backtrack") == kinds.count("generate") - steps


# --- parsers never raise -----------------------------------------------------------------
def _check_parsed(parsed: ParsedTrace, text) -> None:
    assert isinstance(parsed, ParsedTrace)
    if parsed.error is not None:
        assert isinstance(parsed.error, str)
        assert 0 <= parsed.error_pos <= (len(text) if isinstance(text, str) else 0)


GRAMMAR = st.sampled_from(
    ["Current State: 24:[4, 9, 3], Operations: []", "Exploring Operation: 9*3=27, Resulting "
     "Numbers: [4, 27]", "Moving to Node #0,0", "24,24 equal: Goal Reached", "target 24 nums 4",
     "9*3=27 -> 4 27", "at", "back 4 9", "[BACK]", "27 != 24", "create", "close 1 2 c3 c4",
     "plan 1 1", "bos", "eos", "start 0 0 goal 1 1", "maze 3 start 0,0 goal 2,2 walls", "0,1 "
     "g 1 h 3", "0,1 dead", "\n", " ", "9" * 30, "-", ",", "#", "]"])


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.lists(GRAMMAR, max_size=40).map("".join),
                      st.lists(GRAMMAR, max_size=40).map("\n".join)))
def test_parse_never_raises_on_text(name, text):
    _check_parsed(FORMATS[name].parse(text), text)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_parse_never_raises_on_non_text(name):
    for junk in (None, 12, b"bytes", ["list"]):
        parsed = FORMATS[name].parse(junk)
        assert parsed.error == "trace must be text" and parsed.steps == []


def test_huge_numbers_are_refused_not_converted():
    digits = "7" * 5000  # int() of this many digits raises in Python; parsers never try
    for text in (f"Current State: {digits}:[1, 2], Operations: []",
                 f"target 24 nums 1 2\n{digits}*2=3 -> 1", f"start {digits} 0 goal 1 1"):
        for f in FORMATS.values():
            _check_parsed(f.parse(text), text)


@pytest.mark.parametrize("name, env", PAIRS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_truncated_and_corrupted_traces_parse_up_to_the_damage(name, env, data):
    f = FORMATS[name]
    tree = search_tree("dfs", _problem(env, data))
    text = f.linearize(tree)
    full = f.parse(text).steps
    cut = data.draw(st.integers(0, len(text)))
    parsed = f.parse(text[:cut])
    _check_parsed(parsed, text[:cut])
    if name == "searchformer":  # one step per token group: all but the last one cut
        assert parsed.steps[:-1] == full[: max(len(parsed.steps) - 1, 0)]
    else:  # every line before the one cut reads the same (SoS: but the one before it, as
        # "Generated Node" completes the step of the line above)
        last_line = text[:cut].rfind("\n") + 1
        if name == "sos":
            last_line = text[: max(last_line - 1, 0)].rfind("\n") + 1
        assert [x for x in parsed.steps if x.pos < last_line] == [
            x for x in full if x.pos < last_line]
    # garbage inserted at a line start: reading stops there, what came before is kept
    starts = [0] + [m.end() for m in re.finditer("\n", text[: len(text) - 1])]
    at = data.draw(st.sampled_from(starts))
    junk = data.draw(st.sampled_from(["§§ junk\n", "Exploring Operation: 1+1=3\n",
                                      "plan x y\n", "at 1 2 3 4 5 6 7\n", "ZZZ ZZZ\n"]))
    broken = text[:at] + junk + text[at:]
    parsed = f.parse(broken)
    _check_parsed(parsed, broken)
    before = f.parse(text[:at]).steps
    assert parsed.steps[: len(before)] == before
    if parsed.error is not None:
        assert parsed.error_pos >= min(at, len(text[:at].rstrip()))

