"""The RL rewards: right on true traces, 0 on hand-made adversarial texts, never raising."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metacot_lab import rewards
from metacot_lab.envs import Countdown, Maze
from metacot_lab.search import run_search
from metacot_lab.traces import FORMATS, formats_for, get_format

CD = Countdown((4, 9, 3, 2), 24)
MAZE = Maze.from_grid(["S.#..", "..#..", "....#", "##.#.", "....G"])  # walls: x,y
CD_SOLUTION = "4*9=36 -> 3 2 36\n36/3=12 -> 2 12\n2*12=24 == 24 goal\n"
MAZE_SOLUTION = ("0,1 g 1 h 7\n0,2 g 2 h 6\n1,2 g 3 h 5\n2,2 g 4 h 4\n2,3 g 5 h 3\n"
                 "2,4 g 6 h 2\n3,4 g 7 h 1\n4,4 g 8 h 0 goal\n")
SEARCHFORMER_PLAN = "plan 0 0 plan 0 1 plan 0 2 plan 1 2 plan 2 2 plan 2 3 plan 2 4 plan 3 4 " \
                    "plan 4 4 eos\n"


def score(name, problem, format, texts):
    """The reward ``name`` of each text, called as trl's GRPOTrainer calls it."""
    column = json.dumps(problem.to_dict())
    return rewards.get_reward(name)(completions=list(texts), problem=[column] * len(texts),
                                    format=[format] * len(texts), prompts=["?"] * len(texts))


def true_completion(problem, format):
    """A solved search trace of ``problem`` written in ``format``."""
    tree = run_search("dfs", problem, seed=0, threshold=problem.target) \
        if problem.kind == "countdown" else run_search("astar", problem, seed=0)
    return get_format(format).completion(tree)


ADVERSARIAL = {
    ("countdown", "solution"): {
        "a second, wrong answer": CD_SOLUTION + "2+12=14 == 24 goal\n",
        "the goal claimed but not reached": "4+9=13 -> 3 2 13\n3+2=5 -> 13 5\n13+5=18 == 24 goal\n",
        "a wrong result claimed as the goal": "4+9=13 -> 3 2 13\n3+2=5 -> 13 5\n"
                                              "13+5=24 == 24 goal\n",
        "a number used twice": "4*4=16 -> 9 3 2 16\n16+9=25 -> 3 2 25\n25-3=22 -> 2 22\n"
                               "22+2=24 == 24 goal\n",
        "a number not in the input": "6*4=24 -> 9 3 2 24\n",
        "division by zero": "3-3=0 -> 4 9 2 0\n9/0=0 -> 4 2 0\n",
        "non-integer division": "9/2=4.5 -> 4 3 4.5\n",
        "floor division": "9/2=4 -> 4 3 4\n4*3=12 -> 4 12\n4*12=48 == 24 goal\n",
        "a huge integer": "9*" + "9" * 400 + "=1 -> 4 3 2 1\n",
        "a huge readable product": "4*9=36 -> 3 2 36\n36*" + "9" * 30 + "=24 -> 3 2 24\n",
        "a Python expression": "(4*9/3)*2=24 == 24 goal\n",
        "a Python call": "__import__('os').getcwd() == 24 goal\n",
        "trailing junk": CD_SOLUTION + "print(24)\n",
        "junk on the goal line": CD_SOLUTION.rstrip("\n") + " and 25\n",
        "empty text": "",
        "the goal alone": "24 == 24 goal\n",
        "fullwidth digits": "4*9=36 -> 3 2 36\n36/3=12 -> 2 12\n2*12=\uff12\uff14 == 24 goal\n",
    },
    ("countdown", "metacot"): {
        "the goal claimed but not reached": "4+9=13 -> 3 2 13\nat\n3+2=5 -> 13 5\nat\n"
                                            "13+5=18 == 24 goal\n",
        "a wrong result claimed as the goal": "4+9=13 -> 3 2 13\nat\n3+2=5 -> 13 5\nat\n"
                                              "13+5=24 == 24 goal\n",
        "an unexpanded number used": "4*9=36 -> 3 2 36\n36/3=12 -> 2 12\n2*12=24 == 24 goal\n",
        "a jump back to a state never reached": "back 2 12\n2*12=24 == 24 goal\n",
        "a Python expression": "at\n(4*9/3)*2=24 == 24 goal\n",
        "empty text": "",
    },
    ("countdown", "sos"): {
        "a number not in the input": "Exploring Operation: 4*6=24, Resulting Numbers: [24]\n"
                                     "24,24 equal: Goal Reached\n",
        "the goal claimed but not reached": "Exploring Operation: 4+9=13, Resulting Numbers: "
                                            "[3, 2, 13]\n24,24 equal: Goal Reached\n",
        "a Python expression": "Exploring Operation: (4*9/3)*2=24, Resulting Numbers: [24]\n"
                               "24,24 equal: Goal Reached\n",
        "empty text": "",
    },
    ("maze", "solution"): {
        "through a wall": "0,1 g 1 h 7\n0,2 g 2 h 6\n0,3 g 3 h 5\n0,4 g 4 h 4\n1,4 g 5 h 3\n"
                          "2,4 g 6 h 2\n3,4 g 7 h 1\n4,4 g 8 h 0 goal\n",
        "off the grid": "-1,0 g 1 h 9\n" + MAZE_SOLUTION,
        "off the grid (past the edge)": MAZE_SOLUTION.replace("4,4 g 8 h 0 goal", "5,4 g 8 h 1\n"
                                                              "4,4 g 9 h 0 goal"),
        "teleporting": "0,1 g 1 h 7\n4,4 g 2 h 0 goal\n",
        "the goal claimed elsewhere": "0,1 g 1 h 7\n0,2 g 2 h 6 goal\n",
        "a diagonal step": "1,1 g 1 h 6\n" + MAZE_SOLUTION,
        "a second plan": MAZE_SOLUTION + "0,1 g 1 h 7 goal\n",
        "trailing junk": MAZE_SOLUTION + "done!\n",
        "empty text": "",
    },
    ("maze", "metacot"): {
        "through a wall": "0,1 g 1 h 7\nat 0,1\n0,2 g 2 h 6\nat 0,2\n0,3 g 3 h 5\nat 0,3\n"
                          "0,4 g 4 h 4\n",
        "teleporting": "0,1 g 1 h 7\nat 0,1\n4,4 g 2 h 0\n4,4 goal\n",
        "the goal claimed, never reached": "0,1 g 1 h 7\n4,4 goal\n",
        "empty text": "",
    },
    ("maze", "searchformer"): {
        "a teleporting plan": "create 0 0 c0 c8 close 0 0 c0 c8 plan 0 0 plan 4 4 eos\n",
        "a plan through a wall": "create 0 0 c0 c8 close 0 0 c0 c8 plan 0 0 plan 0 1 plan 0 2 "
                                 "plan 0 3 plan 0 4 plan 1 4 plan 2 4 plan 3 4 plan 4 4 eos\n",
        "off the grid": "create 0 0 c0 c8 close 0 0 c0 c8 plan 0 0 plan -1 0 eos\n",
        "empty text": "",
    },
}
CASES = [(env, fmt, name) for (env, fmt), texts in ADVERSARIAL.items() for name in texts]


@pytest.mark.parametrize(("env", "format", "name"), CASES,
                         ids=[f"{e}-{f}-{n}" for e, f, n in CASES])
def test_adversarial_texts_score_zero(env, format, name):
    problem = CD if env == "countdown" else MAZE
    text = ADVERSARIAL[env, format][name]
    assert score("solved", problem, format, [text]) == [0.0]
    assert score("right_answer", problem, format, [text]) == [0.0]


@pytest.mark.parametrize(("env", "text"), [("countdown", CD_SOLUTION),
                                           ("maze", MAZE_SOLUTION)])
def test_the_hand_written_solutions_score_one(env, text):
    """The control of the adversarial suite: its solutions, unmutated, are right."""
    problem = CD if env == "countdown" else MAZE
    assert score("solved", problem, "solution", [text]) == [1.0]
    assert score("right_answer", problem, "solution", [text]) == [1.0]


FORMAT_CASES = [(env, fmt) for env in ("countdown", "maze") for fmt in formats_for(env)]


@pytest.mark.parametrize(("env", "format"), FORMAT_CASES)
def test_true_traces_earn_every_outcome_reward(env, format):
    problem = CD if env == "countdown" else MAZE
    text = true_completion(problem, format)
    for name in ("solved", "right_answer", "legal_trace"):
        assert score(name, problem, format, [text]) == [1.0], name
    assert score("format_credit", problem, format, [text]) == [1.0]


@pytest.mark.parametrize(("env", "format"), FORMAT_CASES)
def test_text_after_the_answer_scores_zero_in_every_format(env, format):
    """Junk or a second answer after a true goal: 0, Stream of Search included (whose
    verifier, as the published checker, stops reading at the goal)."""
    problem = CD if env == "countdown" else MAZE
    text = true_completion(problem, format)
    for tail in ("junk\n", text, " 7"):
        assert score("solved", problem, format, [text + tail]) == [0.0], tail
        assert score("right_answer", problem, format, [text + tail]) == [0.0], tail
    assert score("solved", problem, format, [text + "\n\n"]) == [1.0]  # blank lines are fine


def test_sos_verifier_keeps_the_published_rule_that_reading_stops_at_the_goal():
    from metacot_lab.traces import verify_trace
    text = true_completion(CD, "sos")
    assert verify_trace(CD, text + "junk\n", "sos").solved
    assert score("solved", CD, "sos", [text + "junk\n"]) == [0.0]


def test_right_answer_ignores_the_trace_and_legal_trace_the_answer():
    wrong_trace = "4+9=13 -> 3 2 13\n" + CD_SOLUTION  # a solution's steps are its answer:
    assert score("right_answer", CD, "solution", [wrong_trace]) == [0.0]  # these miss 24
    bad_search = true_completion(CD, "metacot").replace("27-8=19 !=", "27-8=18 !=", 1)
    assert bad_search != true_completion(CD, "metacot")
    assert score("solved", CD, "metacot", [bad_search]) == [0.0]
    assert score("right_answer", CD, "metacot", [bad_search]) == [1.0]
    unfinished = "4+9=13 -> 3 2 13\n"
    assert score("legal_trace", CD, "solution", [unfinished]) == [1.0]
    assert score("solved", CD, "solution", [unfinished]) == [0.0]


def test_a_searchformer_plan_without_its_search_is_a_right_answer_but_not_solved():
    assert score("right_answer", MAZE, "searchformer", [SEARCHFORMER_PLAN]) == [1.0]
    assert score("solved", MAZE, "searchformer", [SEARCHFORMER_PLAN]) == [0.0]


def test_format_credit_pays_for_false_goal_claims():
    """The reward-hacking lesson: a false goal claim in a readable line earns full credit."""
    hack = "4+9=13 -> 3 2 13\n3+2=5 -> 13 5\n13+5=18 == 24 goal\n"
    assert score("format_credit", CD, "solution", [hack]) == [1.0]
    assert score("solved", CD, "solution", [hack]) == [0.0]
    assert score("format_credit", CD, "solution", ["4+9=13 -> 3 2 13\n", "??", ""]) == \
        [0.5, 0.0, 0.0]


def test_problem_columns_may_be_json_dicts_or_problems():
    texts = [CD_SOLUTION] * 3
    problems = [json.dumps(CD.to_dict()), CD.to_dict(), CD]
    assert rewards.solved(texts, problem=problems, format=["solution"] * 3) == [1.0] * 3


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"problem": ["not json"], "format": ["solution"]}, "problem"),
    ({"problem": [CD], "format": ["sos"], "completions": [1, 2]}, "same length"),
    ({"problem": CD.to_dict(), "format": ["solution"]}, "one entry per completion"),
    ({"problem": [MAZE], "format": ["sos"]}, "problem kind"),
    ({"problem": [CD], "format": ["nope"]}, "format"),
])
def test_bad_columns_are_value_errors(kwargs, field):
    kwargs = {"completions": [CD_SOLUTION], **kwargs}
    with pytest.raises(ValueError, match=field):
        rewards.solved(**kwargs)


def test_unknown_reward_name_is_a_value_error():
    with pytest.raises(ValueError, match="reward"):
        rewards.get_reward("accuracy")
    assert rewards.get_reward(rewards.solved) is rewards.solved


ALPHABET = st.sampled_from(list("0123456789+-*/=()<>,.: \n[]#goalhtbckpsvr") +
                           ["\uff12", "\u0662", "goal", "at ", "back ", "[BACK]", "plan ", "eos",
                            "create ", "close ", "wall", "dead", " == 24 goal", " -> ",
                            "Goal Reached", "Current State: 24:[4, 9, 3, 2], Operations: []"])
texts = st.one_of(st.text(max_size=200), st.lists(ALPHABET, max_size=60).map("".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, env=st.sampled_from(["countdown", "maze"]),
       format=st.sampled_from(sorted(FORMATS)), cut=st.integers(0, 4000),
       prefix=st.booleans())
def test_no_text_makes_any_reward_raise(text, env, format, cut, prefix):
    """Random text, and true traces of either environment (in any format) cut and spliced
    with it: every reward returns a number in [0, 1]."""
    problem = CD if env == "countdown" else MAZE
    own = [f for f in formats_for(env)]
    target = format if format in own else own[0]
    source = true_completion(CD if format in formats_for("countdown") else MAZE, format)
    spliced = (get_format(format).prompt(problem) if prefix and problem.kind in
               get_format(format).envs else "") + source[:cut] + text
    for name in rewards.REWARDS:
        for completion in (text, spliced):
            (value,) = score(name, problem, target, [completion])
            assert 0.0 <= value <= 1.0
