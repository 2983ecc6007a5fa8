"""A version's near-dedup index: band keys, signatures and ids of the records it kept, so a
later version can drop near-duplicates of what an earlier one already has (`against`).

A plain, deterministic binary layout: a magic line, a JSON header (parameters, counts, who
made it), then the arrays and the ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

MAGIC = b"CURATE-NEAR-INDEX-1\n"
SUFFIX = ".near-index"


def save_near_index(
    path: Path, keys: np.ndarray, sigs: np.ndarray, ids: list[str], params: dict, label: dict
) -> None:
    from curate.executors.units import atomic_write

    blob = "\n".join(ids).encode("utf-8", "surrogatepass")
    header = orjson.dumps(
        {**label, "params": params, "records": len(ids), "ids_bytes": len(blob)},
        option=orjson.OPT_SORT_KEYS,
    )
    atomic_write(
        path,
        b"".join(
            [
                MAGIC,
                len(header).to_bytes(8, "little"),
                header,
                np.ascontiguousarray(keys, dtype=np.uint64).tobytes(),
                np.ascontiguousarray(sigs, dtype=np.uint32).tobytes(),
                blob,
            ]
        ),
    )


class NearIndex:
    def __init__(self, path: Path):
        if path.is_dir():
            found = sorted(path.glob(f"indexes/*{SUFFIX}")) or sorted(path.glob(f"*{SUFFIX}"))
            if not found:
                raise ValueError(f"{path}: no near-dedup index (*{SUFFIX}) in this folder")
            path = found[0]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{path}: cannot read index ({exc.strerror})") from None
        if not data.startswith(MAGIC):
            raise ValueError(f"{path}: not a curate near-dedup index")
        pos = len(MAGIC)
        size = int.from_bytes(data[pos : pos + 8], "little")
        pos += 8
        self.header = orjson.loads(data[pos : pos + size])
        pos += size
        params, n = self.header["params"], self.header["records"]
        self.keys = np.frombuffer(data, np.uint64, n * params["bands"], pos).reshape(
            n, params["bands"]
        )
        pos += 8 * n * params["bands"]
        self.sigs = np.frombuffer(data, np.uint32, n * params["num_perm"], pos).reshape(
            n, params["num_perm"]
        )
        pos += 4 * n * params["num_perm"]
        blob = data[pos : pos + self.header["ids_bytes"]].decode("utf-8", "surrogatepass")
        self.ids = blob.split("\n") if n else []
        self.path = path

    @property
    def params(self) -> dict:
        return self.header["params"]

    def name(self) -> str:
        return f"{self.header.get('name', '?')}@{self.header.get('version', '?')}"
