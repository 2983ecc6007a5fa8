"""Exact dedup: keep-first, normalisation, key fields, spilling, pipes vs runs, across versions."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.conftest import FIXTURES, run_curate, run_shell
from tests.test_run import read_dataset, write_pipeline

RECORDS = [
    {"id": "a", "text": "Hello  world", "meta": {"url": "u1", "stars": 1}},
    {"id": "b", "text": "Hello world", "meta": {"url": "u2", "stars": 5}},
    {"id": "c", "text": "hello WORLD ", "meta": {"url": "u1", "stars": 9}},
    {"id": "d", "text": "Hello  world", "meta": {"url": "u3", "stars": 2}},
    {"id": "e", "text": "\uff28ello world", "meta": {"url": "u4"}},  # fullwidth H: NFKC -> H
    {"id": "f", "text": "something else", "meta": {"url": "u5", "stars": 3}},
]


def jsonl(records) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def ids_of(data: bytes) -> list[str]:
    return [orjson.loads(line)["id"] for line in data.splitlines()]


@pytest.mark.parametrize(
    "args, kept",
    [
        ([], ["a", "b", "c", "e", "f"]),
        (["--normalize", "whitespace"], ["a", "c", "e", "f"]),
        (["--normalize", "lower"], ["a", "f"]),
        (["--key", "meta.url"], ["a", "b", "d", "e", "f"]),
    ],
)
def test_keep_first_per_normalisation_and_key(args, kept):
    result = run_curate("dedup", "exact", *args, input=jsonl(RECORDS))
    assert result.returncode == 0, result.stderr
    assert ids_of(result.stdout) == kept


def test_tiny_memory_spills_and_gives_the_same_bytes():
    data = b"".join((FIXTURES / n).read_bytes() for n in ["docs.jsonl", "docs.jsonl"])
    data += b'{"id": "spaced",   "text": "x"}\n'  # raw formatting must survive the spool
    normal = run_curate("dedup", "exact", input=data)
    spilled = run_curate("dedup", "exact", "--memory", "1KB", input=data)
    assert normal.returncode == spilled.returncode == 0
    assert normal.stdout == spilled.stdout
    assert len(normal.stdout.splitlines()) == 79  # 78 distinct help topics + 1
    assert b'{"id": "spaced",   "text": "x"}' in spilled.stdout


def test_missing_key_field_is_an_error_with_its_line():
    result = run_curate("dedup", "exact", "--key", "meta.stars", input=jsonl(RECORDS))
    assert result.returncode == 1
    assert result.stderr == b"curate: error: <stdin>:5: missing key field 'meta.stars'\n"


def dedup_pipeline(folder: Path, stage: str, out: str = "out", inputs=None, chunk="16KB") -> Path:
    write_pipeline(
        folder,
        inputs=inputs or [str(FIXTURES / "*.jsonl*")],
        stages=f"  - {stage}\n",
        chunk=chunk,
        out=out,
    )
    return folder / "pipeline.yaml"


def test_pipe_and_run_with_1_and_2_workers_agree(tmp_path):
    piped = run_shell("curate cat fixtures/*.jsonl* | curate dedup exact --normalize whitespace")
    assert piped.returncode == 0
    outputs = []
    for workers, memory in ((1, "25%"), (2, "25%"), (2, "1KB")):
        dedup_pipeline(
            tmp_path,
            f"dedup_exact: {{normalize: whitespace, memory: {memory}}}",
            out=f"out{workers}{memory}".replace("%", ""),
        )
        result = run_curate("run", "pipeline.yaml", "-q", "--workers", str(workers), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(
            b"\n".join(read_dataset(tmp_path / f"out{workers}{memory}".replace("%", ""))) + b"\n"
        )
    assert outputs[0] == outputs[1] == outputs[2] == piped.stdout


def test_rejects_name_the_kept_copy(tmp_path):
    (tmp_path / "data.jsonl").write_bytes(jsonl(RECORDS))
    dedup_pipeline(tmp_path, "dedup_exact: {normalize: lower}", inputs=["data.jsonl"])
    assert run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path).returncode == 0
    rejects = [orjson.loads(r) for r in read_dataset(tmp_path / "out", "rejects")]
    assert [(r["id"], r["meta"]["rejected"]) for r in rejects] == [
        (rid, {"stage": "dedup_exact", "reason": "duplicate", "duplicate_of": "a"})
        for rid in ["b", "c", "d", "e"]
    ]


def test_keep_prefer_ranks_copies_in_run(tmp_path):
    (tmp_path / "data.jsonl").write_bytes(jsonl(RECORDS))
    dedup_pipeline(
        tmp_path,
        "dedup_exact: {normalize: lower, keep: {prefer: ['-meta.stars', 'id']}}",
        inputs=["data.jsonl"],
    )
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(r)["id"] for r in read_dataset(tmp_path / "out")] == ["c", "f"]
    rejects = {
        orjson.loads(r)["id"]: orjson.loads(r)["meta"]["rejected"]["duplicate_of"]
        for r in read_dataset(tmp_path / "out", "rejects")
    }
    assert rejects == {"a": "c", "b": "c", "d": "c", "e": "c"}


def test_against_an_earlier_version_drops_exactly_its_records(tmp_path):
    old = [{"id": f"old{i}", "text": f"document number {i}"} for i in range(50)]
    new = [{"id": f"new{i}", "text": f"document number {i}"} for i in range(40, 60)]
    (tmp_path / "old.jsonl").write_bytes(jsonl(old))
    (tmp_path / "new.jsonl").write_bytes(jsonl(new))
    dedup_pipeline(tmp_path, "dedup_exact: {}", out="v1", inputs=["old.jsonl"])
    assert run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "v1" / "indexes" / "0-dedup_exact.dedup-exact.npz").exists()
    assert run_curate("verify", str(tmp_path / "v1")).returncode == 0
    dedup_pipeline(tmp_path, "dedup_exact: {against: [v1]}", out="v2", inputs=["new.jsonl"])
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(r)["id"] for r in read_dataset(tmp_path / "v2")] == [
        f"new{i}" for i in range(50, 60)
    ]
    rejected = [orjson.loads(r) for r in read_dataset(tmp_path / "v2", "rejects")]
    assert [r["meta"]["rejected"]["duplicate_of"] for r in rejected] == [
        f"t@1:old{i}" for i in range(40, 50)
    ]
    manifest = orjson.loads((tmp_path / "v2" / "manifest.json").read_bytes())
    assert manifest["resources"][0]["kind"] == "dedup_index"
    assert manifest["resources"][0]["entries"] == 50
    # the same through a pipe, with the index file
    piped = run_curate("dedup", "exact", "--against", str(tmp_path / "v1"), input=jsonl(new))
    assert ids_of(piped.stdout) == [f"new{i}" for i in range(50, 60)]


def test_pipe_index_then_against(tmp_path):
    index = tmp_path / "v1.idx"
    first = run_curate("dedup", "exact", "--index", str(index), input=jsonl(RECORDS))
    assert first.returncode == 0
    second = run_curate(
        "dedup",
        "exact",
        "--against",
        str(index),
        input=jsonl(RECORDS + [{"id": "z", "text": "brand new"}]),
    )
    assert ids_of(second.stdout) == ["z"]
