"""What a dataset is made of: records and text bytes per subset, language (of files: code,
markup, prose formats), natural language and license.

Filled from whatever annotations the stages wrote (`meta.subset`, `meta.language`,
`meta.natural_language`, `meta.license`); absent annotations give empty maps, never guesses.
"""

from __future__ import annotations

from curate.core.fields import Fields
from curate.core.records import get_path

DIMENSIONS = {
    "subset": ("meta", "subset"),
    "language": ("meta", "language"),
    "natural_language": ("meta", "natural_language"),
    "license": ("meta", "license"),
}
# written only when some record has one: manifests of datasets without it keep their bytes
OPTIONAL_DIMENSIONS = frozenset({"natural_language"})


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

    def add_records(self, records: list[dict], fields: Fields, sign: int = 1) -> None:
        """Count records in (or, with sign=-1, out: records a later pass dropped)."""
        parts = fields.text_parts
        top = parts[0] if len(parts) == 1 else None
        groups = self.groups
        for record in records:
            text = record.get(top) if top is not None else get_path(record, parts)
            if type(text) is str:
                size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
            else:
                size = 0
            self.records += sign
            self.bytes += sign * size
            meta = record.get("meta")
            if type(meta) is not dict or not meta:
                continue
            for dim in DIMENSIONS:
                value = meta.get(dim)
                if value is None:
                    continue
                for name in _values(value):
                    slot = groups[dim].setdefault(name, [0, 0])
                    slot[0] += sign
                    slot[1] += sign * size

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
                if n <= 0:
                    continue
                rows[value] = {
                    "records": n,
                    "bytes": size,
                    "share_records_pct": round(100 * n / self.records, 4) if self.records else 0.0,
                    "share_bytes_pct": round(100 * size / self.bytes, 4) if self.bytes else 0.0,
                }
            if rows or dim not in OPTIONAL_DIMENSIONS:
                out[dim] = rows
        return out
