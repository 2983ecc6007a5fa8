"""Opt-out: every kind, registry maintenance, no leaks, erasure from a released version."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from curate.io.decompress import decompress_all
from tests.conftest import FIXTURES, run_curate
from tests.test_run import read_dataset, write_pipeline

SECRET_TEXT = "PRIVATE-CONTENT-7f3a9c the owner asked for this to be removed"

RECORDS = [
    {"id": "r1", "text": "a", "meta": {"repo": "Octo/Private", "path": "src/a.py"}},
    {"id": "r2", "text": "b", "meta": {"repo": "octo/public", "path": "src/b.py"}},
    {"id": "r3", "text": "c", "meta": {"repo": "BigOrg/tool", "path": "x.py"}},
    {"id": "r4", "text": "d", "meta": {"repo": "bigorganisation/tool", "path": "x.py"}},
    {"id": "r5", "text": "e", "meta": {"url": "https://example.org/blog/2024/post"}},
    {"id": "r6", "text": "f", "meta": {"url": "https://example.org/blogger"}},
    {"id": "r7", "text": "g", "meta": {"repo": "acme/site", "path": "docs/secret/plan.md"}},
    {"id": "r8", "text": "h", "meta": {"repo": "acme/site", "path": "docs/public/plan.md"}},
    {"id": "r9", "text": "i", "meta": {"repo": "acme/site", "path": "secret.md"}},
    {"id": "r10", "text": "j", "meta": {"email": "Jane.Doe@Example.COM"}},
    {"id": "r11", "text": SECRET_TEXT, "meta": {"repo": "other/copy"}},
    {"id": "r12", "text": "kept", "meta": {"repo": "acme/web", "path": "docs/secret/x.md"}},
]

REGISTRY = [
    {"kind": "repo", "value": "octo/PRIVATE", "added": "2026-11-01", "ref": "REQ-1"},
    {"kind": "owner", "value": "bigorg", "added": "2026-11-01", "ref": "REQ-2"},
    {
        "kind": "url_prefix",
        "value": "https://example.org/blog/",
        "added": "2026-11-02",
        "ref": "REQ-3",
    },
    {
        "kind": "path_glob",
        "value": "acme/site:docs/secret/**",
        "added": "2026-11-03",
        "ref": "REQ-4",
    },
    {"kind": "path_glob", "value": "acme/site:*.md", "added": "2026-11-03", "ref": "REQ-5"},
    {"kind": "email", "value": "jane.doe@example.com", "added": "2026-11-04", "ref": "REQ-6"},
    {
        "kind": "sha256",
        "value": hashlib.sha256(SECRET_TEXT.encode()).hexdigest(),
        "added": "2026-11-05",
        "ref": "REQ-7",
    },
]


def jsonl(items) -> bytes:
    return b"".join(orjson.dumps(i) + b"\n" for i in items)


@pytest.fixture
def registry(tmp_path) -> Path:
    path = tmp_path / "optout.jsonl"
    path.write_bytes(jsonl(REGISTRY))
    return path


def test_every_kind_matches_what_it_should(registry, tmp_path):
    log = tmp_path / "log.jsonl"
    result = run_curate(
        "optout", "--registry", str(registry), "--log", str(log), input=jsonl(RECORDS)
    )
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(x)["id"] for x in result.stdout.splitlines()] == [
        "r2",
        "r4",
        "r6",
        "r8",
        "r12",
    ]
    assert [orjson.loads(x) for x in log.read_bytes().splitlines()] == [
        {"id": "r1", "kind": "repo", "ref": "REQ-1"},
        {"id": "r3", "kind": "owner", "ref": "REQ-2"},
        {"id": "r5", "kind": "url_prefix", "ref": "REQ-3"},
        {"id": "r7", "kind": "path_glob", "ref": "REQ-4"},
        {"id": "r9", "kind": "path_glob", "ref": "REQ-5"},
        {"id": "r10", "kind": "email", "ref": "REQ-6"},
        {"id": "r11", "kind": "sha256", "ref": "REQ-7"},
    ]


@pytest.mark.parametrize(
    "glob, path, hit",
    [
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),
        ("src/**", "src/sub/deep/a.py", True),
        ("**/test_*.py", "test_x.py", True),
        ("**/test_*.py", "a/b/test_x.py", True),
        ("a?.txt", "ab.txt", True),
        ("a?.txt", "a/.txt", False),
        ("data[1].csv", "data[1].csv", True),
    ],
)
def test_glob_edge_cases(glob, path, hit):
    from curate.optout.matcher import Matcher
    from curate.optout.registry import check_entry

    entry = check_entry({"kind": "path_glob", "value": f"o/r:{glob}", "added": "2026-01-01"})
    match = Matcher([entry]).match({"meta": {"repo": "O/R", "path": path}})
    assert (match is not None) == hit


def test_url_prefixes_of_several_lengths():
    from curate.optout.matcher import Matcher
    from curate.optout.registry import check_entry

    entries = [
        check_entry({"kind": "url_prefix", "value": v, "added": "2026-01-01"})
        for v in ["https://a.com/x/", "https://a.com/w", "http://b.org/"]
    ]
    matcher = Matcher(entries)
    assert matcher.match({"meta": {"url": "https://a.com/x/1"}}).value == "https://a.com/x/"
    assert matcher.match({"meta": {"url": "https://a.com/wx"}}).value == "https://a.com/w"
    assert matcher.match({"meta": {"url": "https://a.com/v"}}) is None
    assert matcher.match({"meta": {"url": "https://b.org/"}}) is None  # scheme differs
    assert matcher.match({"meta": {"url": "http"}}) is None


def test_invalid_registry_lines_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"kind": "repo", "value": "a/b", "added": "2026-01-01"}\n'
        b'{"kind": "repo", "value": "not a repo", "added": "2026-01-01"}\n'
        b"not json\n"
        b'{"kind": "planet", "value": "x", "added": "2026-01-01"}\n'
        b'{"kind": "email", "value": "a@b.co", "added": "yesterday"}\n'
    )
    result = run_curate("registry", "validate", "-r", str(path))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"curate registry: {path}:2: repo must look like owner/name, got 'not a repo'",
        f"curate registry: {path}:3: invalid JSON (invalid literal, expected 'null')",
        f"curate registry: {path}:4: kind must be one of repo, owner, url_prefix, path_glob, email, sha256, got 'planet'",
        f"curate registry: {path}:5: added must be a date, YYYY-MM-DD, got 'yesterday'",
    ]
    stage = run_curate("optout", "--registry", str(path), input=b"")
    assert stage.returncode == 2
    assert stage.stderr.decode().startswith(
        f"curate: error: {path}:2: repo must look like owner/name"
    )


def test_registry_add_remove_list_keep_it_sorted_and_unique(tmp_path):
    reg = tmp_path / "r.jsonl"
    for args in (
        ["repo", "Zed/Last", "--ref", "R3"],
        ["owner", "alpha", "--ref", "R1"],
        ["repo", "zed/last"],
        ["email", "x@y.org", "--added", "2026-01-02"],
    ):
        assert run_curate("registry", "add", *args, "-r", str(reg)).returncode == 0
    lines = [orjson.loads(x) for x in reg.read_bytes().splitlines()]
    assert [(e["kind"], e["value"]) for e in lines] == [
        ("email", "x@y.org"),
        ("owner", "alpha"),
        ("repo", "zed/last"),
    ]
    assert run_curate("registry", "validate", "-r", str(reg)).returncode == 0
    assert run_curate("registry", "remove", "owner", "ALPHA", "-r", str(reg)).returncode == 0
    listed = run_curate("registry", "list", "-r", str(reg), "--kind", "repo").stdout
    assert [orjson.loads(x)["value"] for x in listed.splitlines()] == ["zed/last"]
    check = run_curate(
        "registry", "check", '{"id": "1", "meta": {"repo": "ZED/last"}}', "-r", str(reg)
    )
    assert (check.returncode, check.stdout) == (1, b"opted out: repo zed/last (ref R3)\n")
    assert run_curate("registry", "check", "someone/else", "-r", str(reg)).returncode == 0


def test_csv_import(tmp_path):
    reg = tmp_path / "r.jsonl"
    csv = tmp_path / "requests.csv"
    csv.write_text("kind,value,ref,added\nrepo,A/B,T-1,2026-02-01\nowner,carol,T-2,2026-02-02\n")
    assert run_curate("registry", "import", str(csv), "-r", str(reg)).returncode == 0
    assert [orjson.loads(x)["ref"] for x in reg.read_bytes().splitlines()] == ["T-2", "T-1"]
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,value\nrepo,ok/one\nrepo,bad one\n")
    result = run_curate("registry", "import", str(bad), "-r", str(reg))
    assert result.returncode == 1
    assert f"{bad}:3: repo must look like owner/name, got 'bad one'".encode() in result.stderr
    assert len(reg.read_bytes().splitlines()) == 2  # nothing imported


def test_no_leak_anywhere_in_a_full_run(registry, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_bytes(jsonl(RECORDS))
    stages = f"  - optout: {{registry: {registry.name}}}\n  - filter: {{min_chars: 2}}\n"
    write_pipeline(tmp_path, inputs=["data.jsonl"], stages=stages, extra="on_error: quarantine\n")
    result = run_curate("run", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert orjson.loads(read_dataset(out)[0])["id"] == "r12"
    # rejects hold what the filter dropped, not what the opt-out dropped
    assert sorted(orjson.loads(x)["id"] for x in read_dataset(out, "rejects")) == [
        "r2",
        "r4",
        "r6",
        "r8",
    ]

    for path in out.rglob("*"):
        if path.is_file():
            data_bytes = path.read_bytes()
            if path.suffix == ".zst":
                data_bytes = decompress_all(data_bytes)
            assert b"PRIVATE-CONTENT" not in data_bytes, path
            assert b"Octo/Private" not in data_bytes and b"Jane.Doe" not in data_bytes, path
    assert b"PRIVATE-CONTENT" not in result.stderr + result.stdout
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["resources"] == [
        {
            "kind": "optout_registry",
            "stage": "optout",
            "path": "optout.jsonl",
            "sha256": hashlib.sha256(registry.read_bytes()).hexdigest(),
            "entries": 7,
        }
    ]
    assert run_curate("verify", str(out)).returncode == 0


def test_rewrite_a_released_version(registry, tmp_path):
    v1 = tmp_path / "v1"
    assert (
        run_curate(
            "write", str(v1), "--name", "corpus", "--dataset-version", "1", input=jsonl(RECORDS)
        ).returncode
        == 0
    )
    v2 = tmp_path / "v2"
    result = run_curate(
        "optout", "--registry", str(registry), "--rewrite", str(v1), "--out", str(v2)
    )
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(x)["id"] for x in read_dataset(v2)] == ["r2", "r4", "r6", "r8", "r12"]
    assert run_curate("verify", str(v2)).returncode == 0
    manifest = orjson.loads((v2 / "manifest.json").read_bytes())
    assert manifest["parent"]["version"] == "1"
    assert manifest["version"].startswith("1+optout.")
    report = orjson.loads(run_curate("diff", str(v1), str(v2), "--json").stdout)
    assert report["records"]["removed"] == 7 and report["records"]["added"] == 0
    assert report["opted_out"] == {"records": 7, "by_ref": {f"REQ-{i}": 1 for i in range(1, 8)}}


def test_rewrite_keeps_the_split_layout_of_the_release(registry, tmp_path):
    records = [
        {**r, "meta": {**r["meta"], "subset": "code" if int(r["id"][1:]) <= 6 else "docs"}}
        for r in RECORDS
    ]
    v1 = tmp_path / "v1"
    written = run_curate(
        "write",
        str(v1),
        "--split-by",
        "meta.subset",
        "--shard-records",
        "2",
        input=jsonl(records),
    )
    assert written.returncode == 0, written.stderr
    v2 = tmp_path / "v2"
    result = run_curate(
        "optout", "--registry", str(registry), "--rewrite", str(v1), "--out", str(v2)
    )
    assert result.returncode == 0, result.stderr
    manifest = orjson.loads((v2 / "manifest.json").read_bytes())
    assert [s["path"] for s in manifest["shards"]] == [
        "code/part-00000.jsonl.zst",
        "code/part-00001.jsonl.zst",
        "docs/part-00000.jsonl.zst",
    ]
    for folder, ids in (("code", ["r2", "r4", "r6"]), ("docs", ["r8", "r12"])):
        assert [orjson.loads(x)["id"] for x in read_dataset(v2, folder)] == ids
    assert manifest["pipeline"]["config"]["split_by"] == "meta.subset"
    assert run_curate("verify", str(v2)).returncode == 0
    # a second request later: the rewritten version is rewritten the same way
    v3 = tmp_path / "v3"
    assert (
        run_curate(
            "optout", "--registry", str(registry), "--rewrite", str(v2), "--out", str(v3)
        ).returncode
        == 0
    )
    paths = [s["path"] for s in orjson.loads((v3 / "manifest.json").read_bytes())["shards"]]
    assert paths == [s["path"] for s in manifest["shards"]]


def test_fixture_repo_optout_in_run(tmp_path):
    reg = tmp_path / "reg.jsonl"
    reg.write_bytes(jsonl([{"kind": "repo", "value": "mirror/pylib-copy", "added": "2026-11-01"}]))
    write_pipeline(
        tmp_path, inputs=[str(FIXTURES / "*.jsonl*")], stages="  - optout: {registry: reg.jsonl}\n"
    )
    assert run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path).returncode == 0
    log = [
        orjson.loads(x) for x in (tmp_path / "out" / "optout-log.jsonl").read_bytes().splitlines()
    ]
    assert len(log) == 24 and all(e["id"].startswith("mirror/") for e in log)


def test_a_batch_reports_the_first_kind_in_order_for_every_row():
    from curate.optout.matcher import Matcher
    from curate.optout.registry import check_entry

    text = "opted out text"
    digest = hashlib.sha256(text.encode()).hexdigest()
    entries = [
        check_entry({"kind": k, "value": v, "added": "2026-01-01", "ref": k})
        for k, v in [
            ("repo", "o/r"),
            ("owner", "acme"),
            ("path_glob", "x/y:secret/**"),
            ("url_prefix", "https://a.com/"),
            ("email", "me@a.com"),
            ("sha256", digest),
        ]
    ]
    records = [
        {"text": text, "meta": {"repo": "O/R", "email": "me@a.com"}},  # repo beats the rest
        {"text": text, "meta": {"repo": "acme/tool"}},  # owner beats sha256
        {"text": "t", "meta": {"repo": "x/y", "path": "secret/k.py"}},
        {"text": "t", "meta": {"repo": "x/y", "path": "public/k.py"}},
        {"text": "t", "meta": {"url": "https://a.com/p", "email": " ME@a.com "}},
        {"text": "t", "meta": {"email": " ME@a.com "}},
        {"text": text, "meta": "not an object"},
        {"text": text, "meta": {"repo": 7}},
        {"text": 7, "meta": {"repo": "line\nbreak"}},
        {"meta": None},
    ]
    hits = Matcher(entries).match_batch(records)
    assert {i: m.kind for i, m in hits.items()} == {
        0: "repo",
        1: "owner",
        2: "path_glob",
        4: "url_prefix",
        5: "email",
        6: "sha256",
        7: "sha256",
    }
    assert [Matcher(entries).match(r) is not None for r in records] == [
        i in hits for i in range(len(records))
    ]


def test_repository_verdicts_are_memoised_per_string_not_per_lowercase():
    from curate.optout.matcher import Matcher
    from curate.optout.registry import check_entry

    entries = [
        check_entry({"kind": "repo", "value": "o/r", "added": "2026-01-01"}),
        check_entry({"kind": "path_glob", "value": "x/y:secret/**", "added": "2026-01-01"}),
    ]
    matcher = Matcher(entries)
    batch = [
        {"meta": {"repo": "O/R"}},
        {"meta": {"repo": "x/Y", "path": "secret/a"}},
        {"meta": {"repo": "x/Y", "path": "public/a"}},
        {"meta": {"repo": "o/r"}},
    ]
    for _ in range(2):  # the second time from the memo
        hits = matcher.match_batch(batch)
        assert {i: m.kind for i, m in hits.items()} == {0: "repo", 1: "path_glob", 3: "repo"}
