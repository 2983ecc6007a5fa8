"""Writing records: JSON lines to stdout, or rolling zstd shards written atomically.

A shard is written under a hidden temporary name, fsynced and renamed, so a crash never leaves
a file under a final name that is incomplete. Its SHA-256, size and record count are computed
while writing, for the manifest, without reading it back.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
import zstandard

from curate.core.errors import CurateError, OutputClosed, UsageError
from curate.core.records import dumps_records


class OutputError(CurateError):
    """Output that cannot be written (a full disk, /dev/full)."""


_APPEND_NL = orjson.OPT_APPEND_NEWLINE
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update({"k": 2**10, "kib": 2**10, "m": 2**20, "mib": 2**20, "g": 2**30, "gib": 2**30})
_UNITS["tib"] = 2**40


def parse_size(text: str | int) -> int:
    """`256MB` -> 256_000_000, `1GiB` -> 2**30; plain integers are bytes."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2).lower() not in _UNITS:
        raise UsageError(f"invalid size {text!r} (expected e.g. 64MB, 1GB, 512MiB)")
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value <= 0:
        raise UsageError(f"invalid size {text!r}: must be positive")
    return value


def dumps_lines(records: list[dict]) -> bytes:
    return dumps_records(records)


# zstd's multi-threaded mode writes the same bytes for any number of worker threads (not the
# bytes of its single-threaded mode), so shards stay reproducible on machines with any number
# of cores; -1 is one thread a core.
ZSTD_THREADS = -1
# a shard is a sequence of zstd frames of about this much data each, cut after a line: a later
# run can plan units at frame boundaries instead of taking a whole shard as one unit (a frame
# restarts the compressor's window: ~1% larger output at this size)
FRAME_BYTES = 16 << 20


def write_framed(zw, data: bytes, filled: int) -> int:
    """Whole lines into a zstd stream writer, ending a frame after the line that takes the
    frame past FRAME_BYTES (so where frames end depends on the data alone); returns the bytes
    in the frame now open."""
    view = memoryview(data)
    start = 0
    while start < len(data):
        room = FRAME_BYTES - filled
        if len(data) - start < room:
            zw.write(view[start:])
            return filled + len(data) - start
        cut = data.find(b"\n", start + max(room - 1, 0))
        if cut < 0:  # the rest is one line: the frame ends after it, later
            zw.write(view[start:])
            return filled + len(data) - start
        zw.write(view[start : cut + 1])
        zw.flush(zstandard.FLUSH_FRAME)
        filled, start = 0, cut + 1
    return filled


class StdoutSink:
    """JSON lines on stdout, optionally zstd (`--compress zstd`), framed like shards so that a
    run can split the file into units."""

    def __init__(self, compress: str | None = None, level: int = 3, stream: BinaryIO | None = None):
        if stream is None and sys.stdout is None:
            raise UsageError("standard output is closed (redirect it to a file or a pipe)")
        self._out = stream if stream is not None else sys.stdout.buffer
        self._zw = None
        if compress == "zstd":
            cctx = zstandard.ZstdCompressor(level=level, threads=ZSTD_THREADS, write_checksum=True)
            self._zw = cctx.stream_writer(self._out, closefd=False)
        elif compress not in (None, "none"):
            raise UsageError(f"unknown --compress {compress!r} (expected zstd or none)")
        self.records = 0
        self._filled = 0

    def write(self, records: list[dict]) -> None:
        if records:
            self.write_bytes(dumps_lines(records), len(records))

    def write_batch(self, batch) -> None:
        if batch.records:
            self.write_bytes(batch.to_bytes(), len(batch.records))

    def write_bytes(self, data: bytes, count: int) -> None:
        try:
            if self._zw is not None:
                self._filled = write_framed(self._zw, data, self._filled)
            else:
                self._out.write(data)
        except BrokenPipeError:
            raise OutputClosed() from None
        except OSError as exc:  # /dev/full, a full disk behind a redirect
            raise OutputError(f"<stdout>: write failed ({exc.strerror or exc})") from None
        self.records += count

    def close(self) -> None:
        try:
            if self._zw is not None:
                self._zw.flush(zstandard.FLUSH_FRAME)
            self._out.flush()
        except BrokenPipeError:
            raise OutputClosed() from None
        except OSError as exc:
            raise OutputError(f"<stdout>: write failed ({exc.strerror or exc})") from None


class _HashingFile:
    """A write-only file wrapper that hashes and counts what passes through it."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


@dataclass
class ShardInfo:
    """What the manifest needs to know about a finished shard."""

    path: str  # relative to the dataset folder, with forward slashes
    sha256: str
    bytes: int
    records: int
    uncompressed_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ShardWriter:
    """Writes `<prefix>-00000.jsonl.zst`, ... into `root/subdir`, rolling over by size or count."""

    def __init__(
        self,
        root: Path,
        *,
        subdir: str = "",
        prefix: str = "part",
        shard_bytes: int = 256 * 10**6,
        shard_records: int | None = None,
        level: int = 3,
        first_index: int = 0,
        threads: int | None = None,
    ):
        self.root = Path(root)
        self.subdir = subdir
        self.prefix = prefix
        self.shard_bytes = shard_bytes
        self.shard_records = shard_records
        self.level = level
        self.index = first_index
        self.shards: list[ShardInfo] = []
        threads = ZSTD_THREADS if threads is None else threads
        # a content checksum per frame: a flipped byte is an error when read, not altered text
        self._cctx = zstandard.ZstdCompressor(level=level, threads=threads, write_checksum=True)
        self._file: BinaryIO | None = None
        self._hashing: _HashingFile | None = None
        self._zw = None
        self._records = 0
        self._raw_bytes = 0
        self._frame_bytes = 0
        self._tmp: Path | None = None
        self._final: Path | None = None

    @property
    def folder(self) -> Path:
        return self.root / self.subdir if self.subdir else self.root

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.prefix}-{self.index:05d}.jsonl.zst"
        self._final = self.folder / name
        self._tmp = self.folder / f".{name}.tmp"
        self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in _finish
        self._hashing = _HashingFile(self._file)
        self._zw = self._cctx.stream_writer(self._hashing, closefd=False)
        self._records = 0
        self._raw_bytes = 0
        self._frame_bytes = 0

    def write(self, records: list[dict]) -> None:
        self.write_block(dumps_lines(records))

    def write_batch(self, batch) -> None:
        """Write a reader `Batch`: its raw lines when untouched, else re-serialised records."""
        if batch.records:
            self.write_block(batch.to_bytes())

    def write_block(self, data: bytes) -> None:
        """Append whole JSON lines, rolling over exactly where a line-by-line writer would:
        after the line that makes a shard reach `shard_bytes` or `shard_records`.

        zstd's streaming output does not depend on how input is split into writes (a test
        holds it to that), so big blocks give the same bytes as line-by-line writing.
        """
        while data:
            if self._file is None:
                self._open()
            cut = len(data)
            room = self.shard_bytes - self._raw_bytes
            if room <= len(data):
                cut = data.find(b"\n", max(room - 1, 0)) + 1 or len(data)
            if self.shard_records is not None:
                left = self.shard_records - self._records
                pos = -1
                for _ in range(left):
                    pos = data.find(b"\n", pos + 1)
                    if pos < 0 or pos + 1 >= cut:
                        break
                else:
                    cut = min(cut, pos + 1)
            part = data[:cut] if cut < len(data) else data
            self._write_framed(part)
            self._records += part.count(b"\n")
            self._raw_bytes += len(part)
            data = data[cut:] if cut < len(data) else b""
            if self._raw_bytes >= self.shard_bytes or (
                self.shard_records is not None and self._records >= self.shard_records
            ):
                self._finish()

    def _write_framed(self, part: bytes) -> None:
        self._frame_bytes = write_framed(self._zw, part, self._frame_bytes)

    def _finish(self) -> None:
        assert self._file is not None and self._zw is not None and self._hashing is not None
        self._zw.flush(zstandard.FLUSH_FRAME)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self._final)
        fsync_dir(self.folder)
        rel = self._final.relative_to(self.root).as_posix()
        info = ShardInfo(
            rel, self._hashing.sha.hexdigest(), self._hashing.size, self._records, self._raw_bytes
        )
        self.shards.append(info)
        self.index += 1
        self._file = self._zw = self._hashing = None
        self._tmp = self._final = None

    def close(self) -> list[ShardInfo]:
        if self._file is not None:
            self._finish()
        return self.shards

    def abort(self) -> None:
        """Drop the shard in progress (its temporary file); finished shards stay."""
        if self._file is not None:
            self._file.close()
            if self._tmp is not None and self._tmp.exists():
                self._tmp.unlink()
            self._file = self._zw = self._hashing = None
