"""`curate stats`: a streaming summary of a dataset with bounded memory.

The text-length median is exact: lengths are kept as a histogram (length -> count), whose size
is the number of distinct lengths, not the number of records.
"""

from __future__ import annotations

import sys
from collections import Counter

import orjson

from curate.core.fields import Fields
from curate.core.records import get_path, iter_paths

_MISSING = object()


class DatasetStats:
    def __init__(self, fields: Fields):
        self.fields = fields
        self.records = 0
        self.bytes = 0
        self.empty_lines = 0
        self.errors = 0
        self.presence: Counter = Counter()
        self.lengths: Counter = Counter()
        self.non_text = 0

    def add(self, records: list[dict], raws: list[bytes] | None = None) -> None:
        """Count records; their byte size comes from the raw lines when given."""
        dumps = orjson.dumps
        parts = self.fields.text_parts
        if raws is not None:
            self.bytes += sum(map(len, raws)) + len(raws)
        for record in records:
            self.records += 1
            if raws is None:
                self.bytes += len(dumps(record)) + 1
            self.presence.update(iter_paths(record))
            text = get_path(record, parts, _MISSING)
            if type(text) is str:
                self.lengths[len(text)] += 1
            else:
                self.non_text += 1

    def _median(self) -> float | None:
        total = sum(self.lengths.values())
        if not total:
            return None
        ordered = sorted(self.lengths.items())
        lo_rank, hi_rank = (total - 1) // 2, total // 2
        seen, lo, hi = 0, None, None
        for length, count in ordered:
            if lo is None and seen + count > lo_rank:
                lo = length
            if seen + count > hi_rank:
                hi = length
                break
            seen += count
        return (lo + hi) / 2

    def to_dict(self) -> dict:
        median = self._median()
        return {
            "records": self.records,
            "bytes": self.bytes,
            "empty_lines": self.empty_lines,
            "errors": self.errors,
            "fields": {path: self.presence[path] for path in sorted(self.presence)},
            "text_field": self.fields.text,
            "text_chars": {
                "min": min(self.lengths) if self.lengths else None,
                "median": (int(median) if median is not None and median.is_integer() else median),
                "max": max(self.lengths) if self.lengths else None,
            },
            "records_without_text": self.non_text,
        }


def render_stats(data: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)
    chars = data["text_chars"]
    console.print(f"records  {data['records']:,}")
    console.print(f"bytes    {data['bytes']:,} (as JSON lines, uncompressed)")
    if data["empty_lines"] or data["errors"]:
        console.print(f"skipped  {data['empty_lines']:,} empty lines, {data['errors']:,} bad lines")
    console.print(
        f"{data['text_field']} chars  min {chars['min']}  median {chars['median']}  max {chars['max']}"
    )
    table = Table("field", "present", "share")
    total = data["records"] or 1
    for path, count in data["fields"].items():
        table.add_row(path, f"{count:,}", f"{100 * count / total:.1f}%")
    console.print(table)
