"""A version's near-dedup index: band keys, signatures and ids of the records it kept, so a
later version can drop near-duplicates of what an earlier one already has (`against`).

A plain, deterministic binary layout: a magic line, a JSON header (parameters, counts, who
made it), then the arrays and the ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from curate.dedup.index_file import IndexFile, find_index, write_index

MAGIC = b"CURATE-NEAR-INDEX-1\n"
SUFFIX = ".near-index"


def save_near_index(
    path: Path,
    keys: np.ndarray | Iterable[np.ndarray],
    sigs: np.ndarray | Iterable[np.ndarray],
    ids: list[str],
    params: dict,
    label: dict,
) -> None:
    """Keys and signatures as whole arrays, or as iterables of row blocks (streamed)."""

    def chunks(blocks, dtype) -> Iterable[bytes]:
        if isinstance(blocks, np.ndarray):
            blocks = [blocks]
        for block in blocks:
            yield np.ascontiguousarray(block, dtype=dtype).tobytes()

    arrays = [chunks(keys, np.uint64), chunks(sigs, np.uint32)]
    write_index(path, MAGIC, {**label, "params": params}, arrays, ids)


class NearIndex:
    def __init__(self, path: Path):
        path = find_index(path, SUFFIX, "near-dedup")
        index = IndexFile(path, MAGIC, "near-dedup")
        self.header = index.header
        params, n = self.header["params"], self.header["records"]
        bands, perms = params["bands"], params["num_perm"]
        self.keys = np.frombuffer(index.data, np.uint64, n * bands, index.take(8 * n * bands))
        self.keys = self.keys.reshape(n, bands)
        self.sigs = np.frombuffer(index.data, np.uint32, n * perms, index.take(4 * n * perms))
        self.sigs = self.sigs.reshape(n, perms)
        self.ids = index.ids()
        self.path = path

    @property
    def params(self) -> dict:
        return self.header["params"]

    def name(self) -> str:
        return f"{self.header.get('name', '?')}@{self.header.get('version', '?')}"
