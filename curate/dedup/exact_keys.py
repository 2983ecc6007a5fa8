"""Exact-dedup keys: 128 bits of SHA-256 over normalised text (or another field).

128 bits keep the index compact (16 bytes a record) while the chance that any two different
texts collide among n records is about n^2 / 2^129: for ten billion records, ~1e-19.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable

import numpy as np
import orjson

from curate.core.errors import RecordError
from curate.core.records import get_path, split_path

_MISSING = object()
DIGEST_DTYPE = np.dtype("S16")  # sorts and compares bytewise, like the digests themselves


def normalizer(mode: str) -> Callable[[str], str]:
    if mode == "none":
        return lambda text: text
    if mode == "whitespace":
        return lambda text: " ".join(text.split())
    if mode == "lower":
        return lambda text: " ".join(unicodedata.normalize("NFKC", text).lower().split())
    raise ValueError(f"unknown normalize mode {mode!r}")


class KeyMaker:
    """Computes the 16-byte key of a record for a given field and normalisation."""

    def __init__(self, field: str, normalize: str):
        self.field = field
        self.parts = split_path(field)
        self.normalize = normalizer(normalize)
        self.identity = normalize == "none"

    def text_of(self, record: dict) -> str:
        parts = self.parts
        value = (
            record.get(parts[0], _MISSING) if len(parts) == 1 else get_path(record, parts, _MISSING)
        )
        if type(value) is str:
            return value
        if value is _MISSING or value is None:
            raise RecordError(f"missing key field {self.field!r}")
        return orjson.dumps(value).decode()

    def digest(self, record: dict) -> bytes:
        text = self.text_of(record)
        if not self.identity:
            text = self.normalize(text)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:16]

    def digests(self, records: list[dict]) -> tuple[list[bytes], list[int], list[tuple[int, str]]]:
        """Keys of many records: (digests, rows that have one, [(row, problem)] for the rest).

        The common case (a top-level text field, no normalisation) runs in one tight loop.
        """
        sha = hashlib.sha256
        out: list[bytes] = []
        rows: list[int] = []
        bad: list[tuple[int, str]] = []
        key = self.parts[0] if self.identity and len(self.parts) == 1 else None
        for i, record in enumerate(records):
            if key is not None:
                text = record.get(key)
                if type(text) is str:
                    try:
                        out.append(sha(text.encode()).digest()[:16])
                        rows.append(i)
                        continue
                    except UnicodeEncodeError:  # a lone surrogate: the general path below
                        pass
            try:
                out.append(self.digest(record))
                rows.append(i)
            except RecordError as exc:
                bad.append((i, exc.problem))
        return out, rows, bad


def digests_to_array(digests: list[bytes]) -> np.ndarray:
    """16-byte digests -> one compact numpy array (16 bytes a record, no Python objects)."""
    if not digests:
        return np.zeros(0, dtype=DIGEST_DTYPE)
    return np.frombuffer(b"".join(digests), dtype=DIGEST_DTYPE).copy()
