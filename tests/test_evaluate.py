"""Evaluation: pass@k and maj@k, verification of generated traces, tables by difficulty."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from lm_helpers import char_tokenizer

from metacot_lab.envs import CountdownConfig, MazeConfig, generate_countdown, generate_mazes
from metacot_lab.evaluate import answer_key, evaluate, maj_at_k, pass_at_k, score_generations
from metacot_lab.models import ModelSize, build_model
from metacot_lab.search import dfs
from metacot_lab.traces import get_format

COUNTDOWNS = generate_countdown(6, CountdownConfig(num_numbers=3, number_range=(1, 15)),
                                split="test", seed=0)
MAZES = generate_mazes(4, MazeConfig(n=5), split="test", seed=0)


def gold(problem, fmt):
    threshold = problem.target if problem.kind == "countdown" else None
    return get_format(fmt).completion(dfs.search(problem, seed=0, threshold=threshold))


def gold_answers(problems, fmt):
    return {get_format(fmt).prompt(p): gold(p, fmt) for p in problems}


class GoldModel(torch.nn.Module):
    """A stand-in for a language model whose ``generate`` writes the gold trace of each
    prompt (then <eos>), to check evaluation end to end."""

    def __init__(self, tok, answers):
        super().__init__()
        self.tok = tok
        self.answers = answers  # prompt -> completion

    @property
    def device(self):
        return torch.device("cpu")

    def generate(self, input_ids, attention_mask, max_new_tokens, eos_token_id, pad_token_id,
                 **kwargs):
        rows = []
        for ids, mask in zip(input_ids, attention_mask, strict=True):
            prompt = self.tok.decode(ids[mask.bool()])
            new = self.tok(self.answers[prompt])["input_ids"] + [eos_token_id]
            rows.append(new[:max_new_tokens])
        width = max(len(r) for r in rows)
        new = torch.tensor([r + [pad_token_id] * (width - len(r)) for r in rows])
        return torch.cat([input_ids, new], 1)


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


def comb_pass_at_k(n, c, k):
    """pass@k by brute force: the share of k-subsets holding a correct sample."""
    subsets = list(combinations([True] * c + [False] * (n - c), k))
    return sum(any(s) for s in subsets) / len(subsets)


@pytest.mark.parametrize(("n", "c", "k", "expected"), [
    (10, 3, 1, 0.3), (5, 2, 2, 0.7), (4, 0, 4, 0.0), (4, 4, 1, 1.0), (5, 3, 3, 1.0),
    (10, 1, 5, 0.5), (100, 10, 10, 1 - math.comb(90, 10) / math.comb(100, 10)),
])
def test_pass_at_k_known_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12)


def test_pass_at_k_matches_brute_force():
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(comb_pass_at_k(n, c, k))


@pytest.mark.parametrize("args", [(0, 0, 1), (3, 4, 1), (3, 1, 4), (3, 1, 0), (3, -1, 1)])
def test_pass_at_k_rejects_bad_counts(args):
    with pytest.raises(ValueError):
        pass_at_k(*args)


def test_maj_at_k_votes_over_answers():
    assert maj_at_k(["a", "b", "a"], [True, False, True], 3) == 1.0
    assert maj_at_k(["b", "a", "b"], [False, True, False], 3) == 0.0
    assert maj_at_k(["b", "a", "b"], [False, True, False], 2) == 0.0  # tie: first seen
    assert maj_at_k(["a", "b", "b"], [True, False, False], 2) == 1.0
    assert maj_at_k([None, None, "a"], [False, False, True], 3) == 1.0  # no answer, no vote
    assert maj_at_k([None, None], [False, False], 2) == 0.0
    with pytest.raises(ValueError):
        maj_at_k(["a"], [True], 2)
    with pytest.raises(ValueError):
        maj_at_k(["a", "b"], [True], 1)


def test_answer_key_is_hashable():
    assert answer_key([(1, 2), (1, 3)]) == ((1, 2), (1, 3))
    assert answer_key([]) is None and answer_key(None) is None
    assert hash(answer_key([[1, [2]], {"x": 1}])) is not None


@pytest.mark.parametrize(("problems", "fmt"), [
    (COUNTDOWNS, "metacot"), (COUNTDOWNS, "solution"), (COUNTDOWNS, "sos"),
    (MAZES, "metacot"), (MAZES, "searchformer"),
])
def test_gold_traces_score_one_and_garbage_zero(problems, fmt):
    report = score_generations(problems, [[gold(p, fmt)] for p in problems], fmt)
    assert report.problems["solve_rate"].tolist() == [1.0] * len(problems)
    assert report.samples["valid"].all() and report.samples["answer_correct"].all()
    garbage = ["", "goal\n" * 3, "\x00\ufffd))((", gold(problems[0], fmt)[::-1]]
    bad = score_generations(problems, [garbage] * len(problems), fmt)
    assert bad.summary(None)["solve_rate"].item() == 0.0
    assert bad.summary(None)["maj@4"].item() == 0.0


def test_optimal_rate_on_mazes_matches_the_verifier():
    from metacot_lab.traces import verify_trace

    report = score_generations(MAZES, [[gold(m, "metacot")] for m in MAZES], "metacot")
    expected = [verify_trace(m, gold(m, "metacot"), "metacot").optimal for m in MAZES]
    assert report.problems["optimal_rate"].tolist() == [float(e) for e in expected]


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text):
    for problems, fmt in ((COUNTDOWNS[:1], "metacot"), (MAZES[:1], "searchformer")):
        report = score_generations(problems, [[text]], fmt)
        assert report.problems["solve_rate"].item() in (0.0, 1.0)


def test_evaluate_a_model_that_writes_the_gold_traces(tok):
    model = GoldModel(tok, gold_answers(COUNTDOWNS, "metacot"))
    difficulty = [1, 1, 2, 2, 3, 3]
    report = evaluate(model, tok, COUNTDOWNS, "metacot", difficulty=difficulty,
                      split=["test"] * 6, n=3, temperature=1.0, max_new_tokens=2000)
    assert report.ks == (1, 3)
    table = report.summary()
    assert table["problems"].tolist() == [2, 2, 2]
    assert (table[["solve_rate", "valid_rate", "pass@1", "pass@3", "maj@3"]] == 1.0).all().all()
    tokens = [len(tok(gold(p, "metacot"))["input_ids"]) + 1 for p in COUNTDOWNS]
    assert report.problems["tokens"].tolist() == tokens
    assert report.samples["finished"].all()


def test_evaluate_cut_traces_are_unsolved(tok):
    model = GoldModel(tok, gold_answers(MAZES, "searchformer"))
    report = evaluate(model, tok, MAZES, "searchformer", max_new_tokens=8)
    assert report.summary(None)["solve_rate"].item() == 0.0
    assert not report.samples["finished"].any()
    assert (report.samples["tokens"] == 8).all()


def test_evaluate_a_random_model_solves_nothing(tok):
    model = build_model(ModelSize(hidden=32, layers=2, heads=2, intermediate=64), tok, seed=0)
    report = evaluate(model, tok, COUNTDOWNS[:3], "metacot", n=2, temperature=1.0,
                      max_new_tokens=24, seed=1)
    assert report.summary(None)["solve_rate"].item() == 0.0
    assert len(report.samples) == 6


def test_score_generations_checks_its_inputs():
    with pytest.raises(ValueError, match="one list per problem"):
        score_generations(COUNTDOWNS, [["x"]], "metacot")
    with pytest.raises(ValueError, match="same number"):
        score_generations(COUNTDOWNS[:2], [["x"], ["x", "y"]], "metacot")
    with pytest.raises(ValueError, match="difficulty"):
        score_generations(COUNTDOWNS[:1], [["x"]], "metacot", difficulty=[1, 2])
    with pytest.raises(ValueError):
        score_generations(MAZES[:1], [["x"]], "sos")  # SoS writes Countdown only


@pytest.mark.parametrize("name", ["countdown3_dfs_metacot", "maze5_astar_searchformer"])
def test_evaluate_dataset_with_the_course_tokenizer(name):
    from metacot_lab.config import DATA_DIR
    from metacot_lab.data import load_dataset_dir
    from metacot_lab.evaluate import evaluate_dataset
    from metacot_lab.traces.tokenizer import build_tokenizer

    course = build_tokenizer()
    dd = load_dataset_dir(DATA_DIR / name)
    rows = [r for split in dd.values() for r in split]
    model = GoldModel(course, {r["prompt"]: r["completion"] for r in rows})
    report = evaluate_dataset(model, course, dd, limit=4, max_new_tokens=4000)
    heldout = [s for s in dd if s.startswith("test_")]
    assert report.problems["split"].tolist() == ["val"] * 4 + ["test"] * 4 + heldout * 4
    assert report.summary(None)["solve_rate"].item() == 1.0
    first = dd["val"][0]
    prompt_tokens = len(course(first["prompt"])["input_ids"])
    assert report.problems["tokens"][0] == first["trace_tokens"] - prompt_tokens
    assert report.problems["difficulty"].tolist()[:4] == dd["val"]["difficulty"][:4]
    only_test = evaluate_dataset(model, course, dd, splits=["test"], limit=2,
                                 max_new_tokens=4000)
    assert only_test.problems["split"].tolist() == ["test", "test"]
    with pytest.raises(ValueError, match="split"):
        evaluate_dataset(model, course, dd, splits=["nope"])


def test_answer_rate_counts_right_answers_of_illegal_traces():
    """A search that steps into a wall on a side branch and then finds the goal: unsolved
    (the trace is illegal), but its plan is right, and answer_rate says so."""
    maze = next(m for m in MAZES if m.blocked(m.start))
    wall = maze.blocked(maze.start)[0]
    h = abs(wall[0] - maze.goal[0]) + abs(wall[1] - maze.goal[1])
    broken = f"{wall[0]},{wall[1]} g 1 h {h}\n" + gold(maze, "metacot")
    report = score_generations([maze, maze], [[broken], [gold(maze, "metacot")]], "metacot")
    assert report.samples["first_error"][0].startswith("wall")
    assert report.problems["solve_rate"].tolist() == [0.0, 1.0]
    assert report.problems["answer_rate"].tolist() == [1.0, 1.0]
    assert report.summary(None)["answer_rate"].item() == 1.0
    garbage = score_generations([maze], [["at\n" * 3]], "metacot")
    assert garbage.problems["answer_rate"].item() == 0.0


def test_sampling_curve_against_hand_counts():
    """Two mazes, four samples each: maze 0 gets one legal trace and one right plan after an
    illegal step, maze 1 only garbage. The curve's rates are the hand-computed ones."""
    from metacot_lab.inference import Generation

    maze = next(m for m in MAZES if m.blocked(m.start))
    wall = maze.blocked(maze.start)[0]
    h = abs(wall[0] - maze.goal[0]) + abs(wall[1] - maze.goal[1])
    good = gold(maze, "metacot")
    broken = f"{wall[0]},{wall[1]} g 1 h {h}\n" + good
    first = [Generation(t, 10, True) for t in (good, broken, "x", "y")]
    second = [Generation("z", 30, False)] * 4
    report = score_generations([maze, maze], [first, second], "metacot", ks=[1, 2, 4],
                               split=["a", "b"])
    curve = report.sampling_curve()
    assert curve["k"].tolist() == [1, 2, 4]
    assert curve["tokens"].tolist() == [20.0, 40.0, 80.0]  # k x 20 tokens per sample
    # maze 0: 1 legal of 4 -> pass@1 1/4, pass@2 1/2, pass@4 1; maze 1: 0
    assert curve["pass_at_k"].tolist() == pytest.approx([0.125, 0.25, 0.5])
    # 2 right plans of 4 -> 1/2, 1 - C(2,2)/C(4,2) = 5/6, 1
    assert curve["answer_pass_at_k"].tolist() == pytest.approx([0.25, 5 / 12, 0.5])
    # the first sample's plan is right and it wins every vote it takes part in
    assert curve["maj_at_k"].tolist() == [0.5, 0.5, 0.5]
    only_b = report.sampling_curve(split="b")
    assert only_b["tokens"].tolist() == [30.0, 60.0, 120.0]
    assert (only_b[["pass_at_k", "answer_pass_at_k", "maj_at_k"]] == 0.0).all().all()
    with pytest.raises(ValueError, match="split"):
        report.sampling_curve(split="c")


def test_evaluate_passes_the_cache_choice_to_generate(tok):
    model = build_model(ModelSize(hidden=32, layers=2, heads=2, intermediate=64), tok, seed=0)
    reports = [evaluate(model, tok, COUNTDOWNS[:2], "metacot", n=2, temperature=1.0,
                        max_new_tokens=12, seed=3, cache=cache) for cache in ("static", "dynamic")]
    assert reports[0].samples["text"].tolist() == reports[1].samples["text"].tolist()
    with pytest.raises(ValueError, match="cache"):
        evaluate(model, tok, COUNTDOWNS[:1], "metacot", max_new_tokens=4, cache="paged")
