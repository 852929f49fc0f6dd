"""Evaluate a model on problems: generate traces, verify each, and tabulate.

Every completion is checked by :func:`~metacot_lab.traces.verify_trace` (the same verifier
as rewards use), so "solved" means a legal search whose answer the environment accepts.
The answer alone is scored too (``answer_rate``): the metric of papers that check only the
final answer or plan, which a trace with illegal steps can still get right.
Garbage output is an unsolved, invalid sample, never an exception. From ``n`` samples per
problem come pass@k (the unbiased estimator of Chen et al. 2021) and maj@k (majority vote
over the final answers of the first ``k`` samples).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import pandas as pd
from datasets import Dataset, DatasetDict
from transformers import PreTrainedTokenizerBase

from .envs import problem_from_dict
from .inference import GENERATION_BATCH, Generation, generate
from .traces import TraceFormat, final_answer, get_format, verify_trace
from .validation import check_choice, check_int


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn without replacement from ``n``
    (of which ``c`` are correct) is correct: ``1 - C(n-c, k) / C(n, k)``."""
    check_int("n", n, 1)
    check_int("c", c, 0, n)
    check_int("k", k, 1, n)
    if n - c < k:
        return 1.0
    return 1.0 - prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def maj_at_k(answers: Sequence[Hashable | None], correct: Sequence[bool], k: int) -> float:
    """1.0 if the most frequent answer among the first ``k`` samples is correct, else 0.0.

    ``answers[i]`` is sample ``i``'s final answer (``None``: no answer, no vote) and
    ``correct[i]`` whether it is right. Ties go to the answer seen first.
    """
    check_int("k", k, 1, len(answers))
    if len(correct) != len(answers):
        raise ValueError(f"correct must have one entry per answer ({len(answers)}), "
                         f"got {len(correct)}")
    votes = Counter(a for a in answers[:k] if a is not None)
    if not votes:
        return 0.0
    best = max(votes.values())
    winner = next(a for a in answers[:k] if a is not None and votes[a] == best)
    return float(bool(correct[answers.index(winner)]))


def answer_key(answer: Any) -> Hashable | None:
    """A hashable form of a parsed final answer (lists become tuples); ``None`` when there is
    no answer (``None`` or empty)."""
    if answer is None or (isinstance(answer, list | tuple) and not answer):
        return None
    if isinstance(answer, list):
        return tuple(answer_key(a) for a in answer)
    try:
        hash(answer)
    except TypeError:
        return repr(answer)
    return answer


@dataclass
class EvalReport:
    """Per-sample and per-problem tables of an evaluation, and aggregates of them."""

    samples: pd.DataFrame  # one row per (problem, sample), with the generated text
    problems: pd.DataFrame  # one row per problem
    ks: tuple[int, ...]  # the k of the pass@k / maj@k columns

    def summary(self, by: str | Sequence[str] | None = ("split", "difficulty")) -> pd.DataFrame:
        """Aggregates per group of ``by`` (``None``: one row for everything): problems,
        solve rate, valid-trace rate, right-answer rate (whatever the trace), % optimal,
        tokens per problem, pass@k and maj@k."""
        df = self.problems.assign(all="all")
        keys = ["all"] if not by else [by] if isinstance(by, str) else list(by)
        metrics = ["solve_rate", "valid_rate", "answer_rate", "optimal_rate", "tokens"]
        metrics += [f"pass@{k}" for k in self.ks] + [f"maj@{k}" for k in self.ks]
        table = df.groupby(keys, sort=True)[metrics].mean()
        table.insert(0, "problems", df.groupby(keys, sort=True).size())
        return table

    def sampling_curve(self, split: str | None = None) -> pd.DataFrame:
        """Accuracy against inference compute: one row per k of ``ks`` with ``tokens`` (the
        mean tokens generated per problem by k samples: k times the mean per sample),
        ``pass_at_k`` (a legal trace among k samples), ``answer_pass_at_k`` (a right final
        answer among k: what best-of-k returns when the environment's verifier picks) and
        ``maj_at_k`` (the most frequent of the first k answers is right: no verifier).
        ``split`` keeps one split's problems (default: all)."""
        samples, problems = self.samples, self.problems
        if split is not None:
            check_choice("split", split, tuple(problems["split"].unique()))
            samples = samples[samples["split"] == split]
            problems = problems[problems["split"] == split]
        # pass@k and maj@k per problem are in the problems table; pass@k over right answers
        # (whatever the trace) needs each problem's count of right answers
        right = samples.groupby("problem", sort=True)["answer_correct"].agg(["size", "sum"])
        per_sample = pd.to_numeric(samples["tokens"], errors="coerce").mean()
        rows = []
        for k in self.ks:
            answer_pass = [pass_at_k(int(n), int(c), k) for n, c in right.to_numpy()]
            rows.append({
                "k": k, "tokens": k * per_sample,
                "pass_at_k": problems[f"pass@{k}"].mean(),
                "answer_pass_at_k": sum(answer_pass) / len(answer_pass),
                "maj_at_k": problems[f"maj@{k}"].mean(),
            })
        return pd.DataFrame(rows)


def evaluate(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    problems: Sequence[Any],
    format: str | TraceFormat,
    *,
    n: int = 1,
    ks: Sequence[int] | None = None,
    temperature: float = 0.0,
    top_p: float = 1.0,
    max_new_tokens: int = 512,
    seed: int = 0,
    batch_size: int = GENERATION_BATCH,
    difficulty: Sequence[Any] | None = None,
    split: Sequence[Any] | None = None,
    progress: bool = False,
    cache: str = "auto",
) -> EvalReport:
    """Generate ``n`` completions per problem after ``format``'s prompt and score them.

    ``difficulty`` and ``split`` label each problem for the tables ("all" when omitted);
    ``ks`` defaults to ``(1, n)``; ``cache`` picks the KV cache (:func:`generate`: the
    static one is faster for long traces, the dynamic one for short answers).
    """
    fmt = get_format(format)
    problems = list(problems)
    for p in problems:
        fmt.check_problem(p)
    prompts = [fmt.prompt(p) for p in problems]
    gens = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, n=n,
                    temperature=temperature, top_p=top_p, seed=seed, batch_size=batch_size,
                    progress=progress, cache=cache)
    return score_generations(problems, gens, fmt, ks=ks, difficulty=difficulty, split=split)


def evaluate_dataset(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    dataset: Dataset | DatasetDict,
    *,
    splits: Sequence[str] | None = None,
    limit: int | None = None,
    **kwargs: Any,
) -> EvalReport:
    """:func:`evaluate` on the problems of a dataset made by :mod:`metacot_lab.data`
    (columns ``problem``, ``format``, ``difficulty``), in its format, labelled with its
    difficulty and split. A ``DatasetDict`` contributes ``splits`` (default: every split but
    ``train``); ``limit`` keeps the first rows of each split."""
    if isinstance(dataset, Dataset):
        parts = {"all": dataset}
    elif isinstance(dataset, DatasetDict):
        names = [s for s in dataset if s != "train"] if splits is None else list(splits)
        for name in names:
            check_choice("split", name, tuple(dataset))
        parts = {name: dataset[name] for name in names}
    else:
        raise ValueError(f"dataset must be a datasets.Dataset or DatasetDict, got {dataset!r}")
    if limit is not None:
        check_int("limit", limit, 1)
        parts = {name: ds.select(range(min(limit, len(ds)))) for name, ds in parts.items()}
    formats = {f for ds in parts.values() for f in ds["format"]}
    if len(formats) != 1:
        raise ValueError(f"dataset rows must share one format, got {sorted(formats)}")
    problems, difficulty, split = [], [], []
    for name, ds in parts.items():
        problems += [problem_from_dict(json.loads(p)) for p in ds["problem"]]
        difficulty += list(ds["difficulty"])
        split += [name] * len(ds)
    return evaluate(model, tokenizer, problems, formats.pop(), difficulty=difficulty,
                    split=split, **kwargs)


def score_generations(
    problems: Sequence[Any],
    generations: Sequence[Sequence[Generation | str]],
    format: str | TraceFormat,
    *,
    ks: Sequence[int] | None = None,
    difficulty: Sequence[Any] | None = None,
    split: Sequence[Any] | None = None,
) -> EvalReport:
    """Verify given completions (``generations[i]``: the samples of problem ``i``, as
    :class:`Generation` or plain text) and build the :class:`EvalReport`."""
    fmt = get_format(format)
    problems = list(problems)
    if len(generations) != len(problems):
        raise ValueError(f"generations must have one list per problem ({len(problems)}), "
                         f"got {len(generations)}")
    counts = {len(g) for g in generations}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"every problem needs the same number (>= 1) of samples, got {counts}")
    n = counts.pop()
    ks = tuple(sorted({1, n} if ks is None else {check_int("k", k, 1, n) for k in ks}))
    difficulty = _labels("difficulty", difficulty, len(problems))
    split = _labels("split", split, len(problems))
    rows, per_problem = [], []
    for i, (problem, samples) in enumerate(zip(problems, generations, strict=True)):
        scored = [_score(problem, g, fmt) for g in samples]
        for j, s in enumerate(scored):
            rows.append({"problem": i, "sample": j, "split": split[i],
                         "difficulty": difficulty[i], **s})
        per_problem.append(_problem_row(i, split[i], difficulty[i], scored, ks))
    return EvalReport(pd.DataFrame(rows), pd.DataFrame(per_problem), ks)


def _score(problem: Any, gen: Generation | str, fmt: TraceFormat) -> dict[str, Any]:
    text = gen.text if isinstance(gen, Generation) else gen
    verdict = verify_trace(problem, text, fmt)
    answer, right = final_answer(problem, text, fmt)
    return {
        "text": text,
        "solved": verdict.solved,
        "valid": verdict.valid,
        "optimal": verdict.optimal,
        "tokens": gen.tokens if isinstance(gen, Generation) else None,
        "finished": gen.finished if isinstance(gen, Generation) else None,
        "nodes_explored": verdict.nodes_explored,
        "first_error": verdict.first_error,
        "answer": answer_key(answer),
        "answer_correct": right,
    }


def _problem_row(i: int, split: Any, difficulty: Any, scored: list[dict[str, Any]],
                 ks: tuple[int, ...]) -> dict[str, Any]:
    n = len(scored)
    c = sum(s["solved"] for s in scored)
    optimal = [s["optimal"] for s in scored if s["optimal"] is not None]
    tokens = [s["tokens"] for s in scored if s["tokens"] is not None]
    answers = [s["answer"] for s in scored]
    correct = [s["answer_correct"] for s in scored]
    row = {
        "problem": i, "split": split, "difficulty": difficulty, "n": n,
        "solved": scored[0]["solved"],
        "solve_rate": c / n,
        "valid_rate": sum(s["valid"] for s in scored) / n,
        "answer_rate": sum(s["answer_correct"] for s in scored) / n,
        "optimal_rate": sum(optimal) / len(optimal) if optimal else float("nan"),
        "tokens": sum(tokens) / len(tokens) if tokens else float("nan"),
    }
    row.update({f"pass@{k}": pass_at_k(n, c, k) for k in ks})
    row.update({f"maj@{k}": maj_at_k(answers, correct, k) for k in ks})
    return row


def _labels(name: str, values: Sequence[Any] | None, count: int) -> list[Any]:
    if values is None:
        return ["all"] * count
    values = list(values)
    if len(values) != count:
        raise ValueError(f"{name} must have one label per problem ({count}), got {len(values)}")
    return values
