"""Keep-first decisions over one partition of exact-dedup keys, and saved indexes.

A run partitions keys by digest prefix and resolves each partition on its own (see
`DedupExactStage.resolve`); the pipe's spill does the same on its own files. Either way a
record is dropped exactly when an earlier record (or a preferred one, with `keep.prefer`) has
the same key.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from curate.dedup.exact_keys import DIGEST_DTYPE
from curate.dedup.index_file import IdParts, IndexFile, write_index
from curate.dedup.index_file import find_index as find_index_file

# numpy bytes per record while resolving: digest + position, plus sort scratch
BYTES_PER_RECORD = 64
_ENTRY = np.dtype([("digest", DIGEST_DTYPE), ("pos", "<i8")])
INDEX_SUFFIX = ".dedup-exact.npz"


def resolve_partition(digests: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dropped positions, the position each one duplicates), keep-first.

    `positions` must ascend; a stable sort by digest then keeps each group in input order.
    """
    if len(digests) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(digests, kind="stable")
    d = digests[order]
    p = positions[order]
    same = d[1:] == d[:-1]
    if not same.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.where(np.concatenate(([True], ~same)), np.arange(len(d)), 0)
    first = np.maximum.accumulate(starts)
    dup = np.concatenate(([False], same))
    return p[dup], p[first[dup]]


def prefer_survivors(
    groups: dict[int, list[int]], ranks: dict[int, list], prefer: list[str]
) -> dict[int, int]:
    """For each group (keyed by its first position), the position that survives under `prefer`.

    Fields prefixed with '-' rank descending. Missing values rank last; ties by input order.
    """

    compare = rank_comparator(ranks, prefer)
    return {
        first: min(members, key=functools.cmp_to_key(compare)) if len(members) > 1 else first
        for first, members in groups.items()
    }


def rank_comparator(ranks: dict[int, list], prefer: list[str]):
    """cmp(a, b) for positions a, b: by `prefer` fields ('-' = descending, missing last),
    then input order."""

    def compare(a: int, b: int) -> int:
        for i, spec in enumerate(prefer):
            va, vb = ranks[a][i], ranks[b][i]
            if va == vb:
                continue
            if va is None:
                return 1
            if vb is None:
                return -1
            try:
                less = va < vb
            except TypeError:
                less = str(va) < str(vb)
            if spec.startswith("-"):
                less = not less
            return -1 if less else 1
        return -1 if a < b else (1 if a > b else 0)

    return compare


_MAGIC = b"CURATE-EXACT-INDEX-1\n"


def save_index_parts(path: Path, parts: list[tuple[Path, Path, int]], label: dict) -> None:
    """The index from sorted parts that follow each other in digest order (one per reduce
    job): (digests file, ids file, count) each, streamed, never all in memory."""
    write_index(
        path,
        _MAGIC,
        label,
        [(d.read_bytes() for d, _i, _n in parts)],
        IdParts([i for _d, i, _n in parts], sum(n for _d, _i, n in parts)),
    )


def save_index(path: Path, digests: np.ndarray, ids: list[str], label: dict) -> None:
    """A version's exact-dedup index: sorted digests, the id of each, and who made it."""
    order = np.argsort(digests, kind="stable")
    write_index(
        path, _MAGIC, label, [digests[order].tobytes()], list(map(ids.__getitem__, order.tolist()))
    )


def find_index(path: Path) -> Path:
    return find_index_file(path, INDEX_SUFFIX, "exact-dedup")


class LoadedIndex:
    """An earlier version's index, for `against`: sorted digests searched with numpy."""

    def __init__(self, path: Path):
        path = find_index(path)
        index = IndexFile(path, _MAGIC, "exact-dedup")
        self.label = index.header
        n = self.label["records"]
        self.digests = np.frombuffer(
            index.data, dtype=DIGEST_DTYPE, count=n, offset=index.take(16 * n)
        )
        self.ids = index.ids()
        self.path = path

    def lookup(self, digests: np.ndarray) -> np.ndarray:
        """Index into this index's ids for each digest present, -1 where absent."""
        if not len(self.digests) or not len(digests):
            return np.full(len(digests), -1, np.int64)
        at = np.searchsorted(self.digests, digests)
        at_clipped = np.minimum(at, len(self.digests) - 1)
        hit = self.digests[at_clipped] == digests
        return np.where(hit, at_clipped, -1)

    def name(self) -> str:
        return f"{self.label.get('name', '?')}@{self.label.get('version', '?')}"
