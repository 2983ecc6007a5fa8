"""Shingles and MinHash signatures: the Python face of the compiled kernels (`_kernels.pyx`).

Definitions (the kernels are their one implementation; `tests/minhash_reference.py` restates
them in plain Python and a property test holds the two equal):
- a document is normalised to bytes: `words` lowercases, `chars` lowercases and folds
  whitespace runs to one space, `code` keeps the text; UTF-8 with lone surrogates passed
  through;
- tokens: `words` and `code` take maximal runs of ASCII letters, digits, `_` and non-ASCII
  bytes; `code` also takes every other printable ASCII byte as a token of its own; the rest
  separates tokens. `chars` takes n-byte windows;
- a token's hash is sum(byte_i * 0x01000193^i) + length, mod 2^32; an n-gram's is
  fmix64(sum_j token_{k+j} * 0x9E3779B97F4A7C15^j + n mod 2^64) >> 32 (a `chars` window:
  fmix64(its token hash + n) >> 32); a document shorter than n tokens is one shingle of all of
  them;
- signatures follow datasketch (>= 2.0, scheme "affine32", seed 1): MurmurHash3's fmix32, then
  `a * h + b mod 2^32` per permutation, minimum over shingles; a `datasketch.MinHash` built with
  `hashfunc=shingle_hash32` over `shingles(text)` holds exactly the signature computed here.
"""

from __future__ import annotations

import numpy as np

from curate.dedup import _kernels


def shingle_hashes(text: str, tokenizer: str = "words", n: int = 5) -> np.ndarray:
    """32-bit hashes of a document's shingles (with repeats; MinHash ignores them)."""
    return _kernels.shingle_hashes([text], tokenizer, n)[0]


def shingles(text: str, tokenizer: str = "words", n: int = 5) -> list[bytes]:
    """The shingles themselves, as bytes, for use with `shingle_hash32` (e.g. in datasketch).

    Word and code shingles are their tokens joined by one space (tokens hold no spaces).
    """
    data = _kernels.normalize(text, tokenizer)
    if not data:
        return []
    if tokenizer == "chars":
        n = min(n, len(data))
        return [data[i : i + n] for i in range(len(data) - n + 1)]
    starts, ends = _kernels.spans(data, tokenizer)
    tokens = [data[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    if not tokens:
        return []
    n = min(n, len(tokens))
    return [b" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def shingle_hash32(shingle: bytes, tokenizer: str = "words") -> int:
    """The hash `shingle_hashes` gives this shingle; pass it to datasketch as `hashfunc`.

    For `chars` use `functools.partial(shingle_hash32, tokenizer="chars")`.
    """
    return _kernels.shingle_hash(shingle, tokenizer)


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b), from the same random stream."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


class ShingleSets:
    """Each document's sorted, distinct shingle hashes, as slices of one array.

    Sketches travel between processes: this pickles as one array and its cut points, where a
    list of arrays pickles (and unpickles) array by array.
    """

    __slots__ = ("values", "cuts")

    def __init__(self, values: np.ndarray, cuts: list[int]):
        self.values = values
        self.cuts = cuts  # document i: values[cuts[i]:cuts[i + 1]]

    def __len__(self) -> int:
        return len(self.cuts) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.values[self.cuts[i] : self.cuts[i + 1]]

    def __iter__(self):
        values, cuts = self.values, self.cuts
        return (values[a:b] for a, b in zip(cuts, cuts[1:]))


class MinHasher:
    """Signatures, band keys and shingle sets of many documents per kernel call."""

    def __init__(
        self, num_perm: int = 128, tokenizer: str = "words", ngram: int = 5, seed: int = 1
    ):
        if tokenizer not in ("words", "chars", "code"):
            raise ValueError(f"unknown tokenizer {tokenizer!r}")
        self.num_perm = num_perm
        self.tokenizer = tokenizer
        self.ngram = ngram
        self.a, self.b = permutations(num_perm, seed)

    def signatures(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), num_perm) uint32 array; an empty document gets all 0xFFFFFFFF."""
        return self.sketch(texts, 1, 1, sets=False)[0]

    def sketch(
        self, texts: list[str], bands: int, rows: int, sets: bool
    ) -> tuple[np.ndarray, np.ndarray, ShingleSets | None]:
        """(signatures, band keys (n x bands uint64), shingle sets or None) of `texts`.

        The kernel runs without the GIL: threads calling this sketch in parallel.
        """
        sigs, keys, values, cuts = _kernels.sketch(
            texts, self.tokenizer, self.ngram, self.a, self.b, bands, rows, sets
        )
        return sigs, keys, (ShingleSets(values, cuts) if sets else None)
