"""The file layout both dedup indexes share: a magic line, an 8-byte header length, a JSON
header (sorted keys), the arrays, then the ids joined by newlines. Plain and deterministic
(numpy's .npz would embed zip timestamps), so equal runs write equal bytes."""

from __future__ import annotations

from pathlib import Path

import orjson


def write_index(
    path: Path, magic: bytes, header: dict, arrays: list[bytes], ids: list[str]
) -> None:
    from curate.executors.units import atomic_write

    blob = "\n".join(ids).encode("utf-8", "surrogatepass")
    head = orjson.dumps(
        {**header, "records": len(ids), "ids_bytes": len(blob)}, option=orjson.OPT_SORT_KEYS
    )
    atomic_write(path, b"".join([magic, len(head).to_bytes(8, "little"), head, *arrays, blob]))


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
