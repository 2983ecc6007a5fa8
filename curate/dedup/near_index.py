"""A version's near-dedup index: band keys, signatures and ids of the records it kept, so a
later version can drop near-duplicates of what an earlier one already has (`against`).

A plain, deterministic binary layout: a magic line, a JSON header (parameters, counts, who
made it), then the arrays and the ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.dedup.index_file import IndexFile, find_index, write_index

MAGIC = b"CURATE-NEAR-INDEX-1\n"
SUFFIX = ".near-index"


def save_near_index(
    path: Path, keys: np.ndarray, sigs: np.ndarray, ids: list[str], params: dict, label: dict
) -> None:
    arrays = [
        np.ascontiguousarray(keys, dtype=np.uint64).tobytes(),
        np.ascontiguousarray(sigs, dtype=np.uint32).tobytes(),
    ]
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
