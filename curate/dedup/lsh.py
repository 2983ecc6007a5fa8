"""LSH banding and the near-duplicate decision rule, shared by pipes and runs.

The rule: walking records in order, a record is dropped when it is a *verified*
near-duplicate of a record already kept. Candidates come from band buckets; a band collision
alone never removes anything — the estimated Jaccard of the two signatures (or, with
`verify: exact`, the true Jaccard of their shingle sets) must reach the threshold.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import repeat

import numpy as np

from curate.dedup import _kernels


def _integrate(f, lo: float, hi: float, steps: int = 2000) -> float:
    if hi <= lo:
        return 0.0
    xs = np.linspace(lo, hi, steps + 1)
    ys = f(xs)
    h = (hi - lo) / steps
    return float(h / 3 * (ys[0] + ys[-1] + 4 * ys[1:-1:2].sum() + 2 * ys[2:-1:2].sum()))


@lru_cache(maxsize=64)
def optimal_params(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising weighted false-positive + false-negative probability mass,
    as datasketch's MinHashLSH chooses them."""
    best, best_err = (1, 1), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = _integrate(lambda s, b=b, r=r: 1 - (1 - s**r) ** b, 0.0, threshold)
            fn = _integrate(lambda s, b=b, r=r: 1 - (1 - (1 - s**r) ** b), threshold, 1.0)
            err = fp * fp_weight + fn * fn_weight
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: one 64-bit key per band of each signature (each band salted, so a
    key names its band)."""
    return _kernels.band_keys(np.ascontiguousarray(signatures, dtype=np.uint32), bands, rows)


def jaccard_unique(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted, de-duplicated shingle-hash arrays."""
    return _kernels.jaccard(a, b)


class NearDecider:
    """Keeps the band keys of the records kept so far and decides record after record.

    One dict holds every band's keys (`band_keys` salts each band, so a key names its band):
    a kept record's index, or a list of them when several kept records share the key.
    """

    def __init__(self, bands: int, threshold: float, num_perm: int, exact: bool = False):
        self.bands = bands
        self.threshold = threshold
        self.exact = exact
        self.buckets: dict[int, int | list[int]] = {}
        self._sigs = np.zeros((1024, num_perm), dtype=np.uint32)
        self._keys = np.zeros((1024, bands), dtype=np.uint64)
        self._sets: list[np.ndarray | None] = []  # sorted unique shingle hashes of kept records
        self.kept = 0

    def preload(self, keys: np.ndarray, sigs: np.ndarray) -> None:
        """Records of earlier versions, kept before anything here; verified by signature."""
        for row in range(len(keys)):
            self._keep(keys[row].tolist(), sigs[row], None, keys[row])

    def kept_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self._keys[: self.kept], self._sigs[: self.kept]

    def decide(
        self, keys: np.ndarray, sig: np.ndarray, shingles: np.ndarray | None = None
    ) -> tuple[int | None, float]:
        """(index of the kept record this one duplicates, similarity), or (None, 0.0) to keep it.

        Indices are in the order records were kept. Candidates are tried band by band, each
        bucket's records in the order they were kept.
        """
        key_list = keys.tolist()
        found = list(map(self.buckets.get, key_list))
        if found.count(None) < len(found):
            tried: set[int] = set()
            for members in found:
                if members is None:
                    continue
                for j in members if members.__class__ is list else (members,):
                    if j in tried:
                        continue
                    tried.add(j)
                    if self.exact and shingles is not None and self._sets[j] is not None:
                        sim = jaccard_unique(shingles, self._sets[j])
                    else:
                        sim = float(np.count_nonzero(self._sigs[j] == sig)) / len(sig)
                    if sim >= self.threshold:
                        return j, sim
        self._keep(key_list, sig, shingles, keys, found)
        return None, 0.0

    def _keep(
        self,
        key_list: list[int],
        sig: np.ndarray,
        shingles: np.ndarray | None,
        keys: np.ndarray,
        found: list | None = None,
    ) -> None:
        """Add a record to the kept ones; `found` is what its keys held, when known."""
        idx = self.kept
        if idx >= len(self._sigs):
            self._grow()
        self._sigs[idx] = sig
        self._keys[idx] = keys
        if self.exact:
            self._sets.append(shingles)
        buckets = self.buckets
        if found is not None and found.count(None) == len(found):
            buckets.update(zip(key_list, repeat(idx)))  # all new: the common case, in C
        else:
            for key in key_list:
                members = buckets.get(key)
                if members is None:
                    buckets[key] = idx
                elif members.__class__ is list:
                    members.append(idx)
                else:
                    buckets[key] = [members, idx]
        self.kept += 1

    def _grow(self) -> None:
        size = 2 * len(self._sigs)
        grown = np.zeros((size, self._sigs.shape[1]), dtype=np.uint32)
        grown[: self.kept] = self._sigs[: self.kept]
        self._sigs = grown
        grown_keys = np.zeros((size, self._keys.shape[1]), dtype=np.uint64)
        grown_keys[: self.kept] = self._keys[: self.kept]
        self._keys = grown_keys


def candidate_mask(keys: np.ndarray) -> np.ndarray:
    """Records that share at least one band key with another record (the only ones that can
    be dropped, or be what another record duplicates)."""
    mask = np.zeros(len(keys), dtype=bool)
    for band in range(keys.shape[1]):
        _, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        mask |= counts[inverse] > 1
    return mask
