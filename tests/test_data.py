"""Datasets of traces: columns, splits (disjoint, held-out), determinism, unsolved searches,
the command line, bad arguments, and the samples shipped in data/."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metacot_lab import cli
from metacot_lab.config import DATA_DIR, REPO_ROOT
from metacot_lab.data import (
    FEATURES,
    build_dataset,
    env_kwargs_for,
    load_dataset_dir,
    main,
    save_dataset,
)
from metacot_lab.envs import CountdownConfig, heldout_targets, problem_from_dict
from metacot_lab.envs.maze import shortest_path_length
from metacot_lab.traces import verify_trace
from metacot_lab.traces.tokenizer import build_tokenizer

CD3 = {"num_numbers": 3, "number_range": [1, 20], "target_range": [10, 60]}


@pytest.fixture(scope="module")
def countdown():
    return build_dataset("countdown", "dfs", "metacot", 8, 3, 3, 4, seed=1, env_kwargs=CD3)


@pytest.fixture(scope="module")
def maze():
    return build_dataset("maze", "astar", "searchformer", 4, 2, 2, seed=1, env_kwargs={"n": 5})


def _problems(ds) -> set[str]:
    return set(ds["problem"])


def test_splits_sizes_and_columns(countdown, maze):
    assert list(countdown) == ["train", "val", "test", "test_heldout_targets"]
    assert [len(d) for d in countdown.values()] == [8, 3, 3, 4]
    assert list(maze) == ["train", "val", "test", "test_larger"]
    assert [len(d) for d in maze.values()] == [4, 2, 2, 2]
    for ds in [*countdown.values(), *maze.values()]:
        assert ds.features == FEATURES


def test_rows_are_verified_traces_with_their_metadata(countdown, maze):
    tok = build_tokenizer()
    for dd, fmt, alg in ((countdown, "metacot", "dfs"), (maze, "searchformer", "astar")):
        for split, ds in dd.items():
            for row in ds:
                problem = problem_from_dict(json.loads(row["problem"]))
                text = row["prompt"] + row["completion"]
                verdict = verify_trace(problem, text, fmt)
                assert verdict.solved and row["solved"], (split, row)
                assert (row["format"], row["algorithm"]) == (fmt, alg)
                assert row["trace_tokens"] == len(tok(text)["input_ids"]) + 1
                assert row["nodes_explored"] >= 1 and row["difficulty"] >= 1
                if problem.kind == "countdown":
                    assert row["size"] == 3 and row["optimal"] is None
                else:
                    assert row["optimal"] == verdict.optimal is True  # A* plans are shortest
                    assert row["difficulty"] == shortest_path_length(problem)


def test_splits_are_disjoint(countdown, maze):
    for dd in (countdown, maze):
        sets = [_problems(ds) for ds in dd.values()]
        assert sum(len(s) for s in sets) == len(set().union(*sets)) == sum(map(len, dd.values()))


def test_heldout_targets_only_in_the_heldout_split(countdown):
    held = heldout_targets(CountdownConfig(**CD3))
    for split, ds in countdown.items():
        targets = {json.loads(p)["target"] for p in ds["problem"]}
        if split == "test_heldout_targets":
            assert targets <= held
        else:
            assert not targets & held


def test_larger_mazes_split(maze):
    assert set(maze["test_larger"]["size"]) == {7}
    assert {s for split in ("train", "val", "test") for s in maze[split]["size"]} == {5}
    wider = build_dataset("maze", "bfs", "metacot", 1, 0, 0, 1, env_kwargs={"n": 5},
                          larger_n=9)
    assert wider["test_larger"]["size"] == [9] and len(wider["val"]) == 0


def test_same_seed_same_bytes_and_num_proc_does_not_matter(tmp_path):
    kwargs = {"env_kwargs": CD3, "seed": 3}
    one = build_dataset("countdown", "bfs", "solution", 6, 2, 2, **kwargs)
    two = build_dataset("countdown", "bfs", "solution", 6, 2, 2, **kwargs, num_proc=2)
    a, b = save_dataset(one, tmp_path / "a"), save_dataset(two, tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and len(names) == 4
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    other = build_dataset("countdown", "bfs", "solution", 6, 2, 2, env_kwargs=CD3, seed=4)
    assert other["train"]["problem"] != load_dataset_dir(a)["train"]["problem"]


def test_smaller_builds_are_prefixes_of_larger_ones():
    small = build_dataset("countdown", "mcts", "metacot", 2, 1, 1, env_kwargs=CD3,
                          search_kwargs={"budget": 30})
    large = build_dataset("countdown", "mcts", "metacot", 4, 1, 1, env_kwargs=CD3,
                          search_kwargs={"budget": 30})
    assert small["train"].to_list() == large["train"].to_list()[:2]


def test_unsolved_searches_are_dropped_or_kept():
    kept = build_dataset("countdown", "dfs", "sos", 6, 0, 0, 0, env_kwargs=CD3,
                         search_kwargs={"budget": 4}, keep_unsolved=True)["train"]
    assert len(kept) == 6 and not all(kept["solved"]) and any(kept["solved"])
    dropped = build_dataset("countdown", "dfs", "sos", 6, 0, 0, 0, env_kwargs=CD3,
                            search_kwargs={"budget": 4})["train"]
    assert len(dropped) == 6 and all(dropped["solved"])
    solved_kept = [p for p, s in zip(kept["problem"], kept["solved"], strict=True) if s]
    assert dropped["problem"][: len(solved_kept)] == solved_kept


def test_max_tokens_drops_long_rows_and_fills_the_split():
    unlimited = build_dataset("countdown", "dfs", "sos", 12, 0, 0, 0, env_kwargs=CD3)["train"]
    lengths = sorted(unlimited["trace_tokens"])
    limit = lengths[len(lengths) // 2]  # about half of the rows are longer
    assert lengths[0] <= limit < lengths[-1]
    short = build_dataset("countdown", "dfs", "sos", 12, 0, 0, 0, env_kwargs=CD3,
                          max_tokens=limit)["train"]
    assert len(short) == 12 and max(short["trace_tokens"]) <= limit
    kept = [p for p, t in zip(unlimited["problem"], unlimited["trace_tokens"], strict=True)
            if t <= limit]
    assert short["problem"][: len(kept)] == kept  # the same problems, long ones skipped
    tokenizer = build_tokenizer()
    for row in short:
        assert len(tokenizer(row["prompt"] + row["completion"])["input_ids"]) + 1 <= limit


def test_max_tokens_none_changes_nothing():
    args = ("maze", "astar", "metacot", 3, 1, 1)
    assert (build_dataset(*args, env_kwargs={"n": 4}, max_tokens=None)["train"].to_list()
            == build_dataset(*args, env_kwargs={"n": 4})["train"].to_list())


def test_max_tokens_below_every_trace_raises():
    with pytest.raises(ValueError, match="max_tokens"):
        build_dataset("countdown", "dfs", "metacot", 1, 0, 0, 0, env_kwargs=CD3,
                      max_tokens=2)


def test_hopeless_searches_raise():
    with pytest.raises(ValueError, match="keep_unsolved"):
        build_dataset("countdown", "dfs", "metacot", 1, 0, 0, 0, env_kwargs=CD3,
                      search_kwargs={"budget": 1})


def test_empty_splits_keep_the_columns():
    dd = build_dataset("maze", "dfs", "solution", 0, 0, 1, 0, env_kwargs={"n": 4})
    assert [len(d) for d in dd.values()] == [0, 0, 1, 0]
    assert all(d.features == FEATURES for d in dd.values())


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"env": "chess"}, "env"),
    ({"algorithm": "dijkstra"}, "algorithm"),
    ({"format": "yaml"}, "format"),
    ({"env": "maze", "format": "sos"}, "format"),
    ({"env": "countdown", "format": "searchformer"}, "format"),
    ({"n_train": -1}, "n_train"),
    ({"n_val": -2}, "n_val"),
    ({"n_test": 1.5}, "n_test"),
    ({"n_heldout": -1}, "n_heldout"),
    ({"seed": -1}, "seed"),
    ({"num_proc": 0}, "num_proc"),
    ({"keep_unsolved": "yes"}, "keep_unsolved"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": -5}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_tokens": "4096"}, "max_tokens"),
    ({"search_kwargs": {"seed": 3}}, "search_kwargs"),
    ({"search_kwargs": {"beam": 3}}, "search_kwargs"),
    ({"search_kwargs": [1]}, "search_kwargs"),
    ({"search_kwargs": {"budget": -1}}, "budget"),  # checked before any row is built
    ({"search_kwargs": {"heuristic": "nope"}}, "heuristic"),
    ({"env_kwargs": {"colour": 1}}, "env_kwargs"),
    ({"env_kwargs": {"num_numbers": 9}}, "num_numbers"),
    ({"larger_n": 7}, "larger_n"),
    ({"env": "maze", "format": "metacot", "env_kwargs": {"n": 5}, "larger_n": 5}, "larger_n"),
])
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"env": "countdown", "algorithm": "dfs", "format": "metacot", "n_train": 1,
            "n_val": 0, "n_test": 0, **kwargs}
    with pytest.raises(ValueError, match=field):
        build_dataset(**args)


CLI_ARGS = ["build", "--env", "maze", "--size", "5", "--algorithm", "astar", "--format",
            "metacot", "--n-train", "3", "--n-val", "1", "--n-test", "1", "--seed", "2"]


def test_command_line_builds_the_same_bytes_as_the_metacot_command(tmp_path, capsys):
    assert main([*CLI_ARGS, "--out", str(tmp_path / "a")]) == 0
    assert "train: 3 rows" in capsys.readouterr().out
    assert cli.main(["data", *CLI_ARGS, "--out", str(tmp_path / "b")]) == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["build.json", "test.parquet", "test_larger.parquet", "train.parquet",
                     "val.parquet"]
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    args = json.loads((tmp_path / "a" / "build.json").read_text())
    rebuilt = build_dataset(**args)
    loaded = load_dataset_dir(tmp_path / "a")
    assert list(loaded) == list(rebuilt)
    assert all(loaded[s].to_list() == rebuilt[s].to_list() for s in rebuilt)


def test_command_line_max_tokens(tmp_path):
    assert main([*CLI_ARGS, "--max-tokens", "400", "--out", str(tmp_path)]) == 0
    args = json.loads((tmp_path / "build.json").read_text())
    assert args["max_tokens"] == 400
    assert all(max(d["trace_tokens"], default=0) <= 400
               for d in load_dataset_dir(tmp_path).values())
    with pytest.raises(SystemExit) as exit_:
        main([*CLI_ARGS, "--max-tokens", "0", "--out", str(tmp_path / "bad")])
    assert exit_.value.code == 2


def test_python_dash_m_entry_point(tmp_path):
    out = tmp_path / "cd"
    run = subprocess.run(
        [sys.executable, "-m", "metacot_lab.data", "build", "--env", "countdown", "--size", "3",
         "--algorithm", "dfs", "--format", "solution", "--n-train", "2", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert [len(d) for d in load_dataset_dir(out).values()] == [2, 0, 0, 0]


def test_command_line_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["build", "--env", "chess", "--algorithm", "dfs", "--format", "metacot",
              "--n-train", "1", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        main([*CLI_ARGS, "--env-kwargs", "[1]", "--out", str(tmp_path)])
    capsys.readouterr()
    for bad, name in ((["--n-train", "-3"], "n_train"),
                      (["--search-kwargs", '{"budget": -1}'], "budget"),
                      (["--search-kwargs", '{"heuristic": "nope"}'], "heuristic")):
        with pytest.raises(SystemExit) as exit_:
            main([*CLI_ARGS[:-2], "--n-train", "2", *bad, "--out", str(tmp_path)])
        assert exit_.value.code == 2  # a usage error, not a traceback
        err = capsys.readouterr().err
        assert err.startswith("usage:") and name in err
    assert cli.main(["frobnicate"]) == 2


SAMPLES = sorted(p for p in DATA_DIR.iterdir() if (p / "build.json").is_file()) \
    if DATA_DIR.is_dir() else []


@pytest.mark.skipif(not SAMPLES, reason="no samples in data/")
@pytest.mark.parametrize("folder", SAMPLES, ids=lambda p: p.name)
def test_shipped_samples_are_what_their_build_json_makes(folder):
    """The first rows of every split equal a small rebuild with the recorded arguments
    (builds are prefix-stable), and the traces verify."""
    args = json.loads((folder / "build.json").read_text())
    shipped = load_dataset_dir(folder)
    small = build_dataset(**{**args, "n_train": 2, "n_val": 1, "n_test": 1, "n_heldout": 1})
    assert list(shipped) == list(small)
    for split, ds in small.items():
        assert ds.to_list() == shipped[split].select(range(len(ds))).to_list(), split
    for row in shipped["test"].select(range(3)):
        problem = problem_from_dict(json.loads(row["problem"]))
        assert verify_trace(problem, row["prompt"] + row["completion"], row["format"]).solved


def test_env_kwargs_for_each_env():
    assert env_kwargs_for("maze", 7) == {"n": 7}
    assert env_kwargs_for("countdown", 4) == {"num_numbers": 4}
    assert env_kwargs_for("countdown", 3, [1, 20]) == {"num_numbers": 3, "number_range": (1, 20)}
    with pytest.raises(ValueError, match="env"):
        env_kwargs_for("sudoku", 3)
