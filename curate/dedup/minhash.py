"""Shingles and MinHash signatures, vectorised with numpy.

Shingle hashing never loops in Python per token or per shingle: a document's UTF-8 bytes are
classified in one pass, token hashes come from prefix sums of a polynomial hash (mod 2^64,
whose odd base is invertible), and n-gram hashes are sums of shifted token hashes. The same
value is available per shingle through `shingle_hash32`, so a `datasketch.MinHash` built with
`hashfunc=shingle_hash32` over `shingles(text)` holds exactly the signature computed here
(datasketch >= 2.0, scheme "affine32", seed 1): MurmurHash3's fmix32 pre-mix, then
`a * h + b mod 2^32` per permutation, minimum over shingles.

Tokenizers (after lowercasing for `words`/`chars`):
- words: maximal runs of ASCII letters, digits, `_` and non-ASCII bytes; punctuation and
  whitespace separate tokens and are dropped;
- chars: the text's UTF-8 bytes with whitespace runs folded to one space, n-byte windows;
- code: identifiers/numbers as above, and every other non-space byte as a token of its own;
  case is kept.
Documents shorter than n tokens give a single shingle of all their tokens.
"""

from __future__ import annotations

import numpy as np

U64 = np.uint64
_Q = U64(0x9E3779B97F4A7C15)
_P32 = np.uint32(0x01000193)  # FNV prime: odd, so invertible mod 2^32
_P32_INV = np.uint32(pow(0x01000193, -1, 1 << 32))  # combines token hashes into n-gram hashes
_MASK64 = (1 << 64) - 1

# byte classes: 1 = word byte, 2 = punctuation (a token of its own in `code`), 0 = space
_CLASS = np.zeros(256, dtype=np.uint8)
for _b in range(256):
    _c = chr(_b)
    if _b >= 0x80 or (_c.isascii() and (_c.isalnum() or _c == "_")):
        _CLASS[_b] = 1
    elif not _c.isspace() and _b >= 0x21:
        _CLASS[_b] = 2
_WORD = _CLASS == 1
_WORD_TABLE = bytes(_WORD.astype(np.uint8))  # for bytes.translate: 1 for word bytes
_PUNCT_TABLE = bytes((_CLASS == 2).astype(np.uint8))

_POW_CACHE: dict[str, np.ndarray] = {}
GROUP_BYTES = 256 * 1024


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    cached = _POW_CACHE.get("p")
    if cached is None or len(cached) < n + 1:
        size = max(n + 1, 2 * (len(cached) if cached is not None else 0), 1 << 16)
        with np.errstate(over="ignore"):
            p = np.cumprod(np.full(size, _P32, dtype=np.uint32), dtype=np.uint32)
            p = np.concatenate(([np.uint32(1)], p[:-1]))
            pi = np.cumprod(np.full(size, _P32_INV, dtype=np.uint32), dtype=np.uint32)
            pi = np.concatenate(([np.uint32(1)], pi[:-1]))
        _POW_CACHE["p"], _POW_CACHE["pi"] = p, pi
    return _POW_CACHE["p"], _POW_CACHE["pi"]


def _fmix64(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = h ^ (h >> U64(33))
        h = h * U64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> U64(33))
        h = h * U64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> U64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        return h ^ (h >> np.uint32(16))


def _normalize(text: str, tokenizer: str) -> bytes:
    if tokenizer == "code":
        return text.encode("utf-8", "surrogatepass")
    if tokenizer == "chars":
        return " ".join(text.lower().split()).encode("utf-8", "surrogatepass")
    return text.lower().encode("utf-8", "surrogatepass")


def _token_spans(data: np.ndarray, tokenizer: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the tokens in a byte array."""
    base = data.base
    raw = base if isinstance(base, bytes) and len(base) == data.nbytes else data.tobytes()
    # bytes.translate classifies ~5x faster than numpy's table lookup (`_WORD[data]`).
    word = np.frombuffer(raw.translate(_WORD_TABLE), dtype=np.int8)
    # One pass finds every edge between word and non-word bytes; edges alternate
    # start, end, start... once a leading word byte and a trailing one count as edges.
    edges = np.flatnonzero(word[1:] != word[:-1]) + 1
    if len(word) and word[0]:
        edges = np.concatenate(([0], edges))
    if len(word) and word[-1]:
        edges = np.concatenate((edges, [len(word)]))
    starts_w, ends_w = edges[0::2], edges[1::2]
    if tokenizer != "code":
        return starts_w, ends_w
    punct = np.flatnonzero(np.frombuffer(raw.translate(_PUNCT_TABLE), dtype=np.int8))
    starts = np.concatenate((starts_w, punct))
    ends = np.concatenate((ends_w, punct + 1))
    order = np.argsort(starts, kind="stable")
    return starts[order], ends[order]


def _span_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Polynomial hash mod 2^32 of each byte span, via prefix sums (as uint64 for combining).

    32-bit arithmetic halves the memory traffic of the per-byte passes; two distinct tokens
    share a hash with probability 2^-32, far below anything that moves a Jaccard estimate.
    """
    p, pi = _powers(len(data))
    with np.errstate(over="ignore"):
        weighted = data.astype(np.uint32)
        weighted *= p[: len(data)]
        prefix = np.empty(len(data) + 1, dtype=np.uint32)
        prefix[0] = 0
        np.cumsum(weighted, dtype=np.uint32, out=prefix[1:])
        spans = (prefix[ends] - prefix[starts]) * pi[starts]
        spans += (ends - starts).astype(np.uint32)
        return spans.astype(U64)


def _window_sums(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """For every window of n tokens: sum_j h[k+j] * Q^j + n (mod 2^64)."""
    count = len(token_hashes) - n + 1
    acc = np.zeros(count, dtype=U64)
    q = U64(1)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc += token_hashes[j : j + count] * q
            q = U64((int(q) * int(_Q)) & _MASK64)
        acc += U64(n)
    return acc


def _to_shingle_hash(sums: np.ndarray) -> np.ndarray:
    return (_fmix64(sums) >> U64(32)).astype(np.uint32)


def _combine(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """n-gram hashes of one token sequence (all of it as one shingle when shorter than n)."""
    if len(token_hashes) == 0:
        return np.zeros(0, dtype=np.uint32)
    return _to_shingle_hash(_window_sums(token_hashes, min(n, len(token_hashes))))


def shingle_hashes(text: str, tokenizer: str = "words", n: int = 5) -> np.ndarray:
    """32-bit hashes of a document's shingles (with repeats; MinHash ignores them)."""
    data = np.frombuffer(_normalize(text, tokenizer), dtype=np.uint8)
    if not len(data):
        return np.zeros(0, dtype=np.uint32)
    if tokenizer == "chars":
        if len(data) < n:
            n = len(data)
        starts = np.arange(len(data) - n + 1)
        spans = _span_hashes(data, starts, starts + n)
        with np.errstate(over="ignore"):
            return (_fmix64(spans + U64(n)) >> U64(32)).astype(np.uint32)
    starts, ends = _token_spans(data, tokenizer)
    return _combine(_span_hashes(data, starts, ends), n)


def shingles(text: str, tokenizer: str = "words", n: int = 5) -> list[bytes]:
    """The shingles themselves, as bytes, for use with `shingle_hash32` (e.g. in datasketch).

    Word and code shingles are their tokens joined by one space (tokens hold no spaces).
    """
    data = _normalize(text, tokenizer)
    if tokenizer == "chars":
        if not data:
            return []
        n = min(n, len(data))
        return [data[i : i + n] for i in range(len(data) - n + 1)]
    arr = np.frombuffer(data, dtype=np.uint8)
    if not len(arr):
        return []
    starts, ends = _token_spans(arr, tokenizer)
    tokens = [data[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    if not tokens:
        return []
    n = min(n, len(tokens))
    return [b" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def shingle_hash32(shingle: bytes, tokenizer: str = "words") -> int:
    """The hash `shingle_hashes` gives this shingle; pass it to datasketch as `hashfunc`.

    For `chars` use `functools.partial(shingle_hash32, tokenizer="chars")`.
    """
    data = np.frombuffer(shingle, dtype=np.uint8)
    if tokenizer == "chars":
        spans = _span_hashes(data, np.array([0]), np.array([len(data)]))
        with np.errstate(over="ignore"):
            return int((_fmix64(spans + U64(len(data))) >> U64(32))[0])
    tokens = shingle.split(b" ")
    offsets = np.cumsum([0] + [len(t) + 1 for t in tokens])
    starts = offsets[:-1]
    ends = starts + np.array([len(t) for t in tokens])
    token_hashes = _span_hashes(data, starts, ends)
    return int(_combine(token_hashes, len(tokens))[0])


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b), from the same random stream."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


class MinHasher:
    """Signatures for many documents at once: one matrix product-like pass per batch."""

    def __init__(
        self, num_perm: int = 128, tokenizer: str = "words", ngram: int = 5, seed: int = 1
    ):
        self.num_perm = num_perm
        self.tokenizer = tokenizer
        self.ngram = ngram
        self.a, self.b = permutations(num_perm, seed)
        # shingles per block of the (permutations x shingles) product: ~8 MB, cache-friendly
        self.block = max(1024, (1 << 21) // num_perm)

    def signatures(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), num_perm) uint32 array; an empty document gets all 0xFFFFFFFF."""
        allh, doc_of = self.batch_hashes(texts)
        return self._signatures(allh, doc_of, len(texts))

    def batch_hashes(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of many documents at once, and the document of each.

        Work goes in groups of ~256 KB of text: the uint64 temporaries (8x the text) then
        stay in cache, which is ~2x faster than one large batch.
        """
        if self.tokenizer == "chars":
            hashes = [shingle_hashes(t, self.tokenizer, self.ngram) for t in texts]
            return _flatten(hashes)
        parts_h, parts_d = [], []
        start, size = 0, 0
        for i, text in enumerate(texts):
            size += len(text)
            if size >= GROUP_BYTES or i == len(texts) - 1:
                h, d = batch_shingle_hashes(texts[start : i + 1], self.tokenizer, self.ngram)
                parts_h.append(h)
                parts_d.append(d + start)
                start, size = i + 1, 0
        if not parts_h:
            return np.zeros(0, np.uint32), np.zeros(0, np.int64)
        return np.concatenate(parts_h), np.concatenate(parts_d)

    def _signatures(self, allh: np.ndarray, doc_of: np.ndarray, ndocs: int) -> np.ndarray:
        sigs = np.full((ndocs, self.num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
        if not len(allh):
            return sigs
        allh = _fmix32(allh)
        a, b = self.a, self.b
        with np.errstate(over="ignore"):
            b_col = b[:, None]
            for lo in range(0, len(allh), self.block):
                hi = min(lo + self.block, len(allh))
                # (permutations x shingles): reducing along the contiguous axis is ~15x faster
                phv = np.multiply.outer(a, allh[lo:hi])
                phv += b_col
                docs = doc_of[lo:hi]
                cuts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
                mins = np.minimum.reduceat(phv, cuts, axis=1).T
                rows = docs[cuts]
                np.minimum(sigs[rows], mins, out=mins)
                sigs[rows] = mins
        return sigs


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


def unique_per_doc(
    hashes: np.ndarray, doc_of: np.ndarray, ndocs: int
) -> tuple[ShingleSets, np.ndarray, np.ndarray]:
    """Each document's sorted, distinct shingle hashes, plus the array they are slices of
    and the document of each of its values.

    One sort of (document, hash) pairs for the whole batch instead of `np.unique` per
    document: ~4x faster on 2 KB documents, where per-call overhead dominates.
    """
    keys = (doc_of.astype(np.uint64) << U64(32)) | hashes.astype(np.uint64)
    keys.sort()
    if len(keys):
        distinct = np.empty(len(keys), dtype=bool)
        distinct[0] = True
        np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
        keys = keys[distinct]
    values = (keys & U64(0xFFFFFFFF)).astype(np.uint32)
    docs = (keys >> U64(32)).astype(np.int64)
    cuts = np.searchsorted(docs, np.arange(ndocs + 1)).tolist()
    return ShingleSets(values, cuts), values, docs


def _flatten(hashes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(h) for h in hashes], dtype=np.int64)
    if not len(hashes) or not lengths.sum():
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    return np.concatenate(hashes), np.repeat(np.arange(len(hashes)), lengths)


def batch_shingle_hashes(
    texts: list[str], tokenizer: str = "words", n: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_hashes` of every text, computed over the whole batch in one set of numpy calls.

    Documents are joined with a newline (never part of a token); n-grams that would span two
    documents are discarded. Returns (hashes, document index of each hash), by document.
    """
    if not texts:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    encoded = [_normalize(t, tokenizer) for t in texts]
    data = np.frombuffer(b"\n".join(encoded), dtype=np.uint8)
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    doc_starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    if not len(data):
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    starts, ends = _token_spans(data, tokenizer)
    token_hashes = _span_hashes(data, starts, ends)
    token_doc = np.searchsorted(doc_starts, starts, side="right") - 1
    counts = np.bincount(token_doc, minlength=len(texts))
    parts_h, parts_d = [], []
    total = len(token_hashes)
    if total >= n:
        sums = _window_sums(token_hashes, n)
        count = len(sums)
        valid = token_doc[:count] == token_doc[n - 1 :]  # windows inside one document
        parts_h.append(_to_shingle_hash(sums[valid]))
        parts_d.append(token_doc[:count][valid])
    short = np.flatnonzero((counts > 0) & (counts < n))
    if len(short):
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        for doc in short.tolist():
            lo = first[doc]
            parts_h.append(_combine(token_hashes[lo : lo + counts[doc]], int(counts[doc])))
            parts_d.append(np.array([doc], dtype=np.int64))
    if not parts_h:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    allh = np.concatenate(parts_h)
    doc_of = np.concatenate(parts_d)
    order = np.argsort(doc_of, kind="stable")
    return allh[order], doc_of[order]
