"""Parquet input: rows as JSON lines, streamed a record batch at a time.

A Parquet file is detected by its magic bytes (`PAR1`), like the compressed formats. Its rows
become the JSON objects every stage reads: nested columns (structs, lists) become nested JSON,
nulls `null`, dates and timestamps ISO 8601 strings, binary values base64 text, decimals their
exact digits as a string. Rows are read in batches of `BATCH_ROWS` from one row group at a time,
so memory stays bounded whatever the file's size; a run plans its units as groups of row groups
(the file's footer says where each one lies, so planning reads no data).

Parquet needs its footer, so it is read from files, not from a pipe.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from curate.core.errors import InputError, first_line

MAGIC = b"PAR1"
BATCH_ROWS = 2048


def is_parquet(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _default(value: Any) -> Any:
    """JSON for the Arrow values orjson does not know."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _open(path: str, name: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(name, None, f"invalid Parquet: {first_line(exc)}") from None


def iter_parquet_lines(
    path: str, name: str, row_groups: tuple[int, int] | None = None
) -> Iterator[list[bytes]]:
    """JSON lines of the file's rows (or of row groups [a, b)), a batch at a time."""
    import pyarrow as pa

    pf = _open(path, name)
    groups = range(*row_groups) if row_groups else range(pf.num_row_groups)
    dumps = orjson.dumps
    row = 0
    try:
        for g in groups:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[g], use_threads=False):
                rows = batch.to_pylist()
                yield [dumps(r, default=_default) for r in rows]
                row += len(rows)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(name, row + 1, f"invalid Parquet: {first_line(exc)}") from None
    except TypeError as exc:
        raise InputError(name, row + 1, f"a value has no JSON form: {exc}") from None


@dataclass(frozen=True)
class RowGroupSpan:
    first: int  # row groups [first, last)
    last: int
    start: int  # the bytes their column chunks span
    end: int


def row_group_spans(path: str, name: str, chunk_size: int) -> list[RowGroupSpan]:
    """Consecutive row groups packed to about `chunk_size` compressed bytes, from the footer."""
    meta = _open(path, name).metadata
    spans: list[RowGroupSpan] = []
    first, start, end = 0, None, None
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        lo, hi = None, None
        for c in range(rg.num_columns):
            col = rg.column(c)
            offset = col.data_page_offset
            if col.has_dictionary_page and col.dictionary_page_offset is not None:
                offset = min(offset, col.dictionary_page_offset)
            lo = offset if lo is None else min(lo, offset)
            hi = (
                offset + col.total_compressed_size
                if hi is None
                else max(hi, offset + col.total_compressed_size)
            )
        lo, hi = lo or 0, hi or 0
        start = lo if start is None else min(start, lo)
        end = hi if end is None else max(end, hi)
        if end - start >= chunk_size:
            spans.append(RowGroupSpan(first, g + 1, start, end))
            first, start, end = g + 1, None, None
    if start is not None:
        spans.append(RowGroupSpan(first, meta.num_row_groups, start, end))
    if not spans:  # no row groups: one empty unit
        spans.append(RowGroupSpan(0, 0, 0, 0))
    return spans
