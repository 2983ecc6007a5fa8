"""`curate diff A B`: what changed between two dataset versions, in bounded memory.

Records are matched by id. Each side is streamed once into bucket files on disk, keyed by a
hash of the id, holding (id hash, content hash, id); buckets are then compared one at a time,
so memory holds one bucket, whatever the size of the versions.
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from curate.core.errors import InputError
from curate.core.fields import Fields
from curate.core.records import get_path
from curate.io.dataset_files import shard_paths
from curate.io.policy import ErrorPolicy
from curate.io.reader import read_batches
from curate.io.sources import Source
from curate.versions.composition import DIMENSIONS
from curate.versions.manifest import load_manifest

_ABSENT = object()
BUCKET_RECORDS = 2_000_000  # records per bucket: ~300 MB of dicts at most
_HEADER = struct.Struct("<16sH")


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class DiffResult:
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    # ids a version holds more than once: each is compared by its first record, and the
    # other copies are counted here instead of as added or removed
    duplicates: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    ids: dict[str, list[str]] = field(
        default_factory=lambda: {
            "added": [],
            "removed": [],
            "changed": [],
            "duplicate_in_a": [],
            "duplicate_in_b": [],
        }
    )


def _sources(folder: Path, manifest: dict) -> list[Source]:
    return [Source(str(p), str(p)) for p in shard_paths(folder, manifest)]


def _content_key(record: dict, fields: Fields) -> bytes:
    text = get_path(record, fields.text_parts)
    return _digest(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else b"\x00")


def _spill(folder: Path, manifest: dict, nbuckets: int, tmp: Path, side: str) -> list[Path]:
    fields = Fields(**manifest.get("fields", {"id": "id", "text": "text"}))
    paths = [tmp / f"{side}-{i:05d}.bin" for i in range(nbuckets)]
    files = [open(p, "wb") for p in paths]  # noqa: SIM115
    try:
        for batch in read_batches(_sources(folder, manifest), ErrorPolicy()):
            for record, lineno in zip(batch.records, batch.linenos):
                rid = get_path(record, fields.id_parts)
                if rid is None:
                    raise InputError(batch.source, lineno, f"missing id field {fields.id!r}")
                rid_b = str(rid).encode("utf-8", "surrogatepass")
                key = _digest(rid_b)
                bucket = int.from_bytes(key[:4], "little") % nbuckets
                files[bucket].write(
                    _HEADER.pack(key, len(rid_b)) + rid_b + _content_key(record, fields)
                )
    finally:
        for fh in files:
            fh.close()
    return paths


def _read_bucket(path: Path) -> Iterator[tuple[bytes, str, bytes]]:
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        key, n = _HEADER.unpack_from(data, pos)
        pos += _HEADER.size
        rid = data[pos : pos + n].decode("utf-8", "surrogatepass")
        pos += n
        content = data[pos : pos + 16]
        pos += 16
        yield key, rid, content


def diff_records(
    a: Path, b: Path, want_ids: bool = False, bucket_records: int = BUCKET_RECORDS
) -> DiffResult:
    folder_a, man_a = load_manifest(a)
    folder_b, man_b = load_manifest(b)
    total = max(
        man_a.get("totals", {}).get("records_out", 0), man_b.get("totals", {}).get("records_out", 0)
    )
    nbuckets = max(1, -(-total // bucket_records))
    result = DiffResult()
    with tempfile.TemporaryDirectory(prefix="curate-diff-") as tmpname:
        tmp = Path(tmpname)
        paths_a = _spill(folder_a, man_a, nbuckets, tmp, "a")
        paths_b = _spill(folder_b, man_b, nbuckets, tmp, "b")
        for pa, pb in zip(paths_a, paths_b):
            # id -> (id, content) of A's first record; None once B's first record is seen
            left: dict[bytes, tuple[str, bytes] | None] = {}
            for key, rid, content in _read_bucket(pa):
                if key in left:
                    result.duplicates["a"] += 1
                    if want_ids:
                        result.ids["duplicate_in_a"].append(rid)
                    continue
                left[key] = (rid, content)
            pa.unlink()
            for key, rid, content in _read_bucket(pb):
                old = left.get(key, _ABSENT)
                if old is None:  # B holds this id again
                    result.duplicates["b"] += 1
                    if want_ids:
                        result.ids["duplicate_in_b"].append(rid)
                    continue
                left[key] = None
                if old is _ABSENT:
                    result.added += 1
                    if want_ids:
                        result.ids["added"].append(rid)
                elif old[1] != content:
                    result.changed += 1
                    if want_ids:
                        result.ids["changed"].append(rid)
                else:
                    result.unchanged += 1
            gone = [entry for entry in left.values() if entry is not None]
            result.removed += len(gone)
            if want_ids:
                result.ids["removed"].extend(rid for rid, _ in gone)
            pb.unlink()
    for key in result.ids:
        result.ids[key].sort()
    return result


def composition_delta(man_a: dict, man_b: dict) -> dict:
    out: dict = {}
    comp_a, comp_b = man_a.get("composition", {}), man_b.get("composition", {})
    for dim in DIMENSIONS:
        rows_a, rows_b = comp_a.get(dim) or {}, comp_b.get(dim) or {}
        delta = {}
        for value in sorted(set(rows_a) | set(rows_b)):
            ra = rows_a.get(value, {"records": 0, "bytes": 0})
            rb = rows_b.get(value, {"records": 0, "bytes": 0})
            if ra["records"] != rb["records"] or ra["bytes"] != rb["bytes"]:
                delta[value] = {
                    "records": rb["records"] - ra["records"],
                    "bytes": rb["bytes"] - ra["bytes"],
                }
        out[dim] = delta
    return out


def config_changes(man_a: dict, man_b: dict) -> dict:
    pa, pb = man_a.get("pipeline", {}), man_b.get("pipeline", {})
    ca, cb = pa.get("config") or {}, pb.get("config") or {}
    changed_keys = sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
    res_a = {(r["kind"], r["path"]): r for r in man_a.get("resources", [])}
    res_b = {(r["kind"], r["path"]): r for r in man_b.get("resources", [])}
    resources = []
    for key in sorted(set(res_a) | set(res_b)):
        ra, rb = res_a.get(key), res_b.get(key)
        if ra is None:
            resources.append({"kind": key[0], "path": key[1], "change": "added"})
        elif rb is None:
            resources.append({"kind": key[0], "path": key[1], "change": "removed"})
        elif ra["sha256"] != rb["sha256"]:
            resources.append(
                {
                    "kind": key[0],
                    "path": key[1],
                    "change": "modified",
                    "entries": [ra.get("entries"), rb.get("entries")],
                }
            )
    return {
        "pipeline_sha256": [pa.get("sha256"), pb.get("sha256")],
        "config_keys_changed": changed_keys,
        "resources": resources,
    }


def diff_versions(a: Path, b: Path, want_ids: bool = False) -> dict:
    _, man_a = load_manifest(a)
    _, man_b = load_manifest(b)
    records = diff_records(a, b, want_ids)
    out = {
        "a": f"{man_a.get('name')} {man_a.get('version')}",
        "b": f"{man_b.get('name')} {man_b.get('version')}",
        "records": {
            "a": man_a.get("totals", {}).get("records_out"),
            "b": man_b.get("totals", {}).get("records_out"),
            "added": records.added,
            "removed": records.removed,
            "changed": records.changed,
            "unchanged": records.unchanged,
            "duplicate_ids": records.duplicates,
        },
        "composition": composition_delta(man_a, man_b),
        "config": config_changes(man_a, man_b),
    }
    out["opted_out"] = _optout_attribution(
        b, records.ids["removed"] if want_ids else None, a, records
    )
    if want_ids:
        out["ids"] = records.ids
    return out


def _optout_attribution(
    b: Path, removed_ids: list[str] | None, a: Path, records: DiffResult
) -> dict:
    """Removed records that the newer version's opt-out log accounts for, by request."""
    folder_b, man_b = load_manifest(b)
    log = folder_b / "optout-log.jsonl"
    if not log.exists():
        return {"records": 0, "by_ref": {}}
    if removed_ids is None:
        removed_ids = diff_records(a, b, want_ids=True).ids["removed"]
    removed = set(removed_ids)
    by_ref: dict[str, int] = {}
    total = 0
    for line in log.read_bytes().splitlines():
        entry = orjson.loads(line)
        if entry.get("id") in removed:
            total += 1
            ref = entry.get("ref") or f"({entry.get('kind')})"
            by_ref[ref] = by_ref.get(ref, 0) + 1
    return {"records": total, "by_ref": dict(sorted(by_ref.items()))}
