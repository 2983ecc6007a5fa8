"""Tagging: every condition and combinator, rule errors, language detection, split output."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.core.rules_path import shipped_rules
from curate.tagging.languages import _load, load_languages
from curate.tagging.rules import load_rules
from tests.conftest import ROOT, run_curate
from tests.test_run import read_dataset, write_pipeline

TABLE = load_languages()


def rules(tmp_path: Path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return load_rules(path)


def view(record: dict, language: str | None = None) -> tuple:
    return record, language, TABLE.type_of


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
    assert (ruleset.classify(*view(REC, "Python")) == "hit") is expected


def test_first_match_multi_and_default(tmp_path):
    text = """\
default: rest
subsets:
  - {name: a, when: {min_chars: 1}}
  - {name: b, when: {field: meta.lang, equals: en}}
  - {name: c, when: {field: meta.lang, equals: de}}
"""
    assert rules(tmp_path, text).classify(*view(REC)) == "a"
    multi = rules(tmp_path, "multi: true\n" + text)
    assert multi.classify(*view(REC)) == ["a", "b"]
    assert multi.classify(*view({"text": "", "meta": {}})) == ["rest"]
    assert rules(tmp_path, text).classify(*view({"text": "", "meta": {}})) == "rest"


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
            "subsets:\n  - {name: a, when: {language_type: [programing]}}\n",
            "rules.yaml:2: subsets[0].when.language_type[0]: unknown type 'programing' "
            "(types: programming, markup, data, prose)",
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


def test_detect_many_agrees_with_detect_cold_and_warm():
    table = _load.__wrapped__(str(shipped_rules("languages.yaml")))  # a fresh, empty memo
    paths = [p for p, _, _ in LANGUAGE_CASES] + [f"repo.v2/src/{p}" for p, _, _ in LANGUAGE_CASES]
    texts = [t for _, t, _ in LANGUAGE_CASES] * 2
    expected = [TABLE.detect(p, t) for p, t in zip(paths, texts)]
    assert table.detect_many(paths, texts) == expected  # memo filled on the way
    assert table.detect_many(paths, texts) == expected  # answered from the memo
    assert table.detect_many([None, 3, "a.py"], ["#!/bin/sh\n", None, ""]) == [
        "Shell",
        None,
        "Python",
    ]


_SEGMENTS = ["src", "a.b", ".hidden", "Makefile", "CMakeLists.txt", "x", "LICENSE", "go.mod"]
_NAMES = st.sampled_from(
    ["main", "Main", "x.blade", "types.d", "", ".", "a.", "MAKEFILE", "README", "setup.cfg"]
    # names that end longer extensions (`x.blade.php`, `a.coffee.md`), hidden or not
    + [".blade", "blade", "a.coffee", "x.rst", "CMakeLists", "Makefile", "a.tcl", ".nim"]
)
_EXTS = st.sampled_from(
    ["", ".c", ".h", ".H", ".pl", ".m", ".py", ".ts", ".php", ".txt", ".zz"]
    + [".md", ".in", ".cfg", ".PHP", ".Txt"]
)
_PATHS = st.builds(
    lambda dirs, name, ext: "/".join(dirs + [name + ext]),
    st.lists(st.sampled_from(_SEGMENTS), max_size=3),
    _NAMES,
    _EXTS,
)
_TEXTS = st.sampled_from(
    [
        "",
        "#!/usr/bin/env python3\n",
        "#!/bin/bash\n",
        "#import <X.h>\n",
        "class A {\n public:\n};",
        ":- module(m, []).\n",
        "use strict;\n",
        None,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_PATHS, _TEXTS), max_size=30))
def test_detect_many_equals_detect_on_generated_paths(items):
    paths = [p for p, _ in items]
    texts = [t for _, t in items]
    expected = [TABLE.detect(p, t) for p, t in items]
    assert TABLE.detect_many(paths, texts) == expected
    assert TABLE.detect_many(paths, texts) == expected


# An independent, record-at-a-time reading of the rule language: the batch evaluator must agree.
def _as_text(value) -> str:
    """Rule values and non-string fields compare as JSON text: 3 matches 3 and "3"."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _holds(cond: dict, record: dict, language: str | None) -> bool:
    results = []
    if "field" in cond:
        node = record
        for key in cond["field"].split("."):
            node = node.get(key, KeyError) if isinstance(node, dict) else KeyError
        value = None if node is KeyError or node is None else node
        text = value if isinstance(value, str) or value is None else orjson.dumps(value).decode()
        if "exists" in cond:
            results.append((node is not KeyError) is cond["exists"])
        elif "equals" in cond:
            results.append(text == _as_text(cond["equals"]))
        elif "in" in cond:
            results.append(text in [_as_text(v) for v in cond["in"]])
        elif "regex" in cond:
            import re

            results.append(text is not None and re.search(cond["regex"], text) is not None)
        elif "glob" in cond:
            results.append(text is not None and _GLOBS[cond["glob"]](text))
    body = record.get("text") if isinstance(record.get("text"), str) else None
    if "min_chars" in cond:
        results.append(body is not None and len(body) >= cond["min_chars"])
    if "max_chars" in cond:
        results.append(body is not None and len(body) <= cond["max_chars"])
    if "language" in cond:
        results.append(language in cond["language"])
    if "language_type" in cond:
        results.append(TABLE.type_of(language) in cond["language_type"])
    if "all" in cond:
        results.append(all(_holds(c, record, language) for c in cond["all"]))
    if "any" in cond:
        results.append(any(_holds(c, record, language) for c in cond["any"]))
    if "not" in cond:
        results.append(not _holds(cond["not"], record, language))
    return all(results)


_GLOBS = {
    "**/LICENSE*": lambda p: p.rsplit("/", 1)[-1].startswith("LICENSE"),
    "src/**": lambda p: p.startswith("src/"),
    "*.py": lambda p: "/" not in p and p.endswith(".py"),
}
_LEAVES = st.sampled_from(
    [{"field": "meta.path", "glob": g} for g in _GLOBS]
    + [
        {"field": "meta.stars", "equals": 3},
        {"field": "meta.stars", "in": [1, 2, "3"]},
        {"field": "meta.repo", "equals": "a"},
        {"field": "meta.repo", "exists": True},
        {"field": "meta.repo", "exists": False},
        {"field": "meta.path", "regex": "^src/"},
        {"min_chars": 3},
        {"max_chars": 3},
        {"language": ["Python", "C"]},
        {"language_type": ["programming"]},
        {"language_type": ["prose", "data"]},
    ]
)
_CONDITIONS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=6,
)
_RECORDS = st.builds(
    lambda path, stars, repo, text: {
        "text": text,
        "meta": {k: v for k, v in (("path", path), ("stars", stars), ("repo", repo)) if v != "-"},
    },
    st.sampled_from(["src/a.py", "a.py", "LICENSE.md", "docs/LICENSE", "src/x/y.c", "-", None]),
    st.sampled_from([3, "3", 1, None, [3], "-"]),
    st.sampled_from(["a", "b", None, "-"]),
    st.sampled_from(["", "abc", "abcd", None, 7]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_CONDITIONS, min_size=1, max_size=4),
    st.booleans(),
    st.lists(
        st.tuples(_RECORDS, st.sampled_from([None, "Python", "C", "Markdown", "JSON"])),
        min_size=1,
        max_size=25,
    ),
)
def test_batch_rules_agree_with_a_record_at_a_time_reading(tmp_path_factory, conds, multi, rows):
    import yaml

    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    doc = {
        "default": "rest",
        "multi": multi,
        "subsets": [{"name": f"s{i}", "when": c} for i, c in enumerate(conds)],
    }
    path.write_text(yaml.safe_dump(doc))
    ruleset = load_rules(path)
    from curate.tagging.rules import Columns

    records = [r for r, _ in rows]
    languages = [lang for _, lang in rows]
    texts = [r["text"] if isinstance(r["text"], str) else None for r in records]
    got = ruleset.classify_batch(Columns(records, texts, languages, TABLE.type_of))
    for (record, language), subset in zip(rows, got):
        names = [f"s{i}" for i, c in enumerate(conds) if _holds(c, record, language)]
        if multi:
            assert subset == (names or ["rest"])
        else:
            assert subset == (names[0] if names else "rest")


@pytest.mark.parametrize(
    "pattern, literals",
    [
        (r"^\s*(@(interface|end)\b|#\s*import\s+[<\"])", ("@", "import")),
        (r"^:-\s*module", ("module",)),
        (r"\w+::\w+|template\s*<", ("::", "template")),
        (r"(?i)pragma", None),
        (r"x(?i:abc)|y", ("x", "y")),  # not "abc": it may come in any case
        (r"a*b?", None),
        (r"(foo)+bar|baz", ("baz", "foo")),  # "foo" or "bar": both are required
    ],
)
def test_required_literals(pattern, literals):
    import re

    from curate.tagging.languages import required_literals

    assert required_literals(re.compile(pattern, re.M)) == literals


def test_required_literals_never_skip_a_match():
    samples = [t for _, t, _ in LANGUAGE_CASES if t] + [
        "@end",
        "#import <x>",
        "int a::b;",
        ":- module(x).",
        "p(X) :- q(X).",
        "/* XPM */",
    ]
    checked = set()
    for ext, (_, patterns) in TABLE.rules.items():
        for language, pattern, needles in patterns:
            for sample in samples:
                text = "\n" + sample
                if pattern.search(text) and needles is not None:
                    assert any(n in text for n in needles), (ext, pattern.pattern, sample)
                    checked.add((ext, language))
    # the samples do reach the pre-checked patterns that matter most
    assert {("h", "Objective-C"), ("h", "C++"), ("pl", "Prolog"), ("pm", "X PixMap")} <= checked


def test_language_table_loads_every_entry():
    assert len(TABLE.types) >= 300
    assert set(TABLE.types.values()) == {"programming", "markup", "data", "prose"}
    assert len(LANGUAGE_CASES) >= 60
    for ext, (default, patterns) in TABLE.rules.items():
        assert default in TABLE.types, ext
        assert all(lang in TABLE.types for lang, _, _ in patterns), ext


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


def test_tagged_lines_survive_a_later_record_stage_and_every_way_of_reading_them():
    from curate.core.fields import Fields
    from curate.io.policy import ErrorPolicy
    from curate.io.reader import parse_lines
    from curate.stages.base import Context, StageStats
    from curate.stages.filter import FilterConfig, FilterStage
    from curate.stages.tag import TagConfig, TagStage

    lines = [
        b'{"id":"1","text":"x = 1\\n","meta":{"path":"a.py"}}',
        b'{"id":"2","text":"","meta":{"path":"b.c"}}',
        b'{"meta":{"path":"c.md"},"text":"# t","id":"3"}',  # meta not last: re-serialised
    ]
    batch = parse_lines("in", 1, lines, ErrorPolicy())
    tag = TagStage(TagConfig(), Fields())
    tag.setup()
    ctx = Context(ErrorPolicy())
    tagged = tag.process(batch, ctx, StageStats())
    assert tagged.tails is not None
    keep = FilterStage(FilterConfig(min_chars=1), Fields())
    keep.setup()
    out = keep.process(tagged, ctx, StageStats())
    expected = [
        b'{"id":"1","text":"x = 1\\n","meta":{"path":"a.py","language":"Python","subset":"code"}}',
        orjson.dumps(
            {
                "meta": {"path": "c.md", "language": "Markdown", "subset": "docs"},
                "text": "# t",
                "id": "3",
            }
        ),
    ]
    assert out.tails is not None  # the filter kept the tails: no per-line copy yet
    assert out.to_bytes() == b"\n".join(expected) + b"\n"
    from curate.io.reader import Batch

    untagged = parse_lines("in", 9, [b'{"id":"4","text":"y"}'], ErrorPolicy())
    merged = Batch.concat([out, untagged])  # how near dedup groups batches into jobs
    assert merged.tails is not None
    assert merged.to_bytes() == b"\n".join([*expected, b'{"id":"4","text":"y"}']) + b"\n"
    assert out.raws == expected  # reading the lines applies the tails
    assert [orjson.loads(x) for x in expected] == out.records


def test_a_language_that_is_not_a_string_is_a_bad_line():
    data = (
        b'{"id":"1","text":"x","meta":{"path":"a.py"}}\n'
        b'{"id":"2","text":"x","meta":{"path":"a.py","language":["x"]}}\n'
        b'{"id":"3","text":"x","meta":null}\n'
    )
    failed = run_curate("tag", input=data)
    assert failed.returncode == 1
    assert failed.stderr.decode().startswith(
        "curate: error: <stdin>:2: meta.language is not a string"
    )
    skipped = run_curate("tag", "--on-error", "skip", input=data)
    assert skipped.returncode == 0
    assert [orjson.loads(x)["meta"] for x in skipped.stdout.splitlines()] == [
        {"path": "a.py", "language": "Python", "subset": "code"},
        {"subset": "text"},  # a null meta becomes an object holding the tags
    ]


_RULE_KEYS = st.sampled_from(
    ["field", "equals", "in", "regex", "glob", "exists", "min_chars", "max_chars", "language"]
    + ["language_type", "all", "any", "not", "name", "when", "subsets", "default", "multi", "x"]
)
_RULE_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-3, 5)
    | st.text(max_size=6)
    | st.sampled_from(["meta.path", "**/x", "(a", "[", "Python", "programming"])
)
_RULE_VALUE = st.recursive(
    _RULE_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_RULE_KEYS, inner, max_size=3),
    max_leaves=12,
)
_RULE_DOC = st.fixed_dictionaries(
    {
        "subsets": st.lists(
            st.fixed_dictionaries({"name": st.text(max_size=4) | _RULE_LEAF, "when": _RULE_VALUE}),
            max_size=3,
        )
        | _RULE_VALUE
    },
    optional={"default": _RULE_LEAF, "multi": _RULE_LEAF},
)


@settings(max_examples=200, deadline=None)
@given(_RULE_DOC | _RULE_VALUE)
def test_any_rules_file_loads_or_fails_with_a_located_message(tmp_path_factory, data):
    import yaml

    from curate.core.errors import ConfigError
    from curate.tagging.rules import Columns

    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        ruleset = load_rules(path)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}:"), str(exc)
        return
    records = [{"text": "abc", "meta": {"path": "a/x"}}, {"meta": None}, {}]
    cols = Columns(records, ["abc", None, None], ["Python", None, None], TABLE.types.get)
    assert len(ruleset.classify_batch(cols)) == 3


@pytest.mark.parametrize(
    "stages",
    [
        "  - tag: {}\n  - dedup_exact: {}\n",  # a last pass that only drops
        "  - tag: {}\n  - dedup_exact: {}\n  - dedup_near: {}\n",  # and a pass between
        "  - dedup_exact: {}\n  - tag: {}\n",  # a last pass that runs a stage
    ],
)
def test_composition_counts_exactly_the_records_written(tmp_path, stages):
    write_pipeline(tmp_path, inputs=[str(ROOT / "fixtures" / "*.jsonl*")], stages=stages)
    result = run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    written = [orjson.loads(x) for x in read_dataset(out)]
    composition = manifest["composition"]
    assert composition["records"] == manifest["totals"]["records_out"] == len(written)
    by_subset = {}
    for record in written:
        by_subset[record["meta"]["subset"]] = by_subset.get(record["meta"]["subset"], 0) + 1
    assert {k: v["records"] for k, v in composition["subset"].items()} == by_subset


def test_multi_rules_through_the_pipe_and_a_split_write(tmp_path):
    rules_file = tmp_path / "multi.yaml"
    rules_file.write_text(
        "multi: true\ndefault: other\nsubsets:\n"
        "  - {name: python, when: {language: [Python]}}\n"
        "  - {name: big, when: {min_chars: 3000}}\n"
    )
    records = [
        {"id": "a", "text": "x = 1\n", "meta": {"path": "a.py"}},
        {"id": "b", "text": "y = 2\n" * 600, "meta": {"path": "b.py"}},
        {"id": "c", "text": "notes", "meta": {"path": "c.txt"}},
        {"id": "d", "text": "z", "meta": {"path": "d.py", "subset": ["kept"]}},
    ]
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    result = run_curate("tag", "--rules", str(rules_file), input=data)
    assert result.returncode == 0, result.stderr
    out = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["meta"].get("language"), r["meta"]["subset"]) for r in out] == [
        ("a", "Python", ["python"]),
        ("b", "Python", ["python", "big"]),
        ("c", "Text", ["other"]),
        ("d", "Python", ["kept"]),  # an existing value is kept
    ]
    written = run_curate(
        "write", str(tmp_path / "v1"), "--split-by", "meta.subset", input=result.stdout
    )
    assert written.returncode == 0, written.stderr
    folders = sorted(p.name for p in (tmp_path / "v1").iterdir() if p.is_dir())
    assert folders == ["kept", "other", "python"]  # a list goes to its first name's folder
    manifest = orjson.loads((tmp_path / "v1" / "manifest.json").read_bytes())
    assert {k: v["records"] for k, v in manifest["composition"]["subset"].items()} == {
        "python": 2,
        "big": 1,
        "other": 1,
        "kept": 1,
    }
