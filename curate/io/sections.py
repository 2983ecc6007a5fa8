"""Files of numbered sections: how map results reach reduce partitions, and decisions reach
the units that apply them, without anyone reading more than its share.

A map task writes one file per unit with a section per partition; a reduce task reads its
partitions' sections from every unit's file (one contiguous read each, as sections are
stored in order); it writes one file with a section per unit, which each apply task reads.
"""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np

_MAGIC = b"CURATE-SECTIONS-1\n"
_ENTRY = np.dtype([("key", "<i8"), ("offset", "<u8"), ("length", "<u8")])


def write_sections(path: Path, sections: dict[int, Any]) -> None:
    """Pickle each non-empty section; atomically, so a complete file means a finished task."""
    keys = sorted(k for k, v in sections.items() if v is not None)
    blobs = [pickle.dumps(sections[k], protocol=pickle.HIGHEST_PROTOCOL) for k in keys]
    table = np.zeros(len(keys), dtype=_ENTRY)
    offset = 0
    for i, (key, blob) in enumerate(zip(keys, blobs)):
        table[i] = (key, offset, len(blob))
        offset += len(blob)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(_MAGIC + struct.pack("<q", len(keys)) + table.tobytes())
        for blob in blobs:
            fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_sections(path: Path, lo: int, hi: int | None = None) -> list[tuple[int, Any]]:
    """Sections with keys in [lo, hi) (just `lo` when hi is None), in key order."""
    hi = lo + 1 if hi is None else hi
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        head = fh.read(len(_MAGIC) + 8)
        if not head.startswith(_MAGIC):
            raise ValueError(f"{path}: not a curate sections file")
        (count,) = struct.unpack("<q", head[len(_MAGIC) :])
        table = np.frombuffer(fh.read(count * _ENTRY.itemsize), dtype=_ENTRY)
        base = len(head) + count * _ENTRY.itemsize
        a, b = np.searchsorted(table["key"], [lo, hi])
        if a >= b:
            return []
        first = int(table["offset"][a])
        last = int(table["offset"][b - 1] + table["length"][b - 1])
        fh.seek(base + first)
        blob = fh.read(last - first)
    out = []
    for key, offset, length in table[a:b].tolist():
        start = offset - first
        out.append((key, pickle.loads(blob[start : start + length])))
    return out


def section_sizes(path: Path, parts: int) -> np.ndarray:
    """Bytes of each section 0..parts-1 (0 where absent): what a reduce plan packs by."""
    sizes = np.zeros(parts, dtype=np.int64)
    if not path.exists():
        return sizes
    with open(path, "rb") as fh:
        head = fh.read(len(_MAGIC) + 8)
        (count,) = struct.unpack("<q", head[len(_MAGIC) :])
        table = np.frombuffer(fh.read(count * _ENTRY.itemsize), dtype=_ENTRY)
    sizes[table["key"]] = table["length"]
    return sizes


def load_decisions_file(folder: Path) -> dict[int, dict]:
    """Every unit's decisions from a reduce's decision files (for index writers)."""
    out: dict[int, dict] = {}
    for path in sorted(folder.glob("d*.sec")):
        for unit, part in read_sections(path, 0, 1 << 62):
            out.setdefault(unit, {}).update(part)
    return out
