"""A reader that hashes what it reads: input checksums come free with the one pass over them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO


class HashingReader:
    """Reads a binary file while hashing and counting every byte (input checksums, progress)."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.sha = hashlib.sha256()
        self.bytes = 0

    def read1(self, n: int = -1) -> bytes:
        data = self.fh.read1(n) if hasattr(self.fh, "read1") else self.fh.read(n)
        self.sha.update(data)
        self.bytes += len(data)
        return data

    read = read1


def hash_file(path: str) -> tuple[str, int]:
    """A file's SHA-256 and size (for inputs read by other means than a stream, e.g. Parquet)."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while data := fh.read(1 << 22):
            sha.update(data)
            size += len(data)
    return sha.hexdigest(), size


def sha256_file(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, size in bytes) of a file."""
    return hash_file(str(path))
