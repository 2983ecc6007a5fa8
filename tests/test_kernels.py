"""The compiled near-dedup kernels equal the plain-Python definitions, on any text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup import _kernels
from curate.dedup.lsh import band_keys, jaccard_unique
from curate.dedup.minhash import MinHasher, shingle_hash32, shingles
from tests import minhash_reference as ref

TOKENIZERS = ["words", "code", "chars"]
# any code point, lone surrogates included; plus texts built from a few words, so that
# repeated shingles and one-token documents come up often
ANY_TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF))
WORDY_TEXT = st.lists(
    st.sampled_from(["a", "B", "über", "x_1", "(", "  ", "\n", "don't", "\ud800", "🙂", "..."]),
    max_size=30,
).map("".join)
TEXT = st.one_of(ANY_TEXT, WORDY_TEXT)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=6), st.sampled_from(TOKENIZERS), st.integers(1, 7))
def test_shingle_hashes_equal_the_reference(texts, tokenizer, n):
    hashes, owners = _kernels.shingle_hashes(texts, tokenizer, n)
    expected = [ref.shingle_hashes(t, tokenizer, n) for t in texts]
    assert hashes.tolist() == [h for e in expected for h in e]
    assert owners.tolist() == [i for i, e in enumerate(expected) for _ in e]


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, max_size=5), st.sampled_from(TOKENIZERS), st.integers(1, 6))
def test_signatures_keys_and_sets_equal_the_reference(texts, tokenizer, n):
    hasher = MinHasher(32, tokenizer, n, seed=7)
    sigs, keys, sets = hasher.sketch(texts, 4, 8, sets=True)
    a, b = hasher.a.tolist(), hasher.b.tolist()
    for i, text in enumerate(texts):
        hashes = ref.shingle_hashes(text, tokenizer, n)
        expected = ref.signature(hashes, a, b)
        assert sigs[i].tolist() == expected
        assert keys[i].tolist() == ref.band_keys(expected, 4, 8)
        assert sets[i].tolist() == sorted(set(hashes))
    plain_sigs, plain_keys, none = hasher.sketch(texts, 4, 8, sets=False)
    assert none is None
    assert np.array_equal(plain_sigs, sigs) and np.array_equal(plain_keys, keys)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.sampled_from(TOKENIZERS), st.integers(1, 6))
def test_each_shingle_hashes_alone_as_in_the_document(text, tokenizer, n):
    """`shingle_hash32` (datasketch's hashfunc) of each `shingles()` item is the hash the
    document gives it, in order."""
    assert [shingle_hash32(s, tokenizer) for s in shingles(text, tokenizer, n)] == (
        ref.shingle_hashes(text, tokenizer, n)
    )


def test_documents_without_shingles_get_the_empty_signature():
    sigs, keys, sets = MinHasher(16).sketch(["", "  ...  ", "one"], 2, 8, sets=True)
    assert sigs[0].tolist() == [0xFFFFFFFF] * 16 == sigs[1].tolist()
    assert sigs[2].tolist() != [0xFFFFFFFF] * 16
    assert [len(s) for s in sets] == [0, 0, 1]


def test_long_tokens_and_large_sets_equal_the_reference():
    """Tokens past the power tables (4 KB) and documents past the radix sort's threshold."""
    text = "x" * 5000 + " " + " ".join(f"w{i % 300}" for i in range(2000)) + " é" * 4100
    for tokenizer in TOKENIZERS:
        hasher = MinHasher(16, tokenizer, 5)
        sigs, _, sets = hasher.sketch([text], 2, 8, sets=True)
        hashes = ref.shingle_hashes(text, tokenizer, 5)
        assert sets[0].tolist() == sorted(set(hashes))
        assert sigs[0].tolist() == ref.signature(hashes, hasher.a.tolist(), hasher.b.tolist())


def test_band_keys_of_stored_signatures_equal_the_sketch():
    hasher = MinHasher(128)
    sigs, keys, _ = hasher.sketch(["some text to hash here", "and another one"], 16, 8, False)
    assert np.array_equal(band_keys(sigs, 16, 8), keys)


def test_bad_arguments_are_errors_not_crashes():
    hasher = MinHasher(8)
    with pytest.raises(ValueError, match="bands x rows"):
        hasher.sketch(["text"], 3, 4, sets=False)
    with pytest.raises(ValueError, match="unknown tokenizer"):
        MinHasher(8, "bytes")
    with pytest.raises(ValueError, match="n must be"):
        _kernels.shingle_hashes(["x"], "words", 0)


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.integers(min_value=0, max_value=2**32 - 1), max_size=60),
    st.sets(st.integers(min_value=0, max_value=2**32 - 1), max_size=60),
)
def test_jaccard_of_sorted_unique_arrays_equals_set_jaccard(a, b):
    expected = 1.0 if not a and not b else len(a & b) / len(a | b)
    got = jaccard_unique(np.array(sorted(a), np.uint32), np.array(sorted(b), np.uint32))
    assert got == pytest.approx(expected)


RECORDS = st.lists(
    st.tuples(
        st.lists(st.integers(0, 5), min_size=3, max_size=3),  # band keys: few, so they collide
        st.lists(st.integers(0, 2), min_size=8, max_size=8),  # signature rows
        st.one_of(st.none(), st.sets(st.integers(0, 12), max_size=8)),  # shingle set
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(RECORDS, st.sampled_from([0.3, 0.5, 0.8, 1.0]), st.booleans(), st.integers(0, 5))
def test_decider_equals_the_reference_rule(records, threshold, exact, preloaded):
    """Record by record and in batches, with earlier versions' records preloaded: the same
    duplicate (first candidate over the threshold, band by band, kept order) and similarity."""
    from curate.dedup.lsh import NearDecider

    reference = ref.Decider(threshold, exact)
    one, batch = NearDecider(3, threshold, 8, exact), NearDecider(3, threshold, 8, exact)
    # keys in distinct bands never collide in curate (each band is salted): salt them here too
    salted = [([k + 100 * b for b, k in enumerate(keys)], sig, s) for keys, sig, s in records]
    pre, rest = salted[:preloaded], salted[preloaded:]
    for keys, sig, _ in pre:
        reference.keep(keys, sig, None)
        for decider in (one, batch):
            decider.preload(np.array([keys], np.uint64), np.array([sig], np.uint32))
    expected = [reference.decide(keys, sig, s) for keys, sig, s in rest]
    got = [
        one.decide(
            np.array(keys, np.uint64),
            np.array(sig, np.uint32),
            None if s is None else np.array(sorted(s), np.uint32),
        )
        for keys, sig, s in rest
    ]
    assert got == [(j, pytest.approx(sim)) for j, sim in expected]
    if rest and all(s is not None for _, _, s in rest):
        values = [v for _, _, s in rest for v in sorted(s)]
        cuts = np.cumsum([0] + [len(s) for _, _, s in rest]).tolist()
        dups, sims = batch.decide_batch(
            np.array([k for k, _, _ in rest], np.uint64),
            np.array([g for _, g, _ in rest], np.uint32),
            np.array(values, np.uint32),
            cuts,
        )
        assert [(None if d < 0 else d, s) for d, s in zip(dups.tolist(), sims.tolist())] == [
            (j, pytest.approx(sim)) for j, sim in expected
        ]
    kept_keys, kept_sigs = one.kept_arrays()
    assert one.kept == len(reference.kept) == len(kept_keys) == len(kept_sigs)
    assert kept_sigs.tolist() == [sig for sig, _ in reference.kept]
