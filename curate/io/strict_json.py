"""The one canonical reading of a JSON line, for lines orjson's fast parse may misread.

orjson keeps the last of duplicated keys and turns integers past 64 bits (and decimals a double
cannot hold) into lossy floats, while curate copies untouched raw lines through. A line whose
compact re-serialisation differs from its bytes is read again here, by a parser that sees every
key and every number's text: a duplicated key is an error (or, by option, the last value wins
and the line is rewritten canonically), and big numbers keep their exact digits.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from curate.core.records import BigInt, ExactFloat

_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def _pairs_last(pairs: list[tuple[str, object]]) -> dict:
    return dict(pairs)


def _int(text: str) -> int:
    value = int(text)
    if _I64_MIN <= value <= _U64_MAX:
        return value
    return BigInt(text)


def _float(text: str) -> float:
    value = float(text)
    try:
        exact = Decimal(text) == Decimal(value)
    except InvalidOperation:  # pragma: no cover - json only hands over valid numbers
        exact = True
    return value if exact else ExactFloat(text)


class Strict:
    """Result of a strict read: the record, whether it holds exact-number wrappers, and
    whether the raw line must be replaced by the canonical form (duplicates collapsed)."""

    __slots__ = ("record", "exact_numbers", "canonicalised")

    def __init__(self, record: dict, exact_numbers: bool, canonicalised: bool):
        self.record = record
        self.exact_numbers = exact_numbers
        self.canonicalised = canonicalised


def strict_loads(line: bytes, keep_last: bool = False) -> Strict:
    """Parse a line orjson already accepted as an object. Raises `DuplicateKey` (unless
    `keep_last`), which names the key."""
    text = line.decode("utf-8")
    hook = _pairs
    canonicalised = False
    try:
        record = json.loads(text, object_pairs_hook=hook, parse_int=_int, parse_float=_float)
    except DuplicateKey:
        if not keep_last:
            raise
        record = json.loads(text, object_pairs_hook=_pairs_last, parse_int=_int, parse_float=_float)
        canonicalised = True
    return Strict(record, _has_exact(record), canonicalised)


def _has_exact(value: object) -> bool:
    kind = type(value)
    if kind is dict:
        return any(_has_exact(v) for v in value.values())  # type: ignore[union-attr]
    if kind is list:
        return any(_has_exact(v) for v in value)  # type: ignore[union-attr]
    return kind is BigInt or kind is ExactFloat
