"""`curate write`: stream records into a dataset folder of zstd shards."""

from __future__ import annotations

import shutil
from pathlib import Path

from curate.errors import UsageError
from curate.io.policy import ErrorPolicy
from curate.io.reader import read_batches
from curate.io.sources import Source
from curate.io.writer import ShardInfo, ShardWriter, parse_size

DATASET_FILES = ("manifest.json", "run.json", "README.md")


def prepare_output(out_dir: Path, overwrite: bool, hint: str = "--overwrite") -> None:
    """Refuse to mix a new dataset into a folder that already holds one, unless told to."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise UsageError(f"{out_dir}: folder is not empty (use {hint} to replace its dataset)")
        for entry in out_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def write_dataset(
    out_dir: Path,
    sources: list[Source],
    policy: ErrorPolicy,
    *,
    shard_size: str | int = "256MB",
    shard_records: int | None = None,
    level: int = 3,
    overwrite: bool = False,
) -> list[ShardInfo]:
    writer_bytes = parse_size(shard_size)
    prepare_output(out_dir, overwrite)
    writer = ShardWriter(
        out_dir, shard_bytes=writer_bytes, shard_records=shard_records, level=level
    )
    try:
        for batch in read_batches(sources, policy):
            writer.write_batch(batch)
        return writer.close()
    except BaseException:
        writer.abort()
        raise
