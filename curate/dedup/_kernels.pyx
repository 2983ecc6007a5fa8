# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: language = c++
"""Compiled near-dedup kernels: tokens, shingle hashes, MinHash signatures, band keys, Jaccard.

Built by the package's own build (setup.py). The definitions of every hash are in
`curate.dedup.minhash`'s docstring; this module is their only implementation. Each entry
point copies what it needs out of Python objects, then releases the GIL for the loops, so
threads sketch in parallel.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy
from libcpp.algorithm cimport sort
from libcpp.vector cimport vector
from libcpp.unordered_map cimport unordered_map
from libcpp.unordered_set cimport unordered_set
from cython.operator cimport dereference as deref
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    #include <stddef.h>

    #define CURATE_P32 0x01000193U            /* token hash base (FNV prime: odd) */
    #define CURATE_Q64 0x9E3779B97F4A7C15ULL  /* n-gram combination base */

    /* a * h + b mod 2^32 for every permutation, minimum into sig: the hot loop of MinHash.
       Permutations go 32 at a time, their minima held in registers across all the hashes
       (a loop over sig in memory would store and reload it for every hash). Cloned for
       AVX-512 and AVX2 where the CPU has them (chosen at load time), so one build is fast on
       any x86-64 machine and still runs on those without. */
    #define CURATE_LANES 32
    #if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __attribute__((target_clones("avx512f", "avx2", "default")))
    #endif
    static void curate_minhash_update(uint32_t *sig, const uint32_t *a, const uint32_t *b,
                                      size_t perms, const uint32_t *hashes, size_t count) {
        size_t p0 = 0;
        for (; p0 + CURATE_LANES <= perms; p0 += CURATE_LANES) {
            uint32_t la[CURATE_LANES], lb[CURATE_LANES], acc[CURATE_LANES];
            for (size_t k = 0; k < CURATE_LANES; k++) {
                la[k] = a[p0 + k]; lb[k] = b[p0 + k]; acc[k] = sig[p0 + k];
            }
            for (size_t i = 0; i < count; i++) {
                uint32_t h = hashes[i];
                for (size_t k = 0; k < CURATE_LANES; k++) {
                    uint32_t v = la[k] * h + lb[k];
                    acc[k] = v < acc[k] ? v : acc[k];
                }
            }
            for (size_t k = 0; k < CURATE_LANES; k++) sig[p0 + k] = acc[k];
        }
        for (; p0 < perms; p0++) {
            uint32_t m = sig[p0];
            for (size_t i = 0; i < count; i++) {
                uint32_t v = a[p0] * hashes[i] + b[p0];
                m = v < m ? v : m;
            }
            sig[p0] = m;
        }
    }
    """
    void curate_minhash_update(uint32_t *sig, const uint32_t *a, const uint32_t *b,
                               size_t perms, const uint32_t *hashes, size_t count) nogil
    const uint32_t P32 "CURATE_P32"
    const uint64_t Q64 "CURATE_Q64"


cdef enum Tokenizer:
    WORDS = 0
    CHARS = 1
    CODE = 2

# byte classes: 1 = word byte, 2 = punctuation (a token of its own in `code`), 0 = separator
cdef uint8_t CLASS[256]


def _init_classes():
    for b in range(256):
        c = chr(b)
        if b >= 0x80 or (c.isascii() and (c.isalnum() or c == "_")):
            CLASS[b] = 1
        elif not c.isspace() and b >= 0x21:
            CLASS[b] = 2
        else:
            CLASS[b] = 0


_init_classes()

# Bytes as tokens see them, per tokenizer: `words` folds ASCII case here, so an ASCII document
# needs no `str.lower()` pass (under the GIL); on text Python already lowercased this is a no-op
cdef uint8_t FOLD[3][256]


def _init_fold():
    for tok in range(3):
        for b in range(256):
            FOLD[tok][b] = b + 32 if tok == WORDS and 0x41 <= b <= 0x5A else b


_init_fold()


cdef inline uint64_t fmix64(uint64_t h) noexcept nogil:
    h ^= h >> 33
    h *= 0xFF51AFD7ED558CCDULL
    h ^= h >> 33
    h *= 0xC4CEB9FE1A85EC53ULL
    return h ^ (h >> 33)


cdef inline uint32_t fmix32(uint32_t h) noexcept nogil:
    h ^= h >> 16
    h *= 0x85EBCA6BU
    h ^= h >> 13
    h *= 0xC2B2AE35U
    return h ^ (h >> 16)


# P32^k = POW_LO[k % 64] * POW_HI[k // 64] for k < 4096: table lookups instead of a chain of
# multiplies in the per-byte loop
cdef uint32_t POW_LO[64]
cdef uint32_t POW_HI[64]


def _init_powers():
    cdef uint32_t power = 1
    for i in range(64):
        POW_LO[i] = power
        power *= P32
    cdef uint32_t step = power  # P32^64
    power = 1
    for i in range(64):
        POW_HI[i] = power
        power *= step


_init_powers()


cdef inline uint32_t power_of(uint32_t k) noexcept nogil:
    """P32^k mod 2^32."""
    cdef uint32_t result
    if k < 4096:
        return POW_LO[k & 63] * POW_HI[k >> 6]
    result = POW_LO[k & 63] * POW_HI[63]
    k = (k >> 6) - 63
    while k:  # tokens over 4 KB: rare
        result *= POW_HI[1]
        k -= 1
    return result


cdef inline uint32_t span_hash(const uint8_t *data, Py_ssize_t length) noexcept nogil:
    """Polynomial hash of a byte span, sum of data[i] * P32^i mod 2^32, plus its length."""
    cdef uint32_t acc = 0
    cdef Py_ssize_t i
    for i in range(length):
        acc += <uint32_t>data[i] * power_of(<uint32_t>i)
    return acc + <uint32_t>length


cdef inline uint64_t band_key(const uint32_t *sig, Py_ssize_t band, Py_ssize_t rows) noexcept nogil:
    """One band's key: FNV-style over its rows, salted by the band's index, then mixed."""
    cdef uint64_t k = <uint64_t>band * Q64
    cdef Py_ssize_t j
    for j in range(band * rows, (band + 1) * rows):
        k = (k ^ <uint64_t>sig[j]) * 0x100000001B3ULL
    k ^= k >> 29
    k *= 0xBF58476D1CE4E5B9ULL
    return k ^ (k >> 32)


cdef int tokenizer_code(str tokenizer) except -1:
    if tokenizer == "words":
        return WORDS
    if tokenizer == "chars":
        return CHARS
    if tokenizer == "code":
        return CODE
    raise ValueError(f"unknown tokenizer {tokenizer!r}")


cdef Py_ssize_t scan_tokens(const uint8_t *data, Py_ssize_t length, int tok,
                            uint64_t *hashes, int64_t *starts, int64_t *ends) noexcept nogil:
    """The tokens of a normalised byte string: runs of word bytes and (code) each punctuation
    byte on its own. Writes each token's `span_hash` and, when `starts` is not NULL, its span;
    every output has room for `length + 1` tokens. Returns the number of tokens.

    Branch-free per byte (a token ends every ~6 bytes of prose: branching on it mispredicts):
    each step writes a candidate token and advances the count only when one ended there."""
    cdef Py_ssize_t i, count = 0
    cdef uint32_t acc = 0, run = 0, c, word, ended, punct, keep
    cdef uint32_t code = tok == CODE
    for i in range(length):
        c = FOLD[tok][data[i]]
        word = CLASS[c] == 1
        ended = (run != 0) & (word == 0)
        hashes[count] = acc + run
        if starts != NULL:
            starts[count] = i - run
            ends[count] = i
        count += ended
        punct = code & (CLASS[c] == 2)
        hashes[count] = c + 1
        if starts != NULL:
            starts[count] = i
            ends[count] = i + 1
        count += punct
        keep = 0 - word  # all ones inside a word: masks, not branches
        acc = (acc + c * power_of(run)) & keep
        run = (run + 1) & keep
    if run:
        hashes[count] = acc + run
        if starts != NULL:
            starts[count] = length - run
            ends[count] = length
        count += 1
    return count


cdef struct Scratch:
    vector[uint64_t] tokens
    vector[uint64_t] qpow


cdef void doc_shingles(const uint8_t *data, Py_ssize_t length, int tok, int n,
                       Scratch *scratch, vector[uint32_t] *out) noexcept nogil:
    """Append the shingle hashes of one normalised document to `out` (with repeats):
    n-gram k hashes to fmix64(sum_j token[k + j] * Q64^j + n) >> 32; a document of fewer
    than n tokens is one shingle of all of them."""
    cdef Py_ssize_t i, j, count, width
    cdef uint64_t acc
    cdef uint32_t h
    cdef vector[uint64_t] *tokens = &scratch.tokens
    cdef vector[uint64_t] *qpow = &scratch.qpow
    if length == 0:
        return
    if tok == CHARS:
        width = n if n < length else length
        for i in range(length - width + 1):
            h = span_hash(data + i, width)
            out.push_back(<uint32_t>(fmix64(<uint64_t>h + <uint64_t>width) >> 32))
        return
    if <Py_ssize_t>tokens.size() < length + 1:
        tokens.resize(length + 1)
    count = scan_tokens(data, length, tok, tokens.data(), NULL, NULL)
    if count == 0:
        return
    width = n if n < count else count
    if <Py_ssize_t>qpow.size() < width:
        qpow.clear()
        qpow.push_back(1)
        for j in range(1, width):
            qpow.push_back(qpow[0][j - 1] * Q64)
    cdef const uint64_t *th = tokens.data()
    cdef const uint64_t *qp = qpow.data()
    for i in range(count - width + 1):
        acc = <uint64_t>width
        for j in range(width):
            acc += th[i + j] * qp[j]
        out.push_back(<uint32_t>(fmix64(acc) >> 32))


cdef void radix_sort(vector[uint32_t] *values, vector[uint32_t] *spare) noexcept nogil:
    """Sort in place, four 8-bit counting passes (~3x std::sort on a document's few hundred
    shingles); small inputs take std::sort."""
    cdef Py_ssize_t count = values.size(), i, shift
    cdef Py_ssize_t offsets[256]
    cdef uint32_t *src
    cdef uint32_t *dst
    cdef uint32_t *tmp
    cdef Py_ssize_t total, c
    if count < 64:
        sort(values.begin(), values.end())
        return
    if <Py_ssize_t>spare.size() < count:
        spare.resize(count)
    src = values.data()
    dst = spare.data()
    for shift in range(0, 32, 8):
        for i in range(256):
            offsets[i] = 0
        for i in range(count):
            offsets[(src[i] >> shift) & 0xFF] += 1
        total = 0
        for i in range(256):
            c = offsets[i]
            offsets[i] = total
            total += c
        for i in range(count):
            c = (src[i] >> shift) & 0xFF
            dst[offsets[c]] = src[i]
            offsets[c] += 1
        tmp = src
        src = dst
        dst = tmp
    # an even number of passes: the sorted values are back in `values`


cdef inline double sorted_jaccard(const uint32_t *x, Py_ssize_t nx, const uint32_t *y,
                                  Py_ssize_t ny) noexcept nogil:
    cdef Py_ssize_t i = 0, j = 0, inter = 0
    if nx == 0 or ny == 0:
        return 1.0 if nx == ny else 0.0
    while i < nx and j < ny:
        if x[i] < y[j]:
            i += 1
        elif x[i] > y[j]:
            j += 1
        else:
            inter += 1
            i += 1
            j += 1
    return inter / <double>(nx + ny - inter)


cdef class _Docs:
    """Pointers to the normalised bytes of many documents, kept alive while the GIL is off."""
    cdef list keep
    cdef vector[uint8_t *] ptrs
    cdef vector[Py_ssize_t] lengths

    def __init__(self, list encoded):
        self.keep = encoded
        cdef bytes b
        for b in encoded:
            self.ptrs.push_back(<uint8_t *>PyBytes_AS_STRING(b))
            self.lengths.push_back(PyBytes_GET_SIZE(b))


def normalize(str text, str tokenizer) -> bytes:
    """The bytes a document is tokenised from (see `curate.dedup.minhash`)."""
    if tokenizer == "code":
        return text.encode("utf-8", "surrogatepass")
    if tokenizer == "chars":
        return " ".join(text.lower().split()).encode("utf-8", "surrogatepass")
    if tokenizer == "words":
        return text.lower().encode("utf-8", "surrogatepass")
    raise ValueError(f"unknown tokenizer {tokenizer!r}")


cdef list tokenizer_input(list texts, str tokenizer):
    """`normalize` of each text, except that ASCII text for `words` is only encoded: the
    tokenizer folds its case without the GIL."""
    if tokenizer != "words":
        return [normalize(t, tokenizer) for t in texts]
    cdef str t
    return [t.encode("ascii") if t.isascii() else normalize(t, tokenizer) for t in texts]


def spans(bytes data, str tokenizer):
    """(starts, ends) of the tokens of already-normalised bytes, as int64 arrays."""
    cdef int tok = tokenizer_code(tokenizer)
    cdef const uint8_t *ptr = <const uint8_t *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t length = PyBytes_GET_SIZE(data), count
    cdef vector[uint64_t] hashes
    hashes.resize(length + 1)
    out_s = np.empty(length + 1, dtype=np.int64)
    out_e = np.empty(length + 1, dtype=np.int64)
    cdef int64_t[::1] vs = out_s, ve = out_e
    with nogil:
        count = scan_tokens(ptr, length, tok, hashes.data(), &vs[0], &ve[0])
    return out_s[:count].copy(), out_e[:count].copy()


def shingle_hash(bytes shingle, str tokenizer):
    """The hash of one shingle as `shingles()` spells it: its tokens joined by one space
    (`words`, `code`), or its bytes (`chars`)."""
    cdef int tok = tokenizer_code(tokenizer)
    cdef Scratch scratch
    cdef vector[uint32_t] out
    cdef const uint8_t *ptr = <const uint8_t *>PyBytes_AS_STRING(shingle)
    cdef Py_ssize_t length = PyBytes_GET_SIZE(shingle)
    if length == 0:
        raise ValueError("an empty shingle has no hash")
    with nogil:
        doc_shingles(ptr, length, tok, <int>length, &scratch, &out)
    return out[0]


def shingle_hashes(list texts, str tokenizer, int n):
    """(hashes uint32, document index int64) of every shingle of every text, by document,
    with repeats."""
    if n < 1:
        raise ValueError("n must be >= 1")
    cdef int tok = tokenizer_code(tokenizer)
    cdef _Docs docs = _Docs(tokenizer_input(texts, tokenizer))
    cdef Scratch scratch
    cdef vector[uint32_t] out
    cdef vector[int64_t] doc_of
    cdef Py_ssize_t d, before, k
    with nogil:
        for d in range(<Py_ssize_t>docs.ptrs.size()):
            before = out.size()
            doc_shingles(docs.ptrs[d], docs.lengths[d], tok, n, &scratch, &out)
            for k in range(before, <Py_ssize_t>out.size()):
                doc_of.push_back(d)
    hashes = np.empty(out.size(), dtype=np.uint32)
    owners = np.empty(out.size(), dtype=np.int64)
    cdef uint32_t[::1] vh = hashes
    cdef int64_t[::1] vd = owners
    if out.size():
        memcpy(&vh[0], out.data(), out.size() * sizeof(uint32_t))
        memcpy(&vd[0], doc_of.data(), doc_of.size() * sizeof(int64_t))
    return hashes, owners


def sketch(list texts, str tokenizer, int n, const uint32_t[::1] a, const uint32_t[::1] b,
           int bands, int rows, bint want_sets):
    """Signatures (ndocs x perms uint32), band keys (ndocs x bands uint64) and, with
    `want_sets`, each document's sorted distinct shingle hashes (values, cuts).

    A document without shingles gets the all-0xFFFFFFFF signature (datasketch's empty MinHash).
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    cdef int tok = tokenizer_code(tokenizer)
    cdef Py_ssize_t perms = a.shape[0]
    if b.shape[0] != perms or bands * rows > perms or bands < 1 or rows < 1:
        raise ValueError("bands x rows must fit the permutations, and a and b match")
    cdef _Docs docs = _Docs(tokenizer_input(texts, tokenizer))
    cdef Py_ssize_t ndocs = docs.ptrs.size()
    sigs = np.empty((ndocs, perms), dtype=np.uint32)
    keys = np.empty((ndocs, bands), dtype=np.uint64)
    cdef uint32_t[:, ::1] vsig = sigs
    cdef uint64_t[:, ::1] vkey = keys
    cdef Scratch scratch
    cdef vector[uint32_t] shingles
    cdef vector[uint32_t] values, spare
    cdef vector[int64_t] cuts
    cdef Py_ssize_t d, i, p, band, j, kept
    cdef uint32_t *sig
    cdef uint64_t k
    cuts.push_back(0)
    with nogil:
        for d in range(ndocs):
            shingles.clear()
            doc_shingles(docs.ptrs[d], docs.lengths[d], tok, n, &scratch, &shingles)
            if want_sets and shingles.size():
                radix_sort(&shingles, &spare)
                kept = 1
                for i in range(1, <Py_ssize_t>shingles.size()):
                    if shingles[i] != shingles[kept - 1]:
                        shingles[kept] = shingles[i]
                        kept += 1
                shingles.resize(kept)
                for i in range(kept):
                    values.push_back(shingles[i])
            if want_sets:
                cuts.push_back(values.size())
            for i in range(<Py_ssize_t>shingles.size()):
                shingles[i] = fmix32(shingles[i])
            sig = &vsig[d, 0]
            for p in range(perms):
                sig[p] = 0xFFFFFFFFU
            if shingles.size():
                curate_minhash_update(sig, &a[0], &b[0], perms, shingles.data(),
                                      shingles.size())
            for band in range(bands):
                vkey[d, band] = band_key(sig, band, rows)
    if not want_sets:
        return sigs, keys, None, None
    out_values = np.empty(values.size(), dtype=np.uint32)
    cdef uint32_t[::1] vv = out_values
    if values.size():
        memcpy(&vv[0], values.data(), values.size() * sizeof(uint32_t))
    return sigs, keys, out_values, [cuts[i] for i in range(<Py_ssize_t>cuts.size())]


def band_keys(const uint32_t[:, ::1] signatures, int bands, int rows):
    """(n, bands) uint64: one 64-bit key per band of each signature (as `sketch` gives)."""
    cdef Py_ssize_t ndocs = signatures.shape[0], d, band, j
    if bands * rows > signatures.shape[1]:
        raise ValueError("bands x rows exceeds the signature length")
    keys = np.empty((ndocs, bands), dtype=np.uint64)
    cdef uint64_t[:, ::1] vkey = keys
    cdef uint64_t k
    with nogil:
        for d in range(ndocs):
            for band in range(bands):
                vkey[d, band] = band_key(&signatures[d, 0], band, rows)
    return keys


def jaccard(const uint32_t[::1] x, const uint32_t[::1] y) -> float:
    """Jaccard similarity of two sorted, de-duplicated uint32 arrays (1.0 when both empty)."""
    cdef uint32_t empty = 0
    return sorted_jaccard(&x[0] if x.shape[0] else &empty, x.shape[0],
                          &y[0] if y.shape[0] else &empty, y.shape[0])


cdef class NearDecider:
    """The near-duplicate decision rule over the records kept so far (see `curate.dedup.lsh`).

    Band keys map to the kept records that hold them (a key names its band: `band_keys`
    salts each band). Candidates are tried band by band, each bucket's records in the order
    they were kept; the first whose similarity reaches the threshold is the one duplicated.
    Similarity is the exact Jaccard of shingle sets when both records have one (`exact`),
    else the share of equal signature rows.
    """
    cdef readonly int bands, num_perm
    cdef readonly double threshold
    cdef readonly bint exact
    cdef readonly Py_ssize_t kept
    cdef unordered_map[uint64_t, int64_t] buckets  # >= 0: one kept record; < 0: -1 - list
    cdef vector[vector[int64_t]] lists
    cdef vector[uint32_t] sigs
    cdef vector[uint64_t] keys
    cdef vector[uint32_t] set_values
    cdef vector[int64_t] set_start  # -1: no set (records of earlier versions)
    cdef vector[int64_t] set_len
    cdef unordered_set[int64_t] tried

    def __init__(self, int bands, double threshold, int num_perm, bint exact=False):
        self.bands = bands
        self.threshold = threshold
        self.num_perm = num_perm
        self.exact = exact
        self.kept = 0

    def preload(self, const uint64_t[:, ::1] keys, const uint32_t[:, ::1] sigs):
        """Records of earlier versions, kept before anything here; verified by signature."""
        self._check(keys, sigs)
        cdef Py_ssize_t r
        for r in range(keys.shape[0]):
            self._keep(&keys[r, 0], &sigs[r, 0], NULL, -1)

    def kept_arrays(self):
        """(keys, sigs) of the kept records, in the order they were kept."""
        keys = np.empty((self.kept, self.bands), dtype=np.uint64)
        sigs = np.empty((self.kept, self.num_perm), dtype=np.uint32)
        cdef uint64_t[:, ::1] vk = keys
        cdef uint32_t[:, ::1] vs = sigs
        if self.kept:
            memcpy(&vk[0, 0], self.keys.data(), self.keys.size() * sizeof(uint64_t))
            memcpy(&vs[0, 0], self.sigs.data(), self.sigs.size() * sizeof(uint32_t))
        return keys, sigs

    def decide(self, keys, sig, shingles=None):
        """(index of the kept record this one duplicates, similarity), or (None, 0.0) having
        kept it. Indices count kept records in the order they were kept."""
        cdef const uint64_t[:, ::1] k2 = np.ascontiguousarray(keys, dtype=np.uint64)[None, :]
        cdef const uint32_t[:, ::1] s2 = np.ascontiguousarray(sig, dtype=np.uint32)[None, :]
        self._check(k2, s2)
        cdef const uint32_t[::1] sv
        cdef const uint32_t *set_ptr = NULL
        cdef Py_ssize_t set_len = -1
        if shingles is not None:
            sv = np.ascontiguousarray(shingles, dtype=np.uint32)
            set_len = sv.shape[0]
            set_ptr = &sv[0] if set_len else <const uint32_t *>NULL
        cdef double sim = 0.0
        cdef int64_t dup = self._decide_one(&k2[0, 0], &s2[0, 0], set_ptr, set_len, &sim)
        return (None, 0.0) if dup < 0 else (dup, sim)

    def decide_batch(self, const uint64_t[:, ::1] keys, const uint32_t[:, ::1] sigs,
                     values=None, cuts=None):
        """`decide` for each row in order: (duplicated kept index or -1, similarity) arrays.
        `values`/`cuts` are the rows' shingle sets (`ShingleSets`' fields) or None."""
        self._check(keys, sigs)
        cdef Py_ssize_t n = keys.shape[0], r
        dups = np.empty(n, dtype=np.int64)
        sims = np.zeros(n, dtype=np.float64)
        cdef int64_t[::1] vd = dups
        cdef double[::1] vsim = sims
        cdef const uint32_t[::1] vv
        cdef const int64_t[::1] vc
        cdef bint has_sets = values is not None
        cdef uint32_t empty = 0
        cdef const uint32_t *base = &empty
        if has_sets:
            vv = values
            vc = np.asarray(cuts, dtype=np.int64)
            if vc.shape[0] != n + 1:
                raise ValueError("cuts must have one entry per row, plus one")
            if vv.shape[0]:
                base = &vv[0]
        with nogil:
            for r in range(n):
                if has_sets:
                    vd[r] = self._decide_one(&keys[r, 0], &sigs[r, 0], base + vc[r],
                                             vc[r + 1] - vc[r], &vsim[r])
                else:
                    vd[r] = self._decide_one(&keys[r, 0], &sigs[r, 0], NULL, -1, &vsim[r])
        return dups, sims

    def _check(self, const uint64_t[:, ::1] keys, const uint32_t[:, ::1] sigs):
        if keys.shape[0] != sigs.shape[0]:
            raise ValueError("keys and signatures differ in rows")
        if keys.shape[0] and (keys.shape[1] != self.bands or sigs.shape[1] != self.num_perm):
            raise ValueError(
                f"expected {self.bands} band keys and {self.num_perm} signature rows per record"
            )

    cdef double _similarity(self, int64_t j, const uint32_t *sig, const uint32_t *shingles,
                            Py_ssize_t set_len) noexcept nogil:
        cdef Py_ssize_t p, same = 0
        cdef const uint32_t *other
        if self.exact and set_len >= 0 and self.set_start[j] >= 0:
            return sorted_jaccard(shingles, set_len, self.set_values.data() + self.set_start[j],
                                  self.set_len[j])
        other = self.sigs.data() + j * self.num_perm
        for p in range(self.num_perm):
            same += other[p] == sig[p]
        return same / <double>self.num_perm

    cdef int64_t _decide_one(self, const uint64_t *keys, const uint32_t *sig,
                             const uint32_t *shingles, Py_ssize_t set_len,
                             double *sim) noexcept nogil:
        cdef int band
        cdef int64_t member, j
        cdef Py_ssize_t m
        cdef double s
        cdef bint any_found = False
        cdef unordered_map[uint64_t, int64_t].iterator it
        self.tried.clear()
        for band in range(self.bands):
            it = self.buckets.find(keys[band])
            if it == self.buckets.end():
                continue
            any_found = True
            member = deref(it).second
            if member >= 0:
                if self.tried.insert(member).second:
                    s = self._similarity(member, sig, shingles, set_len)
                    if s >= self.threshold:
                        sim[0] = s
                        return member
                continue
            for m in range(<Py_ssize_t>self.lists[-1 - member].size()):
                j = self.lists[-1 - member][m]
                if self.tried.insert(j).second:
                    s = self._similarity(j, sig, shingles, set_len)
                    if s >= self.threshold:
                        sim[0] = s
                        return j
        self._keep(keys, sig, shingles, set_len)
        sim[0] = 0.0
        return -1

    cdef void _keep(self, const uint64_t *keys, const uint32_t *sig, const uint32_t *shingles,
                    Py_ssize_t set_len) noexcept nogil:
        cdef int64_t idx = self.kept, member
        cdef int band
        cdef unordered_map[uint64_t, int64_t].iterator it
        self.sigs.insert(self.sigs.end(), sig, sig + self.num_perm)
        self.keys.insert(self.keys.end(), keys, keys + self.bands)
        if self.exact and set_len >= 0:
            self.set_start.push_back(self.set_values.size())
            self.set_len.push_back(set_len)
            self.set_values.insert(self.set_values.end(), shingles, shingles + set_len)
        else:
            self.set_start.push_back(-1)
            self.set_len.push_back(0)
        for band in range(self.bands):
            it = self.buckets.find(keys[band])
            if it == self.buckets.end():
                self.buckets[keys[band]] = idx
                continue
            member = deref(it).second
            if member >= 0:
                self.lists.push_back(vector[int64_t]())
                self.lists.back().push_back(member)
                self.lists.back().push_back(idx)
                deref(it).second = -<int64_t>self.lists.size()
            else:
                self.lists[-1 - member].push_back(idx)
        self.kept += 1
