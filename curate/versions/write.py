"""`curate write`: stream records into a dataset folder of zstd shards, with a manifest."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from curate.core.errors import UsageError
from curate.core.fields import Fields
from curate.io.lock import folder_lock
from curate.io.parquet_out import convert_folder_shards
from curate.io.policy import ErrorPolicy
from curate.io.reader import Batch, read_batches
from curate.io.sources import Source, check_not_inside
from curate.io.split import SplitWriter, dataset_writer
from curate.io.writer import ShardInfo, ShardWriter, parse_size
from curate.versions.composition import Composition
from curate.versions.finalize import finalize
from curate.versions.manifest import ManifestParts, parent_reference


def prepare_output(out_dir: Path, overwrite: bool, hint: str = "--overwrite") -> None:
    """Refuse to mix a new dataset into a folder that already holds one, unless told to."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise UsageError(f"{out_dir}: folder is not empty (use {hint} to replace its dataset)")
        if not (out_dir / "manifest.json").is_file():
            raise UsageError(
                f"{out_dir}: holds files but no curate dataset (manifest.json); "
                "refusing to delete them"
            )
        for entry in out_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def write_shards(
    writer: ShardWriter | SplitWriter,
    sources: list[Source],
    policy: ErrorPolicy,
    fields: Fields,
    transform: Callable[[Batch], Batch] | None = None,
) -> tuple[list[ShardInfo], Composition, list[dict]]:
    """Read the sources (through `transform`, if any) into the writer: (shards, composition,
    inputs read). A failure removes the partial shards."""
    inputs: list[dict] = []
    batches = read_batches(sources, policy, inputs)
    if transform is not None:
        batches = map(transform, batches)
    shards, composition = write_batch_stream(writer, batches, fields)
    return shards, composition, inputs


def write_batch_stream(
    writer: ShardWriter | SplitWriter, batches: Iterable[Batch], fields: Fields
) -> tuple[list[ShardInfo], Composition]:
    """Batches into the writer: (shards, composition). A failure removes the partial shards."""
    composition = Composition()
    try:
        for batch in batches:
            writer.write_batch(batch)
            composition.add_records(batch.records, fields)
        shards = writer.close()
    except BaseException:
        writer.abort()
        raise
    return shards, composition


def write_batches(
    out_dir: Path,
    batches: Iterable[Batch],
    *,
    fields: Fields,
    processed: Callable[[], tuple[list, list[dict], int]],
    shard_size: str | int = "256MB",
    shard_records: int | None = None,
    level: int = 3,
    split_by: str | None = None,
    format: str = "jsonl",
    name: str | None = None,
    version: str = "0",
    overwrite: bool = False,
) -> dict:
    """Records that come from memory (the Python API), through their stages, into a dataset
    version. `processed()` gives (stages, their counts, bad lines) once the batches are spent.
    Returns the manifest."""
    with folder_lock(out_dir):
        prepare_output(out_dir, overwrite)
        args = {"shard_bytes": parse_size(shard_size), "shard_records": shard_records}
        writer = dataset_writer(out_dir, split_by, **args, level=level)
        shards, composition = write_batch_stream(writer, batches, fields)
        if format == "parquet":
            shards = _to_parquet(out_dir, shards)
        stage_list, counts, errors = processed()
        records = sum(s.records for s in shards)
        parts = ManifestParts(
            name=name or out_dir.resolve().name,
            version=version,
            fields={"id": fields.id, "text": fields.text},
            config={
                "command": "python api",
                "stages": [stage.describe() for stage in stage_list],
                "shard_size": shard_size,
                "shard_records": shard_records,
                "level": level,
                "split_by": split_by,
                "format": format,
            },
            resources=[r for stage in stage_list for r in stage.resources()],
            shards=shards,
            stages=counts,
            totals={
                "records_in": (counts[0]["records_in"] if counts else records) + errors,
                "records_out": records,
                "rejected": sum(sum(c["dropped"].values()) for c in counts),
                "errors": errors,
                "empty_lines": 0,
            },
            composition=composition.to_manifest(),
        )
        return finalize(out_dir, parts)


def _to_parquet(out_dir: Path, shards: list[ShardInfo]) -> list[ShardInfo]:
    try:
        return convert_folder_shards(out_dir, shards)
    except BaseException:  # no half-converted folder that looks like a dataset
        for shard in shards:
            (out_dir / shard.path).unlink(missing_ok=True)
        for arrow in out_dir.rglob(".*.arrow"):
            arrow.unlink()
        raise


def write_dataset(
    out_dir: Path,
    sources: list[Source],
    policy: ErrorPolicy,
    *,
    shard_size: str | int = "256MB",
    shard_records: int | None = None,
    level: int = 3,
    overwrite: bool = False,
    name: str | None = None,
    version: str = "0",
    parent: Path | None = None,
    fields: Fields | None = None,
    split_by: str | None = None,
    format: str = "jsonl",
) -> dict:
    """Write shards (zstd JSON lines, or Parquet sharing one schema), then the dataset card
    and manifest; returns the manifest."""
    writer_bytes = parse_size(shard_size)
    fields = fields or Fields()
    parent_ref = parent_reference(parent) if parent is not None else None
    check_not_inside(out_dir, sources, None)
    with folder_lock(out_dir):
        prepare_output(out_dir, overwrite)
        args = {"shard_bytes": writer_bytes, "shard_records": shard_records, "level": level}
        writer = dataset_writer(out_dir, split_by, **args)
        shards, composition, inputs = write_shards(writer, sources, policy, fields)
        if format == "parquet":
            shards = _to_parquet(out_dir, shards)
        return _finish_write(
            out_dir,
            shards,
            composition,
            inputs,
            policy,
            fields,
            parent_ref,
            name=name,
            version=version,
            config={
                "command": "write",
                "shard_size": shard_size,
                "shard_records": shard_records,
                "level": level,
                "split_by": split_by,
                "format": format,
            },
        )


def _finish_write(
    out_dir: Path,
    shards: list[ShardInfo],
    composition: Composition,
    inputs: list[dict],
    policy: ErrorPolicy,
    fields: Fields,
    parent_ref: dict | None,
    *,
    name: str | None,
    version: str,
    config: dict,
) -> dict:
    records = sum(s.records for s in shards)
    parts = ManifestParts(
        name=name or out_dir.resolve().name,
        version=version,
        fields={"id": fields.id, "text": fields.text},
        config=config,
        parent=parent_ref,
        inputs=inputs,
        shards=shards,
        totals={
            "records_in": records + policy.errors,
            "records_out": records,
            "rejected": 0,
            "errors": policy.errors,
            "empty_lines": policy.empty_lines,
        },
        composition=composition.to_manifest(),
    )
    return finalize(out_dir, parts)
