"""Field access on records by dotted path (`meta.repo_name`).

Records are plain dicts as parsed by orjson; setters create intermediate objects but never
reorder existing keys, so output keeps the input's field order.
"""

from __future__ import annotations

from typing import Any

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
