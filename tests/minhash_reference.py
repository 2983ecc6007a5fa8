"""The shingle, signature and band-key definitions of `curate.dedup.minhash`, in plain Python.

Slow and obvious on purpose: the property tests hold the compiled kernels equal to this.
"""

from __future__ import annotations

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1
P32 = 0x01000193
Q64 = 0x9E3779B97F4A7C15


def normalize(text: str, tokenizer: str) -> bytes:
    if tokenizer == "code":
        return text.encode("utf-8", "surrogatepass")
    if tokenizer == "chars":
        return " ".join(text.lower().split()).encode("utf-8", "surrogatepass")
    return text.lower().encode("utf-8", "surrogatepass")


def byte_class(b: int) -> str:
    if b >= 0x80 or chr(b).isalnum() or b == ord("_"):
        return "word"
    if b >= 0x21 and not chr(b).isspace():
        return "punct"
    return "space"


def tokens(data: bytes, tokenizer: str) -> list[bytes]:
    out, current = [], b""
    for b in data:
        kind = byte_class(b)
        if kind == "word":
            current += bytes([b])
            continue
        if current:
            out.append(current)
            current = b""
        if kind == "punct" and tokenizer == "code":
            out.append(bytes([b]))
    if current:
        out.append(current)
    return out


def token_hash(token: bytes) -> int:
    return (sum(b * pow(P32, i, 1 << 32) for i, b in enumerate(token)) + len(token)) & M32


def fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    return h ^ (h >> 33)


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def shingle_hashes(text: str, tokenizer: str, n: int) -> list[int]:
    data = normalize(text, tokenizer)
    if not data:
        return []
    if tokenizer == "chars":
        width = min(n, len(data))
        return [
            fmix64(token_hash(data[i : i + width]) + width) >> 32
            for i in range(len(data) - width + 1)
        ]
    hashes = [token_hash(t) for t in tokens(data, tokenizer)]
    if not hashes:
        return []
    width = min(n, len(hashes))
    out = []
    for k in range(len(hashes) - width + 1):
        acc = sum(hashes[k + j] * pow(Q64, j, 1 << 64) for j in range(width)) + width
        out.append(fmix64(acc & M64) >> 32)
    return out


def signature(hashes: list[int], a: list[int], b: list[int]) -> list[int]:
    mixed = [fmix32(h) for h in hashes]
    return [min(((ai * h + bi) & M32 for h in mixed), default=M32) for ai, bi in zip(a, b)]


def band_keys(sig: list[int], bands: int, rows: int) -> list[int]:
    keys = []
    for band in range(bands):
        k = (band * Q64) & M64
        for j in range(band * rows, (band + 1) * rows):
            k = ((k ^ sig[j]) * 0x100000001B3) & M64
        k ^= k >> 29
        k = (k * 0xBF58476D1CE4E5B9) & M64
        k ^= k >> 32
        keys.append(k)
    return keys


class Decider:
    """The near-duplicate decision rule (`curate.dedup.lsh`), record by record."""

    def __init__(self, threshold: float, exact: bool):
        self.threshold, self.exact = threshold, exact
        self.buckets: dict[int, list[int]] = {}
        self.kept: list[tuple[list[int], set[int] | None]] = []

    def decide(self, keys: list[int], sig: list[int], shingles: set[int] | None):
        tried: set[int] = set()
        for key in keys:
            for j in self.buckets.get(key, []):
                if j in tried:
                    continue
                tried.add(j)
                other_sig, other_set = self.kept[j]
                if self.exact and shingles is not None and other_set is not None:
                    union = len(shingles | other_set)
                    sim = len(shingles & other_set) / union if union else 1.0
                else:
                    sim = sum(x == y for x, y in zip(sig, other_sig)) / len(sig)
                if sim >= self.threshold:
                    return j, sim
        self.keep(keys, sig, shingles)
        return None, 0.0

    def keep(self, keys: list[int], sig: list[int], shingles: set[int] | None) -> None:
        for key in keys:
            self.buckets.setdefault(key, []).append(len(self.kept))
        self.kept.append((sig, shingles if self.exact else None))
