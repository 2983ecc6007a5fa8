"""A labelled near-duplicate corpus built from real text on this machine.

Originals are non-overlapping ~3 KB slices of standard-library sources and license texts.
Originals that are already near-duplicates of each other are removed first (MinHash
candidates at a low threshold, confirmed by exact Jaccard), so the only near-duplicates left are
the planted ones: copies of some originals with seeded random word edits at known rates.
The truth is the decision rule applied with the *exact* Jaccard of curate's word 5-gram
shingle sets: in order, a document is removed when its true similarity with an earlier kept
document of its cluster reaches the threshold.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import orjson
from _corpus import DATA, stdlib_texts

EDIT_RATES = [0.0, 0.004, 0.008, 0.012, 0.016, 0.02, 0.025, 0.03, 0.04, 0.06, 0.1]


def _slices(target: int, size: int, rng: random.Random) -> list[str]:
    texts = [t for _, t in stdlib_texts()]
    for path in sorted(Path("/usr/share/common-licenses").glob("*")):
        if path.is_file():
            texts.append(path.read_text("utf-8", "replace"))
    out = []
    for text in texts:
        for start in range(0, len(text) - size // 2, size):
            piece = text[start : start + size]
            if len(piece.split()) >= 60:
                out.append(piece)
    rng.shuffle(out)
    return out[: target * 2]


def _edit(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    words = text.split(" ")
    out = []
    for w in words:
        r = rng.random()
        if r < rate / 3:
            continue  # delete
        if r < 2 * rate / 3:
            out.append(rng.choice(vocab))  # substitute
            continue
        out.append(w)
        if r < rate:
            out.append(rng.choice(vocab))  # insert
    return " ".join(out)


def _sets(texts: list[str]):
    from curate.dedup.minhash import shingle_hashes

    return [np.unique(shingle_hashes(t)) for t in texts]


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 1.0


def _drop_natural_duplicates(originals: list[str], threshold: float) -> list[str]:
    from curate.dedup.lsh import band_keys, candidate_mask
    from curate.dedup.minhash import MinHasher

    sigs = MinHasher(128).signatures(originals)
    keys = band_keys(sigs, 32, 4)  # catches pairs well below the threshold
    cand = np.flatnonzero(candidate_mask(keys))
    sets = _sets(originals)
    drop: set[int] = set()
    buckets: dict[tuple[int, int], list[int]] = {}
    for i in cand.tolist():
        for band in range(keys.shape[1]):
            for j in buckets.get((band, int(keys[i, band])), []):
                if j not in drop and _jaccard(sets[i], sets[j]) >= threshold - 0.25:
                    drop.add(i)
            buckets.setdefault((band, int(keys[i, band])), []).append(i)
    return [t for i, t in enumerate(originals) if i not in drop]


def build(
    path: Path | None = None,
    docs: int = 20_000,
    threshold: float = 0.8,
    seed: int = 3,
    size: int = 3500,
) -> tuple[Path, Path]:
    """Write data.jsonl and truth.json; returns their paths (cached)."""
    folder = path or DATA / f"near-{docs}"
    data, truth = folder / "data.jsonl", folder / "truth.json"
    if data.exists() and truth.exists():
        return data, truth
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    originals = _drop_natural_duplicates(_slices(docs, size, rng), threshold)
    vocab = sorted({w for t in originals[:500] for w in t.split() if w.isalpha()})
    n_orig = int(docs * 0.62)
    originals = originals[:n_orig]
    items: list[tuple[int, str]] = [(i, t) for i, t in enumerate(originals)]
    while len(items) < docs:
        cluster = rng.randrange(len(originals))
        items.append((cluster, _edit(originals[cluster], rng.choice(EDIT_RATES), rng, vocab)))
    rng.shuffle(items)
    records = [
        {"id": f"doc{i:06d}", "text": text, "meta": {"cluster": c}}
        for i, (c, text) in enumerate(items)
    ]
    sets = _sets([r["text"] for r in records])
    kept_in_cluster: dict[int, list[int]] = {}
    removed = []
    for i, record in enumerate(records):
        cluster = record["meta"]["cluster"]
        kept = kept_in_cluster.setdefault(cluster, [])
        if any(_jaccard(sets[i], sets[j]) >= threshold for j in kept):
            removed.append(record["id"])
        else:
            kept.append(i)
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    truth.write_bytes(
        orjson.dumps({"threshold": threshold, "removed": removed, "docs": len(records)})
    )
    return data, truth
