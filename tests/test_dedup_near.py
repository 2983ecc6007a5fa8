"""Near dedup: datasketch-compatible signatures, one decision rule for pipes and runs."""

from __future__ import annotations

import functools
import random

import numpy as np
import orjson
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup.lsh import optimal_params
from curate.dedup.minhash import MinHasher, shingle_hash32, shingle_hashes, shingles
from tests.conftest import FIXTURES, run_curate, run_shell
from tests.test_run import read_dataset, write_pipeline

SAMPLES = [
    "Hello, World! This is a test of the emergency broadcast system.",
    "café naïve résumé — unicode “quotes” and 中文 text here",
    "short",
    "",
    "def f(x):\n    return x + 1  # add one\n\nclass A(B): pass\n",
    (FIXTURES / "docs.jsonl").read_text()[:3000],
]


@pytest.mark.parametrize("tokenizer", ["words", "chars", "code"])
@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_signatures_equal_datasketch(tokenizer, ngram):
    sigs = MinHasher(128, tokenizer, ngram).signatures(SAMPLES)
    hashfunc = functools.partial(shingle_hash32, tokenizer=tokenizer)
    for text, sig in zip(SAMPLES, sigs):
        reference = MinHash(num_perm=128, hashfunc=hashfunc)
        items = shingles(text, tokenizer, ngram)
        assert len(items) == len(shingle_hashes(text, tokenizer, ngram))
        if items:
            reference.update_batch(items)
        assert np.array_equal(reference.hashvalues, sig)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["words", "chars", "code"]))
def test_signatures_equal_datasketch_on_any_text(text, tokenizer):
    text = text.encode("utf-8", "replace").decode("utf-8")
    sig = MinHasher(64, tokenizer, 3).signatures([text])[0]
    reference = MinHash(
        num_perm=64, hashfunc=functools.partial(shingle_hash32, tokenizer=tokenizer)
    )
    items = shingles(text, tokenizer, 3)
    if items:
        reference.update_batch(items)
    assert np.array_equal(reference.hashvalues, sig)


def test_lsh_parameters_like_datasketch():
    from datasketch.lsh import _optimal_param

    for threshold, num_perm in [(0.8, 128), (0.7, 256), (0.5, 64), (0.9, 128)]:
        assert optimal_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(100000)}" for _ in range(n)]


def chain_records() -> list[dict]:
    """A~B and B~C above the threshold, A and C below it."""
    base = words(240, 1)
    a, b, c = base[0:200], base[20:220], base[40:240]  # J(A,B) = J(B,C) = 0.81, J(A,C) = 0.66
    return [
        {"id": "A", "text": " ".join(a)},
        {"id": "B", "text": " ".join(b)},
        {"id": "C", "text": " ".join(c)},
        {"id": "D", "text": " ".join(words(200, 9))},
    ]


def true_jaccard(x: str, y: str) -> float:
    a, b = set(shingles(x)), set(shingles(y))
    return len(a & b) / len(a | b)


def test_chain_follows_the_decision_rule():
    recs = chain_records()
    ja_b = true_jaccard(recs[0]["text"], recs[1]["text"])
    jb_c = true_jaccard(recs[1]["text"], recs[2]["text"])
    ja_c = true_jaccard(recs[0]["text"], recs[2]["text"])
    threshold = 0.75
    assert ja_b > threshold and jb_c > threshold and ja_c < threshold, (ja_b, jb_c, ja_c)
    data = b"".join(orjson.dumps(r) + b"\n" for r in recs)
    result = run_curate(
        "dedup",
        "near",
        "--threshold",
        str(threshold),
        "--verify",
        "exact",
        "--bands",
        "32",
        "--rows",
        "4",
        input=data,
    )
    # B is dropped (similar to kept A); C is compared only with kept records (A), so it stays
    assert [orjson.loads(x)["id"] for x in result.stdout.splitlines()] == ["A", "C", "D"]


def test_pipe_and_run_agree_with_1_and_2_workers(tmp_path):
    piped = run_shell("curate cat fixtures/*.jsonl* | curate dedup near")
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == 331
    for workers in (1, 2):
        write_pipeline(
            tmp_path,
            inputs=[str(FIXTURES / "*.jsonl*")],
            stages="  - dedup_near: {}\n",
            chunk="16KB",
            out=f"out{workers}",
        )
        result = run_curate("run", "pipeline.yaml", "-q", "--workers", str(workers), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert b"\n".join(read_dataset(tmp_path / f"out{workers}")) + b"\n" == piped.stdout
    rejects = [orjson.loads(r) for r in read_dataset(tmp_path / "out2", "rejects")]
    assert len(rejects) == 27
    mirrored = [r for r in rejects if r["id"].startswith("mirror/")]
    assert all(
        r["meta"]["rejected"]["duplicate_of"] == "python/cpython/" + r["meta"]["path"]
        for r in mirrored
    )
    assert all(r["meta"]["rejected"]["similarity"] >= 0.8 for r in rejects)
    manifest = orjson.loads((tmp_path / "out2" / "manifest.json").read_bytes())
    assert manifest["stage_info"]["0:dedup_near"]["bands"] == 16


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threshold", "0"], "dedup_near: --threshold: must be > 0"),
        (
            ["--bands", "20", "--rows", "10"],
            "dedup_near: bands x rows = 200 exceeds num_perm = 128",
        ),
        (["--bands", "20"], "dedup_near: give both bands and rows, or neither"),
        (["--tokenizer", "bytes"], "dedup_near: --tokenizer: expected one of words, chars, code"),
    ],
)
def test_parameters_are_validated(args, message):
    result = run_curate("dedup", "near", *args, input=b"")
    assert result.returncode == 2
    assert result.stderr.decode().startswith(f"curate: error: {message}")


def test_near_index_and_against_across_versions(tmp_path):
    def doc(i: int, edit: int = 0) -> dict:
        ws = words(120, 100 + i)
        if edit:
            ws = ws[:-edit] + words(edit, 999)
        return {"id": f"v{i}-{edit}", "text": " ".join(ws)}

    old = [doc(i) for i in range(20)]
    new = [doc(i, edit=2) for i in range(10)] + [doc(i) for i in range(50, 55)]
    (tmp_path / "old.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in old))
    (tmp_path / "new.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in new))
    write_pipeline(tmp_path, inputs=["old.jsonl"], stages="  - dedup_near: {}\n", out="v1")
    assert run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "v1" / "indexes" / "0-dedup_near.near-index").exists()
    write_pipeline(
        tmp_path, inputs=["new.jsonl"], stages="  - dedup_near: {against: [v1]}\n", out="v2"
    )
    result = run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kept = [orjson.loads(x)["id"] for x in read_dataset(tmp_path / "v2")]
    assert kept == [f"v{i}-0" for i in range(50, 55)]
    rejected = {
        orjson.loads(x)["id"]: orjson.loads(x)["meta"]["rejected"]["duplicate_of"]
        for x in read_dataset(tmp_path / "v2", "rejects")
    }
    assert rejected == {f"v{i}-2": f"t@1:v{i}-0" for i in range(10)}
    piped = run_curate(
        "dedup",
        "near",
        "--against",
        str(tmp_path / "v1"),
        input=(tmp_path / "new.jsonl").read_bytes(),
    )
    assert [orjson.loads(x)["id"] for x in piped.stdout.splitlines()] == kept
    index = tmp_path / "pipe.near-index"
    first = run_curate(
        "dedup", "near", "--index", str(index), input=(tmp_path / "old.jsonl").read_bytes()
    )
    assert first.returncode == 0 and index.exists()
    again = run_curate(
        "dedup", "near", "--against", str(index), input=(tmp_path / "new.jsonl").read_bytes()
    )
    assert [orjson.loads(x)["id"] for x in again.stdout.splitlines()] == kept


def test_keep_prefer_in_run_and_refused_in_pipe(tmp_path):
    base = words(150, 7)
    records = [
        {"id": "low", "text": " ".join(base), "meta": {"stars": 1}},
        {"id": "high", "text": " ".join(base[:-1] + ["zzz"]), "meta": {"stars": 50}},
        {"id": "other", "text": " ".join(words(150, 8)), "meta": {"stars": 3}},
    ]
    (tmp_path / "d.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    write_pipeline(
        tmp_path, inputs=["d.jsonl"], stages="  - dedup_near: {keep: {prefer: ['-meta.stars']}}\n"
    )
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(x)["id"] for x in read_dataset(tmp_path / "out")] == ["high", "other"]
    rejected = [orjson.loads(x) for x in read_dataset(tmp_path / "out", "rejects")]
    assert [(r["id"], r["meta"]["rejected"]["duplicate_of"]) for r in rejected] == [("low", "high")]


@settings(max_examples=200, deadline=None)
@given(
    nodes=st.integers(1, 40),
    edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=80),
)
def test_component_labels_match_a_union_find(nodes, edges):
    """Each node is labelled by the smallest node of its component, as a plain union-find
    finds it (chains included: pointer jumping must not skip a link)."""
    import numpy as np

    from curate.dedup.components import component_labels

    edges = [(a % nodes, b % nodes) for a, b in edges]
    parent = list(range(nodes))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    expected = [find(x) for x in range(nodes)]
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    assert component_labels(nodes, a, b).tolist() == expected


def test_component_labels_of_a_long_chain():
    import numpy as np

    from curate.dedup.components import component_labels

    n = 100_000
    order = np.random.default_rng(3).permutation(n)  # a path through the nodes in random order
    labels = component_labels(n, order[:-1], order[1:])
    assert labels.tolist() == [0] * n
