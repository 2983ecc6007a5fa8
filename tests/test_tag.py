"""Tagging: every condition and combinator, rule errors, language detection, split output."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from curate.tagging.languages import load_languages
from curate.tagging.rules import RecordView, load_rules
from tests.conftest import ROOT, run_curate
from tests.test_run import read_dataset, write_pipeline

TABLE = load_languages()


def rules(tmp_path: Path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return load_rules(path)


def view(record: dict, language: str | None = None) -> RecordView:
    text = record.get("text")
    return RecordView(record, text, language, TABLE.type_of(language))


REC = {
    "id": "1",
    "text": "hello world",
    "meta": {"path": "src/pkg/mod.py", "stars": 7, "repo": "octo/app", "lang": "en"},
}


@pytest.mark.parametrize(
    "condition, expected",
    [
        ("{field: meta.repo, equals: octo/app}", True),
        ("{field: meta.repo, equals: octo/other}", False),
        ("{field: meta.stars, equals: 7}", True),
        ("{field: meta.lang, in: [en, fr]}", True),
        ("{field: meta.lang, in: [de]}", False),
        ("{field: meta.path, regex: '^src/'}", True),
        ("{field: meta.path, regex: 'test_'}", False),
        ("{field: meta.path, glob: 'src/**/*.py'}", True),
        ("{field: meta.path, glob: 'src/*.py'}", False),
        ("{field: meta.license, exists: false}", True),
        ("{field: meta.repo, exists: true}", True),
        ("{min_chars: 11}", True),
        ("{min_chars: 12}", False),
        ("{max_chars: 5}", False),
        ("{language: [Python, Go]}", True),
        ("{language: {in: [Go]}}", False),
        ("{language_type: [programming]}", True),
        ("{all: [{min_chars: 1}, {field: meta.lang, equals: en}]}", True),
        ("{all: [{min_chars: 1}, {field: meta.lang, equals: de}]}", False),
        ("{any: [{max_chars: 1}, {field: meta.lang, equals: en}]}", True),
        ("{not: {field: meta.lang, equals: en}}", False),
        ("{min_chars: 1, max_chars: 100}", True),
    ],
)
def test_each_condition_kind(tmp_path, condition, expected):
    ruleset = rules(tmp_path, f"subsets:\n  - name: hit\n    when: {condition}\n")
    assert (ruleset.classify(view(REC, "Python")) == "hit") is expected


def test_first_match_multi_and_default(tmp_path):
    text = """\
default: rest
subsets:
  - {name: a, when: {min_chars: 1}}
  - {name: b, when: {field: meta.lang, equals: en}}
  - {name: c, when: {field: meta.lang, equals: de}}
"""
    assert rules(tmp_path, text).classify(view(REC)) == "a"
    multi = rules(tmp_path, "multi: true\n" + text)
    assert multi.classify(view(REC)) == ["a", "b"]
    assert multi.classify(view({"text": "", "meta": {}})) == ["rest"]
    assert rules(tmp_path, text).classify(view({"text": "", "meta": {}})) == "rest"


@pytest.mark.parametrize(
    "text, message",
    [
        ("subsets: []\n", "rules.yaml:1: subsets: expected a non-empty list of {name, when}"),
        ("subsets:\n  - {name: a}\n", "rules.yaml:2: subsets[0]: missing `when` condition"),
        (
            "subsets:\n  - {name: a, when: {field: x, equal: 1}}\n",
            "rules.yaml:2: subsets[0].when.equal: unknown condition",
        ),
        (
            "subsets:\n  - {name: a, when: {field: x}}\n",
            "rules.yaml:2: subsets[0].when.field: a field condition takes exactly one of equals, in, regex, glob, exists",
        ),
        (
            "subsets:\n  - {name: a, when: {regex: x}}\n",
            "rules.yaml:2: subsets[0].when.regex: needs a `field` to test",
        ),
        (
            "subsets:\n  - name: a\n    when:\n      field: x\n      regex: '(unclosed'\n",
            "rules.yaml:5: subsets[0].when.regex: invalid regex: missing )",
        ),
        (
            "subsets:\n  - {name: a, when: {min_chars: -1}}\n",
            "rules.yaml:2: subsets[0].when.min_chars: expected a non-negative integer",
        ),
        (
            "subsets:\n  - {name: a, when: {min_chars: 1}}\n  - {name: a, when: {min_chars: 2}}\n",
            "rules.yaml:3: subsets[1].name: duplicate subset name 'a'",
        ),
        (
            "subsets:\n  - {name: a, when: {any: []}}\n",
            "rules.yaml:2: subsets[0].when.any: expected a non-empty list of conditions",
        ),
        (
            "multi: sometimes\nsubsets:\n  - {name: a, when: {min_chars: 1}}\n",
            "rules.yaml:1: multi: expected true or false",
        ),
    ],
)
def test_invalid_rules_messages(tmp_path, text, message):
    (tmp_path / "rules.yaml").write_text(text)
    result = run_curate("tag", "--rules", "rules.yaml", cwd=tmp_path, input=b"")
    assert result.returncode == 2
    assert result.stderr.decode().startswith(f"curate: error: {message}"), result.stderr


def test_catastrophic_regex_does_not_hang(tmp_path):
    (tmp_path / "rules.yaml").write_text(
        "subsets:\n  - name: evil\n    when: {field: text, regex: '(a|aa)+$'}\n"
    )
    record = {"id": "x", "text": "a" * 60 + "b"}  # exponential backtracking, even in `regex`
    started = time.monotonic()
    result = run_curate(
        "tag", "--rules", "rules.yaml", cwd=tmp_path, input=orjson.dumps(record) + b"\n", timeout=60
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert b"<stdin>:1: regex '(a|aa)+$' timed out after 1s" in result.stderr


LANGUAGE_CASES = [
    ("main.c", "", "C"),
    ("lib/util.h", "int f(void);", "C"),
    ("vec.h", "#include <vector>\nclass V {};", "C++"),
    ("App.h", "#import <Foundation/Foundation.h>", "Objective-C"),
    ("x.cpp", "", "C++"),
    ("x.cc", "", "C++"),
    ("x.hpp", "", "C++"),
    ("plot.m", "function y = f(x)\n  y = x;\nend\n", "MATLAB"),
    ("View.m", "#import <UIKit/UIKit.h>\n", "Objective-C"),
    ("script.pl", "use strict;\nmy $x = 1;\n", "Perl"),
    ("facts.pl", ":- module(facts, []).\nparent(a, b).\n", "Prolog"),
    ("Makefile", "", "Makefile"),
    ("GNUmakefile", "", "Makefile"),
    ("Dockerfile", "", "Dockerfile"),
    ("CMakeLists.txt", "", "CMake"),
    ("Gemfile", "", "Ruby"),
    ("Rakefile", "", "Ruby"),
    ("Jenkinsfile", "", "Groovy"),
    ("go.mod", "", "Go Module"),
    ("Cargo.lock", "", "TOML"),
    ("package-lock.json", "", "JSON"),
    ("tsconfig.json", "", "JSON with Comments"),
    (".bashrc", "", "Shell"),
    (".gitignore", "", "Ignore List"),
    ("BUILD", "", "Starlark"),
    ("app.py", "", "Python"),
    ("stub.pyi", "", "Python"),
    ("m.rs", "", "Rust"),
    ("m.go", "", "Go"),
    ("A.java", "", "Java"),
    ("a.kt", "", "Kotlin"),
    ("a.scala", "", "Scala"),
    ("a.swift", "", "Swift"),
    ("a.ts", "", "TypeScript"),
    ("types.d.ts", "", "TypeScript"),
    ("a.tsx", "", "TSX"),
    ("a.js", "", "JavaScript"),
    ("a.mjs", "", "JavaScript"),
    ("a.rb", "", "Ruby"),
    ("a.php", "", "PHP"),
    ("a.cs", "", "C#"),
    ("a.fs", "let x = 1", "F#"),
    ("a.hs", "", "Haskell"),
    ("a.ex", "", "Elixir"),
    ("a.erl", "", "Erlang"),
    ("a.clj", "", "Clojure"),
    ("a.lua", "", "Lua"),
    ("a.r", "x <- 1", "R"),
    ("a.jl", "", "Julia"),
    ("a.sql", "", "SQL"),
    ("a.sh", "", "Shell"),
    ("a.ps1", "", "PowerShell"),
    ("a.html", "", "HTML"),
    ("a.css", "", "CSS"),
    ("a.scss", "", "SCSS"),
    ("a.md", "", "Markdown"),
    ("a.rst", "", "reStructuredText"),
    ("a.yaml", "", "YAML"),
    ("a.yml", "", "YAML"),
    ("a.toml", "", "TOML"),
    ("a.xml", "", "XML"),
    ("a.proto", "", "Protocol Buffer"),
    ("a.v", "module top(input a);\nendmodule", "Verilog"),
    ("b.v", "Theorem t : True.\nProof. auto. Qed.", "Coq"),
    ("a.zig", "", "Zig"),
    ("a.dart", "", "Dart"),
    ("a.sol", "", "Solidity"),
    ("a.vue", "", "Vue"),
    ("a.ipynb", "", "Jupyter Notebook"),
    ("a.tf", "", "HCL"),
    ("a.nix", "", "Nix"),
    ("MAIN.C", "", "C"),
    ("Photo.JPG", "", None),
    ("noext", "just text", None),
    ("bin/tool", "#!/usr/bin/env python3\nprint(1)\n", "Python"),
    ("bin/run", "#!/bin/bash\necho hi\n", "Shell"),
    ("bin/x", "#!/usr/bin/env -S node --harmony\n", "JavaScript"),
    ("bin/r", "#!/usr/bin/perl -w\n", "Perl"),
    ("bin/rb", "#!/usr/bin/env ruby\n", "Ruby"),
    ("bin/py", "#!/usr/local/bin/python3.11\n", "Python"),
]


@pytest.mark.parametrize("path, text, language", LANGUAGE_CASES)
def test_language_detection(path, text, language):
    assert TABLE.detect(path, text) == language


def test_language_table_loads_every_entry():
    assert len(TABLE.types) >= 300
    assert set(TABLE.types.values()) == {"programming", "markup", "data", "prose"}
    assert len(LANGUAGE_CASES) >= 60
    for ext, (default, patterns) in TABLE.rules.items():
        assert default in TABLE.types, ext
        assert all(lang in TABLE.types for lang, _ in patterns), ext


def test_tag_keeps_existing_unless_overwrite_and_appends_meta_in_place():
    records = [
        {"id": "1", "text": "x = 1\n", "meta": {"path": "a.py"}},
        {"id": "2", "text": "hi", "meta": {"path": "a.py", "subset": "mine"}},
        {"id": "3", "text": "plain"},
    ]
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    out = run_curate("tag", input=data).stdout.splitlines()
    assert (
        out[0]
        == b'{"id":"1","text":"x = 1\\n","meta":{"path":"a.py","language":"Python","subset":"code"}}'
    )
    assert orjson.loads(out[1])["meta"] == {"path": "a.py", "subset": "mine", "language": "Python"}
    assert orjson.loads(out[2])["meta"] == {"subset": "text"}
    over = run_curate("tag", "--overwrite", input=data).stdout.splitlines()
    assert orjson.loads(over[1])["meta"]["subset"] == "code"


def test_split_run_on_fixtures_one_folder_per_subset(tmp_path):
    write_pipeline(
        tmp_path, inputs=[str(ROOT / "fixtures" / "*.jsonl*")], stages="  - tag: {}\n", extra=""
    )
    text = (
        (tmp_path / "pipeline.yaml")
        .read_text()
        .replace("  rejects: true\n", "  rejects: true\n  split_by: meta.subset\n")
    )
    (tmp_path / "pipeline.yaml").write_text(text)
    result = run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["code", "license", "text"]
    for folder in ("code", "license", "text"):
        subsets = {orjson.loads(x)["meta"]["subset"] for x in read_dataset(out, folder)}
        assert subsets == {folder}
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["composition"]["subset"]["code"]["records"] == 264
    assert manifest["composition"]["language"]["Python"]["records"] == 264
    assert {s["path"].split("/")[0] for s in manifest["shards"]} == {"code", "license", "text"}
    assert run_curate("verify", str(out)).returncode == 0


def test_hostile_subset_names_stay_inside(tmp_path):
    from curate.io.split import safe_dirname

    hostile = [
        "../../etc",
        "a/b",
        "",
        "..",
        ".hidden",
        "con\x00trol\n",
        "x" * 300,
        "ok",
        "_missing",
        "__missing__",
    ]
    names = [safe_dirname(v) for v in hostile]
    assert names[7] == "ok"
    assert len(set(names)) == len(names)
    for name in names:
        assert "/" not in name and not name.startswith(".") and name not in ("", "..")
        assert all(c.isalnum() or c in "._-" for c in name)
    records = [{"id": str(i), "text": "t", "meta": {"subset": v}} for i, v in enumerate(hostile)]
    records.append({"id": "none", "text": "t", "meta": {}})
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    out = tmp_path / "out"
    result = run_curate("write", str(out), "--split-by", "meta.subset", input=data)
    assert result.returncode == 0, result.stderr
    for path in tmp_path.rglob("*"):
        assert out in path.parents or path == out, path
    assert (out / "__missing__" / "part-00000.jsonl.zst").exists()
    assert run_curate("verify", str(out)).returncode == 0
