"""LSH banding and the near-duplicate decision rule, shared by pipes and runs.

The rule: walking records in order, a record is dropped when it is a *verified*
near-duplicate of a record already kept. Candidates come from band buckets; a band collision
alone never removes anything — the estimated Jaccard of the two signatures (or, with
`verify: exact`, the true Jaccard of their shingle sets) must reach the threshold.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from curate.dedup import _kernels
from curate.dedup._kernels import NearDecider

__all__ = ["NearDecider", "band_keys", "candidate_mask", "jaccard_unique", "optimal_params"]


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


def candidate_mask(keys: np.ndarray) -> np.ndarray:
    """Records that share at least one band key with another record (the only ones that can
    be dropped, or be what another record duplicates)."""
    mask = np.zeros(len(keys), dtype=bool)
    for band in range(keys.shape[1]):
        _, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        mask |= counts[inverse] > 1
    return mask
