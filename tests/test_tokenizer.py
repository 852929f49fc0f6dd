"""The course tokenizer: round trips and no <unk> on traces of every format x algorithm x
environment, digits, special tokens, save/load and deterministic builds."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trace_helpers import ALGORITHMS, published_sos_bfs, search_tree
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from metacot_lab.envs import CountdownConfig, MazeConfig, generate_countdown, generate_mazes
from metacot_lab.traces import FORMATS, formats_for
from metacot_lab.traces.tokenizer import (
    ASCII_CHARS,
    SPECIAL_TOKENS,
    build_tokenizer,
    format_pieces,
    pieces_of,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def tok() -> PreTrainedTokenizerFast:
    return build_tokenizer()


def _problems() -> list:
    """Problems unlike the ones format_pieces reads: other seeds, sizes and larger numbers."""
    return [
        *generate_countdown(3, CountdownConfig(num_numbers=3, number_range=(1, 15)), seed=7),
        *generate_countdown(2, CountdownConfig(num_numbers=4), seed=7),
        *generate_countdown(1, CountdownConfig(num_numbers=5, number_range=(100, 999),
                                               target_range=(1000, 5000)), seed=7),
        *generate_mazes(2, MazeConfig(n=5), seed=7),
        *generate_mazes(1, MazeConfig(n=12), seed=7),
    ]


def _traces() -> list[tuple[str, str, str]]:
    """``(label, prompt, prompt + completion)`` for every problem x algorithm x format."""
    out = []
    for problem in _problems():
        for alg in ALGORITHMS:
            tree = search_tree(alg, problem, seed=3)
            for fmt in formats_for(problem.kind):
                f = FORMATS[fmt]
                out.append((f"{problem.kind}/{alg}/{fmt}", f.prompt(problem), f.linearize(tree)))
    return out


TRACES = _traces()


def test_every_format_algorithm_and_environment_is_covered():
    labels = {tuple(label.split("/")) for label, _, _ in TRACES}
    assert {(env, fmt) for env, _, fmt in labels} == {
        (env, name) for name, f in FORMATS.items() for env in f.envs}
    assert {alg for _, alg, _ in labels} == set(ALGORITHMS)


def test_traces_round_trip_without_unk(tok):
    for label, _, text in TRACES:
        ids = tok(text)["input_ids"]
        assert tok.unk_token_id not in ids, label
        assert tok.decode(ids) == text, label


def test_every_word_and_symbol_run_of_a_trace_is_one_token(tok):
    vocab = tok.get_vocab()
    for label, _, text in TRACES:
        for piece in pieces_of(text):
            assert piece in vocab and " " + piece in vocab, (label, piece)


def test_format_words_are_single_tokens(tok):
    assert {"Exploring", "->", "!=", "goal", "create", "plan", "BACK"} <= set(format_pieces())
    for word in ("Exploring", " Operation", " ->", " goal", " create", " c"):
        assert tok.tokenize(word) == [word]


def test_numbers_are_the_same_digit_tokens_wherever_they_stand(tok):
    assert tok.tokenize("47") == ["4", "7"]
    assert tok.tokenize("61-14=47") == ["6", "1", "-", "1", "4", "=", "4", "7"]
    assert tok.tokenize("-> 47 19") == ["->", " ", "4", "7", " ", "1", "9"]
    assert tok.tokenize("[47, 19]") == ["[", "4", "7", ",", " ", "1", "9", "]"]
    assert tok.tokenize("123456789") == list("123456789")


def test_prompt_tokens_are_a_prefix_of_prompt_plus_completion(tok):
    """trl finds the completion where the two tokenizations diverge."""
    for label, prompt, text in TRACES:
        prompt_ids = tok(prompt)["input_ids"]
        assert tok(text)["input_ids"][: len(prompt_ids)] == prompt_ids, label


def test_published_generator_text_tokenizes_without_unk(tok):
    text = published_sos_bfs(24, [4, 9, 3, 1], beam=2, seed=0)  # ends "No solution found."
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == text


@FAST
@given(st.text(alphabet=st.sampled_from(string.printable), max_size=200))
def test_any_printable_ascii_round_trips_without_unk(text):
    tok = build_tokenizer()
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == text


def test_only_foreign_characters_become_unk(tok):
    ids = tok("goal é 4")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["goal", " ", "<unk>", " ", "4"]


def test_special_tokens(tok):
    assert [tok.convert_ids_to_tokens(i) for i in range(4)] == list(SPECIAL_TOKENS)
    assert (tok.pad_token, tok.bos_token, tok.eos_token, tok.unk_token) == SPECIAL_TOKENS
    assert tok.pad_token_id != tok.eos_token_id
    ids = tok("35 == 35 goal\n<eos>")["input_ids"]  # trl appends "<eos>" as a string
    assert ids[-1] == tok.eos_token_id and ids.count(tok.eos_token_id) == 1
    assert tok("goal")["input_ids"] == [tok.convert_tokens_to_ids("goal")]  # no <bos> added
    assert tok.decode(ids, skip_special_tokens=True) == "35 == 35 goal\n"
    assert "<eos>" in tok.get_vocab()  # trl checks this


def test_vocabulary_is_small_and_ordered(tok):
    vocab = tok.get_vocab()
    print(f"vocab size: {len(tok)}")
    pieces = format_pieces()
    words = [p for p in pieces if p not in ASCII_CHARS]
    assert len(tok) == len(vocab) == 4 + len(ASCII_CHARS) + len(words) + len(pieces) < 300
    assert sorted(vocab, key=vocab.get)[4: 4 + len(ASCII_CHARS)] == list(ASCII_CHARS)


def test_builds_are_byte_identical(tmp_path):
    build_tokenizer().save_pretrained(tmp_path / "a")
    build_tokenizer().save_pretrained(tmp_path / "b")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("loader", [AutoTokenizer, PreTrainedTokenizerFast])
def test_save_and_load_give_the_same_tokenizer(tok, tmp_path, loader):
    tok.save_pretrained(tmp_path)
    loaded = loader.from_pretrained(tmp_path)
    assert loaded.get_vocab() == tok.get_vocab()
    assert loaded.all_special_tokens == tok.all_special_tokens
    assert (loaded.pad_token_id, loaded.eos_token_id) == (tok.pad_token_id, tok.eos_token_id)
    for _, _, text in TRACES[::7]:
        ids = tok(text + "<eos>")["input_ids"]
        assert loaded(text + "<eos>")["input_ids"] == ids
        assert loaded.decode(ids) == text + "<eos>"


def test_extra_words_become_tokens():
    tok = build_tokenizer(extra_words=["verify", "=>"])
    assert len(tok) == len(build_tokenizer()) + 4
    assert tok.tokenize("verify => 3") == ["verify", " =>", " ", "3"]


@pytest.mark.parametrize("bad", ["verify", ["two words"], ["x1"], ["é"], [""], [3], ["a-b"]])
def test_bad_extra_words_are_rejected(bad):
    with pytest.raises(ValueError, match="extra_words"):
        build_tokenizer(extra_words=bad)
