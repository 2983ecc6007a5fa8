"""Field access on records by dotted path (`meta.repo_name`).

Records are plain dicts as parsed by orjson; setters create intermediate objects but never
reorder existing keys, so output keeps the input's field order.
"""

from __future__ import annotations

from typing import Any

import orjson

_MISSING = object()


def split_path(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def get_path(record: dict, parts: tuple[str, ...], default: Any = None) -> Any:
    """Value at a pre-split dotted path, or `default` when any step is missing or not an object."""
    node: Any = record
    for key in parts:
        if type(node) is not dict:
            return default
        node = node.get(key, _MISSING)
        if node is _MISSING:
            return default
    return node


def set_path(record: dict, parts: tuple[str, ...], value: Any) -> None:
    """Set a value, creating missing intermediate objects (a non-object in the way is replaced)."""
    node = record
    for key in parts[:-1]:
        child = node.get(key)
        if type(child) is not dict:
            child = {}
            node[key] = child
        node = child
    node[parts[-1]] = value


def iter_paths(record: dict, prefix: str = "") -> list[str]:
    """Every dotted path in a record, descending into objects (not lists)."""
    out: list[str] = []
    for key, value in record.items():
        path = f"{prefix}{key}"
        out.append(path)
        if type(value) is dict:
            out.extend(iter_paths(value, path + "."))
    return out


class BigInt(int):
    """An integer outside orjson's 64-bit range, kept exactly: written back as its digits."""

    def __new__(cls, text: str) -> BigInt:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


class ExactFloat(float):
    """A number whose decimal text a double cannot hold exactly: written back as that text."""

    def __new__(cls, text: str) -> ExactFloat:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def _default(value: Any) -> Any:
    text = getattr(value, "text", None)
    if type(value) in (BigInt, ExactFloat) and text is not None:
        return orjson.Fragment(text.encode())
    raise TypeError(f"cannot serialise {type(value).__name__}")


_DUMP = orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps_record(record: dict) -> bytes:
    """One record as a compact JSON line (no newline); big numbers keep their digits."""
    return orjson.dumps(record, default=_default, option=_DUMP)


def dumps_record_nl(record: dict) -> bytes:
    """One record as a compact JSON line ending in a newline."""
    return orjson.dumps(record, default=_default, option=_DUMP | orjson.OPT_APPEND_NEWLINE)


def dumps_records(records: list[dict]) -> bytes:
    """Records as JSON lines."""
    dumps = orjson.dumps
    option = _DUMP | orjson.OPT_APPEND_NEWLINE
    return b"".join([dumps(r, default=_default, option=option) for r in records])
