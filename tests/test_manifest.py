"""Manifests: byte-identical rebuilds, verify, diff, guards, schema, reading shards back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import orjson
import pytest

from curate.versions.manifest import MANIFEST
from tests.conftest import FIXTURES, ROOT, curate_env, run_curate
from tests.test_run import write_pipeline

SCHEMA = json.loads((ROOT / "curate" / "schemas" / "manifest.schema.json").read_text())
STAGES = "  - filter: {min_chars: 200}\n"


def reproducible_env() -> dict:
    env = curate_env()
    env["SOURCE_DATE_EPOCH"] = "1767225600"
    return env


def build(folder: Path, workers: int = 1, out: str = "out", extra: str = "", inputs=None) -> Path:
    """Build a version in `folder` from a copy of the fixtures (relative paths, as users write)."""
    if not (folder / "fixtures").exists():
        (folder / "fixtures").mkdir()
        for f in FIXTURES.glob("*.jsonl*"):
            shutil.copy(f, folder / "fixtures" / f.name)
    write_pipeline(
        folder,
        inputs=inputs or ["fixtures/*.jsonl*"],
        stages=STAGES,
        chunk="16KB",
        out=out,
        extra=extra,
    )
    result = run_curate(
        "run", "pipeline.yaml", "-q", "--workers", str(workers), cwd=folder, env=reproducible_env()
    )
    assert result.returncode == 0, result.stderr
    return folder / out


def all_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("run.json", "report.html")
    }


def test_rebuild_is_byte_identical_across_runs_and_worker_counts(tmp_path):
    first = all_files(build(tmp_path, workers=1))
    shutil.rmtree(tmp_path / "out")
    second = all_files(build(tmp_path, workers=2))
    assert first == second
    assert {"manifest.json", "README.md", "part-00000.jsonl.zst"} <= set(first)
    manifest = orjson.loads(first["manifest.json"])
    assert manifest["created"] == "2026-01-01T00:00:00Z"
    assert (
        b"/work/" not in first["manifest.json"]
        and str(tmp_path).encode() not in first["manifest.json"]
    )


def test_run_json_holds_the_timings(tmp_path):
    out = build(tmp_path)
    info = orjson.loads((out / "run.json").read_bytes())
    assert [s["stage"] for s in info["stages"]] == ["filter"]
    assert "seconds" in info["stages"][0]
    assert "seconds" not in (out / MANIFEST).read_text()


def test_manifest_content_and_schema(tmp_path):
    out = build(tmp_path)
    manifest = orjson.loads((out / MANIFEST).read_bytes())
    jsonschema.validate(manifest, SCHEMA)
    assert [i["path"] for i in manifest["inputs"]] == [
        "fixtures/docs.jsonl",
        "fixtures/licenses.jsonl.gz",
        "fixtures/stdlib.jsonl.zst",
    ]
    assert [i["records"] for i in manifest["inputs"]] == [79, 14, 265]
    assert manifest["stages"] == [
        {
            "stage": "filter",
            "records_in": 358,
            "records_out": 345,
            "dropped": {"too_short": 13},
            "errors": 0,
        }
    ]
    assert manifest["totals"]["records_out"] == sum(s["records"] for s in manifest["shards"]) == 345
    assert manifest["composition"]["records"] == 345
    assert manifest["composition"]["subset"] == {}
    assert len(manifest["pipeline"]["sha256"]) == 64


def test_write_makes_a_valid_manifest_too(tmp_path):
    result = run_curate(
        "write", str(tmp_path / "w"), "fixtures/docs.jsonl", "--shard-records", "30"
    )
    assert result.returncode == 0, result.stderr
    manifest = orjson.loads((tmp_path / "w" / MANIFEST).read_bytes())
    jsonschema.validate(manifest, SCHEMA)
    assert [s["records"] for s in manifest["shards"]] == [30, 30, 19]
    assert run_curate("verify", str(tmp_path / "w")).returncode == 0


@pytest.mark.parametrize(
    "damage, message",
    [
        ("flip", "curate verify: altered: part-00000.jsonl.zst (sha256 "),
        ("truncate", "curate verify: truncated: part-00000.jsonl.zst ("),
        (
            "delete",
            "curate verify: missing: part-00000.jsonl.zst (listed in the manifest, not on disk)",
        ),
        ("stray", "curate verify: extra: stray.txt (not in the manifest)"),
    ],
)
def test_verify_catches_damage(tmp_path, damage, message):
    out = build(tmp_path)
    copy = tmp_path / "copied"
    shutil.copytree(out, copy)  # verify works on a folder copied elsewhere
    ok = run_curate("verify", str(copy))
    assert ok.returncode == 0 and b"ok" in ok.stdout
    shard = copy / "part-00000.jsonl.zst"
    if damage == "flip":
        data = bytearray(shard.read_bytes())
        data[len(data) // 2] ^= 0x01
        shard.write_bytes(bytes(data))
    elif damage == "truncate":
        shard.write_bytes(shard.read_bytes()[:1000])
    elif damage == "delete":
        shard.unlink()
    else:
        (copy / "stray.txt").write_text("hello")
    result = run_curate("verify", str(copy))
    assert result.returncode == 1
    assert result.stderr.decode().startswith(message)
    report = orjson.loads(run_curate("verify", "--json", str(copy)).stdout)
    assert report["ok"] is False
    assert [p["problem"] for p in report["problems"]] == [
        {"flip": "altered", "truncate": "truncated", "delete": "missing", "stray": "extra"}[damage]
    ]


def test_diff_reports_exactly_the_changed_records(tmp_path):
    base = [orjson.loads(line) for line in (FIXTURES / "docs.jsonl").read_bytes().splitlines()]
    a_records = base
    b_records = [
        r for r in base if r["id"] not in ("python/docs/topics/assert", "python/docs/topics/if")
    ]
    b_records = [
        dict(r, text=r["text"] + " (edited)") if r["id"] == "python/docs/topics/while" else r
        for r in b_records
    ]
    b_records.append({"id": "new/one", "text": "x" * 300, "meta": {}})
    for name, records in (("a.jsonl", a_records), ("b.jsonl", b_records)):
        (tmp_path / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    build(tmp_path, out="va", inputs=["a.jsonl"])
    build(tmp_path, out="vb", inputs=["b.jsonl"])
    result = run_curate("diff", str(tmp_path / "va"), str(tmp_path / "vb"), "--ids", "--json")
    assert result.returncode == 1
    report = orjson.loads(result.stdout)
    kept_a = {r["id"] for r in a_records if len(r["text"]) >= 200}
    assert report["ids"] == {
        "added": ["new/one"],
        "removed": sorted({"python/docs/topics/assert", "python/docs/topics/if"} & kept_a),
        "changed": ["python/docs/topics/while"],
        "duplicate_in_a": [],
        "duplicate_in_b": [],
    }
    assert report["records"]["added"] == 1
    assert report["config"]["config_keys_changed"] == ["inputs", "output"]
    same = run_curate("diff", str(tmp_path / "va"), str(tmp_path / "va"))
    assert same.returncode == 0
    assert b"0 added, 0 removed, 0 changed" in same.stdout


def test_diff_counts_duplicate_ids_apart(tmp_path):
    # ids should be unique in a dataset; when they are not, every record is accounted for once
    a = [("x", "one"), ("x", "two"), ("y", "same"), ("z", "gone")]
    b = [("x", "one!"), ("y", "same"), ("y", "same"), ("w", "new")]
    for name, rows in (("a", a), ("b", b)):
        data = b"".join(orjson.dumps({"id": i, "text": t}) + b"\n" for i, t in rows)
        assert run_curate("write", str(tmp_path / name), input=data).returncode == 0
    result = run_curate("diff", str(tmp_path / "a"), str(tmp_path / "b"), "--ids")
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        "a 0 -> b 0",
        "records: 4 -> 4: 1 added, 1 removed, 1 changed, 1 unchanged",
        "duplicate ids: 1 extra record in A, 1 in B (each id compared by its first record)",
        "added w",
        "removed z",
        "changed x",
        "duplicate in A x",
        "duplicate in B y",
    ]


def test_diff_with_tiny_buckets_matches(tmp_path):
    from curate.versions.diff import diff_records

    build(tmp_path, out="va")
    (tmp_path / "b.jsonl").write_bytes(
        b"".join(line + b"\n" for line in (FIXTURES / "docs.jsonl").read_bytes().splitlines()[5:])
    )
    build(tmp_path, out="vb", inputs=[str(tmp_path / "b.jsonl")])
    big = diff_records(tmp_path / "va", tmp_path / "vb", want_ids=True)
    small = diff_records(tmp_path / "va", tmp_path / "vb", want_ids=True, bucket_records=7)
    assert (big.added, big.removed, big.changed) == (small.added, small.removed, small.changed)
    assert big.ids == small.ids


def test_guard_fails_the_run_after_writing_everything(tmp_path):
    extra = "expect:\n  min_records: 1000\n  max_drop_rate: {filter: 0.01}\n"
    write_pipeline(tmp_path, inputs=[str(FIXTURES / "*.jsonl*")], stages=STAGES, extra=extra)
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "curate: error: guard failed: expect.min_records: 345 records < 1,000; "
        "expect.max_drop_rate.filter: dropped 3.6% > 1.0%\n"
    )
    assert (tmp_path / "out" / MANIFEST).exists()
    assert run_curate("verify", str(tmp_path / "out")).returncode == 0


def test_shards_read_back_with_pyarrow(tmp_path):
    # the README's snippet, as written there
    import glob

    import pyarrow as pa
    import pyarrow.json as pj

    out = build(tmp_path)
    tables = [pj.read_json(p) for p in sorted(glob.glob(f"{out}/part-*.jsonl.zst"))]
    table = pa.concat_tables(tables, promote_options="default")  # shards' meta keys differ
    assert table.num_rows == 345
    assert table.column_names == ["id", "text", "meta"]


def test_manifest_show(tmp_path):
    out = build(tmp_path)
    result = run_curate("manifest", "show", str(out))
    assert result.returncode == 0
    assert b"records: 358 in, 345 out, 13 rejected, 0 bad lines" in result.stdout


def test_dataset_card(tmp_path):
    out = build(tmp_path)
    card = (out / "README.md").read_text()
    # the fixtures' CPython records carry meta.license (no license stage needed to count it)
    assert card.startswith("---\npretty_name: t 1\nlicense: python-2.0\nsize_categories:\n- n<1K\n")
    assert "path: part-*.jsonl.zst" in card


def _card_manifest(composition: dict) -> dict:
    return {
        "name": "c",
        "version": "1",
        "curate_version": "0",
        "pipeline": {"sha256": ""},
        "composition": composition,
        "shards": [{"path": "part-00000.jsonl.zst"}],
        "stages": [],
    }


def _row(records: int, size: int, total: int, total_bytes: int) -> dict:
    return {
        "records": records,
        "bytes": size,
        "share_records_pct": round(100 * records / total, 4),
        "share_bytes_pct": round(100 * size / total_bytes, 4),
    }


def test_the_card_states_the_licenses_the_records_carry():
    from curate.versions.card import render_card

    comp = {
        "records": 10,
        "bytes": 100,
        "license": {
            "MIT": _row(5, 50, 10, 100),
            "GPL-2.0-or-later WITH Classpath-exception-2.0": _row(2, 20, 10, 100),
            "Apache-2.0 OR MIT": _row(2, 20, 10, 100),
            "unknown": _row(1, 10, 10, 100),
        },
    }
    card = render_card(_card_manifest(comp))
    assert "license:\n- apache-2.0\n- gpl-2.0-or-later\n- mit\n" in card
    one = render_card(
        _card_manifest({"records": 1, "bytes": 1, "license": {"MIT": _row(1, 1, 1, 1)}})
    )
    assert "\nlicense: mit\n" in one


def test_the_cards_language_table_accounts_for_every_record():
    from curate.versions.card import render_card

    comp = {"records": 10, "bytes": 1000, "language": {"Python": _row(4, 600, 10, 1000)}}
    card = render_card(_card_manifest(comp))
    assert (
        "| language | records | % records | bytes | % bytes |\n|---|---:|---:|---:|---:|\n"
        "| Python | 4 | 40.00 | 600 | 60.00 |\n"
        "| (no language) | 6 | 60.00 | 400 | 40.00 |\n"
    ) in card
