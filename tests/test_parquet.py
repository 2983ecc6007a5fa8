"""Parquet input: rows read as the JSON objects stages see, streamed, and planned as units."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import subprocess
import sys

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import BIN, curate_env, run_curate, run_shell


def _nested(path, rows: int = 6, row_group_size: int = 2) -> None:
    table = pa.Table.from_pylist(
        [
            {
                "id": f"r{i}",
                "text": f"row number {i} says hello",
                "meta": {
                    "repo": f"o/r{i % 2}",
                    "stars": i if i % 3 else None,
                    "tags": ["a"] * (i % 4),
                },
                "when": dt.datetime(2024, 1, 2, 3, 4, i % 60),
                "raw": b"\x00\xff",
                "price": decimal.Decimal("1.50"),
                "missing": None,
            }
            for i in range(rows)
        ]
    )
    pq.write_table(table, path, row_group_size=row_group_size)


def test_nested_and_null_columns_become_the_json_a_stage_sees(tmp_path):
    _nested(tmp_path / "data.parquet", rows=2)
    done = run_curate("cat", str(tmp_path / "data.parquet"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == [
        '{"id":"r0","text":"row number 0 says hello","meta":{"repo":"o/r0","stars":null,'
        '"tags":[]},"when":"2024-01-02T03:04:00","raw":"AP8=","price":"1.50","missing":null}',
        '{"id":"r1","text":"row number 1 says hello","meta":{"repo":"o/r1","stars":1,'
        '"tags":["a"]},"when":"2024-01-02T03:04:01","raw":"AP8=","price":"1.50","missing":null}',
    ]


def test_parquet_is_found_by_its_magic_bytes_whatever_its_name(tmp_path):
    _nested(tmp_path / "data.bin")
    done = run_curate("count", str(tmp_path / "data.bin"))
    assert (done.returncode, done.stdout) == (0, b"6\n")


def test_parquet_on_a_pipe_is_a_one_line_error(tmp_path):
    _nested(tmp_path / "data.parquet")
    done = run_shell(f"cat {tmp_path / 'data.parquet'} | curate count")
    assert done.returncode == 1
    assert done.stderr.decode() == (
        "curate: error: <stdin>: Parquet cannot be read from a pipe (it ends with its footer): "
        "give the file's name\n"
    )


def test_a_damaged_parquet_file_is_a_one_line_error(tmp_path):
    _nested(tmp_path / "data.parquet")
    data = bytearray((tmp_path / "data.parquet").read_bytes())
    data[-12:-8] = b"\xff\xff\xff\x7f"  # the footer's length
    (tmp_path / "bad.parquet").write_bytes(bytes(data))
    done = run_curate("count", str(tmp_path / "bad.parquet"))
    assert done.returncode == 1
    err = done.stderr.decode()
    assert err.startswith(f"curate: error: {tmp_path / 'bad.parquet'}: invalid Parquet: ")
    assert err.count("\n") == 1


def test_a_run_plans_row_groups_as_units_and_keeps_the_pipes_records(tmp_path):
    _nested(tmp_path / "data.parquet", rows=600, row_group_size=20)
    outputs = {}
    for workers in (1, 3):
        folder = tmp_path / f"w{workers}"
        folder.mkdir()
        (folder / "p.yaml").write_text(
            f"name: pq\nversion: v1\ninputs: [{tmp_path / 'data.parquet'}]\n"
            "stages:\n  - filter: {where_not: ['meta.repo=o/r1']}\n"
            f"output: {{dir: out}}\nexecutor: {{workers: {workers}, chunk_size: 4KB}}\n"
        )
        done = run_curate("run", str(folder / "p.yaml"), "-q")
        assert done.returncode == 0, done.stderr
        outputs[workers] = sorted(
            (p.name, p.read_bytes()) for p in (folder / "out").glob("part-*.jsonl.zst")
        )
    assert outputs[1] == outputs[3]
    assert len(outputs[1]) > 3  # several units
    piped = run_shell(
        f"curate filter --where-not meta.repo=o/r1 {tmp_path / 'data.parquet'}", cwd=tmp_path
    )
    assert run_curate("cat", str(tmp_path / "w1" / "out")).stdout == piped.stdout
    manifest = orjson.loads((tmp_path / "w1" / "out" / "manifest.json").read_bytes())
    assert manifest["inputs"][0]["records"] == 600


def test_a_parquet_file_streams_in_bounded_memory(tmp_path):
    """Counting a file 2.5 times as large (~140 MB more) takes about the same peak memory.

    Both files are past the ~16 row groups where the reader's fixed overhead (interpreter,
    Arrow's allocator arenas, read-ahead) levels off: below it, peak memory still grows by
    ~20 MB, which is no growth with the file's size."""

    def peak_kib(path) -> int:
        code = (
            "import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(BIN / "curate"), "count", str(path)],
            capture_output=True,
            env=curate_env(),
            check=True,
        )
        return int(out.stdout)

    def write(path, groups: int) -> int:
        schema = pa.schema([("id", pa.string()), ("text", pa.string())])
        with pq.ParquetWriter(path, schema) as writer:
            for g in range(groups):  # ~6 MB of incompressible text a row group
                texts = [os.urandom(3000).hex() for _ in range(1000)]
                ids = [f"{g}-{i}" for i in range(1000)]
                writer.write_table(pa.table({"id": ids, "text": texts}), row_group_size=1000)
        return path.stat().st_size // 1024

    half = write(tmp_path / "half.parquet", 16)
    whole = write(tmp_path / "whole.parquet", 40)
    assert whole - half > 130_000
    # the least of three runs each: a single peak varies with what the machine runs meanwhile
    peaks = {
        name: min(peak_kib(tmp_path / name) for _ in range(3))
        for name in ("whole.parquet", "half.parquet")
    }
    grown = peaks["whole.parquet"] - peaks["half.parquet"]
    assert grown < (whole - half) // 4, (grown, whole - half)


# ---- Parquet output -------------------------------------------------------------------------


def _records(n: int = 40) -> list[dict]:
    return [
        {
            "id": f"d{i}",
            "text": f"héllo wörld {i} " * (i % 5 + 1),
            "meta": {"subset": ["code", "text"][i % 2], "stars": i * 1000, "score": i / 8},
        }
        for i in range(n)
    ]


def test_jsonl_to_parquet_to_jsonl_gives_the_same_records(tmp_path):
    data = b"".join(orjson.dumps(r) + b"\n" for r in _records())
    (tmp_path / "in.jsonl").write_bytes(data)
    done = run_curate(
        "write",
        str(tmp_path / "v"),
        str(tmp_path / "in.jsonl"),
        "--format",
        "parquet",
        "--shard-records",
        "15",
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == [
        "README.md",
        "manifest.json",
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
        "report.html",
    ]
    assert run_curate("cat", str(tmp_path / "v")).stdout == data
    assert run_curate("verify", str(tmp_path / "v")).returncode == 0
    manifest = orjson.loads((tmp_path / "v" / "manifest.json").read_bytes())
    assert [s["records"] for s in manifest["shards"]] == [15, 15, 10]
    assert pq.read_table(tmp_path / "v" / "part-00002.parquet").num_rows == 10
    card = (tmp_path / "v" / "README.md").read_text()
    assert "    path: part-*.parquet\n" in card


def test_a_field_with_two_types_is_a_one_line_error_and_leaves_no_shards(tmp_path):
    data = b'{"id":"a","text":"x","meta":{"n":1}}\n{"id":"b","text":"y","meta":{"n":"one"}}\n'
    done = run_curate("write", str(tmp_path / "v"), "--format", "parquet", input=data)
    assert done.returncode == 1
    assert done.stderr.decode().startswith("curate: error: output format parquet: field 'meta': ")
    assert done.stderr.decode().count("\n") == 1
    assert not list((tmp_path / "v").glob("*part-*"))


def _parquet_run(folder, corpus, workers: int):
    folder.mkdir()
    (folder / "p.yaml").write_text(
        f"name: pq\nversion: v1\ninputs: [{corpus}]\n"
        "stages:\n  - redact: {}\n  - dedup_exact: {}\n"
        "output: {dir: out, format: parquet, split_by: meta.subset, rejects: true,"
        " shard_records: 7}\n"
        f"executor: {{workers: {workers}, chunk_size: 1KB}}\n"
    )
    env = curate_env() | {"SOURCE_DATE_EPOCH": "1767225600"}
    done = run_curate("run", str(folder / "p.yaml"), "-q", env=env)
    assert done.returncode == 0, done.stderr
    return folder / "out"


def test_a_parquet_run_has_one_schema_and_the_same_bytes_for_any_worker_count(tmp_path):
    records = _records(60)
    records[7]["text"] += " mail me: jane.roe@example.org"  # only this one gets meta.pii
    records[9]["text"] += " write to john.doe@corp-mail.com"
    records[11] = dict(records[3], id="d11")  # an exact duplicate
    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    outs = [_parquet_run(tmp_path / f"w{w}-{n}", corpus, w) for n, w in enumerate((1, 3, 3))]
    files = [
        {
            p.relative_to(o).as_posix(): p.read_bytes()
            for p in o.rglob("*")
            if p.is_file() and p.name not in ("run.json", "report.html")
        }
        for o in outs
    ]
    assert files[0] == files[1] == files[2]  # any worker count, and a rebuild
    shards = sorted(outs[0].glob("*/part-*.parquet"))
    assert len(shards) > 4
    schemas = {pq.read_schema(p) for p in shards}
    assert len(schemas) == 1
    (schema,) = schemas
    assert schema.field("meta").type.get_field_index("pii") >= 0
    assert sorted(outs[0].glob("rejects/part-*")) == [outs[0] / "rejects/part-00000.jsonl.zst"]
    manifest = orjson.loads((outs[0] / "manifest.json").read_bytes())
    assert sum(s["records"] for s in manifest["shards"]) == 59
    assert run_curate("verify", str(outs[0])).returncode == 0
    back = [orjson.loads(line) for line in run_curate("cat", str(outs[0])).stdout.splitlines()]
    assert len(back) == 59 and all("pii" in r["meta"] for r in back)  # null where none


def test_a_parquet_version_loads_with_datasets_every_config(tmp_path):
    import datasets

    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _records(50)))
    out = _parquet_run(tmp_path / "job", corpus, 2)
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    cache = str(tmp_path / "hf")
    assert datasets.load_dataset(str(out), split="train", cache_dir=cache).num_rows == 50
    for folder in ("code", "text"):
        want = sum(s["records"] for s in manifest["shards"] if s["path"].startswith(f"{folder}/"))
        got = datasets.load_dataset(str(out), folder, split="train", cache_dir=cache)
        assert (got.num_rows, want) == (25, 25)


def test_parquet_conversion_reads_every_frame_of_a_shard(tmp_path, monkeypatch):
    """In process: shards of many small frames convert whole (one frame holds 2 KB here)."""
    import curate.io.writer as writer
    from curate.io.policy import ErrorPolicy, OnError
    from curate.io.sources import Source
    from curate.versions.write import write_dataset

    monkeypatch.setattr(writer, "FRAME_BYTES", 2000)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _records(200)))
    manifest = write_dataset(
        tmp_path / "v", [Source(str(path), str(path))], ErrorPolicy(OnError.fail), format="parquet"
    )
    assert [s["records"] for s in manifest["shards"]] == [200]
    assert pq.read_table(tmp_path / "v" / "part-00000.parquet").num_rows == 200
