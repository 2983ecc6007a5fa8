"""Output split into one folder per value of a field (`output.split_by: meta.subset`).

Folder names are made safe: letters, digits, `.`, `_` and `-` only, no leading dot or
underscore, at most 80 characters. A name that had to change gets a hash of the original
value appended, so two different values can never share a folder, and nothing can climb
out of the output folder (`../../etc`, `a/b`, empty names, control characters).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import orjson

from curate.core.errors import CurateError
from curate.core.records import dumps_record_nl, get_path, split_path
from curate.io.writer import ShardInfo, ShardWriter

MISSING_DIR = "__missing__"
# folders a dataset version holds besides its split folders: no split value may take them
RESERVED = frozenset({"rejects", "indexes", "quarantine", "optout-log.jsonl", "readme.md"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]+")
_HASHED = re.compile(r"-[0-9a-f]{8}$")


def safe_dirname(value: object) -> str:
    """The folder of a split value: the value itself when it is a safe, unreserved name,
    else a cleaned form plus a hash of the value, so distinct values get distinct folders
    (a string `1` and the number 1, `a/b` and a literal `a_b-<hash>`, `rejects`)."""
    if value is None:
        return MISSING_DIR
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return MISSING_DIR
    if isinstance(value, str):
        text, hashed = value, value
    else:  # never the bare text: the number 1 must not share the folder of the string "1"
        text = orjson.dumps(value).decode()
        hashed = "\x00json:" + text
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:80]
    if (
        cleaned
        and cleaned == hashed
        and cleaned.lower() not in RESERVED
        and not _HASHED.search(cleaned)
    ):
        return cleaned
    digest = hashlib.sha256(hashed.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'value'}-{digest}"


class SplitWriter:
    """One `ShardWriter` per folder, created on first use."""

    def __init__(self, root: Path, field: str, **writer_args):
        self.root = Path(root)
        self.parts = split_path(field)
        self.writer_args = writer_args
        self.writers: dict[str, ShardWriter] = {}
        self._owner: dict[str, object] = {}  # folder -> the split value written there

    def _writer(self, folder: str) -> ShardWriter:
        writer = self.writers.get(folder)
        if writer is None:
            # Single-threaded zstd: a writer per folder stays open, and threads of each would
            # add up to thousands for a split by language.
            writer = self.writers[folder] = ShardWriter(
                self.root, subdir=folder, threads=0, **self.writer_args
            )
        return writer

    def write_lines_of(self, records: list[dict], lines: list[bytes]) -> None:
        """Write each line (ending in a newline) to the folder of its record's value."""
        groups: dict[str, list[bytes]] = {}
        owner = self._owner
        for record, line in zip(records, lines):
            value = get_path(record, self.parts)
            folder = safe_dirname(value)
            key = _identity(value)
            seen = owner.setdefault(folder, key)
            if seen != key:  # two values whose hashed names collide
                raise CurateError(
                    f"split_by {'.'.join(self.parts)}: two different values map to the "
                    f"folder {folder!r}"
                )
            groups.setdefault(folder, []).append(line)
        for folder, group in groups.items():
            self._writer(folder).write_block(b"".join(group))

    def write_batch(self, batch) -> None:
        if not batch.records:
            return
        if batch.modified:
            lines = [dumps_record_nl(r) for r in batch.records]
        else:
            lines = [raw + b"\n" for raw in batch.raws]
        self.write_lines_of(batch.records, lines)

    def close(self) -> list[ShardInfo]:
        shards: list[ShardInfo] = []
        for folder in sorted(self.writers):
            shards.extend(self.writers[folder].close())
        return shards

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


def dataset_writer(root: Path, split_by: str | None, **writer_args) -> ShardWriter | SplitWriter:
    """The shard writer of a dataset folder: one folder per value of `split_by`, or flat."""
    if split_by:
        return SplitWriter(root, split_by, **writer_args)
    return ShardWriter(root, **writer_args)


def _identity(value: object) -> object:
    """What makes two split values the same folder: the first of a list, typed."""
    if isinstance(value, list):
        value = value[0] if value else None
    return (type(value).__name__, orjson.dumps(value))
