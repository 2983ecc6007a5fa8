"""What a dataset is made of: records and text bytes per subset, language and license.

Filled from whatever annotations the stages wrote (`meta.subset`, `meta.language`,
`meta.license`); absent annotations give empty maps, never guesses.
"""

from __future__ import annotations

from curate.fields import Fields
from curate.records import get_path

DIMENSIONS = {
    "subset": ("meta", "subset"),
    "language": ("meta", "language"),
    "license": ("meta", "license"),
}


def _values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):  # multi-subset tagging
        return [str(v) for v in value if v is not None]
    if isinstance(value, dict):  # meta.license = {expression, source, allowed}
        expr = value.get("expression")
        return [str(expr)] if expr is not None else []
    return [str(value)]


class Composition:
    def __init__(self) -> None:
        self.records = 0
        self.bytes = 0
        self.groups: dict[str, dict[str, list[int]]] = {d: {} for d in DIMENSIONS}

    def add_records(self, records: list[dict], fields: Fields) -> None:
        parts = fields.text_parts
        for record in records:
            text = get_path(record, parts)
            size = len(text.encode("utf-8")) if type(text) is str else 0
            self.records += 1
            self.bytes += size
            for dim, path in DIMENSIONS.items():
                for value in _values(get_path(record, path)):
                    slot = self.groups[dim].setdefault(value, [0, 0])
                    slot[0] += 1
                    slot[1] += size

    def to_state(self) -> dict:
        return {"records": self.records, "bytes": self.bytes, "groups": self.groups}

    def merge_state(self, state: dict) -> None:
        self.records += state["records"]
        self.bytes += state["bytes"]
        for dim, values in state["groups"].items():
            target = self.groups.setdefault(dim, {})
            for value, (n, size) in values.items():
                slot = target.setdefault(value, [0, 0])
                slot[0] += n
                slot[1] += size

    def to_manifest(self) -> dict:
        """Stable, sorted, with shares in percent of records and of text bytes (4 decimals)."""
        out: dict = {"records": self.records, "bytes": self.bytes}
        for dim in sorted(self.groups):
            rows = {}
            for value in sorted(self.groups[dim]):
                n, size = self.groups[dim][value]
                rows[value] = {
                    "records": n,
                    "bytes": size,
                    "share_records_pct": round(100 * n / self.records, 4) if self.records else 0.0,
                    "share_bytes_pct": round(100 * size / self.bytes, 4) if self.bytes else 0.0,
                }
            out[dim] = rows
        return out
