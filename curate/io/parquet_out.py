"""Parquet output: a version's shards as Parquet files sharing one schema.

Shards are written as JSON lines first, as always (the stages' bytes, cut where the JSON shards
are cut), then converted in two steps that any executor runs in parallel:

1. each shard's records are read and typed from their JSON values (every record counts; a
   string stays a string), and kept as an Arrow file; its schema goes to the driver;
2. the driver unifies the schemas (a field some records lack is null in them; struct fields
   merge; integers widen to floats where both occur), and every shard is written as Parquet
   with the unified schema: zstd, row groups of about ROW_GROUP_BYTES of JSON, statistics,
   nothing that depends on the time or the machine, so a rebuild writes the same bytes.

A field whose values have types no column can hold (a string in one record, a number in
another) is a one-line error naming the field: Parquet has one type per column.

pyarrow is imported when a Parquet version is written, not with this module: the JSON-lines
path (and every pipe's start-up) does not pay for it.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from curate.core.errors import CurateError, first_line
from curate.io.decompress import decompress_all
from curate.io.hashing import hash_file
from curate.io.writer import ShardInfo

ROW_GROUP_BYTES = 64 << 20
SUFFIX = ".parquet"


def _read_json_shard(path: Path):
    """A shard's records as a table, types taken from the JSON values themselves (Arrow's
    JSON reader would turn strings that look like dates into timestamps, which would not read
    back as the same text)."""
    import pyarrow as pa

    data = decompress_all(path.read_bytes())
    records = [orjson.loads(line) for line in data.splitlines()]
    names = list(dict.fromkeys(k for r in records for k in r))  # every record's fields, in order
    columns = {}
    for name in names:
        try:
            columns[name] = pa.array([r.get(name) for r in records])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise CurateError(
                f"output format parquet: field {name!r}: {first_line(exc)} (Parquet holds one "
                "type per column)"
            ) from None
    return pa.table(columns)


def shard_to_arrow(shard: Path, arrow: Path) -> bytes:
    """Step 1: a JSON-lines shard to an Arrow file beside it; returns its schema (serialised)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = _read_json_shard(shard)
    with pa.OSFile(str(arrow), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return table.schema.serialize().to_pybytes()


def unify_schemas(schemas: list[bytes]) -> bytes:
    """One schema for every shard (fields in order of first appearance)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    parsed = [ipc.read_schema(pa.py_buffer(s)) for s in schemas]
    try:
        unified = pa.unify_schemas(parsed, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise CurateError(
            f"output format parquet: fields with types no one column can hold: {first_line(exc)}"
        ) from None
    return unified.serialize().to_pybytes()


def _conform(table, schema):
    import pyarrow as pa

    columns = []
    for f in schema:
        if f.name in table.column_names:
            columns.append(table.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(len(table), f.type))
    return pa.table(columns, schema=schema)


def arrow_to_parquet(arrow: Path, schema: bytes, target: Path, json_bytes: int) -> dict:
    """Step 2: the Arrow file written as Parquet with the unified schema, atomically; returns
    {sha256, bytes, records} of the Parquet file."""
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    unified = ipc.read_schema(pa.py_buffer(schema))
    with pa.memory_map(str(arrow)) as source:
        table = ipc.open_file(source).read_all()
    try:
        table = _conform(table, unified)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise CurateError(f"output format parquet: {first_line(exc)}") from None
    per_row = max(json_bytes // max(len(table), 1), 1)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(
        table,
        tmp,
        compression="zstd",
        row_group_size=max(ROW_GROUP_BYTES // per_row, 1),
        write_statistics=True,
    )
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    sha, size = hash_file(str(tmp))
    os.replace(tmp, target)
    return {"sha256": sha, "bytes": size, "records": len(table)}


def convert_folder_shards(root: Path, shards: list[ShardInfo]) -> list[ShardInfo]:
    """`curate write --format parquet`: the JSON shards just written under `root`, replaced
    by Parquet shards sharing one schema (both steps in this process)."""
    arrows = [root / Path(s.path).with_name(f".{Path(s.path).name}.arrow") for s in shards]
    schemas = [shard_to_arrow(root / s.path, a) for s, a in zip(shards, arrows)]
    if not schemas:
        return shards
    unified = unify_schemas(schemas)
    out = []
    for shard, arrow in zip(shards, arrows):
        target = parquet_name(shard.path)
        info = arrow_to_parquet(arrow, unified, root / target, shard.uncompressed_bytes)
        out.append(
            ShardInfo(
                target, info["sha256"], info["bytes"], info["records"], shard.uncompressed_bytes
            )
        )
    for shard, arrow in zip(shards, arrows):
        (root / shard.path).unlink()
        arrow.unlink()
    return out


def parquet_name(jsonl_path: str) -> str:
    """`split/part-00003.jsonl.zst` -> `split/part-00003.parquet`."""
    return jsonl_path.removesuffix(".jsonl.zst") + SUFFIX
