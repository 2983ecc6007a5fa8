"""Streaming JSON-lines reader: sources -> batches of parsed records with their line numbers.

Work is done per decompressed chunk (a batch of lines), so Python overhead is paid per batch,
not per byte, and memory holds one chunk at a time (plus a line that spans chunks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import orjson

from curate.core.errors import InputError
from curate.core.records import dumps_record, dumps_records
from curate.io.decompress import ParquetStream, StreamError, iter_decompressed_background
from curate.io.hashing import HashingReader, hash_file
from curate.io.parquet import iter_parquet_lines
from curate.io.policy import ErrorPolicy
from curate.io.sources import Source
from curate.io.strict_json import DuplicateKey, strict_loads

BOM = b"\xef\xbb\xbf"
MAX_DEPTH = 254  # orjson writes no deeper; a record curate cannot write back is a bad line
_ORJSON_POSITION = re.compile(r": line \d+ column (\d+) \(char \d+\)$")
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number"}
_JSON_TYPES.update({bool: "a boolean", type(None): "null"})


class Batch:
    """Records parsed from consecutive lines of one source.

    `linenos[i]` and `raws[i]` belong to `records[i]`: they let a later stage name the exact
    input line of a record it cannot handle, and let quarantine keep the original bytes.

    `tails`, when set, says a stage appended keys to the records' last object without
    re-serialising them: line i is `raws[i][:-2] + tails[i]` (tails[i] None: unchanged). The
    writer joins those pieces without building each line; reading `raws` builds them.
    """

    __slots__ = ("source", "records", "linenos", "_raws", "modified", "tails")

    def __init__(
        self,
        source: str,
        records: list[dict],
        linenos: Sequence[int],
        raws: list[bytes],
        modified: bool = False,
        tails: list[bytes | None] | None = None,
    ):
        self.source = source
        self.records = records
        self.linenos = linenos
        self._raws = raws
        # False while every record is exactly its raw line, which can then be written as is.
        self.modified = modified
        self.tails = tails

    @property
    def raws(self) -> list[bytes]:
        """Each record's line as bytes (with any tails applied)."""
        tails = self.tails
        if tails is not None:
            self._raws = [r if t is None else r[:-2] + t for r, t in zip(self._raws, tails)]
            self.tails = None
        return self._raws

    def to_bytes(self) -> bytes:
        """The batch as JSON lines: raw lines when untouched, else re-serialised by orjson."""
        if not self.records:
            return b""
        if self.modified:
            return dumps_records(self.records)
        tails = self.tails
        if tails is None:
            return b"\n".join(self._raws) + b"\n"
        # Three pieces a line, no per-line copy: the line up to its last two bytes, the tail,
        # the newline.
        pieces: list = [b"\n"] * (3 * len(tails))
        pieces[0::3] = [r if t is None else memoryview(r)[:-2] for r, t in zip(self._raws, tails)]
        pieces[1::3] = [b"" if t is None else t for t in tails]
        return b"".join(pieces)

    def __len__(self) -> int:
        return len(self.records)

    def raw_size(self) -> int:
        """Bytes of the records' lines as read (without tails): a size for grouping work."""
        return sum(map(len, self._raws))

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        """Consecutive batches of one source (and one `modified` state) as one, tails kept."""
        if len(batches) == 1:
            return batches[0]
        first = batches[0]
        tails = None
        if any(b.tails is not None for b in batches):
            tails = [t for b in batches for t in (b.tails or [None] * len(b.records))]
        return cls(
            first.source,
            [r for b in batches for r in b.records],
            [n for b in batches for n in b.linenos],
            [x for b in batches for x in b._raws],
            first.modified,
            tails,
        )

    def select(self, rows: list[int]) -> Batch:
        """The records at `rows` (in that order), with their line numbers and raw bytes."""
        if len(rows) == len(self.records):
            return self
        linenos, raws, tails = self.linenos, self._raws, self.tails
        return Batch(
            self.source,
            [self.records[i] for i in rows],
            [linenos[i] for i in rows],
            [raws[i] for i in rows],
            self.modified,
            None if tails is None else [tails[i] for i in rows],
        )


class _Truncated(Exception):
    def __init__(self, error: StreamError, line: int, partial: bytes):
        self.error = error
        self.line = line
        self.partial = partial


def iter_line_batches(chunks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Split decompressed chunks into lists of complete lines (no newline, no CR of a CRLF)."""
    pending: list[bytes] = []
    produced = 0
    try:
        for chunk in chunks:
            if chunk.find(b"\n") < 0:
                pending.append(chunk)
                continue
            if pending:
                pending.append(chunk)
                chunk = b"".join(pending)
                pending = []
            if chunk.find(b"\r") >= 0:  # memchr; a two-byte find is ~10x slower
                chunk = chunk.replace(b"\r\n", b"\n")
            lines = chunk.split(b"\n")
            tail = lines.pop()
            if tail:
                pending.append(tail)
            produced += len(lines)
            yield lines
    except StreamError as exc:
        raise _Truncated(exc, produced + 1, b"".join(pending)) from None
    if pending:
        last = b"".join(pending)
        yield [last[:-1] if last.endswith(b"\r") else last]


def describe_json_error(exc: orjson.JSONDecodeError, line: bytes) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as uexc:
        return f"invalid UTF-8 at byte {uexc.start + 1}"
    detail = _ORJSON_POSITION.sub(r" at column \1", str(exc))
    return f"invalid JSON: {detail}"


def parse_lines(
    source: str, first_line: int, lines: list[bytes], policy: ErrorPolicy, bom: bool | None = None
) -> Batch:
    """Parse one batch of lines; bad ones go to the policy, blank ones are counted.

    The common case (every line a JSON object) takes a fast path: one list comprehension,
    and the line list itself serves as the raw lines.
    """
    if (first_line == 1 if bom is None else bom) and lines and lines[0].startswith(BOM):
        lines[0] = lines[0][len(BOM) :]
    loads = orjson.loads
    try:
        records = [loads(line) for line in lines]
    except orjson.JSONDecodeError:
        return _parse_lines_slow(source, first_line, lines, policy)
    if set(map(type, records)) - {dict}:
        return _parse_lines_slow(source, first_line, lines, policy)
    dumps = orjson.dumps
    try:
        # one line at a time: each copy is freed at once, and memory is reused (a list of
        # them doubled the page faults of a read)
        canonical = all(map(bytes.__eq__, map(dumps, records), lines))
    except TypeError:  # nested past what can be written back
        canonical = False
    if not canonical:  # not all compact and canonical: check each
        return _parse_lines_slow(source, first_line, lines, policy)
    return Batch(source, records, range(first_line, first_line + len(lines)), lines)


def _canonical(
    record: dict, line: bytes, source: str, lineno: int, policy: ErrorPolicy
) -> tuple[dict, bytes] | None:
    """The record as stages must see it and the line to write for it, or None for a bad line.

    A line that is not its record's compact form may hide what orjson's reading loses
    (a duplicated key, a number past 64 bits); the strict reader decides.
    """
    try:
        if orjson.dumps(record) == line:
            return record, line
    except TypeError:
        policy.bad_line(source, lineno, f"JSON nested deeper than {MAX_DEPTH} levels", line)
        return None
    try:
        strict = strict_loads(line, keep_last=policy.keep_last_duplicate)
    except DuplicateKey as exc:
        policy.bad_line(source, lineno, f"duplicate key {exc.key!r} in an object", line)
        return None
    except RecursionError:
        policy.bad_line(source, lineno, f"JSON nested deeper than {MAX_DEPTH} levels", line)
        return None
    if strict.canonicalised:
        return strict.record, dumps_record(strict.record)
    if strict.exact_numbers:
        return strict.record, line
    return record, line


def _parse_lines_slow(
    source: str, first_line: int, lines: list[bytes], policy: ErrorPolicy
) -> Batch:
    records: list[dict] = []
    linenos: list[int] = []
    raws: list[bytes] = []
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    lineno = first_line - 1
    for line in lines:
        lineno += 1
        try:
            record = loads(line)
        except decode_error as exc:
            if not line.strip():
                policy.empty_lines += 1
            else:
                policy.bad_line(source, lineno, describe_json_error(exc, line), line)
            continue
        if type(record) is not dict:
            kind = _JSON_TYPES.get(type(record), "not an object")
            policy.bad_line(source, lineno, f"expected a JSON object, got {kind}", line)
            continue
        checked = _canonical(record, line, source, lineno, policy)
        if checked is None:
            continue
        records.append(checked[0])
        linenos.append(lineno)
        raws.append(checked[1])
    return Batch(source, records, linenos, raws)


def read_source(
    source: Source, policy: ErrorPolicy, info: list[dict] | None = None
) -> Iterator[Batch]:
    """Batches of one source. A truncated or corrupt stream is one bad line, then the end.

    With `info`, appends the source's {path, sha256, bytes, records} once it is fully read.
    """
    fh = source.open()
    reader = HashingReader(fh) if info is not None else fh
    lineno = 1
    records = 0
    try:
        for lines in iter_line_batches(iter_decompressed_background(reader)):
            batch = parse_lines(source.name, lineno, lines, policy)
            lineno += len(lines)
            if batch.records:
                records += len(batch.records)
                yield batch
    except ParquetStream:  # seen in the first bytes, before any line
        if source.is_stdin:
            raise InputError(
                source.name,
                None,
                "Parquet cannot be read from a pipe (it ends with its footer): give the "
                "file's name",
            ) from None
        fh.close()
        yield from _read_parquet(source, policy, info)
        return
    except _Truncated as exc:
        policy.bad_line(source.name, exc.line, str(exc.error), exc.partial or None)
    except OSError as exc:
        raise InputError(source.name, lineno, f"read failed ({exc.strerror or exc})") from None
    finally:
        if not source.is_stdin:
            fh.close()
    if info is not None:
        info.append(
            {
                "path": source.name,
                "sha256": reader.sha.hexdigest(),
                "bytes": reader.bytes,
                "records": records,
            }
        )


def _read_parquet(source: Source, policy: ErrorPolicy, info: list[dict] | None) -> Iterator[Batch]:
    """A Parquet file's rows as batches; line numbers are row numbers (from 1)."""
    lineno = 1
    records = 0
    for lines in iter_parquet_lines(source.path, source.name):
        batch = parse_lines(source.name, lineno, lines, policy, bom=False)
        lineno += len(lines)
        if batch.records:
            records += len(batch.records)
            yield batch
    if info is not None:
        sha, size = hash_file(source.path)
        info.append({"path": source.name, "sha256": sha, "bytes": size, "records": records})


def read_batches(
    sources: Iterable[Source], policy: ErrorPolicy, info: list[dict] | None = None
) -> Iterator[Batch]:
    for source in sources:
        yield from read_source(source, policy, info)
