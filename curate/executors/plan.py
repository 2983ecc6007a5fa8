"""Planning units of work from cheap boundaries, and reading one unit in a worker.

The driver never decompresses or parses: it looks at file sizes and zstd frame headers only.
A unit is a byte range of one input:
- a plain file is cut every `chunk_size` bytes;
- a zstd file at frame boundaries (consecutive frames grouped to about `chunk_size` of
  compressed bytes; a single-frame file is one unit);
- anything else (gzip) is one unit.

A unit owns the lines that *start* inside its range: the worker skips a partial first line
(it belongs to the unit before) and reads past its end to finish its last line. So the units
of a file hold exactly the file's lines, in order, however the cuts fall; and the plan
depends only on the inputs and `chunk_size`, never on the worker count.
"""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass, field

import zstandard

from curate.core.errors import InputError
from curate.io.decompress import GZIP_MAGIC, ZSTD_MAGIC, StreamError, iter_decompressed
from curate.io.parquet import is_parquet, iter_parquet_lines, row_group_spans
from curate.io.sources import Source

BOM = b"\xef\xbb\xbf"
ZSTD_RATIO = 4  # group zstd frames to about chunk_size / ZSTD_RATIO compressed bytes
_TAIL_READ = 1 << 16


@dataclass(frozen=True)
class UnitSpec:
    """One unit: bytes [start, end) of an input; `prev` is where the frame before `start`
    begins (zstd), so the worker can tell whether its first byte starts a line."""

    index: int
    source: str  # the name errors show
    path: str
    fmt: str  # plain, zstd, whole or parquet
    start: int
    end: int
    prev: int | None = None
    first: bool = True  # the first unit of its input
    input_index: int = 0
    row_groups: tuple[int, int] | None = None  # parquet: row groups [a, b)

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class InputPlan:
    name: str
    path: str
    bytes: int
    units: list[int] = field(default_factory=list)


def input_format(path: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(GZIP_MAGIC):
        return "whole"
    if is_parquet(head):
        return "parquet"
    return "plain"


def plan_units(sources: list[Source], chunk_size: int) -> tuple[list[UnitSpec], list[InputPlan]]:
    """Units of every input in input order, numbered from 0."""
    units: list[UnitSpec] = []
    inputs: list[InputPlan] = []
    for n, source in enumerate(sources):
        path = source.path
        assert path is not None, "stdin is spooled to a file before planning"
        try:
            size = os.path.getsize(path)
            fmt = input_format(path) if size else "plain"
        except OSError as exc:
            raise InputError(source.name, None, exc.strerror or str(exc)) from None
        plan = InputPlan(source.name, path, size)
        inputs.append(plan)
        if fmt == "plain":
            cuts = list(range(0, size, max(chunk_size, 1))) or [0]
            ranges = [(a, min(a + chunk_size, size), None) for a in cuts]
        elif fmt == "zstd":
            ranges = _frame_groups(path, size, max(chunk_size // ZSTD_RATIO, 1))
        elif fmt == "parquet":
            spans = row_group_spans(path, source.name, max(chunk_size // ZSTD_RATIO, 1))
            for i, span in enumerate(spans):
                plan.units.append(len(units))
                groups = (span.first, span.last)
                units.append(
                    UnitSpec(
                        len(units),
                        source.name,
                        path,
                        fmt,
                        span.start,
                        span.end,
                        None,
                        i == 0,
                        n,
                        groups,
                    )
                )
            continue
        else:
            ranges = [(0, size, None)]
        for i, (a, b, prev) in enumerate(ranges):
            plan.units.append(len(units))
            units.append(UnitSpec(len(units), source.name, path, fmt, a, b, prev, i == 0, n))
    return units, inputs


def zstd_frames(path: str, size: int) -> list[int]:
    """Start offsets of the zstd frames of a file, from headers and block headers alone.

    Stops at the first thing that is not a well-formed frame: the rest stays with the last
    frame, and its reader reports the problem.
    """
    starts = []
    pos = 0
    with open(path, "rb") as fh:
        while pos < size:
            fh.seek(pos)
            head = fh.read(18)
            if len(head) < 4:
                break
            magic = int.from_bytes(head[:4], "little")
            if 0x184D2A50 <= magic <= 0x184D2A5F:  # skippable frame
                if len(head) < 8:
                    break
                starts.append(pos)
                pos += 8 + int.from_bytes(head[4:8], "little")
                continue
            if head[:4] != ZSTD_MAGIC:
                break
            try:
                header = zstandard.frame_header_size(head)
                params = zstandard.get_frame_parameters(head)
            except zstandard.ZstdError:
                break
            starts.append(pos)
            pos += header
            while True:
                fh.seek(pos)
                block = fh.read(3)
                if len(block) < 3:
                    return starts
                value = int.from_bytes(block, "little")
                last, kind, bsize = value & 1, (value >> 1) & 3, value >> 3
                pos += 3 + (1 if kind == 1 else bsize)
                if kind == 3:
                    return starts
                if last:
                    break
            if params.has_checksum:
                pos += 4
    return starts


def _frame_groups(path: str, size: int, target: int) -> list[tuple[int, int, int | None]]:
    frames = zstd_frames(path, size) or [0]
    groups: list[tuple[int, int, int | None]] = []
    start, prev = frames[0], None
    for i, offset in enumerate(frames[1:], 1):
        if offset - start >= target:
            groups.append((start, offset, prev))
            start, prev = offset, frames[i - 1]
    groups.append((start, size, prev))
    return groups


@dataclass
class UnitLines:
    lines: list[bytes]
    check: str  # of the unit's own bytes [start, end): what a resume checks (`range_check`)
    error: StreamError | None = None  # the stream broke after the lines read
    partial: bytes = b""


def range_check(data: bytes) -> str:
    """A cheap fingerprint of a unit's bytes: whether they changed between passes or since an
    interrupted run (CRC-32 and length; ~4x faster than SHA-256 here, and nothing relies on it
    against a forger: the manifest's SHA-256 of each whole input does that)."""
    return f"{zlib.crc32(data):08x}:{len(data)}"


def read_unit(spec: UnitSpec) -> UnitLines:
    """The lines a unit owns (no newlines, CRLF as LF, a first line's BOM removed)."""
    if spec.fmt == "parquet":
        with open(spec.path, "rb") as fh:
            fh.seek(spec.start)
            check = range_check(fh.read(spec.size))
        lines = [
            ln
            for part in iter_parquet_lines(spec.path, spec.source, spec.row_groups)
            for ln in part
        ]
        return UnitLines(lines, check)
    try:
        with open(spec.path, "rb") as fh:
            if spec.fmt == "plain":
                data, sha, error = _plain(fh, spec)
            elif spec.fmt == "zstd":
                data, sha, error = _zstd(fh, spec)
            else:
                data, sha, error = _whole(fh, spec)
    except OSError as exc:
        raise InputError(spec.source, None, f"read failed ({exc.strerror or exc})") from None
    if data.find(b"\r") >= 0:
        data = data.replace(b"\r\n", b"\n")
    lines = data.split(b"\n")
    tail = lines.pop()
    partial = b""
    if tail:
        if error is None:
            lines.append(tail[:-1] if tail.endswith(b"\r") else tail)
        else:
            partial = tail
    if spec.first and spec.start == 0 and lines and lines[0].startswith(BOM):
        lines[0] = lines[0][len(BOM) :]
    return UnitLines(lines, sha, error, partial)


def _own_start(data: bytes, at_line_start: bool) -> int:
    if at_line_start:
        return 0
    cut = data.find(b"\n")
    return len(data) if cut < 0 else cut + 1


def _plain(fh, spec: UnitSpec) -> tuple[bytes, str, None]:
    begin = max(spec.start - 1, 0)
    fh.seek(begin)
    data = fh.read(spec.end - begin)
    own = data[spec.start - begin :]
    sha = range_check(own)
    if spec.start > 0 and data[:1] != b"\n":  # a line that began in the unit before
        cut = own.find(b"\n")
        if cut < 0:  # no line starts here
            return b"", sha, None
        own = own[cut + 1 :]
    if own and not own.endswith(b"\n"):
        more = [own]
        while True:
            piece = fh.read(_TAIL_READ)
            if not piece:
                break
            cut = piece.find(b"\n")
            if cut >= 0:
                more.append(piece[: cut + 1])
                break
            more.append(piece)
        own = b"".join(more)
    return own, sha, None


class _Range:
    """A file object over bytes [start, end) of `fh`."""

    def __init__(self, fh, start: int, end: int | None):
        fh.seek(start)
        self.fh = fh
        self.left = None if end is None else end - start

    def read(self, n: int = -1) -> bytes:
        if self.left is None:
            return self.fh.read(n)
        if n < 0 or n > self.left:
            n = self.left
        data = self.fh.read(n)
        self.left -= len(data)
        return data


def _zstd(fh, spec: UnitSpec) -> tuple[bytes, str, StreamError | None]:
    at_line_start = True
    if spec.prev is not None:
        try:
            before = b"".join(iter_decompressed(_Range(fh, spec.prev, spec.start)))
        except StreamError:
            before = b"\n"  # the unit before reports the broken frame; start at a line here
        at_line_start = before[-1:] in (b"\n", b"")
    fh.seek(spec.start)
    raw = fh.read(spec.size)
    data, error = _decompress(raw)
    data = data[_own_start(data, at_line_start) :]
    if error is None and data and not data.endswith(b"\n"):
        more = [data]
        try:
            for piece in iter_decompressed(_Range(fh, spec.end, None)):
                cut = piece.find(b"\n")
                if cut >= 0:
                    more.append(piece[: cut + 1])
                    break
                more.append(piece)
        except StreamError:
            pass  # the unit that owns the broken frame reports it
        data = b"".join(more)
    return data, range_check(raw), error


def _decompress(raw: bytes) -> tuple[bytes, StreamError | None]:
    """What a unit's compressed bytes hold, and where the stream broke (None if it did not)."""
    chunks: list[bytes] = []
    try:
        chunks.extend(iter_decompressed(io.BytesIO(raw)))
    except StreamError as exc:
        return b"".join(chunks), exc
    return b"".join(chunks), None


def _whole(fh, spec: UnitSpec) -> tuple[bytes, str, StreamError | None]:
    raw = fh.read()
    data, error = _decompress(raw)
    return data, range_check(raw), error


def count_lines_before(units: list[UnitSpec], spec: UnitSpec) -> int:
    """Lines of the input before `spec` (for an error message found in a first pass, where
    the worker knew only its line within the unit). Reads those units again: error path."""
    return sum(
        len(read_unit(u).lines)
        for u in units
        if u.input_index == spec.input_index and u.index < spec.index
    )
