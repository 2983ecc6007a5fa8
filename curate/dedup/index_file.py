"""The file layout both dedup indexes share: a magic line, an 8-byte header length, a JSON
header (sorted keys), the arrays, then the ids joined by newlines. Plain and deterministic
(numpy's .npz would embed zip timestamps), so equal runs write equal bytes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass
class IdParts:
    """Ids streamed from parts: each part's ids already joined by newlines."""

    parts: list[Path]
    count: int


def write_index(
    path: Path,
    magic: bytes,
    header: dict,
    arrays: list[bytes | Iterable[bytes]],
    ids: list[str] | IdParts,
) -> None:
    """Write an index atomically. Each array is bytes or an iterable of chunks, and the ids a
    list or files of parts, so a large index streams from its parts instead of being joined
    in memory."""
    if isinstance(ids, IdParts):
        sizes = [p.stat().st_size for p in ids.parts]
        nonempty = [p for p, n in zip(ids.parts, sizes) if n]
        count, nbytes = ids.count, sum(sizes) + max(len(nonempty) - 1, 0)
        blob = None
    else:
        blob = "\n".join(ids).encode("utf-8", "surrogatepass")
        count, nbytes = len(ids), len(blob)
    head = orjson.dumps(
        {**header, "records": count, "ids_bytes": nbytes}, option=orjson.OPT_SORT_KEYS
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(magic)
        fh.write(len(head).to_bytes(8, "little"))
        fh.write(head)
        for array in arrays:
            if isinstance(array, (bytes, bytearray, memoryview)):
                fh.write(array)
            else:
                for chunk in array:
                    fh.write(chunk)
        if blob is not None:
            fh.write(blob)
        else:
            for i, part in enumerate(nonempty):
                if i:
                    fh.write(b"\n")
                fh.write(part.read_bytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def find_index(path: Path, suffix: str, kind: str) -> Path:
    """The index itself, or the first one in a version folder (`indexes/`, then the top)."""
    if not path.is_dir():
        return path
    found = sorted(path.glob(f"indexes/*{suffix}")) or sorted(path.glob(f"*{suffix}"))
    if not found:
        raise ValueError(f"{path}: no {kind} index (*{suffix}) in this folder")
    return found[0]


class IndexFile:
    """A read index: its header, and a cursor over the arrays that follow it."""

    def __init__(self, path: Path, magic: bytes, kind: str):
        try:
            self.data = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{path}: cannot read index ({exc.strerror})") from None
        if not self.data.startswith(magic):
            raise ValueError(f"{path}: not a curate {kind} index")
        pos = len(magic)
        size = int.from_bytes(self.data[pos : pos + 8], "little")
        pos += 8
        self.header: dict = orjson.loads(self.data[pos : pos + size])
        self.pos = pos + size

    def take(self, nbytes: int) -> int:
        """The offset of the next `nbytes` bytes, and move past them."""
        start = self.pos
        self.pos += nbytes
        return start

    def ids(self) -> list[str]:
        blob = self.data[self.pos : self.pos + self.header["ids_bytes"]]
        return blob.decode("utf-8", "surrogatepass").split("\n") if self.header["records"] else []
